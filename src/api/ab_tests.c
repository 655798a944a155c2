/*
 * ab_tests.c - the A/B test resource (issue #12 section 3): create and list
 * a campaign's tests, get, patch (drafts only), delete (not while running),
 * start, stop, promote a winner by hand, and the results.
 *
 * The rules of the row live in SQL (sql/0016_ab_tests.sql: the variants'
 * CHECK, the status moves' trigger, the manual winner). Here: the body's
 * rules, the variants checked against the campaign's items (so that each bad
 * one is named), the power analysis (requiredSamplePerVariant, src/abtest/)
 * computed before the row is written, and the results.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "abtest.h"
#include "buf.h"
#include "handlers.h"
#include "json.h"
#include "query.h"
#include "schemas.h"

static const char *const statuses[] = { "draft", "running", "completed", "stopped", NULL };

static const struct vfield variant_fields[] = {
	VSTR("key", 0, 1, 1), /* as a test shows it (API.md): the key its place gives, A.. */
	VUUID("contentId", V_REQUIRED),
	VNUMBER("weight", 0, 0.001, 1000),
	VEND,
};

static const struct vfield test_fields[] = {
	VSTR("name", V_REQUIRED, 1, 200),
	VENUM("metric", V_REQUIRED, abtest_metric_names),
	VOBJS("variants", V_REQUIRED, 2, ABTEST_MAX_VARIANTS, variant_fields),
	VNUMBER("confidenceLevel", 0, 0.8, 0.99),
	VNUMBER("minimumDetectableEffect", 0, 0.01, 10),
	VNUMBER("power", 0, 0.5, 0.99),
	VNUMBER("baselineRate", 0, 0.0001, 0.9999),
	VEND,
};

static const struct vfield winner_fields[] = {
	VSTR("variant", V_REQUIRED, 1, 1),
	VSTR("reason", V_NULLABLE, 0, 1000),
	VEND,
};

const struct body_schema ab_test_body_schemas[] = {
	{ "POST /api/campaigns/:id/ab-tests", test_fields, false },
	{ "PATCH /api/ab-tests/:id", test_fields, true },
	{ "POST /api/ab-tests/:id/winner", winner_fields, false },
	{ .route = NULL },
};

/* The errors the functions and triggers of 0016 raise, by SQLSTATE. */
static const struct sqlstate_problem ab_errors[] = {
	{ "ACT01", 422, "variants", "every variant must be a content item of the campaign" },
	{ "ACT02", 422, "variant", "no such variant in this test" },
	{ "55000", 409, NULL, "the A/B test's status does not allow this (see its status)" },
	{ "23503", 409, NULL, "an email send uses this A/B test (its recipients record its variants), so it is kept" },
};

/* Runs a statement; on failure answers (the table above, else req_db_fail) and returns NULL. */
static PGresult *exec_or_fail(request *r, enum stmt id, const char *const *p)
{
	return req_exec_mapped(r, id, p, ab_errors, sizeof(ab_errors) / sizeof(ab_errors[0]));
}

/* Sends column 0 of a one-row result, or 404 when there is no row or it is NULL. */
static void send_row(request *r, PGresult *res, int status)
{
	if (!res)
		return;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		req_not_found(r, "A/B test");
		return;
	}
	req_send_json(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

/* A test's definition as the row stores it: numbers as their JSON text, variants built with keys. */
struct definition {
	const char *name, *metric, *variants;
	const char *confidence, *mde, *power, *baseline;
	size_t n_variants;
	char required[24];
};

/* member of body when it is there, else of current (PATCH), else NULL */
static json_object *pick(json_object *body, json_object *current, const char *name)
{
	json_object *v;
	if (json_object_object_get_ex(body, name, &v))
		return v;
	return current ? json_object_object_get(current, name) : NULL;
}

static const char *number_text(json_object *v, const char *fallback)
{
	return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : fallback;
}

/* The baseline's text when neither the body nor (for the same metric) the current test gives one. */
static const char *default_baseline(arena *a, const char *metric)
{
	return arena_printf(a, "%g", abtest_default_baseline(metric));
}

/*
 * Checks the variants against the campaign's items ({id: contentType}) and
 * each other, and writes them as [{key, contentId, weight}]: keys A.. in
 * order (a key sent, as a test shows its variants, must be that one), ids in
 * lower case, weight 1 when not given.
 */
static const char *variants_or_errors(arena *a, json_object *variants, json_object *items, struct verrors *errs)
{
	buf b;
	buf_init(&b, a, 256);
	buf_putc(&b, '[');
	size_t n = json_object_array_length(variants);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(variants, i);
		/* validated: a UUID, in lower case (validate.c) */
		const char *id = json_object_get_string(json_object_object_get(v, "contentId"));
		const char *path = arena_printf(a, "variants[%zu].contentId", i);
		if (!json_object_object_get(items, id))
			verrors_add(errs, path, "is not a content item of this campaign");
		for (size_t k = 0; k < i; k++)
			if (strcmp(id, json_object_get_string(json_object_object_get(
						   json_object_array_get_idx(variants, k), "contentId"))) == 0)
				verrors_add(errs, path, "repeats variants[%zu]: the variants must be different items", k);
		const char *key = json_object_get_string(json_object_object_get(v, "key"));
		if (key && (key[0] != 'A' + (int)i || key[1]))
			verrors_add(errs, arena_printf(a, "variants[%zu].key", i),
				    "must be %c: variants are keyed A, B, C... in order", 'A' + (int)i);
		json_object *w = json_object_object_get(v, "weight");
		buf_printf(&b, "%s{\"key\":\"%c\",\"contentId\":\"%s\",\"weight\":%s}", i ? "," : "", 'A' + (int)i, id,
			   w ? json_object_get_string(w) : "1");
	}
	buf_putc(&b, ']');
	return buf_cstr(&b);
}

