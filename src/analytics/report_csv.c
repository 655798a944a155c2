/*
 * report_csv.c - header mapping and row checks of ad-platform report CSVs (report_csv.h).
 */
#include "report_csv.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "validate.h"

const struct report_alias report_aliases[] = {
	{ "date", REPORT_COL_DATE, "adcraft" },
	{ "contentid", REPORT_COL_CONTENT, "adcraft" },
	{ "content_id", REPORT_COL_CONTENT, "adcraft" },
	{ "content id", REPORT_COL_CONTENT, "adcraft" },
	{ "impressions", REPORT_COL_IMPRESSIONS, "adcraft" },
	{ "clicks", REPORT_COL_CLICKS, "adcraft" },
	{ "conversions", REPORT_COL_CONVERSIONS, "adcraft" },
	{ "cost", REPORT_COL_COST, "adcraft" },
	{ "spend", REPORT_COL_COST, "adcraft" },
	{ "revenue", REPORT_COL_REVENUE, "adcraft" },
	/* Google Ads report downloads */
	{ "day", REPORT_COL_DATE, "google_ads" },
	{ "impr.", REPORT_COL_IMPRESSIONS, "google_ads" },
	{ "conv. value", REPORT_COL_REVENUE, "google_ads" },
	{ "ad name", REPORT_COL_CONTENT, "google_ads" }, /* also Meta's: the ad named after the content id */
	/* Meta Ads Manager exports */
	{ "reporting starts", REPORT_COL_DATE, "meta" },
	{ "link clicks", REPORT_COL_CLICKS, "meta" },
	{ "results", REPORT_COL_CONVERSIONS, "meta" },
	{ "amount spent", REPORT_COL_COST, "meta" },
	{ "purchases conversion value", REPORT_COL_REVENUE, "meta" },
	{ NULL, 0, NULL },
};

static const char *const column_names[REPORT_COLS] = {
	[REPORT_COL_DATE] = "date",
	[REPORT_COL_CONTENT] = "contentId",
	[REPORT_COL_IMPRESSIONS] = "impressions",
	[REPORT_COL_CLICKS] = "clicks",
	[REPORT_COL_CONVERSIONS] = "conversions",
	[REPORT_COL_COST] = "cost",
	[REPORT_COL_REVENUE] = "revenue",
};

const char *report_column_name(enum report_column c)
{
	return c < REPORT_COLS ? column_names[c] : NULL;
}

/* s[0..len) without surrounding spaces and tabs: *start and the new length. */
static size_t trim(const char **s, size_t len)
{
	while (len && (**s == ' ' || **s == '\t'))
		(*s)++, len--;
	while (len && ((*s)[len - 1] == ' ' || (*s)[len - 1] == '\t'))
		len--;
	return len;
}

/* The alias row a header cell matches (case, spaces and a "(...)" suffix ignored), or NULL. */
static const struct report_alias *alias_of(const char *cell, size_t len)
{
	len = trim(&cell, len);
	if (len && cell[len - 1] == ')') {
		const char *open = memchr(cell, '(', len);
		if (open) {
			len = (size_t)(open - cell);
			len = trim(&cell, len);
		}
	}
	for (const struct report_alias *a = report_aliases; a->header; a++)
		if (strlen(a->header) == len && strncasecmp(a->header, cell, len) == 0)
			return a;
	return NULL;
}

int report_csv_header(arena *a, const struct csv_record *rec, struct report_csv_header *ret, const char **why)
{
	struct report_csv_header h = { .ncolumns = rec->nfields, .dialect = "adcraft" };
	for (int c = 0; c < REPORT_COLS; c++)
		h.index[c] = -1;
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct report_alias *al = alias_of(rec->fields[i], rec->lens[i]);
		if (!al)
			continue;
		if (h.index[al->column] >= 0) {
			*why = arena_printf(a, "columns %ld and %zu of the header both mean %s", h.index[al->column] + 1,
					    i + 1, column_names[al->column]);
			return -EINVAL;
		}
		h.index[al->column] = (long)i;
		if (strcmp(h.dialect, "adcraft") == 0 && strcmp(al->dialect, "adcraft") != 0)
			h.dialect = al->dialect;
	}
	if (h.index[REPORT_COL_DATE] < 0)
		return -ENOENT;
	if (h.index[REPORT_COL_CONTENT] < 0) {
		*why = "the header has no content id column (contentId, content_id, or Ad name holding the id)";
		return -EINVAL;
	}
	if (h.index[REPORT_COL_IMPRESSIONS] < 0 && h.index[REPORT_COL_CLICKS] < 0 &&
	    h.index[REPORT_COL_CONVERSIONS] < 0 && h.index[REPORT_COL_COST] < 0) {
		*why = "the header names none of impressions, clicks, conversions and cost";
		return -EINVAL;
	}
	*ret = h;
	return 0;
}

int report_csv_find_header(arena *a, struct csv_reader *c, struct report_csv_header *ret, const char **why)
{
	struct csv_record rec;
	for (int n = 0; n <= REPORT_CSV_PREAMBLE; n++) {
		int rc = csv_next(c, &rec);
		if (rc == 0)
			break;
		if (rc < 0) {
			*why = arena_printf(a, "line %ld is malformed: %s", rec.line, c->error);
			return -EINVAL;
		}
		rc = report_csv_header(a, &rec, ret, why);
		if (rc != -ENOENT)
			return rc;
	}
	*why = arena_printf(a, "no header line naming a date column (date, Day or Reporting starts) in the first %d "
			       "lines", REPORT_CSV_PREAMBLE + 1);
	return -EINVAL;
}

