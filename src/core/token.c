/*
 * token.c - access tokens: issued with libjwt, verified here without it.
 *
 * Issuing keeps libjwt (a login is rare and argon2 dwarfs it). Verification
 * runs on every authenticated request, where libjwt 1.10's decode (jansson
 * objects, OpenSSL BIOs, a dozen mallocs) was a fifth of an api child's CPU,
 * so token_verify() does the work itself, in this order:
 *
 *   1. shape: at most TOKEN_MAX_BYTES, exactly three non-empty segments of
 *      canonical base64url without padding (no '=', no other byte, no length
 *      of 4n+1, unused low bits zero), a 43-character signature;
 *   2. the header is exactly what token_issue() writes: the same text (the
 *      common case, a memcmp), or a JSON object with "alg": "HS256" and
 *      "typ": "JWT" and nothing else, read by the strict parser (duplicate
 *      keys, trailing data, bad UTF-8 refused);
 *   3. HMAC-SHA256 of "header.payload" with a MAC context keyed once per
 *      process and key, compared with CRYPTO_memcmp();
 *   4. only then the claims, with the strict parser: exp (required), iat
 *      (required), nbf, iss, aud and sub, with the same rules as before.
 *
 * A token that passed all of it is remembered (its exact bytes, the key set,
 * its times and subject; 64 per process): a client sends the same access
 * token with every request of its 15 minutes, and the next time only the
 * checks that depend on the time are made again (see "Tokens verified
 * before" below).
 *
 * Decoded segments and parsed JSON belong to the caller's arena.
 */
#include "token.h"

#include <errno.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
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

#define MAC_LEN 32	/* HMAC-SHA256 */
#define SIG_CHARS 43	/* MAC_LEN bytes in base64url without padding */
#define MAC_SLOTS 4	/* distinct keys a process verifies with (access, events) */

/*
 * The header token_issue() writes, {"alg":"HS256","typ":"JWT"} (libjwt sorts
 * the keys), in base64url: the common case, compared as text. Any other
 * header text goes through check_header().
 */
