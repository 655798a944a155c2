/* Unit tests for src/core/validate.c */
#include "json.h"
#include "tap.h"
#include "validate.h"

static const char *const colours[] = { "red", "green", NULL };
static const struct vfield fields[] = {
	{ "email", V_EMAIL, V_REQUIRED, 0, 0, NULL },
	{ "name", V_STRING, V_REQUIRED, 1, 5, NULL },
	{ "count", V_INT, 0, 1, 10, NULL },
	{ "flag", V_BOOL, 0, 0, 0, NULL },
	{ "colour", V_ENUM, V_NULLABLE, 0, 0, colours },
	{ "id", V_UUID, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
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

	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"\"}");
	is_int(e.count, 1, "empty string under min");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":null}");
	is_int(e.count, 1, "null where not nullable");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"a\\u0000b\"}");
	is_int(e.count, 1, "embedded NUL rejected");
	e = check(a, "{\"email\":\"a@b.io\",\"name\":\"x\",\"count\":1.5}");
	is_int(e.count, 1, "a float is not an integer");

	ok(is_email("first.last+tag@example.co.uk"), "plausible email");
	ok(!is_email("a@b"), "domain needs a dot");
	ok(!is_email("a b@c.io"), "no spaces");
	ok(!is_email("a@@c.io"), "one @");
	ok(!is_email("@c.io"), "local part required");
	ok(is_uuid("7D444840-9DC0-11D1-B245-5FFDCE74FAD2"), "uppercase UUID");
	ok(!is_uuid("7d444840-9dc0-11d1-b245-5ffdce74fad"), "short UUID");
	ok(!is_uuid("7d444840x9dc0-11d1-b245-5ffdce74fad2"), "bad dash");
	arena_free(a);
	return tap_done();
}
