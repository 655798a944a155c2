/*
 * dispatch.c - request set-up, edge checks, CORS, authentication, body
 * intake, access log.
 */
#include "dispatch.h"

#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cors.h"
#include "edge.h"
#include "json.h"
#include "log.h"
#include "metrics.h"

int dispatch_init(void)
{
	return router_compile(api_routes);
}

static int authenticate_or_fail(request *r)
{
	const char *token = req_bearer(r);
	char sub[37];
	int rc = token ? token_verify(&r->app->keys, r->arena, token, time(NULL), sub) : TOKEN_MALFORMED;
	if (rc == TOKEN_OK) {
		r->user_id = arena_strdup(r->arena, sub);
		return 0;
	}
	bool sent = req_param(r, "HTTP_AUTHORIZATION") != NULL;
	const char *detail = !token ? (sent ? "the Authorization header must be exactly \"Bearer <token>\""
					    : "a bearer token is required")
			     : rc == TOKEN_EXPIRED ? "the access token has expired"
						   : "the access token is invalid";
	req_add_header(r, "WWW-Authenticate: Bearer realm=\"adcraft\"%s",
		       token ? ", error=\"invalid_token\"" : sent ? ", error=\"invalid_request\"" : "");
	req_problem(r, 401, "%s", detail);
	return -EACCES;
}

/* Whether ct is type (a lower-case media type), optionally with a UTF-8 charset parameter. */
static bool media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);
	if (!ct || strncasecmp(ct, type, n) != 0)
		return false;
	const char *rest = ct + n;
	while (*rest == ' ')
		rest++;
	if (*rest == '\0')
		return true;
	if (*rest != ';')
		return false;
	for (rest++; *rest == ' '; rest++)
		;
	return strcasecmp(rest, "charset=utf-8") == 0 || strcasecmp(rest, "charset=\"utf-8\"") == 0;
}

/* How a route's body is taken: its media type, and whether it is parsed as JSON. */
struct body_kind {
	const char *media_type;
	bool json;
};

static const struct body_kind json_body = { "application/json", true };
static const struct body_kind csv_body = { "text/csv", false };
static const struct body_kind form_body = { NULL, false }; /* any media type: the handler ignores it */

static int read_body_or_fail(request *r, unsigned flags)
{
	const struct body_kind *kind = (flags & ROUTE_BODY_CSV)			   ? &csv_body
				       : (flags & (ROUTE_BODY_FORM | ROUTE_BODY_UPLOAD)) ? &form_body
											 : &json_body;
	long limit = (flags & ROUTE_BODY_CSV)	   ? ROUTE_CSV_LIMIT
		     : (flags & ROUTE_BODY_FORM)   ? ROUTE_FORM_LIMIT
		     : (flags & ROUTE_BODY_UPLOAD) ? r->app->cfg->asset_max_bytes + ROUTE_UPLOAD_OVERHEAD
						   : r->app->cfg->body_limit;
	long len;
	if (req_content_length_or_fail(r, &len) < 0)
		return -EINVAL;
	if (len <= 0) {
		if (flags & (ROUTE_BODY_OPTIONAL | ROUTE_BODY_FORM | ROUTE_BODY_UPLOAD))
			return 0;
		req_problem(r, 400, "a %s request body is required", kind->json ? "JSON" : kind->media_type);
		return -EINVAL;
	}
	if (kind->media_type && !media_type_is(req_param(r, "CONTENT_TYPE"), kind->media_type)) {
		req_problem(r, 415, "the request body must be %s", kind->media_type);
		return -EINVAL;
	}
	if (len > limit) {
		req_problem(r, 413, "the request body is larger than %ld bytes", limit);
		return -E2BIG;
	}
	char *data = arena_alloc(r->arena, (size_t)len + 1);
	int got = FCGX_GetStr(data, (int)len, r->fcgi->in);
	if (got != len) {
		req_problem(r, 400, "the request body is shorter than its Content-Length");
		return -EINVAL;
	}
	data[len] = '\0';
	r->body_text = data;
	r->body_len = (size_t)len;
	if (!kind->json)
		return 0;
	const char *reason;
	if (json_parse_strict(r->arena, data, (size_t)len, JSON_MAX_DEPTH, &r->body, &reason) < 0) {
		req_problem(r, 400, "malformed JSON: %s", reason);
		return -EINVAL;
	}
	if (!json_object_is_type(r->body, json_type_object)) {
		req_problem(r, 400, "the request body must be a JSON object");
		return -EINVAL;
	}
	return 0;
}

/* The end of every request: its line in the shared counters (metrics.h) and the access log. */
static void access_log(request *r)
{
	int64_t us = now_us() - r->started_us;
	metrics_request(r->route ? (int)(r->route - api_routes) : -1, r->status, us);
	buf b;
	buf_init(&b, r->arena, 512);
	log_begin(&b, r->status >= 500 ? LOG_ERROR : LOG_INFO);
	log_str(&b, "requestId", r->request_id);
	log_str(&b, "method", r->method);
	log_str(&b, "path", r->path);
	log_int(&b, "status", r->status);
	log_int(&b, "us", us);
	log_str(&b, "userId", r->user_id);
	log_end(&b);
}

