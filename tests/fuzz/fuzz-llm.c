/*
 * fuzz-llm.c - what a model (or anything posing as its endpoint) answers:
 * llm_parse() on the HTTP body, then what generate.c does with an item:
 * the content rules, the repair prompt for a broken item, and scoring.
 *
 * Input: one byte choosing the HTTP status and the brief's type/platform,
 * then the response body.
 */
#include "content.h"
#include "fuzz.h"
#include "llm.h"

static const long statuses[] = { 200, 200, 200, 400, 429, 500 };
static const struct {
	const char *type, *platform;
} slots[] = {
	{ "email", "email" },
	{ "social_post", "twitter" },
	{ "social_post", "linkedin" },
	{ "ad_copy", "google_ads" },
	{ "ad_copy", "facebook" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	arena *a = fuzz_arena();
	static const char *const interests[] = { "growth", "automation" };
	struct gen_brief b = {
		.content_type = slots[data[0] % 5].type,
		.platform = slots[data[0] % 5].platform,
		.seed = "",
		.product = "Acme Flow",
		.objective = "conversion",
		.keywords = "automation, CRM",
		.creativity = 5,
		.interests = { interests, 2 },
	};
	long status = statuses[(data[0] / 5) % 6];
	struct llm_answer ans;
	llm_parse(a, &b, status, (const char *)data + 1, size - 1, &ans);
	if (ans.verdict == LLM_OK) {
		if (!ans.item)
			abort();
		struct verrors errs;
		verrors_init(&errs, a);
		validate_body(ans.item, content_item_fields, &errs);
		if (!errs.count)
			content_item_check(ans.item, &errs);
		if (errs.count) {
			llm_repair_body(a, "gpt-4o-mini", &b, ans.item, &errs, NULL);
		} else {
			struct content_context ctx = { .keywords = b.keywords };
			struct content_origin origin = { "ai", "gpt-4o-mini", "adcraft-prompts/1", NULL, NULL, 1 };
			content_item_finish(a, ans.item, &ctx, &origin);
		}
	}
	arena_reset(a);
	return 0;
}
