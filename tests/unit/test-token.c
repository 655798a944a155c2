/* Unit tests for src/core/token.c: the libjwt traps, one by one, and the parser of token_verify(). */
#include <jwt.h>
#include <openssl/hmac.h>
#include <stdio.h>
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

static void b64url(const unsigned char *in, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = al[v >> 18], out[o++] = al[v >> 12 & 63], out[o++] = al[v >> 6 & 63], out[o++] = al[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = al[v >> 18], out[o++] = al[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = al[v >> 18], out[o++] = al[v >> 12 & 63], out[o++] = al[v >> 6 & 63];
	}
	out[o] = '\0';
}

/* "header.payload" (already encoded) with its HS256 signature appended. */
static char *sign_text(arena *a, const char *text)
{
	char *t = arena_alloc(a, strlen(text) + 64);
	strcpy(t, text);
	unsigned char mac[32];
	unsigned int mlen;
	HMAC(EVP_sha256(), key, sizeof(key) - 1, (const unsigned char *)t, strlen(t), mac, &mlen);
	strcat(t, ".");
	b64url(mac, mlen, t + strlen(t));
	return t;
}

/* header and claims JSON as written, signed with HS256 and key: tokens no JWT library would make. */
static char *hand_token(arena *a, const char *header, const char *claims)
{
	size_t hn = strlen(header), cn = strlen(claims);
	char *t = arena_alloc(a, (hn + cn) * 2 + 64);
	b64url((const unsigned char *)header, hn, t);
	strcat(t, ".");
	b64url((const unsigned char *)claims, cn, t + strlen(t));
	return sign_text(a, t);
}

/* A token whose claims are ours at now, and header is the given text. */
static char *with_header(arena *a, const char *header, time_t now)
{
	char claims[256];
	snprintf(claims, sizeof(claims),
		 "{\"sub\":\"%s\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"iat\":%ld,\"nbf\":%ld,\"exp\":%ld}",
		 SUB, (long)now, (long)now, (long)now + 60);
	return hand_token(a, header, claims);
}

static const char HEADER[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

int main(void)
{
	arena *a = arena_new(0);
	time_t now = 1800000000;
	char sub[37] = "";
	char *t;

	is_int(token_issue(&keys, a, SUB, now, &t), 0, "issue");
	is_int(token_verify(&keys, a, t, now + 10, sub), TOKEN_OK, "a fresh token verifies");
	is_str(sub, SUB, "subject comes back");
	is_int(token_verify(&keys, a, t, now + 900, sub), TOKEN_EXPIRED, "expired at exp");

	struct token_keys wrong = keys;
	wrong.secret = other;
	is_int(token_verify(&wrong, a, t, now, sub), TOKEN_BAD_SIGNATURE, "HS256 signed with another key is refused");

	char *none = raw_token(JWT_ALG_NONE, NULL, 0, "adcraft", "adcraft-api", SUB, now, now, now + 60);
	ok(token_verify(&keys, a, none, now, sub) < 0, "alg none is refused");
	char *none_sig = malloc(strlen(none) + 8);
	strcpy(none_sig, none);
	strcat(none_sig, "AAAA");
	ok(token_verify(&keys, a, none_sig, now, sub) < 0, "alg none with a fake signature is refused");

	char *hs512 = raw_token(JWT_ALG_HS512, key, sizeof(key) - 1, "adcraft", "adcraft-api", SUB, now, now,
				now + 60);
	is_int(token_verify(&keys, a, hs512, now, sub), TOKEN_BAD_SIGNATURE, "HS512 (not pinned alg) is refused");

	char *noexp = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", SUB, now, now, 0);
	is_int(token_verify(&keys, a, noexp, now, sub), TOKEN_BAD_CLAIMS, "missing exp is refused");
	char *iss = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "evil", "adcraft-api", SUB, now, now, now + 60);
	is_int(token_verify(&keys, a, iss, now, sub), TOKEN_BAD_CLAIMS, "wrong iss is refused");
	char *aud = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "other", SUB, now, now, now + 60);
	is_int(token_verify(&keys, a, aud, now, sub), TOKEN_BAD_CLAIMS, "wrong aud is refused");
	char *nosub = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", NULL, now, now,
				now + 60);
	is_int(token_verify(&keys, a, nosub, now, sub), TOKEN_BAD_CLAIMS, "missing sub is refused");
	char *badsub = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", "admin", now, now,
				 now + 60);
	is_int(token_verify(&keys, a, badsub, now, sub), TOKEN_BAD_CLAIMS, "non-UUID sub is refused");
	char *future = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", SUB, now,
				 now + 3600, now + 7200);
	is_int(token_verify(&keys, a, future, now, sub), TOKEN_BAD_CLAIMS, "nbf in the future is refused");
	char *long_lived = raw_token(JWT_ALG_HS256, key, sizeof(key) - 1, "adcraft", "adcraft-api", SUB, now, now,
				     now + 86400 * 365);
	is_int(token_verify(&keys, a, long_lived, now, sub), TOKEN_BAD_CLAIMS, "lifetime beyond the configured ttl");

	struct token_keys shortkey = keys;
	shortkey.secret_len = 31;
	is_int(token_verify(&shortkey, a, t, now, sub), TOKEN_BAD_KEY, "a key under 32 bytes verifies nothing");
	is_int(token_issue(&shortkey, a, SUB, now, &t), TOKEN_BAD_KEY, "and signs nothing");

	char *huge = malloc(TOKEN_MAX_BYTES + 100);
	memset(huge, 'a', TOKEN_MAX_BYTES + 99);
	huge[10] = '.';
	huge[20] = '.';
	huge[TOKEN_MAX_BYTES + 99] = '\0';
	is_int(token_verify(&keys, a, huge, now, sub), TOKEN_MALFORMED, "a token over 8 KiB is refused unread");
	is_int(token_verify(&keys, a, "not a token", now, sub), TOKEN_MALFORMED, "garbage is malformed");
	is_int(token_verify(&keys, a, "a.b", now, sub), TOKEN_MALFORMED, "two segments are malformed");
	is_str(sub, SUB, "failed verifications left sub untouched");

	/* The hand-made token equals what we issue, so the cases below differ from a valid token in one thing. */
	char *mine = hand_token(a, HEADER, "{}");
	is_int(token_verify(&keys, a, with_header(a, HEADER, now), now, sub), TOKEN_OK, "a hand-signed token verifies");
	is_int(token_verify(&keys, a, with_header(a, "{\"typ\":\"JWT\",\"alg\":\"HS256\"}", now), now, sub), TOKEN_OK,
	       "header keys in the other order");
	is_int(token_verify(&keys, a, t, now + 10, sub), TOKEN_OK, "the context reused for a second token");
	ok(strncmp(mine, t, strchr(t, '.') - t + 1) == 0, "our issuer writes the header the verifier pins");

	static const struct {
		const char *header;
		int want;
		const char *what;
	} headers[] = {
		{ "{\"alg\":\"HS256\"}", TOKEN_MALFORMED, "header without typ" },
		{ "{\"alg\":\"HS256\",\"typ\":\"jwt\"}", TOKEN_MALFORMED, "typ other than JWT" },
		{ "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}", TOKEN_MALFORMED, "an extra header key" },
		{ "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}", TOKEN_MALFORMED, "a duplicate header key" },
		{ "{\"alg\":\"HS256\",\"alg\":\"HS256\",\"typ\":\"JWT\"}", TOKEN_MALFORMED, "a duplicate alg" },
		{ "{\"alg\":\"none\",\"typ\":\"JWT\"}", TOKEN_BAD_SIGNATURE, "alg none, even signed" },
		{ "{\"alg\":\"hs256\",\"typ\":\"JWT\"}", TOKEN_BAD_SIGNATURE, "alg in lower case" },
		{ "{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}", TOKEN_MALFORMED, "alg not a string" },
		{ "{\"alg\":\"HS256\\u0000\",\"typ\":\"JWT\"}", TOKEN_BAD_SIGNATURE, "alg with an embedded NUL" },
		{ "{\"alg\":\"HS256\",\"typ\":\"JWT\"} x", TOKEN_MALFORMED, "trailing data after the header" },
		{ "[\"HS256\"]", TOKEN_MALFORMED, "a header that is not an object" },
		{ "{\"alg\":\"HS256\",\"typ\":\"JWT\",}", TOKEN_MALFORMED, "a trailing comma" },
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		is_int(token_verify(&keys, a, with_header(a, headers[i].header, now), now, sub), headers[i].want,
		       "%s", headers[i].what);

	char body[512];
	static const struct {
		const char *claims;
		int want;
		const char *what;
	} claims[] = {
		{ "{\"sub\":\"" SUB "\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"iat\":1800000000,\"exp\":1800000060}",
		  TOKEN_OK, "nbf is optional" },
		{ "{\"sub\":\"" SUB "\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"exp\":1800000060}", TOKEN_BAD_CLAIMS,
		  "missing iat" },
		{ "{\"sub\":\"" SUB "\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"iat\":1800000000,\"exp\":\"1800000060\"}",
		  TOKEN_BAD_CLAIMS, "exp as a string is missing" },
		{ "{\"sub\":\"" SUB "\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"iat\":1800000000,\"exp\":1800000060.5}",
		  TOKEN_BAD_CLAIMS, "exp as a fraction is missing" },
		{ "{\"sub\":\"" SUB "\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"iat\":-9223372036854775807,"
		  "\"exp\":9223372036854775807}", TOKEN_BAD_CLAIMS, "extreme iat and exp do not overflow" },
		{ "{\"sub\":\"" SUB "\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"iat\":1800000000,\"exp\":99999999999999999999}",
		  TOKEN_BAD_CLAIMS, "exp beyond 64 bits" },
		{ "{\"sub\":\"" SUB "\",\"iss\":\"adcraft\\u0000x\",\"aud\":\"adcraft-api\",\"iat\":1800000000,"
		  "\"exp\":1800000060}", TOKEN_BAD_CLAIMS, "iss with an embedded NUL" },
		{ "{\"sub\":\"" SUB "\",\"iss\":\"adcraft\",\"aud\":[\"adcraft-api\"],\"iat\":1800000000,\"exp\":1800000060}",
		  TOKEN_BAD_CLAIMS, "aud as an array" },
		{ "{\"sub\":\"" SUB "\\u0000\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"iat\":1800000000,"
		  "\"exp\":1800000060}", TOKEN_BAD_CLAIMS, "sub with an embedded NUL" },
		{ "{\"sub\":\"" SUB "\",\"sub\":\"" SUB "\",\"iss\":\"adcraft\",\"aud\":\"adcraft-api\",\"iat\":1800000000,"
		  "\"exp\":1800000060}", TOKEN_MALFORMED, "a duplicate claim" },
		{ "[1]", TOKEN_MALFORMED, "claims that are not an object" },
		{ "{\"sub\":\"" SUB "\"", TOKEN_MALFORMED, "truncated claims" },
	};
	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		snprintf(body, sizeof(body), "%s", claims[i].claims);
		is_int(token_verify(&keys, a, hand_token(a, HEADER, body), now, sub), claims[i].want, "%s",
		       claims[i].what);
	}

	/* Encoding: one change to a valid token at a time. */
	char *good = with_header(a, HEADER, now);
	size_t glen = strlen(good);
	char *dot2 = strrchr(good, '.');
	char *bad = arena_alloc(a, glen + 8);
	snprintf(bad, glen + 8, "%s=", good);
	is_int(token_verify(&keys, a, bad, now, sub), TOKEN_MALFORMED, "padding after the signature");
	snprintf(bad, glen + 8, "%.*s=%s", (int)(dot2 - good), good, dot2);
	is_int(token_verify(&keys, a, bad, now, sub), TOKEN_MALFORMED, "padding in the payload");
	snprintf(bad, glen + 8, "%s", good);
	bad[3] = '+';
	is_int(token_verify(&keys, a, bad, now, sub), TOKEN_MALFORMED, "a base64 (not base64url) character");
	snprintf(bad, glen + 8, "%s", good);
	bad[glen - 1] = bad[glen - 1] == 'A' ? 'B' : 'A';
	ok(token_verify(&keys, a, bad, now, sub) < 0, "a changed last signature character");
	snprintf(bad, glen + 8, "%sA", good);
	is_int(token_verify(&keys, a, bad, now, sub), TOKEN_BAD_SIGNATURE, "a signature of 44 characters (33 bytes)");
	snprintf(bad, glen + 8, "%sAA", good);
	is_int(token_verify(&keys, a, bad, now, sub), TOKEN_MALFORMED, "a signature of 4n+1 characters");
	snprintf(bad, glen + 8, "%.*s", (int)glen - 3, good);
	is_int(token_verify(&keys, a, bad, now, sub), TOKEN_BAD_SIGNATURE, "a signature of 40 characters (30 bytes)");
	snprintf(bad, glen + 8, "%s.", good);
	is_int(token_verify(&keys, a, bad, now, sub), TOKEN_MALFORMED, "four segments");
	is_int(token_verify(&keys, a, dot2, now, sub), TOKEN_MALFORMED, "empty segments");
	is_int(token_verify(&keys, a, "", now, sub), TOKEN_MALFORMED, "an empty token");
	is_int(token_verify(&keys, a, NULL, now, sub), TOKEN_MALFORMED, "no token");
	/* "{}" is "e30"; "e31" decodes to the same bytes with a non-zero unused bit, and is signed as written. */
	is_int(token_verify(&keys, a, sign_text(a, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30"), now, sub), TOKEN_BAD_CLAIMS,
	       "canonical empty claims reach the claim checks");
	is_int(token_verify(&keys, a, sign_text(a, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e31"), now, sub), TOKEN_MALFORMED,
	       "non-zero unused bits are refused");
	is_str(sub, SUB, "and sub is still the one from the last success");

	/* a token that verified is remembered: the same bytes need only the checks that depend on now */
	char *fresh;
	token_issue(&keys, a, SUB, now, &fresh);
	strcpy(sub, "");
	is_int(token_verify(&keys, a, fresh, now + 1, sub), TOKEN_OK, "remembered: verifies");
	is_int(token_verify(&keys, a, fresh, now + 2, sub), TOKEN_OK, "remembered: verifies again");
	is_str(sub, SUB, "remembered: the subject");
	is_int(token_verify(&keys, a, fresh, now + 900, sub), TOKEN_EXPIRED, "remembered: expires at exp");
	is_int(token_verify(&keys, a, fresh, now - TOKEN_LEEWAY - 1, sub), TOKEN_BAD_CLAIMS,
	       "remembered: issued in the future when the clock went back");
	is_int(token_verify(&keys, a, fresh, now + 3, sub), TOKEN_OK, "remembered: still valid after those");
	struct token_keys events = keys;
	events.audience = "adcraft-events";
	is_int(token_verify(&events, a, fresh, now + 3, sub), TOKEN_BAD_CLAIMS, "remembered for its audience only");
	struct token_keys longer = keys;
	longer.ttl = 60;
	is_int(token_verify(&longer, a, fresh, now + 3, sub), TOKEN_BAD_CLAIMS, "remembered for its ttl only");
	struct token_keys same = keys; /* another struct, equal content: the same key set */
	is_int(token_verify(&same, a, fresh, now + 3, sub), TOKEN_OK, "a key set is its content");
	unsigned char mutable_key[sizeof(key)];
	memcpy(mutable_key, key, sizeof(key));
	struct token_keys changing = { mutable_key, sizeof(key) - 1, "adcraft", "adcraft-api", 900 };
	is_int(token_verify(&changing, a, fresh, now + 3, sub), TOKEN_OK, "before the key changes");
	mutable_key[0] ^= 1;
	is_int(token_verify(&changing, a, fresh, now + 3, sub), TOKEN_BAD_SIGNATURE, "a key changed in place: not remembered");
	char *forged = arena_strdup(a, fresh);
	size_t flen = strlen(forged);
	forged[flen - 2] = forged[flen - 2] == 'A' ? 'B' : 'A'; /* same length, one signature byte off */
	is_int(token_verify(&keys, a, forged, now + 3, sub), TOKEN_BAD_SIGNATURE, "the remembered token with one byte changed");
	/* more tokens than slots: each one right, the evicted ones verified again */
	char *many[200];
	int verified = 0;
	for (int i = 0; i < 200; i++) {
		token_issue(&keys, a, SUB, now + i, &many[i]);
		verified += token_verify(&keys, a, many[i], now + 200, sub) == TOKEN_OK;
	}
	for (int i = 0; i < 200; i++)
		verified += token_verify(&keys, a, many[i], now + 201, sub) == TOKEN_OK;
	is_int(verified, 400, "200 tokens, twice each: all verify (64 slots)");
	is_int(token_verify(&keys, a, many[0], now + 900, sub), TOKEN_EXPIRED, "an early one expires on time");

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
