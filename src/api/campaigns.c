/*
 * campaigns.c - the campaign resource: CRUD, status moves, stats, dashboard.
 *
 * Status moves a client may make are rows of campaign_status_transitions;
 * the UPDATE itself checks them, so a move is decided atomically with the
 * write. "generating" belongs to generation jobs alone.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "notify.h"
#include "platforms.h"
#include "query.h"
#include "schemas.h"

static const char *const create_statuses[] = { "draft", NULL };
static const char *const statuses[] = { "draft", "active", "generating", "completed", NULL };

static const struct vfield generation_settings_fields[] = {
	VENUMS("contentTypes", V_UNIQUE, 1, N_CONTENT_TYPES, content_type_names),
	VENUMS("platforms", V_UNIQUE, 1, N_PLATFORMS, platform_names),
	VINT("creativityLevel", 0, 1, 10),
	VBOOL("includeVisuals", 0),
	VSTR("customInstructions", V_NULLABLE, 0, 2000),
	VINT("variations", 0, 1, 5),
	VEND,
};

#define CAMPAIGN_FIELDS(status_values)                                        \
	VSTR("name", V_REQUIRED, 1, 200),                                     \
	VSTR("product", V_NULLABLE, 1, 100),                                  \
	VSTR("description", V_NULLABLE, 0, 5000),                             \
	VENUM("objective", V_REQUIRED, objective_names),                      \
	VENUM("status", 0, status_values),                                    \
	VUUID("personaId", V_NULLABLE),                                       \
	VUUID("brandProfileId", V_NULLABLE),                                  \
	VDECIMAL("budget", V_NULLABLE),                                       \
	VCURRENCY("currency", 0),                                             \
	VDATE("startDate", V_NULLABLE),                                       \
	VDATE("endDate", V_NULLABLE),                                         \
	VSTR("tone", V_NULLABLE, 0, 100),                                     \
	VSTR("keywords", V_NULLABLE, 0, 500),                                 \
	VOBJ("generationSettings", V_NULLABLE, generation_settings_fields),   \
	VEND

static const struct vfield create_fields[] = { CAMPAIGN_FIELDS(create_statuses) };
static const struct vfield update_fields[] = { CAMPAIGN_FIELDS(statuses) };

const struct body_schema campaign_body_schemas[] = {
	{ "POST /api/campaigns", create_fields, false },
	{ "PUT /api/campaigns/:id", update_fields, false },
	{ "PATCH /api/campaigns/:id", update_fields, true },
	{ .route = NULL },
};

/*
 * Field rules plus the cross-field one (endDate >= startDate when both are
 * sent): every error at once. abTests is read-only: A/B tests are their own
 * resource (ab_tests.c); the campaign shows them (sql/0016_ab_tests.sql).
 */
static int body_or_fail(request *r, const struct vfield *fields, bool partial)
{
	struct verrors errs;
	bool ab_tests = json_object_object_get_ex(r->body, "abTests", NULL);
	if (ab_tests)
		json_object_object_del(r->body, "abTests");
	req_validate_into(r, fields, partial, &errs);
	if (ab_tests)
		verrors_add(&errs, "abTests",
			    "is read-only: create and change A/B tests with POST /api/campaigns/:id/ab-tests and "
			    "/api/ab-tests/:id");
	const char *start = vget_str(r->body, "startDate"), *end = vget_str(r->body, "endDate");
	if (start && end && is_date(start) && is_date(end) && strcmp(end, start) < 0)
		verrors_add(&errs, "endDate", "must not be before startDate");
	/* settings no job could use: the job would fail on them (the jobs route refuses the same lists) */
	json_object *settings = json_object_object_get(r->body, "generationSettings");
	if (errs.count == 0 && json_object_is_type(settings, json_type_object) && !platform_lists_meet(settings))
		verrors_add(&errs, "generationSettings.platforms",
			    "none of these platforms takes any of the chosen content types");
	return req_errors_or_fail(r, &errs);
}

