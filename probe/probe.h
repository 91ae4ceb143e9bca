/* SPDX-License-Identifier: MIT */
/* beacon-probe: private declarations, grouped by the file that defines them. */
#ifndef BEACON_PROBE_H
#define BEACON_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "beacon/auth.h"
#include "beacon/beacon.h"
#include "browsetab.h"
#include "bucket.h"
#include "config.h"
#include "expected.h"
#include "hosttab.h"
#include "mailslot/slot.h"
#include "render.h"
#include "stats.h"

#define PROBE_SOURCES    1024
#define PROBE_EVENTS_MAX (4u << 20) /* bytes of events pending at most */
#define PROBE_QUEUE_MAX  (1u << 20) /* changes queued in one pass at most */
#define PROBE_SUBS_MAX   8

/* A new instance's signed send time may be this far from the probe's
   clock; beyond, it must answer one of the probe's queries. */
#define AUTH_WINDOW_MS 300000

struct http;
struct store;

/* --expect FILE, as the loop keeps it (expect.c). A host never heard is
   missing once the start-up queries have had this long. */
#define EXPECT_GRACE_MS 3000
struct expect {
	const char *path;
	struct expect_list l;
	uint64_t grace_end; /* before it, a host never heard is waiting */
	bool dirty;         /* the table changed since the last judgement */
};

/* A change of the table, queued until the loop hands it out (events.c). */
struct probe_event {
	enum host_event ev;
	char id[48]; /* a host id, or netbios:NAME */
	char *line;  /* its watch --events line; NULL when no subscriber
			 takes lines (or out of memory) */
};

/* Who hears of the changes: the loop registers them. */
struct probe_sub {
	bool (*wants_lines)(void *ctx); /* NULL: never */
	void (*event)(void *ctx, const struct probe_event *e, uint64_t now);
	void *ctx;
};

struct probe {
	const struct probe_config *c;
	struct mailslot_server *srv;
	struct mailslot_client *solicit;
	struct mailslot_client *solicit_browse; /* browse requests */
	struct mailslot_client *direct; /* unicast queries, one socket */
	bool said_listening_only;
	struct bucket asks; /* direct queries */
	uint64_t drops_at_sample, seen_at_sample;
	uint64_t pass_ms,
		drops_at_pass; /* the last receive pass (blind time) */
	double rx_loss;        /* fraction dropped in the last second */
	uint64_t key[2];       /* for hashing source addresses */
	struct source_rate {
		uint64_t key;
		struct bucket b;
	} sources[PROBE_SOURCES];
	struct hosttab *tab;
	struct browse_tab *browse;   /* NULL: --no-browse */
	struct http *http;           /* serve --http; NULL: none */
	struct mqtt *mqtt;           /* serve --mqtt; NULL: none */
	struct store *store;         /* serve --db; NULL: none */
	struct expect *expect;       /* --expect; NULL: none */
	struct notify *notify;       /* --notify; NULL: none */
	struct beacon_keyring *keys; /* NULL: no --keyring */
	struct probe_stats st;
	char nonce_prefix[9];
	uint64_t nonce_n;
	bool dirty;   /* the table changed since the last output */
	char *events; /* watch --events: NDJSON lines not yet written */
	size_t events_len, events_cap;
	uint64_t events_dropped; /* over PROBE_EVENTS_MAX bytes pending */
	struct probe_event *evq; /* the changes of this pass */
	size_t n_evq, cap_evq;
	uint64_t evq_dropped;
	struct probe_sub subs[PROBE_SUBS_MAX];
	size_t n_subs;
};

/* export.c: serve --export */
/* Whether path can take the export: not too long, not an existing
   non-regular file (device, FIFO, directory, socket, symbolic link), in a
   directory that exists. -1 with the reason in err. */
int output_export_check(const char *path, char *err, size_t len);
/* Write the document to path through a fresh temporary file beside it and
   rename(2); every failure closes and removes the temporary file. -1 with
   errno. durable: fsync(2) the file before the rename (the last export,
   at exit); the periodic ones are not, see export.c. */
