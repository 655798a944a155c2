/*
 * main.c - adcraft-worker: a supervisor keeping worker_processes job loops alive.
 */
#include <errno.h>
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "supervisor.h"
#include "worker.h"

struct master {
	const char *config_path;
	struct config *cfg;
};

static int wanted(void *ctx)
{
	const struct config *cfg = ((struct master *)ctx)->cfg;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cfg->worker_processes > 0 ? (int)cfg->worker_processes : (int)(cpus > 0 ? cpus : 1);
}

static void child(void *ctx)
{
	worker_main(((struct master *)ctx)->cfg);
}

static int reload(void *ctx)
{
	struct master *m = ctx;
	struct config *fresh;
	char err[512];
	if (config_load(m->config_path, &fresh, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "reload refused, keeping the running configuration: %s", err);
		return -1;
	}
	config_free(m->cfg);
	m->cfg = fresh;
	enum log_level level;
	if (log_level_parse(fresh->log_level, &level) == 0)
		log_setup(level, "worker");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct master m = { 0 };
	const char *pidfile = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:p:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': m.config_path = optarg; break;
		case 'p': pidfile = optarg; break;
		case 'h':
			puts("usage: adcraft-worker [--config FILE] [--pidfile FILE]\nRuns adcraft's background jobs.");
			return 0;
		case 'V': puts(ADCRAFT_VERSION); return 0;
		default: return 2;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any child exists */
	log_setup(LOG_INFO, "worker");
	char err[512];
	if (config_load(m.config_path, &m.cfg, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "configuration: %s", err);
		return 1;
	}
	enum log_level level;
	if (log_level_parse(m.cfg->log_level, &level) == 0)
		log_setup(level, "worker");
	if (pidfile) {
		FILE *f = fopen(pidfile, "we");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		} else {
			log_msg(LOG_WARN, "pidfile %s: %s", pidfile, strerror(errno));
		}
	}
	struct supervisor sup = {
		.name = "adcraft-worker",
		.drain_seconds = 10,
		.ctx = &m,
		.wanted = wanted,
		.child_main = child,
		.reload = reload,
	};
	int status = supervisor_run(&sup);
	if (pidfile)
		unlink(pidfile);
	config_free(m.cfg);
	return status;
}
