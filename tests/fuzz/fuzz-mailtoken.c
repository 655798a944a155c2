/*
 * fuzz-mailtoken.c - the decoder of unsubscribe/open/click tokens
 * (src/mail/mailtoken.c) on random strings. The first byte picks the kind.
 * A token that verifies must encode back to the very same string (one
 * spelling per token); nothing may crash or read past the input.
 */
#include "fuzz.h"
#include "mailtoken.h"

static const unsigned char key_bytes[] = "fuzz-key-0123456789abcdef0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const char kinds[] = { MAILTOKEN_UNSUBSCRIBE, MAILTOKEN_OPEN, MAILTOKEN_CLICK };
	struct mailtoken_key key = { key_bytes, sizeof(key_bytes) - 1 };
	char kind = kinds[data[0] % 3];
	/* not NUL-terminated on purpose: the decoder must respect len */
	uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	struct mailtoken t;
	if (mailtoken_decode(&key, kind, (const char *)copy, size - 1, &t) == 0) {
		char again[MAILTOKEN_MAX_LEN + 1];
		if (t.kind != kind || mailtoken_encode(&key, &t, again) != 0 || strlen(again) != size - 1 ||
		    memcmp(again, copy, size - 1) != 0)
			abort();
	}
	free(copy);
	return 0;
}
