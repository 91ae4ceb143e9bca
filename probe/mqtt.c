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
 * libmosquitto's own thread keeps the connection (keepalive, reconnects
 * with backoff); the probe's loop only publishes, which libmosquitto
 * allows from another thread. After a (re)connection the loop publishes
 * every row again, so a broker that lost its retained state gets it back.
 * A broker that is down never stops the probe: what could not be
 * published is counted.
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
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "keymap.h"
#include "log.h"
#include "text.h"
#include "probe.h"
#include "smallfile.h"

#define MQTT_TOPIC_MAX          512
#define MQTT_CONNECT_TIMEOUT_MS 5000
#define INHERIT_READ_MS         5000 /* reading the retained rows at start */
#define INHERIT_MAX             262144
#define MQTT_QUEUE_MAX          1000 /* messages in libmosquitto: 1-4 MB */
#define MQTT_HELD_MS            20   /* held rows: how often to try */
#define MQTT_SLOW_MS            5000 /* the queue full this long: said */

/* A message id's state (mqtt.mids): handed over and not yet done, or done
   before publish() could mark it (on_publish may run inside
   mosquitto_publish, or in the network thread before it returns). */
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
	struct mosquitto *m;
	char prefix[200];      /* --mqtt-prefix (128 at most) / site (64) */
	char site_json[400];   /* the site as a JSON string */
	char broker[300];      /* HOST:PORT, for messages */
	atomic_int connected;  /* set by libmosquitto's thread */
	atomic_int republish;  /* a (re)connection: publish everything */
	atomic_int refused;    /* CONNACK refused: why, once */
	atomic_int acked;      /* the last QoS 1 message the broker took */
	atomic_uint queued;    /* messages in libmosquitto, not yet done */
	atomic_uchar *mids;    /* 65536: each message id's MID_ state */
	atomic_int why_new;    /* a TLS failure to say */
	atomic_int lost;       /* the connection was lost: to say */
	atomic_int stopping;   /* 1: disconnecting, 2: the thread ends */
	atomic_uint backoff_s; /* the next wait before reconnecting */
	pthread_t thread;
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
	/* The previous run's rows, read by libmosquitto's thread. */
	pthread_mutex_t lock;
	char (*inherited)[MQTT_KEY_MAX];
	size_t n_inherited;
	int reading; /* 0 not yet, 1 subscribed, 2 done */
	uint64_t read_until;
	bool read_done; /* the loop's copy of reading == 2 */
	bool was_connected;
	struct mqtt_why why;
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

void
mqtt_client_id(char *out, size_t size, const char *role)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)clock_mono_ms();
	snprintf(out, size, "beacon-%s-%d-%08x", role, (int)getpid(), r);
}

int
mqtt_parse_url(const char *url, struct mqtt_url *u)
{
	const char *p, *at, *host, *colon;
	unsigned long port;
	char *end;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "mqtt://", 7) == 0) {
		p = url + 7;
		u->port = 1883;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		p = url + 8;
		u->port = 8883;
		u->tls = true;
	} else {
		return -1;
	}
	at = strrchr(p, '@');
	host = p;
	if (at != NULL) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		size_t ul = c ? (size_t)(c - p) : (size_t)(at - p);
		if (ul == 0 || ul >= sizeof(u->user))
			return -1;
		memcpy(u->user, p, ul);
		if (c != NULL) {
			size_t pl = (size_t)(at - c - 1);
			if (pl >= sizeof(u->pass))
				return -1;
			memcpy(u->pass, c + 1, pl);
			u->has_pass = true;
		}
		host = at + 1;
	}
	colon = strrchr(host, ':');
	if (colon != NULL) {
		port = strtoul(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || port == 0 ||
		    port > 65535)
			return -1;
		u->port = (int)port;
	}
	if ((colon ? (size_t)(colon - host) : strlen(host)) == 0 ||
	    (colon ? (size_t)(colon - host) : strlen(host)) >= sizeof(u->host))
		return -1;
	memcpy(u->host, host, colon ? (size_t)(colon - host) : strlen(host));
	if (strpbrk(u->host, "/?#") != NULL)
		return -1;
	return 0;
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
	atomic_uchar *st = &q->mids[mid & 0xffff];
	unsigned char v = atomic_load(st);

	for (;;) {
		if (v == MID_QOS0 || v == MID_QOS1) {
			if (atomic_compare_exchange_weak(st, &v, MID_FREE)) {
				atomic_fetch_sub(&q->queued, 1);
				return;
			}
		} else if (v == MID_FREE) {
			if (atomic_compare_exchange_weak(st, &v, MID_DONE))
				return; /* publish() has yet to mark it */
		} else {
			return;
		}
	}
}

