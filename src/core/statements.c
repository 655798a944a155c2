/*
 * statements.c - the prepared statement table.
 *
 * Rows come back shaped for the API (json built by PostgreSQL), so handlers
 * pass them through instead of rebuilding them in C.
 */
#include "statements.h"

const struct stmt_def statements[STMT__COUNT] = {
	[STMT_HEALTH] = { "health", "SELECT 1", 0 },

	/* $1 email, $2 name, $3 password hash, $4 refresh token, $5 refresh ttl (s).
	 * Inserts the user and its first refresh token atomically; no row when the
	 * email is taken. */
	[STMT_USER_REGISTER] = { "user_register",
		"WITH u AS ("
		"  INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)"
		"  ON CONFLICT ((lower(email))) DO NOTHING"
		"  RETURNING *"
		"), t AS ("
		"  INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)"
		"  SELECT u.id, gen_random_uuid(), token_digest($4), now() + make_interval(secs => $5::int)"
		"  FROM u"
		") SELECT u.id, user_json(u) FROM u", 5 },

	/* $1 email */
	[STMT_USER_BY_EMAIL] = { "user_by_email",
		"SELECT u.id, u.password_hash, user_json(u) FROM users u WHERE lower(u.email) = lower($1)", 1 },

	/* $1 user id */
	[STMT_USER_BY_ID] = { "user_by_id",
		"SELECT user_json(u) FROM users u WHERE u.id = $1::uuid", 1 },

	/* $1 user id, $2 refresh token, $3 ttl (s): a new family (a login). */
	[STMT_REFRESH_ISSUE] = { "refresh_issue",
		"INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)"
		" VALUES ($1::uuid, gen_random_uuid(), token_digest($2), now() + make_interval(secs => $3::int))", 3 },

	/* $1 presented token, $2 new token, $3 ttl (s) */
	[STMT_REFRESH_ROTATE] = { "refresh_rotate",
		"SELECT outcome, user_id, user_json FROM auth_rotate_refresh($1, $2, $3::int)", 3 },

	/* $1 token, $2 user id: logout ends the token's whole family (the session). */
	[STMT_REFRESH_REVOKE] = { "refresh_revoke",
		"UPDATE refresh_tokens SET revoked_at = now()"
		" WHERE revoked_at IS NULL AND family_id = ("
		"   SELECT family_id FROM refresh_tokens WHERE token_hash = token_digest($1) AND user_id = $2::uuid)", 2 },
};
