/*
 * json.c - strict parsing on top of json-c's tokener.
 *
 * json-c validates syntax, UTF-8 and depth (JSON_TOKENER_STRICT |
 * JSON_TOKENER_VALIDATE_UTF8) but silently merges duplicate keys. A second,
 * linear pass over the text counts the members of each object in document
 * order; walking the parsed tree in the same pre-order must give the same
 * counts. The first object that holds a duplicate is the first mismatch,
 * because every object before it is identical in both walks.
 */
#include "json.h"

#include <errno.h>
#include <string.h>

#include "validate.h"

struct counts {
	unsigned *v;
	size_t n, cap;
	arena *a;
};

static void counts_push(struct counts *c, unsigned v)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		unsigned *nv = arena_alloc(c->a, cap * sizeof(*nv));
		if (c->n)
			memcpy(nv, c->v, c->n * sizeof(*nv));
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = v;
}

/* The code unit of the \uXXXX escape whose 'u' is at s[i], or -1 if it is not one. */
static long u_escape(const char *s, size_t len, size_t i)
{
	if (i + 4 >= len || s[i] != 'u')
		return -1;
	long u = 0;
	for (size_t k = i + 1; k <= i + 4; k++) {
		int d = hex_value(s[k]);
		if (d < 0)
			return -1;
		u = u * 16 + d;
	}
	return u;
}

/*
 * Checks the escape whose backslash is at s[i]; returns where it ends (its
 * last byte) or 0 with *why. json-c turns an unpaired UTF-16 surrogate
 * (\ud800 alone, or a low one first) into U+FFFD without a word: the text
 * stored would not be the text sent.
 */
static size_t escape_end(const char *s, size_t len, size_t i, const char **why)
{
	long u = u_escape(s, len, i + 1);
	if (u < 0xD800 || u > 0xDFFF)
		return i + 1; /* the byte after the backslash; hex digits are plain bytes */
	long low = u <= 0xDBFF && i + 6 < len && s[i + 6] == '\\' ? u_escape(s, len, i + 7) : -1;
	if (low < 0xDC00 || low > 0xDFFF) {
		*why = "a UTF-16 surrogate escape without its pair";
		return 0;
	}
	return i + 11;
}

static bool digit_at(const char *s, size_t len, size_t i)
{
	return i < len && s[i] >= '0' && s[i] <= '9';
}

/*
 * Where the number starting at s[i] ends (the index after it), by JSON's grammar:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, then a byte that may follow
 * a value. 0 for anything else (json-c takes "1.", "01" and "-" too).
 */
static size_t number_end(const char *s, size_t len, size_t i)
{
	size_t j = i + (s[i] == '-');
	if (!digit_at(s, len, j))
		return 0;
	if (s[j] == '0')
		j++;
	else
		while (digit_at(s, len, j))
			j++;
	if (j < len && s[j] == '.') {
		if (!digit_at(s, len, ++j))
			return 0;
		while (digit_at(s, len, j))
			j++;
	}
	if (j < len && (s[j] == 'e' || s[j] == 'E')) {
		j += j + 1 < len && (s[j + 1] == '+' || s[j + 1] == '-') ? 2 : 1;
		if (!digit_at(s, len, j))
			return 0;
		while (digit_at(s, len, j))
			j++;
	}
	if (j < len && (!s[j] || !strchr(",]} \t\r\n", s[j])))
		return 0;
	return j;
}

/*
 * Raw pass over text json-c accepted: counts the members of each object in
 * the order their '{' appears (commas at object level, plus one if not
 * empty), and refuses what json-c lets through: single-quoted strings, raw
 * control characters in strings, bare words other than true, false and null
 * (NaN, Infinity), numbers outside JSON's grammar, \u surrogate escapes
 * without their pair, and any other byte JSON does not allow outside a string.
 * The walk checks its own bracket stack, so text that json-c read some other
 * way can never drive it out of bounds: it is refused instead.
 */
