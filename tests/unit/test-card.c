/*
 * Unit tests for src/media/card.c: the builtin branded card. Each card is
 * decoded again with libvips and its pixels read: the size is the platform's,
 * the margins and the band hold only their colours (text never overflows),
 * the same spec gives the same bytes, and hostile text renders.
 */
#include <errno.h>
#include <stdlib.h>

#include <json-c/json.h>
#include <vips/vips.h>

#include "card.h"
#include "platforms.h"
#include "tap.h"

struct decoded {
	int width, height, bands;
	uint8_t *px; /* g_malloc'd, width * height * bands */
};

static int decode(const void *png, size_t len, struct decoded *d)
{
	VipsImage *im = vips_image_new_from_buffer(png, len, "", NULL);
	if (!im)
		return -EIO;
	d->width = vips_image_get_width(im);
	d->height = vips_image_get_height(im);
	d->bands = vips_image_get_bands(im);
	size_t n;
	d->px = vips_image_write_to_memory(im, &n);
	g_object_unref(im);
	return d->px ? 0 : -EIO;
}

static bool pixel_is(const struct decoded *d, int x, int y, const uint8_t rgb[3])
{
	const uint8_t *p = d->px + ((size_t)y * d->width + x) * d->bands;
	return p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2];
}

/* Pixels of the rectangle that are not rgb. */
static long off_colour(const struct decoded *d, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
	long n = 0;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++)
			n += !pixel_is(d, x, y, rgb);
	return n;
}

/*
 * Renders spec and checks the size, that the margins and the band hold only
 * the palette's colours, and that text was drawn in the headline box.
 */
static void check_card(arena *a, const struct card_spec *s, const char *label)
{
	const void *png;
	size_t len;
	const char *err = NULL;
	int rc = card_render(a, s, &png, &len, &err);
	is_int(rc, 0, "%s: renders (%s)", label, err ? err : "no error");
	if (rc)
		return;
	ok(len > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0, "%s: PNG bytes", label);
	struct decoded d;
	if (decode(png, len, &d) < 0) {
		ok(0, "%s: decodes", label);
		return;
	}
	is_int(d.width, s->width, "%s: width", label);
	is_int(d.height, s->height, "%s: height", label);
	is_int(d.bands, 3, "%s: RGB without alpha", label);
	const struct card_palette *p = s->palette ? s->palette : card_palette_pick(NULL);
	int margin = VIPS_MIN(s->width, s->height) * 6 / 100, band = s->height * 5 / 100;
	long stray = off_colour(&d, 0, 0, s->width, margin, p->background) +		     /* top */
		     off_colour(&d, 0, 0, margin, s->height - band, p->background) +	     /* left */
		     off_colour(&d, s->width - margin, 0, s->width, s->height - band, p->background); /* right */
	is_int(stray, 0, "%s: nothing drawn in the margins", label);
	is_int(off_colour(&d, 0, s->height - band, s->width, s->height, p->accent), 0, "%s: the band is the accent",
	       label);
	ok(off_colour(&d, margin, margin, s->width - margin, s->height - band, p->background) > 0,
	   "%s: text was drawn", label);
	g_free(d.px);
}

static void platform_sizes(arena *a)
{
	for (const struct platform_rule *r = platform_rules; r->name; r++) {
		if (!r->visual_width)
			continue;
		struct card_spec s = { r->visual_width, r->visual_height, "Plan your week in five minutes",
				       "Acme Planner", card_palette_pick(r->name) };
		check_card(a, &s, r->name);
	}
	struct card_spec stories = { 1080, 1920, "Stories are tall", "Acme", NULL };
	check_card(a, &stories, "stories 1080x1920");
}

static void deterministic(arena *a)
{
	struct card_spec s = { 1200, 628, "The same card twice", "Acme Planner", card_palette_pick("campaign-1") };
	const void *p1, *p2, *p3;
	size_t l1, l2, l3;
	ok(card_render(a, &s, &p1, &l1, NULL) == 0 && card_render(a, &s, &p2, &l2, NULL) == 0 && l1 == l2 &&
		   memcmp(p1, p2, l1) == 0,
	   "the same spec renders the same bytes (%zu)", l1);
	s.headline = "A different card";
	ok(card_render(a, &s, &p3, &l3, NULL) == 0 && (l3 != l1 || memcmp(p1, p3, l1) != 0),
	   "another headline renders other bytes");
	ok(card_palette_pick("campaign-1") == card_palette_pick("campaign-1"), "a seed always picks the same palette");
	int distinct = 0;
	const struct card_palette *first = card_palette_pick("c-0");
	for (int i = 1; i < 32; i++)
		distinct += card_palette_pick(arena_printf(a, "c-%d", i)) != first;
	ok(distinct > 0, "seeds spread over the palettes");
	ok(card_palette_pick(NULL) == &card_palettes[0] && card_palette_pick("") == &card_palettes[0],
	   "no seed: the first palette");
}

