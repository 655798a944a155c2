/*
 * analytics.c - the analytics-processing queue (issue #12): rollups,
 * partition maintenance and ad-platform report imports.
 *
 * analytics-rollup: moves pending events into analytics_hourly and
 * analytics_daily, ROLLUP_BATCH events per transaction (analytics_rollup()
 * in sql/0015_analytics.sql: what it counted is deleted from
 * analytics_pending in the same transaction, so a re-run or a retry after a
 * crash counts nothing twice). Ingestion requests the job (at most one waits
 * at a time), and the worker's minute tick requests it when events are still
 * pending. Result: {rounds, campaigns: [ids touched]}.
 *
 * analytics-partitions: once a day (the worker's tick queues it under a
 * per-day idempotency key, so also at start-up when today's has not run):
 * the monthly partitions of analytics_events up to PARTITIONS_AHEAD months
 * ahead, and eventId keys past the deduplication window pruned.
 *
 * import-analytics: an upload of POST /api/analytics/import, read in one
 * transaction that first deletes its staging row (a second run finds nothing
 * and fails saying so). Each line becomes up to four events of its day
 * (impression, click and conversion counts as quantities, the cost as a
 * spend event, revenue as the conversions' value) at 12:00 UTC, keyed
 * import:<day>:<contentId>:<type>, so re-importing a report counts its lines
 * as duplicates. Result: {lines, events, duplicates, skipped: [{line,
 * reason}], skippedCount, dialect}.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "handlers.h"
#include "json.h"
#include "report_csv.h"
#include "skipped.h"
#include "validate.h"

#define ROLLUP_BATCH "20000"
#define ROLLUP_MAX_ROUNDS 500
#define PARTITIONS_AHEAD "3"
#define IMPORT_CHUNK_EVENTS 4000

/* A database failure: retried unless the data itself was refused (classes 22, 23). */
static enum job_outcome db_failure(struct job *j, db *d, const char *what)
{
	if (!j->error)
		j->error = arena_printf(j->arena, "%s: %s", what, db_error(d));
	const char *state = db_sqlstate(d);
	return strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ? JOB_FAILED : JOB_RETRY;
}

/* ---- analytics-rollup ---- */

/* Adds the ids of a uuid[] literal ("{a,b}") to the JSON array being built in b, once each. */
static void add_campaigns(buf *b, const char *ids)
{
	for (const char *p = ids + 1; *p && *p != '}'; p += *p == ',') {
		size_t n = strcspn(p, ",}");
		char quoted[40];
		if (n == 36) {
			snprintf(quoted, sizeof(quoted), "\"%.36s\"", p);
			buf_cstr(b);
			if (!strstr(b->data, quoted)) {
				if (b->len > 1)
					buf_putc(b, ',');
				buf_puts(b, quoted);
			}
		}
		p += n;
	}
}

enum job_outcome job_analytics_rollup(struct job *j)
{
	db *d = job_db(j);
	buf touched;
	buf_init(&touched, j->arena, 256);
	buf_putc(&touched, '[');
	int rounds = 0;
	for (; rounds < ROLLUP_MAX_ROUNDS; rounds++) {
		if (!job_alive(j))
			return j->cancelled ? JOB_CANCELLED : JOB_RELEASE;
		const char *p[] = { ROLLUP_BATCH };
		PGresult *res;
		if (db_exec(d, j->arena, STMT_ANALYTICS_ROLLUP, p, &res) < 0)
			return db_failure(j, d, "rollup");
		const char *campaigns = PQgetvalue(res, 0, 0);
		if (strcmp(campaigns, "{}") == 0)
			break;
		/* Committed: these campaigns' rollups just changed. A/B re-evaluation of their running
		 * tests (issue #12 section 3), after each commit; a failure there is a warning, not the
		 * rollup's (the next rollup of those campaigns evaluates them again). */
		add_campaigns(&touched, campaigns);
		const char *error = j->error;
		if (abtest_reevaluate_campaigns(j, campaigns) < 0) {
			j->warning = j->error;
			j->error = error;
		}
	}
	buf_putc(&touched, ']');
	j->result = arena_printf(j->arena, "{\"rounds\":%d,\"campaigns\":%s}", rounds, buf_cstr(&touched));
	return JOB_COMPLETED;
}

