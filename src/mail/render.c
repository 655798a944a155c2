/*
 * render.c - the built-in email layout, merge tags and link tracking
 * (contract in render.h).
 */
#include "render.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

#define MAX_LINKS 1000

static void html_escape(buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, s[i]);
		}
	}
}

static bool http_url(const char *u)
{
	if (!u || (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0))
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	return u[strncmp(u, "https://", 8) == 0 ? 8 : 7] != '\0';
}

/* Paragraphs (split on blank lines) of body, each handed to fn with its length. */
static void paragraphs(const char *body, void (*fn)(buf *, const char *, size_t), buf *b)
{
	const char *p = body;
	while (*p) {
		while (*p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		const char *end = p;
		while (*end && !(end[0] == '\n' && (end[1] == '\n' || (end[1] == '\r' && end[2] == '\n'))))
			end++;
		size_t n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		fn(b, p, n);
		p = end;
	}
}

static void html_paragraph(buf *b, const char *p, size_t n)
{
	buf_puts(b, "<p style=\"margin:0 0 16px 0;font-size:16px;line-height:24px;color:#1f2937\">");
	for (size_t i = 0; i < n; i++) {
		size_t k = i;
		while (k < n && p[k] != '\n')
			k++;
		html_escape(b, p + i, k - i - (k > i && p[k - 1] == '\r'));
		if (k < n)
			buf_puts(b, "<br>\n");
		i = k;
	}
	buf_puts(b, "</p>\n");
}

static void text_paragraph(buf *b, const char *p, size_t n)
{
	buf_putn(b, p, n);
	buf_puts(b, "\n\n");
}

int mail_layout_html(arena *a, const struct mail_item *item, const char **ret)
{
	if (!item->subject || !item->body || (item->cta_url && *item->cta_url && !http_url(item->cta_url)))
		return -EINVAL;
	buf b;
	buf_init(&b, a, 4096);
	buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>");
	html_escape(&b, item->subject, strlen(item->subject));
	buf_puts(&b, "</title>\n</head>\n<body style=\"margin:0;padding:0;background:#f3f4f6\">\n");
	if (item->preheader && *item->preheader) {
		buf_puts(&b, "<div style=\"display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;"
			     "line-height:1px;color:#f3f4f6\">");
		html_escape(&b, item->preheader, strlen(item->preheader));
		/* padding so mail clients do not pull body text into the preview */
		for (int i = 0; i < 30; i++)
			buf_puts(&b, "&#8204;&nbsp;");
		buf_puts(&b, "</div>\n");
	}
	buf_puts(&b, "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
		     "style=\"background:#f3f4f6\">\n<tr><td align=\"center\" style=\"padding:24px 12px\">\n"
		     "<table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
		     "style=\"max-width:600px;width:100%;background:#ffffff;border-radius:8px\">\n"
		     "<tr><td style=\"padding:32px 32px 16px 32px;font-family:Helvetica,Arial,sans-serif\">\n");
	paragraphs(item->body, html_paragraph, &b);
	if (item->cta_text && *item->cta_text && item->cta_url && *item->cta_url) {
		buf_puts(&b, "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
			     "style=\"margin:8px 0 16px 0\">\n<tr><td style=\"border-radius:6px;background:#2563eb\">"
			     "<a href=\"");
		html_escape(&b, item->cta_url, strlen(item->cta_url));
		buf_puts(&b, "\" style=\"display:inline-block;padding:12px 24px;font-family:Helvetica,Arial,sans-serif;"
			     "font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px\">");
		html_escape(&b, item->cta_text, strlen(item->cta_text));
		buf_puts(&b, "</a></td></tr>\n</table>\n");
	}
	buf_puts(&b, "</td></tr>\n<tr><td style=\"padding:16px 32px 32px 32px;font-family:Helvetica,Arial,sans-serif;"
		     "font-size:12px;line-height:18px;color:#6b7280\">\n"
		     "You receive this email because you subscribed. "
		     "<a href=\"{{unsubscribeUrl}}\" style=\"color:#6b7280\">Unsubscribe</a>\n"
		     "</td></tr>\n</table>\n</td></tr>\n</table>\n</body>\n</html>\n");
	*ret = buf_cstr(&b);
	return 0;
}

int mail_layout_text(arena *a, const struct mail_item *item, const char **ret)
{
	if (!item->subject || !item->body || (item->cta_url && *item->cta_url && !http_url(item->cta_url)))
		return -EINVAL;
	buf b;
	buf_init(&b, a, 2048);
	paragraphs(item->body, text_paragraph, &b);
	if (item->cta_text && *item->cta_text && item->cta_url && *item->cta_url)
		buf_printf(&b, "%s: %s\n\n", item->cta_text, item->cta_url);
	buf_puts(&b, "--\nYou receive this email because you subscribed. Unsubscribe: {{unsubscribeUrl}}\n");
	*ret = buf_cstr(&b);
	return 0;
}

/* A value for a merge tag; NULL when the tag is unknown. */
static const char *tag_value(arena *a, const char *tag, size_t n, const struct mail_contact *c,
			     const char *unsubscribe_url)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{ "firstName", offsetof(struct mail_contact, first_name) },
		{ "lastName", offsetof(struct mail_contact, last_name) },
		{ "email", offsetof(struct mail_contact, email) },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == n && memcmp(fields[i].name, tag, n) == 0) {
			const char *v = *(const char *const *)((const char *)c + fields[i].offset);
			return v ? v : "";
		}
	if (n == 14 && memcmp(tag, "unsubscribeUrl", 14) == 0)
		return unsubscribe_url ? unsubscribe_url : "";
	if (n > 5 && memcmp(tag, "attr.", 5) == 0) {
		char *name = arena_strndup(a, tag + 5, n - 5);
		json_object *v;
		if (!c->attributes || !json_object_is_type(c->attributes, json_type_object) ||
		    !json_object_object_get_ex(c->attributes, name, &v) || json_object_is_type(v, json_type_null))
			return "";
		if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
			return "";
		return json_object_get_string(v);
	}
	return NULL;
}

