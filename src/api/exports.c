/*
 * exports.c - data exports (issue #13 section 1): ask for one, list them,
 * read one (with its signed download link once ready), delete one, and the
 * download itself.
 *
 * POST makes an exports row and its job (queue data-exports, kind export) in
 * one statement; the worker writes the file (src/worker/export.c). The
 * filters a kind accepts are a field table per kind: anything else is 422.
 *
 * A download link (exportlink.h) is the only credential of GET
 * /api/exports/:id/download, so it works from a plain <a href> or curl
 * without a token. The handler checks the signature against the owner in the
 * export's row and answers with X-Accel-Redirect to nginx's internal
 * location /_adcraft/exports/ (nginx/exports.conf), which sends the file from
 * exports_dir: the bytes never pass through FastCGI. A malformed, forged or
 * another export's link is 404, the same answer as for an export that does
 * not exist (so a link reveals nothing about other ids); a genuine link past
 * its exp, or for an export that has expired, is 410.
 *
 * Filters that name objects (campaignId, listId, sendId) must name the
 * caller's own: 422 otherwise, the same for another user's id as for one
 * that does not exist.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exportlink.h"
#include "handlers.h"
#include "metrics.h"
#include "log.h"
#include "query.h"
#include "schemas.h"

enum export_kind { KIND_CAMPAIGNS, KIND_CONTENT, KIND_CONTACTS, KIND_SENDS, KIND_ANALYTICS, KIND_USAGE, N_KINDS };

static const char *const kind_names[] = { "campaigns", "content", "contacts", "sends", "analytics", "usage", NULL };
static const char *const format_names[] = { "csv", "ndjson", "json", NULL };

static const char *const campaign_statuses[] = { "draft", "active", "generating", "completed", NULL };
static const char *const objectives[] = { "awareness", "consideration", "conversion", NULL };
static const char *const contact_statuses[] = { "subscribed", "unsubscribed", "bounced", "complained", NULL };
static const char *const recipient_statuses[] = { "queued", "sending", "sent", "deferred", "failed", "bounced",
						  "suppressed", NULL };
static const char *const content_types[] = { "email", "social_post", "ad_copy", NULL };
static const char *const platforms[] = { "email", "linkedin", "twitter", "facebook", "instagram", "google_ads", NULL };
static const char *const intervals[] = { "hour", "day", NULL };

/* The filters of each kind (sql/0017_exports.sql's export_<kind>() reads them). */
static const struct vfield campaigns_filters[] = {
	VENUM("status", 0, campaign_statuses), VENUM("objective", 0, objectives),
	VTIMESTAMP("from", 0), VTIMESTAMP("to", 0), VEND,
};
static const struct vfield content_filters[] = {
	VUUID("campaignId", 0), VENUM("contentType", 0, content_types), VENUM("platform", 0, platforms),
	VTIMESTAMP("from", 0), VTIMESTAMP("to", 0), VEND,
};
static const struct vfield contacts_filters[] = {
	VENUM("status", 0, contact_statuses), VUUID("listId", 0), VEND,
};
static const struct vfield sends_filters[] = {
	VUUID("campaignId", 0), VUUID("sendId", 0), VENUM("status", 0, recipient_statuses), VEND,
};
static const struct vfield analytics_filters[] = {
	VUUID("campaignId", 0), VTIMESTAMP("from", 0), VTIMESTAMP("to", 0), VENUM("interval", 0, intervals), VEND,
};
static const struct vfield usage_filters[] = {
	VUUID("campaignId", 0), VTIMESTAMP("from", 0), VTIMESTAMP("to", 0), VEND,
};
/* Every filter of any kind: the body schema the fuzzers and schema tests walk. */
static const struct vfield any_filters[] = {
	VSTR("status", 0, 1, 40), VENUM("objective", 0, objectives), VUUID("campaignId", 0),
	VENUM("contentType", 0, content_types), VENUM("platform", 0, platforms), VUUID("listId", 0),
	VUUID("sendId", 0), VENUM("interval", 0, intervals), VTIMESTAMP("from", 0), VTIMESTAMP("to", 0), VEND,
};

#define EXPORT_BODY(filters) \
	{ \
		VENUM("kind", V_REQUIRED, kind_names), VENUM("format", V_REQUIRED, format_names), VBOOL("bom", 0), \
			VOBJ("filters", V_NULLABLE, filters), VEND, \
	}

static const struct vfield body_campaigns[] = EXPORT_BODY(campaigns_filters);
static const struct vfield body_content[] = EXPORT_BODY(content_filters);
static const struct vfield body_contacts[] = EXPORT_BODY(contacts_filters);
static const struct vfield body_sends[] = EXPORT_BODY(sends_filters);
static const struct vfield body_analytics[] = EXPORT_BODY(analytics_filters);
static const struct vfield body_usage[] = EXPORT_BODY(usage_filters);
static const struct vfield body_any[] = EXPORT_BODY(any_filters);

