/*
 * checks.c - word-level tests for broken copy: truncation, grammar slips,
 * emoji, links and the reading grade. Word lists are tables; a word is a run
 * of letters, digits, apostrophes and inner hyphens.
 */
#include "checks.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- word lists ------------------------------------------------------------ */

/* Words a whole phrase never ends on: articles, prepositions that need an object,
 * conjunctions, possessives. (Particles of phrasal verbs - "sign up", "log in" - are left out.) */
static const char *const dangling[] = {
	"a", "an", "the", "to", "of", "for", "with", "from", "into", "onto", "than", "via", "without", "and",
	"or", "but", "nor", "because", "although", "your", "our", "my", "their", "its", "every", "each", NULL,
};

/* Auxiliaries end a phrase only after a pronoun ("see how easy it is"), never after a noun ("offer is"). */
static const char *const auxiliaries[] = {
	"is", "are", "was", "were", "be", "been", "will", "would", "can", "could", "should", "shall", "must",
	"may", "might", "has", "have", "had", "does", "did", NULL,
};

static const char *const pronouns[] = {
	"i", "you", "we", "they", "he", "she", "it", "who", "what", "that", "there", "this", "which", "where",
	"how", "everyone", "anyone", "nobody", NULL,
};

/* Words after which a bare verb is ungrammatical ("for save", "the grow", "around get"). */
static const char *const before_nouns[] = {
	"get", "for", "with", "around", "about", "of", "a", "an", "the", "your", "our", "their", "my", "its", "from",
	"into", "without", "on", "at", "by", NULL,
};

static const char *const determiners[] = { "a", "an", "the", "your", "our", "my", "their", "its", NULL };

/* Verbs that are rarely nouns, in their bare form. */
static const char *const bare_verbs[] = {
	"save", "get", "grow", "make", "find", "reduce", "improve", "increase", "boost", "automate", "simplify",
	"streamline", "spend", "avoid", "create", "deliver", "keep", "bring", "give", "take", "become", "know",
	"learn", "achieve", "eliminate", "organize", "organise", "prioritize", "prioritise", "optimize",
	"optimise", "collaborate", "communicate", "generate", "convert", "attract", "retain", "earn", "lose",
	"ensure", "enable", "empower", "unlock", "discover", "explore", "understand", "choose", "decide",
	"prevent", "protect", "minimize", "maximize", "accelerate", "stay", "sell", "do", "be", "go", "spend",
	"cut", "stop", "ship", "hire", "win", "book", "close", "reach", "manage", "build", "launch", "track",
	"scale", "help", "start", "finish", "impress", "grab", "stand", "feel", "look", "run", "work", "hit",
	"meet", "land", "master", "nurture", "engage", "connect", "share", "plan", "turn", "use", "try",
	"see", "spot", "fix", "lead", "write", "eat", "speak", "fill", "pay", "cook", NULL,
};
/* Of those, the ones that read as nouns after an article or preposition too ("the launch", "a plan"). */
static const char *const noun_too[] = {
	"cut", "stop", "ship", "hire", "win", "book", "close", "reach", "build", "launch", "track", "scale",
	"help", "start", "finish", "stand", "feel", "look", "run", "work", "hit", "meet", "land", "master",
	"share", "plan", "turn", "use", "try", "spot", "fix", "lead", "do", "be", "go", "grab", "write", "pay",
	"cook", NULL,
};

/* Prepositions may end a clause that a wh-word opened ("who it is for", "what we stand for"). */
static const char *const prepositions[] = { "to", "of", "for", "with", "from", "into", "onto", "without", NULL };
static const char *const wh_words[] = { "who", "what", "which", "where", "whom", "worth", NULL };

static bool in_list(const char *const *list, const char *w)
{
	for (; *list; list++)
		if (strcasecmp(*list, w) == 0)
			return true;
	return false;
}

bool check_is_bare_verb(const char *word, size_t n)
{
	char w[32];
	if (n == 0 || n >= sizeof(w))
		return false;
	memcpy(w, word, n);
	w[n] = '\0';
	return in_list(bare_verbs, w);
}

/* ---- UTF-8 and words --------------------------------------------------------- */

