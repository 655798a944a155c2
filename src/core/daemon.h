/*
 * daemon.h - what adcraft-api and adcraft-worker share as long-running
 * programs: their command line, loading (and reloading) the configuration
 * with its log level, and the pid file.
 */
#pragma once

#include "config.h"

struct daemon_options {
	const char *config_path; /* NULL: the default lookup (config_load) */
	const char *pidfile;	 /* NULL: none */
};

/*
 * Parses --config FILE, --pidfile FILE, --help and --version. Returns -1 when
 * the program should go on, else the exit status to return (after printing
 * help, the version, or the usage on a bad option).
 */
int daemon_parse_args(int argc, char **argv, const char *usage, struct daemon_options *ret);

/*
 * config_load() for the program named component ("api" or "worker", which
 * decides the keys required: config_program_parse) and, on success,
 * log_setup() at the configured level for component. On failure *ret is
 * untouched and err holds the reason.
 */
int daemon_load_config(const char *path, const char *component, struct config **ret, char *err, size_t errlen);

/* Writes this process's pid to path; 0 or -errno. */
int daemon_write_pidfile(const char *path);

/*
 * Ends a forked child (a FastCGI process, a worker) without running the
 * parent's atexit handlers. In an AddressSanitizer build it first runs
 * LeakSanitizer's check on the child, which reports to stderr and exits 23
 * if the child leaked; otherwise it is _exit(status).
 */
__attribute__((noreturn)) void daemon_child_exit(int status);
