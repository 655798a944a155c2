/*
 * cors.h - Cross-Origin Resource Sharing for front-ends on other origins.
 *
 * Only the exact origins in cors_origins are answered (none by default). A
 * preflight (OPTIONS with Origin and Access-Control-Request-Method) to any
 * path is answered here: 204 with the allow-* headers for a listed origin,
 * 403 problem+json without CORS headers for any other. Every other response
 * to a listed origin carries Access-Control-Allow-Origin (that origin) and
 * exposes X-Request-Id, Retry-After and Location; credentials (cookies) are
 * allowed only on ROUTE_CREDENTIALS routes. nginx's own error pages read
 * the same list through the map ./dev (or the operator) writes from it.
 */
#pragma once

#include <stdbool.h>

#include "request.h"
#include "router.h"

/* Sets r->cors_origin when the request's Origin is listed, and queues the
 * headers every response to it carries. Call before anything answers r. */
void cors_begin(request *r);

/* True when r is a CORS preflight request. */
bool cors_is_preflight(request *r);

/* Answers the preflight r; route is the one the requested method and path
 * match, or NULL. */
void cors_preflight(request *r, const struct route *route);

/* Adds what depends on the matched route (credentials) to r's response. */
void cors_route_matched(request *r, const struct route *route);
