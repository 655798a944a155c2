/*
 * sending.c - the email-sending queue: deliver-send (an approved send to its
 * recipients) and deliver-test (its snapshot to up to 5 addresses, "[TEST]").
 *
 * One job delivers one send at a time (a session advisory lock per send;
 * another job for the same send waits its turn). Recipients are read in
 * batches and delivered one by one: each is marked `sending` (with the
 * Message-ID it will carry) in its own commit before the SMTP transaction,
 * and given its outcome after it. So a recipient is delivered at most once:
 * a worker that dies inside an SMTP transaction leaves that one recipient
 * `sending`, and the next job marks it failed ("interrupted") instead of
 * sending it again; every other recipient is delivered exactly once
 * (docs/sending.md, "Delivery guarantees").
 *
 * SMTP servers are shared with the other worker processes as smtp_servers
 * says: a job holds one connection slot per server (at most max_conns
 * processes per server) and sends at rate / (processes that may share it).
 *
 * The per-recipient commits do not wait for the WAL flush (synchronous_commit
 * off for the job's session, reset at its end): a commit is on the server as
 * soon as it returns, so a worker that dies loses nothing; only a crash of
 * PostgreSQL itself could lose the last fraction of a second of them
 * (docs/sending.md). That keeps delivery off the disk's flush rate.
 *
 * Outcomes: 2xx sent; 4xx or a connection failure deferred, retried with
 * backoff (1, 5, 15, 60 minutes) up to SEND_MAX_ATTEMPTS; 5xx bounced, and
 * the contact is marked bounced. A contact that is no longer subscribed is
 * suppressed when its turn comes. SEND_PAUSE_AFTER consecutive failures
 * pause the send with a reason. The send is `sent` once no recipient is
 * queued, deferred or sending; while deferred ones wait, a follow-up job is
 * queued for the earliest of them.
 *
 * Email A/B (sql/0016_ab_tests.sql): each recipient of the test part names
 * its variant, whose own snapshot it gets; the held rest wait (not due) until
 * the test ends and gives them the winner, which queues another job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compose.h"
#include "handlers.h"
#include "json.h"
#include "metrics.h"
#include "smtp.h"
#include "snapshot.h"
#include "validate.h"

#define SEND_BATCH 50
#define SEND_MAX_ATTEMPTS 5
#define SEND_PAUSE_AFTER 20
#define SEND_MAX_VARIANTS 5

static const int retry_minutes[] = { 1, 5, 15, 60 };

static double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The servers this job may use, with their limits shared among processes: a
 * connection slot (session advisory lock 1..max_conns per server, so at most
 * max_conns processes hold a connection to a server at once) and the rate
 * divided by the number of processes that may hold one. Servers without a
 * free slot are left out of this job. Slots are released by senders_close()
 * (or by the database when the process dies). Connections live in j->arena.
 */
struct senders {
	struct smtp_pool *pool;
	const struct smtp_server *servers[SMTP_MAX_SERVERS];
	int slots[SMTP_MAX_SERVERS];
	size_t n;
};

static int worker_processes(const struct config *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cfg->worker_processes > 0 ? (int)cfg->worker_processes : (int)(cpus > 0 ? cpus : 1);
}

static void senders_close(struct job *j, struct senders *s)
{
	for (size_t i = 0; i < s->n; i++) {
		char slot[16];
		snprintf(slot, sizeof(slot), "%d", s->slots[i]);
		const char *p[] = { s->servers[i]->url, slot };
		PGresult *res;
		db_exec(job_db(j), j->arena, STMT_SMTP_SLOT_GIVE, p, &res);
	}
	s->n = 0;
	s->pool = NULL;
}

