/*
 * main.c - adcraft-api: load the configuration, then run the pre-fork server.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "server.h"

static void usage(FILE *out)
{
	fputs("usage: adcraft-api [--config FILE] [--pidfile FILE]\n"
	      "FastCGI server for the adcraft HTTP API (runs behind nginx).\n", out);
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
	struct server_options opt = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "c:p:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opt.config_path = optarg; break;
		case 'p': opt.pidfile = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts(ADCRAFT_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* A fixed mmap threshold: argon2's 19 MiB buffers go back to the kernel when freed,
	 * instead of glibc raising the threshold and keeping them in every child's heap. */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any child exists */
	log_setup(LOG_INFO, "api");
	struct config *cfg;
	char err[512];
	if (config_load(opt.config_path, &cfg, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "configuration: %s", err);
		return 1;
	}
	enum log_level level;
	if (log_level_parse(cfg->log_level, &level) == 0)
		log_setup(level, "api");
	return server_run(cfg, &opt);
}
