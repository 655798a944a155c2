/*
 * compose.h - one recipient's complete message: tokens, render, MIME.
 *
 * What a send does per recipient (and `adcraft mail-test` once): make the
 * recipient's unsubscribe token and links, render the item for the contact
 * (with tracking when on), and build the RFC 5322 message. The sender
 * identity comes from the configuration (mail_sender_from_config) or, for a
 * send, from its snapshot.
 */
#pragma once

#include <stdbool.h>

#include "buf.h"
#include "config.h"
#include "mailtoken.h"
#include "render.h"

struct mail_sender {
	const char *from_name; /* optional */
	const char *from_email;
	const char *reply_to;		/* optional */
	const char *unsubscribe_mailto; /* optional address for List-Unsubscribe's mailto: */
	const char *base_url;		/* mail_public_base_url: /u/ and /t/ links */
	bool tracking;
	struct mailtoken_key key;
};

/* The configuration's sender (mail_from, mail_from_name, ...); borrows its strings. */
void mail_sender_from_config(const struct config *cfg, struct mail_sender *ret);

/*
 * The recipient's unsubscribe links: BASE/u/TOKEN and, with an unsubscribe
 * address, mailto:ADDR?subject=unsubscribe-TOKEN (else NULL). ids.recipient,
 * ids.send and ids.contact must be set. Arena-owned; -EINVAL on bad ids or key.
 */
int mail_unsubscribe_links(arena *a, const struct mail_sender *s, const struct mailtoken *ids,
			   const char **ret_url, const char **ret_mailto);

/*
 * Appends the whole message for contact to out and sets *ret_msgid (with
 * angle brackets, arena-owned). -EINVAL when the item, an id, an address or
 * a field is refused (out must then be discarded).
 */
int mail_compose(arena *a, const struct mail_sender *s, const struct mail_item *item,
		 const struct mail_contact *contact, const struct mailtoken *ids, buf *out, const char **ret_msgid);
