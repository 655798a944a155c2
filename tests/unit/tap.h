/*
 * tap.h - a minimal TAP producer for the unit tests (meson protocol: 'tap').
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* A description on one line: a control character (a newline in a test's input
 * quoted into its description) would start a line that is no TAP. */
static inline void tap_describe(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_describe(const char *fmt, ...)
{
	char d[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d, sizeof d, fmt, ap);
	va_end(ap);
	for (const unsigned char *c = (const unsigned char *)d; *c; c++) {
		if (*c == '\n')
			fputs("\\n", stdout);
		else if (*c < 0x20 || *c == 0x7f)
			printf("\\x%02x", *c);
		else
			putchar(*c);
	}
	putchar('\n');
}

#define ok(cond, ...)                                                                  \
	do {                                                                           \
		int ok_ = !!(cond);                                                    \
		printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n);                     \
		tap_describe(__VA_ARGS__);                                             \
		if (!ok_) {                                                            \
			tap_failed++;                                                  \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                      \
	} while (0)

#define is_int(got, want, ...)                                                         \
	do {                                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want);               \
		ok(g_ == w_, __VA_ARGS__);                                             \
		if (g_ != w_)                                                          \
			printf("#   got %lld, want %lld\n", g_, w_);                     \
	} while (0)

#define is_str(got, want, ...)                                                         \
	do {                                                                           \
		const char *g_ = (got), *w_ = (want);                                  \
		int same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;               \
		ok(same_, __VA_ARGS__);                                                \
		if (!same_)                                                            \
			printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)",      \
			       w_ ? w_ : "(null)");                                    \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
