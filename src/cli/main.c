/*
 * adcraft - the operator's command line.
 *
 *   adcraft [--config FILE] COMMAND [ARGS]
 *
 * Commands are one table; each returns a process exit status. Commands that
 * touch the database use migrate_database_url (migrate) or database_url.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "mailtest.h"
#include "migrate.h"
#include "password.h"
#include "platforms.h"
#include "random.h"
#include "seed.h"
#include "token.h"
#include "validate.h"

struct command {
	const char *name;
	const char *args;
	const char *help;
	bool needs_config;
	enum config_program program; /* whose requirements the configuration must meet */
	int (*run)(struct config *cfg, int argc, char **argv);
};

static const char *config_path; /* --config FILE; NULL: config_load's default lookup */

static int cmd_migrate(struct config *cfg, int argc, char **argv)
{
	db *d = db_new(cfg->migrate_database_url, cfg->database_password, false);
	struct migrate_report rep;
	int r = migrate_run(d, cfg->sql_dir, stdout, &rep);
	db_free(d);
	if (r < 0) {
		fprintf(stderr, "adcraft migrate: %s\n", rep.error);
		return 1;
	}
	printf("migrations: %d applied, %d already current\n", rep.applied, rep.current);
	return 0;
}

/* Loads the configuration itself: --for names the program whose requirements apply. */
static int cmd_check_config(struct config *unused, int argc, char **argv)
{
	enum config_program program = CONFIG_CLI;
	if (argc == 3 && strcmp(argv[1], "--for") == 0 && config_program_parse(argv[2], &program) == 0) {
		/* checked as that program */
	} else if (argc != 1) {
		fputs("usage: adcraft check-config [--for api|worker|cli|token|mail]\n", stderr);
		return 2;
	}
	struct config *cfg;
	char err[512];
	if (config_load(config_path, program, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "adcraft check-config: configuration: %s\n", err);
		return 1;
	}
	const char *warning = config_warning(cfg);
	if (warning)
		fprintf(stderr, "adcraft check-config: warning: %s\n", warning);
	config_print(cfg, stdout);
	printf("# configuration is valid for %s\n", argc == 3 ? argv[2] : "cli");
	config_free(cfg);
	return 0;
}

static int cmd_gen_secret(struct config *cfg, int argc, char **argv)
{
	unsigned char raw[32];
	char hex[65];
	if (random_bytes(raw, sizeof(raw)) < 0) {
		perror("adcraft gen-secret: getrandom");
		return 1;
	}
	hex_encode(raw, sizeof(raw), hex);
	puts(hex);
	return 0;
}

static int cmd_platforms(struct config *cfg, int argc, char **argv)
{
	json_object *t = platform_table_json();
	puts(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(t);
	return 0;
}

/* Reads one line (the password) from stdin without its newline. */
static int read_password(char *out, size_t n)
{
	if (isatty(STDIN_FILENO))
		fputs("password: ", stderr);
	if (!fgets(out, (int)n, stdin))
		return -EINVAL;
	out[strcspn(out, "\r\n")] = '\0';
	size_t len = strlen(out);
	return len >= 8 && len <= 128 ? 0 : -EINVAL;
}

/*
 * Makes EMAIL an operator (on) or not (off). Runs as the migrating role: the
 * API's role may not update users, so no request can make itself an operator.
 */
static int set_operator(struct config *cfg, const char *email, bool on)
{
	db *d = db_new(cfg->migrate_database_url, cfg->database_password, true);
	arena *a = arena_new(4096);
	PGresult *res;
	const char *p[] = { email, on ? "true" : "false" };
	int status = 1;
	if (db_exec(d, a, STMT_USER_SET_OPERATOR, p, &res) < 0)
		fprintf(stderr, "adcraft user: %s\n", db_error(d));
	else if (PQntuples(res) == 0)
		fprintf(stderr, "adcraft user: no user %s\n", email);
	else {
		printf("%s operator=%s\n", PQgetvalue(res, 0, 0), on ? "on" : "off");
		status = 0;
	}
	arena_free(a);
	db_free(d);
	return status;
}

static int cmd_user_set_operator(struct config *cfg, int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[3], "on") != 0 && strcmp(argv[3], "off") != 0)) {
		fputs("usage: adcraft user set-operator EMAIL on|off\n", stderr);
		return 2;
	}
	return set_operator(cfg, argv[2], strcmp(argv[3], "on") == 0);
}

