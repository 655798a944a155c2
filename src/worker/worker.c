/*
 * worker.c - the job loop of one adcraft-worker process.
 *
 * Wake-ups come from NOTIFY adcraft_jobs (new or re-queued jobs), from the
 * next scheduled run_at, and from a rare poll as a safety net. Claims and
 * completions are batched: one statement claims up to worker_batch jobs of
 * the quick queues, and the call that claims the next batch also finishes the
 * one just run (job_finish_claim: one round trip, one commit per batch).
 * content-generation jobs are long, so they are claimed one at a time. After
 * a reconnect the LISTENs are re-issued by the db layer and the queue is
 * polled once, because notifications sent while we were away are lost.
 *
 * Any role that can connect may NOTIFY adcraft_cancel, so a notification is
 * only a hint: it makes the worker re-read the job's row, and the job stops
 * only if the row says it was cancelled (or is no longer this attempt's).
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "daemon.h"
#include "events.h"
#include "handlers.h"
#include "job.h"
#include "json.h"
#include "log.h"
#include "media.h"
#include "metrics.h"
#include "random.h"

#define STOP_GRACE_MS 8000 /* a job interrupted by SIGTERM gets this long to finish */
#define PRUNE_EVERY_MS (3600 * 1000)
#define ANALYTICS_TICK_MS (60 * 1000)

static const char quick_queues[] = "{email-sending,analytics-processing,data-exports}";
static const char slow_queues[] = "{content-generation}";
static const char all_queues[] = "{content-generation,email-sending,analytics-processing,data-exports}";
static const char *const queue_names[] = { "content-generation", "email-sending", "analytics-processing",
					   "data-exports" };

_Static_assert(JOB_RELEASE == METRICS_JOB_OUTCOMES - 1, "metrics.c names the outcomes in job.h's order");

struct worker {
	const struct config *cfg;
	db *db;
	char id[200];
	char hostname[128];
	unsigned db_generation;
	bool have_work; /* claim at the next turn of the loop */
	long long jobs_done;
	int64_t next_heartbeat, next_rescue, next_prune, next_export_sweep, next_analytics;
	struct job *current;
	bool current_lost;
	const char *batch_ids;	/* uuid[] literal of the batch in hand ("{}" when none) */
	const char *pending;	/* outcomes of the batch run last, finished by the next claim (its batch arena) */
	int npending;
	bool recheck_current;	/* adcraft_cancel named the running job: re-read its row */
	const char *cancelled[64]; /* batch jobs adcraft_cancel named: re-read their rows before starting */
	int ncancelled;
	arena *job_arena;   /* one job attempt */
	arena *batch_arena; /* the claim batch in hand */
	arena *spare_arena; /* the next batch's; holds the pending batch's outcomes and events meanwhile */
	arena *tick_arena;  /* maintenance statements */
	struct events events; /* this process's nchan publisher */
	struct later_event *after, **after_tail; /* published once the batch's outcomes are committed */
	struct later_event *pending_after; /* the pending batch's: published once its outcomes are committed */
};

/* An event held back until the batch's outcomes are committed (batch arena). */
struct later_event {
	struct event ev;
	struct later_event *next;
};

static volatile sig_atomic_t stop_requested; /* the only object the handler writes, with stop_pipe */
static int64_t stop_seen_at; /* monotonic ms when the loop first saw stop_requested */
static int stop_pipe[2] = { -1, -1 }; /* the handler writes a byte: poll() cannot miss a SIGTERM */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Past the grace period a SIGTERM gives the running job; the clock starts
 * when this process first notices the stop, not in the handler. */
static bool stop_grace_over(void)
{
	if (!stop_requested)
		return false;
	if (!stop_seen_at)
		stop_seen_at = mono_ms();
	return mono_ms() - stop_seen_at > STOP_GRACE_MS;
}

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
	int saved = errno;
	if (write(stop_pipe[1], "x", 1) < 0) {
		/* full pipe: a byte is already waiting */
	}
	errno = saved;
}

