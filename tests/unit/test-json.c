/* Unit tests for src/core/json.c: strict parsing. */
#include "json.h"
#include "tap.h"

static int parse(arena *a, const char *s, const char **reason)
{
	json_object *o;
	*reason = "";
	return json_parse_strict(a, s, strlen(s), JSON_MAX_DEPTH, &o, reason);
}

int main(void)
{
	arena *a = arena_new(0);
	const char *why;
	is_int(parse(a, "{\"a\":1,\"b\":[1,2,{\"c\":null}]}", &why), 0, "valid document");
	is_int(parse(a, " {\"a\":1} \n", &why), 0, "surrounding whitespace is fine");
	ok(parse(a, "{\"a\":1,\"a\":2}", &why) < 0, "duplicate key rejected (%s)", why);
	ok(parse(a, "{\"a\":1,\"\\u0061\":2}", &why) < 0, "duplicate key by escape rejected");
	ok(parse(a, "{\"x\":{\"a\":1,\"a\":1}}", &why) < 0, "nested duplicate rejected");
	ok(parse(a, "[{\"a\":1},{\"b\":{\"a\":1,\"b\":2,\"a\":3}}]", &why) < 0, "duplicate deep in an array");
	is_int(parse(a, "{\"a\":{\"a\":1},\"b\":{\"a\":1}}", &why), 0, "same key in different objects is fine");
	is_int(parse(a, "{\"a,b\":\"}{,\",\"c\":\"\\\"\"}", &why), 0, "commas and braces inside strings are data");
	ok(parse(a, "{\"a\":1} x", &why) < 0, "trailing garbage rejected (%s)", why);
	ok(parse(a, "{\"a\":1}{}", &why) < 0, "two documents rejected");
	ok(parse(a, "{\"a\":\"\xff\"}", &why) < 0, "invalid UTF-8 rejected");
	ok(parse(a, "{\"a\":\"\xc3\"}", &why) < 0, "truncated UTF-8 rejected");
	ok(parse(a, "{'a':1}", &why) < 0, "single quotes rejected");
	ok(parse(a, "{\"a\":1,}", &why) < 0, "trailing comma rejected");
	ok(parse(a, "{\"a\":01}", &why) < 0, "leading zero rejected");
	ok(parse(a, "", &why) < 0, "empty body rejected");
	ok(parse(a, "{\"a\":", &why) < 0, "truncated document rejected (%s)", why);

	char deep[100] = "", deeper[100] = "";
	for (int i = 0; i < 32; i++)
		strcat(deep, "[");
	for (int i = 0; i < 32; i++)
		strcat(deep, "]");
	for (int i = 0; i < 33; i++)
		strcat(deeper, "[");
	for (int i = 0; i < 33; i++)
		strcat(deeper, "]");
	is_int(parse(a, deep, &why), 0, "depth 32 accepted");
	ok(parse(a, deeper, &why) < 0, "depth 33 rejected (%s)", why);

	is_int(utf8_length("héllo", strlen("héllo")), 5, "utf8_length counts code points");
	arena_free(a);
	return tap_done();
}
