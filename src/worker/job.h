/*
 * job.h - what a job handler sees: its job, its arena, and the calls that
 * keep a long job honest (progress, heartbeats, cancellation).
 *
 * A handler returns an outcome; on JOB_RETRY and JOB_FAIL it sets j->error,
 * and any handler may set j->result (JSON text) - a cancelled or failed job
 * keeps what it finished there. Handlers never log: the worker logs once.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "arena.h"
#include "config.h"
#include "db.h"

enum job_outcome {
	JOB_COMPLETED,
	JOB_RETRY,	/* try again later, with backoff, while attempts remain */
	JOB_FAILED,	/* never retry (bad input, unsupported kind) */
	JOB_CANCELLED,	/* stopped because the owner cancelled it */
	JOB_RELEASE,	/* not started or interrupted by shutdown: back to the queue, attempt not counted */
};

struct worker;

struct job {
	arena *arena;		/* this attempt's memory */
	struct worker *worker;
	const char *id, *queue, *kind, *user_id, *campaign_id;
	const char *payload_text;
	json_object *payload;
	int attempt, max_attempts;

	const char *result;	/* JSON text, or NULL */
	const char *error;	/* why it failed or will retry */
	const char *warning;	/* something went wrong that did not decide the outcome; the worker logs it */
	bool cancelled;		/* set by job_alive() when the owner cancelled */
};

typedef enum job_outcome (*job_handler)(struct job *j);

/*
 * Call often (at least every 100 ms) in a long job: reads notifications,
 * sends heartbeats when due. False when the job must stop now: cancelled
 * (j->cancelled is set), taken away (rescued elsewhere), or the worker is
 * shutting down and the grace period has run out.
 */
bool job_alive(struct job *j);

/* Records progress (done of total) and heartbeats; false as job_alive(). */
bool job_progress(struct job *j, int done, int total);

/* The worker's id (host:pid:nonce): jobs.locked_by of the jobs it runs. */
const char *job_worker_id(struct job *j);
/* Tells the worker the job is no longer its own (a fenced write matched nothing). */
void job_lost(struct job *j);

/* The worker's database connection and configuration, for handlers. */
db *job_db(struct job *j);
const struct config *job_config(struct job *j);

/* The handler for queue/kind, or NULL when the kind is unsupported. */
job_handler job_handler_find(const char *queue, const char *kind);
