/* SPDX-License-Identifier: MIT */
/* beacon-probe's command line, parsed into struct probe_config. */
#include <getopt.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "mailslot/iface.h"
#include "num.h"
#include "mqttlink.h"
#include "probe.h"

static const char usage[] =
	"usage: beacon-probe list  [OPTIONS]   solicit, collect, print, exit\n"
	"       beacon-probe watch [OPTIONS]   the same table, live\n"
	"       beacon-probe serve --export FILE [OPTIONS]\n"
	"                                      keep the table in FILE (JSON)\n"
	"\n"
	"Find the hosts running beacon-agent on this LAN: listen for their\n"
	"beacons on \\\\.\\mailslot\\beacon and ask them to announce themselves\n"
	"(a query broadcast to \\\\*\\mailslot\\beacon\\query). Windows and\n"
	"Samba machines (and NAS boxes, Macs) are listed too, from the browse\n"
	"announcements they send to \\MAILSLOT\\BROWSE (kind 'browse').\n"
	"\n"
	"Options:\n"
	"  -p, --port N          UDP port (default 138: root or\n"
	"                        CAP_NET_BIND_SERVICE; the agents' port)\n"
	"  -b, --broadcast ADDR  send queries to ADDR (repeatable), e.g.\n"
	"                        127.255.255.255; default: every interface's\n"
	"  -i, --interface IF    query on IF only (repeatable)\n"
	"  -w, --workgroup NAME  NetBIOS workgroup (default WORKGROUP)\n"
	"  -W, --wait SEC        list: how long to collect (default 2; with\n"
	"                        --mqtt 1)\n"
	"      --no-solicit      only listen; do not ask agents to announce\n"
	"  -k, --keyring FILE    verify signed beacons with the keys of FILE\n"
	"                        (lines \"KEYID BASE64KEY\", mode 600): hosts\n"
	"                        are 'verified' or 'unsigned'; a verified host\n"
	"                        is changed by verified beacons only\n"
	"      --require-auth    with --keyring: drop unsigned beacons too\n"
	"  -u, --user NAME       started as root: once the keyring is read and\n"
	"                        the socket is open, run as NAME, keeping only\n"
	"                        CAP_NET_BIND_SERVICE\n"
	"      --auth A          only hosts whose auth is A: verified or\n"
	"                        unsigned\n"
	"      --no-browse       leave Windows and Samba hosts out (their\n"
	"                        browse announcements are then only counted)\n"
	"      --no-browse-request\n"
	"                        list: do not ask Windows and Samba hosts to\n"
	"                        announce (a browse AnnouncementRequest to\n"
	"                        WORKGROUP<00>); they answer within 30 s\n"
	"  -j, --json            print the table as JSON\n"
	"                        (schema/table.schema.json)\n"
	"  -e, --events          watch: print events as NDJSON (join, update,\n"
	"                        restart, stale, leave, expire, conflict)\n"
	"  -t, --tag KEY=VALUE   only hosts with this tag (repeatable: all)\n"
	"  -s, --status S        only hosts in status S: alive, stale, left,\n"
	"                        expired, conflict or (--mqtt) unknown\n"
	"                        (repeatable: any); by default expired hosts\n"
	"                        are not shown\n"
	"  -a, --all             show expired hosts too\n"
	"  -H, --header          print the column header even when not a TTY\n"
	"  -o, --export FILE     serve: write the JSON table to FILE, replaced\n"
	"                        atomically on changes and at exit\n"
	"      --http ADDR:PORT  serve: the table over HTTP on ADDR:PORT\n"
	"                        (repeatable; [ADDR6]:PORT for IPv6): /v1/hosts\n"
	"                        (the --json document, filters as parameters),\n"
	"                        /v1/hosts/ID, /v1/events, /metrics\n"
	"                        (Prometheus), / (a live page), /healthz\n"
	"      --http-auth FILE  ask for a password: lines \"USER HASH\" (mode\n"
	"                        600; HASH from beacon-probe --hash-password)\n"
	"      --http-cert FILE, --http-key FILE\n"
	"                        HTTPS with this certificate and key (PEM)\n"
	"      --mqtt URL        list, watch: the merged table of every site\n"
	"                        that publishes to the broker (a SITE column;\n"
	"                        hosts of an offline site are 'unknown');\n"
	"                        serve: publish the table to an MQTT broker,\n"
	"                        mqtt[s]://[USER[:PASS]@]HOST[:PORT]: retained\n"
	"                        rows under PREFIX/SITE/hosts/ID, events, and\n"
	"                        PREFIX/SITE/probe (online; offline as the will)\n"
	"      --site NAME       the topic level for this LAN (default: the\n"
	"                        hostname; no / + # or control characters);\n"
	"                        list --mqtt: only this site (repeatable)\n"
	"      --mqtt-prefix P   topics under P (default beacon/v1)\n"
	"      --mqtt-keepalive SEC  (default 30)\n"
	"      --mqtt-password-file FILE  the broker password (its first\n"
	"                        line; mode 600), not on the command line\n"
	"      --mqtt-cafile FILE  the CA for mqtts://\n"
	"      --mqtt-refresh SEC  serve: a row is published when its status\n"
	"                        or content changes; its counters and\n"
	"                        last_seen at most every SEC (default 30)\n"
	"      --mqtt-homeassistant[=PREFIX]\n"
	"                        serve: Home Assistant discovery, each host a\n"
	"                        device_tracker, home while alive (PREFIX\n"
	"                        default homeassistant)\n"
	"      --hash-password   read a password on standard input, print its\n"
	"                        hash for --http-auth, and exit\n"
	"      --export-interval SEC  serve: at most one write per SEC\n"
	"                        (default 1)\n"
	"      --max-hosts N     table bound (default 65536); when full, rows\n"
	"                        that expired or left make room, then rows\n"
	"                        with fewer than 3 beacons; never a live host\n"
	"                        with a history\n"
	"      --max-ttl SEC     cap on the interval and TTL a beacon may\n"
	"                        announce (default 3600)\n"
	"      --new-hosts-per-source N\n"
	"                        new hosts accepted per source address per\n"
	"                        second (default 10, bursts of 100)\n"
	"      --max-queries N   direct queries to silent hosts per second, in\n"
	"                        all (default 50)\n"
	"      --max-per-source N\n"
	"                        beacons decoded per source address per second,\n"
	"                        in bursts of 2N (default 1000; an agent sends\n"
	"                        at most about 35)\n"
	"  -h, --help            show this help\n"
	"  -V, --version         show the version\n"
	"\n"
	"Exit status: 0 hosts listed, 2 none matched, 1 error, 64 usage error.\n";

