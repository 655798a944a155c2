/*
 * media_type.c - the accepted image types' media type and file extension
 * (media.h), apart from media.c so that code without libvips can name them.
 */
#include "media.h"

static const struct media_type_info types[] = {
	[MEDIA_PNG] = { "image/png", "png" },
	[MEDIA_JPEG] = { "image/jpeg", "jpg" },
	[MEDIA_WEBP] = { "image/webp", "webp" },
	[MEDIA_GIF] = { "image/gif", "gif" },
};

const struct media_type_info *media_type_info(enum media_type t)
{
	return &types[t];
}
