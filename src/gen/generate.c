/*
 * generate.c - the generation runner: scheduling, transport, repair, scoring.
 *
 * One loop drives every task: start requests while fewer than `concurrency`
 * are in flight and a task is due, let libcurl move bytes, then act on each
 * finished transfer. A task is a small state machine:
 *   pending -> in flight -> (retry wait -> in flight)* -> repair? -> done | failed
 */
#include "generate.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brand.h"
#include "builtin.h"
#include "json.h"
#include "llm.h"
#include "metrics.h"
#include "platforms.h"
#include "random.h"
#include "text.h"

#define RESPONSE_CAP (1024 * 1024)
#define RETRY_AFTER_CAP_MS 60000
#define TICK_MS 100

/*
 * Transport state of one task. The easy handle, its header list and the
 * response bytes are owned by the run's arena through internal_release(), so
 * an arena reset (including one after an out-of-memory longjmp) frees them.
 * libcurl's callbacks only touch malloc'd memory: nothing may longjmp out of
 * a libcurl callback, and arena allocation can.
 */
struct gen_internal {
	CURL *easy;
	CURLM *multi;		/* the run's, which easy is added to while in flight */
	struct curl_slist *headers;
	char *response;		/* malloc'd, NUL-terminated, at most RESPONSE_CAP bytes */
	size_t response_len, response_cap;
	bool overflow;		/* the answer passed RESPONSE_CAP (or could not be stored) */
	long retry_after_ms;	/* from the last answer's Retry-After, or -1 */
	int attempts;		/* HTTP attempts of the current phase */
	bool repairing;		/* the one shorten request is in flight */
	bool repaired;		/* it has been made */
	struct verrors broken;	/* what the first answer broke, for the repair prompt */
	struct verrors brand_broken; /* forbidden terms it used (brand profile), likewise */
	int64_t due_ms;		/* not before (retry backoff) */
	int64_t started_ms;
};

