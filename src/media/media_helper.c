/*
 * media_helper.c - both ends of the adcraft-media helper (media_helper.h).
 * Nothing here uses libvips: the helper program passes media_prepare in.
 */
#include "media_helper.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
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

/* Runs the helper with fd in as stdin and fd out as stdout; its wait status in *ret_status. */
static int run_helper(arena *a, int in, int out, long max_pixels, int *ret_status, const char **why)
{
	const char *path = helper_path(a);
	char pixels[24];
	snprintf(pixels, sizeof(pixels), "%ld", max_pixels);
	char *argv[] = { (char *)MEDIA_HELPER_NAME, pixels, NULL }, *envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	sigset_t all;
	sigfillset(&all);
	posix_spawnattr_setsigdefault(&at, &all);
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

int media_helper_prepare(arena *a, const void *bytes, size_t len, long max_pixels, struct media_prepared *ret,
			 const char **why)
{
	int in = memfd_create("adcraft-upload", MFD_CLOEXEC), out = memfd_create("adcraft-prepared", MFD_CLOEXEC);
	int rc, status = 0;
	if (in < 0 || out < 0) {
		*why = arena_printf(a, "memfd_create: %s", strerror(errno));
		rc = -EIO;
		goto done;
	}
	if ((rc = write_all(in, bytes, len)) < 0 || lseek(in, 0, SEEK_SET) < 0) {
		*why = arena_printf(a, "handing the image to the helper: %s", strerror(rc < 0 ? -rc : errno));
		rc = -EIO;
		goto done;
	}
	if ((rc = run_helper(a, in, out, max_pixels, &status, why)) < 0)
		goto done;
	if (WIFSIGNALED(status)) {
		*why = "the image cannot be decoded (its decoder failed)";
		rc = -EMEDIUMTYPE;
		goto done;
	}
	char *res;
	size_t res_len;
	int code, type, w, h, head;
	size_t body_len;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || read_whole(a, out, &res, &res_len) < 0 ||
	    sscanf(res, "%d %d %d %d %zu\n%n", &code, &type, &w, &h, &body_len, &head) != 5 ||
	    (size_t)head + body_len != res_len || code < 0 || type < MEDIA_PNG || type > MEDIA_GIF) {
		*why = arena_printf(a, "the image helper failed (exit status %d)",
				    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		rc = -EIO;
		goto done;
	}
	if (code != 0) {
		*why = res + head; /* NUL-terminated by read_whole */
		rc = code == EMEDIUMTYPE || code == ERANGE ? -code : -EIO;
		goto done;
	}
	*ret = (struct media_prepared){ (enum media_type)type, res + head, body_len, w, h };
	rc = 0;
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

int media_helper_serve(arena *a, int in, int out, long max_pixels, media_prepare_fn prepare)
{
	char *bytes;
	size_t len;
	int rc = read_whole(a, in, &bytes, &len);
	if (rc < 0)
		return rc;
	struct media_prepared p = { 0 };
	const char *why = "the image cannot be decoded";
	rc = prepare(a, bytes, len, max_pixels, &p, &why);
	const void *body = rc == 0 ? p.bytes : why;
	size_t body_len = rc == 0 ? p.len : strlen(why);
	char head[96];
	int n = snprintf(head, sizeof(head), "%d %d %d %d %zu\n", -rc, (int)p.type, p.width, p.height, body_len);
	if ((rc = write_all(out, head, (size_t)n)) < 0 || (rc = write_all(out, body, body_len)) < 0)
		return rc;
	return 0;
}
