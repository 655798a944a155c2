/*
 * builtin.c - deterministic copywriting from templates, persona and brief.
 *
 * Each piece (hook, value, proof, call to action, subject) is chosen from a
 * table by a hash of the brief and the variant, then filled with the
 * persona's pain points, goals and interests, the keywords and the product.
 * Lengths are fitted to the platform afterwards (sentence-boundary trims), so
 * every table entry can be written for how it reads, not for how long it is.
 */
#include "builtin.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "platforms.h"
#include "text.h"

/* In the order of objective_names. */
enum objective { AWARENESS, CONSIDERATION, CONVERSION };
_Static_assert(CONVERSION + 1 == N_OBJECTIVES, "one row of templates per objective of the table");
#define N 3 /* choices per table row */

static const char *const hooks[N_OBJECTIVES][N] = {
	[AWARENESS] = {
		"Meet {product}: a simpler way to {goal}.",
		"If {pain} sounds familiar, {product} was made for you.",
		"There is a better way to {goal}, and it starts with {product}.",
	},
	[CONSIDERATION] = {
		"Still weighing your options for {interest}? Here is what sets {product} apart.",
		"{Pain} should not be part of the job. {product} helps you {goal} instead.",
		"People who want to {goal} keep choosing {product}. Here is why.",
	},
	[CONVERSION] = {
		"Ready to {goal}? {product} gets you there, starting today.",
		"Tired of {pain}? {product} is ready when you are.",
		"Today is a good day to {goal}, and {product} makes it easy.",
	},
};

static const char *const values[N] = {
	"{product} is built around {kws}, so you can stop worrying about {pain}.",
	"It fits the way you already work, and it grows with you as your goals get bigger.",
	"Everything you need for {interest} sits in one place, clear and ready to use.",
};

static const char *const proofs[N] = {
	"Setup takes minutes, not weeks.",
	"No long contracts and no steep learning curve.",
	"You will see clear results you can share from the first week.",
};

static const char *const ctas[N_OBJECTIVES][N] = {
	[AWARENESS] = { "Learn more", "Discover how it works", "Explore what's new" },
	[CONSIDERATION] = { "See how it works", "Book a demo", "Request a comparison" },
	[CONVERSION] = { "Start your free trial", "Get started today", "Claim your offer" },
};

static const char *const cta_sentences[N_OBJECTIVES][N] = {
	[AWARENESS] = {
		"Learn more about {product} and see if it fits.",
		"Discover how {product} works in under two minutes.",
		"Explore what {product} can do for you.",
	},
	[CONSIDERATION] = {
		"See how {product} works, step by step.",
		"Book a short demo and bring your questions.",
		"Request a side-by-side comparison and decide with confidence.",
	},
	[CONVERSION] = {
		"Start your free trial today and see the difference for yourself.",
		"Get started today: it only takes a few minutes.",
		"Claim your offer now and put {product} to work this week.",
	},
};

static const char *const subjects[N_OBJECTIVES][N] = {
	[AWARENESS] = { "Meet {product}", "A simpler way to {goal4}", "{product}, made for {kw1}" },
	[CONSIDERATION] = { "Why people choose {product}", "Is {product} right for you?", "{product}: the details" },
	[CONVERSION] = { "Your {product} offer is waiting", "Ready to {goal4}?", "Start with {product} today" },
};

static const char *const preheaders[N] = {
	"See how {product} helps you {goal} without {pain}.",
	"A quick look at what {product} does, and who it is for.",
	"Say goodbye to {pain}: here is what {product} changes.",
};

static const char *const ad_headlines[] = {
	"{product}", "{cta}", "Built for {kw1}", "Try {product} Today", "Set Up in Minutes",
	"No Long Contracts", "{Goal4}", "Work Smarter With {product}", "See It in Action", "Made for {interest4}",
};

struct fill {
	const struct gen_brief *b;
	enum objective objective;
	const char *product, *pain, *goal, *interest, *kw1, *kws, *cta;
	uint32_t hash;
};

/* ---- helpers ----------------------------------------------------------- */

static uint32_t fnv(uint32_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h ^ 0xff) * 16777619u;
}

