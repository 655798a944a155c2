/*
 * server.c - pre-fork master and child accept loop.
 *
 * Children wait on every listening socket with one epoll set each; the
 * sockets are registered EPOLLEXCLUSIVE, so a connection wakes one child,
 * not all of them. The listening sockets are non-blocking: a child that loses
 * the race gets EAGAIN from libfcgi's accept and goes back to waiting.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "password.h"

#define MAX_LISTEN 8
#define MAX_CHILDREN 256
#define DRAIN_SECONDS 10

struct listener {
	int fd;
	const char *unix_path; /* unlinked at exit when we created it */
};

struct child {
	pid_t pid;
	int generation;
	int64_t started_ms;
};

static struct listener listeners[MAX_LISTEN];
static int nlisteners;
static struct child children[MAX_CHILDREN];
static volatile sig_atomic_t child_stop;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sockets ---------------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -errno : (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0);
}

static int open_unix(const char *path, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket from a previous run */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, mode) < 0 || listen(fd, 1024) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int open_tcp(const char *hostport)
{
	char host[256];
	int port;
	if (config_parse_hostport(hostport, host, sizeof(host), &port) < 0)
		return -EINVAL;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static bool is_listening_socket(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

static int add_listener(int fd, const char *unix_path)
{
	if (nlisteners == MAX_LISTEN)
		return -EMFILE;
	int r = set_nonblock(fd);
	if (r < 0)
		return r;
	listeners[nlisteners].fd = fd;
	listeners[nlisteners].unix_path = unix_path;
	nlisteners++;
	return 0;
}

static int open_listeners(const struct config *cfg)
{
	int fd;
	if (*cfg->listen) {
		if ((fd = open_unix(cfg->listen, (mode_t)cfg->listen_mode)) < 0) {
			log_msg(LOG_ERROR, "listen %s: %s", cfg->listen, strerror(-fd));
			return fd;
		}
		add_listener(fd, cfg->listen);
	}
	if (*cfg->listen_tcp) {
		if ((fd = open_tcp(cfg->listen_tcp)) < 0) {
			log_msg(LOG_ERROR, "listen_tcp %s: %s", cfg->listen_tcp, strerror(-fd));
			return fd;
		}
		add_listener(fd, NULL);
	}
	if (nlisteners)
		return 0;

	/* systemd socket activation, then the FastCGI fd-0 convention */
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (pid && fds && atol(pid) == (long)getpid()) {
		int n = atoi(fds);
		for (int i = 0; i < n; i++) {
			fcntl(3 + i, F_SETFD, FD_CLOEXEC);
			add_listener(3 + i, NULL);
		}
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
	} else if (is_listening_socket(0)) {
		add_listener(0, NULL);
	}
	if (!nlisteners) {
		log_msg(LOG_ERROR, "nothing to listen on: set listen or listen_tcp, or start from systemd sockets");
		return -EINVAL;
	}
	return 0;
}

/* ---- child ------------------------------------------------------------ */

static void on_child_stop(int sig)
{
	(void)sig;
	child_stop = 1;
}

static void __attribute__((noreturn)) child_main(const struct config *cfg, const char *dummy_hash,
						 int64_t started_at)
{
	struct sigaction sa = { .sa_handler = on_child_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	struct app app = {
		.cfg = cfg,
		.keys = { cfg->jwt_secret, cfg->jwt_secret_len, cfg->jwt_issuer, cfg->jwt_audience,
			  cfg->access_token_ttl },
		.db = db_new(cfg->database_url, cfg->database_password, true),
		.dummy_hash = dummy_hash,
		.started_at = started_at,
	};
	if (!db_connected(app.db))
		log_msg(LOG_WARN, "database not reachable yet: %s", db_error(app.db));

	int ep = epoll_create1(EPOLL_CLOEXEC);
	FCGX_Request reqs[MAX_LISTEN];
	FCGX_Init();
	for (int i = 0; i < nlisteners; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, listeners[i].fd, &ev);
		FCGX_InitRequest(&reqs[i], listeners[i].fd, FCGI_FAIL_ACCEPT_ON_INTR);
	}
	arena *a = arena_new(32768);
	while (!child_stop) {
		struct epoll_event ev[MAX_LISTEN];
		int n = epoll_wait(ep, ev, MAX_LISTEN, -1);
		for (int i = 0; i < n && !child_stop; i++) {
			FCGX_Request *req = &reqs[ev[i].data.u32];
			if (FCGX_Accept_r(req) < 0)
				continue; /* another child took it, or the peer left */
			dispatch(&app, req, a);
			FCGX_Finish_r(req);
			arena_reset(a);
		}
	}
	db_free(app.db);
	_exit(0);
}

/* ---- master ----------------------------------------------------------- */

struct master {
	struct config *cfg;
	const struct server_options *opt;
	char dummy_hash[PASSWORD_HASH_MAX];
	int64_t started_at;
	int generation;
	int64_t backoff_ms;
	int64_t respawn_at; /* mono ms; 0 = nothing pending */
	bool stopping;
};

static int wanted_children(const struct config *cfg)
{
	if (cfg->processes > 0)
		return (int)cfg->processes;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = (int)(cpus > 0 ? cpus : 1) * 4; /* libpq calls block: ~4 per core (PERF-NOTES) */
	return n > MAX_CHILDREN ? MAX_CHILDREN : n;
}

static int count_children(int generation)
{
	int n = 0;
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid > 0 && children[i].generation == generation)
			n++;
	return n;
}

static void spawn_one(struct master *m)
{
	int slot = 0;
	while (slot < MAX_CHILDREN && children[slot].pid > 0)
		slot++;
	if (slot == MAX_CHILDREN)
		return;
	pid_t pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERROR, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		child_main(m->cfg, m->dummy_hash, m->started_at);
	children[slot] = (struct child){ pid, m->generation, mono_ms() };
}

static void spawn_missing(struct master *m)
{
	for (int n = count_children(m->generation); n < wanted_children(m->cfg); n++)
		spawn_one(m);
}

static void signal_generation(int generation, int sig, bool all)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid > 0 && (all || children[i].generation == generation))
			kill(children[i].pid, sig);
}

