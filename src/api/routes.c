/*
 * routes.c - the whole HTTP API, one line per route.
 *
 * Literal routes come before parameterised ones that could shadow them.
 * INTERNAL routes are the only ones the loopback TCP listener serves (nginx's
 * authorization subrequest for /events/); CREDENTIALS routes are the ones
 * that set or read a cookie, so CORS allows credentials there. SLOW routes
 * (password hashing, synchronous generation, uploads, imports) are the ones
 * nginx sends to the slow pool (nginx/locations.conf lists their paths, and
 * tests/integration/test_pools.py checks that it lists exactly these).
 */
#include "dispatch.h"
#include "handlers.h"

#define BODY ROUTE_BODY
#define PUBLIC ROUTE_PUBLIC
#define UUIDS ROUTE_UUID_PARAMS
#define BODY_OPT ROUTE_BODY_OPTIONAL
#define SLOW ROUTE_SLOW

const struct route api_routes[] = {
	{ "GET",  "/api/health",        health_get,    PUBLIC },
	{ "GET",  "/api/metrics",       metrics_get,   PUBLIC }, /* loopback or metrics_token_file: metrics.c */

	{ "POST", "/api/auth/register", auth_register, PUBLIC | BODY | SLOW },
	{ "POST", "/api/auth/login",    auth_login,    PUBLIC | BODY | SLOW },
	{ "POST", "/api/auth/refresh",  auth_refresh,  PUBLIC | BODY },
	{ "POST", "/api/auth/logout",   auth_logout,   BODY },
	{ "GET",  "/api/auth/me",       auth_me,       0 },

	{ "POST",   "/api/personas",     persona_create, BODY },
	{ "GET",    "/api/personas",     persona_list,   0 },
	{ "GET",    "/api/personas/:id", persona_get,    UUIDS },
	{ "PUT",    "/api/personas/:id", persona_put,    UUIDS | BODY },
	{ "PATCH",  "/api/personas/:id", persona_patch,  UUIDS | BODY },
	{ "DELETE", "/api/personas/:id", persona_delete, UUIDS },

	{ "POST",   "/api/brand-profiles",     brand_profile_create, BODY },
	{ "GET",    "/api/brand-profiles",     brand_profile_list,   0 },
	{ "GET",    "/api/brand-profiles/:id", brand_profile_get,    UUIDS },
	{ "PUT",    "/api/brand-profiles/:id", brand_profile_put,    UUIDS | BODY },
	{ "PATCH",  "/api/brand-profiles/:id", brand_profile_patch,  UUIDS | BODY },
	{ "DELETE", "/api/brand-profiles/:id", brand_profile_delete, UUIDS },

	{ "POST",   "/api/contacts",        contact_create, BODY },
	{ "GET",    "/api/contacts",        contact_list,   0 },
	{ "POST",   "/api/contacts/import", contact_import, ROUTE_BODY_CSV | SLOW },
	{ "GET",    "/api/contacts/:id",    contact_get,    UUIDS },
	{ "PATCH",  "/api/contacts/:id",    contact_patch,  UUIDS | BODY },
	{ "DELETE", "/api/contacts/:id",    contact_delete, UUIDS },

	{ "POST",   "/api/lists",                           list_create,        BODY },
	{ "GET",    "/api/lists",                           list_list,          0 },
	{ "GET",    "/api/lists/:id",                       list_get,           UUIDS },
	{ "PATCH",  "/api/lists/:id",                       list_patch,         UUIDS | BODY },
	{ "DELETE", "/api/lists/:id",                       list_delete,        UUIDS },
	{ "POST",   "/api/lists/:id/members",               list_members_add,   UUIDS | BODY },
	{ "DELETE", "/api/lists/:id/members/:contactId",    list_member_remove, UUIDS },

	{ "GET",    "/api/campaigns",           campaign_list,   0 },
	{ "POST",   "/api/campaigns",           campaign_create, BODY },
	{ "GET",    "/api/campaigns/stats",     campaign_stats,  0 },
	{ "GET",    "/api/campaigns/dashboard", campaign_dashboard, 0 },
	{ "GET",    "/api/campaigns/:id",       campaign_get,    UUIDS },
	{ "PUT",    "/api/campaigns/:id",       campaign_put,    UUIDS | BODY },
	{ "PATCH",  "/api/campaigns/:id",       campaign_patch,  UUIDS | BODY },
	{ "DELETE", "/api/campaigns/:id",       campaign_delete, UUIDS },

	{ "POST",   "/api/campaigns/:id/content",            content_add,    UUIDS | BODY },
	{ "GET",    "/api/campaigns/:id/content",            content_list,   UUIDS },
	{ "GET",    "/api/campaigns/:id/content/:contentId", content_get,    UUIDS },
	{ "PATCH",  "/api/campaigns/:id/content/:contentId", content_patch,  UUIDS | BODY },
	{ "DELETE", "/api/campaigns/:id/content/:contentId", content_delete, UUIDS },

	{ "GET",    "/api/content/ai-status",           gen_ai_status,  0 },
	{ "POST",   "/api/content/generate-email",      gen_email,      BODY | SLOW },
	{ "POST",   "/api/content/generate-social",     gen_social,     BODY | SLOW },
	{ "POST",   "/api/content/generate-ad-copy",    gen_ad_copy,    BODY | SLOW },
	{ "POST",   "/api/content/generate-variations", gen_variations, BODY | SLOW },
	{ "POST",   "/api/content/batch-generate",      gen_batch,      BODY | SLOW },

	{ "GET",    "/api/usage",                       usage_get,      0 },

	{ "GET",    "/api/jobs/health",                          jobs_health,          0 },
	{ "GET",    "/api/jobs/queues/status",                   jobs_queue_status,    0 },
	{ "GET",    "/api/jobs/user/recent",                     jobs_recent,          0 },
	{ "POST",   "/api/jobs/campaigns/:id/generate",          jobs_generate,        UUIDS | BODY_OPT },
	{ "POST",   "/api/jobs/campaigns/:id/generate-single",   jobs_generate_single, UUIDS | BODY },
	{ "GET",    "/api/jobs/:queue/:jobId",                   jobs_get,             0 },
	{ "DELETE", "/api/jobs/:queue/:jobId/cancel",            jobs_cancel,          0 },

	{ "POST",   "/api/campaigns/:id/sends",      send_create,     UUIDS | BODY },
	{ "GET",    "/api/campaigns/:id/sends",      send_list,       UUIDS },
	{ "GET",    "/api/sends/:id",                send_get,        UUIDS },
	{ "GET",    "/api/sends/:id/recipients",     send_recipients, UUIDS },
	{ "POST",   "/api/sends/:id/test",           send_test,       UUIDS | BODY },
	{ "POST",   "/api/sends/:id/approve",        send_approve,    UUIDS },
	{ "POST",   "/api/sends/:id/pause",          send_pause,      UUIDS },
	{ "POST",   "/api/sends/:id/resume",         send_resume,     UUIDS },
	{ "POST",   "/api/sends/:id/cancel",         send_cancel,     UUIDS },

	{ "POST",   "/api/assets",     asset_create, ROUTE_BODY_UPLOAD | SLOW },
	{ "GET",    "/api/assets",     asset_list,   0 },
	{ "GET",    "/api/assets/:id", asset_get,    UUIDS },
	{ "DELETE", "/api/assets/:id", asset_delete, UUIDS },
	{ "POST",   "/api/exports",              export_create,   BODY },
	{ "GET",    "/api/exports",              export_list,     0 },
	{ "GET",    "/api/exports/:id",          export_get,      UUIDS },
	{ "DELETE", "/api/exports/:id",          export_delete,   UUIDS },
	/* the signed link is the credential (exportlink.h); nginx sends the file (X-Accel-Redirect) */
	{ "GET",    "/api/exports/:id/download", export_download, PUBLIC | UUIDS },
	{ "POST",   "/api/campaigns/:id/ab-tests", ab_test_create,  UUIDS | BODY },
	{ "GET",    "/api/campaigns/:id/ab-tests", ab_test_list,    UUIDS },
	{ "GET",    "/api/ab-tests/:id",           ab_test_get,     UUIDS },
	{ "PATCH",  "/api/ab-tests/:id",           ab_test_patch,   UUIDS | BODY },
	{ "DELETE", "/api/ab-tests/:id",           ab_test_delete,  UUIDS },
	{ "POST",   "/api/ab-tests/:id/start",     ab_test_start,   UUIDS },
	{ "POST",   "/api/ab-tests/:id/stop",      ab_test_stop,    UUIDS },
	{ "POST",   "/api/ab-tests/:id/winner",    ab_test_winner,  UUIDS | BODY },
	{ "GET",    "/api/ab-tests/:id/results",   ab_test_results, UUIDS },

	{ "POST",   "/api/webhooks/email-events", mail_webhook_events, PUBLIC | BODY },

	/* analytics (issue #12): events in, reports out */
	{ "POST",   "/api/analytics/events",        analytics_events_post,  BODY },
	{ "POST",   "/api/analytics/import",        analytics_import_post,  ROUTE_BODY_CSV | SLOW },
	{ "GET",    "/api/analytics/overview",      analytics_overview_get, 0 },
	{ "GET",    "/api/campaigns/:id/analytics", campaign_analytics_get, UUIDS },

	/* the links in sent email (public_mail.c): outside /api/, HTML and images */
	{ "GET",    "/u/:token",   mail_unsubscribe_page, PUBLIC },
	{ "POST",   "/u/:token",   mail_unsubscribe_post, PUBLIC | ROUTE_BODY_FORM },
	{ "GET",    "/t/o/:token", mail_track_open,       PUBLIC },
	{ "GET",    "/t/c/:token", mail_track_click,      PUBLIC },

	{ "POST",   "/api/events/session", events_session_create, ROUTE_CREDENTIALS },
	{ "DELETE", "/api/events/session", events_session_delete, PUBLIC | ROUTE_CREDENTIALS },
	{ "GET",    "/_adcraft/events/auth", events_authorize, PUBLIC | ROUTE_INTERNAL },

	{ NULL, NULL, NULL, 0 },
};
