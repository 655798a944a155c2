/*
 * sends.c - email sends: create (a snapshot of an email item, pending
 * approval; or, for email A/B, of every variant of an A/B test), list, get,
 * recipients, test delivery, approve, pause, resume, cancel.
 *
 * The rules live in SQL (migration 0013): send_create() snapshots the item
 * and the sender, send_approve() is the approval gate (it fixes the
 * recipients and queues the email-sending job in the same transaction),
 * send_control() moves the status. Here: validation, the mapping of their
 * errors to answers, and notifications.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "query.h"
#include "schemas.h"

static const char *const send_statuses[] = { "pending_approval", "approved", "scheduled", "sending", "paused",
					     "sent", "cancelled", "failed", NULL };
static const char *const recipient_statuses[] = { "queued", "sending", "sent", "deferred", "failed", "bounced",
						  "suppressed", "held", NULL };

/* contentId, or (email A/B) abTestId with testFraction and winnerAfter: create_or_fail checks which */
static const struct vfield create_fields[] = {
	VUUID("contentId", 0),
	VUUID("listId", V_REQUIRED),
	VTIMESTAMP("scheduledAt", 0),
	VUUID("abTestId", 0),
	VNUMBER("testFraction", 0, 0.05, 0.5),
	VINT("winnerAfter", 0, 60, 2592000),
	VEND,
};

static const struct vfield test_fields[] = {
	VSTRS("to", V_REQUIRED, 1, 5, 254),
	VEND,
};

const struct body_schema send_body_schemas[] = {
	{ "POST /api/campaigns/:id/sends", create_fields, false },
	{ "POST /api/sends/:id/test", test_fields, false },
	{ .route = NULL },
};

/* The errors send_create/send_approve/send_control raise, by SQLSTATE. */
static const struct sqlstate_problem send_errors[] = {
	{ "ACS01", 422, "contentId", "no such content item in this campaign" },
	{ "ACS02", 422, "contentId", "the content item is not an email" },
	{ "ACS03", 409, NULL, "the send's list was deleted; create a new send" },
	{ "ACS04", 422, "abTestId", "no such A/B test in this campaign" },
	{ "ACS05", 409, NULL, "the A/B test has ended; an email A/B send needs a draft or running test" },
	{ "ACS06", 422, "abTestId", "every variant of the A/B test must be an email item of the campaign" },
	{ "23505", 409, NULL, "the A/B test already has a send (one send per test)" },
	{ "55000", 409, NULL, "the send's status does not allow this (see its status)" },
	{ "22007", 422, "scheduledAt", "must be an RFC 3339 timestamp" },
	{ "22008", 422, "scheduledAt", "must be an RFC 3339 timestamp" },
};

/* Runs a send statement; on failure answers (the table above, else req_db_fail) and returns NULL. */
static PGresult *exec_or_fail(request *r, enum stmt id, const char *const *p)
{
	return req_exec_mapped(r, id, p, send_errors, sizeof(send_errors) / sizeof(send_errors[0]));
}

