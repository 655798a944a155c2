/*
 * fuzz-csv.c - CSV uploads of POST /api/contacts/import, read by csv.c and
 * mapped to contacts by contact_csv.c as the import-contacts job does. The
 * first byte picks the limits (fields per record, bytes per record), so
 * small limits are hit often. Invariants: the reader always advances and
 * ends; line numbers never go back; a record's fields are NUL-terminated at
 * their length, valid UTF-8, within the limits; and every record, quoted
 * back (RFC 4180) and read again, gives the same fields.
 */
#include <string.h>

#include "buf.h"
#include "contact_csv.h"
#include "csv.h"
#include "fuzz.h"
#include "json.h"

/* rec written back as one RFC 4180 record, every field quoted. */
static void quote_back(buf *b, const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		buf_puts(b, i ? ",\"" : "\"");
		for (size_t k = 0; k < rec->lens[i]; k++) {
			if (rec->fields[i][k] == '"')
				buf_putc(b, '"');
			buf_putc(b, rec->fields[i][k]);
		}
		buf_putc(b, '"');
	}
	buf_puts(b, "\r\n");
}

static void check_roundtrip(arena *a, const struct csv_record *rec, size_t max_fields)
{
	buf b;
	buf_init(&b, a, rec->bytes * 2 + 16);
	quote_back(&b, rec);
	struct csv_reader c;
	struct csv_record again;
	csv_init(&c, a, b.data, b.len, b.len + 1, max_fields);
	if (csv_next(&c, &again) != 1 || again.nfields != rec->nfields || csv_next(&c, &again) != 0)
		abort();
	csv_init(&c, a, b.data, b.len, b.len + 1, max_fields);
	csv_next(&c, &again);
	for (size_t i = 0; i < rec->nfields; i++)
		if (again.lens[i] != rec->lens[i] || memcmp(again.fields[i], rec->fields[i], rec->lens[i]) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max_fields = 1 + data[0] % 8, max_bytes = 1 + (size_t)(data[0] >> 3) * 8;
	arena *a = fuzz_arena();
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct csv_reader c;
	struct csv_record rec;
	struct contact_csv_header header;
	bool have_header = false;
	csv_init(&c, a, text, len, max_bytes, max_fields);
	long last_line = 0;
	size_t records = 0;
	for (int rc; (rc = csv_next(&c, &rec)) != 0;) {
		if (++records > len + 1 || rec.line < last_line || rec.line < 1 || c.p > c.end)
			abort();
		last_line = rec.line;
		if (rc < 0) {
			if (!c.error)
				abort();
			continue;
		}
		if (rec.nfields == 0 || rec.nfields > max_fields)
			abort();
		size_t total = 0;
		for (size_t i = 0; i < rec.nfields; i++) {
			if (strlen(rec.fields[i]) != rec.lens[i] || !utf8_valid(rec.fields[i], rec.lens[i]))
				abort();
			total += rec.lens[i];
		}
		if (total > max_bytes)
			abort();
		check_roundtrip(a, &rec, max_fields);
		const char *why;
		struct contact_row row;
		if (!have_header)
			have_header = contact_csv_header(a, &rec, &header, &why) == 0;
		else if (contact_csv_row(a, &header, &rec, &row, &why) == 0 && (!row.email || !row.attributes))
			abort();
	}
	arena_reset(a);
	return 0;
}
