/*
 * config.c - configuration table, parser, overrides and validation.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exportlink.h"
#include "mailtoken.h"
#include "mime.h"
#include "smtp.h"

enum key_type { KEY_STR, KEY_INT, KEY_MODE, KEY_MONEY };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;
	long min, max; /* for KEY_INT / KEY_MODE */
	bool secret_file;
};

#define STR(n, d) { #n, KEY_STR, offsetof(struct config, n), d, 0, 0, false }
#define SECRET(n) { #n, KEY_STR, offsetof(struct config, n), "", 0, 0, true }
#define INT(n, d, lo, hi) { #n, KEY_INT, offsetof(struct config, n), #d, lo, hi, false }
/* a decimal amount of llm_currency, stored in micros (price.h) */
#define MONEY(n, d) { #n, KEY_MONEY, offsetof(struct config, n), d, 0, 0, false }

static const struct key keys[] = {
	STR(database_url, "dbname=adcraft"),
	SECRET(database_password_file),
	STR(migrate_database_url, ""),
	STR(listen, ""),
	STR(listen_tcp, ""),
	STR(listen_slow, ""),
	{ "listen_mode", KEY_MODE, offsetof(struct config, listen_mode), "0660", 0, 0777, false },
	INT(processes, 0, 0, 256),
	INT(slow_processes, 8, 1, 64),
	SECRET(jwt_secret_file),
	STR(jwt_issuer, "adcraft"),
	STR(jwt_audience, "adcraft-api"),
	INT(access_token_ttl, 900, 60, 86400),
	INT(refresh_token_ttl, 2592000, 300, 31536000),
	INT(body_limit, 1048576, 1024, 67108864),
	STR(sql_dir, "/usr/share/adcraft/sql"),
	INT(argon2_memory_kib, 19456, 19456, 4194304),
	INT(argon2_iterations, 2, 2, 64),
	STR(llm_base_url, "https://api.openai.com/v1"),
	SECRET(llm_api_key_file),
	STR(llm_model, "gpt-4o-mini"),
	INT(llm_concurrency, 6, 1, 64),
	INT(generation_concurrency_per_user, 2, 1, 64),
	INT(llm_timeout_seconds, 60, 1, 600),
	INT(llm_connect_timeout_seconds, 10, 1, 120),
	INT(llm_retry_base_ms, 500, 10, 60000),
	INT(daily_token_limit, 200000, 0, 1000000000),
	INT(monthly_token_limit, 0, 0, 100000000000),
	MONEY(daily_cost_limit, "0"),
	MONEY(monthly_cost_limit, "0"),
	STR(llm_currency, "USD"),
	STR(llm_prices, ""),
	STR(llm_image_prices, ""),
	INT(llm_token_estimate, 2000, 1, 1000000),
	STR(log_level, "info"),
	INT(log_flush_ms, 1000, 0, 10000),
	INT(worker_processes, 0, 0, 64),
	INT(worker_batch, 100, 1, 1000),
	INT(job_heartbeat_seconds, 5, 1, 60),
	INT(job_stale_seconds, 30, 3, 3600),
	INT(job_poll_seconds, 10, 1, 300),
	INT(job_retention_days, 14, 1, 3650),
	SECRET(edge_secret_file),
	STR(cors_origins, ""),
	STR(events_publish_socket, ""),
	INT(events_cookie_ttl, 300, 30, 3600),
	STR(smtp_servers, ""),
	STR(mail_from, ""),
	STR(mail_from_name, ""),
	STR(mail_reply_to, ""),
	STR(mail_unsubscribe_mailto, ""),
	STR(mail_public_base_url, ""),
	INT(mail_tracking, 1, 0, 1),
	SECRET(mail_token_key_file),
	SECRET(mail_webhook_secret_file),
	STR(media_dir, "/var/lib/adcraft/media"),
	INT(asset_max_bytes, 10485760, 1024, 104857600),
	INT(asset_quota_bytes, 524288000, 0, 1099511627776),
	INT(media_max_pixels, 50000000, 1, 500000000),
	STR(llm_images_model, ""),
	STR(exports_dir, "/var/lib/adcraft/exports"),
	INT(export_ttl, 86400, 1, 31536000),
	INT(export_link_ttl, 3600, 1, 604800),
	SECRET(export_link_key_file),
	SECRET(metrics_token_file),
	STR(worker_metrics_file, "/run/adcraft-worker/metrics"),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int key_set(struct config *c, const struct key *k, const char *value, const char *origin,
		   char *err, size_t errlen)
{
	void *field = (char *)c + k->offset;
	if (k->type == KEY_STR) {
		*(const char **)field = arena_strdup(c->arena, value);
		return 0;
	}
	if (k->type == KEY_MONEY) {
		long long micros;
		if (money_parse(value, MONEY_MAX_MICROS, &micros) < 0)
			return fail(err, errlen, "%s: %s must be an amount from 0 to 1000000 with at most 6 decimals "
				    "(e.g. 25 or 2.50), got \"%s\"", origin, k->name, value);
		*(long *)field = (long)micros;
		return 0;
	}
	char *end;
	errno = 0;
	long v = strtol(value, &end, k->type == KEY_MODE ? 8 : 10);
	if (errno || end == value || *end || v < k->min || v > k->max)
		return fail(err, errlen, "%s: %s must be %s between %ld and %ld, got \"%s\"", origin, k->name,
			    k->type == KEY_MODE ? "an octal mode" : "an integer", k->min, k->max, value);
	*(long *)field = v;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_file(struct config *c, FILE *f, const char *path, char *err, size_t errlen)
{
	char line[4096];
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			return fail(err, errlen, "%s:%d: expected key = value", path, lineno);
		*eq = '\0';
		char *name = trim(s), *value = trim(eq + 1);
		size_t vl = strlen(value);
		if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
			value[vl - 1] = '\0';
			value++;
		}
		const struct key *k = key_find(name);
		if (!k)
			return fail(err, errlen, "%s:%d: unknown key \"%s\"", path, lineno, name);
		char origin[600];
		snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
		int r = key_set(c, k, value, origin, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_env(struct config *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < NKEYS; i++) {
		char env[64] = "ADCRAFT_";
		size_t n = strlen(env);
		for (const char *p = keys[i].name; *p && n < sizeof(env) - 1; p++)
			env[n++] = (char)toupper((unsigned char)*p);
		env[n] = '\0';
		const char *v = getenv(env);
		if (v) {
			int r = key_set(c, &keys[i], v, env, err, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int config_read_secret(arena *a, const char *path, const char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char tmp[4096];
	size_t n = fread(tmp, 1, sizeof(tmp), f);
	int bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad)
		return -EFBIG;
	while (n > 0 && isspace((unsigned char)tmp[n - 1]))
		n--;
	*ret = arena_strndup(a, tmp, n);
	*ret_len = n;
	return 0;
}

int config_parse_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= hostlen)
		return -EINVAL;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p < 1 || p > 65535)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = (int)p;
	return 0;
}

static int validate_url(const char *url)
{
	const char *rest = NULL;
	if (strncmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		rest = url + 8;
	if (!rest || !*rest || *rest == '/' || *rest == ':')
		return -EINVAL;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '\\')
			return -EINVAL;
	return 0;
}

/*
 * The edge secret travels as a FastCGI parameter that nginx's configuration
 * spells out (fastcgi_param ADCRAFT_EDGE_SECRET "..."): at least 32 characters
 * that need no quoting there.
 */
static int load_edge_secret(struct config *c, char *err, size_t errlen)
{
	if (!*c->edge_secret_file)
		return 0;
	int r = config_read_secret(c->arena, c->edge_secret_file, &c->edge_secret, &c->edge_secret_len);
	if (r < 0)
		return fail(err, errlen, "edge_secret_file %s: %s", c->edge_secret_file, strerror(-r));
	if (c->edge_secret_len < 32)
		return fail(err, errlen, "edge_secret_file %s: the secret is %zu bytes, at least 32 are required",
			    c->edge_secret_file, c->edge_secret_len);
	for (const char *p = c->edge_secret; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.+/=", *p))
			return fail(err, errlen, "edge_secret_file %s: only letters, digits and - _ . + / = are allowed "
				    "(generate one with: adcraft gen-secret)", c->edge_secret_file);
	return 0;
}

#define CORS_MAX_ORIGINS 32

/* scheme://host[:port] as a browser serialises it: lower case, no path, no trailing slash. */
static bool valid_origin(const char *o)
{
	const char *host = strncmp(o, "http://", 7) == 0 ? o + 7 : strncmp(o, "https://", 8) == 0 ? o + 8 : NULL;
	if (!host || !*host || *host == ':')
		return false;
	const char *p = host;
	if (*p == '[') { /* IPv6 literal */
		p += 1 + strspn(p + 1, "0123456789abcdef:.");
		if (*p++ != ']')
			return false;
	} else {
		p += strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789.-");
	}
	if (p == host)
		return false;
	if (*p == ':') {
		size_t digits = strspn(p + 1, "0123456789");
		if (digits == 0 || digits > 5)
			return false;
		p += 1 + digits;
	}
	return *p == '\0';
}

/* Splits cors_origins (exact origins separated by spaces and/or commas). */
static int parse_cors_origins(struct config *c, char *err, size_t errlen)
{
	const char **list = arena_zalloc(c->arena, (CORS_MAX_ORIGINS + 1) * sizeof(*list));
	size_t n = 0;
	for (const char *p = c->cors_origins;;) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		size_t len = strcspn(p, " \t,");
		const char *origin = arena_strndup(c->arena, p, len);
		if (!valid_origin(origin))
			return fail(err, errlen, "cors_origins: \"%s\" is not an origin like https://app.example.com "
				    "or http://localhost:5173 (lower case, no path)", origin);
		if (n == CORS_MAX_ORIGINS)
			return fail(err, errlen, "cors_origins: more than %d origins", CORS_MAX_ORIGINS);
		list[n++] = origin;
		p += len;
	}
	c->cors_origin_list = list;
	return 0;
}

/*
 * llm_prices and llm_image_prices in llm_currency. Limits in money need the
 * price of the models the calls go to (llm_model, and llm_images_model when
 * set): without it they could never be enforced, so that refuses to start.
 */
static int parse_prices(struct config *c, char *err, size_t errlen)
{
	if (!currency_valid(c->llm_currency))
		return fail(err, errlen, "llm_currency must be an ISO 4217 code like USD or EUR, got \"%s\"",
			    c->llm_currency);
	int r = price_list_parse(c->arena, c->llm_prices, c->llm_currency, &c->llm_price_list, &c->llm_price_count,
				 err, errlen);
	if (r < 0 || (r = image_price_list_parse(c->arena, c->llm_image_prices, c->llm_currency,
						 &c->llm_image_price_list, &c->llm_image_price_count, err, errlen)) < 0)
		return r;
	c->llm_model_price = price_find(c->llm_price_list, c->llm_price_count, c->llm_model);
	c->llm_images_model_price = price_find(c->llm_image_price_list, c->llm_image_price_count, c->llm_images_model);
	bool money_limits = c->daily_cost_limit || c->monthly_cost_limit;
	if (c->llm_api_key && !c->llm_model_price && money_limits)
		return fail(err, errlen, "daily_cost_limit/monthly_cost_limit are set but llm_model %s has no price "
			    "in llm_prices", c->llm_model);
	if (c->llm_api_key && *c->llm_images_model && !c->llm_images_model_price && money_limits)
		return fail(err, errlen, "daily_cost_limit/monthly_cost_limit are set but llm_images_model %s has no "
			    "price in llm_image_prices", c->llm_images_model);
	return 0;
}

const char *config_warning(const struct config *c)
{
	const char *text = NULL, *images = NULL;
	if (c->llm_api_key && !c->llm_model_price)
		text = arena_printf(c->arena, "llm_model %s has no price in llm_prices: its calls are recorded with "
				    "cost NULL and limits in money (adcraft user limits) cannot count them", c->llm_model);
	if (c->llm_api_key && *c->llm_images_model && !c->llm_images_model_price)
		images = arena_printf(c->arena, "llm_images_model %s has no price in llm_image_prices: its images are "
				      "recorded with cost NULL and limits in money (adcraft user limits) cannot count "
				      "them", c->llm_images_model);
	if (text && images)
		return arena_printf(c->arena, "%s; %s", text, images);
	return text ? text : images;
}

#define FOR(program) (1u << (program))

/* The programs that build or verify mail links: with smtp_servers set they need the mail keys. */
static const unsigned mail_programs = FOR(CONFIG_API) | FOR(CONFIG_WORKER) | FOR(CONFIG_CLI_MAIL);

/*
 * Email delivery (docs/sending.md): the SMTP servers, the sender identity and
 * the key of unsubscribe and tracking tokens. With smtp_servers set, mail_from,
 * mail_public_base_url and mail_token_key_file are required of the programs
 * that deliver mail or answer its links (mail_programs), not of migrate.
 */
static int validate_mail(struct config *c, enum config_program program, char *err, size_t errlen)
{
	struct smtp_server *servers;
	int r = smtp_servers_parse(c->arena, c->smtp_servers, &servers, &c->smtp_server_count, err, errlen);
	if (r < 0)
		return r;
	c->smtp_server_list = servers;
	static const struct {
		const char *name;
		size_t offset;
	} addresses[] = {
		{ "mail_from", offsetof(struct config, mail_from) },
		{ "mail_reply_to", offsetof(struct config, mail_reply_to) },
		{ "mail_unsubscribe_mailto", offsetof(struct config, mail_unsubscribe_mailto) },
	};
	for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++) {
		const char *v = *(const char *const *)((const char *)c + addresses[i].offset);
		if (*v && !mime_address_valid(v))
			return fail(err, errlen, "%s must be a plain address like news@example.com, got \"%s\"",
				    addresses[i].name, v);
	}
	if (strpbrk(c->mail_from_name, "\r\n"))
		return fail(err, errlen, "mail_from_name must be one line");
	size_t n = strlen(c->mail_public_base_url);
	if (n && c->mail_public_base_url[n - 1] == '/')
		c->mail_public_base_url = arena_strndup(c->arena, c->mail_public_base_url, n - 1);
	if (n && (validate_url(c->mail_public_base_url) < 0 || strpbrk(c->mail_public_base_url, "<>?#")))
		return fail(err, errlen, "mail_public_base_url must be an https:// (or http:// for development) URL "
			    "without query, got \"%s\"", c->mail_public_base_url);
	if (*c->mail_token_key_file) {
		const char *key;
		r = config_read_secret(c->arena, c->mail_token_key_file, &key, &c->mail_token_key_len);
		if (r < 0)
			return fail(err, errlen, "mail_token_key_file %s: %s", c->mail_token_key_file, strerror(-r));
		if (c->mail_token_key_len < MAILTOKEN_MIN_KEY)
			return fail(err, errlen, "mail_token_key_file %s: the key is %zu bytes, at least %d are required",
				    c->mail_token_key_file, c->mail_token_key_len, MAILTOKEN_MIN_KEY);
		if (c->mail_token_key_len == c->jwt_secret_len && memcmp(key, c->jwt_secret, c->jwt_secret_len) == 0)
			return fail(err, errlen, "mail_token_key_file must not hold the JWT key (generate another one "
				    "with: adcraft gen-secret)");
		c->mail_token_key = (const unsigned char *)key;
	}
	if (*c->mail_webhook_secret_file) {
		const char *secret;
		r = config_read_secret(c->arena, c->mail_webhook_secret_file, &secret, &c->mail_webhook_secret_len);
		if (r < 0)
			return fail(err, errlen, "mail_webhook_secret_file %s: %s", c->mail_webhook_secret_file,
				    strerror(-r));
		if (c->mail_webhook_secret_len < MAIL_WEBHOOK_MIN_SECRET)
			return fail(err, errlen, "mail_webhook_secret_file %s: the secret is %zu bytes, at least %d are "
				    "required", c->mail_webhook_secret_file, c->mail_webhook_secret_len,
				    MAIL_WEBHOOK_MIN_SECRET);
		c->mail_webhook_secret = (const unsigned char *)secret;
	}
	if ((mail_programs & FOR(program)) && c->smtp_server_count &&
	    (!*c->mail_from || !*c->mail_public_base_url || !c->mail_token_key))
		return fail(err, errlen, "smtp_servers is set: mail_from, mail_public_base_url and mail_token_key_file "
			    "are required too");
	return 0;
}

/*
 * Exports (docs/exports.md): the directory must be an absolute path nginx can
 * alias; the link key, when set, is long enough and not the JWT key.
 */
static int validate_exports(struct config *c, char *err, size_t errlen)
{
	if (c->exports_dir[0] != '/' || strpbrk(c->exports_dir, " \t\"';{}$"))
		return fail(err, errlen, "exports_dir must be an absolute path without spaces, quotes, ; { } or $, "
			    "got \"%s\"", c->exports_dir);
	size_t n = strlen(c->exports_dir);
	if (n > 1 && c->exports_dir[n - 1] == '/')
		c->exports_dir = arena_strndup(c->arena, c->exports_dir, n - 1);
	if (!*c->export_link_key_file)
		return 0;
	const char *key;
	int r = config_read_secret(c->arena, c->export_link_key_file, &key, &c->export_link_key_len);
	if (r < 0)
		return fail(err, errlen, "export_link_key_file %s: %s", c->export_link_key_file, strerror(-r));
	if (c->export_link_key_len < EXPORT_LINK_MIN_KEY)
		return fail(err, errlen, "export_link_key_file %s: the key is %zu bytes, at least %d are required",
			    c->export_link_key_file, c->export_link_key_len, EXPORT_LINK_MIN_KEY);
	if (c->export_link_key_len == c->jwt_secret_len && memcmp(key, c->jwt_secret, c->jwt_secret_len) == 0)
		return fail(err, errlen, "export_link_key_file must not hold the JWT key (generate another one "
			    "with: adcraft gen-secret)");
	c->export_link_key = (const unsigned char *)key;
	return 0;
}

/* metrics_token_file: the operator's bearer token for GET /api/metrics from off the host. */
static int validate_metrics(struct config *c, char *err, size_t errlen)
{
	if (*c->worker_metrics_file && c->worker_metrics_file[0] != '/')
		return fail(err, errlen, "worker_metrics_file must be an absolute path or empty, got \"%s\"",
			    c->worker_metrics_file);
	if (!*c->metrics_token_file)
		return 0;
	int r = config_read_secret(c->arena, c->metrics_token_file, &c->metrics_token, &c->metrics_token_len);
	if (r < 0)
		return fail(err, errlen, "metrics_token_file %s: %s", c->metrics_token_file, strerror(-r));
	if (c->metrics_token_len < 32)
		return fail(err, errlen, "metrics_token_file %s: the token is %zu bytes, at least 32 are required "
			    "(generate one with: adcraft gen-secret)", c->metrics_token_file, c->metrics_token_len);
	for (const char *p = c->metrics_token; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return fail(err, errlen, "metrics_token_file %s: the token must be printable ASCII without "
				    "spaces (generate one with: adcraft gen-secret)", c->metrics_token_file);
	return 0;
}

/*
 * The keys a program cannot run without (all others have usable defaults or
 * switch a feature off when empty). Secrets a program does not use are not
 * asked of it: adcraft-worker and `adcraft migrate` never sign or verify a
 * token, so their units need not hold the JWT key.
 */
static const struct requirement {
	const char *key;
	size_t offset; /* a KEY_STR field: required means not empty */
	unsigned programs;
	const char *why;
} requirements[] = {
	{ "jwt_secret_file", offsetof(struct config, jwt_secret_file), FOR(CONFIG_API) | FOR(CONFIG_CLI_TOKENS),
	  "access tokens are signed with it (generate one with: adcraft gen-secret)" },
	{ "edge_secret_file", offsetof(struct config, edge_secret_file), FOR(CONFIG_API),
	  "nginx's requests could not be told from any other local process's (generate one with: adcraft "
	  "gen-secret; see docs/operations.md)" },
};

static const char *const program_names[] = {
	[CONFIG_API] = "api", [CONFIG_WORKER] = "worker", [CONFIG_CLI] = "cli", [CONFIG_CLI_TOKENS] = "token",
	[CONFIG_CLI_MAIL] = "mail",
};


int config_program_parse(const char *name, enum config_program *ret)
{
	for (size_t i = 0; i < sizeof(program_names) / sizeof(program_names[0]); i++)
		if (strcmp(name, program_names[i]) == 0) {
			*ret = (enum config_program)i;
			return 0;
		}
	return -EINVAL;
}

static int check_required(const struct config *c, enum config_program program, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(requirements) / sizeof(requirements[0]); i++) {
		const struct requirement *q = &requirements[i];
		const char *v = *(const char *const *)((const char *)c + q->offset);
		if ((q->programs & FOR(program)) && !*v)
			return fail(err, errlen, "%s is not set: %s", q->key, q->why);
	}
	return 0;
}

/* The JWT key, when set (whoever loads it): at least 32 bytes. */
static int load_jwt_secret(struct config *c, char *err, size_t errlen)
{
	c->events_audience = arena_printf(c->arena, "%s-events", c->jwt_audience);
	if (!*c->jwt_secret_file)
		return 0;
	const char *secret;
	int r = config_read_secret(c->arena, c->jwt_secret_file, &secret, &c->jwt_secret_len);
	if (r < 0)
		return fail(err, errlen, "jwt_secret_file %s: %s", c->jwt_secret_file, strerror(-r));
	if (c->jwt_secret_len < 32)
		return fail(err, errlen, "jwt_secret_file %s: the key is %zu bytes, at least 32 are required",
			    c->jwt_secret_file, c->jwt_secret_len);
	c->jwt_secret = (const unsigned char *)secret;
	return 0;
}

static int validate(struct config *c, enum config_program program, char *err, size_t errlen)
{
	if (!*c->database_url)
		return fail(err, errlen, "database_url is empty");
	if (!*c->migrate_database_url)
		c->migrate_database_url = c->database_url;
	int r;
	if ((r = check_required(c, program, err, errlen)) < 0 || (r = load_jwt_secret(c, err, errlen)) < 0)
		return r;
	if (*c->database_password_file) {
		size_t len;
		r = config_read_secret(c->arena, c->database_password_file, &c->database_password, &len);
		if (r < 0)
			return fail(err, errlen, "database_password_file %s: %s", c->database_password_file,
				    strerror(-r));
	}
	if (*c->llm_api_key_file) {
		size_t len;
		r = config_read_secret(c->arena, c->llm_api_key_file, &c->llm_api_key, &len);
		if (r < 0)
			return fail(err, errlen, "llm_api_key_file %s: %s", c->llm_api_key_file, strerror(-r));
		if (len == 0)
			return fail(err, errlen, "llm_api_key_file %s is empty", c->llm_api_key_file);
	}
	if ((r = load_edge_secret(c, err, errlen)) < 0 || (r = parse_cors_origins(c, err, errlen)) < 0)
		return r;
	if ((r = parse_prices(c, err, errlen)) < 0 || (r = validate_mail(c, program, err, errlen)) < 0)
		return r;
	if ((r = validate_exports(c, err, errlen)) < 0 || (r = validate_metrics(c, err, errlen)) < 0)
		return r;
	if (c->job_stale_seconds <= c->job_heartbeat_seconds)
		return fail(err, errlen, "job_stale_seconds must exceed job_heartbeat_seconds");
	/* media files are named <media_dir>/<aa>/<sha256>.<ext> and written with snprintf into 4 KiB */
	if (c->media_dir[0] != '/' || strlen(c->media_dir) > 3000)
		return fail(err, errlen, "media_dir must be an absolute path of at most 3000 bytes, got \"%s\"",
			    c->media_dir);
	char host[256];
	int port;
	if (*c->listen_tcp && config_parse_hostport(c->listen_tcp, host, sizeof(host), &port) < 0)
		return fail(err, errlen, "listen_tcp must be host:port, got \"%s\"", c->listen_tcp);
	if (strlen(c->listen) >= 108)
		return fail(err, errlen, "listen: unix socket path longer than 107 bytes");
	if (strlen(c->listen_slow) >= 108)
		return fail(err, errlen, "listen_slow: unix socket path longer than 107 bytes");
	if (validate_url(c->llm_base_url) < 0)
		return fail(err, errlen, "llm_base_url must be an http:// or https:// URL, got \"%s\"",
			    c->llm_base_url);
	if (*c->llm_images_model && !c->llm_api_key)
		return fail(err, errlen, "llm_images_model needs llm_api_key_file (images come from llm_base_url)");
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	for (size_t i = 0; i < 4; i++)
		if (strcmp(c->log_level, levels[i]) == 0)
			return 0;
	return fail(err, errlen, "log_level must be debug, info, warn or error");
}

int config_load(const char *path, enum config_program program, struct config **ret, char *err, size_t errlen)
{
	arena *a = arena_new(8192);
	struct config *c = arena_zalloc(a, sizeof(*c));
	c->arena = a;
	char dummy[1];
	for (size_t i = 0; i < NKEYS; i++)
		if (key_set(c, &keys[i], keys[i].def, "default", dummy, 0) < 0)
			abort(); /* the table itself is wrong */

	bool required = path != NULL;
	if (!path)
		path = getenv("ADCRAFT_CONFIG");
	if (path)
		required = true;
	else
		path = CONFIG_DEFAULT_PATH;
	c->path = arena_strdup(a, path);

	int r = 0;
	FILE *f = fopen(path, "re");
	if (f) {
		r = parse_file(c, f, path, err, errlen);
		fclose(f);
	} else if (required || errno != ENOENT) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (r == 0)
		r = apply_env(c, err, errlen);
	if (r == 0)
		r = validate(c, program, err, errlen);
	if (r < 0) {
		arena_free(a);
		return r;
	}
	*ret = c;
	return 0;
}

void config_free(struct config *c)
{
	if (c)
		arena_free(c->arena);
}

/* "password" anywhere but as smtp_servers' password_file= option (a path, not a secret). */
static bool mentions_password(const char *v)
{
	for (const char *p = v; (p = strstr(p, "password")); p += 8)
		if (strncmp(p + 8, "_file=", 6) != 0)
			return true;
	return false;
}

/* A conninfo or URI that carries a password is printed redacted. */
static void print_str(FILE *out, const char *name, const char *v)
{
	/* URI userinfo sits between "://" and the first '@' after it. */
	const char *scheme = strstr(v, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
	bool uri_password = at && memchr(scheme + 3, ':', (size_t)(at - (scheme + 3)));
	if (mentions_password(v) || uri_password)
		fprintf(out, "%s = <redacted: contains a password; prefer database_password_file>\n", name);
	else
		fprintf(out, "%s = %s\n", name, v);
}

void config_print(const struct config *c, FILE *out)
{
	fprintf(out, "# effective configuration (file: %s)\n", c->path);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		const void *field = (const char *)c + k->offset;
		if (k->type == KEY_STR) {
			const char *v = *(const char *const *)field;
			print_str(out, k->name, v);
			if (k->secret_file && *v)
				fprintf(out, "#   (secret read from that file; contents redacted)\n");
		} else if (k->type == KEY_MONEY) {
			char amount[32];
			money_format(*(const long *)field, amount);
			fprintf(out, "%s = %s\n", k->name, amount);
		} else if (k->type == KEY_MODE) {
			fprintf(out, "%s = %04lo\n", k->name, *(const long *)field);
		} else {
			fprintf(out, "%s = %ld\n", k->name, *(const long *)field);
		}
	}
}
