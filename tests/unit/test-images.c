/* Unit tests for src/gen/images.c: the images API's request, prompt, answer parser and base64. */
#include <errno.h>

#include <json-c/json.h>

#include "images.h"
#include "tap.h"

static void sizes(void)
{
	is_str(images_size_for(1200, 628), "1536x1024", "1200x628 asks for landscape");
	is_str(images_size_for(1600, 900), "1536x1024", "1600x900 asks for landscape");
	is_str(images_size_for(1080, 1080), "1024x1024", "1080x1080 asks for a square");
	is_str(images_size_for(1080, 1920), "1024x1536", "1080x1920 asks for portrait");
	is_str(images_size_for(1100, 1000), "1024x1024", "nearly square is square");
}

static void request(arena *a)
{
	struct gen_brief b = { .content_type = "social_post", .platform = "linkedin", .product = "Acme \"Planner\"",
			       .tone = "calm" };
	const char *prompt = images_prompt(a, &b, "Plan your week");
	ok(strstr(prompt, "social media post on linkedin") && strstr(prompt, "Acme \"Planner\"") &&
		   strstr(prompt, "\"Plan your week\"") && strstr(prompt, "Mood: calm") && strstr(prompt, "no text"),
	   "the prompt names the item, product, headline and mood (%s)", prompt);
	const char *body = images_request_body(a, "gpt-image-1", prompt, "1536x1024");
	json_object *o = json_tokener_parse(body);
	ok(o != NULL, "the body is JSON");
	is_str(json_object_get_string(json_object_object_get(o, "model")), "gpt-image-1", "model");
	is_str(json_object_get_string(json_object_object_get(o, "prompt")), prompt, "prompt (escaped and back)");
	is_str(json_object_get_string(json_object_object_get(o, "size")), "1536x1024", "size");
	is_str(json_object_get_string(json_object_object_get(o, "response_format")), "b64_json", "response_format");
	is_int(json_object_get_int(json_object_object_get(o, "n")), 1, "n");
	json_object_put(o);
}

static void base64(arena *a)
{
	static const struct { const char *in, *out; } vectors[] = { /* RFC 4648, section 10 */
		{ "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" }, { "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" },
		{ "Zm9vYmFy", "foobar" },
	};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const void *out;
		size_t len;
		int rc = images_base64_decode(a, vectors[i].in, strlen(vectors[i].in), &out, &len);
		ok(rc == 0 && len == strlen(vectors[i].out) && memcmp(out, vectors[i].out, len) == 0, "base64 %s",
		   vectors[i].in);
	}
	static const char *const bad[] = { "", "Zg", "Zg=", "Zm9v\n", "Zm 9", "Z===", "=Zm9", "Zg==Zm9v", "Zm=v",
					   "Zm9v!A==", "Zm-_" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const void *out = NULL;
		size_t len = 0;
		is_int(images_base64_decode(a, bad[i], strlen(bad[i]), &out, &len), -EINVAL, "refused: \"%s\"", bad[i]);
		ok(out == NULL && len == 0, "outputs untouched for \"%s\"", bad[i]);
	}
}

static void parse(arena *a)
{
	struct images_answer ans;
	const char *good = "{\"created\":1,\"data\":[{\"b64_json\":\"iVBORw0KGgo=\"}]}";
	images_parse(a, 200, good, strlen(good), &ans);
	ok(ans.ok && ans.len == 8 && memcmp(ans.bytes, "\x89PNG\r\n\x1a\n", 8) == 0, "b64_json is decoded");
	static const struct { long status; const char *body, *error; } cases[] = {
		{ 500, "{\"error\":{\"message\":\"model overloaded\"}}", "HTTP 500: model overloaded" },
		{ 400, "<html>bad</html>", "answered HTTP 400" },
		{ 200, "{\"data\":[{\"b64_json\":\"iVBO", "not valid JSON" },
		{ 200, "{\"data\":[]}", "no data[0]" },
		{ 200, "{\"data\":{}}", "no data[0]" },
		{ 200, "{\"data\":[7]}", "no data[0]" },
		{ 200, "[1]", "no data[0]" },
		{ 200, "{\"data\":[{\"url\":\"http://169.254.169.254/\"}]}", "did not answer with b64_json" },
		{ 200, "{\"data\":[{\"b64_json\":42}]}", "did not answer with b64_json" },
		{ 200, "{\"data\":[{\"b64_json\":\"!!!\"}]}", "not valid base64" },
		{ 200, "{\"data\":[{\"b64_json\":\"\"}]}", "not valid base64" },
		{ 200, "{\"data\":[],\"data\":[{\"b64_json\":\"Zm9v\"}]}", "not valid JSON" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		images_parse(a, cases[i].status, cases[i].body, strlen(cases[i].body), &ans);
		ok(!ans.ok && ans.error && strstr(ans.error, cases[i].error) && !ans.bytes,
		   "refused: %s (%s)", cases[i].body, ans.error ? ans.error : "no error");
	}
}

int main(void)
{
	arena *a = arena_new(0);
	sizes();
	request(a);
	base64(a);
	parse(a);
	arena_free(a);
	return tap_done();
}
