/*
 * brand.c - holding content items to a brand voice profile (see brand.h).
 *
 * Terms are matched byte-wise with ASCII case folding; a term's edge that is
 * a word character (letter, digit, _ or any non-ASCII byte) must meet a
 * non-word character in the text, so "Acme" matches "Acme's" and "ACME," but
 * not "Acmeware". One pass per field applies every rule, longest term first,
 * so a replacement is never matched again.
 */
#include "brand.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "content.h"
#include "json.h"
#include "platforms.h"
#include "terms.h"
#include "text.h"

const char *const brand_emoji_names[] = { "none", "sparing", "free", NULL };

/* brand_profile.cache: the rules (below) built once, in the arena the profile lives in. */
struct brand_rules_cache {
	arena *a;
	const struct rules *rules;
};

/* ---- parsing ---------------------------------------------------------------- */

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static long int_of(json_object *o, const char *key, long fallback)
{
	json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
		       ? (long)json_object_get_int64(v)
		       : fallback;
}

/* The non-empty strings of o[key] as a C array on the arena. */
static const char *const *strings_of(arena *a, json_object *o, const char *key, size_t *n)
{
	json_object *v;
	*n = 0;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	size_t len = json_object_array_length(v);
	const char **out = arena_alloc(a, (len + 1) * sizeof(*out));
	for (size_t i = 0; i < len; i++) {
		json_object *s = json_object_array_get_idx(v, i);
		if (json_object_is_type(s, json_type_string) && *json_object_get_string(s))
			out[(*n)++] = json_object_get_string(s);
	}
	out[*n] = NULL;
	return out;
}

int brand_profile_parse(arena *a, json_object *o, struct brand_profile *ret)
{
	if (!o || !json_object_is_type(o, json_type_object))
		return -EINVAL;
	struct brand_profile p = {
		.id = str_of(o, "id"),
		.version = int_of(o, "version", 1),
		.name = str_of(o, "name"),
		.voice = str_of(o, "voice"),
		.formality = (int)int_of(o, "formality", 3),
		.emoji = BRAND_EMOJI_SPARING,
	};
	const char *emoji = str_of(o, "emojiPolicy");
	for (int i = 0; emoji && brand_emoji_names[i]; i++)
		if (strcmp(emoji, brand_emoji_names[i]) == 0)
			p.emoji = (enum brand_emoji)i;
	p.max_grade = (int)int_of(json_object_object_get(o, "readingLevel"), "maxGrade", 0);
	p.forbidden = strings_of(a, o, "forbiddenTerms", &p.nforbidden);
	p.competitors = strings_of(a, o, "competitors", &p.ncompetitors);
	p.examples = strings_of(a, o, "examples", &p.nexamples);

	json_object *list = json_object_object_get(o, "preferredTerms");
	size_t n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	struct brand_term *terms = arena_zalloc(a, (n + 1) * sizeof(*terms));
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(list, i);
		const char *term = str_of(t, "term");
		if (!term || !*term)
			continue;
		terms[p.npreferred].term = term;
		terms[p.npreferred].replaces = strings_of(a, t, "replaces", &terms[p.npreferred].nreplaces);
		p.npreferred++;
	}
	p.preferred = terms;

	list = json_object_object_get(o, "requiredDisclaimers");
	n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	struct brand_disclaimer *ds = arena_zalloc(a, (n + 1) * sizeof(*ds));
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		const char *text = str_of(d, "text");
		if (!text || !*text)
			continue;
		ds[p.ndisclaimers].text = text;
		ds[p.ndisclaimers].content_types = strings_of(a, d, "contentTypes", &ds[p.ndisclaimers].ncontent_types);
		ds[p.ndisclaimers].platforms = strings_of(a, d, "platforms", &ds[p.ndisclaimers].nplatforms);
		p.ndisclaimers++;
	}
	p.disclaimers = ds;
	p.cache = arena_zalloc(a, sizeof(*p.cache));
	p.cache->a = a;
	*ret = p;
	return 0;
}

