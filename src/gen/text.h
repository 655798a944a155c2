/*
 * text.h - fitting text into platform limits.
 */
#pragma once

#include <stddef.h>

#include "arena.h"

/* s cut to at most max characters at a sentence end, else at a word end with "..."; arena-owned. */
char *text_fit(arena *a, const char *s, size_t max);
