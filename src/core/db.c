/*
 * db.c - connection lifecycle, statement preparation and execution.
 */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct db {
	char *conninfo;
	char *password;
	char *session_sql;
	unsigned generation;
	PGconn *conn;
	bool prepare;
	bool prepared;
	bool watched; /* the caller polls the socket (db_watch) */
	char sqlstate[6];
	char constraint[64];
	char error[512];
};

static void set_error(db *d, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(d->conn);
	const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	snprintf(d->sqlstate, sizeof(d->sqlstate), "%s", state ? state : "");
	snprintf(d->constraint, sizeof(d->constraint), "%s", constraint ? constraint : "");
	snprintf(d->error, sizeof(d->error), "%s", msg && *msg ? msg : PQerrorMessage(d->conn));
	size_t n = strlen(d->error);
	while (n > 0 && (d->error[n - 1] == '\n' || d->error[n - 1] == ' '))
		d->error[--n] = '\0';
}

static int prepare_all(db *d)
{
	for (size_t i = 0; i < STMT__COUNT; i++) {
		const struct stmt_def *s = &statements[i];
		PGresult *r = PQprepare(d->conn, s->name, s->sql, 0, NULL);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			set_error(d, r);
		PQclear(r);
		if (!ok)
			return PQstatus(d->conn) == CONNECTION_OK ? -EIO : -ENOTCONN;
	}
	d->prepared = true;
	return 0;
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int connect_now(db *d)
{
	if (d->conn)
		PQfinish(d->conn);
	d->prepared = false;
	const char *keys[] = { "dbname", "password", "application_name", "connect_timeout", NULL };
	const char *vals[] = { d->conninfo, d->password, "adcraft", "5", NULL };
	d->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		set_error(d, NULL);
		metrics_count(MC_DB_CONNECT_FAILURES, 1);
		return -ENOTCONN;
	}
	PQsetNoticeProcessor(d->conn, ignore_notice, NULL);
	/* Session settings are lost on reconnect: they live here. (Role settings, such as the API
	 * role's generic plans in sql/0028, come back with the login.) */
	PGresult *r = PQexec(d->conn, "SET TIME ZONE 'UTC'");
	PQclear(r);
	if (d->session_sql) {
		r = PQexec(d->conn, d->session_sql);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			set_error(d, r);
		PQclear(r);
		if (!ok)
			return -ENOTCONN;
	}
	if (d->generation++ > 0)
		metrics_count(MC_DB_RECONNECTS, 1);
	if (!d->prepare) {
		d->prepared = true;
		return 0;
	}
	return prepare_all(d);
}

db *db_new(const char *conninfo, const char *password, bool prepare)
{
	db *d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	d->prepare = prepare;
	d->conninfo = strdup(conninfo);
	d->password = password ? strdup(password) : NULL;
	connect_now(d);
	return d;
}

void db_set_session_sql(db *d, const char *sql)
{
	free(d->session_sql);
	d->session_sql = strdup(sql);
	if (d->conn && PQstatus(d->conn) == CONNECTION_OK) {
		PGresult *r = PQexec(d->conn, sql);
		PQclear(r);
	}
}

unsigned db_generation(const db *d)
{
	return d->generation;
}

void db_free(db *d)
{
	if (!d)
		return;
	if (d->conn)
		PQfinish(d->conn);
	free(d->conninfo);
	free(d->password);
	free(d->session_sql);
	free(d);
}

/*
 * An idle connection has nothing to read, bar notifications. A server that
 * went away left its FATAL message and then EOF on the socket: libpq needs
 * one read for the message and another to see the EOF, so drain twice.
 */
static bool still_alive(db *d)
{
	if (d->watched)
		return true; /* db_input() has read whatever arrived */
	struct pollfd p = { .fd = PQsocket(d->conn), .events = POLLIN | POLLRDHUP };
	if (poll(&p, 1, 0) == 0)
		return true;
	db_input(d);
	return PQstatus(d->conn) == CONNECTION_OK;
}

void db_input(db *d)
{
	if (!d->conn)
		return;
	PQconsumeInput(d->conn);
	PQconsumeInput(d->conn);
}

void db_watch(db *d)
{
	d->watched = true;
}

int db_socket(db *d)
{
	return d->conn && PQstatus(d->conn) == CONNECTION_OK ? PQsocket(d->conn) : -1;
}

int db_ensure(db *d)
{
	if (d->conn && PQstatus(d->conn) == CONNECTION_OK && d->prepared && still_alive(d))
		return 0;
	return connect_now(d);
}

bool db_connected(db *d)
{
	return d->conn && PQstatus(d->conn) == CONNECTION_OK && d->prepared;
}

static void clear_result(void *r)
{
	PQclear(r);
}

/*
 * Whether sqlstate is a rule the data enforces, part of the API's normal answers (a
 * duplicate is 409, a bad value 422): data exceptions (22), integrity constraints (23),
 * objects not in the required state (55) and the schema's own RAISEs (P0).
 */
static bool rejected_by_rule(const char *sqlstate)
{
	static const char *const classes[] = { "22", "23", "55", "P0" };
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(sqlstate, classes[i], 2) == 0)
			return true;
	return false;
}

static int finish(db *d, arena *a, PGresult *r, PGresult **ret)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		d->sqlstate[0] = '\0';
		d->constraint[0] = '\0';
		arena_defer(a, clear_result, r);
		*ret = r;
		return 0;
	}
	set_error(d, r);
	PQclear(r);
	/* Class 08 (connection exception) and 57P (operator intervention) mean "try later". */
	if (PQstatus(d->conn) != CONNECTION_OK || strncmp(d->sqlstate, "08", 2) == 0 ||
	    strncmp(d->sqlstate, "57P", 3) == 0) {
		metrics_count(MC_DB_ERRORS_CONNECTION, 1);
		return -ENOTCONN;
	}
	metrics_count(rejected_by_rule(d->sqlstate) ? MC_DB_ERRORS_REJECTED : MC_DB_ERRORS_STATEMENT, 1);
	return -EIO;
}

int db_exec(db *d, arena *a, enum stmt id, const char *const *params, PGresult **ret)
{
	if (!db_connected(d)) {
		int r = db_ensure(d);
		if (r < 0) {
			metrics_count(MC_DB_ERRORS_CONNECTION, 1);
			return r;
		}
	}
	const struct stmt_def *s = &statements[id];
	PGresult *r = PQexecPrepared(d->conn, s->name, s->nparams, params, NULL, NULL, 0);
	return finish(d, a, r, ret);
}

int db_exec_params(db *d, arena *a, const char *sql, int n, const char *const *params, PGresult **ret)
{
	if (!d->conn || PQstatus(d->conn) != CONNECTION_OK)
		return -ENOTCONN;
	PGresult *r = PQexecParams(d->conn, sql, n, NULL, params, NULL, NULL, 0);
	return finish(d, a, r, ret);
}

int db_exec_sql(db *d, arena *a, const char *sql, PGresult **ret)
{
	if (!d->conn || PQstatus(d->conn) != CONNECTION_OK)
		return -ENOTCONN;
	return finish(d, a, PQexec(d->conn, sql), ret);
}

const char *db_sqlstate(const db *d)
{
	return d->sqlstate;
}

const char *db_constraint(const db *d)
{
	return d->constraint;
}

const char *db_error(const db *d)
{
	return d->error;
}

PGconn *db_conn(db *d)
{
	return d->conn;
}

const char *db_value(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}
