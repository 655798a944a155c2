/*
 * supervisor.h - keeps N child processes alive: the master half of
 * adcraft-api and adcraft-worker.
 *
 * SIGTERM/SIGINT: children get SIGTERM and up to drain_seconds to finish,
 * then SIGKILL. SIGHUP: reload() builds the next generation's state; new
 * children start and the old ones get SIGTERM (graceful replacement). A
 * child that dies is logged and replaced; one that dies within a second of
 * starting is replaced with growing backoff (100 ms doubling to 5 s).
 *
 * Pools: the children form npools groups (adcraft-api's fast and slow pools,
 * server.c); wanted() says how many each pool needs and child_main() is told
 * its child's pool. A dead child is replaced in its own pool.
 */
#pragma once

struct supervisor {
	const char *name;	/* for log lines: "api", "worker" */
	int drain_seconds;
	void *ctx;
	int npools;			  /* pools 0 .. npools-1; at least 1 */
	int (*wanted)(void *ctx, int pool);	  /* how many children in pool */
	void (*child_main)(void *ctx, int pool); /* runs in the child; must not return */
	int (*reload)(void *ctx);	  /* SIGHUP: 0 to replace children, <0 to keep them */
};

/* Runs until SIGTERM/SIGINT and the drain; returns the exit status. */
int supervisor_run(const struct supervisor *s);
