/*
 * fuzz-config.c - the configuration file (config.c): parsing, limits,
 * validation, and check-config's redacted listing of what loaded.
 *
 * The input is written to a memory file that config_load() reads. The
 * secret-file keys are pinned by environment overrides (which win over the
 * file), so no path the fuzzer writes is ever opened.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static int file_fd = -1;
static char path[64];
static FILE *devnull;

/* A memory file holding text, as a path ("/proc/self/fd/N") into path[64]. */
static int memory_file(const char *name, const char *text, size_t len, char *ret_path)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0 || (len && write(fd, text, len) != (ssize_t)len))
		abort();
	snprintf(ret_path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

static void setup(void)
{
	static const char secret[] = "a-jwt-key-of-at-least-32-bytes-for-fuzzing\n";
	static char key_path[64];
	memory_file("adcraft-fuzz.key", secret, sizeof(secret) - 1, key_path);
	setenv("ADCRAFT_JWT_SECRET_FILE", key_path, 1);
	setenv("ADCRAFT_DATABASE_PASSWORD_FILE", "", 1);
	setenv("ADCRAFT_LLM_API_KEY_FILE", "", 1);
	setenv("ADCRAFT_MAIL_TOKEN_KEY_FILE", "", 1);
	setenv("ADCRAFT_EXPORT_LINK_KEY_FILE", "", 1);
	/* its entries name password files (smtp_servers' parser has unit tests: test-smtp-rate.c) */
	setenv("ADCRAFT_SMTP_SERVERS", "", 1);
	file_fd = memory_file("adcraft-fuzz.conf", NULL, 0, path);
	devnull = fopen("/dev/null", "we");
	if (!devnull)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (file_fd < 0)
		setup();
	if (ftruncate(file_fd, 0) < 0 || pwrite(file_fd, data, size, 0) != (ssize_t)size)
		abort();
	struct config *c;
	char err[512];
	if (config_load(path, CONFIG_WORKER, &c, err, sizeof(err)) == 0) { /* the fewest required keys: the deepest */
		config_print(c, devnull);
		config_free(c);
	}
	return 0;
}
