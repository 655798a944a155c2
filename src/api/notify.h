/*
 * notify.h - the notification events handlers queue when a campaign changes
 * through the API (published on the owner's channel after the response).
 *
 * data = {"kind": K, "campaignId": ..., ...}; kinds and their extra fields:
 *   content.created, content.updated   contentId, item (the stored item)
 *   content.deleted                    contentId
 *   campaign.updated, campaign.status  status, name, updatedAt
 *   campaign.deleted                   -
 */
#pragma once

#include "request.h"

/* item: the stored item's JSON text (content.created/updated), else NULL. */
void notify_content(request *r, const char *kind, const char *campaign_id, const char *content_id,
		    const char *item);
/* campaign: the campaign's JSON text as the API returns it, or NULL (deleted). */
void notify_campaign(request *r, const char *kind, const char *campaign_id, const char *campaign);
