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
	ok(parse(a, "{']]]]][':1}", &why) < 0, "brackets in a single-quoted key rejected (%s)", why);
	is_str(why, "single-quoted strings are not JSON", "single quotes named as the reason");
	ok(parse(a, "{'}}}}}}}}':1,'[[[[':2}", &why) < 0, "closing braces in a single-quoted key rejected");
	ok(parse(a, "[\"a\",'b']", &why) < 0, "single-quoted array item rejected");
	ok(parse(a, "{\"a\":'[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['}", &why) < 0,
	   "brackets in a single-quoted value rejected");
	ok(parse(a, "{\"a\":NaN}", &why) < 0, "NaN rejected");
	ok(parse(a, "{\"a\":Infinity}", &why) < 0, "Infinity rejected");
	ok(parse(a, "{\"a\":-Infinity}", &why) < 0, "-Infinity rejected");
	ok(parse(a, "{\"a\":\"x\ty\"}", &why) < 0, "raw tab in a string rejected");
	ok(parse(a, "{\"a\":\"x\ny\"}", &why) < 0, "raw newline in a string rejected");
	ok(parse(a, "{\"a\":\"\xc0\xaf\"}", &why) < 0, "overlong UTF-8 rejected");
	static const char *const bad_numbers[] = { "{\"a\":1.}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1e}",
						   "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1.2.3}", "{\"a\":1e5e5}",
						   "{\"a\":-01}", "[1-2]", "{\"a\":0x10}", "{\"a\":1ee2}" };
	for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++)
		ok(parse(a, bad_numbers[i], &why) < 0, "%s rejected (%s)", bad_numbers[i], why ? why : "");
	static const char *const good_numbers[] = { "{\"a\":0}", "{\"a\":-0}", "{\"a\":1.5e+3}", "{\"a\":1E-2}",
						    "[10,-2.25e10, 3 ]", "{\"a\":12345678901234}" };
	for (size_t i = 0; i < sizeof(good_numbers) / sizeof(good_numbers[0]); i++)
		ok(parse(a, good_numbers[i], &why) == 0, "%s accepted", good_numbers[i]);
	{
		json_object *o = NULL;
		ok(json_parse_strict(a, "123", 3, JSON_MAX_DEPTH, &o, &why) == 0 && json_object_get_int(o) == 123,
		   "a bare number is a whole document (json-c waited for a byte to end it)");
		ok(json_parse_strict(a, "true", 4, JSON_MAX_DEPTH, &o, &why) == 0 && json_object_get_boolean(o),
		   "so is true");
		ok(json_parse_strict(a, "{\"a\":1", 6, JSON_MAX_DEPTH, &o, &why) < 0, "a document cut short is not");
		is_str(why, "unexpected end of document", "and says so");
	}
	ok(parse(a, "{\"a\":\"\\ud800\"}", &why) < 0, "a lone high surrogate escape rejected (%s)", why);
	is_str(why, "a UTF-16 surrogate escape without its pair", "named as the reason");
	ok(parse(a, "{\"a\":\"\\udfff\\ud800x\"}", &why) < 0, "a low surrogate first rejected");
	ok(parse(a, "{\"a\":\"\\ud83dx\"}", &why) < 0, "a high surrogate before a plain byte rejected");
	ok(parse(a, "{\"a\":\"\\ud83d\\u0041\"}", &why) < 0, "a high surrogate before another escape rejected");
	ok(parse(a, "{\"\\udc00\":1}", &why) < 0, "a lone surrogate in a key rejected");
	ok(parse(a, "{\"a\":\"\\ud83d", &why) < 0, "a surrogate cut off rejected");
	{
		json_object *o = NULL;
		const char *ok_pair = "{\"a\":\"\\ud83d\\ude00 \\u00e9\\\\u\"}";
		ok(json_parse_strict(a, ok_pair, strlen(ok_pair), JSON_MAX_DEPTH, &o, &why) == 0 &&
			   strcmp(json_object_get_string(json_object_object_get(o, "a")), "\xf0\x9f\x98\x80 \xc3\xa9\\u") == 0,
		   "a surrogate pair, a BMP escape and an escaped backslash before u parse as sent");
	}
	ok(parse(a, "{\"a\":\"\xed\xa0\x80\"}", &why) < 0, "UTF-8 surrogate rejected");
	ok(parse(a, "{\"a\":\"\xf4\x90\x80\x80\"}", &why) < 0, "code point above U+10FFFF rejected");
	is_int(parse(a, "{\"a\":1e5,\"b\":2E-3,\"c\":[true,false,null],\"d\":\"\\u00e9 \xc3\xa9\"}", &why), 0,
	       "exponents, literals and escapes are fine");
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
