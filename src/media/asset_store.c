/*
 * asset_store.c - an image becomes an asset: checked, re-encoded, filed, recorded.
 *
 * Order matters for the file and the row (sql/0018_assets.sql): under the
 * session advisory lock of the stored bytes' sha256, the file is written
 * (unless present), then asset_store() inserts the row within the owner's
 * quota and queues the renditions job in one statement. Over quota, a file
 * this call created is unlinked again before the lock is released. The lock
 * is always released (a dropped connection releases it too).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "asset_store.h"
#include "json.h" /* utf8_valid */
#include "media.h"
#include "random.h"

int asset_store_status(int rc)
{
	static const struct {
		int rc, status;
	} map[] = {
		{ 0, 201 },	       { -EMEDIUMTYPE, 415 }, { -EFBIG, 413 }, { -EDQUOT, 413 },
		{ -ERANGE, 422 },      { -ENOTCONN, 503 },	{ -ENOENT, 401 }, { -EBUSY, 409 },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].rc == rc)
			return map[i].status;
	return 500;
}

static const char *sha256_hex(arena *a, const void *bytes, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *hex = arena_alloc(a, 65);
	EVP_Digest(bytes, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

/*
 * A directory nginx can traverse whatever the process's umask (the units set
 * 0077), and that adcraft-api (uploads) and adcraft-worker (renditions,
 * visuals) can both write: group-writable, set-group-id so what goes in keeps
 * the directory's group (www-data in production, systemd/adcraft.tmpfiles).
 */
static int mkdir_one(const char *path)
{
	if (mkdir(path, 02775) == 0)
		return chmod(path, 02775) == 0 ? 0 : -errno;
	return errno == EEXIST ? 0 : -errno;
}

static int write_all(int fd, const void *bytes, size_t len)
{
	const char *p = bytes;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int media_file_put(arena *a, const char *media_dir, const void *bytes, size_t len, const char *ext,
		   const char **ret_sha256, const char **ret_path, int *ret_created)
{
	const char *sha = sha256_hex(a, bytes, len);
	const char *rel = arena_printf(a, "%.2s/%s.%s", sha, sha, ext);
	const char *dir = arena_printf(a, "%s/%.2s", media_dir, sha);
	const char *full = arena_printf(a, "%s/%s", media_dir, rel);
	int rc;
	struct stat st;
	if (stat(full, &st) == 0 && (size_t)st.st_size == len) {
		*ret_sha256 = sha;
		*ret_path = rel;
		*ret_created = 0;
		return 0;
	}
	if ((rc = mkdir_one(media_dir)) < 0 || (rc = mkdir_one(dir)) < 0)
		return rc;
	char *tmp = arena_printf(a, "%s/.tmp-%s-XXXXXX", dir, sha);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, bytes, len);
	if (rc == 0 && fchmod(fd, 0644) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, full) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	*ret_sha256 = sha;
	*ret_path = rel;
	*ret_created = 1;
	return 0;
}

int media_file_unlink(const char *media_dir, const char *path)
{
	char full[4096];
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", media_dir, path) >= sizeof(full))
		return -ENAMETOOLONG;
	return unlink(full) == 0 || errno == ENOENT ? 0 : -errno;
}

int media_file_read(arena *a, const char *media_dir, const char *path, const void **ret, size_t *ret_len)
{
	const char *full = arena_printf(a, "%s/%s", media_dir, path);
	int fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = 0;
	char *data = NULL;
	size_t got = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	data = arena_alloc(a, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	*ret = data;
	*ret_len = got;
out:
	close(fd);
	return rc;
}

/* The filename the client gave, made safe to show: its last path component, no control
 * characters, at most 255 bytes of valid UTF-8; "image.<ext>" when nothing is left. */
static const char *clean_filename(arena *a, const char *name, const char *ext)
{
	if (name) {
		const char *slash = strrchr(name, '/'), *bslash = strrchr(name, '\\');
		if (slash)
			name = slash + 1;
		if (bslash && bslash + 1 > name)
			name = bslash + 1;
	}
	size_t n = name ? strlen(name) : 0;
	if (n > 255)
		n = 255;
	while (n > 0 && name && !utf8_valid(name, n))
		n--; /* a cut in the middle of a character */
	char *out = n ? arena_strndup(a, name, n) : NULL;
	for (char *p = out; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '_';
	return out && *out ? out : arena_printf(a, "image.%s", ext);
}

static int db_rc(int rc)
{
	return rc == -ENOTCONN ? -ENOTCONN : -EIO;
}

int asset_store_bytes(db *d, arena *a, const struct config *cfg, media_prepare_fn prepare, bool wait,
		      const char *owner_id, const void *bytes, size_t len, const char *filename,
		      struct asset_info *out, const char **problem)
{
	if (len > (size_t)cfg->asset_max_bytes) {
		*problem = arena_printf(a, "the image is larger than %ld bytes", cfg->asset_max_bytes);
		return -EFBIG;
	}
	struct media_prepared img;
	int rc = prepare(a, bytes, len, cfg->media_max_pixels, &img, problem);
	if (rc < 0)
		return rc;
	const void *stored = img.bytes;
	size_t stored_len = img.len;
	int w = img.width, h = img.height;
	const struct media_type_info *t = media_type_info(img.type);
	const char *sha = sha256_hex(a, stored, stored_len);
	PGresult *res;
	const char *lock[] = { sha };
	if ((rc = db_exec(d, a, wait ? STMT_ASSET_LOCK : STMT_ASSET_LOCK_WITHIN, lock, &res)) < 0)
		return db_rc(rc);
	if (!wait && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		*problem = "the same image was just stored and its renditions are being made; retry in a few seconds";
		return -EBUSY;
	}
	const char *path;
	int created = 0;
	rc = media_file_put(a, cfg->media_dir, stored, stored_len, t->ext, &sha, &path, &created);
	if (rc < 0) {
		*problem = arena_printf(a, "the file cannot be written: %s", strerror(-rc));
		rc = -EIO;
		goto unlock;
	}
	char size[24], ws[12], hs[12], quota[24];
	snprintf(size, sizeof(size), "%zu", stored_len);
	snprintf(ws, sizeof(ws), "%d", w);
	snprintf(hs, sizeof(hs), "%d", h);
	snprintf(quota, sizeof(quota), "%ld", cfg->asset_quota_bytes);
	const char *p[] = { owner_id, sha, clean_filename(a, filename, t->ext), t->mime, path, size, ws, hs, quota };
	if ((rc = db_exec(d, a, STMT_ASSET_STORE, p, &res)) < 0) {
		/* the owner's row is gone (a valid token of a deleted account): assets_user_id_fkey */
		rc = rc == -EIO && strcmp(db_sqlstate(d), "23503") == 0 ? -ENOENT : db_rc(rc);
	} else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		out->bytes = (long long)stored_len;
		out->quota_used = PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 2)) : 0;
		*problem = arena_printf(a, "the upload would exceed the storage quota of %ld bytes (%lld bytes used, "
					   "this image is %zu bytes)",
					cfg->asset_quota_bytes, out->quota_used, stored_len);
		rc = -EDQUOT;
	} else {
		const char *json = PQgetvalue(res, 0, 0);
		*out = (struct asset_info){
			.id = arena_strdup(a, PQgetvalue(res, 0, 3)),
			.sha256 = sha,
			.url = arena_printf(a, "/media/%s", path),
			.content_type = t->mime,
			.json = arena_strdup(a, json),
			.bytes = (long long)stored_len,
			.width = w,
			.height = h,
			.created = strcmp(PQgetvalue(res, 0, 1), "t") == 0,
			.quota_used = atoll(PQgetvalue(res, 0, 2)),
		};
		rc = 0;
	}
	if (rc < 0 && created)
		media_file_unlink(cfg->media_dir, path);
unlock:
	db_exec(d, a, STMT_ASSET_UNLOCK, lock, &res);
	return rc;
}
