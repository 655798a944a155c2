/* Unit tests for src/gen/text.c: fitting model answers into limits without cutting phrases. */
#include "checks.h"
#include "tap.h"
#include "text.h"

int main(void)
{
	arena *a = arena_new(0);
	is_str(text_fit(a, "Short enough.", 30), "Short enough.", "text within the limit is kept");
	is_str(text_fit(a, "Plan your week. Ship on time with the whole team behind you.", 30), "Plan your week.",
	       "cut at a sentence end when one is in reach");
	const char *h = text_fit(a, "Get More Done With Acme Planner Today", 20);
	ok(strlen(h) <= 20 && !check_broken(h, true), "a headline cut at words never ends on \"with\" (\"%s\")", h);
	ok(strstr(text_fit(a, "Ready to get ten hours a week back with our planner", 26), "...") == NULL,
	   "no \"...\" is added");
	const char *q = text_fit(a, "\"Quoted openings keep their words even when the quote is cut", 30);
	ok(*q && strlen(q) <= 30, "an open quote does not empty the text (\"%s\")", q);
	arena_free(a);
	return tap_done();
}