static void send_campaign(request *r, PGresult *res, int status)
{
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "campaign");
	else
		req_send_json(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void campaign_create(request *r)
{
	if (body_or_fail(r, create_fields, false) < 0)
		return;
	const char *p[] = { r->user_id, r->body_text };
	send_campaign(r, req_exec_or_fail(r, STMT_CAMPAIGN_INSERT, p), 201);
}

void campaign_list(request *r)
{
	static const struct qparam params[] = {
		{ "status", V_ENUM, 0, 0, statuses },
		{ "objective", V_ENUM, 0, 0, objective_names },
		{ "personaId", V_UUID, 0, 0, NULL },
		{ "q", V_STRING, 1, 200, NULL },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0)
		return;
	/* One filter (or none) has a statement of its own, planned for it (statements.c) */
	static const enum stmt one_filter[] = { STMT_CAMPAIGN_LIST_STATUS, STMT_CAMPAIGN_LIST_OBJECTIVE,
						   STMT_CAMPAIGN_LIST_PERSONA };
	int set = 0, which = -1;
	for (int i = 0; i < 4; i++)
		if (lp.values[i]) {
			set++;
			which = i;
		}
	PGresult *res;
	if (set == 0) {
		const char *p[] = { r->user_id, lp.after_ts, lp.after_id, lp.limit };
		res = req_exec_or_fail(r, STMT_CAMPAIGN_LIST, p);
	} else if (set == 1 && which < 3) {
		const char *p[] = { r->user_id, lp.values[which], lp.after_ts, lp.after_id, lp.limit };
		res = req_exec_or_fail(r, one_filter[which], p);
	} else {
		const char *p[] = { r->user_id, lp.values[0], lp.values[1], lp.values[2], lp.values[3],
				    lp.after_ts, lp.after_id, lp.limit };
		res = req_exec_or_fail(r, STMT_CAMPAIGN_LIST_FILTERED, p);
	}
	if (res)
		list_send(r, res, atol(lp.limit));
}

void campaign_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	send_campaign(r, req_exec_or_fail(r, STMT_CAMPAIGN_GET, p), 200);
}

static void update(request *r, bool replace)
{
	if (body_or_fail(r, update_fields, !replace) < 0)
		return;
	const char *wanted = vget_str(r->body, "status");
	if (wanted && strcmp(wanted, "generating") == 0) {
		req_problem(r, 409, "status generating is set by generation jobs, not by clients");
		return;
	}
	const char *p[] = { r->user_id, r->params[0], r->body_text, replace ? "true" : "false" };
	PGresult *res = req_exec_or_fail(r, STMT_CAMPAIGN_UPDATE, p);
	if (!res)
		return;
	if (PQntuples(res) == 1) {
		send_campaign(r, res, 200);
		notify_campaign(r, wanted ? "campaign.status" : "campaign.updated", r->params[0], PQgetvalue(res, 0, 0));
		return;
	}
	/* Nothing matched: a missing campaign, or a move the status machine refuses. */
	const char *q[] = { r->user_id, r->params[0] };
	res = req_exec_or_fail(r, STMT_CAMPAIGN_STATUS, q);
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "campaign");
	else if (strcmp(PQgetvalue(res, 0, 0), "generating") == 0)
		req_problem(r, 409, "the campaign is generating content; its status changes when the job ends");
	else
		req_problem(r, 409, "a campaign cannot move from %s to %s", PQgetvalue(res, 0, 0), wanted);
}

void campaign_put(request *r)
{
	update(r, true);
}

void campaign_patch(request *r)
{
	update(r, false);
}

void campaign_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res = req_exec_or_fail(r, STMT_CAMPAIGN_DELETE, p);
	if (!res)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		req_not_found(r, "campaign");
		return;
	}
	req_send_empty(r, 204);
	notify_campaign(r, "campaign.deleted", r->params[0], NULL);
}

void campaign_stats(request *r)
{
	const char *p[] = { r->user_id };
	PGresult *res = req_exec_or_fail(r, STMT_CAMPAIGN_STATS, p);
	if (res)
		req_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}
