/*
 * media.c - image bytes through libvips: sniff, probe, normalise, render.
 *
 * The type is decided by the magic bytes (a table), and only that type's
 * libvips loader is ever called, so an SVG, a PDF or HTML never reaches a
 * loader even if libvips has one. Loading is lazy: media_probe() reads the
 * header only, and the pixel limit is checked before anything is decoded.
 * Decoding is sequential (streamed) unless an EXIF orientation needs the
 * whole image to rotate it. Output buffers from libvips are copied onto the
 * caller's arena and released at once; VipsImage references are dropped
 * before returning. libvips errors come back as text (*why), never printed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>
#include <vips/vector.h> /* vips_vector_set_enabled: not in vips.h */

#include "media.h"

/* Magic bytes: at offset off, these bytes (and, for WebP, "WEBP" at 8 too). */
static const struct magic {
	enum media_type type;
	size_t off;
	const char *bytes;
	size_t len;
} magics[] = {
	{ MEDIA_PNG, 0, "\x89PNG\r\n\x1a\n", 8 },
	{ MEDIA_JPEG, 0, "\xff\xd8\xff", 3 },
	{ MEDIA_GIF, 0, "GIF87a", 6 },
	{ MEDIA_GIF, 0, "GIF89a", 6 },
	{ MEDIA_WEBP, 8, "WEBP", 4 }, /* after "RIFF" and a length: checked below */
};

static int sniff(const unsigned char *b, size_t len, enum media_type *ret)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		const struct magic *m = &magics[i];
		if (len < m->off + m->len || memcmp(b + m->off, m->bytes, m->len) != 0)
			continue;
		if (m->type == MEDIA_WEBP && memcmp(b, "RIFF", 4) != 0)
			continue;
		*ret = m->type;
		return 0;
	}
	return -EMEDIUMTYPE;
}

static void drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
	(void)domain;
	(void)level;
	(void)message;
	(void)data;
}

int media_init(void)
{
	/* libvips loads its modules (ImageMagick, poppler, HEIF, JPEG XL, OpenSlide: ~33 more shared
	 * libraries, ~6 MiB of RSS and ~17 ms of start-up) from $VIPSHOME/lib/vips-modules-8.x.
	 * adcraft reads PNG, JPEG, WebP and GIF only, which libvips has built in: point VIPSHOME
	 * where no module is, so none is ever loaded (docs/performance.md, "Request path"). */
	setenv("VIPSHOME", "/nonexistent/adcraft-loads-no-vips-modules", 1);
	setenv("VIPS_CONCURRENCY", "1", 1);
	setenv("VIPS_WARNING", "0", 1);
	setenv("VIPS_NOVECTOR", "1", 1);
	/* libvips and GLib warn through g_log: never to our stderr (the JSON log). */
	g_log_set_handler("VIPS", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, drop_log, NULL);
	g_log_set_handler("GLib-GObject", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, drop_log, NULL);
	if (VIPS_INIT("adcraft") != 0)
		return -EIO;
	/* No run-time code generation (orc): the units forbid writable executable memory
	 * (MemoryDenyWriteExecute=yes), and plain C paths behave the same everywhere. */
	vips_vector_set_enabled(FALSE);
	vips_concurrency_set(1);
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	return 0;
}

/* libvips's error text, copied onto a and cleared. */
static const char *vips_why(arena *a, const char *what)
{
	const char *e = vips_error_buffer();
	char *s = arena_printf(a, "%s%s%s", what, *e ? ": " : "", e);
	vips_error_clear();
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = *(p + 1) ? ' ' : '\0';
	return s;
}