static bool tag_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

const char *mail_merge(arena *a, const char *template, const struct mail_contact *contact,
		       const char *unsubscribe_url, bool html)
{
	buf b;
	buf_init(&b, a, strlen(template) + 256);
	const char *p = template;
	for (const char *open; (open = strstr(p, "{{"));) {
		const char *name = open + 2, *end = name;
		while (end - name < 80 && tag_char(*end))
			end++;
		const char *v = end[0] == '}' && end[1] == '}' ?
					tag_value(a, name, (size_t)(end - name), contact, unsubscribe_url) : NULL;
		if (!v) { /* not a tag we know: keep the braces as written */
			buf_putn(&b, p, (size_t)(name - p));
			p = name;
			continue;
		}
		buf_putn(&b, p, (size_t)(open - p));
		if (html) {
			html_escape(&b, v, strlen(v));
		} else {
			for (const char *q = v; *q; q++) /* no control characters into a subject or a line */
				buf_putc(&b, (unsigned char)*q < 0x20 || *q == 0x7f ? ' ' : *q);
		}
		p = end + 2;
	}
	buf_puts(&b, p);
	return buf_cstr(&b);
}

/*
 * Calls fn for each href="http(s)://..." of html that has no merge tag, with
 * the attribute value's bounds; returns how many there were.
 */
typedef void (*link_fn)(void *ctx, size_t index, const char *start, const char *end);

static size_t each_link(const char *html, link_fn fn, void *ctx)
{
	size_t index = 0;
	for (const char *p = html; (p = strcasestr(p, "href=\"")) && index < MAX_LINKS;) {
		const char *v = p + 6, *end = strchr(v, '"');
		p = v;
		if (!end)
			break;
		if ((strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0) ||
		    memmem(v, (size_t)(end - v), "{{", 2))
			continue;
		fn(ctx, index++, v, end);
	}
	return index;
}

struct links_ctx {
	arena *a;
	const char **urls;
};

