/*
 * builtin.c - deterministic copywriting from templates, persona and brief.
 *
 * Each piece (hook, keyword sentence, proof, call to action, subject,
 * headline) is chosen from a table by a hash of the brief and the variant,
 * then filled with whole phrases of the brief, read by copywords.c: the
 * product (never the campaign's name), the persona's goals as verb phrases,
 * usable pain points, interests, and each keyword in a sentence written for
 * its kind (noun phrase or verb phrase). The creativity level widens how
 * many entries of each table are in play; the tone picks the register of
 * greetings, proofs and instructions. Nothing is cut to fit: a piece that
 * would break a limit is dropped or replaced by a shorter phrasing, and
 * headlines and subjects are chosen among candidates that fit and pass the
 * truncation and grammar checks (checks.h).
 */
#include "builtin.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "checks.h"
#include "copywords.h"
#include "json.h"
#include "platforms.h"

/* In the order of objective_names. */
enum objective { AWARENESS, CONSIDERATION, CONVERSION };
_Static_assert(CONVERSION + 1 == N_OBJECTIVES, "one row of templates per objective of the table");
#define N 5 /* choices per table row; the creativity level decides how many are used */

static const char *const hooks[N_OBJECTIVES][N] = {
	[AWARENESS] = {
		"Meet {product}: a simpler way to {goal}.",
		"If {pain} sounds familiar, {product} was made for you.",
		"There is a better way to {goal}, and it starts with {product}.",
		"{Product} is here to help you {goal}.",
		"Good news for anyone into {interest}: {product} makes it easier to {goal}.",
	},
	[CONSIDERATION] = {
		"Still weighing your options for {interest}? Here is what sets {product} apart.",
		"{Pain} should not be part of the job. {Product} helps you {goal} instead.",
		"People who want to {goal} keep choosing {product}. Here is why.",
		"Comparing tools for {interest}? {Product} was built to help you {goal}.",
		"What if you could {goal} and leave {pain} behind? That is the idea behind {product}.",
	},
	[CONVERSION] = {
		"Ready to {goal}? {Product} gets you there, starting today.",
		"Tired of {pain}? {Product} is ready when you are.",
		"Today is a good day to {goal}, and {product} makes it easy.",
		"You have put up with {pain} long enough. {Product} is ready to help.",
		"Want to {goal} this month? {Product} can help you start today.",
	},
};

/* A keyword in a sentence built for it: noun phrases ("team planner") and verb phrases ("save time"). */
static const char *const noun_keyword_lines[N] = {
	"{Product} is built for {kw}, so you can stop worrying about {pain}.",
	"When it comes to {kw}, {product} keeps everything in one place.",
	"{Product} makes {kw} simple, even on your busiest days.",
	"Teams who care about {kw} use {product} to stay on track.",
	"With {product}, {kw} takes minutes instead of hours.",
};
static const char *const verb_keyword_lines[N] = {
	"{Product} helps you {kw}, so you can stop worrying about {pain}.",
	"If you want to {kw}, {product} gives you a head start.",
	"{Product} is the easiest way to {kw} without adding more work.",
	"Teams use {product} to {kw} every single week.",
	"With {product}, it is easy to {kw} and still have time for what matters.",
};
static const char *const plain_lines[N] = {
	"It fits the way you already work, and it grows with you as your goals get bigger.",
	"Everything you need for {interest} sits in one place, clear and ready to use.",
	"{Product} takes the busywork off your plate, so you can focus on {interest}.",
	"It is simple to start with and strong enough to grow with you.",
	"You get one clear view of your work, without {pain}.",
};

static const char *const proofs[N_REGISTERS][N] = {
	[REG_FRIENDLY] = {
		"Setup takes minutes, not weeks.",
		"No long contracts and no steep learning curve.",
		"You will see clear results you can share from the first week.",
		"Getting started is quick, and help is always a message away.",
		"It works with the tools you already use.",
	},
	[REG_FORMAL] = {
		"Implementation takes minutes rather than weeks.",
		"There are no long-term contracts and no lengthy training.",
		"Measurable results are visible from the first week.",
		"Our team supports you from the first day.",
		"It integrates with the tools your organisation already uses.",
	},
	[REG_PLAYFUL] = {
		"Setup? Minutes, not weeks.",
		"No long contracts. No homework.",
		"You will see results worth bragging about in week one.",
		"Getting started is quicker than your morning coffee.",
		"It plays nicely with the tools you already love.",
	},
};

