/*
 * fuzz-report_csv.c - ad-platform report uploads of POST /api/analytics/import,
 * read as the API and the import-analytics job do: csv.c for the records,
 * report_csv.c for the header (after an optional preamble) and the lines.
 * Invariants: a mapped header names a date, a content id and a metric
 * column, each at most once and inside the record; refusals say why; a line
 * that reads has a calendar date, a lower-case UUID, counts within
 * [0, 10^12) and amounts that are plain non-zero decimals.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "report_csv.h"
#include "validate.h"

static void check_amount(const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s), dots = 0;
	if (n == 0 || strspn(s, "0123456789.") != n || strspn(s, "0.") == n)
		abort();
	for (const char *p = s; *p; p++)
		dots += *p == '.';
	if (dots > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = fuzz_arena();
	struct csv_reader c;
	struct csv_record rec;
	struct report_csv_header h;
	const char *why = NULL;
	csv_init(&c, a, (const char *)data, size, REPORT_CSV_MAX_RECORD, REPORT_CSV_MAX_FIELDS);
	if (report_csv_find_header(a, &c, &h, &why) < 0) {
		if (!why || !*why)
			abort();
		arena_reset(a);
		return 0;
	}
	if (h.index[REPORT_COL_DATE] < 0 || h.index[REPORT_COL_CONTENT] < 0 ||
	    (h.index[REPORT_COL_IMPRESSIONS] < 0 && h.index[REPORT_COL_CLICKS] < 0 &&
	     h.index[REPORT_COL_CONVERSIONS] < 0 && h.index[REPORT_COL_COST] < 0))
		abort();
	for (int i = 0; i < REPORT_COLS; i++) {
		if (h.index[i] >= (long)h.ncolumns)
			abort();
		for (int k = 0; k < i; k++)
			if (h.index[i] >= 0 && h.index[i] == h.index[k])
				abort();
	}
	for (int rc; (rc = csv_next(&c, &rec)) != 0;) {
		if (rc < 0)
			continue;
		struct report_row r;
		why = NULL;
		if (report_csv_row(a, &h, &rec, &r, &why) < 0) {
			if (!why || !*why)
				abort();
			continue;
		}
		if (!is_date(r.date) || !is_uuid(r.content_id) || strspn(r.content_id, "0123456789abcdef-") != 36)
			abort();
		if (r.impressions < 0 || r.clicks < 0 || r.conversions < 0 || r.impressions >= REPORT_CSV_MAX_COUNT ||
		    r.clicks >= REPORT_CSV_MAX_COUNT || r.conversions > REPORT_CSV_MAX_COUNT)
			abort();
		check_amount(r.cost);
		check_amount(r.revenue);
	}
	arena_reset(a);
	return 0;
}
