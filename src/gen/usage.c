/*
 * usage.c - llm_usage rows and the daily limit.
 */
#include "usage.h"

#include <errno.h>
#include <stdlib.h>

int usage_record(db *d, arena *a, const struct config *cfg, const char *user_id, const char *campaign_id,
		 const char *job_id, struct gen_task *tasks, size_t n)
{
	buf b;
	buf_init(&b, a, 512);
	gen_usage_json(cfg, tasks, n, &b);
	const char *p[] = { user_id, campaign_id, job_id, buf_cstr(&b) };
	PGresult *res;
	return db_exec(d, a, STMT_LLM_USAGE_INSERT, p, &res);
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
