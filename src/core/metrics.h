/*
 * metrics.h - counters shared by a master and its pre-forked children, for
 * GET /api/metrics (Prometheus text format; docs/operations.md#metrics).
 *
 * A master maps one region before it forks (adcraft-api: anonymous
 * MAP_SHARED; adcraft-worker: a file in its runtime directory, which the API
 * maps read-only at scrape time) and points metrics_here at it; the children
 * inherit the mapping, so a child that dies or is replaced loses nothing.
 * Every counter is a fixed slot of a fixed-size array, incremented with one
 * relaxed atomic add: no lock, no allocation, no system call. A process
 * without a region (the CLI, unit tests) counts nothing: every call is a
 * no-op while metrics_here is NULL.
 *
 * Job kinds and LLM models are named slots: the master registers the names
 * it knows (metrics_name_add) before forking; a name nobody registered counts
 * in the last slot, "other".
 */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_ROUTES 129	/* router.c's MAX_ROUTES, plus one for requests that matched no route */
#define METRICS_BUCKETS 16	/* slots of a histogram; the last one is +Inf */
#define METRICS_NAMES 24	/* named slots (job kinds, models); the last one is "other" */
#define METRICS_NAME_MAX 48

/* The counters that are a plain number; the text format's families and labels are in metrics.c. */
enum metrics_counter {
	MC_DB_RECONNECTS,	/* successful connects of a handle that had connected before */
	MC_DB_CONNECT_FAILURES,	/* connection attempts that failed (first or later) */
	MC_DB_ERRORS_STATEMENT,	/* a statement the server rejected (-EIO) for another reason than a rule */
	MC_DB_ERRORS_REJECTED,	/* one a rule of the schema rejected: classes 22, 23, 55, P0 (db.c) */
	MC_DB_ERRORS_CONNECTION, /* a statement that failed with the connection (-ENOTCONN) */
	MC_EVENTS_PUBLISHED,
	MC_EVENTS_FAILED,	/* nchan publishes that failed after the retry, or whose sequence was not stored */
	MC_EMAILS_SENT,
	MC_EMAILS_DEFERRED,
	MC_EMAILS_BOUNCED,
	MC_EMAILS_FAILED,
	MC_MAIL_EVENTS_BOUNCE,	/* POST /api/webhooks/email-events, per event recorded */
	MC_MAIL_EVENTS_COMPLAINT,
	MC_UPLOADS,		/* assets stored by POST /api/assets */
	MC_UPLOAD_BYTES,
	MC_EXPORTS_CREATED,	/* POST /api/exports that queued an export */
	MC_EXPORTS_READY,	/* export files written by the worker */
	MC_EXPORT_BYTES,
	MC__COUNT
};

/* Outcomes of a job attempt, in job.h's enum job_outcome order. */
#define METRICS_JOB_OUTCOMES 5

/* What counts the calls of one LLM model: outcomes as llm_usage.outcome spells them. */
#define METRICS_LLM_OUTCOMES 9

enum metrics_names_table { METRICS_KINDS, METRICS_MODELS };

struct metrics_hist {
	_Atomic uint64_t bucket[METRICS_BUCKETS]; /* not cumulative: one slot per observation */
	_Atomic uint64_t sum;			  /* in the histogram's unit (us or ms) */
};

struct metrics_region {
	uint64_t magic;
	uint32_t version;
	uint32_t size;		/* sizeof(struct metrics_region) */
	int64_t started_at;	/* the master's start, seconds since the epoch */
	char program[16];	/* "api", "worker" */

	_Atomic uint64_t counter[MC__COUNT];

	/* requests by route (index into the route table; METRICS_ROUTES - 1: none) and status */
	_Atomic uint64_t requests[METRICS_ROUTES][32];
	/* latency in microseconds by route and status class (2xx, 3xx, 4xx, 5xx) */
	struct metrics_hist latency[METRICS_ROUTES][4];

	char names[2][METRICS_NAMES][METRICS_NAME_MAX];
	_Atomic uint32_t nnames[2];

	struct {
		_Atomic uint64_t outcome[METRICS_JOB_OUTCOMES];
		struct metrics_hist ms; /* attempt durations in milliseconds */
	} jobs[METRICS_NAMES];

	struct {
		_Atomic uint64_t outcome[METRICS_LLM_OUTCOMES];
		_Atomic uint64_t prompt_tokens, completion_tokens;
		_Atomic uint64_t cost_pico; /* cost in 1e-12 currency units (price.h) */
		struct metrics_hist ms;	    /* call latency in milliseconds */
	} llm[METRICS_NAMES];
};

/* This process's region, NULL when it has none (every metrics_* call is then a no-op). */
extern struct metrics_region *metrics_here;

/*
 * Maps a zeroed anonymous MAP_SHARED region for program ("api") into *ret.
 * Call in the master before forking. 0 or -errno.
 */
int metrics_create_anon(const char *program, struct metrics_region **ret);

/*
 * The same backed by the file path, mode 0644, for other processes to read
 * (metrics_open_file). Written beside path and renamed over it, so a reader
 * never sees a half-initialised region. 0 or -errno.
 */
int metrics_create_file(const char *path, const char *program, struct metrics_region **ret);

/*
 * Maps path read-only into *ret; release with metrics_unmap(). -ENOENT when it
 * does not exist, -EPROTO when it is not a region of this version.
 */
int metrics_open_file(const char *path, const struct metrics_region **ret);
void metrics_unmap(const struct metrics_region *r);

/* Registers name in table (the master, before forking); its slot, or the "other" slot when full. */
int metrics_name_add(struct metrics_region *r, enum metrics_names_table table, const char *name);

void metrics_count(enum metrics_counter c, uint64_t n);

/* One request: route index (negative or too large: none), status, duration in microseconds. */
void metrics_request(int route, int status, int64_t us);

/* One job attempt: "queue/kind", outcome (job.h order), duration in milliseconds. */
void metrics_job(const char *queue, const char *kind, int outcome, int64_t ms);

/* One LLM call of model: outcome (llm_usage.outcome), tokens, cost in 1e-12 units, latency in ms. */
void metrics_llm(const char *model, const char *outcome, long prompt_tokens, long completion_tokens,
		 uint64_t cost_pico, long latency_ms);

/* Which histogram slot v falls into for these upper bounds (n of them, ascending): 0..n. */
int metrics_bucket(const int64_t *bounds, int n, int64_t v);

/* The label of a request-counter status slot ("200", ..., "other"). */
const char *metrics_status_label(int slot);

/* A region to print and whose it is. */
struct metrics_source {
	const struct metrics_region *r;
	const char *program; /* the program label: "api", "worker" */
};

/* How routes are named in the request families: method and pattern by route index. */
struct metrics_route_name {
	const char *method;
	const char *pattern;
};

/*
 * Appends the families of every region in src[0..n) to out, in the text
 * exposition format 0.0.4: the counters that have moved, families grouped, one
 * HELP and TYPE each. routes[0..nroutes) name the request series (only the
 * API's region has any); requests that matched none are route="none".
 */
void metrics_format(buf *out, const struct metrics_source *src, size_t n, const struct metrics_route_name *routes,
		    int nroutes);
