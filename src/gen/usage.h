/*
 * usage.h - recording generation calls in llm_usage (tokens and cost), and
 * the per-user limits: daily and monthly, in tokens and in money. Each limit
 * is the user's override (user_limits, set with `adcraft user limits`) or
 * else the configured default; 0 means none.
 *
 * Each external call reserves llm_token_estimate tokens and their price in
 * the database before it starts (llm_reserve(): atomically, only while every
 * limit has room for today's or this month's usage plus every open
 * reservation plus the estimate) and settles after it ends (its llm_usage
 * row, cost included, replaces the reservation in one statement). Concurrent
 * requests and the items of one batch therefore never start a call a limit
 * has no room for; a call can overshoot only by what it uses beyond the
 * estimate. Builtin calls use no tokens, cost 0 and are never limited.
 *
 * Images requests (llm_images_model, visual.h) are calls too: each reserves
 * the model's per-image price (llm_image_prices; 0 tokens) before it starts
 * and settles as one llm_usage row, purpose "image", tokens 0, cost the
 * price (NULL when the model has none). Builtin cards are never recorded.
 */
#pragma once

#include <stdbool.h>
#include <time.h>

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
	const char *exceeded;		/* set when a reservation was refused: the limit's name */
};

/* One of the four limits, as llm_reserve() and llm_usage_status name them. */
struct usage_limit {
	const char *name;	/* daily_tokens, monthly_tokens, daily_cost, monthly_cost */
	const char *what;	/* "daily token limit" */
	bool monthly;
};

/* The limit called name; an unknown name gives the daily token limit's entry. */
const struct usage_limit *usage_limit_find(const char *name);

/* Seconds from now until l's period ends: the next midnight UTC, or the first of the next month (UTC). */
long usage_retry_after(const struct usage_limit *l, time_t now);

/* "the daily cost limit is used up; it resets at midnight UTC" (arena-owned). */
const char *usage_limit_message(arena *a, const struct usage_limit *l);

/* Points o's reserve/settle hooks at u with an external provider; otherwise leaves them NULL. */
void usage_hooks(struct gen_options *o, struct usage_ctx *u);

/*
 * Inserts one llm_usage row for every call of tasks[0..n) not yet recorded and
 * releases their remaining reservations, in one statement. 0 or a db error
 * (the caller logs it: the calls stay unrecorded and the reservations expire).
 */
int usage_record(struct usage_ctx *u, struct gen_task *tasks, size_t n);

/* One images request that reached (or tried to reach) the provider, for usage_image_settle(). */
struct usage_image_call {
	const char *content_type, *platform;	/* the item's */
	const char *outcome;			/* ok, error, timeout or cancelled (llm_usage.outcome) */
	long http_status;			/* 0: no answer */
	long latency_ms;
};

/*
 * Reserves the price of one image of llm_images_model against u's limits.
 * 0 and *ret_reservation (0 with the builtin provider: nothing is held),
 * -EDQUOT and *ret_exceeded (the limit with no room: the request must not be
 * made), or a db error.
 */
int usage_image_reserve(struct usage_ctx *u, long long *ret_reservation, const struct usage_limit **ret_exceeded);

/*
 * Releases reservation and, when c is not NULL, writes c's llm_usage row, in
 * one statement (c NULL: the request was never made). 0 or a db error
 * (counted in u->failures; the reservation then expires on its own).
 */
int usage_image_settle(struct usage_ctx *u, long long reservation, const struct usage_image_call *c);

/*
 * Whether user_id may call the external LLM now: with the builtin provider
 * always. *ret_usage gets ai-status's usage object (JSON text, arena-owned);
 * *ret_exceeded the limit already reached, or NULL. 0 (allowed), -EDQUOT (a
 * limit is reached), or a db error (both left untouched). A quick early
 * answer only: the reservation before each call is what enforces the limits.
 */
int usage_check(db *d, arena *a, const struct config *cfg, const char *user_id, const char **ret_usage,
		const struct usage_limit **ret_exceeded);
