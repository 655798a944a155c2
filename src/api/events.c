/*
 * events.c - who may listen: the events cookie, and nginx's authorization
 * subrequest for /events/ (docs/events.md).
 *
 * A browser cannot put an Authorization header on an EventSource, and a
 * token in a URL ends up in logs, so POST /api/events/session (Bearer)
 * answers with a short-lived HttpOnly cookie scoped to /events/: a JWT like
 * the access token but for another audience, so neither works as the other.
 *
 * nginx's auth_request asks GET /_adcraft/events/auth (the loopback TCP
 * listener only) before every subscription. It answers 204 with the channels
 * (X-Adcraft-Channels, for nchan_channel_id) and the resume point it has
 * checked (X-Adcraft-Last-Event-Id, the only one nchan reads), or refuses.
 * auth_request passes on only 401 and 403, so a refusal is 401 or 403 with
 * the status it means in X-Adcraft-Status (400, 403, 404, 409) and the
 * reason in X-Adcraft-Detail; nginx's error page turns those into the
 * problem+json the client sees.
 *
 * nchan 1.3.6 crashes a worker on some resume ids (a message id for a
 * channel without buffered messages, among others), so an id is accepted
 * only when: no If-Modified-Since / If-None-Match is sent (nchan reads those
 * itself), it parses strictly with one tag per channel (msgid.h), its time is
 * inside the buffer window, and every channel still holds a message that
 * lives 10 s more (asked of nchan's publisher location). Otherwise 409: the
 * client reconnects without an id and refetches over REST.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "handlers.h"
#include "msgid.h"
#include "query.h"

#define COOKIE_NAME "adcraft_events"
#define LIVE_MARGIN_SECONDS 10 /* a channel's newest message must outlive the check by this */
#define CLOCK_SKEW_SECONDS 2

/* ---- POST/DELETE /api/events/session ------------------------------------ */

static bool over_tls(request *r)
{
	const char *https = req_param(r, "HTTPS");
	return https && *https;
}

void events_session_create(request *r)
{
	if (!req_caller_or_fail(r))
		return;
	char *token;
	time_t now = time(NULL);
	if (token_issue(&r->app->events_keys, r->arena, r->user_id, now, &token) < 0) {
		req_problem(r, 500, "could not sign the events session");
		return;
	}
	long ttl = r->app->events_keys.ttl;
	req_add_header(r, "Set-Cookie: " COOKIE_NAME "=%s; Path=/events/; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
		       token, ttl, over_tls(r) ? "; Secure" : "");
	req_add_header(r, "Cache-Control: no-store");
	char body[160];
	int n = snprintf(body, sizeof(body), "{\"expiresIn\":%ld,\"userUrl\":\"/events/user\"}", ttl);
	req_send_json(r, 200, body, (size_t)n);
}

void events_session_delete(request *r)
{
	req_add_header(r, "Set-Cookie: " COOKIE_NAME "=; Path=/events/; Max-Age=0; HttpOnly; SameSite=Strict%s",
		       over_tls(r) ? "; Secure" : "");
	req_send_empty(r, 204);
}

/* ---- GET /_adcraft/events/auth (nginx auth_request) --------------------- */

/*
 * A refusal: auth_request passes on 401 (with WWW-Authenticate) and 403
 * only; nginx shows the real status and detail (constant text: it is
 * pasted into a JSON string by nginx).
 */
static void refuse(request *r, int status, const char *detail)
{
	req_add_header(r, "X-Adcraft-Status: %d", status);
	req_add_header(r, "X-Adcraft-Detail: %s", detail);
	if (status == 401)
		req_add_header(r, "WWW-Authenticate: Bearer realm=\"adcraft\"");
	req_problem(r, status == 401 ? 401 : 403, "%s", detail);
}

/* The value of cookie name in a Cookie header, or NULL. */
static const char *cookie_value(arena *a, const char *header, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return arena_strndup(a, p + nlen + 1, len - nlen - 1);
		p = end;
	}
	return NULL;
}

/* The subscriber: the bearer token, else the events cookie. 0, or refuses and returns -EACCES. */
static int identify(request *r, char sub[37])
{
	time_t now = time(NULL);
	if (req_param(r, "HTTP_AUTHORIZATION")) {
		const char *token = req_bearer(r);
		int rc = token ? token_verify(&r->app->keys, r->arena, token, now, sub) : TOKEN_MALFORMED;
		if (rc == TOKEN_OK)
			return 0;
		refuse(r, 401, rc == TOKEN_EXPIRED ? "the access token has expired" : "the access token is invalid");
		return -EACCES;
	}
	const char *cookie = cookie_value(r->arena, req_param(r, "HTTP_COOKIE"), COOKIE_NAME);
	if (!cookie || !*cookie) {
		refuse(r, 401, "credentials are required: an events session cookie (POST /api/events/session) "
			       "or Authorization: Bearer");
		return -EACCES;
	}
	int rc = token_verify(&r->app->events_keys, r->arena, cookie, now, sub);
	if (rc == TOKEN_OK)
		return 0;
	refuse(r, 401, rc == TOKEN_EXPIRED ? "the events session has expired: POST /api/events/session again"
					   : "the events session cookie is invalid");
	return -EACCES;
}