/* 0; -ENOENT with no server configured; -EBUSY when every server's slots are taken; -EIO (database). */
static int senders_open(struct job *j, struct senders *s)
{
	const struct config *cfg = job_config(j);
	memset(s, 0, sizeof(*s));
	if (cfg->smtp_server_count == 0)
		return -ENOENT;
	struct smtp_server *mine = arena_zalloc(j->arena, cfg->smtp_server_count * sizeof(*mine));
	size_t n = 0;
	for (size_t i = 0; i < cfg->smtp_server_count && i < SMTP_MAX_SERVERS; i++) {
		const struct smtp_server *srv = &cfg->smtp_server_list[i];
		char max[16];
		snprintf(max, sizeof(max), "%ld", srv->max_conns);
		const char *p[] = { srv->url, max };
		PGresult *res;
		if (db_exec(job_db(j), j->arena, STMT_SMTP_SLOT_TAKE, p, &res) < 0) {
			senders_close(j, s);
			return -EIO;
		}
		if (PQgetisnull(res, 0, 0))
			continue; /* max_conns processes are using it */
		s->servers[s->n] = srv;
		s->slots[s->n++] = atoi(PQgetvalue(res, 0, 0));
		mine[n] = *srv;
		int sharing = worker_processes(cfg) < srv->max_conns ? worker_processes(cfg) : (int)srv->max_conns;
		mine[n++].rate = srv->rate / (sharing > 0 ? sharing : 1);
	}
	if (n == 0)
		return -EBUSY;
	if (smtp_pool_new(j->arena, mine, n, &s->pool) < 0) {
		senders_close(j, s);
		return -ENOMEM;
	}
	return 0;
}

/* Sends msg to one address, waiting for the rate limit; -ECANCELED when the job must stop. */
static int deliver(struct job *j, struct senders *senders, const char *from, const char *to, buf *msg,
		   struct smtp_result *res)
{
	struct smtp_pool *p = senders->pool;
	if (!p)
		return -ENOENT;
	for (;;) {
		double wait;
		int rc = smtp_pool_send(p, mono_seconds(), from, to, msg->data, msg->len, res, &wait);
		if (rc != -EAGAIN)
			return rc;
		if (!job_alive(j))
			return -ECANCELED;
		struct timespec ts = { 0, (long)((wait < 0.1 ? wait : 0.1) * 1e9) + 1000 };
		nanosleep(&ts, NULL);
	}
}

struct send_ctx {
	struct job *j;
	struct senders senders;
	const char *send_id;
	json_object *snapshot;
	struct mail_sender sender;
	struct mail_item item;
	struct {
		const char *key;
		struct mail_item item;
	} variants[SEND_MAX_VARIANTS]; /* an A/B send's snapshot per variant */
	size_t nvariants;
	long total;
	long sent, deferred, bounced, failed, suppressed, interrupted;
	int consecutive_failures;
};

/* Loads the send (its snapshot and sender). 0; -ENOENT when gone; -EIO on a database error (j->error set). */
static int load_send(struct send_ctx *s, enum stmt id, const char *const *p, PGresult **ret)
{
	struct job *j = s->j;
	if (db_exec(job_db(j), j->arena, id, p, ret) < 0) {
		j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
		return -EIO;
	}
	if (PQntuples(*ret) == 0)
		return -ENOENT;
	if (json_parse_trusted(j->arena, PQgetvalue(*ret, 0, 0), &s->snapshot) < 0) {
		j->error = "the send's snapshot does not parse";
		return -EIO;
	}
	mail_sender_from_config(job_config(j), &s->sender);
	s->sender.from_name = PQgetvalue(*ret, 0, 1);
	s->sender.from_email = PQgetvalue(*ret, 0, 2);
	s->sender.reply_to = db_value(*ret, 0, 3);
	if (mail_item_from_snapshot(s->snapshot, &s->item) < 0) {
		j->error = "the send's snapshot is not an object";
		return -EIO;
	}
	s->total = PQnfields(*ret) > 4 ? atol(PQgetvalue(*ret, 0, 4)) : 0;
	json_object *variants;
	if (PQnfields(*ret) > 5 && !PQgetisnull(*ret, 0, 5) &&
	    json_parse_trusted(j->arena, PQgetvalue(*ret, 0, 5), &variants) == 0) {
		json_object_object_foreach(variants, key, snapshot) {
			if (s->nvariants == SEND_MAX_VARIANTS ||
			    mail_item_from_snapshot(snapshot, &s->variants[s->nvariants].item) < 0)
				break;
			s->variants[s->nvariants++].key = key;
		}
	}
	return 0;
}

/* The item a recipient gets: its A/B variant's, else the send's. */
static const struct mail_item *item_for(const struct send_ctx *s, const char *variant)
{
	for (size_t i = 0; variant && i < s->nvariants; i++)
		if (strcmp(s->variants[i].key, variant) == 0)
			return &s->variants[i].item;
	return &s->item;
}

