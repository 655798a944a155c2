/*
 * llm.c - prompts, schemas and answers of the chat-completions API.
 *
 * The model is asked for structured output (response_format json_schema,
 * strict) with one schema per content shape; whatever comes back is still
 * parsed strictly and checked field by field, because "OpenAI-compatible"
 * servers differ in how faithfully they honour the schema.
 */
#include "llm.h"

#include <stdio.h>
#include <string.h>

#include "brand.h"
#include "buf.h"
#include "json.h"
#include "platforms.h"

struct schema {
	const char *schema; /* JSON Schema, strict: every property required, nothing else allowed */
	const char *fields[6];
};

static const struct schema schemas[N_SHAPES] = { /* by enum shape */
	[SHAPE_EMAIL] = {
	  "{\"type\":\"object\",\"additionalProperties\":false,"
	  "\"required\":[\"subjectLine\",\"preheader\",\"contentBody\",\"callToAction\"],"
	  "\"properties\":{\"subjectLine\":{\"type\":\"string\"},\"preheader\":{\"type\":\"string\"},"
	  "\"contentBody\":{\"type\":\"string\"},\"callToAction\":{\"type\":\"string\"}}}",
	  { "subjectLine", "preheader", "contentBody", "callToAction", NULL } },
	[SHAPE_SOCIAL_POST] = {
	  "{\"type\":\"object\",\"additionalProperties\":false,"
	  "\"required\":[\"contentBody\",\"callToAction\",\"hashtags\"],"
	  "\"properties\":{\"contentBody\":{\"type\":\"string\"},\"callToAction\":{\"type\":\"string\"},"
	  "\"hashtags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}",
	  { "contentBody", "callToAction", "hashtags", NULL } },
	[SHAPE_SEARCH_AD] = {
	  "{\"type\":\"object\",\"additionalProperties\":false,"
	  "\"required\":[\"headlines\",\"descriptions\",\"callToAction\"],"
	  "\"properties\":{\"headlines\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	  "\"descriptions\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"callToAction\":{\"type\":\"string\"}}}",
	  { "headlines", "descriptions", "callToAction", NULL } },
	[SHAPE_SOCIAL_AD] = {
	  "{\"type\":\"object\",\"additionalProperties\":false,"
	  "\"required\":[\"subjectLine\",\"contentBody\",\"callToAction\"],"
	  "\"properties\":{\"subjectLine\":{\"type\":\"string\"},\"contentBody\":{\"type\":\"string\"},"
	  "\"callToAction\":{\"type\":\"string\"}}}",
	  { "subjectLine", "contentBody", "callToAction", NULL } },
};

/* The shape of b's content type on b's platform (the brief was validated against the same table). */
static enum shape shape_of(const struct gen_brief *b)
{
	enum shape s;
	return platform_shape(b->content_type, b->platform, &s) == 0 ? s : SHAPE_SOCIAL_AD;
}

/* What the platform allows, in words, for the prompt. */
static void limits_text(buf *o, const struct gen_brief *b)
{
	const struct platform_rule *r = platform_find(b->platform);
	enum shape s = shape_of(b);
	if (s == SHAPE_SEARCH_AD) {
		buf_printf(o, "Google Ads responsive search ad: %d to %d headlines of at most %d characters each, "
			      "%d to %d descriptions of at most %d characters each.",
			   r->headlines_min, r->headlines_max, r->headline_max, r->descriptions_min, r->descriptions_max,
			   r->description_max);
		return;
	}
	buf_printf(o, "contentBody: at most %d characters, ideally %d to %d.", r->body_max, r->body_min_rec,
		   r->body_max_rec);
	if (s == SHAPE_EMAIL)
		buf_printf(o, " subjectLine: at most %d characters, ideally under %d. preheader: %d to %d characters.",
			   SUBJECT_MAX, SUBJECT_RECOMMENDED, PREHEADER_MIN, PREHEADER_MAX);
	else if (r->hashtags_max)
		buf_printf(o, " hashtags: %d to %d, each a single word starting with #.", r->hashtags_min_rec,
			   r->hashtags_max_rec);
	if (s == SHAPE_SOCIAL_AD)
		buf_printf(o, " subjectLine is the ad headline: at most %d characters.", r->ad_title_max);
	buf_printf(o, " callToAction: at most %d characters, starting with a verb.", CTA_RECOMMENDED);
}

