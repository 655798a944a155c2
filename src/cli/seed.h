/*
 * seed.h - `adcraft seed`: realistic bulk data (users, personas, campaigns
 * with content) for benchmarks and for trying the API at scale.
 */
#pragma once

#include "config.h"

/*
 * adcraft seed --users N --campaigns M [--content K] [--heavy-user-campaigns H]
 *              [--personas P] [--batch B]
 * argv[0] is "seed". Connects with migrate_database_url (it needs to write
 * every table). Progress goes to stderr, the summary to stdout. Returns the
 * process exit status: 0 done, 1 failed, 2 usage.
 */
int cmd_seed(struct config *cfg, int argc, char **argv);
