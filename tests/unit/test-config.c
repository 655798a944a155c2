/* Unit tests for src/core/config.c */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "smtp.h"
#include "tap.h"

static char dir[] = "/tmp/adcraft-config-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* The program load() loads as: adcraft token (the JWT key required) unless a test says otherwise. */
static enum config_program load_as = CONFIG_CLI_TOKENS;

static int load(const char *text, struct config **c, char *err)
{
	const char *p = write_file("adcraft.conf", text);
	return config_load(p, load_as, c, err, 512);
}

/* Email delivery keys (docs/sending.md): what is required together, what is refused. */
static void test_mail(const char *keypath)
{	load_as = CONFIG_CLI_MAIL; /* mail keys are required of the programs that deliver */

	char err[512] = "", conf[2048];
	struct config *c = NULL;
	char mailkey[256];
	snprintf(mailkey, sizeof(mailkey), "%s", write_file("mail.key", "fedcba9876543210fedcba9876543210\n"));
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", keypath);
	is_int(load(conf, &c, err), 0, "no smtp_servers: no mail keys needed (%s)", err);
	is_int(c->smtp_server_count, 0, "zero servers");
	is_int(c->mail_tracking, 1, "tracking on by default");
	config_free(c);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nsmtp_servers = smtp://127.0.0.1:1025 starttls=off, "
		 "smtps://relay.example:465 rate=50\nmail_from = news@acme.example\nmail_from_name = Acme News\n"
		 "mail_public_base_url = https://acme.example/\nmail_token_key_file = %s\nmail_tracking = 0\n",
		 keypath, mailkey);
	is_int(load(conf, &c, err), 0, "a full mail configuration loads (%s)", err);
	is_int(c->smtp_server_count, 2, "two servers");
	is_str(c->mail_public_base_url, "https://acme.example", "trailing slash of the base URL dropped");
	is_int(c->mail_token_key_len, 32, "token key read");
	is_int(c->mail_tracking, 0, "tracking off");
	config_free(c);
	static const struct {
		const char *extra, *needle;
	} bad[] = {
		{ "smtp_servers = smtp://relay.example:25 starttls=off\n", "loopback" },
		{ "smtp_servers = smtp://127.0.0.1:25 starttls=off\n", "mail_from" },
		{ "mail_from = not an address\n", "mail_from" },
		{ "mail_reply_to = a@b@c\n", "mail_reply_to" },
		{ "mail_public_base_url = ftp://acme.example\n", "mail_public_base_url" },
		{ "mail_public_base_url = https://acme.example/?x=1\n", "mail_public_base_url" },
		{ "mail_tracking = 2\n", "mail_tracking" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n%s", keypath, bad[i].extra);
		ok(load(conf, &c, err) < 0 && strstr(err, bad[i].needle), "refused: %.*s (%s)",
		   (int)strcspn(bad[i].extra, "\n"), bad[i].extra, err);
	}
	const char *pw = write_file("smtp.pass", "hunter2\n");
	char out[16384];
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nsmtp_servers = smtps://relay.example user=x password_file=%s\n"
		 "mail_from = a@b.example\nmail_public_base_url = https://b.example\nmail_token_key_file = %s\n",
		 keypath, pw, mailkey);
	is_int(load(conf, &c, err), 0, "a server with a password file loads (%s)", err);
	is_str(c->smtp_server_list[0].password, "hunter2", "the password is read from the file");
	FILE *f = fmemopen(out, sizeof(out), "w");
	config_print(c, f);
	fclose(f);
	ok(strstr(out, "smtp_servers = smtps://relay.example user=x password_file=") && !strstr(out, "hunter2"),
	   "check-config prints smtp_servers (a password file is no secret), never the password");
	config_free(c);
	const char *shortkey = write_file("mail-short.key", "short\n");
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nmail_token_key_file = %s\n", keypath, shortkey);
	ok(load(conf, &c, err) < 0 && strstr(err, "at least 32"), "a short token key is refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nmail_token_key_file = %s\n", keypath, keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "JWT key"), "the JWT key as token key is refused: %s", err);
	/* the bounce/complaint webhook's key: optional (the route is 404 without it), >= 32 bytes */
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", keypath);
	is_int(load(conf, &c, err), 0, "no webhook key (%s)", err);
	ok(c->mail_webhook_secret == NULL, "no webhook key: the route is off");
	config_free(c);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nmail_webhook_secret_file = %s\n", keypath, mailkey);
	is_int(load(conf, &c, err), 0, "a webhook key loads (%s)", err);
	is_int(c->mail_webhook_secret_len, 32, "webhook key read, trailing newline trimmed");
	config_free(c);
	char shortpath[256];
	snprintf(shortpath, sizeof(shortpath), "%s", write_file("webhook-short.key", "0123456789abcdef0123456789abcde\n"));
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nmail_webhook_secret_file = %s\n", keypath, shortpath);
	ok(load(conf, &c, err) < 0 && strstr(err, "mail_webhook_secret_file") && strstr(err, "at least 32"),
	   "a 31-byte webhook key is refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nmail_webhook_secret_file = /nonexistent/key\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "mail_webhook_secret_file"), "a missing webhook key file is refused: %s",
	   err);
	load_as = CONFIG_CLI_TOKENS;
}

