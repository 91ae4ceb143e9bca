/* SPDX-License-Identifier: MIT */
/*
 * list --mqtt URL and watch --mqtt URL: the merged view of every site
 * that publishes to the broker (serve --mqtt). Subscribes to
 * PREFIX/SITE/hosts/+ and PREFIX/SITE/probe for each --site (or every
 * site: +), and takes the retained messages as the snapshot: list prints
 * it after --wait (MQTT marks no end of it), watch keeps it live (each
 * row replaced by its next message, removed by an empty one) and redraws,
 * or with --events prints every site's events with their site. One
 * table with a SITE column, or the JSON document with "site" on each
 * host. A host of a site whose probe is offline, or whose broker's bridge
 * is down (PREFIX/SITE/bridge, mosquitto's bridge notification), is
 * "unknown" (its reason gives the site's last heartbeat). The list's
 * filters and exit status apply, and --status unknown.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "keymap.h"
#include "log.h"
#include "mqttlink.h"
#include "privdrop.h"
#include "probe.h"
#include "text.h"

/* Bounds on what a broker (anyone who may publish there) can make this
   hold. A row is at most about 4 KiB and 100 JSON values (a beacon is 424
   bytes), but parsed, a message can take 40 times its size ([0,0,...]):
   the memory of the parsed rows is what is bounded, and a row of more
   values than any host row is refused. */
#define MERGED_MAX     200000
#define MERGED_MEM_MAX (256u << 20)
#define ROW_MAX        (16 * 1024)
#define ROW_VALUES_MAX 512
#define SITES_MAX      256
#define ALLOC_OVERHEAD 16  /* malloc's, per block */
#define REDRAW_MS      200 /* watch: at most five tables a second */

struct site {
	char name[65];
	bool offline;     /* its probe said so, or its will */
	bool bridge_down; /* its broker's bridge notification said 0 */
	char heartbeat[40];
};

/* A host object with "site", and the memory it holds. */
struct row {
	cJSON *j;
	size_t mem;
};

struct merged {
	const struct probe_config *c;
	struct keymap rows; /* topic -> struct row */
	size_t mem;         /* of the parsed rows */
	bool said_full, said_sites;
	bool full, full_sites;      /* a bound was reached: rows left out */
	unsigned long long ignored; /* messages left out by the bounds */
	struct site sites[SITES_MAX];
	size_t n_sites;
	bool dirty;
	uint64_t settle_until; /* watch: the snapshot is still coming */
	struct mqtt_link link;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static struct site *
site_find(struct merged *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_sites; i++)
		if (strcmp(m->sites[i].name, name) == 0)
			return &m->sites[i];
	return NULL;
}

/* The site, added when new; NULL past SITES_MAX (said once). */
static struct site *
site_of(struct merged *m, const char *name)
{
	struct site *s = site_find(m, name);

	if (s != NULL)
		return s;
	if (m->n_sites == SITES_MAX) {
		if (!m->said_sites)
			log_warnx(
				"MQTT: over %d sites on the broker: the "
				"messages of the others left out (give --site "
				"for the sites to see)",
				SITES_MAX);
		m->said_sites = m->full_sites = true;
		m->ignored++;
		return NULL;
	}
	snprintf(m->sites[m->n_sites].name, sizeof(m->sites[0].name), "%s",
		 name);
	return &m->sites[m->n_sites++];
}

static void
drop_row(struct row *r)
{
	if (r != NULL) {
		cJSON_Delete(r->j);
		free(r);
	}
}

static void
clear_rows(struct merged *m)
{
	size_t i;

	for (i = 0; i < m->rows.cap; i++)
		drop_row(m->rows.slots[i].val);
	keymap_free(&m->rows);
	m->mem = 0;
	m->n_sites = 0;
	m->full = m->full_sites = false;
	m->ignored = 0;
}

