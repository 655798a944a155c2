/*
 * card.c - the builtin branded card (card.h), drawn with libvips.
 *
 * Layout, in fractions of the card so every platform size looks alike:
 *   margin   6% of the shorter side on every edge
 *   band     the bottom 5% of the height, in the accent colour
 *   footer   a line 7% of the height tall above the band (product/brand)
 *   headline everything else, text autofitted (vips_text height) and
 *            capped at a size that stays a headline, centred vertically
 * Text is rendered as a one-band mask and blended onto the background with
 * vips_ifthenelse(blend), so the output is plain 8-bit sRGB without alpha.
 *
 * Text is sized by its font size at one fixed resolution (TEXT_DPI), never
 * by vips_text's autofit, which searches over the dpi: every change of the
 * font map's resolution clears pango's caches, and pango 1.50.12 (Debian 12)
 * frees the dropped font patterns from its own matching threads, walking the
 * font map's hash without a lock while the renderer refills it (SIGFPE in
 * g_hash_table_lookup, about one card in 400 on a loaded machine). At one
 * resolution nothing is dropped as long as a process stays under the
 * fontset cache's 256 entries: adcraft-media renders one card per process,
 * a few dozen sizes at most.
 */
#include "card.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>
#include <pango/pangocairo.h>
#include <vips/vips.h>

#include "media.h"

#define CARD_FONT "DejaVu Sans Bold"
#define FOOTER_FONT "DejaVu Sans"
#define TEXT_DPI 72	/* the one resolution text is laid out at: a point is a pixel */
#define MIN_TEXT_PX 2	/* the smallest font size tried; smaller text is shrunk as an image */
#define MAX_IMAGES 16	/* intermediate images of one render */

/*
 * libvips as media_init() sets it up (one thread, no cache, quiet), and this
 * thread's pango font map at TEXT_DPI before any font is loaded; once per process.
 */
static int vips_ready(void)
{
	static bool ready;
	if (!ready && media_init() < 0)
		return -EIO;
	if (!ready)
		pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(pango_cairo_font_map_get_default()),
						    TEXT_DPI);
	ready = true;
	return 0;
}

/* Intermediate images of one render, unreferenced together at the end. */
struct images {
	VipsImage *v[MAX_IMAGES];
	int n;
};

static VipsImage **slot(struct images *im)
{
	return im->n < MAX_IMAGES ? &im->v[im->n++] : NULL;
}

static void images_release(struct images *im)
{
	for (int i = 0; i < im->n; i++)
		if (im->v[i])
			g_object_unref(im->v[i]);
}

/* s as valid UTF-8 Pango markup (escaped), arena-owned. */
static const char *markup(arena *a, const char *s)
{
	char *valid = g_utf8_make_valid(s, -1);
	char *escaped = g_markup_escape_text(valid, -1);
	const char *out = arena_strdup(a, escaped);
	g_free(escaped);
	g_free(valid);
	return out;
}

/* Whether the last vips_text() failed because its text draws nothing (blanks, zero-width characters). */
static bool nothing_drawn(void)
{
	if (!strstr(vips_error_buffer(), "no text to render"))
		return false;
	vips_error_clear();
	return true;
}

/* Whether the layout's markup in font (a pango font string), wrapped at w as vips_text wraps it, fits w x h. */
static bool fits(PangoLayout *layout, const char *font, int w, int h)
{
	PangoFontDescription *desc = pango_font_description_from_string(font);
	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);
	pango_layout_set_width(layout, w * PANGO_SCALE);
	PangoRectangle ink;
	pango_layout_get_pixel_extents(layout, &ink, NULL);
	return ink.width <= w && ink.height <= h;
}

/* The largest font size in [MIN_TEXT_PX, max_px] at which markup fits box_w x box_h, as a font string. */
static const char *fitted_font(arena *a, const char *family, const char *markup, int box_w, int box_h, int max_px)
{
	PangoContext *ctx = pango_font_map_create_context(pango_cairo_font_map_get_default());
	PangoLayout *layout = pango_layout_new(ctx);
	pango_layout_set_markup(layout, markup, -1);
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	int lo = MIN_TEXT_PX, hi = VIPS_MAX(max_px, MIN_TEXT_PX);
	while (lo < hi) { /* lo fits, or is the smallest there is */
		int mid = lo + (hi - lo + 1) / 2;
		if (fits(layout, arena_printf(a, "%s %d", family, mid), box_w, box_h))
			lo = mid;
		else
			hi = mid - 1;
	}
	g_object_unref(layout);
	g_object_unref(ctx);
	return arena_printf(a, "%s %d", family, lo);
}

/*
 * A text mask for markup that fits box_w x box_h: the largest font size up
 * to max_px that fits, then (belt and braces) shrunk if pango's rendering
 * still overflowed. -ENODATA when the text draws nothing.
 */
