/* Unit tests for src/gen/brand.c: real bad copy held to a brand profile. */
#include <errno.h>
#include <stdlib.h>

#include "brand.h"
#include "json.h"
#include "tap.h"

static const char PROFILE[] =
	"{\"id\":\"6b1d7c52-0000-4000-8000-000000000001\",\"name\":\"FlowDesk\",\"version\":3,"
	"\"voice\":\"Plain, warm, confident.\",\"formality\":2,\"emojiPolicy\":\"none\","
	"\"readingLevel\":{\"maxGrade\":8},"
	"\"preferredTerms\":[{\"term\":\"customers\",\"replaces\":[\"clients\",\"users\"]},"
	"                    {\"term\":\"affordable\",\"replaces\":[\"cheap\"]}],"
	"\"forbiddenTerms\":[\"cheap\",\"guaranteed\",\"best in class\"],"
	"\"competitors\":[\"Asana\",\"Monday.com\"],"
	"\"requiredDisclaimers\":[{\"text\":\"Terms apply.\"},"
	"  {\"text\":\"Unsubscribe anytime.\",\"contentTypes\":[\"email\"]},"
	"  {\"text\":\"#ad\",\"platforms\":[\"instagram\"]}],"
	"\"examples\":[\"Your week, planned in five minutes.\"]}";

static arena *a;

/* Parsed JSON owned by the test's arena (freed with it). */
static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);
	if (!o) {
		printf("Bail out! test JSON does not parse: %s\n", s);
		exit(1);
	}
	return json_own(a, o);
}

static const char *get(json_object *o, const char *k)
{
	json_object *v = json_object_object_get(o, k);
	return v ? json_object_get_string(v) : NULL;
}

static const struct brand_finding *find(const struct brand_report *r, enum brand_kind kind, const char *term)
{
	for (const struct brand_finding *f = r->head; f; f = f->next)
		if (f->kind == kind && (!term || (f->term && strcmp(f->term, term) == 0)))
			return f;
	return NULL;
}