static void list_text(buf *o, const char *label, const struct gen_list *l)
{
	if (!l->n)
		return;
	buf_printf(o, "\n%s: ", label);
	for (size_t i = 0; i < l->n; i++)
		buf_printf(o, "%s%s", i ? "; " : "", l->items[i]);
}

static void field(buf *o, const char *label, const char *v)
{
	if (v && *v)
		buf_printf(o, "\n%s: %s", label, v);
}

static void strings_text(buf *o, const char *label, const char *const *items, size_t n)
{
	if (!n)
		return;
	buf_printf(o, "\n%s: ", label);
	for (size_t i = 0; i < n; i++)
		buf_printf(o, "%s\"%s\"", i ? ", " : "", items[i]);
}

/* The brand profile's rules for this item, in words. */
static void brand_text(buf *o, const struct gen_brief *b)
{
	const struct brand_profile *p = b->brand;
	if (!p)
		return;
	static const char *const formality[] = { "", "very casual", "casual", "neutral", "formal", "very formal" };
	static const char *const emoji[] = { "no emoji at all", "at most 2 emoji", "emoji where they help" };
	buf_puts(o, "\nBrand rules (follow them exactly)");
	field(o, "Brand voice", p->voice);
	if (p->formality >= 1 && p->formality <= 5)
		buf_printf(o, "\nFormality: %d of 5 (%s)", p->formality, formality[p->formality]);
	buf_printf(o, "\nEmoji: %s", emoji[p->emoji]);
	if (p->max_grade)
		buf_printf(o, "\nReading level: at most grade %d", p->max_grade);
	for (size_t i = 0; i < p->npreferred; i++) {
		buf_printf(o, "\nSay \"%s\" instead of", p->preferred[i].term);
		for (size_t k = 0; k < p->preferred[i].nreplaces; k++)
			buf_printf(o, "%s \"%s\"", k ? "," : "", p->preferred[i].replaces[k]);
	}
	strings_text(o, "Never use these words", p->forbidden, p->nforbidden);
	strings_text(o, "Never name these competitors", p->competitors, p->ncompetitors);
	for (size_t i = 0; i < p->ndisclaimers; i++)
		if (brand_disclaimer_applies(&p->disclaimers[i], b->content_type, b->platform))
			buf_printf(o, "\nEnd the %s with this disclaimer, word for word (it counts toward the limit): %s",
				   shape_of(b) == SHAPE_SEARCH_AD ? "first description" : "contentBody", p->disclaimers[i].text);
	for (size_t i = 0; i < p->nexamples; i++)
		buf_printf(o, "\nExample of the brand voice: %s", p->examples[i]);
}

static const char *system_prompt(arena *a, const struct gen_brief *b)
{
	buf o;
	buf_init(&o, a, 1024);
	buf_printf(&o, "You are a senior marketing copywriter. Write one %s for %s. Write for the persona and "
		       "objective given, in the tone given, and work the keywords in naturally. No spam words, no "
		       "all-caps shouting, no made-up statistics or testimonials. Limits: ",
		   content_type_find(b->content_type) ? content_type_find(b->content_type)->noun : "marketing email",
		   b->platform);
	limits_text(&o, b);
	buf_puts(&o, " Answer with JSON that matches the schema, nothing else.");
	brand_text(&o, b); /* in the system prompt, so the repair request carries the rules too */
	return buf_cstr(&o);
}

static const char *user_prompt(arena *a, const struct gen_brief *b)
{
	buf o;
	buf_init(&o, a, 1024);
	buf_puts(&o, "Brief");
	field(&o, "Product or offer", b->product);
	field(&o, "About it", b->description);
	field(&o, "Objective", b->objective);
	field(&o, "Tone", b->tone);
	field(&o, "Keywords", b->keywords);
	field(&o, "Persona", b->persona_name);
	field(&o, "Persona description", b->persona_description);
	field(&o, "Occupation", b->occupation);
	field(&o, "Age range", b->age_range);
	field(&o, "Location", b->location);
	list_text(&o, "Interests", &b->interests);
	list_text(&o, "Pain points", &b->pain_points);
	list_text(&o, "Goals", &b->goals);
	field(&o, "Extra instructions", b->custom_instructions);
	if (b->variant > 0)
		buf_printf(&o, "\nThis is variation %d: take a clearly different angle and opening from the obvious one.",
			   b->variant + 1);
	return buf_cstr(&o);
}

