/* Unit tests for src/events/msgid.c: the resume ids the events authorization accepts. */
#include <string.h>

#include "msgid.h"
#include "tap.h"

static int parse(const char *s, int ntags, struct msgid *id)
{
	return msgid_parse(s, strlen(s), ntags, id);
}

/* parse then format: the canonical text, or "ERR". */
static const char *roundtrip(const char *s, int ntags, char *out, size_t outlen)
{
	struct msgid id;
	if (parse(s, ntags, &id) < 0 || msgid_format(&id, out, outlen) < 0)
		return "ERR";
	return out;
}

int main(void)
{
	struct msgid id;
	char out[MSGID_MAX_LEN + 16];

	is_int(parse("1796298815:0", 1, &id), 0, "one channel: TIME:TAG");
	ok(id.time == 1796298815 && id.ntags == 1 && id.active == 0 && id.tags[0] == 0, "its parts");
	is_int(parse("1796298815:[0],-1", 2, &id), 0, "two channels, the first active");
	ok(id.ntags == 2 && id.active == 0 && id.tags[0] == 0 && id.tags[1] == -1, "its parts");
	is_int(parse("1796298815:1,[0]", 2, &id), 0, "two channels, the second active");
	ok(id.active == 1 && id.tags[0] == 1 && id.tags[1] == 0, "its parts");
	/* nchan's shorthand for -1, in ids it issues on Redis (a channel with no message then) */
	is_int(parse("1796319207:[16],-", 2, &id), 0, "\"-\": nchan's shorthand for a -1 tag");
	ok(id.active == 0 && id.tags[0] == 16 && id.tags[1] == -1, "its parts");
	is_str(roundtrip("1796319207:-,[3]", 2, out, sizeof(out)), "1796319207:-1,[3]", "formats -1 in full");
	is_int(parse("1:32767", 1, &id), 0, "the largest tag");
	is_str(roundtrip("1796298815:[3],7", 2, out, sizeof(out)), "1796298815:[3],7", "formats back the same");
	is_str(roundtrip("1796298815:12", 1, out, sizeof(out)), "1796298815:12", "single tag: no brackets");

	static const struct {
		const char *s;
		int ntags;
		const char *why;
	} bad[] = {
		{ "", 1, "empty" },
		{ "1796298815", 1, "no tag" },
		{ "1796298815:", 1, "empty tag" },
		{ ":0", 1, "no time" },
		{ "0:0", 1, "time zero" },
		{ "01796298815:0", 1, "leading zero" },
		{ "-5:0", 1, "negative time" },
		{ "99999999999999:0", 1, "time too large" },
		{ "1796298815:0", 2, "one tag for two channels (nchan asserts on this)" },
		{ "1796298815:[0],1", 1, "two tags for one channel" },
		{ "1796298815:0,1", 2, "several tags without an active one" },
		{ "1796298815:[0],[1]", 2, "two active tags" },
		{ "1796298815:[0]", 1, "brackets on a single tag" },
		{ "1796298815:[0,1]", 2, "a bracket around two tags" },
		{ "1796298815:32768", 1, "tag over int16" },
		{ "1796298815:-2", 1, "tag below -1" },
		{ "1796298815:--1", 1, "double minus" },
		{ "1796298815:[0],--", 2, "double minus shorthand" },
		{ "1796298815:[0],-2", 2, "tag below -1 after a comma" },
		{ "1796298815:[0],-,", 2, "shorthand then a trailing comma" },
		{ "1796298815:0 ", 1, "trailing space" },
		{ " 1796298815:0", 1, "leading space" },
		{ "1796298815:0,", 2, "trailing comma" },
		{ "1796298815:0:1", 1, "two colons" },
		{ "1796298815:+1", 1, "plus sign" },
		{ "1796298815:1e3", 1, "exponent" },
		{ "Thu, 01 Jan 1970 00:00:01 GMT", 1, "an HTTP date" },
		{ "1796298815:[0],-1,2,3,4", 5, "more channels than any subscription has" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(parse(bad[i].s, bad[i].ntags, &id) < 0, "refused: %s (%s)", bad[i].why, bad[i].s);

	char longid[200];
	memset(longid, '1', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ok(parse(longid, 1, &id) < 0, "over MSGID_MAX_LEN refused unparsed");
	ok(msgid_parse("1796298815:0\0junk", 17, 1, &id) < 0, "an embedded NUL refused");
	char tiny[4];
	parse("1796298815:0", 1, &id);
	ok(msgid_format(&id, tiny, sizeof(tiny)) < 0, "format reports a short buffer");
	return tap_done();
}
