/*
 * smtp.c - libcurl SMTP delivery, the smtp_servers parser and the rate bucket
 * (contract in smtp.h).
 *
 * curl speaks SMTP for us: it keeps the connection of an easy handle open
 * between curl_easy_perform() calls to the same URL, so one handle (with a
 * connection cache of one) is one connection. The per_conn-th message closes
 * it (CURLOPT_FORBID_REUSE); after a failure the next message opens a new one
 * (CURLOPT_FRESH_CONNECT: after a refused RCPT the session state is not worth
 * trusting). The
 * server's reply lines arrive through the debug callback, which keeps the last
 * one: after DATA that is "250 2.0.0 Ok: queued as ...".
 */
#include "smtp.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---------------------------------------------------------------- servers */

static bool loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0 ||
	       strcmp(host, "localhost") == 0;
}

static int read_password(arena *a, const char *path, const char **ret)
{
	size_t n;
	int rc = config_read_secret(a, path, ret, &n);
	if (rc < 0)
		return rc;
	return n == 0 || memchr(*ret, '\0', n) ? -EINVAL : 0;
}

/* Host of smtp[s]://host:port (IPv6 in brackets); the URL must have no path or userinfo. */
static int url_host(arena *a, const char *url, const char **ret)
{
	const char *h = strncmp(url, "smtp://", 7) == 0 ? url + 7 : strncmp(url, "smtps://", 8) == 0 ? url + 8 : NULL;
	if (!h || !*h || strpbrk(h, "/@?#"))
		return -EINVAL;
	const char *end;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		end++;
	} else {
		end = strchr(h, ':');
		if (!end)
			end = h + strlen(h);
	}
	if (*end == ':') {
		char *e;
		long port = strtol(end + 1, &e, 10);
		if (*e || e == end + 1 || port < 1 || port > 65535)
			return -EINVAL;
	}
	if (end == h)
		return -EINVAL;
	*ret = arena_strndup(a, h, (size_t)(end - h));
	return 0;
}

enum opt_type { OPT_LONG, OPT_RATE, OPT_STR, OPT_TLS };

static const struct server_opt {
	const char *name;
	enum opt_type type;
	size_t offset;
	long min, max;
} server_opts[] = {
	{ "max_conns", OPT_LONG, offsetof(struct smtp_server, max_conns), 1, 64 },
	{ "per_conn", OPT_LONG, offsetof(struct smtp_server, per_conn), 1, 100000 },
	{ "rate", OPT_RATE, offsetof(struct smtp_server, rate), 1, 100000 },
	{ "timeout", OPT_LONG, offsetof(struct smtp_server, timeout), 1, 600 },
	{ "user", OPT_STR, offsetof(struct smtp_server, user), 0, 0 },
	{ "password_file", OPT_STR, offsetof(struct smtp_server, password_file), 0, 0 },
	{ "ca_file", OPT_STR, offsetof(struct smtp_server, ca_file), 0, 0 },
	{ "starttls", OPT_TLS, offsetof(struct smtp_server, starttls_off), 0, 0 },
};

static int server_option(arena *a, struct smtp_server *s, const char *word, char *err, size_t errlen)
{
	const char *eq = strchr(word, '=');
	for (size_t i = 0; eq && i < sizeof(server_opts) / sizeof(server_opts[0]); i++) {
		const struct server_opt *o = &server_opts[i];
		if (strlen(o->name) != (size_t)(eq - word) || memcmp(o->name, word, (size_t)(eq - word)) != 0)
			continue;
		const char *v = eq + 1;
		void *field = (char *)s + o->offset;
		char *end;
		long n = strtol(v, &end, 10);
		switch (o->type) {
		case OPT_LONG:
		case OPT_RATE:
			if (*end || end == v || n < o->min || n > o->max)
				return fail(err, errlen, "smtp_servers: %s must be an integer from %ld to %ld, got \"%s\"",
					    o->name, o->min, o->max, v);
			if (o->type == OPT_RATE)
				*(double *)field = (double)n;
			else
				*(long *)field = n;
			return 0;
		case OPT_STR:
			if (!*v)
				return fail(err, errlen, "smtp_servers: %s is empty", o->name);
			*(const char **)field = arena_strdup(a, v);
			return 0;
		case OPT_TLS:
			if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
				return fail(err, errlen, "smtp_servers: starttls must be on or off, got \"%s\"", v);
			*(bool *)field = strcmp(v, "off") == 0;
			return 0;
		}
	}
	return fail(err, errlen, "smtp_servers: unknown option \"%s\" (known: max_conns per_conn rate timeout user "
		    "password_file ca_file starttls)", word);
}