static void html_unescape(buf *b, const char *s, const char *end)
{
	static const struct {
		const char *entity;
		char c;
	} entities[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&#39;", '\'' } };
	while (s < end) {
		size_t i = 0;
		for (; *s == '&' && i < sizeof(entities) / sizeof(entities[0]); i++) {
			size_t n = strlen(entities[i].entity);
			if ((size_t)(end - s) >= n && memcmp(s, entities[i].entity, n) == 0) {
				buf_putc(b, entities[i].c);
				s += n;
				break;
			}
		}
		if (*s != '&' || i == sizeof(entities) / sizeof(entities[0]))
			buf_putc(b, *s++);
	}
}

static void collect_link(void *ctx, size_t index, const char *start, const char *end)
{
	struct links_ctx *c = ctx;
	if (!c->urls)
		return;
	buf b;
	buf_init(&b, c->a, (size_t)(end - start) + 1);
	html_unescape(&b, start, end);
	c->urls[index] = buf_cstr(&b);
}

void mail_links(arena *a, const char *html, const char ***ret, size_t *ret_n)
{
	struct links_ctx c = { a, NULL };
	size_t n = each_link(html, collect_link, &c);
	c.urls = arena_zalloc(a, (n + 1) * sizeof(*c.urls));
	each_link(html, collect_link, &c);
	*ret = c.urls;
	*ret_n = n;
}

struct wrap_ctx {
	const struct mail_tracking *t;
	buf *out;
	const char *copied; /* how far html has been copied to out */
	int error;
};

static void wrap_link(void *ctx, size_t index, const char *start, const char *end)
{
	struct wrap_ctx *w = ctx;
	struct mailtoken tok = w->t->ids;
	char token[MAILTOKEN_MAX_LEN + 1];
	tok.kind = MAILTOKEN_CLICK;
	tok.link = (unsigned)index;
	int r = mailtoken_encode(w->t->key, &tok, token);
	if (r < 0) {
		w->error = r;
		return;
	}
	buf_putn(w->out, w->copied, (size_t)(start - w->copied));
	buf_printf(w->out, "%s/t/c/%s", w->t->base_url, token);
	w->copied = end;
}

static int track(arena *a, const char *html, const struct mail_tracking *t, const char **ret)
{
	buf out;
	buf_init(&out, a, strlen(html) + 1024);
	struct wrap_ctx w = { t, &out, html, 0 };
	each_link(html, wrap_link, &w);
	if (w.error < 0)
		return w.error;
	struct mailtoken tok = t->ids;
	char token[MAILTOKEN_MAX_LEN + 1];
	tok.kind = MAILTOKEN_OPEN;
	int r = mailtoken_encode(t->key, &tok, token);
	if (r < 0)
		return r;
	const char *body_end = strcasestr(w.copied, "</body>");
	if (!body_end)
		body_end = w.copied + strlen(w.copied);
	buf_putn(&out, w.copied, (size_t)(body_end - w.copied));
	buf_printf(&out, "<img src=\"%s/t/o/%s\" width=\"1\" height=\"1\" alt=\"\" "
			 "style=\"display:block;border:0;width:1px;height:1px\">\n", t->base_url, token);
	buf_puts(&out, body_end);
	*ret = buf_cstr(&out);
	return 0;
}

int mail_render(arena *a, const struct mail_item *item, const struct mail_contact *contact,
		const char *unsubscribe_url, const struct mail_tracking *tracking, struct mail_rendered *ret)
{
	const char *html, *text;
	int r;
	if ((r = mail_layout_html(a, item, &html)) < 0 || (r = mail_layout_text(a, item, &text)) < 0)
		return r;
	if (tracking && (r = track(a, html, tracking, &html)) < 0)
		return r;
	ret->subject = mail_merge(a, item->subject, contact, unsubscribe_url, false);
	ret->text = mail_merge(a, text, contact, unsubscribe_url, false);
	ret->html = mail_merge(a, html, contact, unsubscribe_url, true);
	return 0;
}
