/*
 * migrate.h - applies sql/NNNN_name.sql files in order, once each.
 *
 * Each file runs in its own transaction under a session advisory lock, so two
 * concurrent runs are safe: the second waits, then finds nothing to do. An
 * applied file whose checksum changed stops the run before anything is applied.
 */
#pragma once

#include <stdio.h>

#include "db.h"

struct migrate_report {
	int applied;	/* files applied by this run */
	int current;	/* files already applied before */
	char error[1024];
};

/* 0 on success; negative with report->error set on failure. Progress lines go to out (may be NULL). */
int migrate_run(db *d, const char *sql_dir, FILE *out, struct migrate_report *report);
