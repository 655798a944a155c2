/*
 * config.h - the one configuration: a key = value file plus ADCRAFT_* overrides.
 *
 * Every key is declared once in config.c's table (name, type, default, limits);
 * loading, environment overrides, validation and check-config's listing all
 * walk that table. Secrets (JWT key, database password) are read from files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"
#include "price.h"

#define CONFIG_DEFAULT_PATH "/etc/adcraft/adcraft.conf"
#define MAIL_WEBHOOK_MIN_SECRET 32 /* bytes in mail_webhook_secret_file */

struct smtp_server;

struct config {
	arena *arena; /* owns every string below */
	const char *path;

	const char *database_url;
	const char *database_password_file;
	const char *migrate_database_url;
	const char *listen;
	const char *listen_tcp;
	const char *listen_slow; /* the slow pool's unix socket; "" = one pool (server.c) */
	long listen_mode;
	long processes;
	long slow_processes; /* the slow pool's children, besides processes (server.c) */
	const char *jwt_secret_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	long access_token_ttl;
	long refresh_token_ttl;
	long body_limit;
	const char *sql_dir;
	long argon2_memory_kib;
	long argon2_iterations;
	const char *llm_base_url;
	const char *llm_api_key_file;
	const char *llm_model;
	long llm_concurrency;
	long generation_concurrency_per_user; /* synchronous generation requests in flight per account */
	long llm_timeout_seconds;
	long llm_retry_base_ms;	/* first retry's backoff; doubles per attempt, capped at 16x */
	long llm_connect_timeout_seconds;
	long daily_token_limit;		/* external tokens a UTC day per user; 0: none (user_limits overrides) */
	long monthly_token_limit;	/* a UTC calendar month; 0: none */
	long daily_cost_limit;		/* money a UTC day per user, in micros of llm_currency; 0: none */
	long monthly_cost_limit;	/* a UTC calendar month; 0: none */
	const char *llm_currency;
	const char *llm_prices;
	const char *llm_image_prices;
	long llm_token_estimate;
	const char *log_level;
	long log_flush_ms;
	long worker_processes;
	long worker_batch;
	long job_heartbeat_seconds;
	long job_stale_seconds;
	long job_poll_seconds;
	long job_retention_days;
	const char *edge_secret_file;
	const char *cors_origins;
	const char *events_publish_socket; /* nginx's nchan publisher socket; "": events are off */
	long events_cookie_ttl;	/* seconds an events cookie (POST /api/events/session) is good for */
	const char *smtp_servers;	/* smtp.h: "smtp://host:port opt=v ..., ..."; "": no delivery */
	const char *mail_from;		/* envelope and From: address of every message */
	const char *mail_from_name;
	const char *mail_reply_to;
	const char *mail_unsubscribe_mailto; /* an address for List-Unsubscribe's mailto:, "": none */
	const char *mail_public_base_url;	/* https://host where /u/ and /t/ links point */
	long mail_tracking;		/* 1: open pixel and wrapped links */
	const char *mail_token_key_file;
	const char *mail_webhook_secret_file; /* HMAC key of POST /api/webhooks/email-events; "": route off */
	const char *media_dir;		/* image assets, content-addressed: <media_dir>/<aa>/<sha256>.<ext> */
	long asset_max_bytes;		/* the largest upload (POST /api/assets) */
	long asset_quota_bytes;		/* stored asset bytes per user; 0: none */
	long media_max_pixels;		/* width * height above which an image is refused (422) */
	const char *llm_images_model;	/* model of {llm_base_url}/images/generations; "": builtin cards */
	const char *exports_dir;	/* where export files are written (worker) and served from (nginx) */
	long export_ttl;		/* seconds an export's file is kept after it is ready */
	long export_link_ttl;		/* seconds a signed download link is good for (at most until the file expires) */
	const char *export_link_key_file; /* HMAC key of download links; "": exports are off (503) */
	const char *metrics_token_file;	/* bearer token for GET /api/metrics off the host; "": loopback only */
	const char *worker_metrics_file; /* the worker's shared counters, which the API reads at scrape */

