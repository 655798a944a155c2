/*
 * random.c - getrandom(2) with base64url and hex encoders.
 */
#include "random.h"

#include <errno.h>
#include <sys/random.h>

int random_bytes(void *p, size_t n)
{
	unsigned char *c = p;
	while (n > 0) {
		ssize_t r = getrandom(c, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int random_token(char *out, size_t n)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[64];
	if (n > sizeof(raw))
		return -EINVAL;
	int r = random_bytes(raw, n);
	if (r < 0)
		return r;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)raw[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= raw[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = alphabet[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = alphabet[v & 63];
	}
	out[o] = '\0';
	return 0;
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}
