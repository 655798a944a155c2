/*
 * metrics.c - the shared counter region: mapping it, counting into it, and
 * printing it in Prometheus's text exposition format.
 *
 * Counting is one relaxed atomic add per number (a histogram observation is
 * two: its bucket and its sum). Buckets are kept per slot, not cumulative, so
 * an observation touches one bucket; the printer accumulates them, and takes
 * _count from the same reads, so a scrape is consistent with itself.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define METRICS_MAGIC 0x6164637261667431ULL /* "adcraft1" */
#define METRICS_VERSION 1

struct metrics_region *metrics_here;

_Static_assert(sizeof(struct metrics_region) < UINT32_MAX, "region size fits its header");

/* ---- the tables ---------------------------------------------------------- */

/* Request statuses with a slot of their own (slot = index); any other status counts as "other". */
static const short statuses[] = { 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404,
				  405, 406, 409, 410, 412, 413, 414, 415, 422, 429, 500, 501, 502, 503, 504 };
#define NSTATUS ((int)(sizeof(statuses) / sizeof(statuses[0])))
#define STATUS_OTHER 31
_Static_assert(NSTATUS <= STATUS_OTHER, "status slots fit the requests array");

/* status -> slot + 1 (0: other), for O(1) lookup on the hot path; and each slot's label */
static unsigned char status_slot[600];
static char status_label[NSTATUS][8];

/* Histogram upper bounds, METRICS_BUCKETS - 1 each (the last slot is +Inf). */
static const int64_t http_bounds_us[METRICS_BUCKETS - 1] = { 250,    500,     1000,    2500,    5000,
							     10000,  25000,   50000,   100000,  250000,
							     500000, 1000000, 2500000, 5000000, 10000000 };
static const int64_t job_bounds_ms[METRICS_BUCKETS - 1] = { 10,    50,    100,   250,    500,    1000,   2500,   5000,
							    10000, 30000, 60000, 120000, 300000, 900000, 3600000 };
static const int64_t llm_bounds_ms[METRICS_BUCKETS - 1] = { 50,   100,   250,   500,   1000,  2000,  3000, 5000,
							    7500, 10000, 15000, 20000, 30000, 60000, 120000 };

static const char *const job_outcomes[METRICS_JOB_OUTCOMES] = { "completed", "retry", "failed", "cancelled",
								 "release" };
static const char *const llm_outcomes[METRICS_LLM_OUTCOMES] = { "ok",	  "retry",   "error",	  "refused", "length",
								 "schema", "timeout", "cancelled", "other" };

/* The plain counters: family, its one label (NULL: none) and, on a family's first row, its help. */
static const struct {
	enum metrics_counter c;
	const char *family;
	const char *label;
	const char *help;
} counters[] = {
	{ MC_DB_RECONNECTS, "adcraft_db_reconnects_total", NULL,
	  "PostgreSQL connections re-established after the first one (a restart, a dropped connection)." },
	{ MC_DB_CONNECT_FAILURES, "adcraft_db_connect_failures_total", NULL,
	  "PostgreSQL connection attempts that failed." },
	{ MC_DB_ERRORS_STATEMENT, "adcraft_db_errors_total", "kind=\"statement\"",
	  "Statements that failed: errors (statement), lost with the connection (connection), or refused by a "
	  "rule of the schema as part of a normal answer such as a 409 (rejected)." },
	{ MC_DB_ERRORS_CONNECTION, "adcraft_db_errors_total", "kind=\"connection\"", NULL },
	{ MC_DB_ERRORS_REJECTED, "adcraft_db_errors_total", "kind=\"rejected\"", NULL },
	{ MC_EVENTS_PUBLISHED, "adcraft_events_published_total", NULL, "Events published to nchan." },
	{ MC_EVENTS_FAILED, "adcraft_event_publish_failures_total", NULL,
	  "Events that could not be published to nchan (after the one retry)." },
	{ MC_EMAILS_SENT, "adcraft_emails_total", "outcome=\"sent\"",
	  "Email deliveries by outcome: sent, deferred (4xx, retried later), bounced (5xx), failed (gave up)." },
	{ MC_EMAILS_DEFERRED, "adcraft_emails_total", "outcome=\"deferred\"", NULL },
	{ MC_EMAILS_BOUNCED, "adcraft_emails_total", "outcome=\"bounced\"", NULL },
	{ MC_EMAILS_FAILED, "adcraft_emails_total", "outcome=\"failed\"", NULL },
	{ MC_MAIL_EVENTS_BOUNCE, "adcraft_mail_webhook_events_total", "type=\"bounce\"",
	  "Bounce and complaint events recorded from the mail provider's webhook." },
	{ MC_MAIL_EVENTS_COMPLAINT, "adcraft_mail_webhook_events_total", "type=\"complaint\"", NULL },
	{ MC_UPLOADS, "adcraft_uploads_total", NULL, "Image assets stored by POST /api/assets." },
	{ MC_UPLOAD_BYTES, "adcraft_upload_bytes_total", NULL, "Bytes of the image assets stored." },
	{ MC_EXPORTS_CREATED, "adcraft_exports_created_total", NULL, "Exports queued by POST /api/exports." },
	{ MC_EXPORTS_READY, "adcraft_exports_ready_total", NULL, "Export files written by the worker." },
	{ MC_EXPORT_BYTES, "adcraft_export_bytes_total", NULL, "Bytes of the export files written." },
};
_Static_assert(sizeof(counters) / sizeof(counters[0]) == MC__COUNT, "every counter is printed");

