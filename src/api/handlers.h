/*
 * handlers.h - every route handler, grouped by the file that holds it.
 */
#pragma once

#include "request.h"

/* auth.c */
void auth_register(request *r);
void auth_login(request *r);
void auth_refresh(request *r);
void auth_logout(request *r);
void auth_me(request *r);

/* health.c */
void health_get(request *r);

/* prometheus.c */
void metrics_get(request *r);

/* personas.c */
void persona_create(request *r);
void persona_list(request *r);
void persona_get(request *r);
void persona_put(request *r);
void persona_patch(request *r);
void persona_delete(request *r);

/* brand_profiles.c */
void brand_profile_create(request *r);
void brand_profile_list(request *r);
void brand_profile_get(request *r);
void brand_profile_put(request *r);
void brand_profile_patch(request *r);
void brand_profile_delete(request *r);

/* campaigns.c */
void campaign_create(request *r);
void campaign_list(request *r);
void campaign_get(request *r);
void campaign_put(request *r);
void campaign_patch(request *r);
void campaign_delete(request *r);
void campaign_stats(request *r);

/* campaign_content.c */
void content_add(request *r);
void content_list(request *r);
void content_get(request *r);
void content_patch(request *r);
void content_delete(request *r);

/* jobs.c */
void jobs_health(request *r);
void jobs_queue_status(request *r);
void jobs_get(request *r);
void jobs_recent(request *r);
void jobs_cancel(request *r);
void jobs_generate(request *r);
void jobs_generate_single(request *r);
void campaign_dashboard(request *r);

/* events.c */
void events_session_create(request *r);
void events_session_delete(request *r);
void events_authorize(request *r);

/* sends.c */
void send_create(request *r);
void send_list(request *r);
void send_get(request *r);
void send_recipients(request *r);
void send_test(request *r);
void send_approve(request *r);
void send_pause(request *r);
void send_resume(request *r);
void send_cancel(request *r);

/* public_mail.c: the links in sent email (public, no login) */
void mail_unsubscribe_page(request *r);
void mail_unsubscribe_post(request *r);
void mail_track_open(request *r);
void mail_track_click(request *r);

/* mail_webhook.c */
void mail_webhook_events(request *r);

/* generation.c */
void gen_ai_status(request *r);
void gen_email(request *r);
void gen_social(request *r);
void gen_ad_copy(request *r);
void gen_variations(request *r);
void gen_batch(request *r);

/* usage.c */
void usage_get(request *r);

/* contacts.c */
void contact_create(request *r);
void contact_list(request *r);
void contact_get(request *r);
void contact_patch(request *r);
void contact_delete(request *r);
void contact_import(request *r);

/* exports.c */
void export_create(request *r);
void export_list(request *r);
void export_get(request *r);
void export_delete(request *r);
void export_download(request *r);

/* lists.c */
void list_create(request *r);
void list_list(request *r);
void list_get(request *r);
void list_patch(request *r);
void list_delete(request *r);
void list_members_add(request *r);
void list_member_remove(request *r);

/* assets.c */
void asset_create(request *r);
void asset_list(request *r);
void asset_get(request *r);
void asset_delete(request *r);
/* analytics.c, analytics_reports.c (issue #12) */
void analytics_events_post(request *r);
void analytics_import_post(request *r);
void analytics_overview_get(request *r);
void campaign_analytics_get(request *r);

/* ab_tests.c */
void ab_test_create(request *r);
void ab_test_list(request *r);
void ab_test_get(request *r);
void ab_test_patch(request *r);
void ab_test_delete(request *r);
void ab_test_start(request *r);
void ab_test_stop(request *r);
void ab_test_winner(request *r);
void ab_test_results(request *r);