static const struct vfield *const kind_bodies[N_KINDS] = {
	[KIND_CAMPAIGNS] = body_campaigns, [KIND_CONTENT] = body_content, [KIND_CONTACTS] = body_contacts,
	[KIND_SENDS] = body_sends,	   [KIND_ANALYTICS] = body_analytics, [KIND_USAGE] = body_usage,
};

/* Media types of the files, by format: what nginx/exports.conf's types{} agree with. */
static const struct {
	const char *format, *ext;
} formats[] = {
	{ "csv", "csv" },
	{ "ndjson", "ndjson" },
	{ "json", "json" },
};

const struct body_schema export_body_schemas[] = {
	{ "POST /api/exports", body_any, false },
	{ .route = NULL },
};

static int kind_index(const char *kind)
{
	for (int i = 0; kind && kind_names[i]; i++)
		if (strcmp(kind_names[i], kind) == 0)
			return i;
	return -1;
}

/* 503 when no export_link_key_file is configured: a file nobody could download is never made. */
static bool exports_on_or_fail(request *r)
{
	if (r->app->cfg->export_link_key)
		return true;
	req_problem(r, 503, "exports are not configured on this server (export_link_key_file)");
	return false;
}

/*
 * Appends an export row (columns of EXPORT_COLUMNS in statements.c) to b as
 * its JSON with downloadUrl: a link signed until the earlier of the file's
 * expiry and now + export_link_ttl when the export is ready, else null.
 */
static void export_write(request *r, buf *b, PGresult *res, int row)
{
	const struct config *cfg = r->app->cfg;
	const char *json = PQgetvalue(res, row, 0);
	size_t len = (size_t)PQgetlength(res, row, 0);
	buf_putn(b, json, len - 1); /* without the closing brace */
	buf_puts(b, ",\"downloadUrl\":");
	const char *id = PQgetvalue(res, row, 2), *owner = PQgetvalue(res, row, 3);
	const struct exportlink_key key = { cfg->export_link_key, cfg->export_link_key_len };
	char sig[EXPORT_LINK_SIG_HEX + 1];
	int64_t exp = (int64_t)time(NULL) + cfg->export_link_ttl, expires = atoll(PQgetvalue(res, row, 5));
	if (exp > expires)
		exp = expires;
	if (strcmp(PQgetvalue(res, row, 4), "t") == 0 && exportlink_sign(&key, id, owner, exp, sig) == 0)
		buf_printf(b, "\"/api/exports/%s/download?exp=%lld&sig=%s\"}", id, (long long)exp, sig);
	else
		buf_puts(b, "null}");
}

static void send_export_or_404(request *r, PGresult *res, int status)
{
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_not_found(r, "export");
		return;
	}
	buf b;
	buf_init(&b, r->arena, (size_t)PQgetlength(res, 0, 0) + 256);
	export_write(r, &b, res, 0);
	req_send_buf(r, status, &b);
}

/* Seconds since the epoch of an RFC 3339 date-time that passed is_rfc3339(). */
static double rfc3339_seconds(const char *s)
{
	struct tm tm = { 0 };
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	double t = (double)timegm(&tm);
	const char *p = s + 19;
	if (*p == '.') {
		char *end;
		t += strtod(p, &end);
		p = end;
	}
	if (*p == '+' || *p == '-')
		t -= (*p == '+' ? 1 : -1) * (atoi(p + 1) * 3600.0 + atoi(p + 4) * 60.0);
	return t;
}

/* filters.from before filters.to when both are given (and valid). */
static void check_range(json_object *filters, struct verrors *errs)
{
	const char *from = vget_str(filters, "from"), *to = vget_str(filters, "to");
	if (from && to && is_rfc3339(from) && is_rfc3339(to) && rfc3339_seconds(from) >= rfc3339_seconds(to))
		verrors_add(errs, "filters.to", "must be later than filters.from");
}

/*
 * 422 naming each filter that names an object the caller does not own (or
 * that does not exist); -EINVAL having answered, or 0.
 */
static int filter_refs_or_fail(request *r, json_object *filters)
{
	static const struct {
		const char *field, *what;
	} refs[] = { { "campaignId", "campaign" }, { "listId", "list" }, { "sendId", "send" } };
	const char *p[] = { r->user_id, vget_str(filters, "campaignId"), vget_str(filters, "listId"),
			    vget_str(filters, "sendId") };
	if (!p[1] && !p[2] && !p[3])
		return 0;
	PGresult *res = req_exec_or_fail(r, STMT_EXPORT_REFS, p);
	if (!res)
		return -EIO;
	struct verrors errs;
	verrors_init(&errs, r->arena);
	for (int i = 0; i < 3; i++)
		if (strcmp(PQgetvalue(res, 0, i), "t") != 0)
			verrors_add(&errs, arena_printf(r->arena, "filters.%s", refs[i].field), "no such %s",
				    refs[i].what);
	return req_errors_or_fail(r, &errs);
}

