/*
 * usage.h - recording generation calls in llm_usage and the daily token limit.
 */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "generate.h"

/* Inserts one llm_usage row per call of tasks[0..n), in one statement. 0 or a db error. */
int usage_record(db *d, arena *a, const struct config *cfg, const char *user_id, const char *campaign_id,
		 const char *job_id, struct gen_task *tasks, size_t n);

/*
 * Whether user_id may call the external LLM now: with the builtin provider,
 * or no daily_token_limit, always. *used gets today's external tokens.
 * 0 (allowed), -EDQUOT (limit reached), or a db error.
 */
int usage_allowed(db *d, arena *a, const struct config *cfg, const char *user_id, long long *used);
