/*
 * export.c - the export job (data-exports queue, kind export) and the sweep
 * that deletes expired export files.
 *
 * The job streams `COPY (SELECT * FROM export_<kind>(owner, filters, csv))
 * TO STDOUT` (sql/0017_exports.sql) row by row into a temporary file in
 * exports_dir, then fsyncs it, renames it to <export id>.<format> and marks
 * the export ready: no export is ever held in memory whole. CSV comes from
 * COPY's own CSV writer (RFC 4180, a header line; text cells made
 * spreadsheet-safe by csv_safe in SQL); ndjson and json from COPY of
 * row_to_json text, written in CSV format with a quote and a delimiter that
 * JSON text never contains raw (0x01, 0x02), so each line is the JSON as
 * PostgreSQL printed it; json wraps the lines in one array as they stream.
 *
 * The COPY runs on a second connection of its own, in one REPEATABLE READ
 * transaction with the count of rows it will return (progress events need a
 * total: export_rows_estimate(), exact but for content), so the job's own
 * connection stays free for heartbeats, progress and cancellation while rows
 * stream. A failed, cancelled or interrupted
 * attempt leaves no file behind (one that died leaves its temporary file to
 * the next attempt, which deletes it); the export row says failed when the
 * job will not run again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "handlers.h"
#include "metrics.h"
#include "validate.h"

#define OUT_BUFFER (256 * 1024)
#define CHECK_EVERY_MS 200 /* job_alive and progress while rows stream */

static const char bom[] = "\xEF\xBB\xBF";

/* The kinds, and the SQL function that lists each (one source: the migration's functions). */
static const struct {
	const char *kind, *function;
} kinds[] = {
	{ "campaigns", "export_campaigns" }, { "content", "export_content" },	  { "contacts", "export_contacts" },
	{ "sends", "export_sends" },	     { "analytics", "export_analytics" }, { "usage", "export_usage" },
};

enum format { FORMAT_CSV, FORMAT_NDJSON, FORMAT_JSON };

static const char *const format_names[] = { [FORMAT_CSV] = "csv", [FORMAT_NDJSON] = "ndjson", [FORMAT_JSON] = "json" };

struct export {
	struct job *job;
	const char *id, *kind, *function, *filters;
	enum format format;
	bool bom;
	int fd;
	char *out;
	size_t used;
	long long rows, bytes;
	int total;
	int64_t next_check_ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const char *s, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, s + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}

static int flush_out(struct export *e)
{
	int rc = write_all(e->fd, e->out, e->used);
	e->used = 0;
	return rc;
}

/* Buffers n bytes for the file (a piece larger than the buffer goes straight through). */
static int put(struct export *e, const char *s, size_t n)
{
	e->bytes += (long long)n;
	if (e->used + n > OUT_BUFFER) {
		int rc = flush_out(e);
		if (rc < 0)
			return rc;
	}
	if (n > OUT_BUFFER)
		return write_all(e->fd, s, n);
	memcpy(e->out + e->used, s, n);
	e->used += n;
	return 0;
}

/* One row as COPY sent it (ending in '\n'): counted and written in the format's framing. */
static int put_row(struct export *e, const char *row, int len, bool header)
{
	if (header)
		return put(e, row, (size_t)len);
	e->rows++;
	if (e->format != FORMAT_JSON)
		return put(e, row, (size_t)len);
	int rc = put(e, e->rows == 1 ? "\n" : ",\n", e->rows == 1 ? 1 : 2);
	return rc < 0 ? rc : put(e, row, (size_t)(len > 0 && row[len - 1] == '\n' ? len - 1 : len));
}

/* The query of the export, with the owner and filters as escaped literals (COPY takes no parameters). */
static const char *copy_sql(struct export *e, PGconn *c)
{
	struct job *j = e->job;
	char *owner = PQescapeLiteral(c, j->user_id, strlen(j->user_id));
	char *filters = PQescapeLiteral(c, e->filters, strlen(e->filters));
	const char *sql = NULL;
	if (owner && filters) {
		const char *rows = arena_printf(j->arena, "%s(%s::uuid, %s::jsonb, %s)", e->function, owner, filters,
						e->format == FORMAT_CSV ? "true" : "false");
		sql = e->format == FORMAT_CSV
			      ? arena_printf(j->arena, "COPY (SELECT * FROM %s) TO STDOUT (FORMAT csv, HEADER)", rows)
			      : arena_printf(j->arena, "COPY (SELECT row_to_json(t)::text FROM %s t) TO STDOUT"
						       " (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')", rows);
		e->total = -1;
		/* the progress total (exact, or an upper bound for content): same snapshot, run first */
		char *kind = PQescapeLiteral(c, e->kind, strlen(e->kind));
		const char *count = arena_printf(j->arena, "SELECT export_rows_estimate(%s, %s::uuid, %s::jsonb)",
						 kind ? kind : "NULL", owner, filters);
		PQfreemem(kind);
		PGresult *r = PQexec(c, count);
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			long long n = atoll(PQgetvalue(r, 0, 0));
			e->total = n > 2000000000 ? 2000000000 : (int)n;
		} else {
			j->error = arena_printf(j->arena, "counting the rows: %s", PQresultErrorMessage(r));
			sql = NULL;
		}
		PQclear(r);
	}
	PQfreemem(owner);
	PQfreemem(filters);
	return sql;
}

