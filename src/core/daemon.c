/*
 * daemon.c - command line, configuration and pid file of the two daemons.
 */
#include "daemon.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define ADCRAFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ADCRAFT_ASAN 1
#endif
#endif
#ifdef ADCRAFT_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#include "log.h"

int daemon_parse_args(int argc, char **argv, const char *usage, struct daemon_options *ret)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_options o = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "c:p:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config_path = optarg; break;
		case 'p': o.pidfile = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': puts(ADCRAFT_VERSION); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	*ret = o;
	return -1;
}

int daemon_load_config(const char *path, const char *component, struct config **ret, char *err, size_t errlen)
{
	enum config_program program;
	if (config_program_parse(component, &program) < 0)
		abort(); /* a daemon's own name, not input */
	struct config *cfg;
	int r = config_load(path, program, &cfg, err, errlen);
	if (r < 0)
		return r;
	enum log_level level;
	if (log_level_parse(cfg->log_level, &level) == 0)
		log_setup(level, component);
	*ret = cfg;
	return 0;
}

int daemon_write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}

void daemon_child_exit(int status)
{
#ifdef ADCRAFT_ASAN
	__lsan_do_leak_check(); /* a no-op unless ASAN_OPTIONS has detect_leaks=1 (the default) */
#endif
	_exit(status);
}