/* PREFIX/SITE/KIND[/ID]: the site and the kind, or false. */
static bool
split(const struct merged *m, const char *topic, char site[65],
      const char **kind)
{
	size_t pl = strlen(m->c->mqtt_prefix);
	const char *s, *slash;

	if (strncmp(topic, m->c->mqtt_prefix, pl) != 0 || topic[pl] != '/')
		return false;
	s = topic + pl + 1;
	slash = strchr(s, '/');
	if (slash == NULL || (size_t)(slash - s) >= 65)
		return false;
	memcpy(site, s, (size_t)(slash - s));
	site[slash - s] = '\0';
	*kind = slash + 1;
	return true;
}

/* watch --events: a line on stdout, its site added (the topic's). */
static void
print_event(cJSON *j, const char *site)
{
	char *text;

	cJSON_DeleteItemFromObject(j, "site");
	cJSON_AddStringToObject(j, "site", site);
	text = cJSON_PrintUnformatted(j);
	if (text != NULL) {
		puts(text);
		fflush(stdout);
	}
	free(text);
}

static bool
site_down(const struct site *s)
{
	return s->offline || s->bridge_down;
}

/* watch --events: a site event when the site goes down or comes back. */
static void
site_event(struct merged *m, const struct site *s, bool was_down)
{
	cJSON *e;

	if (site_down(s) == was_down || m->c->cmd != CMD_WATCH || !m->c->events)
		return;
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "event",
				site_down(s) ? "site_offline" : "site_online");
	cJSON_AddStringToObject(e, "via", s->bridge_down ? "bridge" : "probe");
	cJSON_AddStringToObject(e, "heartbeat", s->heartbeat);
	print_event(e, s->name);
	cJSON_Delete(e);
}

/* A site's probe: online or offline. */
static void
take_probe(struct merged *m, struct site *s, const cJSON *j)
{
	const cJSON *st = cJSON_GetObjectItem(j, "status");
	const cJSON *hb = cJSON_GetObjectItem(j, "heartbeat");
	bool was = site_down(s);

	if (cJSON_IsString(hb))
		snprintf(s->heartbeat, sizeof(s->heartbeat), "%s",
			 hb->valuestring);
	s->offline =
		cJSON_IsString(st) && strcmp(st->valuestring, "offline") == 0;
	site_event(m, s, was);
	m->dirty = true;
}

/* A site behind a bridged broker: mosquitto's bridge notification ("1"
   up, "0" down, the latter its will on this broker) under
   PREFIX/SITE/bridge. */
static void
take_bridge(struct merged *m, struct site *s, const void *payload, int len)
{
	bool was = site_down(s);

	s->bridge_down = len == 1 && *(const char *)payload == '0';
	site_event(m, s, was);
	m->dirty = true;
}

/* The memory a parsed message holds: its values, keys and strings, each
   a block of malloc's; 0 past ROW_VALUES_MAX values (counted in
   *values), before walking them all. */
static size_t
json_mem(const cJSON *j, size_t *values)
{
	size_t mem = 0, sub;

	for (; j != NULL; j = j->next) {
		if (++*values > ROW_VALUES_MAX)
			return 0;
		mem += sizeof(*j) + ALLOC_OVERHEAD;
		if (j->string != NULL)
			mem += strlen(j->string) + 1 + ALLOC_OVERHEAD;
		if (j->valuestring != NULL)
			mem += strlen(j->valuestring) + 1 + ALLOC_OVERHEAD;
		if (j->child != NULL) {
			if ((sub = json_mem(j->child, values)) == 0)
				return 0;
			mem += sub;
		}
	}
	return mem;
}

/* A host's row, replacing the one of its topic, within the bounds (said
   once when they are reached). */
