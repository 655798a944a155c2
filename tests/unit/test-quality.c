/* Unit tests for src/gen/quality.c and src/gen/checks.c: each check with examples, the bad ones from
 * issue #10 included. */
#include "checks.h"
#include "quality.h"
#include "tap.h"

static bool truncated(const char *text, bool headline)
{
	char why[96];
	return check_truncation(text, headline, why, sizeof(why)) != NULL;
}

static bool ungrammatical(const char *text)
{
	char why[96];
	return check_grammar(text, why, sizeof(why)) != NULL;
}

static void broken_copy(void)
{
	/* Real bad output of the old builtin generator (issue #10). */
	ok(truncated("Ready to get 10 hours a?", true), "subject \"Ready to get 10 hours a?\" is cut");
	ok(truncated("Get 10 Hours A", true), "headline \"Get 10 Hours A\" is cut");
	ok(truncated("Get More Done With", true), "headline \"Get More Done With\" is cut");
	ok(ungrammatical("Built For Save Time"), "headline \"Built For Save Time\" is ungrammatical");
	ok(truncated("Your FlowDesk spring launch offer is...", true), "\"...offer is...\" is cut");
	ok(truncated("Your FlowDesk spring launch offer is", true), "ending on \"is\" after a noun is cut");
	ok(ungrammatical("FlowDesk spring launch is built around save time and ops."),
	   "\"built around save time\" is a pasted keyword");
	/* The other shapes of truncation. */
	ok(truncated("Automate your follow-ups and", false), "ends on a conjunction");
	ok(truncated("Stop losing leads to the", false), "ends on an article");
	ok(truncated("Meet the smarter way to autom-", false), "ends in a cut word");
	ok(truncated("Faster... Better Planning", true), "\"...\" inside a headline");
	ok(!truncated("Wait... there is more to it.", false), "but a body may pause with \"...\"");
	ok(truncated("Plans (and budgets that fit", false), "an open bracket");
	ok(truncated("She said \"try it today.", false), "an open quote");
	ok(truncated("Hi there,\n\nThis is where your team's.\n\nThe best of", false), "a cut line inside a body");
	/* Whole phrases pass. */
	static const char *const whole[] = {
		"Meet Acme Flow", "Sign up", "Log in", "See how easy it is.", "Here is who we are.",
		"Ready to book more qualified demos?", "Start your 14-day free trial", "Built for Lead Nurturing",
		"Get 10 Hours a Week Back", "An hour a day, back in your week.", "An SEO audit in minutes.",
		"Made for busy teams (and their managers).", "A better way to plan \u201cthe big week\u201d.",
	};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		ok(!check_broken(whole[i], true), "\"%s\" is whole and grammatical", whole[i]);
	ok(ungrammatical("Plan your week with the the planner."), "a word twice");
	ok(ungrammatical("It is a easy way to plan."), "\"a easy\"");
	ok(ungrammatical("It is an great way to plan."), "\"an great\"");
	ok(ungrammatical("Bring your the team."), "two determiners");
	ok(ungrammatical("A simpler way to plan, made for grow faster."), "\"for grow\"");
	ok(!ungrammatical("Plan the launch for your team."), "\"the launch\": a verb that is a noun too");
	is_int(check_caps_run("ACT NOW AND SAVE big"), 4, "a run of capitals");
	is_int(check_caps_run("Our CRM works"), 1, "an acronym alone is no run");
	is_int(check_count_emoji("Launch day \U0001F680 and \u2728 more"), 2, "emoji counted");
	is_int(check_count_links("See https://a.example and www.b.example or http://c."), 3, "links counted");
	ok(check_reading_grade("The cat sat. The dog ran.") < 3, "short words, short sentences: a low grade");
	ok(check_reading_grade("Comprehensive organisational transformation necessitates considerable "
			       "institutional commitment.") > 14, "long words: a high grade");
}

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

	/* The email: a cut subject scored 96; a broken item now scores 60 at most. */
	struct quality_input cut = email;
	cut.subject_line = "Ready to get 10 hours a?";
	cut.preheader = "See how FlowDesk helps you get 10 hours a week back without the busywork.";
	quality_score(&cut, &r);
	is_int(part(&r, "truncation")->score, 0, "the cut subject fails truncation (%s)", part(&r, "truncation")->note);
	ok(r.broken && r.score <= QUALITY_BROKEN_MAX, "and the item scores %d, not 96", r.score);

	const char *heads[] = { "FlowDesk Planner", "Get More Done With", "Try FlowDesk Today" };
	const char *descs[] = { "Plan every week in one place.", "Set up in minutes. No long contracts." };
	struct quality_input ad = {
		.content_type = "ad_copy", .platform = "google_ads", .subject_line = heads[0], .body = descs[0],
		.call_to_action = "Get started", .headlines = heads, .nheadlines = 3, .descriptions = descs,
		.ndescriptions = 2,
	};
	quality_score(&ad, &r);
	ok(r.broken && r.score <= QUALITY_BROKEN_MAX, "a cut headline among good ones breaks the ad (%d, %s)", r.score,
	   part(&r, "truncation")->note);
	heads[1] = "Built For Save Time";
	quality_score(&ad, &r);
	ok(part(&r, "grammar")->score == 0 && r.score <= QUALITY_BROKEN_MAX, "a pasted keyword fails grammar (%s)",
	   part(&r, "grammar")->note);
	heads[1] = "Plan Your Week";
	quality_score(&ad, &r);
	ok(!r.broken && part(&r, "truncation")->score == 100, "whole headlines pass");

	struct quality_input stuffed = good;
	stuffed.body = "Automation for automation teams. Our automation does automation so your automation "
		       "never stops. Start your free trial.";
	quality_score(&stuffed, &r);
	ok(part(&r, "stuffing")->score < 60, "keyword stuffing (%s)", part(&r, "stuffing")->note);
	ok(part(&r, "repetition")->score < 100, "and repetition (%s)", part(&r, "repetition")->note);
	ok(!r.passes_all, "an item failing a check does not pass every check");

	struct quality_input repeated = good;
	repeated.body = "Plan your week in minutes. Your team will love it. Plan your week in minutes, every week. "
			"Start your free trial.";
	quality_score(&repeated, &r);
	ok(part(&r, "repetition")->score < 100, "a repeated phrase (%s)", part(&r, "repetition")->note);

	struct quality_input loud = good;
	loud.body = "THIS CHANGES EVERYTHING for founders!! Start your free trial today!";
	quality_score(&loud, &r);
	ok(part(&r, "shouting")->score < 100, "shouting (%s)", part(&r, "shouting")->note);
	ok(part(&r, "punctuation")->score < 100, "\"!!\" (%s)", part(&r, "punctuation")->note);

	struct quality_input emoji = good;
	emoji.body = "Launch day \U0001F680\U0001F680\U0001F680 for founders \u2728\u2728. Start your free trial today.";
	quality_score(&emoji, &r);
	ok(part(&r, "emoji")->score < 100, "five emoji are not sparing (%s)", part(&r, "emoji")->note);
	emoji.body = "Launch day \U0001F680 for founders. Start your free trial today.";
	emoji.emoji_policy = EMOJI_NONE;
	quality_score(&emoji, &r);
	is_int(part(&r, "emoji")->score, 0, "one emoji breaks a none policy");
	emoji.emoji_policy = EMOJI_FREE;
	quality_score(&emoji, &r);
	ok(!part(&r, "emoji"), "a free policy is not scored");
	enum quality_emoji_policy pol;
	ok(quality_emoji_policy_parse("none", &pol) == 0 && pol == EMOJI_NONE, "policy names parse");
	ok(quality_emoji_policy_parse("lots", &pol) < 0, "unknown policy names do not");

	struct quality_input links = good;
	links.platform = "twitter";
	links.body = "Read https://a.example then https://b.example and https://c.example. Start your free trial.";
	quality_score(&links, &r);
	ok(part(&r, "links") && part(&r, "links")->score < 100, "three links in a tweet (%s)", part(&r, "links")->note);
	quality_score(&good, &r);
	ok(!part(&r, "links"), "copy without links is not scored on links");

	struct quality_input spammy = email;
	spammy.body = "Dear friend, make money from home with no fees. Start your free trial today.";
	quality_score(&spammy, &r);
	ok(part(&r, "spam")->score <= 40, "email spam triggers (%s)", part(&r, "spam")->note);

	struct quality_input grade = good;
	ok(!part(&r, "readingGrade"), "no reading grade without a target");
	grade.max_grade = 4;
	grade.body = "Comprehensive organisational transformation necessitates considerable institutional "
		     "commitment from leadership. Start your free trial.";
	quality_score(&grade, &r);
	ok(part(&r, "readingGrade") && part(&r, "readingGrade")->score < 60, "above the target grade (%s)",
	   part(&r, "readingGrade")->note);

	broken_copy();

	arena *a = arena_new(0);
	buf b;
	buf_init(&b, a, 64);
	quality_breakdown_json(&r, &b);
	ok(strstr(buf_cstr(&b), "\"readability\":{\"score\":") != NULL, "breakdown is JSON with per-check scores");
	arena_free(a);
	return tap_done();
}
