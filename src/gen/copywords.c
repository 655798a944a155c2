/*
 * copywords.c - the builtin generator's reading of a brief: phrase kinds,
 * keywords, custom instructions, register, title case.
 */
#include "copywords.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "checks.h"

static bool in_list(const char *const *list, const char *w, size_t n)
{
	for (; *list; list++)
		if (strlen(*list) == n && strncasecmp(*list, w, n) == 0)
			return true;
	return false;
}

static size_t first_word_len(const char *s)
{
	size_t n = 0;
	while (s[n] && (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '\''))
		n++;
	return n;
}

/* ---- register ------------------------------------------------------------ */

static const struct {
	const char *word;
	enum copy_register reg;
} tone_words[] = {
	{ "formal", REG_FORMAL },	{ "professional", REG_FORMAL }, { "corporate", REG_FORMAL },
	{ "authoritative", REG_FORMAL }, { "serious", REG_FORMAL },	 { "expert", REG_FORMAL },
	{ "playful", REG_PLAYFUL },	{ "fun", REG_PLAYFUL },		 { "witty", REG_PLAYFUL },
	{ "bold", REG_PLAYFUL },	{ "energetic", REG_PLAYFUL },	 { "enthusiastic", REG_PLAYFUL },
	{ "excited", REG_PLAYFUL },	{ "humorous", REG_PLAYFUL },	 { "upbeat", REG_PLAYFUL },
};

enum copy_register copy_register_of(const char *tone)
{
	for (size_t i = 0; tone && i < sizeof(tone_words) / sizeof(tone_words[0]); i++)
		if (strcasestr(tone, tone_words[i].word))
			return tone_words[i].reg;
	return REG_FRIENDLY;
}

/* ---- phrases -------------------------------------------------------------- */

/* Whether the word at s has capitals after its first letter ("CRM", "iPhone", "McKinsey"). */
static bool own_capitals(const char *s)
{
	size_t n = first_word_len(s);
	for (size_t i = 1; i < n; i++)
		if (isupper((unsigned char)s[i]))
			return true;
	return false;
}

const char *copy_phrase(arena *a, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *t = arena_strdup(a, s);
	size_t n = strlen(t);
	while (n && strchr(" .!;,:\t\n", t[n - 1]))
		t[--n] = '\0';
	if (isupper((unsigned char)t[0]) && !own_capitals(t) && !(t[0] == 'I' && (t[1] == ' ' || t[1] == '\'')))
		t[0] = (char)tolower((unsigned char)t[0]);
	return t;
}

/* Verbs a goal or keyword may start with, beyond the ones the grammar check knows. */
static const char *const more_verbs[] = {
	"double", "triple", "lower", "raise", "beat", "consolidate", "replace", "centralize", "centralise",
	"standardize", "standardise", "modernize", "modernise", "migrate", "onboard", "train", "coach",
	"delight", "upsell", "expand", "enter", "prove", "measure", "report", "forecast", "publish", "post",
	"sleep", "travel", "balance", "focus", "free", "halve", "speed", "close", "cut", "hit", "land", "ship",
	"spend", "win", "book", "reach", "manage", "build", "launch", "track", "scale", "help", "start",
	"finish", "run", "work", "meet", "master", "share", "plan", "turn", "use", "try", "fix", "lead",
	"write", "stop", "hire", "sell", "send", "answer", "respond", "serve", "support", "keep", "stay",
	"invest", "retire", "deploy", "release", "review", "close", "welcome", "pay", "learn", "teach", "recruit", "streamline", "digitize", "digitise", NULL,
};

static bool is_verb(const char *w, size_t n)
{
	return check_is_bare_verb(w, n) || in_list(more_verbs, w, n);
}

bool copy_is_verb_phrase(const char *s)
{
	while (*s == ' ')
		s++;
	return is_verb(s, first_word_len(s));
}

/* First words of goals that are noun phrases ("More leads", "Peace of mind"). */
static const char *const noun_starts[] = {
	"a", "an", "the", "more", "less", "fewer", "better", "faster", "bigger", "higher", "lower", "peace",
	"time", "money", "freedom", "growth", "success", "control", "clarity", "visibility", "confidence",
	"health", "happiness", "balance", "recognition", "financial", "career", "work", "no", "zero", "full",
	"one", "two", "three", "every", "all", NULL,
};
/* Endings of adjectives and nouns, which a goal starting with them is ("Financial freedom"). */
static const char *const noun_endings[] = { "al", "ful", "ous", "ive", "ity", "ness", "ment", "tion", "sion",
					    "ance", "ence", "er", "est", "ic", "ible", "able", "ship", NULL };