static void reap(struct master *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_CHILDREN; i++) {
			if (children[i].pid != pid)
				continue;
			bool current = children[i].generation == m->generation;
			bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
			children[i].pid = 0;
			if (m->stopping || (!current && clean))
				break;
			int64_t lived = mono_ms() - children[i].started_ms;
			log_msg(LOG_ERROR, "child %d %s %d after %lld ms; replacing it", (int)pid,
				WIFSIGNALED(status) ? "killed by signal" : "exited with status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), (long long)lived);
			/* A child that dies at once (bad config, no memory) is retried with backoff. */
			m->backoff_ms = lived < 1000 ? (m->backoff_ms ? m->backoff_ms * 2 : 100) : 0;
			if (m->backoff_ms > 5000)
				m->backoff_ms = 5000;
			m->respawn_at = mono_ms() + m->backoff_ms;
			break;
		}
	}
}

static void reload(struct master *m)
{
	struct config *fresh;
	char err[512];
	if (config_load(m->opt->config_path, &fresh, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(fresh->listen, m->cfg->listen) || strcmp(fresh->listen_tcp, m->cfg->listen_tcp))
		log_msg(LOG_WARN, "listen addresses changed: they take effect on restart, not reload");
	config_free(m->cfg);
	m->cfg = fresh;
	int old = m->generation++;
	spawn_missing(m);
	signal_generation(old, SIGTERM, false);
	log_msg(LOG_INFO, "configuration reloaded; generation %d replaces %d", m->generation, old);
}

static void drain(struct master *m)
{
	m->stopping = true;
	signal_generation(0, SIGTERM, true);
	int64_t deadline = mono_ms() + DRAIN_SECONDS * 1000;
	while (mono_ms() < deadline) {
		reap(m);
		bool any = false;
		for (int i = 0; i < MAX_CHILDREN; i++)
			any |= children[i].pid > 0;
		if (!any)
			return;
		usleep(20000);
	}
	log_msg(LOG_WARN, "children still busy after %d s: killing them", DRAIN_SECONDS);
	signal_generation(0, SIGKILL, true);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}

int server_run(struct config *cfg, const struct server_options *opt)
{
	struct master m = { .cfg = cfg, .opt = opt, .started_at = time(NULL), .generation = 1 };
	if (dispatch_init() < 0) {
		log_msg(LOG_ERROR, "route table is invalid");
		return 1;
	}
	if (open_listeners(cfg) < 0)
		return 1;
	/* One argon2 hash, computed before fork: unknown emails are verified against it. */
	struct password_cost cost = { (uint32_t)cfg->argon2_memory_kib, (uint32_t)cfg->argon2_iterations };
	if (password_hash(&cost, "adcraft-timing-equaliser", 24, m.dummy_hash) < 0) {
		log_msg(LOG_ERROR, "argon2 self-test failed");
		return 1;
	}
	if (opt->pidfile && write_pidfile(opt->pidfile) < 0)
		log_msg(LOG_WARN, "pidfile %s: %s", opt->pidfile, strerror(errno));

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	spawn_missing(&m);
	log_msg(LOG_INFO, "adcraft-api %s serving with %d processes", ADCRAFT_VERSION, wanted_children(m.cfg));
	for (;;) {
		struct timespec wait = { 1, 0 };
		if (m.respawn_at) {
			int64_t left = m.respawn_at - mono_ms();
			if (left < 0)
				left = 0;
			wait = (struct timespec){ left / 1000, (left % 1000) * 1000000 };
		}
		int sig = sigtimedwait(&set, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			reload(&m);
		reap(&m);
		if (!m.respawn_at || mono_ms() >= m.respawn_at) {
			m.respawn_at = 0;
			spawn_missing(&m);
		}
	}
	log_msg(LOG_INFO, "stopping: draining children (up to %d s)", DRAIN_SECONDS);
	drain(&m);
	for (int i = 0; i < nlisteners; i++)
		if (listeners[i].unix_path)
			unlink(listeners[i].unix_path);
	if (opt->pidfile)
		unlink(opt->pidfile);
	config_free(m.cfg);
	log_msg(LOG_INFO, "stopped");
	return 0;
}