static int server_parse(arena *a, char *entry, struct smtp_server *s, char *err, size_t errlen)
{
	*s = (struct smtp_server){ .max_conns = 2, .per_conn = 100, .rate = 100, .timeout = 30 };
	char *save = NULL;
	char *url = strtok_r(entry, " \t", &save);
	if (!url || url_host(a, url, &s->host) < 0)
		return fail(err, errlen, "smtp_servers: \"%s\" is not smtp://host[:port] or smtps://host[:port]",
			    url ? url : "");
	s->url = arena_strdup(a, url);
	for (char *w; (w = strtok_r(NULL, " \t", &save));) {
		int r = server_option(a, s, w, err, errlen);
		if (r < 0)
			return r;
	}
	bool smtps = strncmp(s->url, "smtps://", 8) == 0;
	if (s->starttls_off && smtps)
		return fail(err, errlen, "smtp_servers: %s: starttls=off makes no sense for smtps://", s->url);
	if (s->starttls_off && !loopback(s->host))
		return fail(err, errlen, "smtp_servers: %s: starttls=off is allowed only for a loopback host "
			    "(127.0.0.0/8, ::1, localhost); mail would cross the network in clear", s->url);
	if (!s->user != !s->password_file)
		return fail(err, errlen, "smtp_servers: %s: user and password_file go together", s->url);
	if (s->password_file) {
		int r = read_password(a, s->password_file, &s->password);
		if (r < 0)
			return fail(err, errlen, "smtp_servers: %s: password_file %s: %s", s->url, s->password_file,
				    r == -EINVAL ? "empty" : strerror(-r));
	}
	return 0;
}

int smtp_servers_parse(arena *a, const char *spec, struct smtp_server **ret, size_t *ret_n, char *err, size_t errlen)
{
	struct smtp_server *list = arena_zalloc(a, SMTP_MAX_SERVERS * sizeof(*list));
	size_t n = 0;
	char *copy = arena_strdup(a, spec), *save = NULL;
	for (char *entry; (entry = strtok_r(copy, ",", &save)); copy = NULL) {
		if (strspn(entry, " \t") == strlen(entry))
			continue;
		if (n == SMTP_MAX_SERVERS)
			return fail(err, errlen, "smtp_servers: more than %d servers", SMTP_MAX_SERVERS);
		int r = server_parse(a, entry, &list[n], err, errlen);
		if (r < 0)
			return r;
		n++;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

/* ---------------------------------------------------------------- rate */

void smtp_bucket_init(struct smtp_bucket *b, double rate)
{
	*b = (struct smtp_bucket){ .rate = rate, .burst = rate < 1 ? 1 : rate, .tokens = 1, .last = -1 };
}

double smtp_bucket_take(struct smtp_bucket *b, double now)
{
	if (b->last < 0)
		b->last = now;
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
	if (b->tokens >= 1 - 1e-9) { /* (now - last) * rate is rarely exact */
		b->tokens = b->tokens > 1 ? b->tokens - 1 : 0;
		return 0;
	}
	return (1 - b->tokens) / b->rate;
}

/* ---------------------------------------------------------------- connections */

struct smtp_conn {
	const struct smtp_server *server;
	CURL *curl;
	long count;
	bool fresh; /* open a new connection for the next message */
	const char *msg;
	size_t len, sent;
	char last_reply[256];
};

static void conn_cleanup(void *data)
{
	struct smtp_conn *c = data;
	curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

static size_t read_cb(char *out, size_t size, size_t nmemb, void *userdata)
{
	struct smtp_conn *c = userdata;
	size_t n = size * nmemb, left = c->len - c->sent;
	if (n > left)
		n = left;
	memcpy(out, c->msg + c->sent, n);
	c->sent += n;
	return n;
}

/*
 * Keeps the last final reply line the server sent (CURLINFO_HEADER_IN carries
 * SMTP replies): "250 ..." but not "250-..." continuations, and not the 221
 * that answers the QUIT of a connection closing after the message.
 */
static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *userdata)
{
	struct smtp_conn *c = userdata;
	if (type != CURLINFO_HEADER_IN || size < 4 || data[3] != ' ' || memcmp(data, "221", 3) == 0)
		return 0;
	while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
		size--;
	if (size >= sizeof(c->last_reply))
		size = sizeof(c->last_reply) - 1;
	memcpy(c->last_reply, data, size);
	c->last_reply[size] = '\0';
	return 0;
}

int smtp_conn_new(arena *a, const struct smtp_server *server, struct smtp_conn **ret)
{
	struct smtp_conn *c = arena_zalloc(a, sizeof(*c));
	c->server = server;
	c->curl = curl_easy_init();
	if (!c->curl)
		return -ENOMEM;
	arena_defer(a, conn_cleanup, c);
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_URL, server->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (!server->starttls_off)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (server->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, server->ca_file);
	if (server->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, server->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, server->password);
	}
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, c);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* one cached connection: a fresh one replaces (and closes) the old, never sits beside it */
	curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, server->timeout);
	*ret = c;
	return 0;
}

