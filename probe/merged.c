/* SPDX-License-Identifier: MIT */
/*
 * list --mqtt URL: the merged view of every site that publishes to the
 * broker (serve --mqtt). Subscribes to PREFIX/SITE/hosts/+ and
 * PREFIX/SITE/probe for each --site (or every site: +), takes the
 * retained messages for --wait (MQTT marks no end of them), and prints
 * one table with a SITE column, or the JSON document with "site" on each
 * host. A host of a site whose probe is offline is "unknown" (its reason
 * gives the site's last heartbeat). The list's filters and exit status
 * apply, and --status unknown.
 */
#include <cjson/cJSON.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "probe.h"
#include "text.h"

#define MERGED_MAX 200000

struct site {
	char name[65];
	bool offline;
	char heartbeat[40];
};

struct merged {
	const struct probe_config *c;
	cJSON **rows; /* each a host object with "site" */
	size_t n, cap;
	struct site sites[256];
	size_t n_sites;
	bool connected, refused;
	int refused_rc;
	uint64_t messages;
};

static struct site *
site_of(struct merged *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_sites; i++)
		if (strcmp(m->sites[i].name, name) == 0)
			return &m->sites[i];
	if (m->n_sites == sizeof(m->sites) / sizeof(m->sites[0]))
		return NULL;
	snprintf(m->sites[m->n_sites].name, sizeof(m->sites[0].name), "%s",
		 name);
	return &m->sites[m->n_sites++];
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

static void
on_message(struct mosquitto *mq, void *ctx, const struct mosquitto_message *msg)
{
	struct merged *m = ctx;
	char name[65];
	const char *kind;
	cJSON *j, *site;
	struct site *s;

	(void)mq;
	m->messages++;
	if (!split(m, msg->topic, name, &kind) || msg->payloadlen <= 0 ||
	    msg->payloadlen > 64 * 1024)
		return; /* an empty retained row: the host left the table */
	j = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	if (j == NULL || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return;
	}
	s = site_of(m, name);
	if (strcmp(kind, "probe") == 0) {
		const cJSON *st = cJSON_GetObjectItem(j, "status");
		const cJSON *hb = cJSON_GetObjectItem(j, "heartbeat");
		if (s != NULL) {
			s->offline = cJSON_IsString(st) &&
				     strcmp(st->valuestring, "offline") == 0;
			if (cJSON_IsString(hb))
				snprintf(s->heartbeat, sizeof(s->heartbeat),
					 "%s", hb->valuestring);
		}
		cJSON_Delete(j);
		return;
	}
	if (strncmp(kind, "hosts/", 6) != 0 || m->n == MERGED_MAX ||
	    !cJSON_IsString(cJSON_GetObjectItem(j, "id"))) {
		cJSON_Delete(j);
		return;
	}
	/* The topic's site is the truth, whatever the row says. */
	site = cJSON_GetObjectItem(j, "site");
	if (site != NULL)
		cJSON_DeleteItemFromObject(j, "site");
	cJSON_AddStringToObject(j, "site", name);
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;
		cJSON **r = realloc(m->rows, cap * sizeof(*r));
		if (r == NULL) {
			cJSON_Delete(j);
			return;
		}
		m->rows = r;
		m->cap = cap;
	}
	m->rows[m->n++] = j;
}

static void
on_connect(struct mosquitto *mq, void *ctx, int rc)
{
	struct merged *m = ctx;
	char topic[512];
	size_t i;

	if (rc != 0) {
		m->refused = true;
		m->refused_rc = rc;
		return;
	}
	m->connected = true;
	for (i = 0; i < (m->c->n_sites ? m->c->n_sites : 1); i++) {
		const char *site = m->c->n_sites ? m->c->sites[i] : "+";
		snprintf(topic, sizeof(topic), "%s/%s/hosts/+",
			 m->c->mqtt_prefix, site);
		mosquitto_subscribe(mq, NULL, topic, 1);
		snprintf(topic, sizeof(topic), "%s/%s/probe", m->c->mqtt_prefix,
			 site);
		mosquitto_subscribe(mq, NULL, topic, 1);
	}
}

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

int
merged_list(const struct probe_config *c)
{
	struct merged m;
	struct mosquitto *mq;
	struct mqtt_url u;
	char id[96];
	cJSON **shown;
	uint32_t r;
	uint64_t end;
	size_t i, n = 0;
	int rc = 1;

	memset(&m, 0, sizeof(m));
	m.c = c;
	if (mqtt_parse_url(c->mqtt, &u) < 0)
		return 1;
	mosquitto_lib_init();
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)clock_mono_ms();
	snprintf(id, sizeof(id), "beacon-list-%d-%08x", (int)getpid(), r);
	mq = mosquitto_new(id, true, &m);
	if (mq == NULL)
		goto out;
	mosquitto_connect_callback_set(mq, on_connect);
	mosquitto_message_callback_set(mq, on_message);
	if (mqtt_credentials(mq, c, &u) < 0)
		goto out;
	if (mosquitto_connect(mq, u.host, u.port, c->mqtt_keepalive) !=
	    MOSQ_ERR_SUCCESS) {
		log_warn("MQTT broker %s:%d", u.host, u.port);
		goto out;
	}
	end = clock_mono_ms() + c->wait_ms;
	while (clock_mono_ms() < end && !m.refused)
		if (mosquitto_loop(mq, 50, 1) != MOSQ_ERR_SUCCESS)
			break;
	if (m.refused || !m.connected) {
		log_warnx("MQTT broker %s:%d: %s", u.host, u.port,
			  m.refused ? mosquitto_connack_string(m.refused_rc)
				    : "no answer");
		goto out;
	}
	/* A site whose probe is offline: its rows are unknown. */
	for (i = 0; i < m.n; i++) {
		struct site *s = site_of(&m, str_of(m.rows[i], "site"));
		char reason[192];
		if (s == NULL || !s->offline)
			continue;
		snprintf(reason, sizeof(reason),
			 "the probe of site %s is offline (last heartbeat %s)",
			 s->name, s->heartbeat[0] ? s->heartbeat : "unknown");
		cJSON_ReplaceItemInObject(m.rows[i], "status",
					  cJSON_CreateString("unknown"));
		cJSON_ReplaceItemInObject(m.rows[i], "reason",
					  cJSON_CreateString(reason));
	}
	shown = calloc(m.n ? m.n : 1, sizeof(*shown));
	if (shown == NULL)
		goto out;
	for (i = 0; i < m.n; i++)
		if (wanted(c, m.rows[i]))
			shown[n++] = m.rows[i];
	qsort(shown, n, sizeof(*shown), by_site_name);
	if (c->json) {
		cJSON *doc = cJSON_CreateObject(), *hosts;
		char *text;
		cJSON_AddNumberToObject(doc, "schema_version", 1);
		cJSON_AddStringToObject(doc, "source", "mqtt");
		hosts = cJSON_AddArrayToObject(doc, "hosts");
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(hosts,
					     cJSON_Duplicate(shown[i], true));
		text = cJSON_PrintUnformatted(doc);
		if (text != NULL)
			puts(text);
		free(text);
		cJSON_Delete(doc);
	} else {
		print_table(&m, shown, n);
	}
	free(shown);
	rc = n > 0 ? 0 : EXIT_NONE;
out:
	for (i = 0; i < m.n; i++)
		cJSON_Delete(m.rows[i]);
	free(m.rows);
	if (mq != NULL) {
		mosquitto_disconnect(mq);
		mosquitto_destroy(mq);
	}
	mosquitto_lib_cleanup();
	return rc;
}
