/*
 * images.h - the OpenAI-compatible images API (POST {base}/images/generations),
 * without transport: the request body, the prompt for an item's visual, and
 * the answer's parser, which returns the decoded image bytes.
 *
 * What comes back is not trusted: the bytes are only decoded from base64
 * here; whether they are an image, which type and how many pixels is for
 * asset_store_bytes(), the same gate as an upload.
 *
 * Pure functions over arenas (unit-tested and fuzzed); visual.c moves the bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "brief.h"

/* The largest answer read: base64 of a 16 MiB image plus the JSON around it. */
#define IMAGES_RESPONSE_CAP (22 * 1024 * 1024)

/*
 * The size to ask for, "WxH", for a visual of width x height: the closest
 * aspect the OpenAI models accept (1024x1024, 1536x1024, 1024x1536).
 */
const char *images_size_for(int width, int height);

/* The prompt for brief's visual showing headline (may be ""); arena-owned. */
const char *images_prompt(arena *a, const struct gen_brief *b, const char *headline);

/* {model, prompt, size, response_format: b64_json, n: 1}; arena-owned. */
const char *images_request_body(arena *a, const char *model, const char *prompt, const char *size);

struct images_answer {
	bool ok;
	const char *error;	/* !ok: why, in one sentence (arena-owned) */
	const void *bytes;	/* ok: the decoded image (arena-owned), not yet validated */
	size_t len;
};

/* Interprets an HTTP answer (status, body[0..len)). */
void images_parse(arena *a, long http_status, const char *body, size_t len, struct images_answer *out);

/*
 * Strict base64 (RFC 4648 alphabet, padding required, no whitespace):
 * decodes s[0..n) into an arena buffer. 0, or -EINVAL (outputs untouched).
 */
int images_base64_decode(arena *a, const char *s, size_t n, const void **ret, size_t *ret_len);
