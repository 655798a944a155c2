/*
 * adcraft-media - checks and re-encodes one uploaded image for adcraft-api
 * (media_helper.h): the image on stdin (a file, e.g. a memfd), the outcome on
 * stdout, max pixels as the one argument. adcraft-api spawns it per upload
 * so that neither libvips nor an image decoder ever runs in the API process.
 * Exit status 0 whenever it could answer (a refused image included), 2 on
 * bad usage, 1 when stdin or stdout failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "arena.h"
#include "media.h"
#include "media_helper.h"

/* CPU seconds one image may take: a decoder that loops forever dies of SIGXCPU. */
#define HELPER_CPU_SECONDS 30

int main(int argc, char **argv)
{
	char *end;
	long max_pixels = argc == 2 ? strtol(argv[1], &end, 10) : 0;
	if (argc != 2 || *end || max_pixels <= 0) {
		fprintf(stderr, "usage: %s MAX_PIXELS <image >outcome (run by adcraft-api)\n", argv[0]);
		return 2;
	}
	struct rlimit cpu = { HELPER_CPU_SECONDS, HELPER_CPU_SECONDS + 5 };
	setrlimit(RLIMIT_CPU, &cpu);
	if (media_init() < 0)
		return 1;
	arena *a = arena_new(1 << 20);
	return media_helper_serve(a, 0, 1, max_pixels, media_prepare) < 0 ? 1 : 0;
}