static int cmd_user_add(struct config *cfg, int argc, char **argv)
{
	bool op = argc == 5 && strcmp(argv[2], "--operator") == 0;
	if (op) { /* user add --operator EMAIL NAME */
		argv[2] = argv[3];
		argv[3] = argv[4];
		argc = 4;
	}
	if (argc != 4) {
		fputs("usage: adcraft user add [--operator] EMAIL NAME   (password on stdin)\n", stderr);
		return 2;
	}
	const char *email = argv[2], *name = argv[3];
	if (!is_email(email) || !*name || strlen(name) > 200) {
		fputs("adcraft user add: invalid email or name\n", stderr);
		return 2;
	}
	char pw[256], hash[PASSWORD_HASH_MAX], refresh[64];
	if (read_password(pw, sizeof(pw)) < 0) {
		fputs("adcraft user add: the password (stdin) must be 8 to 128 characters\n", stderr);
		return 2;
	}
	struct password_cost cost = { (uint32_t)cfg->argon2_memory_kib, (uint32_t)cfg->argon2_iterations };
	if (password_hash(&cost, pw, strlen(pw), hash) < 0 || random_token(refresh, 32) < 0) {
		fputs("adcraft user add: could not hash the password\n", stderr);
		return 1;
	}
	db *d = db_new(cfg->database_url, cfg->database_password, true);
	arena *a = arena_new(4096);
	PGresult *res;
	const char *p[] = { email, name, hash, refresh, "1" };
	int r = db_exec(d, a, STMT_USER_REGISTER, p, &res), status = 0;
	if (r < 0) {
		fprintf(stderr, "adcraft user add: %s\n", db_error(d));
		status = 1;
	} else if (PQntuples(res) == 0) {
		fprintf(stderr, "adcraft user add: %s is already registered\n", email);
		status = 1;
	} else {
		printf("%s\n", PQgetvalue(res, 0, 1));
	}
	arena_free(a);
	db_free(d);
	if (status == 0 && op)
		status = set_operator(cfg, email, true);
	return status;
}

/* One option of `user limits`: which parameter of user_limits_set it fills, and how it is read. */
struct limit_option {
	const char *flag;
	int param; /* index in user_limits_set's parameters */
	bool money;
};

static const struct limit_option limit_options[] = {
	{ "--daily-tokens", 1, false },
	{ "--monthly-tokens", 2, false },
	{ "--daily-cost", 3, true },
	{ "--monthly-cost", 4, true },
};
#define NLIMIT_OPTIONS (sizeof(limit_options) / sizeof(limit_options[0]))

/* Parses one option value into text for the statement: tokens as an integer, money in llm_currency. */
static int limit_value(arena *a, const struct limit_option *o, const char *v, const char **ret)
{
	if (o->money) {
		long long micros;
		char amount[32];
		if (money_parse(v, MONEY_MAX_MICROS, &micros) < 0)
			return -EINVAL;
		money_format(micros, amount);
		*ret = arena_strdup(a, amount);
		return 0;
	}
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < 0 || n > 100000000000LL)
		return -EINVAL;
	*ret = arena_printf(a, "%lld", n);
	return 0;
}

/*
 * user limits EMAIL [--daily-tokens N] [--monthly-tokens N] [--daily-cost X] [--monthly-cost X] [--clear]:
 * sets the given overrides (0: no limit for this user; --clear first returns every limit to the
 * configured default) and prints the effective limits. Runs as the migrating role, like set-operator.
 */
static int cmd_user_limits(struct config *cfg, int argc, char **argv)
{
	static const char usage[] = "usage: adcraft user limits EMAIL [--daily-tokens N] [--monthly-tokens N] "
				    "[--daily-cost X] [--monthly-cost X] [--clear]\n";
	if (argc < 3 || argv[2][0] == '-') {
		fputs(usage, stderr);
		return 2;
	}
	arena *a = arena_new(4096);
	const char *set[6] = { argv[2], NULL, NULL, NULL, NULL, "false" };
	bool change = false;
	int status = 2;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--clear") == 0) {
			set[5] = "true";
			change = true;
			continue;
		}
		const struct limit_option *o = NULL;
		for (size_t k = 0; k < NLIMIT_OPTIONS; k++)
			if (strcmp(argv[i], limit_options[k].flag) == 0)
				o = &limit_options[k];
		if (!o || i + 1 == argc) {
			fputs(usage, stderr);
			goto out;
		}
		if (limit_value(a, o, argv[++i], &set[o->param]) < 0) {
			fprintf(stderr, "adcraft user limits: %s needs %s, got \"%s\"\n", o->flag,
				o->money ? "an amount from 0 to 1000000 with at most 6 decimals" : "a whole number of tokens",
				argv[i]);
			goto out;
		}
		change = true;
	}
	status = 1;
	db *d = db_new(cfg->migrate_database_url, cfg->database_password, true);
	PGresult *res;
	if (change && db_exec(d, a, STMT_USER_LIMITS_SET, set, &res) < 0) {
		fprintf(stderr, "adcraft user limits: %s\n", db_error(d));
		goto out_db;
	}
	char daily_cost[32], monthly_cost[32];
	money_format(cfg->daily_cost_limit, daily_cost);
	money_format(cfg->monthly_cost_limit, monthly_cost);
	const char *show[] = { argv[2], arena_printf(a, "%ld", cfg->daily_token_limit),
			       arena_printf(a, "%ld", cfg->monthly_token_limit), daily_cost, monthly_cost,
			       cfg->llm_currency };
	if (db_exec(d, a, STMT_USER_LIMITS_SHOW, show, &res) < 0)
		fprintf(stderr, "adcraft user limits: %s\n", db_error(d));
	else if (PQntuples(res) == 0)
		fprintf(stderr, "adcraft user limits: no user %s\n", argv[2]);
	else {
		puts(PQgetvalue(res, 0, 0));
		status = 0;
	}
