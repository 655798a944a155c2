/*
 * price.h - money as fixed-point integers, the per-model price tables
 * (config keys llm_prices, per million tokens, and llm_image_prices, per
 * image) and what one call costs.
 *
 * Amounts are millionths of a currency unit ("micros"): "0.15" is 150000.
 * A price is micros per million tokens, so a call's cost in 1e-12 units is
 * prompt_tokens * input + completion_tokens * output, computed exactly and
 * printed as a decimal with 12 fraction digits (llm_usage.cost is
 * numeric(20,12)). No floating point anywhere.
 */
#pragma once

#include <stddef.h>

#include "arena.h"

#define MONEY_MAX_MICROS 1000000000000LL /* 1,000,000 currency units */
#define PRICE_MAX_MICROS 10000000000LL	 /* 10,000 a million tokens */
#define COST_TEXT_MAX 48

struct llm_price {
	const char *model;
	long long input, output; /* llm_prices: micros per million tokens */
	long long per_image;	 /* llm_image_prices: micros per image */
};

/*
 * Parses a non-negative decimal with at most 6 fraction digits ("5", "0.15",
 * "12.500000") into micros, at most max. 0 or -EINVAL (*ret untouched).
 */
int money_parse(const char *s, long long max, long long *ret);

/* Prints micros as a decimal without trailing zeros ("0.15", "5"); out holds 32 bytes. */
void money_format(long long micros, char *out);

/*
 * Parses llm_prices: entries "MODEL INPUT OUTPUT [CURRENCY]" separated by ','
 * or ';' (INPUT and OUTPUT per million tokens; CURRENCY, when given, must be
 * currency). A model may appear once. On success *ret is an arena array of *n
 * entries; on failure -EINVAL with a one-line reason in err.
 */
int price_list_parse(arena *a, const char *spec, const char *currency, const struct llm_price **ret, size_t *n,
		     char *err, size_t errlen);

/*
 * Parses llm_image_prices the same way: entries "MODEL PRICE [CURRENCY]", the
 * price of one image (per_image; input and output stay 0).
 */
int image_price_list_parse(arena *a, const char *spec, const char *currency, const struct llm_price **ret,
			   size_t *n, char *err, size_t errlen);

/* The entry for model, or NULL. */
const struct llm_price *price_find(const struct llm_price *list, size_t n, const char *model);

/* Whether s is an ISO 4217-shaped code: three upper-case letters. */
int currency_valid(const char *s);

/*
 * Writes the cost of a call with these token counts at price p into out
 * (COST_TEXT_MAX bytes) as a decimal with 12 fraction digits. Negative counts
 * count as 0.
 */
void price_cost_format(const struct llm_price *p, long prompt_tokens, long completion_tokens, char *out);
