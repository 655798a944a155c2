/*
 * prometheus.c - GET /api/metrics: this host's counters in Prometheus's text
 * exposition format (docs/operations.md#metrics).
 *
 * What it prints: the API's shared region (every child's requests, database
 * errors, LLM calls, uploads...; metrics.h), the worker's region mapped
 * read-only from worker_metrics_file (job outcomes, emails, exports...), and
 * the job queues' depth and oldest wait read from PostgreSQL now.
 *
 * Who may read it: a request nginx received from a loopback address
 * (REMOTE_ADDR), or one bearing the operator token of metrics_token_file
 * (compared in constant time). Anyone else gets the same 404 as a path that
 * does not exist, so the route is not revealed.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "handlers.h"
#include "metrics.h"

/* Whether addr (REMOTE_ADDR as nginx passes it) is a loopback address. */
static bool is_loopback(const char *addr)
{
	static const char *const prefixes[] = { "127.", "::ffff:127." };
	if (!addr)
		return false;
	if (strcmp(addr, "::1") == 0)
		return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(addr, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* Whether the request bears metrics_token_file's token; false when none is configured. */
static bool has_operator_token(request *r)
{
	const struct config *cfg = r->app->cfg;
	const char *token = req_bearer(r);
	if (!cfg->metrics_token || !token || strlen(token) != cfg->metrics_token_len)
		return false;
	return CRYPTO_memcmp(token, cfg->metrics_token, cfg->metrics_token_len) == 0;
}

/* The route table's methods and patterns, in route index order (metrics.h). */
static const struct metrics_route_name *route_names(int *ret_n)
{
	static struct metrics_route_name names[METRICS_ROUTES];
	static int n = -1;
	if (n < 0) {
		for (n = 0; n < METRICS_ROUTES - 1 && api_routes[n].method; n++)
			names[n] = (struct metrics_route_name){ api_routes[n].method, api_routes[n].pattern };
	}
	*ret_n = n;
	return names;
}

/* The queue gauges, and whether the database answered them. */
static void print_queues(request *r, buf *out)
{
	PGresult *res;
	bool up = db_exec(r->app->db, r->arena, STMT_METRICS_QUEUES, NULL, &res) == 0;
	buf_puts(out, "# HELP adcraft_database_up Whether PostgreSQL answered this scrape's queue query.\n"
		      "# TYPE adcraft_database_up gauge\n");
	buf_printf(out, "adcraft_database_up %d\n", up ? 1 : 0);
	if (!up)
		return;
	static const struct {
		int col;
		const char *state;
	} states[] = { { 1, "due" }, { 2, "scheduled" }, { 3, "running" } };
	buf_puts(out, "# HELP adcraft_queue_jobs Jobs waiting (due: may run now; scheduled: run_at is later) or "
		      "running, per queue.\n# TYPE adcraft_queue_jobs gauge\n");
	for (int i = 0; i < PQntuples(res); i++)
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++)
			buf_printf(out, "adcraft_queue_jobs{queue=\"%s\",state=\"%s\"} %s\n", PQgetvalue(res, i, 0),
				   states[s].state, PQgetvalue(res, i, states[s].col));
	buf_puts(out, "# HELP adcraft_queue_oldest_due_seconds How long the job due longest has waited past its "
		      "run_at, per queue (0: none waits).\n# TYPE adcraft_queue_oldest_due_seconds gauge\n");
	for (int i = 0; i < PQntuples(res); i++)
		buf_printf(out, "adcraft_queue_oldest_due_seconds{queue=\"%s\"} %s\n", PQgetvalue(res, i, 0),
			   PQgetvalue(res, i, 4));
}

void metrics_get(request *r)
{
	if (!is_loopback(req_param(r, "REMOTE_ADDR")) && !has_operator_token(r)) {
		req_problem(r, 404, "no such resource");
		return;
	}
	struct metrics_source src[2];
	size_t n = 0;
	if (metrics_here)
		src[n++] = (struct metrics_source){ metrics_here, "api" };
	const struct metrics_region *worker = NULL;
	const char *path = r->app->cfg->worker_metrics_file;
	if (*path && metrics_open_file(path, &worker) == 0)
		src[n++] = (struct metrics_source){ worker, "worker" };

	int nroutes;
	const struct metrics_route_name *routes = route_names(&nroutes);
	buf out;
	buf_init(&out, r->arena, 65536);
	metrics_format(&out, src, n, routes, nroutes);
	metrics_unmap(worker);
	buf_puts(&out, "# HELP adcraft_worker_metrics_available Whether worker_metrics_file could be read "
		       "(0: the worker is not running on this host, or cannot write it).\n"
		       "# TYPE adcraft_worker_metrics_available gauge\n");
	buf_printf(&out, "adcraft_worker_metrics_available %d\n", worker ? 1 : 0);
	print_queues(r, &out);
	req_send_typed(r, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
}
