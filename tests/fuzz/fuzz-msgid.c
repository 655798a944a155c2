/*
 * fuzz-msgid.c - nchan message ids as subscribers send them back (msgid.c,
 * read by the events authorization from Last-Event-ID and last_event_id).
 * The first byte picks how many channels the subscription has (1..4). An id
 * that parses must format within MSGID_MAX_LEN and parse back to the same id.
 */
#include <string.h>

#include "fuzz.h"
#include "msgid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int ntags = 1 + data[0] % MSGID_MAX_TAGS;
	arena *a = fuzz_arena();
	const char *s = fuzz_cstr(a, data + 1, size - 1);
	struct msgid id, again;
	if (msgid_parse(s, size - 1, ntags, &id) == 0) {
		char out[MSGID_MAX_LEN + 16];
		int n = msgid_format(&id, out, sizeof(out));
		if (n <= 0 || n > MSGID_MAX_LEN || msgid_parse(out, (size_t)n, ntags, &again) != 0 ||
		    memcmp(&id, &again, sizeof(id)) != 0 || id.ntags != ntags || id.active < 0 || id.active >= ntags)
			abort();
	}
	arena_reset(a);
	return 0;
}
