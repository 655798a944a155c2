/* Unit tests for src/contacts/contact_csv.c: what the columns of a contacts CSV mean. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "contact_csv.h"
#include "tap.h"

/* The first record of s. */
static struct csv_record first(arena *a, const char *s)
{
	struct csv_reader c;
	struct csv_record rec;
	csv_init(&c, a, s, strlen(s), CONTACT_CSV_MAX_RECORD, CONTACT_CSV_MAX_FIELDS);
	if (csv_next(&c, &rec) != 1)
		rec.nfields = 0;
	return rec;
}

static int header(arena *a, const char *s, struct contact_csv_header *h, const char **why)
{
	struct csv_record rec = first(a, s);
	return contact_csv_header(a, &rec, h, why);
}

static int row(arena *a, const struct contact_csv_header *h, const char *s, struct contact_row *r, const char **why)
{
	struct csv_record rec = first(a, s);
	return contact_csv_row(a, h, &rec, r, why);
}

int main(void)
{
	arena *a = arena_new(1 << 16);
	struct contact_csv_header h;
	struct contact_row r;
	const char *why = NULL;

	is_int(header(a, "Company,EMAIL,First_Name,lastname,Plan", &h, &why), 0, "a header with every kind of column");
	ok(h.ncolumns == 5 && h.email == 1, "five columns, email second");
	ok(h.roles[0] == CONTACT_COL_ATTRIBUTE && h.roles[2] == CONTACT_COL_FIRST_NAME &&
	   h.roles[3] == CONTACT_COL_LAST_NAME && h.roles[4] == CONTACT_COL_ATTRIBUTE, "roles ignore case");

	is_int(row(a, &h, "\"Acme, Inc.\", Ann@Example.com ,Ann,,", &r, &why), 0, "a good row");
	is_str(r.email, "Ann@Example.com", "the email is trimmed, its case kept");
	is_str(r.first_name, "Ann", "first name");
	ok(r.last_name == NULL, "an empty last name is NULL (kept as it is on update)");
	is_str(r.attributes, "{\"Company\":\"Acme, Inc.\"}", "non-empty attribute cells only");

	is_int(row(a, &h, "x,ann@example.com,Ann", &r, &why), -EINVAL, "too few fields");
	is_str(why, "has 3 fields; the header has 5", "says how many");
	is_int(row(a, &h, "x,not an email,A,B,C", &r, &why), -EINVAL, "a bad address");
	is_str(why, "the email is not a valid address", "says so");
	is_int(row(a, &h, "x,,A,B,C", &r, &why), -EINVAL, "an empty email");
	is_str(why, "the email is empty", "says so");

	char longname[260];
	memset(longname, 'n', 201);
	longname[201] = '\0';
	char line[400];
	snprintf(line, sizeof(line), "x,a@b.io,%s,B,C", longname);
	is_int(row(a, &h, line, &r, &why), -EINVAL, "a first name over 200 characters");

	is_int(header(a, "name,city", &h, &why), -EINVAL, "no email column");
	is_str(why, "the CSV header must have an email column", "says so");
	is_int(header(a, "email,firstName,first_name", &h, &why), -EINVAL, "firstName twice under two spellings");
	is_int(header(a, "email,Plan,plan", &h, &why), -EINVAL, "an attribute twice, ignoring case");
	is_int(header(a, "email,,x", &h, &why), -EINVAL, "an empty column name");

	char wide[2048] = "email";
	for (int i = 0; i < CONTACT_CSV_MAX_ATTRIBUTES + 1; i++)
		snprintf(wide + strlen(wide), sizeof(wide) - strlen(wide), ",a%d", i);
	is_int(header(a, wide, &h, &why), -EINVAL, "more than 50 attribute columns");

	is_int(header(a, "\xEF\xBB\xBF" "email", &h, &why), 0, "a BOM before the header");
	is_int(row(a, &h, "\"q@x.io\"", &r, &why), 0, "a one-column file");
	is_str(r.attributes, "{}", "no attributes");

	arena_free(a);
	return tap_done();
}