static void log_job(enum log_level level, const struct job *j, const char *event, const char *detail)
{
	if (!log_enabled(level))
		return;
	arena *a = arena_new(2048);
	buf b;
	buf_init(&b, a, 1024);
	log_begin(&b, level);
	log_str(&b, "jobId", j->id);
	log_str(&b, "queue", j->queue);
	log_str(&b, "kind", j->kind);
	log_int(&b, "attempt", j->attempt);
	log_str(&b, "event", event);
	if (detail)
		log_str(&b, "detail", detail);
	log_end(&b);
	arena_free(a);
}

/* ---- notifications and maintenance ------------------------------------- */

/* Whether id (a notification's payload, anyone's text) is a job of the batch in hand. */
static bool in_batch(const struct worker *w, const char *id)
{
	size_t n = strlen(id);
	if (!w->batch_ids || n != 36)
		return false;
	for (const char *p = strstr(w->batch_ids, id); p; p = strstr(p + 1, id))
		if ((p[-1] == '{' || p[-1] == ',') && (p[n] == '}' || p[n] == ','))
			return true;
	return false;
}

/*
 * Reads job j's row after a cancel notification: 1 when it was cancelled, 0 when it is still
 * this attempt's to run, -ESTALE when it is no longer ours (rescued, pruned), or a db error
 * (then the notification is ignored: heartbeats still catch a lost job).
 */
static int cancel_check(struct worker *w, const struct job *j)
{
	char attempt[16];
	snprintf(attempt, sizeof(attempt), "%d", j->attempt);
	const char *p[] = { j->id, w->id, attempt };
	PGresult *res;
	arena_reset(w->tick_arena);
	int rc = db_exec(w->db, w->tick_arena, STMT_JOB_CANCEL_CHECK, p, &res);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0)
		return -ESTALE;
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		return 1;
	return strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? 0 : -ESTALE;
}

static void pump_notifications(struct worker *w)
{
	PGconn *conn = db_conn(w->db);
	if (!conn || PQconsumeInput(conn) != 1)
		return;
	PGnotify *n;
	while ((n = PQnotifies(conn))) {
		if (strcmp(n->relname, "adcraft_jobs") == 0)
			w->have_work = true;
		else if (strcmp(n->relname, "adcraft_cancel") == 0) {
			if (w->current && strcmp(n->extra, w->current->id) == 0)
				w->recheck_current = true;
			else if (in_batch(w, n->extra) && w->ncancelled < 64) /* not started yet */
				w->cancelled[w->ncancelled++] = arena_strdup(w->batch_arena, n->extra);
		}
		PQfreemem(n);
	}
}

static void heartbeat(struct worker *w)
{
	char pid[16], done[24];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(done, sizeof(done), "%lld", w->jobs_done);
	const char *p[] = { w->id, w->hostname, pid, done, w->batch_ids ? w->batch_ids : "{}" };
	PGresult *res;
	arena_reset(w->tick_arena);
	if (db_exec(w->db, w->tick_arena, STMT_JOB_HEARTBEAT, p, &res) < 0)
		return;
	if (w->current) {
		bool mine = false;
		for (int i = 0; i < PQntuples(res); i++)
			mine |= strcmp(PQgetvalue(res, i, 0), w->current->id) == 0;
		if (!mine)
			w->current_lost = true; /* cancelled, or rescued by another worker */
	}
	w->next_heartbeat = mono_ms() + w->cfg->job_heartbeat_seconds * 1000;
}

static void rescue(struct worker *w)
{
	char stale[16];
	snprintf(stale, sizeof(stale), "%ld", w->cfg->job_stale_seconds);
	const char *p[] = { stale };
	PGresult *res;
	arena_reset(w->tick_arena);
	if (db_exec(w->db, w->tick_arena, STMT_JOB_RESCUE, p, &res) == 0 && PQntuples(res) > 0) {
		log_msg(LOG_WARN, "rescued %d job(s) from workers that stopped heartbeating", PQntuples(res));
		w->have_work = true;
	}
	w->next_rescue = mono_ms() + w->cfg->job_heartbeat_seconds * 1000;
}

