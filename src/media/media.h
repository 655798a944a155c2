/*
 * media.h - what adcraft does with image bytes, through libvips.
 *
 * Three steps, each on bytes in memory: media_probe() says what an upload is
 * from its bytes alone and how large it claims to be (the header only, no
 * decode); media_normalize() decodes it once, sequentially, and re-encodes it
 * without metadata (EXIF, GPS, XMP, comments; an ICC profile is applied,
 * converting to sRGB, then dropped); media_rendition() makes a cover-cropped
 * (attention-centred) or width-bounded copy. libvips is set up once per
 * process by media_init(): one thread, no operation cache, and nothing it
 * says reaches stderr (errors are returned as text, warnings dropped).
 *
 * media_type_info() (media_type.c) needs no libvips; the rest is media.c.
 * adcraft-api does not link libvips at all: it runs media_prepare() in the
 * helper program adcraft-media (media_helper.h).
 */
#pragma once

#include <stddef.h>

#include "arena.h"

enum media_type { MEDIA_PNG, MEDIA_JPEG, MEDIA_WEBP, MEDIA_GIF };

struct media_type_info {
	const char *mime;	/* image/png */
	const char *ext;	/* png */
};

/* The table entry of t. */
const struct media_type_info *media_type_info(enum media_type t);

/* What media_probe() learnt. */
struct media_probe {
	enum media_type type;
	int width, height;
};

/* Once per process, before any other call (in the child after fork). 0 or -EIO. */
int media_init(void);

/*
 * The type from the magic bytes (PNG, JPEG, GIF, WebP; anything else, SVG and
 * HTML included, is -EMEDIUMTYPE), then the header through libvips's loader
 * for that type: a header it cannot read is -EMEDIUMTYPE too. Pixels above
 * max_pixels, a side above MEDIA_MAX_SIDE or a long side more than
 * MEDIA_MAX_ASPECT times the short one are -ERANGE. Nothing is decoded.
 * *why (arena-owned) says what was wrong on failure.
 */
/*
 * The renditions cover sizes from 1080x1920 to 1200x628 and bound the
 * thumbnail by width: a 48 KB PNG of 1,000,000x50 (50 MP, under the pixel
 * limit) scaled to cover took 1.2 GB and a minute per size, or failed at
 * 27 GB. 16384 is also WebP's largest side; 20:1 keeps a 970x90 banner.
 */
#define MEDIA_MAX_SIDE 16384
#define MEDIA_MAX_ASPECT 20
int media_probe(arena *a, const void *bytes, size_t len, long max_pixels, struct media_probe *ret,
		const char **why);

/*
 * Decodes bytes (probed as p) in full and re-encodes them in the same format
 * with every metadata block stripped (autorotated first, so EXIF orientation
 * is kept in the pixels). A truncated or corrupt image is -EMEDIUMTYPE.
 * *out (len *out_len) lives on a; *ret_w and *ret_h are the stored size.
 */
int media_normalize(arena *a, const void *bytes, size_t len, const struct media_probe *p, const void **out,
		    size_t *out_len, int *ret_w, int *ret_h, const char **why);

/*
 * A rendition of a stored image: width x height with a cover crop centred on
 * what draws attention, or (height 0) at most width wide keeping the aspect
 * ratio and never enlarged. Encoded as the source's format, except GIF
 * which becomes PNG (*ret_type). Metadata stripped. 0, -EMEDIUMTYPE or -EIO.
 */
int media_rendition(arena *a, const void *bytes, size_t len, int width, int height, enum media_type src,
		    enum media_type *ret_type, const void **out, size_t *out_len, int *ret_w, int *ret_h,
		    const char **why);

/* An image media_prepare() checked and re-encoded; bytes live on the caller's arena. */
struct media_prepared {
	enum media_type type;
	const void *bytes;
	size_t len;
	int width, height;
};

/* media_prepare() or media_helper_prepare(): the same contract, here or in a helper process. */
typedef int (*media_prepare_fn)(arena *a, const void *bytes, size_t len, long max_pixels,
				struct media_prepared *ret, const char **why);

/*
 * media_probe() then media_normalize(), in this process: what becomes of an
 * upload before it is stored. 0, or -EMEDIUMTYPE / -ERANGE with *why.
 */
int media_prepare(arena *a, const void *bytes, size_t len, long max_pixels, struct media_prepared *ret,
		  const char **why);