/*
 * A count or an amount: digits with optional thousands commas and at most
 * max_decimals decimals; empty, "-" and "--" are zero. Writes the digits
 * (without commas) to out (room for len + 1 bytes) and returns 0, or -EINVAL.
 */
static int number_text(const char *s, size_t len, int max_decimals, char *out)
{
	len = trim(&s, len);
	if (len == 0 || (len == 1 && s[0] == '-') || (len == 2 && s[0] == '-' && s[1] == '-')) {
		strcpy(out, "0");
		return 0;
	}
	size_t n = 0, int_digits = 0, decimals = 0;
	bool dot = false, digit_before = false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (isdigit((unsigned char)ch)) {
			out[n++] = ch;
			digit_before = true;
			if (dot)
				decimals++;
			else if (int_digits || ch != '0')
				int_digits++;
		} else if (ch == ',' && !dot && digit_before && i + 1 < len && isdigit((unsigned char)s[i + 1])) {
			continue;
		} else if (ch == '.' && !dot && digit_before && i + 1 < len) {
			dot = true;
			out[n++] = '.';
		} else {
			return -EINVAL;
		}
	}
	out[n] = '\0';
	if ((int)decimals > max_decimals || int_digits > 12)
		return -EINVAL;
	return 0;
}

/* A count cell; with round, decimals are rounded half up (Google's fractional conversions). */
static int count_of(arena *a, const char *s, size_t len, bool round, int64_t *ret)
{
	char *digits = arena_alloc(a, len + 2);
	if (number_text(s, len, round ? 6 : 0, digits) < 0)
		return -EINVAL;
	int64_t v = 0;
	const char *p = digits;
	for (; *p && *p != '.'; p++)
		v = v * 10 + (*p - '0');
	if (*p == '.' && p[1] >= '5')
		v++;
	if (v >= REPORT_CSV_MAX_COUNT)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* An amount cell: NULL for zero, else its decimal text (from a). */
static int amount_of(arena *a, const char *s, size_t len, const char **ret)
{
	char *digits = arena_alloc(a, len + 2);
	if (number_text(s, len, 6, digits) < 0)
		return -EINVAL;
	*ret = strspn(digits, "0.") == strlen(digits) ? NULL : arena_strdup(a, digits);
	return 0;
}

int report_csv_row(arena *a, const struct report_csv_header *h, const struct csv_record *rec,
		   struct report_row *ret, const char **why)
{
	if (rec->nfields != h->ncolumns) {
		*why = arena_printf(a, "has %zu fields; the header has %zu", rec->nfields, h->ncolumns);
		return -EINVAL;
	}
	const char *date = rec->fields[h->index[REPORT_COL_DATE]];
	size_t date_len = trim(&date, rec->lens[h->index[REPORT_COL_DATE]]);
	if (date_len >= 5 && strncasecmp(date, "total", 5) == 0) {
		*why = "a totals line, not a day";
		return -EINVAL;
	}
	struct report_row row = { .date = arena_strndup(a, date, date_len) };
	if (!is_date(row.date)) {
		*why = "date must be YYYY-MM-DD";
		return -EINVAL;
	}
	const char *id = rec->fields[h->index[REPORT_COL_CONTENT]];
	size_t id_len = trim(&id, rec->lens[h->index[REPORT_COL_CONTENT]]);
	char *content = arena_strndup(a, id, id_len);
	for (char *p = content; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!is_uuid(content)) {
		*why = "contentId must be an adcraft content id (a UUID)";
		return -EINVAL;
	}
	row.content_id = content;
	static const struct {
		enum report_column col;
		size_t offset;
		bool round;
	} counts[] = {
		{ REPORT_COL_IMPRESSIONS, offsetof(struct report_row, impressions), false },
		{ REPORT_COL_CLICKS, offsetof(struct report_row, clicks), false },
		{ REPORT_COL_CONVERSIONS, offsetof(struct report_row, conversions), true },
	};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		long f = h->index[counts[i].col];
		if (f >= 0 && count_of(a, rec->fields[f], rec->lens[f], counts[i].round,
				       (int64_t *)((char *)&row + counts[i].offset)) < 0) {
			*why = arena_printf(a, "%s must be a whole number below 10^12", column_names[counts[i].col]);
			return -EINVAL;
		}
	}
	static const struct {
		enum report_column col;
		size_t offset;
	} amounts[] = {
		{ REPORT_COL_COST, offsetof(struct report_row, cost) },
		{ REPORT_COL_REVENUE, offsetof(struct report_row, revenue) },
	};
	for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
		long f = h->index[amounts[i].col];
		if (f >= 0 && amount_of(a, rec->fields[f], rec->lens[f],
					(const char **)((char *)&row + amounts[i].offset)) < 0) {
			*why = arena_printf(a, "%s must be an amount >= 0 below 10^12 with at most 6 decimals",
					    column_names[amounts[i].col]);
			return -EINVAL;
		}
	}
	*ret = row;
	return 0;
}
