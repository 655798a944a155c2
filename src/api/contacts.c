/*
 * contacts.c - the people email goes to (issue #11): CRUD, the list with its
 * filters, and CSV imports.
 *
 * Built like personas.c: one field table validates the body, which goes to
 * PostgreSQL as jsonb and comes back as the API's JSON (contact_json). The
 * email is unique per owner ignoring case: the unique index answers 409. An
 * import is not done here: the CSV is staged in contact_imports and an
 * import-contacts job on the data-exports queue loads it
 * (src/worker/import_contacts.c); this file only checks that the upload is
 * UTF-8 text whose header names an email column.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "contact_csv.h"
#include "handlers.h"
#include "json.h"
#include "query.h"
#include "schemas.h"

static const char *const contact_statuses[] = { "subscribed", "unsubscribed", "bounced", "complained", NULL };

static const struct vfield contact_fields[] = {
	VEMAIL("email", V_REQUIRED),
	VSTR("firstName", V_NULLABLE, 0, 200),
	VSTR("lastName", V_NULLABLE, 0, 200),
	VATTRS("attributes", V_NULLABLE, 50, 1000),
	VENUM("status", 0, contact_statuses),
	VSTR("consentSource", V_NULLABLE, 0, 200),
	VTIMESTAMP("consentAt", V_NULLABLE),
	VEND,
};

const struct body_schema contact_body_schemas[] = {
	{ "POST /api/contacts", contact_fields, false },
	{ "PATCH /api/contacts/:id", contact_fields, true },
	{ .route = NULL },
};

static void send_row_or_404(request *r, PGresult *res, int status)
{
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "contact");
	else
		req_send_json(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void contact_create(request *r)
{
	if (req_validate_or_fail(r, contact_fields) < 0)
		return;
	const char *p[] = { r->user_id, r->body_text };
	send_row_or_404(r, req_exec_or_fail(r, STMT_CONTACT_INSERT, p), 201);
}

void contact_list(request *r)
{
	static const struct qparam params[] = {
		{ "status", V_ENUM, 0, 0, contact_statuses },
		{ "listId", V_UUID, 0, 0, NULL },
		{ "q", V_STRING, 1, 200, NULL },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0)
		return;
	const char *p[] = { r->user_id, lp.values[0], lp.values[1], lp.values[2], lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_CONTACT_LIST, p);
	if (res)
		list_send(r, res, atol(lp.limit));
}

void contact_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	send_row_or_404(r, req_exec_or_fail(r, STMT_CONTACT_GET, p), 200);
}

void contact_patch(request *r)
{
	if (req_validate_partial_or_fail(r, contact_fields) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], r->body_text };
	send_row_or_404(r, req_exec_or_fail(r, STMT_CONTACT_UPDATE, p), 200);
}

void contact_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res = req_exec_or_fail(r, STMT_CONTACT_DELETE, p);
	if (!res)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0)
		req_not_found(r, "contact");
	else
		req_send_empty(r, 204);
}

/* ---- POST /api/contacts/import[?listId=] ---- */

/*
 * Checks what can be checked at once, so a hopeless upload never becomes a
 * job: UTF-8 text without NUL bytes, and a well-formed header that names an
 * email column (contact_csv_header). Line-level problems are the job's to
 * report. Answers 422.
 */
static int csv_upload_ok_or_fail(request *r)
{
	if (!utf8_valid(r->body_text, r->body_len)) {
		req_problem(r, 422, "the CSV must be UTF-8 text without NUL bytes");
		return -EINVAL;
	}
	struct csv_reader c;
	struct csv_record rec;
	struct contact_csv_header header;
	const char *why;
	csv_init(&c, r->arena, r->body_text, r->body_len, CONTACT_CSV_MAX_RECORD, CONTACT_CSV_MAX_FIELDS);
	int rc = csv_next(&c, &rec);
	if (rc == 0) {
		req_problem(r, 422, "the CSV is empty: its first line must name the columns, one of them email");
		return -EINVAL;
	}
	if (rc < 0) {
		req_problem(r, 422, "the CSV header line is malformed: %s", c.error);
		return -EINVAL;
	}
	if (contact_csv_header(r->arena, &rec, &header, &why) < 0) {
		req_problem(r, 422, "%s", why);
		return -EINVAL;
	}
	return 0;
}

void contact_import(request *r)
{
	static const struct qparam params[] = {
		{ "listId", V_UUID, 0, 0, NULL },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0 || csv_upload_ok_or_fail(r) < 0)
		return;
	const char *p[] = { r->user_id, lp.values[0], r->body_text };
	PGresult *res = req_exec_or_fail(r, STMT_CONTACT_IMPORT_ENQUEUE, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_not_found(r, "list");
		return;
	}
	buf b;
	buf_init(&b, r->arena, (size_t)PQgetlength(res, 0, 0) + 16);
	buf_printf(&b, "{\"job\":%s}", PQgetvalue(res, 0, 0));
	req_add_header(r, "Location: /api/jobs/data-exports/%s", PQgetvalue(res, 0, 1));
	req_send_buf(r, 202, &b);
}