static bool listed(const char *const *list, size_t n, const char *s)
{
	if (n == 0)
		return true;
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

bool brand_disclaimer_applies(const struct brand_disclaimer *d, const char *content_type, const char *platform)
{
	return listed(d->content_types, d->ncontent_types, content_type) && listed(d->platforms, d->nplatforms, platform);
}

/* ---- findings ---------------------------------------------------------------- */

void brand_report_init(struct brand_report *r, const struct brand_profile *p)
{
	memset(r, 0, sizeof(*r));
	r->profile = p;
	r->tail = &r->head;
}

static void note_n(arena *a, struct brand_report *r, enum brand_kind kind, enum brand_action action,
		   const char *term, const char *field, const char *with, int count)
{
	for (struct brand_finding *f = r->head; f; f = f->next)
		if (f->kind == kind && f->action == action && f->term == term && strcmp(f->field, field) == 0) {
			f->count += count;
			return;
		}
	struct brand_finding *f = arena_zalloc(a, sizeof(*f));
	*f = (struct brand_finding){ kind, action, term, field, with, count, NULL };
	*r->tail = f;
	r->tail = &f->next;
}

static void note(arena *a, struct brand_report *r, enum brand_kind kind, enum brand_action action, const char *term,
		 const char *field, const char *with)
{
	note_n(a, r, kind, action, term, field, with, 1);
}

static int count_findings(const struct brand_report *r)
{
	int n = 0;
	for (const struct brand_finding *f = r->head; f; f = f->next)
		n++;
	return n;
}

const char *brand_finding_message(arena *a, const struct brand_finding *f)
{
	switch (f->kind) {
	case BRAND_FORBIDDEN:
		return arena_printf(a, "uses \"%s\", a term the brand profile forbids", f->term);
	case BRAND_COMPETITOR:
		return arena_printf(a, "names the competitor \"%s\", which the brand profile forbids", f->term);
	case BRAND_PREFERRED:
		return arena_printf(a, "uses \"%s\"; the brand profile says \"%s\" instead", f->term, f->with);
	case BRAND_DISCLAIMER:
		return arena_printf(a, "lacks the required disclaimer \"%s\"", f->term);
	case BRAND_EMOJI:
		return f->with ? arena_printf(a, "has emoji; the brand profile allows %s", f->with)
			       : "has emoji; the brand profile allows none";
	}
	return "breaks the brand profile";
}

/* ---- matching and rewriting ------------------------------------------------- */

static bool word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/*
 * Whether a term of n bytes that matches s at pos (case-folded) stands there
 * as words: an edge of it that is a word byte meets no word byte beside it
 * (folding keeps a byte a word byte or not, so the text's edge is the term's).
 */
static bool whole_words(const char *s, size_t pos, size_t n)
{
	if (pos > 0 && word_byte((unsigned char)s[pos - 1]) && word_byte((unsigned char)s[pos]))
		return false;
	return !(word_byte((unsigned char)s[pos + n]) && word_byte((unsigned char)s[pos + n - 1]));
}

struct rule {
	const char *from;	/* as the profile spells it */
	const char *to;		/* NULL: remove */
	enum brand_kind kind;
};

/*
 * A profile's rules and the set of their terms (rule i is term i), which
 * finds the rules matching at a position longest first. Rules whose terms
 * fold to the same text are one rule: the first (forbidden, then
 * competitors, then preferred).
 */
struct rules {
	struct rule *rule;
	size_t n;
	struct terms *set;
	long *idx;		/* terms_at()'s room, terms_longest() each */
	size_t *len;
};

static bool banned(const struct brand_profile *p, const char *word)
{
	for (size_t i = 0; i < p->nforbidden; i++)
		if (strcasecmp(p->forbidden[i], word) == 0)
			return true;
	for (size_t i = 0; i < p->ncompetitors; i++)
		if (strcasecmp(p->competitors[i], word) == 0)
			return true;
	return false;
}

/*
 * The preferred term that replaces word, or NULL. A preferred term that is
 * itself forbidden (the API refuses such a profile, but a later PATCH of
 * one list can make it so) never replaces anything.
 */
static const char *preferred_for(const struct brand_profile *p, const char *word)
{
	for (size_t i = 0; i < p->npreferred; i++)
		for (size_t j = 0; j < p->preferred[i].nreplaces; j++)
			if (strcasecmp(p->preferred[i].replaces[j], word) == 0 && !banned(p, p->preferred[i].term))
				return p->preferred[i].term;
	return NULL;
}

/* Every rule of p and their term set. */
static struct rules *rules_of(arena *a, const struct brand_profile *p)
{
	size_t cap = p->nforbidden + p->ncompetitors;
	for (size_t i = 0; i < p->npreferred; i++)
		cap += p->preferred[i].nreplaces;
	struct rules *rs = arena_zalloc(a, sizeof(*rs));
	struct rule *r = rs->rule = arena_zalloc(a, (cap + 1) * sizeof(*r));
	for (size_t i = 0; i < p->nforbidden; i++)
		r[rs->n++] = (struct rule){ p->forbidden[i], preferred_for(p, p->forbidden[i]), BRAND_FORBIDDEN };
	for (size_t i = 0; i < p->ncompetitors; i++)
		r[rs->n++] = (struct rule){ p->competitors[i], preferred_for(p, p->competitors[i]), BRAND_COMPETITOR };
	for (size_t i = 0; i < p->npreferred; i++)
		for (size_t j = 0; j < p->preferred[i].nreplaces; j++) {
			const char *w = p->preferred[i].replaces[j];
			if (strcasecmp(w, p->preferred[i].term) != 0 && !banned(p, p->preferred[i].term))
				r[rs->n++] = (struct rule){ w, p->preferred[i].term, BRAND_PREFERRED };
		}
	const char **terms = arena_alloc(a, (rs->n + 1) * sizeof(*terms));
	for (size_t i = 0; i < rs->n; i++)
		terms[i] = r[i].from;
	rs->set = terms_new(a, terms, rs->n);
	size_t longest = terms_longest(rs->set) + 1;
	rs->idx = arena_alloc(a, longest * sizeof(*rs->idx));
	rs->len = arena_alloc(a, longest * sizeof(*rs->len));
	return rs;
}

/* p's rules: built once in the profile's arena when brand_profile_parse made it, else in a. */
static const struct rules *rules_for(arena *a, const struct brand_profile *p)
{
	if (!p->cache)
		return rules_of(a, p);
	if (!p->cache->rules)
		p->cache->rules = rules_of(p->cache->a, p);
	return p->cache->rules;
}

/* The rule matching at s[pos] as whole words, longest first, and its length in *m; NULL if none. */
static const struct rule *rule_at(const struct rules *rs, const char *s, size_t pos, size_t *m)
{
	size_t k = terms_at(rs->set, s + pos, rs->idx, rs->len, terms_longest(rs->set) + 1);
	for (size_t i = 0; i < k; i++)
		if (whole_words(s, pos, rs->len[i])) {
			*m = rs->len[i];
			return &rs->rule[rs->idx[i]];
		}
	return NULL;
}

/* o ends a sentence (or is empty), blanks aside: its last other byte, at ink - 1 (0: none), is . ! ? or a newline. */
static bool sentence_start(const buf *o, size_t ink)
{
	return ink == 0 || strchr(".!?\n", o->data[ink - 1]);
}

/* Where o's last byte that is not a space ends, after bytes appended from the old end at. */
static size_t ink_after(const buf *o, size_t at, size_t ink)
{
	for (size_t i = o->len; i > at; i--)
		if (o->data[i - 1] != ' ')
			return i;
	return ink;
}

/*
 * Removes spaces left doubled, before punctuation or at the ends, commas and
 * colons left dangling, and empty brackets: what a removed word leaves.
 */
static const char *tidy(arena *a, const char *s)
{
	buf o;
	buf_init(&o, a, strlen(s) + 1);
	const char *q = s; /* the first byte after p that is not a blank: it only moves on */
	for (const char *p = s; *p; p++) {
		char last = o.len ? o.data[o.len - 1] : '\n';
		if (q <= p)
			for (q = p + 1; *q == ' ' || *q == '\t';)
				q++;
		if (*p == ' ' || *p == '\t') {
			if (last == ' ' || last == '\n' || last == '(' || !*q || strchr(",.;:!?)\n", *q))
				continue;
		} else if (*p == ',' || *p == ';' || *p == ':') {
			if (last == '\n' || strchr(",;:(", last) || !*q || strchr(".!?,;:)", *q))
				continue;
		} else if (*p == ')' && last == '(') {
			o.len--;
			continue;
		} else if (*p == '\n') {
			while (o.len && o.data[o.len - 1] == ' ')
				o.len--;
		}
		buf_putc(&o, *p);
	}
	while (o.len && (o.data[o.len - 1] == ' ' || o.data[o.len - 1] == '\n'))
		o.len--;
	return buf_cstr(&o);
}

/*
 * Applies rules to s (fix) or only notes them. Returns the new text (s
 * itself when nothing changed).
 */
static const char *rewrite(arena *a, const char *s, const struct rules *rs, const char *field, bool fix,
			   struct brand_report *rep)
{
	buf o;
	buf_init(&o, a, strlen(s) + 16);
	bool changed = false, removed = false, capitalise = false;
	size_t ink = 0; /* o's last byte that is not a space ends here (0: none) */
	for (size_t pos = 0; s[pos];) {
		size_t m = 0, at = o.len;
		const struct rule *r = rule_at(rs, s, pos, &m);
		if (!r) {
			char c = s[pos++];
			if (capitalise && isalpha((unsigned char)c)) {
				c = (char)toupper((unsigned char)c);
				capitalise = false;
			} else if (capitalise && c != ' ')
				capitalise = false;
			buf_putc(&o, c);
			ink = c == ' ' ? ink : o.len;
			continue;
		}
		note(a, rep, r->kind, fix ? (r->to ? BRAND_REPLACED : BRAND_REMOVED) : BRAND_FOUND, r->from, field, r->to);
		if (!fix) {
			buf_putn(&o, s + pos, m);
			ink = ink_after(&o, at, ink);
			pos += m;
			continue;
		}
		changed = true;
		if (r->to) {
			buf_puts(&o, r->to);
			ink = ink_after(&o, at, ink);
			if ((capitalise || isupper((unsigned char)s[pos])) && islower((unsigned char)o.data[at]))
				o.data[at] = (char)toupper((unsigned char)o.data[at]);
			capitalise = false;
			pos += m;
			continue;
		}
		removed = true;
		capitalise = sentence_start(&o, ink) && isupper((unsigned char)s[pos]);
		pos += m;
		if (s[pos] == '\'' && s[pos + 1] == 's' && !word_byte((unsigned char)s[pos + 2]))
			pos += 2; /* "Acme's" goes whole */
		else if (strncmp(s + pos, "\xE2\x80\x99s", 4) == 0 && !word_byte((unsigned char)s[pos + 4]))
			pos += 4;
		if (s[pos] == ',' && !sentence_start(&o, ink))
			pos++; /* "a cheap, fast plan" -> "a fast plan" */
	}
	if (!changed)
		return s;
	const char *out = buf_cstr(&o);
	return removed ? tidy(a, out) : out;
}

/* ---- emoji ---------------------------------------------------------------------- */

/* The code point at p (bytes in *len); malformed bytes count as one U+FFFD. */
static uint32_t decode(const unsigned char *p, size_t *len)
{
	if (p[0] < 0x80) {
		*len = 1;
		return p[0];
	}
	size_t n = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 1;
	uint32_t c = n == 2 ? p[0] & 0x1F : n == 3 ? p[0] & 0x0F : p[0] & 0x07;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*len = 1;
			return 0xFFFD;
		}
		c = (c << 6) | (p[i] & 0x3F);
	}
	*len = n;
	return n == 1 ? 0xFFFD : c;
}

