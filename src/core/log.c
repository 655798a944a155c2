/*
 * log.c - structured log lines.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static const char *component = "adcraft";

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
	struct timeval tv;
	struct tm tm;
	char ts[40];
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%06ldZ", (long)tv.tv_usec);
	buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"pid\":%d",
		   ts, level_names[level], component, (int)getpid());
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

void log_end(buf *b)
{
	buf_putn(b, "}\n", 2);
	ssize_t off = 0;
	while ((size_t)off < b->len) {
		ssize_t n = write(STDERR_FILENO, b->data + off, b->len - (size_t)off);
		if (n <= 0)
			break;
		off += n;
	}
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
