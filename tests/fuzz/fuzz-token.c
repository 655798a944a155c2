/*
 * fuzz-token.c - bearer tokens (token.c): JWT parsing, signature and claims.
 *
 * Input: one mode byte, then either
 *   even: a token as a client sends it (parsing and signature checks), or
 *   odd:  a JSON claims set, signed here with the right key, so that the
 *         fuzzer reaches the claim checks behind the signature.
 * An accepted token must name a UUID subject.
 */
#include <jwt.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	arena *a = fuzz_arena();
	char *text = fuzz_cstr(a, data + 1, size - 1);
	const char *token = data[0] & 1 ? sign(a, text) : text;
	char sub[37] = "";
	if (token && token_verify(&keys, a, token, NOW, sub) == TOKEN_OK && !is_uuid(sub))
		abort();
	arena_reset(a);
	return 0;
}
