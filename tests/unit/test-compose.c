/* Unit tests for src/mail/compose.c: one recipient's message, its unsubscribe links and tokens. */
#include <errno.h>
#include <stdlib.h>

#include "compose.h"
#include "mime-check.h"
#include "tap.h"

static const unsigned char k[] = "0123456789abcdef0123456789abcdef";

int main(void)
{
	arena *a = arena_new(0);
	struct mail_sender s = { "Acme Nëws", "news@acme.example", "help@acme.example", "unsub@acme.example",
				 "https://acme.example", true, { k, 32 } };
	struct mailtoken ids = { 0 };
	strcpy(ids.recipient, "7d444840-9dc0-11d1-b245-5ffdce74fad2");
	strcpy(ids.send, "0b8f6e52-3c1a-4d7e-9f00-a1b2c3d4e5f6");
	strcpy(ids.contact, "ffffffff-0000-4000-8000-123456789abc");
	struct mail_item item = { "Hi {{firstName}}", "pre", "Body for {{email}}", "Go", "https://acme.example/go" };
	struct mail_contact c = { "ada@example.org", "Ada", "L", NULL };

	const char *url, *mailto;
	is_int(mail_unsubscribe_links(a, &s, &ids, &url, &mailto), 0, "unsubscribe links");
	ok(strncmp(url, "https://acme.example/u/", 23) == 0, "https link: %s", url);
	struct mailtoken got;
	is_int(mailtoken_decode(&s.key, 'u', url + 23, strlen(url + 23), &got), 0, "its token verifies");
	is_str(got.contact, ids.contact, "for the contact");
	ok(mailto && strncmp(mailto, "mailto:unsub@acme.example?subject=unsubscribe-", 46) == 0 &&
	   strcmp(mailto + 46, url + 23) == 0, "mailto with the same token: %s", mailto);

	buf out;
	buf_init(&out, a, 8192);
	const char *msgid;
	is_int(mail_compose(a, &s, &item, &c, &ids, &out, &msgid), 0, "compose");
	struct mime_parsed p;
	buf_cstr(&out);
	is_int(mime_check(a, out.data, out.len, &p), 0, "reads back (%s)", p.error ? p.error : "ok");
	is_str(p.subject, "Hi Ada", "subject merged");
	ok(strstr(p.text, "Body for ada@example.org") != NULL, "text merged");
	is_str(mc_header(a, &p, "List-Unsubscribe"), arena_printf(a, "<%s>, <%s>", url, mailto),
	       "List-Unsubscribe carries both links");
	ok(strstr(msgid, "@acme.example>") != NULL, "Message-ID at the sender's domain");
	ok(strstr(p.html, "https://acme.example/t/o/") && strstr(p.html, "https://acme.example/t/c/"), "tracking on");
	ok(strstr(p.html, url) != NULL, "the unsubscribe link in the HTML footer");

	s.tracking = false;
	s.unsubscribe_mailto = "";
	buf_init(&out, a, 8192);
	is_int(mail_compose(a, &s, &item, &c, &ids, &out, &msgid), 0, "compose without tracking or mailto");
	buf_cstr(&out);
	mime_check(a, out.data, out.len, &p);
	ok(!strstr(p.html, "/t/o/") && !strstr(p.html, "/t/c/") && strstr(p.html, "https://acme.example/go"),
	   "no pixel, links as written");
	is_str(mc_header(a, &p, "List-Unsubscribe"), arena_printf(a, "<%s>", url), "https link only");

	s.from_email = "no-at-sign";
	is_int(mail_compose(a, &s, &item, &c, &ids, &out, &msgid), -EINVAL, "a bad sender is refused");
	s.from_email = "news@acme.example";
	strcpy(ids.send, "nope");
	is_int(mail_compose(a, &s, &item, &c, &ids, &out, &msgid), -EINVAL, "a bad id is refused");
	arena_free(a);
	return tap_done();
}
