/* SPDX-License-Identifier: MIT */
/* beacon-probe's command line, parsed into struct probe_config. */
#include <stddef.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mailslot/iface.h"
#include "num.h"
#include "mqttlink.h"
#include "probe.h"
#include "text.h"

static const char usage[] =
	"usage: beacon-probe list  [OPTIONS]   solicit, collect, print, exit\n"
	"       beacon-probe watch [OPTIONS]   the same table, live\n"
	"       beacon-probe serve --export FILE [OPTIONS]\n"
	"                                      keep the table in FILE (JSON)\n"
	"       beacon-probe history [HOST] --db FILE [--since WHEN]\n"
	"                    [--until WHEN] [--event NAME]... [--json]\n"
	"                                      what serve --db kept, oldest\n"
	"                                      first (HOST: an id, a hostname\n"
	"                                      or netbios:NAME; WHEN: 90m, 7d,\n"
	"                                      or an RFC 3339 time)\n"
	"       beacon-probe diff OLD.json NEW.json [--json]\n"
	"       beacon-probe diff --db FILE --since WHEN [--json]\n"
	"                                      hosts new, gone, back, changed\n"
	"                                      between two tables (exit 2:\n"
	"                                      none)\n"
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
	"      --db FILE         serve: keep the history in FILE (SQLite):\n"
	"                        every host ever seen and every event, and\n"
	"                        a 'new' event for a host never seen before\n"
	"      --db-retention DAYS  serve --db: events older than DAYS are\n"
	"                        pruned, a little at a time, and hosts with\n"
	"                        no event left not seen within it (default 90)\n"
	"      --notify URL      serve: POST each chosen event to the webhook\n"
	"                        URL (repeatable; TLS verified, retried with\n"
	"                        back-off, in order, each once)\n"
	"      --notify-events LIST  which (default new,expire,missing)\n"
	"      --notify-format F json (the watch --events object), text\n"
	"                        (ntfy), slack ({\"text\"}) or gotify\n"
	"      --expect FILE     the hosts that should always be up: ids,\n"
	"                        hostnames or netbios:NAME, one a line (#\n"
	"                        comments; serve reads it again on SIGHUP).\n"
	"                        One not alive or stale is missing: a\n"
	"                        'missing' event, 'back' when it returns\n"
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

#define CFG(f)     offsetof(struct probe_config, f)
#define LIST(f, n) CFG(f), PROBE_LIST_MAX, CFG(n)

/* ---- the options that need more than a type and a range ---- */

static const char *
take_mqtt(void *cfg, const char *arg)
{
	struct probe_config *c = cfg;
	struct mqtt_url u;

	if (mqtt_parse_url(arg, &u) < 0)
		return "give mqtt://[USER[:PASS]@]HOST[:PORT] or mqtts://...";
	c->mqtt = arg;
	return NULL;
}

static const char *
take_site(void *cfg, const char *arg)
{
	struct probe_config *c = cfg;

	if (!mqtt_level_valid(arg))
		return "a site is one MQTT topic level: 1 to 64 characters, "
		       "no / + # or control characters";
	if (c->n_sites == PROBE_LIST_MAX)
		return "too many --site";
	c->site = arg;
	c->sites[c->n_sites++] = arg;
	return NULL;
}

static const char *
check_prefix(const char *arg)
{
	if (arg[0] == '\0' || strpbrk(arg, "+#") != NULL || arg[0] == '/' ||
	    arg[strlen(arg) - 1] == '/')
		return "topic levels without + or #, no leading or trailing /";
	return NULL;
}

static const char *
take_homeassistant(void *cfg, const char *arg)
{
	struct probe_config *c = cfg;

	c->mqtt_homeassistant = arg != NULL ? arg : "homeassistant";
	if (!mqtt_level_valid(c->mqtt_homeassistant))
		return "the discovery prefix is one topic level, as in Home "
		       "Assistant's settings (default homeassistant)";
	return NULL;
}

static const char *
check_http(const char *arg)
{
	struct sockaddr_storage ss;
	unsigned len;

	if (http_parse_addr(arg, &ss, &len) < 0)
		return "give ADDR:PORT, e.g. 127.0.0.1:9138 or [::1]:9138";
	return NULL;
}