/* Sends column 0 of a one-row result holding a send, or 404 when it is NULL (not the caller's). */
static void send_row(request *r, PGresult *res, int status, const char *kind)
{
	if (!res)
		return;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		req_not_found(r, kind);
		return;
	}
	req_send_json(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

/* The field table plus which fields go together: a plain send names its item, an A/B send its test. */
static int create_body_or_fail(request *r)
{
	struct verrors errs;
	if (req_validate_into(r, create_fields, false, &errs) > 0)
		return req_errors_or_fail(r, &errs);
	bool ab = vget_str(r->body, "abTestId") != NULL;
	if (ab && json_object_object_get_ex(r->body, "contentId", NULL))
		verrors_add(&errs, "contentId", "leave it out with abTestId: the test's variants are the items sent");
	if (!ab && !json_object_object_get_ex(r->body, "contentId", NULL))
		verrors_add(&errs, "contentId", "is required (or abTestId, for an email A/B send)");
	static const char *const ab_only[] = { "testFraction", "winnerAfter" };
	for (size_t i = 0; i < sizeof(ab_only) / sizeof(ab_only[0]); i++) {
		bool has = json_object_object_get_ex(r->body, ab_only[i], NULL);
		if (ab && !has)
			verrors_add(&errs, ab_only[i], "is required with abTestId");
		else if (!ab && has)
			verrors_add(&errs, ab_only[i], "goes only with abTestId (an email A/B send)");
	}
	return req_errors_or_fail(r, &errs);
}

void send_create(request *r)
{
	if (create_body_or_fail(r) < 0)
		return;
	const struct config *cfg = r->app->cfg;
	const char *reply_to = *cfg->mail_reply_to ? cfg->mail_reply_to : NULL;
	const char *test = vget_str(r->body, "abTestId");
	if (test) {
		const char *p[] = { r->user_id, r->params[0], test, vget_str(r->body, "listId"),
				    vget_str(r->body, "scheduledAt"), cfg->mail_from_name, cfg->mail_from, reply_to,
				    json_object_get_string(json_object_object_get(r->body, "testFraction")),
				    json_object_get_string(json_object_object_get(r->body, "winnerAfter")) };
		send_row(r, exec_or_fail(r, STMT_SEND_CREATE_AB, p), 201, "campaign");
		return;
	}
	const char *p[] = { r->user_id,
			    r->params[0],
			    vget_str(r->body, "contentId"),
			    vget_str(r->body, "listId"),
			    vget_str(r->body, "scheduledAt"),
			    cfg->mail_from_name,
			    cfg->mail_from,
			    reply_to };
	send_row(r, exec_or_fail(r, STMT_SEND_CREATE, p), 201, "campaign");
}

void send_list(request *r)
{
	static const struct qparam params[] = {
		{ .name = "status", .type = V_ENUM, .values = send_statuses },
		{ .name = NULL },
	};
	campaign_children_list(r, params, STMT_SEND_LIST);
}

void send_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	send_row(r, req_exec_or_fail(r, STMT_SEND_GET, p), 200, "send");
}

void send_recipients(request *r)
{
	static const struct qparam params[] = {
		{ .name = "status", .type = V_ENUM, .values = recipient_statuses },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0)
		return;
	const char *q[] = { r->user_id, r->params[0] };
	PGresult *s = req_exec_or_fail(r, STMT_SEND_GET, q);
	if (!s)
		return;
	if (PQntuples(s) == 0) {
		req_not_found(r, "send");
		return;
	}
	const char *p[] = { r->params[0], lp.values[0], lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_SEND_RECIPIENTS, p);
	if (res)
		list_send(r, res, atol(lp.limit));
}

void send_test(request *r)
{
	if (req_validate_or_fail(r, test_fields) < 0)
		return;
	json_object *to = json_object_object_get(r->body, "to");
	struct verrors errs;
	verrors_init(&errs, r->arena);
	for (size_t i = 0; i < json_object_array_length(to); i++) {
		const char *addr = json_object_get_string(json_object_array_get_idx(to, i));
		if (!is_email(addr))
			verrors_add(&errs, arena_printf(r->arena, "to[%zu]", i), "must be an email address");
	}
	if (req_errors_or_fail(r, &errs) < 0)
		return;
	const char *p[] = { r->user_id, r->params[0], json_object_to_json_string_ext(to, JSON_C_TO_STRING_PLAIN) };
	PGresult *res = req_exec_or_fail(r, STMT_SEND_TEST, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_not_found(r, "send");
		return;
	}
	req_send_json(r, 202, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

/* Answers with the send a status change returned, and tells the owner's channel. */
static void changed(request *r, PGresult *res, const char *action)
{
	send_row(r, res, 200, "send");
	if (r->status == 200) {
		json_object *s;
		if (json_parse_trusted(r->arena, PQgetvalue(res, 0, 0), &s) == 0)
			req_notify(r, json_object_get_string(json_object_object_get(s, "campaignId")),
				   arena_printf(r->arena, "{\"kind\":\"send.%s\",\"sendId\":\"%s\",\"status\":\"%s\"}", action,
						r->params[0],
						json_object_get_string(json_object_object_get(s, "status"))));
	}
}

static void control(request *r, const char *action)
{
	const char *p[] = { r->user_id, r->params[0], action };
	changed(r, exec_or_fail(r, STMT_SEND_CONTROL, p), action);
}

void send_approve(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	changed(r, exec_or_fail(r, STMT_SEND_APPROVE, p), "approve");
}

void send_pause(request *r)
{
	control(r, "pause");
}

void send_resume(request *r)
{
	control(r, "resume");
}

void send_cancel(request *r)
{
	control(r, "cancel");
}
