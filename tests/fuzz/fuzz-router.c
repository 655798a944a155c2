/*
 * fuzz-router.c - a request line as dispatch.c splits it: method and path
 * matched against the real route table (routes.c), then the query string
 * parsed as a list handler does (query.c), with every kind of parameter.
 *
 * Input: one byte choosing the method, then the request URI.
 */
#include "dispatch.h"
#include "fuzz.h"
#include "query.h"
#include "router.h"

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE" };
static const char *const statuses[] = { "draft", "active", "generating", "completed", NULL };

static const struct qparam params[] = {
	{ "status", V_ENUM, 0, 0, statuses },
	{ "personaId", V_UUID, 0, 0, NULL },
	{ "q", V_STRING, 1, 200, NULL },
	{ .name = NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool compiled;
	if (!compiled) {
		if (router_compile(api_routes) < 0)
			abort();
		compiled = true;
	}
	if (size < 1)
		return 0;
	arena *a = fuzz_arena();
	const char *method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	char *uri = fuzz_cstr(a, data + 1, size - 1);
	char *q = strchr(uri, '?');
	if (q)
		*q++ = '\0';
	request r = { .arena = a, .fcgi = fuzz_fcgi(), .method = method, .path = uri, .query = q ? q : "",
		      .request_id = "fuzz" };

	const struct route *route;
	char allow[64];
	char *scratch = arena_alloc(a, strlen(uri) + 1);
	enum match_result m = router_match(method, uri, scratch, r.params, REQ_MAX_PARAMS, &route, allow,
					   sizeof(allow));
	if (m == MATCH_OK && route->method && strcmp(route->method, method) != 0)
		abort(); /* the router must not hand out another method's route */
	struct list_params lp;
	if (query_parse_or_fail(&r, params, &lp) == 0 && !lp.limit)
		abort(); /* a successful parse always sets limit */
	arena_reset(a);
	return 0;
}
