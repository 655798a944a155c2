/*
 * csv.h - a strict RFC 4180 reader over a buffer in memory.
 *
 * Records are separated by CRLF or LF; fields by commas; a field may be
 * quoted ("..."), and then holds commas, CR, LF and doubled quotes ("").
 * A UTF-8 byte order mark at the very start is skipped. Anything else is an
 * error of that record only: a quote inside an unquoted field, characters
 * after a closing quote, a record over the size or field limits, invalid
 * UTF-8 or a NUL byte. The reader then skips to the end of the physical line
 * (or of the record, for limits) and goes on, so one bad line never hides
 * the next. The module knows nothing about what the columns mean.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

struct csv_record {
	long line;		/* physical line (1-based) where the record starts */
	size_t nfields;
	const char **fields;	/* NUL-terminated, unquoted; valid until the next csv_next() */
	size_t *lens;
	size_t bytes;		/* bytes of input the record took, terminator excluded */
};

struct csv_reader {
	const char *p, *end;
	long line;		/* physical line of p */
	size_t max_bytes, max_fields;
	char *scratch;		/* max_bytes + max_fields bytes: the unquoted fields */
	const char **fields;
	size_t *lens;
	const char *error;	/* why the last csv_next() returned -EBADMSG (a static string) */
};

/*
 * Prepares a reader over data[0..len) (not copied: it must outlive the reader).
 * Records longer than max_bytes or with more than max_fields fields are errors.
 * Scratch space is allocated from a, once.
 */
void csv_init(struct csv_reader *c, arena *a, const char *data, size_t len, size_t max_bytes, size_t max_fields);

/*
 * Reads the next record into *rec. Returns 1 for a record, 0 at the end of
 * the input, or -EBADMSG for a malformed record (rec->line says where it
 * started, c->error why; the reader has moved past it).
 */
int csv_next(struct csv_reader *c, struct csv_record *rec);

/* Whether a record is one empty field: a blank line. */
bool csv_record_blank(const struct csv_record *rec);
