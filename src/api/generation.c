/*
 * generation.c - synchronous content generation: ai-status, generate-email,
 * generate-social, generate-ad-copy, generate-variations, batch-generate.
 *
 * Each endpoint validates its body, loads the campaign and/or persona named
 * in it (404 when not the caller's), checks the daily token limit (429),
 * runs the tasks through gen_run() concurrently (each call reserving its
 * tokens first: an item the limit has no room for fails with 429, see
 * usage.h), records usage, appends the
 * items to the campaign when save is true, and answers. An LLM failure is
 * the upstream's, not the client's: 503 (worth retrying) or 502.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "brand.h"
#include "brief.h"
#include "generate.h"
#include "handlers.h"
#include "notify.h"
#include "json.h"
#include "log.h"
#include "platforms.h"
#include "schemas.h"
#include "usage.h"

#define BRIEF_FIELDS                                          \
	VUUID("campaignId", V_NULLABLE),                      \
	VUUID("personaId", V_NULLABLE),                       \
	VUUID("brandProfileId", V_NULLABLE),                  \
	VSTR("product", V_NULLABLE, 1, 200),                  \
	VENUM("objective", V_NULLABLE, objective_names),      \
	VSTR("tone", V_NULLABLE, 0, 100),                     \
	VSTR("keywords", V_NULLABLE, 0, 500),                 \
	VSTR("customInstructions", V_NULLABLE, 0, 2000),      \
	VINT("creativityLevel", 0, 1, 10),                    \
	VBOOL("save", 0)

/* Each endpoint takes the platforms its content type is published on. */
static const struct vfield email_fields[] = {
	BRIEF_FIELDS, VENUM("platform", 0, content_types[CT_EMAIL].platforms), VEND
};
static const struct vfield social_fields[] = {
	BRIEF_FIELDS, VENUM("platform", V_REQUIRED, content_types[CT_SOCIAL_POST].platforms), VEND
};
static const struct vfield ad_fields[] = {
	BRIEF_FIELDS, VENUM("platform", V_REQUIRED, content_types[CT_AD_COPY].platforms), VEND
};
static const struct vfield variation_fields[] = {
	BRIEF_FIELDS,
	VUUID("contentId", 0),
	VINT("count", 0, 2, 5),
	VENUM("contentType", 0, content_type_names),
	VENUM("platform", 0, platform_names),
	VEND,
};
static const struct vfield batch_item_fields[] = {
	VENUM("contentType", V_REQUIRED, content_type_names),
	VENUM("platform", V_REQUIRED, platform_names),
	VINT("variant", 0, 0, 4),
	VEND,
};
static const struct vfield batch_fields[] = { BRIEF_FIELDS, VOBJS("items", V_REQUIRED, 1, 20, batch_item_fields), VEND };

const struct body_schema generation_body_schemas[] = {
	{ "POST /api/content/generate-email", email_fields, false },
	{ "POST /api/content/generate-social", social_fields, false },
	{ "POST /api/content/generate-ad-copy", ad_fields, false },
	{ "POST /api/content/generate-variations", variation_fields, false },
	{ "POST /api/content/batch-generate", batch_fields, false },
	{ .route = NULL },
};

/* Synchronous generation must answer before nginx gives up on us (fastcgi_read_timeout 65 s). */
#define SYNC_BUDGET_MS 50000

static const char campaign_full[] = "the campaign already holds the maximum of 500 content items";
static const char campaign_content_size[] = "the campaign's content is at its limit of 4 MiB (4194304 bytes)";

/* What a generation request refers to, loaded once. */
struct ctx {
	json_object *campaign, *persona;
	const struct brand_profile *brand; /* the body's brandProfileId, else the campaign's; NULL: none */
	const char *campaign_id;
	bool save;
	const struct usage_limit *exceeded; /* the limit a reservation was refused by, if any */
	const char *limit_error;	     /* its message: the error of the tasks it stopped */
};

static int field_error(request *r, const char *field, const char *message)
{
	struct verrors errs;
	verrors_init(&errs, r->arena);
	verrors_add(&errs, field, "%s", message);
	req_problem_fields(r, &errs);
	return -EINVAL;
}

