/* Unit tests for src/gen/builtin.c: limits, determinism, variation, persona use. */
#include <stdlib.h>

#include "builtin.h"
#include "content.h"
#include "platforms.h"
#include "quality.h"
#include "tap.h"

static const char *const interests[] = { "marketing automation", "growth" };
static const char *const pains[] = { "No time for marketing", "leads that go cold" };
static const char *const goals[] = { "book more qualified demos", "grow without hiring" };

static struct gen_brief brief(const char *type, const char *platform, int variant)
{
	return (struct gen_brief){
		.content_type = type, .platform = platform, .variant = variant, .seed = "c-1",
		.product = "Acme Flow", .description = "Acme Flow automates follow-ups.",
		.objective = "conversion", .tone = "friendly", .keywords = "automation, lead nurturing, CRM",
		.creativity = 5, .persona_name = "Busy founder", .occupation = "startup founder",
		.interests = { interests, 2 }, .pain_points = { pains, 2 }, .goals = { goals, 2 },
	};
}

static const char *to_s(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

int main(int argc, char **argv)
{
	arena *a = arena_new(0);
	static const struct { const char *type, *platform; } pairs[] = {
		{ "email", "email" }, { "social_post", "linkedin" }, { "social_post", "twitter" },
		{ "social_post", "facebook" }, { "social_post", "instagram" }, { "ad_copy", "google_ads" },
		{ "ad_copy", "facebook" }, { "ad_copy", "linkedin" }, { "ad_copy", "instagram" }, { "ad_copy", "twitter" },
	};
	static const char *const objectives[] = { "awareness", "consideration", "conversion" };
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		for (int o = 0; o < 3; o++) {
			int within = 1, distinct = 1, same = 1;
			const char *first = NULL;
			for (int v = 0; v < 5; v++) {
				struct gen_brief b = brief(pairs[i].type, pairs[i].platform, v);
				b.objective = objectives[o];
				json_object *item, *again;
				builtin_generate(&b, a, &item);
				builtin_generate(&b, a, &again);
				struct verrors errs;
				verrors_init(&errs, a);
				validate_body(item, content_item_fields, &errs);
				content_item_check(item, &errs);
				if (errs.count) {
					within = 0;
					printf("# %s/%s v%d: %s %s\n", pairs[i].type, pairs[i].platform, v, errs.head->field,
					       errs.head->message);
				}
				const char *s = arena_strdup(a, to_s(item));
				same &= strcmp(s, to_s(again)) == 0;
				if (v == 0)
					first = s;
				else if (v == 1)
					distinct &= strcmp(first, s) != 0;
				if (argc > 1 && v < 2 && o == 2)
					printf("# %s\n", s);
				json_object_put(item);
				json_object_put(again);
			}
			ok(within, "%s on %s (%s): 5 variants within every platform limit", pairs[i].type,
			   pairs[i].platform, objectives[o]);
			ok(same, "%s on %s (%s): same brief, same copy", pairs[i].type, pairs[i].platform, objectives[o]);
			ok(distinct, "%s on %s (%s): variants differ", pairs[i].type, pairs[i].platform, objectives[o]);
		}
	}

	/* The copy uses the persona and keywords, and scores well. */
	struct gen_brief b = brief("social_post", "linkedin", 0);
	json_object *item;
	builtin_generate(&b, a, &item);
	const char *body = json_object_get_string(json_object_object_get(item, "contentBody"));
	ok(strcasestr(body, "no time for marketing") || strcasestr(body, "leads that go cold") ||
	   strcasestr(body, "book more qualified demos") || strcasestr(body, "grow without hiring"),
	   "the persona's pain points or goals appear in the copy");
	ok(strcasestr(body, "automation") != NULL, "a keyword appears in the copy");
	json_object *terms = json_object_new_array();
	json_object_array_add(terms, json_object_new_string("No time for marketing"));
	struct content_context ctx = { .keywords = "automation, lead nurturing, CRM", .persona_terms = terms,
				       .product = "Acme Flow" };
	content_item_finish(a, item, &ctx, NULL);
	int score = json_object_get_int(json_object_object_get(item, "qualityScore"));
	ok(score >= 70, "builtin copy scores as a usable first draft (%d)", score);
	json_object_put(item);
	json_object_put(terms);

	struct gen_brief bad = brief("email", "twitter", 0);
	ok(builtin_generate(&bad, a, &item) < 0, "an impossible type/platform pair is refused");

	/* 20 keywords and 20 interests: more hashtag candidates than the builtin keeps (ASan checks the bound). */
	static const char *const many[] = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
					    "hotel", "india", "juliet", "kilo", "lima", "mike", "november",
					    "oscar", "papa", "quebec", "romeo", "sierra", "tango" };
	struct gen_brief crowded = brief("social_post", "instagram", 3);
	crowded.keywords = "one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve, thirteen, "
			   "fourteen, fifteen, sixteen, seventeen, eighteen, nineteen, twenty";
	crowded.interests = (struct gen_list){ many, 20 };
	is_int(builtin_generate(&crowded, a, &item), 0, "a brief with 20 keywords and 20 interests generates");
	json_object *tags = NULL;
	ok(json_object_object_get_ex(item, "hashtags", &tags) && json_object_array_length(tags) > 0,
	   "and still gets hashtags");
	json_object_put(item);

	/* Tone changes the wording; creativity widens the choice; instructions are honoured. */
	struct gen_brief friendly = brief("email", "email", 0), formal = friendly;
	formal.tone = "formal and professional";
	json_object *fi, *fo;
	builtin_generate(&friendly, a, &fi);
	builtin_generate(&formal, a, &fo);
	const char *fbody = json_object_get_string(json_object_object_get(fi, "contentBody"));
	const char *obody = json_object_get_string(json_object_object_get(fo, "contentBody"));
	ok(strncmp(fbody, "Hi there,", 9) == 0 && strncmp(obody, "Hello,", 6) == 0 && strstr(obody, "Kind regards"),
	   "a formal tone changes greeting and sign-off");
	json_object_put(fi);
	json_object_put(fo);

	int plain_hooks = 0, wild_hooks = 0;
	for (int level = 1; level <= 10; level += 9) {
		const char *seen[40];
		int n = 0;
		for (int seed = 0; seed < 40; seed++) {
			struct gen_brief c = brief("social_post", "twitter", 0);
			c.creativity = level;
			c.seed = arena_printf(a, "seed-%d", seed);
			builtin_generate(&c, a, &item);
			const char *copy = arena_strdup(a, json_object_get_string(json_object_object_get(item, "contentBody")));
			const char *end = strpbrk(copy, ".?!"); /* the hook's first sentence */
			const char *hook1 = arena_strndup(a, copy, end ? (size_t)(end - copy) : strlen(copy));
			bool dup = false;
			for (int k = 0; k < n && !dup; k++)
				dup = strcmp(seen[k], hook1) == 0;
			if (!dup)
				seen[n++] = hook1;
			json_object_put(item);
		}
		*(level == 1 ? &plain_hooks : &wild_hooks) = n;
	}
	ok(wild_hooks > plain_hooks, "creativity 10 draws on more openings than creativity 1 (%d > %d)", wild_hooks,
	   plain_hooks);

	struct gen_brief told = brief("social_post", "linkedin", 2);
	told.custom_instructions = "Keep it short. Mention the 14-day free trial. Always end with \"No credit card required\"";
	builtin_generate(&told, a, &item);
	body = json_object_get_string(json_object_object_get(item, "contentBody"));
	ok(strstr(body, "the 14-day free trial") && strstr(body, "No credit card required."),
	   "\"mention X\" and quoted phrases are in the copy");
	json_object_put(item);

	struct gen_brief nameless = brief("ad_copy", "google_ads", 0);
	nameless.product = NULL;
	builtin_generate(&nameless, a, &item);
	ok(!strcasestr(to_s(item), "our product\""), "without a product no headline reads \"Our Product\"");
	json_object_put(item);

	struct gen_brief bare = { .content_type = "email", .platform = "email", .objective = "awareness" };
	is_int(builtin_generate(&bare, a, &item), 0, "a brief with no persona, product or keywords still works");
	json_object_put(item);
	arena_free(a);
	return tap_done();
}
