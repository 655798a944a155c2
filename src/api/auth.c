/*
 * auth.c - register, login, refresh, logout, me.
 *
 * Access tokens are short-lived HS256 JWTs (token.c); refresh tokens are 256
 * random bits, stored as sha256 and rotated on every use by the
 * auth_rotate_refresh() SQL function, which also revokes a family when a used
 * token comes back. Unknown emails cost one argon2 verification against a
 * dummy hash so that they answer in the same time as wrong passwords.
 *
 * Logins are also throttled per account, whatever the client's address
 * (login_attempt() in SQL): the fifth attempt for one email within 15 minutes
 * locks it for 60 s, doubling up to 15 minutes, answered 429 + Retry-After
 * without looking at the password. Unknown emails are counted and locked
 * exactly alike (no users row is made for them), so neither the answer nor
 * its timing tells whether an account exists; a correct password clears it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "password.h"
#include "random.h"
#include "schemas.h"

#define REFRESH_BYTES 32

static const struct vfield register_fields[] = {
	VEMAIL("email", V_REQUIRED),
	VSTR("password", V_REQUIRED, 8, 128),
	VSTR("name", V_REQUIRED, 1, 200),
	VEND,
};

static const struct vfield login_fields[] = {
	VSTR("email", V_REQUIRED, 1, 254),
	VSTR("password", V_REQUIRED, 1, 128),
	VEND,
};

static const struct vfield refresh_fields[] = {
	VSTR("refreshToken", V_REQUIRED, 1, 4096), /* a wrong token is a 401, whatever its size */
	VEND,
};

const struct body_schema auth_body_schemas[] = {
	{ "POST /api/auth/register", register_fields, false },
	{ "POST /api/auth/login", login_fields, false },
	{ "POST /api/auth/refresh", refresh_fields, false },
	{ "POST /api/auth/logout", refresh_fields, false },
	{ .route = NULL },
};

/* {user, accessToken, refreshToken, expiresIn} for user_id; answers itself. */
static void send_session(request *r, int status, const char *user_id, const char *user_json, const char *refresh)
{
	char *access;
	if (token_issue(&r->app->keys, r->arena, user_id, time(NULL), &access) < 0) {
		req_problem(r, 500, "could not issue a token (request %s)", r->request_id);
		return;
	}
	buf b;
	buf_init(&b, r->arena, 1024);
	buf_printf(&b, "{\"user\":%s,\"accessToken\":", user_json);
	buf_json_str(&b, access);
	buf_puts(&b, ",\"refreshToken\":");
	buf_json_str(&b, refresh);
	buf_printf(&b, ",\"tokenType\":\"Bearer\",\"expiresIn\":%ld}", r->app->keys.ttl);
	req_send_buf(r, status, &b);
}

static const char *new_refresh_token(request *r)
{
	char *t = arena_alloc(r->arena, REFRESH_BYTES * 2);
	if (random_token(t, REFRESH_BYTES) < 0)
		return NULL;
	return t;
}

static const char *ttl_text(request *r)
{
	return arena_printf(r->arena, "%ld", r->app->cfg->refresh_token_ttl);
}

void auth_register(request *r)
{
	if (req_validate_or_fail(r, register_fields) < 0)
		return;
	const char *password = vget_str(r->body, "password");
	char hash[PASSWORD_HASH_MAX];
	struct password_cost cost = { (uint32_t)r->app->cfg->argon2_memory_kib,
				      (uint32_t)r->app->cfg->argon2_iterations };
	const char *refresh = new_refresh_token(r);
	if (!refresh || password_hash(&cost, password, strlen(password), hash) < 0) {
		req_problem(r, 503, "could not hash the password; retry later");
		return;
	}
	const char *p[] = { vget_str(r->body, "email"), vget_str(r->body, "name"), hash, refresh, ttl_text(r) };
	PGresult *res = req_exec_or_fail(r, STMT_USER_REGISTER, p);
	if (!res)
		return;
	if (PQntuples(res) == 0) {
		req_problem(r, 409, "an account with this email already exists");
		return;
	}
	send_session(r, 201, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), refresh);
}

/* Counts this attempt for the email; answers 429 and returns false while the email is locked. */
static bool login_allowed_or_fail(request *r, const char *email)
{
	const char *p[] = { email };
	PGresult *res = req_exec_or_fail(r, STMT_LOGIN_ATTEMPT, p);
	if (!res)
		return false;
	long wait = atol(PQgetvalue(res, 0, 0));
	if (wait <= 0)
		return true;
	req_add_header(r, "Retry-After: %ld", wait);
	req_problem(r, 429, "too many sign-in attempts for this email; try again in %ld s", wait);
	return false;
}

void auth_login(request *r)
{
	if (req_validate_or_fail(r, login_fields) < 0)
		return;
	const char *password = vget_str(r->body, "password");
	const char *email = vget_str(r->body, "email");
	if (!login_allowed_or_fail(r, email))
		return;
	const char *p[] = { email };
	PGresult *res = req_exec_or_fail(r, STMT_USER_BY_EMAIL, p);
	if (!res)
		return;
	bool found = PQntuples(res) == 1;
	const char *hash = found ? PQgetvalue(res, 0, 1) : r->app->dummy_hash;
	int rc = password_verify(hash, password, strlen(password));
	if (!found || rc == -EACCES) {
		req_problem(r, 401, "wrong email or password");
		return;
	}
	if (rc < 0) {
		req_problem(r, 503, "could not verify the password; retry later");
		return;
	}
	const char *user_id = PQgetvalue(res, 0, 0);
	const char *refresh = new_refresh_token(r);
	const char *ip[] = { user_id, refresh, ttl_text(r) };
	if (!refresh || !req_exec_or_fail(r, STMT_LOGIN_SUCCEEDED, p) || !req_exec_or_fail(r, STMT_REFRESH_ISSUE, ip))
		return;
	send_session(r, 200, user_id, PQgetvalue(res, 0, 2), refresh);
}

void auth_refresh(request *r)
{
	if (req_validate_or_fail(r, refresh_fields) < 0)
		return;
	const char *refresh = new_refresh_token(r);
	const char *p[] = { vget_str(r->body, "refreshToken"), refresh, ttl_text(r) };
	PGresult *res = refresh ? req_exec_or_fail(r, STMT_REFRESH_ROTATE, p) : NULL;
	if (!res)
		return;
	const char *outcome = PQgetvalue(res, 0, 0);
	if (strcmp(outcome, "ok") != 0) {
		req_problem(r, 401, "%s", strcmp(outcome, "reused") == 0
					  ? "the refresh token was already used; the session has been revoked"
					  : "the refresh token is invalid, expired or revoked");
		return;
	}
	send_session(r, 200, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), refresh);
}

void auth_logout(request *r)
{
	if (req_validate_or_fail(r, refresh_fields) < 0)
		return;
	const char *p[] = { vget_str(r->body, "refreshToken"), r->user_id };
	if (req_exec_or_fail(r, STMT_REFRESH_REVOKE, p))
		req_send_empty(r, 204);
}

void auth_me(request *r)
{
	PGresult *res = req_caller_or_fail(r);
	if (!res)
		return;
	req_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}
