/*
 * events.h - adcraft's real-time events, published to nchan channels.
 *
 * Every message is one JSON object
 *   {"type", "seq", "at", "channel", "userId", "campaignId", "jobId", "data"}
 * on one of two channels: user.<id> (the owner's: job:* and notification)
 * or campaign.<id> (campaign:generation:* and content:generation:*), or both
 * (abtest:completed); the type decides which (the table in events.c). seq increases by one per
 * channel and is kept in PostgreSQL (event_channels), so it survives nginx
 * restarts: a client that sees seq jump knows it missed something.
 *
 * Publishing holds the channel's row lock from taking the number until nginx
 * has the message, so a channel's messages reach nginx in seq order whichever
 * process sends them. A failed publish is retried once; it never fails the
 * caller's work. The number stays used, so subscribers see the gap.
 */
#pragma once

#include <stdbool.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "publisher.h"

/* How long nginx keeps a channel's messages (nchan_message_timeout 10m on the
 * publisher location in nginx/; keep the two equal). */
#define EVENTS_BUFFER_SECONDS 600

struct event {
	const char *type;	 /* one of the types in events.c's table */
	const char *user_id;	 /* the owner (always) */
	const char *campaign_id; /* NULL when none (required for campaign-channel types) */
	const char *job_id;	 /* NULL when none */
	const char *data;	 /* a JSON object's text; NULL: {} */
};

struct events {
	struct publisher *pub;
	long published;
	long failed;		/* publishes that failed after the retry */
	char error[256];	/* why the last one failed */
};

/* Sets ev up for cfg's events_publish_socket (empty: events are off). -ENOMEM on failure. */
int events_init(struct events *ev, const struct config *cfg);
void events_close(struct events *ev);
bool events_enabled(const struct events *ev);

/* The channel an event type goes to ("user", "campaign", or "both": the owner's and the
 * campaign's, as two messages); NULL for an unknown type. */
const char *events_scope(const char *type);

/*
 * Publishes e: 0 when published (or events are off); -EINVAL for an unknown
 * type or a missing id; -EIO when the number could not be taken or nginx did
 * not take the message twice (ev->error says why; ev->failed counts it).
 */
int events_publish(struct events *ev, db *d, arena *a, const struct event *e);
