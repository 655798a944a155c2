/*
 * analytics.c - events in: POST /api/analytics/events and POST /api/analytics/import.
 *
 * A batch of events is checked here for shape, each event on its own (the
 * table below, validate.h): a bad event is reported in place as {index,
 * problem} and the others go on. What needs the database - the campaign is
 * the caller's, contentId is one of its items, occurredAt falls in a kept
 * month, eventId was not seen before - is decided by one statement for the
 * whole batch (analytics_ingest), which also stores the good events with
 * their pending rollup rows and requests a rollup job. A batch with no good
 * event at all is 422 and stores nothing.
 *
 * An import is staged as it is (analytics_imports) once its header maps
 * (report_csv.h) and becomes an import-analytics job on the
 * analytics-processing queue (src/worker/analytics.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "query.h"
#include "report_csv.h"
#include "schemas.h"

#define EVENTS_MAX 1000

static const char *const event_types[] = { "impression", "open", "click", "conversion", "spend", NULL };

static const struct vfield event_fields[] = {
	VSTR("eventId", 0, 1, 200),
	VENUM("type", V_REQUIRED, event_types),
	VUUID("campaignId", V_REQUIRED),
	VUUID("contentId", V_NULLABLE),
	VSTR("variant", V_NULLABLE, 1, 64),
	VTIMESTAMP("occurredAt", V_REQUIRED),
	VDECIMAL("value", V_NULLABLE),
	VEND,
};

const struct body_schema analytics_body_schemas[] = {
	{ "POST /api/analytics/events (each of events[])", event_fields, false },
	{ .route = NULL },
};

/* The first problem of one event, as "field: message", or NULL when it is well formed. */
static const char *event_problem(request *r, json_object *ev)
{
	if (!json_object_is_type(ev, json_type_object))
		return "must be an object";
	struct verrors errs;
	verrors_init(&errs, r->arena);
	if (validate_body(ev, event_fields, &errs) > 0)
		return arena_printf(r->arena, "%s: %s", errs.head->field, errs.head->message);
	const char *type = vget_str(ev, "type");
	json_object *value = json_object_object_get(ev, "value");
	bool has_value = value && !json_object_is_type(value, json_type_null);
	if (has_value && strcmp(type, "conversion") != 0 && strcmp(type, "spend") != 0)
		return "value: only conversion (revenue) and spend (cost) events carry a value";
	if (!has_value && strcmp(type, "spend") == 0)
		return "value: a spend event needs its cost";
	return NULL;
}

/* Appends ev (well formed) to the statement's array as {i, eventId, type, ...}. */
static void event_write(buf *b, size_t i, json_object *ev)
{
	static const char *const copied[] = { "eventId", "type", "campaignId", "contentId", "variant", "occurredAt" };
	buf_printf(b, "{\"i\":%zu", i);
	for (size_t k = 0; k < sizeof(copied) / sizeof(copied[0]); k++) {
		const char *s = vget_str(ev, copied[k]);
		if (s) {
			buf_printf(b, ",\"%s\":", copied[k]);
			buf_json_str(b, s);
		}
	}
	json_object *value = json_object_object_get(ev, "value");
	if (value && !json_object_is_type(value, json_type_null))
		buf_printf(b, ",\"value\":%s", json_object_get_string(value));
	buf_putc(b, '}');
}

struct event_error {
	size_t index;
	const char *problem;
};

/* Sends {accepted, duplicates, errors} with the shape errors (by index) merged into the statement's. */
static void send_outcome(request *r, json_object *outcome, const struct event_error *mine, size_t nmine)
{
	json_object *theirs = json_object_object_get(outcome, "errors");
	size_t ntheirs = json_object_array_length(theirs);
	long accepted = (long)json_object_get_int64(json_object_object_get(outcome, "accepted"));
	long duplicates = (long)json_object_get_int64(json_object_object_get(outcome, "duplicates"));
	buf b;
	buf_init(&b, r->arena, 128 + 96 * (nmine + ntheirs));
	if (accepted == 0 && duplicates == 0)
		buf_printf(&b, "{\"type\":\"about:blank\",\"title\":\"Unprocessable Content\",\"status\":422,"
			       "\"detail\":\"none of the %zu events is valid\",", nmine + ntheirs);
	else
		buf_putc(&b, '{');
	buf_printf(&b, "\"accepted\":%ld,\"duplicates\":%ld,\"errors\":[", accepted, duplicates);
	size_t m = 0, t = 0;
	while (m < nmine || t < ntheirs) {
		json_object *e = t < ntheirs ? json_object_array_get_idx(theirs, t) : NULL;
		size_t their_index = e ? (size_t)json_object_get_int64(json_object_object_get(e, "index")) : 0;
		size_t index;
		const char *problem;
		if (m < nmine && (!e || mine[m].index < their_index)) {
			index = mine[m].index;
			problem = mine[m++].problem;
		} else {
			index = their_index;
			problem = json_object_get_string(json_object_object_get(e, "problem"));
			t++;
		}
		buf_printf(&b, "%s{\"index\":%zu,\"problem\":", m + t > 1 ? "," : "", index);
		buf_json_str(&b, problem);
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}");
	if (accepted == 0 && duplicates == 0) {
		req_send_typed(r, 422, "application/problem+json", b.data, b.len);
		return;
	}
	req_send_buf(r, 202, &b);
}

