/*
 * Unit tests for src/media/card.c: the builtin branded card. Each card is
 * decoded again with libvips and its pixels read: the size is the platform's,
 * the margins and the band hold only their colours (text never overflows),
 * the same spec gives the same bytes, and hostile text renders.
 *
 * Every card is rendered (and decoded) in a child process of its own, as
 * adcraft-media renders one card per process. pango 1.50.12 (Debian 12) is
 * not safe for more: its font-matching threads drop the last reference to
 * a pattern the fontset cache (256 entries) has evicted and then walk the
 * font map's hash without a lock while the renderer inserts into it; a test
 * that rendered all its cards in one process died of SIGFPE in
 * g_hash_table_lookup about once in 30 runs on a loaded machine. This
 * process never starts libvips, whose thread pool would not survive fork().
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <vips/vips.h>

#include "card.h"
#include "platforms.h"
#include "tap.h"

/* One card as a child rendered and decoded it; png and px are arena memory. */
struct decoded {
	int rc;			/* card_render()'s result, or -ECHILD when the child died */
	char why[200];		/* card_render()'s *ret_error */
	size_t len;		/* PNG bytes */
	int width, height, bands;
	size_t px_len;		/* width * height * bands, 0 when decoding failed */
	const uint8_t *png, *px;
};

static int write_all(int fd, const void *p, size_t n)
{
	for (const char *c = p; n;) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		c += w, n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	for (char *c = p; n;) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		c += r, n -= (size_t)r;
	}
	return 0;
}

/* The child: renders, decodes, writes the header, the PNG and the pixels to fd, and _exits. */
static void render_child(const struct card_spec *s, int fd)
{
	arena *a = arena_new(0);
	struct decoded d = { 0 };
	const void *png = NULL;
	const char *why = NULL;
	void *px = NULL;
	d.rc = card_render(a, s, &png, &d.len, &why);
	snprintf(d.why, sizeof(d.why), "%s", why ? why : "no error");
	VipsImage *im = d.rc == 0 ? vips_image_new_from_buffer(png, d.len, "", NULL) : NULL;
	if (im) {
		d.width = vips_image_get_width(im), d.height = vips_image_get_height(im);
		d.bands = vips_image_get_bands(im);
		px = vips_image_write_to_memory(im, &d.px_len);
	}
	int rc = write_all(fd, &d, sizeof(d));
	if (rc == 0 && d.rc == 0)
		rc = write_all(fd, png, d.len);
	if (rc == 0 && d.px_len)
		rc = write_all(fd, px, d.px_len);
	_exit(rc == 0 ? 0 : 1);
}

/* Renders s in a child process; 0 with *d filled (d->rc says how the render went), or -errno. */
static int render(arena *a, const struct card_spec *s, struct decoded *d)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -errno;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		render_child(s, fds[1]);
	}
	close(fds[1]);
	int rc = pid < 0 ? -errno : read_all(fds[0], d, sizeof(*d));
	if (rc == 0 && d->rc == 0) {
		uint8_t *png = arena_alloc(a, d->len), *px = arena_alloc(a, d->px_len + 1);
		rc = read_all(fds[0], png, d->len);
		if (rc == 0)
			rc = read_all(fds[0], px, d->px_len);
		d->png = png, d->px = d->px_len ? px : NULL;
	}
	close(fds[0]);
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		printf("# the child rendering a %dx%d card died (status %#x)\n", s->width, s->height, status);
		rc = -ECHILD;
	}
	return rc;
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
	struct decoded d;
	if (render(a, s, &d) < 0) {
		ok(0, "%s: a child renders it", label);
		return;
	}
	is_int(d.rc, 0, "%s: renders (%s)", label, d.why);
	if (d.rc)
		return;
	ok(d.len > 8 && memcmp(d.png, "\x89PNG\r\n\x1a\n", 8) == 0, "%s: PNG bytes", label);
	if (!d.px) {
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
	struct decoded d1, d2, d3;
	ok(render(a, &s, &d1) == 0 && render(a, &s, &d2) == 0 && d1.rc == 0 && d2.rc == 0 && d1.len == d2.len &&
		   memcmp(d1.png, d2.png, d1.len) == 0,
	   "the same spec renders the same bytes (%zu)", d1.len);
	s.headline = "A different card";
	ok(render(a, &s, &d3) == 0 && d3.rc == 0 && (d3.len != d1.len || memcmp(d1.png, d3.png, d1.len) != 0),
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
		struct decoded d;
		ok(render(a, &blank, &d) == 0 && d.rc == 0 && d.px &&
			   off_colour(&d, 0, 0, 400, 300 - 300 * 5 / 100, blank.palette->background) == 0,
		   "blank text %zu: a card with only its colours", i);
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
	return tap_done();
}
