/* Unit tests for src/gen/platforms.c: the table agrees with itself and with the shared field limits. */
#include <errno.h>

#include "platforms.h"
#include "tap.h"

static int count(const char *const *names)
{
	int n = 0;
	while (names[n])
		n++;
	return n;
}

static void platform_rows(void)
{
	int n = 0, widest = 0;
	for (const struct platform_rule *p = platform_rules; p->name; p++, n++) {
		is_str(platform_names[n], p->name, "platform_names[%d] is the table's row %d", n, n);
		ok(platform_find(p->name) == p, "%s: found by name", p->name);
		ok(p->body_min_rec <= p->body_max_rec && p->body_max_rec <= p->body_max && p->body_max <= PLATFORM_BODY_MAX,
		   "%s: recommended body %d-%d within the hard limit %d", p->name, p->body_min_rec, p->body_max_rec,
		   p->body_max);
		ok(p->hashtags_min_rec <= p->hashtags_max_rec && p->hashtags_max_rec <= p->hashtags_max &&
			   p->hashtags_max <= HASHTAGS_MAX,
		   "%s: recommended hashtags %d-%d within the hard limit %d", p->name, p->hashtags_min_rec,
		   p->hashtags_max_rec, p->hashtags_max);
		ok(p->hashtags_written >= p->hashtags_min_rec && p->hashtags_written <= p->hashtags_max,
		   "%s: the builtin writer's %d hashtags are allowed", p->name, p->hashtags_written);
		ok(p->ad_title_max <= SUBJECT_MAX, "%s: ad title limit within the subject limit", p->name);
		ok(p->headlines_min <= p->headlines_max && p->headlines_max <= AD_HEADLINES_MAX &&
			   p->headline_max <= AD_HEADLINE_MAX && (p->headlines_max == 0) == (p->headline_max == 0),
		   "%s: headlines %d-%d of %d characters within the field limits", p->name, p->headlines_min,
		   p->headlines_max, p->headline_max);
		ok(p->descriptions_min <= p->descriptions_max && p->descriptions_max <= AD_DESCRIPTIONS_MAX &&
			   p->description_max <= AD_DESCRIPTION_MAX &&
			   (p->descriptions_max == 0) == (p->headlines_max == 0),
		   "%s: descriptions %d-%d of %d characters, present exactly with headlines", p->name,
		   p->descriptions_min, p->descriptions_max, p->description_max);
		if (p->body_max > widest)
			widest = p->body_max;
	}
	is_int(n, N_PLATFORMS, "N_PLATFORMS rows");
	is_int(count(platform_names), N_PLATFORMS, "platform_names has N_PLATFORMS names");
	is_int(widest, PLATFORM_BODY_MAX, "PLATFORM_BODY_MAX is the widest platform's limit");
	ok(platform_find("myspace") == NULL && platform_find(NULL) == NULL, "unknown platforms are not found");
}

