/*
 * db.h - one PostgreSQL connection with the project's prepared statements.
 *
 * Every statement the programs run is declared once in statements.c and
 * prepared on connect and again after every reconnect (libpq forgets them).
 * Results are tied to an arena. The module never logs: callers get a negative
 * errno-style code and can read db_error()/db_sqlstate() to decide.
 */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>

#include "arena.h"
#include "statements.h"

typedef struct db db;

/*
 * Returns a handle (never NULL); connects now, and lazily again later if this
 * fails. With prepare, the statement table is prepared on every connect;
 * without (migrations), only db_exec_sql/db_exec_params may be used.
 */
db *db_new(const char *conninfo, const char *password, bool prepare);
void db_free(db *d);

/*
 * Makes sure the connection is up and prepared: notices a connection the
 * server closed while we were idle (one poll(2) when nothing happened),
 * reconnects and re-prepares. Call it before a unit of work (a request, a
 * worker loop turn). 0 when ready, -ENOTCONN when the server cannot be reached.
 */
int db_ensure(db *d);
bool db_connected(db *d);

/*
 * For a caller that waits on the connection's socket itself (the API child's
 * epoll set): after db_watch(), db_ensure() trusts the connection's status
 * and makes no poll(2) of its own; the caller calls db_input() whenever
 * db_socket() is readable while idle, which reads what is there (a closing
 * server's message and EOF mark the connection broken for the next
 * db_ensure()). db_socket() is -1 without a connection; a reconnect changes
 * it (and db_generation()).
 */
void db_watch(db *d);
int db_socket(db *d);
void db_input(db *d);

/* SQL run after every successful (re)connect, e.g. "LISTEN adcraft_jobs". Copied. */
void db_set_session_sql(db *d, const char *sql);
/* Increments on every successful connect: a change means LISTENs were re-issued
 * and notifications sent in between were lost. */
unsigned db_generation(const db *d);

/*
 * Executes prepared statement id with params (NULL entries are SQL NULLs).
 * On success *ret holds the result, cleared with the arena. Errors:
 * -ENOTCONN  the connection failed (the caller answers 503),
 * -EIO       the server rejected the statement: see db_sqlstate()/db_error().
 */
int db_exec(db *d, arena *a, enum stmt id, const char *const *params, PGresult **ret);

/* Runs a plain SQL string (no parameters) outside the statement table: migrations, CLI. */
int db_exec_sql(db *d, arena *a, const char *sql, PGresult **ret);
int db_exec_params(db *d, arena *a, const char *sql, int n, const char *const *params, PGresult **ret);

/* SQLSTATE and message of the last -EIO failure ("" when none). */
const char *db_sqlstate(const db *d);
const char *db_error(const db *d);
/* Constraint named by the last -EIO failure ("" when none). */
const char *db_constraint(const db *d);

PGconn *db_conn(db *d);

/* Result helpers: the value at (row, col), or NULL for SQL NULL. */
const char *db_value(const PGresult *r, int row, int col);
