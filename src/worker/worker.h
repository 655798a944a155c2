/*
 * worker.h - one adcraft-worker process: LISTEN, claim in batches, run,
 * complete in batches; heartbeats, rescue of stale jobs, pruning.
 */
#pragma once

#include "config.h"

/* Runs until SIGTERM; never returns. */
void worker_main(const struct config *cfg) __attribute__((noreturn));
