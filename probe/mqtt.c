/* SPDX-License-Identifier: MIT */
/*
 * serve --mqtt URL: the table published to an MQTT broker (Debian's
 * libmosquitto), so that one view can merge many LANs.
 *
 *   PREFIX/SITE/hosts/ID  the host's row as in the export, plus "site";
 *                         retained, QoS 1; on every change of its status
 *                         or content (a table event), and all rows again
 *                         every MQTT_REFRESH_MS with their counters
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
 */
#include <errno.h>
#include <mosquitto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "probe.h"

#define MQTT_REFRESH_MS 30000
#define MQTT_TOPIC_MAX  512

struct mqtt {
	struct probe *p;
	struct mosquitto *m;
	char prefix[200];     /* --mqtt-prefix (128 at most) / site (64) */
	atomic_int connected; /* set by libmosquitto's thread */
	atomic_int republish; /* a (re)connection: publish everything */
	atomic_int refused;   /* CONNACK refused: why, once */
	atomic_int acked;     /* the last QoS 1 message the broker took */
	uint64_t next_refresh;
	uint64_t published, failed;
};

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

static void
on_connect(struct mosquitto *m, void *ctx, int rc)
{
	struct mqtt *q = ctx;

	(void)m;
	if (rc == 0) {
		atomic_store(&q->connected, 1);
		atomic_store(&q->republish, 1);
	} else {
		atomic_store(&q->refused, rc);
	}
}

static void
on_disconnect(struct mosquitto *m, void *ctx, int rc)
{
	struct mqtt *q = ctx;

	(void)m;
	(void)rc;
	atomic_store(&q->connected, 0);
}

static void
on_publish(struct mosquitto *m, void *ctx, int mid)
{
	struct mqtt *q = ctx;

	(void)m;
	atomic_store(&q->acked, mid);
}

/* The message id, or 0 when it could not be queued. */
static int
publish(struct mqtt *q, const char *topic, const void *data, size_t len,
	int qos, bool retain)
{
	int mid = 0;

	if (!atomic_load(&q->connected) ||
	    mosquitto_publish(q->m, &mid, topic, (int)len, data, qos, retain) !=
		    MOSQ_ERR_SUCCESS) {
		q->failed++;
		return 0;
	}
	q->published++;
	return mid;
}

/* A host's row with "site" first, retained under hosts/ID. */
static void
publish_host(struct mqtt *q, const char *id)
{
	char topic[MQTT_TOPIC_MAX], *row = NULL, *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&row, &len);
	int found, n;

	if (f == NULL)
		return;
	found = output_one_host(f, q->p, id, clock_mono_ms());
	if (fclose(f) != 0 || found <= 0 || len < 2) {
		free(row);
		return;
	}
	while (len > 0 && row[len - 1] == '\n')
		row[--len] = '\0';
	n = asprintf(&msg, "{\"site\":\"%s\",%s", q->p->c->site, row + 1);
	snprintf(topic, sizeof(topic), "%s/hosts/%s", q->prefix, id);
	if (n > 0)
		publish(q, topic, msg, (size_t)n, 1, true);
	free(row);
	free(msg);
}

static int
publish_probe(struct mqtt *q, const char *status)
{
	const struct probe_config *c = q->p->c;
	char topic[MQTT_TOPIC_MAX], msg[512], when[32];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(msg, sizeof(msg),
		     "{\"status\":\"%s\",\"site\":\"%s\",\"heartbeat\":"
		     "\"%s.%03ldZ\",\"version\":\"%s\",\"hosts\":%zu,"
		     "\"beacons\":%llu,\"refresh_ms\":%u}",
		     status, c->site, when, ts.tv_nsec / 1000000,
		     BEACON_VERSION, hosttab_count(q->p->tab),
		     (unsigned long long)q->p->st.beacons, MQTT_REFRESH_MS);
	snprintf(topic, sizeof(topic), "%s/probe", q->prefix);
	return publish(q, topic, msg, (size_t)n, 1, true);
}

static void
publish_all(struct mqtt *q)
{
	size_t i, n = hosttab_count(q->p->tab);

	publish_probe(q, "online");
	for (i = 0; i < n; i++)
		publish_host(q, hosttab_at(q->p->tab, i)->id);
}

void
mqtt_event(struct mqtt *q, const char *id, const char *line)
{
	char topic[MQTT_TOPIC_MAX];

	if (q == NULL)
		return;
	publish_host(q, id);
	snprintf(topic, sizeof(topic), "%s/events", q->prefix);
	publish(q, topic, line, strlen(line), 0, false);
}

uint64_t
mqtt_due(const struct mqtt *q)
{
	if (q == NULL)
		return UINT64_MAX;
	return atomic_load(&q->republish) || atomic_load(&q->refused)
		       ? 0
		       : q->next_refresh;
}

