/*
 * migrate.c - numbered SQL migrations with checksums and an advisory lock.
 *
 * Each file runs in its own transaction as the migrating login (a superuser:
 * migrations create roles and extensions); before it commits, everything it
 * created in schema public is handed to adcraft_owner (adcraft_claim_ownership(),
 * from migration 0007 on), so no object stays owned by a superuser.
 */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK_KEY "7270127705"	/* pg_advisory_lock key: "adcraft" */

struct file {
	int version;
	char name[256];
};

static int by_version(const void *a, const void *b)
{
	return ((const struct file *)a)->version - ((const struct file *)b)->version;
}

/* NNNN_name.sql with a lowercase name */
static int parse_name(const char *fn, struct file *out)
{
	size_t n = strlen(fn);
	if (n < 10 || n >= sizeof(out->name) || strcmp(fn + n - 4, ".sql") != 0 || fn[4] != '_')
		return -1;
	for (int i = 0; i < 4; i++)
		if (fn[i] < '0' || fn[i] > '9')
			return -1;
	for (size_t i = 5; i < n - 4; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", fn[i]))
			return -1;
	out->version = atoi(fn);
	memcpy(out->name, fn, n + 1);
	return 0;
}

static int fail(struct migrate_report *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct migrate_report *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return code;
}

static char *read_file(arena *a, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = n >= 0 ? arena_alloc(a, (size_t)n + 1) : NULL;
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n)
		s = NULL;
	fclose(f);
	if (s)
		s[n] = '\0';
	return s;
}

static const char bootstrap_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	"  version    integer     PRIMARY KEY,"
	"  name       text        NOT NULL,"
	"  checksum   text        NOT NULL,"
	"  applied_at timestamptz NOT NULL DEFAULT now());"
	"COMMENT ON TABLE schema_migrations IS 'Migrations applied by adcraft migrate, one row per sql/NNNN_name.sql file.';"
	"COMMENT ON COLUMN schema_migrations.version IS 'NNNN from the file name.';"
	"COMMENT ON COLUMN schema_migrations.name IS 'The file name.';"
	"COMMENT ON COLUMN schema_migrations.checksum IS 'sha256 of the file as applied; a changed file is refused.';"
	"COMMENT ON COLUMN schema_migrations.applied_at IS 'When the file was applied.';";

/* After each migration: objects it created go to adcraft_owner (migration 0007 defines how). */
static const char claim_sql[] =
	"DO $$BEGIN"
	"  IF to_regprocedure('public.adcraft_claim_ownership()') IS NOT NULL THEN"
	"    PERFORM public.adcraft_claim_ownership();"
	"  END IF;"
	"END$$";

static int apply_all(db *d, arena *a, const char *dir, struct file *files, size_t n, FILE *out,
		     struct migrate_report *rep)
{
	PGresult *res;
	if (db_exec_sql(d, a, bootstrap_sql, &res) < 0 ||
	    db_exec_sql(d, a, "SELECT version, checksum FROM schema_migrations", &res) < 0)
		return fail(rep, -EIO, "schema_migrations: %s", db_error(d));
	PGresult *applied = res;

	for (size_t i = 0; i < n; i++) {
		char *path = arena_printf(a, "%s/%s", dir, files[i].name);
		char *sql = read_file(a, path);
		if (!sql)
			return fail(rep, -errno, "%s: %s", path, strerror(errno));
		const char *p[] = { sql };
		if (db_exec_params(d, a, "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", 1, p, &res) < 0)
			return fail(rep, -EIO, "%s: %s", path, db_error(d));
		const char *sum = arena_strdup(a, PQgetvalue(res, 0, 0));

		const char *known = NULL;
		for (int r = 0; r < PQntuples(applied); r++)
			if (atoi(PQgetvalue(applied, r, 0)) == files[i].version)
				known = PQgetvalue(applied, r, 1);
		if (known) {
			if (strcmp(known, sum) != 0)
				return fail(rep, -EEXIST,
					    "%s was changed after it was applied (checksum %.12s..., applied %.12s...); "
					    "write a new migration instead", files[i].name, sum, known);
			rep->current++;
			continue;
		}
		char version[16];
		snprintf(version, sizeof(version), "%d", files[i].version);
		const char *rec[] = { version, files[i].name, sum };
		if (db_exec_sql(d, a, "BEGIN", &res) < 0 || db_exec_sql(d, a, sql, &res) < 0 ||
		    db_exec_sql(d, a, claim_sql, &res) < 0 ||
		    db_exec_params(d, a, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
				   3, rec, &res) < 0 ||
		    db_exec_sql(d, a, "COMMIT", &res) < 0) {
			int r = fail(rep, -EIO, "%s: %s", files[i].name, db_error(d));
			db_exec_sql(d, a, "ROLLBACK", &res);
			return r;
		}
		rep->applied++;
		if (out)
			fprintf(out, "applied %s\n", files[i].name);
	}
	return 0;
}

int migrate_run(db *d, const char *sql_dir, FILE *out, struct migrate_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	DIR *dir = opendir(sql_dir);
	if (!dir)
		return fail(rep, -errno, "%s: %s", sql_dir, strerror(errno));
	struct file files[1000];
	size_t n = 0;
	for (struct dirent *e; (e = readdir(dir)) && n < 1000;)
		if (parse_name(e->d_name, &files[n]) == 0)
			n++;
	closedir(dir);
	qsort(files, n, sizeof(files[0]), by_version);
	for (size_t i = 1; i < n; i++)
		if (files[i].version == files[i - 1].version) {
			return fail(rep, -EINVAL, "two migrations share version %04d: %s and %s", files[i].version,
				    files[i - 1].name, files[i].name);
		}

	if (db_ensure(d) < 0)
		return fail(rep, -ENOTCONN, "cannot connect: %s", db_error(d));
	arena *a = arena_new(65536);
	PGresult *res;
	int r;
	if (db_exec_sql(d, a, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", &res) < 0)
		r = fail(rep, -EIO, "advisory lock: %s", db_error(d));
	else {
		r = apply_all(d, a, sql_dir, files, n, out, rep);
		db_exec_sql(d, a, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", &res);
	}
	arena_free(a);
	return r;
}
