/*
 * abtests.c - A/B tests on the analytics-processing queue: the
 * re-evaluation of running tests after a rollup, and the ab-send-winner job
 * (an email A/B send's winnerAfter has passed).
 *
 * A re-evaluation loads each running test of the campaigns a rollup touched,
 * stores the running minima of its always-valid p-values, and completes it
 * when decided (src/abtest/abtest.h): a winner (reason significant) or no
 * difference. Completing a test releases its email send's held recipients
 * (a trigger, sql/0016_ab_tests.sql). abtest:completed goes to the owner's
 * and the campaign's channels once the job's outcome is committed.
 */
#include <errno.h>
#include <string.h>

#include "abtest.h"
#include "handlers.h"
#include "validate.h"

/* Completes t with winner (NULL: no difference) and queues the event; 0, or -EIO. */
static int complete(struct job *j, const struct abtest *t, const char *winner, const char *reason)
{
	const char *p[] = { t->id, winner, winner ? reason : NULL };
	PGresult *res;
	if (db_exec(job_db(j), j->arena, STMT_AB_TEST_COMPLETE, p, &res) < 0)
		return -EIO;
	if (PQntuples(res) == 0)
		return 0; /* completed, stopped or promoted meanwhile */
	const char *data = arena_printf(j->arena,
					"{\"abTestId\":\"%s\",\"campaignId\":\"%s\",\"decision\":\"%s\",\"winner\":%s%s%s,"
					"\"winnerReason\":%s%s%s}",
					t->id, t->campaign_id, winner ? "winner" : "no_difference", winner ? "\"" : "",
					winner ? winner : "null", winner ? "\"" : "", winner ? "\"" : "",
					winner ? reason : "null", winner ? "\"" : "");
	job_publish_after_for(j, "abtest:completed", t->user_id, t->campaign_id, data);
	return 0;
}

/* Re-evaluates one running test; 0, -ENOENT (gone), -EIO (database, j->error set) or -EINVAL (counts). */
static int reevaluate(struct job *j, const char *test_id)
{
	struct abtest t;
	int rc = abtest_load(job_db(j), j->arena, NULL, test_id, &t);
	if (rc == -ENOENT)
		return rc;
	if (rc == 0 && (rc = abtest_evaluate(&t)) < 0)
		return rc;
	if (rc == 0) {
		const char *p[] = { t.id, abtest_min_p_literal(j->arena, &t) };
		PGresult *res;
		rc = db_exec(job_db(j), j->arena, STMT_AB_TEST_STORE_P, p, &res);
	}
	if (rc == 0 && t.decision != ABTEST_CONTINUE)
		rc = complete(j, &t, t.decision == ABTEST_WINNER ? t.arms[t.decided].key : NULL, "significant");
	if (rc < 0)
		j->error = arena_printf(j->arena, "A/B test %s: database: %s", test_id, db_error(job_db(j)));
	return rc;
}

int abtest_reevaluate_campaigns(struct job *j, const char *campaign_ids)
{
	const char *p[] = { campaign_ids };
	PGresult *res;
	if (db_exec(job_db(j), j->arena, STMT_AB_TESTS_RUNNING, p, &res) < 0) {
		j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
		return -EIO;
	}
	int failed = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		int rc = reevaluate(j, PQgetvalue(res, i, 0));
		if (rc == -EIO)
			return rc;
		failed += rc == -EINVAL;
	}
	if (failed)
		j->warning = arena_printf(j->arena, "%d A/B tests' counts could not be evaluated", failed);
	return 0;
}

/*
 * ab-send-winner: payload {sendId}. When the send's test still runs at
 * winnerAfter, the variant with the best observed rate wins (reason
 * timeout), which releases the held recipients; otherwise (the test ended,
 * or the send was cancelled or failed: nobody waits for a winner) nothing is
 * left to do.
 */
enum job_outcome job_ab_send_winner(struct job *j)
{
	const char *send = vget_str(j->payload, "sendId");
	if (!send || !is_uuid(send)) {
		j->error = "ab-send-winner needs a sendId";
		return JOB_FAILED;
	}
	const char *p[] = { send };
	PGresult *res;
	if (db_exec(job_db(j), j->arena, STMT_AB_SEND_TEST, p, &res) < 0) {
		j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
		return JOB_RETRY;
	}
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 1), "running") != 0) {
		j->result = "{\"state\":\"the test had already ended\"}";
		return JOB_COMPLETED;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
		j->result = "{\"state\":\"the send was cancelled or ended: the test keeps running\"}";
		return JOB_COMPLETED;
	}
	struct abtest t;
	int rc = abtest_load(job_db(j), j->arena, NULL, PQgetvalue(res, 0, 0), &t);
	if (rc == -ENOENT) {
		j->result = "{\"state\":\"the test no longer exists\"}";
		return JOB_COMPLETED;
	}
	const char *winner = rc == 0 ? t.arms[abtest_best_observed(&t)].key : NULL;
	if (rc < 0 || complete(j, &t, winner, "timeout") < 0) {
		j->error = arena_printf(j->arena, "database: %s", db_error(job_db(j)));
		return JOB_RETRY;
	}
	j->result = arena_printf(j->arena, "{\"state\":\"timeout\",\"winner\":\"%s\"}", winner);
	return JOB_COMPLETED;
}
