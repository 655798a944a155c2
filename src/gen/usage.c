/*
 * usage.c - llm_usage rows, reservations and the per-user limits.
 */
#include "usage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const struct usage_limit limits[] = {
	{ "daily_tokens", "daily token limit", false },
	{ "monthly_tokens", "monthly token limit", true },
	{ "daily_cost", "daily cost limit", false },
	{ "monthly_cost", "monthly cost limit", true },
};

const struct usage_limit *usage_limit_find(const char *name)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strcmp(limits[i].name, name) == 0)
			return &limits[i];
	return &limits[0];
}

long usage_retry_after(const struct usage_limit *l, time_t now)
{
	struct tm tm;
	gmtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (l->monthly) {
		tm.tm_mday = 1;
		tm.tm_mon++; /* timegm() normalises December + 1 */
	} else {
		tm.tm_mday++;
	}
	return (long)(timegm(&tm) - now);
}

const char *usage_limit_message(arena *a, const struct usage_limit *l)
{
	return arena_printf(a, "the %s is used up; it resets %s", l->what,
			    l->monthly ? "on the first of next month (UTC)" : "at midnight UTC");
}

/* The configured defaults of the four limits as statement parameters (tokens, then money). */
struct limit_params {
	char daily_tokens[24], monthly_tokens[24], daily_cost[32], monthly_cost[32];
};

static void limit_params(const struct config *cfg, struct limit_params *lp)
{
	snprintf(lp->daily_tokens, sizeof(lp->daily_tokens), "%ld", cfg->daily_token_limit);
	snprintf(lp->monthly_tokens, sizeof(lp->monthly_tokens), "%ld", cfg->monthly_token_limit);
	money_format(cfg->daily_cost_limit, lp->daily_cost);
	money_format(cfg->monthly_cost_limit, lp->monthly_cost);
}

/* Writes calls (JSON rows) and releases reservations (a bigint[] literal, or NULL) in one statement. */
static int usage_insert(struct usage_ctx *u, const char *rows, const char *reservations)
{
	const char *p[] = { u->user_id, u->campaign_id, u->job_id, rows, reservations };
	PGresult *res;
	return db_exec(u->d, u->a, STMT_LLM_USAGE_INSERT, p, &res);
}

/* The money one call may cost: the estimate at the higher of the model's two prices (0 unpriced). */
static void estimate_cost(const struct config *cfg, char *out)
{
	const struct llm_price *mp = cfg->llm_model_price;
	if (!mp) {
		snprintf(out, COST_TEXT_MAX, "0");
		return;
	}
	struct llm_price worst = { mp->model, 0, mp->input > mp->output ? mp->input : mp->output, 0 };
	price_cost_format(&worst, 0, cfg->llm_token_estimate, out);
}

/* Holds estimate tokens and cost money of u's limits: 0 and *ret_id, -EDQUOT (*ret_exceeded), or a db error. */
static int reserve_held(struct usage_ctx *u, long estimate, const char *cost, long long *ret_id,
			const char **ret_exceeded)
{
	const struct config *cfg = u->cfg;
	char tokens[24], ttl[24];
	struct limit_params lp;
	limit_params(cfg, &lp);
	snprintf(tokens, sizeof(tokens), "%ld", estimate);
	/* a call lasts at most its timeouts; a reservation left by a process that died expires after that */
	snprintf(ttl, sizeof(ttl), "%ld", cfg->llm_timeout_seconds + cfg->llm_connect_timeout_seconds + 60);
	const char *p[] = { u->user_id, tokens, cost, lp.daily_tokens, lp.monthly_tokens, lp.daily_cost,
			    lp.monthly_cost, ttl };
	PGresult *res;
	int rc = db_exec(u->d, u->a, STMT_LLM_RESERVE, p, &res);
	if (rc < 0)
		return rc;
	if (PQgetisnull(res, 0, 0)) {
		*ret_exceeded = arena_strdup(u->a, PQgetvalue(res, 0, 1));
		return -EDQUOT;
	}
	*ret_id = atoll(PQgetvalue(res, 0, 0));
	return 0;
}