/* A message handed over with this id: counted until it is done. */
static void
mid_handed(struct mqtt *q, int mid, int qos)
{
	unsigned char v = MID_FREE;

	if (!atomic_compare_exchange_strong(&q->mids[mid & 0xffff], &v,
					    qos == 0 ? MID_QOS0 : MID_QOS1)) {
		atomic_store(&q->mids[mid & 0xffff], MID_FREE); /* done */
		atomic_fetch_sub(&q->queued, 1);
	}
}

/* A (re)connection drops the QoS 0 packets still queued, unannounced;
   the QoS 1 messages are sent again. */
static void
forget_qos0(struct mqtt *q)
{
	unsigned char v;
	size_t i;

	for (i = 0; i < 65536; i++) {
		v = MID_QOS0;
		if (atomic_compare_exchange_strong(&q->mids[i], &v, MID_FREE))
			atomic_fetch_sub(&q->queued, 1);
	}
}

static void
on_connect(struct mosquitto *m, void *ctx, int rc)
{
	struct mqtt *q = ctx;
	char topic[MQTT_TOPIC_MAX];

	if (rc != 0) {
		atomic_store(&q->refused, rc);
		return;
	}
	atomic_store(&q->backoff_s, 1);
	forget_qos0(q);
	/* The first time: read the rows a previous run left. */
	pthread_mutex_lock(&q->lock);
	if (q->reading == 0) {
		snprintf(topic, sizeof(topic), "%s/hosts/+", q->prefix);
		if (mosquitto_subscribe(m, NULL, topic, 0) == MOSQ_ERR_SUCCESS)
			q->reading = 1;
	}
	pthread_mutex_unlock(&q->lock);
	atomic_store(&q->connected, 1);
	atomic_store(&q->republish, 1);
}

static void
on_message(struct mosquitto *m, void *ctx, const struct mosquitto_message *msg)
{
	struct mqtt *q = ctx;
	const char *key = strrchr(msg->topic, '/');

	(void)m;
	if (!msg->retain || msg->payloadlen == 0 || key == NULL ||
	    strlen(key + 1) >= MQTT_KEY_MAX)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->reading == 1 && q->n_inherited < INHERIT_MAX) {
		if (q->inherited == NULL)
			q->inherited = calloc(INHERIT_MAX, MQTT_KEY_MAX);
		if (q->inherited != NULL)
			snprintf(q->inherited[q->n_inherited++], MQTT_KEY_MAX,
				 "%s", key + 1);
	}
	pthread_mutex_unlock(&q->lock);
}

static void
on_log(struct mosquitto *m, void *ctx, int level, const char *line)
{
	struct mqtt *q = ctx;

	(void)m;
	if (mqtt_why_log(&q->why, level, line))
		atomic_store(&q->why_new, 1);
}

static void
on_disconnect(struct mosquitto *m, void *ctx, int rc)
{
	struct mqtt *q = ctx;

	(void)m;
	if (atomic_exchange(&q->connected, 0) == 1 && rc != 0 &&
	    atomic_load(&q->stopping) == 0)
		atomic_store(&q->lost, 1);
}

static void
on_publish(struct mosquitto *m, void *ctx, int mid)
{
	struct mqtt *q = ctx;

	(void)m;
	mid_done(q, mid);
	atomic_store(&q->acked, mid);
}