double llm_temperature(int creativity)
{
	if (creativity < 1 || creativity > 10)
		creativity = 5;
	return 0.2 + 0.08 * creativity;
}

static const char *body_with(arena *a, const char *model, const struct gen_brief *b, const char *system,
			     const char *user)
{
	const struct schema *s = &schemas[shape_of(b)];
	buf o;
	buf_init(&o, a, 2048);
	buf_puts(&o, "{\"model\":");
	buf_json_str(&o, model);
	buf_printf(&o, ",\"temperature\":%.2f,\"messages\":[{\"role\":\"system\",\"content\":", llm_temperature(b->creativity));
	buf_json_str(&o, system);
	buf_puts(&o, "},{\"role\":\"user\",\"content\":");
	buf_json_str(&o, user);
	buf_printf(&o, "}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"%s\","
		       "\"strict\":true,\"schema\":%s}}}",
		   shape_names[shape_of(b)], s->schema);
	return buf_cstr(&o);
}

const char *llm_request_body(arena *a, const char *model, const struct gen_brief *b)
{
	return body_with(a, model, b, system_prompt(a, b), user_prompt(a, b));
}

const char *llm_repair_body(arena *a, const char *model, const struct gen_brief *b, json_object *item,
			    const struct verrors *errs, const struct verrors *brand_errs)
{
	buf o;
	buf_init(&o, a, 2048);
	if (errs->count) {
		buf_puts(&o, "Shorten this copy so it fits the limits. Keep its meaning, tone and call to action. Problems:");
		for (const struct verror *e = errs->head; e; e = e->next)
			buf_printf(&o, "\n- %s %s", e->field, e->message);
	} else
		buf_puts(&o, "Rewrite this copy without the words the brand forbids. Keep its meaning, tone and call to "
			     "action.");
	if (brand_errs && brand_errs->count) {
		buf_puts(&o, "\nBrand problems (write around these words; never use them):");
		for (const struct verror *e = brand_errs->head; e; e = e->next)
			buf_printf(&o, "\n- %s %s", e->field, e->message);
	}
	buf_puts(&o, "\nThe copy:\n");
	json_object *fields = json_object_new_object();
	for (const char *const *f = schemas[shape_of(b)].fields; *f; f++) {
		json_object *v;
		if (json_object_object_get_ex(item, *f, &v))
			json_object_object_add(fields, *f, json_object_get(v));
	}
	buf_puts(&o, json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN));
	json_object_put(fields);
	return body_with(a, model, b, system_prompt(a, b), buf_cstr(&o));
}

static void verdict(struct llm_answer *out, enum llm_verdict v, const char *outcome, const char *error)
{
	out->verdict = v;
	out->outcome = outcome;
	out->error = error;
}

static bool retryable_status(long status)
{
	return status == 408 || status == 409 || status == 429 || status >= 500;
}

/* The model's JSON must have every field of its shape, with the right type. */
static const char *check_shape(json_object *o, const struct schema *s)
{
	if (!json_object_is_type(o, json_type_object))
		return "the answer is not a JSON object";
	for (const char *const *f = s->fields; *f; f++) {
		json_object *v;
		bool list = strcmp(*f, "hashtags") == 0 || strcmp(*f, "headlines") == 0 || strcmp(*f, "descriptions") == 0;
		if (!json_object_object_get_ex(o, *f, &v))
			return "a required field is missing";
		if (list) {
			if (!json_object_is_type(v, json_type_array))
				return "a list field is not an array";
			for (size_t i = 0; i < json_object_array_length(v); i++)
				if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
					return "a list holds something other than strings";
		} else if (!json_object_is_type(v, json_type_string)) {
			return "a text field is not a string";
		}
	}
	size_t n = 0;
	json_object_object_foreach(o, k, v)
	{
		(void)k;
		(void)v;
		n++;
	}
	size_t want = 0;
	while (s->fields[want])
		want++;
	return n == want ? NULL : "the answer has fields the schema does not allow";
}