static bool is_emoji(uint32_t c)
{
	return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) || (c >= 0x2B00 && c <= 0x2BFF) ||
	       c == 0x203C || c == 0x2049 || (c >= 0x2194 && c <= 0x21AA) || (c >= 0x231A && c <= 0x23FF);
}

/* Joins an emoji sequence: ZWJ, variation selectors, skin tones, keycap, tags. */
static bool is_emoji_part(uint32_t c)
{
	return c == 0x200D || c == 0xFE0F || c == 0xFE0E || (c >= 0x1F3FB && c <= 0x1F3FF) || c == 0x20E3 ||
	       (c >= 0xE0020 && c <= 0xE007F);
}

/*
 * Keeps the first *budget emoji of s (a sequence counts once) and drops the
 * rest, lowering *budget; *dropped counts those over it. Returns s when
 * nothing was dropped.
 */
static const char *emoji_filter(arena *a, const char *s, int *budget, int *dropped)
{
	buf o;
	buf_init(&o, a, strlen(s) + 1);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t len;
		uint32_t c = decode(p, &len);
		if (!is_emoji(c)) {
			buf_putn(&o, (const char *)p, len);
			p += len;
			continue;
		}
		const unsigned char *start = p;
		p += len;
		for (;;) { /* the rest of the sequence */
			uint32_t next = decode(p, &len);
			if (!*p || !is_emoji_part(next))
				break;
			p += len;
			if (next == 0x200D && *p && is_emoji(decode(p, &len)))
				p += len;
		}
		if (*budget > 0) {
			(*budget)--;
			buf_putn(&o, (const char *)start, (size_t)(p - start));
		} else
			(*dropped)++;
	}
	return *dropped ? tidy(a, buf_cstr(&o)) : s;
}