/* Progress and liveness while rows stream; false when the job must stop. */
static bool still_wanted(struct export *e)
{
	int64_t now = mono_ms();
	if (now < e->next_check_ms)
		return true;
	e->next_check_ms = now + CHECK_EVERY_MS;
	/* the total may be an upper bound (content), or too low if rows came meanwhile: never past it */
	int done = e->rows >= e->total ? (e->total > 0 ? e->total - 1 : 0) : (int)e->rows;
	return job_progress(e->job, done, e->total);
}

/* Runs the COPY on c and writes every row; 0, -ECANCELED (the job must stop) or -EIO with j->error. */
static int stream(struct export *e, PGconn *c, const char *sql)
{
	struct job *j = e->job;
	PGresult *r = PQexec(c, sql);
	bool started = PQresultStatus(r) == PGRES_COPY_OUT;
	if (!started)
		j->error = arena_printf(j->arena, "COPY: %s", PQresultErrorMessage(r));
	PQclear(r);
	if (!started)
		return -EIO;
	int rc = 0;
	bool header = e->format == FORMAT_CSV;
	while (rc == 0) {
		char *row;
		int n = PQgetCopyData(c, &row, 1);
		if (n > 0) {
			rc = put_row(e, row, n, header);
			header = false;
			PQfreemem(row);
			if (rc < 0)
				j->error = arena_printf(j->arena, "writing the file: %s", strerror(-rc));
			else if ((e->rows & 1023) == 0 && !still_wanted(e))
				rc = -ECANCELED;
			continue;
		}
		if (n == -1)
			break;
		if (n == -2) {
			j->error = arena_printf(j->arena, "COPY: %s", PQerrorMessage(c));
			return -EIO;
		}
		struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
		poll(&pfd, 1, CHECK_EVERY_MS);
		if (!PQconsumeInput(c)) {
			j->error = arena_printf(j->arena, "COPY: %s", PQerrorMessage(c));
			return -EIO;
		}
		if (!still_wanted(e))
			rc = -ECANCELED;
	}
	if (rc < 0)
		return rc; /* the connection is closed with its transaction unfinished */
	while ((r = PQgetResult(c))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0) {
			j->error = arena_printf(j->arena, "COPY: %s", PQresultErrorMessage(r));
			rc = -EIO;
		}
		PQclear(r);
	}
	return rc;
}

static void free_db(void *d)
{
	db_free(d);
}

/* Writes the whole file to e->fd: BOM or opening bracket, the rows, the closing bracket; flushed. */
static int write_file(struct export *e)
{
	struct job *j = e->job;
	const struct config *cfg = job_config(j);
	db *copy = db_new(cfg->database_url, cfg->database_password, false);
	arena_defer(j->arena, free_db, copy);
	PGconn *c = db_conn(copy);
	PGresult *r;
	if (!c || PQstatus(c) != CONNECTION_OK) {
		j->error = arena_printf(j->arena, "connecting for the COPY: %s", db_error(copy));
		return -EIO;
	}
	r = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
		      " SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'");
	bool begun = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!begun)
		j->error = arena_printf(j->arena, "BEGIN: %s", PQresultErrorMessage(r));
	PQclear(r);
	if (!begun)
		return -EIO;
	const char *sql = copy_sql(e, c);
	if (!sql)
		return -EIO;
	int rc = 0;
	if (e->bom)
		rc = put(e, bom, sizeof(bom) - 1);
	if (rc == 0 && e->format == FORMAT_JSON)
		rc = put(e, "[", 1);
	if (rc == 0)
		rc = stream(e, c, sql);
	if (rc == 0 && e->format == FORMAT_JSON)
		rc = put(e, e->rows ? "\n]\n" : "]\n", e->rows ? 3 : 2);
	if (rc == 0)
		rc = flush_out(e);
	if (rc == 0 && fsync(e->fd) < 0)
		rc = -errno;
	if (rc < 0 && !j->error)
		j->error = arena_printf(j->arena, "writing the file: %s", strerror(-rc));
	r = PQexec(c, "COMMIT");
	PQclear(r);
	return rc;
}

/* fsync of the directory, so the rename survives a crash. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* The export's row is told the job will not run again (failed or cancelled). */
static void mark_failed(struct export *e, const char *why)
{
	const char *p[] = { e->id, why };
	PGresult *res;
	db_exec(job_db(e->job), e->job->arena, STMT_EXPORT_FAIL, p, &res);
}

