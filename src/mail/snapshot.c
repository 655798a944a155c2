/*
 * snapshot.c - a send's snapshot as a mail_item (contract in snapshot.h).
 */
#include "snapshot.h"

#include <errno.h>

static const char *str(json_object *o, const char *name)
{
	json_object *v;
	return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

int mail_item_from_snapshot(json_object *snapshot, struct mail_item *ret)
{
	if (!json_object_is_type(snapshot, json_type_object))
		return -EINVAL;
	*ret = (struct mail_item){
		.subject = str(snapshot, "subjectLine"),
		.preheader = str(snapshot, "preheader"),
		.body = str(snapshot, "contentBody"),
		.cta_text = str(snapshot, "callToAction"),
		.cta_url = str(snapshot, "ctaUrl"),
	};
	return 0;
}
