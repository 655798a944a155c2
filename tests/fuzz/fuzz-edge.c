/*
 * fuzz-edge.c - the request headers adcraft-api reads before routing: the
 * edge secret (edge.c), REQUEST_ID, Authorization (req_bearer),
 * CONTENT_LENGTH (req_content_length_or_fail) and Origin with a CORS
 * preflight (cors.c), as FastCGI parameters.
 *
 * Input: up to 8 lines "NAME=value" (a NAME outside the list below is
 * dropped), becoming the request's FastCGI environment.
 */
#include "config.h"
#include "cors.h"
#include "edge.h"
#include "fuzz.h"
#include "request.h"

static const char *const names[] = {
	"ADCRAFT_EDGE_SECRET", "REQUEST_ID", "HTTP_AUTHORIZATION", "CONTENT_LENGTH",
	"HTTP_ORIGIN", "HTTP_ACCESS_CONTROL_REQUEST_METHOD", "REQUEST_METHOD", NULL,
};
static const char secret[] = "0123456789abcdef0123456789abcdef";
static const char *const origins[] = { "http://localhost:5173", "https://app.example.com", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg = { .edge_secret = secret, .edge_secret_len = sizeof(secret) - 1,
				     .cors_origin_list = origins };
	static struct app app = { .cfg = &cfg };
	arena *a = fuzz_arena();
	char *text = fuzz_cstr(a, data, size), *save = NULL;
	char *envp[9] = { NULL };
	int n = 0;
	for (char *line = strtok_r(text, "\n", &save); line && n < 8; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		for (const char *const *k = names; *k; k++)
			if ((size_t)(eq - line) == strlen(*k) && strncmp(line, *k, strlen(*k)) == 0)
				envp[n++] = line;
	}
	FCGX_Request *fcgi = fuzz_fcgi();
	fcgi->envp = envp;
	request r = { .arena = a, .fcgi = fcgi, .app = &app, .method = "GET", .path = "/api/health", .query = "" };
	const char *method = req_param(&r, "REQUEST_METHOD");
	if (method)
		r.method = method;

	bool ok = edge_secret_ok(&cfg, req_param(&r, "ADCRAFT_EDGE_SECRET"));
	const char *given = req_param(&r, "ADCRAFT_EDGE_SECRET");
	if (ok != (given && strcmp(given, secret) == 0))
		abort(); /* constant-time compare must agree with strcmp */
	r.request_id = edge_request_id(a, req_param(&r, "REQUEST_ID"));
	if (!r.request_id || !*r.request_id || strlen(r.request_id) > 64)
		abort();

	const char *token = req_bearer(&r);
	if (token && (!*token || strchr(token, ' ')))
		abort();
	long len;
	if (req_content_length_or_fail(&r, &len) == 0 && len < 0)
		abort();

	r.status = 0;
	cors_begin(&r);
	if (r.cors_origin && strcmp(r.cors_origin, origins[0]) && strcmp(r.cors_origin, origins[1]))
		abort(); /* only a listed origin is ever echoed */
	if (cors_is_preflight(&r))
		cors_preflight(&r, NULL);
	arena_reset(a);
	return 0;
}
