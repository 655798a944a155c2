/*
 * images.c - request and answer of the images API (images.h).
 *
 * The answer must be {"data": [{"b64_json": "..."}, ...]}: the first image
 * is taken. A URL answer (data[0].url) is refused rather than fetched: the
 * request asks for b64_json, and following a provider-chosen URL from the
 * worker would be a server-side request to anywhere.
 */
#include "images.h"

#include <errno.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "platforms.h"

const char *images_size_for(int width, int height)
{
	/* landscape when wider by a fifth or more, portrait likewise, else square */
	if (width * 5 >= height * 6)
		return "1536x1024";
	if (height * 5 >= width * 6)
		return "1024x1536";
	return "1024x1024";
}

const char *images_prompt(arena *a, const struct gen_brief *b, const char *headline)
{
	const struct content_type *t = content_type_find(b->content_type);
	buf o;
	buf_init(&o, a, 512);
	buf_printf(&o, "A marketing image for a %s on %s", t ? t->noun : "social media post", b->platform);
	if (b->product && *b->product)
		buf_printf(&o, " promoting %s", b->product);
	buf_putc(&o, '.');
	if (headline && *headline)
		buf_printf(&o, " It illustrates: \"%s\".", headline);
	if (b->description && *b->description)
		buf_printf(&o, " About the offer: %.300s.", b->description);
	if (b->tone && *b->tone)
		buf_printf(&o, " Mood: %s.", b->tone);
	buf_puts(&o, " Clean, modern, brand-safe composition; no text, letters, logos or watermarks; no real people.");
	return buf_cstr(&o);
}

const char *images_request_body(arena *a, const char *model, const char *prompt, const char *size)
{
	buf o;
	buf_init(&o, a, 512 + strlen(prompt));
	buf_puts(&o, "{\"model\":");
	buf_json_str(&o, model);
	buf_puts(&o, ",\"prompt\":");
	buf_json_str(&o, prompt);
	buf_puts(&o, ",\"size\":");
	buf_json_str(&o, size);
	buf_puts(&o, ",\"response_format\":\"b64_json\",\"n\":1}");
	return buf_cstr(&o);
}

/* 0..63 for the base64 alphabet, 64 for '=', 255 for anything else. */
static unsigned char b64_value(unsigned char c)
{
	static unsigned char table[256];
	static bool ready;
	if (!ready) {
		static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		memset(table, 255, sizeof(table));
		for (unsigned char i = 0; i < 64; i++)
			table[(unsigned char)alphabet[i]] = i;
		table['='] = 64;
		ready = true;
	}
	return table[c];
}

int images_base64_decode(arena *a, const char *s, size_t n, const void **ret, size_t *ret_len)
{
	if (n == 0 || n % 4)
		return -EINVAL;
	size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
	unsigned char *out = arena_alloc(a, n / 4 * 3);
	size_t k = 0;
	for (size_t i = 0; i < n; i += 4) {
		unsigned char v[4];
		for (int j = 0; j < 4; j++) {
			v[j] = b64_value((unsigned char)s[i + j]);
			bool padding_allowed = i + 4 == n && (size_t)j >= 4 - pad;
			if (v[j] == 255 || (v[j] == 64) != padding_allowed)
				return -EINVAL;
		}
		out[k++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (v[2] != 64)
			out[k++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (v[3] != 64)
			out[k++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	*ret = out;
	*ret_len = k;
	return 0;
}

static void fail(struct images_answer *out, const char *why)
{
	out->ok = false;
	out->error = why;
}

/* The provider's own error message, when its body has one ({"error": {"message": ...}}). */
static const char *provider_message(arena *a, const char *body, size_t len)
{
	json_object *doc, *err, *msg;
	const char *reason;
	if (json_parse_strict(a, body, len, JSON_MAX_DEPTH, &doc, &reason) < 0 ||
	    !json_object_object_get_ex(doc, "error", &err) || !json_object_object_get_ex(err, "message", &msg) ||
	    !json_object_is_type(msg, json_type_string))
		return NULL;
	return json_object_get_string(msg);
}

void images_parse(arena *a, long status, const char *body, size_t len, struct images_answer *out)
{
	memset(out, 0, sizeof(*out));
	if (status != 200) {
		const char *msg = provider_message(a, body, len);
		fail(out, msg ? arena_printf(a, "the images endpoint answered HTTP %ld: %.200s", status, msg)
			      : arena_printf(a, "the images endpoint answered HTTP %ld", status));
		return;
	}
	json_object *doc, *data, *first, *b64;
	const char *reason;
	if (json_parse_strict(a, body, len, JSON_MAX_DEPTH, &doc, &reason) < 0) {
		fail(out, arena_printf(a, "the images endpoint's response is not valid JSON (%s)", reason));
		return;
	}
	if (!json_object_object_get_ex(doc, "data", &data) || !json_object_is_type(data, json_type_array) ||
	    json_object_array_length(data) == 0 || !(first = json_object_array_get_idx(data, 0)) ||
	    !json_object_is_type(first, json_type_object)) {
		fail(out, "the images endpoint's response has no data[0]");
		return;
	}
	if (!json_object_object_get_ex(first, "b64_json", &b64) || !json_object_is_type(b64, json_type_string)) {
		fail(out, "the images endpoint did not answer with b64_json");
		return;
	}
	if (images_base64_decode(a, json_object_get_string(b64), (size_t)json_object_get_string_len(b64), &out->bytes,
				 &out->len) < 0) {
		fail(out, "the images endpoint's b64_json is not valid base64");
		return;
	}
	out->ok = true;
}