static bool goal_is_noun_phrase(const char *g)
{
	size_t n = first_word_len(g);
	if (n == 0 || memchr(g, '-', n) || in_list(noun_starts, g, n) || isdigit((unsigned char)g[0]))
		return !is_verb(g, n);
	for (const char *const *e = noun_endings; *e; e++) {
		size_t k = strlen(*e);
		if (n > k + 2 && strncasecmp(g + n - k, *e, k) == 0)
			return !is_verb(g, n);
	}
	return false;
}

/* The persona's own words turned to the reader's ("protect my dog" -> "protect your dog"). */
static const char *second_person(arena *a, const char *s)
{
	static const struct { const char *from, *to; } swaps[] = {
		{ "my", "your" }, { "I", "you" }, { "me", "you" }, { "mine", "yours" }, { "myself", "yourself" },
		{ "our", "your" }, { "we", "you" }, { "us", "you" },
	};
	buf b;
	buf_init(&b, a, strlen(s) + 16);
	for (const char *p = s; *p;) {
		size_t n = first_word_len(p);
		if (n == 0) {
			buf_putc(&b, *p++);
			continue;
		}
		const char *to = NULL;
		for (size_t i = 0; i < sizeof(swaps) / sizeof(swaps[0]) && !to; i++)
			if (strlen(swaps[i].from) == n && strncasecmp(swaps[i].from, p, n) == 0)
				to = swaps[i].to;
		if (to)
			buf_puts(&b, to);
		else
			buf_printf(&b, "%.*s", (int)n, p);
		p += n;
	}
	return buf_cstr(&b);
}

const char *copy_goal_verb_phrase(arena *a, const char *goal)
{
	const char *g = second_person(a, copy_phrase(a, goal));
	if (strncasecmp(g, "to ", 3) == 0 && !goal_is_noun_phrase(g + 3))
		return g + 3;
	size_t n = first_word_len(g);
	if (n > 4 && strncasecmp(g + n - 3, "ing", 3) == 0)
		return arena_printf(a, "keep %s", g);
	if (goal_is_noun_phrase(g))
		return arena_printf(a, "get %s", g);
	return g;
}

bool copy_is_verb_keyword(const char *kw)
{
	while (*kw == ' ')
		kw++;
	size_t n = first_word_len(kw);
	const char *last = strrchr(kw, ' ');
	if (!last || !is_verb(kw, n))
		return false; /* one word ("sleep") or no verb first: a noun */
	last++;
	size_t k = strlen(last);
	return !(k > 4 && (strcasecmp(last + k - 3, "ing") == 0 || strcasecmp(last + k - 4, "ment") == 0 ||
			   strcasecmp(last + k - 4, "tion") == 0));
}

static const char *const negations[] = { "no", "not", "never", "lack", "lacking", "too", "little", "zero",
					 "i", "we", "my", "our", "it", "they", "there", "can't", "cannot", NULL };

bool copy_pain_usable(const char *pain, size_t max)
{
	while (*pain == ' ')
		pain++;
	size_t len = strlen(pain);
	return len > 0 && len <= max && !in_list(negations, pain, first_word_len(pain)) && !strchr(pain, '?') &&
	       !copy_is_verb_phrase(pain);
}

size_t copy_split_keywords(arena *a, const char *kw, const char **out, size_t max)
{
	size_t n = 0;
	for (const char *p = kw ? kw : ""; *p && n < max;) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t len = strcspn(p, ",");
		while (len && p[len - 1] == ' ')
			len--;
		if (len)
			out[n++] = copy_phrase(a, arena_strndup(a, p, len));
		p += len;
		p += strcspn(p, ",");
	}
	return n;
}

/* ---- custom instructions ------------------------------------------------- */

static const char *const determiners[] = { "the", "a", "an", "our", "your", "that", "how", "why", "what",
					   "this", "these", "its", "their", NULL };

static const struct { const char *before, *after; } mention_forms[N_REGISTERS] = {
	[REG_FRIENDLY] = { "Don't forget ", "." },
	[REG_FORMAL] = { "Please note ", "." },
	[REG_PLAYFUL] = { "And yes, there's ", " too." },
};