static int emoji_allowed(const struct brand_profile *p)
{
	return p->emoji == BRAND_EMOJI_NONE ? 0 : p->emoji == BRAND_EMOJI_SPARING ? BRAND_EMOJI_SPARING_MAX : 1 << 30;
}

/* ---- the item --------------------------------------------------------------- */

/* Text fields in the order they are read, with the hard limit of each. */
struct field {
	const char *name;
	bool list;
	size_t max;
};

static size_t fields_of(const struct platform_rule *rule, struct field out[6])
{
	size_t n = 0;
	out[n++] = (struct field){ "subjectLine", false, SUBJECT_MAX };
	out[n++] = (struct field){ "preheader", false, PREHEADER_MAX };
	out[n++] = (struct field){ "contentBody", false, rule ? (size_t)rule->body_max : PLATFORM_BODY_MAX };
	out[n++] = (struct field){ "callToAction", false, CTA_MAX };
	out[n++] = (struct field){ "headlines", true, rule && rule->headline_max ? (size_t)rule->headline_max : AD_HEADLINE_MAX };
	out[n++] = (struct field){ "descriptions", true,
				   rule && rule->description_max ? (size_t)rule->description_max : AD_DESCRIPTION_MAX };
	return n;
}

static size_t chars(const char *s)
{
	return utf8_length(s, strlen(s));
}

