/*
 * generation.c - content-generation jobs: a whole campaign, or one item.
 *
 * generate-campaign writes content types x platforms x variations (from the
 * job payload, else the campaign's generationSettings, else a default), each
 * item appended to the campaign as soon as it is ready, progress after every
 * item. A cancelled or failed job keeps what it finished and says so in its
 * result. Items carry metadata.slot, so an attempt after a crash or rescue
 * skips what an earlier attempt already stored. Every LLM call reserves its
 * tokens against the owner's daily limit first (usage.h): items the limit
 * has no room for fail with gen_token_limit_error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "brand.h"
#include "brief.h"
#include "buf.h"
#include "generate.h"
#include "handlers.h"
#include "json.h"
#include "platforms.h"
#include "usage.h"


struct run {
	struct job *job;
	int total, done, stored;
	buf ids;
};

/* The strings of payload[key], else settings[key], else fallback. */
static const char *const *choose(arena *a, json_object *payload, json_object *settings, const char *key,
				 const char *const *fallback)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(payload, key, &v) && !(settings && json_object_object_get_ex(settings, key, &v)))
		return fallback;
	if (!v || !json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return fallback;
	size_t n = json_object_array_length(v);
	const char **out = arena_alloc(a, (n + 1) * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = json_object_get_string(json_object_array_get_idx(v, i));
	out[n] = NULL;
	return out;
}

static bool slot_done(json_object *done, const char *type, const char *platform, int variant, arena *a)
{
	const char *slot = arena_printf(a, "%s/%s/%d", type, platform, variant);
	for (size_t i = 0; done && i < json_object_array_length(done); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(done, i)), slot) == 0)
			return true;
	return false;
}

static bool alive(void *arg)
{
	return job_alive(((struct run *)arg)->job);
}

