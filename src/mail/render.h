/*
 * render.h - from an email content item and a contact to subject, text and
 * HTML ready for mime_build().
 *
 * The HTML comes from a small built-in layout (tables, inline styles, a hidden
 * preheader, paragraphs, one call-to-action button, an unsubscribe footer);
 * the text part from the same item. Merge tags {{firstName}}, {{lastName}},
 * {{email}}, {{unsubscribeUrl}} and {{attr.NAME}} (a contact attribute) are
 * replaced in all three, HTML-escaped in the HTML; an unknown tag stays as
 * written. With tracking, every http(s) href of the layout (before merge tags,
 * so the list is the same for every recipient: mail_links()) points at
 * BASE/t/c/TOKEN and an open pixel BASE/t/o/TOKEN closes the body.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "mailtoken.h"

struct mail_item {
	const char *subject;
	const char *preheader; /* optional */
	const char *body;      /* paragraphs separated by blank lines */
	const char *cta_text;  /* optional: no button without both */
	const char *cta_url;   /* optional http(s) URL */
};

struct mail_contact {
	const char *email;
	const char *first_name; /* NULL: "" */
	const char *last_name;
	json_object *attributes; /* optional object; borrowed */
};

struct mail_tracking {
	const char *base_url; /* mail_public_base_url, no trailing slash */
	const struct mailtoken_key *key;
	struct mailtoken ids; /* recipient, send, contact; kind and link are set per token */
};

struct mail_rendered {
	const char *subject;
	const char *text;
	const char *html;
};

/*
 * Renders item for contact. unsubscribe_url is what {{unsubscribeUrl}} and the
 * footer link become; tracking NULL leaves links and the pixel out. Strings in
 * *ret are arena-owned. -EINVAL when the item has no subject or body, the CTA
 * URL is not http(s), or a token cannot be made.
 */
int mail_render(arena *a, const struct mail_item *item, const struct mail_contact *contact,
		const char *unsubscribe_url, const struct mail_tracking *tracking, struct mail_rendered *ret);

/* The layout's HTML and text before merge tags and tracking (what a send snapshots). */
int mail_layout_html(arena *a, const struct mail_item *item, const char **ret);
int mail_layout_text(arena *a, const struct mail_item *item, const char **ret);

/*
 * The http(s) links of html in order (HTML entities decoded), skipping links
 * with a merge tag: index i is the link a click token with link = i redirects
 * to. *ret is an arena-owned array of *ret_n strings.
 */
void mail_links(arena *a, const char *html, const char ***ret, size_t *ret_n);

/* Replaces merge tags in template; html escapes the values. Arena-owned result. */
const char *mail_merge(arena *a, const char *template, const struct mail_contact *contact,
		       const char *unsubscribe_url, bool html);
