/*
 * terms.c - a case-insensitive term trie with hashed edges (see terms.h).
 */
#include "terms.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

struct terms {
	arena *a;
	uint64_t *edge_key;  /* (node << 8 | folded byte) + 1; 0: a free slot */
	uint32_t *edge_to;   /* the node the edge leads to */
	size_t mask;         /* slots - 1: a power of two, at least twice the edges */
	int32_t *term;       /* per node: the index of the term ending there, or -1 */
	uint32_t nodes, room; /* nodes made (the root is 0), and term[]'s length */
	size_t longest;      /* bytes of the longest term */
};

static uint32_t fold(char c)
{
	return (uint32_t)tolower((unsigned char)c);
}

static size_t slot_of(const struct terms *t, uint64_t key)
{
	uint64_t h = key * 0x9E3779B97F4A7C15u; /* Fibonacci hashing */
	return (size_t)(h >> 32) & t->mask;
}

/* The node the edge (node, c) leads to, or 0 (the root is never a target). */
static uint32_t step(const struct terms *t, uint32_t node, char c)
{
	uint64_t key = ((uint64_t)node << 8 | fold(c)) + 1;
	for (size_t i = slot_of(t, key);; i = (i + 1) & t->mask) {
		if (t->edge_key[i] == key)
			return t->edge_to[i];
		if (t->edge_key[i] == 0)
			return 0;
	}
}

static void put_edge(struct terms *t, uint64_t key, uint32_t to)
{
	size_t i = slot_of(t, key);
	while (t->edge_key[i])
		i = (i + 1) & t->mask;
	t->edge_key[i] = key;
	t->edge_to[i] = to;
}

/* Twice the slots, the edges moved over: tables grow with the trie's nodes, not the terms' bytes. */
static void grow_edges(struct terms *t)
{
	uint64_t *old_key = t->edge_key;
	uint32_t *old_to = t->edge_to;
	size_t old_slots = t->mask + 1, slots = 2 * old_slots;
	t->mask = slots - 1;
	t->edge_key = arena_zalloc(t->a, slots * sizeof(*t->edge_key));
	t->edge_to = arena_alloc(t->a, slots * sizeof(*t->edge_to));
	for (size_t i = 0; i < old_slots; i++)
		if (old_key[i])
			put_edge(t, old_key[i], old_to[i]);
}

static uint32_t add_edge(struct terms *t, uint32_t node, char c)
{
	uint32_t to = step(t, node, c);
	if (to)
		return to;
	if (2 * (size_t)t->nodes >= t->mask + 1)
		grow_edges(t);
	if (t->nodes == t->room) {
		int32_t *term = arena_alloc(t->a, 2 * (size_t)t->room * sizeof(*term));
		memcpy(term, t->term, t->room * sizeof(*term));
		t->term = term;
		t->room *= 2;
	}
	to = t->nodes++;
	t->term[to] = -1;
	put_edge(t, ((uint64_t)node << 8 | fold(c)) + 1, to);
	return to;
}

struct terms *terms_new(arena *a, const char *const *term, size_t n)
{
	struct terms *t = arena_zalloc(a, sizeof(*t));
	t->a = a;
	t->mask = 63;
	t->edge_key = arena_zalloc(a, (t->mask + 1) * sizeof(*t->edge_key));
	t->edge_to = arena_alloc(a, (t->mask + 1) * sizeof(*t->edge_to));
	t->room = 32;
	t->term = arena_alloc(a, t->room * sizeof(*t->term));
	t->term[0] = -1;
	t->nodes = 1;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(term[i]);
		if (len == 0 || i > INT32_MAX)
			continue;
		if (len > t->longest)
			t->longest = len;
		uint32_t node = 0;
		for (const char *c = term[i]; *c; c++)
			node = add_edge(t, node, *c);
		if (t->term[node] < 0)
			t->term[node] = (int32_t)i;
	}
	return t;
}

size_t terms_longest(const struct terms *t)
{
	return t->longest;
}

long terms_find(const struct terms *t, const char *s)
{
	uint32_t node = 0;
	for (; *s; s++)
		if (!(node = step(t, node, *s)))
			return -1;
	return t->term[node];
}

size_t terms_at(const struct terms *t, const char *s, long *idx, size_t *len, size_t max)
{
	size_t found = 0;
	uint32_t node = 0;
	for (size_t i = 0; s[i] && (node = step(t, node, s[i])); i++)
		if (t->term[node] >= 0) {
			if (found == max) { /* keep the longest: drop the shortest */
				memmove(idx, idx + 1, (max - 1) * sizeof(*idx));
				memmove(len, len + 1, (max - 1) * sizeof(*len));
				found--;
			}
			idx[found] = t->term[node];
			len[found++] = i + 1;
		}
	for (size_t i = 0; i < found / 2; i++) { /* shortest first -> longest first */
		long ti = idx[i];
		size_t tl = len[i];
		idx[i] = idx[found - 1 - i];
		len[i] = len[found - 1 - i];
		idx[found - 1 - i] = ti;
		len[found - 1 - i] = tl;
	}
	return found;
}
