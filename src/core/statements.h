/*
 * statements.h - every SQL statement the programs prepare, by name.
 *
 * The table in statements.c is prepared on each (re)connect; call sites pass
 * the enum. Parameters are text; the SQL casts them.
 */
#pragma once

enum stmt {
	STMT_HEALTH,
	STMT_USER_REGISTER,
	STMT_USER_BY_EMAIL,
	STMT_USER_BY_ID,
	STMT_REFRESH_ISSUE,
	STMT_REFRESH_ROTATE,
	STMT_REFRESH_REVOKE,
	STMT_PERSONA_INSERT,
	STMT_PERSONA_LIST,
	STMT_PERSONA_GET,
	STMT_PERSONA_UPDATE,
	STMT_PERSONA_DELETE,
	STMT_CAMPAIGN_INSERT,
	STMT_CAMPAIGN_LIST,
	STMT_CAMPAIGN_GET,
	STMT_CAMPAIGN_UPDATE,
	STMT_CAMPAIGN_STATUS,
	STMT_CAMPAIGN_DELETE,
	STMT_CAMPAIGN_STATS,
	STMT_CONTENT_CONTEXT,
	STMT_CONTENT_APPEND,
	STMT_CONTENT_LIST,
	STMT_CONTENT_REPLACE,
	STMT_CONTENT_DELETE,
	STMT__COUNT
};

struct stmt_def {
	const char *name;
	const char *sql;
	int nparams;
};

extern const struct stmt_def statements[STMT__COUNT];
