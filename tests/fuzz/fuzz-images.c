/*
 * fuzz-images.c - what an images endpoint (or anything posing as one)
 * answers: images_parse() on the HTTP body, then the strict base64 decoder
 * on the same bytes.
 *
 * Input: one byte choosing the HTTP status, then the response body.
 */
#include "fuzz.h"
#include "images.h"

static const long statuses[] = { 200, 200, 200, 400, 429, 500 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	arena *a = fuzz_arena();
	struct images_answer ans;
	images_parse(a, statuses[data[0] % 6], (const char *)data + 1, size - 1, &ans);
	if (ans.ok != (ans.bytes != NULL) || (!ans.ok && !ans.error) || ans.len > size)
		abort(); /* base64 never decodes to more bytes than it had */
	const void *out;
	size_t len;
	if (images_base64_decode(a, (const char *)data + 1, size - 1, &out, &len) == 0 && len > (size - 1) / 4 * 3)
		abort();
	arena_reset(a);
	return 0;
}
