/*
 * media_helper.c - both ends of the adcraft-media helper (media_helper.h).
 * Nothing here uses libvips: the helper program passes media_prepare in.
 */
#include "media_helper.h"

#include "card.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_all(int fd, const void *bytes, size_t len)
{
	const char *p = bytes;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The whole of fd (from offset 0) onto a, NUL-terminated. */
static int read_whole(arena *a, int fd, char **ret, size_t *ret_len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	size_t len = (size_t)st.st_size, got = 0;
	char *b = arena_alloc(a, len + 1);
	while (got < len) {
		ssize_t n = pread(fd, b + got, len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	b[len] = '\0';
	*ret = b;
	*ret_len = len;
	return 0;
}

/* The helper beside the running program, e.g. build/adcraft-media or /usr/bin/adcraft-media. */
static const char *helper_path(arena *a)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return MEDIA_HELPER_NAME;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	return arena_printf(a, "%s/%s", self, MEDIA_HELPER_NAME);
}

/* Runs the helper with argv (argv[0] its name), fd in as stdin and fd out as stdout. */
static int run_helper(arena *a, char **argv, int in, int out, int *ret_status, const char **why)
{
	const char *path = helper_path(a);
	/* An empty environment, bar the sanitizers' settings of a sanitized build's tests. */
	static const char *const kept[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS" };
	char *envp[sizeof(kept) / sizeof(kept[0]) + 1];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		const char *v = getenv(kept[i]);
		if (v)
			envp[n++] = arena_printf(a, "%s=%s", kept[i], v);
	}
	envp[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	/* Nothing else: libfcgi's connections to nginx are not close-on-exec, and a decoder
	 * must not reach them (nor the database, nor the listeners). */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int rc = posix_spawn(&pid, path, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		*why = arena_printf(a, "the image helper %s cannot be started: %s", path, strerror(rc));
		return -EIO;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			*why = arena_printf(a, "waiting for the image helper: %s", strerror(errno));
			return -EIO;
		}
	*ret_status = status;
	return 0;
}

/* What the helper answered. */
struct outcome {
	enum media_type type;
	int width, height;
	const char *bytes; /* on the arena, NUL-terminated */
	size_t len;
};

/*
 * Runs the helper with argv on input; 0 with *ret, or the command's -errno
 * (only those in passed, else -EIO) with *why. A helper killed by a signal
 * is -EMEDIUMTYPE: what it was given made its decoder fail.
 */
static int call(arena *a, char **argv, const void *input, size_t len, const int *passed, struct outcome *ret,
		const char **why)
{
	int in = memfd_create("adcraft-media-in", MFD_CLOEXEC), out = memfd_create("adcraft-media-out", MFD_CLOEXEC);
	int rc, status = 0;
	char *res;
	size_t res_len, body_len;
	int code, type, w, h, head;
	if (in < 0 || out < 0) {
		*why = arena_printf(a, "memfd_create: %s", strerror(errno));
		rc = -EIO;
	} else if ((rc = write_all(in, input, len)) < 0) {
		*why = arena_printf(a, "handing the image to the helper: %s", strerror(-rc));
		rc = -EIO;
	} else if ((rc = run_helper(a, argv, in, out, &status, why)) < 0) {
		/* *why set */
	} else if (WIFSIGNALED(status)) {
		*why = "the image cannot be decoded (its decoder failed)";
		rc = -EMEDIUMTYPE;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || read_whole(a, out, &res, &res_len) < 0 ||
		   sscanf(res, "%d %d %d %d %zu\n%n", &code, &type, &w, &h, &body_len, &head) != 5 ||
		   (size_t)head + body_len != res_len || code < 0 || type < MEDIA_PNG || type > MEDIA_GIF) {
		*why = arena_printf(a, "the image helper failed (exit status %d)",
				    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		rc = -EIO;
	} else if (code != 0) {
		*why = res + head; /* NUL-terminated by read_whole */
		rc = -EIO;
		for (const int *p = passed; *p; p++)
			if (code == *p)
				rc = -code;
	} else {
		*ret = (struct outcome){ (enum media_type)type, w, h, res + head, body_len };
		rc = 0;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

#define ARG(a, fmt, v) arena_printf(a, fmt, v)

int media_helper_prepare(arena *a, const void *bytes, size_t len, long max_pixels, struct media_prepared *ret,
			 const char **why)
{
	static const int passed[] = { EMEDIUMTYPE, ERANGE, 0 };
	char *argv[] = { (char *)MEDIA_HELPER_NAME, "prepare", ARG(a, "%ld", max_pixels), NULL };
	struct outcome o;
	int rc = call(a, argv, bytes, len, passed, &o, why);
	if (rc == 0)
		*ret = (struct media_prepared){ o.type, o.bytes, o.len, o.width, o.height };
	return rc;
}

int media_helper_rendition(arena *a, const void *bytes, size_t len, int width, int height, enum media_type src,
			   enum media_type *ret_type, const void **out, size_t *out_len, int *ret_w, int *ret_h,
			   const char **why)
{
	static const int passed[] = { EMEDIUMTYPE, 0 };
	char *argv[] = { (char *)MEDIA_HELPER_NAME, "rendition", ARG(a, "%d", width), ARG(a, "%d", height),
			 ARG(a, "%d", (int)src), NULL };
	struct outcome o;
	int rc = call(a, argv, bytes, len, passed, &o, why);
	if (rc == 0) {
		*ret_type = o.type;
		*out = o.bytes;
		*out_len = o.len;
		*ret_w = o.width;
		*ret_h = o.height;
	}
	return rc;
}

static char *rgb_arg(arena *a, const uint8_t c[3])
{
	return arena_printf(a, "%02x%02x%02x", c[0], c[1], c[2]);
}

int media_helper_card(arena *a, const struct card_spec *spec, const void **ret_png, size_t *ret_len,
		      const char **why)
{
	static const int passed[] = { EINVAL, 0 };
	const struct card_palette *p = spec->palette ? spec->palette : card_palette_pick(NULL);
	char *argv[] = { (char *)MEDIA_HELPER_NAME, "card", ARG(a, "%d", spec->width), ARG(a, "%d", spec->height),
			 rgb_arg(a, p->background), rgb_arg(a, p->accent), rgb_arg(a, p->text), NULL };
	const char *headline = spec->headline ? spec->headline : "", *footer = spec->footer ? spec->footer : "";
	size_t hl = strlen(headline), fl = strlen(footer);
	char *input = arena_alloc(a, hl + 1 + fl);
	memcpy(input, headline, hl + 1);
	memcpy(input + hl + 1, footer, fl);
	struct outcome o;
	int rc = call(a, argv, input, hl + 1 + fl, passed, &o, why);
	if (rc == 0) {
		*ret_png = o.bytes;
		*ret_len = o.len;
	}
	return rc;
}

int media_helper_input(arena *a, int in, char **ret, size_t *ret_len)
{
	return read_whole(a, in, ret, ret_len);
}

int media_helper_reply(int out, int rc, enum media_type type, int width, int height, const void *bytes,
		       size_t len, const char *why)
{
	if (rc < 0) {
		bytes = why ? why : "the image helper failed";
		len = strlen(bytes);
	}
	char head[96];
	int n = snprintf(head, sizeof(head), "%d %d %d %d %zu\n", -rc, (int)type, width, height, len);
	if ((rc = write_all(out, head, (size_t)n)) < 0 || (rc = write_all(out, bytes, len)) < 0)
		return rc;
	return 0;
}
