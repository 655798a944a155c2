/*
 * buf.h - growable byte buffer allocated from an arena, with JSON writers.
 *
 * Used to build responses, SQL parameters and log lines. Memory belongs to the
 * arena; a buffer needs no destructor.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef struct buf {
	arena *arena;
	char *data;
	size_t len;
	size_t cap;
} buf;

void buf_init(buf *b, arena *a, size_t cap);
void buf_reserve(buf *b, size_t extra);
void buf_putn(buf *b, const char *s, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminates (not counted in len) and returns data. */
const char *buf_cstr(buf *b);

/* Writes s as a quoted JSON string, escaping per RFC 8259; NULL writes null. */
void buf_json_str(buf *b, const char *s);
void buf_json_strn(buf *b, const char *s, size_t n);