void
mqtt_run(struct mqtt *q, uint64_t now)
{
	int refused;

	if (q == NULL)
		return;
	refused = atomic_exchange(&q->refused, 0);
	if (refused != 0)
		log_warnx("MQTT broker refused the connection: %s%s",
			  mosquitto_connack_string(refused),
			  refused == 4 || refused == 5
				  ? " (check the user and --mqtt-password-file)"
				  : "");
	if (atomic_exchange(&q->republish, 0) || now >= q->next_refresh) {
		publish_all(q);
		q->next_refresh = now + MQTT_REFRESH_MS;
	}
}

int
mqtt_credentials(struct mosquitto *m, const struct probe_config *c,
		 const struct mqtt_url *u)
{
	char pass[256] = "";
	int rc = 0, e;

	if (c->mqtt_password_file != NULL) {
		FILE *f = fopen(c->mqtt_password_file, "r");
		if (f == NULL || fgets(pass, sizeof(pass), f) == NULL) {
			log_warn("--mqtt-password-file %s",
				 c->mqtt_password_file);
			if (f != NULL)
				fclose(f);
			return -1;
		}
		fclose(f);
		pass[strcspn(pass, "\r\n")] = '\0';
	} else if (u->has_pass) {
		snprintf(pass, sizeof(pass), "%s", u->pass);
	}
	if (u->user[0] != '\0' &&
	    mosquitto_username_pw_set(m, u->user, pass[0] ? pass : NULL) !=
		    MOSQ_ERR_SUCCESS)
		rc = -1;
	memset(pass, 0, sizeof(pass));
	if (rc == 0 && u->tls &&
	    (e = mosquitto_tls_set(m, c->mqtt_cafile, NULL, NULL, NULL,
				   NULL)) != MOSQ_ERR_SUCCESS) {
		log_warnx("--mqtt %s: TLS: %s (give --mqtt-cafile FILE)",
			  c->mqtt, mosquitto_strerror(e));
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
	char id[96], host[64] = "", topic[MQTT_TOPIC_MAX];
	uint32_t r;
	int rc;

	if (q == NULL || mqtt_parse_url(c->mqtt, &u) < 0) {
		log_warnx("--mqtt %s: not mqtt[s]://[USER[:PASS]@]HOST[:PORT]",
			  c->mqtt);
		free(q);
		return NULL;
	}
	q->p = p;
	snprintf(q->prefix, sizeof(q->prefix), "%s/%s", c->mqtt_prefix,
		 c->site);
	mosquitto_lib_init();
	/* Unique per process: two probes on one host never kick each other
	   off the broker. */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)clock_mono_ms();
	gethostname(host, sizeof(host) - 1);
	snprintf(id, sizeof(id), "beacon-probe-%.32s-%d-%08x", host,
		 (int)getpid(), r);
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
	mosquitto_reconnect_delay_set(q->m, 1, 30, true);
	snprintf(topic, sizeof(topic), "%s/probe", q->prefix);
	{
		char will[160];
		int n = snprintf(will, sizeof(will),
				 "{\"status\":\"offline\",\"site\":\"%s\"}",
				 c->site);
		if (mosquitto_will_set(q->m, topic, n, will, 1, true) !=
		    MOSQ_ERR_SUCCESS)
			goto fail;
	}
	if (mqtt_credentials(q->m, c, &u) < 0)
		goto fail;
	rc = mosquitto_connect_async(q->m, u.host, u.port, c->mqtt_keepalive);
	if (rc != MOSQ_ERR_SUCCESS)
		log_warnx("MQTT broker %s:%d: %s; retrying in the background",
			  u.host, u.port,
			  rc == MOSQ_ERR_ERRNO ? strerror(errno)
					       : mosquitto_strerror(rc));
	if (mosquitto_loop_start(q->m) != MOSQ_ERR_SUCCESS) {
		log_warnx("MQTT: cannot start its thread");
		goto fail;
	}
	log_info("publishing to %s:%d under %s/", u.host, u.port, q->prefix);
	return q;
fail:
	if (q->m != NULL)
		mosquitto_destroy(q->m);
	free(q);
	return NULL;
}

void
mqtt_stop(struct mqtt *q)
{
	int i, mid;

	if (q == NULL)
		return;
	/* The last word: offline, retained, taken by the broker (at most
	   0.5 s), then a clean disconnect, which drops the will. */
	if (atomic_load(&q->connected)) {
		mid = publish_probe(q, "offline");
		for (i = 0; i < 50 && mid != 0 && atomic_load(&q->acked) != mid;
		     i++)
			usleep(10000);
		mosquitto_disconnect(q->m);
	}
	mosquitto_loop_stop(q->m, true);
	mosquitto_destroy(q->m);
	mosquitto_lib_cleanup();
	if (q->failed > 0)
		log_info("MQTT: %llu messages published, %llu could not be",
			 (unsigned long long)q->published,
			 (unsigned long long)q->failed);
	free(q);
}
