/*
 * query.h - query-string parameters and keyset pagination.
 *
 * A list handler declares the parameters it accepts; anything else, a
 * repeated parameter or a bad value is a 400 that names it. Cursors are
 * opaque to clients: base64url of "<created_at>,<id>" of the last row sent.
 */
#pragma once

#include "request.h"

#define LIST_DEFAULT_LIMIT 20
#define LIST_MAX_LIMIT 100

struct qparam {
	const char *name;
	enum vtype type; /* V_STRING (max chars), V_ENUM (values), V_UUID, V_DATE, V_INT (min..max) */
	long min, max;
	const char *const *values;
};

struct list_params {
	const char *values[8]; /* decoded values in the order of the qparam table; NULL when absent */
	const char *limit;     /* decimal text, always set */
	const char *after_ts;  /* keyset position from the cursor, NULL on the first page */
	const char *after_id;
};

/*
 * Parses r->query against params (ended by {NULL}); limit and cursor are
 * always accepted. On failure answers 400 and returns -EINVAL.
 */
int query_parse_or_fail(request *r, const struct qparam *params, struct list_params *out);

/*
 * The same for a route that is not paginated: limit or cursor (decoded, so
 * %6cimit too) is 400 with not_paged as its detail; out->limit is unused.
 */
int query_params_or_fail(request *r, const struct qparam *params, struct list_params *out, const char *not_paged);

/* Percent-decodes s[0..n) into a; NULL on a bad escape, a NUL byte or invalid UTF-8. */
char *query_url_decode(arena *a, const char *s, size_t n);

/* Writes base64url(ts + "," + id) as a JSON string into b. */
void cursor_write(buf *b, const char *ts, const char *id);
/*
 * Decodes a cursor cursor_write() made. On success *ts and *id point into one
 * arena copy; on anything else (bad base64url, no comma, not a UTC timestamp
 * and a UUID) returns -EINVAL and leaves them untouched.
 */
int cursor_read(arena *a, const char *cursor, const char **ts, const char **id);

/*
 * Sends {"items":[...], "nextCursor": ...} from a result whose column 0 is an
 * item's JSON and columns 1 and 2 the keyset (created_at text, id). The query
 * asked for limit + 1 rows: the extra row only says there is a next page.
 */
void list_send(request *r, PGresult *res, long limit);

/*
 * Answers a page of one campaign's children (sends, A/B tests) filtered by
 * the one query parameter params[0] names: stmt takes (owner, campaign,
 * filter, after_ts, after_id, limit + 1). 400 on a bad query, 404 when the
 * campaign (r->params[0]) is not the caller's.
 */
void campaign_children_list(request *r, const struct qparam *params, enum stmt stmt);