/*
 * Table index for one piece of the copy. Variants walk every table together;
 * past N each piece also shifts by its own step, and pieces that share a
 * body use different steps (hooks 1, the rest 2), so every pair of them
 * differs across variants 0..N*N-1 instead of repeating after N.
 */
static size_t pick(const struct fill *f, const char *salt)
{
	uint32_t v = (uint32_t)f->b->variant;
	uint32_t step = strcmp(salt, "hook") == 0 || strcmp(salt, "subject") == 0 ? 1 : 2;
	return (fnv(f->hash, salt) + v + (v / N) * step) % N;
}

static const char *nth(const struct gen_list *l, size_t i, const char *fallback)
{
	return l->n ? l->items[i % l->n] : fallback;
}

static size_t chars(const char *s)
{
	return utf8_length(s, strlen(s));
}

/* The first n words of s. */
static char *words(arena *a, const char *s, int n)
{
	const char *p = s;
	for (int w = 0; *p && w < n; w++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
	}
	return arena_strndup(a, s, (size_t)(p - s));
}

static char *title_case(arena *a, const char *s)
{
	char *t = arena_strdup(a, s);
	for (char *p = t; *p; p++)
		if (p == t || p[-1] == ' ')
			*p = (char)toupper((unsigned char)*p);
	return t;
}

/* Lowercases the first letter of a persona phrase used mid-sentence ("No time" -> "no time"). */
static const char *phrase(arena *a, const char *s)
{
	char *t = arena_strdup(a, s);
	size_t n = strlen(t);
	while (n && (t[n - 1] == '.' || t[n - 1] == ' '))
		t[--n] = '\0';
	if (t[0] && isupper((unsigned char)t[0]) && !(t[1] && isupper((unsigned char)t[1])))
		t[0] = (char)tolower((unsigned char)t[0]);
	return t;
}

/* Keywords: trimmed, non-empty, up to max. */
static size_t split_keywords(arena *a, const char *kw, const char **out, size_t max)
{
	size_t n = 0;
	for (const char *p = kw ? kw : ""; *p && n < max;) {
		while (*p == ',' || *p == ' ')
			p++;
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && p[len - 1] == ' ')
			len--;
		if (len)
			out[n++] = arena_strndup(a, p, len);
		p += len;
		while (*p && *p != ',')
			p++;
	}
	return n;
}

/* Fills {placeholders}; a capitalised name ({Pain}) capitalises the value. */
static char *render(arena *a, const struct fill *f, const char *tpl)
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
		const char *v = "";
		if (strcmp(name, "product") == 0)
			v = f->product;
		else if (strcmp(name, "pain") == 0)
			v = f->pain;
		else if (strcmp(name, "pain4") == 0)
			v = title_case(a, words(a, f->pain, 3));
		else if (strcmp(name, "goal") == 0)
			v = f->goal;
		else if (strcmp(name, "goal4") == 0)
			v = words(a, f->goal, 4);
		else if (strcmp(name, "interest") == 0)
			v = f->interest;
		else if (strcmp(name, "interest4") == 0)
			v = title_case(a, words(a, f->interest, 3));
		else if (strcmp(name, "kw1") == 0)
			v = f->kw1;
		else if (strcmp(name, "kws") == 0)
			v = f->kws;
		else if (strcmp(name, "cta") == 0)
			v = f->cta;
		size_t start = b.len;
		buf_puts(&b, v);
		if (cap && b.len > start)
			b.data[start] = (char)toupper((unsigned char)b.data[start]);
		p = end + 1;
	}
	return (char *)buf_cstr(&b);
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