static const char *
check_auth(const char *arg)
{
	if (strcmp(arg, "verified") != 0 && strcmp(arg, "unsigned") != 0)
		return "verified or unsigned";
	return NULL;
}

static const char *
take_tag(void *cfg, const char *arg)
{
	struct probe_config *c = cfg;
	const char *why;

	if (c->n_tags == PROBE_LIST_MAX)
		return "too many --tag";
	if ((why = beacon_tag_parse(arg, &c->tags[c->n_tags])) != NULL)
		return why;
	c->n_tags++;
	return NULL;
}

/* "unknown": a host whose site's probe or bridge is offline (the merged
   view; checked with the command). */
static const char *
check_status(const char *arg)
{
	if (!host_status_word(arg) && strcmp(arg, "unknown") != 0)
		return "status is alive, stale, left, expired, conflict or "
		       "(--mqtt) unknown";
	return NULL;
}

static const char *
check_when(const char *arg)
{
	int64_t ms;

	return text_when(arg, 0, &ms) < 0
		       ? "WHEN is a duration back from now (30s, 90m, 12h, "
			 "7d, 2w) or an RFC 3339 time (2026-12-05T08:00:00Z)"
		       : NULL;
}

static const char *
check_event(const char *arg)
{
	enum host_event e;

	if (host_event_word(arg, &e))
		return NULL;
	return "event is join, update, restart, stale, leave, expire, "
	       "conflict, new, missing or back";
}

static const char *
take_notify_events(void *cfg, const char *arg)
{
	struct probe_config *c = cfg;
	char word[16];
	const char *p = arg;
	enum host_event e;

	c->notify_events = 0;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(word))
			return "a comma-separated list of events (new,expire,"
			       "missing...)";
		memcpy(word, p, n);
		word[n] = '\0';
		if (!host_event_word(word, &e))
			return check_event(word);
		c->notify_events |= 1u << e;
		p += n + (p[n] == ',');
	}
	return c->notify_events != 0 ? NULL : "no event named";
}

static const char *
take_notify_format(void *cfg, const char *arg)
{
	struct probe_config *c = cfg;

	c->notify_format = notify_format(arg);
	return c->notify_format < 0 ? "json, text, slack or gotify" : NULL;
}

static const char *
check_notify_url(const char *arg)
{
	return notify_check_url(arg) < 0
		       ? "an http:// or https:// URL (the webhook)"
		       : NULL;
}

static const char *
take_new_per_source(void *cfg, const char *arg)
{
	struct probe_config *c = cfg;
	uint64_t v;

	if (!num_parse_u64(arg, 1, 1000000, &v))
		return "must be 1 to 1000000";
	c->new_per_source = (double)v;
	c->new_burst =
		v * 10 > HOSTTAB_NEW_BURST ? (double)v * 10 : HOSTTAB_NEW_BURST;
	return NULL;
}

