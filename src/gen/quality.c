/*
 * quality.c - the content quality checks, one function each, in one table.
 */
#include "quality.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "json.h"
#include "platforms.h"

/* ---- text measures ------------------------------------------------------ */

static size_t chars(const char *s)
{
	return s ? utf8_length(s, strlen(s)) : 0;
}

static bool is_word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || c == '\'';
}

struct text_stats {
	int words, sentences, syllables, caps_words, exclamations;
};

static int syllables_of(const char *w, size_t n)
{
	int count = 0;
	bool prev_vowel = false;
	for (size_t i = 0; i < n; i++) {
		bool v = strchr("aeiouyAEIOUY", w[i]) != NULL;
		if (v && !prev_vowel)
			count++;
		prev_vowel = v;
	}
	if (n > 2 && (w[n - 1] == 'e' || w[n - 1] == 'E') && count > 1)
		count--;
	return count > 0 ? count : 1;
}

static void text_stats(const char *s, struct text_stats *st)
{
	memset(st, 0, sizeof(*st));
	const unsigned char *p = (const unsigned char *)s;
	bool in_sentence = false;
	while (*p) {
		if (is_word_byte(*p)) {
			const unsigned char *start = p;
			int upper = 0, letters = 0;
			while (*p && is_word_byte(*p)) {
				letters += isalpha(*p) != 0;
				upper += isupper(*p) != 0;
				p++;
			}
			st->words++;
			st->syllables += syllables_of((const char *)start, (size_t)(p - start));
			if (letters >= 4 && upper == letters)
				st->caps_words++;
			in_sentence = true;
			continue;
		}
		if (*p == '!')
			st->exclamations++;
		if ((*p == '.' || *p == '!' || *p == '?' || *p == '\n') && in_sentence) {
			st->sentences++;
			in_sentence = false;
		}
		p++;
	}
	if (in_sentence)
		st->sentences++;
}

static int clamp(double v)
{
	return v < 0 ? 0 : v > 100 ? 100 : (int)(v + 0.5);
}

/* Case-insensitive search for a whole phrase (ASCII folding). */
static bool contains_ci(const char *hay, const char *needle)
{
	return hay && *needle && strcasestr(hay, needle) != NULL;
}

/* ---- the checks ------------------------------------------------------------ */

typedef bool (*check_fn)(const struct quality_input *in, struct quality_part *out);

static bool check_length(const struct quality_input *in, struct quality_part *out)
{
	const struct platform_rule *r = platform_find(in->platform);
	if (!r)
		return false;
	double n = (double)chars(in->body);
	if (n > r->body_max) {
		out->score = 0;
		snprintf(out->note, sizeof(out->note), "%.0f characters: over %s's limit of %d", n, r->name,
			 r->body_max);
	} else if (n < r->body_min_rec) {
		out->score = clamp(40 + 60 * n / r->body_min_rec);
		snprintf(out->note, sizeof(out->note), "%.0f characters: short for %s (%d-%d reads best)", n,
			 r->name, r->body_min_rec, r->body_max_rec);
	} else if (n > r->body_max_rec) {
		double room = r->body_max - r->body_max_rec;
		out->score = clamp(100 - 60 * (n - r->body_max_rec) / (room > 0 ? room : 1));
		snprintf(out->note, sizeof(out->note), "%.0f characters: long for %s (%d-%d reads best)", n, r->name,
			 r->body_min_rec, r->body_max_rec);
	} else {
		out->score = 100;
		snprintf(out->note, sizeof(out->note), "%.0f characters: in %s's best range", n, r->name);
	}
	return true;
}

