/* Unit tests for src/core/buf.c */
#include "buf.h"
#include "tap.h"

int main(void)
{
	arena *a = arena_new(0);
	buf b;
	buf_init(&b, a, 4);
	buf_puts(&b, "abc");
	buf_printf(&b, "%s-%d", "long enough to grow the buffer several times over", 7);
	is_str(buf_cstr(&b), "abclong enough to grow the buffer several times over-7", "grows on demand");

	buf_init(&b, a, 8);
	buf_json_str(&b, "q\"b\\n\n\t\x01é");
	is_str(buf_cstr(&b), "\"q\\\"b\\\\n\\n\\t\\u0001é\"", "JSON escaping per RFC 8259, UTF-8 passes through");
	buf_init(&b, a, 8);
	buf_json_str(&b, NULL);
	is_str(buf_cstr(&b), "null", "NULL is null");
	arena_free(a);
	return tap_done();
}