static int text_mask(arena *a, struct images *im, const char *family, const char *markup, int box_w, int box_h,
		     int max_px, VipsImage **ret)
{
	VipsImage **t = slot(im), **fitted;
	const char *font = fitted_font(a, family, markup, box_w, box_h, max_px);
	if (!t || vips_text(t, markup, "font", font, "width", box_w, "dpi", TEXT_DPI, "wrap",
			    VIPS_TEXT_WRAP_WORD_CHAR, NULL))
		return t && nothing_drawn() ? -ENODATA : -EIO;
	VipsImage *mask = *t;
	int w = vips_image_get_width(mask), h = vips_image_get_height(mask);
	if (w > box_w || h > box_h) {
		double scale = (double)box_w / w < (double)box_h / h ? (double)box_w / w : (double)box_h / h;
		if (!(fitted = slot(im)) || vips_resize(mask, fitted, scale, NULL))
			return -EIO;
		mask = *fitted;
		if (vips_image_get_width(mask) > box_w || vips_image_get_height(mask) > box_h) {
			if (!(fitted = slot(im)) ||
			    vips_crop(mask, fitted, 0, 0, VIPS_MIN(box_w, vips_image_get_width(mask)),
				      VIPS_MIN(box_h, vips_image_get_height(mask)), NULL))
				return -EIO;
			mask = *fitted;
		}
	}
	*ret = mask;
	return 0;
}

/* Paints colour through mask (placed at x, y) onto *canvas, which it replaces. */
static int paint(struct images *im, VipsImage **canvas, VipsImage *mask, int x, int y, const uint8_t rgb[3])
{
	VipsImage **placed = slot(im), **ink = slot(im), **out = slot(im);
	double colour[3] = { rgb[0], rgb[1], rgb[2] };
	int w = vips_image_get_width(*canvas), h = vips_image_get_height(*canvas);
	if (!out || vips_embed(mask, placed, x, y, w, h, "extend", VIPS_EXTEND_BLACK, NULL))
		return -EIO;
	if (!(*ink = vips_image_new_from_image(*canvas, colour, 3)))
		return -EIO;
	if (vips_ifthenelse(*placed, *ink, *canvas, out, "blend", TRUE, NULL))
		return -EIO;
	*canvas = *out;
	return 0;
}

/* The background and band, as one 8-bit sRGB image (pixels in arena memory, which outlives it). */
static int background(arena *a, struct images *im, const struct card_spec *s, const struct card_palette *p,
		      int band, VipsImage **ret)
{
	size_t row = (size_t)s->width * 3;
	uint8_t *px = arena_alloc(a, row * (size_t)s->height);
	for (int y = 0; y < s->height; y++) {
		const uint8_t *c = y >= s->height - band ? p->accent : p->background;
		uint8_t *r = px + row * (size_t)y;
		for (int x = 0; x < s->width; x++)
			memcpy(r + 3 * x, c, 3);
	}
	VipsImage **t = slot(im);
	if (!t || !(*t = vips_image_new_from_memory(px, row * (size_t)s->height, s->width, s->height, 3,
						     VIPS_FORMAT_UCHAR)))
		return -EIO;
	vips_image_set_int(*t, "interpretation", VIPS_INTERPRETATION_sRGB);
	*ret = *t;
	return 0;
}

static int draw(arena *a, struct images *im, const struct card_spec *s, VipsImage **ret)
{
	const struct card_palette *p = s->palette ? s->palette : card_palette_pick(NULL);
	int shorter = VIPS_MIN(s->width, s->height);
	int margin = shorter * 6 / 100, band = s->height * 5 / 100, footer_h = s->height * 7 / 100;
	int box_w = s->width - 2 * margin;
	int head_h = s->height - 2 * margin - band - footer_h;
	const char *headline = s->headline && *s->headline ? s->headline : s->footer;
	const char *footer = s->headline && *s->headline ? s->footer : NULL;
	/* a headline's font at most a ninth of the height, a footer's half its box */
	int head_px = s->height / 9, foot_px = footer_h / 2;
	VipsImage *canvas, *mask;
	int rc = background(a, im, s, p, band, &canvas);
	if (rc == 0 && headline && *headline) {
		rc = text_mask(a, im, CARD_FONT, markup(a, headline), box_w, head_h, head_px, &mask);
		if (rc == 0)
			rc = paint(im, &canvas, mask, margin, margin + (head_h - vips_image_get_height(mask)) / 2, p->text);
		rc = rc == -ENODATA ? 0 : rc; /* blank text: a card without it */
	}
	if (rc == 0 && footer && *footer) {
		rc = text_mask(a, im, FOOTER_FONT, markup(a, footer), box_w, footer_h, foot_px, &mask);
		if (rc == 0)
			rc = paint(im, &canvas, mask, margin,
				   s->height - band - footer_h + (footer_h - vips_image_get_height(mask)) / 2, p->text);
		rc = rc == -ENODATA ? 0 : rc;
	}
	if (rc == 0)
		*ret = canvas;
	return rc;
}

int card_render(arena *a, const struct card_spec *s, const void **ret_png, size_t *ret_len, const char **ret_error)
{
	if (s->width < CARD_MIN_SIDE || s->width > CARD_MAX_SIDE || s->height < CARD_MIN_SIDE ||
	    s->height > CARD_MAX_SIDE)
		return -EINVAL;
	int rc = vips_ready();
	struct images im = { .n = 0 };
	VipsImage *card;
	void *png = NULL;
	size_t len = 0;
	if (rc == 0)
		rc = draw(a, &im, s, &card);
	if (rc == 0 && vips_pngsave_buffer(card, &png, &len, "compression", 6, "strip", TRUE, NULL))
		rc = -EIO;
	if (rc == 0) {
		void *copy = arena_alloc(a, len);
		memcpy(copy, png, len);
		*ret_png = copy;
		*ret_len = len;
	} else if (ret_error) {
		*ret_error = arena_printf(a, "the card could not be rendered: %s", vips_error_buffer());
	}
	g_free(png);
	vips_error_clear();
	images_release(&im);
	return rc;
}