static json_object *hashtags(arena *a, const struct fill *f, const char *const *kws, size_t nkw, size_t want)
{
	json_object *list = json_object_new_array();
	const char *candidates[16];
	const size_t room = sizeof(candidates) / sizeof(candidates[0]) - 1; /* the product always fits */
	size_t n = 0;
	for (size_t i = 0; i < nkw && n < room; i++)
		candidates[n++] = kws[i];
	for (size_t i = 0; i < f->b->interests.n && n < room; i++)
		candidates[n++] = f->b->interests.items[i];
	candidates[n++] = f->product;
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

/* ---- per content type -------------------------------------------------- */

static const char *hook(arena *a, const struct fill *f)
{
	return render(a, f, hooks[f->objective][pick(f, "hook")]);
}

static const char *value(arena *a, const struct fill *f, int which)
{
	return render(a, f, values[(pick(f, "value") + (size_t)which) % N]);
}

static const char *cta_sentence(arena *a, const struct fill *f)
{
	return render(a, f, cta_sentences[f->objective][pick(f, "cta")]);
}

static void write_email(arena *a, const struct fill *f, json_object *item)
{
	bool formal = f->b->tone && (strcasestr(f->b->tone, "formal") || strcasestr(f->b->tone, "professional"));
	const char *subject = render(a, f, subjects[f->objective][pick(f, "subject")]);
	if (chars(subject) > SUBJECT_RECOMMENDED)
		subject = render(a, f, subjects[f->objective][0]);
	const char *pre = render(a, f, preheaders[pick(f, "preheader")]);
	if (chars(pre) < PREHEADER_MIN)
		pre = arena_printf(a, "%s Read on for the details.", pre);
	const char *occupation = f->b->occupation && *f->b->occupation
		? arena_printf(a, " Whether you work as %s %s or lead a whole team, it is built to fit your day.",
			       strchr("aeiouAEIOU", f->b->occupation[0]) ? "an" : "a", phrase(a, f->b->occupation))
		: "";
	const char *body = arena_printf(a, "%s\n\n%s\n\n%s %s%s\n\n%s\n\n%s\n\n%s,\nThe %s team",
		formal ? "Hello," : "Hi there,", hook(a, f), value(a, f, 0), value(a, f, 1), occupation,
		render(a, f, proofs[pick(f, "proof")]), cta_sentence(a, f), formal ? "Kind regards" : "Cheers",
		f->product);
	set(item, "subjectLine", text_fit(a, subject, SUBJECT_MAX));
	set(item, "preheader", text_fit(a, pre, PREHEADER_MAX));
	set(item, "contentBody", body);
}

static void write_social(arena *a, const struct fill *f, json_object *item, const char *const *kws, size_t nkw)
{
	const struct platform_rule *rule = platform_find(f->b->platform);
	json_object *list = hashtags(a, f, kws, nkw, (size_t)rule->hashtags_written);
	const char *body;
	switch (rule->layout) {
	case LAYOUT_SHORT: {
		size_t room = (size_t)rule->body_max;
		for (size_t i = 0; i < json_object_array_length(list); i++)
			room -= strlen(json_object_get_string(json_object_array_get_idx(list, i))) + 1;
		body = text_fit(a, arena_printf(a, "%s %s", hook(a, f), cta_sentence(a, f)), room);
		break;
	}
	case LAYOUT_CAPTION:
		body = arena_printf(a, "%s\n\n%s\n\n%s\n\n%s Link in bio.", hook(a, f), value(a, f, 0),
				    render(a, f, proofs[pick(f, "proof")]), cta_sentence(a, f));
		break;
	case LAYOUT_BRIEF:
		body = arena_printf(a, "%s %s\n\n%s", hook(a, f), value(a, f, 0), cta_sentence(a, f));
		break;
	default: /* LAYOUT_LONG */
		body = arena_printf(a, "%s\n\n%s %s\n\n%s %s", hook(a, f), value(a, f, 0), value(a, f, 1),
				    render(a, f, proofs[pick(f, "proof")]), cta_sentence(a, f));
		break;
	}
	set(item, "contentBody", text_fit(a, body, (size_t)rule->body_max));
	json_object_object_add(item, "hashtags", list);
}

static void write_ad(arena *a, const struct fill *f, json_object *item)
{
	const struct platform_rule *rule = platform_find(f->b->platform);
	enum shape shape;
	platform_shape(f->b->content_type, f->b->platform, &shape);
	if (shape == SHAPE_SOCIAL_AD) {
		set(item, "subjectLine", text_fit(a, render(a, f, subjects[f->objective][pick(f, "subject")]),
						  (size_t)rule->ad_title_max));
		set(item, "contentBody",
		    text_fit(a, arena_printf(a, "%s %s", hook(a, f), value(a, f, 0)), (size_t)rule->body_max));
		return;
	}
	json_object *heads = json_object_new_array(), *descs = json_object_new_array();
	size_t nh = sizeof(ad_headlines) / sizeof(ad_headlines[0]);
	for (size_t i = 0; i < nh && json_object_array_length(heads) < 8; i++) {
		const char *h = title_case(a, render(a, f, ad_headlines[(i + (size_t)f->b->variant) % nh]));
		bool dup = false;
		for (size_t j = 0; j < json_object_array_length(heads); j++)
			dup |= strcasecmp(h, json_object_get_string(json_object_array_get_idx(heads, j))) == 0;
		if (*h && chars(h) <= (size_t)rule->headline_max && !dup)
			json_object_array_add(heads, json_object_new_string(h));
	}
	/* Whole sentences only (a description cut mid-thought reads badly), drawn from every
	 * table; variant v starts v places further along, so variants lead differently. */
	const char *cands[4 * N];
	size_t nc = 0;
	for (size_t i = 0; i < N; i++) {
		const char *all[] = { render(a, f, hooks[f->objective][i]), render(a, f, cta_sentences[f->objective][i]),
				      render(a, f, proofs[i]), render(a, f, values[i]) };
		for (size_t k = 0; k < 4; k++)
			if (chars(all[k]) <= (size_t)rule->description_max)
				cands[nc++] = all[k];
	}
	size_t start = nc ? (fnv(f->hash, "desc") + (uint32_t)f->b->variant) % nc : 0;
	for (size_t i = 0; i < nc && i < 3; i++)
		json_object_array_add(descs, json_object_new_string(cands[(start + i) % nc]));
	if (nc == 0)
		json_object_array_add(descs, json_object_new_string(arena_printf(a, "%s today.", f->cta)));
	if (json_object_array_length(descs) < (size_t)rule->descriptions_min)
		json_object_array_add(descs, json_object_new_string("Set up in minutes. No long contracts."));
	while (json_object_array_length(heads) < (size_t)rule->headlines_min) /* a product name too long for any */
		json_object_array_add(heads, json_object_new_string(json_object_array_length(heads) ? "Learn More"
												   : "See It in Action"));
	set(item, "subjectLine", json_object_get_string(json_object_array_get_idx(heads, 0)));
	set(item, "contentBody", json_object_get_string(json_object_array_get_idx(descs, 0)));
	json_object_object_add(item, "headlines", heads);
	json_object_object_add(item, "descriptions", descs);
}

int builtin_generate(const struct gen_brief *b, arena *a, json_object **ret)
{
	int objective = objective_index(b->objective);
	struct fill f = { .b = b, .objective = objective >= 0 ? (enum objective)objective : CONVERSION };
	enum shape shape;
	if (platform_shape(b->content_type, b->platform, &shape) < 0)
		return -EINVAL;

	f.hash = fnv(fnv(fnv(fnv(fnv(2166136261u, b->seed), b->content_type), b->platform), b->product),
		     b->persona_name);
	size_t v = (size_t)b->variant;
	f.product = b->product && *b->product ? b->product : "our product";
	f.pain = phrase(a, nth(&b->pain_points, v, "juggling too many tools"));
	f.goal = phrase(a, nth(&b->goals, v + 1, "get more done with less effort"));
	f.interest = phrase(a, nth(&b->interests, v, "better results"));
	const char *kws[8];
	size_t nkw = split_keywords(a, b->keywords, kws, 8);
	f.kw1 = nkw ? kws[v % nkw] : f.interest;
	f.kws = nkw >= 2 ? arena_printf(a, "%s and %s", kws[v % nkw], kws[(v + 1) % nkw]) : f.kw1;
	f.cta = ctas[f.objective][pick(&f, "cta")];

	json_object *item = json_object_new_object();
	set(item, "contentType", b->content_type);
	set(item, "platform", b->platform);
	if (shape == SHAPE_EMAIL)
		write_email(a, &f, item);
	else if (shape == SHAPE_SOCIAL_POST)
		write_social(a, &f, item, kws, nkw);
	else
		write_ad(a, &f, item);
	set(item, "callToAction", f.cta);
	*ret = item;
	return 0;
}
