/*
 * usage.c - GET /api/usage: the caller's generation calls, tokens and cost
 * over a range of UTC days, grouped by day, model or campaign.
 *
 * from and to are ISO dates (YYYY-MM-DD, both included, UTC); they default to
 * the first day of the current month and today. The range may span at most
 * USAGE_MAX_DAYS days. PostgreSQL builds the whole answer (usage_report).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "query.h"

#define USAGE_MAX_DAYS 366

static const char *const group_names[] = { "day", "model", "campaign", NULL };

/* Parses a YYYY-MM-DD calendar date into midnight UTC; -EINVAL for anything else (2026-02-30 too). */
static int date_parse(const char *s, time_t *ret)
{
	int y, m, d, n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || s[4] != '-' ||
	    s[7] != '-' || strspn(s, "0123456789-") != 10 || y < 1970 || y > 9999)
		return -EINVAL;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	time_t t = timegm(&tm);
	if (tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d) /* timegm normalised it */
		return -EINVAL;
	*ret = t;
	return 0;
}

static const char *date_format(arena *a, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	return arena_printf(a, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* query_parse_or_fail() takes limit and cursor for every list; this answer is no list. */
void usage_get(request *r)
{
	static const struct qparam params[] = {
		{ "from", V_DATE, 0, 0, NULL },
		{ "to", V_DATE, 0, 0, NULL },
		{ "groupBy", V_ENUM, 0, 0, group_names },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_params_or_fail(r, params, &lp,
				 "GET /api/usage takes from, to and groupBy; it is not paginated (no limit or cursor)") < 0)
		return;
	time_t now = time(NULL), from, to = now - now % 86400;
	if (lp.values[1] && date_parse(lp.values[1], &to) < 0) {
		req_problem(r, 400, "to must be an ISO date (YYYY-MM-DD)");
		return;
	}
	struct tm first;
	gmtime_r(&to, &first);
	first.tm_mday = 1;
	from = timegm(&first);
	if (lp.values[0] && date_parse(lp.values[0], &from) < 0) {
		req_problem(r, 400, "from must be an ISO date (YYYY-MM-DD)");
		return;
	}
	if (from > to) {
		req_problem(r, 400, "from must not be after to");
		return;
	}
	if ((to - from) / 86400 + 1 > USAGE_MAX_DAYS) {
		req_problem(r, 400, "from..to spans more than %d days", USAGE_MAX_DAYS);
		return;
	}
	const char *p[] = { r->user_id, date_format(r->arena, from), date_format(r->arena, to),
			    lp.values[2] ? lp.values[2] : "day", r->app->cfg->llm_currency };
	PGresult *res = req_exec_or_fail(r, STMT_USAGE_REPORT, p);
	if (!res)
		return;
	req_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}
