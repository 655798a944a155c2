/*
 * price.c - fixed-point money, llm_prices parsing and call costs.
 */
#include "price.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int money_parse(const char *s, long long max, long long *ret)
{
	long long whole = 0, frac = 0;
	int digits = 0, frac_digits = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > MONEY_MAX_MICROS)
			return -EINVAL;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++) {
			if (frac_digits == 6)
				return -EINVAL;
			frac = frac * 10 + (*p - '0');
		}
		if (frac_digits == 0)
			return -EINVAL;
	}
	if (*p || digits == 0 || whole > max / 1000000)
		return -EINVAL;
	for (int i = frac_digits; i < 6; i++)
		frac *= 10;
	long long v = whole * 1000000 + frac;
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

void money_format(long long micros, char *out)
{
	int n = snprintf(out, 32, "%lld.%06lld", micros / 1000000, micros % 1000000);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
}

int currency_valid(const char *s)
{
	return strlen(s) == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
	       isupper((unsigned char)s[2]) && s[0] <= 'Z' && s[1] <= 'Z' && s[2] <= 'Z';
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const struct llm_price *price_find(const struct llm_price *list, size_t n, const char *model)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].model, model) == 0)
			return &list[i];
	return NULL;
}

#define PRICE_MAX_ENTRIES 64
#define PRICE_FIELDS 5 /* one more than allowed, to notice extra words */

/* Splits one entry into whitespace-separated words (at most PRICE_FIELDS). */
static size_t words(arena *a, const char *s, size_t len, const char **out)
{
	size_t n = 0, i = 0;
	while (i < len && n < PRICE_FIELDS) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		size_t start = i;
		while (i < len && !isspace((unsigned char)s[i]))
			i++;
		if (i > start)
			out[n++] = arena_strndup(a, s + start, i - start);
	}
	return n;
}

/* The two price lists: per million input and output tokens, and per image. */
struct price_shape {
	const char *key;
	size_t prices;		/* numbers after MODEL */
	const char *shape;	/* how an entry reads, for the error message */
	const char *prices_name;	/* "the prices" */
	const char *decimals;		/* "decimals" */
};

static const struct price_shape shapes[] = {
	{ "llm_prices", 2, "MODEL INPUT OUTPUT [CURRENCY] (prices per million tokens, e.g. gpt-4o-mini 0.15 0.60 USD)",
	  "the prices", "decimals" },
	{ "llm_image_prices", 1, "MODEL PRICE [CURRENCY] (the price of one image, e.g. gpt-image-1 0.04 USD)",
	  "the price", "a decimal" },
};

static int parse_list(arena *a, const struct price_shape *sh, const char *spec, const char *currency,
		      const struct llm_price **ret, size_t *ret_n, char *err, size_t errlen)
{
	struct llm_price *list = arena_zalloc(a, PRICE_MAX_ENTRIES * sizeof(*list));
	size_t n = 0;
	for (const char *p = spec; *p;) {
		size_t len = strcspn(p, ",;");
		const char *w[PRICE_FIELDS];
		size_t nw = words(a, p, len, w);
		const char *entry = arena_strndup(a, p, len);
		p += len + (p[len] ? 1 : 0);
		if (nw == 0)
			continue;
		if (nw < sh->prices + 1 || nw > sh->prices + 2)
			return fail(err, errlen, "%s: \"%s\" is not %s", sh->key, entry, sh->shape);
		if (n == PRICE_MAX_ENTRIES)
			return fail(err, errlen, "%s: more than %d models", sh->key, PRICE_MAX_ENTRIES);
		struct llm_price *e = &list[n];
		e->model = w[0];
		long long *slot[] = { sh->prices == 1 ? &e->per_image : &e->input, &e->output };
		for (size_t i = 0; i < sh->prices; i++)
			if (money_parse(w[1 + i], PRICE_MAX_MICROS, slot[i]) < 0)
				return fail(err, errlen, "%s: %s of %s must be %s from 0 to 10000 with at most 6 "
					    "fraction digits, got \"%s\"", sh->key, sh->prices_name, e->model, sh->decimals,
					    w[1 + i]);
		if (nw == sh->prices + 2 && strcmp(w[nw - 1], currency) != 0)
			return fail(err, errlen, "%s: %s is priced in %s but llm_currency is %s "
				    "(all prices and limits use one currency)", sh->key, e->model, w[nw - 1], currency);
		if (price_find(list, n, e->model))
			return fail(err, errlen, "%s: %s is priced twice", sh->key, e->model);
		n++;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

int price_list_parse(arena *a, const char *spec, const char *currency, const struct llm_price **ret, size_t *ret_n,
		     char *err, size_t errlen)
{
	return parse_list(a, &shapes[0], spec, currency, ret, ret_n, err, errlen);
}

int image_price_list_parse(arena *a, const char *spec, const char *currency, const struct llm_price **ret,
			   size_t *ret_n, char *err, size_t errlen)
{
	return parse_list(a, &shapes[1], spec, currency, ret, ret_n, err, errlen);
}

void price_cost_format(const struct llm_price *p, long prompt_tokens, long completion_tokens, char *out)
{
	unsigned __int128 pt = prompt_tokens > 0 ? (unsigned long long)prompt_tokens : 0;
	unsigned __int128 ct = completion_tokens > 0 ? (unsigned long long)completion_tokens : 0;
	/* micros per million tokens = 1e-12 currency units per token */
	unsigned __int128 pico = pt * (unsigned long long)p->input + ct * (unsigned long long)p->output;
	const unsigned long long scale = 1000000000000ULL;
	snprintf(out, COST_TEXT_MAX, "%llu.%012llu", (unsigned long long)(pico / scale),
		 (unsigned long long)(pico % scale));
}