static const char *const greetings[N_REGISTERS] = { "Hi there,", "Hello,", "Hey there," };
static const char *const signoffs[N_REGISTERS] = { "Cheers", "Kind regards", "Talk soon" };

/* The call to action and the sentence that says it, index for index. */
static const char *const ctas[N_OBJECTIVES][N] = {
	[AWARENESS] = { "Learn more", "Discover how it works", "Explore what's new", "See what's possible",
			"Take a closer look" },
	[CONSIDERATION] = { "See how it works", "Book a demo", "Request a comparison", "Compare plans",
			    "Talk to our team" },
	[CONVERSION] = { "Start your free trial", "Get started today", "Claim your offer", "Sign up today",
			 "Try it free" },
};
static const char *const cta_sentences[N_OBJECTIVES][N] = {
	[AWARENESS] = {
		"Learn more about {product} and see if it fits.",
		"Discover how {product} works in under two minutes.",
		"Explore what {product} can do for you.",
		"See what is possible with {product}.",
		"Take a closer look at {product} today.",
	},
	[CONSIDERATION] = {
		"See how {product} works, step by step.",
		"Book a short demo and bring your questions.",
		"Request a side-by-side comparison and decide with confidence.",
		"Compare plans and pick the one that fits.",
		"Talk to our team and get straight answers.",
	},
	[CONVERSION] = {
		"Start your free trial today and see the difference for yourself.",
		"Get started today: it only takes a few minutes.",
		"Claim your offer now and put {product} to work this week.",
		"Sign up today and feel the difference this week.",
		"Try {product} free and see how it fits.",
	},
};

static const char *const subjects[N_OBJECTIVES][N] = {
	[AWARENESS] = { "Meet {product}", "A simpler way to {goal}", "{kwsubject}", "Something new for {interest}",
			"Say hello to {product}" },
	[CONSIDERATION] = { "Why people choose {product}", "Is {product} right for you?", "{Product}: the details",
			    "How {product} helps you {goal}", "{kwsubject}" },
	[CONVERSION] = { "Your {product} offer is waiting", "Ready to {goal}?", "Start with {product} today",
			 "{kwsubject}", "Your next step: {product}" },
};
/* When nothing above fits (a long product name): subjects without placeholders. */
static const char *const plain_subjects[] = { "A quick idea for your week", "Something new for your team",
					      "Worth a minute of your time" };

static const char *const preheaders[N] = {
	"See how {product} helps you {goal} without {pain}.",
	"A quick look at what {product} does, and who it is for.",
	"Say goodbye to {pain}: here is what {product} changes.",
	"Everything you need to {goal}, in one short read.",
	"What {product} means for {interest}, in two minutes.",
};

static const char *const ad_headlines[] = {
	"{product}", "{cta}", "{kwhead}", "Try {product} Today", "Set Up in Minutes", "No Long Contracts", "{Goal}",
	"Work Smarter With {product}", "See It in Action", "Made for {interest}", "Meet {product}",
	"{product} for {interest}", "{kwhead2}", "Built for Busy Teams", "Start in Minutes",
};

/* Short openings for tight limits, when no hook fits. */
static const char *const short_hooks[] = { "Meet {product}.", "Something new is here.", "Say hello to {product}." };

/* ---- the filled brief ------------------------------------------------------ */

enum slot { S_PRODUCT, S_PAIN, S_GOAL, S_INTEREST, S_KW, S_KWSUBJECT, S_KWHEAD, S_KWHEAD2, S_CTA, N_SLOTS };
static const char *const slot_names[N_SLOTS] = {
	"product", "pain", "goal", "interest", "kw", "kwsubject", "kwhead", "kwhead2", "cta",
};

struct fill {
	const struct gen_brief *b;
	enum objective objective;
	enum copy_register reg;
	size_t choices;			/* table entries in play, from the creativity level */
	bool has_product;
	bool short_line;		/* rendering a subject or headline: no "our product" stand-in */
	const char *v[N_SLOTS];
	const char *kws[8];
	size_t nkw;
	const char *musts[4];		/* sentences the custom instructions ask for */
	size_t nmust;
	uint32_t hash;
};

