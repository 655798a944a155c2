/*
 * multipart.c - multipart/form-data, read in place (see multipart.h).
 *
 * Shape (RFC 2046 section 5.1.1 with RFC 7578's rules): an optional preamble,
 * then "--B" lines, each followed by a part's headers, a blank line and its
 * data up to "\r\n--B"; the last delimiter is "--B--". Transport padding
 * (spaces and tabs) after a delimiter is allowed. Header lines are
 * "Name: value"; of Content-Disposition only the form-data parameters name
 * and filename are read (quoted strings with backslash escapes, or tokens).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"

static const char *find(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
	return nlen <= haylen ? memmem(hay, haylen, needle, nlen) : NULL;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 2046 bchars, less the space (which may not end a boundary and is never needed). */
static bool is_bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("'()+_,-./:=?", c));
}

/*
 * Reads one parameter value at *p (a quoted string or a token) into an arena
 * copy and moves *p past it; NULL when a quoted string is not closed.
 */
static const char *param_value(arena *a, const char **p, const char *end)
{
	const char *s = *p;
	if (s < end && *s == '"') {
		char *out = arena_alloc(a, (size_t)(end - s) + 1);
		size_t n = 0;
		for (s++; s < end && *s != '"'; s++) {
			if (*s == '\\' && s + 1 < end)
				s++;
			out[n++] = *s;
		}
		if (s >= end)
			return NULL;
		out[n] = '\0';
		*p = s + 1;
		return out;
	}
	const char *start = s;
	while (s < end && *s != ';' && !is_ws(*s))
		s++;
	*p = s;
	return arena_strndup(a, start, (size_t)(s - start));
}

/* Parameters of a Content-Disposition value: name and filename. -EINVAL when not form-data. */
static int disposition(arena *a, const char *v, const char *end, struct multipart_part *part)
{
	while (v < end && is_ws(*v))
		v++;
	if ((size_t)(end - v) < 9 || strncasecmp(v, "form-data", 9) != 0)
		return -EINVAL;
	v += 9;
	while (v < end) {
		while (v < end && (is_ws(*v) || *v == ';'))
			v++;
		const char *key = v;
		while (v < end && *v != '=' && *v != ';' && !is_ws(*v))
			v++;
		size_t klen = (size_t)(v - key);
		while (v < end && is_ws(*v))
			v++;
		if (v >= end || *v != '=')
			continue;
		v++;
		while (v < end && is_ws(*v))
			v++;
		const char *val = param_value(a, &v, end);
		if (!val)
			return -EINVAL;
		if (klen == 4 && strncasecmp(key, "name", 4) == 0)
			part->name = val;
		else if (klen == 8 && strncasecmp(key, "filename", 8) == 0)
			part->filename = val;
	}
	return 0;
}

/* The header block [h, end): CRLF-separated "Name: value" lines. */
static int headers(arena *a, const char *h, const char *end, struct multipart_part *part)
{
	while (h < end) {
		const char *eol = find(h, (size_t)(end - h), "\r\n", 2);
		if (!eol)
			eol = end;
		const char *colon = memchr(h, ':', (size_t)(eol - h));
		if (!colon || colon == h)
			return -EINVAL;
		size_t nlen = (size_t)(colon - h);
		const char *v = colon + 1;
		while (v < eol && is_ws(*v))
			v++;
		if (nlen == 19 && strncasecmp(h, "Content-Disposition", 19) == 0) {
			if (disposition(a, v, eol, part) < 0)
				return -EINVAL;
		} else if (nlen == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
			const char *ve = eol;
			while (ve > v && is_ws(ve[-1]))
				ve--;
			part->content_type = arena_strndup(a, v, (size_t)(ve - v));
		}
		h = eol + 2;
	}
	return 0;
}

int multipart_boundary(arena *a, const char *content_type, const char **ret)
{
	if (!content_type)
		return -EINVAL;
	const char *p = content_type;
	while (is_ws(*p))
		p++;
	if (strncasecmp(p, "multipart/form-data", 19) != 0)
		return -EINVAL;
	p += 19;
	const char *end = p + strlen(p);
	while (p < end) {
		while (p < end && (is_ws(*p) || *p == ';'))
			p++;
		const char *key = p;
		while (p < end && *p != '=' && *p != ';' && !is_ws(*p))
			p++;
		size_t klen = (size_t)(p - key);
		if (p >= end || *p != '=')
			continue;
		p++;
		const char *val = param_value(a, &p, end);
		if (!val)
			return -EINVAL;
		if (klen != 8 || strncasecmp(key, "boundary", 8) != 0)
			continue;
		size_t n = strlen(val);
		if (n == 0 || n > MULTIPART_MAX_BOUNDARY)
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			if (!is_bchar(val[i]) && !(val[i] == ' ' && i + 1 < n))
				return -EINVAL;
		*ret = val;
		return 0;
	}
	return -EINVAL;
}

/* After a delimiter at p: transport padding, then CRLF (*closing false) or "--" (*closing true). */
static const char *after_delimiter(const char *p, const char *end, bool *closing)
{
	if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
		*closing = true;
		return p + 2;
	}
	while (p < end && is_ws(*p))
		p++;
	if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
		return NULL;
	*closing = false;
	return p + 2;
}

int multipart_parse(arena *a, const char *body, size_t len, const char *boundary, struct multipart_part *parts,
		    size_t *n_out, const char **why)
{
	const char *end = body + len;
	size_t blen = strlen(boundary);
	/* "\r\n--B": the delimiter inside the body; the first may open the body without the CRLF. */
	char *delim = arena_printf(a, "\r\n--%s", boundary);
	size_t dlen = blen + 4;
	const char *p;
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		p = body + dlen - 2;
	else if ((p = find(body, len, delim, dlen)))
		p += dlen;
	else {
		*why = "the body has no multipart boundary line";
		return -EINVAL;
	}
	size_t n = 0;
	for (;;) {
		bool closing;
		if (!(p = after_delimiter(p, end, &closing))) {
			*why = "a multipart boundary line is followed by something other than a line end";
			return -EINVAL;
		}
		if (closing)
			break;
		if (n == MULTIPART_MAX_PARTS) {
			*why = "the body has too many parts";
			return -EINVAL;
		}
		struct multipart_part part = { .name = "" };
		const char *hend;
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			hend = p; /* no headers at all */
		} else {
			size_t room = (size_t)(end - p) < MULTIPART_MAX_HEADERS + 4 ? (size_t)(end - p)
										    : MULTIPART_MAX_HEADERS + 4;
			const char *blank = find(p, room, "\r\n\r\n", 4);
			if (!blank) {
				*why = "a part's headers do not end with a blank line (or are longer than 8 KiB)";
				return -EINVAL;
			}
			if (headers(a, p, blank, &part) < 0) {
				*why = "a part has a malformed header";
				return -EINVAL;
			}
			hend = blank + 2;
		}
		const char *data = hend + 2;
		const char *next = find(data, (size_t)(end - data), delim, dlen);
		if (!next) {
			*why = "a part is not closed by a boundary line (the body is truncated)";
			return -EINVAL;
		}
		part.data = data;
		part.len = (size_t)(next - data);
		parts[n++] = part;
		p = next + dlen;
	}
	if (n == 0) {
		*why = "the body has no parts";
		return -EINVAL;
	}
	*n_out = n;
	return 0;
}