/* The outcomes that count in adcraft_emails_total (metrics.h). */
static const struct {
	const char *status;
	enum metrics_counter counter;
} counted[] = {
	{ "sent", MC_EMAILS_SENT },
	{ "deferred", MC_EMAILS_DEFERRED },
	{ "bounced", MC_EMAILS_BOUNCED },
	{ "failed", MC_EMAILS_FAILED },
};

/* Records one recipient's outcome (status, error, retry delay); a bounce marks the contact too. */
static int record(struct send_ctx *s, const char *rid, const char *status, const char *error, int retry_s)
{
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		if (strcmp(counted[i].status, status) == 0)
			metrics_count(counted[i].counter, 1);
	char secs[16];
	snprintf(secs, sizeof(secs), "%d", retry_s);
	const char *p[] = { rid, status, error, secs };
	PGresult *res;
	return db_exec(job_db(s->j), s->j->arena, STMT_DELIVERY_RESULT, p, &res);
}

/* Delivers one claimed recipient (row of STMT_DELIVERY_BATCH). -ECANCELED: stop now. */
static int one(struct send_ctx *s, PGresult *batch, int row, arena *a)
{
	struct job *j = s->j;
	const char *rid = PQgetvalue(batch, row, 0), *cid = PQgetvalue(batch, row, 1);
	const char *email = PQgetvalue(batch, row, 2);
	int attempts = atoi(PQgetvalue(batch, row, 6));
	json_object *attrs = NULL;
	json_parse_trusted(a, PQgetvalue(batch, row, 5), &attrs);
	struct mail_contact contact = { email, PQgetvalue(batch, row, 3), PQgetvalue(batch, row, 4), attrs };
	struct mailtoken ids = { .kind = MAILTOKEN_UNSUBSCRIBE };
	snprintf(ids.recipient, sizeof(ids.recipient), "%s", rid);
	snprintf(ids.send, sizeof(ids.send), "%s", s->send_id);
	snprintf(ids.contact, sizeof(ids.contact), "%s", cid);
	buf msg;
	buf_init(&msg, a, 8192);
	const char *msgid;
	const struct mail_item *item = item_for(s, db_value(batch, row, 8));
	if (mail_compose(a, &s->sender, item, &contact, &ids, &msg, &msgid) < 0) {
		s->failed++;
		return record(s, rid, "failed", "the message could not be built for this contact", 0);
	}
	/* committed before the SMTP transaction: a crash inside it leaves this row `sending` */
	const char *m[] = { rid, job_worker_id(j), msgid };
	PGresult *res;
	if (db_exec(job_db(j), a, STMT_DELIVERY_MARK, m, &res) < 0 || PQntuples(res) == 0)
		return -EIO;
	struct smtp_result out;
	int rc = deliver(j, &s->senders, s->sender.from_email, email, &msg, &out);
	if (rc == -ECANCELED) {
		record(s, rid, "queued", NULL, 0); /* never sent: back in line */
		return rc;
	}
	if (rc < 0) {
		s->failed++;
		s->consecutive_failures++;
		return record(s, rid, "failed", rc == -ENOENT ? "no SMTP server is configured" : "the address was refused",
			      0);
	}
	switch (out.outcome) {
	case SMTP_SENT:
		s->sent++;
		s->consecutive_failures = 0;
		return record(s, rid, "sent", out.reply, 0);
	case SMTP_PERMANENT:
		s->bounced++;
		s->consecutive_failures++;
		return record(s, rid, "bounced", out.reply, 0);
	case SMTP_TRANSIENT:
		break;
	}
	s->consecutive_failures++;
	if (attempts >= SEND_MAX_ATTEMPTS) {
		s->failed++;
		return record(s, rid, "failed", arena_printf(a, "gave up after %d attempts: %s", attempts, out.reply), 0);
	}
	s->deferred++;
	int n = (int)(sizeof(retry_minutes) / sizeof(retry_minutes[0]));
	return record(s, rid, "deferred", out.reply, 60 * retry_minutes[attempts - 1 < n ? attempts - 1 : n - 1]);
}

