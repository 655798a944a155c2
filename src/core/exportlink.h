/*
 * exportlink.h - signed download links of data exports.
 *
 * GET /api/exports/:id/download?exp=E&sig=S needs no login: the link itself
 * is the credential. S is the lower-case hex of
 *
 *   HMAC-SHA256(key, "<export id>|<owner id>|<E>")
 *
 * with the ids as PostgreSQL prints UUIDs and E the expiry in seconds since
 * the epoch (decimal, no sign, no leading zeros). The key
 * (export_link_key_file) is never the JWT key. The server checks the
 * signature against the owner it finds in the export's row, so a link names
 * one export of one user and stops working at E.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define EXPORT_LINK_MIN_KEY 32
#define EXPORT_LINK_SIG_HEX 64

struct exportlink_key {
	const unsigned char *key;
	size_t len;
};

/* The query of a download link: exp and sig, each exactly once. */
struct exportlink_query {
	int64_t exp;
	char sig[EXPORT_LINK_SIG_HEX + 1];
};

/*
 * Writes the signature of (export_id, owner, exp) into sig (NUL-terminated).
 * -EINVAL when an id is not a UUID, exp is negative or the key is shorter
 * than EXPORT_LINK_MIN_KEY.
 */
int exportlink_sign(const struct exportlink_key *key, const char *export_id, const char *owner, int64_t exp,
		    char sig[EXPORT_LINK_SIG_HEX + 1]);

/*
 * Parses a query string (len bytes, need not be NUL-terminated): exactly the
 * parameters exp (1 to 12 digits, no leading zero) and sig (64 lower-case hex
 * digits), in either order, each once, nothing else. 0 and *ret filled, or
 * -EINVAL leaving *ret untouched.
 */
int exportlink_parse(const char *query, size_t len, struct exportlink_query *ret);

/*
 * 0 when q's signature is the one of (export_id, owner, q->exp), compared in
 * constant time; -EBADMSG when it is not; -EINVAL as exportlink_sign. Expiry
 * is the caller's to check (a valid link past its exp is 410, not 403).
 */
int exportlink_verify(const struct exportlink_key *key, const char *export_id, const char *owner,
		      const struct exportlink_query *q);
