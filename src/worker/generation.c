/*
 * generation.c - content-generation jobs: a whole campaign, or one item.
 *
 * generate-campaign writes content types x platforms x variations (from the
 * job payload, else the campaign's generationSettings, else a default), each
 * item appended to the campaign as soon as it is ready, progress after every
 * item. A cancelled or failed job keeps what it finished and says so in its
 * result. Items carry metadata.slot, so an attempt after a crash or rescue
 * skips what an earlier attempt already stored. Every LLM call reserves its
 * tokens and their price against the owner's limits first (usage.h): items
 * a limit has no room for fail with that limit's message.
 *
 * With includeVisuals (the job's payload, else the campaign's
 * generationSettings) each social post and ad gets its visual (visual.h)
 * before it is stored, so the item is appended once, with visualAssetId and
 * visualUrl: a builtin card as the item finishes; pictures from the images
 * endpoint once the copy is all written, llm_concurrency at a time (a
 * request never holds up the copy's transfers). An image that fails leaves
 * the item its copy: metadata.visualError says why, and the job's result
 * (visualErrors) and progress (visualsFailed) count it; the job still
 * succeeds. Each images request reserves its price against the owner's
 * limits and is recorded in llm_usage (purpose image); one a limit has no
 * room for is not made and its item says which limit in visualError.
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
#include "visual.h"


struct run {
	struct job *job;
	int total, done, stored, failed;
	buf ids;
	bool visuals;			/* includeVisuals */
	int visuals_made, visuals_failed;
	bool visual_cancelled;		/* alive() stopped an image: the job ends cancelled */
	buf visual_errors;		/* result.visualErrors: JSON objects, comma-separated */
	struct visual_task *pending;	/* items waiting for their images-endpoint picture */
	size_t npending;
	struct usage_ctx *usage;	/* the job's: images requests count against the owner's limits */
};

static void store(struct gen_task *t, void *arg);

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

/* ---- events (events.h): the campaign's channel, and job:progress on the owner's ---- */

/* content:generation:completed with the stored item, or content:generation:failed with the error. */
static void announce_item(struct run *run, const struct gen_task *t, const char *item_json)
{
	struct job *j = run->job;
	buf b;
	buf_init(&b, j->arena, 256 + (item_json ? strlen(item_json) : 0));
	buf_printf(&b, "{\"done\":%d,\"total\":%d,\"contentType\":\"%s\",\"platform\":\"%s\",\"variant\":%d,",
		   run->done, run->total, t->brief.content_type, t->brief.platform, t->brief.variant);
	if (item_json) {
		buf_printf(&b, "\"item\":%s}", item_json);
	} else {
		buf_puts(&b, "\"error\":");
		buf_json_str(&b, t->error ? t->error : "unknown error");
		buf_putc(&b, '}');
	}
	job_publish(j, item_json ? "content:generation:completed" : "content:generation:failed", buf_cstr(&b));
}

static void announce_progress(struct run *run)
{
	struct job *j = run->job;
	if (!job_progress_due(j, run->done, run->total))
		return;
	const char *extra = run->visuals ? arena_printf(j->arena, ",\"generated\":%d,\"failed\":%d,\"visuals\":%d,"
							     "\"visualsFailed\":%d",
							     run->stored, run->failed, run->visuals_made, run->visuals_failed)
					 : arena_printf(j->arena, ",\"generated\":%d,\"failed\":%d", run->stored, run->failed);
	const char *data = job_progress_json(j, run->done, run->total, extra);
	job_publish(j, "campaign:generation:progress", data);
	job_publish(j, "job:progress", data);
}

static void announce_start(struct run *run, const struct gen_task *tasks, size_t n, int skipped, bool single)
{
	struct job *j = run->job;
	buf b;
	buf_init(&b, j->arena, 256);
	if (single && n > 0) {
		buf_printf(&b, "{\"contentType\":\"%s\",\"platform\":\"%s\",\"total\":1}", tasks[0].brief.content_type,
			   tasks[0].brief.platform);
		job_publish(j, "content:generation:started", buf_cstr(&b));
		return;
	}
	buf_printf(&b, "{\"total\":%d,\"alreadyStored\":%d}", run->total, skipped);
	job_publish(j, "campaign:generation:started", buf_cstr(&b));
}

