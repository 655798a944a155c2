/*
 * msgid.h - nchan message ids, as a subscriber sends them back to resume.
 *
 * nchan 1.3.6 crashes a worker on some ids it accepts itself, so adcraft
 * parses them strictly first and hands nchan only ids it has re-written
 * (events.md, "Resume"). The accepted form is what nchan emits:
 *   TIME:TAG                   one channel
 *   TIME:TAG,[TAG],...         several channels, the active tag in brackets
 * TIME is seconds since the epoch (1..2^40), each TAG an integer -1..32767
 * ("-" alone is nchan's shorthand for -1), and there is exactly one TAG per
 * channel of the subscription. msgid_format writes -1 out in full.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define MSGID_MAX_TAGS 4
#define MSGID_MAX_LEN 96 /* longer text is refused unparsed */

struct msgid {
	int64_t time;
	int ntags;
	int active;		/* index of the bracketed tag (0 when there is one tag) */
	int tags[MSGID_MAX_TAGS];
};

/* Parses s[0..len) expecting ntags tags; 0, or -EINVAL for anything else. */
int msgid_parse(const char *s, size_t len, int ntags, struct msgid *out);

/* Writes id in the canonical form above into out[outlen]; returns the length, or -ENOSPC. */
int msgid_format(const struct msgid *id, char *out, size_t outlen);
