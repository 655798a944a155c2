/* Unit tests for src/core/validate.c */
#include <string.h>

#include "json.h"
#include "buf.h"
#include "tap.h"
#include "validate.h"

static const char *const colours[] = { "red", "green", NULL };
static const struct vfield inner[] = {
	VINT("level", V_REQUIRED, 1, 10),
	VENUMS("tags", V_UNIQUE, 0, 2, colours),
	VEND,
};

static const struct vfield fields[] = {
	VEMAIL("email", V_REQUIRED),
	VSTR("name", V_REQUIRED, 1, 5),
	VINT("count", 0, 1, 10),
	VBOOL("flag", 0),
	VENUM("colour", V_NULLABLE, colours),
	VUUID("id", 0),
	VDATE("day", 0),
	VDECIMAL("budget", 0),
	VURL("url", 0, 40),
	VSTRS("words", V_UNIQUE, 0, 3, 4),
	VOBJ("settings", 0, inner),
	VOBJS("list", 0, 0, 2, inner),
	VTIMESTAMP("at", V_NULLABLE),
	VATTRS("attrs", 0, 3, 5),
	VNUMBER("share", 0, 0.05, 0.5),
	VEND,
};

static struct verrors check(arena *a, const char *doc)
{
	json_object *o;
	const char *why;
	struct verrors e;
	verrors_init(&e, a);
	if (json_parse_strict(a, doc, strlen(doc), 32, &o, &why) < 0)
		verrors_add(&e, "", "parse: %s", why);
	else
		validate_body(o, fields, &e);
	return e;
}

