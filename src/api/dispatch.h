/*
 * dispatch.h - turns one accepted FastCGI request into a handler call.
 *
 * Order of checks: edge secret (403), listener (403), CORS preflight (204 or
 * 403), route (404/405), bearer token (401), body rules (415, 413, 400), then
 * the handler; one access log line after the response.
 */
#pragma once

#include <fcgiapp.h>
#include <stdbool.h>

#include "request.h"
#include "router.h"

extern const struct route api_routes[];

/* Compiles the route table; call once at start-up. */
int dispatch_init(void);

/*
 * Serves fcgi with a (reset) arena; never fails: every problem becomes a
 * response. A request without nginx's edge secret is 403 whatever it asks;
 * with tcp_listener (it came in on the loopback TCP listener) only
 * ROUTE_INTERNAL routes are served, every other request is 403. Returns the
 * events the handler queued (arena-owned), for dispatch_publish().
 */
struct pending_event *dispatch(struct app *app, FCGX_Request *fcgi, arena *a, bool tcp_listener);

/*
 * Publishes the events in what dispatch() returned (req_notify), before the
 * response is released with FCGX_Finish_r: the handler's statements have
 * committed, and a client that sends its requests one after another sees
 * their events in that order. A failure is logged and counted, never
 * retried further.
 */
void dispatch_publish(struct app *app, struct pending_event *later, arena *a);

/* Runs the steps the handler queued with req_after, once the response is out (after
 * FCGX_Finish_r) and before the arena is reset. */
void dispatch_after(struct app *app, struct pending_event *later, arena *a);
