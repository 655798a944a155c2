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
#include <stdint.h>

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
	int64_t progress_sent_ms; /* when the last progress event went out (job_progress_due) */
};

typedef enum job_outcome (*job_handler)(struct job *j);
/* Queues the kind's own events for an outcome (job_publish_after); called once the outcome is final. */
typedef void (*job_announcer)(struct job *j, enum job_outcome o);

struct job_kind {
	const char *queue;	/* NULL: every queue */
	const char *kind;
	job_handler run;
	job_announcer announce; /* NULL: only the generic job:* events */
};

/*
 * Call often (at least every 100 ms) in a long job: reads notifications,
 * sends heartbeats when due. False when the job must stop now: cancelled
 * (j->cancelled is set), taken away (rescued elsewhere), or the worker is
 * shutting down and the grace period has run out.
 */
bool job_alive(struct job *j);

/* Records progress (done of total) and heartbeats, and publishes job:progress
 * when job_progress_due(); false as job_alive(). */
bool job_progress(struct job *j, int done, int total);

/*
 * Events (events.h) about j, on its owner's or its campaign's channel (the
 * type decides); nothing for a job without an owner. job_publish sends now;
 * job_publish_after sends once the job's outcome is committed, so a client
 * that refetches on the event sees the job finished. A failed publish is
 * logged and counted by the worker, never the job's failure.
 */
void job_publish(struct job *j, const char *type, const char *data);
void job_publish_after(struct job *j, const char *type, const char *data);
/* job_publish_after for another owner and campaign than the job's (a rollup job has none of its own). */
void job_publish_after_for(struct job *j, const char *type, const char *user_id, const char *campaign_id,
			   const char *data);
/* {"done":d,"total":t,"percent":p<extra>}: extra is more members (",\"failed\":1") or NULL. */
const char *job_progress_json(struct job *j, int done, int total, const char *extra);
/* Whether a progress event may go now: at most 10 a second per job, and always the last (done == total). */
bool job_progress_due(struct job *j, int done, int total);

/*
 * Before one long database step that cannot call job_alive() (a statement or
 * transaction that may outlast job_stale_seconds): moves the job's heartbeat
 * seconds ahead, so it is not rescued meanwhile. The price: should the
 * worker die during that step, the job is rescued only that much later.
 * False as job_alive().
 */
bool job_extend(struct job *j, int seconds);

/* The worker's id (host:pid:nonce): jobs.locked_by of the jobs it runs. */
const char *job_worker_id(struct job *j);
/* Tells the worker the job is no longer its own (a fenced write matched nothing). */
void job_lost(struct job *j);

/* The worker's database connection and configuration, for handlers. */
db *job_db(struct job *j);
const struct config *job_config(struct job *j);

/* The handler for queue/kind, or NULL when the kind is unsupported. */
const struct job_kind *job_kind_find(const char *queue, const char *kind);
/* The i-th entry of the kinds table, NULL past its end. */
const struct job_kind *job_kind_at(size_t i);