static const struct cli_opt opts[] = {
	{"port", 'p', CLI_UINT, CFG(port), 2, 0, 1, 65535, NULL, NULL, 0},
	{"broadcast", 'b', CLI_LIST, LIST(broadcast, n_broadcast), 0, 0,
	 mailslot_check_broadcast, NULL, 0},
	{"interface", 'i', CLI_LIST, LIST(interfaces, n_interfaces), 0, 0,
	 mailslot_check_interface, NULL, 0},
	{"workgroup", 'w', CLI_TEXT, CFG(workgroup), 0, 0, 0, 0,
	 mailslot_check_workgroup, NULL, 0},
	{"wait", 'W', CLI_SECONDS, CFG(wait_ms), 8, 0, 1, 3600000, NULL, NULL,
	 0},
	{"no-solicit", 0, CLI_CLEAR, CFG(solicit), 0, 0, 0, 0, NULL, NULL, 0},
	{"no-browse", 0, CLI_CLEAR, CFG(browse), 0, 0, 0, 0, NULL, NULL, 0},
	{"keyring", 'k', CLI_TEXT, CFG(keyring), 0, 0, 0, 0, NULL, NULL, 0},
	{"user", 'u', CLI_TEXT, CFG(user), 0, 0, 0, 0, NULL, NULL, 0},
	{"require-auth", 0, CLI_SET, CFG(require_auth), 0, 0, 0, 0, NULL, NULL,
	 0},
	{"http", 0, CLI_LIST, LIST(http, n_http), 0, 0, check_http, NULL, 0},
	{"http-auth", 0, CLI_TEXT, CFG(http_auth), 0, 0, 0, 0, NULL, NULL, 0},
	{"mqtt", 0, CLI_CALL, 0, 0, 0, 0, 0, NULL, take_mqtt, 0},
	{"site", 0, CLI_CALL, 0, 0, 0, 0, 0, NULL, take_site, 0},
	{"mqtt-prefix", 0, CLI_TEXT, CFG(mqtt_prefix), 0, 0, 0, 0, check_prefix,
	 NULL, 0},
	{"mqtt-keepalive", 0, CLI_UINT, CFG(mqtt_keepalive), 4, 0, 5, 3600,
	 NULL, NULL, 0},
	{"mqtt-password-file", 0, CLI_TEXT, CFG(mqtt_password_file), 0, 0, 0, 0,
	 NULL, NULL, 0},
	{"mqtt-refresh", 0, CLI_SECONDS, CFG(mqtt_refresh_ms), 4, 0, 1000,
	 3600000, NULL, NULL, 0},
	{"mqtt-homeassistant", 0, CLI_CALL, 0, 0, 0, 0, 0, NULL,
	 take_homeassistant, true},
	{"mqtt-cafile", 0, CLI_TEXT, CFG(mqtt_cafile), 0, 0, 0, 0, NULL, NULL,
	 0},
	{"http-cert", 0, CLI_TEXT, CFG(http_cert), 0, 0, 0, 0, NULL, NULL, 0},
	{"http-key", 0, CLI_TEXT, CFG(http_key), 0, 0, 0, 0, NULL, NULL, 0},
	{"auth", 0, CLI_TEXT, CFG(auth), 0, 0, 0, 0, check_auth, NULL, 0},
	{"no-browse-request", 0, CLI_CLEAR, CFG(browse_request), 0, 0, 0, 0,
	 NULL, NULL, 0},
	{"json", 'j', CLI_SET, CFG(json), 0, 0, 0, 0, NULL, NULL, 0},
	{"events", 'e', CLI_SET, CFG(events), 0, 0, 0, 0, NULL, NULL, 0},
	{"tag", 't', CLI_CALL, 0, 0, 0, 0, 0, NULL, take_tag, 0},
	{"status", 's', CLI_LIST, LIST(statuses, n_statuses), 0, 0,
	 check_status, NULL, 0},
	{"all", 'a', CLI_SET, CFG(all), 0, 0, 0, 0, NULL, NULL, 0},
	{"header", 'H', CLI_SET, CFG(header), 0, 0, 0, 0, NULL, NULL, 0},
	{"export", 'o', CLI_TEXT, CFG(export_path), 0, 0, 0, 0, NULL, NULL, 0},
	{"db", 0, CLI_TEXT, CFG(db), 0, 0, 0, 0, NULL, NULL, 0},
	{"expect", 0, CLI_TEXT, CFG(expect), 0, 0, 0, 0, NULL, NULL, 0},
	{"notify", 0, CLI_LIST, LIST(notify, n_notify), 0, 0, check_notify_url,
	 NULL, 0},
	{"notify-events", 0, CLI_CALL, 0, 0, 0, 0, 0, NULL, take_notify_events,
	 0},
	{"notify-format", 0, CLI_CALL, 0, 0, 0, 0, 0, NULL, take_notify_format,
	 0},
	{"db-retention", 0, CLI_UINT, CFG(db_retention_days), sizeof(unsigned),
	 0, 1, 36500, NULL, NULL, 0},
	{"since", 0, CLI_TEXT, CFG(since), 0, 0, 0, 0, check_when, NULL, 0},
	{"until", 0, CLI_TEXT, CFG(until), 0, 0, 0, 0, check_when, NULL, 0},
	{"event", 0, CLI_LIST, LIST(events_wanted, n_events_wanted), 0, 0,
	 check_event, NULL, 0},
	{"export-interval", 0, CLI_SECONDS, CFG(export_interval_ms), 8, 0, 0,
	 86400000, NULL, NULL, 0},
	{"max-hosts", 0, CLI_UINT, CFG(max_hosts), sizeof(size_t), 0, 1,
	 1u << 24, NULL, NULL, 0},
	{"max-ttl", 0, CLI_SECONDS, CFG(max_ttl_ms), 4, 0,
	 BEACON_MIN_INTERVAL_MS, BEACON_MAX_TTL_MS, NULL, NULL, 0},
	{"new-hosts-per-source", 0, CLI_CALL, 0, 0, 0, 0, 0, NULL,
	 take_new_per_source, 0},
	{"max-queries", 0, CLI_UINT, CFG(max_queries), 4, 0, 1, 100000, NULL,
	 NULL, 0},
	{"max-per-source", 0, CLI_UINT, CFG(max_per_source), 4, 0, 1, 10000000,
	 NULL, NULL, 0},
	{"help", 'h', CLI_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0},
	{"version", 'V', CLI_VERSION, 0, 0, 0, 0, 0, NULL, NULL, 0},
};

