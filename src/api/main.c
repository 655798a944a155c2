/*
 * main.c - adcraft-api: load the configuration, then run the pre-fork server.
 */
#include <curl/curl.h>
#include <malloc.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "server.h"

int main(int argc, char **argv)
{
	struct daemon_options opt;
	int r = daemon_parse_args(argc, argv,
				  "usage: adcraft-api [--config FILE] [--pidfile FILE]\n"
				  "FastCGI server for the adcraft HTTP API (runs behind nginx).\n",
				  &opt);
	if (r >= 0)
		return r;
	/* A fixed mmap threshold: argon2's 19 MiB buffers go back to the kernel when freed,
	 * instead of glibc raising the threshold and keeping them in every child's heap. */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any child exists */
	log_setup(LOG_INFO, "api");
	struct config *cfg;
	char err[512];
	if (daemon_load_config(opt.config_path, "api", &cfg, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "configuration: %s", err);
		return 1;
	}
	return server_run(cfg, &opt);
}
