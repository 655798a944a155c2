/*
 * token.h - HS256 access tokens (JWT) issued and verified with our own checks.
 *
 * Tokens are issued with libjwt and verified without it (token.c says why):
 * token_verify() bounds the size, accepts only canonical base64url segments
 * and the exact header adcraft writes ({"alg":"HS256","typ":"JWT"}), checks
 * the HMAC in constant time, then exp (required), iat (required), nbf, iss,
 * aud and sub from strictly parsed claims.
 */
#pragma once

#include <stddef.h>
#include <time.h>

#include "arena.h"

#define TOKEN_MAX_BYTES 8192
#define TOKEN_MIN_KEY 32
#define TOKEN_LEEWAY 30 /* seconds of clock skew tolerated for iat/nbf */

struct token_keys {
	const unsigned char *secret;
	size_t secret_len;
	const char *issuer;
	const char *audience;
	long ttl; /* seconds */
};

enum token_error {
	TOKEN_OK = 0,
	TOKEN_MALFORMED = -1,	/* not a JWT, oversize, bad base64/JSON, a header other than ours */
	TOKEN_BAD_SIGNATURE = -2,	/* signature, or an algorithm other than HS256 */
	TOKEN_EXPIRED = -3,
	TOKEN_BAD_CLAIMS = -4,	/* missing/wrong iss, aud, sub, nbf, iat */
	TOKEN_BAD_KEY = -5,	/* our key is shorter than TOKEN_MIN_KEY */
};

/* Mints a token for subject, valid from now for keys->ttl seconds; *ret is arena-owned. */
int token_issue(const struct token_keys *keys, arena *a, const char *subject, time_t now, char **ret);

/*
 * Verifies token at time now. On success copies the subject (a UUID) into
 * sub[37] and returns TOKEN_OK; otherwise returns a negative token_error and
 * leaves sub untouched. The decoded segments and parsed JSON are owned by a
 * (the request's arena); nothing else is allocated per call.
 */
int token_verify(const struct token_keys *keys, arena *a, const char *token, time_t now, char sub[37]);

const char *token_error_str(int err);
