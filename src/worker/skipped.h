/*
 * skipped.h - the lines a CSV import job skipped, and why: every one is
 * counted, the first SKIPPED_LISTED (by line) are listed in the job's result
 * as "skipped":[{line, reason}],"skippedCount":n. Memory is the job's arena.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"

#define SKIPPED_LISTED 1000

struct skipped_line {
	long line;
	const char *reason;
};

struct skipped {
	arena *a;
	struct skipped_line *items;
	size_t n, cap;
};

void skipped_init(struct skipped *s, arena *a);

/* Records line with reason (kept, not copied); one reason per line: a repeat of the last line is ignored. */
void skipped_add(struct skipped *s, long line, const char *reason);

/* Whether the last line recorded is line. */
bool skipped_last_is(const struct skipped *s, long line);

/* Sorts by line and appends "skipped":[...],"skippedCount":n to b. */
void skipped_write(struct skipped *s, buf *b);
