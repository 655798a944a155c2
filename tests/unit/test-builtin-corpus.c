/*
 * The builtin generator over tests/fixtures/builtin-briefs.json: every content
 * type x platform x 3 variants for each brief (varied personas, products,
 * keywords, tones, creativity levels, instructions). No item may break a hard
 * limit or fail the truncation and grammar checks, use the campaign's
 * internal name, or leave out what the instructions ask for; variants
 * differ; the same brief gives the same copy. Prints the score distribution.
 */
#include <stdlib.h>

#include "brief.h"
#include "buf.h"
#include "builtin.h"
#include "content.h"
#include "platforms.h"
#include "tap.h"

#define INTERNAL_NAME "Q3 internal push"

static const char *to_s(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static int part_score(json_object *item, const char *name)
{
	json_object *bd = json_object_object_get(item, "qualityBreakdown"), *p;
	if (!json_object_object_get_ex(bd, name, &p))
		return -1;
	return json_object_get_int(json_object_object_get(p, "score"));
}

static const char *part_note(json_object *item, const char *name)
{
	json_object *p = json_object_object_get(json_object_object_get(item, "qualityBreakdown"), name);
	return p ? json_object_get_string(json_object_object_get(p, "note")) : "";
}

static bool passes_all(json_object *item)
{
	json_object_object_foreach(json_object_object_get(item, "qualityBreakdown"), k, v) {
		(void)k;
		if (json_object_get_int(json_object_object_get(v, "score")) < 60)
			return false;
	}
	return true;
}

static int cmp_int(const void *x, const void *y)
{
	return *(const int *)x - *(const int *)y;
}

/* The campaign context brief_fill() reads, from one fixture entry. */
static json_object *campaign_of(json_object *fx, int i)
{
	json_object *c = json_object_new_object();
	json_object_object_add(c, "id", json_object_new_string_len("00000000-0000-0000-0000-000000000000", 36));
	json_object_object_add(c, "name", json_object_new_string(INTERNAL_NAME));
	static const char *const keys[] = { "product", "description", "objective", "tone", "keywords", NULL };
	for (const char *const *k = keys; *k; k++) {
		json_object *v = json_object_object_get(fx, *k);
		json_object_object_add(c, *k, v ? json_object_get(v) : NULL);
	}
	char id[40];
	snprintf(id, sizeof(id), "00000000-0000-0000-0000-%012d", i);
	json_object_object_add(c, "id", json_object_new_string(id));
	json_object *s = json_object_new_object();
	json_object *ci = json_object_object_get(fx, "customInstructions");
	json_object_object_add(s, "customInstructions", ci ? json_object_get(ci) : NULL);
	json_object_object_add(s, "creativityLevel", json_object_get(json_object_object_get(fx, "creativityLevel")));
	json_object_object_add(c, "generationSettings", s);
	return c;
}

static char *text_of(arena *a, json_object *item)
{
	buf b;
	buf_init(&b, a, 1024);
	static const char *const fields[] = { "subjectLine", "preheader", "contentBody", "callToAction", NULL };
	for (const char *const *f = fields; *f; f++) {
		json_object *v = json_object_object_get(item, *f);
		if (v)
			buf_printf(&b, "%s\n", json_object_get_string(v));
	}
	static const char *const lists[] = { "headlines", "descriptions", NULL };
	for (const char *const *f = lists; *f; f++) {
		json_object *l = json_object_object_get(item, *f);
		for (size_t i = 0; l && i < json_object_array_length(l); i++)
			buf_printf(&b, "%s\n", json_object_get_string(json_object_array_get_idx(l, i)));
	}
	return (char *)buf_cstr(&b);
}

int main(int argc, char **argv)
{
	json_object *fixtures = json_object_from_file(SOURCE_ROOT "/tests/fixtures/builtin-briefs.json");
	ok(fixtures && json_object_array_length(fixtures) >= 30, "30 or more briefs in the fixtures");
	if (!fixtures)
		return tap_done();
	arena *a = arena_new(0);
	size_t nf = json_object_array_length(fixtures), total = 0, passing = 0;
	int *scores = calloc(nf * 10 * 3, sizeof(int));
	int over_limit = 0, broken = 0, internal = 0, nondet = 0, same_variants = 0, missing = 0;
	for (size_t i = 0; i < nf; i++) {
		json_object *fx = json_object_array_get_idx(fixtures, i);
		json_object *campaign = campaign_of(fx, (int)i);
		json_object *persona = json_object_object_get(fx, "persona");
		for (size_t t = 0; t < N_CONTENT_TYPES; t++)
			for (size_t p = 0; content_types[t].platforms[p]; p++) {
				const char *prev[3] = { NULL };
				for (int v = 0; v < 3; v++) {
					struct gen_brief b = { 0 };
					struct content_context ctx; /* brief_fill() sets every field */
					brief_fill(a, &b, &ctx, NULL, campaign, persona);
					b.content_type = content_types[t].name;
					b.platform = content_types[t].platforms[p];
					b.variant = v;
					json_object *item, *again;
					builtin_generate(&b, a, &item);
					builtin_generate(&b, a, &again);
					const char *s = arena_strdup(a, to_s(item));
					if (strcmp(s, to_s(again)) != 0)
						nondet++;
					for (int k = 0; k < v; k++)
						if (strcmp(prev[k], s) == 0) {
							same_variants++;
							printf("# brief %zu %s/%s: variants %d and %d are the same\n", i, b.content_type,
							       b.platform, k, v);
						}
					prev[v] = s;
					struct verrors errs;
					verrors_init(&errs, a);
					validate_body(item, content_item_fields, &errs);
					content_item_check(item, &errs);
					if (errs.count) {
						over_limit++;
						printf("# brief %zu %s/%s v%d: %s %s\n", i, b.content_type, b.platform, v,
						       errs.head->field, errs.head->message);
					}
					content_item_finish(a, item, &ctx, NULL);
					const char *text = text_of(a, item);
					if (part_score(item, "truncation") != 100 || part_score(item, "grammar") != 100) {
						broken++;
						printf("# brief %zu %s/%s v%d: %s / %s\n#   %s\n", i, b.content_type, b.platform, v,
						       part_note(item, "truncation"), part_note(item, "grammar"), s);
					}
					if (strstr(text, INTERNAL_NAME)) {
						internal++;
						printf("# brief %zu %s/%s v%d uses the campaign name\n", i, b.content_type, b.platform, v);
					}
					/* what "mention X" and quotes ask for is in emails and long posts */
					json_object *ci = json_object_object_get(fx, "customInstructions");
					bool roomy = strcmp(b.platform, "email") == 0 || strcmp(b.platform, "linkedin") == 0;
					if (ci && roomy && strcmp(b.content_type, "ad_copy") != 0) {
						const char *want = json_object_get_string(json_object_object_get(fx, "expect"));
						if (want && !strcasestr(text, want)) {
							missing++;
							printf("# brief %zu %s/%s v%d lacks \"%s\"\n", i, b.content_type, b.platform, v, want);
						}
					}
					scores[total++] = json_object_get_int(json_object_object_get(item, "qualityScore"));
					passing += passes_all(item);
					if (argc > 1 && v == 0)
						printf("# %s\n", to_s(item));
					json_object_put(item);
					json_object_put(again);
				}
			}
		json_object_put(campaign);
	}
	is_int(over_limit, 0, "no item breaks a hard limit (%zu items)", total);
	is_int(broken, 0, "no item fails the truncation or grammar checks");
	is_int(internal, 0, "no item uses the campaign's internal name");
	is_int(missing, 0, "what the instructions ask for is in every email and LinkedIn post");
	is_int(nondet, 0, "the same brief gives the same copy");
	is_int(same_variants, 0, "the variants of a brief differ");
	qsort(scores, total, sizeof(int), cmp_int);
	double sum = 0;
	for (size_t i = 0; i < total; i++)
		sum += scores[i];
	printf("# scores over %zu items: min %d, median %d, mean %.1f, max %d; passing every check %.1f%%\n", total,
	       scores[0], scores[total / 2], sum / (double)total, scores[total - 1], 100.0 * (double)passing / (double)total);
	ok(scores[0] >= 60, "every item scores above the broken cap (min %d)", scores[0]);
	free(scores);
	json_object_put(fixtures);
	arena_free(a);
	return tap_done();
}
