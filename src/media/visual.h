/*
 * visual.h - the image a generated social post or ad carries (includeVisuals).
 *
 * visual_make() makes one: with llm_images_model set it asks the
 * OpenAI-compatible images endpoint ({llm_base_url}/images/generations,
 * images.h) for one at the nearest size the API offers; otherwise it renders
 * the builtin branded card (card.h) at the platform's size
 * (platform_rules[].visual_width/height). Either way the bytes become an
 * asset through asset_store_bytes(), the gate every upload passes (type from
 * the bytes, pixel and size limits, metadata stripped, quota).
 *
 * The images request uses the LLM transport's settings: llm_connect_timeout_
 * seconds, llm_timeout_seconds, the API key, no redirects, http(s) only, a
 * response cap (IMAGES_RESPONSE_CAP); alive() is polled every 100 ms and a
 * false answer aborts the transfer at once. One attempt: a failed image is
 * reported, never retried (the item keeps its copy).
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

struct visual {
	const char *asset_id;	/* the asset (arena-owned) */
	const char *url;	/* where nginx serves it: /media/... */
	const char *source;	/* "builtin" (card) or "images" (the images endpoint) */
	int width, height;	/* as stored */
	long http_status;	/* images: the endpoint's status; 0 otherwise */
	long latency_ms;
};

/* Whether items of this platform get a visual (it has a visual size). */
bool visual_wanted(const char *platform);

/*
 * Makes and stores the visual of item (a finished content item written from
 * brief b) for owner_id. seed picks the card palette (the campaign id).
 * 0 and *out filled, or a negative code with *ret_error (arena-owned, one
 * sentence a user may read) saying why: -ECANCELED when alive() said stop,
 * -ENOENT when the platform takes no visual, -EMEDIUMTYPE/-ERANGE/-EFBIG/
 * -EDQUOT when the image was refused (asset_store.h), -EPROTO when the
 * endpoint failed or answered something unusable, -ENOTCONN/-EIO for the
 * database or files.
 */
int visual_make(db *d, arena *a, const struct config *cfg, const char *owner_id, const struct gen_brief *b,
		json_object *item, const char *seed, bool (*alive)(void *arg), void *alive_arg, struct visual *out,
		const char **ret_error);
