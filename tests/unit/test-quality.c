/* Unit tests for src/gen/quality.c: each check with examples. */
#include "quality.h"
#include "tap.h"

static const struct quality_part *part(const struct quality_result *r, const char *name)
{
	for (int i = 0; i < r->nparts; i++)
		if (strcmp(r->parts[i].name, name) == 0)
			return &r->parts[i];
	return NULL;
}

int main(void)
{
	struct quality_result r, r2;
	const char *tags[] = { "#automation", "#growth" };
	struct quality_input good = {
		.content_type = "social_post", .platform = "linkedin",
		.body = "Founders lose hours every week to manual follow-ups. Acme Flow automates lead nurturing "
			"so you can focus on closing. Setup takes minutes, not weeks. Start your free trial today.",
		.call_to_action = "Start your free trial", .hashtags = tags, .nhashtags = 2,
		.keywords = "automation, lead nurturing",
	};
	quality_score(&good, &r);
	quality_score(&good, &r2);
	ok(r.score >= 85, "a well-formed LinkedIn post scores high (%d)", r.score);
	is_int(r.score, r2.score, "deterministic");
	ok(part(&r, "keywords") && part(&r, "keywords")->score == 100, "both keywords covered");
	ok(!part(&r, "subjectLine"), "no subject check outside email");
	ok(!part(&r, "personaMatch"), "no persona check without a persona");

	struct quality_input spam = good;
	spam.body = "ACT NOW!!! 100% FREE MONEY, GUARANTEED WINNER! CLICK HERE!!!";
	quality_score(&spam, &r);
	ok(part(&r, "spam")->score <= 20, "spam triggers and shouting are penalised (%d)", part(&r, "spam")->score);
	ok(r.score < 60, "and drag the score down (%d)", r.score);

	struct quality_input tweet = good;
	tweet.platform = "twitter";
	char longbody[400];
	memset(longbody, 'a', 300);
	longbody[300] = '\0';
	tweet.body = longbody;
	quality_score(&tweet, &r);
	is_int(part(&r, "length")->score, 0, "over the platform's hard limit scores 0 on length");

	struct quality_input nocta = good;
	nocta.call_to_action = NULL;
	nocta.body = "A quiet note about our product.";
	quality_score(&nocta, &r);
	ok(part(&r, "callToAction")->score < 30, "no call to action anywhere");

	struct quality_input email = {
		.content_type = "email", .platform = "email", .subject_line = "Meet Acme Flow",
		.preheader = "See how Acme Flow helps you book more demos without the busywork.",
		.body = "Hi there,\n\nAcme Flow automates follow-ups. Start your free trial today.",
		.call_to_action = "Start your free trial",
	};
	quality_score(&email, &r);
	ok(part(&r, "subjectLine") && part(&r, "subjectLine")->score == 100, "short subject with a preheader");
	email.subject_line = "This subject line is far too long to read well on a phone screen at all";
	email.preheader = NULL;
	quality_score(&email, &r);
	ok(part(&r, "subjectLine")->score < 80, "long subject without preheader loses points (%d)",
	   part(&r, "subjectLine")->score);

	const char *terms[] = { "closing more deals", "manual follow-ups", "remote work" };
	struct quality_input persona = good;
	persona.persona_terms = terms;
	persona.npersona_terms = 3;
	quality_score(&persona, &r);
	ok(part(&r, "personaMatch") != NULL, "persona check applies with terms");
	ok(part(&r, "personaMatch")->score >= 60, "two of three persona terms are mentioned (%d)",
	   part(&r, "personaMatch")->score);

	arena *a = arena_new(0);
	buf b;
	buf_init(&b, a, 64);
	quality_breakdown_json(&r, &b);
	ok(strstr(buf_cstr(&b), "\"readability\":{\"score\":") != NULL, "breakdown is JSON with per-check scores");
	arena_free(a);
	return tap_done();
}
