/*
 * main.c - adcraft-worker: a supervisor keeping worker_processes job loops alive.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "supervisor.h"
#include "worker.h"

struct master {
	struct daemon_options opt;
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
	if (daemon_load_config(m->opt.config_path, "worker", &fresh, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "reload refused, keeping the running configuration: %s", err);
		return -1;
	}
	config_free(m->cfg);
	m->cfg = fresh;
	return 0;
}

int main(int argc, char **argv)
{
	struct master m = { 0 };
	int r = daemon_parse_args(argc, argv,
				  "usage: adcraft-worker [--config FILE] [--pidfile FILE]\n"
				  "Runs adcraft's background jobs.\n",
				  &m.opt);
	if (r >= 0)
		return r;
	curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any child exists */
	log_setup(LOG_INFO, "worker");
	char err[512];
	if (daemon_load_config(m.opt.config_path, "worker", &m.cfg, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "configuration: %s", err);
		return 1;
	}
	int pr = m.opt.pidfile ? daemon_write_pidfile(m.opt.pidfile) : 0;
	if (pr < 0)
		log_msg(LOG_WARN, "pidfile %s: %s", m.opt.pidfile, strerror(-pr));
	struct supervisor sup = {
		.name = "adcraft-worker",
		.drain_seconds = 10,
		.ctx = &m,
		.wanted = wanted,
		.child_main = child,
		.reload = reload,
	};
	int status = supervisor_run(&sup);
	if (m.opt.pidfile)
		unlink(m.opt.pidfile);
	config_free(m.cfg);
	return status;
}
