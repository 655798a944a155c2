/*
 * visual.c - items' visuals: builtin cards or the images endpoint, stored as
 * assets (visual.h).
 *
 * Images requests share one libcurl multi handle: start requests while fewer
 * than `concurrency` are in flight, let libcurl move bytes, wake at least
 * every 100 ms to ask alive(), and finish each task as its transfer ends.
 * Responses go into malloc'd buffers (libcurl callbacks never touch the
 * arena, whose allocation may longjmp); the easy handles, header lists,
 * buffers and the multi handle are registered on the arena, so they are
 * released with it whatever happens, and each transfer is also released as
 * soon as it ends (an image answer can be 22 MiB; a job makes many). What
 * one image needs in memory (decoded bytes, card pixels, the re-encoded
 * copy) lives on a scratch arena freed once the image is stored.
 *
 * Every images request reserves its price against the owner's limits
 * (usage.h) just before it starts, and settles as its task finishes: a
 * request that was made becomes one llm_usage row whatever came of it; one
 * a limit has no room for is never made (the task ends -EDQUOT naming the
 * limit).
 */
#include "visual.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asset_store.h"
#include "card.h"
#include "images.h"
#include "media_helper.h"
#include "platforms.h"

#define TICK_MS 100
#define PENDING 1 /* a task's rc until it ends */

struct visual_transfer {
	CURL *easy;
	CURLM *multi;
	struct curl_slist *headers;
	char *data;		/* malloc'd, NUL-terminated */
	size_t len, cap;
	bool overflow;		/* the answer passed IMAGES_RESPONSE_CAP (or could not be stored) */
	bool timed_out;		/* libcurl gave up after llm_timeout_seconds */
	int64_t started_ms;	/* 0: the request was never handed to libcurl */
};

struct batch {
	db *d;
	arena *a;
	const struct config *cfg;
	const char *owner_id, *seed;
	struct usage_ctx *usage;	/* NULL: images are neither limited nor recorded */
	void (*done)(struct visual_task *task, void *arg);
	void *done_arg;
};

bool visual_wanted(const char *platform)
{
	const struct platform_rule *r = platform_find(platform);
	return r && r->visual_width > 0 && r->visual_height > 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A scratch arena for one image: the decoded answer, the card's pixels, the
 * re-encoded copy asset_store_bytes() makes. A job makes many images and its
 * own arena lives until the job ends, so each image's megabytes go when it
 * is stored. The holder lives on the batch's arena, whose reset frees a
 * scratch arena left behind by an out-of-memory jump.
 */
struct scratch {
	arena *a;
};

static void scratch_release(void *arg)
{
	struct scratch *s = arg;
	arena_free(s->a);
	s->a = NULL;
}

static struct scratch *scratch_new(struct batch *b)
{
	struct scratch *s = arena_zalloc(b->a, sizeof(*s));
	s->a = arena_new(65536);
	arena_defer(b->a, scratch_release, s);
	return s;
}

/* The llm_usage outcome of t's images request, ending with rc. */
static const char *outcome(const struct visual_task *t, int rc)
{
	if (rc == 0)
		return "ok";
	if (rc == -ECANCELED)
		return "cancelled";
	return t->transfer->timed_out ? "timeout" : "error";
}

/* Settles t's reservation: its llm_usage row when the request was made, else only the release. */
static void settle(struct batch *b, struct visual_task *t, int rc)
{
	if (!b->usage || !t->reservation)
		return;
	const struct visual_transfer *x = t->transfer;
	struct usage_image_call c = { t->brief->content_type, t->brief->platform, NULL, t->out.http_status,
				      t->out.latency_ms };
	if (x && x->started_ms) {
		c.outcome = outcome(t, rc);
		if (!c.latency_ms) /* cancelled in flight */
			c.latency_ms = (long)(now_ms() - x->started_ms);
	}
	usage_image_settle(b->usage, t->reservation, c.outcome ? &c : NULL); /* a failure is counted there */
	t->reservation = 0;
}

/*
 * Stores the image of t (bytes on s, which may be NULL) as an asset when rc
 * is 0, settles its images request, hands t to the caller, then frees s.
 */
static void finish(struct batch *b, struct visual_task *t, int rc, const char *why, const void *bytes, size_t len,
		   struct scratch *s)
{
	if (rc == 0) {
		struct asset_info info;
		const char *problem = NULL;
		bool images = *b->cfg->llm_images_model;
		/* a card is a PNG; what the endpoint sent is named by its sniffed type (NULL: "image.<ext>") */
		const char *filename = images ? NULL : arena_printf(b->a, "visual-%s.png", t->brief->platform);
		rc = asset_store_bytes(b->d, s ? s->a : b->a, b->cfg, media_helper_prepare, true, b->owner_id, bytes, len,
				       filename, &info, &problem);
		if (rc == 0) {
			t->out.asset_id = arena_strdup(b->a, info.id);
			t->out.url = arena_strdup(b->a, info.url);
			t->out.width = info.width;
			t->out.height = info.height;
		} else {
			why = problem ? arena_printf(b->a, "the %s image was refused: %s",
						     images ? "images endpoint's" : "card", problem)
				      : "the image could not be stored (database or files)";
		}
	}
	settle(b, t, rc);
	t->rc = rc;
	t->error = rc < 0 ? arena_strdup(b->a, why ? why : "the visual could not be made") : NULL;
	if (s)
		scratch_release(s);
	b->done(t, b->done_arg);
}

/* ---- the builtin card ---------------------------------------------------------- */

static int run_cards(struct batch *b, struct visual_task *tasks, size_t n, bool (*alive)(void *), void *alive_arg)
{
	for (size_t i = 0; i < n; i++) {
		struct visual_task *t = &tasks[i];
		if (t->rc != PENDING)
			continue;
		if (alive && !alive(alive_arg)) {
			for (size_t j = i; j < n; j++)
				if (tasks[j].rc == PENDING)
					finish(b, &tasks[j], -ECANCELED, "cancelled", NULL, 0, NULL);
			return -ECANCELED;
		}
		const struct platform_rule *r = platform_find(t->brief->platform);
		struct card_spec spec = { r->visual_width, r->visual_height, card_headline(b->a, t->item),
					  t->brief->product, card_palette_pick(b->seed) };
		const void *png = NULL;
		size_t len = 0;
		const char *why = NULL;
		struct scratch *scratch = scratch_new(b);
		int64_t start = now_ms();
		int rc = media_helper_card(scratch->a, &spec, &png, &len, &why) < 0 ? -EIO : 0;
		t->out.latency_ms = (long)(now_ms() - start);
		finish(b, t, rc, why, png, len, scratch);
	}
	return 0;
}

/* ---- the images endpoint -------------------------------------------------------- */

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct visual_transfer *x = arg;
	size_t len = size * n;
	if (len > IMAGES_RESPONSE_CAP - x->len) {
		x->overflow = true;
		return 0; /* aborts the transfer */
	}
	if (x->len + len + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 64 * 1024;
		while (cap < x->len + len + 1)
			cap *= 2;
		char *grown = realloc(x->data, cap);
		if (!grown) {
			x->overflow = true;
			return 0;
		}
		x->data = grown;
		x->cap = cap;
	}
	memcpy(x->data + x->len, p, len);
	x->len += len;
	x->data[x->len] = '\0';
	return len;
}

