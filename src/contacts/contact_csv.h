/*
 * contact_csv.h - what the columns of a contacts CSV mean (issue #11).
 *
 * The header names the columns: `email` (required), `firstName` or
 * `first_name`, `lastName` or `last_name` (any case), and anything else
 * becomes a member of the contact's attributes under its header name. Each
 * later record is checked against the header and turned into one contact
 * row, or a reason it is skipped. csv.h does the RFC 4180 part; the API
 * checks the header of an upload, the import-contacts job everything.
 */
#pragma once

#include <stddef.h>

#include "arena.h"
#include "csv.h"

#define CONTACT_CSV_MAX_RECORD 65536	/* bytes of one record */
#define CONTACT_CSV_MAX_FIELDS 64	/* columns */
#define CONTACT_CSV_NAME_MAX 200	/* characters of a first or last name */
#define CONTACT_CSV_VALUE_MAX 1000	/* characters of an attribute value */
#define CONTACT_CSV_KEY_MAX 64		/* characters of an attribute (column) name */
#define CONTACT_CSV_MAX_ATTRIBUTES 50	/* columns other than email and names (= the API's attributes limit) */

enum contact_column { CONTACT_COL_EMAIL, CONTACT_COL_FIRST_NAME, CONTACT_COL_LAST_NAME, CONTACT_COL_ATTRIBUTE };

struct contact_csv_header {
	size_t ncolumns;
	enum contact_column *roles; /* per column */
	const char **names;	    /* per column, as in the header */
	size_t email;		    /* index of the email column */
};

/*
 * Maps a header record. -EINVAL with *why (a message for the client) when it
 * has no email column, repeats a column (ignoring case, first_name being
 * firstName), has an empty or over-long column name, or more than
 * CONTACT_CSV_MAX_ATTRIBUTES attribute columns. Memory from a.
 */
int contact_csv_header(arena *a, const struct csv_record *rec, struct contact_csv_header *ret, const char **why);

struct contact_row {
	const char *email;	 /* trimmed of spaces and tabs */
	const char *first_name;	 /* NULL when the column is absent or the cell empty */
	const char *last_name;
	const char *attributes;	 /* JSON object text of the non-empty attribute cells */
};

/*
 * Checks a record against the header: as many fields as columns, an email
 * address (validate.h's is_email), names and values within their lengths.
 * 0 with *ret filled (memory from a), or -EINVAL with *why.
 */
int contact_csv_row(arena *a, const struct contact_csv_header *h, const struct csv_record *rec,
		    struct contact_row *ret, const char **why);