static uint32_t fnv(uint32_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h ^ 0xff) * 16777619u;
}

/*
 * Table index for one piece of the copy. Variants walk every table together;
 * past the number of choices each piece also shifts by its own step, and
 * pieces that share a body use different steps (hooks 1, the rest 2), so
 * every pair of them differs across variants instead of repeating.
 */
static size_t pick(const struct fill *f, const char *salt)
{
	uint32_t v = (uint32_t)f->b->variant, n = (uint32_t)f->choices;
	uint32_t step = strcmp(salt, "hook") == 0 || strcmp(salt, "subject") == 0 ? 1 : 2;
	return (fnv(f->hash, salt) + v + (v / n) * step) % n;
}

static size_t chars(const char *s)
{
	return utf8_length(s, strlen(s));
}

static bool is_product_slot(const char *name)
{
	return strcmp(name, "product") == 0;
}

/* Fills {placeholders}; a capitalised name ({Product}) capitalises the value. NULL when a
 * placeholder is unknown or empty, or names the product and there is none (headlines). */
static const char *render(arena *a, const struct fill *f, const char *tpl)
{
	buf b;
	buf_init(&b, a, 256);
	for (const char *p = tpl; *p;) {
		if (*p != '{') {
			buf_putc(&b, *p++);
			continue;
		}
		const char *end = strchr(p, '}');
		char name[32];
		size_t len = (size_t)(end - p - 1);
		memcpy(name, p + 1, len);
		name[len] = '\0';
		bool cap = isupper((unsigned char)name[0]);
		name[0] = (char)tolower((unsigned char)name[0]);
		const char *v = NULL;
		for (int i = 0; i < N_SLOTS && !v; i++)
			if (strcmp(slot_names[i], name) == 0)
				v = f->v[i];
		if (!v || !*v || (is_product_slot(name) && f->short_line && !f->has_product))
			return NULL;
		buf_puts(&b, cap ? copy_capitalise(a, v) : v);
		p = end + 1;
	}
	return buf_cstr(&b);
}

/* Whether a short line (subject, title, headline) fits max characters and reads whole. */
static bool fits(const char *s, size_t max)
{
	return s && *s && chars(s) <= max && !check_broken(s, true);
}

/* The first candidate, starting at the variant's place in the table, that fits max. */
static const char *choose_line(arena *a, struct fill *f, const char *const *table, size_t n, const char *salt,
			       size_t max, bool title)
{
	size_t start = pick(f, salt);
	const char *found = NULL;
	f->short_line = true;
	for (size_t i = 0; i < n && !found; i++) {
		const char *s = render(a, f, table[(start + i) % n]);
		if (s && title)
			s = copy_title_case(a, s);
		if (fits(s, max))
			found = s;
	}
	f->short_line = false;
	return found;
}

/* ---- assembling text within a limit ------------------------------------------ */

struct piece {
	const char *text;	/* NULL: absent */
	const char *sep;	/* before it, when something precedes it */
	int priority;		/* 0: kept first; higher numbers are dropped first when space runs out */
};

/* Joins the pieces in order, taking them by priority while they fit room characters. */
static const char *assemble(arena *a, const struct piece *p, size_t n, size_t room)
{
	bool in[16] = { false };
	for (int pri = 0; pri < 8; pri++)
		for (size_t i = 0; i < n; i++) {
			if (p[i].priority != pri || !p[i].text || !*p[i].text)
				continue;
			in[i] = true;
			size_t total = 0;
			bool first = true;
			for (size_t k = 0; k < n; k++)
				if (in[k]) {
					total += chars(p[k].text) + (first ? 0 : chars(p[k].sep));
					first = false;
				}
			if (total > room)
				in[i] = false;
		}
	buf b;
	buf_init(&b, a, 512);
	for (size_t i = 0; i < n; i++)
		if (in[i]) {
			if (b.len)
				buf_puts(&b, p[i].sep);
			buf_puts(&b, p[i].text);
		}
	return buf_cstr(&b);
}

/* ---- pieces ------------------------------------------------------------------ */