/*
 * The definition from the body over current (NULL when creating), checked
 * against the campaign's items, with its required sample. 0, or -EINVAL
 * having answered 422.
 */
static int definition_or_fail(request *r, json_object *current, json_object *items, struct definition *d)
{
	json_object *body = r->body;
	struct verrors errs;
	verrors_init(&errs, r->arena);
	d->name = json_object_get_string(pick(body, current, "name"));
	d->metric = json_object_get_string(pick(body, current, "metric"));
	json_object *variants = json_object_object_get(body, "variants");
	if (variants) {
		d->variants = variants_or_errors(r->arena, variants, items, &errs);
		d->n_variants = json_object_array_length(variants);
	} else {
		d->variants = json_object_to_json_string_ext(json_object_object_get(current, "variants"),
							     JSON_C_TO_STRING_PLAIN);
		d->n_variants = json_object_array_length(json_object_object_get(current, "variants"));
	}
	d->confidence = number_text(pick(body, current, "confidenceLevel"), "0.95");
	d->mde = number_text(pick(body, current, "minimumDetectableEffect"), "0.1");
	d->power = number_text(pick(body, current, "power"), "0.8");
	/* a new metric without a new baseline takes the metric's default */
	const char *old_metric = current ? json_object_get_string(json_object_object_get(current, "metric")) : NULL;
	bool same_metric = old_metric && strcmp(d->metric, old_metric) == 0;
	json_object *baseline = json_object_object_get(body, "baselineRate");
	if (!baseline && same_metric)
		baseline = json_object_object_get(current, "baselineRate");
	d->baseline = number_text(baseline, default_baseline(r->arena, d->metric));

	double p0 = strtod(d->baseline, NULL), mde = strtod(d->mde, NULL);
	uint64_t n = 0;
	if (p0 * (1 + mde) >= 1)
		verrors_add(&errs, json_object_object_get(body, "baselineRate") ? "baselineRate" : "minimumDetectableEffect",
			    "baselineRate x (1 + minimumDetectableEffect) must stay below 1 (got %g x %g)", p0, 1 + mde);
	else if (errs.count == 0 && abtest_required_sample(p0, mde, strtod(d->confidence, NULL), strtod(d->power, NULL),
							    d->n_variants, &n) < 0)
		verrors_add(&errs, "minimumDetectableEffect", "too small to test: the sample would exceed 2^53");
	if (req_errors_or_fail(r, &errs) < 0)
		return -EINVAL;
	snprintf(d->required, sizeof(d->required), "%llu", (unsigned long long)n);
	return 0;
}

void ab_test_create(request *r)
{
	struct verrors errs;
	if (req_validate_into(r, test_fields, false, &errs) > 0) {
		req_errors_or_fail(r, &errs);
		return;
	}
	const char *q[] = { r->user_id, r->params[0] };
	PGresult *c = req_exec_or_fail(r, STMT_AB_CAMPAIGN_ITEMS, q);
	if (!c)
		return;
	if (PQntuples(c) == 0) {
		req_not_found(r, "campaign");
		return;
	}
	json_object *items = req_json_value_or_fail(r, c, 0, 0);
	struct definition d;
	if (!items || definition_or_fail(r, NULL, items, &d) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], d.name, d.metric, d.variants, d.confidence, d.mde, d.power,
			    d.baseline, d.required };
	PGresult *res = exec_or_fail(r, STMT_AB_TEST_INSERT, p);
	if (res && PQntuples(res) == 0)
		req_not_found(r, "campaign");
	else
		send_row(r, res, 201);
}

