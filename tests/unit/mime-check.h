/*
 * mime-check.h - an independent reader of what mime_build() writes, for
 * test-mime.c and fuzz-mime.c: line discipline (CRLF only, header lines at
 * most 998 bytes, body lines at most 76), unfolded headers, the Subject's
 * encoded-words decoded, and the two quoted-printable parts decoded.
 */
#pragma once

#include <stdbool.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

struct mime_parsed {
	const char *headers; /* unfolded, one "Name: value\n" a line */
	const char *subject; /* decoded */
	const char *boundary;
	const char *text, *html; /* decoded parts */
	const char *error;   /* why mime_check refused, for the test's message */
};

static inline int mc_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static inline bool mc_qp_decode(buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '=') {
			buf_putc(out, s[i]);
		} else if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (i + 2 < n && mc_hex(s[i + 1]) >= 0 && mc_hex(s[i + 2]) >= 0) {
			buf_putc(out, (char)(mc_hex(s[i + 1]) << 4 | mc_hex(s[i + 2])));
			i += 2;
		} else {
			return false;
		}
	}
	return true;
}

static inline int mc_b64(char c)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(t, c) : NULL;
	return p ? (int)(p - t) : -1;
}

/* Decodes "=?UTF-8?B?...?= =?UTF-8?B?...?=" (or returns v as is when it has no encoded-word). */
static inline const char *mc_decode_words(arena *a, const char *v)
{
	const char *w = v + strspn(v, " ");
	if (strncmp(w, "=?UTF-8?B?", 10) != 0)
		return v;
	v = w;
	buf out;
	buf_init(&out, a, strlen(v));
	for (const char *p = v; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (strncmp(p, "=?UTF-8?B?", 10) != 0)
			return NULL;
		p += 10;
		const char *end = strstr(p, "?=");
		if (!end || (end - p) % 4)
			return NULL;
		for (; p < end; p += 4) {
			int v0 = mc_b64(p[0]), v1 = mc_b64(p[1]), v2 = p[2] == '=' ? 0 : mc_b64(p[2]),
			    v3 = p[3] == '=' ? 0 : mc_b64(p[3]);
			if (v0 < 0 || v1 < 0 || v2 < 0 || v3 < 0)
				return NULL;
			buf_putc(&out, (char)(v0 << 2 | v1 >> 4));
			if (p[2] != '=')
				buf_putc(&out, (char)((v1 & 15) << 4 | v2 >> 2));
			if (p[3] != '=')
				buf_putc(&out, (char)((v2 & 3) << 6 | v3));
		}
		p = end + 2;
	}
	return buf_cstr(&out);
}

/* The value of header name in p->headers (first one), arena-owned, or NULL. */
static inline const char *mc_header(arena *a, const struct mime_parsed *p, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = p->headers; *l;) {
		const char *e = strchr(l, '\n');
		if (strncasecmp(l, name, n) == 0 && l[n] == ':')
			return arena_strndup(a, l + n + 2, (size_t)(e - l - n - 2));
		l = e + 1;
	}
	return NULL;
}

static inline int mc_fail(struct mime_parsed *p, const char *why)
{
	p->error = why;
	return -1;
}

/* Finds a part by its Content-Type and decodes it. */
static inline const char *mc_part(arena *a, const char *body, const char *delim, const char *type)
{
	const char *h = strstr(body, type);
	if (!h)
		return NULL;
	const char *start = strstr(h, "\r\n\r\n");
	if (!start)
		return NULL;
	start += 4;
	const char *end = strstr(start, delim);
	if (!end)
		return NULL;
	buf out;
	buf_init(&out, a, (size_t)(end - start) + 1);
	if (!mc_qp_decode(&out, start, (size_t)(end - start))) /* the CRLF before "--" is the delimiter's */
		return NULL;
	return buf_cstr(&out);
}

static inline int mime_check(arena *a, const char *msg, size_t len, struct mime_parsed *p)
{
	memset(p, 0, sizeof(*p));
	if (memchr(msg, '\0', len))
		return mc_fail(p, "NUL byte");
	const char *sep = strstr(msg, "\r\n\r\n");
	if (!sep)
		return mc_fail(p, "no empty line after the headers");
	/* every line ends in CRLF; no bare CR or LF */
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\r' && (i + 1 == len || msg[i + 1] != '\n'))
			return mc_fail(p, "bare CR");
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			return mc_fail(p, "bare LF");
	}
	if (len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n')
		return mc_fail(p, "no final CRLF");
	buf h;
	buf_init(&h, a, (size_t)(sep - msg) + 2);
	for (const char *l = msg; l <= sep;) {
		const char *e = strstr(l, "\r\n");
		if (e - l > 998)
			return mc_fail(p, "header line over 998 bytes");
		if (l == msg && (*l == ' ' || *l == '\t'))
			return mc_fail(p, "continuation first");
		if (*l == ' ' || *l == '\t') {
			h.len--; /* unfold: drop the previous line's \n */
			buf_putn(&h, l, (size_t)(e - l));
		} else {
			const char *colon = memchr(l, ':', (size_t)(e - l));
			if (!colon || colon == l || colon[1] != ' ')
				return mc_fail(p, "header line without a name");
			for (const char *c = l; c < colon; c++)
				if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-", *c))
					return mc_fail(p, "bad header name");
			buf_putn(&h, l, (size_t)(e - l));
		}
		buf_putc(&h, '\n');
		l = e + 2;
	}
	p->headers = buf_cstr(&h);
	const char *subject = mc_header(a, p, "Subject");
	if (!subject || !(p->subject = mc_decode_words(a, subject)))
		return mc_fail(p, "Subject missing or not decodable");
	const char *ct = mc_header(a, p, "Content-Type");
	const char *bq = ct ? strstr(ct, "boundary=\"") : NULL;
	if (!bq || strncmp(ct, "multipart/alternative;", 22) != 0)
		return mc_fail(p, "not multipart/alternative with a boundary");
	p->boundary = arena_strndup(a, bq + 10, strcspn(bq + 10, "\""));
	const char *body = sep + 4;
	for (const char *l = body; *l;) {
		const char *e = strstr(l, "\r\n");
		if (e - l > 76 && strncmp(l, "--", 2) != 0)
			return mc_fail(p, "body line over 76 characters");
		l = e + 2;
	}
	const char *delim = arena_printf(a, "\r\n--%s", p->boundary);
	const char *close = arena_printf(a, "\r\n--%s--\r\n", p->boundary);
	if (len < strlen(close) || strcmp(msg + len - strlen(close), close) != 0)
		return mc_fail(p, "no closing delimiter at the end");
	if (!(p->text = mc_part(a, body, delim, "Content-Type: text/plain; charset=UTF-8")) ||
	    !(p->html = mc_part(a, body, delim, "Content-Type: text/html; charset=UTF-8")))
		return mc_fail(p, "a part is missing or not valid quoted-printable");
	return 0;
}

/* s with every line end (LF, CRLF, CR) written CRLF, as the parts carry it. */
static inline const char *mc_crlf(arena *a, const char *s)
{
	buf out;
	buf_init(&out, a, strlen(s) * 2 + 1);
	for (; *s; s++) {
		if (*s == '\r' || *s == '\n') {
			if (*s == '\r' && s[1] == '\n')
				s++;
			buf_putn(&out, "\r\n", 2);
		} else {
			buf_putc(&out, *s);
		}
	}
	return buf_cstr(&out);
}
