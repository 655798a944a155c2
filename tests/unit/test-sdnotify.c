/*
 * Unit tests for src/core/sdnotify.c, and for the messages src/core/supervisor.c
 * sends with it: a real AF_UNIX datagram socket stands in for systemd's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"
#include "supervisor.h"
#include "tap.h"

static char dir[] = "/tmp/adcraft-sdnotify-XXXXXX";

/* A bound datagram socket at path (or abstract when path starts with '@'). */
static int listen_at(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	memcpy(a.sun_path, path, len);
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (path[0] == '@')
		a.sun_path[0] = '\0';
	else
		alen++;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, alen) < 0)
		return -1;
	return fd;
}

/* One datagram within ms milliseconds, NUL-terminated in buf; its length or -1. */
static int receive(int fd, char *buf, size_t size, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, ms) != 1)
		return -1;
	ssize_t n = recv(fd, buf, size - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static void test_absent(void)
{
	unsetenv("NOTIFY_SOCKET");
	struct sdnotify n;
	is_int(sdnotify_open(&n), 0, "no NOTIFY_SOCKET: not an error");
	ok(!n.enabled, "no NOTIFY_SOCKET: disabled");
	is_int(sdnotify_send(&n, "READY=1"), 0, "sending while disabled is a no-op");
	is_int(sdnotify_watchdog_interval(&n), 0, "no watchdog");
}

static void test_path_socket(void)
{
	char path[256], buf[256];
	snprintf(path, sizeof(path), "%s/notify", dir);
	int fd = listen_at(path);
	ok(fd >= 0, "bound %s", path);
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "3000000", 1);
	unsetenv("WATCHDOG_PID");
	struct sdnotify n;
	is_int(sdnotify_open(&n), 0, "path socket opens");
	ok(n.enabled, "enabled");
	ok(!getenv("NOTIFY_SOCKET") && !getenv("WATCHDOG_USEC"), "the variables are unset for children");
	is_int(sdnotify_watchdog_interval(&n), 1500000, "pings every WatchdogSec/2");
	is_int(sdnotify_send(&n, "READY=1\nSTATUS=running"), 0, "sent");
	is_int(receive(fd, buf, sizeof(buf), 1000), 22, "one datagram of 22 bytes");
	is_str(buf, "READY=1\nSTATUS=running", "the datagram is the message, no terminator");
	close(fd);
	is_int(sdnotify_send(&n, "WATCHDOG=1"), -ECONNREFUSED, "a closed socket is -ECONNREFUSED");
	unlink(path);
	/* nobody bound: -ENOENT */
	snprintf(path, sizeof(path), "%s/absent", dir);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(sdnotify_open(&n), 0, "a missing path is not checked at open");
	is_int(sdnotify_send(&n, "READY=1"), -ENOENT, "sending to a missing path is -ENOENT");
}

static void test_abstract_socket(void)
{
	char name[64], buf[64];
	snprintf(name, sizeof(name), "@adcraft-test-%d", (int)getpid());
	int fd = listen_at(name);
	ok(fd >= 0, "bound abstract %s", name);
	setenv("NOTIFY_SOCKET", name, 1);
	struct sdnotify n;
	is_int(sdnotify_open(&n), 0, "abstract socket opens");
	is_int(sdnotify_send(&n, "STOPPING=1"), 0, "sent to the abstract socket");
	is_int(receive(fd, buf, sizeof(buf), 1000), 10, "received");
	is_str(buf, "STOPPING=1", "the message");
	close(fd);
}

