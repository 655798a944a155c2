/*
 * query.c - query-string decoding, list parameters, cursors.
 */
#include "query.h"

#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Percent-decodes s[0..n) into the arena; NULL on a bad escape or a NUL byte. */
char *query_url_decode(arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			int h = hex_value(s[i + 1]), l = hex_value(s[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return NULL;
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return utf8_valid(out, (size_t)(o - out)) ? out : NULL;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void cursor_write(buf *b, const char *ts, const char *id)
{
	char raw[128];
	int n = snprintf(raw, sizeof(raw), "%s,%s", ts, id);
	if (n < 0 || (size_t)n >= sizeof(raw)) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	for (int i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)raw[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)raw[i + 2];
		buf_putc(b, b64url[(v >> 18) & 63]);
		buf_putc(b, b64url[(v >> 12) & 63]);
		if (i + 1 < n)
			buf_putc(b, b64url[(v >> 6) & 63]);
		if (i + 2 < n)
			buf_putc(b, b64url[v & 63]);
	}
	buf_putc(b, '"');
}

/* A UTC timestamp as PostgreSQL prints it ("2026-11-24 03:13:48.889123+00") or as
 * the API does ("2026-11-24T03:13:48.889Z"): the two keyset orders we page over. */
static bool is_utc_timestamp(const char *s)
{
	static const char shape[] = "dddd-dd-dd?dd:dd:dd";
	size_t n = strlen(s);
	if (n < 20 || n > 32)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : shape[i] == '?' ? (s[i] != ' ' && s[i] != 'T')
										   : s[i] != shape[i])
			return false;
	/* a real date and time, or PostgreSQL refuses the cast: 422 for a cursor we never issued */
	char date[11];
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!is_date(date) || atoi(s + 11) > 23 || atoi(s + 14) > 59 || atoi(s + 17) > 59)
		return false;
	const char *p = s + sizeof(shape) - 1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	return strcmp(p, s[10] == ' ' ? "+00" : "Z") == 0;
}

int cursor_read(arena *a, const char *c, const char **ts, const char **id)
{
	size_t n = strlen(c);
	if (n == 0 || n > 160)
		return -EINVAL;
	char *raw = arena_alloc(a, n), *o = raw;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = memchr(b64url, c[i], 64);
		if (!p || !c[i])
			return -EINVAL;
		acc = acc << 6 | (unsigned)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)((acc >> bits) & 0xff);
		}
	}
	*o = '\0';
	char *comma = strchr(raw, ',');
	if (!comma)
		return -EINVAL;
	*comma = '\0';
	if (!is_utc_timestamp(raw) || !is_uuid(comma + 1))
		return -EINVAL;
	*ts = raw;
	*id = comma + 1;
	return 0;
}

static int bad(request *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(request *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	req_problem(r, 400, "%s", arena_vprintf(r->arena, fmt, ap));
	va_end(ap);
	return -EINVAL;
}

static int check_value(request *r, const struct qparam *p, const char *v)
{
	switch (p->type) {
	case V_ENUM:
		for (const char *const *e = p->values; *e; e++)
			if (strcmp(*e, v) == 0)
				return 0;
		return bad(r, "query parameter %s has an unknown value", p->name);
	case V_UUID:
		return is_uuid(v) ? 0 : bad(r, "query parameter %s must be a UUID", p->name);
	case V_DATE:
		return is_date(v) ? 0 : bad(r, "query parameter %s must be a date (YYYY-MM-DD)", p->name);
	default:
		if (!*v || (long)utf8_length(v, strlen(v)) > p->max)
			return bad(r, "query parameter %s is empty or too long", p->name);
		return 0;
	}
}

/* query_parse_or_fail, or with paged false query_params_or_fail: not_paged says why limit and cursor are refused. */
static int parse_or_fail(request *r, const struct qparam *params, struct list_params *out, const char *not_paged)
{
	memset(out, 0, sizeof(*out));
	const char *limit = NULL, *cursor = NULL;
	const char *q = r->query;
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		if (len == 0) {
			q += 1;
			continue;
		}
		char *name = query_url_decode(r->arena, q, eq ? (size_t)(eq - q) : len);
		char *value = eq ? query_url_decode(r->arena, eq + 1, len - (size_t)(eq - q) - 1) : arena_strdup(r->arena, "");
		if (!name || !value)
			return bad(r, "the query string is not valid percent-encoding or UTF-8");
		const char **slot = NULL;
		const struct qparam *param = NULL;
		if (strcmp(name, "limit") == 0)
			slot = &limit;
		else if (strcmp(name, "cursor") == 0)
			slot = &cursor;
		else
			for (int i = 0; params[i].name && i < 8; i++)
				if (strcmp(params[i].name, name) == 0) {
					slot = &out->values[i];
					param = &params[i];
				}
		if (not_paged && (slot == &limit || slot == &cursor))
			return bad(r, "%s", not_paged);
		if (!slot)
			return bad(r, "unknown query parameter %s", name);
		if (*slot)
			return bad(r, "query parameter %s is repeated", name);
		if (param && check_value(r, param, value) < 0)
			return -EINVAL;
		*slot = value;
		q += len + (amp ? 1 : 0);
	}
	long n = LIST_DEFAULT_LIMIT;
	if (limit) {
		char *end;
		n = strtol(limit, &end, 10);
		/* digits only: strtol also takes leading blanks and a sign */
		if (*limit < '0' || *limit > '9' || *end || n < 1 || n > LIST_MAX_LIMIT)
			return bad(r, "limit must be an integer from 1 to %d", LIST_MAX_LIMIT);
	}
	out->limit = arena_printf(r->arena, "%ld", n);
	if (cursor && cursor_read(r->arena, cursor, &out->after_ts, &out->after_id) < 0)
		return bad(r, "cursor is not one this API issued");
	return 0;
}

int query_parse_or_fail(request *r, const struct qparam *params, struct list_params *out)
{
	return parse_or_fail(r, params, out, NULL);
}

int query_params_or_fail(request *r, const struct qparam *params, struct list_params *out, const char *not_paged)
{
	return parse_or_fail(r, params, out, not_paged);
}

void list_send(request *r, PGresult *res, long limit)
{
	int rows = PQntuples(res);
	int shown = rows > limit ? (int)limit : rows;
	buf b;
	size_t size = 64;
	for (int i = 0; i < shown; i++)
		size += (size_t)PQgetlength(res, i, 0) + 1;
	buf_init(&b, r->arena, size);
	buf_puts(&b, "{\"items\":[");
	for (int i = 0; i < shown; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_putn(&b, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
	}
	buf_puts(&b, "],\"nextCursor\":");
	if (rows > limit && shown > 0)
		cursor_write(&b, PQgetvalue(res, shown - 1, 1), PQgetvalue(res, shown - 1, 2));
	else
		buf_puts(&b, "null");
	buf_putc(&b, '}');
	req_send_buf(r, 200, &b);
}

void campaign_children_list(request *r, const struct qparam *params, enum stmt stmt)
{
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0)
		return;
	const char *q[] = { r->user_id, r->params[0] };
	PGresult *c = req_exec_or_fail(r, STMT_CAMPAIGN_EXISTS, q);
	if (!c)
		return;
	if (PQntuples(c) == 0) {
		req_not_found(r, "campaign");
		return;
	}
	const char *p[] = { r->user_id, r->params[0], lp.values[0], lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, stmt, p);
	if (res)
		list_send(r, res, atol(lp.limit));
}
