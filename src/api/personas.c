/*
 * personas.c - CRUD for personas, the audiences campaigns are written for.
 *
 * Validation happens here from one field table; the validated body goes to
 * PostgreSQL as jsonb and comes back as the API's JSON (persona_json), so
 * this file holds no column lists.
 */
#include <string.h>

#include "handlers.h"
#include "platforms.h"
#include "query.h"
#include "schemas.h"

static const struct vfield persona_fields[] = {
	VSTR("name", V_REQUIRED, 1, 200),
	VSTR("description", V_NULLABLE, 0, 5000),
	VSTR("ageRange", V_NULLABLE, 0, 50),
	VSTR("gender", V_NULLABLE, 0, 50),
	VSTR("location", V_NULLABLE, 0, 200),
	VSTR("occupation", V_NULLABLE, 0, 200),
	VSTRS("interests", V_UNIQUE, 0, 50, 200),
	VSTRS("painPoints", V_UNIQUE, 0, 50, 200),
	VSTRS("goals", V_UNIQUE, 0, 50, 200),
	VENUMS("preferredChannels", V_UNIQUE, 0, N_PLATFORMS, platform_names),
	VEND,
};

const struct body_schema persona_body_schemas[] = {
	{ "POST /api/personas", persona_fields, false },
	{ "PUT /api/personas/:id", persona_fields, false },
	{ "PATCH /api/personas/:id", persona_fields, true },
	{ .route = NULL },
};

static void send_row_or_404(request *r, PGresult *res, int status)
{
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "persona");
	else
		req_send_json(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void persona_create(request *r)
{
	if (req_validate_or_fail(r, persona_fields) < 0)
		return;
	const char *p[] = { r->user_id, r->body_text };
	send_row_or_404(r, req_exec_or_fail(r, STMT_PERSONA_INSERT, p), 201);
}

void persona_list(request *r)
{
	static const struct qparam none[] = { { .name = NULL } };
	struct list_params lp;
	if (query_parse_or_fail(r, none, &lp) < 0)
		return;
	const char *p[] = { r->user_id, lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_PERSONA_LIST, p);
	if (res)
		list_send(r, res, atol(lp.limit));
}

void persona_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	send_row_or_404(r, req_exec_or_fail(r, STMT_PERSONA_GET, p), 200);
}

static void update(request *r, bool replace)
{
	if ((replace ? req_validate_or_fail : req_validate_partial_or_fail)(r, persona_fields) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], r->body_text, replace ? "true" : "false" };
	send_row_or_404(r, req_exec_or_fail(r, STMT_PERSONA_UPDATE, p), 200);
}

void persona_put(request *r)
{
	update(r, true);
}

void persona_patch(request *r)
{
	update(r, false);
}

void persona_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res;
	int rc = db_exec(r->app->db, r->arena, STMT_PERSONA_DELETE, p, &res);
	if (rc < 0 && strcmp(db_sqlstate(r->app->db), "23503") == 0)
		req_problem(r, 409, "the persona is used by at least one campaign; change or delete those first");
	else if (rc < 0)
		req_db_fail(r, rc);
	else if (strcmp(PQcmdTuples(res), "0") == 0)
		req_not_found(r, "persona");
	else
		req_send_empty(r, 204);
}
