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
	STMT__COUNT
};

struct stmt_def {
	const char *name;
	const char *sql;
	int nparams;
};

extern const struct stmt_def statements[STMT__COUNT];
