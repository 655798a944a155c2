/*
 * mail_webhook.c - POST /api/webhooks/email-events: bounces and complaints
 * reported after delivery (a relay's DSN processing or a provider's
 * webhook), so contacts are marked bounced or complained (never confused).
 *
 * Public (no bearer token): the caller proves itself with
 * X-Adcraft-Signature: sha256=<hex HMAC-SHA256 of the exact body> keyed with
 * mail_webhook_secret_file, compared in constant time; a missing or wrong
 * signature is 401 and changes nothing. Without that key configured the
 * route answers 404 (it does not exist). The matching rules live in SQL
 * (email_events_apply(), sql/0014_email_events.sql; docs/sending.md).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "handlers.h"
#include "metrics.h"

#define SIGNATURE_PREFIX "sha256="

static const char *const event_types[] = { "bounce", "complaint", NULL };

static const struct vfield event_fields[] = {
	VENUM("type", V_REQUIRED, event_types),
	VEMAIL("email", V_REQUIRED),
	VSTR("messageId", 0, 1, 998),
	VTIMESTAMP("at", V_REQUIRED),
	VEND,
};

static const struct vfield webhook_fields[] = {
	VOBJS("events", V_REQUIRED, 1, 1000, event_fields),
	VEND,
};

/* Whether sig is "sha256=" and the lower- or upper-case hex HMAC of the body. */
static bool signature_ok(request *r, const char *sig)
{
	const struct config *cfg = r->app->cfg;
	unsigned char mac[32], got[32];
	unsigned int n = 0;
	size_t plen = strlen(SIGNATURE_PREFIX);
	if (!sig || strncmp(sig, SIGNATURE_PREFIX, plen) != 0 || strlen(sig + plen) != 2 * sizeof(got))
		return false;
	for (size_t i = 0; i < sizeof(got); i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)sig[plen + 2 * i]);
		int lo = OPENSSL_hexchar2int((unsigned char)sig[plen + 2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	if (!HMAC(EVP_sha256(), cfg->mail_webhook_secret, (int)cfg->mail_webhook_secret_len,
		  (const unsigned char *)r->body_text, r->body_len, mac, &n) ||
	    n != sizeof(mac))
		return false;
	return CRYPTO_memcmp(mac, got, sizeof(mac)) == 0;
}

void mail_webhook_events(request *r)
{
	if (!r->app->cfg->mail_webhook_secret) {
		req_problem(r, 404, "no such resource");
		return;
	}
	if (!signature_ok(r, req_param(r, "HTTP_X_ADCRAFT_SIGNATURE"))) {
		req_problem(r, 401, "X-Adcraft-Signature must be sha256=<hex HMAC-SHA256 of the body>");
		return;
	}
	if (req_validate_or_fail(r, webhook_fields) < 0)
		return;
	const char *p[] = { json_object_to_json_string_ext(json_object_object_get(r->body, "events"),
							    JSON_C_TO_STRING_PLAIN) };
	PGresult *res = req_exec_or_fail(r, STMT_MAIL_WEBHOOK, p);
	if (!res)
		return;
	json_object *events = json_object_object_get(r->body, "events");
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		const char *type = vget_str(json_object_array_get_idx(events, i), "type");
		metrics_count(type && strcmp(type, "bounce") == 0 ? MC_MAIL_EVENTS_BOUNCE : MC_MAIL_EVENTS_COMPLAINT, 1);
	}
	req_send_json(r, 200, db_value(res, 0, 0), strlen(db_value(res, 0, 0)));
}