void analytics_events_post(request *r)
{
	json_object *events = NULL;
	struct verrors errs;
	verrors_init(&errs, r->arena);
	json_object_object_foreach(r->body, key, val) {
		if (strcmp(key, "events") == 0)
			events = val;
		else
			verrors_add(&errs, key, "unknown field");
	}
	if (!events || !json_object_is_type(events, json_type_array))
		verrors_add(&errs, "events", "is required: an array of 1 to %d events", EVENTS_MAX);
	else if (json_object_array_length(events) < 1 || json_object_array_length(events) > EVENTS_MAX)
		verrors_add(&errs, "events", "must hold 1 to %d events (it holds %zu)", EVENTS_MAX,
			    json_object_array_length(events));
	if (req_errors_or_fail(r, &errs) < 0)
		return;

	size_t n = json_object_array_length(events), nmine = 0;
	struct event_error *mine = arena_alloc(r->arena, n * sizeof(*mine));
	buf b;
	buf_init(&b, r->arena, r->body_len + 16 * n + 16);
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(events, i);
		const char *problem = event_problem(r, ev);
		if (problem) {
			mine[nmine++] = (struct event_error){ i, problem };
			continue;
		}
		if (b.len > 1)
			buf_putc(&b, ',');
		event_write(&b, i, ev);
	}
	buf_putc(&b, ']');

	json_object *outcome;
	if (nmine == n) {
		json_parse_trusted(r->arena, "{\"accepted\":0,\"duplicates\":0,\"errors\":[]}", &outcome);
	} else {
		const char *p[] = { r->user_id, buf_cstr(&b), "api" };
		PGresult *res = req_exec_or_fail(r, STMT_ANALYTICS_INGEST, p);
		if (!res || !(outcome = req_json_value_or_fail(r, res, 0, 0)))
			return;
	}
	send_outcome(r, outcome, mine, nmine);
}

/* ---- POST /api/analytics/import ---- */

/* UTF-8 without NUL bytes and a header that maps (report_csv.h): else 422, and no job. */
static int report_upload_ok_or_fail(request *r)
{
	if (!utf8_valid(r->body_text, r->body_len)) {
		req_problem(r, 422, "the CSV must be UTF-8 text without NUL bytes");
		return -EINVAL;
	}
	struct csv_reader c;
	struct report_csv_header header;
	const char *why;
	csv_init(&c, r->arena, r->body_text, r->body_len, REPORT_CSV_MAX_RECORD, REPORT_CSV_MAX_FIELDS);
	if (report_csv_find_header(r->arena, &c, &header, &why) < 0) {
		req_problem(r, 422, "%s", why);
		return -EINVAL;
	}
	return 0;
}

void analytics_import_post(request *r)
{
	static const struct qparam params[] = { { .name = NULL } };
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0 || report_upload_ok_or_fail(r) < 0)
		return;
	const char *p[] = { r->user_id, r->body_text };
	PGresult *res = req_exec_or_fail(r, STMT_ANALYTICS_IMPORT_ENQUEUE, p);
	if (!res)
		return;
	buf b;
	buf_init(&b, r->arena, (size_t)PQgetlength(res, 0, 0) + 16);
	buf_printf(&b, "{\"job\":%s}", PQgetvalue(res, 0, 0));
	req_add_header(r, "Location: /api/jobs/analytics-processing/%s", PQgetvalue(res, 0, 1));
	req_send_buf(r, 202, &b);
}
