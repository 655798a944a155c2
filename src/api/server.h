/*
 * server.h - the pre-fork FastCGI server: a master that owns the listening
 * sockets and keeps N children alive, and the children's accept loop.
 *
 * Sockets: `listen` (unix path) and/or `listen_tcp` (host:port) from config;
 * else sockets inherited from systemd (LISTEN_FDS/LISTEN_PID); else fd 0 when
 * it is a listening socket (the FastCGI convention). `listen_slow`, or the
 * systemd socket LISTEN_FDNAMES names "slow", gets a pool of its own
 * (slow_processes children that keep no connection: server.c).
 * Signals to the master: SIGTERM/SIGINT drain children (10 s) and exit;
 * SIGHUP reloads the configuration and replaces children gracefully. A child
 * that dies is logged and replaced, with backoff if it keeps dying at once.
 */
#pragma once

#include "config.h"
#include "daemon.h"

/* Runs until told to stop; returns the process exit status. Takes ownership of cfg. */
int server_run(struct config *cfg, const struct daemon_options *opt);