/* Media asset keys (docs/media.md): defaults, and media_dir must be absolute. */
static void test_media(const char *keypath)
{
	char err[512] = "", conf[1024];
	struct config *c = NULL;
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", keypath);
	is_int(load(conf, &c, err), 0, "defaults load (%s)", err);
	is_str(c->media_dir, "/var/lib/adcraft/media", "media_dir default");
	ok(c->asset_max_bytes == 10485760 && c->asset_quota_bytes == 524288000 && c->media_max_pixels == 50000000,
	   "asset limits default to 10 MiB, 500 MiB, 50 megapixels");
	config_free(c);
	static const struct {
		const char *line, *needle;
	} bad[] = {
		{ "media_dir = media\n", "media_dir" },	     { "media_dir = \n", "media_dir" },
		{ "asset_max_bytes = 10\n", "asset_max_bytes" }, { "media_max_pixels = 0\n", "media_max_pixels" },
		{ "asset_quota_bytes = -1\n", "asset_quota_bytes" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n%s", keypath, bad[i].line);
		ok(load(conf, &c, err) < 0 && strstr(err, bad[i].needle), "refused: %.*s (%s)",
		   (int)strcspn(bad[i].line, "\n"), bad[i].line, err);
	}
}

/* Exports: exports_dir must be absolute and safe in nginx's alias; the link key >= 32 bytes, not the JWT key. */
static void test_exports(const char *keypath)
{
	char err[512] = "", conf[1024], linkkey[256];
	struct config *c = NULL;
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", keypath);
	is_int(load(conf, &c, err), 0, "no export link key (%s)", err);
	ok(c->export_link_key == NULL, "no link key: exports are off");
	is_str(c->exports_dir, "/var/lib/adcraft/exports", "exports_dir default");
	is_int(c->export_ttl, 86400, "export_ttl default");
	config_free(c);
	snprintf(linkkey, sizeof(linkkey), "%s", write_file("export-link.key", "abcdef0123456789abcdef0123456789\n"));
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nexport_link_key_file = %s\nexports_dir = /srv/x/\n",
		 keypath, linkkey);
	is_int(load(conf, &c, err), 0, "a link key loads (%s)", err);
	is_int(c->export_link_key_len, 32, "link key read, trailing newline trimmed");
	is_str(c->exports_dir, "/srv/x", "a trailing slash of exports_dir is dropped");
	config_free(c);
	static const char *const bad_dirs[] = { "exports", "/srv/my exports", "/srv/x;", "/srv/$x", "/srv/\"x\"" };
	for (size_t i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++) {
		snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nexports_dir = \"%s\"\n", keypath, bad_dirs[i]);
		ok(load(conf, &c, err) < 0 && strstr(err, "exports_dir"), "exports_dir %s refused: %s", bad_dirs[i], err);
	}
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nexport_link_key_file = %s\n", keypath, keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "JWT key"), "the JWT key as link key is refused: %s", err);
	snprintf(linkkey, sizeof(linkkey), "%s", write_file("export-short.key", "0123456789abcdef0123456789abcde\n"));
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nexport_link_key_file = %s\n", keypath, linkkey);
	ok(load(conf, &c, err) < 0 && strstr(err, "export_link_key_file") && strstr(err, "at least 32"),
	   "a 31-byte link key is refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nexport_ttl = 0\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "export_ttl"), "export_ttl 0 is refused: %s", err);
}

