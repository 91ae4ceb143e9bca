/* SPDX-License-Identifier: MIT */
/*
 * One connection to an MQTT broker, driven from the caller's poll loop:
 * no thread (libmosquitto's own would keep what the process gives up when
 * it drops privileges, and share the state behind locks). The caller polls
 * mqtt_link_fd() for mqtt_link_events(), and calls mqtt_link_run() when
 * the descriptor is ready or mqtt_link_due() has come.
 *
 * One rule for (re)connecting, for serve --mqtt and list/watch --mqtt: a
 * try not connected (CONNACK) within MQTT_CONNECT_MS has failed; a failure
 * is tried again after 1 s, doubling to 30 s; a connection resets the
 * wait. Connecting does not block, but for DNS.
 */
#ifndef BEACON_PROBE_MQTTLINK_H
#define BEACON_PROBE_MQTTLINK_H

#include <stdbool.h>
#include <stdint.h>

#define MQTT_CONNECT_MS 5000

struct mosquitto;
struct mosquitto_message;
struct probe_config;

struct mqtt_url {
	char user[128], pass[256], host[256];
	int port;
	bool tls, has_pass;
};

/* Why the broker could not be reached, as libmosquitto logs it (the
   OpenSSL error of a failed TLS handshake): kept by the log callback,
   said once. */
struct mqtt_why {
	char text[200];
	bool fresh;
};

/* What the link's user hears, in its own loop's pass (any may be NULL). */
struct mqtt_link_ops {
	void (*connected)(void *ctx); /* a CONNACK that accepted */
	void (*message)(void *ctx, const struct mosquitto_message *msg);
	void (*published)(void *ctx, int mid); /* written or acknowledged */
};

struct mqtt_link {
	struct mosquitto *m;
	struct mqtt_url u;
	char broker[300];   /* HOST:PORT, for messages */
	const char *cafile; /* --mqtt-cafile, read at each connection */
	int keepalive;
	const struct mqtt_link_ops *ops;
	void *ctx;
	bool connected, trying, stopping;
	int refused;    /* a CONNACK's refusal since mqtt_link_refused() */
	bool lost;      /* a connection lost since mqtt_link_lost() */
	unsigned fails; /* tries failed since the last connection */
	int fail_rc;    /* the last failure: a MOSQ_ERR_ (SUCCESS: time) */
	int fail_errno; /* its errno, for MOSQ_ERR_ERRNO */
	uint64_t tried_at, retry_at, misc_at;
	uint32_t backoff_ms;
	struct mqtt_why why;
};

/* A client id unique per process, "beacon-ROLE-PID-RANDOM": two probes
   or lists on one host never kick each other off the broker. */
void mqtt_client_id(char *out, size_t size, const char *role);
/* mqtt[s]://[USER[:PASS]@]HOST[:PORT]; -1 if not. */
int mqtt_parse_url(const char *url, struct mqtt_url *u);
/* True when line was kept. */
bool mqtt_why_log(struct mqtt_why *w, int level, const char *line);
/* The reason kept since the last call, with a hint, into out; false if
   none. */
bool mqtt_why_take(struct mqtt_why *w, char *out, size_t size);

/* The client for c->mqtt, with its user and password (read now: run it
   before privileges are dropped) and its TLS settings; no connection
   yet. -1 having logged why. */
int mqtt_link_open(struct mqtt_link *l, const struct probe_config *c,
		   const char *role, const struct mqtt_link_ops *ops,
		   void *ctx);
/* The first try, after privileges are dropped (libmosquitto reads the CA
   file at each connection, as the user): -1 (logged) if the user cannot
   read it, else 0 (a failed try is in fails, fail_rc and fail_errno). */
int mqtt_link_start(struct mqtt_link *l, uint64_t now_ms);
/* The descriptor to poll (-1: none now) and for what. */
int mqtt_link_fd(const struct mqtt_link *l);
short mqtt_link_events(struct mqtt_link *l);
/* When mqtt_link_run is due without the descriptor: the keepalive, a
   try's timeout, the next try. */
uint64_t mqtt_link_due(const struct mqtt_link *l);
/* Reads, writes, keepalive and the reconnection rule; revents from poll
   (0 when called for its due time). */
void mqtt_link_run(struct mqtt_link *l, short revents, uint64_t now_ms);
/* One poll of at most ms, then a run: for the short waits at start and
   exit. */
void mqtt_link_pump(struct mqtt_link *l, int ms);
/* The refusal (a CONNACK code) or loss since the last call, once. */
int mqtt_link_refused(struct mqtt_link *l);
bool mqtt_link_lost(struct mqtt_link *l);
/* A clean DISCONNECT (the will dropped), written within ms, then the
   client destroyed. */
void mqtt_link_close(struct mqtt_link *l, int ms);

#endif
