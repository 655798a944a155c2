/*
 * mime.c - builds a multipart/alternative message (contract in mime.h).
 *
 * Header fields are written by one table of writers in a fixed order; every
 * input field is checked before a byte of it is written, so a refused message
 * never depends on what came before.
 */
#include "mime.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "random.h"

#define QP_LINE 76
#define WORD_BYTES 45 /* raw bytes per base64 encoded-word: 60 characters + 12 of framing */

static bool has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

bool mime_address_valid(const char *s)
{
	if (!s)
		return false;
	size_t len = strlen(s);
	const char *at = strrchr(s, '@');
	if (len == 0 || len > 254 || !at || at == s || !at[1] || strchr(s, '@') != at)
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"", c))
			return false;
	}
	return at[1] != '.' && s[len - 1] != '.';
}

void mime_qp_encode(buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
			buf_putn(out, "\r\n", 2);
			col = 0;
			continue;
		}
		bool line_end = i + 1 == n || s[i + 1] == '\r' || s[i + 1] == '\n';
		bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !line_end);
		/* A leading '.' is left to SMTP's dot-stuffing; "From " is harmless here. */
		size_t width = literal ? 1 : 3;
		/* room for this character and, unless the line ends here, a soft break's '=' */
		if (col + width > QP_LINE - (line_end ? 0 : 1)) {
			buf_putn(out, "=\r\n", 3);
			col = 0;
		}
		if (literal) {
			buf_putc(out, (char)c);
		} else {
			buf_putc(out, '=');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
		col += width;
	}
}

/* Printable ASCII that reads back as written: no "=?", no space at either end (folding would eat it). */
static bool plain_ascii(const char *s)
{
	size_t n = strlen(s);
	if (n && (s[0] == ' ' || s[n - 1] == ' '))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return strstr(s, "=?") == NULL;
}

