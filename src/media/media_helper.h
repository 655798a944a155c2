/*
 * media_helper.h - media_prepare() in a short-lived helper process.
 *
 * adcraft-api takes uploads but keeps libvips (and the ~60 shared libraries
 * behind it: GLib, image codecs) out of its address space: each API child
 * would otherwise carry ~15 MiB of them for a request it rarely serves, and
 * a decoder bug would run inside the process that holds the JWT key and the
 * database connection. media_helper_prepare() posix_spawn()s the program
 * adcraft-media (src/media-helper/main.c, linked with libvips), which reads
 * the upload from its stdin, runs media_prepare() and writes the outcome to
 * its stdout; both are memfds, so no pipe can fill and nothing is left on
 * disk. The helper has an empty environment and a CPU-time limit.
 *
 * Wire format of the helper's stdout: one line "RC TYPE WIDTH HEIGHT LEN\n"
 * (decimal; RC 0 or a positive errno), then LEN bytes: the re-encoded image
 * when RC is 0, else the one-sentence reason (*why).
 */
#pragma once

#include <stddef.h>

#include "arena.h"
#include "media.h"

/* The helper's file name; it is looked for beside the running program (/proc/self/exe). */
#define MEDIA_HELPER_NAME "adcraft-media"

/*
 * media_prepare() run by the helper: the same results (0, -EMEDIUMTYPE,
 * -ERANGE, with *why), plus -EIO when the helper cannot be started or
 * answers nonsense (*why says what failed, for the log). A helper killed by
 * a signal (a decoder crash, its CPU limit) is -EMEDIUMTYPE: the image is
 * refused. Never logs.
 */
int media_helper_prepare(arena *a, const void *bytes, size_t len, long max_pixels, struct media_prepared *ret,
			 const char **why);

/*
 * The helper program's side: reads the image from fd in, runs prepare, and
 * writes the wire format to fd out. 0, or -errno when in or out failed.
 */
int media_helper_serve(arena *a, int in, int out, long max_pixels, media_prepare_fn prepare);