int output_export(const struct probe *p, const char *path, uint64_t now_ms,
		  bool durable);

/* rx.c */
/* 0, or -1 having logged why. */
int probe_open(struct probe *p, const struct probe_config *c);
void probe_close(struct probe *p);
/* What the renderers read of p (valid while p is). */
struct probe_view probe_view(const struct probe *p);
/* Take up to max waiting datagrams into the table; returns how many. */
size_t probe_receive(struct probe *p, uint64_t now_ms, size_t max);
/* One datagram's body (m: where it came from) into its table, counted
   under one reason. */
struct mailslot_meta;
void probe_take(struct probe *p, const uint8_t *buf, size_t len,
		const struct mailslot_meta *m, uint64_t now_ms);
/* Ask every agent (general query). */
void probe_solicit(struct probe *p);
/* (Re)open the query client if the interfaces changed since; true when a
   new one is open (the caller may ask again through it). */
bool probe_refresh_solicit(struct probe *p);
/* Ask Windows and Samba hosts to announce themselves (a browse
   AnnouncementRequest to WORKGROUP<00>, on every query interface). */
void probe_browse_request(struct probe *p);
/* Ask one silent host (rate-limited). */
void probe_ask(struct probe *p, const struct hosttab_ask *a, uint64_t now_ms);
/* Tell the table what the probe itself is dropping. */
void probe_sample_drops(struct probe *p);
/* Write the pending events to f; -1 when f fails. */
int probe_flush_events(struct probe *p, FILE *f);
/* watch --events' subscriber: the lines, for probe_flush_events. */
void probe_watch_event(void *ctx, const struct probe_event *e, uint64_t now);

/* events.c: the table's changes, queued, handed to the subscribers. */
bool events_subscribe(struct probe *p, const struct probe_sub *s);
/* Whether a subscriber takes lines (then the changes are formatted). */
bool events_want_lines(const struct probe *p);
/* A change (line taken; NULL when none is wanted). */
void events_push(struct probe *p, enum host_event ev, const char *id,
		 char *line);
/* The queue to every subscriber, in order, then emptied. */
void events_deliver(struct probe *p, uint64_t now_ms);
void events_free(struct probe *p);

/* fastpath.c: a beacon that is its host's last one but for its seq,
   taken without decoding it again (*r: the table's verdict); false: decode
   it. fastpath_learn() records a decoded beacon's fingerprint. */
bool fastpath_take(struct probe *p, const uint8_t *buf, size_t len,
		   const char *src, const char *ifname, uint64_t now_ms,
		   enum hosttab_result *r);
void fastpath_learn(struct probe *p, const struct beacon_msg *b,
		    const uint8_t *buf, size_t len);

/* http.c: serve --http. */
struct sockaddr_storage;
/* "ADDR:PORT" or "[ADDR6]:PORT"; -1 if not. */
int http_parse_addr(const char *s, struct sockaddr_storage *ss, unsigned *len);
/* Listen on every --http address; NULL (logged) on failure. */
struct http *http_start(struct probe *p);
void http_stop(struct http *h);
/* The descriptors to poll for reading, the longest wait, and the work. */
size_t http_fds(const struct http *h, int *fds, size_t max);
uint64_t http_timeout_ms(const struct http *h);
void http_run(struct http *h);
/* The server's counters, for /metrics. */
struct http_stats {
	uint64_t events_dropped; /* event-stream clients too slow */
	uint64_t requests_late;  /* connections shut: request not in in time */
	uint64_t auth_checks, auth_failures, auth_throttled, auth_busy;
	uint64_t auth_restarts; /* the password checker's */
};
void http_stats(const struct http *h, struct http_stats *s);
/* Whether streams were given events since the last http_run(). */
bool http_pending(const struct http *h);
/* One host change to every event stream (a watch --events line). */
void http_event(struct http *h, const char *event, const char *line);
/* Whether any client streams events (then events are formatted). */
bool http_streaming(const struct http *h);

