/*
 * text.h - fitting text into platform limits.
 */
#pragma once

#include <stddef.h>

#include "arena.h"

/*
 * s cut to at most max characters: at the last sentence end in reach, else
 * at a word end, dropping words a phrase cannot end on ("with", "the"), never
 * with "..." (which reads as cut). Arena-owned.
 */
char *text_fit(arena *a, const char *s, size_t max);