void job_generation_announce(struct job *j, enum job_outcome o)
{
	if (!j->campaign_id)
		return;
	if (o == JOB_COMPLETED || o == JOB_CANCELLED) {
		job_publish_after(j, o == JOB_COMPLETED ? "campaign:generation:completed" : "campaign:generation:cancelled",
				  arena_printf(j->arena, "{\"result\":%s}", j->result ? j->result : "null"));
		return;
	}
	buf b;
	buf_init(&b, j->arena, 256 + (j->result ? strlen(j->result) : 0));
	buf_puts(&b, "{\"error\":");
	buf_json_str(&b, j->error ? j->error : "unknown error");
	buf_printf(&b, ",\"willRetry\":%s,\"result\":%s}",
		   o == JOB_RETRY && j->attempt < j->max_attempts ? "true" : "false", j->result ? j->result : "null");
	job_publish_after(j, "campaign:generation:failed", buf_cstr(&b));
}

/* ---- the job --------------------------------------------------------------- */

/* Puts v's outcome on the item to be stored: visualAssetId and visualUrl, or metadata.visualError. */
static void visual_done(struct visual_task *v, void *arg)
{
	struct run *run = arg;
	struct job *j = run->job;
	struct gen_task *t = v->arg;
	json_object *meta;
	if (v->rc == 0) {
		json_object_object_add(v->item, "visualAssetId", json_object_new_string(v->out.asset_id));
		json_object_object_add(v->item, "visualUrl", json_object_new_string(v->out.url));
		run->visuals_made++;
	} else {
		const char *why = v->rc == -ECANCELED ? "cancelled before the visual was made" : v->error;
		run->visual_cancelled |= v->rc == -ECANCELED;
		if (json_object_object_get_ex(v->item, "metadata", &meta) && json_object_is_type(meta, json_type_object))
			json_object_object_add(meta, "visualError", json_object_new_string(why));
		buf_printf(&run->visual_errors, "%s{\"contentType\":\"%s\",\"platform\":\"%s\",\"variant\":%d,\"error\":",
			   run->visuals_failed++ ? "," : "", t->brief.content_type, t->brief.platform, t->brief.variant);
		buf_json_str(&run->visual_errors, why);
		buf_putc(&run->visual_errors, '}');
		if (v->rc == -EIO || v->rc == -ENOTCONN || v->rc == -ENOMEM) /* ours, not the image's */
			j->warning = arena_printf(j->arena, "visual for %s/%s: %s", t->brief.content_type,
						  t->brief.platform, why);
	}
	t->item_json = arena_strdup(j->arena, json_object_to_json_string_ext(v->item, JSON_C_TO_STRING_PLAIN));
	store(t, run);
}

/* A visual task for finished item t; false when the item's JSON cannot be read (stored as it is). */
static bool visual_task(struct run *run, struct gen_task *t, struct visual_task *v)
{
	memset(v, 0, sizeof(*v));
	v->brief = &t->brief;
	v->arg = t;
	return json_parse_trusted(run->job->arena, t->item_json, &v->item) == 0;
}

/*
 * Each item as it ends. With includeVisuals a social post or ad gets its
 * visual first: a card at once; an images-endpoint picture later, when
 * make_pending_visuals() runs them all concurrently.
 */
static void finished(struct gen_task *t, void *arg)
{
	struct run *run = arg;
	struct job *j = run->job;
	struct visual_task v;
	if (t->state != GEN_DONE || !run->visuals || !visual_wanted(t->brief.platform) || !visual_task(run, t, &v)) {
		store(t, run);
		return;
	}
	if (*job_config(j)->llm_images_model) {
		run->pending[run->npending++] = v;
		return;
	}
	visual_make_all(job_db(j), j->arena, job_config(j), j->user_id, j->campaign_id, NULL, &v, 1, 1, alive, run,
			visual_done, run); /* a card: free, never recorded */
}