/* The code point at *p (advancing p); invalid bytes read as themselves. */
static uint32_t next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
	if (len > 1) {
		uint32_t cp = c & (0x3F >> (len - 1));
		for (int i = 1; i < len; i++) {
			if ((s[i] & 0xC0) != 0x80) {
				*p = s + 1;
				return c;
			}
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		c = cp;
	}
	*p = s + len;
	return c;
}

static bool is_emoji(uint32_t c)
{
	return (c >= 0x1F300 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) || (c >= 0x1F000 && c <= 0x1F2FF) ||
	       (c >= 0x1F1E6 && c <= 0x1F1FF);
}

/* Letters of any script count as word characters; punctuation and emoji above ASCII do not. */
static bool is_word_cp(uint32_t c)
{
	if (c < 0x80)
		return isalnum((int)c) || c == '\'';
	return !(c >= 0x2000 && c <= 0x206F) && !is_emoji(c) && c != 0xFE0F && c != 0x00A0;
}

struct word {
	const char *start;
	size_t len;
	char lower[32];	/* lowercased, "" when longer */
};

/* The next word at or after *p into w (advancing *p past it); false at the end. */
static bool next_word(const char **pp, struct word *w)
{
	const unsigned char *p = (const unsigned char *)*pp;
	for (;;) {
		if (!*p)
			return false;
		const unsigned char *q = p;
		if (is_word_cp(next_cp(&q)))
			break;
		p = q;
	}
	const unsigned char *start = p;
	for (;;) {
		const unsigned char *r = p;
		uint32_t c = next_cp(&r);
		/* an inner hyphen joins ("14-day"), a trailing one does not */
		if (*p && (is_word_cp(c) || (c == '-' && r[0] && isalnum(r[0]))))
			p = r;
		else
			break;
	}
	w->start = (const char *)start;
	w->len = (size_t)(p - start);
	while (w->len > 1 && w->start[w->len - 1] == '\'')
		w->len--;
	w->lower[0] = '\0';
	if (w->len < sizeof(w->lower)) {
		for (size_t i = 0; i < w->len; i++)
			w->lower[i] = (char)tolower((unsigned char)w->start[i]);
		w->lower[w->len] = '\0';
	}
	*pp = (const char *)p;
	return true;
}

/* ---- truncation ---------------------------------------------------------- */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static const char *unbalanced(const char *text)
{
	static const struct { char open, close; const char *why; } pairs[] = {
		{ '(', ')', "a bracket \"(\" is left open" },
		{ '[', ']', "a bracket \"[\" is left open" },
		{ '{', '}', "a brace \"{\" is left open" },
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		int depth = 0;
		for (const char *p = text; *p; p++) {
			depth += *p == pairs[i].open;
			depth -= *p == pairs[i].close;
			if (depth < 0)
				return "a closing bracket has no opening one";
		}
		if (depth)
			return pairs[i].why;
	}
	int straight = 0, curly = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p;) {
		uint32_t c = next_cp(&p);
		straight += c == '"';
		curly += c == 0x201C ? 1 : c == 0x201D ? -1 : 0;
	}
	if (straight % 2 || curly)
		return "a quotation is left open";
	return NULL;
}

