/* SPDX-License-Identifier: MIT */
/* mailslot send: one message per --message, or standard input as one. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "log.h"
#include "mailslot/iface.h"
#include "mailslot/slot.h"

#define LIST_MAX 64

static const char usage[] =
	"usage: mailslot send [OPTIONS] SLOT\n"
	"\n"
	"Send standard input, or each --message, as one mailslot message to\n"
	"SLOT, a UNC name:\n"
	"  \\\\*\\mailslot\\NAME        every NAME mailslot in the workgroup, by\n"
	"                           broadcast on each interface\n"
	"  \\\\DOMAIN\\mailslot\\NAME   every NAME mailslot in DOMAIN, by broadcast\n"
	"  \\\\HOST\\mailslot\\NAME     the NAME mailslot on HOST (name or IPv4)\n"
	"  \\\\.\\mailslot\\NAME        the NAME mailslot on this machine\n"
	"(In a shell, quote SLOT: '\\\\*\\mailslot\\beacon'.)\n"
	"\n"
	"Options:\n"
	"  -p, --port N          UDP port, source and destination (default 138;\n"
	"                        below 1024 needs root or CAP_NET_BIND_SERVICE)\n"
	"  -b, --broadcast ADDR  send broadcasts to ADDR, e.g. 198.18.0.255 or\n"
	"                        127.255.255.255 (repeatable; replaces the\n"
	"                        interface list)\n"
	"  -i, --interface IF    broadcast on IF only (repeatable; default: the\n"
	"                        directed broadcast of every up IPv4 address,\n"
	"                        skipping /32s, point-to-point links, loopback\n"
	"                        and container/VM interfaces)\n"
	"      --all-interfaces  do not skip container/VM interfaces\n"
	"  -w, --workgroup W     workgroup or domain for \\\\* (default WORKGROUP)\n"
	"  -f, --from NAME       source NetBIOS name (default: this host's name)\n"
	"  -m, --message TEXT    send TEXT as one message (repeatable: one\n"
	"                        message each, in order)\n"
	"      --padded          4-byte align the data (Windows client style);\n"
	"                        default is unpadded (browser/Samba style)\n"
	"      --priority N      mailslot priority 0-9 (default 0; ignored by\n"
	"                        Windows)\n"
	"      --host, --domain  treat \\\\NAME as a host or as a domain (default:\n"
	"                        a host if it is an address, has a dot or\n"
	"                        resolves; else a domain)\n"
	"  -v, --verbose         say where each message went\n"
	"  -h, --help            show this help\n"
	"\n"
	"A message to \\\\* or a domain may hold at most 424 bytes (less for\n"
	"names over 8 bytes: 432 minus the name length rounded up to 4), as\n"
	"on Windows; a larger one is refused and nothing is sent.\n"
	"Exit status: 0 sent, 1 error, 64 usage error.\n";

/* What the command line says. */
struct send_args {
	struct mailslot_client_opts o;
	const char *bcast[LIST_MAX], *ifs[LIST_MAX], *msgs[LIST_MAX];
	size_t nmsg;
	bool padded, host, domain, verbose;
};

#define ARG(f) offsetof(struct send_args, f)

static const struct cli_opt opts[] = {
	{"port", 'p', CLI_UINT, ARG(o.port), 2, 0, 1, 65535, NULL, NULL, 0},
	{"all-interfaces", 0, CLI_SET, ARG(o.all_interfaces), 0, 0, 0, 0, NULL,
	 NULL, 0},
	{"broadcast", 'b', CLI_LIST, ARG(bcast), LIST_MAX, ARG(o.n_broadcast),
	 0, 0, mailslot_check_broadcast, NULL, 0},
	{"interface", 'i', CLI_LIST, ARG(ifs), LIST_MAX, ARG(o.n_interfaces), 0,
	 0, mailslot_check_interface, NULL, 0},
	{"workgroup", 'w', CLI_TEXT, ARG(o.workgroup), 0, 0, 0, 0,
	 mailslot_check_workgroup, NULL, 0},
	{"from", 'f', CLI_TEXT, ARG(o.from), 0, 0, 0, 0, NULL, NULL, 0},
	{"message", 'm', CLI_LIST, ARG(msgs), LIST_MAX, ARG(nmsg), 0, 0, NULL,
	 NULL, 0},
	{"padded", 0, CLI_SET, ARG(padded), 0, 0, 0, 0, NULL, NULL, 0},
	{"priority", 0, CLI_UINT, ARG(o.priority), 2, 0, 0, 9, NULL, NULL, 0},
	{"host", 0, CLI_SET, ARG(host), 0, 0, 0, 0, NULL, NULL, 0},
	{"domain", 0, CLI_SET, ARG(domain), 0, 0, 0, 0, NULL, NULL, 0},
	{"verbose", 'v', CLI_SET, ARG(verbose), 0, 0, 0, 0, NULL, NULL, 0},
	{"help", 'h', CLI_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0},
};

