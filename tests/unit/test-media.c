/*
 * Unit tests for src/media/media.c on the committed fixtures
 * (tests/fixtures/images/): the type comes from the bytes, the pixel limit
 * is read from the header, metadata does not survive normalising, broken
 * images are refused, and renditions have the sizes asked for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "asset_store.h"
#include "media.h"
#include "tap.h"

static const char *fixture(arena *a, const char *name, size_t *len)
{
	const char *path = arena_printf(a, "%s/tests/fixtures/images/%s", SOURCE_ROOT, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = arena_alloc(a, 1 << 20);
	*len = fread(data, 1, 1 << 20, f);
	fclose(f);
	return data;
}

static void test_types(arena *a)
{
	static const struct {
		const char *file;
		enum media_type type;
		const char *mime;
	} cases[] = {
		{ "photo.png", MEDIA_PNG, "image/png" },
		{ "photo.jpg", MEDIA_JPEG, "image/jpeg" },
		{ "photo.webp", MEDIA_WEBP, "image/webp" },
		{ "photo.gif", MEDIA_GIF, "image/gif" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 0;
		const char *bytes = fixture(a, cases[i].file, &len), *why = NULL;
		struct media_probe p;
		ok(bytes != NULL, "%s read", cases[i].file);
		is_int(media_probe(a, bytes, len, 50000000, &p, &why), 0, "%s probes", cases[i].file);
		ok(p.type == cases[i].type && p.width == 400 && p.height == 300, "%s: type and size", cases[i].file);
		is_str(media_type_info(p.type)->mime, cases[i].mime, "%s: mime", cases[i].file);
		is_int(media_probe(a, bytes, len, 119999, &p, &why), -ERANGE, "%s: over the pixel limit", cases[i].file);
		ok(why && strstr(why, "120000"), "the reason names the pixels (%s)", why);
	}
}

static void test_refusals(arena *a)
{
	static const char *const bad[] = {
		"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
		"<!doctype html><html></html>",
		"\x89PNG\r\n\x1a\n<html>not a png</html>",
		"GIF89a",
		"RIFF\x10\0\0\0WEBPVP8 ",
		"\xff\xd8\xff",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct media_probe p;
		const char *why = NULL;
		size_t len = strlen(bad[i]) ? strlen(bad[i]) : 0;
		if (i == 4)
			len = 16;
		is_int(media_probe(a, bad[i], len, 50000000, &p, &why), -EMEDIUMTYPE, "refused: case %zu", i);
		ok(why && *why, "with a reason (%s)", why ? why : "-");
	}
	/* a truncated file's header reads, its pixels do not */
	size_t len = 0;
	const char *png = fixture(a, "photo.png", &len), *why = NULL;
	struct media_probe p;
	if (media_probe(a, png, len / 2, 50000000, &p, &why) == 0) {
		const void *out;
		size_t out_len;
		int w, h;
		is_int(media_normalize(a, png, len / 2, &p, &out, &out_len, &w, &h, &why), -EMEDIUMTYPE,
		       "a truncated PNG does not decode");
	} else {
		ok(1, "a truncated PNG is refused at the header");
	}
}

static void test_strip(arena *a)
{
	size_t len = 0;
	const char *jpg = fixture(a, "exif-gps.jpg", &len), *why = NULL;
	ok(jpg && memmem(jpg, len, "ADCRAFT-EXIF-MARKER", 19), "the fixture has EXIF");
	struct media_probe p;
	const void *out;
	size_t out_len = 0;
	int w = 0, h = 0;
	is_int(media_probe(a, jpg, len, 50000000, &p, &why), 0, "probed");
	is_int(media_normalize(a, jpg, len, &p, &out, &out_len, &w, &h, &why), 0, "normalised");
	ok(w == 400 && h == 300, "same size");
	ok(out_len > 3 && memcmp(out, "\xff\xd8\xff", 3) == 0, "still a JPEG");
	ok(!memmem(out, out_len, "ADCRAFT-EXIF-MARKER", 19) && !memmem(out, out_len, "Exif\0\0", 6),
	   "no EXIF left");
}

static void test_renditions(arena *a)
{
	static const struct {
		int w, h, want_w, want_h;
	} sizes[] = { { 320, 0, 320, 240 }, { 1200, 628, 1200, 628 }, { 1080, 1920, 1080, 1920 }, { 1000, 0, 400, 300 } };
	size_t len = 0;
	const char *gif = fixture(a, "photo.gif", &len);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		enum media_type type;
		const void *out;
		size_t out_len;
		int w = 0, h = 0;
		const char *why = NULL;
		is_int(media_rendition(a, gif, len, sizes[i].w, sizes[i].h, MEDIA_GIF, &type, &out, &out_len, &w, &h,
				       &why),
		       0, "rendition %dx%d", sizes[i].w, sizes[i].h);
		ok(w == sizes[i].want_w && h == sizes[i].want_h, "is %dx%d (got %dx%d)", sizes[i].want_w,
		   sizes[i].want_h, w, h);
		ok(type == MEDIA_PNG && out_len > 8 && memcmp(out, "\x89PNG", 4) == 0, "a GIF's rendition is a PNG");
	}
}

/* Files nginx must read and both services write: 2775 directories and 0644 files even under the units' UMask=0077. */
static void test_file_put(arena *a)
{
	char dir[] = "/tmp/adcraft-media-XXXXXX";
	ok(mkdtemp(dir) != NULL, "temporary directory");
	const char *root = arena_printf(a, "%s/media", dir), *sha, *path;
	int created = -1;
	mode_t old = umask(077);
	is_int(media_file_put(a, root, "abc", 3, "png", &sha, &path, &created), 0, "file written");
	umask(old);
	is_str(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "named by its sha256");
	is_str(path, "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.png", "relative path");
	is_int(created, 1, "created");
	struct stat st;
	ok(stat(root, &st) == 0 && (st.st_mode & 07777) == 02775, "media_dir 2775 (%o)", st.st_mode & 07777);
	ok(stat(arena_printf(a, "%s/ba", root), &st) == 0 && (st.st_mode & 07777) == 02775, "subdirectory 2775");
	ok(stat(arena_printf(a, "%s/%s", root, path), &st) == 0 && (st.st_mode & 0777) == 0644 && st.st_size == 3,
	   "file 0644, 3 bytes");
	is_int(media_file_put(a, root, "abc", 3, "png", &sha, &path, &created), 0, "the same bytes again");
	is_int(created, 0, "not written twice");
	const void *back;
	size_t back_len = 0;
	ok(media_file_read(a, root, path, &back, &back_len) == 0 && back_len == 3 && memcmp(back, "abc", 3) == 0,
	   "read back");
	is_int(media_file_unlink(root, path), 0, "unlinked");
	is_int(media_file_unlink(root, path), 0, "unlinking a file already gone is fine");
	rmdir(arena_printf(a, "%s/ba", root));
	rmdir(root);
	rmdir(dir);
}

int main(void)
{
	arena *a = arena_new(1 << 20);
	ok(media_init() == 0, "libvips starts");
	test_types(a);
	test_refusals(a);
	test_strip(a);
	test_renditions(a);
	test_file_put(a);
	arena_free(a);
	return tap_done();
}
