/*
 * quality.c - the content quality checks, one function each, in one table.
 */
#include "quality.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

static const char *const spam_phrases[] = {
	"act now", "100% free", "risk-free", "risk free", "guaranteed", "winner", "cash bonus", "click here",
	"limited time only", "urgent", "no obligation", "double your", "earn $", "$$$", "!!!", "free money",
	"once in a lifetime", "miracle", "no catch", "order now", NULL,
};

static bool check_spam(const struct quality_input *in, struct quality_part *out)
{
	int hits = 0;
	const char *first = NULL;
	for (const char *const *s = spam_phrases; *s; s++)
		if (contains_ci(in->body, *s) || contains_ci(in->subject_line, *s)) {
			hits++;
			first = first ? first : *s;
		}
	struct text_stats st;
	text_stats(in->body, &st);
	double score = 100 - 20 * hits;
	bool shouting = st.words > 0 && st.caps_words * 10 > st.words;
	if (shouting)
		score -= 20;
	if (st.exclamations > 3)
		score -= 10;
	out->score = clamp(score);
	if (hits)
		snprintf(out->note, sizeof(out->note), "%d spam trigger%s (e.g. \"%s\")%s", hits, hits == 1 ? "" : "s",
			 first, shouting ? "; too many capitalised words" : "");
	else
		snprintf(out->note, sizeof(out->note), "%s", shouting ? "too many capitalised words"
				 : st.exclamations > 3 ? "too many exclamation marks" : "no spam triggers");
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
};

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
	out->score = clamp(score);
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
