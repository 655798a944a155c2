/*
 * publisher.h - the client of nginx's nchan publisher location.
 *
 * nginx listens for publishers on a unix socket only (nothing outside the
 * machine can reach it). Each process keeps one libcurl handle, so the
 * connection is reused between messages. Library code: never logs; callers
 * count and log failures.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct publisher;

/* A publisher for the socket at path (NULL or "": publishing is off). NULL on allocation failure. */
struct publisher *publisher_new(const char *path);
void publisher_free(struct publisher *p);
/* Whether a socket is configured. */
int publisher_enabled(const struct publisher *p);

/* POSTs json[0..len) to channel; 0, -ENOTCONN (no socket), -EIO (transport), -EPROTO (non-2xx). */
int publisher_post(struct publisher *p, const char *channel, const char *json, size_t len);

struct channel_info {
	long messages;		 /* buffered messages */
	int64_t last_time;	 /* time part of the newest message's id (0: none) */
	long subscribers;
};

/* GETs channel's state; 0, -ENOENT (no such channel: never published or expired), or as above. */
int publisher_info(struct publisher *p, arena *a, const char *channel, struct channel_info *ret);

/* The curl error or HTTP status of the last failure, for logs. */
const char *publisher_error(const struct publisher *p);