/* 429 for a reached limit l, with Retry-After until its period ends. */
static void limit_problem(request *r, const struct usage_limit *l, const char *prefix)
{
	req_add_header(r, "Retry-After: %ld", usage_retry_after(l, time(NULL)));
	req_problem(r, 429, "%s%s", prefix, usage_limit_message(r->arena, l));
}

/* The brand profile named in the body (404 when not the caller's), else the campaign's. */
static int brand_or_fail(request *r, struct ctx *c)
{
	const char *id = vget_str(r->body, "brandProfileId");
	json_object *profile = c->campaign ? json_object_object_get(c->campaign, "brandProfile") : NULL;
	if (id) {
		const char *p[] = { r->user_id, id };
		PGresult *res = req_exec_or_fail(r, STMT_BRAND_PROFILE_GET, p);
		if (!res)
			return -EIO;
		if (PQntuples(res) == 0) {
			req_not_found(r, "brand profile");
			return -ENOENT;
		}
		if (!(profile = req_json_value_or_fail(r, res, 0, 0)))
			return -EIO;
	}
	struct brand_profile *b = arena_alloc(r->arena, sizeof(*b));
	if (brand_profile_parse(r->arena, profile, b) == 0)
		c->brand = b;
	return 0;
}

/* Validates, loads campaign/persona, checks the token limit; answers and returns <0 on failure. */
static int prepare_or_fail(request *r, const struct vfield *fields, struct ctx *c)
{
	if (req_validate_or_fail(r, fields) < 0)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->campaign_id = vget_str(r->body, "campaignId");
	json_object *save;
	c->save = json_object_object_get_ex(r->body, "save", &save) && json_object_get_boolean(save);
	if (c->save && !c->campaign_id)
		return field_error(r, "save", "saving needs a campaignId");
	if (c->campaign_id) {
		const char *p[] = { r->user_id, c->campaign_id, NULL };
		PGresult *res = req_exec_or_fail(r, STMT_GEN_CONTEXT, p);
		if (!res)
			return -EIO;
		if (PQntuples(res) == 0) {
			req_not_found(r, "campaign");
			return -ENOENT;
		}
		if (!(c->campaign = req_json_value_or_fail(r, res, 0, 0)))
			return -EIO;
	}
	const char *persona_id = vget_str(r->body, "personaId");
	if (persona_id) {
		const char *p[] = { r->user_id, persona_id };
		PGresult *res = req_exec_or_fail(r, STMT_PERSONA_GET, p);
		if (!res)
			return -EIO;
		if (PQntuples(res) == 0) {
			req_not_found(r, "persona");
			return -ENOENT;
		}
		if (!(c->persona = req_json_value_or_fail(r, res, 0, 0)))
			return -EIO;
	}
	if (brand_or_fail(r, c) < 0)
		return -ENOENT;
	const char *usage;
	const struct usage_limit *reached;
	int rc = usage_check(r->app->db, r->arena, r->app->cfg, r->user_id, &usage, &reached);
	if (rc == -EDQUOT) {
		limit_problem(r, reached, "");
		return rc;
	}
	if (rc < 0) {
		req_db_fail(r, rc);
		return rc;
	}
	return 0;
}

static void task_init(request *r, struct gen_task *t, const struct ctx *c, const char *type, const char *platform,
		      int variant)
{
	memset(t, 0, sizeof(*t));
	brief_fill(r->arena, &t->brief, &t->score, r->body, c->campaign, c->persona);
	t->brief.content_type = type;
	t->brief.platform = platform;
	t->brief.variant = variant;
	t->brief.brand = c->brand;
}

/* Usage that could not be written: the calls happened, so say so once, with the request. */
static void log_usage_lost(request *r, int settles)
{
	buf b;
	buf_init(&b, r->arena, 512);
	log_begin(&b, LOG_WARN);
	log_str(&b, "requestId", r->request_id);
	log_str(&b, "event", "llm usage not recorded");
	log_int(&b, "failedSettles", settles);
	log_str(&b, "msg", db_error(r->app->db));
	log_end(&b);
}

static bool within_budget(void *arg)
{
	return now_us() < *(const int64_t *)arg;
}

/*
 * Takes one of the caller's generation_concurrency_per_user slots (a session
 * advisory lock: a child that dies frees it with its connection). All taken:
 * answers 429 and returns -EBUSY. *ret_slot is the slot number as text.
 */
