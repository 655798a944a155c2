/*
 * fuzz-exporttoken.c - the parser and verifier of export download links
 * (src/core/exportlink.c) on random query strings. A query that parses must
 * print back to a query that parses to the same values; a signature that
 * verifies must be the one exportlink_sign makes. Nothing may crash or read
 * past the input.
 */
#include <inttypes.h>
#include <stdio.h>

#include "exportlink.h"
#include "fuzz.h"

static const unsigned char key_bytes[] = "fuzz-key-0123456789abcdef0123456789";
static const char export_id[] = "0b9a1c2e-3d4f-4a5b-8c6d-7e8f9a0b1c2d";
static const char owner[] = "6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct exportlink_key key = { key_bytes, sizeof(key_bytes) - 1 };
	/* not NUL-terminated on purpose: the parser must respect len */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct exportlink_query q;
	if (exportlink_parse((const char *)copy, size, &q) == 0) {
		char again[128];
		int n = snprintf(again, sizeof(again), "sig=%s&exp=%" PRId64, q.sig, q.exp);
		struct exportlink_query q2;
		if (n <= 0 || exportlink_parse(again, (size_t)n, &q2) != 0 || q2.exp != q.exp ||
		    strcmp(q2.sig, q.sig) != 0)
			abort();
		char sig[EXPORT_LINK_SIG_HEX + 1];
		int verified = exportlink_verify(&key, export_id, owner, &q);
		if (exportlink_sign(&key, export_id, owner, q.exp, sig) != 0 ||
		    (verified == 0) != (strcmp(sig, q.sig) == 0))
			abort();
	}
	free(copy);
	return 0;
}