	/* Derived at load time. */
	const char *database_password; /* NULL when no file is set */
	const char *llm_api_key;       /* NULL when no file is set: the builtin generator serves */
	const unsigned char *jwt_secret;
	const char *events_audience;	    /* jwt_audience + "-events": the events cookie's aud */
	size_t jwt_secret_len;
	const char *edge_secret;	    /* NULL when no file is set; adcraft-api refuses to start then */
	size_t edge_secret_len;
	const char *const *cors_origin_list; /* cors_origins split; NULL-terminated, empty by default */
	const struct llm_price *llm_price_list; /* llm_prices parsed */
	size_t llm_price_count;
	const struct llm_price *llm_model_price; /* llm_model's entry, NULL when it has none */
	const struct llm_price *llm_image_price_list; /* llm_image_prices parsed */
	size_t llm_image_price_count;
	const struct llm_price *llm_images_model_price; /* llm_images_model's entry, NULL when it has none */
	const struct smtp_server *smtp_server_list; /* smtp_servers parsed (password files read) */
	size_t smtp_server_count;
	const unsigned char *mail_token_key; /* NULL when no file is set */
	size_t mail_token_key_len;
	const unsigned char *mail_webhook_secret; /* NULL when no file is set: the webhook answers 404 */
	size_t mail_webhook_secret_len;
	const unsigned char *export_link_key; /* NULL when no file is set */
	size_t export_link_key_len;
	const char *metrics_token;	/* NULL when no file is set: GET /api/metrics answers loopback only */
	size_t metrics_token_len;
};

/*
 * The program that loads the configuration. Each requires only the keys it
 * uses (the table `requirements` in config.c): a worker host needs neither
 * the JWT signing key nor the edge secret.
 */
enum config_program {
	CONFIG_API,	   /* adcraft-api: jwt_secret_file, edge_secret_file */
	CONFIG_WORKER,	   /* adcraft-worker: nothing beyond the defaults */
	CONFIG_CLI,	   /* adcraft migrate, check-config, user, seed, mail-test */
	CONFIG_CLI_TOKENS, /* adcraft token, which signs access tokens: jwt_secret_file */
	CONFIG_CLI_MAIL,   /* adcraft mail-test, which delivers like the worker */
};

/*
 * Loads path (NULL: $ADCRAFT_CONFIG, else CONFIG_DEFAULT_PATH, which may be
 * absent), applies ADCRAFT_<KEY> environment overrides, reads secret files and
 * validates, requiring the keys program needs. A secret file that is set is
 * read and checked whatever the program. On success *ret owns a config to
 * release with config_free(). On failure returns -EINVAL (or -errno) and
 * writes a one-line reason to err.
 */
int config_load(const char *path, enum config_program program, struct config **ret, char *err, size_t errlen);

/* The program named "api", "worker", "cli", "token" or "mail" (check-config --for); 0 or -EINVAL. */
int config_program_parse(const char *name, enum config_program *ret);
void config_free(struct config *c);

/*
 * A reason to worry that is no reason to refuse (check-config prints it), or
 * NULL: today, an external llm_model without a price in llm_prices, or an
 * llm_images_model without one in llm_image_prices.
 */
const char *config_warning(const struct config *c);

/* Prints the effective configuration, one key = value a line, secrets redacted. */
void config_print(const struct config *c, FILE *out);

/* Reads a whole secret file (at most 4 KiB) into a, trailing whitespace removed; 0, -errno, or
 * -EFBIG when it is longer. For secret-file keys, and for files other modules name (SMTP passwords). */
int config_read_secret(arena *a, const char *path, const char **ret, size_t *ret_len);

/* Parses "host:port" into its parts (host copied into host[hostlen]). */
int config_parse_hostport(const char *s, char *host, size_t hostlen, int *port);
