/*
 * fcgi-prototype - the smallest correct GET /api/campaigns/:id, for
 * bench/api.sh: the yardstick issue #14 names ("a minimal C prototype of the
 * same request: libfcgi x8, libjwt, one prepared statement"), measured in
 * the same run as adcraft-api and the constant ceiling.
 *
 * Per request it does only what the answer cannot do without: verify the
 * bearer token (token_verify, adcraft's own check), take the campaign id
 * from the path, run adcraft's campaign_get statement (the same SQL, from
 * src/core/statements.c) on one connection per child, and write the status,
 * headers and document in one FCGX_PutStr. No router, no request arena
 * beyond the token's, no logging, no rate limits, no reconnect: a bench
 * instrument, not a server. Anything unexpected answers 4xx/5xx without a
 * body so that wrk counts it.
 *
 *   fcgi-prototype CONFIG SOCKET_PATH [PROCESSES]
 */
#include <fcgiapp.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "statements.h"
#include "token.h"

#define PREFIX "/api/campaigns/"
#define UUID_LEN 36

static void status_only(FCGX_Request *req, const char *status)
{
	FCGX_FPrintF(req->out, "Status: %s\r\nContent-Length: 0\r\n\r\n", status);
}

static void serve(FCGX_Request *req, PGconn *pg, const struct token_keys *keys, arena *a)
{
	const char *auth = FCGX_GetParam("HTTP_AUTHORIZATION", req->envp);
	const char *uri = FCGX_GetParam("REQUEST_URI", req->envp);
	char sub[37];
	if (!auth || strncmp(auth, "Bearer ", 7) != 0 ||
	    token_verify(keys, a, auth + 7, time(NULL), sub) != TOKEN_OK) {
		status_only(req, "401 Unauthorized");
		return;
	}
	if (!uri || strncmp(uri, PREFIX, sizeof(PREFIX) - 1) != 0 ||
	    strlen(uri + sizeof(PREFIX) - 1) != UUID_LEN) {
		status_only(req, "404 Not Found");
		return;
	}
	const char *params[2] = { sub, uri + sizeof(PREFIX) - 1 };
	PGresult *r = PQexecPrepared(pg, statements[STMT_CAMPAIGN_GET].name, 2, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		status_only(req, "500 Internal Server Error"); /* a non-UUID id too: wrk counts it */
	else if (PQntuples(r) == 0)
		status_only(req, "404 Not Found");
	else {
		const char *doc = PQgetvalue(r, 0, 0);
		int len = PQgetlength(r, 0, 0);
		char head[128];
		int n = snprintf(head, sizeof head,
				 "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len);
		/* one record for the head and the body, as adcraft-api writes it */
		char *out = arena_alloc(a, (size_t)n + (size_t)len);
		memcpy(out, head, (size_t)n);
		memcpy(out + n, doc, (size_t)len);
		FCGX_PutStr(out, n + len, req->out);
	}
	PQclear(r);
}

static int child(int fd, const struct config *cfg)
{
	PGconn *pg = PQconnectdb(cfg->database_url);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "fcgi-prototype: %s", PQerrorMessage(pg));
		return 1;
	}
	const struct stmt_def *s = &statements[STMT_CAMPAIGN_GET];
	PGresult *r = PQprepare(pg, s->name, s->sql, s->nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "fcgi-prototype: prepare: %s", PQerrorMessage(pg));
		return 1;
	}
	PQclear(r);
	const struct token_keys keys = {
		.secret = cfg->jwt_secret, .secret_len = cfg->jwt_secret_len,
		.issuer = cfg->jwt_issuer, .audience = cfg->jwt_audience, .ttl = cfg->access_token_ttl,
	};
	arena *a = arena_new(16384);
	FCGX_Request req;
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		serve(&req, pg, &keys, a);
		FCGX_Finish_r(&req);
		arena_reset(a);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fputs("usage: fcgi-prototype CONFIG SOCKET_PATH [PROCESSES]\n", stderr);
		return 2;
	}
	struct config *cfg;
	char err[256];
	if (config_load(argv[1], CONFIG_API, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "fcgi-prototype: %s\n", err);
		return 1;
	}
	int n = argc > 3 ? atoi(argv[3]) : 4;
	unlink(argv[2]);
	FCGX_Init();
	int fd = FCGX_OpenSocket(argv[2], 1024);
	if (fd < 0) {
		perror("FCGX_OpenSocket");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++)
		if (fork() == 0)
			_exit(child(fd, cfg));
	while (wait(NULL) > 0)
		;
	return 0;
}
