/*
 * contact_csv.c - header mapping and row checks of contact CSVs (contact_csv.h).
 */
#include "contact_csv.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "json.h"
#include "validate.h"

/* Header names with a meaning of their own, compared ignoring case. */
static const struct {
	const char *name;
	enum contact_column role;
} known_columns[] = {
	{ "email", CONTACT_COL_EMAIL },
	{ "firstName", CONTACT_COL_FIRST_NAME },
	{ "first_name", CONTACT_COL_FIRST_NAME },
	{ "lastName", CONTACT_COL_LAST_NAME },
	{ "last_name", CONTACT_COL_LAST_NAME },
};

static enum contact_column role_of(const char *name)
{
	for (size_t i = 0; i < sizeof(known_columns) / sizeof(known_columns[0]); i++)
		if (strcasecmp(name, known_columns[i].name) == 0)
			return known_columns[i].role;
	return CONTACT_COL_ATTRIBUTE;
}

int contact_csv_header(arena *a, const struct csv_record *rec, struct contact_csv_header *ret, const char **why)
{
	size_t n = rec->nfields;
	enum contact_column *roles = arena_alloc(a, n * sizeof(*roles));
	const char **names = arena_alloc(a, n * sizeof(*names));
	size_t email = n;
	for (size_t i = 0; i < n; i++) {
		const char *name = rec->fields[i];
		if (rec->lens[i] == 0 || utf8_length(name, rec->lens[i]) > CONTACT_CSV_KEY_MAX) {
			*why = arena_printf(a, "column %zu of the header must be named in 1 to %d characters", i + 1,
					    CONTACT_CSV_KEY_MAX);
			return -EINVAL;
		}
		roles[i] = role_of(name);
		names[i] = arena_strdup(a, name);
		for (size_t k = 0; k < i; k++)
			if (strcasecmp(names[k], name) == 0 || (roles[i] != CONTACT_COL_ATTRIBUTE && roles[k] == roles[i])) {
				*why = arena_printf(a, "the header repeats the column \"%s\"", name);
				return -EINVAL;
			}
		if (roles[i] == CONTACT_COL_EMAIL)
			email = i;
	}
	size_t attributes = 0;
	for (size_t i = 0; i < n; i++)
		attributes += roles[i] == CONTACT_COL_ATTRIBUTE;
	if (attributes > CONTACT_CSV_MAX_ATTRIBUTES) {
		*why = arena_printf(a, "the header has %zu attribute columns; at most %d are kept", attributes,
				    CONTACT_CSV_MAX_ATTRIBUTES);
		return -EINVAL;
	}
	if (email == n) {
		*why = "the CSV header must have an email column";
		return -EINVAL;
	}
	*ret = (struct contact_csv_header){ .ncolumns = n, .roles = roles, .names = names, .email = email };
	return 0;
}

/* s without leading and trailing spaces and tabs, copied into a. */
static const char *trimmed(arena *a, const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return arena_strndup(a, s, len);
}

int contact_csv_row(arena *a, const struct contact_csv_header *h, const struct csv_record *rec,
		    struct contact_row *ret, const char **why)
{
	if (rec->nfields != h->ncolumns) {
		*why = arena_printf(a, "has %zu fields; the header has %zu", rec->nfields, h->ncolumns);
		return -EINVAL;
	}
	struct contact_row row = { .email = trimmed(a, rec->fields[h->email], rec->lens[h->email]) };
	if (!is_email(row.email)) {
		*why = rec->lens[h->email] ? "the email is not a valid address" : "the email is empty";
		return -EINVAL;
	}
	buf attrs;
	buf_init(&attrs, a, 64);
	buf_putc(&attrs, '{');
	for (size_t i = 0; i < h->ncolumns; i++) {
		const char *v = rec->fields[i];
		size_t len = rec->lens[i], chars = utf8_length(v, len);
		if (len == 0 || h->roles[i] == CONTACT_COL_EMAIL)
			continue;
		size_t max = h->roles[i] == CONTACT_COL_ATTRIBUTE ? CONTACT_CSV_VALUE_MAX : CONTACT_CSV_NAME_MAX;
		if (chars > max) {
			*why = arena_printf(a, "%s is longer than %zu characters", h->names[i], max);
			return -EINVAL;
		}
		if (h->roles[i] == CONTACT_COL_FIRST_NAME) {
			row.first_name = v;
		} else if (h->roles[i] == CONTACT_COL_LAST_NAME) {
			row.last_name = v;
		} else {
			if (attrs.len > 1)
				buf_putc(&attrs, ',');
			buf_json_str(&attrs, h->names[i]);
			buf_putc(&attrs, ':');
			buf_json_strn(&attrs, v, len);
		}
	}
	buf_putc(&attrs, '}');
	row.first_name = row.first_name ? arena_strdup(a, row.first_name) : NULL;
	row.last_name = row.last_name ? arena_strdup(a, row.last_name) : NULL;
	row.attributes = buf_cstr(&attrs);
	*ret = row;
	return 0;
}
