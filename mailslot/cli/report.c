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

	switch (err) {
	case MAILSLOT_E_PRIVILEGED_PORT:
		fprintf(stderr,
			"mailslot: %s: UDP port %u is privileged: run as root, "
			"or grant the program CAP_NET_BIND_SERVICE (setcap "
			"cap_net_bind_service=+ep PATH), or use --port with a "
			"port above 1023 on every host\n",
			what, port);
		break;
	case MAILSLOT_E_SYSTEM:
		fprintf(stderr, "mailslot: %s: %s\n", what, strerror(saved));
		break;
	case MAILSLOT_E_NO_INTERFACE:
		fprintf(stderr,
			"mailslot: %s: %s (name one with --interface, or give "
			"--broadcast ADDR)\n",
			what, mailslot_strerror(err));
		break;
	case MAILSLOT_E_BROADCAST_ADDR:
		fprintf(stderr,
			"mailslot: %s: %s (give a subnet's directed broadcast "
			"such as 198.18.0.255; 255.255.255.255 is never used)\n",
			what, mailslot_strerror(err));
		break;
	default:
		fprintf(stderr, "mailslot: %s: %s\n", what,
			mailslot_strerror(err));
		break;
	}
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