long smtp_conn_count(const struct smtp_conn *c)
{
	return c->count;
}

static bool address_safe(const char *s)
{
	return s && *s && strlen(s) < 320 && !strpbrk(s, "\r\n<> \t");
}

/*
 * 2xx sent; 5xx to MAIL FROM, RCPT TO or DATA (curl: CURLE_SEND_ERROR, or
 * CURLE_WEIRD_SERVER_REPLY after DATA) permanent; anything else transient: 4xx,
 * no reply, TLS, and the server refusing us rather than the recipient
 * (sender_refusals: our configuration's fault; bouncing the address would be wrong).
 */
/* 5xx replies that refuse us, not the recipient (RFC 4954): authentication required (530), too weak
 * (534), refused (535), encryption required (538). The address must not be bounced for them. */
static const long sender_refusals[] = { 530, 534, 535, 538 };

static enum smtp_outcome classify(CURLcode rc, long code)
{
	if (rc == CURLE_OK)
		return SMTP_SENT;
	for (size_t i = 0; i < sizeof(sender_refusals) / sizeof(sender_refusals[0]); i++)
		if (code == sender_refusals[i])
			return SMTP_TRANSIENT;
	if (code >= 500 && code < 600 && (rc == CURLE_SEND_ERROR || rc == CURLE_WEIRD_SERVER_REPLY ||
					  rc == CURLE_RECV_ERROR))
		return SMTP_PERMANENT;
	return SMTP_TRANSIENT;
}

int smtp_send(struct smtp_conn *c, const char *from, const char *to, const char *msg, size_t len,
	      struct smtp_result *res)
{
	if (!address_safe(from) || !address_safe(to))
		return -EINVAL;
	CURL *h = c->curl;
	struct curl_slist rcpt = { .data = (char *)to, .next = NULL };
	char mail_from[330];
	snprintf(mail_from, sizeof(mail_from), "<%s>", from);
	if (c->fresh)
		c->count = 0;
	/* the connection's last message closes it; after a failure the next one opens a new connection */
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, c->count + 1 >= c->server->per_conn ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, c->fresh ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, &rcpt);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	c->msg = msg;
	c->len = len;
	c->sent = 0;
	c->last_reply[0] = '\0';
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode rc = curl_easy_perform(h);
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	c->msg = NULL;
	res->outcome = classify(rc, code);
	res->code = code;
	if (rc == CURLE_OK || code)
		snprintf(res->reply, sizeof(res->reply), "%s", c->last_reply);
	else
		snprintf(res->reply, sizeof(res->reply), "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
	c->fresh = rc != CURLE_OK;
	c->count = c->count + 1 >= c->server->per_conn ? 0 : c->count + 1;
	return 0;
}

/* ---------------------------------------------------------------- pool */

struct pool_server {
	const struct smtp_server *server;
	struct smtp_bucket bucket;
	struct smtp_conn *conn; /* one process sends one message at a time: one connection */
};

struct smtp_pool {
	arena *arena;
	struct pool_server *servers;
	size_t n, next;
};

int smtp_pool_new(arena *a, const struct smtp_server *servers, size_t n, struct smtp_pool **ret)
{
	struct smtp_pool *p = arena_zalloc(a, sizeof(*p));
	p->arena = a;
	p->servers = arena_zalloc(a, (n ? n : 1) * sizeof(*p->servers));
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		p->servers[i].server = &servers[i];
		smtp_bucket_init(&p->servers[i].bucket, servers[i].rate);
	}
	*ret = p;
	return 0;
}

int smtp_pool_send(struct smtp_pool *p, double now, const char *from, const char *to, const char *msg,
		   size_t len, struct smtp_result *res, double *ret_wait)
{
	if (p->n == 0)
		return -ENOENT;
	double wait = -1;
	for (size_t k = 0; k < p->n; k++) {
		struct pool_server *s = &p->servers[(p->next + k) % p->n];
		double w = smtp_bucket_take(&s->bucket, now);
		if (w > 0) {
			if (wait < 0 || w < wait)
				wait = w;
			continue;
		}
		p->next = (p->next + k + 1) % p->n;
		int r;
		if (!s->conn && (r = smtp_conn_new(p->arena, s->server, &s->conn)) < 0)
			return r;
		return smtp_send(s->conn, from, to, msg, len, res);
	}
	*ret_wait = wait;
	return -EAGAIN;
}
