/*
 * Unit tests for src/mail/mime.c and src/mail/render.c: the message reads
 * back (mime-check.h) to exactly what went in; injection is refused; the
 * layout, merge tags and tracking links.
 */
#include <errno.h>
#include <stdlib.h>

#include "mime-check.h"
#include "mime.h"
#include "render.h"
#include "tap.h"

static struct mime_message base(void)
{
	return (struct mime_message){
		.from_name = "Acme News",
		.from_email = "news@acme.example",
		.reply_to = "help@acme.example",
		.to_name = "Ada Lovelace",
		.to_email = "ada@example.org",
		.subject = "Hello",
		.text = "Hi Ada,\nline two\n",
		.html = "<p>Hi Ada</p>\n",
		.msgid_domain = "acme.example",
		.unsubscribe_url = "https://acme.example/u/TOKEN",
		.unsubscribe_mailto = "mailto:unsubscribe@acme.example?subject=unsubscribe",
		.date = 1700000000,
	};
}

static int build(arena *a, const struct mime_message *m, buf *out, struct mime_parsed *p)
{
	buf_init(out, a, 4096);
	int r = mime_build(a, m, out, NULL);
	if (r < 0)
		return r;
	buf_cstr(out);
	return mime_check(a, out->data, out->len, p);
}

