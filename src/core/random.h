/*
 * random.h - kernel randomness and its text encodings.
 */
#pragma once

#include <stddef.h>

/* Fills p with n bytes from getrandom(2); 0 or -errno. */
int random_bytes(void *p, size_t n);
/* Writes n random bytes as base64url (no padding) into out, which holds 4*n/3+2 bytes. */
int random_token(char *out, size_t n);
/* Encodes n bytes as lowercase hex into out[2n+1]. */
void hex_encode(const unsigned char *in, size_t n, char *out);
