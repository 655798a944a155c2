/*
 * snapshot.h - the email item a send snapshotted, as render.h's mail_item.
 *
 * A send's snapshot is the content item's JSON when the send was created
 * ({subjectLine, preheader, contentBody, callToAction, ctaUrl?, ...}). The
 * worker renders it and /t/c/ looks a click's URL up in mail_links() of its
 * layout: both must read the snapshot the same way, through this function.
 */
#pragma once

#include <json-c/json.h>

#include "render.h"

/*
 * Fills *ret from snapshot (borrowed strings, alive as long as snapshot):
 * subjectLine, preheader, contentBody, callToAction and ctaUrl (the CTA
 * button's link). -EINVAL when snapshot is not an object; missing fields are
 * NULL (mail_render refuses an item without subject or body).
 */
int mail_item_from_snapshot(json_object *snapshot, struct mail_item *ret);