static const char OUR_HEADER[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/* 1 + the value of each base64url character; 0 for every other byte. */
static const unsigned char b64url_value[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
	['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
	['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

/*
 * Decodes s[0..n), canonical base64url without padding, into out (room for
 * n * 3 / 4 bytes). Returns 0 and the length in *ret_len, or -EINVAL for any
 * byte outside the alphabet, a length of 4k+1, or non-zero unused bits.
 */
static int b64url_decode(const char *s, size_t n, unsigned char *out, size_t *ret_len)
{
	if (n % 4 == 1)
		return -EINVAL;
	const unsigned char *in = (const unsigned char *)s;
	size_t i = 0, o = 0;
	for (; i + 4 <= n; i += 4) {
		unsigned a = b64url_value[in[i]], b = b64url_value[in[i + 1]], c = b64url_value[in[i + 2]],
			 d = b64url_value[in[i + 3]];
		if (!a || !b || !c || !d)
			return -EINVAL;
		uint32_t v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
		out[o++] = (unsigned char)(v >> 16);
		out[o++] = (unsigned char)(v >> 8);
		out[o++] = (unsigned char)v;
	}
	if (i < n) { /* 2 or 3 characters left: 1 or 2 bytes, and 4 or 2 unused bits that must be zero */
		unsigned a = b64url_value[in[i]], b = b64url_value[in[i + 1]];
		unsigned c = n - i == 3 ? b64url_value[in[i + 2]] : 1;
		if (!a || !b || !c)
			return -EINVAL;
		uint32_t v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6;
		out[o++] = (unsigned char)(v >> 16);
		if (n - i == 3)
			out[o++] = (unsigned char)(v >> 8);
		if (v & (n - i == 3 ? 0xffu : 0xffffu))
			return -EINVAL;
	}
	*ret_len = o;
	return 0;
}

/* One segment decoded into the arena; -EINVAL as b64url_decode(). */
static int segment_decode(arena *a, const char *s, size_t n, unsigned char **ret, size_t *ret_len)
{
	unsigned char *out = arena_alloc(a, n * 3 / 4 + 1);
	int r = b64url_decode(s, n, out, ret_len);
	if (r == 0)
		*ret = out;
	return r;
}

/*
 * Per-process MAC contexts, keyed once (EVP_MAC_init with the key) and then
 * re-initialised per token with a NULL key, which reuses it: a third of the
 * cost of a one-shot HMAC(), which fetches the algorithm and allocates every
 * time. The slots live as long as the process (created after fork, in the
 * child that first verifies); if they are full, HMAC() is used instead.
 */
static struct mac_slot {
	unsigned char *secret;
	size_t secret_len;
	EVP_MAC_CTX *ctx;
} mac_slots[MAC_SLOTS];

static EVP_MAC_CTX *mac_context(const struct token_keys *keys)
{
	struct mac_slot *empty = NULL;
	for (struct mac_slot *s = mac_slots; s < mac_slots + MAC_SLOTS; s++) {
		if (!s->ctx)
			empty = empty ? empty : s;
		else if (s->secret_len == keys->secret_len && memcmp(s->secret, keys->secret, s->secret_len) == 0)
			return s->ctx;
	}
	if (!empty)
		return NULL;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac); /* the context holds its own reference */
	unsigned char *secret = malloc(keys->secret_len);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (!ctx || !secret || !EVP_MAC_init(ctx, keys->secret, keys->secret_len, params)) {
		EVP_MAC_CTX_free(ctx);
		free(secret);
		return NULL;
	}
	memcpy(secret, keys->secret, keys->secret_len);
	*empty = (struct mac_slot){ secret, keys->secret_len, ctx };
	return ctx;
}

/* HMAC-SHA256 of data[0..n) with keys->secret into out; 0 or -EIO. */
static int hmac_sha256(const struct token_keys *keys, const char *data, size_t n, unsigned char out[MAC_LEN])
{
	EVP_MAC_CTX *ctx = mac_context(keys);
	if (ctx) {
		size_t len = 0;
		bool done = EVP_MAC_init(ctx, NULL, 0, NULL) && EVP_MAC_update(ctx, (const unsigned char *)data, n) &&
			    EVP_MAC_final(ctx, out, &len, MAC_LEN);
		return done && len == MAC_LEN ? 0 : -EIO;
	}
	unsigned int len = 0;
	bool done = HMAC(EVP_sha256(), keys->secret, (int)keys->secret_len, (const unsigned char *)data, n, out,
			 &len) != NULL;
	return done && len == MAC_LEN ? 0 : -EIO;
}

/* Whether o is a JSON string equal to want, byte for byte (an embedded NUL never matches). */
static bool json_string_is(json_object *o, const char *want)
{
	size_t n = strlen(want);
	return o && json_object_is_type(o, json_type_string) && (size_t)json_object_get_string_len(o) == n &&
	       memcmp(json_object_get_string(o), want, n) == 0;
}

/* A member of obj, or NULL. */
static json_object *member(json_object *obj, const char *name)
{
	json_object *v = NULL;
	return json_object_object_get_ex(obj, name, &v) ? v : NULL;
}

/* An integer claim; 0 when absent or not an integer (libjwt's jwt_get_grant_int did the same). */
static long claim_int(json_object *claims, const char *name)
{
	json_object *v = member(claims, name);
	return v && json_object_is_type(v, json_type_int) ? (long)json_object_get_int64(v) : 0;
}

/* The decoded header: exactly {"alg":"HS256","typ":"JWT"}, in either order. */
static int check_header(arena *a, const unsigned char *text, size_t n)
{
	json_object *h;
	const char *reason;
	if (json_parse_strict(a, (const char *)text, n, 2, &h, &reason) < 0 || !json_object_is_type(h, json_type_object))
		return TOKEN_MALFORMED;
	if (!json_string_is(member(h, "alg"), "HS256"))
		return TOKEN_BAD_SIGNATURE;
	if (!json_string_is(member(h, "typ"), "JWT") || json_object_object_length(h) != 2)
		return TOKEN_MALFORMED;
	return TOKEN_OK;
}

/* The times a token names, and the checks on them that depend on now. */
struct token_times {
	long exp, iat, nbf;
};

static int check_times(const struct token_times *t, time_t now)
{
	if (t->exp <= now)
		return TOKEN_EXPIRED;
	if (t->iat > now + TOKEN_LEEWAY || t->nbf > now + TOKEN_LEEWAY)
		return TOKEN_BAD_CLAIMS;
	return TOKEN_OK;
}

static int check_claims(const struct token_keys *keys, arena *a, const unsigned char *text, size_t n, time_t now,
			char sub[37], struct token_times *t)
{
	json_object *c;
	const char *reason;
	if (json_parse_strict(a, (const char *)text, n, JSON_MAX_DEPTH, &c, &reason) < 0 ||
	    !json_object_is_type(c, json_type_object))
		return TOKEN_MALFORMED;

	*t = (struct token_times){ claim_int(c, "exp"), claim_int(c, "iat"), claim_int(c, "nbf") };
	if (t->exp == 0 || t->iat == 0)
		return TOKEN_BAD_CLAIMS;
	int r = check_times(t, now);
	if (r != TOKEN_OK)
		return r;
	/* exp - iat > ttl + leeway, written so that no operand can overflow */
	if (t->exp > t->iat + keys->ttl + TOKEN_LEEWAY)
		return TOKEN_BAD_CLAIMS;

	if (!json_string_is(member(c, "iss"), keys->issuer) || !json_string_is(member(c, "aud"), keys->audience))
		return TOKEN_BAD_CLAIMS;
	json_object *subject = member(c, "sub");
	if (!subject || !json_object_is_type(subject, json_type_string) || json_object_get_string_len(subject) != 36 ||
	    !is_uuid(json_object_get_string(subject)))
		return TOKEN_BAD_CLAIMS;
	memcpy(sub, json_object_get_string(subject), 37);
	return TOKEN_OK;
}

/*
 * ---- Tokens verified before ---------------------------------------------
 *
 * Checking a token again (two base64url segments decoded, an HMAC, a JSON
 * parse) was ~3% of the machine's CPU under a GET load of one user. A token
 * that verified is kept in a slot chosen by a hash of its bytes, with the key
 * set it verified against, its times and its subject; the same bytes with the
 * same key set later need only check_times(). What a slot holds was decided
 * by the full checks, so nothing an attacker sends can put an entry there.
 * The bytes are compared with CRYPTO_memcmp, so how long a lookup takes tells
 * nothing about a remembered token's bytes (only whether the slot of a given
 * hash is taken, which the hash of a forgery says nothing useful about).
 * A key set is compared by content (secret, issuer, audience, ttl): the same
 * token is not valid for another audience, and a test may change a key in
 * place. Memory: SEEN_SLOTS * ~0.6 KiB per process, touched only when used.
 */
#define SEEN_SLOTS 64
#define SEEN_MAX_BYTES 512 /* longer tokens (adcraft's are ~250 bytes) are checked every time */

static struct keyset {
	unsigned char *secret;
	size_t secret_len;
	char *issuer, *audience;
	long ttl;
} keysets[MAC_SLOTS];

static struct seen {
	int keyset; /* index in keysets + 1; 0: empty */
	size_t len;
	struct token_times times;
	char sub[37];
	char token[SEEN_MAX_BYTES];
} seen[SEEN_SLOTS];

static bool keyset_is(const struct keyset *k, const struct token_keys *keys)
{
	return k->secret_len == keys->secret_len && memcmp(k->secret, keys->secret, k->secret_len) == 0 &&
	       strcmp(k->issuer, keys->issuer) == 0 && strcmp(k->audience, keys->audience) == 0 &&
	       k->ttl == keys->ttl;
}

/* keys' index in keysets, added when new; -1 when the table is full or memory is short. */
static int keyset_of(const struct token_keys *keys)
{
	for (int i = 0; i < MAC_SLOTS; i++) {
		struct keyset *k = &keysets[i];
		if (k->secret && keyset_is(k, keys))
			return i;
		if (k->secret)
			continue;
		unsigned char *secret = malloc(keys->secret_len);
		char *issuer = strdup(keys->issuer), *audience = strdup(keys->audience);
		if (!secret || !issuer || !audience) {
			free(secret);
			free(issuer);
			free(audience);
			return -1;
		}
		memcpy(secret, keys->secret, keys->secret_len);
		*k = (struct keyset){ secret, keys->secret_len, issuer, audience, keys->ttl };
		return i;
	}
	return -1;
}

static struct seen *seen_slot(const char *token, size_t len)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)token[i]) * 1099511628211u;
	return &seen[h % SEEN_SLOTS];
}

