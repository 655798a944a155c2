/*
 * request.h - one FastCGI request: its arena, inputs, and the ways to answer.
 *
 * A request owns an arena that is reset once the response is sent; handlers
 * allocate from req->arena and never free. Exactly one response is sent per
 * request; the send functions record the status for the access log line.
 * Functions named *_or_fail answer the client themselves on failure and
 * return NULL or a negative code, so the handler just returns.
 */
#pragma once

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "token.h"
#include "validate.h"

#define REQ_MAX_PARAMS 4

struct extra_header;

struct app {
	const struct config *cfg;
	struct token_keys keys;
	db *db;
	const char *dummy_hash; /* argon2id hash verified for unknown emails: equal timing */
	int64_t started_at;	/* master start, seconds since the epoch */
	struct token_keys events_keys; /* the events cookie: same key, its own audience and lifetime */
	struct events events;	/* this process's nchan publisher */
	bool warn_slow_route;	/* a fast-pool child beside a slow pool: log the first ROUTE_SLOW
				   request that reaches it (nginx sent it to the wrong pool) */
};

/* An event a handler queued; published once the response is out (req_notify).
 * With run set, instead a step of the handler's own to take after the response
 * (req_after): run(app, arena, arg). */
struct pending_event {
	struct event ev;
	void (*run)(struct app *app, arena *a, void *arg);
	void *arg;
	struct pending_event *next;
};

typedef struct request {
	arena *arena;
	FCGX_Request *fcgi;
	struct app *app;

	const char *method;
	const char *path;	/* without the query string */
	const char *query;	/* "" when absent */
	const char *request_id;
	const char *params[REQ_MAX_PARAMS]; /* path parameters, in pattern order */

	const char *user_id;	/* authenticated subject, NULL for public routes */
	json_object *body;	/* parsed body for routes that take one */
	const char *body_text;	/* the same body as sent (valid, duplicate-free JSON), or a raw
				   ROUTE_BODY_CSV body (NUL-terminated, may hold NULs) */
	size_t body_len;	/* bytes in body_text */

	bool tcp_listener;	/* came in on the loopback TCP listener */
	const struct route *route; /* the route matched, NULL until (or unless) one is: metrics */
	const char *cors_origin; /* the request's Origin when cors_origins lists it, else NULL */

	struct extra_header *headers; /* queued by req_add_header */
	struct pending_event *later, **later_tail; /* queued by req_notify, in order */
	int status;		/* sent status, 0 until answered */
	int64_t started_us;
} request;

/* Reads an FCGI parameter (e.g. "HTTP_AUTHORIZATION"); NULL when absent. */
const char *req_param(request *r, const char *name);

/* The token of an Authorization header that is exactly "Bearer <token>"
 * (one space, printable token, nothing after it); NULL otherwise. */
const char *req_bearer(request *r);

/* CONTENT_LENGTH as nginx sends it (absent, empty or decimal digits) into
 * *ret; anything else answers 400 and returns -EINVAL. */
int req_content_length_or_fail(request *r, long *ret);

/* Sends a JSON body as it is. */
void req_send_json(request *r, int status, const char *json, size_t len);
void req_send_buf(request *r, int status, buf *body);
/* Sends body with a Content-Type of its own (an HTML page, an image). */
void req_send_typed(request *r, int status, const char *type, const char *body, size_t len);
/* 204 and friends. */
void req_send_empty(request *r, int status);
/* Adds a header line ("Name: value") to the next response sent. */
void req_add_header(request *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends application/problem+json with the standard title for status. */
void req_problem(request *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with members of its own after detail: members is JSON text such as ",\"quotaBytes\":5". */
void req_problem_extra(request *r, int status, const char *members, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* 422 with the list of field errors. */
void req_problem_fields(request *r, const struct verrors *errs);
/* The same with a detail of its own. */
void req_problem_fields_detail(request *r, const char *detail, const struct verrors *errs);
/* 401 for a valid token whose account was deleted (statements found no owner row). */
void req_account_gone(request *r);
/* Answers a failed db call: 503 when unreachable, 401 for a deleted owner, 409/422 for constraint
 * classes, 500 (logged) for anything else. Returns rc. */
int req_db_fail(request *r, int rc);

/* Runs a prepared statement; on failure answers via req_db_fail and returns NULL. */
PGresult *req_exec_or_fail(request *r, enum stmt id, const char *const *params);

/* What a statement's own error (an SQLSTATE its SQL raises) means to the client. */
struct sqlstate_problem {
	const char *sqlstate;
	int status;
	const char *field; /* NULL: a plain problem; else a validation error on this field */
	const char *message;
};

/*
 * Runs a prepared statement; on failure answers with the entry of table[0..n)
 * whose SQLSTATE the error carries, else via req_db_fail, and returns NULL.
 */
PGresult *req_exec_mapped(request *r, enum stmt id, const char *const *params, const struct sqlstate_problem *table,
			  size_t n);

/* Parses a JSON(B) column of a row; on failure (never expected) logs, answers 500, returns NULL. */
json_object *req_json_value_or_fail(request *r, PGresult *res, int row, int col);

/* Validates r->body against fields; on failure answers 422 and returns -EINVAL.
 * With partial (PATCH), required top-level fields may be absent. */
int req_validate_or_fail(request *r, const struct vfield *fields);
int req_validate_partial_or_fail(request *r, const struct vfield *fields);

/* The same in two steps, for handlers with cross-field rules: collect the
 * table's errors into errs, add their own, then req_errors_or_fail(). */
int req_validate_into(request *r, const struct vfield *fields, bool partial, struct verrors *errs);
int req_errors_or_fail(request *r, const struct verrors *errs);

/* The caller's users row (user_json); NULL having answered when the statement failed or the
 * account no longer exists (401, req_account_gone). */
PGresult *req_caller_or_fail(request *r);

/* Answers 404 "no such <what>" and returns NULL: for lookups that matched no row. */
void *req_not_found(request *r, const char *what);

/*
 * Queues a notification event for the caller's own channel (events.h) with
 * data (a JSON object's text naming what changed, e.g. {"kind":
 * "content.created", ...}). It is published once the handler is done (its
 * statements have committed) and before the response is released, so
 * sequential requests' events arrive in order; never fails the request.
 */
void req_notify(request *r, const char *campaign_id, const char *data);

/*
 * Queues run(app, arena, arg) for after the response has been sent (a 2xx or
 * 3xx one), in order with req_notify's events: work the client need not wait
 * for, such as recording a click. arg lives on r's arena; run must not answer
 * the client and reports its own failures (logs them).
 */
void req_after(request *r, void (*run)(struct app *app, arena *a, void *arg), void *arg);

int64_t now_us(void);