/* Stores a finished item and the job's progress in one commit. */
static void finished(struct gen_task *t, void *arg)
{
	struct run *run = arg;
	struct job *j = run->job;
	run->done++;
	char attempt[16], done[16], total[16];
	snprintf(attempt, sizeof(attempt), "%d", j->attempt);
	snprintf(done, sizeof(done), "%d", run->done);
	snprintf(total, sizeof(total), "%d", run->total);
	const char *p[] = { j->user_id, j->campaign_id, t->state == GEN_DONE ? t->item_json : NULL, j->id, attempt,
			    job_worker_id(j), done, total };
	PGresult *res;
	int rc = db_exec(job_db(j), j->arena, STMT_JOB_APPEND_ITEM, p, &res);
	if (rc == 0 && strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		job_lost(j);
	if (t->state != GEN_DONE)
		return;
	json_object *stored;
	if (rc == 0 && !PQgetisnull(res, 0, 0) && json_parse_trusted(j->arena, PQgetvalue(res, 0, 0), &stored) == 0) {
		buf_printf(&run->ids, "%s\"%s\"", run->stored++ ? "," : "",
			   json_object_get_string(json_object_object_get(stored, "id")));
	} else {
		t->state = GEN_FAILED;
		t->error = "the item could not be stored (campaign deleted or full)";
	}
}

static const char *result_json(struct job *j, struct run *run, struct gen_task *tasks, size_t n, int skipped,
			       bool cancelled)
{
	buf b;
	buf_init(&b, j->arena, 1024);
	int failed = 0;
	for (size_t i = 0; i < n; i++)
		failed += tasks[i].state == GEN_FAILED;
	buf_printf(&b, "{\"total\":%d,\"generated\":%d,\"failed\":%d,\"alreadyStored\":%d,\"cancelled\":%s,"
		       "\"itemIds\":[%.*s],\"errors\":[",
		   run->total + skipped, run->stored, failed, skipped, cancelled ? "true" : "false", (int)run->ids.len,
		   run->ids.data);
	for (size_t i = 0, k = 0; i < n; i++) {
		if (tasks[i].state != GEN_FAILED)
			continue;
		buf_printf(&b, "%s{\"contentType\":\"%s\",\"platform\":\"%s\",\"variant\":%d,\"error\":", k++ ? "," : "",
			   tasks[i].brief.content_type, tasks[i].brief.platform, tasks[i].brief.variant);
		buf_json_str(&b, tasks[i].error);
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}");
	return buf_cstr(&b);
}

static enum job_outcome generate(struct job *j, bool single)
{
	const struct config *cfg = job_config(j);
	if (!j->user_id || !j->campaign_id) {
		j->error = "a generation job needs an owner and a campaign";
		return JOB_FAILED;
	}
	const char *p[] = { j->user_id, j->campaign_id, j->id };
	PGresult *res;
	if (db_exec(job_db(j), j->arena, STMT_GEN_CONTEXT, p, &res) < 0) {
		j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
		return JOB_RETRY;
	}
	if (PQntuples(res) == 0) {
		j->error = "the campaign no longer exists";
		return JOB_FAILED;
	}
	long long used;
	int rc = usage_allowed(job_db(j), j->arena, cfg, j->user_id, &used);
	if (rc == -EDQUOT) {
		j->error = arena_printf(j->arena, "the owner's daily token limit of %ld is used up", cfg->daily_token_limit);
		return JOB_FAILED;
	}
	if (rc < 0) {
		j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
		return JOB_RETRY;
	}
	json_object *campaign;
	if (json_parse_trusted(j->arena, PQgetvalue(res, 0, 0), &campaign) < 0) {
		j->error = "the campaign's stored JSON does not parse";
		return JOB_FAILED;
	}
	json_object *settings = json_object_object_get(campaign, "generationSettings");
	json_object *done_slots = json_object_object_get(campaign, "doneSlots");

	const char *const *types, *const *platforms;
	int variations = 1;
	if (single) {
		const char **one_type = arena_zalloc(j->arena, 2 * sizeof(char *));
		const char **one_platform = arena_zalloc(j->arena, 2 * sizeof(char *));
		one_type[0] = vget_str(j->payload, "contentType");
		one_platform[0] = vget_str(j->payload, "platform");
		types = one_type;
		platforms = one_platform;
		if (!types[0] || !platforms[0]) {
			j->error = "generate-single needs contentType and platform";
			return JOB_FAILED;
		}
	} else {
		types = choose(j->arena, j->payload, settings, "contentTypes", job_default_types);
		platforms = choose(j->arena, j->payload, settings, "platforms", job_default_platforms);
		variations = (int)vget_int(j->payload, "variations", settings ? vget_int(settings, "variations", 1) : 1);
		if (variations < 1 || variations > 5)
			variations = 1;
	}

	struct brand_profile *brand = arena_alloc(j->arena, sizeof(*brand));
	if (brand_profile_parse(j->arena, json_object_object_get(campaign, "brandProfile"), brand) < 0)
		brand = NULL; /* the campaign has none */
	size_t cap = 3 * 6 * 5, n = 0;
	int skipped = 0;
	struct gen_task *tasks = arena_zalloc(j->arena, cap * sizeof(*tasks));
	for (const char *const *t = types; *t; t++)
		for (const char *const *pl = platforms; *pl; pl++)
			for (int v = 0; v < variations && n < cap; v++) {
				if (!platform_accepts(*t, *pl))
					continue;
				if (slot_done(done_slots, *t, *pl, v, j->arena)) {
					skipped++;
					continue;
				}
				brief_fill(j->arena, &tasks[n].brief, &tasks[n].score, NULL, campaign, NULL);
				tasks[n].brief.content_type = *t;
				tasks[n].brief.platform = *pl;
				tasks[n].brief.variant = v;
				tasks[n].brief.brand = brand;
				n++;
			}
	if (n == 0 && skipped == 0) {
		j->error = "none of the chosen content types can be published on the chosen platforms";
		return JOB_FAILED;
	}

	struct run run = { .job = j, .total = (int)n };
	buf_init(&run.ids, j->arena, 512);
	job_progress(j, 0, run.total);
	struct gen_options o = {
		.job_id = j->id,
		.concurrency = (int)cfg->llm_concurrency,
		.alive = alive,
		.alive_arg = &run,
		.finished = finished,
		.finished_arg = &run,
	};
	struct usage_ctx u = { .d = job_db(j), .a = j->arena, .cfg = cfg, .user_id = j->user_id,
			       .campaign_id = j->campaign_id, .job_id = j->id };
	usage_hooks(&o, &u);
	int ran = gen_run(cfg, j->arena, tasks, n, &o);
	if (usage_record(&u, tasks, n) < 0 || u.failures)
		j->warning = arena_printf(j->arena, "llm usage not recorded (%d failed settle(s)): %s", u.failures,
					  db_error(job_db(j)));
	bool cancelled = ran == -ECANCELED;
	j->result = result_json(j, &run, tasks, n, skipped, cancelled);
	if (cancelled)
		return JOB_CANCELLED;
	if (run.stored == 0 && n > 0) {
		bool retry = false;
		for (size_t i = 0; i < n; i++)
			retry |= tasks[i].state == GEN_FAILED && tasks[i].retryable;
		j->error = tasks[0].error == gen_token_limit_error
				   ? arena_printf(j->arena, "no item could be generated: the owner's daily token limit of %ld "
							    "is used up", cfg->daily_token_limit)
				   : arena_printf(j->arena, "no item could be generated: %s",
						  tasks[0].error ? tasks[0].error : "?");
		return retry ? JOB_RETRY : JOB_FAILED;
	}
	return JOB_COMPLETED;
}

enum job_outcome job_generate_campaign(struct job *j)
{
	return generate(j, false);
}

enum job_outcome job_generate_single(struct job *j)
{
	return generate(j, true);
}
