/*
 * router.h - the API as one constant table of routes.
 *
 * Patterns are literal segments and ":name" parameters
 * ("/api/campaigns/:id/content/:contentId"). router_compile() splits the table
 * once at start-up; router_match() then compares segments without allocating.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct request;
typedef void (*route_handler)(struct request *r);

enum {
	ROUTE_PUBLIC = 1 << 0,	     /* no bearer token required */
	ROUTE_BODY = 1 << 1,	     /* a JSON body is required */
	ROUTE_BODY_OPTIONAL = 1 << 2, /* a JSON body may be sent */
	ROUTE_UUID_PARAMS = 1 << 3,  /* every :param must be a UUID, else 404 */
	ROUTE_INTERNAL = 1 << 4,     /* also served on the loopback TCP listener (nchan's
					authorize subrequests); every other route is 403 there */
	ROUTE_CREDENTIALS = 1 << 5,  /* uses a cookie: CORS responses allow credentials */
	ROUTE_BODY_CSV = 1 << 6,     /* a text/csv body of at most ROUTE_CSV_LIMIT bytes, kept raw
					(r->body_text, r->body_len); never parsed as JSON */
	ROUTE_BODY_FORM = 1 << 7,    /* an optional body of any media type (an RFC 8058 one-click
					POST's form) of at most ROUTE_FORM_LIMIT bytes, kept raw */
	ROUTE_BODY_UPLOAD = 1 << 8,  /* an image upload: a body of any media type of at most
					asset_max_bytes + ROUTE_UPLOAD_OVERHEAD, kept raw; an empty
					one is the handler's to refuse */
	ROUTE_SLOW = 1 << 9,	     /* may take long (argon2, a synchronous LLM call, an upload,
					an import): nginx sends its path to the slow pool, whose
					children keep no connection (server.c, locations.conf) */
};

/* The largest text/csv body a ROUTE_BODY_CSV route takes (nginx/locations.conf agrees). */
#define ROUTE_CSV_LIMIT (20L * 1024 * 1024)
/* The largest ROUTE_BODY_FORM body (nginx/locations.conf's /u/ agrees). */
#define ROUTE_FORM_LIMIT 4096L
/* Room for a form's boundaries and part headers around an image of asset_max_bytes
 * (nginx/media.conf's client_max_body_size agrees). */
#define ROUTE_UPLOAD_OVERHEAD (64L * 1024)

struct route {
	const char *method;
	const char *pattern;
	route_handler handler;
	unsigned flags;
};

#define ROUTER_MAX_SEGMENTS 8

enum match_result { MATCH_OK, MATCH_NOT_FOUND, MATCH_BAD_METHOD };

/* Prepares routes[] (ending with a {NULL} sentinel); 0, or -EINVAL for a bad pattern. */
int router_compile(const struct route *routes);

/*
 * Finds the route for method and path. On MATCH_OK sets *ret and fills
 * params[0..max) with pointers into a copy of path held in scratch (size at
 * least strlen(path)+1). On MATCH_BAD_METHOD writes the allowed methods,
 * comma separated, into allow[allowlen].
 */
enum match_result router_match(const char *method, const char *path, char *scratch, const char **params,
			       size_t max, const struct route **ret, char *allow, size_t allowlen);