/*
 * The network thread: libmosquitto's loop, 0.1 s at a time. Its own
 * loop_forever gives up for good on a TLS error (a broker that died
 * mid-record, a refused handshake) and sleeps where a stop cannot wake
 * it; here every failure is retried (1 s, doubling to 30 s), connects do
 * not block (but for DNS), and a stop is seen within 0.1 s.
 */
static void *
keep_connected(void *arg)
{
	struct mqtt *q = arg;
	uint64_t retry_at = 0, tried_at = clock_mono_ms(), now;
	unsigned wait;
	int rc;

	while (atomic_load(&q->stopping) < 2) {
		rc = mosquitto_loop(q->m, 100, 1);
		now = clock_mono_ms();
		if (atomic_load(&q->stopping) == 1) { /* sending DISCONNECT */
			if (rc != MOSQ_ERR_SUCCESS)
				break;
			continue;
		}
		/* After a TLS failure libmosquitto may loop on a dead socket
		   without an error: a connection not up within its timeout
		   is a failure too. */
		if (rc == MOSQ_ERR_SUCCESS &&
		    (atomic_load(&q->connected) ||
		     now < tried_at + MQTT_CONNECT_TIMEOUT_MS))
			continue;
		if (atomic_exchange(&q->connected, 0) == 1)
			atomic_store(&q->lost, 1);
		if (now < retry_at) {
			usleep(100000);
			continue;
		}
		wait = atomic_load(&q->backoff_s);
		atomic_store(&q->backoff_s, wait < 16 ? 2 * wait : 30);
		retry_at = now + 1000 * (uint64_t)wait;
		tried_at = now;
		mosquitto_reconnect_async(q->m);
	}
	return NULL;
}

static bool
room(const struct mqtt *q)
{
	return atomic_load(&q->queued) < MQTT_QUEUE_MAX;
}

/* The message id, or 0 when it could not be queued: not connected, or
   MQTT_QUEUE_MAX messages wait already (the last word at exit may pass:
   one more). */
