/*
 * request.c - response writing, problem+json, and the error mapping used by
 * every handler (errors are turned into HTTP exactly here, once).
 */
#include "request.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
	{ 302, "Found" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 409, "Conflict" }, { 410, "Gone" }, { 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" }, { 422, "Unprocessable Content" }, { 429, "Too Many Requests" },
	{ 500, "Internal Server Error" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
};

static const char *reason_phrase(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

/* Extra headers queued for the next response, kept on the arena. */
struct extra_header {
	const char *line;
	struct extra_header *next;
};

int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *req_param(request *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgi->envp);
}

void req_add_header(request *r, const char *fmt, ...)
{
	struct extra_header *h = arena_alloc(r->arena, sizeof(*h));
	va_list ap;
	va_start(ap, fmt);
	h->line = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	h->next = r->headers;
	r->headers = h;
}

/* Writes status line, headers and body with as few stream calls as possible. */
static void send_raw(request *r, int status, const char *type, const char *body, size_t len)
{
	if (r->status) /* already answered: a handler bug, never a second response */
		return;
	r->status = status;
	buf h;
	buf_init(&h, r->arena, 512);
	buf_printf(&h, "Status: %d %s\r\nX-Request-Id: %s\r\n", status, reason_phrase(status), r->request_id);
	if (type)
		buf_printf(&h, "Content-Type: %s\r\nContent-Length: %zu\r\n", type, len);
	for (struct extra_header *e = r->headers; e; e = e->next)
		buf_printf(&h, "%s\r\n", e->line);
	buf_putn(&h, "\r\n", 2);
	if (len)
		buf_putn(&h, body, len);
	FCGX_PutStr(h.data, (int)h.len, r->fcgi->out);
}

void req_send_json(request *r, int status, const char *json, size_t len)
{
	send_raw(r, status, "application/json", json, len);
}

void req_send_buf(request *r, int status, buf *body)
{
	send_raw(r, status, "application/json", body->data, body->len);
}

void req_send_typed(request *r, int status, const char *type, const char *body, size_t len)
{
	send_raw(r, status, type, body, len);
}

void req_send_empty(request *r, int status)
{
	send_raw(r, status, NULL, NULL, 0);
}

static void problem_begin(buf *b, int status, const char *detail)
{
	buf_printf(b, "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":", reason_phrase(status),
		   status);
	buf_json_str(b, detail);
}

void req_problem(request *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *detail = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	buf b;
	buf_init(&b, r->arena, 256);
	problem_begin(&b, status, detail);
	buf_putc(&b, '}');
	send_raw(r, status, "application/problem+json", b.data, b.len);
}

void req_problem_extra(request *r, int status, const char *members, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *detail = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	buf b;
	buf_init(&b, r->arena, 256);
	problem_begin(&b, status, detail);
	buf_puts(&b, members);
	buf_putc(&b, '}');
	send_raw(r, status, "application/problem+json", b.data, b.len);
}

void req_problem_fields(request *r, const struct verrors *errs)
{
	req_problem_fields_detail(r, errs->count == 1 ? "1 field is invalid"
						      : arena_printf(r->arena, "%d fields are invalid", errs->count), errs);
}

void req_problem_fields_detail(request *r, const char *detail, const struct verrors *errs)
{
	buf b;
	buf_init(&b, r->arena, 512);
	problem_begin(&b, 422, detail);
	buf_puts(&b, ",\"errors\":[");
	for (const struct verror *e = errs->head; e; e = e->next) {
		buf_puts(&b, "{\"field\":");
		buf_json_str(&b, e->field);
		buf_puts(&b, ",\"message\":");
		buf_json_str(&b, e->message);
		buf_puts(&b, e->next ? "}," : "}");
	}
	buf_puts(&b, "]");
	if (errs->count > VERRORS_LISTED)
		buf_printf(&b, ",\"errorsOmitted\":%d", errs->count - VERRORS_LISTED);
	buf_puts(&b, "}");
	send_raw(r, 422, "application/problem+json", b.data, b.len);
}

/* SQLSTATE classes that mean the client asked for something impossible. */
static const struct {
	const char *prefix;
	int status;
	const char *detail;
} sqlstate_map[] = {
	{ "23505", 409, "a conflicting record already exists" },
	{ "23503", 409, "the record is referenced by, or refers to, another record" },
	{ "23514", 422, "a value is outside its allowed range" },
	{ "23502", 422, "a required value is missing" },
	{ "22", 422, "a value has the wrong format or is out of range" },
	{ "40", 503, "the database was busy; retry the request" },
	{ "53", 503, "the database is out of resources; retry later" },
};

/* Named constraints that map to one field the client sent. */
static const struct {
	const char *constraint;
	int status;
	const char *field;
	const char *message;
} constraint_map[] = {
	{ "campaigns_dates_check", 422, "endDate", "must not be before startDate" },
	{ "campaigns_persona_fkey", 422, "personaId", "no such persona" },
	{ "campaigns_brand_profile_fkey", 422, "brandProfileId", "no such brand profile" },
	{ "sends_list_fkey", 422, "listId", "no such list" },
	{ "campaigns_content_check", 409, NULL, "the campaign already holds the maximum of 500 content items" },
	{ "campaigns_content_size_check", 409, NULL, "the campaign's content is at its limit of 4 MiB (4194304 bytes)" },
	{ "contacts_user_email_key", 409, NULL, "a contact with this email (ignoring case) already exists" },
};

void req_account_gone(request *r)
{
	req_add_header(r, "WWW-Authenticate: Bearer realm=\"adcraft\", error=\"invalid_token\"");
	req_problem(r, 401, "the account no longer exists");
}

int req_db_fail(request *r, int rc)
{
	db *d = r->app->db;
	if (rc == -ENOTCONN) {
		req_add_header(r, "Retry-After: 1");
		req_problem(r, 503, "the database is unavailable; retry shortly");
		return rc;
	}
	const char *state = db_sqlstate(d), *constraint = db_constraint(d);
	/* Every owner column's foreign key is <table>_user_id_fkey: the token's account was deleted. */
	size_t clen = strlen(constraint), slen = strlen("_user_id_fkey");
	if (clen > slen && strcmp(constraint + clen - slen, "_user_id_fkey") == 0) {
		req_account_gone(r);
		return rc;
	}
	for (size_t i = 0; i < sizeof(constraint_map) / sizeof(constraint_map[0]); i++) {
		if (strcmp(constraint, constraint_map[i].constraint) != 0)
			continue;
		if (!constraint_map[i].field) {
			req_problem(r, constraint_map[i].status, "%s", constraint_map[i].message);
		} else {
			struct verrors errs;
			verrors_init(&errs, r->arena);
			verrors_add(&errs, constraint_map[i].field, "%s", constraint_map[i].message);
			req_problem_fields(r, &errs);
		}
		return rc;
	}
	for (size_t i = 0; i < sizeof(sqlstate_map) / sizeof(sqlstate_map[0]); i++)
		if (strncmp(state, sqlstate_map[i].prefix, strlen(sqlstate_map[i].prefix)) == 0) {
			req_problem(r, sqlstate_map[i].status, "%s", sqlstate_map[i].detail);
			return rc;
		}
	buf b;
	buf_init(&b, r->arena, 512);
	log_begin(&b, LOG_ERROR);
	log_str(&b, "requestId", r->request_id);
	log_str(&b, "sqlstate", state);
	log_str(&b, "msg", db_error(d));
	log_end(&b);
	req_problem(r, 500, "internal error (request %s)", r->request_id);
	return rc;
}

json_object *req_json_value_or_fail(request *r, PGresult *res, int row, int col)
{
	json_object *v;
	if (json_parse_trusted(r->arena, PQgetvalue(res, row, col), &v) == 0)
		return v;
	buf b;
	buf_init(&b, r->arena, 256);
	log_begin(&b, LOG_ERROR);
	log_str(&b, "requestId", r->request_id);
	log_str(&b, "msg", "a JSON column from the database did not parse");
	log_end(&b);
	req_problem(r, 500, "internal error (request %s)", r->request_id);
	return NULL;
}

PGresult *req_exec_or_fail(request *r, enum stmt id, const char *const *params)
{
	PGresult *res;
	int rc = db_exec(r->app->db, r->arena, id, params, &res);
	if (rc < 0) {
		req_db_fail(r, rc);
		return NULL;
	}
	return res;
}

PGresult *req_exec_mapped(request *r, enum stmt id, const char *const *params, const struct sqlstate_problem *table,
			  size_t n)
{
	PGresult *res;
	int rc = db_exec(r->app->db, r->arena, id, params, &res);
	if (rc == 0)
		return res;
	const char *state = db_sqlstate(r->app->db);
	for (size_t i = 0; rc == -EIO && i < n; i++) {
		if (strcmp(state, table[i].sqlstate) != 0)
			continue;
		if (table[i].field) {
			struct verrors errs;
			verrors_init(&errs, r->arena);
			verrors_add(&errs, table[i].field, "%s", table[i].message);
			req_problem_fields(r, &errs);
		} else {
			req_problem(r, table[i].status, "%s", table[i].message);
		}
		return NULL;
	}
	req_db_fail(r, rc);
	return NULL;
}

int req_validate_into(request *r, const struct vfield *fields, bool partial, struct verrors *errs)
{
	verrors_init(errs, r->arena);
	return (partial ? validate_body_partial : validate_body)(r->body, fields, errs);
}

int req_errors_or_fail(request *r, const struct verrors *errs)
{
	if (errs->count == 0)
		return 0;
	req_problem_fields(r, errs);
	return -EINVAL;
}

static int validate_or_fail(request *r, const struct vfield *fields, bool partial)
{
	struct verrors errs;
	req_validate_into(r, fields, partial, &errs);
	return req_errors_or_fail(r, &errs);
}

int req_validate_or_fail(request *r, const struct vfield *fields)
{
	return validate_or_fail(r, fields, false);
}

int req_validate_partial_or_fail(request *r, const struct vfield *fields)
{
	return validate_or_fail(r, fields, true);
}

void *req_not_found(request *r, const char *what)
{
	req_problem(r, 404, "no such %s", what);
	return NULL;
}

/*
 * The token from an Authorization header that is exactly "Bearer <token>":
 * one space, no other spelling of the scheme, nothing after the token. nginx
 * keys its per-client limit on the token, read case-insensitively; refusing
 * every other spelling here keeps one token from being many clients.
 * NULL when absent or spelled otherwise.
 */
const char *req_bearer(request *r)
{
	const char *h = req_param(r, "HTTP_AUTHORIZATION");
	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	for (const char *p = h; *p; p++)
		if (!isgraph((unsigned char)*p))
			return NULL;
	return *h ? h : NULL;
}

/* CONTENT_LENGTH as nginx sends it: absent, empty, or decimal digits only. */
int req_content_length_or_fail(request *r, long *ret)
{
	const char *cl = req_param(r, "CONTENT_LENGTH");
	if (!cl || !*cl) {
		*ret = 0;
		return 0;
	}
	char *end;
	errno = 0;
	long len = strtol(cl, &end, 10);
	if (!isdigit((unsigned char)cl[0]) || *end || errno) {
		req_problem(r, 400, "Content-Length is not a number of bytes");
		return -EINVAL;
	}
	*ret = len;
	return 0;
}

static void queue_later(request *r, struct pending_event *p)
{
	if (!r->later_tail)
		r->later_tail = &r->later;
	*r->later_tail = p;
	r->later_tail = &p->next;
}

void req_notify(request *r, const char *campaign_id, const char *data)
{
	struct pending_event *p = arena_zalloc(r->arena, sizeof(*p));
	p->ev = (struct event){
		.type = "notification",
		.user_id = r->user_id,
		.campaign_id = campaign_id,
		.data = data,
	};
	queue_later(r, p);
}

void req_after(request *r, void (*run)(struct app *app, arena *a, void *arg), void *arg)
{
	struct pending_event *p = arena_zalloc(r->arena, sizeof(*p));
	p->run = run;
	p->arg = arg;
	queue_later(r, p);
}

PGresult *req_caller_or_fail(request *r)
{
	const char *p[] = { r->user_id };
	PGresult *res = req_exec_or_fail(r, STMT_USER_BY_ID, p);
	if (res && PQntuples(res) == 0) {
		req_account_gone(r);
		return NULL;
	}
	return res;
}
