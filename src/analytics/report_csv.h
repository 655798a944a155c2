/*
 * report_csv.h - what the columns of an ad-platform report CSV mean (issue #12).
 *
 * POST /api/analytics/import takes a daily report per content item: a date,
 * the adcraft content id, and at least one of impressions, clicks,
 * conversions and cost (revenue optional). Column names are matched through
 * one table of aliases (report_aliases[]): adcraft's own names, Google Ads'
 * (Day, Impr., Clicks, Conversions, Cost, Conv. value) and Meta's (Reporting
 * starts, Impressions, Link clicks, Results, Amount spent (USD), Purchases
 * conversion value), ignoring case, surrounding spaces and a trailing
 * parenthesised part such as "(USD)". Other columns are ignored. A few lines
 * before the header (the title and date range of a Google Ads export) are
 * skipped. csv.h does the RFC 4180 part; the API checks the header of an
 * upload, the import-analytics job everything (docs/analytics.md).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "csv.h"

#define REPORT_CSV_MAX_RECORD 65536	/* bytes of one record */
#define REPORT_CSV_MAX_FIELDS 256	/* columns */
#define REPORT_CSV_PREAMBLE 5		/* lines before the header that may be skipped */
#define REPORT_CSV_MAX_COUNT 1000000000000LL /* the largest count or amount a cell may hold (10^12) */

enum report_column {
	REPORT_COL_DATE,
	REPORT_COL_CONTENT,
	REPORT_COL_IMPRESSIONS,
	REPORT_COL_CLICKS,
	REPORT_COL_CONVERSIONS,
	REPORT_COL_COST,
	REPORT_COL_REVENUE,
	REPORT_COLS
};

struct report_alias {
	const char *header;	/* normalised: lower case, no "(...)" suffix */
	enum report_column column;
	const char *dialect;	/* adcraft, google_ads or meta */
};

/* The alias table, ended by a NULL header (docs/analytics.md lists it). */
extern const struct report_alias report_aliases[];
/* The canonical name of a column ("date", "contentId", ...). */
const char *report_column_name(enum report_column c);

struct report_csv_header {
	long index[REPORT_COLS];	/* field index of each column, -1 when absent */
	size_t ncolumns;
	const char *dialect;		/* the first non-adcraft dialect a column matched, else "adcraft" */
};

/*
 * Maps a record as a header. -ENOENT when it names no date column (a
 * preamble line, or no header at all); -EINVAL with *why (a message for the
 * client) when it names a date but no content id column, no metric, or two
 * columns with the same meaning. Memory for *why from a.
 */
int report_csv_header(arena *a, const struct csv_record *rec, struct report_csv_header *ret, const char **why);

/*
 * Reads the header of a whole upload: skips up to REPORT_CSV_PREAMBLE lines
 * that are not a header. 0 with *ret, -EINVAL with *why (for the client), the
 * reader placed after the header either way.
 */
int report_csv_find_header(arena *a, struct csv_reader *c, struct report_csv_header *ret, const char **why);

struct report_row {
	const char *date;	 /* YYYY-MM-DD */
	const char *content_id;	 /* a UUID, lower case */
	int64_t impressions, clicks, conversions; /* 0 when the column is absent or the cell empty */
	const char *cost;	 /* plain decimal text ("12.5"), NULL when absent, empty or zero */
	const char *revenue;	 /* the same */
};

/*
 * Checks a record against the header: a real calendar date, a UUID content
 * id, counts (digits, optional thousands commas; "--" or empty is 0;
 * fractional conversions are rounded half up) and amounts (at most 6
 * decimals) within REPORT_CSV_MAX_COUNT. 0 with *ret filled (memory from a),
 * or -EINVAL with *why; a totals line ("Total: ...") is refused saying so.
 */
int report_csv_row(arena *a, const struct report_csv_header *h, const struct csv_record *rec,
		   struct report_row *ret, const char **why);
