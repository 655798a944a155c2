/*
 * csv.c - a strict RFC 4180 reader (csv.h).
 *
 * One pass over the input per record: fields are unquoted into the reader's
 * scratch space (never longer than the input they came from), so reading a
 * 20 MiB file allocates nothing per record. After a limit or encoding error
 * the rest of the record is still parsed (in "discard" mode) so the reader
 * resynchronises on the record's real end; after a syntax error it skips to
 * the end of the physical line, the only boundary left that it can trust.
 */
#include "csv.h"

#include <errno.h>

#include "json.h"

void csv_init(struct csv_reader *c, arena *a, const char *data, size_t len, size_t max_bytes, size_t max_fields)
{
	*c = (struct csv_reader){
		.p = data,
		.end = data + len,
		.line = 1,
		.max_bytes = max_bytes,
		.max_fields = max_fields,
		.scratch = arena_alloc(a, max_bytes + max_fields + 1),
		.fields = arena_alloc(a, max_fields * sizeof(const char *)),
		.lens = arena_alloc(a, max_fields * sizeof(size_t)),
	};
	if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
	    (unsigned char)data[2] == 0xBF)
		c->p += 3;
}

/* A record ends at LF, CRLF, or a CR that is the last byte of the input. */
static bool at_eol(const struct csv_reader *c, const char *p)
{
	return *p == '\n' || (*p == '\r' && (p + 1 == c->end || p[1] == '\n'));
}

/* Moves past the end of the physical line p is on. */
static void skip_line(struct csv_reader *c, const char *p)
{
	while (p < c->end && *p != '\n')
		p++;
	if (p < c->end) {
		p++;
		c->line++;
	}
	c->p = p;
}

struct field_state {
	struct csv_reader *c;
	const char *start;	/* the record's first byte */
	char *out;		/* next free scratch byte */
	const char *error;	/* first limit or encoding error: the record is being discarded */
};

/* Appends one byte of a field; past max_bytes of input the record turns into a discard. */
static void put(struct field_state *s, const char *p)
{
	if (!s->error && (size_t)(p - s->start) >= s->c->max_bytes)
		s->error = "the record is too long";
	if (!s->error)
		*s->out++ = *p;
}

/* Ends the field that began at field in scratch; stores it unless discarding. */
static void end_field(struct field_state *s, char *field, size_t *n)
{
	struct csv_reader *c = s->c;
	if (s->error)
		return;
	if (*n == c->max_fields) {
		s->error = "the record has too many fields";
		return;
	}
	size_t len = (size_t)(s->out - field);
	*s->out++ = '\0';
	if (!utf8_valid(field, len)) {
		s->error = "the record is not valid UTF-8 text (or holds a NUL byte)";
		return;
	}
	c->fields[*n] = field;
	c->lens[*n] = len;
	(*n)++;
}

int csv_next(struct csv_reader *c, struct csv_record *rec)
{
	if (c->p >= c->end)
		return 0;
	struct field_state s = { .c = c, .start = c->p, .out = c->scratch };
	const char *p = c->p;
	size_t n = 0;
	*rec = (struct csv_record){ .line = c->line, .fields = c->fields, .lens = c->lens };
	for (;;) {
		char *field = s.out;
		if (p < c->end && *p == '"') {
			for (p++;; p++) {
				if (p == c->end) {
					c->error = "a quoted field is not closed";
					c->p = p;
					return -EBADMSG;
				}
				if (*p == '"') {
					if (p + 1 < c->end && p[1] == '"') {
						put(&s, p++);
						continue;
					}
					p++;
					break;
				}
				if (*p == '\n')
					c->line++;
				put(&s, p);
			}
			if (p < c->end && *p != ',' && !at_eol(c, p)) {
				c->error = "characters after a closing quote";
				skip_line(c, p);
				return -EBADMSG;
			}
		} else {
			for (; p < c->end && *p != ',' && !at_eol(c, p); p++) {
				if (*p == '"' || *p == '\r') {
					c->error = *p == '"' ? "a quote inside an unquoted field" : "a CR not followed by LF";
					skip_line(c, p);
					return -EBADMSG;
				}
				put(&s, p);
			}
		}
		end_field(&s, field, &n);
		if (p < c->end && *p == ',') {
			p++;
			continue;
		}
		break;
	}
	rec->bytes = (size_t)(p - s.start);
	if (p < c->end) { /* at_eol */
		p += *p == '\r' ? 2 : 1;
		if (p > c->end)
			p = c->end;
		c->line++;
	}
	c->p = p;
	if (s.error) {
		c->error = s.error;
		return -EBADMSG;
	}
	rec->nfields = n;
	return 1;
}

bool csv_record_blank(const struct csv_record *rec)
{
	return rec->nfields == 1 && rec->lens[0] == 0;
}
