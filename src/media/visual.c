/*
 * visual.c - an item's visual: the builtin card or the images endpoint,
 * stored as an asset (visual.h).
 *
 * The images transfer is one libcurl easy handle driven by a multi handle so
 * the loop can wake every 100 ms to ask alive(); the response goes into a
 * malloc'd buffer (libcurl callbacks never touch the arena, which may
 * longjmp) that is copied to the arena once the transfer is over.
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
#include "platforms.h"

#define TICK_MS 100

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

/* ---- the images endpoint ----------------------------------------------------- */

struct transfer {
	CURL *easy;
	CURLM *multi;
	struct curl_slist *headers;
	char *data;		/* malloc'd */
	size_t len, cap;
	bool overflow;
	bool (*alive)(void *arg);
	void *alive_arg;
	bool stopped;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;
	if (len > IMAGES_RESPONSE_CAP - t->len) {
		t->overflow = true;
		return 0;
	}
	if (t->len + len + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 64 * 1024;
		while (cap < t->len + len + 1)
			cap *= 2;
		char *grown = realloc(t->data, cap);
		if (!grown) {
			t->overflow = true;
			return 0;
		}
		t->data = grown;
		t->cap = cap;
	}
	memcpy(t->data + t->len, p, len);
	t->len += len;
	t->data[t->len] = '\0';
	return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return ((struct transfer *)arg)->stopped; /* non-zero aborts */
}

static void transfer_release(struct transfer *t)
{
	if (t->multi && t->easy)
		curl_multi_remove_handle(t->multi, t->easy);
	if (t->easy)
		curl_easy_cleanup(t->easy);
	if (t->multi)
		curl_multi_cleanup(t->multi);
	curl_slist_free_all(t->headers);
	free(t->data);
}

static int transfer_setup(struct transfer *t, const struct config *cfg, const char *url, const char *auth,
			  const char *body)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	if (h)
		t->headers = h;
	if (!h || !(h = curl_slist_append(t->headers, auth)) || !(h = curl_slist_append(t->headers, "Expect:")))
		return -ENOMEM;
	if (!(t->easy = curl_easy_init()) || !(t->multi = curl_multi_init()))
		return -ENOMEM;
	curl_easy_setopt(t->easy, CURLOPT_URL, url);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(t->easy, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(t->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, cfg->llm_connect_timeout_seconds);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT, cfg->llm_timeout_seconds);
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "adcraft/" ADCRAFT_VERSION);
	return curl_multi_add_handle(t->multi, t->easy) == CURLM_OK ? 0 : -ENOMEM;
}

/* Runs the transfer to its end; the curl result, or CURLE_ABORTED_BY_CALLBACK when alive() said stop. */
static CURLcode transfer_run(struct transfer *t)
{
	for (;;) {
		if (t->alive && !t->alive(t->alive_arg)) {
			t->stopped = true;
			return CURLE_ABORTED_BY_CALLBACK;
		}
		int running;
		if (curl_multi_perform(t->multi, &running) != CURLM_OK)
			return CURLE_FAILED_INIT;
		int left;
		CURLMsg *m;
		while ((m = curl_multi_info_read(t->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				return m->data.result;
		curl_multi_poll(t->multi, NULL, 0, TICK_MS, NULL);
	}
}

/* Asks the images endpoint for b's visual; the decoded (unvalidated) bytes. */
static int fetch_image(arena *a, const struct config *cfg, const struct gen_brief *b, const char *headline,
		       bool (*alive)(void *), void *alive_arg, struct visual *v, const void **bytes, size_t *len,
		       const char **why)
{
	const struct platform_rule *r = platform_find(b->platform);
	const char *body = images_request_body(a, cfg->llm_images_model, images_prompt(a, b, headline),
					       images_size_for(r->visual_width, r->visual_height));
	struct transfer t = { .alive = alive, .alive_arg = alive_arg };
	int64_t start = now_ms();
	int rc = transfer_setup(&t, cfg, arena_printf(a, "%s/images/generations", cfg->llm_base_url),
				arena_printf(a, "Authorization: Bearer %s", cfg->llm_api_key), body);
	CURLcode code = rc == 0 ? transfer_run(&t) : CURLE_FAILED_INIT;
	v->latency_ms = (long)(now_ms() - start);
	if (t.easy)
		curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &v->http_status);
	struct images_answer ans = { .ok = false };
	if (code == CURLE_ABORTED_BY_CALLBACK && t.stopped) {
		rc = -ECANCELED;
		*why = "cancelled";
	} else if (t.overflow) {
		rc = -EPROTO;
		*why = arena_printf(a, "the images endpoint's response is larger than %d MiB",
				    IMAGES_RESPONSE_CAP / (1024 * 1024));
	} else if (code != CURLE_OK) {
		rc = -EPROTO;
		*why = arena_printf(a, "the images request failed: %s", curl_easy_strerror(code));
	} else {
		images_parse(a, v->http_status, t.data ? t.data : "", t.len, &ans);
		rc = ans.ok ? 0 : -EPROTO;
		*why = ans.error;
	}
	transfer_release(&t);
	if (rc == 0) {
		*bytes = ans.bytes;
		*len = ans.len;
	}
	return rc;
}

/* ---- the builtin card -------------------------------------------------------- */

static int render_card(arena *a, const struct gen_brief *b, const char *headline, const char *seed,
		       struct visual *v, const void **bytes, size_t *len, const char **why)
{
	const struct platform_rule *r = platform_find(b->platform);
	struct card_spec spec = { r->visual_width, r->visual_height, headline, b->product, card_palette_pick(seed) };
	int64_t start = now_ms();
	int rc = card_render(a, &spec, bytes, len, why);
	v->latency_ms = (long)(now_ms() - start);
	return rc < 0 ? -EIO : 0;
}

int visual_make(db *d, arena *a, const struct config *cfg, const char *owner_id, const struct gen_brief *b,
		json_object *item, const char *seed, bool (*alive)(void *arg), void *alive_arg, struct visual *out,
		const char **ret_error)
{
	if (!visual_wanted(b->platform)) {
		*ret_error = arena_printf(a, "%s items carry no visual", b->platform);
		return -ENOENT;
	}
	struct visual v = { .source = *cfg->llm_images_model ? "images" : "builtin" };
	const char *headline = card_headline(a, item), *why = NULL;
	const void *bytes = NULL;
	size_t len = 0;
	int rc = *cfg->llm_images_model
			 ? fetch_image(a, cfg, b, headline, alive, alive_arg, &v, &bytes, &len, &why)
			 : render_card(a, b, headline, seed, &v, &bytes, &len, &why);
	if (rc < 0) {
		*ret_error = why ? why : "the visual could not be made";
		return rc;
	}
	struct asset_info info;
	const char *problem = NULL;
	/* a card is a PNG; what the endpoint sent is named by its sniffed type (NULL: "image.<ext>") */
	const char *filename = *cfg->llm_images_model ? NULL : arena_printf(a, "visual-%s.png", b->platform);
	rc = asset_store_bytes(d, a, cfg, owner_id, bytes, len, filename, &info, &problem);
	if (rc < 0) {
		*ret_error = problem ? arena_printf(a, "the %s image was refused: %s",
						    *cfg->llm_images_model ? "images endpoint's" : "card", problem)
				     : "the image could not be stored (database or files)";
		return rc;
	}
	v.asset_id = info.id;
	v.url = info.url;
	v.width = info.width;
	v.height = info.height;
	*out = v;
	return 0;
}