static bool check_readability(const struct quality_input *in, struct quality_part *out)
{
	struct text_stats st;
	text_stats(in->body, &st);
	if (st.words == 0) {
		out->score = 0;
		snprintf(out->note, sizeof(out->note), "no words");
		return true;
	}
	double wps = (double)st.words / st.sentences, spw = (double)st.syllables / st.words;
	double flesch = 206.835 - 1.015 * wps - 84.6 * spw;
	double score = flesch >= 60 ? 100 : flesch >= 30 ? 40 + 2 * (flesch - 30) : 40 * (flesch > 0 ? flesch : 0) / 30;
	if (wps > 25)
		score -= (wps - 25) * 2;
	out->score = clamp(score);
	snprintf(out->note, sizeof(out->note), "Flesch reading ease %.0f, %.1f words per sentence", flesch, wps);
	return true;
}

static const char *const action_verbs[] = {
	"sign up", "learn more", "shop", "buy", "get started", "register", "download", "book", "try", "join",
	"subscribe", "contact", "discover", "start", "claim", "request", "order", "explore", "save", "reserve",
	"get your", "see how", "watch", "apply", NULL,
};

static const char *find_verb(const char *text)
{
	for (const char *const *v = action_verbs; *v; v++)
		if (contains_ci(text, *v))
			return *v;
	return NULL;
}

static bool check_call_to_action(const struct quality_input *in, struct quality_part *out)
{
	const char *cta = in->call_to_action && *in->call_to_action ? in->call_to_action : NULL;
	const char *verb = cta ? find_verb(cta) : NULL;
	if (cta && verb) {
		out->score = chars(cta) <= CTA_RECOMMENDED ? 100 : 80;
		snprintf(out->note, sizeof(out->note), "call to action with an action verb (\"%s\")", verb);
	} else if (cta) {
		out->score = 70;
		snprintf(out->note, sizeof(out->note), "call to action has no clear action verb");
	} else if ((verb = find_verb(in->body))) {
		out->score = 60;
		snprintf(out->note, sizeof(out->note), "no call to action field; the copy says \"%s\"", verb);
	} else {
		out->score = 15;
		snprintf(out->note, sizeof(out->note), "no call to action");
	}
	return true;
}

/* Splits comma-separated keywords and counts how many the copy mentions. */
static bool check_keywords(const struct quality_input *in, struct quality_part *out)
{
	if (!in->keywords || !*in->keywords)
		return false;
	int total = 0, found = 0;
	char missing[80] = "";
	const char *p = in->keywords;
	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		const char *last = end;
		while (last > p && isspace((unsigned char)last[-1]))
			last--;
		if (last > p && last - p < 100) {
			char kw[100];
			memcpy(kw, p, (size_t)(last - p));
			kw[last - p] = '\0';
			total++;
			bool hit = contains_ci(in->body, kw) || contains_ci(in->subject_line, kw) ||
				   contains_ci(in->call_to_action, kw);
			for (size_t i = 0; !hit && i < in->nhashtags; i++)
				hit = contains_ci(in->hashtags[i], kw);
			if (hit)
				found++;
			else if (strlen(missing) + strlen(kw) + 3 < sizeof(missing))
				snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
					 *missing ? ", " : "", kw);
		}
		p = end;
	}
	if (total == 0)
		return false;
	out->score = clamp(100.0 * found / total);
	if (found == total)
		snprintf(out->note, sizeof(out->note), "covers all %d keywords", total);
	else
		snprintf(out->note, sizeof(out->note), "covers %d of %d keywords; missing: %s", found, total, missing);
	return true;
}

static bool check_hashtags(const struct quality_input *in, struct quality_part *out)
{
	const struct platform_rule *r = platform_find(in->platform);
	int n = (int)in->nhashtags;
	if (!r || (r->hashtags_max_rec == 0 && n == 0))
		return false;
	if (n < r->hashtags_min_rec)
		out->score = clamp(100 - 30 * (r->hashtags_min_rec - n));
	else if (n > r->hashtags_max_rec)
		out->score = clamp(100 - (r->hashtags_max_rec ? 15 : 25) * (n - r->hashtags_max_rec));
	else
		out->score = 100;
	snprintf(out->note, sizeof(out->note), "%d hashtags (%d-%d suit %s)", n, r->hashtags_min_rec,
		 r->hashtags_max_rec, r->name);
	return true;
}

