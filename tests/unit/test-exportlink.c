/* Unit tests for src/core/exportlink.c: a known answer (computed with Python's hmac), the strict
 * query parser, and what a signature does not survive (another id, owner, expiry or key). */
#include <errno.h>
#include <stdlib.h>

#include "exportlink.h"
#include "tap.h"

static const unsigned char key_bytes[] = "0123456789abcdef0123456789abcdef-export";
static const unsigned char other_bytes[] = "fedcba9876543210fedcba9876543210-export";
static const struct exportlink_key key = { key_bytes, sizeof(key_bytes) - 1 };
static const struct exportlink_key other = { other_bytes, sizeof(other_bytes) - 1 };
static const struct exportlink_key short_key = { key_bytes, 31 };

#define EXPORT_ID "7d444840-9dc0-11d1-b245-5ffdce74fad2"
#define OWNER "0b8f6e52-3c1a-4d7e-9f00-a1b2c3d4e5f6"
#define KNOWN "b0f0d146ba0dff6bab3adf72b2a864ee5763a12cdb9284bd8b2486f07c36fac7"

static int parse(const char *s, struct exportlink_query *q)
{
	return exportlink_parse(s, strlen(s), q);
}

int main(void)
{
	char sig[EXPORT_LINK_SIG_HEX + 1];
	is_int(exportlink_sign(&key, EXPORT_ID, OWNER, 1796300000, sig), 0, "sign");
	is_str(sig, KNOWN, "the signature matches the Python HMAC-SHA256 computation");
	is_int(exportlink_sign(&short_key, EXPORT_ID, OWNER, 1796300000, sig), -EINVAL, "a short key is refused");
	is_int(exportlink_sign(&key, "not-a-uuid", OWNER, 1, sig), -EINVAL, "an id that is not a UUID is refused");
	is_int(exportlink_sign(&key, EXPORT_ID, OWNER, -1, sig), -EINVAL, "a negative expiry is refused");

	struct exportlink_query q = { 0 };
	is_int(parse("exp=1796300000&sig=" KNOWN, &q), 0, "parse exp then sig");
	ok(q.exp == 1796300000, "exp");
	is_str(q.sig, KNOWN, "sig");
	is_int(exportlink_verify(&key, EXPORT_ID, OWNER, &q), 0, "the link verifies");
	is_int(exportlink_verify(&other, EXPORT_ID, OWNER, &q), -EBADMSG, "not with another key");
	is_int(exportlink_verify(&key, "7d444840-9dc0-11d1-b245-5ffdce74fad3", OWNER, &q), -EBADMSG,
	       "not for another export");
	is_int(exportlink_verify(&key, EXPORT_ID, "0b8f6e52-3c1a-4d7e-9f00-a1b2c3d4e5f7", &q), -EBADMSG,
	       "not for another owner");
	q.exp++;
	is_int(exportlink_verify(&key, EXPORT_ID, OWNER, &q), -EBADMSG, "not with a later expiry");

	memset(&q, 0, sizeof(q));
	is_int(parse("sig=" KNOWN "&exp=1796300000", &q), 0, "parse sig then exp");
	ok(q.exp == 1796300000 && strcmp(q.sig, KNOWN) == 0, "the same values");
	is_int(parse("exp=0&sig=" KNOWN, &q), 0, "exp 0 is a number");

	static const char *const bad[] = {
		"",
		"exp=1796300000",
		"sig=" KNOWN,
		"exp=1796300000&sig=" KNOWN "&",
		"&exp=1796300000&sig=" KNOWN,
		"exp=1796300000&sig=" KNOWN "&x=1",
		"exp=1796300000&exp=1796300000&sig=" KNOWN,
		"exp=01796300000&sig=" KNOWN,
		"exp=+1796300000&sig=" KNOWN,
		"exp=-1&sig=" KNOWN,
		"exp=1234567890123&sig=" KNOWN,
		"exp=&sig=" KNOWN,
		"exp=1796300000&sig=" KNOWN "0",
		"exp=1796300000&sig=B0f0d146ba0dff6bab3adf72b2a864ee5763a12cdb9284bd8b2486f07c36fac7",
		"exp=1796300000&sig=b0f0d146ba0dff6bab3adf72b2a864ee5763a12cdb9284bd8b2486f07c36fac",
		"exp=1796300000&sig=%62" "0f0d146ba0dff6bab3adf72b2a864ee5763a12cdb9284bd8b2486f07c36fac7",
		"EXP=1796300000&sig=" KNOWN,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct exportlink_query untouched = { .exp = 42 };
		is_int(parse(bad[i], &untouched), -EINVAL, "refused: \"%s\"", bad[i]);
		ok(untouched.exp == 42, "  and the result is untouched");
	}
	/* the length is respected: a valid query followed by bytes outside len */
	const char *longer = "exp=1796300000&sig=" KNOWN "&junk";
	is_int(exportlink_parse(longer, strlen(longer) - 5, &q), 0, "only len bytes are read");
	return tap_done();
}
