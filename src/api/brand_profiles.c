/*
 * brand_profiles.c - CRUD for brand voice profiles (issue #10).
 *
 * Built like personas.c: one field table validates the body, which goes to
 * PostgreSQL as jsonb and comes back as the API's JSON (brand_profile_json).
 * A trigger increments the version on every update; a profile a campaign
 * uses cannot be deleted (the campaigns foreign key answers 409). What a
 * profile means for content is src/gen/brand.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "brand.h"
#include "handlers.h"
#include "platforms.h"
#include "query.h"
#include "schemas.h"

#define TERM_MAX 100

static const struct vfield reading_fields[] = {
	VINT("maxGrade", V_NULLABLE, 1, 20),
	VEND,
};

static const struct vfield preferred_fields[] = {
	VSTR("term", V_REQUIRED, 1, TERM_MAX),
	VSTRS("replaces", V_REQUIRED | V_UNIQUE, 1, 20, TERM_MAX),
	VEND,
};

static const struct vfield disclaimer_fields[] = {
	VSTR("text", V_REQUIRED, 1, 500),
	VENUMS("contentTypes", V_UNIQUE, 0, N_CONTENT_TYPES, content_type_names),
	VENUMS("platforms", V_UNIQUE, 0, N_PLATFORMS, platform_names),
	VEND,
};

static const struct vfield profile_fields[] = {
	VSTR("name", V_REQUIRED, 1, 200),
	VSTR("description", V_NULLABLE, 0, 5000),
	VSTR("voice", V_NULLABLE, 0, 2000),
	VINT("formality", 0, 1, 5),
	VENUM("emojiPolicy", 0, brand_emoji_names),
	VOBJ("readingLevel", V_NULLABLE, reading_fields),
	VOBJS("preferredTerms", 0, 0, 50, preferred_fields),
	VSTRS("forbiddenTerms", V_UNIQUE, 0, 100, TERM_MAX),
	VSTRS("competitors", V_UNIQUE, 0, 50, TERM_MAX),
	VOBJS("requiredDisclaimers", 0, 0, 10, disclaimer_fields),
	VSTRS("examples", 0, 0, 5, 2000),
	VEND,
};

const struct body_schema brand_profile_body_schemas[] = {
	{ "POST /api/brand-profiles", profile_fields, false },
	{ "PUT /api/brand-profiles/:id", profile_fields, false },
	{ "PATCH /api/brand-profiles/:id", profile_fields, true },
	{ .route = NULL },
};

/* A term is matched as words: it must have a letter or digit and no space at either end. */
static bool term_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (isalnum(*p) || *p >= 0x80)
			return true;
	return false;
}

static void check_terms(struct verrors *errs, json_object *list, const char *field, const char *key)
{
	if (!list || !json_object_is_type(list, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *v = json_object_array_get_idx(list, i);
		if (key)
			v = json_object_object_get(v, key);
		if (v && json_object_is_type(v, json_type_string) && !term_ok(json_object_get_string(v)))
			verrors_add(errs, key ? arena_printf(errs->arena, "%s[%zu].%s", field, i, key)
					      : arena_printf(errs->arena, "%s[%zu]", field, i),
				    "must contain a letter or digit and no leading or trailing space");
	}
}

/* The field table's rules plus the ones across fields: every error at once. */
static int body_or_fail(request *r, bool partial)
{
	struct verrors errs;
	if (req_validate_into(r, profile_fields, partial, &errs) > 0)
		return req_errors_or_fail(r, &errs);
	json_object *preferred = json_object_object_get(r->body, "preferredTerms");
	check_terms(&errs, json_object_object_get(r->body, "forbiddenTerms"), "forbiddenTerms", NULL);
	check_terms(&errs, json_object_object_get(r->body, "competitors"), "competitors", NULL);
	check_terms(&errs, preferred, "preferredTerms", "term");
	for (size_t i = 0; preferred && i < json_object_array_length(preferred); i++)
		check_terms(&errs, json_object_object_get(json_object_array_get_idx(preferred, i), "replaces"),
			    arena_printf(r->arena, "preferredTerms[%zu].replaces", i), NULL);
	if (errs.count)
		return req_errors_or_fail(r, &errs);
	/* What the profile says must not contradict itself (this body's lists; PATCH checks what it sends). */
	struct brand_profile p;
	brand_profile_parse(r->arena, r->body, &p);
	for (size_t i = 0; i < p.npreferred; i++) {
		for (size_t k = 0; k < p.nforbidden; k++)
			if (strcasecmp(p.preferred[i].term, p.forbidden[k]) == 0)
				verrors_add(&errs, arena_printf(r->arena, "preferredTerms[%zu].term", i),
					    "\"%s\" is also a forbidden term", p.preferred[i].term);
		for (size_t k = 0; k < p.ncompetitors; k++)
			if (strcasecmp(p.preferred[i].term, p.competitors[k]) == 0)
				verrors_add(&errs, arena_printf(r->arena, "preferredTerms[%zu].term", i),
					    "\"%s\" is also a competitor", p.preferred[i].term);
	}
	for (size_t i = 0; i < p.ndisclaimers; i++) {
		json_object *probe = json_object_new_object();
		json_object_object_add(probe, "contentBody", json_object_new_string(p.disclaimers[i].text));
		struct verrors found;
		verrors_init(&found, r->arena);
		if (brand_forbidden_errors(r->arena, &p, probe, &found))
			verrors_add(&errs, arena_printf(r->arena, "requiredDisclaimers[%zu].text", i), "%s",
				    found.head->message);
		json_object_put(probe);
	}
	return req_errors_or_fail(r, &errs);
}

static void send_row_or_404(request *r, PGresult *res, int status)
{
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "brand profile");
	else
		req_send_json(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void brand_profile_create(request *r)
{
	if (body_or_fail(r, false) < 0)
		return;
	const char *p[] = { r->user_id, r->body_text };
	send_row_or_404(r, req_exec_or_fail(r, STMT_BRAND_PROFILE_INSERT, p), 201);
}

void brand_profile_list(request *r)
{
	static const struct qparam none[] = { { .name = NULL } };
	struct list_params lp;
	if (query_parse_or_fail(r, none, &lp) < 0)
		return;
	const char *p[] = { r->user_id, lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_BRAND_PROFILE_LIST, p);
	if (res)
		list_send(r, res, atol(lp.limit));
}

void brand_profile_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	send_row_or_404(r, req_exec_or_fail(r, STMT_BRAND_PROFILE_GET, p), 200);
}

static void update(request *r, bool replace)
{
	if (body_or_fail(r, !replace) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], r->body_text, replace ? "true" : "false" };
	send_row_or_404(r, req_exec_or_fail(r, STMT_BRAND_PROFILE_UPDATE, p), 200);
}

void brand_profile_put(request *r)
{
	update(r, true);
}

void brand_profile_patch(request *r)
{
	update(r, false);
}

void brand_profile_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res;
	int rc = db_exec(r->app->db, r->arena, STMT_BRAND_PROFILE_DELETE, p, &res);
	if (rc < 0 && strcmp(db_sqlstate(r->app->db), "23503") == 0)
		req_problem(r, 409, "the brand profile is used by at least one campaign; change or delete those first");
	else if (rc < 0)
		req_db_fail(r, rc);
	else if (strcmp(PQcmdTuples(res), "0") == 0)
		req_not_found(r, "brand profile");
	else
		req_send_empty(r, 204);
}