/* X of "mention X" as a sentence of the register. */
static const char *mention(arena *a, const char *x, size_t n, enum copy_register reg)
{
	const char *phrase = copy_phrase(a, arena_strndup(a, x, n));
	if (!*phrase)
		return NULL;
	bool det = in_list(determiners, phrase, first_word_len(phrase));
	if (reg == REG_PLAYFUL && strncasecmp(phrase, "that ", 5) == 0)
		return arena_printf(a, "And yes: %s.", phrase + 5);
	if (!det && !isupper((unsigned char)phrase[0]))
		phrase = arena_printf(a, "our %s", phrase);
	if (reg == REG_PLAYFUL && strncasecmp(phrase, "our ", 4) != 0 && !det)
		reg = REG_FRIENDLY;
	return arena_printf(a, "%s%s%s", mention_forms[reg].before, phrase, mention_forms[reg].after);
}

/* A quoted phrase as a sentence of its own. */
static const char *quoted(arena *a, const char *q, size_t n)
{
	while (n && q[n - 1] == ' ')
		n--;
	if (n == 0)
		return NULL;
	bool ended = strchr(".!?", q[n - 1]) != NULL;
	char *s = arena_printf(a, "%.*s%s", (int)n, q, ended ? "" : ".");
	s[0] = (char)toupper((unsigned char)s[0]);
	return s;
}

size_t copy_instructions(arena *a, const char *ins, enum copy_register reg, const char **out, size_t max)
{
	size_t n = 0;
	for (const char *p = ins ? ins : ""; *p && n < max;) {
		const char *open = NULL, *close = NULL;
		if (*p == '"' || strncmp(p, "\xE2\x80\x9C", 3) == 0) {
			open = p + (*p == '"' ? 1 : 3);
			close = *p == '"' ? strchr(open, '"') : strstr(open, "\xE2\x80\x9D");
		}
		if (open && close) {
			const char *s = close - open <= 120 ? quoted(a, open, (size_t)(close - open)) : NULL;
			if (s)
				out[n++] = s;
			p = close + (*close == '"' ? 1 : 3);
			continue;
		}
		if (strncasecmp(p, "mention ", 8) == 0 && (p == ins || !isalpha((unsigned char)p[-1]))) {
			const char *x = p + 8;
			size_t len = strcspn(x, ".;\n\"");
			const char *s = len && len <= 100 ? mention(a, x, len, reg) : NULL;
			if (s)
				out[n++] = s;
			p = x + len;
			continue;
		}
		p++;
	}
	return n;
}

/* ---- case ------------------------------------------------------------------ */

const char *copy_article(const char *s)
{
	static const char *const an_words[] = { "hour", "honest", "honour", "honor", "heir", NULL };
	size_t n = first_word_len(s);
	bool acronym = n >= 2;
	for (size_t i = 0; i < n; i++)
		acronym &= isupper((unsigned char)s[i]) != 0;
	if (acronym) /* read letter by letter: "an HR director", "an SEO audit", "a CRM" */
		return strchr("AEFHILMNORSX", s[0]) ? "an" : "a";
	if (in_list(an_words, s, n))
		return "an";
	if (strncasecmp(s, "one", 3) == 0 || strncasecmp(s, "eu", 2) == 0 || strncasecmp(s, "uni", 3) == 0 ||
	    strncasecmp(s, "use", 3) == 0)
		return "a";
	return strchr("aeiouAEIOU", s[0]) && s[0] ? "an" : "a";
}

static const char *const small_words[] = { "a", "an", "the", "and", "or", "for", "of", "to", "in", "on",
					   "with", "at", "by", "as", NULL };

char *copy_title_case(arena *a, const char *s)
{
	char *t = arena_strdup(a, s);
	for (char *p = t; *p;) {
		size_t n = first_word_len(p);
		if (n == 0) {
			p++;
			continue;
		}
		bool first = p == t || (p >= t + 2 && p[-2] == ':');
		if (!own_capitals(p) && (first || !in_list(small_words, p, n)))
			*p = (char)toupper((unsigned char)*p);
		p += n;
	}
	return t;
}

char *copy_capitalise(arena *a, const char *s)
{
	char *t = arena_strdup(a, s);
	if (!own_capitals(t))
		t[0] = (char)toupper((unsigned char)t[0]);
	return t;
}