static int slot_take_or_fail(request *r, const char **ret_slot)
{
	const char *p[] = { r->user_id, arena_printf(r->arena, "%ld", r->app->cfg->generation_concurrency_per_user) };
	PGresult *res = req_exec_or_fail(r, STMT_GEN_SLOT_TAKE, p);
	if (!res)
		return -EIO;
	if (PQntuples(res) == 0) {
		req_account_gone(r);
		return -EACCES;
	}
	if (PQgetisnull(res, 0, 0)) {
		req_add_header(r, "Retry-After: 5");
		req_problem(r, 429, "%ld generation requests of this account are already running; wait for one to finish "
			    "or use a generation job", r->app->cfg->generation_concurrency_per_user);
		return -EBUSY;
	}
	*ret_slot = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	return 0;
}

static void slot_give(request *r, const char *slot)
{
	const char *p[] = { r->user_id, slot };
	PGresult *res;
	if (db_exec(r->app->db, r->arena, STMT_GEN_SLOT_GIVE, p, &res) < 0) {
		buf b; /* the slot stays taken until this child's connection closes */
		buf_init(&b, r->arena, 256);
		log_begin(&b, LOG_WARN);
		log_str(&b, "requestId", r->request_id);
		log_str(&b, "event", "generation slot not released");
		log_str(&b, "msg", db_error(r->app->db));
		log_end(&b);
	}
}

/*
 * Runs in one of the caller's slots, records usage, saves (replacing
 * item_json with the stored item). Returns <0 after answering when no slot is
 * free; otherwise the tasks' states say how each went.
 */
static int run_tasks_or_fail(request *r, struct ctx *c, struct gen_task *tasks, size_t n)
{
	const char *slot;
	if (slot_take_or_fail(r, &slot) < 0)
		return -EBUSY;
	int64_t deadline = now_us() + SYNC_BUDGET_MS * 1000LL;
	struct gen_options o = { .concurrency = (int)r->app->cfg->llm_concurrency, .alive = within_budget,
				 .alive_arg = &deadline };
	struct usage_ctx u = { .d = r->app->db, .a = r->arena, .cfg = r->app->cfg, .user_id = r->user_id,
			       .campaign_id = c->campaign_id };
	usage_hooks(&o, &u);
	gen_run(r->app->cfg, r->arena, tasks, n, &o);
	slot_give(r, slot);
	for (size_t i = 0; i < n; i++)
		if (tasks[i].state == GEN_CANCELLED) { /* only the budget cancels a request's tasks */
			tasks[i].error = arena_printf(r->arena, "generation took longer than %d s", SYNC_BUDGET_MS / 1000);
			tasks[i].retryable = true;
		}
	if (usage_record(&u, tasks, n) < 0 || u.failures)
		log_usage_lost(r, u.failures);
	if (u.exceeded) {
		c->exceeded = usage_limit_find(u.exceeded);
		c->limit_error = usage_limit_message(r->arena, c->exceeded);
	}
	for (size_t i = 0; i < n; i++)
		if (tasks[i].error == gen_token_limit_error && c->limit_error)
			tasks[i].error = c->limit_error;
	for (size_t i = 0; c->save && i < n; i++) {
		if (tasks[i].state != GEN_DONE)
			continue;
		const char *p[] = { r->user_id, c->campaign_id, tasks[i].item_json };
		PGresult *res;
		int rc = db_exec(r->app->db, r->arena, STMT_CONTENT_APPEND, p, &res);
		if (rc == 0 && PQntuples(res) == 1) {
			tasks[i].item_json = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
			notify_content(r, "content.created", c->campaign_id, NULL, tasks[i].item_json);
		} else if (rc < 0) {
			tasks[i].state = GEN_FAILED;
			const char *constraint = db_constraint(r->app->db);
			tasks[i].error = strcmp(constraint, "campaigns_content_check") == 0	 ? campaign_full
					 : strcmp(constraint, "campaigns_content_size_check") == 0 ? campaign_content_size
												    : "the item could not be saved";
		}
	}
	return 0;
}

