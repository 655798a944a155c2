/*
 * terms.c - a case-insensitive term trie with hashed edges (see terms.h).
 */
#include "terms.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

struct terms {
	uint64_t *edge_key;  /* (node << 8 | folded byte) + 1; 0: a free slot */
	uint32_t *edge_to;   /* the node the edge leads to */
	size_t mask;         /* slots - 1, slots a power of two at least twice the edges */
	long *term;          /* per node: the index of the term ending there, or -1 */
	uint32_t nodes;
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

static uint32_t add_edge(struct terms *t, uint32_t node, char c)
{
	uint64_t key = ((uint64_t)node << 8 | fold(c)) + 1;
	size_t i = slot_of(t, key);
	while (t->edge_key[i] && t->edge_key[i] != key)
		i = (i + 1) & t->mask;
	if (!t->edge_key[i]) {
		t->edge_key[i] = key;
		t->edge_to[i] = t->nodes++;
	}
	return t->edge_to[i];
}

struct terms *terms_new(arena *a, const char *const *term, size_t n)
{
	size_t bytes = 0;
	struct terms *t = arena_zalloc(a, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(term[i]);
		bytes += len;
		if (len > t->longest)
			t->longest = len;
	}
	size_t slots = 16;
	while (slots < 2 * bytes)
		slots *= 2;
	t->mask = slots - 1;
	t->edge_key = arena_zalloc(a, slots * sizeof(*t->edge_key));
	t->edge_to = arena_alloc(a, slots * sizeof(*t->edge_to));
	t->term = arena_alloc(a, (bytes + 1) * sizeof(*t->term));
	t->nodes = 1;
	for (size_t i = 0; i <= bytes; i++)
		t->term[i] = -1;
	for (size_t i = 0; i < n; i++) {
		if (!*term[i])
			continue;
		uint32_t node = 0;
		for (const char *c = term[i]; *c; c++)
			node = add_edge(t, node, *c);
		if (t->term[node] < 0)
			t->term[node] = (long)i;
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