static void test_headers(arena *a)
{
	struct mime_message m = base();
	buf out;
	struct mime_parsed p;
	buf_init(&out, a, 4096);
	const char *msgid = NULL;
	is_int(mime_build(a, &m, &out, &msgid), 0, "build a plain message");
	buf_cstr(&out);
	is_int(mime_check(a, out.data, out.len, &p), 0, "it reads back (%s)", p.error ? p.error : "ok");
	is_str(mc_header(a, &p, "Date"), "Tue, 14 Nov 2023 22:13:20 +0000", "Date in RFC 5322 form, UTC");
	is_str(mc_header(a, &p, "From"), "\"Acme News\" <news@acme.example>", "From with a quoted display name");
	is_str(mc_header(a, &p, "Reply-To"), "help@acme.example", "Reply-To");
	is_str(mc_header(a, &p, "To"), "\"Ada Lovelace\" <ada@example.org>", "To");
	is_str(mc_header(a, &p, "Subject"), "Hello", "ASCII subject as is");
	is_str(mc_header(a, &p, "Message-ID"), msgid, "Message-ID is the one returned");
	ok(msgid && msgid[0] == '<' && strstr(msgid, "@acme.example>") && strlen(msgid) > 30, "Message-ID %s", msgid);
	is_str(mc_header(a, &p, "MIME-Version"), "1.0", "MIME-Version");
	is_str(mc_header(a, &p, "List-Unsubscribe"),
	       "<https://acme.example/u/TOKEN>, <mailto:unsubscribe@acme.example?subject=unsubscribe>",
	       "List-Unsubscribe: https first, then mailto");
	is_str(mc_header(a, &p, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click", "RFC 8058 one-click");
	is_str(p.text, "Hi Ada,\r\nline two\r\n", "text part decodes to the text, CRLF line ends");
	is_str(p.html, "<p>Hi Ada</p>\r\n", "html part");
	buf out2;
	struct mime_parsed p2;
	build(a, &m, &out2, &p2);
	ok(strcmp(mc_header(a, &p2, "Message-ID"), msgid) != 0, "a second message gets another Message-ID");
	ok(strcmp(p.boundary, p2.boundary) != 0, "and another boundary");
	m.unsubscribe_url = NULL;
	m.unsubscribe_mailto = NULL;
	m.reply_to = NULL;
	m.from_name = NULL;
	is_int(build(a, &m, &out, &p), 0, "without the optional fields");
	ok(!mc_header(a, &p, "List-Unsubscribe") && !mc_header(a, &p, "List-Unsubscribe-Post") &&
	   !mc_header(a, &p, "Reply-To"), "no List-Unsubscribe, no Reply-To");
	is_str(mc_header(a, &p, "From"), "news@acme.example", "bare From address");
}

static void test_encoding(arena *a)
{
	struct mime_message m = base();
	buf out;
	struct mime_parsed p;
	const char *subject = "Grüße aus Köln — 春のセール ✨ and a long tail so that the subject needs several "
			      "encoded words, folded over more than one line of the header";
	m.subject = subject;
	m.from_name = "Zoë \"the boss\" Ünal";
	is_int(build(a, &m, &out, &p), 0, "non-ASCII subject and name (%s)", p.error ? p.error : "ok");
	is_str(p.subject, subject, "the subject's encoded-words decode back to the UTF-8 subject");
	ok(strstr(out.data, "Subject: =?UTF-8?B?") != NULL && strstr(out.data, "?=\r\n =?UTF-8?B?") != NULL,
	   "encoded-words, the first on the Subject line, folded");
	for (const char *l = out.data; l < strstr(out.data, "\r\n\r\n"); l = strstr(l, "\r\n") + 2)
		if (strncmp(l, "List-Unsubscribe:", 17) != 0 && strstr(l, "\r\n") - l > 76)
			ok(0, "header line over 76: %.80s", l);
	const char *from = mc_header(a, &p, "From");
	ok(from && strncmp(from, "=?UTF-8?B?", 10) == 0 && strstr(from, "<news@acme.example>"), "From: %s", from);
	m.subject = "A \"quoted\" =?UTF-8?B?Zm9v?= lookalike";
	is_int(build(a, &m, &out, &p), 0, "a subject that looks like an encoded-word");
	is_str(p.subject, m.subject, "is itself encoded, so it reads back unchanged");
	m.subject = "  leading and trailing spaces ";
	is_int(build(a, &m, &out, &p), 0, "a subject with spaces at both ends");
	is_str(p.subject, m.subject, "keeps them (encoded)");
	m.subject = "";
	is_int(build(a, &m, &out, &p), 0, "an empty subject");
	is_str(p.subject, "", "reads back empty");

	/* quoted-printable: long lines, '=', trailing spaces, 8-bit, CR and CRLF */
	buf longtext;
	buf_init(&longtext, a, 1024);
	for (int i = 0; i < 40; i++)
		buf_puts(&longtext, "Zwölf Boxkämpfer jagen Viktor = quer über den großen Sylter Deich. ");
	buf_puts(&longtext, "trailing space   \nand tab\t\r\nold mac\rend");
	m.subject = "x";
	m.text = buf_cstr(&longtext);
	m.html = "<a href=\"https://x.example/?a=1&amp;b=2\">=</a>";
	is_int(build(a, &m, &out, &p), 0, "long 8-bit text (%s)", p.error ? p.error : "ok");
	is_str(p.text, mc_crlf(a, m.text), "decodes back byte for byte, line ends as CRLF");
	is_str(p.html, m.html, "html with '=' decodes back");
	ok(strstr(out.data, "space  =20\r\n") != NULL, "a trailing space is encoded as =20");
	ok(strstr(out.data, "=3D") != NULL && strstr(out.data, "=C3=B6") != NULL, "'=' and UTF-8 bytes as =XX");
}

static void test_refusals(arena *a)
{
	struct mime_message m;
	buf out;
	struct mime_parsed p;
#define REFUSED(field, value, what)                                                            \
	do {                                                                                   \
		m = base();                                                                    \
		m.field = value;                                                               \
		is_int(build(a, &m, &out, &p), -EINVAL, "refused: %s", what);                  \
	} while (0)
	REFUSED(subject, "Hi\r\nBcc: victim@example.com", "CRLF in the subject");
	REFUSED(subject, "Hi\nBcc: victim@example.com", "LF in the subject");
	REFUSED(subject, "Hi\rthere", "CR in the subject");
	REFUSED(from_name, "Acme\r\nBcc: x@example.com", "CRLF in the from name");
	REFUSED(to_name, "Ada\nX: y", "LF in the to name");
	REFUSED(to_email, "ada@example.org\r\nBcc: x@example.com", "CRLF in the to address");
	REFUSED(to_email, "Ada <ada@example.org>", "a display name in the address field");
	REFUSED(to_email, "ada@@example.org", "two @");
	REFUSED(to_email, "ada", "no @");
	REFUSED(to_email, "", "empty address");
	REFUSED(from_email, NULL, "no from address");
	REFUSED(reply_to, "a@b.example\nX: y", "LF in Reply-To");
	REFUSED(msgid_domain, "acme.example>\r\nX: y", "CRLF in the Message-ID domain");
	REFUSED(msgid_domain, "acme example", "space in the Message-ID domain");
	REFUSED(unsubscribe_url, "https://acme.example/u/x>\r\nBcc: y", "CRLF in the unsubscribe URL");
	REFUSED(unsubscribe_url, "https://acme.example/u/x>, <https://evil.example", "'>' in the unsubscribe URL");
	REFUSED(unsubscribe_url, "javascript:alert(1)", "not an http(s) unsubscribe URL");
	REFUSED(unsubscribe_mailto, "https://acme.example", "mailto that is no mailto");
	REFUSED(text, NULL, "no text part");
	struct mime_header extra[] = { { "X-Campaign", "spring" }, { "X-Bad", "a\r\nBcc: x@example.com" } };
	m = base();
	m.headers = extra;
	m.nheaders = 1;
	is_int(build(a, &m, &out, &p), 0, "an extra header");
	is_str(mc_header(a, &p, "X-Campaign"), "spring", "is written");
	m.nheaders = 2;
	is_int(build(a, &m, &out, &p), -EINVAL, "refused: CRLF in an extra header's value");
	struct mime_header dup[] = { { "subject", "again" } }, bad_name[] = { { "X Bad", "v" } };
	m.headers = dup;
	m.nheaders = 1;
	is_int(build(a, &m, &out, &p), -EINVAL, "refused: an extra header repeating one of ours");
	m.headers = bad_name;
	is_int(build(a, &m, &out, &p), -EINVAL, "refused: a header name with a space");
}

static void test_render(arena *a)
{
	struct mail_item item = {
		.subject = "{{firstName}}, your spring offer",
		.preheader = "Two weeks free",
		.body = "Hi {{firstName}} {{lastName}},\n\nAcme Flow <b>automates</b> follow-ups.\nSecond line.\n\n"
			"Your plan: {{attr.plan}}. Unknown: {{nope}}.",
		.cta_text = "Start free trial",
		.cta_url = "https://acme.example/start?utm_source=email&x=1",
	};
	json_object *attrs = json_tokener_parse("{\"plan\": \"Pro & <Team>\", \"seats\": 5}");
	struct mail_contact c = { "ada@example.org", "Ada <script>", "O'Neil", attrs };
	struct mail_rendered r;
	is_int(mail_render(a, &item, &c, "https://acme.example/u/TOK", NULL, &r), 0, "render without tracking");
	is_str(r.subject, "Ada <script>, your spring offer", "subject merged, not escaped");
	ok(strstr(r.html, "Hi Ada &lt;script&gt; O&#39;Neil,") != NULL, "names HTML-escaped in the HTML");
	ok(!strstr(r.html, "<script>"), "no raw <script> in the HTML");
	ok(strstr(r.html, "Acme Flow &lt;b&gt;automates&lt;/b&gt; follow-ups.<br>") != NULL,
	   "item text escaped, single newline as <br>");
	ok(strstr(r.html, "Your plan: Pro &amp; &lt;Team&gt;.") != NULL, "attribute merged and escaped");
	ok(strstr(r.html, "Unknown: {{nope}}.") != NULL, "an unknown tag stays as written");
	ok(strstr(r.html, "href=\"https://acme.example/start?utm_source=email&amp;x=1\"") != NULL, "CTA link");
	ok(strstr(r.html, ">Start free trial</a>") != NULL, "CTA text");
	ok(strstr(r.html, "display:none") && strstr(r.html, "Two weeks free"), "hidden preheader");
	ok(strstr(r.html, "href=\"https://acme.example/u/TOK\"") != NULL, "unsubscribe link in the footer");
	ok(strstr(r.text, "Hi Ada <script> O'Neil,\n\nAcme Flow <b>automates</b> follow-ups.\nSecond line.\n\n") != NULL,
	   "text part: paragraphs, unescaped");
	ok(strstr(r.text, "Start free trial: https://acme.example/start?utm_source=email&x=1") != NULL, "text CTA");
	ok(strstr(r.text, "Unsubscribe: https://acme.example/u/TOK") != NULL, "text unsubscribe URL");
	ok(!strstr(r.html, "/t/o/") && !strstr(r.html, "/t/c/"), "no tracking when off");

	struct mail_contact evil = { "e@example.org", "Eve\r\nBcc: x@example.com", NULL, NULL };
	is_int(mail_render(a, &item, &evil, "https://acme.example/u/TOK", NULL, &r), 0, "render for a name with CRLF");
	is_str(r.subject, "Eve  Bcc: x@example.com, your spring offer", "control characters become spaces in the subject");

	static const unsigned char k[] = "0123456789abcdef0123456789abcdef";
	struct mailtoken_key key = { k, 32 };
	struct mail_tracking t = { "https://acme.example", &key, { 0 } };
	strcpy(t.ids.recipient, "7d444840-9dc0-11d1-b245-5ffdce74fad2");
	strcpy(t.ids.send, "0b8f6e52-3c1a-4d7e-9f00-a1b2c3d4e5f6");
	strcpy(t.ids.contact, "ffffffff-0000-4000-8000-123456789abc");
	item.body = "Read <a href=\"x\">this</a>";
	is_int(mail_render(a, &item, &c, "https://acme.example/u/TOK", &t, &r), 0, "render with tracking");
	ok(!strstr(r.html, "href=\"https://acme.example/start"), "the CTA no longer links directly");
	const char *click = strstr(r.html, "href=\"https://acme.example/t/c/");
	ok(click != NULL, "the CTA links to /t/c/TOKEN");
	struct mailtoken got;
	if (click) {
		const char *tok = click + strlen("href=\"https://acme.example/t/c/");
		is_int(mailtoken_decode(&key, 'c', tok, strcspn(tok, "\""), &got), 0, "the click token verifies");
		is_int(got.link, 0, "link index 0");
		is_str(got.recipient, t.ids.recipient, "for this recipient");
	}
	const char *pixel = strstr(r.html, "<img src=\"https://acme.example/t/o/");
	ok(pixel && strstr(pixel, "</body>"), "an open pixel before </body>");
	if (pixel) {
		const char *tok = pixel + strlen("<img src=\"https://acme.example/t/o/");
		is_int(mailtoken_decode(&key, 'o', tok, strcspn(tok, "\""), &got), 0, "the open token verifies");
	}
	ok(strstr(r.html, "href=\"https://acme.example/u/TOK\"") != NULL, "the unsubscribe link is not wrapped");

	const char *layout;
	is_int(mail_layout_html(a, &item, &layout), 0, "layout");
	const char **links;
	size_t n;
	mail_links(a, "<a href=\"https://a.example/?x=1&amp;y=2\">a</a> <a HREF=\"http://b.example\">b</a>"
		      "<a href=\"mailto:x@example.com\">m</a><a href=\"https://c.example/{{email}}\">c</a>",
		   &links, &n);
	is_int(n, 2, "two trackable links (mailto and merge-tag links are not)");
	is_str(links[0], "https://a.example/?x=1&y=2", "first link, entities decoded");
	is_str(links[1], "http://b.example", "second link");
	item.cta_url = "javascript:alert(1)";
	is_int(mail_render(a, &item, &c, "u", NULL, &r), -EINVAL, "a CTA URL that is not http(s) is refused");
	json_object_put(attrs);
}

int main(void)
{
	arena *a = arena_new(0);
	test_headers(a);
	test_encoding(a);
	test_refusals(a);
	test_render(a);
	arena_free(a);
	return tap_done();
}
