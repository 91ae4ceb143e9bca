/* SPDX-License-Identifier: MIT */
/* mailslot: send and receive Windows mailslot messages. A thin shim. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"

static const char usage[] =
	"usage: mailslot send [OPTIONS] \\\\SERVER\\mailslot\\NAME\n"
	"       mailslot listen [OPTIONS] \\\\.\\mailslot\\NAME\n"
	"\n"
	"Send and receive Windows remote mailslot messages (one NetBIOS\n"
	"datagram on UDP port 138 carrying an SMB mailslot write), to and from\n"
	"Windows, Samba and other mailslot programs.\n"
	"\n"
	"  send     send standard input (or each --message) as one message\n"
	"  listen   receive messages and print one line each (or JSON)\n"
	"\n"
	"'mailslot COMMAND --help' describes each command's options.\n"
	"Exit status: 0 success, 1 error, 64 usage error.\n";

int
main(int argc, char **argv)
{
	if (argc < 2)
		return fputs(usage, stderr), EXIT_USAGE;
	if (strcmp(argv[1], "send") == 0)
		return cli_send(argc - 1, argv + 1);
	if (strcmp(argv[1], "listen") == 0)
		return cli_listen(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return fputs(usage, stdout), 0;
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)
		return puts("mailslot " BEACON_VERSION), 0;
	log_init("mailslot", 0);
	log_warnx("unknown command '%s'", argv[1]);
	fputs(usage, stderr);
	return EXIT_USAGE;
}