void export_create(request *r)
{
	if (!exports_on_or_fail(r))
		return;
	int kind = kind_index(vget_str(r->body, "kind"));
	struct verrors errs;
	req_validate_into(r, kind >= 0 ? kind_bodies[kind] : body_any, false, &errs);
	json_object *filters = json_object_object_get(r->body, "filters");
	if (json_object_is_type(filters, json_type_object))
		check_range(filters, &errs);
	const char *format = vget_str(r->body, "format");
	json_object *bom = json_object_object_get(r->body, "bom");
	bool with_bom = json_object_is_type(bom, json_type_boolean) && json_object_get_boolean(bom);
	if (with_bom && format && strcmp(format, "csv") != 0)
		verrors_add(&errs, "bom", "is for csv exports only");
	if (req_errors_or_fail(r, &errs) < 0 || filter_refs_or_fail(r, filters) < 0)
		return;
	const char *filters_text = json_object_is_type(filters, json_type_object)
					   ? json_object_to_json_string_ext(filters, JSON_C_TO_STRING_PLAIN)
					   : "{}";
	const char *p[] = { r->user_id, kind_names[kind], format, with_bom ? "true" : "false", filters_text };
	PGresult *res = req_exec_or_fail(r, STMT_EXPORT_INSERT, p);
	if (!res)
		return;
	metrics_count(MC_EXPORTS_CREATED, 1);
	req_add_header(r, "Location: /api/exports/%s", PQgetvalue(res, 0, 2));
	send_export_or_404(r, res, 202);
}

void export_list(request *r)
{
	static const struct qparam none[] = { { .name = NULL } };
	struct list_params lp;
	if (query_parse_or_fail(r, none, &lp) < 0)
		return;
	const char *p[] = { r->user_id, lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_EXPORT_LIST, p);
	if (!res)
		return;
	long limit = atol(lp.limit);
	int rows = PQntuples(res), shown = rows > limit ? (int)limit : rows;
	buf b;
	buf_init(&b, r->arena, 64 + (size_t)shown * 1024);
	buf_puts(&b, "{\"items\":[");
	for (int i = 0; i < shown; i++) {
		if (i)
			buf_putc(&b, ',');
		export_write(r, &b, res, i);
	}
	buf_puts(&b, "],\"nextCursor\":");
	if (rows > limit && shown > 0)
		cursor_write(&b, PQgetvalue(res, shown - 1, 1), PQgetvalue(res, shown - 1, 2));
	else
		buf_puts(&b, "null");
	buf_putc(&b, '}');
	req_send_buf(r, 200, &b);
}

void export_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	send_export_or_404(r, req_exec_or_fail(r, STMT_EXPORT_GET, p), 200);
}

/* Deletes exports_dir/name; a file already gone is no failure. Logs any other error once. */
static void remove_file(request *r, const char *name)
{
	const char *path = arena_printf(r->arena, "%s/%s", r->app->cfg->exports_dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		log_msg(LOG_WARN, "request %s: could not delete export file %s: %s", r->request_id, path,
			strerror(errno));
}

void export_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res = req_exec_or_fail(r, STMT_EXPORT_DELETE, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_not_found(r, "export");
		return;
	}
	if (!PQgetisnull(res, 0, 0))
		remove_file(r, PQgetvalue(res, 0, 0));
	req_send_empty(r, 204);
}

static const char *ext_of(const char *format)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].format, format) == 0)
			return formats[i].ext;
	return "bin";
}

void export_download(request *r)
{
	const struct config *cfg = r->app->cfg;
	const struct exportlink_key key = { cfg->export_link_key, cfg->export_link_key_len };
	struct exportlink_query q;
	if (!cfg->export_link_key || exportlink_parse(r->query, strlen(r->query), &q) < 0) {
		req_not_found(r, "export");
		return;
	}
	const char *p[] = { r->params[0] };
	PGresult *res = req_exec_or_fail(r, STMT_EXPORT_DOWNLOAD, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_not_found(r, "export");
		return;
	}
	const char *id = PQgetvalue(res, 0, 0), *owner = PQgetvalue(res, 0, 1), *status = PQgetvalue(res, 0, 2);
	if (exportlink_verify(&key, id, owner, &q) < 0) {
		req_not_found(r, "export");
		return;
	}
	if (q.exp < (int64_t)time(NULL) || strcmp(status, "expired") == 0 ||
	    (strcmp(status, "ready") == 0 && strcmp(PQgetvalue(res, 0, 7), "t") == 0)) {
		req_problem(r, 410, "this download link has expired; ask for the export again (GET /api/exports/%s)",
			    id);
		return;
	}
	if (strcmp(status, "ready") != 0) {
		req_not_found(r, "export file");
		return;
	}
	const char *file = PQgetvalue(res, 0, 3), *kind = PQgetvalue(res, 0, 4);
	req_add_header(r, "X-Accel-Redirect: /_adcraft/exports/%s", file);
	req_add_header(r, "Content-Disposition: attachment; filename=\"%s-%s.%s\"", kind, PQgetvalue(res, 0, 6),
		       ext_of(PQgetvalue(res, 0, 5)));
	req_add_header(r, "Cache-Control: private, no-store");
	req_send_empty(r, 200);
}