static struct cli cli = {"beacon-probe", "beacon-probe --help",
			 usage,          "beacon-probe " BEACON_VERSION,
			 opts,           sizeof(opts) / sizeof(opts[0])};

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

static void
defaults(struct probe_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 138;
	c->solicit = true;
	c->browse = true;
	c->browse_request = true;
	c->mqtt_prefix = "beacon/v1";
	c->mqtt_keepalive = 30;
	c->mqtt_refresh_ms = 30000;
	c->export_interval_ms = 1000;
	c->max_hosts = HOSTTAB_DEFAULT_MAX;
	c->db_retention_days = 90;
	c->notify_events = 1u << EV_NEW | 1u << EV_EXPIRE | 1u << EV_MISSING;
	c->max_ttl_ms = HOSTTAB_DEFAULT_MAX_TTL_MS;
	c->new_per_source = HOSTTAB_NEW_PER_S;
	c->new_burst = HOSTTAB_NEW_BURST;
	c->max_queries = 50;
	c->max_per_source = 1000;
}

/* What a command word alone says: -h, -V, --hash-password, the command;
   1 when argv[1] was the command, else an exit status (*done if 0). */
static int
command(int argc, char **argv, struct probe_config *c, bool *done)
{
	const char *a = argc >= 2 ? argv[1] : NULL;
	int cmd;

	*done = true;
	if (a != NULL && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (a != NULL &&
	    (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)) {
		puts(cli.version);
		return 0;
	}
	if (argc == 2 && strcmp(a, "--hash-password") == 0)
		return hash_password();
	*done = false;
	if (a == NULL)
		return cli_usage(
			&cli,
			"missing command: list, watch, serve, history or diff",
			NULL);
	cmd = strcmp(a, "list") == 0      ? CMD_LIST
	      : strcmp(a, "watch") == 0   ? CMD_WATCH
	      : strcmp(a, "serve") == 0   ? CMD_SERVE
	      : strcmp(a, "history") == 0 ? CMD_HISTORY
	      : strcmp(a, "diff") == 0    ? CMD_DIFF
					  : -1;
	if (cmd < 0)
		return cli_usage(&cli,
				 "unknown command (list, watch, serve, "
				 "history or diff)",
				 a);
	c->cmd = (enum probe_cmd)cmd;
	c->cmd_name = a;
	return 1;
}

/* The options that go only with others, or with one command. */
static const char *
misplaced(const struct probe_config *c)
{
	size_t i;

	if (c->cmd == CMD_SERVE && c->export_path == NULL)
		return "serve needs --export FILE";
	if (c->cmd != CMD_SERVE && c->export_path != NULL)
		return "--export goes with serve";
	if (c->db != NULL && c->cmd != CMD_SERVE && c->cmd != CMD_HISTORY &&
	    c->cmd != CMD_DIFF)
		return "--db goes with serve, history and diff";
	if (c->db_retention_days != 90 &&
	    (c->cmd != CMD_SERVE || c->db == NULL))
		return "--db-retention goes with serve --db";
	if (c->cmd == CMD_DIFF && c->db != NULL && c->since == NULL)
		return "diff --db needs --since WHEN";
	if (c->cmd == CMD_DIFF && c->db != NULL && c->until != NULL)
		return "diff --db compares --since WHEN with now (no --until)";
	if (c->cmd == CMD_HISTORY && c->db == NULL)
		return "history needs --db FILE";
	if (c->expect != NULL &&
	    (c->cmd == CMD_HISTORY || c->cmd == CMD_DIFF || c->mqtt != NULL) &&
	    c->cmd != CMD_SERVE)
		return "--expect goes with list, watch and serve (not --mqtt "
		       "views)";
	if ((c->until || c->n_events_wanted > 0) && c->cmd != CMD_HISTORY)
		return "--until and --event go with history";
	if (c->since && c->cmd != CMD_HISTORY &&
	    (c->cmd != CMD_DIFF || c->db == NULL))
		return "--since goes with history and diff --db";
	if (c->events && c->cmd != CMD_WATCH)
		return "--events goes with watch";
	if (c->n_http > 0 && c->cmd != CMD_SERVE)
		return "--http goes with serve";
	if ((c->http_auth || c->http_cert || c->http_key) && c->n_http == 0)
		return "--http-auth, --http-cert and --http-key go with --http";
	if ((c->http_cert == NULL) != (c->http_key == NULL))
		return "--http-cert and --http-key go together";
	if ((c->mqtt_homeassistant != NULL || c->mqtt_refresh_ms != 30000) &&
	    (c->cmd != CMD_SERVE || c->mqtt == NULL))
		return "--mqtt-refresh and --mqtt-homeassistant go with serve "
		       "--mqtt";
	if (c->cmd == CMD_SERVE && c->n_sites > 1)
		return "serve publishes one --site";
	for (i = 0; i < c->n_statuses; i++)
		if ((c->cmd == CMD_SERVE || c->mqtt == NULL) &&
		    strcmp(c->statuses[i], "unknown") == 0)
			return "--status unknown goes with list --mqtt and "
			       "watch --mqtt";
	if (c->require_auth && c->keyring == NULL)
		return "--require-auth needs --keyring FILE";
	return NULL;
}

int
probe_config_parse(int argc, char **argv, struct probe_config *c, bool *done)
{
	static char prog[32];
	const char *why;
	int rc, first;

	defaults(c);
	if ((rc = command(argc, argv, c, done)) != 1)
		return rc;
	/* getopt's messages name the command too. */
	snprintf(prog, sizeof(prog), "beacon-probe %s", c->cmd_name);
	cli.prog = prog;
	rc = cli_parse(&cli, argc - 1, argv + 1, c, &first);
	if (rc == CLI_DONE)
		*done = true;
	if (rc != 0)
		return rc == CLI_DONE ? 0 : rc;
	if (c->cmd == CMD_HISTORY && first < argc - 1)
		c->host = argv[++first]; /* one HOST; a second is unexpected */
	if (c->cmd == CMD_DIFF && c->db == NULL && first + 2 > argc - 1)
		return cli_usage(&cli,
				 "diff needs OLD.json NEW.json, or --db FILE "
				 "--since WHEN",
				 NULL);
	if (c->cmd == CMD_DIFF && c->db == NULL) {
		c->diff_old = argv[++first];
		c->diff_new = argv[++first];
	}
	if (first != argc - 1)
		return cli_usage(&cli, "unexpected argument", argv[first + 1]);
	if ((why = misplaced(c)) != NULL)
		return cli_usage(&cli, why, NULL);
	/* A broker sends its retained rows at once after the subscription:
	   1 s is plenty (agents may take 2 s to answer a query). */
	if (c->wait_ms == 0)
		c->wait_ms =
			c->mqtt != NULL && c->cmd != CMD_SERVE ? 1000 : 2000;
	if (c->mqtt != NULL && c->cmd == CMD_SERVE && c->site == NULL) {
		static char host[65];
		if (gethostname(host, sizeof(host) - 1) < 0 ||
		    !mqtt_level_valid(host))
			return cli_usage(&cli,
					 "--mqtt needs --site NAME (this "
					 "hostname is not a topic level)",
					 NULL);
		c->site = host;
	}
	return 0;
}
