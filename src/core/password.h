/*
 * password.h - argon2id password hashing (PHC string format).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PASSWORD_HASH_MAX 160

struct password_cost {
	uint32_t memory_kib; /* >= 19456 (19 MiB) */
	uint32_t iterations; /* >= 2 */
};

/* Hashes pw with a fresh random salt into out[PASSWORD_HASH_MAX]; 0 or -errno. */
int password_hash(const struct password_cost *cost, const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);
/* 0 when pw matches encoded, -EACCES when it does not, other -errno on error. */
int password_verify(const char *encoded, const char *pw, size_t len);
