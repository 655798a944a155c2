/* Unit tests for src/api/query.c: keyset cursors (the parsing that fuzz-cursor exercises). */
#include "buf.h"
#include "query.h"
#include "tap.h"

#define ID "7d444840-9dc0-11d1-b245-5ffdce74fad2"

/* cursor_write's output without its JSON quotes. */
static const char *write_cursor(arena *a, const char *ts, const char *id)
{
	buf b;
	buf_init(&b, a, 64);
	cursor_write(&b, ts, id);
	return arena_strndup(a, b.data + 1, b.len - 2);
}

int main(void)
{
	arena *a = arena_new(0);
	const char *ts = "unset", *id = "unset";

	static const char *const stamps[] = { "2026-11-24 03:13:48.889123+00", "2026-11-24T03:13:48.889Z",
					      "2026-11-24 03:13:48+00" };
	for (size_t i = 0; i < 3; i++) {
		const char *c = write_cursor(a, stamps[i], ID);
		is_int(cursor_read(a, c, &ts, &id), 0, "a cursor we wrote reads back (%s)", stamps[i]);
		is_str(ts, stamps[i], "its timestamp");
		is_str(id, ID, "its id");
	}

	ts = id = "unset";
	ok(cursor_read(a, "", &ts, &id) < 0, "empty cursor refused");
	ok(cursor_read(a, "abc+/=", &ts, &id) < 0, "base64 (not base64url) refused");
	ok(cursor_read(a, write_cursor(a, "2026-11-24 03:13:48+00", "not-a-uuid"), &ts, &id) < 0,
	   "a cursor without a UUID refused");
	ok(cursor_read(a, write_cursor(a, "2026-11-24 03:13:48+01", ID), &ts, &id) < 0, "a non-UTC timestamp refused");
	ok(cursor_read(a, write_cursor(a, "2026-11-24T03:13:48.889+00", ID), &ts, &id) < 0,
	   "T with +00 (a shape we never write) refused");
	ok(cursor_read(a, "MjAyNi0xMS0yNCAwMzoxMzo0OCswMA", &ts, &id) < 0, "a cursor without a comma refused");
	static const char *const impossible[] = { "2026-13-45 99:99:99+00", "2026-02-30 00:00:00+00",
						  "0000-00-00 00:00:00+00", "2025-02-29T10:00:00Z",
						  "2026-11-24 24:00:00+00", "2026-11-24T03:60:00Z", "2026-11-24 03:13:60+00" };
	for (size_t i = 0; i < sizeof(impossible) / sizeof(impossible[0]); i++)
		ok(cursor_read(a, write_cursor(a, impossible[i], ID), &ts, &id) < 0,
		   "a date or time that does not exist refused (%s)", impossible[i]);
	ok(cursor_read(a, write_cursor(a, "2028-02-29 23:59:59.999999+00", ID), &ts, &id) == 0,
	   "29 February of a leap year, the last second of the day");
	ts = id = "unset";
	char longc[200];
	memset(longc, 'A', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	ok(cursor_read(a, longc, &ts, &id) < 0, "an over-long cursor refused");
	is_str(ts, "unset", "failures leave ts untouched");
	is_str(id, "unset", "failures leave id untouched");

	arena_free(a);
	return tap_done();
}