static int verify_unseen(const struct token_keys *keys, arena *a, const char *token, size_t len, time_t now,
			 char sub[37], struct token_times *times);

int token_verify(const struct token_keys *keys, arena *a, const char *token, time_t now, char sub[37])
{
	if (keys->secret_len < TOKEN_MIN_KEY)
		return TOKEN_BAD_KEY;
	size_t len = token ? strnlen(token, TOKEN_MAX_BYTES + 1) : 0;
	if (len == 0 || len > TOKEN_MAX_BYTES)
		return TOKEN_MALFORMED;
	int ks = len <= SEEN_MAX_BYTES ? keyset_of(keys) : -1;
	struct seen *s = ks >= 0 ? seen_slot(token, len) : NULL;
	if (s && s->keyset == ks + 1 && s->len == len && CRYPTO_memcmp(s->token, token, len) == 0) {
		int r = check_times(&s->times, now);
		if (r == TOKEN_OK)
			memcpy(sub, s->sub, 37);
		return r;
	}
	struct token_times times;
	int r = verify_unseen(keys, a, token, len, now, sub, &times);
	if (r == TOKEN_OK && s) {
		s->keyset = ks + 1;
		s->len = len;
		s->times = times;
		memcpy(s->sub, sub, 37);
		memcpy(s->token, token, len);
	}
	return r;
}