static void prune(struct worker *w)
{
	char days[16];
	snprintf(days, sizeof(days), "%ld", w->cfg->job_retention_days);
	const char *p[] = { days };
	PGresult *res;
	long total = 0;
	for (int round = 0; round < 20; round++) {
		arena_reset(w->tick_arena);
		if (db_exec(w->db, w->tick_arena, STMT_JOB_PRUNE, p, &res) < 0)
			break;
		long n = atol(PQcmdTuples(res));
		total += n;
		if (n < 5000)
			break;
	}
	if (total)
		log_msg(LOG_INFO, "pruned %ld finished job(s) older than %ld days", total, w->cfg->job_retention_days);
	w->next_prune = mono_ms() + PRUNE_EVERY_MS;
}

/* Expired export files (export.c): every minute, or every export_ttl when that is shorter. */
static void sweep_exports(struct worker *w)
{
	long removed = 0;
	arena_reset(w->tick_arena);
	int rc = export_sweep(w->db, w->tick_arena, w->cfg, &removed);
	if (rc < 0 && rc != -ENOTCONN && rc != -EIO)
		log_msg(LOG_WARN, "expired exports: a file in %s could not be deleted: %s", w->cfg->exports_dir,
			strerror(-rc));
	if (removed)
		log_msg(LOG_INFO, "deleted %ld expired export file(s)", removed);
	long every = w->cfg->export_ttl < 60 ? w->cfg->export_ttl : 60;
	w->next_export_sweep = mono_ms() + every * 1000;
}

/*
 * Analytics upkeep (src/worker/analytics.c): queues today's analytics-partitions
 * job unless it exists (so at start-up and then daily), and a rollup job when
 * events are pending without one (a request lost to a race is made good here).
 */
static void analytics_tick(struct worker *w)
{
	PGresult *res;
	arena_reset(w->tick_arena);
	if (db_exec(w->db, w->tick_arena, STMT_ANALYTICS_TICK, NULL, &res) < 0)
		log_msg(LOG_WARN, "analytics maintenance failed: %s", db_error(w->db));
	w->next_analytics = mono_ms() + ANALYTICS_TICK_MS;
}

static void maintain(struct worker *w)
{
	int64_t now = mono_ms();
	if (now >= w->next_heartbeat)
		heartbeat(w);
	if (now >= w->next_rescue)
		rescue(w);
	if (now >= w->next_prune)
		prune(w);
	if (now >= w->next_export_sweep)
		sweep_exports(w);
	if (now >= w->next_analytics)
		analytics_tick(w);
}

/* ---- the handler-facing calls (job.h) ---------------------------------- */

bool job_alive(struct job *j)
{
	struct worker *w = j->worker;
	pump_notifications(w);
	if (w->recheck_current) {
		w->recheck_current = false;
		int rc = cancel_check(w, j);
		if (rc == 1)
			j->cancelled = true;
		else if (rc == -ESTALE)
			w->current_lost = true;
	}
	if (mono_ms() >= w->next_heartbeat)
		heartbeat(w);
	if (stop_grace_over())
		return false;
	return !j->cancelled && !w->current_lost;
}

/* ---- events --------------------------------------------------------------- */

static struct event job_event(const struct job *j, const char *type, const char *data)
{
	return (struct event){
		.type = type, .user_id = j->user_id, .campaign_id = j->campaign_id, .job_id = j->id, .data = data,
	};
}

static void publish(struct worker *w, const struct event *ev, arena *a)
{
	if (!ev->user_id || !events_enabled(&w->events))
		return;
	if (events_publish(&w->events, w->db, a, ev) < 0 && log_enabled(LOG_WARN)) {
		arena *la = arena_new(1024);
		buf b;
		buf_init(&b, la, 512);
		log_begin(&b, LOG_WARN);
		log_str(&b, "jobId", ev->job_id);
		log_str(&b, "event", "event not published");
		log_str(&b, "type", ev->type);
		log_str(&b, "detail", w->events.error);
		log_int(&b, "publishFailures", w->events.failed);
		log_end(&b);
		arena_free(la);
	}
}

void job_publish(struct job *j, const char *type, const char *data)
{
	struct event ev = job_event(j, type, data);
	publish(j->worker, &ev, j->arena);
}

