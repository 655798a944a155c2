/*
 * validate.c - field-table validation of request bodies.
 */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

void verrors_init(struct verrors *e, arena *a)
{
	e->arena = a;
	e->head = NULL;
	e->tail = &e->head;
	e->count = 0;
}

void verrors_add(struct verrors *e, const char *field, const char *fmt, ...)
{
	struct verror *v = arena_alloc(e->arena, sizeof(*v));
	va_list ap;
	va_start(ap, fmt);
	v->message = arena_vprintf(e->arena, fmt, ap);
	va_end(ap);
	v->field = field;
	v->next = NULL;
	*e->tail = v;
	e->tail = &v->next;
	e->count++;
}

bool is_uuid(const char *s)
{
	static const char dash[] = { 8, 13, 18, 23 };
	if (strlen(s) != 36)
		return false;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) {
			return false;
		}
	}
	return true;
}

bool is_email(const char *s)
{
	size_t len = strlen(s);
	const char *at = strrchr(s, '@');
	if (len < 3 || len > 254 || !at || at == s || at - s > 64)
		return false;
	const char *domain = at + 1;
	const char *dot = strrchr(domain, '.');
	if (!dot || dot == domain || dot[1] == '\0' || domain[0] == '.' || strstr(domain, ".."))
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
		    c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' ||
		    (c == '@' && p != at))
			return false;
	}
	return true;
}

static const struct vfield *field_find(const struct vfield *fields, const char *name)
{
	for (const struct vfield *f = fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void check_string(const struct vfield *f, json_object *v, struct verrors *errs)
{
	if (!json_object_is_type(v, json_type_string)) {
		verrors_add(errs, f->name, "must be a string");
		return;
	}
	const char *s = json_object_get_string(v);
	size_t bytes = (size_t)json_object_get_string_len(v);
	size_t chars = utf8_length(s, bytes);
	if (memchr(s, '\0', bytes)) {
		verrors_add(errs, f->name, "must not contain NUL characters");
		return;
	}
	switch (f->type) {
	case V_EMAIL:
		if (!is_email(s))
			verrors_add(errs, f->name, "must be an email address");
		break;
	case V_UUID:
		if (!is_uuid(s))
			verrors_add(errs, f->name, "must be a UUID");
		break;
	case V_ENUM: {
		for (const char *const *e = f->values; *e; e++)
			if (strcmp(*e, s) == 0)
				return;
		char list[256] = "";
		for (const char *const *e = f->values; *e; e++) {
			strncat(list, *e, sizeof(list) - strlen(list) - 1);
			if (e[1])
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		}
		verrors_add(errs, f->name, "must be one of: %s", list);
		break;
	}
	default:
		if ((long)chars < f->min)
			verrors_add(errs, f->name, f->min == 1 ? "must not be empty"
							      : "must be at least %ld characters", f->min);
		else if (f->max && (long)chars > f->max)
			verrors_add(errs, f->name, "must be at most %ld characters", f->max);
	}
}

static void check_field(const struct vfield *f, json_object *v, struct verrors *errs)
{
	switch (f->type) {
	case V_INT:
		if (!json_object_is_type(v, json_type_int)) {
			verrors_add(errs, f->name, "must be an integer");
			return;
		}
		int64_t n = json_object_get_int64(v);
		if (n < f->min || n > f->max)
			verrors_add(errs, f->name, "must be between %ld and %ld", f->min, f->max);
		return;
	case V_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			verrors_add(errs, f->name, "must be true or false");
		return;
	default:
		check_string(f, v, errs);
	}
}

int validate_body(json_object *body, const struct vfield *fields, struct verrors *errs)
{
	if (!json_object_is_type(body, json_type_object)) {
		verrors_add(errs, "", "the request body must be a JSON object");
		return errs->count;
	}
	json_object_object_foreach(body, key, val) {
		const struct vfield *f = field_find(fields, key);
		if (!f)
			verrors_add(errs, arena_strdup(errs->arena, key), "unknown field");
		else if (!val) {
			if (!(f->flags & V_NULLABLE))
				verrors_add(errs, f->name, "must not be null");
		} else
			check_field(f, val, errs);
	}
	for (const struct vfield *f = fields; f->name; f++)
		if ((f->flags & V_REQUIRED) && !json_object_object_get_ex(body, f->name, NULL))
			verrors_add(errs, f->name, "is required");
	return errs->count;
}

const char *vget_str(json_object *body, const char *name)
{
	json_object *v;
	if (!json_object_object_get_ex(body, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

long vget_int(json_object *body, const char *name, long fallback)
{
	json_object *v;
	if (!json_object_object_get_ex(body, name, &v) || !json_object_is_type(v, json_type_int))
		return fallback;
	return (long)json_object_get_int64(v);
}