/* Each program requires only the keys it uses (config.c's requirements table). */
static void test_programs(const char *keypath)
{
	char err[512], conf[1024], edgepath[256];
	struct config *c = NULL;
	snprintf(edgepath, sizeof(edgepath), "%s", write_file("edge-ok.key", "abcdefabcdefabcdefabcdefabcdefab01\n"));
	const char *file = write_file("programs.conf", "processes = 2\n");
	static const struct {
		enum config_program program;
		bool loads;
		const char *needle;
	} bare[] = {
		{ CONFIG_API, false, "jwt_secret_file is not set" },
		{ CONFIG_WORKER, true, NULL },
		{ CONFIG_CLI, true, NULL },
		{ CONFIG_CLI_TOKENS, false, "jwt_secret_file is not set" },
	};
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		err[0] = '\0';
		int r = config_load(file, bare[i].program, &c, err, sizeof(err));
		ok(bare[i].loads ? r == 0 : r < 0 && strstr(err, bare[i].needle),
		   "no secrets at all, program %d: %s (%s)", (int)bare[i].program, bare[i].loads ? "loads" : "refused", err);
		if (r == 0) {
			ok(c->jwt_secret == NULL && c->jwt_secret_len == 0, "no JWT key read");
			config_free(c);
		}
	}
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", keypath);
	file = write_file("programs.conf", conf);
	ok(config_load(file, CONFIG_API, &c, err, sizeof(err)) < 0 && strstr(err, "edge_secret_file is not set"),
	   "the API also needs the edge secret: %s", err);
	is_int(config_load(file, CONFIG_CLI_TOKENS, &c, err, sizeof(err)), 0, "adcraft token needs only the JWT key");
	is_int(c->jwt_secret_len, 32, "and reads it");
	config_free(c);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nedge_secret_file = %s\n", keypath, edgepath);
	file = write_file("programs.conf", conf);
	is_int(config_load(file, CONFIG_API, &c, err, sizeof(err)), 0, "the API with both loads (%s)", err);
	ok(c->jwt_secret && c->edge_secret, "both read");
	config_free(c);
	/* A secret that is set is checked by every program, even one that does not need it. */
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", write_file("short-jwt.key", "short\n"));
	file = write_file("programs.conf", conf);
	ok(config_load(file, CONFIG_WORKER, &c, err, sizeof(err)) < 0 && strstr(err, "at least 32"),
	   "the worker refuses a short JWT key it was given: %s", err);
	file = write_file("programs.conf", "jwt_secret_file = /nonexistent/jwt.key\n");
	ok(config_load(file, CONFIG_CLI, &c, err, sizeof(err)) < 0 && strstr(err, "/nonexistent/jwt.key"),
	   "and a missing one: %s", err);
	/* The environment overrides count as set: the API unit passes its secrets so. */
	file = write_file("programs.conf", "processes = 2\n");
	setenv("ADCRAFT_JWT_SECRET_FILE", keypath, 1);
	setenv("ADCRAFT_EDGE_SECRET_FILE", edgepath, 1);
	is_int(config_load(file, CONFIG_API, &c, err, sizeof(err)), 0, "secrets from ADCRAFT_*_FILE satisfy the API");
	config_free(c);
	unsetenv("ADCRAFT_JWT_SECRET_FILE");
	unsetenv("ADCRAFT_EDGE_SECRET_FILE");

	/* smtp_servers without the mail keys: only the programs that deliver or answer mail links care */
	file = write_file("programs.conf", "smtp_servers = smtp://127.0.0.1:1025 starttls=off\n");
	is_int(config_load(file, CONFIG_CLI, &c, err, sizeof(err)), 0, "adcraft migrate does not need the mail keys");
	config_free(c);
	ok(config_load(file, CONFIG_WORKER, &c, err, sizeof(err)) < 0 && strstr(err, "mail_token_key_file"),
	   "the worker does: %s", err);
	ok(config_load(file, CONFIG_CLI_MAIL, &c, err, sizeof(err)) < 0 && strstr(err, "mail_from"),
	   "and adcraft mail-test: %s", err);

	static const struct {
		const char *name;
		int r;
		enum config_program program;
	} names[] = {
		{ "api", 0, CONFIG_API }, { "worker", 0, CONFIG_WORKER }, { "cli", 0, CONFIG_CLI },
		{ "token", 0, CONFIG_CLI_TOKENS }, { "mail", 0, CONFIG_CLI_MAIL }, { "API", -EINVAL, CONFIG_CLI },
		{ "", -EINVAL, CONFIG_CLI },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum config_program p = CONFIG_CLI;
		int r = config_program_parse(names[i].name, &p);
		ok(r == names[i].r && p == names[i].program, "program name \"%s\"", names[i].name);
	}
}