void job_publish_after_for(struct job *j, const char *type, const char *user_id, const char *campaign_id,
			   const char *data)
{
	struct worker *w = j->worker;
	if (!user_id || !events_enabled(&w->events))
		return;
	struct later_event *l = arena_zalloc(w->batch_arena, sizeof(*l));
	l->ev = job_event(j, type, data ? arena_strdup(w->batch_arena, data) : NULL);
	l->ev.user_id = arena_strdup(w->batch_arena, user_id);
	l->ev.campaign_id = campaign_id ? arena_strdup(w->batch_arena, campaign_id) : NULL;
	if (!w->after_tail)
		w->after_tail = &w->after;
	*w->after_tail = l;
	w->after_tail = &l->next;
}

void job_publish_after(struct job *j, const char *type, const char *data)
{
	job_publish_after_for(j, type, j->user_id, j->campaign_id, data);
}

const char *job_progress_json(struct job *j, int done, int total, const char *extra)
{
	return arena_printf(j->arena, "{\"done\":%d,\"total\":%d,\"percent\":%d%s}", done, total,
			    total > 0 ? (int)((long)done * 100 / total) : 100, extra ? extra : "");
}

bool job_progress_due(struct job *j, int done, int total)
{
	int64_t now = mono_ms();
	if (done < total && now - j->progress_sent_ms < 100)
		return false;
	j->progress_sent_ms = now;
	return true;
}

/* {"queue":..,"kind":..,"attempt":n (the rest is the caller's)} without the closing brace. */
static void job_fields(buf *b, const struct job *j)
{
	buf_puts(b, "{\"queue\":");
	buf_json_str(b, j->queue);
	buf_puts(b, ",\"kind\":");
	buf_json_str(b, j->kind);
	buf_printf(b, ",\"attempt\":%d", j->attempt);
}

static void announce_started(struct job *j)
{
	if (!j->user_id)
		return;
	buf b;
	buf_init(&b, j->arena, 128);
	job_fields(&b, j);
	buf_putc(&b, '}');
	job_publish(j, "job:started", buf_cstr(&b));
}

static void announce_outcome(struct job *j, const struct job_kind *k, enum job_outcome o)
{
	if (!j->user_id || o == JOB_RELEASE)
		return;
	if (k && k->announce)
		k->announce(j, o);
	buf b;
	buf_init(&b, j->arena, 256 + (j->result ? strlen(j->result) : 0));
	job_fields(&b, j);
	const char *type = "job:completed";
	if (o == JOB_COMPLETED || o == JOB_CANCELLED) {
		buf_printf(&b, ",\"result\":%s}", j->result ? j->result : "null");
		type = o == JOB_COMPLETED ? "job:completed" : "job:cancelled";
	} else {
		buf_puts(&b, ",\"error\":");
		buf_json_str(&b, j->error ? j->error : "unknown error");
		buf_printf(&b, ",\"willRetry\":%s}", o == JOB_RETRY && j->attempt < j->max_attempts ? "true" : "false");
		type = "job:failed";
	}
	job_publish_after(j, type, buf_cstr(&b));
}

bool job_progress(struct job *j, int done, int total)
{
	char attempt[16], d[16], t[16];
	snprintf(attempt, sizeof(attempt), "%d", j->attempt);
	snprintf(d, sizeof(d), "%d", done);
	snprintf(t, sizeof(t), "%d", total);
	const char *p[] = { j->worker->id, j->id, attempt, d, t };
	PGresult *res;
	if (db_exec(j->worker->db, j->arena, STMT_JOB_PROGRESS, p, &res) == 0 && PQntuples(res) == 0)
		j->worker->current_lost = true;
	if (j->user_id && job_progress_due(j, done, total))
		job_publish(j, "job:progress", job_progress_json(j, done, total, NULL));
	return job_alive(j);
}

bool job_extend(struct job *j, int seconds)
{
	char attempt[16], secs[16];
	snprintf(attempt, sizeof(attempt), "%d", j->attempt);
	snprintf(secs, sizeof(secs), "%d", seconds);
	const char *p[] = { j->worker->id, j->id, attempt, secs };
	PGresult *res;
	if (db_exec(j->worker->db, j->arena, STMT_JOB_EXTEND, p, &res) == 0 && PQntuples(res) == 0)
		j->worker->current_lost = true;
	return job_alive(j);
}

