/*
 * fuzz-cursor.c - keyset cursors as clients send them back (query.c).
 * A cursor that decodes must survive cursor_write() + cursor_read() unchanged.
 */
#include "buf.h"
#include "fuzz.h"
#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = fuzz_arena();
	const char *ts, *id;
	if (cursor_read(a, fuzz_cstr(a, data, size), &ts, &id) == 0) {
		buf b;
		buf_init(&b, a, 64);
		cursor_write(&b, ts, id);
		/* cursor_write quotes the cursor as a JSON string */
		char *again = arena_strndup(a, b.data + 1, b.len - 2);
		const char *ts2, *id2;
		if (cursor_read(a, again, &ts2, &id2) != 0 || strcmp(ts, ts2) != 0 || strcmp(id, id2) != 0)
			abort();
	}
	arena_reset(a);
	return 0;
}