static int reserve(struct gen_task *t, void *arg)
{
	struct usage_ctx *u = arg;
	char cost[COST_TEXT_MAX];
	estimate_cost(u->cfg, cost);
	return reserve_held(u, u->cfg->llm_token_estimate, cost, &t->reservation, &u->exceeded);
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
	if (!u->cfg->llm_api_key)
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

int usage_check(db *d, arena *a, const struct config *cfg, const char *user_id, const char **ret_usage,
		const struct usage_limit **ret_exceeded)
{
	struct limit_params lp;
	limit_params(cfg, &lp);
	const char *p[] = { user_id, lp.daily_tokens, lp.monthly_tokens, lp.daily_cost, lp.monthly_cost,
			    cfg->llm_currency, cfg->llm_api_key ? "true" : "false" };
	PGresult *res;
	int rc = db_exec(d, a, STMT_LLM_USAGE_STATUS, p, &res);
	if (rc < 0)
		return rc;
	*ret_usage = arena_strdup(a, PQgetvalue(res, 0, 1));
	*ret_exceeded = PQgetisnull(res, 0, 0) ? NULL : usage_limit_find(PQgetvalue(res, 0, 0));
	return *ret_exceeded ? -EDQUOT : 0;
}

/* The price of one image of llm_images_model, or "null" (unknown). */
static const char *image_cost(const struct config *cfg, char cost[COST_TEXT_MAX])
{
	if (!cfg->llm_images_model_price)
		return "null";
	money_format(cfg->llm_images_model_price->per_image, cost);
	return cost;
}

int usage_image_reserve(struct usage_ctx *u, long long *ret_reservation, const struct usage_limit **ret_exceeded)
{
	*ret_reservation = 0;
	if (!u->cfg->llm_api_key)
		return 0;
	char cost[COST_TEXT_MAX];
	if (strcmp(image_cost(u->cfg, cost), "null") == 0)
		snprintf(cost, sizeof(cost), "0"); /* unpriced: holds no money, like a text model without a price */
	const char *exceeded = NULL;
	int rc = reserve_held(u, 0, cost, ret_reservation, &exceeded);
	if (rc == -EDQUOT)
		*ret_exceeded = usage_limit_find(exceeded);
	return rc;
}

int usage_image_settle(struct usage_ctx *u, long long reservation, const struct usage_image_call *c)
{
	buf rows;
	buf_init(&rows, u->a, 512);
	buf_putc(&rows, '[');
	if (c) {
		struct timespec ts;
		struct tm tm;
		char when[32], cost[COST_TEXT_MAX];
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		buf_puts(&rows, "{\"provider\":\"openai\",\"model\":");
		buf_json_str(&rows, u->cfg->llm_images_model);
		buf_puts(&rows, ",\"content_type\":");
		buf_json_str(&rows, c->content_type);
		buf_puts(&rows, ",\"platform\":");
		buf_json_str(&rows, c->platform);
		buf_printf(&rows, ",\"purpose\":\"image\",\"prompt_tokens\":0,\"completion_tokens\":0,"
			   "\"latency_ms\":%ld,\"http_status\":", c->latency_ms);
		if (c->http_status)
			buf_printf(&rows, "%ld", c->http_status);
		else
			buf_puts(&rows, "null");
		buf_printf(&rows, ",\"outcome\":\"%s\",\"created_at\":\"%s.%06ldZ\",\"currency\":\"%s\",\"cost\":%s}",
			   c->outcome, when, (long)(ts.tv_nsec / 1000), u->cfg->llm_currency, image_cost(u->cfg, cost));
	}
	buf_putc(&rows, ']');
	if (c) {
		long long per_image = u->cfg->llm_images_model_price ? u->cfg->llm_images_model_price->per_image : 0;
		metrics_llm(u->cfg->llm_images_model, c->outcome, 0, 0, (uint64_t)per_image * 1000000u, c->latency_ms);
	}
	int rc = usage_insert(u, buf_cstr(&rows), arena_printf(u->a, "{%lld}", reservation));
	if (rc < 0)
		u->failures++; /* the reservation expires on its own; the caller reports the failure */
	return rc;
}