/* Loads the header of bytes with the one loader for type; pixels come later, on demand. */
static VipsImage *load(enum media_type type, const void *bytes, size_t len, VipsAccess access)
{
	VipsImage *img = NULL;
	void *b = (void *)bytes; /* libvips's loaders take void * but never write */
	int rc;
	switch (type) {
	case MEDIA_PNG:
		rc = vips_pngload_buffer(b, len, &img, "access", access, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	case MEDIA_JPEG:
		rc = vips_jpegload_buffer(b, len, &img, "access", access, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	case MEDIA_WEBP:
		rc = vips_webpload_buffer(b, len, &img, "access", access, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	case MEDIA_GIF:
		rc = vips_gifload_buffer(b, len, &img, "access", access, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	default:
		return NULL;
	}
	return rc == 0 ? img : NULL;
}

int media_probe(arena *a, const void *bytes, size_t len, long max_pixels, struct media_probe *ret,
		const char **why)
{
	enum media_type type;
	if (sniff(bytes, len, &type) < 0) {
		*why = "the file is not a PNG, JPEG, WebP or GIF image";
		return -EMEDIUMTYPE;
	}
	VipsImage *img = load(type, bytes, len, VIPS_ACCESS_SEQUENTIAL);
	if (!img) {
		*why = vips_why(a, arena_printf(a, "the %s header cannot be read", media_type_info(type)->ext));
		return -EMEDIUMTYPE;
	}
	int w = vips_image_get_width(img), h = vips_image_get_height(img);
	g_object_unref(img);
	if (w <= 0 || h <= 0) {
		*why = "the image has no pixels";
		return -EMEDIUMTYPE;
	}
	if ((long long)w * h > max_pixels) {
		*why = arena_printf(a, "the image is %dx%d, %lld pixels; at most %ld are accepted", w, h,
				    (long long)w * h, max_pixels);
		return -ERANGE;
	}
	if (w > MEDIA_MAX_SIDE || h > MEDIA_MAX_SIDE) {
		*why = arena_printf(a, "the image is %dx%d; neither side may exceed %d pixels", w, h, MEDIA_MAX_SIDE);
		return -ERANGE;
	}
	int long_side = w > h ? w : h, short_side = w > h ? h : w;
	if (long_side > (long long)MEDIA_MAX_ASPECT * short_side) {
		*why = arena_printf(a, "the image is %dx%d; its long side may be at most %d times its short side", w,
				    h, MEDIA_MAX_ASPECT);
		return -ERANGE;
	}
	*ret = (struct media_probe){ type, w, h };
	return 0;
}

/* Saves img as type with metadata stripped; the bytes are copied onto a. */
static int save(arena *a, VipsImage *img, enum media_type type, const void **out, size_t *out_len)
{
	void *buf = NULL;
	size_t len = 0;
	int rc;
	switch (type) {
	case MEDIA_PNG:
		rc = vips_pngsave_buffer(img, &buf, &len, "strip", TRUE, NULL);
		break;
	case MEDIA_JPEG:
		rc = vips_jpegsave_buffer(img, &buf, &len, "strip", TRUE, "Q", 90, "optimize_coding", TRUE, NULL);
		break;
	case MEDIA_WEBP:
		rc = vips_webpsave_buffer(img, &buf, &len, "strip", TRUE, "Q", 90, NULL);
		break;
	case MEDIA_GIF:
		rc = vips_gifsave_buffer(img, &buf, &len, "strip", TRUE, NULL);
		break;
	default:
		rc = -1;
	}
	if (rc != 0) {
		g_free(buf);
		return -EIO;
	}
	void *copy = arena_alloc(a, len ? len : 1);
	memcpy(copy, buf, len);
	g_free(buf);
	*out = copy;
	*out_len = len;
	return 0;
}

/* Replaces *img by op's output (dropping the old reference); 0 or -1 as libvips. */
static int step(VipsImage **img, int rc, VipsImage *next)
{
	if (rc != 0)
		return -1;
	g_object_unref(*img);
	*img = next;
	return 0;
}

int media_normalize(arena *a, const void *bytes, size_t len, const struct media_probe *p, const void **out,
		    size_t *out_len, int *ret_w, int *ret_h, const char **why)
{
	VipsImage *img = load(p->type, bytes, len, VIPS_ACCESS_SEQUENTIAL), *next = NULL;
	if (!img) {
		*why = vips_why(a, "the image cannot be read");
		return -EMEDIUMTYPE;
	}
	/* Rotating by 90 degrees needs the whole image: load it for random access then. */
	if (vips_image_get_orientation(img) > 1) {
		g_object_unref(img);
		if (!(img = load(p->type, bytes, len, VIPS_ACCESS_RANDOM))) {
			*why = vips_why(a, "the image cannot be read");
			return -EMEDIUMTYPE;
		}
		if (step(&img, vips_autorot(img, &next, NULL), next) < 0)
			goto fail;
	}
	if (vips_image_get_typeof(img, VIPS_META_ICC_NAME)) {
		/* The profile is applied (to sRGB), then stripped with the rest; a broken one is just dropped. */
		if (vips_icc_transform(img, &next, "srgb", "embedded", TRUE, NULL) == 0)
			step(&img, 0, next);
		else
			vips_error_clear();
	} else if (vips_image_get_interpretation(img) == VIPS_INTERPRETATION_CMYK) {
		if (step(&img, vips_colourspace(img, &next, VIPS_INTERPRETATION_sRGB, NULL), next) < 0)
			goto fail;
	}
	if (save(a, img, p->type, out, out_len) < 0)
		goto fail;
	*ret_w = vips_image_get_width(img);
	*ret_h = vips_image_get_height(img);
	g_object_unref(img);
	return 0;
fail:
	*why = vips_why(a, "the image cannot be decoded (truncated or corrupt)");
	g_object_unref(img);
	return -EMEDIUMTYPE;
}

int media_prepare(arena *a, const void *bytes, size_t len, long max_pixels, struct media_prepared *ret,
		  const char **why)
{
	struct media_probe probe;
	int rc = media_probe(a, bytes, len, max_pixels, &probe, why);
	if (rc < 0)
		return rc;
	const void *out;
	size_t out_len;
	int w, h;
	if ((rc = media_normalize(a, bytes, len, &probe, &out, &out_len, &w, &h, why)) < 0)
		return rc;
	*ret = (struct media_prepared){ probe.type, out, out_len, w, h };
	return 0;
}

int media_rendition(arena *a, const void *bytes, size_t len, int width, int height, enum media_type src,
		    enum media_type *ret_type, const void **out, size_t *out_len, int *ret_w, int *ret_h,
		    const char **why)
{
	VipsImage *img = NULL;
	int rc = height > 0 ? vips_thumbnail_buffer((void *)bytes, len, &img, width, "height", height, "crop",
						    VIPS_INTERESTING_ATTENTION, "size", VIPS_SIZE_BOTH, NULL)
			    : vips_thumbnail_buffer((void *)bytes, len, &img, width, "height", VIPS_MAX_COORD,
						    "size", VIPS_SIZE_DOWN, NULL);
	if (rc != 0) {
		*why = vips_why(a, "the stored image cannot be resized");
		return -EMEDIUMTYPE;
	}
	enum media_type type = src == MEDIA_GIF ? MEDIA_PNG : src;
	if (save(a, img, type, out, out_len) < 0) {
		*why = vips_why(a, "the rendition cannot be encoded");
		g_object_unref(img);
		return -EIO;
	}
	*ret_type = type;
	*ret_w = vips_image_get_width(img);
	*ret_h = vips_image_get_height(img);
	g_object_unref(img);
	return 0;
}