struct subscription {
	const char *channels[2];
	int nchannels;
	const char *campaign_id;
	const char *last_event_id; /* as sent (header or query), NULL when none */
};

/* Reads the subscriber's URI: /events/user[?campaign=ID] or /events/campaigns/ID, plus last_event_id. */
static int parse_uri(request *r, const char *user_id, struct subscription *s)
{
	const char *uri = req_param(r, "ADCRAFT_EVENTS_URI");
	if (!uri) {
		refuse(r, 400, "the events URI is missing (nginx configuration)");
		return -EINVAL;
	}
	const char *q = strchr(uri, '?');
	const char *path = q ? arena_strndup(r->arena, uri, (size_t)(q - uri)) : uri;
	bool user = strcmp(path, "/events/user") == 0;
	if (!user) {
		const char *prefix = "/events/campaigns/";
		if (strncmp(path, prefix, strlen(prefix)) != 0 || !is_uuid(path + strlen(prefix))) {
			refuse(r, 404, "no such event stream");
			return -ENOENT;
		}
		s->campaign_id = path + strlen(prefix);
	}
	for (const char *p = q ? q + 1 : ""; *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		char *name = query_url_decode(r->arena, p, eq ? (size_t)(eq - p) : len);
		char *value = eq ? query_url_decode(r->arena, eq + 1, len - (size_t)(eq - p) - 1) : NULL;
		p += len + (amp ? 1 : 0);
		if (len == 0)
			continue;
		if (!name || (eq && !value)) {
			refuse(r, 400, "the query string is not valid percent-encoding");
			return -EINVAL;
		}
		if (user && strcmp(name, "campaign") == 0 && value && is_uuid(value) && !s->campaign_id)
			s->campaign_id = value;
		else if (strcmp(name, "last_event_id") == 0 && value && !s->last_event_id)
			s->last_event_id = value;
		else {
			refuse(r, 400, "unknown, repeated or malformed query parameter (allowed: campaign on "
				       "/events/user, last_event_id)");
			return -EINVAL;
		}
	}
	if (user)
		s->channels[s->nchannels++] = arena_printf(r->arena, "user.%s", user_id);
	if (s->campaign_id)
		s->channels[s->nchannels++] = arena_printf(r->arena, "campaign.%s", s->campaign_id);
	const char *header = req_param(r, "HTTP_LAST_EVENT_ID");
	if (header && *header)
		s->last_event_id = header;
	else if (s->last_event_id && !*s->last_event_id)
		s->last_event_id = NULL;
	return 0;
}

/* The resume point in canonical form, checked as the file comment says; NULL with a refusal sent. */
static const char *checked_resume(request *r, const struct subscription *s, char out[MSGID_MAX_LEN + 16])
{
	struct msgid id;
	if (msgid_parse(s->last_event_id, strlen(s->last_event_id), s->nchannels, &id) < 0) {
		refuse(r, 409, "the last event id is not one this stream issued: reconnect without it and "
			       "refetch over REST");
		return NULL;
	}
	time_t now = time(NULL);
	if (id.time < now - (EVENTS_BUFFER_SECONDS - LIVE_MARGIN_SECONDS) || id.time > now + CLOCK_SKEW_SECONDS) {
		refuse(r, 409, "the last event id is older than the event buffer: reconnect without it and "
			       "refetch over REST");
		return NULL;
	}
	for (int i = 0; i < s->nchannels; i++) {
		struct channel_info info;
		int rc = publisher_info(r->app->events.pub, r->arena, s->channels[i], &info);
		if (rc < 0 || info.messages < 1 ||
		    info.last_time + EVENTS_BUFFER_SECONDS - now < LIVE_MARGIN_SECONDS) {
			refuse(r, 409, "the events to resume from are no longer buffered: reconnect without a last "
				       "event id and refetch over REST");
			return NULL;
		}
	}
	return msgid_format(&id, out, MSGID_MAX_LEN + 16) > 0 ? out : NULL;
}

void events_authorize(request *r)
{
	char sub[37];
	if (identify(r, sub) < 0)
		return;
	r->user_id = arena_strdup(r->arena, sub);
	struct subscription s = { .nchannels = 0 };
	if (parse_uri(r, r->user_id, &s) < 0)
		return;
	const char *p[] = { s.campaign_id, r->user_id };
	PGresult *res = req_exec_or_fail(r, STMT_EVENT_CAMPAIGN_OWNED, p);
	if (!res)
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		refuse(r, 401, "the account no longer exists");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		refuse(r, 403, "this campaign's events are its owner's only");
		return;
	}
	if (req_param(r, "HTTP_IF_MODIFIED_SINCE") || req_param(r, "HTTP_IF_NONE_MATCH")) {
		refuse(r, 409, "resume with Last-Event-ID or last_event_id, not If-Modified-Since or If-None-Match");
		return;
	}
	char resume[MSGID_MAX_LEN + 16];
	if (s.last_event_id) {
		if (!checked_resume(r, &s, resume))
			return;
		req_add_header(r, "X-Adcraft-Last-Event-Id: %s", resume);
	}
	req_add_header(r, "X-Adcraft-Channels: %s%s%s", s.channels[0], s.nchannels > 1 ? "," : "",
		       s.nchannels > 1 ? s.channels[1] : "");
	req_add_header(r, "X-Adcraft-User: %s", r->user_id);
	req_send_empty(r, 204);
}
