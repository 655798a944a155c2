/* Unit tests for src/core/csv.c: the strict RFC 4180 reader of contact imports. */
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "tap.h"

/*
 * Reads all of s and renders it: "L:[f1|f2]" per record, "L:!reason" per
 * error, separated by spaces (L is the record's first line).
 */
static const char *render(arena *a, const char *s, size_t len, size_t max_bytes, size_t max_fields)
{
	struct csv_reader c;
	struct csv_record rec;
	buf b;
	buf_init(&b, a, 256);
	csv_init(&c, a, s, len, max_bytes, max_fields);
	for (int rc; (rc = csv_next(&c, &rec)) != 0;) {
		if (b.len)
			buf_putc(&b, ' ');
		if (rc < 0) {
			buf_printf(&b, "%ld:!%s", rec.line, c.error);
			continue;
		}
		buf_printf(&b, "%ld:[", rec.line);
		for (size_t i = 0; i < rec.nfields; i++) {
			if (i)
				buf_putc(&b, '|');
			ok(strlen(rec.fields[i]) == rec.lens[i], "field %zu of line %ld is NUL-terminated at its length", i,
			   rec.line);
			buf_puts(&b, rec.fields[i]);
		}
		buf_putc(&b, ']');
	}
	return buf_cstr(&b);
}

static const char *read_all(arena *a, const char *s)
{
	return render(a, s, strlen(s), 1000, 20);
}

int main(void)
{
	arena *a = arena_new(1 << 16);

	is_str(read_all(a, ""), "", "empty input: no records");
	is_str(read_all(a, "\xEF\xBB\xBF"), "", "a BOM alone: no records");
	is_str(read_all(a, "email,name\na@x.io,Ann\n"), "1:[email|name] 2:[a@x.io|Ann]", "LF");
	is_str(read_all(a, "email,name\r\na@x.io,Ann\r\n"), "1:[email|name] 2:[a@x.io|Ann]", "CRLF");
	is_str(read_all(a, "email,name\r\na@x.io,Ann"), "1:[email|name] 2:[a@x.io|Ann]", "no final newline");
	is_str(read_all(a, "\xEF\xBB\xBF" "email\na@x.io\n"), "1:[email] 2:[a@x.io]", "the BOM is skipped");
	is_str(read_all(a, "a,\"b,c\",d\n"), "1:[a|b,c|d]", "a quoted comma");
	is_str(read_all(a, "a,\"say \"\"hi\"\"\"\n"), "1:[a|say \"hi\"]", "doubled quotes");
	is_str(read_all(a, "a,\"two\nlines\"\nnext,x\n"), "1:[a|two\nlines] 3:[next|x]",
	       "a quoted LF: the next record starts on line 3");
	is_str(read_all(a, "a,\"two\r\nlines\"\r\nnext\r\n"), "1:[a|two\r\nlines] 3:[next]", "a quoted CRLF is kept");
	is_str(read_all(a, "a,,\n"), "1:[a||]", "empty fields");
	is_str(read_all(a, "\"\"\n"), "1:[]", "an empty quoted field");
	is_str(read_all(a, "a\n\nb\n"), "1:[a] 2:[] 3:[b]", "a blank line is one empty field");
	is_str(read_all(a, "a\r"), "1:[a]", "a final CR ends the record");
	is_str(read_all(a, "caf\xC3\xA9,\xE2\x82\xAC\n"), "1:[caf\xC3\xA9|\xE2\x82\xAC]", "UTF-8 text");

	is_str(read_all(a, "a,b\"c\nok\n"), "1:!a quote inside an unquoted field 2:[ok]",
	       "a quote in an unquoted field: that line only");
	is_str(read_all(a, "\"a\"b,c\nok\n"), "1:!characters after a closing quote 2:[ok]", "text after a closing quote");
	is_str(read_all(a, "a\rb\nok\n"), "1:!a CR not followed by LF 2:[ok]", "a bare CR");
	is_str(read_all(a, "ok\n\"open,\nnever closed\n"), "1:[ok] 2:!a quoted field is not closed",
	       "an unclosed quote runs to the end");
	is_str(read_all(a, "\xC3\x28,x\nok\n"), "1:!the record is not valid UTF-8 text (or holds a NUL byte) 2:[ok]",
	       "invalid UTF-8");
	is_str(render(a, "a,\0b\nok\n", 8, 1000, 20), "1:!the record is not valid UTF-8 text (or holds a NUL byte) 2:[ok]",
	       "a NUL byte");
	is_str(render(a, "0123456789,\"x\ny\"\nok\n", 19, 8, 20), "1:!the record is too long 3:[ok]",
	       "too long: skipped to the record's real end");
	is_str(render(a, "a,b,c,d\nok\n", 10, 100, 3), "1:!the record has too many fields 2:[ok]", "too many fields");
	is_str(render(a, "0123456789\n", 11, 10, 3), "1:[0123456789]", "exactly max_bytes is fine");

	struct csv_reader c;
	struct csv_record rec;
	csv_init(&c, a, "\n", 1, 10, 2);
	is_int(csv_next(&c, &rec), 1, "a blank line is a record");
	ok(csv_record_blank(&rec), "that is blank");
	csv_init(&c, a, "x,\n", 3, 10, 2);
	is_int(csv_next(&c, &rec), 1, "two fields");
	ok(!csv_record_blank(&rec), "that is not blank");

	arena_free(a);
	return tap_done();
}
