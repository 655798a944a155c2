/*
 * token.c - JWT issue and verification on libjwt, claims checked here.
 */
#include "token.h"

#include <errno.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static void jwt_release(void *j)
{
	jwt_free(j);
}

int token_issue(const struct token_keys *keys, arena *a, const char *subject, time_t now, char **ret)
{
	if (keys->secret_len < TOKEN_MIN_KEY)
		return TOKEN_BAD_KEY;
	jwt_t *j;
	if (jwt_new(&j) != 0)
		return -ENOMEM;
	arena_defer(a, jwt_release, j);
	if (jwt_set_alg(j, JWT_ALG_HS256, keys->secret, (int)keys->secret_len) ||
	    jwt_add_grant(j, "sub", subject) || jwt_add_grant(j, "iss", keys->issuer) ||
	    jwt_add_grant(j, "aud", keys->audience) || jwt_add_grant_int(j, "iat", (long)now) ||
	    jwt_add_grant_int(j, "nbf", (long)now) || jwt_add_grant_int(j, "exp", (long)now + keys->ttl))
		return -ENOMEM;
	char *s = jwt_encode_str(j);
	if (!s)
		return -ENOMEM;
	*ret = arena_strdup(a, s);
	free(s);
	return 0;
}

/* Three base64url segments, nothing else: rejects junk before libjwt sees it. */
static int token_shape_ok(const char *t)
{
	int dots = 0;
	size_t n = 0;
	for (const char *p = t; *p; p++, n++) {
		char c = *p;
		if (c == '.')
			dots++;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   c == '-' || c == '_'))
			return 0;
		if (n > TOKEN_MAX_BYTES)
			return 0;
	}
	return dots == 2 && t[0] != '.' && t[n - 1] != '.';
}

static long grant_int(jwt_t *j, const char *name)
{
	errno = 0;
	long v = jwt_get_grant_int(j, name);
	return errno ? 0 : v;
}

static int check_claims(const struct token_keys *keys, jwt_t *j, time_t now, char sub[37])
{
	if (jwt_get_alg(j) != JWT_ALG_HS256)
		return TOKEN_BAD_SIGNATURE;
	const char *typ = jwt_get_header(j, "typ");
	if (typ && strcmp(typ, "JWT") != 0)
		return TOKEN_MALFORMED;

	long exp = grant_int(j, "exp"), iat = grant_int(j, "iat"), nbf = grant_int(j, "nbf");
	if (exp == 0 || iat == 0)
		return TOKEN_BAD_CLAIMS;
	if (exp <= now)
		return TOKEN_EXPIRED;
	if (iat > now + TOKEN_LEEWAY || nbf > now + TOKEN_LEEWAY || exp - iat > keys->ttl + TOKEN_LEEWAY)
		return TOKEN_BAD_CLAIMS;

	const char *iss = jwt_get_grant(j, "iss"), *aud = jwt_get_grant(j, "aud");
	const char *subject = jwt_get_grant(j, "sub");
	if (!iss || strcmp(iss, keys->issuer) != 0 || !aud || strcmp(aud, keys->audience) != 0)
		return TOKEN_BAD_CLAIMS;
	if (!subject || !is_uuid(subject))
		return TOKEN_BAD_CLAIMS;
	memcpy(sub, subject, 37);
	return TOKEN_OK;
}

int token_verify(const struct token_keys *keys, const char *token, time_t now, char sub[37])
{
	if (keys->secret_len < TOKEN_MIN_KEY)
		return TOKEN_BAD_KEY;
	if (!token || strlen(token) > TOKEN_MAX_BYTES || !token_shape_ok(token))
		return TOKEN_MALFORMED;
	jwt_t *j = NULL;
	int r = jwt_decode(&j, token, keys->secret, (int)keys->secret_len);
	if (r != 0 || !j) {
		jwt_free(j);
		return r == EINVAL ? TOKEN_BAD_SIGNATURE : TOKEN_MALFORMED;
	}
	r = check_claims(keys, j, now, sub);
	jwt_free(j);
	return r;
}

const char *token_error_str(int err)
{
	switch (err) {
	case TOKEN_OK: return "ok";
	case TOKEN_MALFORMED: return "malformed token";
	case TOKEN_BAD_SIGNATURE: return "invalid signature";
	case TOKEN_EXPIRED: return "token expired";
	case TOKEN_BAD_CLAIMS: return "invalid claims";
	case TOKEN_BAD_KEY: return "signing key too short";
	default: return "invalid token";
	}
}