static void
take_row(struct merged *m, const char *topic, const char *site, cJSON *j)
{
	struct row *was = keymap_get(&m->rows, topic), *r;
	size_t values = 0, mem = json_mem(j, &values);
	int err;

	if (mem == 0) { /* not a host row: refused, whoever sent it */
		char esc[300];
		text_escape(topic, strlen(topic), esc, sizeof(esc));
		log_warnx("MQTT: %s: over %d JSON values, not a host row: "
			  "left out",
			  esc, ROW_VALUES_MAX);
		m->ignored++;
		cJSON_Delete(j);
		return;
	}
	mem += sizeof(*r) + strlen(topic) + 1 + 2 * ALLOC_OVERHEAD;
	if ((was == NULL && m->rows.n >= MERGED_MAX) ||
	    m->mem - (was ? was->mem : 0) + mem > MERGED_MEM_MAX ||
	    (r = malloc(sizeof(*r))) == NULL) {
		if (!m->said_full)
			log_warnx("MQTT: the merged table is at its bound (%d "
				  "rows, %u MiB of parsed rows): rows left out",
				  MERGED_MAX, MERGED_MEM_MAX >> 20);
		m->said_full = m->full = true;
		m->ignored++;
		cJSON_Delete(j);
		return;
	}
	/* The topic's site is the truth, whatever the row says. */
	cJSON_DeleteItemFromObject(j, "site");
	cJSON_AddStringToObject(j, "site", site);
	r->j = j;
	r->mem = mem;
	was = keymap_put(&m->rows, topic, r, &err);
	if (err != 0) {
		drop_row(r);
		return;
	}
	if (was != NULL)
		m->mem -= was->mem;
	m->mem += mem;
	drop_row(was);
	m->dirty = true;
}

static void
on_message(void *ctx, const struct mosquitto_message *msg)
{
	struct merged *m = ctx;
	char name[65];
	const char *kind;
	struct row *old;
	struct site *s;
	cJSON *j;

	if (!split(m, msg->topic, name, &kind) || msg->payloadlen > ROW_MAX)
		return;
	if (msg->payloadlen == 0) { /* the host left the site's table */
		if (strncmp(kind, "hosts/", 6) == 0 &&
		    (old = keymap_del(&m->rows, msg->topic)) != NULL) {
			m->mem -= old->mem;
			drop_row(old);
			m->dirty = true;
		}
		return;
	}
	if (strcmp(kind, "bridge") == 0) {
		if ((s = site_of(m, name)) != NULL)
			take_bridge(m, s, msg->payload, msg->payloadlen);
		return;
	}
	j = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	if (j == NULL || !cJSON_IsObject(j) || (s = site_of(m, name)) == NULL) {
		cJSON_Delete(j);
		return;
	}
	if (strcmp(kind, "probe") == 0) {
		take_probe(m, s, j);
	} else if (strcmp(kind, "events") == 0) {
		print_event(j, name);
	} else if (strncmp(kind, "hosts/", 6) == 0 &&
		   cJSON_IsString(cJSON_GetObjectItem(j, "id"))) {
		take_row(m, msg->topic, name, j);
		return;
	}
	cJSON_Delete(j);
}

static void
on_connected(void *ctx)
{
	struct merged *m = ctx;
	char topic[512];
	size_t i;

	/* A new snapshot: what was deleted meanwhile is not sent again. */
	clear_rows(m);
	m->settle_until = clock_mono_ms() + m->c->wait_ms;
	for (i = 0; i < (m->c->n_sites ? m->c->n_sites : 1); i++) {
		const char *site = m->c->n_sites ? m->c->sites[i] : "+";
		snprintf(topic, sizeof(topic), "%s/%s/%s", m->c->mqtt_prefix,
			 site, m->c->events ? "events" : "hosts/+");
		mosquitto_subscribe(m->link.m, NULL, topic, 1);
		snprintf(topic, sizeof(topic), "%s/%s/probe", m->c->mqtt_prefix,
			 site);
		mosquitto_subscribe(m->link.m, NULL, topic, 1);
		snprintf(topic, sizeof(topic), "%s/%s/bridge",
			 m->c->mqtt_prefix, site);
		mosquitto_subscribe(m->link.m, NULL, topic, 1);
	}
}

static const struct mqtt_link_ops link_ops = {on_connected, on_message, NULL};

