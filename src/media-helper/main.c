/*
 * adcraft-media - one libvips operation for adcraft-api or adcraft-worker
 * (media_helper.h): prepare an upload, make a rendition, render a card. The
 * input on stdin (a file, e.g. a memfd), the outcome on stdout. Spawned per
 * operation so that neither libvips nor an image decoder ever runs in the
 * API's or the worker's processes. Exit status 0 whenever it could answer
 * (a refused image included), 2 on bad usage, 1 when stdin or stdout failed.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "arena.h"
#include "card.h"
#include "media.h"
#include "media_helper.h"

/* CPU seconds one operation may take: a decoder that loops forever dies of SIGXCPU. */
#define HELPER_CPU_SECONDS 30

/* argv[i] as a number in [min, max], or -1. */
static long number(const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno || end == s || *end || v < min || v > max ? -1 : v;
}

static int colour(const char *s, uint8_t ret[3])
{
	unsigned r, g, b;
	int n = 0;
	if (strlen(s) != 6 || sscanf(s, "%2x%2x%2x%n", &r, &g, &b, &n) != 3 || n != 6)
		return -EINVAL;
	ret[0] = (uint8_t)r, ret[1] = (uint8_t)g, ret[2] = (uint8_t)b;
	return 0;
}

static int prepare(arena *a, char **argv, const char *in, size_t len, int out)
{
	long max_pixels = number(argv[0], 1, LONG_MAX);
	if (max_pixels < 0)
		return -EINVAL;
	struct media_prepared p = { 0 };
	const char *why = NULL;
	int rc = media_prepare(a, in, len, max_pixels, &p, &why);
	return media_helper_reply(out, rc, p.type, p.width, p.height, p.bytes, p.len, why);
}

static int rendition(arena *a, char **argv, const char *in, size_t len, int out)
{
	long w = number(argv[0], 1, 100000), h = number(argv[1], 0, 100000), src = number(argv[2], MEDIA_PNG, MEDIA_GIF);
	if (w < 0 || h < 0 || src < 0)
		return -EINVAL;
	enum media_type type = MEDIA_PNG;
	const void *bytes = NULL;
	size_t n = 0;
	int rw = 0, rh = 0;
	const char *why = NULL;
	int rc = media_rendition(a, in, len, (int)w, (int)h, (enum media_type)src, &type, &bytes, &n, &rw, &rh, &why);
	return media_helper_reply(out, rc, type, rw, rh, bytes, n, why);
}

/* stdin: the headline, NUL, the footer. */
static int card(arena *a, char **argv, const char *in, size_t len, int out)
{
	struct card_palette p = { "given", { 0 }, { 0 }, { 0 } };
	long w = number(argv[0], 1, CARD_MAX_SIDE * 2), h = number(argv[1], 1, CARD_MAX_SIDE * 2);
	if (w < 0 || h < 0 || colour(argv[2], p.background) < 0 || colour(argv[3], p.accent) < 0 ||
	    colour(argv[4], p.text) < 0)
		return -EINVAL;
	size_t hl = strnlen(in, len);
	const char *footer = hl < len ? arena_strndup(a, in + hl + 1, len - hl - 1) : "";
	struct card_spec spec = { (int)w, (int)h, in, footer, &p };
	const void *png = NULL;
	size_t n = 0;
	const char *why = NULL;
	int rc = card_render(a, &spec, &png, &n, &why);
	return media_helper_reply(out, rc, MEDIA_PNG, (int)w, (int)h, png, n, why);
}

static const struct command {
	const char *name;
	int nargs;
	int (*run)(arena *a, char **argv, const char *in, size_t len, int out);
} commands[] = {
	{ "prepare", 1, prepare },
	{ "rendition", 3, rendition },
	{ "card", 5, card },
};

int main(int argc, char **argv)
{
	const struct command *c = NULL;
	for (size_t i = 0; argc >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0 && argc == 2 + commands[i].nargs)
			c = &commands[i];
	if (!c) {
		fprintf(stderr, "usage: %s prepare MAX_PIXELS | rendition WIDTH HEIGHT SRC_TYPE | "
				"card WIDTH HEIGHT BG ACCENT TEXT  <input >outcome (run by adcraft-api and adcraft-worker)\n",
			argv[0]);
		return 2;
	}
	struct rlimit cpu = { HELPER_CPU_SECONDS, HELPER_CPU_SECONDS + 5 };
	setrlimit(RLIMIT_CPU, &cpu);
	arena *a = arena_new(1 << 20);
	char *in;
	size_t len;
	if (media_init() < 0 || media_helper_input(a, 0, &in, &len) < 0) {
		arena_free(a);
		return 1;
	}
	int rc = c->run(a, argv + 2, in, len, 1);
	arena_free(a);
	if (rc == -EINVAL) {
		fprintf(stderr, "%s %s: bad arguments\n", argv[0], argv[1]);
		return 2;
	}
	return rc < 0 ? 1 : 0;
}
