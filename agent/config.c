/* SPDX-License-Identifier: MIT */
/* beacon-agent's command line, parsed into struct agent_config. */
#include <stddef.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "beacon/auth.h"
#include "cli.h"
#include "mailslot/iface.h"

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

#define CFG(f) offsetof(struct agent_config, f)

/* One that does not exist yet may come (a VPN, a USB link): the agent
   waits for it. */
static const char *
check_interface(const char *arg)
{
	if (arg[0] == '\0' || strlen(arg) >= IF_NAMESIZE ||
	    strpbrk(arg, "/ \t") != NULL)
		return "not an interface name";
	return NULL;
}

static const char *
check_id(const char *arg)
{
	return beacon_ident_valid(arg, BEACON_MAX_ID)
		       ? NULL
		       : "id must be 1-32 of A-Z a-z 0-9 . _ -";
}

static const char *
check_hostname(const char *arg)
{
	return beacon_hostname_valid(arg)
		       ? NULL
		       : "hostname must be 1-63 of A-Z a-z 0-9 . _ -";
}

static const char *
take_tag(void *cfg, const char *arg)
{
	struct agent_config *c = cfg;
	struct beacon_tag *t = &c->tags[c->n_tags];
	const char *why;
	size_t i;

	if (c->n_tags == BEACON_MAX_TAGS)
		return "at most 16 tags";
	if ((why = beacon_tag_parse(arg, t)) != NULL)
		return why;
	for (i = 0; i < c->n_tags; i++)
		if (strcmp(c->tags[i].key, t->key) == 0)
			return "tag given twice";
	c->n_tags++;
	return NULL;
}

static const struct cli_opt opts[] = {
	{"port", 'p', CLI_UINT, CFG(port), 2, 0, 1, 65535, NULL, NULL, 0},
	{"broadcast", 'b', CLI_LIST, CFG(broadcast), AGENT_LIST_MAX,
	 CFG(n_broadcast), 0, 0, mailslot_check_broadcast, NULL, 0},
	{"interface", 'i', CLI_LIST, CFG(interfaces), AGENT_LIST_MAX,
	 CFG(n_interfaces), 0, 0, check_interface, NULL, 0},
	{"all-interfaces", 0, CLI_SET, CFG(all_interfaces), 0, 0, 0, 0, NULL,
	 NULL, 0},
	{"interval", 'I', CLI_SECONDS, CFG(interval_ms), 4, 0,
	 BEACON_MIN_INTERVAL_MS, BEACON_MAX_INTERVAL_MS, NULL, NULL, 0},
	{"ttl", 't', CLI_SECONDS, CFG(ttl_ms), 4, 0, BEACON_MIN_INTERVAL_MS,
	 BEACON_MAX_TTL_MS, NULL, NULL, 0},
	{"id", 0, CLI_TEXT, CFG(id), 0, 0, 0, 0, check_id, NULL, 0},
	{"hostname", 'n', CLI_TEXT, CFG(hostname), 0, 0, 0, 0, check_hostname,
	 NULL, 0},
	{"tag", 'T', CLI_CALL, 0, 0, 0, 0, 0, NULL, take_tag, 0},
	{"workgroup", 'w', CLI_TEXT, CFG(workgroup), 0, 0, 0, 0,
	 mailslot_check_workgroup, NULL, 0},
	{"once", 0, CLI_SET, CFG(once), 0, 0, 0, 0, NULL, NULL, 0},
	{"keyring", 'k', CLI_TEXT, CFG(keyring), 0, 0, 0, 0, NULL, NULL, 0},
	{"user", 'u', CLI_TEXT, CFG(user), 0, 0, 0, 0, NULL, NULL, 0},
	{"key-id", 0, CLI_TEXT, CFG(key_id), 0, 0, 0, 0, NULL, NULL, 0},
	{"gen-key", 0, CLI_TEXT, CFG(gen_key), 0, 0, 0, 0, NULL, NULL, 0},
	{"print", 0, CLI_SET, CFG(print), 0, 0, 0, 0, NULL, NULL, 0},
	{"verbose", 'v', CLI_SET, CFG(verbose), 0, 0, 0, 0, NULL, NULL, 0},
	{"help", 'h', CLI_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0},
	{"version", 'V', CLI_VERSION, 0, 0, 0, 0, 0, NULL, NULL, 0},
};

static const struct cli cli = {"beacon-agent", "beacon-agent --help",
			       usage,          "beacon-agent " BEACON_VERSION,
			       opts,           sizeof(opts) / sizeof(opts[0])};

/* --gen-key ID: a new key line for a keyring, printed. */
static int
gen_key(const char *id)
{
	char line[BEACON_KEYLINE_MAX];

	if (beacon_auth_init() < 0 ||
	    beacon_key_generate(id, line, sizeof(line)) < 0)
		return cli_refuse(&cli, "--gen-key", id,
				  "a key id is 1 to 8 of A-Z a-z 0-9 _ -");
	fputs(line, stdout);
	return 0;
}

int
agent_config_parse(int argc, char **argv, struct agent_config *c, bool *done)
{
	int rc, first;

	memset(c, 0, sizeof(*c));
	c->port = 138;
	c->interval_ms = 10000;
	*done = false;
	rc = cli_parse(&cli, argc, argv, c, &first);
	if (rc == CLI_DONE || (rc == 0 && c->gen_key != NULL)) {
		*done = true;
		return rc == CLI_DONE ? 0 : gen_key(c->gen_key);
	}
	if (rc != 0)
		return rc;
	if (first != argc)
		return cli_usage(&cli, "unexpected argument", argv[first]);
	if (c->key_id != NULL && c->keyring == NULL)
		return cli_usage(&cli, "--key-id needs --keyring", c->key_id);
	if (c->ttl_ms == 0)
		c->ttl_ms = 3 * c->interval_ms;
	if (c->ttl_ms < c->interval_ms)
		return cli_usage(&cli, "ttl must be at least the interval",
				 NULL);
	return 0;
}