/* Case-insensitive (ASCII) substring test, in time linear in both (glibc's two-way strcasestr). */
static bool contains(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle);
}

/* from equals word, case-folded, with from's spaces left out. */
static bool equal_unspaced(const char *from, const char *word)
{
	for (;; from++) {
		while (*from == ' ')
			from++;
		if (tolower((unsigned char)*from) != tolower((unsigned char)*word))
			return false;
		if (!*from)
			return true;
		word++;
	}
}

/*
 * Hashtags: a tag that is a forbidden word (spaces ignored) is replaced or
 * dropped; of the rules a tag equals, the longest, then the first.
 */
static void hashtags(arena *a, json_object *item, const struct rules *rs, bool fix, struct brand_report *rep)
{
	json_object *tags = json_object_object_get(item, "hashtags");
	if (!tags || !json_object_is_type(tags, json_type_array))
		return;
	json_object *kept = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(tags); i++) {
		json_object *t = json_object_array_get_idx(tags, i);
		const char *tag = json_object_get_string(t);
		const char *word = tag && *tag == '#' ? tag + 1 : tag ? tag : "";
		const struct rule *hit = NULL;
		for (size_t r = 0; r < rs->n; r++)
			if (equal_unspaced(rs->rule[r].from, word) &&
			    (!hit || strlen(rs->rule[r].from) > strlen(hit->from)))
				hit = &rs->rule[r];
		if (!hit || !fix) {
			if (hit)
				note(a, rep, hit->kind, BRAND_FOUND, hit->from, "hashtags", hit->to);
			json_object_array_add(kept, json_object_get(t));
			continue;
		}
		note(a, rep, hit->kind, hit->to ? BRAND_REPLACED : BRAND_REMOVED, hit->from, "hashtags", hit->to);
		if (hit->to) {
			buf b;
			buf_init(&b, a, strlen(hit->to) + 2);
			buf_putc(&b, '#');
			for (const char *c = hit->to; *c; c++)
				if (word_byte((unsigned char)*c))
					buf_putc(&b, *c);
			json_object_array_add(kept, json_object_new_string(buf_cstr(&b)));
		}
	}
	if (fix)
		json_object_object_add(item, "hashtags", kept);
	else
		json_object_put(kept);
}

