/*
 * public_mail.c - the links in sent email: the unsubscribe page and its
 * RFC 8058 one-click POST (/u/TOKEN), the open pixel (/t/o/TOKEN) and
 * wrapped links (/t/c/TOKEN). Public routes: whoever holds a link may use
 * it, so the token (mailtoken.h, signed with mail_token_key_file) is the
 * only credential, and it must name a recipient row that still exists for
 * its send and contact.
 *
 * What a recipient sees is never an error dump: a bad, forged or
 * wrong-kind token, or a recipient that no longer exists, is a small 404
 * HTML page; a database failure while unsubscribing is a 503 page that asks
 * to try again (an unsubscribe is never confirmed unless it was recorded).
 * An open or click that cannot be recorded still answers the pixel or the
 * redirect; a click is recorded after the redirect has been sent (the
 * recipient row was checked before), an open before the pixel (the same
 * statement checks the recipient row). A click redirects only to the link with the token's index in
 * the send's snapshot (mail_links() of its layout, as the worker rendered
 * it), never to anything the request names. Pages are self-contained (no
 * external assets) under a strict Content-Security-Policy; the one inline
 * style is allowed by its hash.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "log.h"
#include "mailtoken.h"
#include "render.h"
#include "snapshot.h"

static const char page_style[] = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
				 "padding:0 1rem;color:#222;line-height:1.5}"
				 "button{font:inherit;padding:.6rem 1.4rem;cursor:pointer}";

/* The 1x1 transparent GIF (GIF89a, one transparent palette entry). */
static const unsigned char pixel_gif[] = {
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

/* The pages a recipient may see: status, title, text. */
enum page { PAGE_CONFIRM, PAGE_DONE, PAGE_NOT_FOUND, PAGE_UNAVAILABLE };

static const struct {
	int status;
	const char *title;
	const char *text;
} pages[] = {
	[PAGE_CONFIRM] = { 200, "Unsubscribe",
			   "Do you want to stop receiving these emails? One click below is all it takes." },
	[PAGE_DONE] = { 200, "You are unsubscribed",
			"You will not receive these emails any more. You can close this page." },
	[PAGE_NOT_FOUND] = { 404, "Link not found",
			     "This link is not valid, or the message it came from no longer exists." },
	[PAGE_UNAVAILABLE] = { 503, "Please try again",
			       "We could not process your request just now. Please try again in a minute." },
};

/* 'sha256-<base64>' of the inline style, for the CSP. */
static const char *style_hash(arena *a)
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(page_style, sizeof(page_style) - 1, md, &n, EVP_sha256(), NULL);
	char *b64 = arena_alloc(a, 4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, md, (int)n);
	return b64;
}

static void no_store(request *r)
{
	req_add_header(r, "Cache-Control: no-store");
	req_add_header(r, "X-Robots-Tag: noindex");
}

/* Sends one of pages[]; with_form adds the unsubscribe button (a POST to this same URL). */
static void send_page(request *r, enum page p, bool with_form)
{
	buf b;
	buf_init(&b, r->arena, 1024);
	buf_printf(&b,
		   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		   "<meta name=\"robots\" content=\"noindex\"><title>%s</title><style>%s</style></head>"
		   "<body><h1>%s</h1><p>%s</p>",
		   pages[p].title, page_style, pages[p].title, pages[p].text);
	/* The token is base64url (checked by mailtoken_decode): safe in an attribute as it is. */
	if (with_form)
		buf_printf(&b, "<form method=\"post\" action=\"/u/%s\"><input type=\"hidden\" name=\"confirm\" "
			       "value=\"page\"><button type=\"submit\">Unsubscribe</button></form>",
			   r->params[0]);
	buf_puts(&b, "</body></html>\n");
	no_store(r);
	req_add_header(r,
		       "Content-Security-Policy: default-src 'none'; style-src 'sha256-%s'; form-action 'self'; "
		       "frame-ancestors 'none'; base-uri 'none'",
		       style_hash(r->arena));
	req_send_typed(r, pages[p].status, "text/html; charset=utf-8", b.data, b.len);
}

/* Logs a database failure the recipient is not shown (once, with the request id). */
static void log_hidden_at(struct app *app, arena *a, const char *request_id, const char *what)
{
	buf b;
	buf_init(&b, a, 256);
	log_begin(&b, LOG_WARN);
	log_str(&b, "requestId", request_id);
	log_str(&b, "msg", what);
	log_str(&b, "db", db_error(app->db));
	log_end(&b);
}

static void log_hidden(request *r, const char *what)
{
	log_hidden_at(r->app, r->arena, r->request_id, what);
}

/* Decodes r->params[0] as a token of kind; else answers the 404 page and returns -ENOENT. */
static int token_or_404(request *r, char kind, struct mailtoken *ret)
{
	const struct config *cfg = r->app->cfg;
	const struct mailtoken_key key = { cfg->mail_token_key, cfg->mail_token_key_len };
	const char *s = r->params[0];
	if (!cfg->mail_token_key || mailtoken_decode(&key, kind, s, strlen(s), ret) < 0) {
		send_page(r, PAGE_NOT_FOUND, false);
		return -ENOENT;
	}
	return 0;
}