static int failure_status(const struct ctx *c, const struct gen_task *t)
{
	if (t->error == campaign_full || t->error == campaign_content_size)
		return 409;
	if (t->error == gen_token_limit_error || (c->limit_error && t->error == c->limit_error))
		return 429;
	if (t->brand_failed)
		return 422; /* the profile asks for what the platform cannot hold: the client's to change */
	return t->retryable ? 503 : 502;
}

static void problem_json(buf *b, const struct ctx *c, const struct gen_task *t)
{
	int status = failure_status(c, t);
	buf_printf(b, "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":",
		   status == 503 ? "Service Unavailable" : status == 409 ? "Conflict" : status == 429 ? "Too Many Requests"
		   : status == 422 ? "Unprocessable Content" : "Bad Gateway", status);
	buf_json_str(b, t->error);
	buf_putc(b, '}');
}

/* The answer when nothing was generated: t's failure, with Retry-After where waiting helps. */
static void fail_generation(request *r, const struct ctx *c, const struct gen_task *t)
{
	int status = failure_status(c, t);
	if (status == 503)
		req_add_header(r, "Retry-After: 5");
	if (status == 429) {
		limit_problem(r, c->exceeded ? c->exceeded : usage_limit_find("daily_tokens"), "generation failed: ");
		return;
	}
	req_problem(r, status, "generation failed: %s", t->error);
}

/* One item: {content: item}, or the failure as a problem. */
static void generate_one(request *r, const struct vfield *fields, const char *type, const char *fallback_platform)
{
	struct ctx c;
	if (prepare_or_fail(r, fields, &c) < 0)
		return;
	const char *platform = vget_str(r->body, "platform");
	struct gen_task t;
	task_init(r, &t, &c, type, platform ? platform : fallback_platform, 0);
	if (run_tasks_or_fail(r, &c, &t, 1) < 0)
		return;
	if (t.state != GEN_DONE) {
		fail_generation(r, &c, &t);
		return;
	}
	buf b;
	buf_init(&b, r->arena, strlen(t.item_json) + 16);
	buf_printf(&b, "{\"content\":%s}", t.item_json);
	req_send_buf(r, c.save ? 201 : 200, &b);
}

void gen_email(request *r)
{
	generate_one(r, email_fields, "email", "email");
}

void gen_social(request *r)
{
	generate_one(r, social_fields, "social_post", NULL);
}

void gen_ad_copy(request *r)
{
	generate_one(r, ad_fields, "ad_copy", NULL);
}

/* The stored item's type and platform, for variations of it. */
static int item_shape_or_fail(request *r, const struct ctx *c, const char *content_id, const char **type,
			      const char **platform)
{
	const char *p[] = { r->user_id, c->campaign_id, content_id };
	PGresult *res = req_exec_or_fail(r, STMT_CONTENT_CONTEXT, p);
	if (!res)
		return -EIO;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 2)) {
		req_not_found(r, "content item");
		return -ENOENT;
	}
	json_object *item = req_json_value_or_fail(r, res, 0, 2);
	if (!item)
		return -EIO;
	*type = arena_strdup(r->arena, json_object_get_string(json_object_object_get(item, "contentType")));
	*platform = arena_strdup(r->arena, json_object_get_string(json_object_object_get(item, "platform")));
	return 0;
}

void gen_variations(request *r)
{
	struct ctx c;
	if (prepare_or_fail(r, variation_fields, &c) < 0)
		return;
	const char *content_id = vget_str(r->body, "contentId");
	const char *type = vget_str(r->body, "contentType"), *platform = vget_str(r->body, "platform");
	if (content_id && !c.campaign_id) {
		field_error(r, "campaignId", "variations of a stored item need its campaignId");
		return;
	}
	if (content_id && item_shape_or_fail(r, &c, content_id, &type, &platform) < 0)
		return;
	if (!type || !platform) {
		field_error(r, type ? "platform" : "contentType", "give contentId, or contentType and platform");
		return;
	}
	if (!platform_accepts(type, platform)) {
		field_error(r, "platform", arena_printf(r->arena, "%s content cannot be published on %s", type, platform));
		return;
	}
	int count = (int)vget_int(r->body, "count", 3);
	struct gen_task *tasks = arena_alloc(r->arena, (size_t)count * sizeof(*tasks));
	for (int i = 0; i < count; i++) /* variant 0 is the plain brief: variations start at 1 */
		task_init(r, &tasks[i], &c, type, platform, i + 1);
	if (run_tasks_or_fail(r, &c, tasks, (size_t)count) < 0)
		return;

	buf b;
	buf_init(&b, r->arena, 4096);
	buf_puts(&b, "{\"variations\":[");
	int done = 0;
	for (int i = 0; i < count; i++)
		if (tasks[i].state == GEN_DONE)
			buf_printf(&b, "%s%s", done++ ? "," : "", tasks[i].item_json);
	buf_puts(&b, "],\"errors\":[");
	for (int i = 0, k = 0; i < count; i++)
		if (tasks[i].state != GEN_DONE) {
			if (k++)
				buf_putc(&b, ',');
			problem_json(&b, &c, &tasks[i]);
		}
	buf_puts(&b, "]}");
	if (done == 0) {
		fail_generation(r, &c, &tasks[0]);
		return;
	}
	req_send_buf(r, c.save ? 201 : 200, &b);
}