/* Terms and emoji over every text field; with fix, fields are rewritten and cut back to their limits. */
static void scan_text(arena *a, const struct brand_profile *p, json_object *item, bool fix, struct brand_report *rep)
{
	const struct rules *rules = rules_for(a, p);
	struct field fields[6];
	size_t nfields = fields_of(platform_find(str_of(item, "platform")), fields);
	int budget = emoji_allowed(p);
	const char *allowed = p->emoji == BRAND_EMOJI_SPARING ? "at most 2" : NULL;
	for (size_t f = 0; f < nfields; f++) {
		json_object *v = json_object_object_get(item, fields[f].name);
		size_t n = fields[f].list ? (v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0)
					  : (v && json_object_is_type(v, json_type_string) ? 1 : 0);
		for (size_t i = 0; i < n; i++) {
			const char *s = json_object_get_string(fields[f].list ? json_object_array_get_idx(v, i) : v);
			const char *out = rewrite(a, s, rules, fields[f].name, fix, rep);
			int dropped = 0;
			out = emoji_filter(a, out, &budget, &dropped);
			if (dropped)
				note_n(a, rep, BRAND_EMOJI, fix ? BRAND_REMOVED : BRAND_FOUND, NULL, fields[f].name, allowed,
				       dropped);
			if (!fix || out == s)
				continue;
			if (chars(out) > fields[f].max)
				out = text_fit(a, out, fields[f].max);
			json_object *nv = json_object_new_string(out);
			if (fields[f].list)
				json_object_array_put_idx(v, i, nv);
			else
				json_object_object_add(item, fields[f].name, nv);
		}
	}
	hashtags(a, item, rules, fix, rep);
}

/* Search ads: the title and body are the first headline and description. */
static void sync_search_ad(json_object *item, const struct platform_rule *rule)
{
	if (!rule || !rule->headlines_max)
		return;
	json_object *h = json_object_object_get(item, "headlines"), *d = json_object_object_get(item, "descriptions");
	if (h && json_object_is_type(h, json_type_array) && json_object_array_length(h))
		json_object_object_add(item, "subjectLine", json_object_get(json_object_array_get_idx(h, 0)));
	if (d && json_object_is_type(d, json_type_array) && json_object_array_length(d))
		json_object_object_add(item, "contentBody", json_object_get(json_object_array_get_idx(d, 0)));
}

/* A search ad carries the disclaimer in a description (the first, so it is also the body). */
static int disclaim_search_ad(arena *a, json_object *item, const struct platform_rule *rule, const char *text,
			      struct brand_report *rep)
{
	json_object *d = json_object_object_get(item, "descriptions");
	size_t n = d && json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
	for (size_t i = 0; i < n; i++)
		if (contains(json_object_get_string(json_object_array_get_idx(d, i)), text))
			return 0;
	size_t max = (size_t)rule->description_max;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(d, i));
		if (chars(s) + 1 + chars(text) > max)
			continue;
		json_object *with = json_object_new_string(arena_printf(a, "%s %s", s, text));
		json_object *first = json_object_get(json_object_array_get_idx(d, 0));
		json_object_array_put_idx(d, 0, with);
		if (i)
			json_object_array_put_idx(d, i, first);
		else
			json_object_put(first);
		note(a, rep, BRAND_DISCLAIMER, BRAND_ADDED, text, "descriptions", NULL);
		return 0;
	}
	rep->error = arena_printf(a, "the disclaimer \"%s\" (%zu characters) does not fit in any description of this "
				     "%s ad (at most %zu characters each)", text, chars(text), rule->name, max);
	return -EMSGSIZE;
}

