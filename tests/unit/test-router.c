/* Unit tests for src/api/router.c */
#include "router.h"
#include "tap.h"

static void h(struct request *r)
{
	(void)r;
}
static void h2(struct request *r)
{
	(void)r;
}

static const struct route routes[] = {
	{ "GET", "/api/campaigns/stats", h2, 0 },
	{ "GET", "/api/campaigns/:id", h, ROUTE_UUID_PARAMS },
	{ "PATCH", "/api/campaigns/:id", h, ROUTE_UUID_PARAMS },
	{ "DELETE", "/api/campaigns/:id/content/:contentId", h, ROUTE_UUID_PARAMS },
	{ "GET", "/api/jobs/:queue/:jobId", h, 0 },
	{ NULL, NULL, NULL, 0 },
};

#define ID "7d444840-9dc0-11d1-b245-5ffdce74fad2"
#define ID2 "00000000-0000-4000-8000-000000000000"

int main(void)
{
	is_int(router_compile(routes), 0, "table compiles");
	const struct route *r = NULL;
	const char *params[4] = { 0 };
	char scratch[256], allow[64];

	is_int(router_match("GET", "/api/campaigns/stats", scratch, params, 4, &r, allow, sizeof(allow)), MATCH_OK,
	       "literal route");
	ok(r && r->handler == h2, "literal wins over parameter");
	is_int(router_match("GET", "/api/campaigns/" ID, scratch, params, 4, &r, allow, sizeof(allow)), MATCH_OK,
	       "parameter route");
	is_str(params[0], ID, "parameter captured");
	is_int(router_match("DELETE", "/api/campaigns/" ID "/content/" ID2, scratch, params, 4, &r, allow,
			    sizeof(allow)), MATCH_OK, "two parameters");
	is_str(params[1], ID2, "second parameter captured");
	is_int(router_match("PUT", "/api/campaigns/" ID, scratch, params, 4, &r, allow, sizeof(allow)),
	       MATCH_BAD_METHOD, "wrong method is 405");
	is_str(allow, "GET, PATCH", "Allow lists the methods of that path");
	is_int(router_match("GET", "/api/campaigns/not-a-uuid", scratch, params, 4, &r, allow, sizeof(allow)),
	       MATCH_NOT_FOUND, "a non-UUID id is 404");
	is_int(router_match("GET", "/api/jobs/content-generation/42", scratch, params, 4, &r, allow, sizeof(allow)),
	       MATCH_OK, "free-form parameters");
	is_int(router_match("GET", "/api/campaigns/", scratch, params, 4, &r, allow, sizeof(allow)),
	       MATCH_NOT_FOUND, "trailing slash is 404");
	is_int(router_match("GET", "/api//campaigns", scratch, params, 4, &r, allow, sizeof(allow)),
	       MATCH_NOT_FOUND, "empty segment is 404");
	is_int(router_match("GET", "/a/b/c/d/e/f/g/h/i/j", scratch, params, 4, &r, allow, sizeof(allow)),
	       MATCH_NOT_FOUND, "too many segments is 404");
	is_int(router_match("GET", "/", scratch, params, 4, &r, allow, sizeof(allow)), MATCH_NOT_FOUND, "root");

	static const struct route bad[] = { { "GET", "no-slash", h, 0 }, { NULL, NULL, NULL, 0 } };
	ok(router_compile(bad) < 0, "a pattern without a leading slash is refused");
	return tap_done();
}
