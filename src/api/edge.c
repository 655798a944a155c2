/*
 * edge.c - the edge secret check and the request id (see edge.h).
 */
#include "edge.h"

#include <string.h>

#include "random.h"

bool edge_secret_ok(const struct config *cfg, const char *given)
{
	if (!cfg->edge_secret || !given)
		return false;
	size_t n = cfg->edge_secret_len, given_len = strlen(given);
	unsigned diff = given_len != n;
	/* Every byte of the secret is compared whatever the input: no early exit. */
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)cfg->edge_secret[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
	return diff == 0;
}

const char *edge_request_id(arena *a, const char *given)
{
	size_t len = given ? strlen(given) : 0;
	if (len > 0 && len <= 64 &&
	    strspn(given, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == len)
		return given;
	unsigned char raw[16];
	if (random_bytes(raw, sizeof(raw)) < 0)
		return "-";
	char *id = arena_alloc(a, 2 * sizeof(raw) + 1);
	hex_encode(raw, sizeof(raw), id);
	return id;
}