static void b64(buf *out, const unsigned char *in, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		buf_putc(out, tab[v >> 18]);
		buf_putc(out, tab[v >> 12 & 63]);
		buf_putc(out, i + 1 < n ? tab[v >> 6 & 63] : '=');
		buf_putc(out, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* Bytes of s[0..n) that fit in one encoded-word of at most max raw bytes without splitting a UTF-8 sequence. */
static size_t word_chunk(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	/* back up over continuation bytes (at most 3) so the next word starts a character */
	for (int i = 0; i < 3 && k > 1 && ((unsigned char)s[k] & 0xc0) == 0x80; i++)
		k--;
	return k;
}

/*
 * Encoded-words for s, separated by CRLF SP (folding). The first starts at
 * column col of its line and is made short enough to end by column 76; the
 * others start at column 1.
 */
static void encoded_words(buf *out, const char *s, size_t col)
{
	size_t n = strlen(s);
	size_t first = col + 12 + 8 <= QP_LINE ? (QP_LINE - col - 12) / 4 * 3 : 0;
	if (first == 0) {
		buf_putn(out, "\r\n ", 3);
		first = WORD_BYTES;
	}
	if (n == 0) {
		buf_puts(out, "=?UTF-8?B?" "?=");
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t k = word_chunk(s + i, n - i, i == 0 ? first : WORD_BYTES);
		if (i > 0)
			buf_putn(out, "\r\n ", 3);
		buf_puts(out, "=?UTF-8?B?");
		b64(out, (const unsigned char *)s + i, k);
		buf_puts(out, "?=");
		i += k;
	}
}

void mime_header_text(buf *out, const char *name, const char *value)
{
	buf_printf(out, "%s: ", name);
	if (plain_ascii(value) && strlen(name) + 2 + strlen(value) <= QP_LINE)
		buf_puts(out, value);
	else
		encoded_words(out, value, strlen(name) + 2);
	buf_putn(out, "\r\n", 2);
}

/* "Name" <addr>, or an encoded-word name, or the bare address. */
static void header_address(buf *out, const char *field, const char *name, const char *addr)
{
	buf_printf(out, "%s: ", field);
	if (name && *name) {
		if (plain_ascii(name) && strlen(name) < 200) {
			buf_putc(out, '"');
			for (const char *p = name; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_putc(out, '\\');
				buf_putc(out, *p);
			}
			buf_putc(out, '"');
		} else {
			encoded_words(out, name, strlen(field) + 2);
		}
		buf_putn(out, "\r\n <", 4);
		buf_puts(out, addr);
		buf_putc(out, '>');
	} else {
		buf_puts(out, addr);
	}
	buf_putn(out, "\r\n", 2);
}

static void header_date(buf *out, time_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	gmtime_r(&t, &tm);
	buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
		   months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Headers mime_build writes itself: an extra header may not repeat one. */
static const char *const own_headers[] = {
	"Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Message-ID", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post",
};

static bool header_name_valid(const char *name)
{
	if (!name || !*name || strlen(name) > 76 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(name))
		return false;
	for (size_t i = 0; i < sizeof(own_headers) / sizeof(own_headers[0]); i++)
		if (strcasecmp(name, own_headers[i]) == 0)
			return false;
	return true;
}

static bool header_value_valid(const char *v)
{
	if (!v || strlen(v) > MIME_MAX_HEADER_VALUE)
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* A URL that can sit between < > in a header: printable ASCII, no spaces, no angle brackets. */
static bool url_valid(const char *u, const char *scheme)
{
	if (strncmp(u, scheme, strlen(scheme)) != 0 || !u[strlen(scheme)] || strlen(u) > MIME_MAX_HEADER_VALUE)
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '<' || *p == '>' || *p == '"')
			return false;
	return true;
}

static int check(const struct mime_message *m)
{
	const char *text_fields[] = { m->from_name, m->to_name, m->subject, m->msgid_domain, m->reply_to,
				      m->unsubscribe_url, m->unsubscribe_mailto };
	for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++)
		if (has_crlf(text_fields[i]))
			return -EINVAL;
	if (!mime_address_valid(m->from_email) || !mime_address_valid(m->to_email) ||
	    (m->reply_to && *m->reply_to && !mime_address_valid(m->reply_to)) || !m->text || !m->html)
		return -EINVAL;
	if (!m->msgid_domain || !*m->msgid_domain || strlen(m->msgid_domain) > 253 ||
	    strspn(m->msgid_domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
		    strlen(m->msgid_domain))
		return -EINVAL;
	if ((m->from_name && strlen(m->from_name) > MIME_MAX_HEADER_VALUE) ||
	    (m->to_name && strlen(m->to_name) > MIME_MAX_HEADER_VALUE) ||
	    (m->subject && strlen(m->subject) > 4 * MIME_MAX_HEADER_VALUE))
		return -EINVAL;
	if (m->unsubscribe_url && *m->unsubscribe_url && !url_valid(m->unsubscribe_url, "https://") &&
	    !url_valid(m->unsubscribe_url, "http://"))
		return -EINVAL;
	if (m->unsubscribe_mailto && *m->unsubscribe_mailto &&
	    (!url_valid(m->unsubscribe_mailto, "mailto:") || !(m->unsubscribe_url && *m->unsubscribe_url)))
		return -EINVAL;
	for (size_t i = 0; i < m->nheaders; i++)
		if (!header_name_valid(m->headers[i].name) || !header_value_valid(m->headers[i].value))
			return -EINVAL;
	return 0;
}

static void part(buf *out, const char *boundary, const char *type, const char *body)
{
	buf_printf(out, "--%s\r\nContent-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
		   boundary, type);
	mime_qp_encode(out, body, strlen(body));
	buf_putn(out, "\r\n", 2);
}

int mime_build(arena *a, const struct mime_message *m, buf *out, const char **ret_msgid)
{
	int r = check(m);
	if (r < 0)
		return r;
	char id[40], boundary[40];
	if ((r = random_token(id, 18)) < 0 || (r = random_token(boundary, 18)) < 0)
		return r;
	const char *msgid = arena_printf(a, "<%s@%s>", id, m->msgid_domain);

	header_date(out, m->date ? m->date : time(NULL));
	header_address(out, "From", m->from_name, m->from_email);
	if (m->reply_to && *m->reply_to)
		buf_printf(out, "Reply-To: %s\r\n", m->reply_to);
	header_address(out, "To", m->to_name, m->to_email);
	mime_header_text(out, "Subject", m->subject ? m->subject : "");
	buf_printf(out, "Message-ID: %s\r\nMIME-Version: 1.0\r\n", msgid);
	if (m->unsubscribe_url && *m->unsubscribe_url) {
		buf_printf(out, "List-Unsubscribe: <%s>", m->unsubscribe_url);
		if (m->unsubscribe_mailto && *m->unsubscribe_mailto)
			buf_printf(out, ",\r\n <%s>", m->unsubscribe_mailto);
		buf_puts(out, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
	}
	for (size_t i = 0; i < m->nheaders; i++)
		buf_printf(out, "%s: %s\r\n", m->headers[i].name, m->headers[i].value);
	/* "=_" never occurs in quoted-printable text: the boundary cannot collide with a body. */
	char *b = arena_printf(a, "=_adcraft_%s", boundary);
	buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", b);
	buf_puts(out, "This is a multi-part message in MIME format.\r\n\r\n");
	part(out, b, "text/plain", m->text);
	part(out, b, "text/html", m->html);
	buf_printf(out, "--%s--\r\n", b);
	if (ret_msgid)
		*ret_msgid = msgid;
	return 0;
}
