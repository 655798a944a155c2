/* Unit tests for src/mail/mailtoken.c: known answers (computed with Python's hmac), tampering, kinds. */
#include <errno.h>
#include <stdlib.h>

#include "mailtoken.h"
#include "tap.h"

static const unsigned char key_bytes[] = "0123456789abcdef0123456789abcdef-mail";
static const unsigned char other_bytes[] = "fedcba9876543210fedcba9876543210-mail";
static const struct mailtoken_key key = { key_bytes, sizeof(key_bytes) - 1 };
static const struct mailtoken_key other = { other_bytes, sizeof(other_bytes) - 1 };
static const struct mailtoken_key short_key = { key_bytes, 31 };

#define KNOWN_U "AXV9REhAncAR0bJFX_3OdPrSC49uUjwaTX6fAKGyw9Tl9v____8AAEAAgAASNFZ4mrwsOx9Ly5Gfmi8kXZTMbQL5"
#define KNOWN_C "AWN9REhAncAR0bJFX_3OdPrSC49uUjwaTX6fAKGyw9Tl9v____8AAEAAgAASNFZ4mrwCASc6SVdk7SMR6AoUpSOF3Qs"

static struct mailtoken sample(char kind)
{
	struct mailtoken t = { .kind = kind, .link = kind == MAILTOKEN_CLICK ? 513 : 0 };
	strcpy(t.recipient, "7D444840-9DC0-11D1-B245-5FFDCE74FAD2"); /* upper case in, lower case out */
	strcpy(t.send, "0b8f6e52-3c1a-4d7e-9f00-a1b2c3d4e5f6");
	strcpy(t.contact, "ffffffff-0000-4000-8000-123456789abc");
	return t;
}

int main(void)
{
	char tok[MAILTOKEN_MAX_LEN + 1];
	struct mailtoken t = sample(MAILTOKEN_UNSUBSCRIBE), got;

	is_int(mailtoken_encode(&key, &t, tok), 0, "encode an unsubscribe token");
	is_str(tok, KNOWN_U, "unsubscribe token matches the Python HMAC-SHA256 computation");
	t = sample(MAILTOKEN_CLICK);
	is_int(mailtoken_encode(&key, &t, tok), 0, "encode a click token");
	is_str(tok, KNOWN_C, "click token (link 513) matches the Python computation");
	ok(strlen(tok) <= MAILTOKEN_MAX_LEN, "a click token fits MAILTOKEN_MAX_LEN (%zu)", strlen(tok));

	memset(&got, 0, sizeof(got));
	is_int(mailtoken_decode(&key, 'c', tok, strlen(tok), &got), 0, "decode the click token");
	is_str(got.recipient, "7d444840-9dc0-11d1-b245-5ffdce74fad2", "recipient id, lower case");
	is_str(got.send, "0b8f6e52-3c1a-4d7e-9f00-a1b2c3d4e5f6", "send id");
	is_str(got.contact, "ffffffff-0000-4000-8000-123456789abc", "contact id");
	is_int(got.link, 513, "link index");
	is_int(got.kind, 'c', "kind");

	is_int(mailtoken_decode(&key, 'u', tok, strlen(tok), &got), -EINVAL, "a click token is no unsubscribe token");
	is_int(mailtoken_decode(&key, 'o', KNOWN_U, strlen(KNOWN_U), &got), -EINVAL, "nor an unsubscribe token an open token");
	is_int(mailtoken_decode(&other, 'u', KNOWN_U, strlen(KNOWN_U), &got), -EBADMSG, "another key: bad signature");
	is_int(mailtoken_decode(&short_key, 'u', KNOWN_U, strlen(KNOWN_U), &got), -EINVAL, "a short key is refused");

	/* every single-character change is refused */
	int refused = 0, total = 0;
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (size_t i = 0; i < strlen(KNOWN_U); i++) {
		char copy[sizeof(KNOWN_U)];
		memcpy(copy, KNOWN_U, sizeof(KNOWN_U));
		copy[i] = copy[i] == alphabet[i % 64] ? alphabet[(i + 1) % 64] : alphabet[i % 64];
		total++;
		refused += mailtoken_decode(&key, 'u', copy, strlen(copy), &got) < 0;
	}
	is_int(refused, total, "all %d one-character changes are refused", total);

	/* the tail's unused bits: another spelling of the same bytes is refused */
	char alt[sizeof(KNOWN_U)];
	memcpy(alt, KNOWN_U, sizeof(KNOWN_U));
	alt[strlen(alt) - 1] = '6'; /* '5' and '6' differ only in the 4 unused low bits of the last char */
	ok(mailtoken_decode(&key, 'u', alt, strlen(alt), &got) < 0, "non-canonical base64 is refused");
	is_int(mailtoken_decode(&key, 'u', KNOWN_U, strlen(KNOWN_U) - 1, &got), -EINVAL, "truncated");
	is_int(mailtoken_decode(&key, 'u', "", 0, &got), -EINVAL, "empty");
	is_int(mailtoken_decode(&key, 'u', KNOWN_U "==", strlen(KNOWN_U) + 2, &got), -EINVAL, "padding");
	is_int(mailtoken_decode(&key, 'x', KNOWN_U, strlen(KNOWN_U), &got), -EINVAL, "unknown kind");
	is_int(mailtoken_decode(&key, 'u', KNOWN_U, strlen(KNOWN_U), &got), 0, "the original still decodes");

	/* encode refuses what it cannot represent */
	t = sample(MAILTOKEN_CLICK);
	t.link = 65536;
	is_int(mailtoken_encode(&key, &t, tok), -EINVAL, "link index beyond 16 bits");
	t = sample(MAILTOKEN_OPEN);
	strcpy(t.contact, "not-a-uuid");
	is_int(mailtoken_encode(&key, &t, tok), -EINVAL, "malformed UUID");
	t = sample('z');
	is_int(mailtoken_encode(&key, &t, tok), -EINVAL, "unknown kind");
	t = sample(MAILTOKEN_OPEN);
	is_int(mailtoken_encode(&short_key, &t, tok), -EINVAL, "key shorter than 32 bytes");

	/* no personal data: the token is the ids and the MAC, nothing else fits */
	t = sample(MAILTOKEN_OPEN);
	mailtoken_encode(&key, &t, tok);
	is_int(strlen(tok), 88, "an open token is 88 characters (66 bytes)");
	unsigned char raw[16];
	is_int(mailtoken_uuid_parse("7d444840-9dc0-11d1-b245-5ffdce74fad2x", raw), -EINVAL, "trailing garbage after a UUID");
	is_int(mailtoken_uuid_parse("7d444840-9dc0-11d1-b245-5ffdce74fad", raw), -EINVAL, "short UUID");
	return tap_done();
}
