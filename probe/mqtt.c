/* SPDX-License-Identifier: MIT */
/*
 * serve --mqtt URL: the table published to an MQTT broker (Debian's
 * libmosquitto), so that one view can merge many LANs.
 *
 *   PREFIX/SITE/hosts/ID  the host's row as in the export, plus "site";
 *                         retained, QoS 1; at once when its status or
 *                         content changes (a table event), and its
 *                         counters and last_seen at most every
 *                         --mqtt-refresh; an empty retained message once
 *                         the row has left the table
 *   PREFIX/SITE/events    the watch --events lines, QoS 0
 *   PREFIX/SITE/probe     {"status":"online","heartbeat":...} retained,
 *                         refreshed with the rows; the last will, and the
 *                         last word at a clean exit: {"status":"offline"}
 *
 * The connection is the probe loop's, as the HTTP server is (mqttlink.c:
 * no thread; keepalive and reconnects with backoff). After a
 * (re)connection the loop publishes every row again, so a broker that
 * lost its retained state gets it back. A broker that is down never stops
 * the probe: what could not be published is counted.
 *
 * What was published is kept by topic (struct pub): a refresh skips the
 * rows not heard since, and a row gone from the table is cleared.
 *
 * libmosquitto keeps every message it is handed until it is written
 * (QoS 0) or acknowledged (QoS 1), without a bound: a broker that
 * accepts the connection and stops reading would make the probe grow for
 * ever. So at most MQTT_QUEUE_MAX messages are handed over and not yet
 * done (on_publish says which, by message id); past it, a row's change
 * is held (its pub marked) and published when the queue has drained, the
 * row as it is then; events are dropped. At
 * start the probe also reads its site's retained rows, left by its
 * previous run: those whose host is not back in the table within two
 * refreshes (60 s by default; agents answer the probe's query within a
 * second, Windows within 30 s) are cleared, so a merged view keeps no
 * ghosts.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "keymap.h"
#include "log.h"
#include "mqttlink.h"
#include "text.h"
#include "probe.h"
#include "render.h"

#define MQTT_TOPIC_MAX  512
#define INHERIT_READ_MS 5000 /* reading the retained rows at start */
#define INHERIT_MAX     262144
#define MQTT_QUEUE_MAX  1000 /* messages in libmosquitto: 1-4 MB */
#define MQTT_HELD_MS    20   /* held rows: how often to try */
#define MQTT_SLOW_MS    5000 /* the queue full this long: said */
#define LAST_WORD_MS    500  /* the offline at exit: its acknowledgement */

/* A message id's state (mqtt.mids): handed over and not yet done, or done
   before publish() could mark it (on_publish may run inside
   mosquitto_publish). */
enum { MID_FREE, MID_QOS0, MID_QOS1, MID_DONE };

/* A row as published, by its topic level. */
struct pub {
	uint64_t last_seen; /* the row's, when published */
	uint64_t clear_at;  /* a previous run's: clear then; 0: ours */
	uint32_t gen;       /* the last refresh that saw it */
	bool ha;            /* its Home Assistant config is out */
	bool held;          /* a change not handed over: the queue was full */
};

struct mqtt {
	struct probe *p;
	struct mqtt_link link;
	char prefix[200];    /* --mqtt-prefix (128 at most) / site (64) */
	char site_json[400]; /* the site as a JSON string */
	bool republish;      /* a (re)connection: publish everything */
	int acked;           /* the last message done */
	unsigned queued;     /* messages in libmosquitto, not yet done */
	unsigned char *mids; /* 65536: each message id's MID_ state */
	uint64_t next_refresh;
	uint64_t published, failed, cleared;
	bool said_why;
	size_t held;         /* pubs held */
	uint64_t held_at;    /* the next try at them */
	uint64_t full_since; /* the queue at its bound since; 0: it is not */
	bool said_slow;
	bool last_word; /* the offline at exit: past the bound too */
	/* What is out there. */
	struct keymap pubs; /* topic level -> struct pub */
	uint32_t gen;
	/* The previous run's rows, read at start. */
	char (*inherited)[MQTT_KEY_MAX];
	size_t n_inherited;
	int reading; /* 0 not yet, 1 subscribed, 2 done */
	uint64_t read_until;
	bool was_connected;
};

