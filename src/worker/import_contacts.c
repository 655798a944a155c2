/*
 * import_contacts.c - the import-contacts job (data-exports queue): loads a
 * CSV that POST /api/contacts/import staged in contact_imports.
 *
 * The CSV is read once in C (csv.h for RFC 4180, contact_csv.h for what the
 * columns mean); every line that fails a check is reported as {line, reason}
 * and left out whole. The good lines go with COPY into a temporary table and
 * contact_import_apply() (sql/0012_contacts.sql) upserts them in the same
 * transaction: new contacts are inserted, existing ones get their names and
 * attributes updated but never their status (no resubscribing), every one
 * joins the list when the upload named one, and the staging row is deleted.
 * So an import is loaded entirely or not at all, and runs at most once: a
 * retry after a crash between that commit and the job's own finish finds no
 * staging row and fails saying so, having changed nothing more. The load
 * sends no heartbeats, so the job's heartbeat is first moved ahead
 * (job_extend) by a minute plus a second per 2000 good lines.
 *
 * Result: {imported, updated, skipped: [{line, reason}] (the first
 * SKIPPED_LISTED by line), skippedCount}.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "contact_csv.h"
#include "csv.h"
#include "handlers.h"
#include "json.h"
#include "skipped.h"
#include "validate.h"

#define COPY_CHUNK (1 << 20)

struct import {
	struct job *job;
	struct skipped skipped;
	buf copy;	/* COPY text rows of the good lines */
	long good;
};

/* Appends s as a COPY text-format value (backslash escapes), or \N for NULL. */
static void copy_value(buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "\\N");
		return;
	}
	for (; *s; s++) {
		switch (*s) {
		case '\\': buf_puts(b, "\\\\"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		default: buf_putc(b, *s);
		}
	}
}

static void copy_row(struct import *im, long line, const struct contact_row *row)
{
	buf *b = &im->copy;
	buf_printf(b, "%ld\t", line);
	copy_value(b, row->email);
	buf_putc(b, '\t');
	copy_value(b, row->first_name);
	buf_putc(b, '\t');
	copy_value(b, row->last_name);
	buf_putc(b, '\t');
	copy_value(b, row->attributes);
	buf_putc(b, '\n');
	im->good++;
}

static void free_arena(void *a)
{
	arena_free(a);
}

/*
 * Reads every record of csv: good ones into im->copy, bad ones into
 * im->skipped. -EINVAL with j->error when the header is unusable;
 * -ECANCELED when the job must stop.
 */
static int read_csv(struct import *im, const char *csv, size_t len)
{
	struct job *j = im->job;
	struct csv_reader c;
	struct csv_record rec;
	struct contact_csv_header header;
	const char *why;
	csv_init(&c, j->arena, csv, len, CONTACT_CSV_MAX_RECORD, CONTACT_CSV_MAX_FIELDS);
	int rc = csv_next(&c, &rec);
	if (rc <= 0 || contact_csv_header(j->arena, &rec, &header, &why) < 0) {
		j->error = rc == 0  ? "the CSV is empty"
			   : rc < 0 ? arena_printf(j->arena, "the header line is malformed: %s", c.error)
				    : why;
		return -EINVAL;
	}
	buf_init(&im->copy, j->arena, len + len / 4 + 64);
	/* What one line needs lives in a scratch arena reset per line; a skip reason is copied out. */
	arena *line = arena_new(8192);
	arena_defer(j->arena, free_arena, line);
	for (long n = 0; (rc = csv_next(&c, &rec)) != 0; n++) {
		if (n % 2000 == 0 && !job_alive(j))
			return -ECANCELED;
		struct contact_row row;
		arena_reset(line);
		if (rc < 0)
			skipped_add(&im->skipped, rec.line, c.error);
		else if (csv_record_blank(&rec))
			continue;
		else if (contact_csv_row(line, &header, &rec, &row, &why) < 0)
			skipped_add(&im->skipped, rec.line, arena_strdup(j->arena, why));
		else
			copy_row(im, rec.line, &row);
	}
	return 0;
}

/* COPY im->copy into the transaction's contact_import_rows. */
static int copy_rows(struct import *im, db *d)
{
	PGconn *conn = db_conn(d);
	PGresult *r = PQexec(conn, "COPY pg_temp.contact_import_rows (line, email, first_name, last_name, attributes)"
				   " FROM STDIN");
	bool started = PQresultStatus(r) == PGRES_COPY_IN;
	const char *error = started ? NULL : arena_strdup(im->job->arena, PQresultErrorMessage(r));
	PQclear(r);
	if (!started) {
		im->job->error = arena_printf(im->job->arena, "COPY: %s", error);
		return -EIO;
	}
	int rc = 0;
	for (size_t off = 0; off < im->copy.len && rc == 0; off += COPY_CHUNK) {
		size_t n = im->copy.len - off < COPY_CHUNK ? im->copy.len - off : COPY_CHUNK;
		if (PQputCopyData(conn, im->copy.data + off, (int)n) != 1)
			rc = -EIO;
	}
	if (PQputCopyEnd(conn, rc < 0 ? "import stopped" : NULL) != 1)
		rc = -EIO;
	while ((r = PQgetResult(conn))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0) {
			im->job->error = arena_printf(im->job->arena, "COPY: %s", PQresultErrorMessage(r));
			rc = -EIO;
		}
		PQclear(r);
	}
	if (rc < 0 && !im->job->error)
		im->job->error = arena_printf(im->job->arena, "COPY: %s", PQerrorMessage(conn));
	return rc;
}

