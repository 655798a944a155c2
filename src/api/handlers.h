/*
 * handlers.h - every route handler, grouped by the file that holds it.
 */
#pragma once

#include "request.h"

/* auth.c */
void auth_register(request *r);
void auth_login(request *r);
void auth_refresh(request *r);
void auth_logout(request *r);
void auth_me(request *r);

/* health.c */
void health_get(request *r);
