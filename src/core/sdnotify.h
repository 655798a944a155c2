/*
 * sdnotify.h - systemd's notify protocol without libsystemd.
 *
 * A service of Type=notify tells its manager how it is doing by sending
 * datagrams ("READY=1", "STOPPING=1", "WATCHDOG=1", ...; newline-separated
 * assignments) to the AF_UNIX socket named by $NOTIFY_SOCKET: a path, or an
 * abstract address when it starts with '@'. $WATCHDOG_USEC (with
 * $WATCHDOG_PID, when set, naming this process) asks for a "WATCHDOG=1" at
 * least that often. Nothing happens when the variables are absent (started
 * by hand, by ./dev or in tests), so callers need not check.
 *
 * sdnotify_open() reads and unsets the variables, so that forked children
 * (whose messages NotifyAccess=main would drop anyway) never see them; only
 * the process that opened it speaks for the service.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct sdnotify {
	bool enabled;		 /* $NOTIFY_SOCKET was set and valid */
	struct sockaddr_un addr; /* where datagrams go */
	socklen_t addrlen;
	uint64_t watchdog_usec;	 /* 0: no watchdog wanted from this process */
};

/*
 * Fills *ret from $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID and unsets
 * them. 0 on success (also when they are absent: ret->enabled is false);
 * -EINVAL for a socket name that is neither absolute nor abstract or is too
 * long, or an unreadable $WATCHDOG_USEC (ret is then disabled).
 */
int sdnotify_open(struct sdnotify *ret);

/*
 * Sends one datagram (state: "READY=1", "STOPPING=1\nSTATUS=draining", ...).
 * 0 when sent or when n is disabled; -errno when the socket refused it.
 */
int sdnotify_send(const struct sdnotify *n, const char *state);

/* Microseconds between two WATCHDOG=1 pings: half of WatchdogSec (0: none). */
uint64_t sdnotify_watchdog_interval(const struct sdnotify *n);