static int disclaim_body(arena *a, json_object *item, const struct platform_rule *rule, const char *text,
			 struct brand_report *rep)
{
	const char *body = str_of(item, "contentBody");
	body = body ? body : "";
	if (contains(body, text))
		return 0;
	size_t max = rule ? (size_t)rule->body_max : PLATFORM_BODY_MAX, need = chars(text) + 2;
	if (need + BRAND_MIN_COPY > max) {
		rep->error = arena_printf(a, "the disclaimer \"%s\" (%zu characters) leaves no room for copy on %s "
					     "(at most %zu characters)", text, chars(text), rule ? rule->name : "?", max);
		return -EMSGSIZE;
	}
	if (chars(body) + need > max) {
		body = text_fit(a, body, max - need);
		rep->shortened = true;
	}
	json_object_object_add(item, "contentBody",
			       json_object_new_string(*body ? arena_printf(a, "%s\n\n%s", body, text) : text));
	note(a, rep, BRAND_DISCLAIMER, BRAND_ADDED, text, "contentBody", NULL);
	return 0;
}

int brand_enforce(arena *a, const struct brand_profile *p, json_object *item, struct brand_report *rep)
{
	const char *type = str_of(item, "contentType"), *platform = str_of(item, "platform");
	const struct platform_rule *rule = platform_find(platform);
	scan_text(a, p, item, true, rep);
	sync_search_ad(item, rule);
	for (size_t i = 0; i < p->ndisclaimers; i++) {
		const struct brand_disclaimer *d = &p->disclaimers[i];
		if (!brand_disclaimer_applies(d, type, platform))
			continue;
		rep->disclaimers++;
		int rc = rule && rule->headlines_max ? disclaim_search_ad(a, item, rule, d->text, rep)
						     : disclaim_body(a, item, rule, d->text, rep);
		if (rc < 0)
			return rc;
	}
	sync_search_ad(item, rule);
	return 0;
}

int brand_check(arena *a, const struct brand_profile *p, json_object *item, struct brand_report *rep)
{
	const char *type = str_of(item, "contentType"), *platform = str_of(item, "platform");
	const struct platform_rule *rule = platform_find(platform);
	scan_text(a, p, item, false, rep);
	for (size_t i = 0; i < p->ndisclaimers; i++) {
		const struct brand_disclaimer *d = &p->disclaimers[i];
		if (!brand_disclaimer_applies(d, type, platform))
			continue;
		rep->disclaimers++;
		bool present = contains(str_of(item, "contentBody"), d->text);
		json_object *ds = json_object_object_get(item, "descriptions");
		for (size_t k = 0; !present && rule && rule->headlines_max && ds && json_object_is_type(ds, json_type_array) &&
				   k < json_object_array_length(ds); k++)
			present = contains(json_object_get_string(json_object_array_get_idx(ds, k)), d->text);
		if (!present)
			note(a, rep, BRAND_DISCLAIMER, BRAND_FOUND, d->text, "contentBody", NULL);
	}
	return count_findings(rep);
}

int brand_forbidden_errors(arena *a, const struct brand_profile *p, json_object *item, struct verrors *errs)
{
	struct brand_report rep;
	brand_report_init(&rep, p);
	scan_text(a, p, item, false, &rep);
	int added = 0;
	for (const struct brand_finding *f = rep.head; f; f = f->next)
		if (f->kind == BRAND_FORBIDDEN || f->kind == BRAND_COMPETITOR) {
			verrors_add(errs, f->field, "%s", brand_finding_message(a, f));
			added++;
		}
	return added;
}

/* ---- recording ---------------------------------------------------------------- */