/* A database failure: retried unless the data itself was refused (classes 22, 23). */
static enum job_outcome db_failure(struct job *j, db *d, const char *what)
{
	if (!j->error)
		j->error = arena_printf(j->arena, "%s: %s", what, db_error(d));
	const char *state = db_sqlstate(d);
	return strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ? JOB_FAILED : JOB_RETRY;
}

/* Loads the good rows in one transaction; *applied gets contact_import_apply()'s JSON (NULL: staging row gone). */
static enum job_outcome load(struct import *im, const char *import_id, const char **applied)
{
	struct job *j = im->job;
	db *d = job_db(j);
	PGresult *res;
	const char *p[] = { import_id, j->user_id };
	if (db_exec_sql(d, j->arena, "BEGIN", &res) < 0)
		return db_failure(j, d, "BEGIN");
	enum job_outcome o = JOB_COMPLETED;
	if (db_exec(d, j->arena, STMT_CONTACT_IMPORT_BEGIN, NULL, &res) < 0)
		o = db_failure(j, d, "staging table");
	else if (copy_rows(im, d) < 0)
		o = db_failure(j, d, "COPY");
	else if (db_exec(d, j->arena, STMT_CONTACT_IMPORT_APPLY, p, &res) < 0)
		o = db_failure(j, d, "loading the contacts");
	else
		*applied = db_value(res, 0, 0);
	if (o == JOB_COMPLETED && *applied && db_exec_sql(d, j->arena, "COMMIT", &res) < 0)
		return db_failure(j, d, "COMMIT");
	if (o != JOB_COMPLETED || !*applied)
		db_exec_sql(d, j->arena, "ROLLBACK", &res);
	return o;
}

/* {imported, updated, skipped, skippedCount} from apply's {imported, updated, repeats} and im->skipped. */
static const char *result_json(struct import *im, json_object *applied)
{
	struct job *j = im->job;
	json_object *repeats = json_object_object_get(applied, "repeats");
	for (size_t i = 0; i < json_object_array_length(repeats); i++) {
		json_object *r = json_object_array_get_idx(repeats, i);
		skipped_add(&im->skipped, json_object_get_int64(json_object_object_get(r, "line")),
		     arena_printf(j->arena, "repeats the email of line %ld",
				  (long)json_object_get_int64(json_object_object_get(r, "firstLine"))));
	}
	buf b;
	buf_init(&b, j->arena, 256 + 64 * (im->skipped.n < SKIPPED_LISTED ? im->skipped.n : SKIPPED_LISTED));
	buf_printf(&b, "{\"imported\":%ld,\"updated\":%ld,",
		   (long)json_object_get_int64(json_object_object_get(applied, "imported")),
		   (long)json_object_get_int64(json_object_object_get(applied, "updated")));
	skipped_write(&im->skipped, &b);
	buf_putc(&b, '}');
	return buf_cstr(&b);
}

enum job_outcome job_import_contacts(struct job *j)
{
	const char *import_id = vget_str(j->payload, "importId");
	if (!import_id || !is_uuid(import_id) || !j->user_id) {
		j->error = "the job names no import (payload.importId) or no owner";
		return JOB_FAILED;
	}
	db *d = job_db(j);
	PGresult *res;
	const char *p[] = { import_id, j->user_id };
	if (db_exec(d, j->arena, STMT_CONTACT_IMPORT_LOAD, p, &res) < 0)
		return db_failure(j, d, "reading the upload");
	if (PQntuples(res) == 0) {
		j->error = "the upload is gone: it was imported already, or its list was deleted";
		return JOB_FAILED;
	}
	struct import im = { .job = j };
	skipped_init(&im.skipped, j->arena);
	int rc = read_csv(&im, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	if (rc < 0)
		return rc == -ECANCELED ? (j->cancelled ? JOB_CANCELLED : JOB_RELEASE) : JOB_FAILED;
	/* The load is one transaction without heartbeats: tens of seconds for 20 MiB on a busy machine. */
	long lease = 60 + im.good / 2000;
	if (!job_extend(j, lease > 3600 ? 3600 : (int)lease))
		return j->cancelled ? JOB_CANCELLED : JOB_RELEASE;
	const char *applied_text = NULL;
	enum job_outcome o = load(&im, import_id, &applied_text);
	if (o != JOB_COMPLETED)
		return o;
	if (!applied_text) {
		j->error = "the upload is gone: it was imported already, or its list was deleted";
		return JOB_FAILED;
	}
	json_object *applied;
	if (json_parse_trusted(j->arena, applied_text, &applied) < 0) {
		j->error = "contact_import_apply() returned malformed JSON";
		return JOB_FAILED;
	}
	j->result = result_json(&im, applied);
	return JOB_COMPLETED;
}
