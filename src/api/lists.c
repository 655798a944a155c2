/*
 * lists.c - lists of contacts (issue #11): CRUD with a member count, and
 * adding and removing members.
 *
 * Members are the caller's contacts only: an add names every id that is not
 * one (422) and then adds nothing; adding a member twice is not an error (it
 * counts in `added` once). Both ends of a membership have the same owner by
 * foreign key (sql/0012_contacts.sql).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "handlers.h"
#include "json.h"
#include "query.h"
#include "schemas.h"

#define MEMBERS_PER_CALL 1000

static const struct vfield list_fields[] = {
	VSTR("name", V_REQUIRED, 1, 200),
	VSTR("description", V_NULLABLE, 0, 2000),
	VEND,
};

static const struct vfield members_fields[] = {
	VSTRS("contactIds", V_REQUIRED, 1, MEMBERS_PER_CALL, 36),
	VEND,
};

const struct body_schema list_body_schemas[] = {
	{ "POST /api/lists", list_fields, false },
	{ "PATCH /api/lists/:id", list_fields, true },
	{ "POST /api/lists/:id/members", members_fields, false },
	{ .route = NULL },
};

static void send_row_or_404(request *r, PGresult *res, int status)
{
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "list");
	else
		req_send_json(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void list_create(request *r)
{
	if (req_validate_or_fail(r, list_fields) < 0)
		return;
	const char *p[] = { r->user_id, r->body_text };
	send_row_or_404(r, req_exec_or_fail(r, STMT_LIST_INSERT, p), 201);
}

void list_list(request *r)
{
	static const struct qparam none[] = { { .name = NULL } };
	struct list_params lp;
	if (query_parse_or_fail(r, none, &lp) < 0)
		return;
	const char *p[] = { r->user_id, lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_LIST_LIST, p);
	if (res)
		list_send(r, res, atol(lp.limit));
}

void list_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	send_row_or_404(r, req_exec_or_fail(r, STMT_LIST_GET, p), 200);
}

void list_patch(request *r)
{
	if (req_validate_partial_or_fail(r, list_fields) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], r->body_text };
	send_row_or_404(r, req_exec_or_fail(r, STMT_LIST_UPDATE, p), 200);
}

void list_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res = req_exec_or_fail(r, STMT_LIST_DELETE, p);
	if (!res)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0)
		req_not_found(r, "list");
	else
		req_send_empty(r, 204);
}

/* The validated contactIds as a PostgreSQL uuid[] literal; NULL having answered 422 for ids that are not UUIDs. */
static const char *contact_ids_or_fail(request *r, json_object *ids)
{
	struct verrors errs;
	verrors_init(&errs, r->arena);
	buf b;
	buf_init(&b, r->arena, json_object_array_length(ids) * 38 + 2);
	buf_putc(&b, '{');
	for (size_t i = 0; i < json_object_array_length(ids); i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
		if (!is_uuid(id))
			verrors_add(&errs, arena_printf(r->arena, "contactIds[%zu]", i), "must be a UUID");
		buf_printf(&b, "%s%s", i ? "," : "", id);
	}
	buf_putc(&b, '}');
	return req_errors_or_fail(r, &errs) < 0 ? NULL : buf_cstr(&b);
}

/* 422 naming every contactIds[i] that is in missing (a JSON array of ids PostgreSQL printed). */
static void not_contacts(request *r, json_object *ids, json_object *missing)
{
	struct verrors errs;
	verrors_init(&errs, r->arena);
	for (size_t i = 0; i < json_object_array_length(ids); i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
		for (size_t k = 0; k < json_object_array_length(missing); k++)
			if (strcasecmp(id, json_object_get_string(json_object_array_get_idx(missing, k))) == 0) {
				verrors_add(&errs, arena_printf(r->arena, "contactIds[%zu]", i), "no such contact");
				break;
			}
	}
	req_problem_fields_detail(r, "some ids are not your contacts; nothing was added", &errs);
}

void list_members_add(request *r)
{
	if (req_validate_or_fail(r, members_fields) < 0)
		return;
	json_object *ids = json_object_object_get(r->body, "contactIds");
	const char *literal = contact_ids_or_fail(r, ids);
	if (!literal)
		return;
	const char *p[] = { r->user_id, r->params[0], literal };
	PGresult *res = req_exec_or_fail(r, STMT_LIST_MEMBERS_ADD, p);
	if (!res)
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		req_not_found(r, "list");
		return;
	}
	json_object *missing = req_json_value_or_fail(r, res, 0, 2);
	if (!missing)
		return;
	if (json_object_array_length(missing) > 0) {
		not_contacts(r, ids, missing);
		return;
	}
	buf b;
	buf_init(&b, r->arena, 32);
	buf_printf(&b, "{\"added\":%s}", PQgetvalue(res, 0, 1));
	req_send_buf(r, 200, &b);
}

void list_member_remove(request *r)
{
	const char *p[] = { r->user_id, r->params[0], r->params[1] };
	PGresult *res = req_exec_or_fail(r, STMT_LIST_MEMBER_REMOVE, p);
	if (!res)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0)
		req_not_found(r, "list member");
	else
		req_send_empty(r, 204);
}