static void test_watchdog_owner_and_errors(void)
{
	char pid[32];
	struct sdnotify n;
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	is_int(sdnotify_open(&n), 0, "a watchdog meant for another pid");
	is_int(sdnotify_watchdog_interval(&n), 0, "is not ours: no pings");
	ok(!getenv("WATCHDOG_PID"), "WATCHDOG_PID unset too");

	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	is_int(sdnotify_open(&n), 0, "a watchdog for this pid");
	is_int(sdnotify_watchdog_interval(&n), 500000, "is ours");

	static const struct {
		const char *socket, *usec;
	} bad[] = {
		{ "relative/path", NULL }, { "@", NULL }, { "/ok", "12x" }, { "/ok", "-5" }, { "/ok", "" },
		{ "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("NOTIFY_SOCKET", bad[i].socket, 1);
		if (bad[i].usec)
			setenv("WATCHDOG_USEC", bad[i].usec, 1);
		else
			unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		is_int(sdnotify_open(&n), -EINVAL, "NOTIFY_SOCKET=%.20s WATCHDOG_USEC=%s is refused", bad[i].socket,
		       bad[i].usec ? bad[i].usec : "(unset)");
		ok(!n.enabled && !getenv("NOTIFY_SOCKET"), "and leaves it disabled and unset");
	}
}

/* --- the supervisor's messages -------------------------------------------- */

static int wanted_one(void *ctx, int pool) { return 1; }
static int reload_ok(void *ctx) { return 0; }
static void child_sleeps(void *ctx, int pool)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	for (;;)
		pause();
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_supervisor(void)
{
	char path[256], buf[256];
	snprintf(path, sizeof(path), "%s/supervisor", dir);
	int fd = listen_at(path);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("NOTIFY_SOCKET", path, 1);
		setenv("WATCHDOG_USEC", "200000", 1); /* a ping every 100 ms */
		unsetenv("WATCHDOG_PID");
		struct supervisor s = { .name = "test", .drain_seconds = 2, .npools = 1, .wanted = wanted_one,
					.child_main = child_sleeps, .reload = reload_ok };
		_exit(supervisor_run(&s));
	}
	ok(receive(fd, buf, sizeof(buf), 5000) > 0 && strcmp(buf, "READY=1\nSTATUS=running") == 0,
	   "READY=1 once the children are forked (got \"%s\")", buf);
	long long t0 = now_ms();
	int pings = 0;
	while (now_ms() - t0 < 550 && receive(fd, buf, sizeof(buf), 300) > 0)
		pings += strcmp(buf, "WATCHDOG=1") == 0;
	ok(pings >= 4 && pings <= 8, "WATCHDOG=1 about every 100 ms: %d in 550 ms", pings);
	kill(pid, SIGHUP);
	bool reloading = false, ready = false;
	for (int i = 0; i < 20 && !ready && receive(fd, buf, sizeof(buf), 2000) > 0; i++) {
		reloading |= strcmp(buf, "RELOADING=1\nSTATUS=reloading") == 0;
		ready |= reloading && strcmp(buf, "READY=1\nSTATUS=running") == 0;
	}
	ok(reloading && ready, "SIGHUP: RELOADING=1, then READY=1");
	kill(pid, SIGTERM);
	bool stopping = false;
	for (int i = 0; i < 20 && !stopping && receive(fd, buf, sizeof(buf), 2000) > 0; i++)
		stopping = strcmp(buf, "STOPPING=1\nSTATUS=draining") == 0;
	ok(stopping, "SIGTERM: STOPPING=1");
	int status = -1;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the master exits 0 after the drain");
	close(fd);
	unlink(path);
}

/* --- pools: each gets its own count of children, told their pool -------- */

static int wanted_by_pool(void *ctx, int pool) { return pool == 0 ? 1 : 2; }

/* Reports "pool N" to the socket at ctx (a path), then sleeps like the others. */
static void child_reports(void *ctx, int pool)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", (const char *)ctx);
	char msg[16];
	int n = snprintf(msg, sizeof(msg), "pool %d", pool);
	sendto(s, msg, (size_t)n, 0, (struct sockaddr *)&sa, sizeof(sa));
	close(s);
	child_sleeps(ctx, pool);
}

static void test_supervisor_pools(void)
{
	char path[256], buf[256];
	snprintf(path, sizeof(path), "%s/pools", dir);
	int fd = listen_at(path);
	pid_t pid = fork();
	if (pid == 0) {
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		struct supervisor s = { .name = "pools", .drain_seconds = 2, .ctx = path, .npools = 2,
					.wanted = wanted_by_pool, .child_main = child_reports, .reload = reload_ok };
		_exit(supervisor_run(&s));
	}
	int seen[2] = { 0, 0 }, other = 0;
	while (seen[0] + seen[1] + other < 3 && receive(fd, buf, sizeof(buf), 5000) > 0) {
		if (strcmp(buf, "pool 0") == 0 || strcmp(buf, "pool 1") == 0)
			seen[buf[5] - '0']++;
		else
			other++;
	}
	/* a fourth child would report within this wait too */
	while (receive(fd, buf, sizeof(buf), 300) > 0)
		other++;
	ok(seen[0] == 1 && seen[1] == 2 && other == 0, "two pools: 1 child in pool 0, 2 in pool 1 (got %d, %d, %d other)",
	   seen[0], seen[1], other);
	kill(pid, SIGTERM);
	int status = -1;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the pools' master exits 0 after the drain");
	close(fd);
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_absent();
	test_path_socket();
	test_abstract_socket();
	test_watchdog_owner_and_errors();
	test_supervisor();
	test_supervisor_pools();
	rmdir(dir);
	return tap_done();
}
