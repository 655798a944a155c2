/* Unit tests for src/core/metrics.c: buckets, counting across forked processes, the file-backed
 * region, named slots, and the text format it prints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "tap.h"

#define CHILDREN 4
#define PER_CHILD 50000

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += strncmp(p, prefix, len) == 0;
	return n;
}

static const char *format(arena *a, const struct metrics_source *src, size_t n)
{
	static const struct metrics_route_name routes[] = { { "GET", "/api/health" }, { "POST", "/api/things" } };
	buf b;
	buf_init(&b, a, 4096);
	metrics_format(&b, src, n, routes, 2);
	return buf_cstr(&b);
}

int main(void)
{
	/* bucket search: upper bounds are inclusive, past the last is the +Inf slot */
	static const int64_t bounds[] = { 10, 100, 1000 };
	is_int(metrics_bucket(bounds, 3, 0), 0, "0 falls in the first bucket");
	is_int(metrics_bucket(bounds, 3, 10), 0, "a bound belongs to its own bucket (le)");
	is_int(metrics_bucket(bounds, 3, 11), 1, "11 in the second");
	is_int(metrics_bucket(bounds, 3, 1000), 2, "1000 in the third");
	is_int(metrics_bucket(bounds, 3, 1001), 3, "past the last bound: +Inf");

	/* nothing mapped: every call is a no-op */
	metrics_here = NULL;
	metrics_request(0, 200, 5);
	metrics_count(MC_UPLOADS, 1);
	ok(1, "counting without a region does not crash");

	/* the API's way: anonymous shared region before fork; children's counts add up exactly */
	struct metrics_region *r;
	is_int(metrics_create_anon("api", &r), 0, "anonymous region");
	metrics_here = r;
	for (int c = 0; c < CHILDREN; c++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (int i = 0; i < PER_CHILD; i++) {
				metrics_request(1, i % 2 ? 201 : 422, i % 3 ? 300 : 20000000);
				metrics_count(MC_UPLOAD_BYTES, 3);
			}
			_exit(0);
		}
	}
	int status, clean = 0;
	while (wait(&status) > 0)
		clean += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	is_int(clean, CHILDREN, "children exited");
	is_int(r->requests[1][1], CHILDREN * PER_CHILD / 2, "every child's 201s counted (lock-free, no loss)");
	is_int(r->counter[MC_UPLOAD_BYTES], 3LL * CHILDREN * PER_CHILD, "plain counter adds across processes");
	uint64_t total = 0;
	for (int b = 0; b < METRICS_BUCKETS; b++)
		total += r->latency[1][0].bucket[b] + r->latency[1][2].bucket[b];
	is_int(total, CHILDREN * PER_CHILD, "one histogram observation per request");
	is_int(r->latency[1][0].bucket[METRICS_BUCKETS - 1] + r->latency[1][2].bucket[METRICS_BUCKETS - 1],
	       CHILDREN * ((PER_CHILD + 2) / 3), "20 s requests land in +Inf");

	metrics_request(-1, 404, 10);
	metrics_request(999, 599, 10);
	is_int(r->requests[METRICS_ROUTES - 1][14], 1, "no route: the last route slot (404 has its own status slot)");
	is_int(r->requests[METRICS_ROUTES - 1][31], 1, "an unlisted status counts as other");
	is_str(metrics_status_label(14), "404", "status slot 14 is 404");
	is_str(metrics_status_label(31), "other", "the last status slot is other");

	/* what the request path pays: printed for the record, not asserted (machines differ) */
	struct metrics_region *scratch;
	is_int(metrics_create_anon("api", &scratch), 0, "a second region for the timing");
	metrics_here = scratch;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000000; i++)
		metrics_request(i & 63, 200 + (i & 3), i & 0xffff);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# metrics_request: %.1f ns a call\n",
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e6);
	metrics_unmap(scratch);
	metrics_here = r;

	/* named slots: registered names, the rest in "other" */
	int s1 = metrics_name_add(r, METRICS_MODELS, "gpt-x");
	is_int(metrics_name_add(r, METRICS_MODELS, "gpt-x"), s1, "a name registered twice keeps its slot");
	metrics_llm("gpt-x", "ok", 10, 5, 1500000, 700);
	metrics_llm("gpt-x", "timeout", 0, 0, 0, 30000);
	metrics_llm("unheard-of", "weird", 1, 1, 0, 1);
	is_int(r->llm[s1].outcome[0], 1, "ok call");
	is_int(r->llm[s1].outcome[6], 1, "timeout call");
	is_int(r->llm[s1].prompt_tokens, 10, "prompt tokens");
	is_int(r->llm[METRICS_NAMES - 1].outcome[METRICS_LLM_OUTCOMES - 1], 1, "unknown model and outcome: other");

	/* the text format */
	arena *a = arena_new(65536);
	struct metrics_source src[] = { { r, "api" } };
	const char *text = format(a, src, 1);
	is_int(count_lines_starting(text, "# TYPE adcraft_http_requests_total counter"), 1, "one TYPE per family");
	is_int(count_lines_starting(text, "# TYPE adcraft_db_errors_total counter"), 1,
	       "a family of several counters is declared once");
	ok(strstr(text, "adcraft_http_requests_total{method=\"POST\",route=\"/api/things\",status=\"201\"} 100000\n") !=
		   NULL,
	   "requests by route template and status");
	ok(strstr(text, "adcraft_http_requests_total{method=\"none\",route=\"none\",status=\"404\"} 1\n") != NULL,
	   "unmatched requests are route none");
	ok(strstr(text, "route=\"/api/health\"") == NULL, "routes nobody asked for are left out");
	ok(strstr(text, "adcraft_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/things\","
			"status_class=\"4xx\",le=\"+Inf\"} 100000\n") != NULL,
	   "histogram +Inf bucket is the class's count");
	ok(strstr(text, "adcraft_llm_cost_total{program=\"api\",model=\"gpt-x\"} 0.000001500000\n") != NULL,
	   "cost printed exactly from 1e-12 units");
	ok(strstr(text, "adcraft_llm_calls_total{program=\"api\",model=\"other\",outcome=\"other\"} 1\n") != NULL,
	   "the other slot shows once used");
	ok(strstr(text, "adcraft_upload_bytes_total{program=\"api\"} 600000\n") != NULL, "plain counter");

	/* the worker's way: a file other processes map read-only */
	char dir[] = "/tmp/adcraft-metrics-XXXXXX", path[256];
	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof(path), "%s/worker-metrics", dir);
	struct metrics_region *w;
	is_int(metrics_create_file(path, "worker", &w), 0, "file-backed region");
	metrics_here = w;
	metrics_name_add(w, METRICS_KINDS, "data-exports/export");
	pid_t pid = fork();
	if (pid == 0) {
		metrics_job("data-exports", "export", 0, 1200);
		metrics_job("data-exports", "export", 2, 5);
		metrics_count(MC_EMAILS_DEFERRED, 2);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	const struct metrics_region *ro;
	is_int(metrics_open_file(path, &ro), 0, "another process maps it read-only");
	is_int(ro->counter[MC_EMAILS_DEFERRED], 2, "the child's count is in the file");
	is_int(ro->jobs[0].outcome[0] + ro->jobs[0].outcome[2], 2, "job outcomes by registered kind");
	struct metrics_source both[] = { { r, "api" }, { ro, "worker" } };
	text = format(a, both, 2);
	ok(strstr(text, "adcraft_emails_total{program=\"worker\",outcome=\"deferred\"} 2\n") != NULL,
	   "worker series carry program=worker");
	ok(strstr(text, "adcraft_jobs_total{queue=\"data-exports\",kind=\"export\",outcome=\"failed\"} 1\n") != NULL,
	   "jobs by queue, kind and outcome");
	ok(strstr(text, "adcraft_job_duration_seconds_bucket{queue=\"data-exports\",kind=\"export\",le=\"2.5\"} 2\n") !=
		   NULL,
	   "job durations in seconds, cumulative");
	is_int(count_lines_starting(text, "# TYPE adcraft_emails_total counter"), 1,
	       "two programs' series share one family");
	metrics_unmap(ro);

	/* a file that is not a region is refused */
	FILE *f = fopen(path, "w");
	fputs("not a region", f);
	fclose(f);
	is_int(metrics_open_file(path, &ro), -EPROTO, "a foreign file is -EPROTO");
	unlink(path);
	is_int(metrics_open_file(path, &ro), -ENOENT, "no file is -ENOENT");
	rmdir(dir);
	arena_free(a);
	return tap_done();
}
