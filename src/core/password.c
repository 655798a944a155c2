/*
 * password.c - argon2id via libargon2.
 */
#include "password.h"

#include <argon2.h>
#include <errno.h>

#include "random.h"

int password_hash(const struct password_cost *cost, const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
	uint8_t salt[16];
	int r = random_bytes(salt, sizeof(salt));
	if (r < 0)
		return r;
	r = argon2id_hash_encoded(cost->iterations, cost->memory_kib, 1, pw, len, salt, sizeof(salt), 32, out,
				  PASSWORD_HASH_MAX);
	return r == ARGON2_OK ? 0 : (r == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EINVAL);
}

int password_verify(const char *encoded, const char *pw, size_t len)
{
	int r = argon2id_verify(encoded, pw, len);
	if (r == ARGON2_OK)
		return 0;
	if (r == ARGON2_VERIFY_MISMATCH)
		return -EACCES;
	return r == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EINVAL;
}