static int
publish(struct mqtt *q, const char *topic, const void *data, size_t len,
	int qos, bool retain)
{
	int mid = 0;

	if (!atomic_load(&q->connected) || (!room(q) && !q->last_word)) {
		q->failed++;
		return 0;
	}
	atomic_fetch_add(&q->queued, 1); /* before: on_publish may come first */
	if (mosquitto_publish(q->m, &mid, topic, (int)len, data, qos, retain) !=
	    MOSQ_ERR_SUCCESS) {
		atomic_fetch_sub(&q->queued, 1);
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
	const struct host *h;
	const struct browse_host *b;
	char topic[MQTT_TOPIC_MAX], key[MQTT_KEY_MAX], *row = NULL, *msg = NULL;
	size_t len = 0;
	uint64_t seen;
	struct pub *e;
	int n;

	if (!probe_find_row(q->p, id, &h, &b))
		return;
	seen = h != NULL ? h->last_seen_ms : b->last_seen_ms;
	mqtt_topic_id(id, key);
	e = pub_add(q, key);
	if (e == NULL)
		return;
	e->gen = q->gen;
	if (!force && !e->held && e->clear_at == 0 && e->last_seen == seen)
		return;
	if (!room(q) || !atomic_load(&q->connected)) {
		set_held(q, e, true);
		return;
	}
	if (output_one_host_text(q->p, id, now, &row, &len) <= 0)
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

	pthread_mutex_lock(&q->lock);
	if (q->reading == 1 && now >= q->read_until && q->read_until != 0) {
		char topic[MQTT_TOPIC_MAX];
		snprintf(topic, sizeof(topic), "%s/hosts/+", q->prefix);
		mosquitto_unsubscribe(q->m, NULL, topic);
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
		q->read_done = true;
		free(q->inherited);
		q->inherited = NULL;
	}
	pthread_mutex_unlock(&q->lock);
}

/* The held rows, once the queue has half drained (so not one row at a
   time); and a queue at its bound for MQTT_SLOW_MS said once, until it
   drains. */
static void
catch_up(struct mqtt *q, uint64_t now)
{
	bool full = atomic_load(&q->queued) >= MQTT_QUEUE_MAX / 2;

	if (full && q->full_since == 0)
		q->full_since = now;
	if (full && !q->said_slow && now >= q->full_since + MQTT_SLOW_MS) {
		log_warnx("MQTT broker %s is not keeping up: %u messages wait "
			  "for it; the rows' changes are held, to be published "
			  "as it catches up, and events dropped",
			  q->broker, atomic_load(&q->queued));
		q->said_slow = true;
	}
	if (!full) {
		q->full_since = 0;
		if (q->held > 0 && atomic_load(&q->connected) &&
		    now >= q->held_at)
			publish_rows(q, false, now);
		if (q->said_slow && q->held == 0) {
			log_info("MQTT broker %s: caught up", q->broker);
			q->said_slow = false;
		}
	}
	if (q->held > 0 && now >= q->held_at)
		q->held_at = now + MQTT_HELD_MS;
}

void
mqtt_event(struct mqtt *q, const char *id, const char *line)
{
	char topic[MQTT_TOPIC_MAX];

	if (q == NULL)
		return;
	publish_host(q, id, true, clock_mono_ms());
	snprintf(topic, sizeof(topic), "%s/events", q->prefix);
	publish(q, topic, line, strlen(line), 0, false);
}

uint64_t
mqtt_due(const struct mqtt *q)
{
	uint64_t due;

	if (q == NULL)
		return UINT64_MAX;
	if (atomic_load(&q->republish) || atomic_load(&q->refused) ||
	    atomic_load(&q->why_new) || atomic_load(&q->lost))
		return 0;
	due = q->next_refresh;
	if (q->held > 0 && atomic_load(&q->connected) && q->held_at < due)
		due = q->held_at;
	if (!q->read_done && q->read_until != 0 && q->read_until < due)
		due = q->read_until;
	return due;
}

void
mqtt_run(struct mqtt *q, uint64_t now)
{
	int refused;
	bool again;

	if (q == NULL)
		return;
	refused = atomic_exchange(&q->refused, 0);
	if (refused != 0)
		log_warnx("MQTT broker refused the connection: %s%s",
			  mosquitto_connack_string(refused),
			  refused == 4 || refused == 5
				  ? " (check the user and --mqtt-password-file)"
				  : "");
	/* Said again only after a connection worked in between. */
	if (atomic_exchange(&q->why_new, 0) && !q->said_why) {
		char why[400];
		if (mqtt_why_take(&q->why, why, sizeof(why)))
			log_warnx("MQTT broker %s: TLS: %s; retrying",
				  q->broker, why);
		q->said_why = true;
	}
	if (atomic_exchange(&q->lost, 0))
		log_warnx("MQTT broker %s: connection lost; retrying (1 s, "
			  "doubling to 30 s), the table kept",
			  q->broker);
	again = atomic_exchange(&q->republish, 0);
	if (again)
		q->said_why = false;
	if (again && q->was_connected)
		log_info("MQTT broker %s: connected again; republishing",
			 q->broker);
	if (again || atomic_load(&q->connected))
		q->was_connected = true;
	if (again && q->read_until == 0)
		q->read_until = now + INHERIT_READ_MS;
	take_inherited(q, now);
	if (again || now >= q->next_refresh) {
		publish_all(q, again, now);
		q->next_refresh = now + q->p->c->mqtt_refresh_ms;
	}
	catch_up(q, now);
}

bool
mqtt_why_log(struct mqtt_why *w, int level, const char *line)
{
	if ((level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) == 0 ||
	    strstr(line, "OpenSSL Error[0]") == NULL)
		return false;
	/* "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify
	   failed": its last part. */
	if (strstr(line, "::") != NULL)
		line = strstr(line, "::") + 2;
	pthread_mutex_lock(&w->lock);
	snprintf(w->text, sizeof(w->text), "%s", line);
	w->fresh = true;
	pthread_mutex_unlock(&w->lock);
	return true;
}

bool
mqtt_why_take(struct mqtt_why *w, char *out, size_t size)
{
	const char *hint = "";
	bool fresh;

	pthread_mutex_lock(&w->lock);
	fresh = w->fresh;
	w->fresh = false;
	if (strstr(w->text, "certificate verify failed") != NULL)
		hint = " (the broker's certificate is not signed by the CA "
		       "of --mqtt-cafile, or by a CA of this system without "
		       "it, or does not name HOST)";
	else if (strstr(w->text, "wrong version number") != NULL ||
		 strstr(w->text, "unexpected eof") != NULL ||
		 strstr(w->text, "packet length too long") != NULL)
		hint = " (is HOST:PORT a TLS listener? mqtts:// is for TLS, "
		       "mqtt:// for plain MQTT)";
	if (fresh)
		snprintf(out, size, "%s%s", w->text, hint);
	pthread_mutex_unlock(&w->lock);
	return fresh;
}

int
mqtt_credentials(struct mosquitto *m, const struct probe_config *c,
		 const struct mqtt_url *u)
{
	char pass[256] = "";
	int rc = 0, e;

	if (c->mqtt_password_file != NULL) {
		/* The first line; the file private, as a keyring. */
		char *text = smallfile_read(c->mqtt_password_file,
					    "--mqtt-password-file", true);
		if (text == NULL)
			return -1;
		if (strcspn(text, "\r\n") >= sizeof(pass)) {
			log_warnx("--mqtt-password-file %s: its first line is "
				  "over %zu bytes",
				  c->mqtt_password_file, sizeof(pass) - 1);
			free(text);
			return -1;
		}
		snprintf(pass, sizeof(pass), "%s", text);
		memset(text, 0, strlen(text));
		free(text);
		pass[strcspn(pass, "\r\n")] = '\0';
	} else if (u->has_pass) {
		snprintf(pass, sizeof(pass), "%s", u->pass);
	}
	if (u->user[0] != '\0' &&
	    mosquitto_username_pw_set(m, u->user, pass[0] ? pass : NULL) !=
		    MOSQ_ERR_SUCCESS)
		rc = -1;
	memset(pass, 0, sizeof(pass));
	/* Without --mqtt-cafile, the system's CAs (a broker with a public
	   certificate). */
	if (rc == 0 && u->tls && c->mqtt_cafile == NULL &&
	    (e = mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1)) !=
		    MOSQ_ERR_SUCCESS) {
		log_warnx("--mqtt %s: TLS: %s", c->mqtt, mosquitto_strerror(e));
		rc = -1;
	}
	/* libmosquitto opens it itself, blocking on a FIFO: checked first. */
	if (rc == 0 && u->tls && c->mqtt_cafile != NULL &&
	    !smallfile_check(c->mqtt_cafile, "--mqtt-cafile"))
		rc = -1;
	if (rc == 0 && u->tls && c->mqtt_cafile != NULL &&
	    (e = mosquitto_tls_set(m, c->mqtt_cafile, NULL, NULL, NULL,
				   NULL)) != MOSQ_ERR_SUCCESS) {
		log_warnx("--mqtt-cafile %s: %s", c->mqtt_cafile,
			  e == MOSQ_ERR_INVAL ? "cannot be read"
					      : mosquitto_strerror(e));
		rc = -1;
	}
	return rc;
}