/* Loads the export row into e; an outcome other than JOB_COMPLETED when it cannot run. */
static enum job_outcome load(struct export *e)
{
	struct job *j = e->job;
	const char *p[] = { e->id, j->user_id };
	PGresult *res;
	if (db_exec(job_db(j), j->arena, STMT_EXPORT_START, p, &res) < 0) {
		j->error = arena_printf(j->arena, "reading the export: %s", db_error(job_db(j)));
		return JOB_RETRY;
	}
	if (PQntuples(res) == 0) {
		j->error = "the export was deleted, or has already finished";
		return JOB_FAILED;
	}
	const char *kind = PQgetvalue(res, 0, 0), *format = PQgetvalue(res, 0, 1);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0) {
			e->kind = kinds[i].kind;
			e->function = kinds[i].function;
		}
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(format_names[i], format) == 0)
			e->format = (enum format)i;
	e->bom = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	e->filters = PQgetvalue(res, 0, 3);
	if (!e->function) {
		j->error = arena_printf(j->arena, "unknown export kind %s", kind);
		return JOB_FAILED;
	}
	return JOB_COMPLETED;
}

static void close_fd(void *fd)
{
	close(*(int *)fd);
}

/* Writes the file and publishes it under its name; the outcome of the attempt. */
static enum job_outcome produce(struct export *e)
{
	struct job *j = e->job;
	const struct config *cfg = job_config(j);
	const char *name = arena_printf(j->arena, "%s.%s", e->id, format_names[e->format]);
	const char *path = arena_printf(j->arena, "%s/%s", cfg->exports_dir, name);
	const char *tmp = arena_printf(j->arena, "%s/.%s.%d.tmp", cfg->exports_dir, e->id, j->attempt);
	if (mkdir(cfg->exports_dir, 0750) < 0 && errno != EEXIST) {
		j->error = arena_printf(j->arena, "exports_dir %s: %s", cfg->exports_dir, strerror(errno));
		return JOB_RETRY;
	}
	/* what an earlier attempt that died (a crash, a kill) left behind */
	for (int attempt = 1; attempt < j->attempt; attempt++)
		unlink(arena_printf(j->arena, "%s/.%s.%d.tmp", cfg->exports_dir, e->id, attempt));
	e->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (e->fd < 0) {
		j->error = arena_printf(j->arena, "creating %s: %s", tmp, strerror(errno));
		return JOB_RETRY;
	}
	int *fd = arena_alloc(j->arena, sizeof(*fd));
	*fd = e->fd;
	arena_defer(j->arena, close_fd, fd);
	e->out = arena_alloc(j->arena, OUT_BUFFER);
	int rc = write_file(e);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		if (rc == -ECANCELED)
			return j->cancelled ? JOB_CANCELLED : JOB_RELEASE;
		return JOB_RETRY;
	}
	sync_dir(cfg->exports_dir);
	char rows[24], bytes[24], ttl[24];
	snprintf(rows, sizeof(rows), "%lld", e->rows);
	snprintf(bytes, sizeof(bytes), "%lld", e->bytes);
	snprintf(ttl, sizeof(ttl), "%ld", cfg->export_ttl);
	const char *p[] = { e->id, rows, bytes, name, ttl };
	PGresult *res = NULL;
	if (db_exec(job_db(j), j->arena, STMT_EXPORT_READY, p, &res) < 0) {
		unlink(path); /* no file without a ready row */
		j->error = arena_printf(j->arena, "marking the export ready: %s", db_error(job_db(j)));
		return JOB_RETRY;
	}
	if (PQntuples(res) == 0) {
		unlink(path);
		j->error = "the export was deleted while it was written";
		return JOB_FAILED;
	}
	metrics_count(MC_EXPORTS_READY, 1);
	metrics_count(MC_EXPORT_BYTES, (uint64_t)e->bytes);
	j->result = arena_printf(j->arena, "{\"exportId\":\"%s\",\"rows\":%lld,\"bytes\":%lld}", e->id, e->rows,
				 e->bytes);
	/* the last event says what was written: done == total == rows */
	int rows_int = e->rows > 2000000000 ? 2000000000 : (int)e->rows;
	job_progress(j, rows_int, rows_int);
	return JOB_COMPLETED;
}

enum job_outcome job_export(struct job *j)
{
	struct export e = { .job = j, .fd = -1, .id = vget_str(j->payload, "exportId") };
	if (!e.id || !is_uuid(e.id) || !j->user_id) {
		j->error = "the job names no export (payload.exportId) or no owner";
		return JOB_FAILED;
	}
	enum job_outcome o = load(&e);
	if (o == JOB_COMPLETED)
		o = produce(&e);
	bool last = o == JOB_FAILED || o == JOB_CANCELLED || (o == JOB_RETRY && j->attempt >= j->max_attempts);
	if (last)
		mark_failed(&e, o == JOB_CANCELLED ? "cancelled" : j->error ? j->error : "failed");
	return o;
}

int export_sweep(db *d, arena *a, const struct config *cfg, long *removed)
{
	const char *p[] = { "500" };
	PGresult *res;
	int rc = db_exec(d, a, STMT_EXPORT_EXPIRE, p, &res);
	if (rc < 0)
		return rc;
	*removed = 0;
	int failed = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		if (PQgetisnull(res, i, 1))
			continue;
		const char *path = arena_printf(a, "%s/%s", cfg->exports_dir, PQgetvalue(res, i, 1));
		if (unlink(path) == 0 || errno == ENOENT)
			(*removed)++;
		else
			failed = -errno;
	}
	return failed;
}