static const char *const kind_names[] = { "forbiddenTerm", "competitor", "preferredTerm", "disclaimer", "emoji" };
static const char *const action_names[] = { "found", "replaced", "removed", "added" };

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *brand_fit_json(const struct brand_report *rep)
{
	const struct brand_profile *p = rep->profile;
	json_object *o = json_object_new_object();
	bool violated = rep->violations_allowed && rep->head;
	int fixed = 0;
	json_object *found = json_object_new_array();
	for (const struct brand_finding *f = rep->head; f; f = f->next) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "kind", json_object_new_string(kind_names[f->kind]));
		json_object_object_add(x, "term", jstr(f->term));
		json_object_object_add(x, "field", json_object_new_string(f->field));
		json_object_object_add(x, "action", json_object_new_string(action_names[f->action]));
		if (f->with && f->action == BRAND_REPLACED)
			json_object_object_add(x, "with", json_object_new_string(f->with));
		json_object_object_add(x, "count", json_object_new_int(f->count));
		json_object_array_add(found, x);
		fixed += f->action != BRAND_FOUND;
	}
	json_object_object_add(o, "score", json_object_new_int(violated ? 0 : 100));
	json_object_object_add(o, "weight", json_object_new_int(0));
	const char *note = violated ? "stored with brand violations (allowBrandViolations)"
			 : rep->error ? rep->error
			 : fixed ? (rep->llm_repair ? "brand rules enforced after one LLM rewrite" : "brand rules enforced")
				 : "follows the brand profile";
	json_object_object_add(o, "note", json_object_new_string(note));
	json_object_object_add(o, "profileId", jstr(p->id));
	json_object_object_add(o, "profileVersion", json_object_new_int64(p->version));
	json_object *checked = json_object_new_object();
	json_object_object_add(checked, "forbiddenTerms", json_object_new_int((int)p->nforbidden));
	json_object_object_add(checked, "competitors", json_object_new_int((int)p->ncompetitors));
	json_object_object_add(checked, "preferredTerms", json_object_new_int((int)p->npreferred));
	json_object_object_add(checked, "disclaimers", json_object_new_int(rep->disclaimers));
	json_object_object_add(checked, "emojiPolicy", json_object_new_string(brand_emoji_names[p->emoji]));
	json_object_object_add(checked, "readingMaxGrade", p->max_grade ? json_object_new_int(p->max_grade) : NULL);
	json_object_object_add(o, "checked", checked);
	json_object_object_add(o, "found", found);
	json_object_object_add(o, "llmRepair", json_object_new_boolean(rep->llm_repair));
	json_object_object_add(o, "shortenedForDisclaimer", json_object_new_boolean(rep->shortened));
	json_object_object_add(o, "violations", json_object_new_boolean(violated));
	return o;
}

const char *brand_annotate(arena *a, json_object *item, const struct brand_report *rep)
{
	json_object *breakdown = json_object_object_get(item, "qualityBreakdown");
	if (breakdown && json_object_is_type(breakdown, json_type_object))
		json_object_object_add(breakdown, "brandFit", brand_fit_json(rep));
	json_object *m = json_object_object_get(item, "metadata");
	if (!m || !json_object_is_type(m, json_type_object)) {
		m = json_object_new_object();
		json_object_object_add(item, "metadata", m);
	}
	json_object_object_add(m, "brandProfileId", jstr(rep->profile->id));
	json_object_object_add(m, "brandProfileVersion", json_object_new_int64(rep->profile->version));
	json_object *score = json_object_object_get(item, "qualityScore");
	if (rep->violations_allowed && rep->head && score && json_object_get_int(score) > BRAND_VIOLATION_SCORE_CAP)
		json_object_object_add(item, "qualityScore", json_object_new_int(BRAND_VIOLATION_SCORE_CAP));
	return arena_strdup(a, json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN));
}

void brand_score_context(const struct brand_profile *p, struct content_context *ctx)
{
	static const enum quality_emoji_policy policy[] = {
		[BRAND_EMOJI_NONE] = EMOJI_NONE, [BRAND_EMOJI_SPARING] = EMOJI_SPARING, [BRAND_EMOJI_FREE] = EMOJI_FREE,
	};
	if (!p)
		return;
	ctx->emoji_policy = policy[p->emoji];
	ctx->max_grade = p->max_grade;
}
