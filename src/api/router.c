/*
 * router.c - segment matching over the compiled route table.
 */
#include "router.h"

#include <errno.h>
#include <string.h>

#include "validate.h"

struct compiled {
	const struct route *route;
	int nseg;
	const char *seg[ROUTER_MAX_SEGMENTS];
	unsigned char seglen[ROUTER_MAX_SEGMENTS];
	bool param[ROUTER_MAX_SEGMENTS];
};

#define MAX_ROUTES 128
static struct compiled table[MAX_ROUTES];
static int nroutes;

int router_compile(const struct route *routes)
{
	nroutes = 0;
	for (const struct route *r = routes; r->method; r++) {
		if (nroutes == MAX_ROUTES || r->pattern[0] != '/')
			return -EINVAL;
		struct compiled *c = &table[nroutes++];
		c->route = r;
		c->nseg = 0;
		for (const char *p = r->pattern + 1; *p;) {
			const char *end = strchr(p, '/');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			if (c->nseg == ROUTER_MAX_SEGMENTS || len == 0 || len > 255)
				return -EINVAL;
			c->param[c->nseg] = p[0] == ':';
			c->seg[c->nseg] = p;
			c->seglen[c->nseg] = (unsigned char)len;
			c->nseg++;
			p += len + (end ? 1 : 0);
		}
	}
	return 0;
}

/* Splits path in place into segments; -1 when it has too many or empty ones. */
static int split(char *path, char **seg)
{
	int n = 0;
	if (*path != '/')
		return -1;
	char *p = path + 1;
	if (*p == '\0')
		return 0;
	for (;;) {
		if (n == ROUTER_MAX_SEGMENTS)
			return -1;
		seg[n++] = p;
		char *slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
		if (*p == '\0') /* trailing slash */
			return -1;
	}
	return n;
}

/* Literal segments only: the cheap test every route gets. */
static bool literals_match(const struct compiled *c, char **seg, const size_t *seglen, int n)
{
	if (c->nseg != n)
		return false;
	for (int i = 0; i < n; i++)
		if (!c->param[i] && (seglen[i] != c->seglen[i] || memcmp(seg[i], c->seg[i], c->seglen[i]) != 0))
			return false;
	return true;
}

/* The parameters of a route whose literals matched: UUIDs checked where the route says so. */
static bool params_match(const struct compiled *c, char **seg, const char **params, size_t max)
{
	size_t np = 0;
	for (int i = 0; i < c->nseg; i++) {
		if (!c->param[i])
			continue;
		if (c->route->flags & ROUTE_UUID_PARAMS) {
			if (!is_uuid(seg[i]))
				return false;
			uuid_lowercase(seg[i]);
		}
		if (np < max)
			params[np++] = seg[i];
	}
	return true;
}

enum match_result router_match(const char *method, const char *path, char *scratch, const char **params,
			       size_t max, const struct route **ret, char *allow, size_t allowlen)
{
	char *seg[ROUTER_MAX_SEGMENTS];
	size_t seglen[ROUTER_MAX_SEGMENTS];
	strcpy(scratch, path);
	int n = split(scratch, seg);
	if (n < 0)
		return MATCH_NOT_FOUND;
	for (int i = 0; i < n; i++)
		seglen[i] = strlen(seg[i]);
	allow[0] = '\0';
	bool path_known = false;
	/* Literals first, then the method, and is_uuid only for a route that could answer. */
	for (int i = 0; i < nroutes; i++) {
		const struct compiled *c = &table[i];
		if (!literals_match(c, seg, seglen, n))
			continue;
		bool same_method = strcmp(c->route->method, method) == 0;
		if (!params_match(c, seg, params, max))
			continue;
		if (same_method) {
			*ret = c->route;
			return MATCH_OK;
		}
		if (!strstr(allow, c->route->method)) {
			size_t used = strlen(allow);
			if (used)
				strncat(allow, ", ", allowlen - used - 1);
			strncat(allow, c->route->method, allowlen - strlen(allow) - 1);
		}
		path_known = true;
	}
	return path_known ? MATCH_BAD_METHOD : MATCH_NOT_FOUND;
}
