/*
 * events.c - sequence numbers in PostgreSQL, messages to nchan (events.h).
 */
#include "events.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "metrics.h"

static const struct {
	const char *type;
	const char *scope;
} types[] = {
	{ "campaign:generation:started", "campaign" },
	{ "campaign:generation:progress", "campaign" },
	{ "campaign:generation:completed", "campaign" },
	{ "campaign:generation:failed", "campaign" },
	{ "campaign:generation:cancelled", "campaign" },
	{ "content:generation:started", "campaign" },
	{ "content:generation:completed", "campaign" },
	{ "content:generation:failed", "campaign" },
	{ "notification", "user" },
	{ "job:started", "user" },
	{ "job:progress", "user" },
	{ "job:completed", "user" },
	{ "job:failed", "user" },
	{ "job:cancelled", "user" },
	{ "abtest:completed", "both" },	/* the owner's channel and the campaign's */
};

const char *events_scope(const char *type)
{
	for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].type, type) == 0)
			return types[i].scope;
	return NULL;
}

int events_init(struct events *ev, const struct config *cfg)
{
	memset(ev, 0, sizeof(*ev));
	ev->pub = publisher_new(cfg->events_publish_socket);
	return ev->pub ? 0 : -ENOMEM;
}

void events_close(struct events *ev)
{
	publisher_free(ev->pub);
	ev->pub = NULL;
}

bool events_enabled(const struct events *ev)
{
	return ev && publisher_enabled(ev->pub);
}

/* Now as ISO 8601 UTC with milliseconds. */
static void timestamp(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void json_str_or_null(buf *b, const char *s)
{
	if (s)
		buf_json_str(b, s);
	else
		buf_puts(b, "null");
}

static int fail(struct events *ev, db *d, arena *a, const char *why, const char *detail)
{
	PGresult *res;
	db_exec_sql(d, a, "ROLLBACK", &res);
	snprintf(ev->error, sizeof(ev->error), "%s: %s", why, detail);
	ev->failed++;
	metrics_count(MC_EVENTS_FAILED, 1);
	return -EIO;
}

/* Publishes e on one channel: scope "user" or "campaign". */
static int publish_on(struct events *ev, db *d, arena *a, const struct event *e, const char *scope)
{
	bool campaign = strcmp(scope, "campaign") == 0;
	const char *channel = arena_printf(a, "%s.%s", scope, campaign ? e->campaign_id : e->user_id);

	PGresult *res;
	if (db_exec_sql(d, a, "BEGIN", &res) < 0)
		return fail(ev, d, a, "event_channels", db_error(d));
	const char *p[] = { channel, e->user_id, campaign ? e->campaign_id : NULL };
	if (db_exec(d, a, STMT_EVENT_SEQ, p, &res) < 0)
		return fail(ev, d, a, "event_channels", db_error(d));

	char at[32];
	timestamp(at);
	buf b;
	buf_init(&b, a, 512 + (e->data ? strlen(e->data) : 0));
	buf_printf(&b, "{\"type\":\"%s\",\"seq\":%s,\"at\":\"%s\",\"channel\":\"%s\",\"userId\":", e->type,
		   PQgetvalue(res, 0, 0), at, scope);
	json_str_or_null(&b, e->user_id);
	buf_puts(&b, ",\"campaignId\":");
	json_str_or_null(&b, e->campaign_id);
	buf_puts(&b, ",\"jobId\":");
	json_str_or_null(&b, e->job_id);
	buf_printf(&b, ",\"data\":%s}", e->data ? e->data : "{}");

	int rc = publisher_post(ev->pub, channel, b.data, b.len);
	if (rc < 0)
		rc = publisher_post(ev->pub, channel, b.data, b.len);
	if (rc < 0) {
		/* commit anyway: the number stays used, so subscribers see the gap */
		snprintf(ev->error, sizeof(ev->error), "publishing %s to %s: %s", e->type, channel,
			 publisher_error(ev->pub));
		ev->failed++;
		metrics_count(MC_EVENTS_FAILED, 1);
	}
	if (db_exec_sql(d, a, "COMMIT", &res) < 0 && rc == 0)
		return fail(ev, d, a, "event_channels commit", db_error(d));
	if (rc < 0)
		return -EIO;
	ev->published++;
	metrics_count(MC_EVENTS_PUBLISHED, 1);
	return 0;
}

int events_publish(struct events *ev, db *d, arena *a, const struct event *e)
{
	if (!events_enabled(ev))
		return 0;
	const char *scope = events_scope(e->type);
	bool both = scope && strcmp(scope, "both") == 0;
	if (!scope || !e->user_id || ((both || strcmp(scope, "campaign") == 0) && !e->campaign_id))
		return -EINVAL;
	if (!both)
		return publish_on(ev, d, a, e, scope);
	int rc = publish_on(ev, d, a, e, "user");
	int rc2 = publish_on(ev, d, a, e, "campaign");
	return rc < 0 ? rc : rc2;
}
