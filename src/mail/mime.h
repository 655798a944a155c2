/*
 * mime.h - one RFC 5322 message, multipart/alternative (text/plain +
 * text/html), from plain fields.
 *
 * Bodies go out quoted-printable (lines of at most 76 characters, soft line
 * breaks), display names and the subject as RFC 2047 encoded-words (UTF-8,
 * base64, folded) when they are not plain ASCII. Header injection is
 * impossible by construction: a CR or LF in any header field is refused, and
 * so is an address that is not a plain addr-spec.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "arena.h"
#include "buf.h"

#define MIME_MAX_HEADER_VALUE 900 /* bytes of one extra header, a URL or an address */

struct mime_header {
	const char *name;  /* a token: letters, digits and '-'; not one mime_build writes itself */
	const char *value; /* printable ASCII */
};

struct mime_message {
	const char *from_name;	  /* optional; any UTF-8 */
	const char *from_email;	  /* required */
	const char *reply_to;	  /* optional address */
	const char *to_name;	  /* optional */
	const char *to_email;	  /* required */
	const char *subject;	  /* any UTF-8, may be empty */
	const char *text;	  /* the text/plain part; line ends LF, CRLF or CR */
	const char *html;	  /* the text/html part */
	const char *msgid_domain; /* the right-hand side of Message-ID */
	const char *unsubscribe_url;	/* optional https URL: List-Unsubscribe + List-Unsubscribe-Post */
	const char *unsubscribe_mailto; /* optional "mailto:..." URI, added to List-Unsubscribe */
	const struct mime_header *headers;
	size_t nheaders;
	time_t date; /* 0: now */
};

/*
 * Appends the whole message (CRLF line ends, ready for SMTP DATA) to out and,
 * when ret_msgid is not NULL, sets it to the Message-ID written (with its
 * angle brackets, arena-owned). -EINVAL when a field is missing or unsafe;
 * out may then hold part of a message and must be discarded.
 */
int mime_build(arena *a, const struct mime_message *m, buf *out, const char **ret_msgid);

/* Appends s[0..n) quoted-printable (RFC 2045 6.7), line ends as CRLF hard breaks. */
void mime_qp_encode(buf *out, const char *s, size_t n);

/*
 * Appends `Name: value` for an unstructured text value (a subject, a display
 * name alone): as is when short printable ASCII, else RFC 2047 encoded-words
 * folded to lines of at most 76 characters. Ends with CRLF.
 */
void mime_header_text(buf *out, const char *name, const char *value);

/* True when s is a plain addr-spec (local@domain, printable ASCII, no specials). */
bool mime_address_valid(const char *s);
