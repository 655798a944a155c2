/*
 * health.c - GET /api/health: the process answers, and the database does too.
 */
#include <time.h>

#include "handlers.h"

void health_get(request *r)
{
	PGresult *res;
	bool db_ok = db_exec(r->app->db, r->arena, STMT_HEALTH, NULL, &res) == 0;
	buf b;
	buf_init(&b, r->arena, 160);
	buf_printf(&b, "{\"status\":\"%s\",\"version\":\"%s\",\"database\":\"%s\",\"uptimeSeconds\":%lld}",
		   db_ok ? "ok" : "unavailable", ADCRAFT_VERSION, db_ok ? "ok" : "unavailable",
		   (long long)(time(NULL) - r->app->started_at));
	req_send_buf(r, db_ok ? 200 : 503, &b);
}