/* mqtt.c: serve --mqtt. */
#define MQTT_KEY_MAX 100 /* an id as a topic level, with its NUL */
struct mqtt;
/* A topic level: not empty, no '/', '+', '#', control characters. */
bool mqtt_level_valid(const char *s);
/* The client, its password read and its will set (before privileges are
   dropped); NULL (logged) on failure. */
struct mqtt *mqtt_open(struct probe *p);
/* The first connection, in the background (after the drop); -1 logged. */
int mqtt_connect(struct mqtt *q);
void mqtt_stop(struct mqtt *q);
/* A host changed: its row, and the event line. */
void mqtt_event(struct mqtt *q, const char *id, const char *line,
		uint64_t now_ms);
/* The descriptor for the loop's poll (-1: none now) and its events. */
int mqtt_fd(struct mqtt *q, short *events);
/* When the loop should call mqtt_run without the descriptor: the
   connection's timers, a (re)connection, the refresh. */
uint64_t mqtt_due(const struct mqtt *q);
/* revents: the descriptor's, from poll (0: called as due). */
void mqtt_run(struct mqtt *q, short revents, uint64_t now_ms);

/* The id as a topic level: bytes other than A-Z a-z 0-9 . _ - as %XX
   (a NetBIOS name may hold / + # or any byte). */
void mqtt_topic_id(const char *id, char out[MQTT_KEY_MAX]);

/* merged.c: list --mqtt and watch --mqtt, the exit status. */
int merged_list(const struct probe_config *c);
/* For the fuzzer: messages through a merged view (as from the broker),
   then the view printed on stdout. */
struct mosquitto_message;
void merged_replay(const struct probe_config *c,
		   const struct mosquitto_message *msgs, size_t n);

/* expect.c: --expect FILE. Read (after the privilege drop, and again on
   SIGHUP): 0, or -1 having said why (the list as it was). */
int expect_load(struct probe *p, const char *path, uint64_t now_ms);
void expect_free(struct probe *p);
/* Every name judged against the table: missing and back raised. */
void expect_judge(struct probe *p, uint64_t now_ms);
/* When expect_judge is due (UINT64_MAX: not before a change). */
uint64_t expect_due(const struct probe *p);
/* The subscriber: the table changed (ctx: the probe). */
void expect_event(void *ctx, const struct probe_event *e, uint64_t now_ms);

/* notify.c: serve --notify URL, webhooks through libcurl's multi
   interface, driven from the loop. */
#define NOTIFY_SOCKETS_MAX 16 /* libcurl's sockets at once, at most */
struct notify;
struct pollfd;
struct notify_stats {
	uint64_t sent;    /* delivered (2xx) */
	uint64_t failed;  /* attempts that failed (tried again) */
	uint64_t refused; /* given up: the receiver refused (4xx) */
	uint64_t dropped; /* not queued: too many waited */
	size_t waiting;
};
/* json 0, text 1, slack 2, gotify 3; -1: none of those. */
int notify_format(const char *name);
/* 0 when url is an http:// or https:// URL. */
int notify_check_url(const char *url);
/* After the privilege drop; NULL (said) on failure. */
struct notify *notify_open(struct probe *p);
/* Events not delivered by now are counted and said. */
void notify_close(struct notify *nt);
/* The subscriber (ctx: the notifier). */
void notify_event(void *ctx, const struct probe_event *e, uint64_t now_ms);
/* libcurl's sockets for the loop's poll (at most max); after poll, the
   same entries with their revents. */
size_t notify_fds(const struct notify *nt, struct pollfd *pf, size_t max);
void notify_run(struct notify *nt, const struct pollfd *pf, size_t n,
		uint64_t now_ms);
/* When notify_run is due without a socket's news (UINT64_MAX: none). */
uint64_t notify_due(const struct notify *nt);
void notify_stats(const struct notify *nt, struct notify_stats *st);
/* Its counters in the Prometheus text (beacon_notify_...). */
void notify_metrics(FILE *f, const struct notify *nt);

/* history.c: beacon-probe history, the exit status. */
int history_run(const struct probe_config *c);

/* diff.c: beacon-probe diff, the exit status. */
int diff_run(const struct probe_config *c);

/* loop.c */
int probe_run(const struct probe_config *c);

#endif
