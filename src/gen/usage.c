/*
 * usage.c - llm_usage rows, token reservations and the daily limit.
 */
#include "usage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Writes calls (JSON rows) and releases reservations (a bigint[] literal, or NULL) in one statement. */
static int usage_insert(struct usage_ctx *u, const char *rows, const char *reservations)
{
	const char *p[] = { u->user_id, u->campaign_id, u->job_id, rows, reservations };
	PGresult *res;
	return db_exec(u->d, u->a, STMT_LLM_USAGE_INSERT, p, &res);
}

static int reserve(struct gen_task *t, void *arg)
{
	struct usage_ctx *u = arg;
	const struct config *cfg = u->cfg;
	char estimate[24], limit[24], ttl[24];
	snprintf(estimate, sizeof(estimate), "%ld", cfg->llm_token_estimate);
	snprintf(limit, sizeof(limit), "%ld", cfg->daily_token_limit);
	/* a call lasts at most its timeouts; a reservation left by a process that died expires after that */
	snprintf(ttl, sizeof(ttl), "%ld", cfg->llm_timeout_seconds + cfg->llm_connect_timeout_seconds + 60);
	const char *p[] = { u->user_id, estimate, limit, ttl };
	PGresult *res;
	int rc = db_exec(u->d, u->a, STMT_LLM_RESERVE, p, &res);
	if (rc < 0)
		return rc;
	if (PQgetisnull(res, 0, 0))
		return -EDQUOT;
	t->reservation = atoll(PQgetvalue(res, 0, 0));
	return 0;
}

static void settle(struct gen_task *t, struct gen_call *c, void *arg)
{
	struct usage_ctx *u = arg;
	buf rows;
	buf_init(&rows, u->a, 512);
	gen_call_usage_json(u->cfg, t, c, &rows);
	const char *ids = arena_printf(u->a, "{%lld}", t->reservation);
	if (usage_insert(u, buf_cstr(&rows), ids) < 0) {
		u->failures++; /* usage_record() writes the call and releases the reservation later */
		return;
	}
	if (c)
		c->recorded = true;
	t->reservation = 0;
}

void usage_hooks(struct gen_options *o, struct usage_ctx *u)
{
	if (!u->cfg->llm_api_key || u->cfg->daily_token_limit == 0)
		return;
	o->reserve = reserve;
	o->settle = settle;
	o->usage_arg = u;
}

int usage_record(struct usage_ctx *u, struct gen_task *tasks, size_t n)
{
	buf rows, ids;
	buf_init(&rows, u->a, 512);
	buf_init(&ids, u->a, 64);
	gen_usage_json(u->cfg, tasks, n, &rows);
	buf_putc(&ids, '{');
	for (size_t i = 0; i < n; i++)
		if (tasks[i].reservation)
			buf_printf(&ids, "%s%lld", ids.len > 1 ? "," : "", tasks[i].reservation);
	buf_putc(&ids, '}');
	if (rows.len <= 2 && ids.len <= 2)
		return 0; /* everything was settled call by call */
	int rc = usage_insert(u, buf_cstr(&rows), buf_cstr(&ids));
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		tasks[i].reservation = 0;
		for (struct gen_call *c = tasks[i].calls; c; c = c->next)
			c->recorded = true;
	}
	return 0;
}

int usage_allowed(db *d, arena *a, const struct config *cfg, const char *user_id, long long *used)
{
	const char *p[] = { user_id };
	PGresult *res;
	int r = db_exec(d, a, STMT_LLM_TOKENS_TODAY, p, &res);
	if (r < 0)
		return r;
	*used = atoll(PQgetvalue(res, 0, 0));
	if (!cfg->llm_api_key || cfg->daily_token_limit == 0)
		return 0;
	return *used >= cfg->daily_token_limit ? -EDQUOT : 0;
}