const char *job_worker_id(struct job *j)
{
	return j->worker->id;
}

void job_lost(struct job *j)
{
	j->worker->current_lost = true;
}

db *job_db(struct job *j)
{
	return j->worker->db;
}

const struct config *job_config(struct job *j)
{
	return j->worker->cfg;
}

/* ---- claim, run, finish ------------------------------------------------- */

static const char *const outcome_names[] = {
	[JOB_COMPLETED] = "completed", [JOB_RETRY] = "retry", [JOB_FAILED] = "failed",
	[JOB_CANCELLED] = "cancelled", [JOB_RELEASE] = "release",
};

static bool heard_cancel(const struct worker *w, const char *id)
{
	for (int i = 0; i < w->ncancelled; i++)
		if (strcmp(w->cancelled[i], id) == 0)
			return true;
	return false;
}

static enum job_outcome run_one(struct worker *w, struct job *j)
{
	if (stop_requested)
		return JOB_RELEASE;
	pump_notifications(w);
	if (heard_cancel(w, j->id)) {
		int rc = cancel_check(w, j);
		if (rc == 1)
			return JOB_CANCELLED; /* cancelled while it waited in the batch */
		if (rc == -ESTALE)
			return JOB_RELEASE; /* not ours any more: the fenced finish leaves it alone */
	}
	const struct job_kind *k = job_kind_find(j->queue, j->kind);
	if (!k) {
		j->error = arena_printf(j->arena, "unsupported job kind \"%s\" on queue \"%s\"", j->kind, j->queue);
		return JOB_FAILED;
	}
	w->current = j;
	w->current_lost = false;
	w->recheck_current = false;
	announce_started(j);
	enum job_outcome o = k->run(j);
	w->current = NULL;
	if (j->cancelled && o != JOB_COMPLETED)
		o = JOB_CANCELLED;
	else if (o != JOB_COMPLETED && stop_grace_over())
		o = JOB_RELEASE;
	if (!w->current_lost)
		announce_outcome(j, k, o);
	return o;
}

static enum job_outcome unreadable_payload(struct job *j)
{
	j->error = "the job's payload is not JSON";
	return JOB_FAILED;
}

static void append_outcome(buf *out, const struct job *j, enum job_outcome o)
{
	buf_printf(out, "%s{\"id\":\"%s\",\"attempt\":%d,\"outcome\":\"%s\",\"result\":%s,\"error\":", out->len > 1 ? "," : "",
		   j->id, j->attempt, outcome_names[o], j->result ? j->result : "null");
	buf_json_str(out, j->error);
	buf_putc(out, '}');
}

/*
 * Finishes the batch run last (w->pending, if any) and claims up to limit jobs of queues in one
 * statement (limit 0: finish only). If that fails (say, the database is gone), the outcomes stay
 * pending and go with the next call after reconnecting; the jobs stay fenced, so one rescued
 * meanwhile no longer matches. Returns the claimed rows in *res, or -1.
 */
static int finish_claim(struct worker *w, const char *queues, int limit, PGresult **res)
{
	char n[16];
	snprintf(n, sizeof(n), "%d", limit);
	const char *p[] = { w->id, w->pending ? w->pending : "[]", queues, n };
	arena_reset(w->spare_arena);
	if (db_exec(w->db, w->spare_arena, STMT_JOB_FINISH_CLAIM, p, res) < 0) {
		if (w->pending)
			log_msg(LOG_ERROR, "finishing %d job(s) failed (retrying after reconnect; else rescued): %s",
				w->npending, db_error(w->db));
		else
			log_msg(LOG_ERROR, "claim failed: %s", db_error(w->db));
		return -1;
	}
	/* the pending outcomes are committed: their events may go out, their arena is free */
	for (struct later_event *l = w->pending_after; l; l = l->next)
		publish(w, &l->ev, w->batch_arena);
	w->pending_after = NULL;
	w->pending = NULL;
	w->npending = 0;
	arena *t = w->batch_arena;
	w->batch_arena = w->spare_arena;
	w->spare_arena = t;
	return 0;
}

