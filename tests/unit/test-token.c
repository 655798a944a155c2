/* Unit tests for src/core/token.c: the libjwt traps, one by one. */
#include <jwt.h>
#include <stdlib.h>

#include "tap.h"
#include "token.h"

#define SUB "7d444840-9dc0-11d1-b245-5ffdce74fad2"
static const unsigned char key[] = "0123456789abcdef0123456789abcdef-key";
static const unsigned char other[] = "fedcba9876543210fedcba9876543210-key";

static struct token_keys keys = { key, sizeof(key) - 1, "adcraft", "adcraft-api", 900 };

/* A token made with libjwt directly, for claims our issuer would never write. */
static char *raw_token(jwt_alg_t alg, const unsigned char *k, size_t klen, const char *iss, const char *aud,
		       const char *sub, long iat, long nbf, long exp)
{
	jwt_t *j;
	jwt_new(&j);
	jwt_set_alg(j, alg, alg == JWT_ALG_NONE ? NULL : k, alg == JWT_ALG_NONE ? 0 : (int)klen);
	if (iss)
		jwt_add_grant(j, "iss", iss);
	if (aud)
		jwt_add_grant(j, "aud", aud);
	if (sub)
		jwt_add_grant(j, "sub", sub);
	if (iat)
		jwt_add_grant_int(j, "iat", iat);
	if (nbf)
		jwt_add_grant_int(j, "nbf", nbf);
	if (exp)
		jwt_add_grant_int(j, "exp", exp);
	char *s = jwt_encode_str(j);
	jwt_free(j);
	return s;
}

int main(void)
{
	arena *a = arena_new(0);
	time_t now = 1800000000;
	char sub[37] = "";
	char *t;

	is_int(token_issue(&keys, a, SUB, now, &t), 0, "issue");
	is_int(token_verify(&keys, t, now + 10, sub), TOKEN_OK, "a fresh token verifies");
	is_str(sub, SUB, "subject comes back");
	is_int(token_verify(&keys, t, now + 900, sub), TOKEN_EXPIRED, "expired at exp");

	struct token_keys wrong = keys;
	wrong.secret = other;
	is_int(token_verify(&wrong, t, now, sub), TOKEN_BAD_SIGNATURE, "HS256 signed with another key is refused");

	char *none = raw_token(JWT_ALG_NONE, NULL, 0, "adcraft", "adcraft-api", SUB, now, now, now + 60);
	ok(token_verify(&keys, none, now, sub) < 0, "alg none is refused");
	char *none_sig = malloc(strlen(none) + 8);
	strcpy(none_sig, none);
	strcat(none_sig, "AAAA");
	ok(token_verify(&keys, none_sig, now, sub) < 0, "alg none with a fake signature is refused");

	char *hs512 = raw_token(JWT_ALG_HS512, key, sizeof(key) - 1, "adcraft", "adcraft-api", SUB, now, now,
				now + 60);
	is_int(token_verify(&keys, hs512, now, sub), TOKEN_BAD_SIGNATURE, "HS512 (not pinned alg) is refused");

	char *noexp = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", SUB, now, now, 0);
	is_int(token_verify(&keys, noexp, now, sub), TOKEN_BAD_CLAIMS, "missing exp is refused");
	char *iss = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "evil", "adcraft-api", SUB, now, now, now + 60);
	is_int(token_verify(&keys, iss, now, sub), TOKEN_BAD_CLAIMS, "wrong iss is refused");
	char *aud = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "other", SUB, now, now, now + 60);
	is_int(token_verify(&keys, aud, now, sub), TOKEN_BAD_CLAIMS, "wrong aud is refused");
	char *nosub = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", NULL, now, now,
				now + 60);
	is_int(token_verify(&keys, nosub, now, sub), TOKEN_BAD_CLAIMS, "missing sub is refused");
	char *badsub = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", "admin", now, now,
				 now + 60);
	is_int(token_verify(&keys, badsub, now, sub), TOKEN_BAD_CLAIMS, "non-UUID sub is refused");
	char *future = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", SUB, now,
				 now + 3600, now + 7200);
	is_int(token_verify(&keys, future, now, sub), TOKEN_BAD_CLAIMS, "nbf in the future is refused");
	char *long_lived = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", SUB, now, now,
				     now + 86400 * 365);
	is_int(token_verify(&keys, long_lived, now, sub), TOKEN_BAD_CLAIMS, "lifetime beyond the configured ttl");

	struct token_keys shortkey = keys;
	shortkey.secret_len = 31;
	is_int(token_verify(&shortkey, t, now, sub), TOKEN_BAD_KEY, "a key under 32 bytes verifies nothing");
	is_int(token_issue(&shortkey, a, SUB, now, &t), TOKEN_BAD_KEY, "and signs nothing");

	char *huge = malloc(TOKEN_MAX_BYTES + 100);
	memset(huge, 'a', TOKEN_MAX_BYTES + 99);
	huge[10] = '.';
	huge[20] = '.';
	huge[TOKEN_MAX_BYTES + 99] = '\0';
	is_int(token_verify(&keys, huge, now, sub), TOKEN_MALFORMED, "a token over 8 KiB is refused unread");
	is_int(token_verify(&keys, "not a token", now, sub), TOKEN_MALFORMED, "garbage is malformed");
	is_int(token_verify(&keys, "a.b", now, sub), TOKEN_MALFORMED, "two segments are malformed");
	is_str(sub, SUB, "failed verifications left sub untouched");

	free(none);
	free(none_sig);
	free(hs512);
	free(noexp);
	free(iss);
	free(aud);
	free(nosub);
	free(badsub);
	free(future);
	free(long_lived);
	free(huge);
	arena_free(a);
	return tap_done();
}
