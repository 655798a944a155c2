/*
 * buf.c - arena-backed growable buffer and JSON string escaping.
 */
#include "buf.h"

#include <stdio.h>
#include <string.h>

void buf_init(buf *b, arena *a, size_t cap)
{
	b->arena = a;
	b->cap = cap ? cap : 256;
	b->data = arena_alloc(a, b->cap);
	b->len = 0;
}

void buf_reserve(buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap * 2;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = arena_alloc(b->arena, cap);
	memcpy(p, b->data, b->len);
	b->data = p;
	b->cap = cap;
}

void buf_putn(buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void buf_puts(buf *b, const char *s)
{
	buf_putn(b, s, strlen(s));
}

void buf_putc(buf *b, char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
}

void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap, copy;
	va_start(ap, fmt);
	va_copy(copy, ap);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, copy);
	}
	va_end(copy);
	if (n > 0)
		b->len += (size_t)n;
}

const char *buf_cstr(buf *b)
{
	buf_reserve(b, 0);
	b->data[b->len] = '\0';
	return b->data;
}

void buf_json_strn(buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_reserve(b, n + 2);
	buf_putc(b, '"');
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_putn(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': buf_putn(b, "\\\"", 2); break;
		case '\\': buf_putn(b, "\\\\", 2); break;
		case '\n': buf_putn(b, "\\n", 2); break;
		case '\r': buf_putn(b, "\\r", 2); break;
		case '\t': buf_putn(b, "\\t", 2); break;
		default: {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_putn(b, esc, 6);
		}
		}
	}
	buf_putn(b, s + start, n - start);
	buf_putc(b, '"');
}

void buf_json_str(buf *b, const char *s)
{
	if (!s)
		buf_puts(b, "null");
	else
		buf_json_strn(b, s, strlen(s));
}
