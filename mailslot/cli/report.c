/* SPDX-License-Identifier: MIT */
/* Error messages that say what went wrong and what to do about it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void
report_err(const char *what, enum mailslot_err err, unsigned port)
{
	int saved = errno;
	const char *hint = mailslot_hint(err);

	if (err == MAILSLOT_E_PRIVILEGED_PORT)
		fprintf(stderr, "mailslot: %s: UDP port %u is privileged: %s\n",
			what, port, hint);
	else if (err == MAILSLOT_E_SYSTEM)
		fprintf(stderr, "mailslot: %s: %s\n", what, strerror(saved));
	else if (hint[0] != '\0')
		fprintf(stderr, "mailslot: %s: %s (%s)\n", what,
			mailslot_strerror(err), hint);
	else
		fprintf(stderr, "mailslot: %s: %s\n", what,
			mailslot_strerror(err));
}

int
report_usage(const char *cmd, const char *msg, const char *arg)
{
	if (arg != NULL)
		fprintf(stderr, "mailslot %s: %s: %s\n", cmd, msg, arg);
	else
		fprintf(stderr, "mailslot %s: %s\n", cmd, msg);
	fprintf(stderr, "Try 'mailslot %s --help'.\n", cmd);
	return EXIT_USAGE;
}
