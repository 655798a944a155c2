/*
 * generate.h - runs a set of generation tasks to completion: with the
 * OpenAI-compatible provider concurrently over libcurl multi, or with the
 * builtin generator. Each finished item has been validated against its
 * platform's limits (repaired once by the model, else trimmed), scored, and
 * given its metadata, and is handed to the caller as soon as it is ready.
 *
 * Transient failures (connection errors, timeouts, 408/409/429/5xx, broken
 * or cut-off answers) are retried with exponential backoff and jitter,
 * honouring Retry-After up to 60 s; 400/401/403/422 and refusals are not.
 * Responses are capped at 1 MiB. When alive() says stop, transfers abort
 * through libcurl's progress callback and unfinished tasks end cancelled.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "brief.h"
#include "buf.h"
#include "config.h"
#include "content.h"

#define GEN_MAX_ATTEMPTS 4

enum gen_state { GEN_PENDING, GEN_DONE, GEN_FAILED, GEN_CANCELLED };

struct gen_task {
	struct gen_brief brief;
	struct content_context score;	/* keywords and persona terms for the quality score */

	enum gen_state state;
	json_object *item;		/* GEN_DONE: the finished item (arena-owned) */
	const char *item_json;		/* the same, serialised for storage */
	const char *error;		/* GEN_FAILED / GEN_CANCELLED: why */
	bool retryable;			/* GEN_FAILED: whether a later attempt might succeed */
	bool brand_failed;		/* GEN_FAILED: the brand profile cannot be applied (a disclaimer does not fit) */
	long prompt_tokens, completion_tokens;
	long long reservation;		/* llm_reservations id of the call in flight (0: none); see reserve() */

	struct gen_call *calls;		/* every HTTP call made, for llm_usage (newest first) */
	struct gen_internal *internal;
};

struct gen_call {
	const char *purpose;		/* generate | repair */
	const char *outcome;		/* see llm_usage.outcome */
	long http_status;		/* 0: none */
	long prompt_tokens, completion_tokens;
	long latency_ms;
	int64_t finished_us;		/* wall clock, for llm_usage.created_at */
	bool recorded;			/* already in llm_usage (settled); gen_usage_json() skips it */
	struct gen_call *next;
};

struct gen_options {
	const char *job_id;		/* metadata.jobId, or NULL */
	int concurrency;		/* parallel requests (openai) */
	bool (*alive)(void *arg);	/* polled at least every 100 ms; false = stop now */
	void *alive_arg;
	void (*finished)(struct gen_task *t, void *arg); /* each task as it ends, in completion order */
	void *finished_arg;
	/*
	 * The per-user limits (openai only; both NULL: none; usage.h). reserve() runs before every HTTP
	 * call and may set t->reservation: 0 lets the call start; -EDQUOT waits while calls of this
	 * run are in flight (their real usage may leave room), else ends the task failed with
	 * gen_token_limit_error (a repair is skipped instead: the answer is trimmed); another error
	 * ends it failed and retryable. settle() runs after the call with its record (c is NULL when
	 * the call never started) and should record it and release t->reservation.
	 */
	int (*reserve)(struct gen_task *t, void *arg);
	void (*settle)(struct gen_task *t, struct gen_call *c, void *arg);
	void *usage_arg;
};

/* The error of a task refused by reserve() for a limit (compare the pointer; callers name the limit). */
extern const char gen_token_limit_error[];

/* "openai" when an API key is configured, else "builtin". */
const char *gen_provider(const struct config *cfg);
/* The model name recorded for items: the configured model, or "builtin". */
const char *gen_model(const struct config *cfg);

struct metrics_region;
/* Names cfg's models (gen_model, llm_images_model) in m's LLM series; the master calls it before forking. */
void gen_metrics_register(struct metrics_region *m, const struct config *cfg);

/* Runs tasks[0..n) until each is done, failed or cancelled. 0, or -ECANCELED when stopped. */
int gen_run(const struct config *cfg, arena *a, struct gen_task *tasks, size_t n, const struct gen_options *o);

/*
 * Writes the usage records of tasks as a JSON array for the llm_usage insert
 * ([{provider, model, content_type, platform, purpose, prompt_tokens, ...}]),
 * leaving out calls already recorded.
 */
void gen_usage_json(const struct config *cfg, struct gen_task *tasks, size_t n, buf *out);
/* The same for one call c of task t (NULL: an empty array). */
void gen_call_usage_json(const struct config *cfg, const struct gen_task *t, const struct gen_call *c, buf *out);