static const char *hook(arena *a, const struct fill *f, size_t max)
{
	const char *s = NULL;
	for (size_t i = 0; i < f->choices && !(s && chars(s) <= max); i++)
		s = render(a, f, hooks[f->objective][(pick(f, "hook") + i) % f->choices]);
	for (size_t i = 0; !(s && chars(s) <= max) && i < sizeof(short_hooks) / sizeof(short_hooks[0]); i++)
		s = render(a, f, short_hooks[(pick(f, "hook") + i) % 3]);
	return s;
}

/* The which-th keyword sentence (or a plain value line when there are no keywords). */
static const char *value(arena *a, struct fill *f, size_t which)
{
	size_t i = (pick(f, "value") + which) % f->choices;
	if (f->nkw == 0 || which >= f->nkw)
		return render(a, f, plain_lines[i]);
	const char *kw = f->kws[(which + (size_t)f->b->variant) % f->nkw];
	f->v[S_KW] = kw;
	return render(a, f, copy_is_verb_keyword(kw) ? verb_keyword_lines[i] : noun_keyword_lines[i]);
}

static const char *proof(arena *a, const struct fill *f)
{
	return render(a, f, proofs[f->reg][pick(f, "proof")]);
}

static const char *cta_sentence(arena *a, const struct fill *f)
{
	return render(a, f, cta_sentences[f->objective][pick(f, "cta")]);
}

static const char *musts(arena *a, const struct fill *f)
{
	buf b;
	buf_init(&b, a, 128);
	for (size_t i = 0; i < f->nmust; i++) {
		if (i)
			buf_putc(&b, ' ');
		buf_puts(&b, f->musts[i]);
	}
	return buf_cstr(&b);
}

/* "#CamelCase" from a phrase; NULL when nothing usable remains. */
static const char *hashtag(arena *a, const char *s)
{
	buf b;
	buf_init(&b, a, 40);
	buf_putc(&b, '#');
	bool up = true;
	for (const unsigned char *p = (const unsigned char *)s; *p && b.len < 30; p++) {
		if (isalnum(*p)) {
			buf_putc(&b, (char)(up ? toupper(*p) : *p));
			up = false;
		} else {
			up = true;
		}
	}
	return b.len > 2 ? buf_cstr(&b) : NULL;
}

static json_object *hashtags(arena *a, const struct fill *f, size_t want)
{
	json_object *list = json_object_new_array();
	const char *candidates[16];
	const size_t room = sizeof(candidates) / sizeof(candidates[0]) - 1; /* the product always fits */
	size_t n = 0;
	for (size_t i = 0; i < f->nkw && n < room; i++)
		candidates[n++] = f->kws[i];
	for (size_t i = 0; i < f->b->interests.n && n < room; i++)
		candidates[n++] = f->b->interests.items[i];
	if (f->has_product)
		candidates[n++] = f->v[S_PRODUCT];
	for (size_t i = 0; i < n && json_object_array_length(list) < want; i++) {
		const char *tag = hashtag(a, candidates[(i + (size_t)f->b->variant) % n]);
		bool dup = false;
		for (size_t j = 0; tag && j < json_object_array_length(list); j++)
			dup |= strcasecmp(tag, json_object_get_string(json_object_array_get_idx(list, j))) == 0;
		if (tag && !dup)
			json_object_array_add(list, json_object_new_string(tag));
	}
	return list;
}

