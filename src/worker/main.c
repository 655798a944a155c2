/*
 * main.c - adcraft-worker: a supervisor keeping worker_processes job loops alive.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "generate.h"
#include "log.h"
#include "metrics.h"
#include "supervisor.h"
#include "worker.h"

struct master {
	struct daemon_options opt;
	struct config *cfg;
};

static int wanted(void *ctx, int pool)
{
	(void)pool; /* one pool */
	const struct config *cfg = ((struct master *)ctx)->cfg;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cfg->worker_processes > 0 ? (int)cfg->worker_processes : (int)(cpus > 0 ? cpus : 1);
}

static void child(void *ctx, int pool)
{
	(void)pool;
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
	if (metrics_here)
		gen_metrics_register(metrics_here, fresh); /* a model the reload named */
	return 0;
}

/*
 * The counters every child adds to (metrics.h): in worker_metrics_file, where
 * adcraft-api reads them for GET /api/metrics, else in memory only. Returns
 * the file to remove at exit (a reload does not move it), or NULL.
 */
static const char *metrics_setup(const struct config *cfg)
{
	static char created[4096];
	struct metrics_region *r = NULL;
	const char *path = cfg->worker_metrics_file;
	int rc = *path ? metrics_create_file(path, "worker", &r) : -ENOENT;
	if (rc < 0 && *path)
		log_msg(LOG_WARN, "worker_metrics_file %s: %s; the worker's counters are not exported", path,
			strerror(-rc));
	if (rc < 0 && metrics_create_anon("worker", &r) < 0)
		return NULL;
	metrics_here = r;
	worker_metrics_register(r);
	gen_metrics_register(r, cfg);
	if (rc < 0)
		return NULL;
	snprintf(created, sizeof(created), "%s", path);
	return created;
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
		.npools = 1,
		.wanted = wanted,
		.child_main = child,
		.reload = reload,
	};
	const char *metrics_file = metrics_setup(m.cfg);
	int status = supervisor_run(&sup);
	if (metrics_file)
		unlink(metrics_file); /* stopped: nothing to report */
	if (m.opt.pidfile)
		unlink(m.opt.pidfile);
	config_free(m.cfg);
	return status;
}