static const char *
str_of(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(j, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The list's filters, on a row as JSON. */
static bool
wanted(const struct probe_config *c, const cJSON *h)
{
	const char *status = str_of(h, "status");
	const cJSON *tags = cJSON_GetObjectItem(h, "tags"), *conflict;
	bool any = c->n_statuses == 0;
	size_t i;

	conflict = cJSON_GetObjectItem(h, "conflict");
	for (i = 0; i < c->n_statuses; i++)
		if (strcmp(c->statuses[i], status) == 0 ||
		    (strcmp(c->statuses[i], "conflict") == 0 &&
		     cJSON_IsTrue(conflict)))
			any = true;
	if (!any ||
	    (c->n_statuses == 0 && !c->all && strcmp(status, "expired") == 0))
		return false;
	for (i = 0; i < c->n_tags; i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(tags, c->tags[i].key);
		if (!cJSON_IsString(v) ||
		    strcmp(v->valuestring, c->tags[i].value) != 0)
			return false;
	}
	return true;
}

static int
by_site_name(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a,
		    *y = *(const cJSON *const *)b;
	int c = strcmp(str_of(x, "site"), str_of(y, "site"));

	if (c == 0)
		c = strcasecmp(str_of(x, "hostname"), str_of(y, "hostname"));
	return c != 0 ? c : strcmp(str_of(x, "id"), str_of(y, "id"));
}

static void
print_table(const struct merged *m, cJSON **rows, size_t n)
{
	static const char *const head[] = {"SITE",      "HOSTNAME", "ID",
					   "ADDRESSES", "STATUS",   "TAGS"};
	size_t i, k, w[6];
	char(*cells)[6][160] = calloc(n ? n : 1, sizeof(*cells));

	if (cells == NULL)
		return;
	for (k = 0; k < 6; k++)
		w[k] = strlen(head[k]);
	for (i = 0; i < n; i++) {
		const cJSON *h = rows[i], *a, *t;
		char buf[512] = "", raw[160];
		size_t used = 0;
		const char *vals[6];
		cJSON_ArrayForEach (a, cJSON_GetObjectItem(h, "addresses"))
			if (cJSON_IsString(a) && used < sizeof(buf))
				used += (size_t)snprintf(
					buf + used, sizeof(buf) - used, "%s%s",
					used ? "," : "", a->valuestring);
		snprintf(raw, sizeof(raw), "%.8s", str_of(h, "id"));
		vals[0] = str_of(h, "site");
		vals[1] = str_of(h, "hostname");
		vals[2] = raw;
		vals[3] = buf;
		vals[4] = str_of(h, "status");
		for (k = 0; k < 5; k++)
			text_escape(vals[k], strlen(vals[k]), cells[i][k],
				    sizeof(cells[i][k]));
		buf[0] = '\0';
		used = 0;
		cJSON_ArrayForEach (t, cJSON_GetObjectItem(h, "tags"))
			if (cJSON_IsString(t) && used < sizeof(buf))
				used += (size_t)snprintf(
					buf + used, sizeof(buf) - used,
					"%s%s=%s", used ? "," : "", t->string,
					t->valuestring);
		text_escape(buf, strlen(buf), cells[i][5], sizeof(cells[i][5]));
		for (k = 0; k < 6; k++)
			if (strlen(cells[i][k]) > w[k])
				w[k] = strlen(cells[i][k]);
	}
	if (m->c->header || isatty(STDOUT_FILENO)) {
		for (k = 0; k < 5; k++)
			printf("%-*s  ", (int)w[k], head[k]);
		printf("%s\n", head[5]);
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < 5; k++)
			printf("%-*s  ", (int)w[k], cells[i][k]);
		printf("%s\n", cells[i][5]);
	}
	free(cells);
}

/* The rows shown, sorted; those of an offline site are copies marked
   unknown (the row itself keeps its status for when the site is back).
   NULL when out of memory. */
static cJSON **
view(struct merged *m, size_t *n, cJSON **copies, size_t *n_copies)
{
	cJSON **shown = calloc(m->rows.n ? m->rows.n : 1, sizeof(*shown));
	size_t i;

	*n = *n_copies = 0;
	if (shown == NULL)
		return NULL;
	for (i = 0; i < m->rows.cap; i++) {
		const struct row *row = m->rows.slots[i].val;
		cJSON *r;
		struct site *s;
		if (row == NULL)
			continue;
		r = row->j;
		s = site_find(m, str_of(r, "site"));
		if (s != NULL && site_down(s) &&
		    (r = cJSON_Duplicate(r, true)) != NULL) {
			char reason[192];
			snprintf(reason, sizeof(reason),
				 "the %s of site %s is %s (last heartbeat %s)",
				 s->offline ? "probe" : "broker's bridge",
				 s->name, s->offline ? "offline" : "down",
				 s->heartbeat[0] ? s->heartbeat : "unknown");
			/* Replaced or added: a row may lack them. */
			cJSON_DeleteItemFromObject(r, "status");
			cJSON_AddStringToObject(r, "status", "unknown");
			cJSON_DeleteItemFromObject(r, "reason");
			cJSON_AddStringToObject(r, "reason", reason);
			copies[(*n_copies)++] = r;
		}
		if (r != NULL && wanted(m->c, r))
			shown[(*n)++] = r;
	}
	qsort(shown, *n, sizeof(*shown), by_site_name);
	return shown;
}

/* What the bounds left out, in every document (the schema allows more
   keys): whether sites past SITES_MAX, or rows past the rows' bounds
   were, and how many messages. */
static void
add_left_out(const struct merged *m, cJSON *doc)
{
	cJSON *lo = cJSON_AddObjectToObject(doc, "left_out");

	cJSON_AddBoolToObject(lo, "sites", m->full_sites);
	cJSON_AddBoolToObject(lo, "rows", m->full);
	cJSON_AddNumberToObject(lo, "messages", (double)m->ignored);
	cJSON_AddNumberToObject(lo, "sites_max", SITES_MAX);
}

/* The view as a table or a JSON document: how many rows, -1 if out of
   memory. */
static long
output(struct merged *m)
{
	cJSON **copies = calloc(m->rows.n ? m->rows.n : 1, sizeof(*copies));
	cJSON **shown;
	size_t i, n = 0, n_copies = 0;

	if (copies == NULL ||
	    (shown = view(m, &n, copies, &n_copies)) == NULL) {
		free(copies);
		return -1;
	}
	if (m->c->json) {
		cJSON *doc = cJSON_CreateObject(), *hosts;
		char *text;
		cJSON_AddNumberToObject(doc, "schema_version", 1);
		cJSON_AddStringToObject(doc, "source", "mqtt");
		hosts = cJSON_AddArrayToObject(doc, "hosts");
		for (i = 0; i < n; i++) /* the rows themselves, not copies */
			cJSON_AddItemReferenceToArray(hosts, shown[i]);
		add_left_out(m, doc);
		text = cJSON_PrintUnformatted(doc);
		if (text != NULL)
			puts(text);
		free(text);
		cJSON_Delete(doc);
	} else {
		print_table(m, shown, n);
	}
	fflush(stdout);
	for (i = 0; i < n_copies; i++)
		cJSON_Delete(copies[i]);
	free(copies);
	free(shown);
	return (long)n;
}

static void
redraw(struct merged *m, bool tty, const char *broker)
{
	if (tty)
		fputs("\033[H\033[2J", stdout);
	else if (!m->c->json)
		printf("\n");
	output(m);
	if (tty)
		printf("\n%zu hosts from %zu sites; %s%s%s\n", m->rows.n,
		       m->n_sites, broker,
		       m->link.connected ? "" : " (not connected: retrying)",
		       m->full || m->full_sites ? " (at a bound: some left out)"
						: "");
	fflush(stdout);
	m->dirty = false;
}

/* Why the first try failed: refused, no CONNACK within MQTT_CONNECT_MS
   (no TCP connection, SYNs unanswered: a firewall dropping them, a host
   down; or an MQTT handshake that did not end), a TLS failure as OpenSSL
   said it, errno or libmosquitto's words. */
static void
say_failed(struct mqtt_link *l, int refused)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = mqtt_link_fd(l);
	char why[400];

	if (refused != 0)
		log_warnx("MQTT broker %s: %s%s", l->broker,
			  mosquitto_connack_string(refused),
			  refused == 4 || refused == 5
				  ? " (check the user and --mqtt-password-file)"
				  : "");
	else if (mqtt_why_take(&l->why, why, sizeof(why)))
		log_warnx("MQTT broker %s: TLS: %s", l->broker, why);
	else if (l->fail_rc == MOSQ_ERR_CONN_LOST && !l->u.tls)
		log_warnx("MQTT broker %s: it closed the connection (if that "
			  "port is a TLS listener, use mqtts://)",
			  l->broker);
	else if (l->fail_rc == MOSQ_ERR_ERRNO) {
		errno = l->fail_errno;
		log_warn("MQTT broker %s", l->broker);
	} else if (l->fail_rc != MOSQ_ERR_SUCCESS)
		log_warnx("MQTT broker %s: %s", l->broker,
			  mosquitto_strerror(l->fail_rc));
	else if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		log_warnx("MQTT broker %s: no TCP connection within %d s "
			  "(nothing answers: a firewall dropping the packets, "
			  "or the host is down)",
			  l->broker, MQTT_CONNECT_MS / 1000);
	else
		log_warnx("MQTT broker %s: connected, but no MQTT answer "
			  "within %d s (is HOST:PORT an MQTT broker?)",
			  l->broker, MQTT_CONNECT_MS / 1000);
}