static void make_pending_visuals(struct run *run)
{
	struct job *j = run->job;
	if (run->npending)
		visual_make_all(job_db(j), j->arena, job_config(j), j->user_id, j->campaign_id, run->usage,
				run->pending, run->npending, (int)job_config(j)->llm_concurrency, alive, run, visual_done,
				run);
}

/* Stores a finished item (with its visual) and the job's progress in one commit. */
static void store(struct gen_task *t, void *arg)
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
	bool ended = rc == 0 && strcmp(PQgetvalue(res, 0, 1), "t") != 0;
	if (ended)
		job_lost(j);
	json_object *stored;
	if (t->state != GEN_DONE) {
		/* failed or cancelled: nothing stored */
	} else if (rc == 0 && !PQgetisnull(res, 0, 0) &&
		   json_parse_trusted(j->arena, PQgetvalue(res, 0, 0), &stored) == 0) {
		buf_printf(&run->ids, "%s\"%s\"", run->stored++ ? "," : "",
			   json_object_get_string(json_object_object_get(stored, "id")));
		announce_item(run, t, PQgetvalue(res, 0, 0));
	} else {
		t->state = GEN_FAILED;
		t->error = ended ? "the job ended (cancelled, or taken over) before the item was stored"
				 : "the item could not be stored (campaign deleted or full)";
	}
	if (t->state == GEN_FAILED) {
		run->failed++;
		announce_item(run, t, NULL);
	}
	announce_progress(run);
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
	buf_putc(&b, ']');
	if (run->visuals)
		buf_printf(&b, ",\"visuals\":%d,\"visualErrors\":[%.*s]", run->visuals_made,
			   (int)run->visual_errors.len, run->visual_errors.data);
	buf_putc(&b, '}');
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
	const char *usage;
	const struct usage_limit *reached;
	int rc = usage_check(job_db(j), j->arena, cfg, j->user_id, &usage, &reached);
	if (rc == -EDQUOT) {
		j->error = arena_printf(j->arena, "the owner's limit: %s", usage_limit_message(j->arena, reached));
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
	buf_init(&run.visual_errors, j->arena, 256);
	json_object *visuals = NULL;
	if (!json_object_object_get_ex(j->payload, "includeVisuals", &visuals) && settings)
		json_object_object_get_ex(settings, "includeVisuals", &visuals);
	run.visuals = visuals && json_object_is_type(visuals, json_type_boolean) && json_object_get_boolean(visuals);
	job_progress(j, 0, run.total);
	announce_start(&run, tasks, n, skipped, single);
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
	run.usage = &u;
	run.pending = arena_zalloc(j->arena, (n ? n : 1) * sizeof(*run.pending));
	int ran = gen_run(cfg, j->arena, tasks, n, &o);
	make_pending_visuals(&run); /* after a cancel too: the copies are stored, each with why it has no image */
	if (usage_record(&u, tasks, n) < 0 || u.failures)
		j->warning = arena_printf(j->arena, "llm usage not recorded (%d failed settle(s)): %s", u.failures,
					  db_error(job_db(j)));
	const char *limit_error = u.exceeded ? usage_limit_message(j->arena, usage_limit_find(u.exceeded)) : NULL;
	for (size_t i = 0; i < n && limit_error; i++)
		if (tasks[i].error == gen_token_limit_error)
			tasks[i].error = limit_error;
	bool cancelled = ran == -ECANCELED || run.visual_cancelled;
	j->result = result_json(j, &run, tasks, n, skipped, cancelled);
	if (cancelled)
		return JOB_CANCELLED;
	if (run.stored == 0 && n > 0) {
		bool retry = false;
		for (size_t i = 0; i < n; i++)
			retry |= tasks[i].state == GEN_FAILED && tasks[i].retryable;
		j->error = limit_error && tasks[0].error == limit_error
				   ? arena_printf(j->arena, "no item could be generated (the owner's limit): %s", limit_error)
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