static const char *scan_raw(const char *s, size_t len, struct counts *out)
{
	enum { ARRAY = -1 };
	ptrdiff_t stack[JSON_MAX_DEPTH]; /* index into out->v, or ARRAY */
	size_t depth = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if ((unsigned char)s[i] < 0x20)
					return "control character in a string";
				if (s[i] == '\\') {
					const char *why = NULL;
					if (!(i = escape_end(s, len, i, &why)))
						return why;
				}
			}
			if (i >= len)
				return "unterminated string";
			if (depth > 0 && stack[depth - 1] != ARRAY && out->v[stack[depth - 1]] == 0)
				out->v[stack[depth - 1]] = 1; /* first key seen */
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			size_t start = i;
			while (i + 1 < len && ((s[i + 1] >= 'a' && s[i + 1] <= 'z') || (s[i + 1] >= 'A' && s[i + 1] <= 'Z')))
				i++;
			size_t n = i - start + 1;
			if (!(n == 4 && (memcmp(s + start, "true", 4) == 0 || memcmp(s + start, "null", 4) == 0)) &&
			    !(n == 5 && memcmp(s + start, "false", 5) == 0))
				return "a bare word that is not true, false or null";
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t end = number_end(s, len, i);
			if (!end)
				return "a malformed number";
			i = end - 1;
		} else if (c == '{' || c == '[') {
			if (depth == JSON_MAX_DEPTH)
				return "nesting deeper than 32 levels";
			if (c == '{') {
				stack[depth] = (ptrdiff_t)out->n;
				counts_push(out, 0);
			} else {
				stack[depth] = ARRAY;
			}
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0 || (c == ']') != (stack[depth - 1] == ARRAY))
				return "unbalanced brackets";
			depth--;
		} else if (c == ',') {
			if (depth > 0 && stack[depth - 1] != ARRAY)
				out->v[stack[depth - 1]]++;
		} else if (c == '\'') {
			return "single-quoted strings are not JSON";
		} else if (!strchr(" \t\r\n:", c) || c == '\0') {
			return "a character JSON does not allow outside a string";
		}
	}
	return depth == 0 ? NULL : "unbalanced brackets";
}

/* Parsed pass: compares in pre-order; returns -1 at the first mismatch. */
static int compare_tree(json_object *o, const struct counts *c, size_t *pos)
{
	switch (json_object_get_type(o)) {
	case json_type_object: {
		if (*pos >= c->n || c->v[*pos] != (unsigned)json_object_object_length(o))
			return -1;
		(*pos)++;
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (val && compare_tree(val, c, pos) < 0)
				return -1;
		}
		return 0;
	}
	case json_type_array: {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++) {
			json_object *v = json_object_array_get_idx(o, i);
			if (v && compare_tree(v, c, pos) < 0)
				return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

static void put_json(void *obj)
{
	json_object_put(obj);
}

json_object *json_own(arena *a, json_object *obj)
{
	if (obj)
		arena_defer(a, put_json, obj);
	return obj;
}

static void tokener_free(void *tok)
{
	json_tokener_free(tok);
}

int json_parse_strict(arena *a, const char *data, size_t len, int max_depth, json_object **ret,
		      const char **reason)
{
	if (len == 0 || len > INT32_MAX) {
		*reason = len ? "document too large" : "empty document";
		return -EINVAL;
	}
	if (max_depth < 1 || max_depth > JSON_MAX_DEPTH)
		max_depth = JSON_MAX_DEPTH;
	json_tokener *tok = json_tokener_new_ex(max_depth);
	arena_defer(a, tokener_free, tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *obj = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_continue && end == len) {
		/* a bare number, true, false or null: json-c waits for a byte that ends it */
		obj = json_tokener_parse_ex(tok, "", 1);
		if ((e = json_tokener_get_error(tok)) != json_tokener_success)
			e = json_tokener_continue; /* a document cut short */
	}
	if (e == json_tokener_continue) {
		*reason = "unexpected end of document";
		return -EINVAL;
	}
	if (e != json_tokener_success) {
		*reason = e == json_tokener_error_depth ? "nesting deeper than 32 levels"
							 : json_tokener_error_desc(e);
		return -EINVAL;
	}
	json_own(a, obj);
	for (; end < len; end++)
		if (!strchr(" \t\r\n", data[end])) {
			*reason = "trailing data after the JSON document";
			return -EINVAL;
		}
	if (!utf8_valid(data, len)) {
		*reason = "invalid UTF-8";
		return -EINVAL;
	}
	struct counts c = { .a = a };
	if ((*reason = scan_raw(data, len, &c)) != NULL)
		return -EINVAL;
	size_t pos = 0;
	if (compare_tree(obj, &c, &pos) < 0) {
		*reason = "duplicate key in object";
		return -EINVAL;
	}
	*ret = obj;
	return 0;
}

int json_parse_trusted(arena *a, const char *text, json_object **ret)
{
	json_object *obj = text ? json_tokener_parse(text) : NULL;
	if (!obj)
		return -EBADMSG;
	*ret = json_own(a, obj);
	return 0;
}

size_t utf8_length(const char *s, size_t bytes)
{
	size_t n = 0;
	for (size_t i = 0; i < bytes; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned c = *p;
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (c == 0 || len == 0 || (size_t)(end - p) < len)
			return false;
		unsigned cp = len == 1 ? c : c & (0x7F >> len);
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3F);
		}
		static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += len;
	}
	return true;
}
