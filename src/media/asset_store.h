/*
 * asset_store.h - storing an image asset for an owner (Interface C).
 *
 * One path for every image that becomes an asset: an upload (POST /api/assets)
 * and a generated visual both end in asset_store_bytes(). The bytes are
 * checked and re-encoded with libvips (media.h), written content-addressed
 * under media_dir, recorded as an `assets` row, and a renditions job
 * (data-exports queue, kind asset-renditions) is queued in the same
 * transaction as the row. The module never logs: the caller logs once with
 * its request or job id.
 */
#pragma once

#include <stddef.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "media.h"

/* What a stored asset is; every string is owned by the arena given to the call. */
struct asset_info {
	const char *id;		  /* uuid of the assets row */
	const char *sha256;	  /* hex digest of the stored (re-encoded, stripped) bytes */
	const char *url;	  /* "/media/<aa>/<sha256>.<ext>", what nginx serves */
	const char *content_type; /* image/png, image/jpeg, image/webp or image/gif */
	const char *json;	  /* the asset as API.md's `asset` JSON object */
	long long bytes;	  /* size of the stored file */
	int width, height;
	int created;		  /* 1: a new row; 0: the owner already had these bytes */
	long long quota_used;	  /* the owner's stored bytes before this image (also set on -EDQUOT) */
};

/*
 * Stores an image from memory for owner_id exactly as an upload does: the type
 * is sniffed from the bytes (PNG, JPEG, WebP, GIF), the header is read before
 * any decode and more than media_max_pixels is refused, metadata (EXIF, GPS,
 * XMP, ICC after conversion to sRGB) is stripped by re-encoding, the result's
 * sha256 names the file <media_dir>/<aa>/<sha256>.<ext> (temp file + rename;
 * the same bytes are one file across owners), the owner's quota is checked,
 * and the `assets` row plus the renditions job are committed together. The
 * same bytes stored twice by one owner give the existing asset (created = 0).
 * filename may be NULL ("image.<ext>" then). The checks and the re-encoding
 * are prepare's: media_prepare (in this process; media_init() must have run)
 * or media_helper_prepare (in the adcraft-media helper; -EIO when it fails).
 * The file's lock (asset_lock_key) is awaited with wait (the worker), else
 * for 2 s at most (the API: a rendition job holds it for seconds).
 *
 * Returns 0 and fills *out, or a negative code with *problem saying why in one
 * sentence a client may read (on -EIO it may say what failed, for the log;
 * on -ENOTCONN and database failures it is left alone); on
 * -EDQUOT only out->bytes (this image, stored) and out->quota_used are set:
 *   -EMEDIUMTYPE  not an accepted image (HTTP 415)
 *   -EFBIG        len > cfg->asset_max_bytes (HTTP 413)
 *   -EDQUOT       the owner's quota would be exceeded (HTTP 413, quota in the problem)
 *   -ERANGE       more pixels than allowed, or a decompression bomb (HTTP 422)
 *   -ENOENT       owner_id has no users row (a deleted account; HTTP 401)
 *   -EBUSY        without wait, the file's lock stayed held for 2 s: its renditions are being made (HTTP 409)
 *   -ENOTCONN     the database is unreachable (HTTP 503)
 *   -EIO          the database or the file system failed (HTTP 500)
 */
int asset_store_bytes(db *d, arena *a, const struct config *cfg, media_prepare_fn prepare, bool wait,
		      const char *owner_id, const void *bytes, size_t len, const char *filename,
		      struct asset_info *out, const char **problem);

/* HTTP status for a code asset_store_bytes() returned (0 -> 201). */
int asset_store_status(int rc);

/*
 * Writes bytes as the content-addressed file <media_dir>/<aa>/<sha256>.<ext>
 * (temp file + fsync + rename, mode 0644; directories made as needed), unless
 * that file already exists. *ret_sha256 and *ret_path (relative to
 * media_dir) are arena copies; *ret_created says whether this call made the
 * file. Call it holding STMT_ASSET_LOCK of the sha256 when a row will name
 * the file. 0 or -errno.
 */
int media_file_put(arena *a, const char *media_dir, const void *bytes, size_t len, const char *ext,
		   const char **ret_sha256, const char **ret_path, int *ret_created);

/* Removes <media_dir>/<path> (a path a row named); a file already gone is fine. 0 or -errno. */
int media_file_unlink(const char *media_dir, const char *path);

/* Reads <media_dir>/<path> whole onto a. 0 or -errno. */
int media_file_read(arena *a, const char *media_dir, const char *path, const void **ret, size_t *ret_len);