int main(void)
{
	arena *a = arena_new(0);
	struct verrors e = check(a, "{\"email\":\"a@b.io\",\"name\":\"héllo\",\"count\":3,\"flag\":true,"
				    "\"colour\":null,\"id\":\"7d444840-9dc0-11d1-b245-5ffdce74fad2\"}");
	is_int(e.count, 0, "a valid body has no errors");

	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"isAdmin\":true}");
	is_int(e.count, 1, "unknown field is an error");
	is_str(e.head->field, "isAdmin", "and it is named");

	e = check(a, "{}");
	is_int(e.count, 2, "every missing required field is listed");

	e = check(a, "{\"email\":\"nope\",\"name\":\"toolong\",\"count\":11,\"flag\":1,\"colour\":\"blue\",\"id\":\"x\"}");
	is_int(e.count, 6, "every bad field is listed, not just the first");

	{
		const char *doc = "{\"email\":\"a@b.io\",\"name\":\"x\",\"id\":\"6B1D7C52-AB00-4000-8000-00000000000F\"}";
		json_object *o;
		const char *why;
		struct verrors u;
		verrors_init(&u, a);
		ok(json_parse_strict(a, doc, strlen(doc), 32, &o, &why) == 0, "a body with an upper-case UUID parses");
		validate_body(o, fields, &u);
		is_int(u.count, 0, "an upper-case UUID is a UUID");
		is_str(json_object_get_string(json_object_object_get(o, "id")), "6b1d7c52-ab00-4000-8000-00000000000f",
		       "and the body holds it in lower case, as ids are stored");
	}
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"\"}");
	is_int(e.count, 1, "empty string under min");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":null}");
	is_int(e.count, 1, "null where not nullable");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"a\\u0000b\"}");
	is_int(e.count, 1, "embedded NUL rejected");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"count\":1.5}");
	is_int(e.count, 1, "a float is not an integer");

	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"day\":\"2024-02-29\",\"budget\":12.5,"
		     "\"url\":\"https://x.io/a\",\"words\":[\"ab\",\"cd\"],\"settings\":{\"level\":2,\"tags\":[\"red\"]},"
		     "\"list\":[{\"level\":1}]}");
	is_int(e.count, 0, "dates, decimals, URLs, arrays and nested objects validate");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"day\":\"2023-02-29\",\"budget\":12.345,"
		     "\"url\":\"javascript:alert(1)\",\"words\":[\"ab\",\"ab\",\"toolong\"],"
		     "\"settings\":{\"tags\":[\"blue\"],\"x\":1},\"list\":[{\"level\":0},3]}");
	is_int(e.count, 10, "each nested problem is its own error");
	int found = 0;
	for (struct verror *v = e.head; v; v = v->next)
		found += strcmp(v->field, "settings.level") == 0 || strcmp(v->field, "settings.x") == 0 ||
			 strcmp(v->field, "settings.tags[0]") == 0 || strcmp(v->field, "list[0].level") == 0 ||
			 strcmp(v->field, "list[1]") == 0 || strcmp(v->field, "words[1]") == 0;
	is_int(found, 6, "nested errors carry their path");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"budget\":-1}");
	is_int(e.count, 1, "negative budget");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"budget\":1e3}");
	is_int(e.count, 1, "exponent budget");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"budget\":1234567890123}");
	is_int(e.count, 1, "13 integer digits");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"share\":0.05}");
	is_int(e.count, 0, "a number at its lower bound");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"share\":0.5}");
	is_int(e.count, 0, "a number at its upper bound");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"share\":0}");
	is_str(e.head ? e.head->message : "", "must be between 0.05 and 0.5", "an integer under the range");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"share\":0.5000001}");
	is_int(e.count, 1, "a number just over the range");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"share\":\"0.1\"}");
	is_str(e.head ? e.head->message : "", "must be a number", "a string is not a number");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"share\":null}");
	is_int(e.count, 1, "null where a number is not nullable");
	ok(is_decimal("0") && is_decimal("10.5") && is_decimal("999999999999.99"), "decimals");
	ok(!is_decimal(".5") && !is_decimal("5.") && !is_decimal("1.234") && !is_decimal("-1"), "not decimals");
	ok(is_date("2000-02-29") && !is_date("1900-02-29") && !is_date("2024-13-01") && !is_date("2024-1-01"),
	   "calendar dates");

	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"words\":[null,\"ab\"]}");
	is_int(e.count, 1, "null in a unique string list is one error, not a crash");
	is_str(e.head->field, "words[0]", "it names the null item");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"words\":[\"ab\",7,\"ab\"],"
		     "\"settings\":{\"level\":1,\"tags\":[null,\"red\"]}}");
	is_int(e.count, 3, "non-strings among unique items are errors; repeats still found");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"settings\":{\"level\":1,\"tags\":[null,\"red\"]}}");
	is_str(e.head ? e.head->message : "", "must be a string, not null", "null in an enum list says so");

	/* 200 unknown fields: counted in full, only VERRORS_LISTED kept. */
	{
		buf b;
		buf_init(&b, a, 4096);
		buf_puts(&b, "{\"email\":\"a@b.io\",\"name\":\"x\"");
		for (int i = 0; i < 200; i++)
			buf_printf(&b, ",\"k%d\":1", i);
		buf_puts(&b, "}");
		e = check(a, buf_cstr(&b));
		is_int(e.count, 200, "every error is counted");
		int kept = 0;
		for (struct verror *v = e.head; v; v = v->next)
			kept++;
		is_int(kept, VERRORS_LISTED, "only the first %d are kept", VERRORS_LISTED);
	}

	ok(is_currency("USD") && is_currency("AED") && is_currency("ZWL"), "first, middle and last currency");
	ok(!is_currency("ZZZ") && !is_currency("WL") && !is_currency("usd") && !is_currency("ZWLX"),
	   "unlisted codes are refused without reading past the table");

	ok(is_email("first.last+tag@example.co.uk"), "plausible email");
	ok(!is_email("a@b"), "domain needs a dot");
	ok(!is_email("a b@c.io"), "no spaces");
	ok(!is_email("a@@c.io"), "one @");
	ok(!is_email("@c.io"), "local part required");
	ok(is_rfc3339("2026-12-03T12:00:00Z") && is_rfc3339("2026-12-03t12:00:00.123456z") &&
	   is_rfc3339("2024-02-29T23:59:60+05:30") && is_rfc3339("2026-12-03T00:00:00-00:00"),
	   "RFC 3339 date-times with a zone");
	ok(!is_rfc3339("2026-12-03T12:00:00") && !is_rfc3339("2026-12-03 12:00:00Z") &&
	   !is_rfc3339("2026-02-30T12:00:00Z") && !is_rfc3339("2026-12-03T24:00:00Z") &&
	   !is_rfc3339("2026-12-03T12: 0:00Z") && !is_rfc3339("2026-12-03T12:00:00.Z") &&
	   !is_rfc3339("2026-12-03T12:00:00+5:30") && !is_rfc3339("2026-12-03T12:00:00+05:30x") &&
	   !is_rfc3339("2026-12-03T12:00:00.1234567890Z") && !is_rfc3339("+2026-12-03T12:00:00Z"),
	   "no zone, a space, a bad day or hour, stray spaces, empty or long fractions, bad offsets");

	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"at\":\"2026-12-03T12:00:00Z\","
		     "\"attrs\":{\"plan\":\"pro\",\"seats\":3,\"vip\":true}}");
	is_int(e.count, 0, "a timestamp and scalar attributes are fine");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"at\":\"yesterday\"}");
	ok(e.count == 1 && strcmp(e.head->field, "at") == 0, "a bad timestamp is named");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"attrs\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4}}");
	ok(e.count == 1 && strcmp(e.head->field, "attrs") == 0, "too many attributes");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"attrs\":{\"n\":{\"x\":1},\"l\":[1],"
		     "\"z\":null}}");
	is_int(e.count, 3, "objects, arrays and null are not attribute values");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"attrs\":{\"long\":\"abcdef\"}}");
	ok(e.count == 1 && strcmp(e.head->field, "attrs.long") == 0, "an over-long value is named");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"attrs\":{\"\":\"v\"}}");
	is_int(e.count, 1, "an empty attribute name");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"attrs\":[]}");
	ok(e.count == 1 && strcmp(e.head->field, "attrs") == 0, "attributes must be an object");

	ok(is_uuid("7D444840-9DC0-11D1-B245-5FFDCE74FAD2"), "uppercase UUID");
	ok(!is_uuid("7d444840-9dc0-11d1-b245-5ffdce74fad"), "short UUID");
	ok(!is_uuid("7d444840x9dc0-11d1-b245-5ffdce74fad2"), "bad dash");
	arena_free(a);
	return tap_done();
}
