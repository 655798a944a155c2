/*
 * terms.h - a set of terms matched case-insensitively (ASCII) at any
 * position of a text, in time that follows the text, not the set.
 *
 * A trie whose edges are one hash table keyed by (node, folded byte): at a
 * position the walk follows the text until no edge leads on, passing every
 * term that starts there, so one position costs at most the longest term's
 * length whatever the number of terms (a brand profile holds up to ~1,150 of
 * up to 100 bytes; trying each at each byte of a 63 KB post took seconds).
 */
#pragma once

#include <stddef.h>

#include "arena.h"

struct terms;

/*
 * A set of the n terms, owned by a. Term i keeps index i; a term that
 * equals an earlier one (case-folded) keeps the earlier's index, and an
 * empty term is left out.
 */
struct terms *terms_new(arena *a, const char *const *term, size_t n);

/* Bytes of the longest term: terms_at() never finds more terms than that. */
size_t terms_longest(const struct terms *t);

/* The index of the term equal to s (case-folded), or -1. */
long terms_find(const struct terms *t, const char *s);

/*
 * The terms that start at s, longest first: their indexes in idx[] and their
 * lengths in len[], at most max of them. Returns how many.
 */
size_t terms_at(const struct terms *t, const char *s, long *idx, size_t *len, size_t max);