enum {
	OPT_NO_SOLICIT = 256,
	OPT_NO_BROWSE,
	OPT_NO_BROWSE_REQUEST,
	OPT_REQUIRE_AUTH,
	OPT_AUTH,
	OPT_HTTP,
	OPT_HTTP_AUTH,
	OPT_HTTP_CERT,
	OPT_HTTP_KEY,
	OPT_HASH_PASSWORD,
	OPT_MQTT,
	OPT_SITE,
	OPT_MQTT_PREFIX,
	OPT_MQTT_KEEPALIVE,
	OPT_MQTT_PASSWORD_FILE,
	OPT_MQTT_CAFILE,
	OPT_MQTT_REFRESH,
	OPT_MQTT_HOMEASSISTANT,
	OPT_EXPORT_INTERVAL,
	OPT_MAX_HOSTS,
	OPT_MAX_TTL,
	OPT_NEW_PER_SOURCE,
	OPT_MAX_QUERIES,
	OPT_MAX_PER_SOURCE,
};

static const struct option longopts[] = {
	{"port", required_argument, NULL, 'p'},
	{"broadcast", required_argument, NULL, 'b'},
	{"interface", required_argument, NULL, 'i'},
	{"workgroup", required_argument, NULL, 'w'},
	{"wait", required_argument, NULL, 'W'},
	{"no-solicit", no_argument, NULL, OPT_NO_SOLICIT},
	{"no-browse", no_argument, NULL, OPT_NO_BROWSE},
	{"keyring", required_argument, NULL, 'k'},
	{"user", required_argument, NULL, 'u'},
	{"require-auth", no_argument, NULL, OPT_REQUIRE_AUTH},
	{"http", required_argument, NULL, OPT_HTTP},
	{"http-auth", required_argument, NULL, OPT_HTTP_AUTH},
	{"mqtt", required_argument, NULL, OPT_MQTT},
	{"site", required_argument, NULL, OPT_SITE},
	{"mqtt-prefix", required_argument, NULL, OPT_MQTT_PREFIX},
	{"mqtt-keepalive", required_argument, NULL, OPT_MQTT_KEEPALIVE},
	{"mqtt-password-file", required_argument, NULL, OPT_MQTT_PASSWORD_FILE},
	{"mqtt-refresh", required_argument, NULL, OPT_MQTT_REFRESH},
	{"mqtt-homeassistant", optional_argument, NULL, OPT_MQTT_HOMEASSISTANT},
	{"mqtt-cafile", required_argument, NULL, OPT_MQTT_CAFILE},
	{"http-cert", required_argument, NULL, OPT_HTTP_CERT},
	{"http-key", required_argument, NULL, OPT_HTTP_KEY},
	{"auth", required_argument, NULL, OPT_AUTH},
	{"no-browse-request", no_argument, NULL, OPT_NO_BROWSE_REQUEST},
	{"json", no_argument, NULL, 'j'},
	{"events", no_argument, NULL, 'e'},
	{"tag", required_argument, NULL, 't'},
	{"status", required_argument, NULL, 's'},
	{"all", no_argument, NULL, 'a'},
	{"header", no_argument, NULL, 'H'},
	{"export", required_argument, NULL, 'o'},
	{"export-interval", required_argument, NULL, OPT_EXPORT_INTERVAL},
	{"max-hosts", required_argument, NULL, OPT_MAX_HOSTS},
	{"max-ttl", required_argument, NULL, OPT_MAX_TTL},
	{"new-hosts-per-source", required_argument, NULL, OPT_NEW_PER_SOURCE},
	{"max-queries", required_argument, NULL, OPT_MAX_QUERIES},
	{"max-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static int
bad(const char *msg, const char *arg)
{
	fprintf(stderr, "beacon-probe: %s%s%s\n", msg, arg ? ": " : "",
		arg ? arg : "");
	fprintf(stderr, "Try 'beacon-probe --help'.\n");
	return EXIT_USAGE;
}

static int
bad2(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "beacon-probe: %s %s: %s\n", opt, arg, why);
	fprintf(stderr, "Try 'beacon-probe --help'.\n");
	return EXIT_USAGE;
}

static bool
add(const char **list, size_t *n, const char *v)
{
	if (*n == PROBE_LIST_MAX)
		return false;
	list[(*n)++] = v;
	return true;
}

/* --hash-password: a password from standard input (one line) to the
   Argon2id string --http-auth files hold. */
static int
hash_password(void)
{
	char pass[256], hash[crypto_pwhash_STRBYTES];
	size_t n;

	if (sodium_init() < 0 || fgets(pass, sizeof(pass), stdin) == NULL) {
		fprintf(stderr,
			"beacon-probe: --hash-password reads a password "
			"on standard input\n");
		return 1;
	}
	n = strcspn(pass, "\r\n");
	pass[n] = '\0';
	if (n == 0 ||
	    crypto_pwhash_str(hash, pass, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		sodium_memzero(pass, sizeof(pass));
		fprintf(stderr, "beacon-probe: an empty password, or out of "
				"memory\n");
		return 1;
	}
	sodium_memzero(pass, sizeof(pass));
	puts(hash);
	return 0;
}

int
probe_config_parse(int argc, char **argv, struct probe_config *c, bool *done)
{
	const char *cmd, *why;
	uint64_t v;
	size_t i;
	int ch;
	bool wait_given = false;

	memset(c, 0, sizeof(*c));
	c->port = 138;
	c->wait_ms = 2000;
	c->solicit = true;
	c->browse = true;
	c->browse_request = true;
	c->mqtt_prefix = "beacon/v1";
	c->mqtt_keepalive = 30;
	c->mqtt_refresh_ms = 30000;
	c->export_interval_ms = 1000;
	c->max_hosts = HOSTTAB_DEFAULT_MAX;
	c->max_ttl_ms = HOSTTAB_DEFAULT_MAX_TTL_MS;
	c->new_per_source = HOSTTAB_NEW_PER_S;
	c->new_burst = HOSTTAB_NEW_BURST;
	c->max_queries = 50;
	c->max_per_source = 1000;
	*done = false;
	if (argc >= 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(usage, stdout);
		*done = true;
		return 0;
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		puts("beacon-probe " BEACON_VERSION);
		*done = true;
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--hash-password") == 0) {
		*done = true;
		return hash_password();
	}
	if (argc < 2)
		return bad("missing command: list, watch or serve", NULL);
	cmd = argv[1];
	if (strcmp(cmd, "list") == 0)
		c->cmd = CMD_LIST;
	else if (strcmp(cmd, "watch") == 0)
		c->cmd = CMD_WATCH;
	else if (strcmp(cmd, "serve") == 0)
		c->cmd = CMD_SERVE;
	else
		return bad("unknown command (list, watch or serve)", cmd);
	c->cmd_name = cmd;
	argc--;
	argv++;
	{
		/* getopt names the program from argv[0] in its messages. */
		static char prog[32];
		snprintf(prog, sizeof(prog), "beacon-probe %s", cmd);
		argv[0] = prog;
	}
	optind = 0; /* a full reset of getopt: parsed more than once in tests */
	while ((ch = getopt_long(argc, argv, "p:b:i:w:W:jet:s:aHo:k:u:hV",
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
			if (!add(c->broadcast, &c->n_broadcast, optarg))
				return bad("too many --broadcast", optarg);
			break;
		case 'i':
			if ((why = mailslot_check_interface(optarg)) != NULL)
				return bad2("--interface", optarg, why);
			if (!add(c->interfaces, &c->n_interfaces, optarg))
				return bad("too many --interface", optarg);
			break;
		case 'w':
			if ((why = mailslot_check_workgroup(optarg)) != NULL)
				return bad2("--workgroup", optarg, why);
			c->workgroup = optarg;
			break;
		case 'W':
			if (!num_parse_seconds(optarg, 1, 3600000, &c->wait_ms))
				return bad("wait must be 0.001 to 3600 seconds",
					   optarg);
			wait_given = true;
			break;
		case OPT_NO_SOLICIT:
			c->solicit = false;
			break;
		case OPT_NO_BROWSE:
			c->browse = false;
			break;
		case 'k':
			c->keyring = optarg;
			break;
		case 'u':
			c->user = optarg;
			break;
		case OPT_REQUIRE_AUTH:
			c->require_auth = true;
			break;
		case OPT_HTTP_AUTH:
			c->http_auth = optarg;
			break;
		case OPT_MQTT: {
			struct mqtt_url u;
			if (mqtt_parse_url(optarg, &u) < 0)
				return bad2(
					"--mqtt", optarg,
					"give mqtt://[USER[:PASS]@]HOST[:PORT] "
					"or mqtts://...");
			c->mqtt = optarg;
			break;
		}
		case OPT_SITE:
			if (!mqtt_level_valid(optarg))
				return bad2(
					"--site", optarg,
					"a site is one MQTT topic level: 1 to "
					"64 characters, no / + # or control "
					"characters");
			c->site = optarg;
			if (!add(c->sites, &c->n_sites, optarg))
				return bad("too many --site", optarg);
			break;
		case OPT_MQTT_PREFIX:
			if (optarg[0] == '\0' ||
			    strpbrk(optarg, "+#") != NULL || optarg[0] == '/' ||
			    optarg[strlen(optarg) - 1] == '/')
				return bad2("--mqtt-prefix", optarg,
					    "topic levels without + or #, no "
					    "leading or trailing /");
			c->mqtt_prefix = optarg;
			break;
		case OPT_MQTT_KEEPALIVE:
			if (!num_parse_u64(optarg, 5, 3600, &v))
				return bad2("--mqtt-keepalive", optarg,
					    "5 to 3600 seconds");
			c->mqtt_keepalive = (int)v;
			break;
		case OPT_MQTT_PASSWORD_FILE:
			c->mqtt_password_file = optarg;
			break;
		case OPT_MQTT_CAFILE:
			c->mqtt_cafile = optarg;
			break;
		case OPT_MQTT_REFRESH:
			if (!num_parse_u64(optarg, 1, 3600, &v))
				return bad2("--mqtt-refresh", optarg,
					    "1 to 3600 seconds");
			c->mqtt_refresh_ms = (uint32_t)(v * 1000);
			break;
		case OPT_MQTT_HOMEASSISTANT:
			c->mqtt_homeassistant =
				optarg != NULL ? optarg : "homeassistant";
			if (!mqtt_level_valid(c->mqtt_homeassistant))
				return bad2("--mqtt-homeassistant", optarg,
					    "the discovery prefix is one topic "
					    "level, as in Home Assistant's "
					    "settings (default homeassistant)");
			break;
		case OPT_HTTP_CERT:
			c->http_cert = optarg;
			break;
		case OPT_HTTP_KEY:
			c->http_key = optarg;
			break;
		case OPT_HTTP: {
			struct sockaddr_storage ss;
			unsigned len;
			if (http_parse_addr(optarg, &ss, &len) < 0)
				return bad2(
					"--http", optarg,
					"give ADDR:PORT, e.g. 127.0.0.1:9138 "
					"or [::1]:9138");
			if (!add(c->http, &c->n_http, optarg))
				return bad("too many --http", optarg);
			break;
		}
		case OPT_AUTH:
			if (strcmp(optarg, "verified") != 0 &&
			    strcmp(optarg, "unsigned") != 0)
				return bad2("--auth", optarg,
					    "verified or unsigned");
			c->auth = optarg;
			break;
		case OPT_NO_BROWSE_REQUEST:
			c->browse_request = false;
			break;
		case 'j':
			c->json = true;
			break;
		case 'e':
			c->events = true;
			break;
		case 't':
			if (c->n_tags == PROBE_LIST_MAX)
				return bad("too many --tag", optarg);
			if ((why = beacon_tag_parse(
				     optarg, &c->tags[c->n_tags])) != NULL)
				return bad(why, optarg);
			c->n_tags++;
			break;
		case 's':
			/* "unknown": a host whose site's probe or bridge
			   is offline (the merged view; checked below). */
			if (!host_status_word(optarg) &&
			    strcmp(optarg, "unknown") != 0)
				return bad(
					"status is alive, stale, left, expired, "
					"conflict or (--mqtt) unknown",
					optarg);
			if (!add(c->statuses, &c->n_statuses, optarg))
				return bad("too many --status", optarg);
			break;
		case 'a':
			c->all = true;
			break;
		case 'H':
			c->header = true;
			break;
		case 'o':
			c->export_path = optarg;
			break;
		case OPT_EXPORT_INTERVAL:
			if (!num_parse_seconds(optarg, 0, 86400000,
					       &c->export_interval_ms))
				return bad("export interval must be 0 to 86400 "
					   "seconds",
					   optarg);
			break;
		case OPT_MAX_HOSTS:
			if (!num_parse_u64(optarg, 1, 1u << 24, &v))
				return bad("max-hosts must be 1 to 16777216",
					   optarg);
			c->max_hosts = (size_t)v;
			break;
		case OPT_MAX_TTL:
			if (!num_parse_seconds(optarg, BEACON_MIN_INTERVAL_MS,
					       BEACON_MAX_TTL_MS, &v))
				return bad("max-ttl must be 0.1 to 864000 "
					   "seconds",
					   optarg);
			c->max_ttl_ms = (uint32_t)v;
			break;
		case OPT_NEW_PER_SOURCE:
			if (!num_parse_u64(optarg, 1, 1000000, &v))
				return bad("new-hosts-per-source must be 1 to "
					   "1000000",
					   optarg);
			c->new_per_source = (double)v;
			c->new_burst = v * 10 > HOSTTAB_NEW_BURST
					       ? (double)v * 10
					       : HOSTTAB_NEW_BURST;
			break;
		case OPT_MAX_QUERIES:
			if (!num_parse_u64(optarg, 1, 100000, &v))
				return bad("max-queries must be 1 to 100000",
					   optarg);
			c->max_queries = (unsigned)v;
			break;
		case OPT_MAX_PER_SOURCE:
			if (!num_parse_u64(optarg, 1, 10000000, &v))
				return bad("max-per-source must be 1 to "
					   "10000000",
					   optarg);
			c->max_per_source = (unsigned)v;
			break;
		case 'h':
			fputs(usage, stdout);
			*done = true;
			return 0;
		case 'V':
			puts("beacon-probe " BEACON_VERSION);
			*done = true;
			return 0;
		default:
			return bad("invalid option", NULL);
		}
	}
	if (optind != argc)
		return bad("unexpected argument", argv[optind]);
	if (c->cmd == CMD_SERVE && c->export_path == NULL)
		return bad("serve needs --export FILE", NULL);
	if (c->cmd != CMD_SERVE && c->export_path != NULL)
		return bad("--export goes with serve", NULL);
	if (c->events && c->cmd != CMD_WATCH)
		return bad("--events goes with watch", NULL);
	if (c->n_http > 0 && c->cmd != CMD_SERVE)
		return bad("--http goes with serve", NULL);
	if ((c->http_auth || c->http_cert || c->http_key) && c->n_http == 0)
		return bad("--http-auth, --http-cert and --http-key go with "
			   "--http",
			   NULL);
	if ((c->http_cert == NULL) != (c->http_key == NULL))
		return bad("--http-cert and --http-key go together", NULL);
	if ((c->mqtt_homeassistant != NULL || c->mqtt_refresh_ms != 30000) &&
	    (c->cmd != CMD_SERVE || c->mqtt == NULL))
		return bad("--mqtt-refresh and --mqtt-homeassistant go with "
			   "serve --mqtt",
			   NULL);
	if (c->cmd == CMD_SERVE && c->n_sites > 1)
		return bad("serve publishes one --site", NULL);
	if ((c->cmd == CMD_SERVE || c->mqtt == NULL) && c->n_statuses > 0)
		for (i = 0; i < c->n_statuses; i++)
			if (strcmp(c->statuses[i], "unknown") == 0)
				return bad("--status unknown goes with list "
					   "--mqtt and watch --mqtt",
					   NULL);
	/* A broker sends its retained rows at once after the subscription:
	   1 s is plenty (agents may take 2 s to answer a query). */
	if (c->mqtt != NULL && c->cmd != CMD_SERVE && !wait_given)
		c->wait_ms = 1000;
	if (c->mqtt != NULL && c->cmd == CMD_SERVE && c->site == NULL) {
		static char host[65];
		if (gethostname(host, sizeof(host) - 1) < 0 ||
		    !mqtt_level_valid(host))
			return bad("--mqtt needs --site NAME (this hostname is "
				   "not a topic level)",
				   NULL);
		c->site = host;
	}
	if (c->require_auth && c->keyring == NULL)
		return bad("--require-auth needs --keyring FILE", NULL);
	return 0;
}
