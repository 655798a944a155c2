/* Unit tests for src/gen/terms.c: the term trie against a plain search. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tap.h"
#include "terms.h"

/* What terms_at() must find: every term matching at s, longest first, each text once (its first index). */
static size_t plain_at(const char *const *term, size_t n, const char *s, long *idx, size_t *len)
{
	size_t found = 0;
	for (size_t want = 100; want > 0; want--)
		for (size_t i = 0; i < n; i++)
			if (strlen(term[i]) == want && strncasecmp(s, term[i], want) == 0) {
				idx[found] = (long)i;
				len[found++] = want;
				break;
			}
	return found;
}

/* A short random string over a small alphabet, so that terms share prefixes and repeat. */
static void random_text(char *out, size_t max)
{
	static const char alphabet[] = "abAB -'\xC3\xA9";
	size_t n = (size_t)rand() % max;
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
	out[n] = '\0';
}

int main(void)
{
	arena *a = arena_new(1 << 16);

	const char *const words[] = { "Acme", "acme corp", "", "ACME", "best in class", "best", "é" };
	struct terms *t = terms_new(a, words, 7);
	is_int(terms_longest(t), 13, "the longest term: 13 bytes");
	is_int(terms_find(t, "acme"), 0, "a term that repeats, case-folded, keeps its first index");
	is_int(terms_find(t, "ACME CORP"), 1, "found case-folded");
	is_int(terms_find(t, "acm"), -1, "a prefix of a term is not a term");
	is_int(terms_find(t, ""), -1, "the empty term is left out");
	is_int(terms_find(t, "\xC3\xA9"), 6, "bytes above ASCII match as they are");

	long idx[16];
	size_t len[16];
	size_t k = terms_at(t, "ACME Corporation", idx, len, 16);
	ok(k == 2 && idx[0] == 1 && len[0] == 9 && idx[1] == 0 && len[1] == 4, "longest first: acme corp, then acme");
	is_int(terms_at(t, "xacme", idx, len, 16), 0, "only terms starting at the position");
	k = terms_at(t, "best in class", idx, len, 1);
	ok(k == 1 && idx[0] == 4, "with room for one, the longest");

	struct terms *none = terms_new(a, NULL, 0);
	ok(terms_at(none, "anything", idx, len, 16) == 0 && terms_find(none, "x") == -1, "an empty set finds nothing");

	/* Against the plain search: random sets of 1-40 terms, random texts, every position. */
	srand(14);
	int mismatches = 0, cases = 0;
	for (int round = 0; round < 400; round++) {
		char pool[40][12], text[64];
		const char *term[40];
		size_t n = 1 + (size_t)rand() % 40;
		for (size_t i = 0; i < n; i++) {
			random_text(pool[i], sizeof(pool[i]));
			term[i] = pool[i];
		}
		struct terms *set = terms_new(a, term, n);
		random_text(text, sizeof(text));
		for (size_t pos = 0; pos <= strlen(text); pos++) {
			long gi[16], wi[16];
			size_t gl[16], wl[16];
			size_t got = terms_at(set, text + pos, gi, gl, 16), want = plain_at(term, n, text + pos, wi, wl);
			cases++;
			if (got != want || memcmp(gi, wi, got * sizeof(*gi)) || memcmp(gl, wl, got * sizeof(*gl)))
				mismatches++;
		}
		arena_reset(a);
	}
	ok(mismatches == 0, "terms_at agrees with the plain search at %d positions (%d differ)", cases, mismatches);

	arena_free(a);
	return tap_done();
}
