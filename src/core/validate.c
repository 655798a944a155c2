/*
 * validate.c - field-table validation of request bodies.
 */
#include "validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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
	if (e->count >= VERRORS_LISTED) {
		e->count++;
		return;
	}
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

int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

void uuid_lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
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

bool is_date(const char *s)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || s[4] != '-' ||
	    s[7] != '-' || y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

bool is_decimal(const char *s)
{
	int digits = 0, decimals = -1;
	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (decimals >= 0 || digits == 0)
				return false;
			decimals = 0;
		} else if (*p >= '0' && *p <= '9') {
			if (decimals >= 0)
				decimals++;
			else
				digits++;
		} else {
			return false;
		}
	}
	return digits <= 12 && decimals != 0 && decimals <= 2;
}

/* Active ISO 4217 codes (2024), space separated. */
static const char currencies[] =
	"AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD "
	"CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
	"GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT "
	"LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR "
	"NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP "
	"STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF "
	"XPF YER ZAR ZMW ZWL";

bool is_currency(const char *s)
{
	if (strlen(s) != 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	/* Entries are 3 letters and a separator; the last one ends at the NUL. */
	for (const char *p = currencies; p + 3 <= currencies + sizeof(currencies) - 1; p += 4)
		if (memcmp(p, s, 3) == 0)
			return true;
	return false;
}

bool is_http_url(const char *s)
{
	const char *rest = strncmp(s, "https://", 8) == 0 ? s + 8 : strncmp(s, "http://", 7) == 0 ? s + 7 : NULL;
	if (!rest || !*rest || *rest == '/' || *rest == '.')
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == 0x7f)
			return false;
	return true;
}

/* Whether s matches mask, where 'd' stands for one ASCII digit and anything else for itself. */
static bool matches_mask(const char *s, const char *mask)
{
	for (; *mask; s++, mask++)
		if (*mask == 'd' ? !(*s >= '0' && *s <= '9') : *s != *mask)
			return false;
	return true;
}

bool is_rfc3339(const char *s)
{
	char date[11];
	if (strlen(s) < 20 || !matches_mask(s, "dddd-dd-dd") || (s[10] != 'T' && s[10] != 't') ||
	    !matches_mask(s + 11, "dd:dd:dd"))
		return false;
	memcpy(date, s, 10);
	date[10] = '\0';
	int h = atoi(s + 11), m = atoi(s + 14), sec = atoi(s + 17);
	if (!is_date(date) || h > 23 || m > 59 || sec > 60)
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		const char *digits = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits || p - digits > 9)
			return false;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return true;
	return (*p == '+' || *p == '-') && strlen(p) == 6 && matches_mask(p + 1, "dd:dd") && atoi(p + 1) <= 23 &&
	       atoi(p + 4) <= 59;
}

