/*
 * card_spec.c - what a card shows (card.h): the palettes and the headline
 * line. No libvips here: the worker picks both and has the card rendered
 * by the adcraft-media helper (media_helper_card); card.c renders.
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "card.h"

/* Background, accent, text: each pair has contrast of at least 4.5:1 (WCAG AA). */
const struct card_palette card_palettes[] = {
	{ "midnight", { 0x1b, 0x26, 0x3b }, { 0xf2, 0xa5, 0x41 }, { 0xff, 0xff, 0xff } },
	{ "forest",   { 0x1f, 0x4d, 0x3a }, { 0xc9, 0xe4, 0xa8 }, { 0xff, 0xff, 0xff } },
	{ "plum",     { 0x4a, 0x1e, 0x4f }, { 0xff, 0x8a, 0x80 }, { 0xff, 0xff, 0xff } },
	{ "ocean",    { 0x0b, 0x4f, 0x6c }, { 0x8e, 0xe3, 0xef }, { 0xff, 0xff, 0xff } },
	{ "sand",     { 0xf4, 0xe9, 0xd8 }, { 0xc0, 0x39, 0x2b }, { 0x2d, 0x23, 0x1c } },
	{ "paper",    { 0xfa, 0xfa, 0xf7 }, { 0x25, 0x63, 0xeb }, { 0x11, 0x18, 0x27 } },
	{ "ember",    { 0x7f, 0x1d, 0x1d }, { 0xfb, 0xbf, 0x24 }, { 0xff, 0xff, 0xff } },
	{ "slate",    { 0x33, 0x41, 0x55 }, { 0x38, 0xbd, 0xf8 }, { 0xff, 0xff, 0xff } },
	{ NULL, { 0 }, { 0 }, { 0 } },
};

const struct card_palette *card_palette_pick(const char *seed)
{
	size_t n = 0;
	while (card_palettes[n].name)
		n++;
	uint32_t h = 2166136261u; /* FNV-1a: stable across builds and machines */
	for (const unsigned char *p = (const unsigned char *)(seed ? seed : ""); *p; p++)
		h = (h ^ *p) * 16777619u;
	return &card_palettes[seed && *seed ? h % n : 0];
}

/* ---- the line a card shows ------------------------------------------------- */

static const char *str_field(json_object *item, const char *key)
{
	json_object *v = json_object_object_get(item, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* At most CARD_HEADLINE_MAX characters of s's first line, cut at a space with an ellipsis. */
static const char *first_line(arena *a, const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	size_t len = strcspn(s, "\r\n");
	char *valid = g_utf8_make_valid(s, (gssize)len);
	const char *out;
	if (g_utf8_strlen(valid, -1) <= CARD_HEADLINE_MAX) {
		out = arena_strdup(a, valid);
	} else {
		const char *end = g_utf8_offset_to_pointer(valid, CARD_HEADLINE_MAX - 1), *cut = end;
		while (cut > valid && *cut != ' ')
			cut--;
		if (cut - valid < CARD_HEADLINE_MAX / 2) /* one long word: cut inside it */
			cut = end;
		while (cut > valid && (cut[-1] == ' ' || cut[-1] == ',' || cut[-1] == ';' || cut[-1] == ':'))
			cut--;
		out = arena_printf(a, "%.*s\u2026", (int)(cut - valid), valid);
	}
	g_free(valid);
	return out;
}

const char *card_headline(arena *a, json_object *item)
{
	const char *s = str_field(item, "subjectLine");
	json_object *heads = json_object_object_get(item, "headlines");
	if ((!s || !*s) && heads && json_object_is_type(heads, json_type_array) && json_object_array_length(heads) &&
	    json_object_is_type(json_object_array_get_idx(heads, 0), json_type_string))
		s = json_object_get_string(json_object_array_get_idx(heads, 0));
	if (!s || !*s)
		s = str_field(item, "contentBody");
	return s ? first_line(a, s) : "";
}