static void set(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* ---- per content type -------------------------------------------------------- */

static const char *subject_line(arena *a, struct fill *f, size_t max)
{
	const char *s = choose_line(a, f, subjects[f->objective], f->choices, "subject", max, false);
	if (!s)
		s = choose_line(a, f, plain_subjects, sizeof(plain_subjects) / sizeof(plain_subjects[0]), "subject", max,
				false);
	return s;
}

static void write_email(arena *a, struct fill *f, json_object *item)
{
	const char *pre = NULL;
	for (size_t i = 0; i < N && !pre; i++) {
		const char *s = render(a, f, preheaders[(pick(f, "preheader") + i) % N]);
		if (s && chars(s) >= PREHEADER_MIN && chars(s) <= PREHEADER_MAX)
			pre = s;
	}
	if (!pre)
		pre = "A short read on what is new, who it is for, and how to start.";
	const char *occupation = f->b->occupation && *f->b->occupation && chars(f->b->occupation) <= 60
		? arena_printf(a, "Whether you work as %s %s or lead a whole team, it is built to fit your day.",
			       copy_article(copy_phrase(a, f->b->occupation)), copy_phrase(a, f->b->occupation))
		: NULL;
	const char *team = f->has_product ? arena_printf(a, "The %s team", f->v[S_PRODUCT]) : "The team";
	const struct piece body[] = {
		{ greetings[f->reg], "", 0 },
		{ hook(a, f, 1000), "\n\n", 0 },
		{ value(a, f, 0), "\n\n", 0 },
		{ value(a, f, 1), " ", 1 },
		{ occupation, " ", 2 },
		{ proof(a, f), "\n\n", 1 },
		{ musts(a, f), "\n\n", 0 },
		{ cta_sentence(a, f), "\n\n", 0 },
		{ arena_printf(a, "%s,\n%s", signoffs[f->reg], team), "\n\n", 0 },
	};
	set(item, "subjectLine", subject_line(a, f, SUBJECT_RECOMMENDED));
	set(item, "preheader", pre);
	set(item, "contentBody", assemble(a, body, sizeof(body) / sizeof(body[0]), PLATFORM_BODY_MAX));
}

static size_t tags_length(json_object *list)
{
	size_t n = 0;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		n += chars(json_object_get_string(json_object_array_get_idx(list, i))) + 1;
	return n;
}

static void write_social(arena *a, struct fill *f, json_object *item)
{
	const struct platform_rule *rule = platform_find(f->b->platform);
	json_object *list = hashtags(a, f, (size_t)rule->hashtags_written);
	size_t room = (size_t)rule->body_max - (rule->layout == LAYOUT_SHORT ? tags_length(list) : 0);
	const char *h = hook(a, f, room);
	const char *body;
	switch (rule->layout) {
	case LAYOUT_SHORT: {
		const struct piece p[] = {
			{ h, "", 0 }, { musts(a, f), " ", 1 }, { cta_sentence(a, f), " ", 2 }, { value(a, f, 0), " ", 3 },
		};
		body = assemble(a, p, 4, room);
		break;
	}
	case LAYOUT_CAPTION: {
		const struct piece p[] = {
			{ h, "", 0 }, { value(a, f, 0), "\n\n", 1 }, { musts(a, f), "\n\n", 1 }, { proof(a, f), "\n\n", 2 },
			{ cta_sentence(a, f), "\n\n", 1 }, { "Link in bio.", " ", 3 },
		};
		body = assemble(a, p, 6, room);
		break;
	}
	case LAYOUT_BRIEF: {
		const struct piece p[] = {
			{ h, "", 0 }, { value(a, f, 0), " ", 1 }, { musts(a, f), " ", 1 }, { cta_sentence(a, f), "\n\n", 1 },
		};
		body = assemble(a, p, 4, room);
		break;
	}
	default: { /* LAYOUT_LONG */
		const struct piece p[] = {
			{ h, "", 0 }, { value(a, f, 0), "\n\n", 1 }, { value(a, f, 1), " ", 2 }, { musts(a, f), "\n\n", 1 },
			{ proof(a, f), "\n\n", 2 }, { cta_sentence(a, f), " ", 1 },
		};
		body = assemble(a, p, 6, room);
		break;
	}
	}
	set(item, "contentBody", body);
	json_object_object_add(item, "hashtags", list);
}

static bool listed(json_object *list, const char *s)
{
	for (size_t j = 0; j < json_object_array_length(list); j++)
		if (strcasecmp(s, json_object_get_string(json_object_array_get_idx(list, j))) == 0)
			return true;
	return false;
}

/* Whether s is one of list[0..n). */
static bool among(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void write_search_ad(arena *a, struct fill *f, json_object *item, const struct platform_rule *rule)
{
	json_object *heads = json_object_new_array(), *descs = json_object_new_array();
	size_t nh = sizeof(ad_headlines) / sizeof(ad_headlines[0]);
	f->short_line = true;
	for (size_t i = 0; i < nh && json_object_array_length(heads) < 8; i++) {
		const char *h = render(a, f, ad_headlines[(i + (size_t)f->b->variant) % nh]);
		h = h ? copy_title_case(a, h) : NULL;
		if (fits(h, (size_t)rule->headline_max) && !listed(heads, h))
			json_object_array_add(heads, json_object_new_string(h));
	}
	f->short_line = false;
	/* Whole sentences only, the instructions' first; variant v starts v places further along. */
	const char *cands[6 * N + 4];
	size_t nc = 0, first = 0;
	for (size_t i = 0; i < f->nmust; i++)
		if (chars(f->musts[i]) <= (size_t)rule->description_max)
			cands[nc++] = f->musts[i];
	first = nc;
	/* The pool is rendered as for variant 0, so it is the same for every variant and the
	 * variants' different starting places give different first descriptions. */
	struct gen_brief b0 = *f->b;
	b0.variant = 0;
	struct fill f0 = *f;
	f0.b = &b0;
	for (size_t i = 0; i < f->choices; i++) {
		const char *all[] = { render(a, &f0, hooks[f->objective][i]), render(a, &f0, cta_sentences[f->objective][i]),
				      render(a, &f0, proofs[f->reg][i]), value(a, &f0, i % 2) };
		for (size_t k = 0; k < 4; k++)
			if (all[k] && chars(all[k]) <= (size_t)rule->description_max && !check_broken(all[k], false) &&
			    !among(cands + first, nc - first, all[k]))
				cands[nc++] = all[k];
	}
	/* Stock sentences widen a pool the limit has thinned, so five variants still open differently. */
	static const char *const stock[] = { "Set up in minutes. No long contracts.", "See how it works today.",
					     "Made for teams with more to do than time.", "Start small and grow at your pace." };
	for (size_t i = 0; i < sizeof(stock) / sizeof(stock[0]) && nc - first < 6; i++)
		if (!among(cands + first, nc - first, stock[i]))
			cands[nc++] = stock[i];
	size_t rest = nc - first, start = rest ? (fnv(f->hash, "desc") + (uint32_t)f->b->variant) % rest : 0;
	for (size_t i = 0; i < first && json_object_array_length(descs) < 3; i++)
		json_object_array_add(descs, json_object_new_string(cands[i]));
	for (size_t i = 0; i < rest && json_object_array_length(descs) < 3; i++)
		if (!listed(descs, cands[first + (start + i) % rest]))
			json_object_array_add(descs, json_object_new_string(cands[first + (start + i) % rest]));
	static const char *const spare_descs[] = { "Set up in minutes. No long contracts.", "See how it works today." };
	for (size_t i = 0; json_object_array_length(descs) < (size_t)rule->descriptions_min; i++)
		json_object_array_add(descs, json_object_new_string(spare_descs[i]));
	static const char *const spare_heads[] = { "See It in Action", "Learn More", "Start in Minutes" };
	for (size_t i = 0; json_object_array_length(heads) < (size_t)rule->headlines_min; i++)
		if (!listed(heads, spare_heads[i]))
			json_object_array_add(heads, json_object_new_string(spare_heads[i]));
	set(item, "subjectLine", json_object_get_string(json_object_array_get_idx(heads, 0)));
	set(item, "contentBody", json_object_get_string(json_object_array_get_idx(descs, 0)));
	json_object_object_add(item, "headlines", heads);
	json_object_object_add(item, "descriptions", descs);
}

static void write_ad(arena *a, struct fill *f, json_object *item)
{
	const struct platform_rule *rule = platform_find(f->b->platform);
	enum shape shape;
	platform_shape(f->b->content_type, f->b->platform, &shape);
	if (shape != SHAPE_SOCIAL_AD) {
		write_search_ad(a, f, item, rule);
		return;
	}
	size_t max = (size_t)rule->ad_title_max;
	const char *title = subject_line(a, f, max);
	if (!title)
		title = choose_line(a, f, ad_headlines, sizeof(ad_headlines) / sizeof(ad_headlines[0]), "title", max, true);
	const struct piece p[] = {
		{ hook(a, f, (size_t)rule->body_max), "", 0 }, { value(a, f, 0), " ", 1 }, { musts(a, f), " ", 1 },
	};
	set(item, "subjectLine", title);
	set(item, "contentBody", assemble(a, p, 3, (size_t)rule->body_max));
}

/* ---- the brief, read ------------------------------------------------------------ */

/* The i-th entry of l that use() accepts (wrapping), else NULL. */
static const char *nth_usable(const struct gen_list *l, size_t i, bool (*use)(const char *))
{
	for (size_t k = 0; k < l->n; k++) {
		const char *s = l->items[(i + k) % l->n];
		if (use(s))
			return s;
	}
	return NULL;
}

static bool usable_pain(const char *s)
{
	return copy_pain_usable(s, 80);
}

static bool usable_goal(const char *s)
{
	return chars(s) <= 80 && !strchr(s, '?');
}

static bool usable_interest(const char *s)
{
	return chars(s) <= 60 && !strchr(s, '?') && !copy_is_verb_phrase(s);
}

static void read_keywords(arena *a, struct fill *f)
{
	f->nkw = copy_split_keywords(a, f->b->keywords, f->kws, 8);
	size_t v = (size_t)f->b->variant;
	if (f->nkw == 0)
		return;
	const char *k1 = f->kws[v % f->nkw], *k2 = f->kws[(v + 1) % f->nkw];
	bool verb1 = copy_is_verb_keyword(k1), verb2 = copy_is_verb_keyword(k2);
	if (f->has_product) {
		f->v[S_KWSUBJECT] = render(a, f, verb1 ? arena_printf(a, "%s with {product}", copy_capitalise(a, k1))
						       : arena_printf(a, "{Product} for %s", k1));
	} else {
		f->v[S_KWSUBJECT] = verb1 ? arena_printf(a, "A simpler way to %s", k1) : arena_printf(a, "Made for %s", k1);
	}
	f->v[S_KWHEAD] = verb1 ? arena_printf(a, "%s Today", k1) : arena_printf(a, "Built for %s", k1);
	if (k2 != k1)
		f->v[S_KWHEAD2] = !verb2 ? arena_printf(a, "%s Made Simple", k2)
			: f->has_product ? render(a, f, arena_printf(a, "%s With {product}", k2))
			: arena_printf(a, "%s Today", k2);
}

int builtin_generate(const struct gen_brief *b, arena *a, json_object **ret)
{
	int objective = objective_index(b->objective);
	enum shape shape;
	if (platform_shape(b->content_type, b->platform, &shape) < 0)
		return -EINVAL;
	struct fill f = {
		.b = b,
		.objective = objective >= 0 ? (enum objective)objective : CONVERSION,
		.reg = copy_register_of(b->tone),
		.choices = b->creativity <= 3 ? 3 : b->creativity <= 7 ? 4 : 5,
		.has_product = b->product && *b->product,
	};
	f.hash = fnv(fnv(fnv(fnv(fnv(2166136261u, b->seed), b->content_type), b->platform), b->product),
		     b->persona_name);
	size_t v = (size_t)b->variant;
	f.v[S_PRODUCT] = f.has_product ? b->product : "our product";
	const char *pain = nth_usable(&b->pain_points, v, usable_pain);
	const char *goal = nth_usable(&b->goals, v + 1, usable_goal);
	const char *interest = nth_usable(&b->interests, v, usable_interest);
	f.v[S_PAIN] = pain ? copy_phrase(a, pain) : "juggling too many tools";
	f.v[S_GOAL] = goal ? copy_goal_verb_phrase(a, goal) : "get more done with less effort";
	f.v[S_INTEREST] = interest ? copy_phrase(a, interest) : "better results";
	f.v[S_CTA] = ctas[f.objective][pick(&f, "cta")];
	read_keywords(a, &f);
	f.nmust = copy_instructions(a, b->custom_instructions, f.reg, f.musts, 4);

	json_object *item = json_object_new_object();
	set(item, "contentType", b->content_type);
	set(item, "platform", b->platform);
	if (shape == SHAPE_EMAIL)
		write_email(a, &f, item);
	else if (shape == SHAPE_SOCIAL_POST)
		write_social(a, &f, item);
	else
		write_ad(a, &f, item);
	set(item, "callToAction", f.v[S_CTA]);
	*ret = item;
	return 0;
}