/* The full checks, 1 to 4 of the comment at the top. */
static int verify_unseen(const struct token_keys *keys, arena *a, const char *token, size_t len, time_t now,
			 char sub[37], struct token_times *times)
{
	const char *end = token + len;
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)))
		return TOKEN_MALFORMED;
	const char *body = dot1 + 1, *sig = dot2 + 1;
	size_t head_len = (size_t)(dot1 - token), body_len = (size_t)(dot2 - body), sig_len = (size_t)(end - sig);
	if (head_len == 0 || body_len == 0 || sig_len == 0)
		return TOKEN_MALFORMED;

	unsigned char *claims_text = NULL, *mac = NULL;
	size_t claims_n = 0, mac_n = 0;
	if (segment_decode(a, body, body_len, &claims_text, &claims_n) < 0 ||
	    segment_decode(a, sig, sig_len, &mac, &mac_n) < 0)
		return TOKEN_MALFORMED;
	if (head_len != sizeof(OUR_HEADER) - 1 || memcmp(token, OUR_HEADER, head_len) != 0) {
		unsigned char *head_text = NULL;
		size_t head_n = 0;
		if (segment_decode(a, token, head_len, &head_text, &head_n) < 0)
			return TOKEN_MALFORMED;
		int r = check_header(a, head_text, head_n);
		if (r != TOKEN_OK)
			return r;
	}
	unsigned char want[MAC_LEN];
	if (sig_len != SIG_CHARS || mac_n != MAC_LEN || hmac_sha256(keys, token, (size_t)(dot2 - token), want) < 0 ||
	    CRYPTO_memcmp(want, mac, MAC_LEN) != 0)
		return TOKEN_BAD_SIGNATURE;
	return check_claims(keys, a, claims_text, claims_n, now, sub, times);
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
