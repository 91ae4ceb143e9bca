/* SPDX-License-Identifier: MIT */
/* The `mailslot` command's subcommands and their shared reporting. */
#ifndef BEACON_MAILSLOT_COMMANDS_H
#define BEACON_MAILSLOT_COMMANDS_H

#include "mailslot/err.h"

/* Exit statuses: 0 success, 1 an error, 64 a usage error. */
#define EXIT_USAGE 64 /* EX_USAGE, as beacon-agent and beacon-probe */

int cli_send(int argc, char **argv);
int cli_listen(int argc, char **argv);

/* report.c */
/* Print "mailslot: WHAT: <reason>" to stderr, with the fix where we know it
   (privileged port) and errno's text for MAILSLOT_E_SYSTEM. */
void report_err(const char *what, enum mailslot_err err, unsigned port);

#endif
