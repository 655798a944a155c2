/*
 * usage.h - recording generation calls in llm_usage, and the daily token
 * limit: each external call reserves llm_token_estimate tokens in the
 * database before it starts (llm_reserve(): atomically, only while today's
 * usage plus every open reservation plus the estimate fits the limit) and
 * settles after it ends (its llm_usage row replaces the reservation in one
 * statement). Concurrent requests and the items of one batch therefore never
 * start a call the limit has no room for; a call can overshoot only by what
 * it uses beyond the estimate.
 */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "generate.h"

/* Whose calls these are, for the hooks below. */
struct usage_ctx {
	db *d;
	arena *a;			/* the request's or job attempt's */
	const struct config *cfg;
	const char *user_id, *campaign_id, *job_id;
	int failures;			/* settles that could not be written (usage_record() retries them) */
};

/*
 * Points o's reserve/settle hooks at u when the limit applies (external
 * provider, daily_token_limit > 0); otherwise leaves them NULL.
 */
void usage_hooks(struct gen_options *o, struct usage_ctx *u);

/*
 * Inserts one llm_usage row for every call of tasks[0..n) not yet recorded and
 * releases their remaining reservations, in one statement. 0 or a db error
 * (the caller logs it: the calls stay unrecorded and the reservations expire).
 */
int usage_record(struct usage_ctx *u, struct gen_task *tasks, size_t n);

/*
 * Whether user_id may call the external LLM now: with the builtin provider,
 * or no daily_token_limit, always. *used gets today's external tokens.
 * 0 (allowed), -EDQUOT (limit reached), or a db error. A quick early answer
 * only: the reservation before each call is what enforces the limit.
 */
int usage_allowed(db *d, arena *a, const struct config *cfg, const char *user_id, long long *used);
