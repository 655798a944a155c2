/* Unit tests for src/core/log.c: lines below LOG_WARN waiting (log_buffer_lines). */
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

static int rd; /* the read end of the pipe that is stderr */

/* Everything written to stderr so far (non-blocking read; "" if nothing). */
static const char *drain(void)
{
	static char got[16384];
	ssize_t n = read(rd, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	return got;
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void request_line(const char *id)
{
	arena *a = arena_new(1024);
	buf b;
	buf_init(&b, a, 256);
	log_begin(&b, LOG_INFO);
	log_str(&b, "requestId", id);
	log_end(&b);
	arena_free(a);
}

int main(void)
{
	int p[2];
	if (pipe(p) < 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		return 1;
	int saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	rd = p[0];
	log_setup(LOG_INFO, "test");

	request_line("unbuffered");
	ok(strstr(drain(), "\"requestId\":\"unbuffered\"}\n") != NULL, "by default a line is written at once");
	is_int(log_flush_timeout_ms(), -1, "nothing waits by default");

	log_buffer_lines(200);
	request_line("r1");
	request_line("r2");
	is_str(drain(), "", "info lines wait");
	int left = log_flush_timeout_ms();
	ok(left > 0 && left <= 200, "the wait ends flush_ms after the oldest line (%d ms left)", left);
	log_flush_due();
	is_str(drain(), "", "not due yet");

	log_msg(LOG_WARN, "a warning");
	const char *out = drain();
	const char *r1 = strstr(out, "\"r1\""), *r2 = strstr(out, "\"r2\""), *w = strstr(out, "a warning");
	ok(r1 && r2 && w && r1 < r2 && r2 < w, "a warning writes the waiting lines first, in order: %s", out);
	is_int(log_flush_timeout_ms(), -1, "nothing waits after it");

	request_line("r3");
	usleep(210 * 1000);
	is_int(log_flush_timeout_ms(), 0, "overdue: wait no more");
	log_flush_due();
	ok(strstr(drain(), "\"r3\"") != NULL, "written once due");

	request_line("r4");
	usleep(210 * 1000);
	request_line("r5");
	out = drain();
	ok(strstr(out, "\"r4\"") && strstr(out, "\"r5\""), "under steady load a line past the deadline writes the batch");

	for (int i = 0; i < 100; i++)
		request_line("fill-the-buffer-with-lines");
	out = drain();
	int written = count(out, "fill-the-buffer");
	ok(written > 0 && written < 100, "a full buffer is written (%d of 100 lines out, the rest wait)", written);
	log_flush();
	is_int(written + count(drain(), "fill-the-buffer"), 100, "log_flush writes the rest: no line lost");

	log_buffer_lines(0);
	request_line("off-again");
	ok(strstr(drain(), "off-again") != NULL, "log_buffer_lines(0): at once again");

	/* time: RFC 3339, UTC, microseconds; the date part is formatted once a second */
	for (int i = 0; i < 2; i++) {
		time_t before = time(NULL);
		request_line("timed");
		out = drain();
		struct tm tm = { 0 };
		const char *t = strstr(out, "{\"time\":\"");
		const char *rest = t ? strptime(t + 9, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
		long secs = rest ? (long)timegm(&tm) : 0;
		ok(rest && strlen(rest) > 9 && rest[0] == '.' && strspn(rest + 1, "0123456789") == 6 &&
			   strncmp(rest + 7, "Z\"", 2) == 0 && secs >= before && secs <= time(NULL),
		   "the time field is now, to the microsecond: %.40s", t ? t : out);
		if (i == 0)
			usleep(1100 * 1000); /* the next line is in another second */
	}

	dup2(saved, STDERR_FILENO);
	return tap_done();
}
