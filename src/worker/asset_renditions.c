/*
 * asset_renditions.c - the asset-renditions job (data-exports queue): the
 * thumbnail and social sizes of an asset asset_store() recorded.
 *
 * Payload {assetId}. The stored file is read back, each size in the table
 * below is made with libvips in the adcraft-media helper process
 * (media_helper_rendition: a cover crop centred on what
 * draws attention, or a width bound for the thumbnail) and filed
 * content-addressed like the asset, and the rows replace any earlier ones in
 * one transaction. All of it runs holding the asset's file lock
 * (asset_lock_key of its sha256), so a DELETE of the asset waits and then
 * sees the renditions it must unlink. An asset deleted before the job ran is
 * a completed job with nothing to do. Result: {"renditions": n}.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "asset_store.h"
#include "handlers.h"
#include "media.h"
#include "media_helper.h"
#include "validate.h"

static const struct rendition_size {
	const char *name;
	int width, height; /* height 0: at most width wide, aspect kept */
} sizes[] = {
	{ "thumbnail", 320, 0 },
	{ "social_landscape", 1200, 628 },
	{ "social_square", 1080, 1080 },
	{ "social_story", 1080, 1920 },
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct made {
	const char *sha256, *path;
	char bytes[24], width[12], height[12];
};

static enum media_type type_of(const char *mime)
{
	static const enum media_type all[] = { MEDIA_PNG, MEDIA_JPEG, MEDIA_WEBP, MEDIA_GIF };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(media_type_info(all[i])->mime, mime) == 0)
			return all[i];
	return MEDIA_PNG;
}

/* Makes and files every size; -errno with j->error. */
static int make_all(struct job *j, const char *path, const char *mime, struct made *made)
{
	const struct config *cfg = job_config(j);
	const void *src;
	size_t src_len;
	int rc = media_file_read(j->arena, cfg->media_dir, path, &src, &src_len);
	if (rc < 0) {
		j->error = arena_printf(j->arena, "reading %s: %s", path, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < NSIZES; i++) {
		enum media_type type;
		const void *out;
		size_t out_len;
		int w, h, created;
		const char *why = NULL;
		rc = media_helper_rendition(j->arena, src, src_len, sizes[i].width, sizes[i].height, type_of(mime), &type,
				     &out, &out_len, &w, &h, &why);
		if (rc < 0) {
			j->error = arena_printf(j->arena, "%s: %s", sizes[i].name, why);
			return rc;
		}
		rc = media_file_put(j->arena, cfg->media_dir, out, out_len, media_type_info(type)->ext,
				    &made[i].sha256, &made[i].path, &created);
		if (rc < 0) {
			j->error = arena_printf(j->arena, "writing %s: %s", sizes[i].name, strerror(-rc));
			return rc;
		}
		snprintf(made[i].bytes, sizeof(made[i].bytes), "%zu", out_len);
		snprintf(made[i].width, sizeof(made[i].width), "%d", w);
		snprintf(made[i].height, sizeof(made[i].height), "%d", h);
		if (!job_alive(j))
			return -ECANCELED;
	}
	return 0;
}

static int record(struct job *j, const char *asset_id, const struct made *made)
{
	db *d = job_db(j);
	PGresult *res;
	const char *p[] = { asset_id };
	if (db_exec_sql(d, j->arena, "BEGIN", &res) < 0)
		return -EIO;
	int rc = db_exec(d, j->arena, STMT_ASSET_RENDITION_CLEAR, p, &res);
	for (size_t i = 0; i < NSIZES && rc == 0; i++) {
		const char *q[] = { asset_id, sizes[i].name, made[i].sha256, made[i].path,
				    made[i].bytes, made[i].width, made[i].height };
		rc = db_exec(d, j->arena, STMT_ASSET_RENDITION_ADD, q, &res);
	}
	if (rc == 0)
		rc = db_exec_sql(d, j->arena, "COMMIT", &res);
	if (rc < 0) {
		j->error = arena_printf(j->arena, "recording the renditions: %s", db_error(d));
		db_exec_sql(d, j->arena, "ROLLBACK", &res);
	}
	return rc;
}

enum job_outcome job_asset_renditions(struct job *j)
{
	const char *asset_id = vget_str(j->payload, "assetId");
	if (!asset_id || !j->user_id) {
		j->error = "the payload names no assetId, or the job has no owner";
		return JOB_FAILED;
	}
	db *d = job_db(j);
	PGresult *res;
	const char *p[] = { asset_id, j->user_id };
	if (db_exec(d, j->arena, STMT_ASSET_FOR_RENDITIONS, p, &res) < 0) {
		j->error = arena_printf(j->arena, "loading the asset: %s", db_error(d));
		return JOB_RETRY;
	}
	if (PQntuples(res) == 0) {
		j->result = "{\"renditions\":0,\"assetDeleted\":true}";
		return JOB_COMPLETED;
	}
	const char *path = arena_strdup(j->arena, db_value(res, 0, 0));
	const char *sha = arena_strdup(j->arena, db_value(res, 0, 1));
	const char *mime = arena_strdup(j->arena, db_value(res, 0, 2));
	const char *lock[] = { sha };
	if (db_exec(d, j->arena, STMT_ASSET_LOCK, lock, &res) < 0) {
		j->error = arena_printf(j->arena, "locking the asset's file: %s", db_error(d));
		return JOB_RETRY;
	}
	/* Deleted while we waited for the lock: its files are gone, make none. */
	int rc = db_exec(d, j->arena, STMT_ASSET_FOR_RENDITIONS, p, &res);
	if (rc < 0 || PQntuples(res) == 0) {
		const char *error = rc < 0 ? arena_printf(j->arena, "loading the asset: %s", db_error(d)) : NULL;
		db_exec(d, j->arena, STMT_ASSET_UNLOCK, lock, &res);
		if (error) {
			j->error = error;
			return JOB_RETRY;
		}
		j->result = "{\"renditions\":0,\"assetDeleted\":true}";
		return JOB_COMPLETED;
	}
	struct made made[NSIZES];
	enum job_outcome o = JOB_COMPLETED;
	rc = make_all(j, path, mime, made);
	if (rc == -ECANCELED)
		o = j->cancelled ? JOB_CANCELLED : JOB_RELEASE;
	else if (rc == -EMEDIUMTYPE)
		o = JOB_FAILED;
	else if (rc < 0 || record(j, asset_id, made) < 0)
		o = JOB_RETRY;
	db_exec(d, j->arena, STMT_ASSET_UNLOCK, lock, &res);
	if (o == JOB_COMPLETED)
		j->result = arena_printf(j->arena, "{\"renditions\":%zu}", NSIZES);
	return o;
}