int main(void)
{
	a = arena_new(0);
	json_object *pj = parse(PROFILE);
	struct brand_profile p;
	is_int(brand_profile_parse(a, pj, &p), 0, "the profile parses");
	is_int(p.version, 3, "version");
	is_int(p.emoji, BRAND_EMOJI_NONE, "emoji policy none");
	is_int(p.npreferred, 2, "two preferred terms");
	is_int(p.ndisclaimers, 3, "three disclaimers");
	is_int(p.max_grade, 8, "reading level");
	ok(brand_profile_parse(a, NULL, &p) == -EINVAL && p.version == 3, "not an object: -EINVAL, nothing touched");

	ok(brand_disclaimer_applies(&p.disclaimers[0], "ad_copy", "twitter"), "no filter: everywhere");
	ok(brand_disclaimer_applies(&p.disclaimers[1], "email", "email"), "email-only disclaimer on email");
	ok(!brand_disclaimer_applies(&p.disclaimers[1], "social_post", "linkedin"), "but not on a post");
	ok(!brand_disclaimer_applies(&p.disclaimers[2], "social_post", "twitter"), "instagram-only elsewhere");

	/* A LinkedIn post with a forbidden word, a competitor, a replaced word and emoji. */
	json_object *post = parse(
		"{\"contentType\":\"social_post\",\"platform\":\"linkedin\","
		"\"contentBody\":\"Cheap plans for busy clients \xF0\x9F\x9A\x80! Unlike Asana, FlowDesk is GUARANTEED to "
		"save time. Asana's users agree \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD.\","
		"\"callToAction\":\"Try the cheap plan\",\"hashtags\":[\"#Asana\",\"#cheap\",\"#productivity\"]}");
	struct brand_report rep;
	brand_report_init(&rep, &p);
	is_int(brand_enforce(a, &p, post, &rep), 0, "the post can be made to comply");
	const char *body = get(post, "contentBody");
	is_str(body, "Affordable plans for busy customers! Unlike FlowDesk is to save time. Customers agree.\n\n"
		     "Terms apply.",
	       "cheap -> affordable (capitalised), clients -> customers, competitor and forbidden word removed and "
	       "tidied, emoji stripped, disclaimer appended");
	is_str(get(post, "callToAction"), "Try the affordable plan", "the call to action too");
	json_object *tags = json_object_object_get(post, "hashtags");
	is_int(json_object_array_length(tags), 2, "the competitor hashtag is dropped");
	is_str(json_object_get_string(json_object_array_get_idx(tags, 0)), "#affordable", "#cheap -> #affordable");
	const struct brand_finding *f = find(&rep, BRAND_COMPETITOR, "Asana");
	ok(f && f->action == BRAND_REMOVED && f->count == 2 && strcmp(f->field, "contentBody") == 0,
	   "Asana removed twice from the body");
	f = find(&rep, BRAND_FORBIDDEN, "cheap");
	ok(f && f->action == BRAND_REPLACED && strcmp(f->with, "affordable") == 0, "cheap replaced");
	ok(find(&rep, BRAND_EMOJI, NULL) && find(&rep, BRAND_EMOJI, NULL)->count == 2, "two emoji (one a skin-tone sequence)");
	ok(find(&rep, BRAND_DISCLAIMER, "Terms apply.") && !find(&rep, BRAND_DISCLAIMER, "#ad"), "only applicable disclaimers");

	/* check mode finds nothing left */
	struct brand_report again;
	brand_report_init(&again, &p);
	is_int(brand_check(a, &p, post, &again), 0, "an enforced item passes the check");

	/* whole words only, case-insensitive */
	json_object *words = parse("{\"contentType\":\"social_post\",\"platform\":\"twitter\","
				   "\"contentBody\":\"Cheapskates and asanas are fine; Monday.com is not. Terms apply.\"}");
	brand_report_init(&rep, &p);
	is_int(brand_enforce(a, &p, words, &rep), 0, "enforced");
	is_str(get(words, "contentBody"), "Cheapskates and asanas are fine; is not. Terms apply.",
	       "only whole words match; a present disclaimer is not repeated");

	/* a multi-word forbidden term at the start of a sentence */
	json_object *email = parse("{\"contentType\":\"email\",\"platform\":\"email\",\"subjectLine\":\"Best in class planning\","
				   "\"contentBody\":\"Hi,\\n\\nbest in class tools, for you.\"}");
	brand_report_init(&rep, &p);
	is_int(brand_enforce(a, &p, email, &rep), 0, "email enforced");
	is_str(get(email, "subjectLine"), "Planning", "removed at the start: the next word is capitalised");
	is_str(get(email, "contentBody"), "Hi,\n\ntools, for you.\n\nTerms apply.\n\nUnsubscribe anytime.",
	       "both email disclaimers appended");

	/* a tweet that is full: the copy is shortened to make room, inside 280 characters */
	char tweet[400];
	memset(tweet, 0, sizeof(tweet));
	strcpy(tweet, "{\"contentType\":\"social_post\",\"platform\":\"twitter\",\"contentBody\":\"");
	for (int i = 0; i < 27; i++)
		strcat(tweet, "Plan more. ");
	strcat(tweet, "\"}");
	json_object *full = parse(tweet);
	brand_report_init(&rep, &p);
	is_int(brand_enforce(a, &p, full, &rep), 0, "full tweet enforced");
	body = get(full, "contentBody");
	ok(utf8_length(body, strlen(body)) <= 280, "still within 280 (%zu)", utf8_length(body, strlen(body)));
	ok(strstr(body, "Terms apply.") && rep.shortened, "with the disclaimer, the copy shortened");

	/* a disclaimer that cannot fit is a failure, not a silent drop */
	json_object *big = parse("{\"id\":\"x\",\"version\":1,\"requiredDisclaimers\":[{\"text\":\""
				 "Capital at risk. Past performance does not guarantee future results. Fees and "
				 "charges apply; read the key information document before investing.\"}]}");
	struct brand_profile bp;
	brand_profile_parse(a, big, &bp);
	json_object *ad = parse("{\"contentType\":\"ad_copy\",\"platform\":\"google_ads\",\"headlines\":[\"Plan faster\"],"
				"\"descriptions\":[\"Plan every task in one place.\"],\"contentBody\":\"Plan every task in one place.\"}");
	brand_report_init(&rep, &bp);
	is_int(brand_enforce(a, &bp, ad, &rep), -EMSGSIZE, "a 150-character disclaimer cannot fit a search ad");
	ok(rep.error && strstr(rep.error, "does not fit"), "and says why: %s", rep.error ? rep.error : "");
	json_object *x = parse("{\"contentType\":\"social_post\",\"platform\":\"twitter\",\"contentBody\":\"Hi\"}");
	json_object *huge = parse("{\"id\":\"x\",\"version\":1,\"requiredDisclaimers\":[{\"text\":\""
				  "Capital at risk. Past performance does not guarantee future results. Fees and charges "
				  "apply; read the key information document before investing. Capital at risk. Past "
				  "performance does not guarantee future results. Fees and charges apply; read the key "
				  "information document before investing now.\"}]}");
	brand_profile_parse(a, huge, &bp);
	brand_report_init(&rep, &bp);
	is_int(brand_enforce(a, &bp, x, &rep), -EMSGSIZE, "a 290-character disclaimer cannot fit a tweet");

	/* search ads: the disclaimer goes into a description that has room, which becomes the body */
	brand_profile_parse(a, pj, &p);
	json_object *search = parse("{\"contentType\":\"ad_copy\",\"platform\":\"google_ads\","
				    "\"headlines\":[\"Cheap planning for teams\",\"Plan in minutes\"],"
				    "\"descriptions\":[\"One calm plan for your whole team, built in five minutes flat, always up to date.\","
				    "\"Plan every task in one place.\"]}");
	brand_report_init(&rep, &p);
	is_int(brand_enforce(a, &p, search, &rep), 0, "search ad enforced");
	is_str(get(search, "contentBody"), "Plan every task in one place. Terms apply.", "the short description carries it");
	is_str(get(search, "subjectLine"), "Affordable planning for teams", "headline replaced and mirrored");

	/* check mode: first violation named, nothing changed */
	json_object *manual = parse("{\"contentType\":\"social_post\",\"platform\":\"linkedin\","
				    "\"contentBody\":\"We beat Monday.com on price. Terms apply.\"}");
	brand_report_init(&rep, &p);
	is_int(brand_check(a, &p, manual, &rep), 1, "one violation");
	ok(rep.head && rep.head->kind == BRAND_COMPETITOR, "the competitor");
	is_str(brand_finding_message(a, rep.head), "names the competitor \"Monday.com\", which the brand profile forbids",
	       "named in the message");
	is_str(get(manual, "contentBody"), "We beat Monday.com on price. Terms apply.", "check mode changes nothing");
	json_object *nodisc = parse("{\"contentType\":\"email\",\"platform\":\"email\",\"contentBody\":\"Hello \xF0\x9F\x98\x80\","
				    "\"subjectLine\":\"For our users\"}");
	brand_report_init(&rep, &p);
	is_int(brand_check(a, &p, nodisc, &rep), 4, "replaced word, emoji and two missing disclaimers");
	ok(rep.head->kind == BRAND_PREFERRED && strcmp(rep.head->field, "subjectLine") == 0, "first: users in the subject");
	is_str(brand_finding_message(a, rep.head), "uses \"users\"; the brand profile says \"customers\" instead", "message");

	struct verrors errs;
	verrors_init(&errs, a);
	is_int(brand_forbidden_errors(a, &p, manual, &errs), 1, "repair errors: forbidden and competitor terms only");
	is_str(errs.head->field, "contentBody", "field named");

	/* sparing: at most two emoji per item */
	json_object *sp = parse("{\"id\":\"s\",\"version\":2,\"emojiPolicy\":\"sparing\"}");
	brand_profile_parse(a, sp, &bp);
	json_object *party = parse("{\"contentType\":\"social_post\",\"platform\":\"instagram\","
				   "\"contentBody\":\"Launch day \xF0\x9F\x8E\x89\xF0\x9F\x8E\x89 with \xE2\x9C\xA8 and "
				   "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x92\xBB too\"}");
	brand_report_init(&rep, &bp);
	is_int(brand_check(a, &bp, party, &rep), 1, "four emoji are over the sparing policy");
	brand_enforce(a, &bp, party, &rep);
	is_str(get(party, "contentBody"), "Launch day \xF0\x9F\x8E\x89\xF0\x9F\x8E\x89 with and too",
	       "the first two kept, the rest (a ZWJ sequence too) dropped");

	/* a profile that contradicts itself (a PATCH made a preferred term forbidden): never writes a banned word */
	json_object *odd = parse("{\"id\":\"o\",\"version\":5,\"forbiddenTerms\":[\"cheap\",\"budget\"],"
				 "\"preferredTerms\":[{\"term\":\"budget\",\"replaces\":[\"cheap\",\"low-cost\"]}]}");
	brand_profile_parse(a, odd, &bp);
	json_object *lowcost = parse("{\"contentType\":\"social_post\",\"platform\":\"linkedin\","
				     "\"contentBody\":\"A cheap, low-cost plan.\"}");
	brand_report_init(&rep, &bp);
	brand_enforce(a, &bp, lowcost, &rep);
	is_str(get(lowcost, "contentBody"), "A low-cost plan.", "the forbidden word is removed, not replaced by another");
	brand_report_init(&rep, &bp);
	is_int(brand_check(a, &bp, lowcost, &rep), 0, "and the result passes the check");

	/* brandFit and metadata */
	json_object *item = parse("{\"qualityScore\":90,\"qualityBreakdown\":{},\"metadata\":{\"generatedBy\":\"manual\"}}");
	brand_report_init(&rep, &p);
	brand_check(a, &p, manual, &rep);
	rep.violations_allowed = true;
	const char *s = brand_annotate(a, item, &rep);
	json_object *fit = json_object_object_get(json_object_object_get(item, "qualityBreakdown"), "brandFit");
	ok(fit && json_object_get_boolean(json_object_object_get(fit, "violations")), "brandFit records the violation");
	is_int(json_object_get_int(json_object_object_get(item, "qualityScore")), BRAND_VIOLATION_SCORE_CAP,
	       "score capped");
	is_str(get(json_object_object_get(item, "metadata"), "brandProfileId"), "6b1d7c52-0000-4000-8000-000000000001",
	       "metadata.brandProfileId");
	is_int(json_object_get_int(json_object_object_get(json_object_object_get(item, "metadata"), "brandProfileVersion")), 3,
	       "metadata.brandProfileVersion");
	ok(s && strstr(s, "\"brandFit\""), "serialised");
	arena_free(a);
	return tap_done();
}
