/* SPDX-License-Identifier: MIT */
/* mailslot send: one message per --message, or standard input as one. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "mailslot/iface.h"
#include "mailslot/slot.h"
#include "num.h"

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

enum { OPT_PADDED = 256, OPT_PRIORITY, OPT_HOST, OPT_DOMAIN, OPT_ALL_IF };

static const struct option longopts[] = {
	{"port", required_argument, NULL, 'p'},
	{"all-interfaces", no_argument, NULL, OPT_ALL_IF},
	{"broadcast", required_argument, NULL, 'b'},
	{"interface", required_argument, NULL, 'i'},
	{"workgroup", required_argument, NULL, 'w'},
	{"from", required_argument, NULL, 'f'},
	{"message", required_argument, NULL, 'm'},
	{"padded", no_argument, NULL, OPT_PADDED},
	{"priority", required_argument, NULL, OPT_PRIORITY},
	{"host", no_argument, NULL, OPT_HOST},
	{"domain", no_argument, NULL, OPT_DOMAIN},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

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

int
cli_send(int argc, char **argv)
{
	const char *bcast[LIST_MAX], *ifs[LIST_MAX], *msgs[LIST_MAX];
	struct mailslot_client_opts o;
	struct mailslot_client *c = NULL;
	enum mailslot_err err;
	size_t nmsg = 0, i, max, len;
	bool verbose = false;
	uint64_t v;
	char *in = NULL;
	int ch, rc = 1;

	log_init("mailslot send", 0);
	mailslot_client_opts_init(&o);
	o.broadcast = bcast;
	o.interfaces = ifs;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "p:b:i:w:f:m:vh", longopts,
				 NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (!num_parse_u64(optarg, 1, 65535, &v))
				return report_usage("send",
						    "port must be 1 to 65535",
						    optarg);
			o.port = (uint16_t)v;
			break;
		case 'b':
		case 'i':
		case 'm':
			if ((ch == 'b'   ? o.n_broadcast
			     : ch == 'i' ? o.n_interfaces
					 : nmsg) >= LIST_MAX)
				return report_usage("send",
						    "too many of option",
						    argv[optind - 1]);
			if (ch == 'b' && mailslot_check_broadcast(optarg))
				return report_usage(
					"send",
					mailslot_check_broadcast(optarg),
					optarg);
			if (ch == 'i' && mailslot_check_interface(optarg))
				return report_usage(
					"send",
					mailslot_check_interface(optarg),
					optarg);
			if (ch == 'b')
				bcast[o.n_broadcast++] = optarg;
			else if (ch == 'i')
				ifs[o.n_interfaces++] = optarg;
			else
				msgs[nmsg++] = optarg;
			break;
		case 'w':
			if (mailslot_check_workgroup(optarg))
				return report_usage(
					"send",
					mailslot_check_workgroup(optarg),
					optarg);
			o.workgroup = optarg;
			break;
		case 'f':
			o.from = optarg;
			break;
		case OPT_ALL_IF:
			o.all_interfaces = true;
			break;
		case OPT_PADDED:
			o.style = MAILSLOT_STYLE_PADDED;
			break;
		case OPT_PRIORITY:
			if (!num_parse_u64(optarg, 0, 9, &v))
				return report_usage("send",
						    "priority must be 0 to 9",
						    optarg);
			o.priority = (uint16_t)v;
			break;
		case OPT_HOST:
			o.named = MAILSLOT_NAMED_HOST;
			break;
		case OPT_DOMAIN:
			o.named = MAILSLOT_NAMED_DOMAIN;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return report_usage("send", "invalid option", NULL);
		}
	}
	if (optind != argc - 1)
		return report_usage("send",
				    optind < argc ? "one SLOT expected"
						  : "missing SLOT",
				    NULL);

	err = mailslot_open(argv[optind], &o, &c);
	if (err != MAILSLOT_OK) {
		report_err(argv[optind], err, o.port);
		return err == MAILSLOT_E_UNC_PREFIX ||
				       err == MAILSLOT_E_UNC_SERVER ||
				       err == MAILSLOT_E_UNC_MAILSLOT ||
				       err == MAILSLOT_E_UNC_NAME
			       ? EXIT_USAGE
			       : 1;
	}
	max = mailslot_client_max(c);
	if (nmsg == 0) {
		in = read_stdin(max, &len);
		if (in == NULL) {
			log_warn("reading standard input");
			goto out;
		}
	}
	/* Check every message first: a refused one means nothing is sent. */
	for (i = 0; i < nmsg; i++)
		if (strlen(msgs[i]) > max) {
			too_big(argv[optind], strlen(msgs[i]), max);
			goto out;
		}
	if (in != NULL && len > max) {
		too_big(argv[optind], len, max);
		goto out;
	}
	for (i = 0; i < (in != NULL ? 1 : nmsg); i++) {
		const char *m = in != NULL ? in : msgs[i];
		size_t ml = in != NULL ? len : strlen(msgs[i]);
		err = mailslot_write(c, m, ml);
		if (err != MAILSLOT_OK) {
			report_err(argv[optind], err, o.port);
			goto out;
		}
		if (verbose) {
			size_t d;
			for (d = 0; d < mailslot_client_ndest(c); d++) {
				struct in_addr a = {
					htonl(mailslot_client_dest(c, d))};
				log_info("%zu bytes to %s:%u", ml, inet_ntoa(a),
					 o.port ? o.port : MAILSLOT_PORT);
			}
		}
	}
	rc = 0;
out:
	free(in);
	mailslot_client_close(c);
	return rc;
}
