/*
 * text.c - fitting text into platform limits.
 */
#include "text.h"

#include <string.h>

#include "json.h"

/* Cuts s to at most max characters at a sentence end, else a word end (with "..."). */
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
	size_t cut = limit > 3 ? limit - 3 : 0;
	while (cut > 0 && s[cut] != ' ')
		cut--;
	while (cut > 0 && (s[cut - 1] == ',' || s[cut - 1] == ' ' || s[cut - 1] == ':'))
		cut--;
	return arena_printf(a, "%.*s...", (int)cut, s);
}

