/*
 * log.c - structured log lines.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static const char *component = "adcraft";

/* The line being built (log_begin to log_end): its level and time. */
static __thread enum log_level line_level;
static __thread int64_t line_us;

/*
 * Lines below LOG_WARN waiting to be written, when log_buffer_lines() turned
 * it on (an api child: one request line per request). One write(2) carries
 * them all: a file opened O_APPEND and a pipe (<= PIPE_BUF) take it whole, so
 * lines of concurrent processes still never interleave.
 */
static struct {
	int flush_ms; /* 0: off, every line written at once */
	size_t len;
	int64_t first_us; /* log time of the oldest waiting line */
	char data[4096];
} pending;

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn", [LOG_ERROR] = "error",
};

void log_setup(enum log_level min, const char *name)
{
	min_level = min;
	component = name;
}

int log_level_parse(const char *s, enum log_level *ret)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*ret = (enum log_level)i;
			return 0;
		}
	return -1;
}

int log_enabled(enum log_level level)
{
	return level >= min_level;
}

void log_begin(buf *b, enum log_level level)
{
	/* the date and time to the second, formatted once a second (strftime
	 * reads TZ from the environment at every call) */
	static __thread time_t second = -1;
	static __thread char date[24];
	struct timeval tv;
	gettimeofday(&tv, NULL);
	line_level = level;
	line_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	if (tv.tv_sec != second) {
		struct tm tm;
		gmtime_r(&tv.tv_sec, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		second = tv.tv_sec;
	}
	buf_printf(b, "{\"time\":\"%s.%06ldZ\",\"level\":\"%s\",\"component\":\"%s\",\"pid\":%d",
		   date, (long)tv.tv_usec, level_names[level], component, (int)getpid());
}

void log_str(buf *b, const char *key, const char *value)
{
	buf_printf(b, ",\"%s\":", key);
	buf_json_str(b, value);
}

void log_int(buf *b, const char *key, long long value)
{
	buf_printf(b, ",\"%s\":%lld", key, value);
}

static void write_all(const char *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(STDERR_FILENO, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

void log_buffer_lines(int flush_ms)
{
	log_flush();
	pending.flush_ms = flush_ms > 0 ? flush_ms : 0;
}

void log_flush(void)
{
	if (pending.len == 0)
		return;
	write_all(pending.data, pending.len);
	pending.len = 0;
}

static int64_t wall_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int log_flush_timeout_ms(void)
{
	if (pending.len == 0)
		return -1;
	int64_t left = pending.first_us + (int64_t)pending.flush_ms * 1000 - wall_us();
	return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

void log_flush_due(void)
{
	if (pending.len > 0 && wall_us() >= pending.first_us + (int64_t)pending.flush_ms * 1000)
		log_flush();
}

void log_end(buf *b)
{
	buf_putn(b, "}\n", 2);
	bool waits = pending.flush_ms > 0 && line_level < LOG_WARN;
	if (pending.len + b->len > sizeof(pending.data))
		log_flush();
	if (b->len > sizeof(pending.data)) {
		write_all(b->data, b->len);
		return;
	}
	if (!waits && pending.len == 0) {
		write_all(b->data, b->len);
		return;
	}
	if (pending.len == 0)
		pending.first_us = line_us;
	memcpy(pending.data + pending.len, b->data, b->len);
	pending.len += b->len;
	/* a warning goes out now, after the lines before it; under steady load the
	 * waiting ones go out when the oldest is flush_ms old */
	if (!waits || line_us >= pending.first_us + (int64_t)pending.flush_ms * 1000)
		log_flush();
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < min_level)
		return;
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	arena *a = arena_new(2048);
	buf b;
	buf_init(&b, a, 1536);
	log_begin(&b, level);
	log_str(&b, "msg", text);
	log_end(&b);
	arena_free(a);
}
