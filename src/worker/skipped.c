/*
 * skipped.c - the lines a CSV import job skipped (skipped.h).
 */
#include "skipped.h"

#include <stdlib.h>
#include <string.h>

void skipped_init(struct skipped *s, arena *a)
{
	*s = (struct skipped){ .a = a };
}

bool skipped_last_is(const struct skipped *s, long line)
{
	return s->n && s->items[s->n - 1].line == line;
}

void skipped_add(struct skipped *s, long line, const char *reason)
{
	if (skipped_last_is(s, line))
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct skipped_line *grown = arena_alloc(s->a, cap * sizeof(*grown));
		if (s->n)
			memcpy(grown, s->items, s->n * sizeof(*grown));
		s->items = grown;
		s->cap = cap;
	}
	s->items[s->n++] = (struct skipped_line){ line, reason };
}

static int by_line(const void *a, const void *b)
{
	long x = ((const struct skipped_line *)a)->line, y = ((const struct skipped_line *)b)->line;
	return (x > y) - (x < y);
}

void skipped_write(struct skipped *s, buf *b)
{
	if (s->n > 1)
		qsort(s->items, s->n, sizeof(*s->items), by_line);
	buf_puts(b, "\"skipped\":[");
	for (size_t i = 0; i < s->n && i < SKIPPED_LISTED; i++) {
		buf_printf(b, "%s{\"line\":%ld,\"reason\":", i ? "," : "", s->items[i].line);
		buf_json_str(b, s->items[i].reason);
		buf_putc(b, '}');
	}
	buf_printf(b, "],\"skippedCount\":%zu", s->n);
}