/* router_match for r's path with another method (a preflight's requested one). */
static enum match_result match(request *r, const char *method, const struct route **ret, char *allow,
			       size_t allowlen)
{
	char *scratch = arena_alloc(r->arena, strlen(r->path) + 1);
	*ret = NULL;
	return router_match(method, r->path, scratch, r->params, REQ_MAX_PARAMS, ret, allow, allowlen);
}

static void route_and_run(request *r)
{
	const struct route *route;
	char allow[64];
	enum match_result m = match(r, r->method, &route, allow, sizeof(allow));
	if (r->tcp_listener && (m != MATCH_OK || !(route->flags & ROUTE_INTERNAL))) {
		req_problem(r, 403, "this listener serves nginx's internal subrequests only");
		return;
	}
	if (cors_is_preflight(r)) {
		const char *wanted = req_param(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
		if (match(r, wanted, &route, allow, sizeof(allow)) != MATCH_OK)
			route = NULL;
		cors_preflight(r, route);
		return;
	}
	switch (m) {
	case MATCH_NOT_FOUND:
		req_problem(r, 404, "no such resource");
		return;
	case MATCH_BAD_METHOD:
		req_add_header(r, "Allow: %s", allow);
		req_problem(r, 405, "%s is not allowed here; allowed: %s", r->method, allow);
		return;
	case MATCH_OK:
		break;
	}
	r->route = route;
	cors_route_matched(r, route);
	if ((route->flags & ROUTE_SLOW) && r->app->warn_slow_route) {
		r->app->warn_slow_route = false; /* once per child */
		log_msg(LOG_WARN, "%s %s may take long but came to the fast pool, whose kept connections can "
				  "wait behind it: send its location to upstream adcraft_api_slow (nginx/locations.conf)",
			r->method, route->pattern);
	}
	if (!(route->flags & ROUTE_PUBLIC) && authenticate_or_fail(r) < 0)
		return;
	unsigned takes_body = ROUTE_BODY | ROUTE_BODY_OPTIONAL | ROUTE_BODY_CSV | ROUTE_BODY_FORM | ROUTE_BODY_UPLOAD;
	if ((route->flags & takes_body) && read_body_or_fail(r, route->flags) < 0)
		return;
	route->handler(r);
	if (!r->status)
		req_problem(r, 500, "the handler sent no response (request %s)", r->request_id);
}

/*
 * Runs r with the arena's out-of-memory jump set. The setjmp lives here and
 * r in the caller's frame, so no object local to the function that called
 * setjmp changes between setjmp and a longjmp (C11 7.13.2.1).
 */
static void run_guarded(request *r)
{
	jmp_buf oom;
	arena_set_oom(r->arena, &oom);
	if (setjmp(oom) == 0) {
		route_and_run(r);
		arena_set_oom(r->arena, NULL);
	} else {
		arena_set_oom(r->arena, NULL); /* a second exhaustion aborts the process */
		if (!r->status)
			req_problem(r, 503, "the server is out of memory; retry later");
	}
}

struct pending_event *dispatch(struct app *app, FCGX_Request *fcgi, arena *a, bool tcp_listener)
{
	request r = {
		.arena = a,
		.fcgi = fcgi,
		.app = app,
		.started_us = now_us(),
		.tcp_listener = tcp_listener,
	};
	const char *uri = FCGX_GetParam("REQUEST_URI", fcgi->envp);
	r.method = FCGX_GetParam("REQUEST_METHOD", fcgi->envp);
	if (!r.method)
		r.method = "GET";
	if (!uri)
		uri = "/";
	const char *q = strchr(uri, '?');
	r.path = q ? arena_strndup(a, uri, (size_t)(q - uri)) : uri;
	r.query = q ? q + 1 : "";

	if (!edge_secret_ok(app->cfg, FCGX_GetParam(EDGE_SECRET_PARAM, fcgi->envp))) {
		r.request_id = edge_request_id(a, NULL); /* never the sender's */
		req_problem(&r, 403, "requests are accepted only through the API's nginx");
		access_log(&r);
		return NULL;
	}
	r.request_id = edge_request_id(a, FCGX_GetParam("REQUEST_ID", fcgi->envp));
	cors_begin(&r);
	db_ensure(app->db); /* a failure shows as 503 from the first statement */
	run_guarded(&r);
	access_log(&r);
	return r.status >= 200 && r.status < 400 ? r.later : NULL;
}

void dispatch_publish(struct app *app, struct pending_event *later, arena *a)
{
	for (struct pending_event *p = later; p; p = p->next)
		if (!p->run && events_publish(&app->events, app->db, a, &p->ev) < 0)
			log_msg(LOG_WARN, "event %s for user %s not published: %s", p->ev.type, p->ev.user_id,
				app->events.error);
}

void dispatch_after(struct app *app, struct pending_event *later, arena *a)
{
	for (struct pending_event *p = later; p; p = p->next)
		if (p->run)
			p->run(app, a, p->arg);
}