/* Spam triggers in any copy, and (second list) the ones mail filters weigh in an email. */
static const char *const spam_phrases[] = {
	"act now", "100% free", "risk-free", "risk free", "guaranteed", "winner", "cash bonus", "click here",
	"limited time only", "urgent", "no obligation", "double your", "earn $", "$$$", "!!!", "free money",
	"once in a lifetime", "miracle", "no catch", "order now", NULL,
};
static const char *const email_spam_phrases[] = {
	"dear friend", "no cost", "cash", "credit card", "100% satisfied", "as seen on", "buy direct",
	"call now", "earn money", "extra income", "get paid", "lowest price", "make money", "no fees",
	"pure profit", "satisfaction guaranteed", "this is not spam", "this isn't spam", "you have been selected",
	"congratulations", "apply now", "instant", "unsecured", "weight loss", "work from home", "don't delete",
	"open immediately", "final notice", "best price", NULL,
};

static int count_phrases(const struct quality_input *in, const char *const *list, const char **first)
{
	int hits = 0;
	for (const char *const *s = list; *s; s++)
		if (contains_ci(in->body, *s) || contains_ci(in->subject_line, *s) || contains_ci(in->preheader, *s)) {
			hits++;
			*first = *first ? *first : *s;
		}
	return hits;
}

static bool check_spam(const struct quality_input *in, struct quality_part *out)
{
	const char *first = NULL;
	int hits = count_phrases(in, spam_phrases, &first);
	if (strcmp(in->content_type, "email") == 0)
		hits += count_phrases(in, email_spam_phrases, &first);
	out->score = clamp(100 - 20 * hits);
	if (hits)
		snprintf(out->note, sizeof(out->note), "%d spam trigger%s (e.g. \"%s\")", hits, hits == 1 ? "" : "s",
			 first);
	else
		snprintf(out->note, sizeof(out->note), "no spam triggers");
	return true;
}

static bool check_subject_line(const struct quality_input *in, struct quality_part *out)
{
	if (strcmp(in->content_type, "email") != 0)
		return false;
	size_t n = chars(in->subject_line);
	bool preheader = in->preheader && chars(in->preheader) >= PREHEADER_MIN && chars(in->preheader) <= PREHEADER_MAX;
	if (n == 0) {
		out->score = 0;
		snprintf(out->note, sizeof(out->note), "an email needs a subject line");
		return true;
	}
	double score = n <= SUBJECT_RECOMMENDED ? 100 : n <= SUBJECT_MAX ? 100 - 2.0 * (double)(n - SUBJECT_RECOMMENDED) : 0;
	if (!preheader)
		score -= 15;
	out->score = clamp(score);
	snprintf(out->note, sizeof(out->note), "subject %zu characters (<= %d reads best)%s", n, SUBJECT_RECOMMENDED,
		 preheader ? ", preheader set" : ", no preheader of 40-130 characters");
	return true;
}

/* A persona term counts when one of its words (4+ letters) appears in the copy. */
static bool term_mentioned(const struct quality_input *in, const char *term)
{
	char word[64];
	const char *p = term;
	while (*p) {
		while (*p && !is_word_byte((unsigned char)*p))
			p++;
		size_t n = 0;
		while (*p && is_word_byte((unsigned char)*p)) {
			if (n < sizeof(word) - 1)
				word[n++] = *p;
			p++;
		}
		word[n] = '\0';
		if (n >= 4 && (contains_ci(in->body, word) || contains_ci(in->subject_line, word)))
			return true;
	}
	return false;
}

static bool check_persona(const struct quality_input *in, struct quality_part *out)
{
	if (in->npersona_terms == 0)
		return false;
	int found = 0;
	for (size_t i = 0; i < in->npersona_terms; i++)
		found += term_mentioned(in, in->persona_terms[i]);
	int want = in->npersona_terms < 3 ? (int)in->npersona_terms : 3;
	out->score = clamp(100.0 * (found < want ? found : want) / want);
	snprintf(out->note, sizeof(out->note), "speaks to %d of the persona's %zu interests, pain points and goals",
		 found, in->npersona_terms);
	return true;
}

