/*
 * text.c - fitting text into platform limits (model answers that overrun
 * them after a repair; the builtin generator builds to fit instead).
 */
#include "text.h"

#include <string.h>

#include "checks.h"
#include "json.h"

/* s[0..n) without trailing spaces and joining punctuation. */
static size_t trim_end(const char *s, size_t n)
{
	while (n > 0 && strchr(" ,:;-\n", s[n - 1]))
		n--;
	return n;
}

char *text_fit(arena *a, const char *s, size_t max)
{
	if (utf8_length(s, strlen(s)) <= max)
		return arena_strdup(a, s);
	size_t limit = 0, count = 0;
	for (const char *p = s; *p; p++) /* byte offset of the max-th character */
		if (((unsigned char)*p & 0xC0) != 0x80 && ++count > max) {
			limit = (size_t)(p - s);
			break;
		}
	for (size_t i = limit; i > max / 3; i--)
		if ((s[i - 1] == '.' || s[i - 1] == '!' || s[i - 1] == '?') && (s[i] == ' ' || s[i] == '\n'))
			return arena_strndup(a, s, i);
	/* No sentence ends in reach: whole words, and never a last word a phrase cannot end on. */
	size_t cut = limit;
	while (cut > 0 && s[cut] != ' ')
		cut--;
	size_t words_cut = trim_end(s, cut);
	char why[96];
	for (;;) {
		cut = trim_end(s, cut);
		if (cut <= max / 3) /* an open quote or bracket early on: keep the words */
			return arena_strndup(a, s, words_cut);
		char *t = arena_strndup(a, s, cut);
		if (!check_truncation(t, true, why, sizeof(why)))
			return t;
		while (cut > 0 && s[cut - 1] != ' ')
			cut--;
	}
}
