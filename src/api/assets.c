/*
 * assets.c - image assets (issue #13 section 2): upload, list, get, delete.
 *
 * An upload streams through FastCGI like any body (ROUTE_BODY_UPLOAD: at
 * most asset_max_bytes plus a form's overhead), after nginx has buffered all
 * of it (nginx/media.conf), so a slow client never holds a process. (It used
 * to come as the path of nginx's temporary file, which nginx creates 0600 as
 * its own user: a service under another user, as the systemd unit's dynamic
 * one, could not read it.) The body is a
 * multipart/form-data form with one `file` part, or the image itself with an
 * image/png, image/jpeg, image/webp or image/gif Content-Type (?filename=
 * names it then). Whatever the declared type, the bytes decide
 * (asset_store_bytes in src/media/; the image is decoded in the adcraft-media
 * helper process, media_helper.h, never in the API). Deleting takes the stored file's lock,
 * deletes the row unless a content item uses it (409), and unlinks the files
 * no other row names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset_store.h"
#include "handlers.h"
#include "log.h"
#include "media_helper.h"
#include "metrics.h"
#include "multipart.h"
#include "query.h"

/* Seconds a client is told to wait when an asset's file lock is held by a rendition job. */
#define ASSET_BUSY_RETRY_S 5

static const char *const raw_types[] = { "image/png", "image/jpeg", "image/webp", "image/gif", NULL };

