/*
 * exportlink.c - HMAC-SHA256 signed download links of exports (contract in
 * exportlink.h).
 */
#include "exportlink.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "validate.h"

#define EXP_MAX_DIGITS 12

int exportlink_sign(const struct exportlink_key *key, const char *export_id, const char *owner, int64_t exp,
		    char sig[EXPORT_LINK_SIG_HEX + 1])
{
	if (!key->key || key->len < EXPORT_LINK_MIN_KEY || !is_uuid(export_id) || !is_uuid(owner) || exp < 0)
		return -EINVAL;
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "%s|%s|%lld", export_id, owner, (long long)exp);
	unsigned char mac[32];
	unsigned maclen = sizeof(mac);
	if (n < 0 || (size_t)n >= sizeof(msg) ||
	    !HMAC(EVP_sha256(), key->key, (int)key->len, (const unsigned char *)msg, (size_t)n, mac, &maclen))
		return -EINVAL;
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		sig[2 * i] = hex[mac[i] >> 4];
		sig[2 * i + 1] = hex[mac[i] & 15];
	}
	sig[EXPORT_LINK_SIG_HEX] = '\0';
	return 0;
}

static bool parse_exp(const char *s, size_t n, int64_t *ret)
{
	if (n == 0 || n > EXP_MAX_DIGITS || (s[0] == '0' && n > 1))
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

static bool parse_sig(const char *s, size_t n, char *ret)
{
	if (n != EXPORT_LINK_SIG_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	memcpy(ret, s, n);
	ret[n] = '\0';
	return true;
}

int exportlink_parse(const char *query, size_t len, struct exportlink_query *ret)
{
	struct exportlink_query q;
	bool have_exp = false, have_sig = false;
	size_t pos = 0;
	while (pos < len) {
		const char *amp = memchr(query + pos, '&', len - pos);
		size_t end = amp ? (size_t)(amp - query) : len;
		const char *p = query + pos;
		size_t n = end - pos;
		if (n > 4 && memcmp(p, "exp=", 4) == 0 && !have_exp && parse_exp(p + 4, n - 4, &q.exp))
			have_exp = true;
		else if (n > 4 && memcmp(p, "sig=", 4) == 0 && !have_sig && parse_sig(p + 4, n - 4, q.sig))
			have_sig = true;
		else
			return -EINVAL;
		if (!amp)
			break;
		pos = end + 1;
		if (pos == len)
			return -EINVAL; /* a trailing '&' */
	}
	if (!have_exp || !have_sig)
		return -EINVAL;
	*ret = q;
	return 0;
}

int exportlink_verify(const struct exportlink_key *key, const char *export_id, const char *owner,
		      const struct exportlink_query *q)
{
	char expected[EXPORT_LINK_SIG_HEX + 1];
	int rc = exportlink_sign(key, export_id, owner, q->exp, expected);
	if (rc < 0)
		return rc;
	return CRYPTO_memcmp(expected, q->sig, EXPORT_LINK_SIG_HEX) == 0 ? 0 : -EBADMSG;
}