static const char *get_path_str(json_object *o, const char *a, const char *b)
{
	json_object *v;
	if (!json_object_object_get_ex(o, a, &v) || !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

void llm_parse(arena *a, const struct gen_brief *b, long status, const char *body, size_t len,
	       struct llm_answer *out)
{
	memset(out, 0, sizeof(*out));
	if (status != 200) {
		const char *why = arena_printf(a, "the LLM answered HTTP %ld", status);
		verdict(out, retryable_status(status) ? LLM_RETRY : LLM_FAIL, retryable_status(status) ? "retry" : "error", why);
		return;
	}
	json_object *doc;
	const char *reason;
	if (json_parse_strict(a, body, len, JSON_MAX_DEPTH, &doc, &reason) < 0) {
		verdict(out, LLM_RETRY, "schema", arena_printf(a, "the LLM's response is not valid JSON (%s)", reason));
		return;
	}
	json_object *usage, *choices, *choice = NULL, *message = NULL;
	if (json_object_object_get_ex(doc, "usage", &usage)) {
		out->prompt_tokens = json_object_get_int64(json_object_object_get(usage, "prompt_tokens"));
		out->completion_tokens = json_object_get_int64(json_object_object_get(usage, "completion_tokens"));
	}
	if (json_object_object_get_ex(doc, "choices", &choices) && json_object_is_type(choices, json_type_array) &&
	    json_object_array_length(choices) > 0)
		choice = json_object_array_get_idx(choices, 0);
	if (!choice || !json_object_object_get_ex(choice, "message", &message)) {
		verdict(out, LLM_RETRY, "schema", "the LLM's response has no choices[0].message");
		return;
	}
	const char *refusal = get_path_str(choice, "message", "refusal");
	json_object *fr = json_object_object_get(choice, "finish_reason");
	const char *finish = fr && json_object_is_type(fr, json_type_string) ? json_object_get_string(fr) : NULL;
	const char *content = get_path_str(choice, "message", "content");
	if (refusal && *refusal) {
		verdict(out, LLM_FAIL, "refused", arena_printf(a, "the model refused: %.200s", refusal));
		return;
	}
	if (finish && strcmp(finish, "length") == 0) {
		verdict(out, LLM_RETRY, "length", "the model's answer was cut off (finish_reason length)");
		return;
	}
	if (!content) {
		verdict(out, LLM_RETRY, "schema", "the model's message has no content");
		return;
	}
	json_object *fields;
	if (json_parse_strict(a, content, strlen(content), 8, &fields, &reason) < 0) {
		verdict(out, LLM_RETRY, "schema", arena_printf(a, "the model's content is not valid JSON (%s)", reason));
		return;
	}
	const char *bad = check_shape(fields, &schemas[shape_of(b)]);
	if (bad) {
		verdict(out, LLM_RETRY, "schema", arena_printf(a, "the model's answer breaks the schema: %s", bad));
		return;
	}
	json_object *item = json_own(a, json_object_new_object());
	json_object_object_add(item, "contentType", json_object_new_string(b->content_type));
	json_object_object_add(item, "platform", json_object_new_string(b->platform));
	json_object_object_foreach(fields, k, v)
	{
		json_object_object_add(item, k, json_object_get(v));
	}
	if (shape_of(b) == SHAPE_SEARCH_AD) { /* the first description is the body, the first headline the title */
		json_object *d = json_object_object_get(item, "descriptions"), *h = json_object_object_get(item, "headlines");
		if (json_object_array_length(d))
			json_object_object_add(item, "contentBody", json_object_get(json_object_array_get_idx(d, 0)));
		if (json_object_array_length(h))
			json_object_object_add(item, "subjectLine", json_object_get(json_object_array_get_idx(h, 0)));
	}
	out->item = item;
	verdict(out, LLM_OK, "ok", NULL);
}
