/*
 * log.h - one JSON object a line on stderr (journald-friendly).
 *
 * Only programs log (the api master and children, the CLI, the worker);
 * library code returns errors to them. Each line is written with one write(2)
 * so lines from concurrent processes never interleave. A process that logs a
 * line per request may let lines below LOG_WARN wait (log_buffer_lines): up
 * to 4 KiB of them go out in one write(2) when the oldest is flush_ms old,
 * when a warning or error is logged (after them), or at log_flush().
 */
#pragma once

#include <stdarg.h>

#include "buf.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the minimum level and the "component" field of every line. */
void log_setup(enum log_level min, const char *component);
int log_level_parse(const char *s, enum log_level *ret);
int log_enabled(enum log_level level);

/* Starts a line in b: {"time":..,"level":..,"component":..,"pid":.. */
void log_begin(buf *b, enum log_level level);
/* Appends ,"key":"value" (value JSON-escaped; NULL writes null). */
void log_str(buf *b, const char *key, const char *value);
void log_int(buf *b, const char *key, long long value);
/* Closes the object and writes the line. */
void log_end(buf *b);

/* Lines below LOG_WARN wait up to flush_ms (0: none wait; the default). The
 * caller's event loop waits at most log_flush_timeout_ms() (-1: nothing
 * waits), then calls log_flush_due(); log_flush() before exiting. */
void log_buffer_lines(int flush_ms);
int log_flush_timeout_ms(void);
void log_flush_due(void);
void log_flush(void);

/* A one-off message line: {"time","level","component","pid","msg"}. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