/* ---- broken or careless copy (word-level tests in checks.c) ---------------- */

struct field { const char *name, *text; bool headline; };

/* Every text field of the item, headlines and descriptions included; returns how many. */
static size_t fields_of(const struct quality_input *in, struct field *f, size_t max)
{
	size_t n = 0;
	const struct field fixed[] = {
		{ "subjectLine", in->subject_line, true }, { "preheader", in->preheader, false },
		{ "contentBody", in->body, false }, { "callToAction", in->call_to_action, true },
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i].text && *fixed[i].text)
			f[n++] = fixed[i];
	for (size_t i = 0; i < in->nheadlines && n < max; i++)
		f[n++] = (struct field){ "headline", in->headlines[i], true };
	for (size_t i = 0; i < in->ndescriptions && n < max; i++)
		f[n++] = (struct field){ "description", in->descriptions[i], false };
	return n;
}

#define MAX_FIELDS (4 + AD_HEADLINES_MAX + AD_DESCRIPTIONS_MAX)

static bool broken_part(const struct quality_input *in, struct quality_part *out, bool truncation)
{
	struct field f[MAX_FIELDS];
	size_t n = fields_of(in, f, MAX_FIELDS);
	char why[96];
	for (size_t i = 0; i < n; i++) {
		const char *w = truncation ? check_truncation(f[i].text, f[i].headline, why, sizeof(why))
					   : check_grammar(f[i].text, why, sizeof(why));
		if (w) {
			out->score = 0;
			snprintf(out->note, sizeof(out->note), "%s: %s", f[i].name, w);
			return true;
		}
	}
	out->score = 100;
	snprintf(out->note, sizeof(out->note), truncation ? "every phrase is whole" : "no grammar slips found");
	return true;
}

static bool check_truncated(const struct quality_input *in, struct quality_part *out)
{
	return broken_part(in, out, true);
}

static bool check_grammatical(const struct quality_input *in, struct quality_part *out)
{
	return broken_part(in, out, false);
}

/* Whole-word occurrences of needle in hay, case-insensitive ("VPN" is not in "ShieldVPN"). */
static int count_ci(const char *hay, const char *needle)
{
	int n = 0;
	size_t k = strlen(needle);
	for (const char *p = hay; p && k && (p = strcasestr(p, needle)); p += k)
		n += (p == hay || !is_word_byte((unsigned char)p[-1])) && !is_word_byte((unsigned char)p[k]);
	return n;
}

/* A keyword used more than twice and in more than one word of 20, or twice in one headline. */
static bool check_stuffing(const struct quality_input *in, struct quality_part *out)
{
	if (!in->keywords || !*in->keywords)
		return false;
	struct text_stats st;
	text_stats(in->body ? in->body : "", &st);
	int excess = 0;
	char worst[120] = "";
	for (const char *p = in->keywords; *p;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		size_t len = strcspn(p, ",");
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		char kw[100];
		if (len && len < sizeof(kw)) {
			memcpy(kw, p, len);
			kw[len] = '\0';
			int uses = count_ci(in->body, kw) + count_ci(in->subject_line, kw);
			int over = uses > 2 && uses * 20 > st.words ? uses - 2 : 0;
			for (size_t i = 0; i < in->nheadlines; i++)
				over += count_ci(in->headlines[i], kw) > 1;
			if (over > 0 && !*worst)
				snprintf(worst, sizeof(worst), "\"%.60s\" %d times", kw, uses);
			excess += over;
		}
		p += strcspn(p, ",");
	}
	out->score = clamp(100 - 25 * excess);
	snprintf(out->note, sizeof(out->note), excess ? "keyword stuffing: %s" : "keywords used naturally%s",
		 excess ? worst : "");
	return true;
}

