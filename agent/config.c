/* SPDX-License-Identifier: MIT */
/* beacon-agent's command line, parsed into struct agent_config. */
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "beacon/auth.h"
#include "mailslot/iface.h"
#include "num.h"

static const char usage[] =
	"usage: beacon-agent [OPTIONS]\n"
	"\n"
	"Announce this host on the LAN: broadcast a JSON presence beacon (at\n"
	"most 424 bytes) to the Windows mailslot \\\\*\\mailslot\\beacon on every\n"
	"up IPv4 interface, at start (three beacons in the first seconds),\n"
	"then every interval; answer probes' queries; say goodbye on SIGTERM.\n"
	"\n"
	"Options:\n"
	"  -p, --port N          UDP port (default 138, which needs root or\n"
	"                        CAP_NET_BIND_SERVICE; every host must agree)\n"
	"  -b, --broadcast ADDR  send to ADDR instead of the interfaces'\n"
	"                        broadcasts (repeatable), e.g. 127.255.255.255\n"
	"  -i, --interface IF    use IF only (repeatable; default: every up IPv4\n"
	"                        interface except loopback and container/VM\n"
	"                        bridges: docker*, veth*, virbr*, br-*, ...)\n"
	"      --all-interfaces  do not skip container and VM interfaces\n"
	"  -I, --interval SEC    seconds between beacons (default 10; fractions\n"
	"                        allowed, at least 0.1); jittered by +-10%\n"
	"  -t, --ttl SEC         how long probes keep this host without news\n"
	"                        (default 3 x interval)\n"
	"      --id ID           host id (default: derived from /etc/machine-id;\n"
	"                        1-32 of A-Z a-z 0-9 . _ -)\n"
	"  -n, --hostname NAME   hostname to announce (default: this host's)\n"
	"  -T, --tag KEY=VALUE   a tag to announce (repeatable, at most 16)\n"
	"  -w, --workgroup NAME  NetBIOS workgroup (default WORKGROUP)\n"
	"  -k, --keyring FILE    sign every beacon with the first key of FILE\n"
	"                        (lines \"KEYID BASE64KEY\"; mode 600, owned by\n"
	"                        you or root); probes with the key verify them\n"
	"      --key-id ID       sign with this key of the keyring instead\n"
	"      --gen-key ID      print a new key line for a keyring, and exit\n"
	"  -u, --user NAME       started as root: once the keyring is read and\n"
	"                        the sockets are open, run as NAME, keeping only\n"
	"                        CAP_NET_BIND_SERVICE (for port 138 on a new\n"
	"                        interface)\n"
	"      --once            send one beacon and exit\n"
	"      --print           print the beacon that would be sent, and its\n"
	"                        size on standard error, and exit\n"
	"  -v, --verbose         log every beacon sent\n"
	"  -h, --help            show this help\n"
	"  -V, --version         show the version\n"
	"\n"
	"Signals: SIGTERM and SIGINT send a goodbye beacon (twice) and exit 0.\n"
	"Exit status: 0 success, 1 error, 64 usage error.\n";

enum { OPT_ALL_IF = 256, OPT_ID, OPT_ONCE, OPT_PRINT, OPT_KEY_ID, OPT_GEN_KEY };

static const struct option longopts[] = {
	{"port", required_argument, NULL, 'p'},
	{"broadcast", required_argument, NULL, 'b'},
	{"interface", required_argument, NULL, 'i'},
	{"all-interfaces", no_argument, NULL, OPT_ALL_IF},
	{"interval", required_argument, NULL, 'I'},
	{"ttl", required_argument, NULL, 't'},
	{"id", required_argument, NULL, OPT_ID},
	{"hostname", required_argument, NULL, 'n'},
	{"tag", required_argument, NULL, 'T'},
	{"workgroup", required_argument, NULL, 'w'},
	{"once", no_argument, NULL, OPT_ONCE},
	{"keyring", required_argument, NULL, 'k'},
	{"user", required_argument, NULL, 'u'},
	{"key-id", required_argument, NULL, OPT_KEY_ID},
	{"gen-key", required_argument, NULL, OPT_GEN_KEY},
	{"print", no_argument, NULL, OPT_PRINT},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static int
bad(const char *msg, const char *arg)
{
	fprintf(stderr, "beacon-agent: %s%s%s\n", msg, arg ? ": " : "",
		arg ? arg : "");
	fprintf(stderr, "Try 'beacon-agent --help'.\n");
	return AGENT_EXIT_USAGE;
}

static int
bad2(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "beacon-agent: %s %s: %s\n", opt, arg, why);
	fprintf(stderr, "Try 'beacon-agent --help'.\n");
	return AGENT_EXIT_USAGE;
}

