/*
 * mailtoken.h - signed opaque tokens in the links of a sent message.
 *
 * Three kinds: 'u' (unsubscribe, /u/TOKEN), 'o' (open pixel, /t/o/TOKEN) and
 * 'c' (click, /t/c/TOKEN). A token carries ids only: the recipient row, the
 * send and the contact (UUIDs) and, for a click, the index of the link in the
 * send's snapshot; the server looks the URL up from that index, so a token can
 * never redirect anywhere the message did not link to. Layout, before
 * base64url (no padding):
 *
 *   version(1) kind(1) recipient(16) send(16) contact(16) [link(2, BE)] mac(16)
 *
 * mac = the first 16 bytes of HMAC-SHA256(key, everything before it). The key
 * (mail_token_key_file, at least MAILTOKEN_MIN_KEY bytes) is never the JWT key.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAILTOKEN_MIN_KEY 32
#define MAILTOKEN_MAX_LEN 96 /* the longest token (a click) is 92 characters */

enum mailtoken_kind {
	MAILTOKEN_UNSUBSCRIBE = 'u',
	MAILTOKEN_OPEN = 'o',
	MAILTOKEN_CLICK = 'c',
};

struct mailtoken {
	char kind;		/* enum mailtoken_kind */
	char recipient[37];	/* UUIDs, lower case, as PostgreSQL prints them */
	char send[37];
	char contact[37];
	unsigned link;		/* clicks only: the link's index in the snapshot, < 65536 */
};

struct mailtoken_key {
	const unsigned char *key;
	size_t len;
};

/*
 * Writes the token for t into out[MAILTOKEN_MAX_LEN + 1] (NUL-terminated).
 * -EINVAL for an unknown kind, a malformed UUID, a link index out of range or
 * a key shorter than MAILTOKEN_MIN_KEY.
 */
int mailtoken_encode(const struct mailtoken_key *key, const struct mailtoken *t, char *out);

/*
 * Verifies s (len bytes, need not be NUL-terminated) as a token of kind
 * `kind` and fills *ret. -EINVAL when malformed or of another kind, -EBADMSG
 * when the signature does not match (compared in constant time); *ret is left
 * untouched on failure.
 */
int mailtoken_decode(const struct mailtoken_key *key, char kind, const char *s, size_t len, struct mailtoken *ret);

/* Parses a UUID in text (any case, with dashes) into 16 bytes: 0 or -EINVAL. */
int mailtoken_uuid_parse(const char *s, unsigned char out[16]);