const char *check_truncation(const char *text, bool headline, char *buf, size_t n)
{
	if (!text || !*text)
		return NULL;
	size_t len = strlen(text);
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (ends_with(text, len, "...") || ends_with(text, len, "\xE2\x80\xA6")) {
		snprintf(buf, n, "ends in \"...\": cut off");
		return buf;
	}
	if (headline && (strstr(text, "...") || strstr(text, "\xE2\x80\xA6"))) {
		snprintf(buf, n, "\"...\" inside a headline");
		return buf;
	}
	if (len && text[len - 1] == '-' && len > 1 && isalpha((unsigned char)text[len - 2])) {
		snprintf(buf, n, "ends in a cut word");
		return buf;
	}
	const char *why = unbalanced(text);
	if (why) {
		snprintf(buf, n, "%s", why);
		return buf;
	}
	/* Check the last word of the text and of every sentence or line in it. */
	struct word prev = { .lower = "" }, cur;
	const char *p = text;
	bool wh = false; /* a wh-word since the last sentence end */
	for (bool first = true; next_word(&p, &cur); first = false, prev = cur) {
		wh |= in_list(wh_words, cur.lower);
		const char *after = cur.start + cur.len;
		while (*after == ' ' || *after == '\t')
			after++;
		const char *rest = after;
		struct word ahead;
		bool last = !next_word(&rest, &ahead);
		bool phrase_end = last || *after == '\n' || *after == '.' || *after == '?' || *after == '!' ||
				  *after == ':' || *after == ';';
		if (!phrase_end || !cur.lower[0])
			continue;
		bool stranded = wh && in_list(prepositions, cur.lower);
		wh = false;
		if (in_list(dangling, cur.lower) && !(first && last) && !stranded) {
			snprintf(buf, n, "ends on \"%s\"", cur.lower);
			return buf;
		}
		if (in_list(auxiliaries, cur.lower) && !first && !in_list(pronouns, prev.lower)) {
			snprintf(buf, n, "ends on \"%s\" after \"%.*s\"", cur.lower, (int)prev.len, prev.start);
			return buf;
		}
	}
	return NULL;
}

/* ---- grammar ------------------------------------------------------------- */

static bool vowel_sound(const char *w)
{
	if (strncmp(w, "one", 3) == 0 || strncmp(w, "once", 4) == 0 || strncmp(w, "eu", 2) == 0)
		return false;
	return strchr("aeio", w[0]) != NULL;
}

static bool consonant_sound(const struct word *w)
{
	const char *s = w->lower;
	if (!isalpha((unsigned char)s[0]) || strchr("aeiouh", s[0]))
		return false;
	for (size_t i = 0; i < w->len; i++) /* an acronym ("an SEO audit") is read letter by letter */
		if (isupper((unsigned char)w->start[i]) && i > 0)
			return false;
	return true;
}

/* Whether anything but spaces separates two words (punctuation ends the phrase). */
static bool adjacent(const struct word *a, const struct word *b)
{
	for (const char *p = a->start + a->len; p < b->start; p++)
		if (*p != ' ')
			return false;
	return true;
}

const char *check_grammar(const char *text, char *buf, size_t n)
{
	if (!text || !*text)
		return NULL;
	struct word w[2];
	const char *p = text;
	if (!next_word(&p, &w[0]))
		return NULL;
	for (; next_word(&p, &w[1]); w[0] = w[1]) {
		const char *a = w[0].lower, *b = w[1].lower;
		if (!*a || !*b || !adjacent(&w[0], &w[1]))
			continue;
		if (strcmp(a, b) == 0 && isalpha((unsigned char)a[0])) {
			snprintf(buf, n, "\"%s %s\": a word twice", a, b);
			return buf;
		}
		if (in_list(before_nouns, a) && in_list(bare_verbs, b) && !in_list(noun_too, b)) {
			snprintf(buf, n, "\"%s %s\": a verb where a noun belongs", a, b);
			return buf;
		}
		if (in_list(determiners, a) && in_list(determiners, b)) {
			snprintf(buf, n, "\"%s %s\": two determiners in a row", a, b);
			return buf;
		}
		if (strcmp(a, "a") == 0 && vowel_sound(b)) {
			snprintf(buf, n, "\"a %s\": should be \"an\"", b);
			return buf;
		}
		if (strcmp(a, "an") == 0 && consonant_sound(&w[1])) {
			snprintf(buf, n, "\"an %s\": should be \"a\"", b);
			return buf;
		}
	}
	return NULL;
}

bool check_broken(const char *text, bool headline)
{
	char why[96];
	return check_truncation(text, headline, why, sizeof(why)) || check_grammar(text, why, sizeof(why));
}

/* ---- counts -------------------------------------------------------------- */

int check_count_emoji(const char *text)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p;)
		n += is_emoji(next_cp(&p));
	return n;
}

int check_count_links(const char *text)
{
	int n = 0;
	for (const char *p = text; p && *p; p++)
		if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
			n++;
			p += 7;
		} else if (strncasecmp(p, "www.", 4) == 0 && (p == text || p[-1] == ' ' || p[-1] == '\n')) {
			n++;
			p += 3;
		}
	return n;
}

