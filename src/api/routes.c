/*
 * routes.c - the whole HTTP API, one line per route.
 *
 * Literal routes come before parameterised ones that could shadow them.
 */
#include "dispatch.h"
#include "handlers.h"

#define BODY ROUTE_BODY
#define PUBLIC ROUTE_PUBLIC

const struct route api_routes[] = {
	{ "GET",  "/api/health",        health_get,    PUBLIC },

	{ "POST", "/api/auth/register", auth_register, PUBLIC | BODY },
	{ "POST", "/api/auth/login",    auth_login,    PUBLIC | BODY },
	{ "POST", "/api/auth/refresh",  auth_refresh,  PUBLIC | BODY },
	{ "POST", "/api/auth/logout",   auth_logout,   BODY },
	{ "GET",  "/api/auth/me",       auth_me,       0 },

	{ NULL, NULL, NULL, 0 },
};