/* ---- analytics-partitions ---- */

enum job_outcome job_analytics_partitions(struct job *j)
{
	db *d = job_db(j);
	const char *p[] = { PARTITIONS_AHEAD };
	PGresult *res;
	if (db_exec(d, j->arena, STMT_ANALYTICS_PARTITIONS, p, &res) < 0)
		return db_failure(j, d, "partitions");
	j->result = arena_printf(j->arena, "{\"partitionsCreated\":%s,\"keysPruned\":%s}", PQgetvalue(res, 0, 0),
				 PQgetvalue(res, 0, 1));
	return JOB_COMPLETED;
}

/* ---- import-analytics ---- */

struct import {
	struct job *job;
	struct skipped skipped;
	buf events;		/* the chunk's events array, being built */
	int nevents;
	long lines, accepted, duplicates;
	bool unreadable;	/* no header maps: the upload is dropped */
};

static void event_add(struct import *im, long line, const struct report_row *row, const char *type, int64_t quantity,
		      const char *value)
{
	buf *b = &im->events;
	buf_puts(b, im->nevents ? ",{" : "{");
	buf_printf(b, "\"i\":%ld,\"eventId\":\"import:%s:%s:%s\",\"type\":\"%s\",\"contentId\":\"%s\","
		      "\"occurredAt\":\"%sT12:00:00Z\",\"quantity\":%" PRId64,
		   line, row->date, row->content_id, type, type, row->content_id, row->date, quantity);
	if (value)
		buf_printf(b, ",\"value\":%s", value);
	buf_putc(b, '}');
	im->nevents++;
}

/* Stores the chunk's events (the import's transaction is open); SQL's problems become skipped lines. */
static enum job_outcome flush(struct import *im)
{
	struct job *j = im->job;
	if (im->nevents == 0)
		return JOB_COMPLETED;
	buf_putc(&im->events, ']');
	db *d = job_db(j);
	const char *p[] = { j->user_id, buf_cstr(&im->events), "import" };
	PGresult *res;
	if (db_exec(d, j->arena, STMT_ANALYTICS_INGEST, p, &res) < 0)
		return db_failure(j, d, "storing the events");
	json_object *out;
	if (json_parse_trusted(j->arena, PQgetvalue(res, 0, 0), &out) < 0) {
		j->error = "analytics_ingest returned malformed JSON";
		return JOB_FAILED;
	}
	im->accepted += json_object_get_int64(json_object_object_get(out, "accepted"));
	im->duplicates += json_object_get_int64(json_object_object_get(out, "duplicates"));
	json_object *errors = json_object_object_get(out, "errors");
	for (size_t i = 0; i < json_object_array_length(errors); i++) {
		json_object *e = json_object_array_get_idx(errors, i);
		long line = (long)json_object_get_int64(json_object_object_get(e, "index"));
		if (!skipped_last_is(&im->skipped, line))
			im->lines--;
		const char *problem = json_object_get_string(json_object_object_get(e, "problem"));
		skipped_add(&im->skipped, line, arena_strdup(j->arena, problem));
	}
	buf_init(&im->events, j->arena, 1 << 16);
	buf_putc(&im->events, '[');
	im->nevents = 0;
	return JOB_COMPLETED;
}

/* One data line: its events into the chunk, or the reason it is skipped. */
static void line_read(struct import *im, const struct report_csv_header *h, const struct csv_record *rec)
{
	struct report_row row;
	const char *why;
	if (report_csv_row(im->job->arena, h, rec, &row, &why) < 0) {
		skipped_add(&im->skipped, rec->line, why);
		return;
	}
	if (row.revenue && row.conversions == 0) {
		skipped_add(&im->skipped, rec->line, "revenue without conversions");
		return;
	}
	int before = im->nevents;
	if (row.impressions)
		event_add(im, rec->line, &row, "impression", row.impressions, NULL);
	if (row.clicks)
		event_add(im, rec->line, &row, "click", row.clicks, NULL);
	if (row.conversions)
		event_add(im, rec->line, &row, "conversion", row.conversions, row.revenue);
	if (row.cost)
		event_add(im, rec->line, &row, "spend", 1, row.cost);
	if (im->nevents == before)
		skipped_add(&im->skipped, rec->line, "no figures: every count and amount is zero");
	else
		im->lines++;
}

