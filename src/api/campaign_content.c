/*
 * campaign_content.c - content items inside a campaign: add, list, get, edit, remove.
 *
 * Items live in campaigns.content (JSONB). Adding appends in one UPDATE, so
 * concurrent adds all land. Editing is optimistic: read the item, merge and
 * re-score it here, then replace it only if it is still exactly what was
 * read; a concurrent edit makes the replace match nothing and we start over.
 * When the campaign has a brand profile, an item that breaks it is refused
 * (422 naming the first violation) unless the body says
 * "allowBrandViolations": true; then it is stored and brandFit says so.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "brand.h"
#include "content.h"
#include "handlers.h"
#include "notify.h"
#include "json.h"
#include "platforms.h"
#include "query.h"
#include "schemas.h"

/* Items are content_item_fields (content.c) plus content_item_check()'s platform rules, and the flag. */
static const struct vfield manual_item_fields[] = {
	CONTENT_ITEM_FIELDS,
	VUUID("visualAssetId", V_NULLABLE),
	VBOOL("allowBrandViolations", 0),
	VEND,
};

const struct body_schema content_body_schemas[] = {
	{ "POST /api/campaigns/:id/content", manual_item_fields, false },
	{ "PATCH /api/campaigns/:id/content/:contentId", manual_item_fields, true },
	{ .route = NULL },
};

#define EDIT_ATTEMPTS 5

/* Takes allowBrandViolations out of a validated body: a request flag, not part of the item. */
static bool take_allow_flag(json_object *body)
{
	json_object *v;
	bool allow = json_object_object_get_ex(body, "allowBrandViolations", &v) && json_object_get_boolean(v);
	json_object_object_del(body, "allowBrandViolations");
	return allow;
}

/*
 * Checks item against the campaign's brand profile (none: nothing to do).
 * A violation answers 422 naming it, unless allowed: then rep records it.
 */
static int brand_or_fail(request *r, const struct brand_profile *p, json_object *item, bool allow,
			 struct brand_report *rep)
{
	brand_report_init(rep, p);
	if (!p || brand_check(r->arena, p, item, rep) == 0)
		return 0;
	if (allow) {
		rep->violations_allowed = true;
		return 0;
	}
	struct verrors errs;
	verrors_init(&errs, r->arena);
	for (const struct brand_finding *f = rep->head; f; f = f->next)
		verrors_add(&errs, f->field, "%s", brand_finding_message(r->arena, f));
	req_problem_fields_detail(r, arena_printf(r->arena, "the item breaks the campaign's brand profile: %s %s (send "
							  "\"allowBrandViolations\": true to store it anyway)",
						  rep->head->field, brand_finding_message(r->arena, rep->head)),
				  &errs);
	return -EINVAL;
}

/* The item as stored: finished, and with the brand report when the campaign has a profile. */
static const char *finish_item(request *r, json_object *item, const struct content_context *ctx,
			       const struct content_origin *origin, const struct brand_report *rep)
{
	const char *json = content_item_finish(r->arena, item, ctx, origin);
	return rep->profile ? brand_annotate(r->arena, item, rep) : json;
}

/*
 * Loads keywords, persona terms, (when content_id) the item and the
 * campaign's brand profile (*ret_brand, NULL when none); NULL after answering.
 */
static PGresult *context_or_fail(request *r, const char *content_id, struct content_context *ctx,
				 const struct brand_profile **ret_brand)
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
	*ret_brand = NULL;
	if (!PQgetisnull(res, 0, 4)) {
		json_object *profile = req_json_value_or_fail(r, res, 0, 4);
		struct brand_profile *brand = arena_alloc(r->arena, sizeof(*brand));
		if (!profile)
			return NULL;
		if (brand_profile_parse(r->arena, profile, brand) == 0) {
			*ret_brand = brand;
			brand_score_context(brand, ctx);
		}
	}
	return res;
}

/*
 * The item's visual from the body: a visualAssetId names one of the caller's
 * assets (else 422) and sets visualUrl to its URL (the id stored in canonical
 * form, which asset_delete's in-use check matches); visualAssetId null clears
 * visualUrl too; a visualUrl given without an asset drops the asset id.
 */
static int visual_or_fail(request *r, json_object *body, json_object *item)
{
	json_object *id;
	if (!json_object_object_get_ex(body, "visualAssetId", &id)) {
		if (json_object_object_get_ex(body, "visualUrl", NULL))
			json_object_object_del(item, "visualAssetId");
		return 0;
	}
	if (!id) {
		if (!json_object_object_get_ex(body, "visualUrl", NULL))
			json_object_object_add(item, "visualUrl", NULL);
		return 0;
	}
	const char *p[] = { r->user_id, json_object_get_string(id) };
	PGresult *res = req_exec_or_fail(r, STMT_ASSET_URL, p);
	if (!res)
		return -EIO;
	if (PQntuples(res) == 0) {
		struct verrors errs;
		verrors_init(&errs, r->arena);
		verrors_add(&errs, "visualAssetId", "no such asset");
		return req_errors_or_fail(r, &errs);
	}
	json_object_object_add(item, "visualAssetId", json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(item, "visualUrl", json_object_new_string(PQgetvalue(res, 0, 0)));
	return 0;
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
	req_validate_into(r, manual_item_fields, false, &errs);
	content_item_check(r->body, &errs); /* platform rules too: every error at once */
	if (req_errors_or_fail(r, &errs) < 0)
		return;
	bool allow = take_allow_flag(r->body);
	struct content_context ctx;
	const struct brand_profile *brand;
	struct brand_report rep;
	if (visual_or_fail(r, r->body, r->body) < 0)
		return;
	if (!context_or_fail(r, NULL, &ctx, &brand) || brand_or_fail(r, brand, r->body, allow, &rep) < 0)
		return;
	static const struct content_origin manual = { "manual", NULL, NULL, NULL, NULL, 0 };
	const char *item = finish_item(r, r->body, &ctx, &manual, &rep);
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
	const struct brand_profile *brand;
	PGresult *res = context_or_fail(r, r->params[1], &ctx, &brand);
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
	if (req_validate_partial_or_fail(r, manual_item_fields) < 0)
		return;
	bool allow = take_allow_flag(r->body);
	for (int attempt = 0; attempt < EDIT_ATTEMPTS; attempt++) {
		struct content_context ctx;
		const struct brand_profile *brand;
		PGresult *res = context_or_fail(r, r->params[1], &ctx, &brand);
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
		struct brand_report rep;
		if (visual_or_fail(r, r->body, item) < 0 || check_or_fail(r, item) < 0 || brand_or_fail(r, brand, item, allow, &rep) < 0)
			return;
		const char *after = finish_item(r, item, &ctx, NULL, &rep);
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
