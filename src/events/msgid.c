/*
 * msgid.c - strict parsing of nchan message ids (msgid.h).
 */
#include "msgid.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#define MSGID_MAX_TIME ((int64_t)1 << 40)

/* Reads decimal digits at *p (at most maxdigits, no sign) into *v; false when there are none. */
static bool digits(const char **p, const char *end, int maxdigits, int64_t *v)
{
	int n = 0;
	int64_t x = 0;
	while (*p < end && **p >= '0' && **p <= '9') {
		if (++n > maxdigits)
			return false;
		x = x * 10 + (**p - '0');
		(*p)++;
	}
	*v = x;
	return n > 0;
}

/* One tag: 0..32767, or -1, which nchan writes as a bare "-" in the ids of
 * several channels (a channel with no message at that time: Redis mode). */
static bool tag(const char **p, const char *end, int *ret)
{
	bool negative = *p < end && **p == '-';
	if (negative)
		(*p)++;
	if (negative && (*p == end || **p < '0' || **p > '9')) {
		*ret = -1;
		return true;
	}
	int64_t v;
	if (!digits(p, end, 5, &v))
		return false;
	if (negative ? v != 1 : v > 32767)
		return false;
	*ret = negative ? -1 : (int)v;
	return true;
}

int msgid_parse(const char *s, size_t len, int ntags, struct msgid *out)
{
	if (!s || len == 0 || len > MSGID_MAX_LEN || ntags < 1 || ntags > MSGID_MAX_TAGS)
		return -EINVAL;
	const char *p = s, *end = s + len;
	int64_t t;
	if (*p == '0' || !digits(&p, end, 13, &t) || t < 1 || t > MSGID_MAX_TIME || p == end || *p++ != ':')
		return -EINVAL;
	struct msgid id = { .time = t, .active = -1 };
	for (;;) {
		if (id.ntags == ntags)
			return -EINVAL;
		bool bracketed = p < end && *p == '[';
		if (bracketed) {
			if (ntags == 1 || id.active >= 0)
				return -EINVAL;
			p++;
			id.active = id.ntags;
		}
		if (!tag(&p, end, &id.tags[id.ntags]))
			return -EINVAL;
		id.ntags++;
		if (bracketed && (p == end || *p++ != ']'))
			return -EINVAL;
		if (p == end)
			break;
		if (*p++ != ',')
			return -EINVAL;
	}
	if (id.ntags != ntags)
		return -EINVAL;
	if (ntags == 1)
		id.active = 0;
	else if (id.active < 0)
		return -EINVAL;
	*out = id;
	return 0;
}

int msgid_format(const struct msgid *id, char *out, size_t outlen)
{
	size_t n = 0;
	int w = snprintf(out, outlen, "%lld:", (long long)id->time);
	if (w < 0 || (size_t)w >= outlen)
		return -ENOSPC;
	n = (size_t)w;
	for (int i = 0; i < id->ntags; i++) {
		bool br = id->ntags > 1 && i == id->active;
		w = snprintf(out + n, outlen - n, "%s%s%d%s", i ? "," : "", br ? "[" : "", id->tags[i], br ? "]" : "");
		if (w < 0 || (size_t)w >= outlen - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	return (int)n;
}
