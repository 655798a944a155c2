/*
 * mailtoken.c - HMAC-SHA256 signed ids for unsubscribe, open and click links
 * (layout and guarantees in mailtoken.h).
 */
#include "mailtoken.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define VERSION 1
#define MAC_LEN 16
#define IDS_LEN 48
#define MAX_RAW (2 + IDS_LEN + 2 + MAC_LEN)

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char c)
{
	const char *p = c ? memchr(b64url, c, 64) : NULL;
	return p ? (int)(p - b64url) : -1;
}

/* Strict: no padding, no whitespace, unused trailing bits zero (one spelling per token). */
static int b64_decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *ret_n)
{
	if (len % 4 == 1 || len / 4 * 3 + 2 > cap + 2)
		return -EINVAL;
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -EINVAL;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		return -EINVAL;
	*ret_n = n;
	return 0;
}

int mailtoken_uuid_parse(const char *s, unsigned char out[16])
{
	static const int dashes[] = { 8, 13, 18, 23 };
	unsigned char tmp[16];
	size_t o = 0, d = 0;
	for (size_t i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dashes[d]) {
			if (s[i] != '-')
				return -EINVAL;
			d++;
			continue;
		}
		int hi = s[i], lo = hi ? s[i + 1] : 0;
		static const char hex[] = "0123456789abcdef0123456789ABCDEF";
		const char *h = hi ? strchr(hex, hi) : NULL, *l = lo ? strchr(hex, lo) : NULL;
		if (!h || !l)
			return -EINVAL;
		tmp[o++] = (unsigned char)(((h - hex) % 16) << 4 | (l - hex) % 16);
		i++;
	}
	if (s[36] != '\0')
		return -EINVAL;
	memcpy(out, tmp, 16);
	return 0;
}

static void uuid_format(const unsigned char in[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", in[0], in[1],
		 in[2], in[3], in[4], in[5], in[6], in[7], in[8], in[9], in[10], in[11], in[12], in[13], in[14],
		 in[15]);
}

static bool kind_valid(char kind)
{
	return kind == MAILTOKEN_UNSUBSCRIBE || kind == MAILTOKEN_OPEN || kind == MAILTOKEN_CLICK;
}

static size_t raw_len(char kind)
{
	return 2 + IDS_LEN + (kind == MAILTOKEN_CLICK ? 2 : 0) + MAC_LEN;
}

static int mac(const struct mailtoken_key *key, const unsigned char *data, size_t n, unsigned char out[MAC_LEN])
{
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int full_len = 0;
	if (!HMAC(EVP_sha256(), key->key, (int)key->len, data, n, full, &full_len) || full_len < MAC_LEN)
		return -EIO;
	memcpy(out, full, MAC_LEN);
	return 0;
}

int mailtoken_encode(const struct mailtoken_key *key, const struct mailtoken *t, char *out)
{
	if (!key || key->len < MAILTOKEN_MIN_KEY || !kind_valid(t->kind) ||
	    (t->kind == MAILTOKEN_CLICK && t->link > 0xffff))
		return -EINVAL;
	unsigned char raw[MAX_RAW];
	size_t n = 0;
	raw[n++] = VERSION;
	raw[n++] = (unsigned char)t->kind;
	if (mailtoken_uuid_parse(t->recipient, raw + n) < 0 || mailtoken_uuid_parse(t->send, raw + n + 16) < 0 ||
	    mailtoken_uuid_parse(t->contact, raw + n + 32) < 0)
		return -EINVAL;
	n += IDS_LEN;
	if (t->kind == MAILTOKEN_CLICK) {
		raw[n++] = (unsigned char)(t->link >> 8);
		raw[n++] = (unsigned char)(t->link & 0xff);
	}
	int r = mac(key, raw, n, raw + n);
	if (r < 0)
		return r;
	b64_encode(raw, n + MAC_LEN, out);
	return 0;
}

int mailtoken_decode(const struct mailtoken_key *key, char kind, const char *s, size_t len, struct mailtoken *ret)
{
	if (!key || key->len < MAILTOKEN_MIN_KEY || !kind_valid(kind) || len > MAILTOKEN_MAX_LEN)
		return -EINVAL;
	unsigned char raw[MAX_RAW], want[MAC_LEN];
	size_t n;
	if (b64_decode(s, len, raw, sizeof(raw), &n) < 0 || n != raw_len(kind) || raw[0] != VERSION ||
	    raw[1] != (unsigned char)kind)
		return -EINVAL;
	int r = mac(key, raw, n - MAC_LEN, want);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(want, raw + n - MAC_LEN, MAC_LEN) != 0)
		return -EBADMSG;
	struct mailtoken t = { .kind = kind };
	uuid_format(raw + 2, t.recipient);
	uuid_format(raw + 18, t.send);
	uuid_format(raw + 34, t.contact);
	if (kind == MAILTOKEN_CLICK)
		t.link = (unsigned)raw[50] << 8 | raw[51];
	*ret = t;
	return 0;
}