out_db:
	db_free(d);
out:
	arena_free(a);
	return status;
}

static int cmd_user(struct config *cfg, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "limits") == 0)
		return cmd_user_limits(cfg, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cmd_user_add(cfg, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "set-operator") == 0)
		return cmd_user_set_operator(cfg, argc, argv);
	fputs("usage: adcraft user add [--operator] EMAIL NAME   (password on stdin)\n"
	      "       adcraft user set-operator EMAIL on|off\n"
	      "       adcraft user limits EMAIL [--daily-tokens N] [--monthly-tokens N] [--daily-cost X] "
	      "[--monthly-cost X] [--clear]\n", stderr);
	return 2;
}

static int cmd_token(struct config *cfg, int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: adcraft token EMAIL\n", stderr);
		return 2;
	}
	db *d = db_new(cfg->database_url, cfg->database_password, true);
	arena *a = arena_new(4096);
	PGresult *res;
	const char *p[] = { argv[1] };
	int status = 1;
	if (db_exec(d, a, STMT_USER_BY_EMAIL, p, &res) < 0)
		fprintf(stderr, "adcraft token: %s\n", db_error(d));
	else if (PQntuples(res) == 0)
		fprintf(stderr, "adcraft token: no user %s\n", argv[1]);
	else {
		struct token_keys keys = { cfg->jwt_secret, cfg->jwt_secret_len, cfg->jwt_issuer, cfg->jwt_audience,
					   cfg->access_token_ttl };
		char *t;
		if (token_issue(&keys, a, PQgetvalue(res, 0, 0), time(NULL), &t) == 0) {
			puts(t);
			status = 0;
		}
	}
	arena_free(a);
	db_free(d);
	return status;
}

static const struct command commands[] = {
	{ "migrate", "", "apply pending sql/ migrations (advisory-locked, checksummed)", true, CONFIG_CLI, cmd_migrate },
	{ "check-config", "[--for api|worker|cli|token|mail]",
	  "print the effective configuration (secrets redacted); fail if it is invalid for that program (cli)", false,
	  CONFIG_CLI, cmd_check_config },
	{ "gen-secret", "", "print a new 256-bit secret (hex) for jwt_secret_file", false, CONFIG_CLI, cmd_gen_secret },
	{ "platforms", "", "print the table of content types, platforms, objectives and limits (JSON)", false,
	  CONFIG_CLI, cmd_platforms },
	{ "user", "add [--operator] EMAIL NAME", "create an account; the password is read from stdin", true, CONFIG_CLI,
	  cmd_user },
	{ "user", "set-operator EMAIL on|off", "let an account see whole-system job figures, or stop it", true,
	  CONFIG_CLI, cmd_user },
	{ "user", "limits EMAIL [--daily-tokens N] [--monthly-tokens N] [--daily-cost X] [--monthly-cost X] [--clear]",
	  "override an account's generation limits (0: none; --clear: back to the configured defaults) "
	  "and print its effective limits", true, CONFIG_CLI, cmd_user },
	{ "token", "EMAIL", "print an access token for that user (for scripts)", true, CONFIG_CLI_TOKENS,
	  cmd_token },
	{ "mail-test", "--to ADDR [--subject S]", "render a sample email and deliver it through smtp_servers", true,
	  CONFIG_CLI_MAIL, cmd_mail_test },
	{ "seed", "--users N --campaigns M [...]", "fill the database with realistic users, personas and campaigns",
	  true, CONFIG_CLI, cmd_seed },
	{ NULL, NULL, NULL, false, CONFIG_CLI, NULL },
};

static void usage(FILE *out)
{
	fputs("usage: adcraft [--config FILE] COMMAND [ARGS]\n\ncommands:\n", out);
	for (const struct command *c = commands; c->name; c++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		fprintf(out, "  %-24s %s\n", left, c->help);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts(ADCRAFT_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, argv[optind]) != 0)
			continue;
		struct config *cfg = NULL;
		if (cmd->needs_config) {
			char err[512];
			if (config_load(config_path, cmd->program, &cfg, err, sizeof(err)) < 0) {
				fprintf(stderr, "adcraft %s: configuration: %s\n", cmd->name, err);
				return 1;
			}
		}
		int r = cmd->run(cfg, argc - optind, argv + optind);
		config_free(cfg);
		return r;
	}
	fprintf(stderr, "adcraft: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return 2;
}
