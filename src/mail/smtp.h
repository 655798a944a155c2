/*
 * smtp.h - delivery over SMTP with libcurl: the server list, per-server rate
 * limits and kept-open connections.
 *
 * smtp_servers (configuration) lists one or more servers, comma-separated:
 *
 *   smtp://127.0.0.1:1025 starttls=off max_conns=4 per_conn=100 rate=200,
 *   smtps://relay.example:465 user=x password_file=/etc/adcraft/smtp.pass rate=50
 *
 * smtp:// always requires STARTTLS (CURLUSESSL_ALL) unless starttls=off, which
 * only a loopback host may say; smtps:// is TLS from the first byte. A
 * connection is one CURL easy handle kept open between messages (MAIL FROM,
 * RCPT TO and DATA per message) and replaced after per_conn messages or any
 * failure. rate is messages per second per server (a token bucket allowing a
 * burst of one second's worth). ca_file=PATH verifies the server against
 * that CA instead of the system's. max_conns is the number of connections the
 * senders may hold to that server at once: a pool (one process, one message at
 * a time) holds one, so the worker runs at most max_conns pools per server.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

#define SMTP_MAX_SERVERS 16

struct smtp_server {
	const char *url;  /* smtp://host:port or smtps://host:port, as configured */
	const char *host; /* for the loopback check and logs */
	bool starttls_off;
	const char *user;	   /* NULL: no AUTH */
	const char *password_file; /* read by smtp_servers_parse */
	const char *password;
	const char *ca_file;	   /* CA bundle to verify the server with; NULL: the system's */
	long max_conns;	  /* default 2 */
	long per_conn;	  /* messages per connection, default 100 */
	double rate;	  /* messages per second, default 100 */
	long timeout;	  /* seconds for one message, default 30 */
};

/*
 * Parses spec into an arena-owned array of servers (reading password files).
 * "" gives zero servers. -EINVAL with a one-line reason in err on a bad entry,
 * an unknown option, starttls=off for a host that is not loopback, or a
 * password file that cannot be read.
 */
int smtp_servers_parse(arena *a, const char *spec, struct smtp_server **ret, size_t *ret_n, char *err, size_t errlen);

/* A token bucket: rate tokens a second, at most burst of them saved up. */
struct smtp_bucket {
	double rate;
	double burst;
	double tokens;
	double last; /* the clock when tokens was last brought up to date; < 0: never */
};

void smtp_bucket_init(struct smtp_bucket *b, double rate);
/*
 * Takes one token at time now (seconds, any monotonic origin) and returns 0,
 * or takes nothing and returns how many seconds until one is there. A clock
 * that goes backwards adds nothing.
 */
double smtp_bucket_take(struct smtp_bucket *b, double now);

enum smtp_outcome {
	SMTP_SENT,	/* 2xx after DATA */
	SMTP_TRANSIENT, /* 4xx, or the connection failed: try again later */
	SMTP_PERMANENT, /* 5xx: the address bounced */
};

struct smtp_result {
	enum smtp_outcome outcome;
	long code;	/* the last SMTP reply code, 0 when no reply came */
	char reply[256]; /* the last reply line (the queue id after a 250), or curl's error */
};

/* A kept-open connection to one server; freed with the arena it lives in. */
struct smtp_conn;

/* A connection that opens at its first message. Registers curl cleanup on a. */
int smtp_conn_new(arena *a, const struct smtp_server *server, struct smtp_conn **ret);

/*
 * Delivers msg[0..len) (CRLF line ends) from `from` to one recipient over c.
 * Returns 0 with *res saying what the server answered (a refusal is not an
 * error of this function); -EINVAL for an address with CR/LF or angle
 * brackets, -ENOMEM if curl cannot be set up.
 */
int smtp_send(struct smtp_conn *c, const char *from, const char *to, const char *msg, size_t len,
	      struct smtp_result *res);

/* Messages sent over the current connection (0 right after a reconnect). */
long smtp_conn_count(const struct smtp_conn *c);

/*
 * A pool: the servers, a bucket each, connections opened on demand. One
 * process uses it from one thread.
 */
struct smtp_pool;

int smtp_pool_new(arena *a, const struct smtp_server *servers, size_t n, struct smtp_pool **ret);
/*
 * Sends through the next server whose bucket has a token at time now (round
 * robin among servers); when none has, sends nothing and sets *ret_wait to the
 * seconds to wait, returning -EAGAIN. -ENOENT with no servers.
 */
int smtp_pool_send(struct smtp_pool *p, double now, const char *from, const char *to, const char *msg,
		   size_t len, struct smtp_result *res, double *ret_wait);
