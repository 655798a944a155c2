/* Unit tests for src/api/edge.c */
#include <string.h>

#include "edge.h"
#include "tap.h"

int main(void)
{
	struct config cfg = { 0 };
	ok(!edge_secret_ok(&cfg, "anything"), "no secret configured: nothing matches");
	cfg.edge_secret = "0123456789abcdef0123456789abcdef";
	cfg.edge_secret_len = 32;
	ok(edge_secret_ok(&cfg, "0123456789abcdef0123456789abcdef"), "the secret matches");
	ok(!edge_secret_ok(&cfg, NULL), "absent does not");
	ok(!edge_secret_ok(&cfg, ""), "empty does not");
	ok(!edge_secret_ok(&cfg, "0123456789abcdef0123456789abcdeF"), "last byte differs");
	ok(!edge_secret_ok(&cfg, "0123456789abcdef0123456789abcde"), "a prefix does not");
	ok(!edge_secret_ok(&cfg, "0123456789abcdef0123456789abcdef0"), "a longer one does not");

	arena *a = arena_new(4096);
	const char *nginx_id = "4f1e1b5f0c2a4a8e9d3c2b1a00ffee11";
	ok(edge_request_id(a, nginx_id) == nginx_id, "nginx's id is kept");
	const char *fresh = edge_request_id(a, NULL);
	ok(strlen(fresh) == 32 && strspn(fresh, "0123456789abcdef") == 32, "a fresh id is 32 hex digits: %s", fresh);
	ok(strcmp(fresh, edge_request_id(a, NULL)) != 0, "fresh ids differ");
	static const char *const bad[] = { "", "a b", "id\r\nX-Injected: 1", "x;y",
					   "0123456789012345678901234567890123456789012345678901234567890123456789" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *id = edge_request_id(a, bad[i]);
		ok(id != bad[i] && strlen(id) == 32, "unsafe id %zu replaced", i);
	}
	arena_free(a);
	return tap_done();
}