static bool check_repeats(const struct quality_input *in, struct quality_part *out)
{
	char why[96] = "";
	int n = check_repetition(in->body, in->product, why, sizeof(why));
	out->score = clamp(100 - 25 * n);
	snprintf(out->note, sizeof(out->note), n ? "%d repeated word%s or phrase%s: %s" : "no word or phrase overused",
		 n, n == 1 ? "" : "s", n == 1 ? "" : "s", why);
	return true;
}

/* Runs of three ALL-CAPS words, or more than one word in ten in capitals. */
static bool check_shouting(const struct quality_input *in, struct quality_part *out)
{
	struct field f[MAX_FIELDS];
	size_t n = fields_of(in, f, MAX_FIELDS);
	int run = 0;
	for (size_t i = 0; i < n; i++) {
		int r = check_caps_run(f[i].text);
		run = r > run ? r : run;
	}
	struct text_stats st;
	text_stats(in->body ? in->body : "", &st);
	bool share = st.words > 0 && st.caps_words * 10 > st.words;
	out->score = clamp(100 - (run >= 3 ? 25.0 * (run - 2) : 0) - (share ? 30 : 0));
	snprintf(out->note, sizeof(out->note), run >= 3 ? "%d capitalised words in a row%s"
			     : share ? "too many capitalised words" : "no shouting", run, share ? ", too many overall" : "");
	return true;
}

/* "!!", "?!", more than one "!" in three sentences, or any "!" past the first in a headline. */
static bool check_punctuation(const struct quality_input *in, struct quality_part *out)
{
	struct field f[MAX_FIELDS];
	size_t n = fields_of(in, f, MAX_FIELDS);
	int runs = 0, bangs = 0, headline_bangs = 0;
	for (size_t i = 0; i < n; i++) {
		int here = 0;
		for (const char *p = f[i].text; *p; p++) {
			runs += (*p == '!' || *p == '?') && (p[1] == '!' || p[1] == '?');
			here += *p == '!';
		}
		if (f[i].headline)
			headline_bangs += here > 1 ? here - 1 : 0;
		else
			bangs += here;
	}
	struct text_stats st;
	text_stats(in->body ? in->body : "", &st);
	int allowed = st.sentences / 3 + 1;
	int over = bangs > allowed ? bangs - allowed : 0;
	out->score = clamp(100 - 30 * runs - 15 * over - 20 * headline_bangs);
	if (runs)
		snprintf(out->note, sizeof(out->note), "%d run%s of \"!!\" or \"?!\"", runs, runs == 1 ? "" : "s");
	else if (over || headline_bangs)
		snprintf(out->note, sizeof(out->note), "too many exclamation marks (%d)", bangs + headline_bangs);
	else
		snprintf(out->note, sizeof(out->note), "punctuation is calm");
	return true;
}

static bool check_emoji(const struct quality_input *in, struct quality_part *out)
{
	if (in->emoji_policy == EMOJI_FREE)
		return false;
	struct field f[MAX_FIELDS];
	size_t n = fields_of(in, f, MAX_FIELDS);
	int count = 0;
	for (size_t i = 0; i < n; i++)
		count += check_count_emoji(f[i].text);
	int allowed = in->emoji_policy == EMOJI_NONE ? 0 : 1 + (int)(chars(in->body) / 300);
	int over = count > allowed ? count - allowed : 0;
	out->score = in->emoji_policy == EMOJI_NONE && count ? 0 : clamp(100 - 25 * over);
	snprintf(out->note, sizeof(out->note), "%d emoji; the %s policy allows %d", count,
		 in->emoji_policy == EMOJI_NONE ? "none" : "sparing", allowed);
	return true;
}

static bool check_links(const struct quality_input *in, struct quality_part *out)
{
	const struct platform_rule *r = platform_find(in->platform);
	int n = check_count_links(in->body) + check_count_links(in->call_to_action);
	for (size_t i = 0; i < in->ndescriptions; i++)
		n += check_count_links(in->descriptions[i]);
	if (!r || n == 0)
		return false;
	int over = n > r->links_max_rec ? n - r->links_max_rec : 0;
	out->score = clamp(100 - 30 * over);
	snprintf(out->note, sizeof(out->note), "%d link%s (%d read%s well on %s)", n, n == 1 ? "" : "s",
		 r->links_max_rec, r->links_max_rec == 1 ? "s" : "", r->name);
	return true;
}