static const char *import_result(struct import *im, const char *dialect)
{
	struct job *j = im->job;
	buf b;
	buf_init(&b, j->arena, 256 + 64 * (im->skipped.n < SKIPPED_LISTED ? im->skipped.n : SKIPPED_LISTED));
	buf_printf(&b, "{\"lines\":%ld,\"events\":%ld,\"duplicates\":%ld,\"dialect\":\"%s\",", im->lines,
		   im->accepted, im->duplicates, dialect);
	skipped_write(&im->skipped, &b);
	buf_putc(&b, '}');
	return buf_cstr(&b);
}

/* Reads body and stores its events, chunk by chunk, in the open transaction. */
static enum job_outcome import_body(struct import *im, const char *body, size_t len, const char **dialect)
{
	struct job *j = im->job;
	struct csv_reader c;
	struct csv_record rec;
	struct report_csv_header h;
	const char *why;
	csv_init(&c, j->arena, body, len, REPORT_CSV_MAX_RECORD, REPORT_CSV_MAX_FIELDS);
	if (report_csv_find_header(j->arena, &c, &h, &why) < 0) {
		j->error = why;
		im->unreadable = true;
		return JOB_FAILED;
	}
	*dialect = h.dialect;
	buf_init(&im->events, j->arena, 1 << 16);
	buf_putc(&im->events, '[');
	int rc;
	while ((rc = csv_next(&c, &rec)) != 0) {
		if (rc < 0)
			skipped_add(&im->skipped, rec.line, arena_printf(j->arena, "malformed: %s", c.error));
		else if (!csv_record_blank(&rec))
			line_read(im, &h, &rec);
		if (im->nevents >= IMPORT_CHUNK_EVENTS) {
			enum job_outcome o = flush(im);
			if (o != JOB_COMPLETED)
				return o;
		}
	}
	return flush(im);
}

enum job_outcome job_import_analytics(struct job *j)
{
	const char *import_id = vget_str(j->payload, "importId");
	if (!import_id || !is_uuid(import_id) || !j->user_id) {
		j->error = "the job names no import (payload.importId) or no owner";
		return JOB_FAILED;
	}
	long bytes = vget_int(j->payload, "bytes", 0);
	long lease = 60 + bytes / 100000; /* one transaction without heartbeats */
	if (!job_extend(j, lease > 3600 ? 3600 : (int)lease))
		return j->cancelled ? JOB_CANCELLED : JOB_RELEASE;
	db *d = job_db(j);
	PGresult *res;
	if (db_exec_sql(d, j->arena, "BEGIN", &res) < 0)
		return db_failure(j, d, "BEGIN");
	const char *p[] = { import_id, j->user_id };
	enum job_outcome o;
	struct import im = { .job = j };
	skipped_init(&im.skipped, j->arena);
	const char *dialect = "adcraft";
	if (db_exec(d, j->arena, STMT_ANALYTICS_IMPORT_TAKE, p, &res) < 0) {
		o = db_failure(j, d, "reading the upload");
	} else if (PQntuples(res) == 0) {
		j->error = "the upload is gone: it was imported already";
		o = JOB_FAILED;
	} else {
		o = import_body(&im, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), &dialect);
	}
	/* an upload whose header does not map is dropped with the failure: its deletion is committed */
	if (o == JOB_COMPLETED || im.unreadable) {
		if (db_exec_sql(d, j->arena, "COMMIT", &res) < 0)
			return db_failure(j, d, "COMMIT");
	} else {
		db_exec_sql(d, j->arena, "ROLLBACK", &res);
	}
	if (o != JOB_COMPLETED)
		return o;
	j->result = import_result(&im, dialect);
	return JOB_COMPLETED;
}
