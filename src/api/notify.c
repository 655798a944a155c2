/*
 * notify.c - notification events about campaigns and their content (notify.h).
 */
#include "notify.h"

#include <string.h>

#include "json.h"

static void begin(buf *b, request *r, const char *kind, const char *campaign_id, size_t extra)
{
	buf_init(b, r->arena, 128 + extra);
	buf_puts(b, "{\"kind\":");
	buf_json_str(b, kind);
	buf_puts(b, ",\"campaignId\":");
	buf_json_str(b, campaign_id);
}

void notify_content(request *r, const char *kind, const char *campaign_id, const char *content_id,
		    const char *item)
{
	buf b;
	begin(&b, r, kind, campaign_id, item ? strlen(item) : 0);
	if (!content_id && item) {
		json_object *parsed;
		if (json_parse_trusted(r->arena, item, &parsed) == 0)
			content_id = json_object_get_string(json_object_object_get(parsed, "id"));
	}
	buf_puts(&b, ",\"contentId\":");
	if (content_id)
		buf_json_str(&b, content_id);
	else
		buf_puts(&b, "null");
	if (item)
		buf_printf(&b, ",\"item\":%s", item);
	buf_putc(&b, '}');
	req_notify(r, campaign_id, buf_cstr(&b));
}

void notify_campaign(request *r, const char *kind, const char *campaign_id, const char *campaign)
{
	static const char *const fields[] = { "status", "name", "updatedAt" };
	buf b;
	begin(&b, r, kind, campaign_id, 256);
	json_object *c;
	if (campaign && json_parse_trusted(r->arena, campaign, &c) == 0)
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			json_object *v;
			if (json_object_object_get_ex(c, fields[i], &v))
				buf_printf(&b, ",\"%s\":%s", fields[i], json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		}
	buf_putc(&b, '}');
	req_notify(r, campaign_id, buf_cstr(&b));
}
