/*
 * dispatch.h - turns one accepted FastCGI request into a handler call.
 *
 * Order of checks: route (404/405), bearer token (401), body rules (415, 413,
 * 400), then the handler; one access log line after the response.
 */
#pragma once

#include <fcgiapp.h>

#include "request.h"
#include "router.h"

extern const struct route api_routes[];

/* Compiles the route table; call once at start-up. */
int dispatch_init(void);

/* Serves fcgi with a (reset) arena; never fails: every problem becomes a response. */
void dispatch(struct app *app, FCGX_Request *fcgi, arena *a);