static bool check_grade(const struct quality_input *in, struct quality_part *out)
{
	if (in->max_grade <= 0 || !in->body || !*in->body)
		return false;
	double g = check_reading_grade(in->body);
	out->score = g <= in->max_grade ? 100 : clamp(100 - 15 * (g - in->max_grade));
	snprintf(out->note, sizeof(out->note), "reading grade %.1f (target %d or below)", g, in->max_grade);
	return true;
}

static const struct {
	const char *name;
	int weight;
	check_fn fn;
} checks[] = {
	{ "length", 20, check_length },
	{ "readability", 20, check_readability },
	{ "callToAction", 20, check_call_to_action },
	{ "keywords", 15, check_keywords },
	{ "hashtags", 10, check_hashtags },
	{ "spam", 15, check_spam }, /* also scales the total: see quality_score() */
	{ "subjectLine", 15, check_subject_line },
	{ "personaMatch", 15, check_persona },
	{ "truncation", 20, check_truncated },	/* a failure caps the total: see quality_score() */
	{ "grammar", 20, check_grammatical },	/* likewise */
	{ "stuffing", 10, check_stuffing },
	{ "repetition", 10, check_repeats },
	{ "shouting", 10, check_shouting },
	{ "punctuation", 5, check_punctuation },
	{ "emoji", 5, check_emoji },
	{ "links", 5, check_links },
	{ "readingGrade", 10, check_grade },
};
_Static_assert(sizeof(checks) / sizeof(checks[0]) + 2 <= QUALITY_MAX_PARTS, "room for brandFit and one more");

int quality_emoji_policy_parse(const char *name, enum quality_emoji_policy *out)
{
	static const char *const names[] = { [EMOJI_SPARING] = "sparing", [EMOJI_NONE] = "none", [EMOJI_FREE] = "free" };
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0) {
			*out = (enum quality_emoji_policy)i;
			return 0;
		}
	return -EINVAL;
}

void quality_score(const struct quality_input *in, struct quality_result *out)
{
	memset(out, 0, sizeof(*out));
	double sum = 0;
	int weights = 0;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct quality_part *part = &out->parts[out->nparts];
		if (!checks[i].fn(in, part))
			continue;
		part->name = checks[i].name;
		part->weight = checks[i].weight;
		sum += (double)part->score * part->weight;
		weights += part->weight;
		out->nparts++;
	}
	/* Spam is not one concern among many: it scales the whole score down (to 60% at worst). */
	double score = weights ? sum / weights : 0;
	for (int i = 0; i < out->nparts; i++)
		if (strcmp(out->parts[i].name, "spam") == 0)
			score *= 0.6 + 0.4 * out->parts[i].score / 100.0;
	out->passes_all = true;
	for (int i = 0; i < out->nparts; i++) {
		const char *name = out->parts[i].name;
		if ((strcmp(name, "truncation") == 0 || strcmp(name, "grammar") == 0) && out->parts[i].score == 0)
			out->broken = true;
		out->passes_all &= out->parts[i].score >= QUALITY_PART_PASS;
	}
	out->score = clamp(score);
	if (out->broken && out->score > QUALITY_BROKEN_MAX)
		out->score = QUALITY_BROKEN_MAX;
}

void quality_breakdown_json(const struct quality_result *r, buf *b)
{
	buf_putc(b, '{');
	for (int i = 0; i < r->nparts; i++) {
		const struct quality_part *p = &r->parts[i];
		buf_printf(b, "%s\"%s\":{\"score\":%d,\"weight\":%d,\"note\":", i ? "," : "", p->name, p->score,
			   p->weight);
		buf_json_str(b, p->note);
		buf_putc(b, '}');
	}
	buf_putc(b, '}');
}