/* Finishes the batch run last, claims up to limit jobs from queues and runs them; returns how
 * many were claimed. Their outcomes are pending until the next call (or worker_flush). */
static int claim_and_run(struct worker *w, const char *queues, int limit)
{
	PGresult *res;
	if (finish_claim(w, queues, limit, &res) < 0)
		return 0;
	int rows = PQntuples(res);
	if (rows == 0)
		return 0;
	buf ids;
	buf_init(&ids, w->batch_arena, (size_t)rows * 40 + 4);
	buf_putc(&ids, '{');
	for (int i = 0; i < rows; i++)
		buf_printf(&ids, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
	buf_putc(&ids, '}');
	w->batch_ids = buf_cstr(&ids);
	w->ncancelled = 0;
	w->after = NULL;
	w->after_tail = &w->after;
	buf out;
	buf_init(&out, w->batch_arena, 256 + (size_t)rows * 128);
	buf_putc(&out, '[');
	for (int i = 0; i < rows; i++) {
		arena_reset(w->job_arena);
		struct job j = {
			.arena = w->job_arena,
			.worker = w,
			.id = PQgetvalue(res, i, 0),
			.queue = PQgetvalue(res, i, 1),
			.kind = PQgetvalue(res, i, 2),
			.payload_text = PQgetvalue(res, i, 3),
			.attempt = atoi(PQgetvalue(res, i, 4)),
			.max_attempts = atoi(PQgetvalue(res, i, 5)),
			.user_id = db_value(res, i, 6),
			.campaign_id = db_value(res, i, 7),
		};
		int64_t started = mono_ms();
		enum job_outcome o = json_parse_trusted(j.arena, j.payload_text, &j.payload) == 0 ? run_one(w, &j)
												   : unreadable_payload(&j);
		metrics_job(j.queue, j.kind, (int)o, mono_ms() - started);
		append_outcome(&out, &j, o);
		if (j.warning)
			log_job(LOG_WARN, &j, "warning", j.warning);
		if (o == JOB_COMPLETED)
			w->jobs_done++;
		if (o == JOB_RETRY || o == JOB_FAILED)
			log_job(LOG_WARN, &j, o == JOB_RETRY ? "attempt failed" : "failed", j.error);
		else if (o == JOB_CANCELLED)
			log_job(LOG_INFO, &j, "cancelled", NULL);
		else if (o == JOB_RELEASE)
			log_job(LOG_INFO, &j, "released for another worker", NULL);
	}
	buf_putc(&out, ']');
	w->pending = buf_cstr(&out);
	w->npending = rows;
	w->pending_after = w->after;
	w->after = NULL;
	w->after_tail = &w->after;
	w->batch_ids = NULL;
	w->ncancelled = 0;
	return rows;
}

/* Finishes the batch run last without claiming (before sleeping or exiting). */
static void worker_flush(struct worker *w)
{
	PGresult *res;
	if (w->pending)
		finish_claim(w, all_queues, 0, &res);
}

/* Milliseconds until the next scheduled job is due, capped by the poll interval. */
static int idle_timeout(struct worker *w)
{
	int64_t timeout = w->cfg->job_poll_seconds * 1000;
	const char *p[] = { all_queues };
	PGresult *res;
	arena_reset(w->tick_arena);
	if (db_exec(w->db, w->tick_arena, STMT_JOB_NEXT_DUE, p, &res) == 0 && !PQgetisnull(res, 0, 0)) {
		double due = atof(PQgetvalue(res, 0, 0)) * 1000;
		if (due < timeout)
			timeout = due < 0 ? 0 : (int64_t)due + 1;
	}
	int64_t hb = w->next_heartbeat - mono_ms();
	if (hb < timeout)
		timeout = hb < 0 ? 0 : hb;
	int64_t sweep = w->next_export_sweep - mono_ms();
	if (sweep < timeout)
		timeout = sweep < 0 ? 0 : sweep;
	return (int)timeout;
}

static void wait_for_work(struct worker *w, int timeout_ms)
{
	/* libpq queues notifications it meets while reading query results: the
	 * socket can be quiet while work is already announced. Look first. */
	pump_notifications(w);
	if (w->have_work)
		return;
	PGconn *conn = db_conn(w->db);
	struct pollfd pfd[2] = {
		{ .fd = conn ? PQsocket(conn) : -1, .events = POLLIN },
		{ .fd = stop_pipe[0], .events = POLLIN },
	};
	if (timeout_ms <= 0)
		return;
	if (poll(pfd, 2, timeout_ms) > 0 && (pfd[0].revents & POLLIN))
		pump_notifications(w);
}

/* ---- the process -------------------------------------------------------- */

void worker_metrics_register(struct metrics_region *m)
{
	char name[METRICS_NAME_MAX];
	for (size_t i = 0; job_kind_at(i); i++) {
		const struct job_kind *k = job_kind_at(i);
		for (size_t q = 0; q < sizeof(queue_names) / sizeof(queue_names[0]); q++) {
			if (k->queue && strcmp(k->queue, queue_names[q]) != 0)
				continue;
			snprintf(name, sizeof(name), "%s/%s", queue_names[q], k->kind);
			metrics_name_add(m, METRICS_KINDS, name);
		}
	}
}

void worker_main(const struct config *cfg)
{
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		_exit(1);
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	struct worker w = { .cfg = cfg, .have_work = true };
	unsigned char nonce[3];
	char hex[7];
	random_bytes(nonce, sizeof(nonce));
	hex_encode(nonce, sizeof(nonce), hex);
	gethostname(w.hostname, sizeof(w.hostname) - 1);
	snprintf(w.id, sizeof(w.id), "%s:%d:%s", w.hostname, (int)getpid(), hex);
	w.job_arena = arena_new(65536);
	w.batch_arena = arena_new(65536);
	w.spare_arena = arena_new(65536);
	w.tick_arena = arena_new(8192);
	w.db = db_new(cfg->database_url, cfg->database_password, true);
	w.after_tail = &w.after;
	if (events_init(&w.events, cfg) < 0)
		_exit(1);
	db_set_session_sql(w.db, "LISTEN adcraft_jobs; LISTEN adcraft_cancel");

	int64_t backoff = 100;
	while (!stop_requested) {
		if (db_ensure(w.db) < 0) {
			log_msg(LOG_WARN, "database unavailable (%s); retrying in %lld ms", db_error(w.db),
				(long long)backoff);
			usleep((useconds_t)backoff * 1000);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
			continue;
		}
		backoff = 100;
		if (db_generation(w.db) != w.db_generation) {
			w.db_generation = db_generation(w.db);
			w.have_work = true; /* notifications sent while disconnected are lost: poll */
			w.next_heartbeat = 0;
		}
		maintain(&w);
		/* A claim that came back short emptied what was due: claim again only when a
		 * notification (heard meanwhile) or a wake-up says so, not at once. */
		if (w.have_work) {
			w.have_work = false;
			int quick = claim_and_run(&w, quick_queues, (int)cfg->worker_batch);
			int slow = quick < cfg->worker_batch && !stop_requested ? claim_and_run(&w, slow_queues, 1) : 0;
			if (quick == cfg->worker_batch || slow == 1)
				w.have_work = true; /* more may be due */
			if (w.have_work)
				continue;
		}
		worker_flush(&w); /* the short batch's outcomes, before sleeping */
		wait_for_work(&w, idle_timeout(&w)); /* returns at once on SIGTERM (stop_pipe) */
		w.have_work = true; /* every wake-up claims once: notification, run_at due, poll */
	}
	worker_flush(&w);
	char done[24];
	snprintf(done, sizeof(done), "%lld", w.jobs_done);
	const char *p[] = { w.id, done };
	PGresult *res;
	arena_reset(w.tick_arena);
	db_exec(w.db, w.tick_arena, STMT_WORKER_STOPPED, p, &res);
	events_close(&w.events);
	db_free(w.db);
	daemon_child_exit(0);
}