/* s into out (size bytes), one to one: the bytes other than A-Z a-z 0-9
   and those of keep as mark and two digits of hex (its case theirs). */
static void
escape_name(const char *s, const char *keep, char mark, const char *hex,
	    char *out, size_t size)
{
	size_t o = 0;

	for (; *s != '\0' && o + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr(keep, ch) != NULL) {
			out[o++] = (char)ch;
		} else {
			out[o++] = mark;
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

void
mqtt_topic_id(const char *id, char out[MQTT_KEY_MAX])
{
	escape_name(id, "._-", '%', "0123456789ABCDEF", out, MQTT_KEY_MAX);
}

static struct pub *
pub_add(struct mqtt *q, const char *key)
{
	struct pub *e = keymap_get(&q->pubs, key);
	int err;

	if (e != NULL)
		return e;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	keymap_put(&q->pubs, key, e, &err);
	if (err < 0) {
		free(e);
		return NULL;
	}
	return e;
}

/* A topic level: not empty, no '/', '+', '#' (they would move the topic
   or make it a filter), no NUL or control character. */
bool
mqtt_level_valid(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 64)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '/' || s[i] == '+' || s[i] == '#' ||
		    (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A message done: written (QoS 0) or acknowledged (QoS 1). */
static void
mid_done(struct mqtt *q, int mid)
{
	unsigned char *st = &q->mids[mid & 0xffff];

	if (*st == MID_QOS0 || *st == MID_QOS1) {
		*st = MID_FREE;
		q->queued--;
	} else if (*st == MID_FREE) {
		*st = MID_DONE; /* publish() has yet to mark it */
	}
}

/* A message handed over with this id: counted until it is done. */
static void
mid_handed(struct mqtt *q, int mid, int qos)
{
	unsigned char *st = &q->mids[mid & 0xffff];

	if (*st == MID_DONE) {
		*st = MID_FREE;
		q->queued--;
	} else {
		*st = qos == 0 ? MID_QOS0 : MID_QOS1;
	}
}

/* A (re)connection drops the QoS 0 packets still queued, unannounced;
   the QoS 1 messages are sent again. */
static void
forget_qos0(struct mqtt *q)
{
	size_t i;

	for (i = 0; i < 65536; i++)
		if (q->mids[i] == MID_QOS0) {
			q->mids[i] = MID_FREE;
			q->queued--;
		}
}

static void
on_connected(void *ctx)
{
	struct mqtt *q = ctx;
	char topic[MQTT_TOPIC_MAX];

	forget_qos0(q);
	/* The first time: read the rows a previous run left. */
	if (q->reading == 0) {
		snprintf(topic, sizeof(topic), "%s/hosts/+", q->prefix);
		if (mosquitto_subscribe(q->link.m, NULL, topic, 0) ==
		    MOSQ_ERR_SUCCESS)
			q->reading = 1;
	}
	q->republish = true;
}

static void
on_message(void *ctx, const struct mosquitto_message *msg)
{
	struct mqtt *q = ctx;
	const char *key = strrchr(msg->topic, '/');

	if (!msg->retain || msg->payloadlen == 0 || key == NULL ||
	    strlen(key + 1) >= MQTT_KEY_MAX || q->reading != 1 ||
	    q->n_inherited >= INHERIT_MAX)
		return;
	if (q->inherited == NULL)
		q->inherited = calloc(INHERIT_MAX, MQTT_KEY_MAX);
	if (q->inherited != NULL)
		snprintf(q->inherited[q->n_inherited++], MQTT_KEY_MAX, "%s",
			 key + 1);
}

static void
on_published(void *ctx, int mid)
{
	struct mqtt *q = ctx;

	mid_done(q, mid);
	q->acked = mid;
}

static const struct mqtt_link_ops link_ops = {on_connected, on_message,
					      on_published};

static bool
room(const struct mqtt *q)
{
	return q->queued < MQTT_QUEUE_MAX;
}

/* The message id, or 0 when it could not be queued: not connected, or
   MQTT_QUEUE_MAX messages wait already (the last word at exit may pass:
   one more). */
static int
publish(struct mqtt *q, const char *topic, const void *data, size_t len,
	int qos, bool retain)
{
	int mid = 0;

	if (!q->link.connected || (!room(q) && !q->last_word)) {
		q->failed++;
		return 0;
	}
	q->queued++; /* before: on_publish may come first */
	if (mosquitto_publish(q->link.m, &mid, topic, (int)len, data, qos,
			      retain) != MOSQ_ERR_SUCCESS) {
		q->queued--;
		q->failed++;
		return 0;
	}
	mid_handed(q, mid, qos);
	q->published++;
	return mid;
}

static void
set_held(struct mqtt *q, struct pub *e, bool held)
{
	if (e->held != held)
		q->held = held ? q->held + 1 : q->held - 1;
	e->held = held;
}

/* A name as [A-Za-z0-9-] (Home Assistant's ids), one to one: any other
   byte as _xx. */
static void
ha_name(const char *s, char *out, size_t size)
{
	escape_name(s, "-", '_', "0123456789abcdef", out, size);
}

/* Home Assistant discovery: the host as a device_tracker whose state is
   its row's status (home while alive), its attributes the row, available
   while the site's probe is online. hostname NULL: remove it. */
static bool
publish_ha(struct mqtt *q, const char *key, const char *hostname)
{
	const struct probe_config *c = q->p->c;
	char topic[1024], node[200], obj[3 * MQTT_KEY_MAX + 8],
		uid[sizeof(node) + sizeof(obj) + 8], rows[MQTT_TOPIC_MAX],
		probe[MQTT_TOPIC_MAX];
	cJSON *j, *dev;
	char *text;
	bool ok;

	ha_name(c->site, node, sizeof(node));
	ha_name(key, obj, sizeof(obj));
	snprintf(topic, sizeof(topic), "%s/device_tracker/beacon_%s/%s/config",
		 c->mqtt_homeassistant, node, obj);
	if (hostname == NULL)
		return publish(q, topic, "", 0, 1, true) != 0;
	snprintf(uid, sizeof(uid), "beacon_%s_%s", node, obj);
	snprintf(rows, sizeof(rows), "%s/hosts/%s", q->prefix, key);
	snprintf(probe, sizeof(probe), "%s/probe", q->prefix);
	j = cJSON_CreateObject();
	cJSON_AddNullToObject(j, "name"); /* the device's name */
	cJSON_AddStringToObject(j, "unique_id", uid);
	cJSON_AddStringToObject(j, "object_id", uid);
	cJSON_AddStringToObject(j, "state_topic", rows);
	cJSON_AddStringToObject(
		j, "value_template",
		"{{ 'home' if value_json.status == 'alive' else 'not_home' }}");
	cJSON_AddStringToObject(j, "json_attributes_topic", rows);
	cJSON_AddStringToObject(j, "source_type", "router");
	cJSON_AddStringToObject(j, "availability_topic", probe);
	cJSON_AddStringToObject(j, "availability_template",
				"{{ value_json.status }}");
	cJSON_AddStringToObject(j, "payload_available", "online");
	cJSON_AddStringToObject(j, "payload_not_available", "offline");
	dev = cJSON_AddObjectToObject(j, "device");
	cJSON_AddItemToObject(
		dev, "identifiers",
		cJSON_CreateStringArray((const char *[]){uid}, 1));
	cJSON_AddStringToObject(dev, "name", hostname);
	cJSON_AddStringToObject(dev, "suggested_area", c->site);
	cJSON_AddStringToObject(dev, "model", "beacon host");
	text = cJSON_PrintUnformatted(j);
	ok = text != NULL && publish(q, topic, text, strlen(text), 1, true);
	free(text);
	cJSON_Delete(j);
	return ok;
}

/* A host's row with "site" first, retained under hosts/ID: always when
   force (a change), else only when it was heard since it was published
   (the refresh) or a change of it is held. Held, not formatted, while
   the queue is full. */
static void
publish_host(struct mqtt *q, const char *id, bool force, uint64_t now)
{
	struct probe_view v = probe_view(q->p);
	const struct host *h;
	const struct browse_host *b;
	char topic[MQTT_TOPIC_MAX], key[MQTT_KEY_MAX], *row = NULL, *msg = NULL;
	size_t len = 0;
	uint64_t seen;
	struct pub *e;
	int n;

	if (!output_find_row(&v, id, &h, &b))
		return;
	seen = h != NULL ? h->last_seen_ms : b->last_seen_ms;
	mqtt_topic_id(id, key);
	e = pub_add(q, key);
	if (e == NULL)
		return;
	e->gen = q->gen;
	if (!force && !e->held && e->clear_at == 0 && e->last_seen == seen)
		return;
	if (!room(q) || !q->link.connected) {
		set_held(q, e, true);
		return;
	}
	if (output_one_host_text(&v, id, now, &row, &len) <= 0)
		return;
	if (len < 2) {
		free(row);
		return;
	}
	while (len > 0 && row[len - 1] == '\n')
		row[--len] = '\0';
	n = asprintf(&msg, "{\"site\":%s,%s", q->site_json, row + 1);
	snprintf(topic, sizeof(topic), "%s/hosts/%s", q->prefix, key);
	if (n > 0 && publish(q, topic, msg, (size_t)n, 1, true) != 0) {
		e->last_seen = seen;
		e->clear_at = 0;
		set_held(q, e, false);
		if (q->p->c->mqtt_homeassistant != NULL && (!e->ha || force))
			e->ha = publish_ha(q, key,
					   h != NULL ? h->hostname : b->name);
	} else {
		set_held(q, e, true);
	}
	free(row);
	free(msg);
}

/* A row gone from the table (or a previous run's whose host did not come
   back): an empty retained message clears it. */
static bool
clear_row(struct mqtt *q, const char *key)
{
	char topic[MQTT_TOPIC_MAX];

	if (q->p->c->mqtt_homeassistant != NULL)
		publish_ha(q, key, NULL);
	snprintf(topic, sizeof(topic), "%s/hosts/%s", q->prefix, key);
	if (publish(q, topic, "", 0, 1, true) == 0)
		return false;
	q->cleared++;
	return true;
}

/* The probe's state: online (with its counters and settings) or offline
   (the last word; the will says only that). */
static int
publish_probe(struct mqtt *q, const char *status)
{
	const struct probe_config *c = q->p->c;
	char topic[MQTT_TOPIC_MAX], when[TEXT_RFC3339_LEN + 1];
	struct timespec ts;
	cJSON *j = cJSON_CreateObject(), *set;
	char *text;
	int mid = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	text_rfc3339((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when);
	cJSON_AddStringToObject(j, "status", status);
	cJSON_AddStringToObject(j, "site", c->site);
	cJSON_AddStringToObject(j, "heartbeat", when);
	cJSON_AddStringToObject(j, "version", BEACON_VERSION);
	cJSON_AddNumberToObject(j, "hosts", (double)hosttab_count(q->p->tab));
	cJSON_AddNumberToObject(j, "beacons", (double)q->p->st.beacons);
	cJSON_AddNumberToObject(j, "published", (double)q->published);
	cJSON_AddNumberToObject(j, "unpublished", (double)q->failed);
	set = cJSON_AddObjectToObject(j, "settings");
	cJSON_AddNumberToObject(set, "refresh_ms", c->mqtt_refresh_ms);
	cJSON_AddNumberToObject(set, "port", c->port);
	cJSON_AddStringToObject(set, "workgroup",
				c->workgroup ? c->workgroup
					     : MAILSLOT_WORKGROUP);
	cJSON_AddBoolToObject(set, "browse", c->browse);
	cJSON_AddBoolToObject(set, "keyring", c->keyring != NULL);
	cJSON_AddBoolToObject(set, "require_auth", c->require_auth);
	cJSON_AddNumberToObject(set, "max_hosts", (double)c->max_hosts);
	cJSON_AddBoolToObject(set, "homeassistant",
			      c->mqtt_homeassistant != NULL);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (text == NULL)
		return 0;
	snprintf(topic, sizeof(topic), "%s/probe", q->prefix);
	mid = publish(q, topic, text, strlen(text), 1, true);
	free(text);
	return mid;
}

/* The table's rows: every one (force), or those heard since or held. */
static void
publish_rows(struct mqtt *q, bool force, uint64_t now)
{
	size_t i, n = hosttab_count(q->p->tab);

	for (i = 0; i < n; i++)
		publish_host(q, hosttab_at(q->p->tab, i)->id, force, now);
	n = q->p->browse != NULL ? browse_tab_count(q->p->browse) : 0;
	for (i = 0; i < n; i++) {
		char id[BROWSE_NAME_MAX + 9];
		snprintf(id, sizeof(id), "netbios:%s",
			 browse_tab_at(q->p->browse, i)->name);
		publish_host(q, id, force, now);
	}
}

/* Every row (force: a reconnection) or those heard since (the refresh),
   then the rows no longer in the table are cleared. */
static void
publish_all(struct mqtt *q, bool force, uint64_t now)
{
	size_t i, k = 0;
	char(*gone)[MQTT_KEY_MAX];

	q->gen++;
	publish_probe(q, "online");
	publish_rows(q, force, now);
	gone = calloc(q->pubs.n ? q->pubs.n : 1, MQTT_KEY_MAX);
	if (gone == NULL)
		return;
	for (i = 0; i < q->pubs.cap; i++) {
		const struct pub *e = q->pubs.slots[i].val;
		if (e != NULL && e->gen != q->gen &&
		    (e->clear_at == 0 || now >= e->clear_at))
			snprintf(gone[k++], MQTT_KEY_MAX, "%s",
				 q->pubs.slots[i].key);
	}
	for (i = 0; i < k; i++)
		if (clear_row(q, gone[i])) {
			struct pub *e = keymap_del(&q->pubs, gone[i]);
			set_held(q, e, false);
			free(e);
		}
	free(gone);
}

/* The previous run's rows read so far: cleared after the grace unless
   their host is back by then. */
static void
take_inherited(struct mqtt *q, uint64_t now)
{
	size_t i;

	if (q->reading == 1 && now >= q->read_until && q->read_until != 0) {
		char topic[MQTT_TOPIC_MAX];
		snprintf(topic, sizeof(topic), "%s/hosts/+", q->prefix);
		mosquitto_unsubscribe(q->link.m, NULL, topic);
		q->reading = 2;
	}
	for (i = 0; i < q->n_inherited; i++)
		if (keymap_get(&q->pubs, q->inherited[i]) == NULL) {
			struct pub *e = pub_add(q, q->inherited[i]);
			if (e != NULL)
				e->clear_at =
					now +
					2 * (uint64_t)q->p->c->mqtt_refresh_ms;
		}
	q->n_inherited = 0;
	if (q->reading == 2) {
		free(q->inherited);
		q->inherited = NULL;
	}
}

/* The held rows, once the queue has half drained (so not one row at a
   time); and a queue at its bound for MQTT_SLOW_MS said once, until it
   drains. */
static void
catch_up(struct mqtt *q, uint64_t now)
{
	bool full = q->queued >= MQTT_QUEUE_MAX / 2;

	if (full && q->full_since == 0)
		q->full_since = now;
	if (full && !q->said_slow && now >= q->full_since + MQTT_SLOW_MS) {
		log_warnx("MQTT broker %s is not keeping up: %u messages wait "
			  "for it; the rows' changes are held, to be published "
			  "as it catches up, and events dropped",
			  q->link.broker, q->queued);
		q->said_slow = true;
	}
	if (!full) {
		q->full_since = 0;
		if (q->held > 0 && q->link.connected && now >= q->held_at)
			publish_rows(q, false, now);
		if (q->said_slow && q->held == 0) {
			log_info("MQTT broker %s: caught up", q->link.broker);
			q->said_slow = false;
		}
	}
	if (q->held > 0 && now >= q->held_at)
		q->held_at = now + MQTT_HELD_MS;
}

void
mqtt_event(struct mqtt *q, const char *id, const char *line, uint64_t now)
{
	char topic[MQTT_TOPIC_MAX];

	if (q == NULL)
		return;
	publish_host(q, id, true, now);
	snprintf(topic, sizeof(topic), "%s/events", q->prefix);
	publish(q, topic, line, strlen(line), 0, false);
}

int
mqtt_fd(struct mqtt *q, short *events)
{
	if (q == NULL || mqtt_link_fd(&q->link) < 0)
		return -1;
	*events = mqtt_link_events(&q->link);
	return mqtt_link_fd(&q->link);
}

uint64_t
mqtt_due(const struct mqtt *q)
{
	uint64_t due;

	if (q == NULL)
		return UINT64_MAX;
	if (q->republish || q->link.refused || q->link.why.fresh ||
	    q->link.lost)
		return 0;
	due = mqtt_link_due(&q->link);
	if (q->next_refresh < due)
		due = q->next_refresh;
	if (q->held > 0 && q->link.connected && q->held_at < due)
		due = q->held_at;
	if (q->reading != 2 && q->read_until != 0 && q->read_until < due)
		due = q->read_until;
	return due;
}

/* What the connection has to say: a refusal, a TLS failure (said again
   only after a connection worked in between), a loss, a reconnection. */
static bool
say_link(struct mqtt *q)
{
	struct mqtt_link *l = &q->link;
	int refused = mqtt_link_refused(l);
	char why[400];
	bool again;

	if (refused != 0)
		log_warnx("MQTT broker refused the connection: %s%s",
			  mosquitto_connack_string(refused),
			  refused == 4 || refused == 5
				  ? " (check the user and --mqtt-password-file)"
				  : "");
	if (mqtt_why_take(&l->why, why, sizeof(why)) && !q->said_why) {
		log_warnx("MQTT broker %s: TLS: %s; retrying", l->broker, why);
		q->said_why = true;
	}
	if (mqtt_link_lost(l))
		log_warnx("MQTT broker %s: connection lost; retrying (1 s, "
			  "doubling to 30 s), the table kept",
			  l->broker);
	again = q->republish;
	q->republish = false;
	if (again)
		q->said_why = false;
	if (again && q->was_connected)
		log_info("MQTT broker %s: connected again; republishing",
			 l->broker);
	if (again || l->connected)
		q->was_connected = true;
	return again;
}

void
mqtt_run(struct mqtt *q, short revents, uint64_t now)
{
	bool again;

	if (q == NULL)
		return;
	mqtt_link_run(&q->link, revents, now);
	again = say_link(q);
	if (again && q->read_until == 0)
		q->read_until = now + INHERIT_READ_MS;
	take_inherited(q, now);
	if (again || now >= q->next_refresh) {
		publish_all(q, again, now);
		q->next_refresh = now + q->p->c->mqtt_refresh_ms;
	}
	catch_up(q, now);
}

/* The site as a JSON string, for the rows and the probe's state. */
static int
set_site(struct mqtt *q, const struct probe_config *c)
{
	cJSON *s = cJSON_CreateString(c->site);
	char *t = s != NULL ? cJSON_PrintUnformatted(s) : NULL;

	cJSON_Delete(s);
	if (t == NULL || strlen(t) >= sizeof(q->site_json)) {
		free(t);
		return -1;
	}
	memcpy(q->site_json, t, strlen(t) + 1);
	free(t);
	snprintf(q->prefix, sizeof(q->prefix), "%s/%s", c->mqtt_prefix,
		 c->site);
	return 0;
}

/* The last will: offline, retained. */
static int
set_will(struct mqtt *q)
{
	char topic[MQTT_TOPIC_MAX], will[480];
	int n = snprintf(will, sizeof(will),
			 "{\"status\":\"offline\",\"site\":%s}", q->site_json);

	snprintf(topic, sizeof(topic), "%s/probe", q->prefix);
	return mosquitto_will_set(q->link.m, topic, n, will, 1, true) ==
			       MOSQ_ERR_SUCCESS
		       ? 0
		       : -1;
}

struct mqtt *
mqtt_open(struct probe *p)
{
	struct mqtt *q = calloc(1, sizeof(*q));
	char host[64] = "", role[48];

	if (q == NULL || (q->mids = calloc(65536, sizeof(*q->mids))) == NULL ||
	    set_site(q, p->c) < 0) {
		log_warnx("MQTT: out of memory");
		goto fail;
	}
	q->p = p;
	keymap_init(&q->pubs);
	gethostname(host, sizeof(host) - 1);
	snprintf(role, sizeof(role), "probe-%.32s", host);
	if (mqtt_link_open(&q->link, p->c, role, &link_ops, q) < 0)
		goto fail;
	if (set_will(q) < 0) {
		log_warnx("MQTT: cannot set the last will");
		mqtt_link_close(&q->link, 0);
		goto fail;
	}
	return q;
fail:
	if (q != NULL)
		free(q->mids);
	free(q);
	return NULL;
}

int
mqtt_connect(struct mqtt *q)
{
	struct mqtt_link *l;

	if (q == NULL)
		return 0;
	l = &q->link;
	if (mqtt_link_start(l, clock_mono_ms()) < 0)
		return -1;
	if (l->fails > 0) {
		errno = l->fail_errno;
		log_warnx("MQTT broker %s: %s; retrying in the background",
			  l->broker,
			  l->fail_rc == MOSQ_ERR_ERRNO
				  ? strerror(errno)
				  : mosquitto_strerror(l->fail_rc));
	}
	log_info("publishing to %s under %s/", l->broker, q->prefix);
	return 0;
}

void
mqtt_stop(struct mqtt *q)
{
	uint64_t end;
	size_t k;
	int mid;

	if (q == NULL)
		return;
	/* The last word: offline, retained, taken by the broker (at most
	   LAST_WORD_MS), then a clean disconnect, which drops the will. */
	if (q->link.connected) {
		q->last_word = true;
		mid = publish_probe(q, "offline");
		end = clock_mono_ms() + LAST_WORD_MS;
		while (mid != 0 && q->acked != mid && q->link.connected &&
		       clock_mono_ms() < end)
			mqtt_link_pump(&q->link, (int)(end - clock_mono_ms()));
	}
	mqtt_link_close(&q->link, LAST_WORD_MS);
	if (q->failed > 0)
		log_info("MQTT: %llu messages published, %llu could not be; "
			 "%u still unacknowledged at exit (at most %d, the "
			 "offline included)",
			 (unsigned long long)q->published,
			 (unsigned long long)q->failed, q->queued,
			 MQTT_QUEUE_MAX + 1);
	free(q->inherited);
	free(q->mids);
	for (k = 0; k < q->pubs.cap; k++)
		free(q->pubs.slots[k].val);
	keymap_free(&q->pubs);
	free(q);
}