static const struct cli cli = {"mailslot send",
			       "mailslot send --help",
			       usage,
			       "",
			       opts,
			       sizeof(opts) / sizeof(opts[0])};

/* Standard input, whole, up to max + 1 bytes (to tell "too big"). */
static char *
read_stdin(size_t max, size_t *len)
{
	size_t cap = max + 1, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (buf == NULL)
		return NULL;
	while (n < cap) {
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

static void
too_big(const char *slot, size_t len, size_t max)
{
	log_warnx("message is %zu bytes; %s takes at most %zu (nothing sent)",
		  len, slot, max);
}

/* Every message (or standard input) within the client's bound, or none
   sent: 0, or 1 having said why. */
static int
check_sizes(const struct send_args *a, const char *slot, size_t max,
	    const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < a->nmsg; i++)
		if (strlen(a->msgs[i]) > max) {
			too_big(slot, strlen(a->msgs[i]), max);
			return 1;
		}
	if (in != NULL && len > max) {
		too_big(slot, len, max);
		return 1;
	}
	return 0;
}

/* Each message written (in order): 0, or 1 having said why. */
static int
send_all(struct mailslot_client *c, const struct send_args *a, const char *slot,
	 const char *in, size_t len)
{
	enum mailslot_err err;
	size_t i, d;

	for (i = 0; i < (in != NULL ? 1 : a->nmsg); i++) {
		const char *m = in != NULL ? in : a->msgs[i];
		size_t ml = in != NULL ? len : strlen(a->msgs[i]);
		err = mailslot_write(c, m, ml);
		if (err != MAILSLOT_OK) {
			report_err(slot, err, a->o.port);
			return 1;
		}
		for (d = 0; a->verbose && d < mailslot_client_ndest(c); d++) {
			struct in_addr ia = {htonl(mailslot_client_dest(c, d))};
			log_info("%zu bytes to %s:%u", ml, inet_ntoa(ia),
				 a->o.port ? a->o.port : MAILSLOT_PORT);
		}
	}
	return 0;
}

int
cli_send(int argc, char **argv)
{
	struct send_args a;
	struct mailslot_client *c = NULL;
	enum mailslot_err err;
	const char *slot;
	char *in = NULL;
	size_t len = 0;
	int rc, first;

	log_init("mailslot send", 0);
	memset(&a, 0, sizeof(a));
	mailslot_client_opts_init(&a.o);
	if ((rc = cli_parse(&cli, argc, argv, &a, &first)) != 0)
		return rc == CLI_DONE ? 0 : rc;
	if (first != argc - 1)
		return cli_usage(&cli,
				 first < argc ? "one SLOT expected"
					      : "missing SLOT",
				 NULL);
	slot = argv[first];
	a.o.broadcast = a.bcast;
	a.o.interfaces = a.ifs;
	if (a.padded)
		a.o.style = MAILSLOT_STYLE_PADDED;
	if (a.host || a.domain)
		a.o.named =
			a.domain ? MAILSLOT_NAMED_DOMAIN : MAILSLOT_NAMED_HOST;
	err = mailslot_open(slot, &a.o, &c);
	if (err != MAILSLOT_OK) {
		report_err(slot, err, a.o.port);
		return err == MAILSLOT_E_UNC_PREFIX ||
				       err == MAILSLOT_E_UNC_SERVER ||
				       err == MAILSLOT_E_UNC_MAILSLOT ||
				       err == MAILSLOT_E_UNC_NAME
			       ? EXIT_USAGE
			       : 1;
	}
	rc = 1;
	if (a.nmsg == 0 &&
	    (in = read_stdin(mailslot_client_max(c), &len)) == NULL)
		log_warn("reading standard input");
	else if (check_sizes(&a, slot, mailslot_client_max(c), in, len) == 0)
		rc = send_all(c, &a, slot, in, len);
	free(in);
	mailslot_client_close(c);
	return rc;
}