struct runner {
	const struct config *cfg;
	arena *a;
	const struct gen_options *o;
	CURLM *multi;
	bool stopping;
	int in_flight;
	bool quota_wait;	/* a reservation was refused while our calls were in flight: wait for one to settle */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *gen_provider(const struct config *cfg)
{
	return cfg->llm_api_key ? "openai" : "builtin";
}

const char *gen_model(const struct config *cfg)
{
	return cfg->llm_api_key ? cfg->llm_model : "builtin";
}

const char gen_token_limit_error[] = "a generation limit is used up";

void gen_metrics_register(struct metrics_region *m, const struct config *cfg)
{
	metrics_name_add(m, METRICS_MODELS, gen_model(cfg));
	if (*cfg->llm_images_model)
		metrics_name_add(m, METRICS_MODELS, cfg->llm_images_model);
}

/* Counts call c in this process's metrics (metrics.h): its model, outcome, tokens, cost and latency. */
static void count_call(const struct config *cfg, const struct gen_call *c)
{
	const struct llm_price *p = cfg->llm_api_key ? cfg->llm_model_price : NULL;
	uint64_t pt = c->prompt_tokens > 0 ? (uint64_t)c->prompt_tokens : 0;
	uint64_t ct = c->completion_tokens > 0 ? (uint64_t)c->completion_tokens : 0;
	uint64_t pico = p ? pt * (uint64_t)p->input + ct * (uint64_t)p->output : 0; /* price.h: 1e-12 units */
	metrics_llm(gen_model(cfg), c->outcome, c->prompt_tokens, c->completion_tokens, pico, c->latency_ms);
}

static void add_call(struct runner *r, struct gen_task *t, const char *outcome, long status, long pt, long ct)
{
	struct gen_call *c = arena_zalloc(r->a, sizeof(*c));
	c->purpose = t->internal && t->internal->repairing ? "repair" : "generate";
	c->outcome = outcome;
	c->http_status = status;
	c->prompt_tokens = pt;
	c->completion_tokens = ct;
	c->latency_ms = t->internal ? (long)(now_ms() - t->internal->started_ms) : 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->finished_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	c->next = t->calls;
	t->calls = c;
	t->prompt_tokens += pt;
	t->completion_tokens += ct;
	if (r->cfg->llm_api_key) /* run_builtin() counts its calls once it knows their latency */
		count_call(r->cfg, c);
	if (r->o->settle && t->reservation)
		r->o->settle(t, c, r->o->usage_arg);
	r->quota_wait = false;
}

/* ---- finishing an item ---------------------------------------------------- */

/* Cuts every field down to its hard limit: the last resort after one repair. */
static void trim_to_limits(arena *a, json_object *item)
{
	const struct platform_rule *rule =
		platform_find(json_object_get_string(json_object_object_get(item, "platform")));
	static const struct { const char *field; size_t max; } text[] = {
		{ "subjectLine", SUBJECT_MAX }, { "preheader", PREHEADER_MAX }, { "callToAction", CTA_MAX },
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		json_object *v = json_object_object_get(item, text[i].field);
		if (v && json_object_is_type(v, json_type_string))
			json_object_object_add(item, text[i].field,
					       json_object_new_string(text_fit(a, json_object_get_string(v), text[i].max)));
	}
	json_object *body = json_object_object_get(item, "contentBody");
	if (body && rule)
		json_object_object_add(item, "contentBody",
				       json_object_new_string(text_fit(a, json_object_get_string(body), (size_t)rule->body_max)));
	static const struct { const char *field; size_t items, chars; } lists[] = {
		{ "headlines", AD_HEADLINES_MAX, AD_HEADLINE_MAX },
		{ "descriptions", AD_DESCRIPTIONS_MAX, AD_DESCRIPTION_MAX },
		{ "hashtags", HASHTAGS_MAX, HASHTAG_MAX_CHARS },
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_object *l = json_object_object_get(item, lists[i].field);
		if (!l || !json_object_is_type(l, json_type_array))
			continue;
		size_t keep = lists[i].items;
		if (strcmp(lists[i].field, "hashtags") == 0 && rule)
			keep = (size_t)rule->hashtags_max;
		json_object *fitted = json_object_new_array();
		for (size_t j = 0; j < json_object_array_length(l) && j < keep; j++) {
			const char *s = json_object_get_string(json_object_array_get_idx(l, j));
			if (s && *s)
				json_object_array_add(fitted, json_object_new_string(text_fit(a, s, lists[i].chars)));
		}
		json_object_object_add(item, lists[i].field, fitted);
	}
	json_object *heads = json_object_object_get(item, "headlines"), *descs = json_object_object_get(item, "descriptions");
	if (rule && rule->headlines_max) { /* search ads: title and body are the first headline and description */
		if (heads && json_object_array_length(heads))
			json_object_object_add(item, "subjectLine", json_object_get(json_object_array_get_idx(heads, 0)));
		if (descs && json_object_array_length(descs))
			json_object_object_add(item, "contentBody", json_object_get(json_object_array_get_idx(descs, 0)));
	}
}

/* Models write "#Growth Hacking" or "growth-hacking": keep letters, digits and _, as "#Word". */
static void clean_hashtags(arena *a, json_object *item)
{
	json_object *l = json_object_object_get(item, "hashtags");
	if (!l || !json_object_is_type(l, json_type_array))
		return;
	json_object *clean = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(l); i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(l, i));
		buf b;
		buf_init(&b, a, 64);
		buf_putc(&b, '#');
		for (const unsigned char *p = (const unsigned char *)(t ? t : ""); *p; p++)
			if (isalnum(*p) || *p == '_' || *p >= 0x80)
				buf_putc(&b, (char)*p);
		if (b.len > 1)
			json_object_array_add(clean, json_object_new_string(buf_cstr(&b)));
	}
	json_object_object_add(item, "hashtags", clean);
}

/* Limits the item breaks, as field errors (none when it can be stored). */
static int check_item(arena *a, json_object *item, struct verrors *errs)
{
	verrors_init(errs, a);
	validate_body(item, content_item_fields, errs);
	if (!errs->count)
		content_item_check(item, errs);
	return errs->count;
}

static void finish(struct runner *r, struct gen_task *t, enum gen_state state, const char *error, bool retryable)
{
	t->state = state;
	t->error = error;
	t->retryable = retryable;
	if (r->o->finished)
		r->o->finished(t, r->o->finished_arg);
}

/*
 * Holds item to the brief's brand profile (brand.h), within the limits;
 * false after failing t (a disclaimer that cannot fit is a failure).
 */
