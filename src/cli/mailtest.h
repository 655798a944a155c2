/*
 * mailtest.h - `adcraft mail-test`: one sample message rendered and built by
 * the mail library and delivered through the configured smtp_servers, to
 * check a relay (and the library) without a campaign or a database.
 */
#pragma once

#include "config.h"

/*
 * adcraft mail-test --to ADDR [--subject S] [--first-name N] [--last-name N]
 * argv[0] is "mail-test". Prints the Message-ID and the server's reply on
 * success. Returns the process exit status: 0 sent, 1 refused or failed
 * (75, EX_TEMPFAIL, when the failure is transient), 2 usage.
 */
int cmd_mail_test(struct config *cfg, int argc, char **argv);