__attribute__((constructor)) static void status_table(void)
{
	for (int i = 0; i < NSTATUS; i++) {
		status_slot[statuses[i]] = (unsigned char)(i + 1);
		snprintf(status_label[i], sizeof(status_label[i]), "%d", statuses[i]);
	}
}

/* ---- mapping -------------------------------------------------------------- */

static void header(struct metrics_region *r, const char *program)
{
	r->magic = METRICS_MAGIC;
	r->version = METRICS_VERSION;
	r->size = (uint32_t)sizeof(*r);
	r->started_at = (int64_t)time(NULL);
	snprintf(r->program, sizeof(r->program), "%s", program);
	for (int t = 0; t < 2; t++)
		snprintf(r->names[t][METRICS_NAMES - 1], METRICS_NAME_MAX, "other");
}

int metrics_create_anon(const char *program, struct metrics_region **ret)
{
	void *p = mmap(NULL, sizeof(struct metrics_region), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	header(p, program);
	*ret = p;
	return 0;
}

int metrics_create_file(const char *path, const char *program, struct metrics_region **ret)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	void *p = MAP_FAILED;
	int rc = 0;
	if (fchmod(fd, 0644) < 0 || ftruncate(fd, (off_t)sizeof(struct metrics_region)) < 0)
		rc = -errno;
	else if ((p = mmap(NULL, sizeof(struct metrics_region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
		 MAP_FAILED)
		rc = -errno;
	close(fd);
	if (rc == 0) {
		header(p, program);
		if (rename(tmp, path) == 0) {
			*ret = p;
			return 0;
		}
		rc = -errno;
		munmap(p, sizeof(struct metrics_region));
	}
	unlink(tmp);
	return rc;
}

int metrics_open_file(const char *path, const struct metrics_region **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size != (off_t)sizeof(struct metrics_region)) {
		close(fd);
		return -EPROTO;
	}
	const struct metrics_region *r = mmap(NULL, sizeof(*r), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (r == MAP_FAILED)
		return -errno;
	if (r->magic != METRICS_MAGIC || r->version != METRICS_VERSION || r->size != sizeof(*r)) {
		metrics_unmap(r);
		return -EPROTO;
	}
	*ret = r;
	return 0;
}

void metrics_unmap(const struct metrics_region *r)
{
	if (r)
		munmap((void *)r, sizeof(*r));
}

int metrics_name_add(struct metrics_region *r, enum metrics_names_table table, const char *name)
{
	uint32_t n = atomic_load_explicit(&r->nnames[table], memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(r->names[table][i], name) == 0)
			return (int)i;
	if (n >= METRICS_NAMES - 1 || strlen(name) >= METRICS_NAME_MAX)
		return METRICS_NAMES - 1;
	snprintf(r->names[table][n], METRICS_NAME_MAX, "%s", name);
	atomic_store_explicit(&r->nnames[table], n + 1, memory_order_release);
	return (int)n;
}

/* ---- counting ------------------------------------------------------------- */

static inline void add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

int metrics_bucket(const int64_t *bounds, int n, int64_t v)
{
	int i = 0;
	while (i < n && v > bounds[i])
		i++;
	return i;
}

static void observe(struct metrics_hist *h, const int64_t *bounds, int64_t v)
{
	if (v < 0)
		v = 0;
	add(&h->bucket[metrics_bucket(bounds, METRICS_BUCKETS - 1, v)], 1);
	add(&h->sum, (uint64_t)v);
}

void metrics_count(enum metrics_counter c, uint64_t n)
{
	if (metrics_here)
		add(&metrics_here->counter[c], n);
}

void metrics_request(int route, int status, int64_t us)
{
	struct metrics_region *m = metrics_here;
	if (!m)
		return;
	if (route < 0 || route >= METRICS_ROUTES - 1)
		route = METRICS_ROUTES - 1;
	int slot = status > 0 && status < 600 && status_slot[status] ? status_slot[status] - 1 : STATUS_OTHER;
	add(&m->requests[route][slot], 1);
	int cls = status < 300 ? 0 : status < 400 ? 1 : status < 500 ? 2 : 3;
	observe(&m->latency[route][cls], http_bounds_us, us);
}

/* name's slot in table (registered by the master), else the "other" slot. */
static int slot_of(const struct metrics_region *m, enum metrics_names_table table, const char *name)
{
	uint32_t n = atomic_load_explicit(&m->nnames[table], memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(m->names[table][i], name) == 0)
			return (int)i;
	return METRICS_NAMES - 1;
}

void metrics_job(const char *queue, const char *kind, int outcome, int64_t ms)
{
	struct metrics_region *m = metrics_here;
	if (!m || outcome < 0 || outcome >= METRICS_JOB_OUTCOMES)
		return;
	char name[METRICS_NAME_MAX * 2];
	snprintf(name, sizeof(name), "%s/%s", queue, kind);
	int s = slot_of(m, METRICS_KINDS, name);
	add(&m->jobs[s].outcome[outcome], 1);
	observe(&m->jobs[s].ms, job_bounds_ms, ms);
}

void metrics_llm(const char *model, const char *outcome, long prompt_tokens, long completion_tokens,
		 uint64_t cost_pico, long latency_ms)
{
	struct metrics_region *m = metrics_here;
	if (!m)
		return;
	int s = slot_of(m, METRICS_MODELS, model);
	int o = 0;
	while (o < METRICS_LLM_OUTCOMES - 1 && strcmp(llm_outcomes[o], outcome) != 0)
		o++;
	add(&m->llm[s].outcome[o], 1);
	add(&m->llm[s].prompt_tokens, prompt_tokens > 0 ? (uint64_t)prompt_tokens : 0);
	add(&m->llm[s].completion_tokens, completion_tokens > 0 ? (uint64_t)completion_tokens : 0);
	add(&m->llm[s].cost_pico, cost_pico);
	observe(&m->llm[s].ms, llm_bounds_ms, latency_ms);
}

const char *metrics_status_label(int slot)
{
	return slot >= 0 && slot < NSTATUS ? status_label[slot] : "other";
}

/* ---- printing ------------------------------------------------------------- */

static uint64_t get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void family(buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the text format wants (backslash, quote, newline). */
static void label_value(buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(out, '\\');
		if (*s == '\n') {
			buf_puts(out, "\\n");
			continue;
		}
		buf_putc(out, *s);
	}
}

/* The series of histogram h: labels is the text between the braces, without le. */
static void hist(buf *out, const char *name, const char *labels, const struct metrics_hist *h,
		 const int64_t *bounds, double scale)
{
	uint64_t cum = 0;
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		cum += get(&h->bucket[i]);
		if (i < METRICS_BUCKETS - 1)
			buf_printf(out, "%s_bucket{%s,le=\"%g\"} %" PRIu64 "\n", name, labels, (double)bounds[i] / scale,
				   cum);
		else
			buf_printf(out, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, cum);
	}
	buf_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n", name, labels, (double)get(&h->sum) / scale, name,
		   labels, cum);
}

static uint64_t hist_count(const struct metrics_hist *h)
{
	uint64_t n = 0;
	for (int i = 0; i < METRICS_BUCKETS; i++)
		n += get(&h->bucket[i]);
	return n;
}

static void print_counters(buf *out, const struct metrics_source *src, size_t n)
{
	for (size_t i = 0; i < MC__COUNT; i++) {
		if (counters[i].help) {
			family(out, counters[i].family, "counter", counters[i].help);
			for (size_t k = i; k < MC__COUNT && strcmp(counters[k].family, counters[i].family) == 0; k++)
				for (size_t s = 0; s < n; s++)
					buf_printf(out, "%s{program=\"%s\"%s%s} %" PRIu64 "\n", counters[k].family,
						   src[s].program, counters[k].label ? "," : "",
						   counters[k].label ? counters[k].label : "",
						   get(&src[s].r->counter[counters[k].c]));
		}
	}
	family(out, "adcraft_process_start_time_seconds", "gauge",
	       "When the program's master started (its counters count from then), seconds since the epoch.");
	for (size_t s = 0; s < n; s++)
		buf_printf(out, "adcraft_process_start_time_seconds{program=\"%s\"} %" PRId64 "\n", src[s].program,
			   src[s].r->started_at);
}

static const char *route_labels(buf *b, const struct metrics_route_name *routes, int nroutes, int route)
{
	b->len = 0;
	buf_puts(b, "method=\"");
	label_value(b, route < nroutes ? routes[route].method : "none");
	buf_puts(b, "\",route=\"");
	label_value(b, route < nroutes ? routes[route].pattern : "none");
	buf_putc(b, '"');
	return buf_cstr(b);
}

static void print_requests(buf *out, const struct metrics_source *src, size_t n,
			   const struct metrics_route_name *routes, int nroutes)
{
	static const char *const classes[4] = { "2xx", "3xx", "4xx", "5xx" };
	buf labels;
	buf_init(&labels, out->arena, 256);
	family(out, "adcraft_http_requests_total", "counter",
	       "Requests answered by adcraft-api, by route template and status.");
	for (size_t s = 0; s < n; s++)
		for (int route = 0; route < METRICS_ROUTES; route++)
			for (int st = 0; st <= STATUS_OTHER; st++) {
				uint64_t v = get(&src[s].r->requests[route][st]);
				if (v)
					buf_printf(out, "adcraft_http_requests_total{%s,status=\"%s\"} %" PRIu64 "\n",
						   route_labels(&labels, routes, nroutes, route), metrics_status_label(st), v);
			}
	family(out, "adcraft_http_request_duration_seconds", "histogram",
	       "Time from receiving a request to sending its response, by route template and status class.");
	for (size_t s = 0; s < n; s++)
		for (int route = 0; route < METRICS_ROUTES; route++)
			for (int c = 0; c < 4; c++) {
				const struct metrics_hist *h = &src[s].r->latency[route][c];
				if (!hist_count(h))
					continue;
				route_labels(&labels, routes, nroutes, route);
				buf_printf(&labels, ",status_class=\"%s\"", classes[c]);
				hist(out, "adcraft_http_request_duration_seconds", buf_cstr(&labels), h, http_bounds_us, 1e6);
			}
}

/* Labels queue="..",kind=".." of a "queue/kind" slot name. */
static const char *kind_labels(buf *b, const char *name)
{
	const char *slash = strchr(name, '/');
	b->len = 0;
	buf_puts(b, "queue=\"");
	if (slash) {
		char q[METRICS_NAME_MAX];
		snprintf(q, sizeof(q), "%.*s", (int)(slash - name), name);
		label_value(b, q);
	} else {
		label_value(b, "other");
	}
	buf_puts(b, "\",kind=\"");
	label_value(b, slash ? slash + 1 : name);
	buf_putc(b, '"');
	return buf_cstr(b);
}

/* Whether slot i is printed: a registered name, or "other" once something counted there. */
static bool slot_used(const struct metrics_region *r, enum metrics_names_table t, int i)
{
	if (i == METRICS_NAMES - 1)
		return hist_count(t == METRICS_KINDS ? &r->jobs[i].ms : &r->llm[i].ms) > 0;
	return (uint32_t)i < atomic_load_explicit(&r->nnames[t], memory_order_acquire);
}

static void print_jobs(buf *out, const struct metrics_source *src, size_t n)
{
	buf labels;
	buf_init(&labels, out->arena, 256);
	family(out, "adcraft_jobs_total", "counter",
	       "Job attempts by queue, kind and outcome (retry: failed, worth another attempt, which the last "
	       "attempt does not get; release: handed back unfinished).");
	for (size_t s = 0; s < n; s++)
		for (int i = 0; i < METRICS_NAMES; i++) {
			if (!slot_used(src[s].r, METRICS_KINDS, i))
				continue;
			for (int o = 0; o < METRICS_JOB_OUTCOMES; o++) {
				uint64_t v = get(&src[s].r->jobs[i].outcome[o]);
				if (v || i < METRICS_NAMES - 1 || o == 0)
					buf_printf(out, "adcraft_jobs_total{%s,outcome=\"%s\"} %" PRIu64 "\n",
						   kind_labels(&labels, src[s].r->names[METRICS_KINDS][i]), job_outcomes[o], v);
			}
		}
	family(out, "adcraft_job_duration_seconds", "histogram", "How long job attempts ran, by queue and kind.");
	for (size_t s = 0; s < n; s++)
		for (int i = 0; i < METRICS_NAMES; i++)
			if (slot_used(src[s].r, METRICS_KINDS, i) && hist_count(&src[s].r->jobs[i].ms))
				hist(out, "adcraft_job_duration_seconds", kind_labels(&labels, src[s].r->names[METRICS_KINDS][i]),
				     &src[s].r->jobs[i].ms, job_bounds_ms, 1e3);
}

static const char *model_labels(buf *b, const char *program, const char *model)
{
	b->len = 0;
	buf_printf(b, "program=\"%s\",model=\"", program);
	label_value(b, model);
	buf_putc(b, '"');
	return buf_cstr(b);
}

static void print_llm(buf *out, const struct metrics_source *src, size_t n)
{
	buf labels;
	buf_init(&labels, out->arena, 256);
	family(out, "adcraft_llm_calls_total", "counter",
	       "Generation calls by model and outcome (llm_usage.outcome; builtin is the built-in generator).");
	for (size_t s = 0; s < n; s++)
		for (int i = 0; i < METRICS_NAMES; i++)
			for (int o = 0; slot_used(src[s].r, METRICS_MODELS, i) && o < METRICS_LLM_OUTCOMES; o++) {
				uint64_t v = get(&src[s].r->llm[i].outcome[o]);
				if (v || (i < METRICS_NAMES - 1 && o == 0))
					buf_printf(out, "adcraft_llm_calls_total{%s,outcome=\"%s\"} %" PRIu64 "\n",
						   model_labels(&labels, src[s].program, src[s].r->names[METRICS_MODELS][i]),
						   llm_outcomes[o], v);
			}
	family(out, "adcraft_llm_tokens_total", "counter", "Tokens the model reported, by type (prompt, completion).");
	for (size_t s = 0; s < n; s++)
		for (int i = 0; i < METRICS_NAMES; i++)
			if (slot_used(src[s].r, METRICS_MODELS, i)) {
				model_labels(&labels, src[s].program, src[s].r->names[METRICS_MODELS][i]);
				buf_printf(out, "adcraft_llm_tokens_total{%s,type=\"prompt\"} %" PRIu64 "\n", buf_cstr(&labels),
					   get(&src[s].r->llm[i].prompt_tokens));
				buf_printf(out, "adcraft_llm_tokens_total{%s,type=\"completion\"} %" PRIu64 "\n",
					   buf_cstr(&labels), get(&src[s].r->llm[i].completion_tokens));
			}
	family(out, "adcraft_llm_cost_total", "counter",
	       "What the calls cost at llm_prices / llm_image_prices, in llm_currency (unpriced models count 0).");
	for (size_t s = 0; s < n; s++)
		for (int i = 0; i < METRICS_NAMES; i++)
			if (slot_used(src[s].r, METRICS_MODELS, i)) {
				uint64_t pico = get(&src[s].r->llm[i].cost_pico);
				buf_printf(out, "adcraft_llm_cost_total{%s} %" PRIu64 ".%012" PRIu64 "\n",
					   model_labels(&labels, src[s].program, src[s].r->names[METRICS_MODELS][i]),
					   (uint64_t)(pico / 1000000000000ULL), (uint64_t)(pico % 1000000000000ULL));
			}
	family(out, "adcraft_llm_call_duration_seconds", "histogram", "Generation call latency by model.");
	for (size_t s = 0; s < n; s++)
		for (int i = 0; i < METRICS_NAMES; i++)
			if (slot_used(src[s].r, METRICS_MODELS, i) && hist_count(&src[s].r->llm[i].ms))
				hist(out, "adcraft_llm_call_duration_seconds",
				     model_labels(&labels, src[s].program, src[s].r->names[METRICS_MODELS][i]),
				     &src[s].r->llm[i].ms, llm_bounds_ms, 1e3);
}

void metrics_format(buf *out, const struct metrics_source *src, size_t n, const struct metrics_route_name *routes,
		    int nroutes)
{
	print_requests(out, src, n, routes, nroutes);
	print_counters(out, src, n);
	print_jobs(out, src, n);
	print_llm(out, src, n);
}