void ab_test_list(request *r)
{
	static const struct qparam params[] = {
		{ .name = "status", .type = V_ENUM, .values = statuses },
		{ .name = NULL },
	};
	campaign_children_list(r, params, STMT_AB_TEST_LIST);
}

void ab_test_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	send_row(r, req_exec_or_fail(r, STMT_AB_TEST_GET, p), 200);
}

/* After a statement that matched no row: 404 when the test is not the caller's, else 409 with why. */
static void not_found_or_conflict(request *r, const char *why)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res = req_exec_or_fail(r, STMT_AB_TEST_STATUS, p);
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "A/B test");
	else
		req_problem(r, 409, "the A/B test is %s: %s", PQgetvalue(res, 0, 0), why);
}

void ab_test_patch(request *r)
{
	struct verrors errs;
	if (req_validate_into(r, test_fields, true, &errs) > 0) {
		req_errors_or_fail(r, &errs);
		return;
	}
	const char *q[] = { r->user_id, r->params[0] };
	PGresult *cur = req_exec_or_fail(r, STMT_AB_TEST_GET, q);
	if (!cur)
		return;
	if (PQntuples(cur) == 0) {
		req_not_found(r, "A/B test");
		return;
	}
	json_object *current = req_json_value_or_fail(r, cur, 0, 0), *items = req_json_value_or_fail(r, cur, 0, 1);
	if (!current || !items)
		return;
	if (strcmp(json_object_get_string(json_object_object_get(current, "status")), "draft") != 0) {
		req_problem(r, 409, "only a draft A/B test can be changed (this one is %s)",
			    json_object_get_string(json_object_object_get(current, "status")));
		return;
	}
	struct definition d;
	if (definition_or_fail(r, current, items, &d) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], d.name, d.metric, d.variants, d.confidence, d.mde, d.power,
			    d.baseline, d.required };
	PGresult *res = exec_or_fail(r, STMT_AB_TEST_UPDATE, p);
	if (res && PQntuples(res) == 0)
		not_found_or_conflict(r, "only a draft can be changed");
	else
		send_row(r, res, 200);
}

void ab_test_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res = exec_or_fail(r, STMT_AB_TEST_DELETE, p);
	if (!res)
		return;
	if (PQntuples(res) == 0)
		not_found_or_conflict(r, "stop it before deleting it");
	else
		req_send_empty(r, 204);
}

/* Answers with the test a status change returned, and tells the owner's channel. */
static void changed(request *r, PGresult *res, const char *action)
{
	send_row(r, res, 200);
	if (r->status != 200)
		return;
	json_object *t;
	if (json_parse_trusted(r->arena, PQgetvalue(res, 0, 0), &t) == 0)
		req_notify(r, json_object_get_string(json_object_object_get(t, "campaignId")),
			   arena_printf(r->arena, "{\"kind\":\"abtest.%s\",\"abTestId\":\"%s\",\"status\":\"%s\"}", action,
					r->params[0], json_object_get_string(json_object_object_get(t, "status"))));
}

static void move(request *r, const char *action)
{
	const char *p[] = { r->user_id, r->params[0], action };
	changed(r, exec_or_fail(r, STMT_AB_TEST_MOVE, p), action);
}

void ab_test_start(request *r)
{
	move(r, "start");
}

void ab_test_stop(request *r)
{
	move(r, "stop");
}

void ab_test_winner(request *r)
{
	if (req_validate_or_fail(r, winner_fields) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], vget_str(r->body, "variant"), vget_str(r->body, "reason") };
	changed(r, exec_or_fail(r, STMT_AB_TEST_PROMOTE, p), "winner");
}

void ab_test_results(request *r)
{
	struct abtest t;
	int rc = abtest_load(r->app->db, r->arena, r->user_id, r->params[0], &t);
	if (rc == -ENOENT) {
		req_not_found(r, "A/B test");
		return;
	}
	if (rc < 0) {
		req_db_fail(r, rc);
		return;
	}
	if (abtest_evaluate(&t) < 0) {
		req_problem(r, 500, "the A/B test's counts could not be evaluated");
		return;
	}
	const char *json = abtest_results_json(r->arena, &t);
	req_send_json(r, 200, json, strlen(json));
}
