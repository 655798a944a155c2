/*
 * cors.c - CORS headers and preflight answers (see cors.h).
 */
#include "cors.h"

#include <string.h>

#define CORS_MAX_AGE_SECONDS 600

static const char allow_methods[] = "GET, POST, PUT, PATCH, DELETE";
static const char allow_headers[] = "Authorization, Content-Type, Idempotency-Key";
static const char expose_headers[] = "X-Request-Id, Retry-After, Location";

static const char *listed_origin(const struct config *cfg, const char *origin)
{
	if (!origin || !cfg->cors_origin_list)
		return NULL;
	for (const char *const *o = cfg->cors_origin_list; *o; o++)
		if (strcmp(*o, origin) == 0)
			return *o;
	return NULL;
}

void cors_begin(request *r)
{
	const struct config *cfg = r->app->cfg;
	if (!cfg->cors_origin_list || !cfg->cors_origin_list[0])
		return;
	/* The answer depends on Origin whenever CORS is on, listed or not. */
	req_add_header(r, "Vary: Origin");
	r->cors_origin = listed_origin(cfg, req_param(r, "HTTP_ORIGIN"));
	if (r->cors_origin && !cors_is_preflight(r)) {
		req_add_header(r, "Access-Control-Allow-Origin: %s", r->cors_origin);
		req_add_header(r, "Access-Control-Expose-Headers: %s", expose_headers);
	}
}

bool cors_is_preflight(request *r)
{
	return strcmp(r->method, "OPTIONS") == 0 && req_param(r, "HTTP_ORIGIN") &&
	       req_param(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
}

void cors_preflight(request *r, const struct route *route)
{
	if (!r->cors_origin) {
		req_problem(r, 403, "cross-origin requests from this origin are not allowed");
		return;
	}
	req_add_header(r, "Access-Control-Allow-Origin: %s", r->cors_origin);
	req_add_header(r, "Access-Control-Allow-Methods: %s", allow_methods);
	req_add_header(r, "Access-Control-Allow-Headers: %s", allow_headers);
	req_add_header(r, "Access-Control-Max-Age: %d", CORS_MAX_AGE_SECONDS);
	cors_route_matched(r, route);
	req_send_empty(r, 204);
}

void cors_route_matched(request *r, const struct route *route)
{
	if (r->cors_origin && route && (route->flags & ROUTE_CREDENTIALS))
		req_add_header(r, "Access-Control-Allow-Credentials: true");
}
