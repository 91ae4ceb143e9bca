/* SPDX-License-Identifier: MIT */
/* Error messages that say what went wrong and what to do about it, through
   the log ("mailslot send: ...", "mailslot listen: ..."). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"

void
report_err(const char *what, enum mailslot_err err, unsigned port)
{
	int saved = errno;
	const char *hint = mailslot_hint(err);

	if (err == MAILSLOT_E_PRIVILEGED_PORT)
		log_warnx("%s: UDP port %u is privileged: %s", what, port,
			  hint);
	else if (err == MAILSLOT_E_SYSTEM)
		log_warnx("%s: %s", what, strerror(saved));
	else if (hint[0] != '\0')
		log_warnx("%s: %s (%s)", what, mailslot_strerror(err), hint);
	else
		log_warnx("%s: %s", what, mailslot_strerror(err));
}