static bool brand_hold(struct runner *r, struct gen_task *t, json_object *item, struct brand_report *rep)
{
	brand_report_init(rep, t->brief.brand);
	rep->llm_repair = t->internal && t->internal->brand_broken.count > 0;
	struct verrors errs;
	if (brand_enforce(r->a, t->brief.brand, item, rep) < 0) {
		t->brand_failed = true;
		finish(r, t, GEN_FAILED, arena_printf(r->a, "the brand profile cannot be applied: %s", rep->error), false);
		return false;
	}
	if (check_item(r->a, item, &errs)) {
		finish(r, t, GEN_FAILED, arena_printf(r->a, "with the brand profile applied, generated content breaks %s: %s",
						      errs.head->field, errs.head->message), false);
		return false;
	}
	return true;
}

static void complete_item(struct runner *r, struct gen_task *t, json_object *item, const char *provider_label)
{
	struct verrors errs;
	if (check_item(r->a, item, &errs)) {
		trim_to_limits(r->a, item);
		if (check_item(r->a, item, &errs)) {
			finish(r, t, GEN_FAILED, arena_printf(r->a, "generated content breaks %s: %s", errs.head->field,
							      errs.head->message), true);
			return;
		}
	}
	struct brand_report brand;
	if (t->brief.brand && !brand_hold(r, t, item, &brand))
		return;
	const char *slot = r->o->job_id ? arena_printf(r->a, "%s/%s/%d", t->brief.content_type, t->brief.platform,
							    t->brief.variant)
					 : NULL;
	struct content_origin origin = { provider_label, gen_model(r->cfg), PROMPT_VERSION, r->o->job_id, slot,
					 t->prompt_tokens + t->completion_tokens };
	brand_score_context(t->brief.brand, &t->score);
	t->item_json = content_item_finish(r->a, item, &t->score, &origin);
	if (t->brief.brand)
		t->item_json = brand_annotate(r->a, item, &brand);
	t->item = item;
	finish(r, t, GEN_DONE, NULL, false);
}

/* ---- transport ----------------------------------------------------------- */

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct gen_internal *in = arg;
	size_t len = size * n;
	if (len > RESPONSE_CAP - in->response_len) {
		in->overflow = true;
		return 0; /* aborts the transfer */
	}
	if (in->response_len + len + 1 > in->response_cap) {
		size_t cap = in->response_cap ? in->response_cap : 4096;
		while (cap < in->response_len + len + 1)
			cap *= 2;
		char *grown = realloc(in->response, cap);
		if (!grown) {
			in->overflow = true;
			return 0;
		}
		in->response = grown;
		in->response_cap = cap;
	}
	memcpy(in->response + in->response_len, p, len);
	in->response_len += len;
	in->response[in->response_len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct gen_internal *in = arg;
	size_t len = size * n;
	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char value[64];
		size_t vl = len - 12 < sizeof(value) - 1 ? len - 12 : sizeof(value) - 1;
		memcpy(value, p + 12, vl);
		value[vl] = '\0';
		char *end;
		long secs = strtol(value, &end, 10);
		if (end != value && secs >= 0)
			in->retry_after_ms = secs * 1000;
		else {
			time_t when = curl_getdate(value, NULL);
			if (when > 0)
				in->retry_after_ms = (long)(when - time(NULL)) * 1000;
		}
		if (in->retry_after_ms > RETRY_AFTER_CAP_MS)
			in->retry_after_ms = RETRY_AFTER_CAP_MS;
	}
	return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return ((struct runner *)arg)->stopping; /* non-zero aborts: cancellation */
}

/* Appends each header; on failure frees the list and returns NULL. */
static struct curl_slist *header_list(const char *const *lines, size_t n)
{
	struct curl_slist *list = NULL;
	for (size_t i = 0; i < n; i++) {
		struct curl_slist *more = curl_slist_append(list, lines[i]);
		if (!more) {
			curl_slist_free_all(list);
			return NULL;
		}
		list = more;
	}
	return list;
}