static const char *result_json(struct send_ctx *s, const char *state)
{
	return arena_printf(s->j->arena,
			    "{\"state\":\"%s\",\"sent\":%ld,\"deferred\":%ld,\"bounced\":%ld,\"failed\":%ld,"
			    "\"suppressed\":%ld,\"interrupted\":%ld}",
			    state, s->sent, s->deferred, s->bounced, s->failed, s->suppressed, s->interrupted);
}

static enum job_outcome run_send(struct send_ctx *s)
{
	struct job *j = s->j;
	const char *p[] = { s->send_id };
	PGresult *res;
	if (db_exec(job_db(j), j->arena, STMT_DELIVERY_STALE, p, &res) == 0)
		s->interrupted = atol(PQcmdTuples(res));
	arena *a = arena_new(65536);
	enum job_outcome o = JOB_COMPLETED;
	const char *state = "sent";
	for (;;) {
		if (!job_alive(j)) {
			o = JOB_CANCELLED;
			state = "stopped";
			break;
		}
		if (db_exec(job_db(j), j->arena, STMT_DELIVERY_STATUS, p, &res) < 0) {
			j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
			o = JOB_RETRY;
			break;
		}
		if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "sending") != 0) {
			state = PQntuples(res) ? arena_strdup(j->arena, PQgetvalue(res, 0, 0)) : "deleted";
			break; /* paused or cancelled meanwhile */
		}
		char n[8];
		snprintf(n, sizeof(n), "%d", SEND_BATCH);
		const char *b[] = { s->send_id, n };
		PGresult *batch;
		arena_reset(a);
		if (db_exec(job_db(j), a, STMT_DELIVERY_BATCH, b, &batch) < 0) {
			j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
			o = JOB_RETRY;
			break;
		}
		int rows = PQntuples(batch);
		if (rows == 0)
			break;
		int rc = 0;
		for (int i = 0; i < rows && rc == 0; i++) {
			if (strcmp(PQgetvalue(batch, i, 7), "subscribed") != 0) {
				s->suppressed++;
				continue; /* STMT_DELIVERY_BATCH marked it suppressed */
			}
			rc = one(s, batch, i, a);
			if (s->consecutive_failures >= SEND_PAUSE_AFTER) {
				const char *reason = arena_printf(a, "paused after %d consecutive failed deliveries",
								  s->consecutive_failures);
				const char *q[] = { s->send_id, reason };
				db_exec(job_db(j), a, STMT_DELIVERY_PAUSE, q, &res);
				state = "paused";
				rc = -EAGAIN;
			}
		}
		job_progress(j, (int)(s->sent + s->bounced + s->failed + s->suppressed + s->interrupted), (int)s->total);
		if (rc == -ECANCELED) {
			o = JOB_CANCELLED;
			state = "stopped";
			break;
		}
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
			o = JOB_RETRY;
			break;
		}
	}
	arena_free(a);
	if (o == JOB_COMPLETED && strcmp(state, "sent") == 0) {
		/* nothing due now: finished, or a follow-up job for the deferred ones */
		const char *f[] = { s->send_id, j->user_id, j->campaign_id };
		if (db_exec(job_db(j), j->arena, STMT_DELIVERY_FINISH, f, &res) < 0) {
			j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
			return JOB_RETRY;
		}
		state = arena_strdup(j->arena, PQgetvalue(res, 0, 0));
	}
	j->result = result_json(s, state);
	return o;
}

enum job_outcome job_deliver_send(struct job *j)
{
	struct send_ctx s = { .j = j, .send_id = vget_str(j->payload, "sendId") };
	if (!s.send_id || !is_uuid(s.send_id)) {
		j->error = "deliver-send needs a sendId";
		return JOB_FAILED;
	}
	const char *p[] = { s.send_id };
	PGresult *res;
	if (db_exec(job_db(j), j->arena, STMT_SEND_LOCK, p, &res) < 0) {
		j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
		return JOB_RETRY;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		j->error = "another job is delivering this send";
		return JOB_RETRY;
	}
	enum job_outcome o;
	int rc = load_send(&s, STMT_DELIVERY_BEGIN, p, &res);
	if (rc == -ENOENT) {
		j->result = "{\"state\":\"not deliverable (not approved, paused, cancelled or ended)\"}";
		o = JOB_COMPLETED;
	} else if (rc < 0) {
		o = JOB_RETRY;
	} else if ((rc = senders_open(j, &s.senders)) < 0) {
		j->error = rc == -EBUSY ? "every SMTP server's connections (max_conns) are in use; retrying"
			   : rc == -ENOENT ? "no SMTP server is configured (smtp_servers)"
					   : "the SMTP connection slots could not be taken";
		o = rc == -ENOENT ? JOB_FAILED : JOB_RETRY;
	} else {
		db_exec(job_db(j), j->arena, STMT_DELIVERY_ASYNC_COMMIT, NULL, &res);
		o = run_send(&s);
		db_exec(job_db(j), j->arena, STMT_DELIVERY_SYNC_COMMIT, NULL, &res);
		senders_close(j, &s.senders);
	}
	db_exec(job_db(j), j->arena, STMT_SEND_UNLOCK, p, &res);
	return o;
}