/* Connected (the CONNACK) on the first try, or false having said why. */
static bool
connect_broker(struct merged *m)
{
	struct mqtt_link *l = &m->link;
	int refused = 0;

	if (mqtt_link_start(l, clock_mono_ms()) < 0)
		return false;
	while (!l->connected && l->fails == 0 && refused == 0 && !stop) {
		mqtt_link_pump(l, 100);
		refused = mqtt_link_refused(l);
	}
	if (l->connected)
		return true;
	if (!stop)
		say_failed(l, refused);
	return false;
}

/* watch --mqtt: until SIGINT or SIGTERM; the broker lost, retried with
   backoff (the table shown as it was, and said so). */
static int
watch(struct merged *m)
{
	bool tty = isatty(STDOUT_FILENO);
	uint64_t last = 0, now;
	int refused;

	while (!stop) {
		mqtt_link_pump(&m->link, 100);
		if (mqtt_link_lost(&m->link))
			log_warnx("MQTT broker %s: connection lost; retrying",
				  m->link.broker);
		if ((refused = mqtt_link_refused(&m->link)) != 0) {
			log_warnx("MQTT broker %s: %s", m->link.broker,
				  mosquitto_connack_string(refused));
			return 1;
		}
		now = clock_mono_ms();
		if (!m->c->events && m->dirty && now >= m->settle_until &&
		    now >= last + REDRAW_MS) {
			redraw(m, tty, m->link.broker);
			last = now;
		}
	}
	return 0;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
merged_list(const struct probe_config *c)
{
	struct merged m;
	long n;
	int rc = 1;

	memset(&m, 0, sizeof(m));
	m.c = c;
	keymap_init(&m.rows);
	catch_signals();
	/* The password read, nothing to bind: become --user before the
	   first connection (the CA file is read at connect, as the user). */
	if (mqtt_link_open(&m.link, c, c->cmd_name, &link_ops, &m) < 0)
		return 1;
	if (privdrop_logged(c->user, false) < 0 || !connect_broker(&m))
		goto out;
	/* The retained rows: --wait after the CONNACK. */
	while (clock_mono_ms() < m.settle_until && m.link.connected && !stop)
		mqtt_link_pump(&m.link, 50);
	if (c->cmd == CMD_WATCH) {
		m.dirty = true;
		rc = watch(&m);
		goto out;
	}
	if (!m.link.connected) {
		log_warnx("MQTT broker %s: connection lost while reading the "
			  "rows",
			  m.link.broker);
		goto out;
	}
	n = output(&m);
	/* A view the bounds cut is an error: a host "not there" may be
	   there, left out (the view is printed all the same). */
	rc = n < 0 || m.full || m.full_sites ? 1 : n > 0 ? 0 : EXIT_NONE;
out:
	clear_rows(&m);
	mqtt_link_close(&m.link, 500);
	return rc;
}

void
merged_replay(const struct probe_config *c,
	      const struct mosquitto_message *msgs, size_t n)
{
	struct merged m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.c = c;
	keymap_init(&m.rows);
	for (i = 0; i < n; i++)
		on_message(&m, &msgs[i]);
	output(&m);
	clear_rows(&m);
}
