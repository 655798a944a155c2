/*
 * sdnotify.c - the notify datagram protocol (sd_notify(3)), implemented
 * here so that the daemons do not link libsystemd for three messages.
 */
#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_usec(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

int sdnotify_open(struct sdnotify *ret)
{
	struct sdnotify n = { .enabled = false };
	const char *path = getenv("NOTIFY_SOCKET"), *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	int r = 0;
	if (path && *path) {
		size_t len = strlen(path);
		if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(n.addr.sun_path)) {
			r = -EINVAL;
		} else {
			n.addr.sun_family = AF_UNIX;
			memcpy(n.addr.sun_path, path, len);
			if (path[0] == '@')
				n.addr.sun_path[0] = '\0'; /* abstract: the length says where it ends */
			n.addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
			n.enabled = true;
		}
	}
	uint64_t watchdog = 0, owner = 0;
	if (r == 0 && usec && (parse_usec(usec, &watchdog) < 0 || (pid && parse_usec(pid, &owner) < 0)))
		r = -EINVAL;
	if (r == 0 && n.enabled && (!pid || owner == (uint64_t)getpid()))
		n.watchdog_usec = watchdog;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	*ret = r == 0 ? n : (struct sdnotify){ .enabled = false };
	return r;
}

int sdnotify_send(const struct sdnotify *n, const char *state)
{
	if (!n->enabled)
		return 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&n->addr, n->addrlen);
	int r = sent < 0 ? -errno : (size_t)sent == strlen(state) ? 0 : -EMSGSIZE;
	close(fd);
	return r;
}

uint64_t sdnotify_watchdog_interval(const struct sdnotify *n)
{
	return n->watchdog_usec / 2;
}
