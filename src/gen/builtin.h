/*
 * builtin.h - the generator that needs no LLM: deterministic, template- and
 * persona-driven copy that reads as a marketer's first draft.
 *
 * Output is a function of the brief alone (content type, platform, objective,
 * tone, persona, keywords, product, seed, variant): same brief, same copy.
 * Every item respects the platform's hard limits (platforms.h).
 */
#pragma once

#include <json-c/json.h>

#include "arena.h"
#include "brief.h"

/* Writes a new content item object (caller owns the reference) into *ret; 0 or -EINVAL. */
int builtin_generate(const struct gen_brief *b, arena *a, json_object **ret);
