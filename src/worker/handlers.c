/*
 * handlers.c - which function runs a job of a given queue and kind.
 *
 * A kind that is not in the table fails at once with "unsupported job kind":
 * never a silent success. queue NULL means the kind exists on every queue.
 */
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "job.h"
#include "validate.h"

/*
 * noop: does nothing, on any queue; for smoke tests, benchmarks and drills.
 * Payload (all optional): sleepMs (<= 60000, cancellable), failTimes (fail
 * the first n attempts with a retryable error), fail (fail for good with
 * this message).
 */
static enum job_outcome job_noop(struct job *j)
{
	long sleep_ms = vget_int(j->payload, "sleepMs", 0), fail_times = vget_int(j->payload, "failTimes", 0);
	const char *fail = vget_str(j->payload, "fail");
	if (sleep_ms > 60000)
		sleep_ms = 60000;
	for (long slept = 0; slept < sleep_ms; slept += 20) {
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
		if (!job_alive(j))
			return JOB_CANCELLED;
	}
	if (fail) {
		j->error = fail;
		return JOB_FAILED;
	}
	if (j->attempt <= fail_times) {
		j->error = arena_printf(j->arena, "planned failure %d of %ld", j->attempt, fail_times);
		return JOB_RETRY;
	}
	j->result = "{\"ok\":true}";
	return JOB_COMPLETED;
}

static const struct job_kind kinds[] = {
	{ NULL, "noop", job_noop, NULL },
	{ "content-generation", "generate-campaign", job_generate_campaign, job_generation_announce },
	{ "content-generation", "generate-single", job_generate_single, job_generation_announce },
	{ "email-sending", "deliver-send", job_deliver_send, NULL },
	{ "email-sending", "deliver-test", job_deliver_test, NULL },
	{ "data-exports", "import-contacts", job_import_contacts, NULL },
	{ "data-exports", "asset-renditions", job_asset_renditions, NULL },
	{ "data-exports", "export", job_export, NULL },
	{ "analytics-processing", "analytics-rollup", job_analytics_rollup, NULL },
	{ "analytics-processing", "analytics-partitions", job_analytics_partitions, NULL },
	{ "analytics-processing", "import-analytics", job_import_analytics, NULL },
	{ "analytics-processing", "ab-send-winner", job_ab_send_winner, NULL },
};

const struct job_kind *job_kind_at(size_t i)
{
	return i < sizeof(kinds) / sizeof(kinds[0]) ? &kinds[i] : NULL;
}

const struct job_kind *job_kind_find(const char *queue, const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if ((!kinds[i].queue || strcmp(kinds[i].queue, queue) == 0) && strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}
