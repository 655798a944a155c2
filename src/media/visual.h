/*
 * visual.h - the image a generated social post or ad carries (includeVisuals).
 *
 * visual_make_all() makes them: with llm_images_model set it asks the
 * OpenAI-compatible images endpoint ({llm_base_url}/images/generations,
 * images.h) for one at the nearest size the API offers; otherwise it renders
 * the builtin branded card (card.h) at the platform's size
 * (platform_rules[].visual_width/height). Either way the bytes become an
 * asset through asset_store_bytes(), the gate every upload passes (type from
 * the bytes, pixel and size limits, metadata stripped, quota).
 *
 * Images requests use the LLM transport's settings: llm_connect_timeout_
 * seconds, llm_timeout_seconds, the API key, no redirects, http(s) only, a
 * response cap (IMAGES_RESPONSE_CAP), several at once on one libcurl multi
 * handle; alive() is polled every 100 ms and a false answer aborts them at
 * once. One attempt: a failed image is reported, never retried (the item
 * keeps its copy). Each request reserves the images model's price against
 * the owner's limits first and is recorded in llm_usage (purpose image)
 * when it ends (usage.h); builtin cards are free and never recorded.
 *
 * Never logs; the job logs and reports what failed.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "arena.h"
#include "brief.h"
#include "config.h"
#include "db.h"
#include "usage.h"

struct visual {
	const char *asset_id;	/* the asset (arena-owned) */
	const char *url;	/* where nginx serves it: /media/... */
	const char *source;	/* "builtin" (card) or "images" (the images endpoint) */
	int width, height;	/* as stored */
	long http_status;	/* images: the endpoint's status; 0 otherwise */
	long latency_ms;
};

/* One item's visual in visual_make_all(). The caller fills brief, item and arg. */
struct visual_task {
	const struct gen_brief *brief;	/* the item's brief (platform, product, ...) */
	json_object *item;		/* the finished content item (its headline is drawn or described) */
	void *arg;			/* the caller's */
	int rc;				/* when done: 0, or a code as listed below */
	const char *error;		/* rc < 0: why, one sentence a user may read (arena-owned) */
	struct visual out;		/* rc == 0: the stored visual */
	struct visual_transfer *transfer; /* internal */
	long long reservation;		/* internal: the request's hold on the owner's limits */
};

/* Whether items of this platform get a visual (it has a visual size). */
bool visual_wanted(const char *platform);

/*
 * Makes and stores the visuals of tasks[0..n) for owner_id; seed picks the
 * card palette (the campaign id); usage (NULL: none) is whose limits images
 * requests count against and where their llm_usage rows go. Cards are rendered one after another;
 * images requests run up to `concurrency` at once. done(task, done_arg) is
 * called once for every task as it ends, in completion order, after its
 * asset is stored. alive() is polled at least every 100 ms: when it says
 * stop, transfers in flight are aborted and every unfinished task ends
 * with -ECANCELED. Returns 0, or -ECANCELED when stopped.
 *
 * A task's rc: 0; -ECANCELED; -ENOENT (the platform takes no visual);
 * -EMEDIUMTYPE/-ERANGE/-EFBIG/-EDQUOT (the image was refused, asset_store.h;
 * -EDQUOT also: a limit of the owner had no room, so it was never requested);
 * -EPROTO (the endpoint failed or answered something unusable); -ENOMEM
 * (no HTTP request could be started); -EIO/-ENOTCONN (libvips, the database
 * or the files).
 */
int visual_make_all(db *d, arena *a, const struct config *cfg, const char *owner_id, const char *seed,
		    struct usage_ctx *usage, struct visual_task *tasks, size_t n, int concurrency,
		    bool (*alive)(void *arg), void *alive_arg, void (*done)(struct visual_task *task, void *arg),
		    void *done_arg);