static int start_request(struct runner *r, struct gen_task *t, const char *body)
{
	struct gen_internal *in = t->internal;
	const char *headers[] = {
		"Content-Type: application/json",
		arena_printf(r->a, "Authorization: Bearer %s", r->cfg->llm_api_key),
		"Expect:",
	};
	const char *url = arena_printf(r->a, "%s/chat/completions", r->cfg->llm_base_url);
	in->response_len = 0;
	in->overflow = false;
	in->retry_after_ms = -1;
	in->headers = header_list(headers, sizeof(headers) / sizeof(headers[0]));
	in->easy = in->headers ? curl_easy_init() : NULL;
	if (!in->easy) {
		curl_slist_free_all(in->headers);
		in->headers = NULL;
		return -ENOMEM;
	}
	curl_easy_setopt(in->easy, CURLOPT_URL, url);
	curl_easy_setopt(in->easy, CURLOPT_HTTPHEADER, in->headers);
	curl_easy_setopt(in->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(in->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(in->easy, CURLOPT_WRITEDATA, in);
	curl_easy_setopt(in->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(in->easy, CURLOPT_HEADERDATA, in);
	curl_easy_setopt(in->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(in->easy, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(in->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(in->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(in->easy, CURLOPT_CONNECTTIMEOUT, r->cfg->llm_connect_timeout_seconds);
	curl_easy_setopt(in->easy, CURLOPT_TIMEOUT, r->cfg->llm_timeout_seconds);
	curl_easy_setopt(in->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(in->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(in->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(in->easy, CURLOPT_USERAGENT, "adcraft/" ADCRAFT_VERSION);
	in->started_ms = now_ms();
	if (curl_multi_add_handle(r->multi, in->easy) != CURLM_OK) {
		curl_easy_cleanup(in->easy);
		curl_slist_free_all(in->headers);
		in->easy = NULL;
		in->headers = NULL;
		return -ENOMEM;
	}
	r->in_flight++;
	return 0;
}

/* Detaches and frees the transfer of one task, if any; true if there was one. */
static bool transfer_release(struct gen_internal *in)
{
	if (!in->easy)
		return false;
	curl_multi_remove_handle(in->multi, in->easy);
	curl_easy_cleanup(in->easy);
	curl_slist_free_all(in->headers);
	in->easy = NULL;
	in->headers = NULL;
	return true;
}

static void release_easy(struct runner *r, struct gen_internal *in)
{
	if (transfer_release(in))
		r->in_flight--;
}

/* Arena cleanup of a task's transport (runs before the multi handle's: newer first). */
static void internal_release(void *arg)
{
	struct gen_internal *in = arg;
	transfer_release(in);
	free(in->response);
	in->response = NULL;
}

static void multi_release(void *multi)
{
	curl_multi_cleanup(multi);
}

/*
 * Backoff before attempt n+1: llm_retry_base_ms * 2^(n-1), +/-25%, capped at
 * 16 * llm_retry_base_ms (8 s by default); Retry-After wins when given.
 */
static int64_t backoff_ms(const struct config *cfg, const struct gen_internal *in)
{
	if (in->retry_after_ms >= 0)
		return in->retry_after_ms;
	int64_t base = (int64_t)cfg->llm_retry_base_ms << (in->attempts > 5 ? 5 : in->attempts - 1);
	if (base > 16 * cfg->llm_retry_base_ms)
		base = 16 * cfg->llm_retry_base_ms;
	unsigned char rnd;
	random_bytes(&rnd, 1);
	return base * (75 + rnd % 51) / 100;
}

static void retry_or_fail(struct runner *r, struct gen_task *t, const char *error)
{
	struct gen_internal *in = t->internal;
	if (in->repairing && in->attempts >= GEN_MAX_ATTEMPTS) {
		complete_item(r, t, t->item, "ai"); /* the shortening failed: trim the first answer instead */
		return;
	}
	if (in->attempts >= GEN_MAX_ATTEMPTS) {
		finish(r, t, GEN_FAILED, arena_printf(r->a, "%s (after %d attempts)", error, in->attempts), true);
		return;
	}
	in->due_ms = now_ms() + backoff_ms(r->cfg, in) + 1; /* now_ms() truncates to the ms: never retry early */
}

/* Acts on one finished transfer. */
static void on_transfer_done(struct runner *r, struct gen_task *t, CURLcode code)
{
	struct gen_internal *in = t->internal;
	long status = 0;
	curl_easy_getinfo(in->easy, CURLINFO_RESPONSE_CODE, &status);
	release_easy(r, t->internal);
	if (code == CURLE_ABORTED_BY_CALLBACK || r->stopping) {
		add_call(r, t, "cancelled", status, 0, 0);
		finish(r, t, GEN_CANCELLED, "cancelled", false);
		return;
	}
	if (in->overflow) {
		add_call(r, t, "error", status, 0, 0);
		finish(r, t, GEN_FAILED, "the LLM's response is larger than 1 MiB", false);
		return;
	}
	if (code != CURLE_OK) {
		bool timeout = code == CURLE_OPERATION_TIMEDOUT;
		add_call(r, t, timeout ? "timeout" : "retry", 0, 0, 0);
		retry_or_fail(r, t, arena_printf(r->a, "LLM request failed: %s", curl_easy_strerror(code)));
		return;
	}
	struct llm_answer ans;
	llm_parse(r->a, &t->brief, status, in->response ? in->response : "", in->response_len, &ans);
	add_call(r, t, ans.outcome, status, ans.prompt_tokens, ans.completion_tokens);
	if (ans.verdict == LLM_FAIL) {
		if (in->repairing)
			complete_item(r, t, t->item, "ai");
		else
			finish(r, t, GEN_FAILED, ans.error, false);
		return;
	}
	if (ans.verdict == LLM_RETRY) {
		retry_or_fail(r, t, ans.error);
		return;
	}
	clean_hashtags(r->a, ans.item);
	int broken = in->repaired ? 0 : check_item(r->a, ans.item, &in->broken);
	if (!in->repaired && t->brief.brand) {
		verrors_init(&in->brand_broken, r->a);
		broken += brand_forbidden_errors(r->a, t->brief.brand, ans.item, &in->brand_broken);
	}
	if (broken) {
		/* One chance for the model to fix its own copy; then we trim and replace. */
		in->repaired = in->repairing = true;
		in->attempts = 0;
		in->due_ms = 0;
		t->item = ans.item;
		return;
	}
	complete_item(r, t, ans.item, "ai");
}

static int start_due(struct runner *r, struct gen_task *tasks, size_t n)
{
	int64_t now = now_ms(), next = now + TICK_MS;
	for (size_t i = 0; i < n && r->in_flight < r->o->concurrency; i++) {
		struct gen_task *t = &tasks[i];
		struct gen_internal *in = t->internal;
		if (t->state != GEN_PENDING || in->easy)
			continue;
		if (in->due_ms > now) {
			next = in->due_ms < next ? in->due_ms : next;
			continue;
		}
		if (r->quota_wait)
			break;
		int rc = r->o->reserve ? r->o->reserve(t, r->o->usage_arg) : 0;
		if (rc == -EDQUOT && r->in_flight > 0) {
			/* our own calls hold the room: once one settles, its real usage may leave enough */
			r->quota_wait = true;
			break;
		}
		if (rc < 0 && in->repairing) {
			complete_item(r, t, t->item, "ai"); /* no tokens left to shorten it: trim instead */
			continue;
		}
		if (rc < 0) {
			finish(r, t, GEN_FAILED, rc == -EDQUOT ? gen_token_limit_error : "could not reserve tokens for the call",
			       rc != -EDQUOT);
			continue;
		}
		const char *body = in->repairing ? llm_repair_body(r->a, r->cfg->llm_model, &t->brief, t->item, &in->broken,
										  &in->brand_broken)
						 : llm_request_body(r->a, r->cfg->llm_model, &t->brief);
		in->attempts++;
		if (start_request(r, t, body) < 0) {
			if (r->o->settle && t->reservation)
				r->o->settle(t, NULL, r->o->usage_arg);
			finish(r, t, GEN_FAILED, "could not start an HTTP request", true);
		}
	}
	return (int)(next - now);
}

static bool all_ended(const struct gen_task *tasks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tasks[i].state == GEN_PENDING)
			return false;
	return true;
}

static int run_openai(struct runner *r, struct gen_task *tasks, size_t n)
{
	r->multi = curl_multi_init();
	if (!r->multi) {
		for (size_t i = 0; i < n; i++)
			finish(r, &tasks[i], GEN_FAILED, "could not start an HTTP request", true);
		return 0;
	}
	arena_defer(r->a, multi_release, r->multi);
	for (size_t i = 0; i < n; i++) {
		struct gen_internal *in = arena_zalloc(r->a, sizeof(*in));
		in->multi = r->multi;
		arena_defer(r->a, internal_release, in);
		tasks[i].internal = in;
	}
	while (!all_ended(tasks, n)) {
		/* alive() may stop the run (cancellation, a deadline): transfers then abort in on_progress. */
		if (r->o->alive && !r->o->alive(r->o->alive_arg))
			r->stopping = true;
		if (r->stopping) {
			for (size_t i = 0; i < n; i++)
				if (tasks[i].state == GEN_PENDING) {
					if (tasks[i].internal->easy) {
						release_easy(r, tasks[i].internal);
						add_call(r, &tasks[i], "cancelled", 0, 0, 0);
					}
					finish(r, &tasks[i], GEN_CANCELLED, "cancelled", false);
				}
			break;
		}
		int wait = start_due(r, tasks, n);
		int running;
		curl_multi_perform(r->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(r->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct gen_task *t;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			on_transfer_done(r, t, m->data.result);
		}
		if (!all_ended(tasks, n))
			curl_multi_poll(r->multi, NULL, 0, wait < 1 ? 1 : wait > TICK_MS ? TICK_MS : wait, NULL);
	}
	/* The multi handle and every transfer belong to the arena (released with it). */
	return r->stopping ? -ECANCELED : 0;
}

static int run_builtin(struct runner *r, struct gen_task *tasks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct gen_task *t = &tasks[i];
		if (r->o->alive && !r->o->alive(r->o->alive_arg)) {
			for (size_t j = i; j < n; j++)
				finish(r, &tasks[j], GEN_CANCELLED, "cancelled", false);
			return -ECANCELED;
		}
		int64_t start = now_ms();
		json_object *item;
		if (builtin_generate(&t->brief, r->a, &item) < 0) {
			finish(r, t, GEN_FAILED, "this content type cannot be published on this platform", false);
			continue;
		}
		json_own(r->a, item);
		add_call(r, t, "ok", 0, 0, 0); /* builtin calls use no tokens and cost nothing */
		t->calls->latency_ms = (long)(now_ms() - start);
		count_call(r->cfg, t->calls);
		complete_item(r, t, item, "builtin");
	}
	return 0;
}

int gen_run(const struct config *cfg, arena *a, struct gen_task *tasks, size_t n, const struct gen_options *o)
{
	struct runner r = { .cfg = cfg, .a = a, .o = o };
	for (size_t i = 0; i < n; i++)
		tasks[i].state = GEN_PENDING;
	return cfg->llm_api_key ? run_openai(&r, tasks, n) : run_builtin(&r, tasks, n);
}

/* What call c cost, as a JSON number: 0 for builtin, null when the model has no price. */
static const char *usage_cost(const struct config *cfg, const struct gen_call *c, char cost[COST_TEXT_MAX])
{
	if (!cfg->llm_api_key)
		return "0";
	if (!cfg->llm_model_price)
		return "null";
	price_cost_format(cfg->llm_model_price, c->prompt_tokens, c->completion_tokens, cost);
	return cost;
}

/* One llm_usage record for call c of task t. */
static void usage_row(const struct config *cfg, const struct gen_task *t, const struct gen_call *c, buf *out)
{
	time_t secs = (time_t)(c->finished_us / 1000000);
	struct tm tm;
	char when[32];
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(out, "{\"provider\":\"%s\",\"model\":", gen_provider(cfg));
	buf_json_str(out, gen_model(cfg));
	buf_printf(out, ",\"content_type\":\"%s\",\"platform\":\"%s\",\"purpose\":\"%s\",\"prompt_tokens\":%ld,"
			"\"completion_tokens\":%ld,\"latency_ms\":%ld,\"http_status\":",
		   t->brief.content_type, t->brief.platform, c->purpose, c->prompt_tokens, c->completion_tokens,
		   c->latency_ms);
	if (c->http_status)
		buf_printf(out, "%ld", c->http_status);
	else
		buf_puts(out, "null");
	buf_printf(out, ",\"outcome\":\"%s\",\"created_at\":\"%s.%06ldZ\",\"currency\":\"%s\",\"cost\":", c->outcome,
		   when, (long)(c->finished_us % 1000000), cfg->llm_currency);
	char cost[COST_TEXT_MAX];
	buf_puts(out, usage_cost(cfg, c, cost));
	buf_putc(out, '}');
}

void gen_usage_json(const struct config *cfg, struct gen_task *tasks, size_t n, buf *out)
{
	buf_putc(out, '[');
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		/* Calls are kept newest first; rows go oldest first. */
		const struct gen_call *calls[64];
		size_t k = 0;
		for (const struct gen_call *c = tasks[i].calls; c && k < 64; c = c->next)
			calls[k++] = c;
		while (k-- > 0) {
			if (calls[k]->recorded)
				continue;
			if (!first)
				buf_putc(out, ',');
			usage_row(cfg, &tasks[i], calls[k], out);
			first = false;
		}
	}
	buf_putc(out, ']');
}

void gen_call_usage_json(const struct config *cfg, const struct gen_task *t, const struct gen_call *c, buf *out)
{
	buf_putc(out, '[');
	if (c)
		usage_row(cfg, t, c, out);
	buf_putc(out, ']');
}