/* Each platform's shapes agree with its fields, and every platform publishes something. */
static void content_type_rows(void)
{
	int published[N_PLATFORMS] = { 0 }, posts[N_PLATFORMS] = { 0 };
	is_int(count(content_type_names), N_CONTENT_TYPES, "content_type_names has N_CONTENT_TYPES names");
	for (int i = 0; i < N_CONTENT_TYPES; i++) {
		const struct content_type *t = &content_types[i];
		is_str(content_type_names[i], t->name, "content_type_names[%d] is the table's row %d", i, i);
		ok(content_type_find(t->name) == t && content_type_known(t->name), "%s: found by name", t->name);
		ok(t->noun && *t->noun, "%s: has a noun for the prompt", t->name);
		ok(t->platforms[0] != NULL, "%s: published somewhere", t->name);
		for (int k = 0; t->platforms[k]; k++) {
			const struct platform_rule *p = platform_find(t->platforms[k]);
			ok(p != NULL, "%s on %s: a platform of the table", t->name, t->platforms[k]);
			if (!p)
				continue;
			published[p - platform_rules]++;
			for (int j = 0; j < k; j++)
				ok(strcmp(t->platforms[j], t->platforms[k]) != 0, "%s: %s listed once", t->name, p->name);
			enum shape s = N_SHAPES;
			is_int(platform_shape(t->name, p->name, &s), 0, "%s on %s: accepted", t->name, p->name);
			is_int(s, t->shapes[k], "%s on %s: platform_shape gives the row's shape", t->name, p->name);
			ok(s < N_SHAPES, "%s on %s: a known shape", t->name, p->name);
			ok((s == SHAPE_EMAIL) == (i == CT_EMAIL), "%s on %s: the email shape is email's alone", t->name,
			   p->name);
			ok((s == SHAPE_SEARCH_AD) == (p->headlines_max > 0 && i == CT_AD_COPY),
			   "%s on %s: a search ad exactly where ads have headline lists", t->name, p->name);
			ok(s != SHAPE_SOCIAL_AD || p->ad_title_max > 0, "%s on %s: a social ad has an ad title limit",
			   t->name, p->name);
			ok(s != SHAPE_SOCIAL_POST || p->hashtags_max > 0, "%s on %s: a social post can have hashtags",
			   t->name, p->name);
			if (s == SHAPE_SOCIAL_POST)
				posts[p - platform_rules]++;
		}
	}
	for (int k = 0; k < N_PLATFORMS; k++) {
		ok(published[k] > 0, "%s: takes at least one content type", platform_names[k]);
		ok((posts[k] > 0) == (platform_rules[k].layout != LAYOUT_NONE),
		   "%s: the builtin writer has a post layout exactly where social posts are published", platform_names[k]);
	}
	enum shape s;
	is_int(platform_shape("email", "twitter", &s), -ENOENT, "an email is not published on twitter");
	is_int(platform_shape("ad_copy", "email", &s), -ENOENT, "no ads by email");
	is_int(platform_shape("flyer", "email", &s), -ENOENT, "an unknown content type is published nowhere");
	ok(!platform_accepts("social_post", "google_ads"), "no social posts on google_ads");
	ok(platform_accepts("ad_copy", "google_ads"), "ads on google_ads");
	ok(!content_type_known("flyer") && content_type_find(NULL) == NULL, "unknown content types are not found");
	for (const char *const *t = job_default_types; *t; t++)
		ok(content_type_known(*t), "job default content type %s is in the table", *t);
	for (const char *const *p = job_default_platforms; *p; p++)
		ok(platform_find(*p) != NULL, "job default platform %s is in the table", *p);
	for (int i = 0; i < N_LAYOUTS; i++)
		ok(layout_names[i] && *layout_names[i], "layout %d has a name", i);
	for (int i = 0; i < N_SHAPES; i++)
		ok(shape_names[i] && *shape_names[i], "shape %d has a name", i);
}

static void objectives(void)
{
	is_int(count(objective_names), N_OBJECTIVES, "objective_names has N_OBJECTIVES names");
	for (int i = 0; objective_names[i]; i++)
		is_int(objective_index(objective_names[i]), i, "%s: found at its index", objective_names[i]);
	is_int(objective_index("fame"), -ENOENT, "an unknown objective is not found");
	is_int(objective_index(NULL), -ENOENT, "no objective is not found");
}

/* `adcraft platforms` prints this: it must carry every row. */
static void as_json(void)
{
	json_object *t = platform_table_json(), *list;
	ok(json_object_object_get_ex(t, "platforms", &list) && (int)json_object_array_length(list) == N_PLATFORMS,
	   "JSON: every platform");
	for (int i = 0; list && i < N_PLATFORMS; i++) {
		json_object *row = json_object_array_get_idx(list, (size_t)i), *v;
		is_str(json_object_object_get_ex(row, "name", &v) ? json_object_get_string(v) : NULL, platform_names[i],
		       "JSON: platform %d's name", i);
		is_int(json_object_object_get_ex(row, "bodyMax", &v) ? json_object_get_int(v) : -1,
		       platform_rules[i].body_max, "JSON: %s's body limit", platform_names[i]);
	}
	ok(json_object_object_get_ex(t, "contentTypes", &list) &&
		   (int)json_object_array_length(list) == N_CONTENT_TYPES,
	   "JSON: every content type");
	ok(json_object_object_get_ex(t, "objectives", &list) && (int)json_object_array_length(list) == N_OBJECTIVES,
	   "JSON: every objective");
	json_object_put(t);
}

int main(void)
{
	platform_rows();
	content_type_rows();
	objectives();
	as_json();
	return tap_done();
}