static int syllables(const char *w, size_t n)
{
	int count = 0;
	bool prev = false;
	for (size_t i = 0; i < n; i++) {
		bool v = strchr("aeiouyAEIOUY", w[i]) != NULL && w[i];
		if (v && !prev)
			count++;
		prev = v;
	}
	if (n > 2 && (w[n - 1] == 'e' || w[n - 1] == 'E') && count > 1)
		count--;
	return count > 0 ? count : 1;
}

double check_reading_grade(const char *text)
{
	int words = 0, sentences = 0, syl = 0;
	struct word w;
	for (const char *p = text ? text : ""; next_word(&p, &w);) {
		words++;
		syl += syllables(w.start, w.len);
	}
	if (words == 0)
		return 0;
	bool open = false;
	for (const char *p = text; *p; p++) {
		if (isalnum((unsigned char)*p))
			open = true;
		if (open && (*p == '.' || *p == '!' || *p == '?' || *p == '\n')) {
			sentences++;
			open = false;
		}
	}
	sentences += open;
	double g = 0.39 * words / sentences + 11.8 * syl / words - 15.59;
	return g < 0 ? 0 : g;
}

int check_caps_run(const char *text)
{
	int run = 0, best = 0;
	struct word w;
	for (const char *p = text ? text : ""; next_word(&p, &w);) {
		int letters = 0, upper = 0;
		for (size_t i = 0; i < w.len; i++) {
			letters += isalpha((unsigned char)w.start[i]) != 0;
			upper += isupper((unsigned char)w.start[i]) != 0;
		}
		if (letters >= 2 && upper == letters)
			best = ++run > best ? run : best;
		else if (letters)
			run = 0;
	}
	return best;
}

/* Short words that repeat in any English text. */
static const char *const common[] = {
	"that", "this", "with", "your", "have", "from", "they", "will", "what", "when", "more", "than", "into",
	"just", "about", "there", "their", "them", "then", "some", "it's", "you're", "we're", "were", "been", NULL,
};

#define REP_WORDS 600

static bool same_phrase(char (*words)[32], int i, int j)
{
	return strcmp(words[i], words[j]) == 0 && strcmp(words[i + 1], words[j + 1]) == 0 &&
	       strcmp(words[i + 2], words[j + 2]) == 0;
}

int check_repetition(const char *text, const char *skip, char *buf, size_t n)
{
	char words[REP_WORDS][32]; /* 19 KiB */
	int nw = 0, repeats = 0, worst = 0;
	struct word w;
	for (const char *p = text ? text : ""; nw < REP_WORDS && next_word(&p, &w);)
		if (w.lower[0])
			memcpy(words[nw++], w.lower, sizeof(w.lower));
	int limit = nw / 20 > 3 ? nw / 20 : 3;
	for (int i = 0; i < nw; i++) {
		if (strlen(words[i]) < 4 || in_list(common, words[i]) || (skip && strcasestr(skip, words[i])))
			continue;
		int count = 0;
		bool seen = false;
		for (int j = 0; j < nw && !seen; j++) {
			seen = j < i && strcmp(words[i], words[j]) == 0;
			count += strcmp(words[i], words[j]) == 0;
		}
		if (!seen && count > limit) {
			repeats++;
			if (count > worst) {
				worst = count;
				snprintf(buf, n, "\"%s\" %d times", words[i], count);
			}
		}
	}
	for (int i = 0; i + 2 < nw; i++) {
		bool earlier = false, later = false; /* each phrase counts once, at its first use */
		if (skip && (strcasestr(skip, words[i]) || strcasestr(skip, words[i + 1]) || strcasestr(skip, words[i + 2])))
			continue; /* the product's name is meant to come back */
		for (int k = 0; k < i && !earlier; k++)
			earlier = same_phrase(words, i, k);
		for (int j = i + 1; !earlier && j + 2 < nw && !later; j++)
			later = same_phrase(words, i, j);
		if (later) {
			repeats++;
			if (worst < 2) {
				worst = 2;
				snprintf(buf, n, "\"%s %s %s\" more than once", words[i], words[i + 1], words[i + 2]);
			}
		}
	}
	return repeats;
}
