/*
 * fuzz-multipart.c - multipart/form-data bodies of POST /api/assets, read by
 * multipart.c as asset_create() does. The input's first line is the
 * Content-Type value (multipart_boundary), the rest the body
 * (multipart_parse). Invariants: a boundary is 1 to 70 characters; a parsed
 * body has 1 to MULTIPART_MAX_PARTS parts, each inside the body, in order,
 * not overlapping, with a name, and no part's data contains the delimiter
 * "\r\n--<boundary>"; a failure always says why. Then the upload path: the
 * `file` part (or, when the body is no form, the whole body) goes through
 * media_probe() and, when that accepts it, media_normalize(), as
 * asset_store_bytes() does, with a small pixel limit so inputs stay fast:
 * libvips's loaders must refuse or accept, never crash, and an accepted
 * image's normalised size must be what its header said.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "media.h"
#include "multipart.h"

#define FUZZ_MAX_PIXELS (256 * 256)

static void upload_path(arena *a, const char *bytes, size_t len)
{
	static int ready;
	if (!ready) {
		if (media_init() < 0)
			abort();
		ready = 1;
	}
	struct media_probe p;
	const char *why = NULL;
	int rc = media_probe(a, bytes, len, FUZZ_MAX_PIXELS, &p, &why);
	if (rc < 0) {
		if ((rc != -EMEDIUMTYPE && rc != -ERANGE) || !why)
			abort();
		return;
	}
	if ((long long)p.width * p.height > FUZZ_MAX_PIXELS)
		abort();
	const void *out;
	size_t out_len;
	int w, h;
	rc = media_normalize(a, bytes, len, &p, &out, &out_len, &w, &h, &why);
	if (rc == 0 && (w != p.width || h != p.height) && w != p.height)
		abort(); /* only an EXIF rotation may swap the sides */
	if (rc < 0 && (rc != -EMEDIUMTYPE || !why))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = fuzz_arena();
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ctlen = nl ? (size_t)(nl - data) : size;
	const char *ct = fuzz_cstr(a, data, ctlen);
	const char *body = nl ? (const char *)nl + 1 : "";
	size_t len = nl ? size - ctlen - 1 : 0;
	const char *boundary = NULL;
	if (multipart_boundary(a, ct, &boundary) < 0)
		boundary = "XyZ"; /* still exercise the body reader */
	size_t blen = strlen(boundary);
	if (blen == 0 || blen > MULTIPART_MAX_BOUNDARY)
		abort();
	struct multipart_part parts[MULTIPART_MAX_PARTS];
	size_t n = 0;
	const char *why = NULL;
	if (multipart_parse(a, body, len, boundary, parts, &n, &why) < 0) {
		if (!why || !*why)
			abort();
		upload_path(a, body, len);
	} else {
		if (n == 0 || n > MULTIPART_MAX_PARTS)
			abort();
		char *delim = arena_printf(a, "\r\n--%s", boundary);
		const char *prev_end = body;
		for (size_t i = 0; i < n; i++) {
			const struct multipart_part *p = &parts[i];
			if (!p->name || p->data < prev_end || p->data + p->len > body + len)
				abort();
			if (p->len >= blen + 4 && memmem(p->data, p->len, delim, blen + 4))
				abort();
			prev_end = p->data + p->len;
			if (strcmp(p->name, "file") == 0)
				upload_path(a, p->data, p->len);
		}
	}
	arena_reset(a);
	return 0;
}