enum job_outcome job_deliver_test(struct job *j)
{
	struct send_ctx s = { .j = j, .send_id = vget_str(j->payload, "sendId") };
	json_object *to = json_object_object_get(j->payload, "to");
	if (!s.send_id || !is_uuid(s.send_id) || !json_object_is_type(to, json_type_array)) {
		j->error = "deliver-test needs a sendId and addresses";
		return JOB_FAILED;
	}
	const char *p[] = { s.send_id, j->user_id };
	PGresult *res;
	int rc = load_send(&s, STMT_DELIVERY_TEST_SEND, p, &res);
	if (rc == -ENOENT) {
		j->error = "the send no longer exists";
		return JOB_FAILED;
	}
	if (rc < 0)
		return JOB_RETRY;
	if ((rc = senders_open(j, &s.senders)) < 0) {
		j->error = rc == -ENOENT ? "no SMTP server is configured (smtp_servers)"
					 : "every SMTP server's connections (max_conns) are in use; retrying";
		return rc == -ENOENT ? JOB_FAILED : JOB_RETRY;
	}
	s.item.subject = arena_printf(j->arena, "[TEST] %s", s.item.subject ? s.item.subject : "");
	s.sender.tracking = false;
	static const char nil[] = "00000000-0000-0000-0000-000000000000";
	struct mailtoken ids = { .kind = MAILTOKEN_UNSUBSCRIBE };
	snprintf(ids.recipient, sizeof(ids.recipient), "%s", nil);
	snprintf(ids.send, sizeof(ids.send), "%s", s.send_id);
	snprintf(ids.contact, sizeof(ids.contact), "%s", nil);
	buf out;
	buf_init(&out, j->arena, 256);
	buf_puts(&out, "{\"delivered\":[");
	int ndone = 0, transient = 0;
	buf failed;
	buf_init(&failed, j->arena, 128);
	for (size_t i = 0; i < json_object_array_length(to); i++) {
		const char *addr = json_object_get_string(json_object_array_get_idx(to, i));
		struct mail_contact contact = { addr, "", "", NULL };
		buf msg;
		buf_init(&msg, j->arena, 8192);
		const char *msgid;
		struct smtp_result out_r = { .reply = "the message could not be built" };
		rc = mail_compose(j->arena, &s.sender, &s.item, &contact, &ids, &msg, &msgid);
		if (rc == 0)
			rc = deliver(j, &s.senders, s.sender.from_email, addr, &msg, &out_r);
		if (rc == 0 && out_r.outcome == SMTP_SENT) {
			buf_printf(&out, "%s", ndone++ ? "," : "");
			buf_json_str(&out, addr);
			continue;
		}
		transient += rc == 0 && out_r.outcome == SMTP_TRANSIENT;
		buf_printf(&failed, "%s{\"to\":", failed.len ? "," : "");
		buf_json_str(&failed, addr);
		buf_puts(&failed, ",\"error\":");
		buf_json_str(&failed, rc == -ENOENT ? "no SMTP server is configured" : out_r.reply);
		buf_putc(&failed, '}');
	}
	senders_close(j, &s.senders);
	buf_printf(&out, "],\"failed\":[%.*s]}", (int)failed.len, failed.data ? failed.data : "");
	j->result = buf_cstr(&out);
	if (failed.len == 0)
		return JOB_COMPLETED;
	j->error = transient ? "a test address was deferred" : "a test address was refused";
	return transient ? JOB_RETRY : JOB_FAILED;
}