/* Whether ct (parameters allowed) is one of raw_types. */
static bool raw_image_type(const char *ct)
{
	for (const char *const *t = raw_types; ct && *t; t++) {
		size_t n = strlen(*t);
		if (strncasecmp(ct, *t, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return true;
	}
	return false;
}

/* The one `file` part of a form; answers 400 when the form is malformed or has none. */
static int form_file_or_fail(request *r, const char *boundary, const char *body, size_t len,
			     struct multipart_part *ret)
{
	struct multipart_part parts[MULTIPART_MAX_PARTS];
	size_t n = 0, found = 0;
	const char *why;
	if (multipart_parse(r->arena, body, len, boundary, parts, &n, &why) < 0) {
		req_problem(r, 400, "the multipart/form-data body is malformed: %s", why);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(parts[i].name, "file") == 0 && found++ == 0)
			*ret = parts[i];
	if (found != 1) {
		req_problem(r, 400, found ? "the form has more than one file part" : "the form has no file part");
		return -EINVAL;
	}
	return 0;
}

void asset_create(request *r)
{
	static const struct qparam params[] = {
		{ "filename", V_STRING, 1, 255, NULL },
		{ .name = NULL },
	};
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0)
		return;
	const struct config *cfg = r->app->cfg;
	const char *ct = req_param(r, "CONTENT_TYPE"), *boundary = NULL, *body = r->body_text;
	size_t len = r->body_len;
	/* An empty or absent body is 400 whatever its type; asset_store_bytes applies the exact limit. */
	if (len == 0) {
		req_problem(r, 400, "an image is required: a multipart/form-data body with a file part, or the "
				    "image itself");
		return;
	}
	bool form = multipart_boundary(r->arena, ct, &boundary) == 0;
	if (!form && !raw_image_type(ct)) {
		req_problem(r, 415, "the body must be multipart/form-data with a file part, or an image sent as "
				    "image/png, image/jpeg, image/webp or image/gif");
		return;
	}
	const char *filename = lp.values[0];
	if (form) {
		struct multipart_part part = { 0 };
		if (form_file_or_fail(r, boundary, body, len, &part) < 0)
			return;
		body = part.data;
		len = part.len;
		filename = part.filename;
	}
	struct asset_info info = { 0 };
	const char *why = NULL;
	int rc = asset_store_bytes(r->app->db, r->arena, cfg, media_helper_prepare, false, r->user_id, body, len, filename,
				   &info, &why);
	if (rc < 0) {
		int status = asset_store_status(rc);
		if (rc == -ENOENT) {
			req_account_gone(r);
		} else if (status == 503 || status == 500) {
			if (status == 500)
				log_msg(LOG_ERROR, "rid=%s storing an asset: %s", r->request_id,
					why ? why : db_error(r->app->db));
			req_problem(r, status, status == 503 ? "the database is unavailable; retry shortly"
							     : "the asset could not be stored");
		} else if (rc == -EDQUOT) {
			req_problem_extra(r, 413,
					  arena_printf(r->arena, ",\"quotaBytes\":%ld,\"usedBytes\":%lld,\"imageBytes\":%lld",
						       cfg->asset_quota_bytes, info.quota_used, info.bytes),
					  "%s", why);
		} else {
			if (rc == -EBUSY)
				req_add_header(r, "Retry-After: %d", ASSET_BUSY_RETRY_S);
			req_problem(r, status, "%s", why);
		}
		return;
	}
	req_add_header(r, "Location: /api/assets/%s", info.id ? info.id : "");
	if (info.created) {
		metrics_count(MC_UPLOADS, 1);
		metrics_count(MC_UPLOAD_BYTES, (uint64_t)info.bytes);
	}
	req_send_json(r, info.created ? 201 : 200, info.json, strlen(info.json));
}

void asset_list(request *r)
{
	static const struct qparam params[] = { { .name = NULL } };
	struct list_params lp;
	if (query_parse_or_fail(r, params, &lp) < 0)
		return;
	const char *p[] = { r->user_id, lp.after_ts, lp.after_id, lp.limit };
	PGresult *res = req_exec_or_fail(r, STMT_ASSET_LIST, p);
	if (res)
		list_send(r, res, atol(lp.limit));
}

void asset_get(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res = req_exec_or_fail(r, STMT_ASSET_GET, p);
	if (!res)
		return;
	if (PQntuples(res) == 0)
		req_not_found(r, "asset");
	else
		req_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

/* Unlinks the paths of a text[] literal ("{aa/x.png,bb/y.png}": no quoting, paths are plain). */
static void unlink_files(request *r, const char *list)
{
	char *s = arena_strdup(r->arena, list), *save = NULL;
	for (char *f = strtok_r(s, "{},", &save); f; f = strtok_r(NULL, "{},", &save)) {
		int rc = media_file_unlink(r->app->cfg->media_dir, f);
		if (rc < 0)
			log_msg(LOG_WARN, "rid=%s unlinking %s: %s", r->request_id, f, strerror(-rc));
	}
}

void asset_delete(request *r)
{
	const char *p[] = { r->user_id, r->params[0] };
	PGresult *res = req_exec_or_fail(r, STMT_ASSET_GET, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_not_found(r, "asset");
		return;
	}
	/* Waiting 2 s at most: a rendition job holds the lock while it resizes (seconds), and a
	 * request that waited it out would hold an API process as long (sql/0042). */
	const char *lock[] = { arena_strdup(r->arena, PQgetvalue(res, 0, 1)) };
	if (!(res = req_exec_or_fail(r, STMT_ASSET_LOCK_WITHIN, lock)))
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		req_add_header(r, "Retry-After: %d", ASSET_BUSY_RETRY_S);
		req_problem(r, 409, "the asset's renditions are being made; retry in a few seconds");
		return;
	}
	res = req_exec_or_fail(r, STMT_ASSET_DELETE, p);
	if (res) {
		int status = atoi(PQgetvalue(res, 0, 0));
		if (status == 204)
			unlink_files(r, PQgetvalue(res, 0, 1));
		if (status == 404)
			req_not_found(r, "asset");
		else if (status == 409)
			req_problem(r, 409, "the asset is the visual of a content item (visualAssetId); change or "
					    "delete that item first");
		else
			req_send_empty(r, 204);
	}
	PGresult *unlocked;
	db_exec(r->app->db, r->arena, STMT_ASSET_UNLOCK, lock, &unlocked);
}