struct mqtt *
mqtt_start(struct probe *p)
{
	const struct probe_config *c = p->c;
	struct mqtt *q = calloc(1, sizeof(*q));
	struct mqtt_url u;
	char id[96], host[64] = "", role[48], topic[MQTT_TOPIC_MAX];
	int rc;

	if (q == NULL || mqtt_parse_url(c->mqtt, &u) < 0) {
		log_warnx("--mqtt %s: not mqtt[s]://[USER[:PASS]@]HOST[:PORT]",
			  c->mqtt);
		free(q);
		return NULL;
	}
	q->p = p;
	q->mids = calloc(65536, sizeof(*q->mids));
	if (q->mids == NULL) {
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->why.lock, NULL);
	atomic_store(&q->backoff_s, 1);
	keymap_init(&q->pubs);
	{
		cJSON *s = cJSON_CreateString(c->site);
		char *t = s != NULL ? cJSON_PrintUnformatted(s) : NULL;
		cJSON_Delete(s);
		if (t == NULL || strlen(t) >= sizeof(q->site_json)) {
			free(t);
			free(q->mids);
			free(q);
			return NULL;
		}
		memcpy(q->site_json, t, strlen(t) + 1);
		free(t);
	}
	snprintf(q->prefix, sizeof(q->prefix), "%s/%s", c->mqtt_prefix,
		 c->site);
	mosquitto_lib_init();
	gethostname(host, sizeof(host) - 1);
	snprintf(role, sizeof(role), "probe-%.32s", host);
	mqtt_client_id(id, sizeof(id), role);
	q->m = mosquitto_new(id, true, q);
	if (q->m == NULL) {
		log_warn("mosquitto_new");
		goto fail;
	}
	mosquitto_int_option(q->m, MOSQ_OPT_PROTOCOL_VERSION,
			     MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(q->m, on_connect);
	mosquitto_disconnect_callback_set(q->m, on_disconnect);
	mosquitto_publish_callback_set(q->m, on_publish);
	mosquitto_message_callback_set(q->m, on_message);
	mosquitto_log_callback_set(q->m, on_log);
	mosquitto_reconnect_delay_set(q->m, 1, 30, true);
	snprintf(topic, sizeof(topic), "%s/probe", q->prefix);
	{
		char will[480];
		int n = snprintf(will, sizeof(will),
				 "{\"status\":\"offline\",\"site\":%s}",
				 q->site_json);
		if (mosquitto_will_set(q->m, topic, n, will, 1, true) !=
		    MOSQ_ERR_SUCCESS)
			goto fail;
	}
	if (mqtt_credentials(q->m, c, &u) < 0)
		goto fail;
	snprintf(q->broker, sizeof(q->broker), "%s:%d", u.host, u.port);
	rc = mosquitto_connect_async(q->m, u.host, u.port, c->mqtt_keepalive);
	if (rc != MOSQ_ERR_SUCCESS)
		log_warnx("MQTT broker %s:%d: %s; retrying in the background",
			  u.host, u.port,
			  rc == MOSQ_ERR_ERRNO ? strerror(errno)
					       : mosquitto_strerror(rc));
	if (pthread_create(&q->thread, NULL, keep_connected, q) != 0) {
		log_warnx("MQTT: cannot start its thread");
		goto fail;
	}
	log_info("publishing to %s:%d under %s/", u.host, u.port, q->prefix);
	return q;
fail:
	if (q->m != NULL)
		mosquitto_destroy(q->m);
	free(q->mids);
	free(q);
	return NULL;
}

void
mqtt_stop(struct mqtt *q)
{
	int i, mid;
	size_t k;

	if (q == NULL)
		return;
	/* The last word: offline, retained, taken by the broker (at most
	   0.5 s), then a clean disconnect, which drops the will. */
	if (atomic_load(&q->connected)) {
		q->last_word = true;
		mid = publish_probe(q, "offline");
		for (i = 0; i < 50 && mid != 0 && atomic_load(&q->acked) != mid;
		     i++)
			usleep(10000);
	}
	/* A clean disconnect (the thread sends it: 0.5 s at most), then
	   the thread ends. */
	atomic_store(&q->stopping, 1);
	mosquitto_disconnect(q->m);
	for (i = 0; i < 50 && atomic_load(&q->connected); i++)
		usleep(10000);
	atomic_store(&q->stopping, 2);
	pthread_join(q->thread, NULL);
	mosquitto_destroy(q->m);
	mosquitto_lib_cleanup();
	if (q->failed > 0)
		log_info("MQTT: %llu messages published, %llu could not be; "
			 "%u still unacknowledged at exit (at most %d, the "
			 "offline included)",
			 (unsigned long long)q->published,
			 (unsigned long long)q->failed, atomic_load(&q->queued),
			 MQTT_QUEUE_MAX + 1);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->why.lock);
	free(q->inherited);
	free(q->mids);
	for (k = 0; k < q->pubs.cap; k++)
		free(q->pubs.slots[k].val);
	keymap_free(&q->pubs);
	free(q);
}
