/*
 * media_helper.h - media_prepare() in a short-lived helper process.
 *
 * adcraft-api and adcraft-worker keep libvips (and the ~70 shared libraries
 * behind it: GLib, pango, image codecs) out of their address space: each
 * process would otherwise carry 12-15 MiB of them for work it rarely does,
 * and a decoder bug would run inside a process that holds keys and a
 * database connection. Each call posix_spawn()s the program adcraft-media
 * (src/media-helper/main.c, linked with libvips) with one command: it reads
 * its input from stdin, does the one operation and writes the outcome to
 * stdout; both are memfds, so no pipe can fill and nothing is left on disk.
 * The helper has an empty environment (bar ASAN_OPTIONS, UBSAN_OPTIONS and
 * LSAN_OPTIONS when set), no file descriptor but stdin, stdout and stderr,
 * and a CPU-time limit.
 *
 * Commands (argv after the program name; input on stdin):
 *   prepare MAX_PIXELS                  the upload's bytes      (media_prepare)
 *   rendition WIDTH HEIGHT SRC_TYPE     the stored image        (media_rendition)
 *   card WIDTH HEIGHT BG ACCENT TEXT    headline NUL footer     (card_render; colours rrggbb)
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

/* media_rendition() run by the helper: the same results, plus -EIO as above. */
int media_helper_rendition(arena *a, const void *bytes, size_t len, int width, int height, enum media_type src,
			   enum media_type *ret_type, const void **out, size_t *out_len, int *ret_w, int *ret_h,
			   const char **why);

struct card_spec;
/* card_render() run by the helper: the same results (-EINVAL, -EIO with *why). */
int media_helper_card(arena *a, const struct card_spec *spec, const void **ret_png, size_t *ret_len,
		      const char **why);

/* The helper program's side: the whole of fd in (a file) onto a, NUL-terminated. 0 or -errno. */
int media_helper_input(arena *a, int in, char **ret, size_t *ret_len);

/* The helper program's side: writes the wire format to out: rc (0 or -errno) with type, width,
 * height and the result's bytes, or with why. 0 or -errno. */
int media_helper_reply(int out, int rc, enum media_type type, int width, int height, const void *bytes,
		       size_t len, const char *why);