static int
add_tag(struct agent_config *c, const char *arg)
{
	struct beacon_tag *t = &c->tags[c->n_tags];
	const char *why;
	size_t i;

	if (c->n_tags == BEACON_MAX_TAGS)
		return bad("at most 16 tags", arg);
	if ((why = beacon_tag_parse(arg, t)) != NULL)
		return bad(why, arg);
	for (i = 0; i < c->n_tags; i++)
		if (strcmp(c->tags[i].key, t->key) == 0)
			return bad("tag given twice", t->key);
	c->n_tags++;
	return 0;
}

int
agent_config_parse(int argc, char **argv, struct agent_config *c, bool *done)
{
	uint64_t v, ttl_ms = 0;
	const char *why;
	int ch, rc;

	memset(c, 0, sizeof(*c));
	c->port = 138;
	c->interval_ms = 10000;
	*done = false;
	optind = 0; /* a full reset of getopt: parsed more than once in tests */
	while ((ch = getopt_long(argc, argv, "p:b:i:I:t:n:T:w:k:u:vhV",
				 longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (!num_parse_u64(optarg, 1, 65535, &v))
				return bad("port must be 1 to 65535", optarg);
			c->port = (uint16_t)v;
			break;
		case 'b':
			if ((why = mailslot_check_broadcast(optarg)) != NULL)
				return bad2("--broadcast", optarg, why);
			if (c->n_broadcast == AGENT_LIST_MAX)
				return bad("too many --broadcast", optarg);
			c->broadcast[c->n_broadcast++] = optarg;
			break;
		case 'i':
			/* One that does not exist yet may come (a VPN, a
			   USB link): the agent waits for it. */
			if (optarg[0] == '\0' ||
			    strlen(optarg) >= IF_NAMESIZE ||
			    strpbrk(optarg, "/ \t") != NULL)
				return bad2("--interface", optarg,
					    "not an interface name");
			if (c->n_interfaces == AGENT_LIST_MAX)
				return bad("too many --interface", optarg);
			c->interfaces[c->n_interfaces++] = optarg;
			break;
		case OPT_ALL_IF:
			c->all_interfaces = true;
			break;
		case 'I':
			if (!num_parse_seconds(optarg, BEACON_MIN_INTERVAL_MS,
					       BEACON_MAX_INTERVAL_MS, &v))
				return bad("interval must be 0.1 to 86400 "
					   "seconds",
					   optarg);
			c->interval_ms = (uint32_t)v;
			break;
		case 't':
			if (!num_parse_seconds(optarg, BEACON_MIN_INTERVAL_MS,
					       BEACON_MAX_TTL_MS, &ttl_ms))
				return bad("ttl must be 0.1 to 864000 seconds",
					   optarg);
			break;
		case OPT_ID:
			if (!beacon_ident_valid(optarg, BEACON_MAX_ID))
				return bad(
					"id must be 1-32 of A-Z a-z 0-9 . _ -",
					optarg);
			c->id = optarg;
			break;
		case 'n':
			if (!beacon_hostname_valid(optarg))
				return bad(
					"hostname must be 1-63 of A-Z a-z 0-9 "
					". _ -",
					optarg);
			c->hostname = optarg;
			break;
		case 'T':
			rc = add_tag(c, optarg);
			if (rc != 0)
				return rc;
			break;
		case 'w':
			if ((why = mailslot_check_workgroup(optarg)) != NULL)
				return bad2("--workgroup", optarg, why);
			c->workgroup = optarg;
			break;
		case OPT_ONCE:
			c->once = true;
			break;
		case 'k':
			c->keyring = optarg;
			break;
		case 'u':
			c->user = optarg;
			break;
		case OPT_KEY_ID:
			c->key_id = optarg;
			break;
		case OPT_GEN_KEY: {
			char line[BEACON_KEYLINE_MAX];
			if (beacon_auth_init() < 0 ||
			    beacon_key_generate(optarg, line, sizeof(line)) < 0)
				return bad(
					"a key id is 1 to 8 of A-Z a-z 0-9 _ -",
					optarg);
			fputs(line, stdout);
			*done = true;
			return 0;
		}
		case OPT_PRINT:
			c->print = true;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			*done = true;
			return 0;
		case 'V':
			puts("beacon-agent " BEACON_VERSION);
			*done = true;
			return 0;
		default:
			return bad("invalid option", NULL);
		}
	}
	if (optind != argc)
		return bad("unexpected argument", argv[optind]);
	if (c->key_id != NULL && c->keyring == NULL)
		return bad("--key-id needs --keyring", c->key_id);
	c->ttl_ms = ttl_ms ? (uint32_t)ttl_ms : 3 * c->interval_ms;
	if (c->ttl_ms < c->interval_ms)
		return bad("ttl must be at least the interval", NULL);
	return 0;
}