/* Detaches and frees one transfer; safe to call again (the arena's cleanup does). */
static void transfer_release(void *arg)
{
	struct visual_transfer *x = arg;
	if (x->easy) {
		curl_multi_remove_handle(x->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	free(x->data);
	x->data = NULL;
	x->len = x->cap = 0;
}

static void multi_release(void *multi)
{
	curl_multi_cleanup(multi);
}

/* Starts t's images request on multi. 0 or -ENOMEM. */
static int start(struct batch *b, CURLM *multi, struct visual_task *t)
{
	const struct config *cfg = b->cfg;
	const struct platform_rule *r = platform_find(t->brief->platform);
	const char *body = images_request_body(b->a, cfg->llm_images_model,
					       images_prompt(b->a, t->brief, card_headline(b->a, t->item)),
					       images_size_for(r->visual_width, r->visual_height));
	const char *lines[] = { "Content-Type: application/json",
				arena_printf(b->a, "Authorization: Bearer %s", cfg->llm_api_key), "Expect:" };
	const char *url = arena_printf(b->a, "%s/images/generations", cfg->llm_base_url);
	struct visual_transfer *x = arena_zalloc(b->a, sizeof(*x));
	x->multi = multi;
	arena_defer(b->a, transfer_release, x); /* after the multi handle's: runs before it */
	t->transfer = x;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct curl_slist *more = curl_slist_append(x->headers, lines[i]);
		if (!more)
			return -ENOMEM;
		x->headers = more;
	}
	if (!(x->easy = curl_easy_init()))
		return -ENOMEM;
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, cfg->llm_connect_timeout_seconds);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, cfg->llm_timeout_seconds);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "adcraft/" ADCRAFT_VERSION);
	int64_t started = now_ms();
	if (curl_multi_add_handle(multi, x->easy) != CURLM_OK) {
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
		return -ENOMEM;
	}
	x->started_ms = started; /* the request is made: it will be recorded */
	return 0;
}

