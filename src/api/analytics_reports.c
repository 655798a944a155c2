/*
 * analytics_reports.c - reports out: GET /api/campaigns/:id/analytics and
 * GET /api/analytics/overview.
 *
 * Both read the rollups (analytics_hourly, analytics_daily), never raw
 * events; PostgreSQL builds the whole answer (analytics_campaign_report,
 * analytics_overview) with the figures of analytics_metrics(). Here: the
 * query string. from and to are calendar days in tz (both included; default:
 * the last 30 days up to today), at most REPORT_MAX_DAYS of them for daily
 * points and REPORT_MAX_HOUR_DAYS for hourly ones. tz is an IANA zone name
 * PostgreSQL knows: the names are read once per process (pg_timezone_names)
 * and looked up with bsearch; day buckets in another zone than UTC are
 * summed from hourly rollups.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "query.h"

#define REPORT_MAX_DAYS 366
#define REPORT_MAX_HOUR_DAYS 31
#define REPORT_DEFAULT_DAYS 30

static const char *const intervals[] = { "hour", "day", NULL };
static const char *const group_bys[] = { "content", "platform", "variant", NULL };

/* ---- time zones: the names PostgreSQL knows, read once per process ---- */

static struct {
	arena *arena;
	const char **names;
	size_t n;
} zones;

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when PostgreSQL knows zone, 0 when not, -1 having answered (the names could not be read). */
static int zone_known_or_fail(request *r, const char *zone)
{
	if (strcmp(zone, "UTC") == 0)
		return 1;
	if (!zones.names) {
		PGresult *res = req_exec_or_fail(r, STMT_TIMEZONE_NAMES, NULL);
		if (!res)
			return -1;
		size_t n = (size_t)PQntuples(res);
		arena *a = arena_new(16384);
		const char **names = arena_alloc(a, (n ? n : 1) * sizeof(*names));
		for (size_t i = 0; i < n; i++)
			names[i] = arena_strdup(a, PQgetvalue(res, (int)i, 0));
		qsort(names, n, sizeof(*names), name_cmp); /* the server's collation may sort otherwise */
		zones.arena = a;
		zones.n = n;
		zones.names = names;
	}
	return bsearch(&zone, zones.names, zones.n, sizeof(*zones.names), name_cmp) != NULL;
}

/* ---- from, to ---- */

/* A YYYY-MM-DD calendar day as days since the epoch; -EINVAL for anything else. */
static int day_parse(const char *s, long *ret)
{
	if (!is_date(s))
		return -EINVAL;
	struct tm tm = { 0 };
	if (sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ret = (long)(timegm(&tm) / 86400);
	return 0;
}

static const char *day_format(arena *a, long day)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	return arena_printf(a, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/*
 * from and to (either may be absent: to defaults to today in UTC - the
 * statement takes the days as dates in tz -, from to REPORT_DEFAULT_DAYS
 * days before to), checked for order and span. Answers 400 and returns
 * -EINVAL on a bad value.
 */
static int range_or_fail(request *r, const char *from_s, const char *to_s, long max_days, const char **from,
			 const char **to)
{
	long f, t = (long)(time(NULL) / 86400);
	if (to_s && day_parse(to_s, &t) < 0) {
		req_problem(r, 400, "to must be a date (YYYY-MM-DD)");
		return -EINVAL;
	}
	f = t - (REPORT_DEFAULT_DAYS - 1 < max_days ? REPORT_DEFAULT_DAYS - 1 : max_days - 1);
	if (from_s && day_parse(from_s, &f) < 0) {
		req_problem(r, 400, "from must be a date (YYYY-MM-DD)");
		return -EINVAL;
	}
	if (f > t) {
		req_problem(r, 400, "from must not be after to");
		return -EINVAL;
	}
	if (t - f + 1 > max_days) {
		req_problem(r, 400, "from..to spans %ld days; at most %ld for this interval", t - f + 1, max_days);
		return -EINVAL;
	}
	*from = day_format(r->arena, f);
	*to = day_format(r->arena, t);
	return 0;
}

/* query_parse_or_fail() takes limit and cursor for every list; reports are no lists. */
static const char not_paged[] = "reports are not paginated (no limit or cursor)";

void campaign_analytics_get(request *r)
{
	static const struct qparam params[] = {
		{ "from", V_DATE, 0, 0, NULL },
		{ "to", V_DATE, 0, 0, NULL },
		{ "interval", V_ENUM, 0, 0, intervals },
		{ "groupBy", V_ENUM, 0, 0, group_bys },
		{ "tz", V_STRING, 1, 64, NULL },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_params_or_fail(r, params, &lp, not_paged) < 0)
		return;
	const char *interval = lp.values[2] ? lp.values[2] : "day", *tz = lp.values[4] ? lp.values[4] : "UTC";
	int known = zone_known_or_fail(r, tz);
	if (known < 0)
		return;
	if (!known) {
		req_problem(r, 400, "tz must be an IANA time zone name such as Europe/Paris or America/New_York");
		return;
	}
	const char *from, *to;
	long max = strcmp(interval, "hour") == 0 ? REPORT_MAX_HOUR_DAYS : REPORT_MAX_DAYS;
	if (range_or_fail(r, lp.values[0], lp.values[1], max, &from, &to) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], from, to, interval, lp.values[3], tz };
	PGresult *res = req_exec_or_fail(r, STMT_ANALYTICS_CAMPAIGN_REPORT, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_not_found(r, "campaign");
		return;
	}
	req_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void analytics_overview_get(request *r)
{
	static const struct qparam params[] = {
		{ "from", V_DATE, 0, 0, NULL },
		{ "to", V_DATE, 0, 0, NULL },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_params_or_fail(r, params, &lp, not_paged) < 0)
		return;
	const char *from, *to;
	if (range_or_fail(r, lp.values[0], lp.values[1], REPORT_MAX_DAYS, &from, &to) < 0)
		return;
	const char *p[] = { r->user_id, from, to };
	PGresult *res = req_exec_or_fail(r, STMT_ANALYTICS_OVERVIEW, p);
	if (res)
		req_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}
