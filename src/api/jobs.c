/*
 * jobs.c - the jobs API: health, queue status, one job, recent jobs, cancel,
 * and the two generation entry points that queue work for a campaign.
 *
 * Generation requests flip the campaign to "generating" and insert the job
 * in one statement; a trigger flips it back when the job ends, whoever ends
 * it (worker, cancel, rescue).
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "platforms.h"
#include "query.h"
#include "schemas.h"

static const char *const queue_names[] = { "content-generation", "email-sending", "analytics-processing",
					   "data-exports", NULL };

static bool known_queue(const char *q)
{
	for (const char *const *n = queue_names; *n; n++)
		if (strcmp(*n, q) == 0)
			return true;
	return false;
}

/* Path :queue/:jobId must name a queue and a UUID, else the job does not exist. */
static bool job_path_or_fail(request *r)
{
	if (known_queue(r->params[0]) && is_uuid(r->params[1]))
		return true;
	req_not_found(r, "job");
	return false;
}

/* Whether the caller is an operator, from the database on every call (a token says nothing about it).
 * -1 after answering a database failure. */
static int operator_or_fail(request *r)
{
	const char *p[] = { r->user_id };
	PGresult *res = req_exec_or_fail(r, STMT_USER_IS_OPERATOR, p);
	if (!res)
		return -1;
	return strcmp(PQgetvalue(res, 0, 0), "t") == 0;
}

/* Operators see the workers (ids, hosts, pids) and every tenant's counts; everyone else sees
 * whether a worker is alive and their own counts. */
void jobs_health(request *r)
{
	int op = operator_or_fail(r);
	if (op < 0)
		return;
	char stale[16];
	snprintf(stale, sizeof(stale), "%ld", r->app->cfg->job_stale_seconds);
	const char *p[] = { stale };
	const char *own[] = { r->user_id };
	PGresult *workers, *queues;
	if (db_exec(r->app->db, r->arena, STMT_JOB_WORKERS, p, &workers) < 0 ||
	    db_exec(r->app->db, r->arena, op ? STMT_JOB_QUEUE_MAP : STMT_JOB_QUEUE_MAP_OWN, op ? NULL : own,
		    &queues) < 0) {
		static const char down[] =
			"{\"status\":\"unavailable\",\"database\":\"unavailable\",\"queues\":{}}";
		req_add_header(r, "Retry-After: 1");
		req_send_json(r, 503, down, sizeof(down) - 1);
		return;
	}
	bool alive = strcmp(PQgetvalue(workers, 0, 1), "t") == 0;
	buf b;
	buf_init(&b, r->arena, 1024);
	buf_printf(&b, "{\"status\":\"%s\",\"database\":\"ok\",\"scope\":\"%s\"", alive ? "ok" : "degraded",
		   op ? "system" : "own");
	if (op)
		buf_printf(&b, ",\"workers\":%s", PQgetvalue(workers, 0, 0));
	buf_printf(&b, ",\"queues\":%s}", PQgetvalue(queues, 0, 0));
	req_send_buf(r, 200, &b);
}

void jobs_queue_status(request *r)
{
	int op = operator_or_fail(r);
	if (op < 0)
		return;
	const char *own[] = { r->user_id };
	PGresult *res = req_exec_or_fail(r, op ? STMT_JOB_QUEUE_STATUS : STMT_JOB_QUEUE_STATUS_OWN, op ? NULL : own);
	if (!res)
		return;
	buf b;
	buf_init(&b, r->arena, 1024);
	buf_printf(&b, "{\"scope\":\"%s\",\"queues\":%s}", op ? "system" : "own", PQgetvalue(res, 0, 0));
	req_send_buf(r, 200, &b);
}

void jobs_get(request *r)
{
	if (!job_path_or_fail(r))
		return;
	const char *p[] = { r->user_id, r->params[0], r->params[1] };
	PGresult *res = req_exec_or_fail(r, STMT_JOB_GET, p);
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "job");
	else
		req_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void jobs_recent(request *r)
{
	static const struct qparam none[] = { { .name = NULL } };
	struct list_params lp;
	if (query_parse_or_fail(r, none, &lp) < 0)
		return;
	const char *p[] = { r->user_id, lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_JOB_RECENT, p);
	if (res)
		list_send(r, res, atol(lp.limit));
}

void jobs_cancel(request *r)
{
	if (!job_path_or_fail(r))
		return;
	const char *p[] = { r->user_id, r->params[0], r->params[1] };
	PGresult *res = req_exec_or_fail(r, STMT_JOB_CANCEL, p);
	if (!res)
		return;
	if (PQntuples(res) == 1) {
		buf b;
		buf_init(&b, r->arena, (size_t)PQgetlength(res, 0, 0) + 16);
		buf_printf(&b, "{\"job\":%s}", PQgetvalue(res, 0, 0));
		req_send_buf(r, 200, &b);
		return;
	}
	res = req_exec_or_fail(r, STMT_JOB_STATE, p);
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "job");
	else
		req_problem(r, 409, "the job already ended (%s)", PQgetvalue(res, 0, 0));
}