static void long_and_hostile_text(arena *a)
{
	char word[400], sentence[4000];
	memset(word, 'W', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	sentence[0] = '\0';
	for (int i = 0; i < 80; i++)
		strcat(sentence, "Plan every task in one calm place. ");
	struct card_spec s = { 1200, 628, sentence, "Acme Planner", card_palette_pick("long") };
	check_card(a, &s, "a long headline wraps inside the box");
	s.headline = word;
	check_card(a, &s, "one unbreakable word is broken or shrunk, never overflows");
	s.width = s.height = 1080;
	s.headline = "計画を立てるのは五分で十分です。チーム全員の一週間を一つの場所に。";
	check_card(a, &s, "Japanese");
	s.headline = "خطط لأسبوعك في خمس دقائق مع فريقك كله";
	check_card(a, &s, "Arabic (right to left)");
	s.headline = "Emoji 🚀🔥 and Ελληνικά and Кириллица";
	check_card(a, &s, "emoji, Greek, Cyrillic");
	s.headline = "<b>bold</b> & <span foreground=\"red\">markup</span> &amp; is text";
	check_card(a, &s, "markup is text, not markup");
	s.headline = "bad \xff\xfe utf-8 \xc3";
	check_card(a, &s, "invalid UTF-8");
	s.width = s.height = 64;
	s.headline = sentence;
	check_card(a, &s, "the smallest card");
	s.headline = NULL;
	check_card(a, &s, "no headline: the footer stands in");
	static const char *const blanks[] = { " ", "\t\n ", "\u200b", "\u200b\u200b \u2060" };
	for (size_t i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
		struct card_spec blank = { 400, 300, blanks[i], i % 2 ? " " : NULL, card_palette_pick("blank") };
		const void *png;
		size_t len;
		struct decoded d = { 0 };
		ok(card_render(a, &blank, &png, &len, NULL) == 0 && decode(png, len, &d) == 0 &&
			   off_colour(&d, 0, 0, 400, 300 - 300 * 5 / 100, blank.palette->background) == 0,
		   "blank text %zu: a card with only its colours", i);
		if (d.px)
			g_free(d.px);
	}
	const void *png = NULL;
	size_t len = 0;
	s.width = 10;
	is_int(card_render(a, &s, &png, &len, NULL), -EINVAL, "a card below the minimum size is refused");
	s.width = 1200;
	s.height = CARD_MAX_SIDE + 1;
	is_int(card_render(a, &s, &png, &len, NULL), -EINVAL, "a card above the maximum size is refused");
	ok(png == NULL && len == 0, "outputs are untouched on failure");
}

static void headlines(arena *a)
{
	json_object *ad = json_tokener_parse("{\"subjectLine\":\"Plan smarter\",\"contentBody\":\"Body first line\"}");
	is_str(card_headline(a, ad), "Plan smarter", "a social ad shows its headline");
	json_object *search = json_tokener_parse("{\"headlines\":[\"Plan Fast\",\"Two\"],\"contentBody\":\"x\"}");
	is_str(card_headline(a, search), "Plan Fast", "a search ad shows its first headline");
	json_object *post = json_tokener_parse("{\"contentBody\":\"  First line here.\\nSecond line.\"}");
	is_str(card_headline(a, post), "First line here.", "a post shows the first line of its body");
	json_object *empty = json_tokener_parse("{\"hashtags\":[]}");
	is_str(card_headline(a, empty), "", "no text: an empty headline");
	char body[1200];
	body[0] = '\0';
	for (int i = 0; i < 40; i++)
		strcat(body, "Sentences ");
	json_object *long_post = json_object_new_object();
	json_object_object_add(long_post, "contentBody", json_object_new_string(body));
	const char *h = card_headline(a, long_post);
	ok(g_utf8_strlen(h, -1) <= CARD_HEADLINE_MAX && g_str_has_suffix(h, "\u2026") && !strstr(h, " \u2026"),
	   "a long line is cut at a word with an ellipsis (%ld characters)", g_utf8_strlen(h, -1));
	json_object *cjk = json_object_new_object();
	char wide[1600] = "";
	for (int i = 0; i < 200; i++)
		strcat(wide, "計");
	json_object_object_add(cjk, "contentBody", json_object_new_string(wide));
	h = card_headline(a, cjk);
	ok(g_utf8_validate(h, -1, NULL) && g_utf8_strlen(h, -1) == CARD_HEADLINE_MAX,
	   "a line without spaces is cut between characters, never inside one");
	json_object_put(ad), json_object_put(search), json_object_put(post), json_object_put(empty);
	json_object_put(long_post), json_object_put(cjk);
}

int main(void)
{
	arena *a = arena_new(0);
	platform_sizes(a);
	deterministic(a);
	long_and_hostile_text(a);
	headlines(a);
	arena_free(a);
	vips_shutdown();
	return tap_done();
}