int main(void)
{
	mkdtemp(dir);
	char err[512] = "", conf[1024];
	struct config *c = NULL;
	const char *key = write_file("jwt.key", "0123456789abcdef0123456789abcdef\n");
	char keypath[256];
	snprintf(keypath, sizeof(keypath), "%s", key);

	snprintf(conf, sizeof(conf), "# comment\njwt_secret_file = %s\nprocesses = 3\nlisten_tcp = 127.0.0.1:9001\n"
		 "database_url = \"host=/tmp dbname=x\"\n", keypath);
	is_int(load(conf, &c, err), 0, "valid file loads (%s)", err);
	is_int(c->processes, 3, "integer key");
	is_str(c->database_url, "host=/tmp dbname=x", "quotes stripped");
	is_int(c->jwt_secret_len, 32, "secret read and trailing newline trimmed");
	is_int(c->access_token_ttl, 900, "default applies");
	is_str(c->migrate_database_url, "host=/tmp dbname=x", "migrate url defaults to database_url");
	config_free(c);

	setenv("ADCRAFT_PROCESSES", "7", 1);
	is_int(load(conf, &c, err), 0, "env override loads");
	is_int(c->processes, 7, "ADCRAFT_PROCESSES wins over the file");
	config_free(c);
	unsetenv("ADCRAFT_PROCESSES");

	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nbogus = 1\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "bogus"), "unknown key refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nprocesses = lots\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "processes"), "bad integer refused: %s", err);
	ok(load("processes = 2\n", &c, err) < 0 && strstr(err, "jwt_secret_file"), "missing secret refused: %s", err);
	const char *shortkey = write_file("short.key", "too-short-key\n");
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", shortkey);
	ok(load(conf, &c, err) < 0 && strstr(err, "at least 32"), "short key refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s/nope.key\n", dir);
	ok(load(conf, &c, err) < 0, "unreadable secret refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_base_url = ftp://x\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "llm_base_url"), "bad URL refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_images_model = gpt-image-1\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "llm_images_model needs llm_api_key_file"),
	   "an images model without an API key refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_api_key_file = %s\nllm_images_model = gpt-image-1\n",
		 keypath, keypath);
	is_int(load(conf, &c, err), 0, "an images model with an API key loads (%s)", err);
	is_str(c->llm_images_model, "gpt-image-1", "llm_images_model read");
	config_free(c);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nlisten_tcp = nowhere\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "listen_tcp"), "bad host:port refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nargon2_memory_kib = 1024\n", keypath);
	ok(load(conf, &c, err) < 0, "argon2 memory below 19 MiB refused: %s", err);

	/* edge_secret_file and cors_origins */
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", keypath);
	is_int(load(conf, &c, err), 0, "loads without edge secret or CORS (%s)", err);
	ok(c->edge_secret == NULL && c->cors_origin_list && !c->cors_origin_list[0], "none by default");
	is_str(c->llm_images_model, "", "no images model by default: builtin cards");
	config_free(c);
	char edgepath[256];
	snprintf(edgepath, sizeof(edgepath), "%s", write_file("edge.key", "abcdefABCDEF0123456789-_.+/=abcdefgh\n"));
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nedge_secret_file = %s\n"
		 "cors_origins = http://localhost:5173, https://app.example.com,http://[::1]:8080\n", keypath, edgepath);
	is_int(load(conf, &c, err), 0, "edge secret and origins load (%s)", err);
	is_int(c->edge_secret_len, 36, "edge secret read, newline trimmed");
	ok(c->cors_origin_list[0] && strcmp(c->cors_origin_list[0], "http://localhost:5173") == 0 &&
	   c->cors_origin_list[1] && strcmp(c->cors_origin_list[1], "https://app.example.com") == 0 &&
	   c->cors_origin_list[2] && strcmp(c->cors_origin_list[2], "http://[::1]:8080") == 0 &&
	   !c->cors_origin_list[3], "origins split on spaces and commas");
	config_free(c);
	snprintf(edgepath, sizeof(edgepath), "%s", write_file("edge-short.key", "short\n"));
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nedge_secret_file = %s\n", keypath, edgepath);
	ok(load(conf, &c, err) < 0 && strstr(err, "edge_secret_file"), "short edge secret refused: %s", err);
	snprintf(edgepath, sizeof(edgepath), "%s", write_file("edge-quote.key", "0123456789abcdef0123456789abcdef\";\n"));
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nedge_secret_file = %s\n", keypath, edgepath);
	ok(load(conf, &c, err) < 0 && strstr(err, "edge_secret_file"), "edge secret with a quote refused: %s", err);
	static const char *const bad_origins[] = {
		"*", "http://localhost:5173/", "HTTP://x", "https://App.example.com", "localhost:5173",
		"http://", "http://x:", "http://x:123456", "https://x/path", "http://[::1", "null",
	};
	for (size_t i = 0; i < sizeof(bad_origins) / sizeof(bad_origins[0]); i++) {
		snprintf(conf, sizeof(conf), "jwt_secret_file = %s\ncors_origins = http://ok.example %s\n", keypath,
			 bad_origins[i]);
		ok(load(conf, &c, err) < 0 && strstr(err, "cors_origins"), "origin \"%s\" refused: %s", bad_origins[i], err);
	}
	test_programs(keypath);
	ok(config_load("/nonexistent/adcraft.conf", CONFIG_CLI, &c, err, sizeof(err)) < 0, "an explicit missing file fails");

	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\ndatabase_url = host=x password=hunter2\n", keypath);
	is_int(load(conf, &c, err), 0, "password in url loads");
	char out[4096] = "";
	FILE *f = fmemopen(out, sizeof(out), "w");
	config_print(c, f);
	fclose(f);
	ok(!strstr(out, "hunter2") && !strstr(out, "0123456789abcdef"), "check-config output redacts secrets");
	config_free(c);

	/* An '@' before "://" used to make the userinfo length negative (a huge memchr). */
	static const struct { const char *url, *secret; bool redacted; } urls[] = {
		{ "x@y postgresql://db.example/app", NULL, false },
		{ "x@y postgresql://app:s3cret@db.example/app", "s3cret", true },
		{ "postgresql://app@db.example/app", NULL, false },
		{ "postgresql://app:s3cret@db.example/app", "s3cret", true },
	};
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		snprintf(conf, sizeof(conf), "jwt_secret_file = %s\ndatabase_url = \"%s\"\n", keypath, urls[i].url);
		is_int(load(conf, &c, err), 0, "url %zu loads (%s)", i, err);
		f = fmemopen(out, sizeof(out), "w");
		config_print(c, f);
		fclose(f);
		if (urls[i].redacted)
			ok(!strstr(out, urls[i].secret) && strstr(out, "database_url = <redacted"), "%s is redacted",
			   urls[i].url);
		else
			ok(strstr(out, urls[i].url) != NULL, "%s is printed as it is", urls[i].url);
		config_free(c);
	}

	test_mail(keypath);
	test_media(keypath);
	test_exports(keypath);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
