/*
 * handlers.h - job handlers, by the file that holds them.
 */
#pragma once

#include "job.h"

/* generation.c */
enum job_outcome job_generate_campaign(struct job *j);
enum job_outcome job_generate_single(struct job *j);
void job_generation_announce(struct job *j, enum job_outcome o);

/* asset_renditions.c */
enum job_outcome job_asset_renditions(struct job *j);
/* export.c */
enum job_outcome job_export(struct job *j);
/*
 * The expiry sweep: marks ready exports past expires_at expired (at most 500
 * a call) and deletes their files from cfg->exports_dir; *removed counts the
 * files gone. 0, a db error, or -errno of a file that could not be deleted
 * (the row is expired all the same). Never logs.
 */
int export_sweep(db *d, arena *a, const struct config *cfg, long *removed);

/* import_contacts.c */
enum job_outcome job_import_contacts(struct job *j);

/* sending.c */
enum job_outcome job_deliver_send(struct job *j);
enum job_outcome job_deliver_test(struct job *j);

/* analytics.c (issue #12) */
enum job_outcome job_analytics_rollup(struct job *j);
enum job_outcome job_analytics_partitions(struct job *j);
enum job_outcome job_import_analytics(struct job *j);

/* abtests.c */
enum job_outcome job_ab_send_winner(struct job *j);
/* Re-evaluates the running A/B tests of campaign_ids (a uuid[] literal) after a rollup committed;
 * 0, or -EIO (j->error set). */
int abtest_reevaluate_campaigns(struct job *j, const char *campaign_ids);
