/*
 * fuzz-token.c - bearer tokens (token.c): JWT parsing, signature and claims.
 *
 * Input: one mode byte, then
 *   even:       a token as a client sends it (splitting, base64url, header
 *               and signature checks),
 *   1 (mod 4):  a JSON claims set, signed here by libjwt with the right key,
 *               so that the fuzzer reaches the claim checks behind the
 *               signature, or
 *   3 (mod 4):  "header JSON" NUL "claims JSON", each base64url-encoded as
 *               given and signed here by hand: headers and claims no JWT
 *               library would write reach the strict parser and the checks.
 * An accepted token must name a UUID subject.
 */
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "token.h"
#include "validate.h"

static const unsigned char key[] = "fuzzing-key-fuzzing-key-fuzzing-key!";
static const struct token_keys keys = {
	.secret = key,
	.secret_len = sizeof(key) - 1,
	.issuer = "adcraft",
	.audience = "adcraft-api",
	.ttl = 900,
};
#define NOW 1800000000

/* The claims JSON signed with HS256 and our key; NULL if libjwt refuses the JSON. */
static char *sign(arena *a, const char *claims)
{
	jwt_t *j = NULL;
	char *out = NULL, *token = NULL;
	if (jwt_new(&j) != 0)
		return NULL;
	if (jwt_add_grants_json(j, claims) == 0 && jwt_set_alg(j, JWT_ALG_HS256, key, (int)keys.secret_len) == 0)
		out = jwt_encode_str(j);
	jwt_free(j);
	if (out) {
		token = arena_strdup(a, out);
		free(out); /* libjwt 1.10 allocates with malloc */
	}
	return token;
}

static void b64url(const uint8_t *in, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = al[v >> 18], out[o++] = al[v >> 12 & 63], out[o++] = al[v >> 6 & 63], out[o++] = al[v & 63];
	}
	if (n - i) {
		unsigned v = (unsigned)in[i] << 16 | (n - i == 2 ? (unsigned)in[i + 1] << 8 : 0);
		out[o++] = al[v >> 18], out[o++] = al[v >> 12 & 63];
		if (n - i == 2)
			out[o++] = al[v >> 6 & 63];
	}
	out[o] = '\0';
}

/* data[0..size) split at the first NUL into header and claims, encoded and signed with our key. */
static char *sign_parts(arena *a, const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t hn = nul ? (size_t)(nul - data) : size;
	const uint8_t *claims = nul ? nul + 1 : data + size;
	size_t cn = (size_t)(data + size - claims);
	char *t = arena_alloc(a, (hn + cn) * 4 / 3 + 64);
	b64url(data, hn, t);
	size_t n = strlen(t);
	t[n++] = '.';
	b64url(claims, cn, t + n);
	n = strlen(t);
	unsigned char mac[32];
	unsigned int mlen = 0;
	if (!HMAC(EVP_sha256(), key, (int)keys.secret_len, (const unsigned char *)t, n, mac, &mlen))
		return NULL;
	t[n++] = '.';
	b64url(mac, mlen, t + n);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	arena *a = fuzz_arena();
	const char *token;
	if ((data[0] & 3) == 3)
		token = sign_parts(a, data + 1, size - 1);
	else if (data[0] & 1)
		token = sign(a, fuzz_cstr(a, data + 1, size - 1));
	else
		token = fuzz_cstr(a, data + 1, size - 1);
	char sub[37] = "";
	if (token && token_verify(&keys, a, token, NOW, sub) == TOKEN_OK && !is_uuid(sub))
		abort();
	arena_reset(a);
	return 0;
}
