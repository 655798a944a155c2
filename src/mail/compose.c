/*
 * compose.c - tokens + mail_render() + mime_build() for one recipient
 * (contract in compose.h).
 */
#include "compose.h"

#include <errno.h>
#include <string.h>

#include "mime.h"

void mail_sender_from_config(const struct config *cfg, struct mail_sender *ret)
{
	*ret = (struct mail_sender){
		.from_name = cfg->mail_from_name,
		.from_email = cfg->mail_from,
		.reply_to = cfg->mail_reply_to,
		.unsubscribe_mailto = cfg->mail_unsubscribe_mailto,
		.base_url = cfg->mail_public_base_url,
		.tracking = cfg->mail_tracking != 0,
		.key = { cfg->mail_token_key, cfg->mail_token_key_len },
	};
}

int mail_unsubscribe_links(arena *a, const struct mail_sender *s, const struct mailtoken *ids,
			   const char **ret_url, const char **ret_mailto)
{
	struct mailtoken u = *ids;
	u.kind = MAILTOKEN_UNSUBSCRIBE;
	u.link = 0;
	char token[MAILTOKEN_MAX_LEN + 1];
	int r = mailtoken_encode(&s->key, &u, token);
	if (r < 0)
		return r;
	*ret_url = arena_printf(a, "%s/u/%s", s->base_url, token);
	*ret_mailto = s->unsubscribe_mailto && *s->unsubscribe_mailto ?
			      arena_printf(a, "mailto:%s?subject=unsubscribe-%s", s->unsubscribe_mailto, token) : NULL;
	return 0;
}

int mail_compose(arena *a, const struct mail_sender *s, const struct mail_item *item,
		 const struct mail_contact *contact, const struct mailtoken *ids, buf *out, const char **ret_msgid)
{
	const char *at = s->from_email ? strrchr(s->from_email, '@') : NULL;
	if (!at || !s->base_url)
		return -EINVAL;
	const char *url, *mailto;
	int r = mail_unsubscribe_links(a, s, ids, &url, &mailto);
	if (r < 0)
		return r;
	struct mail_tracking t = { s->base_url, &s->key, *ids };
	struct mail_rendered m;
	if ((r = mail_render(a, item, contact, url, s->tracking ? &t : NULL, &m)) < 0)
		return r;
	struct mime_message msg = {
		.from_name = s->from_name, .from_email = s->from_email, .reply_to = s->reply_to,
		.to_email = contact->email, .subject = m.subject, .text = m.text, .html = m.html,
		.msgid_domain = at + 1, .unsubscribe_url = url, .unsubscribe_mailto = mailto,
	};
	return mime_build(a, &msg, out, ret_msgid);
}
