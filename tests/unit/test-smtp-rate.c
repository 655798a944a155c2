/* Unit tests for src/mail/smtp.c: the token bucket on a fake clock, and the smtp_servers parser. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "smtp.h"
#include "tap.h"

static int parse(arena *a, const char *spec, struct smtp_server **s, size_t *n, char *err)
{
	return smtp_servers_parse(a, spec, s, n, err, 256);
}

int main(void)
{
	arena *a = arena_new(0);
	struct smtp_bucket b;

	/* 10 messages a second: a burst of at most 10, then one every 100 ms */
	smtp_bucket_init(&b, 10);
	int taken = 0;
	while (smtp_bucket_take(&b, 100.0) == 0 && taken < 100)
		taken++;
	is_int(taken, 1, "a fresh bucket holds one token (no burst at start-up)");
	double w = smtp_bucket_take(&b, 100.0);
	ok(w > 0.099 && w < 0.101, "then the wait is 100 ms (%.4f s)", w);
	is_int(smtp_bucket_take(&b, 100.05) > 0, 1, "half way: still waiting");
	is_int(smtp_bucket_take(&b, 100.1) == 0, 1, "after 100 ms: one token");
	taken = 0;
	while (smtp_bucket_take(&b, 200.0) == 0 && taken < 100)
		taken++;
	is_int(taken, 10, "after a long idle time the burst is capped at one second's worth (10)");
	is_int(smtp_bucket_take(&b, 150.0) > 0, 1, "a clock going backwards adds nothing");

	/* over 10 s of fake time at 1 ms steps, exactly rate * 10 (+1 initial) messages go out */
	smtp_bucket_init(&b, 200);
	int sent = 0;
	for (int ms = 0; ms <= 10000; ms++)
		while (smtp_bucket_take(&b, ms / 1000.0) == 0)
			sent++;
	ok(sent >= 2000 && sent <= 2001, "200/s for 10 s sends 2000 (+1) messages: %d", sent);

	/* fractional rates work */
	smtp_bucket_init(&b, 1);
	smtp_bucket_take(&b, 0);
	w = smtp_bucket_take(&b, 0.25);
	ok(w > 0.74 && w < 0.76, "1/s: 0.75 s left after 0.25 s (%.3f)", w);

	/* the parser */
	struct smtp_server *s;
	size_t n;
	char err[256] = "";
	is_int(parse(a, "", &s, &n, err), 0, "empty: no servers");
	is_int(n, 0, "zero servers");
	char pw[] = "/tmp/adcraft-test-smtp-pass-XXXXXX";
	int fd = mkstemp(pw);
	(void)!write(fd, "s3cret\n", 7);
	close(fd);
	char spec[512];
	snprintf(spec, sizeof(spec), "smtp://127.0.0.1:1025 starttls=off max_conns=4 per_conn=100 rate=200, "
		 "smtps://relay.example:465 user=x password_file=%s rate=50", pw);
	is_int(parse(a, spec, &s, &n, err), 0, "two servers parse (%s)", err);
	is_int(n, 2, "two servers");
	is_str(s[0].url, "smtp://127.0.0.1:1025", "first URL");
	is_str(s[0].host, "127.0.0.1", "first host");
	is_int(s[0].starttls_off, 1, "starttls off");
	is_int(s[0].max_conns, 4, "max_conns");
	is_int(s[0].per_conn, 100, "per_conn");
	is_int((long)s[0].rate, 200, "rate");
	is_str(s[1].user, "x", "user");
	is_str(s[1].password, "s3cret", "password read from the file, newline removed");
	is_int(s[1].starttls_off, 0, "STARTTLS required by default");
	is_int((long)s[1].rate, 50, "second rate");
	is_int(s[1].max_conns, 2, "default max_conns");
	unlink(pw);

	static const char *const bad[] = {
		"smtp://relay.example:25 starttls=off",  /* clear text across the network */
		"smtp://10.0.0.1 starttls=off",
		"smtps://127.0.0.1:465 starttls=off",
		"http://127.0.0.1:25",
		"smtp://127.0.0.1:0",
		"smtp://127.0.0.1:25/path",
		"smtp://user@127.0.0.1:25",
		"smtp://127.0.0.1:25 rate=0",
		"smtp://127.0.0.1:25 rate=fast",
		"smtp://127.0.0.1:25 colour=blue",
		"smtp://127.0.0.1:25 user=x",
		"smtp://127.0.0.1:25 user=x password_file=/nonexistent/adcraft",
		"smtp://127.0.0.1:25 starttls=maybe",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ok(parse(a, bad[i], &s, &n, err) == -EINVAL && err[0], "refused: %s (%s)", bad[i], err);
	}
	is_int(parse(a, "smtp://[::1]:1025 starttls=off, smtp://localhost starttls=off", &s, &n, err), 0,
	       "loopback by IPv6 and by name may go without STARTTLS");
	is_str(s[0].host, "[::1]", "IPv6 host keeps its brackets");

	/* a connection to a port nobody listens on is a transient failure, not an error */
	is_int(parse(a, "smtp://127.0.0.1:9 starttls=off timeout=5", &s, &n, err), 0, "discard port");
	struct smtp_conn *c;
	struct smtp_result res;
	is_int(smtp_conn_new(a, &s[0], &c), 0, "connection handle");
	is_int(smtp_send(c, "a@example.com", "b@example.com", "x\r\n", 3, &res), 0, "send returns 0");
	is_int(res.outcome, SMTP_TRANSIENT, "connection refused: transient (%s)", res.reply);
	is_int(smtp_send(c, "a@example.com", "b@example.com\r\nRCPT TO:<c@example.com>", "x\r\n", 3, &res), -EINVAL,
	       "CR/LF in an envelope address is refused");
	arena_free(a);
	return tap_done();
}