/* Acts on t's finished transfer: parse, store, hand over. */
static void transfer_done(struct batch *b, struct visual_task *t, CURLcode code)
{
	struct visual_transfer *x = t->transfer;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &t->out.http_status);
	t->out.latency_ms = (long)(now_ms() - x->started_ms);
	struct images_answer ans = { .ok = false };
	struct scratch *scratch = scratch_new(b);
	const char *why;
	if (x->overflow)
		why = arena_printf(b->a, "the images endpoint's response is larger than %d MiB",
				   IMAGES_RESPONSE_CAP / (1024 * 1024));
	else if (code != CURLE_OK) {
		x->timed_out = code == CURLE_OPERATION_TIMEDOUT;
		why = arena_printf(b->a, "the images request failed: %s", curl_easy_strerror(code));
	} else {
		images_parse(scratch->a, t->out.http_status, x->data ? x->data : "", x->len, &ans);
		why = ans.error;
	}
	transfer_release(x); /* the decoded bytes are on the arena */
	finish(b, t, ans.ok ? 0 : -EPROTO, why, ans.bytes, ans.len, scratch);
}

/*
 * Reserves t's price before its request: 0, or -1 when t has ended instead
 * (a limit has no room, or the reservation could not be written).
 */
static int reserve(struct batch *b, struct visual_task *t)
{
	if (!b->usage)
		return 0;
	const struct usage_limit *limit = NULL;
	int rc = usage_image_reserve(b->usage, &t->reservation, &limit);
	if (rc == 0)
		return 0;
	if (rc == -EDQUOT)
		finish(b, t, -EDQUOT, arena_printf(b->a, "the image was not requested: %s",
						   usage_limit_message(b->a, limit)), NULL, 0, NULL);
	else
		finish(b, t, -EIO, "the image was not requested: its cost could not be reserved (database)", NULL, 0,
		       NULL);
	return -1;
}

/* Runs the `wanted` pending tasks among tasks[0..n). */
static int run_images(struct batch *b, struct visual_task *tasks, size_t n, size_t wanted, int concurrency,
		      bool (*alive)(void *), void *alive_arg)
{
	CURLM *multi = curl_multi_init();
	if (!multi) {
		for (size_t i = 0; i < n; i++)
			if (tasks[i].rc == PENDING)
				finish(b, &tasks[i], -ENOMEM, "could not start an HTTP request", NULL, 0, NULL);
		return 0;
	}
	arena_defer(b->a, multi_release, multi);
	size_t next = 0, ended = 0;
	int in_flight = 0;
	while (ended < wanted) {
		if (alive && !alive(alive_arg)) {
			for (size_t i = 0; i < n; i++)
				if (tasks[i].rc == PENDING) { /* in flight or not started */
					if (tasks[i].transfer)
						transfer_release(tasks[i].transfer);
					finish(b, &tasks[i], -ECANCELED, "cancelled", NULL, 0, NULL);
				}
			return -ECANCELED;
		}
		for (; in_flight < concurrency && next < n; next++) {
			if (tasks[next].rc != PENDING)
				continue;
			if (reserve(b, &tasks[next]) < 0) {
				ended++;
				continue;
			}
			if (start(b, multi, &tasks[next]) == 0) {
				in_flight++;
				continue;
			}
			transfer_release(tasks[next].transfer);
			finish(b, &tasks[next], -ENOMEM, "could not start an HTTP request", NULL, 0, NULL);
			ended++;
		}
		int running, left;
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct visual_task *t;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			CURLcode code = m->data.result;
			in_flight--;
			ended++;
			transfer_done(b, t, code); /* m is not used after this: the handle is removed */
		}
		if (ended < wanted)
			curl_multi_poll(multi, NULL, 0, TICK_MS, NULL);
	}
	return 0;
}

int visual_make_all(db *d, arena *a, const struct config *cfg, const char *owner_id, const char *seed,
		    struct usage_ctx *usage, struct visual_task *tasks, size_t n, int concurrency,
		    bool (*alive)(void *arg), void *alive_arg, void (*done)(struct visual_task *task, void *arg),
		    void *done_arg)
{
	struct batch b = { d, a, cfg, owner_id, seed, usage, done, done_arg };
	size_t wanted = 0;
	for (size_t i = 0; i < n; i++) { /* tasks without a visual end at once; the rest are pending (rc 1) */
		tasks[i].rc = PENDING;
		if (visual_wanted(tasks[i].brief->platform))
			wanted++;
		else
			finish(&b, &tasks[i], -ENOENT, arena_printf(a, "%s items carry no visual", tasks[i].brief->platform),
			       NULL, 0, NULL);
	}
	if (concurrency < 1)
		concurrency = 1;
	return *cfg->llm_images_model ? run_images(&b, tasks, n, wanted, concurrency, alive, alive_arg)
				      : run_cards(&b, tasks, n, alive, alive_arg);
}