static const struct vfield generate_fields[] = {
	VENUMS("contentTypes", V_UNIQUE, 1, N_CONTENT_TYPES, content_type_names),
	VENUMS("platforms", V_UNIQUE, 1, N_PLATFORMS, platform_names),
	VINT("variations", 0, 1, 5),
	VBOOL("includeVisuals", 0),
	VSTR("idempotencyKey", 0, 1, 200),
	VEND,
};

static const struct vfield generate_single_fields[] = {
	VENUM("contentType", V_REQUIRED, content_type_names),
	VENUM("platform", V_REQUIRED, platform_names),
	VBOOL("includeVisuals", 0),
	VSTR("idempotencyKey", 0, 1, 200),
	VEND,
};

const struct body_schema job_body_schemas[] = {
	{ "POST /api/jobs/campaigns/:id/generate", generate_fields, false },
	{ "POST /api/jobs/campaigns/:id/generate-single", generate_single_fields, false },
	{ .route = NULL },
};

/*
 * The request's idempotency key: the body's idempotencyKey, or the
 * Idempotency-Key header (1-200 printable ASCII characters, bare or as the
 * quoted string of draft-ietf-httpapi-idempotency-key-header). NULL for
 * none; -1 (with the error added) for a bad header or one the body
 * contradicts.
 */
static int idempotency_key(request *r, struct verrors *errs, const char **ret)
{
	const char *body = r->body ? vget_str(r->body, "idempotencyKey") : NULL;
	const char *h = req_param(r, "HTTP_IDEMPOTENCY_KEY");
	*ret = body;
	if (!h)
		return 0;
	size_t n = strlen(h);
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h = arena_strndup(r->arena, h + 1, n - 2);
		n -= 2;
	}
	bool printable = n >= 1 && n <= 200;
	for (size_t i = 0; i < n && printable; i++)
		printable = h[i] >= 0x20 && h[i] < 0x7F && h[i] != '"' && h[i] != '\\';
	if (!printable)
		verrors_add(errs, "Idempotency-Key", "must be 1 to 200 printable ASCII characters");
	else if (body && strcmp(body, h) != 0)
		verrors_add(errs, "Idempotency-Key", "differs from the body's idempotencyKey");
	else
		*ret = h;
	return errs->count ? -1 : 0;
}

/* Queues kind for the campaign with the (validated) body as payload; answers 202, 200, 404, 409 or 422. */
static void enqueue_generation(request *r, const char *kind)
{
	struct verrors errs;
	verrors_init(&errs, r->arena);
	const char *key;
	if (idempotency_key(r, &errs, &key) < 0) {
		req_errors_or_fail(r, &errs);
		return;
	}
	const char *payload = r->body_text ? r->body_text : "{}";
	const char *p[] = { r->user_id, r->params[0], kind, payload, key };
	PGresult *res = req_exec_or_fail(r, STMT_JOB_ENQUEUE_GENERATION, p);
	if (!res)
		return;
	if (PQntuples(res) == 1) {
		bool created = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		if (!created && strcmp(PQgetvalue(res, 0, 3), "t") != 0) {
			verrors_add(&errs, "idempotencyKey", "was used for another request (job %s)", PQgetvalue(res, 0, 1));
			req_errors_or_fail(r, &errs);
			return;
		}
		buf b;
		buf_init(&b, r->arena, (size_t)PQgetlength(res, 0, 0) + 96);
		buf_printf(&b, "{\"job\":%s,\"eventsUrl\":\"/events/campaigns/%s\"}", PQgetvalue(res, 0, 0),
			   r->params[0]);
		req_add_header(r, "Location: /api/jobs/content-generation/%s", PQgetvalue(res, 0, 1));
		req_send_buf(r, created ? 202 : 200, &b); /* 200: the job this idempotency key already made */
		return;
	}
	const char *q[] = { r->user_id, r->params[0] };
	res = req_exec_or_fail(r, STMT_CAMPAIGN_STATUS, q);
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "campaign");
	else
		req_problem(r, 409, "the campaign is already generating content");
}

void jobs_generate(request *r)
{
	struct verrors errs;
	if (r->body) {
		req_validate_into(r, generate_fields, false, &errs);
		if (errs.count == 0 && !platform_lists_meet(r->body))
			verrors_add(&errs, "platforms", "none of these platforms takes any of the chosen content types");
		if (req_errors_or_fail(r, &errs) < 0)
			return;
	}
	enqueue_generation(r, "generate-campaign");
}

void jobs_generate_single(request *r)
{
	struct verrors errs;
	req_validate_into(r, generate_single_fields, false, &errs);
	const char *type = vget_str(r->body, "contentType"), *platform = vget_str(r->body, "platform");
	if (errs.count == 0 && !platform_accepts(type, platform))
		verrors_add(&errs, "platform", "%s content cannot be published on %s", type, platform);
	if (req_errors_or_fail(r, &errs) < 0)
		return;
	enqueue_generation(r, "generate-single");
}

void campaign_dashboard(request *r)
{
	const char *p[] = { r->user_id };
	PGresult *res = req_exec_or_fail(r, STMT_DASHBOARD, p);
	if (res)
		req_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}