static const struct vfield *field_find(const struct vfield *fields, const char *name)
{
	for (const struct vfield *f = fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static int validate_object(json_object *body, const struct vfield *fields, const char *prefix, bool partial,
			   struct verrors *errs);

static bool in_values(const char *const *values, const char *s)
{
	for (const char *const *e = values; *e; e++)
		if (strcmp(*e, s) == 0)
			return true;
	return false;
}

static const char *values_list(arena *a, const char *const *values)
{
	buf b;
	buf_init(&b, a, 128);
	for (const char *const *e = values; *e; e++) {
		buf_puts(&b, *e);
		if (e[1])
			buf_puts(&b, ", ");
	}
	return buf_cstr(&b);
}

/* Replaces the UUID string v (valid, 36 bytes) with its lower-case spelling. */
static void uuid_lower(json_object *v, const char *s)
{
	char l[37];
	memcpy(l, s, sizeof(l));
	uuid_lowercase(l);
	json_object_set_string(v, l);
}

static void check_string(const struct vfield *f, const char *name, json_object *v, struct verrors *errs)
{
	if (!json_object_is_type(v, json_type_string)) {
		verrors_add(errs, name, "must be a string");
		return;
	}
	const char *s = json_object_get_string(v);
	size_t bytes = (size_t)json_object_get_string_len(v);
	size_t chars = utf8_length(s, bytes);
	if (memchr(s, '\0', bytes)) {
		verrors_add(errs, name, "must not contain NUL characters");
		return;
	}
	switch (f->type) {
	case V_EMAIL:
		if (!is_email(s))
			verrors_add(errs, name, "must be an email address");
		break;
	case V_UUID:
		if (!is_uuid(s))
			verrors_add(errs, name, "must be a UUID");
		else if (strpbrk(s, "ABCDEF"))
			uuid_lower(v, s); /* stored ids are lower case, and a content item's is compared as text */
		break;
	case V_DATE:
		if (!is_date(s))
			verrors_add(errs, name, "must be a date (YYYY-MM-DD)");
		break;
	case V_TIMESTAMP:
		if (!is_rfc3339(s))
			verrors_add(errs, name, "must be an RFC 3339 date-time with a time zone (2026-12-03T12:00:00Z)");
		break;
	case V_CURRENCY:
		if (!is_currency(s))
			verrors_add(errs, name, "must be an ISO 4217 currency code such as USD or EUR");
		break;
	case V_URL:
		if (!is_http_url(s) || (f->max && (long)chars > f->max))
			verrors_add(errs, name, "must be an http(s) URL of at most %ld characters", f->max);
		break;
	case V_ENUM:
		if (!in_values(f->values, s))
			verrors_add(errs, name, "must be one of: %s", values_list(errs->arena, f->values));
		break;
	default:
		if ((long)chars < f->min)
			verrors_add(errs, name, f->min == 1 ? "must not be empty"
							      : "must be at least %ld characters", f->min);
		else if (f->max && (long)chars > f->max)
			verrors_add(errs, name, "must be at most %ld characters", f->max);
	}
}

/* Whether string s (item i of array v) equals an earlier string item; non-strings never match. */
static bool repeats_earlier(json_object *v, size_t i, const char *s)
{
	for (size_t j = 0; j < i; j++) {
		json_object *earlier = json_object_array_get_idx(v, j);
		if (json_object_is_type(earlier, json_type_string) && strcmp(s, json_object_get_string(earlier)) == 0)
			return true;
	}
	return false;
}

static void check_str_array(const struct vfield *f, const char *name, json_object *v, struct verrors *errs)
{
	size_t n = json_object_array_length(v);
	if ((long)n < f->min || (long)n > f->max) {
		verrors_add(errs, name, "must have %ld to %ld items", f->min, f->max);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(v, i);
		const char *path = arena_printf(errs->arena, "%s[%zu]", name, i);
		if (!json_object_is_type(item, json_type_string)) {
			verrors_add(errs, path, item ? "must be a string" : "must be a string, not null");
			continue;
		}
		const char *s = json_object_get_string(item);
		size_t len = (size_t)json_object_get_string_len(item);
		if (f->values && !in_values(f->values, s))
			verrors_add(errs, path, "must be one of: %s", values_list(errs->arena, f->values));
		else if (!f->values && (len == 0 || (long)utf8_length(s, len) > f->item_max || memchr(s, 0, len)))
			verrors_add(errs, path, "must be 1 to %ld characters", f->item_max);
		else if ((f->flags & V_UNIQUE) && repeats_earlier(v, i, s))
			verrors_add(errs, path, "repeats an earlier item");
	}
}

static void check_attributes(const struct vfield *f, const char *name, json_object *v, struct verrors *errs)
{
	if ((long)json_object_object_length(v) > f->max) {
		verrors_add(errs, name, "must have at most %ld members", f->max);
		return;
	}
	json_object_object_foreach(v, key, val) {
		const char *path = arena_printf(errs->arena, "%s.%s", name, key);
		size_t klen = strlen(key);
		if (klen == 0 || utf8_length(key, klen) > 64)
			verrors_add(errs, path, "member names must be 1 to 64 characters");
		else if (json_object_is_type(val, json_type_string)) {
			const char *s = json_object_get_string(val);
			size_t len = (size_t)json_object_get_string_len(val);
			if (memchr(s, '\0', len) || (long)utf8_length(s, len) > f->item_max)
				verrors_add(errs, path, "must be at most %ld characters, without NUL", f->item_max);
		} else if (!json_object_is_type(val, json_type_int) && !json_object_is_type(val, json_type_double) &&
			   !json_object_is_type(val, json_type_boolean)) {
			verrors_add(errs, path, "must be a string, a number or a boolean");
		}
	}
}

static void check_field(const struct vfield *f, const char *name, json_object *v, struct verrors *errs)
{
	switch (f->type) {
	case V_INT:
		if (!json_object_is_type(v, json_type_int)) {
			verrors_add(errs, name, "must be an integer");
			return;
		}
		int64_t n = json_object_get_int64(v);
		if (n < f->min || n > f->max)
			verrors_add(errs, name, "must be between %ld and %ld", f->min, f->max);
		return;
	case V_NUMBER: {
		if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
			verrors_add(errs, name, "must be a number");
			return;
		}
		double x = json_object_get_double(v);
		if (!(x >= f->fmin && x <= f->fmax))
			verrors_add(errs, name, "must be between %g and %g", f->fmin, f->fmax);
		return;
	}
	case V_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			verrors_add(errs, name, "must be true or false");
		return;
	case V_DECIMAL:
		if ((!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) ||
		    !is_decimal(json_object_get_string(v)))
			verrors_add(errs, name, "must be a number >= 0 with at most 2 decimal places");
		return;
	case V_STR_ARRAY:
		if (!json_object_is_type(v, json_type_array))
			verrors_add(errs, name, "must be an array of strings");
		else
			check_str_array(f, name, v, errs);
		return;
	case V_ATTRIBUTES:
		if (!json_object_is_type(v, json_type_object))
			verrors_add(errs, name, "must be an object");
		else
			check_attributes(f, name, v, errs);
		return;
	case V_OBJECT:
		if (!json_object_is_type(v, json_type_object))
			verrors_add(errs, name, "must be an object");
		else
			validate_object(v, f->sub, name, false, errs);
		return;
	case V_OBJECT_ARRAY: {
		if (!json_object_is_type(v, json_type_array)) {
			verrors_add(errs, name, "must be an array of objects");
			return;
		}
		size_t count = json_object_array_length(v);
		if ((long)count < f->min || (long)count > f->max) {
			verrors_add(errs, name, "must have %ld to %ld items", f->min, f->max);
			return;
		}
		for (size_t i = 0; i < count; i++) {
			json_object *item = json_object_array_get_idx(v, i);
			const char *path = arena_printf(errs->arena, "%s[%zu]", name, i);
			if (!json_object_is_type(item, json_type_object))
				verrors_add(errs, path, "must be an object");
			else
				validate_object(item, f->sub, path, false, errs);
		}
		return;
	}
	default:
		check_string(f, name, v, errs);
	}
}

static const char *path_of(arena *a, const char *prefix, const char *name)
{
	return prefix ? arena_printf(a, "%s.%s", prefix, name) : name;
}

static int validate_object(json_object *body, const struct vfield *fields, const char *prefix, bool partial,
			   struct verrors *errs)
{
	json_object_object_foreach(body, key, val) {
		const struct vfield *f = field_find(fields, key);
		const char *name = path_of(errs->arena, prefix, f ? f->name : arena_strdup(errs->arena, key));
		if (!f)
			verrors_add(errs, name, "unknown field");
		else if (!val) {
			if (!(f->flags & V_NULLABLE))
				verrors_add(errs, name, "must not be null");
		} else
			check_field(f, name, val, errs);
	}
	for (const struct vfield *f = fields; f->name; f++)
		if (!partial && (f->flags & V_REQUIRED) && !json_object_object_get_ex(body, f->name, NULL))
			verrors_add(errs, path_of(errs->arena, prefix, f->name), "is required");
	return errs->count;
}

int validate_body(json_object *body, const struct vfield *fields, struct verrors *errs)
{
	if (!json_object_is_type(body, json_type_object)) {
		verrors_add(errs, "", "the request body must be a JSON object");
		return errs->count;
	}
	return validate_object(body, fields, NULL, false, errs);
}

int validate_body_partial(json_object *body, const struct vfield *fields, struct verrors *errs)
{
	if (!json_object_is_type(body, json_type_object)) {
		verrors_add(errs, "", "the request body must be a JSON object");
		return errs->count;
	}
	return validate_object(body, fields, NULL, true, errs);
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
