/*
 * edge.h - what adcraft-api trusts about where a request came from.
 *
 * nginx adds the FastCGI parameter ADCRAFT_EDGE_SECRET (the contents of
 * edge_secret_file, written into nginx's configuration at install time or by
 * ./dev up) to every request it passes on. Any local process can connect to
 * the loopback TCP listener and send FastCGI parameters of its choosing, so a
 * request without the secret is answered 403 and nothing else it sent is
 * trusted, not even its REQUEST_ID.
 */
#pragma once

#include <stdbool.h>

#include "arena.h"
#include "config.h"

#define EDGE_SECRET_PARAM "ADCRAFT_EDGE_SECRET"

/* True when given equals cfg's edge secret; compares in constant time (for a
 * given secret length). False when either is NULL. */
bool edge_secret_ok(const struct config *cfg, const char *given);

/* given when it looks like nginx's $request_id (1-64 characters of
 * [0-9A-Za-z-]), else a fresh 32-hex-digit id allocated on a. Never NULL. */
const char *edge_request_id(arena *a, const char *given);
