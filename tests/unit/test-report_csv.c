/* Unit tests for src/analytics/report_csv.c: what the columns of an ad-platform report CSV mean. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report_csv.h"
#include "tap.h"

static struct csv_record first(arena *a, const char *s)
{
	struct csv_reader c;
	struct csv_record rec;
	csv_init(&c, a, s, strlen(s), REPORT_CSV_MAX_RECORD, REPORT_CSV_MAX_FIELDS);
	if (csv_next(&c, &rec) != 1)
		rec.nfields = 0;
	return rec;
}

static int header(arena *a, const char *s, struct report_csv_header *h, const char **why)
{
	struct csv_record rec = first(a, s);
	return report_csv_header(a, &rec, h, why);
}

static int row(arena *a, const struct report_csv_header *h, const char *s, struct report_row *r, const char **why)
{
	struct csv_record rec = first(a, s);
	return report_csv_row(a, h, &rec, r, why);
}

#define ID "3f2c1d7e-8a4b-4c55-9d1e-0b6f7a2c9e10"

int main(void)
{
	arena *a = arena_new(1 << 16);
	struct report_csv_header h;
	struct report_row r;
	const char *why = NULL;

	/* adcraft's own names, any case */
	is_int(header(a, "Date,contentId,IMPRESSIONS,clicks,conversions,cost,revenue", &h, &why), 0, "adcraft header");
	ok(h.index[REPORT_COL_DATE] == 0 && h.index[REPORT_COL_REVENUE] == 6, "columns mapped in place");
	is_str(h.dialect, "adcraft", "dialect adcraft");

	/* Google Ads: Day, Impr., Conv. value; unknown columns ignored */
	is_int(header(a, "Day,Campaign,Ad name,Currency code,Impr.,Clicks,Conversions,Cost,Conv. value", &h, &why), 0,
	       "Google Ads header");
	is_str(h.dialect, "google_ads", "dialect google_ads");
	ok(h.index[REPORT_COL_CONTENT] == 2 && h.index[REPORT_COL_IMPRESSIONS] == 4 && h.index[REPORT_COL_COST] == 7 &&
	   h.index[REPORT_COL_REVENUE] == 8, "Google columns");
	is_int(row(a, &h, "2026-11-30,Spring," ID ",USD,\"1,200\",--,2.5,45.10,120.00", &r, &why), 0, "a Google line");
	is_str(r.date, "2026-11-30", "date");
	is_str(r.content_id, ID, "content id");
	ok(r.impressions == 1200 && r.clicks == 0 && r.conversions == 3, "thousands commas, -- is 0, 2.5 rounds to 3");
	is_str(r.cost, "45.10", "cost text");
	is_str(r.revenue, "120.00", "revenue text");
	is_int(row(a, &h, "Total: Account,,,,\"2,005\",31,2.5,58.10,120.00", &r, &why), -EINVAL, "totals line");
	is_str(why, "a totals line, not a day", "totals reason");

	/* Meta: Reporting starts, Link clicks, Results, Amount spent (USD) */
	is_int(header(a, "Reporting starts,Reporting ends,Ad name,Impressions,Link clicks,Results,Amount spent (USD),"
			 "Purchases conversion value", &h, &why), 0, "Meta header");
	is_str(h.dialect, "meta", "dialect meta");
	ok(h.index[REPORT_COL_COST] == 6 && h.index[REPORT_COL_CLICKS] == 4 && h.index[REPORT_COL_CONVERSIONS] == 5,
	   "a (USD) suffix is ignored");
	is_int(row(a, &h, "2026-11-30,2026-11-30," ID ",,,,0.00,", &r, &why), 0, "an empty Meta line reads");
	ok(r.impressions == 0 && r.cost == NULL && r.revenue == NULL, "empty and zero cells are nothing");

	/* header refusals */
	is_int(header(a, "email,name", &h, &why), -ENOENT, "no date column: not a header");
	is_int(header(a, "date,impressions", &h, &why), -EINVAL, "no content id column");
	ok(strstr(why, "content id") != NULL, "says so: %s", why);
	is_int(header(a, "date,contentId,campaign", &h, &why), -EINVAL, "no metric");
	is_int(header(a, "Day,Cost,Spend,contentId", &h, &why), -EINVAL, "two columns mean cost");
	is_str(why, "columns 2 and 3 of the header both mean cost", "names them");

	/* the preamble of a Google Ads download */
	{
		const char *s = "Ad performance report\n\"Nov 1, 2026 - Nov 30, 2026\"\nDay,Ad name,Clicks\n";
		struct csv_reader c;
		csv_init(&c, a, s, strlen(s), REPORT_CSV_MAX_RECORD, REPORT_CSV_MAX_FIELDS);
		is_int(report_csv_find_header(a, &c, &h, &why), 0, "the header after two title lines");
		const char *none = "a\nb\nc\nd\ne\nf\nDay,Ad name,Clicks\n";
		csv_init(&c, a, none, strlen(none), REPORT_CSV_MAX_RECORD, REPORT_CSV_MAX_FIELDS);
		is_int(report_csv_find_header(a, &c, &h, &why), -EINVAL, "not after six other lines");
	}

	/* row refusals */
	header(a, "date,contentId,impressions,clicks,conversions,cost", &h, &why);
	is_int(row(a, &h, "2026-02-30," ID ",1,1,1,1", &r, &why), -EINVAL, "not a calendar day");
	is_int(row(a, &h, "2026-02-03,ad-1,1,1,1,1", &r, &why), -EINVAL, "content id not a UUID");
	is_int(row(a, &h, "2026-02-03," ID ",1.5,1,1,1", &r, &why), -EINVAL, "fractional impressions");
	is_int(row(a, &h, "2026-02-03," ID ",-1,1,1,1", &r, &why), -EINVAL, "negative count");
	is_int(row(a, &h, "2026-02-03," ID ",1,1,1,1.1234567", &r, &why), -EINVAL, "seven decimals of cost");
	is_int(row(a, &h, "2026-02-03," ID ",1000000000000,1,1,1", &r, &why), -EINVAL, "10^12 impressions");
	is_int(row(a, &h, "2026-02-03," ID ",1,1,1,$5", &r, &why), -EINVAL, "a currency sign");
	is_int(row(a, &h, "2026-02-03," ID ",1,,1", &r, &why), -EINVAL, "too few fields");
	is_int(row(a, &h, "2026-02-03," ID ",1,2,3,0.5", &r, &why), 0, "a plain line");
	is_str(r.cost, "0.5", "cost");
	ok(r.impressions == 1 && r.clicks == 2 && r.conversions == 3, "counts");

	is_str(report_column_name(REPORT_COL_CONTENT), "contentId", "canonical names");
	ok(report_column_name(REPORT_COLS) == NULL, "past the table: NULL");
	arena_free(a);
	return tap_done();
}
