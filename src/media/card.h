/*
 * card.h - the builtin visual: a branded card rendered with libvips.
 *
 * A card is one solid background colour with an accent band along the
 * bottom, the item's headline set large in the font colour that reads best
 * on that background (wrapped, and sized down until it fits the text box),
 * and a small footer line (the product or brand) above the band. The colours
 * come from a palette; card_palette_pick() chooses one deterministically from
 * a seed (the campaign id), so a campaign's cards match each other.
 *
 * The same spec renders the same PNG bytes on the same machine (libvips,
 * pango and the installed fonts decide the glyphs). Text is never markup:
 * it is escaped, invalid UTF-8 is repaired, and scripts the default sans
 * font lacks fall back through fontconfig.
 *
 * Library code: no database, no logging. libvips is set up (media_init()) on first use.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define CARD_MIN_SIDE 64
#define CARD_MAX_SIDE 4096
#define CARD_HEADLINE_MAX 160 /* characters set on a card; longer headlines end in an ellipsis */

struct card_palette {
	const char *name;
	uint8_t background[3], accent[3], text[3];
};

extern const struct card_palette card_palettes[]; /* ends with a NULL name */

/* The palette for seed (any string; NULL or "" picks the first). Never NULL. */
const struct card_palette *card_palette_pick(const char *seed);

struct card_spec {
	int width, height;		/* CARD_MIN_SIDE..CARD_MAX_SIDE pixels */
	const char *headline;		/* UTF-8, need not be valid; NULL or "": the footer is the headline */
	const char *footer;		/* the product or brand name; may be NULL */
	const struct card_palette *palette; /* NULL: card_palette_pick(NULL) */
};

/*
 * Renders spec as PNG bytes into *ret_png / *ret_len (arena-owned). 0, or
 * -EINVAL (bad size), -EIO (libvips failed: *ret_error, arena-owned, says why
 * when ret_error is not NULL). Outputs are untouched on failure.
 */
int card_render(arena *a, const struct card_spec *spec, const void **ret_png, size_t *ret_len,
		const char **ret_error);

/*
 * The line a card shows for a content item: its subjectLine (social-ad
 * headline), else its first headline (search ads), else the first line of
 * its contentBody; at most CARD_HEADLINE_MAX characters (cut at a word, with
 * an ellipsis). Arena-owned; "" when the item has no text.
 */
struct json_object;
const char *card_headline(arena *a, struct json_object *item);
