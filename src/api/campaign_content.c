/*
 * campaign_content.c - content items inside a campaign: add, list, get, edit, remove.
 *
 * Items live in campaigns.content (JSONB). Adding appends in one UPDATE, so
 * concurrent adds all land. Editing is optimistic: read the item, merge and
 * re-score it here, then replace it only if it is still exactly what was
 * read; a concurrent edit makes the replace match nothing and we start over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "handlers.h"
#include "notify.h"
#include "json.h"
#include "platforms.h"
#include "query.h"
#include "schemas.h"

/* Items are content_item_fields (content.c) plus content_item_check()'s platform rules. */
const struct body_schema content_body_schemas[] = {
	{ "POST /api/campaigns/:id/content", content_item_fields, false },
	{ "PATCH /api/campaigns/:id/content/:contentId", content_item_fields, true },
	{ .route = NULL },
};

#define EDIT_ATTEMPTS 5

/* Loads keywords, persona terms and (when content_id) the item; NULL after answering. */
static PGresult *context_or_fail(request *r, const char *content_id, struct content_context *ctx)
{
	const char *p[] = { r->user_id, r->params[0], content_id };
	PGresult *res = req_exec_or_fail(r, STMT_CONTENT_CONTEXT, p);
	if (!res)
		return NULL;
	if (PQntuples(res) == 0)
		return req_not_found(r, "campaign");
	*ctx = (struct content_context){ .keywords = db_value(res, 0, 0), .product = db_value(res, 0, 3) };
	if (!(ctx->persona_terms = req_json_value_or_fail(r, res, 0, 1)))
		return NULL;
	return res;
}

static int check_or_fail(request *r, json_object *item)
{
	struct verrors errs;
	verrors_init(&errs, r->arena);
	content_item_check(item, &errs);
	return req_errors_or_fail(r, &errs);
}

void content_add(request *r)
{
	struct verrors errs;
	req_validate_into(r, content_item_fields, false, &errs);
	content_item_check(r->body, &errs); /* platform rules too: every error at once */
	if (req_errors_or_fail(r, &errs) < 0)
		return;
	struct content_context ctx;
	if (!context_or_fail(r, NULL, &ctx))
		return;
	static const struct content_origin manual = { "manual", NULL, NULL, NULL, NULL, 0 };
	const char *item = content_item_finish(r->arena, r->body, &ctx, &manual);
	const char *p[] = { r->user_id, r->params[0], item };
	PGresult *res = req_exec_or_fail(r, STMT_CONTENT_APPEND, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_not_found(r, "campaign"); /* deleted meanwhile */
		return;
	}
	req_send_json(r, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	notify_content(r, "content.created", r->params[0], NULL, PQgetvalue(res, 0, 0));
}

void content_list(request *r)
{
	static const struct qparam params[] = {
		{ "contentType", V_ENUM, 0, 0, content_type_names },
		{ "platform", V_ENUM, 0, 0, platform_names },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], lp.values[0], lp.values[1], lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_CONTENT_PAGE, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) { /* an empty page, or no such campaign? */
		const char *q[] = { r->user_id, r->params[0] };
		PGresult *c = req_exec_or_fail(r, STMT_CAMPAIGN_EXISTS, q);
		if (!c)
			return;
		if (PQntuples(c) == 0) {
			req_not_found(r, "campaign");
			return;
		}
	}
	list_send(r, res, atol(lp.limit));
}

void content_get(request *r)
{
	struct content_context ctx;
	PGresult *res = context_or_fail(r, r->params[1], &ctx);
	if (!res)
		return;
	if (PQgetisnull(res, 0, 2))
		req_not_found(r, "content item");
	else
		req_send_json(r, 200, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
}

/* Applies the PATCH body to the stored item: null clears, a value replaces. */
static void merge(json_object *item, json_object *patch)
{
	json_object_object_foreach(patch, key, val) {
		json_object_object_add(item, key, val ? json_object_get(val) : NULL);
	}
}

void content_patch(request *r)
{
	if (req_validate_partial_or_fail(r, content_item_fields) < 0)
		return;
	for (int attempt = 0; attempt < EDIT_ATTEMPTS; attempt++) {
		struct content_context ctx;
		PGresult *res = context_or_fail(r, r->params[1], &ctx);
		if (!res)
			return;
		if (PQgetisnull(res, 0, 2)) {
			req_not_found(r, "content item");
			return;
		}
		const char *before = PQgetvalue(res, 0, 2);
		json_object *item = req_json_value_or_fail(r, res, 0, 2);
		if (!item)
			return;
		merge(item, r->body);
		if (check_or_fail(r, item) < 0)
			return;
		const char *after = content_item_finish(r->arena, item, &ctx, NULL);
		const char *p[] = { r->user_id, r->params[0], r->params[1], before, after };
		PGresult *upd = req_exec_or_fail(r, STMT_CONTENT_REPLACE, p);
		if (!upd)
			return;
		if (PQntuples(upd) == 1) {
			req_send_json(r, 200, PQgetvalue(upd, 0, 0), (size_t)PQgetlength(upd, 0, 0));
			notify_content(r, "content.updated", r->params[0], r->params[1], PQgetvalue(upd, 0, 0));
			return;
		}
	}
	req_problem(r, 409, "the item kept changing while it was being edited; retry");
}

void content_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0], r->params[1] };
	PGresult *res = req_exec_or_fail(r, STMT_CONTENT_DELETE, p);
	if (!res)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		req_not_found(r, "content item");
		return;
	}
	req_send_empty(r, 204);
	notify_content(r, "content.deleted", r->params[0], r->params[1], NULL);
}