void gen_batch(request *r)
{
	struct ctx c;
	if (prepare_or_fail(r, batch_fields, &c) < 0)
		return;
	json_object *items = json_object_object_get(r->body, "items");
	size_t n = json_object_array_length(items);
	struct gen_task *tasks = arena_alloc(r->arena, n * sizeof(*tasks));
	bool *possible = arena_zalloc(r->arena, n * sizeof(*possible));
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i);
		const char *type = vget_str(it, "contentType"), *platform = vget_str(it, "platform");
		task_init(r, &tasks[i], &c, type, platform, (int)vget_int(it, "variant", 0));
		possible[i] = platform_accepts(type, platform);
	}
	/* Impossible pairs are reported in place; the rest run together. */
	struct gen_task *run = arena_alloc(r->arena, n * sizeof(*run));
	size_t nrun = 0;
	for (size_t i = 0; i < n; i++)
		if (possible[i])
			run[nrun++] = tasks[i];
	if (run_tasks_or_fail(r, &c, run, nrun) < 0)
		return;

	buf b;
	buf_init(&b, r->arena, 8192);
	buf_puts(&b, "{\"items\":[");
	size_t stored = 0;
	for (size_t i = 0, k = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		if (!possible[i]) {
			buf_printf(&b, "{\"type\":\"about:blank\",\"title\":\"Unprocessable Content\",\"status\":422,"
				       "\"detail\":\"%s content cannot be published on %s\"}",
				   tasks[i].brief.content_type, tasks[i].brief.platform);
			continue;
		}
		struct gen_task *t = &run[k++];
		if (t->state == GEN_DONE) {
			buf_puts(&b, t->item_json);
			stored++;
		} else {
			problem_json(&b, &c, t);
		}
	}
	buf_puts(&b, "]}");
	req_send_buf(r, c.save && stored ? 201 : 200, &b); /* 201 only when something was created */
}

void gen_ai_status(request *r)
{
	const char *usage = "null";
	const struct usage_limit *reached = NULL;
	int rc = usage_check(r->app->db, r->arena, r->app->cfg, r->user_id, &usage, &reached);
	if (rc < 0 && rc != -EDQUOT) {
		req_db_fail(r, rc);
		return;
	}
	const struct config *cfg = r->app->cfg;
	buf b;
	buf_init(&b, r->arena, 256);
	buf_printf(&b, "{\"provider\":\"%s\",\"model\":", gen_provider(cfg));
	buf_json_str(&b, gen_model(cfg));
	buf_printf(&b, ",\"promptVersion\":\"%s\",\"available\":%s,\"usage\":%s,\"price\":", PROMPT_VERSION,
		   rc == -EDQUOT ? "false" : "true", usage);
	const struct llm_price *price = cfg->llm_api_key ? cfg->llm_model_price : NULL;
	if (price || !cfg->llm_api_key) {
		char in[32], out[32];
		money_format(price ? price->input : 0, in);
		money_format(price ? price->output : 0, out);
		buf_printf(&b, "{\"inputPerMillion\":%s,\"outputPerMillion\":%s,\"currency\":\"%s\"}", in, out,
			   cfg->llm_currency);
	} else {
		buf_puts(&b, "null");
	}
	buf_putc(&b, '}');
	req_send_buf(r, 200, &b);
}
