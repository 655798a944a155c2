/* Unit tests for src/core/price.c (llm_prices, money, call costs) and the price keys of config.c */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "price.h"
#include "tap.h"

static char dir[] = "/tmp/adcraft-price-XXXXXX";

static int load(const char *text, struct config **c, char *err)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/adcraft.conf", dir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return config_load(path, CONFIG_CLI_TOKENS, c, err, 512);
}

int main(void)
{
	/* money_parse / money_format */
	static const struct { const char *text; long long micros; } good[] = {
		{ "0", 0 }, { "5", 5000000 }, { "0.15", 150000 }, { "0.60", 600000 }, { "2.5", 2500000 },
		{ "10000", 10000000000LL }, { "0.000001", 1 }, { "12.345678", 12345678 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		long long v = -1;
		is_int(money_parse(good[i].text, PRICE_MAX_MICROS, &v), 0, "\"%s\" parses", good[i].text);
		is_int(v, good[i].micros, "\"%s\" is %lld micros", good[i].text, good[i].micros);
	}
	static const char *const bad[] = {
		"", ".", "1.", ".5", "-1", "+1", "1e3", "0.1234567", "1,5", " 1", "1 ", "abc", "10000.000001",
		"99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long long v = 42;
		ok(money_parse(bad[i], PRICE_MAX_MICROS, &v) < 0 && v == 42, "\"%s\" refused, untouched", bad[i]);
	}
	char m[32];
	money_format(150000, m);
	is_str(m, "0.15", "150000 micros print as 0.15");
	money_format(5000000, m);
	is_str(m, "5", "whole amounts print without decimals");
	money_format(1, m);
	is_str(m, "0.000001", "one micro");
	money_format(0, m);
	is_str(m, "0", "zero");

	/* price_list_parse */
	arena *a = arena_new(4096);
	const struct llm_price *list;
	size_t n = 99;
	char err[512] = "";
	is_int(price_list_parse(a, "gpt-4o-mini 0.15 0.60 USD, gpt-4o 2.50 10 ; o1  15 60", "USD", &list, &n, err,
				sizeof(err)), 0, "three entries parse (%s)", err);
	is_int(n, 3, "three models");
	const struct llm_price *p = price_find(list, n, "gpt-4o");
	ok(p && p->input == 2500000 && p->output == 10000000, "gpt-4o: 2.50 in, 10 out");
	ok(price_find(list, n, "o1") && !price_find(list, n, "gpt-4"), "exact model names only");
	is_int(price_list_parse(a, "", "USD", &list, &n, err, sizeof(err)), 0, "an empty list parses");
	is_int(n, 0, "no entries");
	static const struct { const char *spec, *why; } bad_lists[] = {
		{ "gpt-4o-mini 0.15", "MODEL INPUT OUTPUT" },
		{ "gpt-4o-mini 0.15 0.60 USD extra", "MODEL INPUT OUTPUT" },
		{ "gpt-4o-mini cheap 0.60", "decimals" },
		{ "gpt-4o-mini 0,15 0,60", "MODEL INPUT OUTPUT" },
		{ "gpt-4o-mini 0.15 0.60 EUR", "llm_currency" },
		{ "gpt-4o-mini 0.15 0.60, gpt-4o-mini 1 2", "twice" },
		{ "big 20000 1", "decimals" },
	};
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++)
		ok(price_list_parse(a, bad_lists[i].spec, "USD", &list, &n, err, sizeof(err)) < 0 &&
		   strstr(err, bad_lists[i].why), "\"%s\" refused: %s", bad_lists[i].spec, err);

	/* price_cost_format: exact, 12 fraction digits */
	struct llm_price mini = { "gpt-4o-mini", 150000, 600000, 0 };
	char cost[COST_TEXT_MAX];
	price_cost_format(&mini, 1200, 600, cost);
	is_str(cost, "0.000540000000", "1200 in + 600 out at 0.15/0.60 per million");
	price_cost_format(&mini, 1, 0, cost);
	is_str(cost, "0.000000150000", "one input token");
	price_cost_format(&mini, 0, 0, cost);
	is_str(cost, "0.000000000000", "no tokens, no cost");
	price_cost_format(&mini, -5, -1, cost);
	is_str(cost, "0.000000000000", "negative counts count as 0");
	struct llm_price dear = { "dear", PRICE_MAX_MICROS, PRICE_MAX_MICROS, 0 };
	price_cost_format(&dear, 2147483647, 2147483647, cost);
	is_str(cost, "42949672.940000000000", "the largest counts at the highest price do not overflow");
	struct llm_price odd = { "odd", 1, 3, 0 };
	price_cost_format(&odd, 7, 11, cost);
	is_str(cost, "0.000000000040", "sub-micro prices stay exact (7*1 + 11*3 = 40e-12)");
	arena_free(a);

	/* config: llm_prices, llm_currency, money limits */
	mkdtemp(dir);
	char keypath[300], keyfile[300], conf[2048];
	snprintf(keypath, sizeof(keypath), "%s/jwt.key", dir);
	FILE *f = fopen(keypath, "w");
	fputs("0123456789abcdef0123456789abcdef\n", f);
	fclose(f);
	snprintf(keyfile, sizeof(keyfile), "%s/llm.key", dir);
	f = fopen(keyfile, "w");
	fputs("sk-test\n", f);
	fclose(f);
	struct config *c;
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", keypath);
	is_int(load(conf, &c, err), 0, "defaults load (%s)", err);
	ok(c->llm_price_count == 0 && !c->llm_model_price && strcmp(c->llm_currency, "USD") == 0 &&
	   c->daily_cost_limit == 0 && c->monthly_cost_limit == 0 && c->monthly_token_limit == 0,
	   "no prices, USD, no money or monthly limits by default");
	ok(config_warning(c) == NULL, "no warning with the builtin generator");
	config_free(c);

	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_api_key_file = %s\nllm_model = gpt-4o-mini\n"
		 "llm_currency = EUR\nllm_prices = gpt-4o-mini 0.15 0.60 EUR, gpt-4o 2.5 10\n"
		 "daily_cost_limit = 2.50\nmonthly_cost_limit = 40\nmonthly_token_limit = 3000000\n", keypath, keyfile);
	is_int(load(conf, &c, err), 0, "prices and money limits load (%s)", err);
	ok(c->llm_model_price && c->llm_model_price->input == 150000, "llm_model's price found");
	is_int(c->daily_cost_limit, 2500000, "daily_cost_limit in micros");
	is_int(c->monthly_cost_limit, 40000000, "monthly_cost_limit in micros");
	is_int(c->monthly_token_limit, 3000000, "monthly_token_limit");
	ok(config_warning(c) == NULL, "no warning when the model has a price");
	char out[8192] = "";
	f = fmemopen(out, sizeof(out), "w");
	config_print(c, f);
	fclose(f);
	ok(strstr(out, "daily_cost_limit = 2.5\n") && strstr(out, "monthly_cost_limit = 40\n") &&
	   strstr(out, "llm_currency = EUR\n"), "check-config prints amounts as decimals");
	config_free(c);

	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_api_key_file = %s\nllm_model = gpt-5\n"
		 "llm_prices = gpt-4o-mini 0.15 0.60\n", keypath, keyfile);
	is_int(load(conf, &c, err), 0, "an unpriced model loads without money limits (%s)", err);
	ok(config_warning(c) && strstr(config_warning(c), "gpt-5"), "but check-config warns: %s",
	   config_warning(c) ? config_warning(c) : "(none)");
	config_free(c);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_api_key_file = %s\nllm_model = gpt-5\n"
		 "llm_prices = gpt-4o-mini 0.15 0.60\ndaily_cost_limit = 1\n", keypath, keyfile);
	ok(load(conf, &c, err) < 0 && strstr(err, "gpt-5") && strstr(err, "daily_cost_limit"),
	   "money limits without the model's price refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\ndaily_cost_limit = 1.5.0\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "daily_cost_limit"), "a bad amount refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_currency = usd\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "llm_currency"), "a lower-case currency refused: %s", err);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_prices = x 1\n", keypath);
	ok(load(conf, &c, err) < 0 && strstr(err, "llm_prices"), "a bad price list refused: %s", err);
	/* llm_image_prices: the images model's price per image, mirrored on llm_prices */
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_api_key_file = %s\nllm_model = gpt-4o-mini\n"
		 "llm_prices = gpt-4o-mini 0.15 0.60\nllm_images_model = gpt-image-1\n"
		 "llm_image_prices = dall-e-3 0.08; gpt-image-1 0.042 USD\ndaily_cost_limit = 1\n", keypath, keyfile);
	is_int(load(conf, &c, err), 0, "image prices load (%s)", err);
	ok(c->llm_image_price_count == 2 && c->llm_images_model_price && c->llm_images_model_price->per_image == 42000,
	   "llm_images_model's price per image found, in micros");
	ok(config_warning(c) == NULL, "no warning when both models have a price");
	config_free(c);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_api_key_file = %s\nllm_model = gpt-4o-mini\n"
		 "llm_prices = gpt-4o-mini 0.15 0.60\nllm_images_model = gpt-image-1\n", keypath, keyfile);
	is_int(load(conf, &c, err), 0, "an unpriced images model loads without money limits (%s)", err);
	ok(config_warning(c) && strstr(config_warning(c), "llm_images_model gpt-image-1") &&
	   !strstr(config_warning(c), "llm_model gpt-4o-mini"), "but check-config warns: %s",
	   config_warning(c) ? config_warning(c) : "(none)");
	config_free(c);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_api_key_file = %s\nllm_model = gpt-4o-mini\n"
		 "llm_prices = gpt-4o-mini 0.15 0.60\nllm_images_model = gpt-image-1\nmonthly_cost_limit = 9\n",
		 keypath, keyfile);
	ok(load(conf, &c, err) < 0 && strstr(err, "gpt-image-1") && strstr(err, "llm_image_prices"),
	   "money limits without the images model's price refused: %s", err);
	const char *bad_images[] = { "gpt-image-1", "gpt-image-1 0.04 0.05 USD", "gpt-image-1 abc",
				     "gpt-image-1 0.04 EUR", "a 1, a 2" };
	for (size_t i = 0; i < sizeof(bad_images) / sizeof(bad_images[0]); i++) {
		snprintf(conf, sizeof(conf), "jwt_secret_file = %s\nllm_image_prices = %s\n", keypath, bad_images[i]);
		ok(load(conf, &c, err) < 0 && strstr(err, "llm_image_prices"), "llm_image_prices = %s refused: %s",
		   bad_images[i], err);
	}
	setenv("ADCRAFT_DAILY_COST_LIMIT", "0.75", 1);
	snprintf(conf, sizeof(conf), "jwt_secret_file = %s\n", keypath);
	is_int(load(conf, &c, err), 0, "money from the environment (%s)", err);
	is_int(c->daily_cost_limit, 750000, "ADCRAFT_DAILY_COST_LIMIT applies");
	config_free(c);
	unsetenv("ADCRAFT_DAILY_COST_LIMIT");

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
