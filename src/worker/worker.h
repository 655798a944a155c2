/*
 * worker.h - one adcraft-worker process: LISTEN, claim in batches, run,
 * complete in batches; heartbeats, rescue of stale jobs, pruning.
 */
#pragma once

#include "config.h"

struct metrics_region;
/* Names every queue/kind the worker runs in m's job series; the master calls it before forking. */
void worker_metrics_register(struct metrics_region *m);

/* Runs until SIGTERM; never returns. */
void worker_main(const struct config *cfg) __attribute__((noreturn));