/*
 * The send's snapshot (text) for the token's recipient into *ret. -ENOENT
 * having answered 404 when there is no such recipient, -EIO having answered
 * 503 when the database failed.
 */
static int recipient_or_fail(request *r, const struct mailtoken *t, const char **ret)
{
	const char *p[] = { t->recipient, t->send, t->contact };
	PGresult *res;
	if (db_exec(r->app->db, r->arena, STMT_MAIL_RECIPIENT, p, &res) < 0) {
		log_hidden(r, "looking up a mail token's recipient failed");
		send_page(r, PAGE_UNAVAILABLE, false);
		return -EIO;
	}
	if (PQntuples(res) == 0) {
		send_page(r, PAGE_NOT_FOUND, false);
		return -ENOENT;
	}
	*ret = db_value(res, 0, 0);
	return 0;
}

void mail_unsubscribe_page(request *r)
{
	struct mailtoken t;
	const char *snapshot;
	if (token_or_404(r, MAILTOKEN_UNSUBSCRIBE, &t) < 0 || recipient_or_fail(r, &t, &snapshot) < 0)
		return;
	send_page(r, PAGE_CONFIRM, true);
}

void mail_unsubscribe_post(request *r)
{
	struct mailtoken t;
	if (token_or_404(r, MAILTOKEN_UNSUBSCRIBE, &t) < 0)
		return;
	/* The page's button posts confirm=page; a mail client's one-click POST carries
	 * List-Unsubscribe=One-Click (RFC 8058), some send nothing. */
	bool from_page = r->body_text && strcmp(r->body_text, "confirm=page") == 0;
	const char *p[] = { t.recipient, t.send, t.contact, from_page ? "page" : "one-click" };
	PGresult *res;
	if (db_exec(r->app->db, r->arena, STMT_MAIL_UNSUBSCRIBE, p, &res) < 0) {
		log_hidden(r, "unsubscribing failed");
		send_page(r, PAGE_UNAVAILABLE, false);
		return;
	}
	send_page(r, strcmp(db_value(res, 0, 0), "t") == 0 ? PAGE_DONE : PAGE_NOT_FOUND, false);
}

/*
 * Records an open: -ENOENT when the token's recipient row does
 * not exist; a database failure is logged, never shown (0: the recipient
 * still gets the pixel or the redirect).
 */
static int record_open(request *r, const struct mailtoken *t)
{
	const char *p[] = { t->recipient, t->send, t->contact, "open", NULL };
	PGresult *res;
	if (db_exec(r->app->db, r->arena, STMT_MAIL_EVENT, p, &res) < 0) {
		log_hidden(r, "recording an email event failed");
		return 0;
	}
	return atoi(PQcmdTuples(res)) == 1 ? 0 : -ENOENT;
}

void mail_track_open(request *r)
{
	struct mailtoken t;
	if (token_or_404(r, MAILTOKEN_OPEN, &t) < 0)
		return;
	if (record_open(r, &t) < 0) {
		send_page(r, PAGE_NOT_FOUND, false);
		return;
	}
	no_store(r);
	req_add_header(r, "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'");
	req_send_typed(r, 200, "image/gif", (const char *)pixel_gif, sizeof(pixel_gif));
}

/* A click, recorded once the redirect is out (req_after). */
struct click {
	struct mailtoken t;
	char index[16];
	const char *request_id;
};

static void record_click(struct app *app, arena *a, void *arg)
{
	struct click *c = arg;
	const char *p[] = { c->t.recipient, c->t.send, c->t.contact, "click", c->index };
	PGresult *res;
	if (db_exec(app->db, a, STMT_MAIL_EVENT, p, &res) < 0)
		log_hidden_at(app, a, c->request_id, "recording a click failed");
}

void mail_track_click(request *r)
{
	struct mailtoken t;
	const char *snapshot_text;
	if (token_or_404(r, MAILTOKEN_CLICK, &t) < 0 || recipient_or_fail(r, &t, &snapshot_text) < 0)
		return;
	json_object *snapshot;
	struct mail_item item;
	const char *html, **links;
	size_t n = 0;
	if (json_parse_trusted(r->arena, snapshot_text, &snapshot) < 0 || mail_item_from_snapshot(snapshot, &item) < 0 ||
	    mail_layout_html(r->arena, &item, &html) < 0) {
		send_page(r, PAGE_NOT_FOUND, false);
		return;
	}
	mail_links(r->arena, html, &links, &n);
	if (t.link >= n || strpbrk(links[t.link], "\r\n")) {
		send_page(r, PAGE_NOT_FOUND, false);
		return;
	}
	struct click *c = arena_alloc(r->arena, sizeof(*c));
	*c = (struct click){ .t = t, .request_id = r->request_id };
	snprintf(c->index, sizeof(c->index), "%u", t.link);
	req_after(r, record_click, c);
	no_store(r);
	req_add_header(r, "Location: %s", links[t.link]);
	req_add_header(r, "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'");
	req_send_typed(r, 302, "text/plain; charset=utf-8", "", 0);
}
