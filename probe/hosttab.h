/* SPDX-License-Identifier: MIT */
/*
 * The probe's host table: one row per host id, bounded, and pure: every
 * function takes the time (monotonic milliseconds) as an argument and does no
 * I/O, so tests walk time forward without sleeping.
 *
 * Liveness (docs/liveness.md has the derivation and the numbers): a host is
 * alive while its beacons arrive. When it falls silent the table counts the
 * beacons that should have come (one per 1.1 x interval, after a 100 ms
 * margin) and asks it directly (up to 6 queries, a quarter interval apart
 * but at least 100 ms and at most 5 s, each counted unanswered after
 * 100 ms). With p the loss measured on that host, the
 * chance that a live host stays this silent is
 *     L = p^missed x (2p)^unanswered,
 * and phi = -log10(L). The host turns stale at phi >= 7 (and two beacons
 * missed), and expired at phi >= 8 once its TTL has passed and two queries
 * went unanswered, or in any case after 10 x TTL of silence.
 */
#ifndef BEACON_PROBE_HOSTTAB_H
#define BEACON_PROBE_HOSTTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beacon/beacon.h"

#define HOSTTAB_DEFAULT_MAX         65536
#define HOST_SEEN_MAX               8
#define LIVENESS_MARGIN_MS          100
#define LIVENESS_SLACK              1.1 /* interval jitter is at most +10% */
#define LIVENESS_QUERIES            6
#define LIVENESS_QUERY_GAP_MS       100  /* least time between queries ... */
#define LIVENESS_QUERY_GAP_MAX_MS   5000 /* ... most: interval/4 in between */
#define LIVENESS_ANSWER_MS          100  /* a query unanswered by then failed */
#define LIVENESS_STALE_PHI          7.0
#define LIVENESS_EXPIRE_PHI         8.0
#define LIVENESS_EXPIRE_MIN_QUERIES 2
#define LIVENESS_HARD_TTLS          10
#define LOSS_PRIOR_LOST             3.0 /* a new host is assumed to lose 30% ... */
#define LOSS_PRIOR_SEEN             10.0 /* ... with the weight of 10 beacons */
#define LOSS_WINDOW                 200.0 /* counts are halved past this many */
#define LOSS_MIN                    0.005
#define LOSS_MAX                    0.9

enum host_status { HOST_ALIVE, HOST_STALE, HOST_LEFT, HOST_EXPIRED };

struct host_seen {
	char addr[46];
	char ifname[16];
	uint64_t last_ms;
};

struct host {
	char id[BEACON_MAX_ID + 1];
	char instance[BEACON_MAX_ID + 1];
	char hostname[BEACON_MAX_HOSTNAME + 1];
	char os[BEACON_MAX_OS + 1];
	char os_version[BEACON_MAX_OS + 1];
	uint64_t seq;
	uint32_t interval_ms, ttl_ms;
	bool has_uptime;
	uint64_t uptime_s, uptime_at_ms;
	size_t n_ipv4, n_ipv6, n_seen, n_tags;
	char ipv4[BEACON_MAX_ADDRS][16];
	char ipv6[BEACON_MAX_ADDRS][46];
	struct host_seen seen[HOST_SEEN_MAX];
	struct beacon_tag tags[BEACON_MAX_TAGS];

	enum host_status status;
	bool conflict;
	char reason[160]; /* why it has its status */
	uint64_t first_seen_ms, last_seen_ms, status_ms;
	uint64_t received, lost, restarts, bye_seq;
	double win_lost, win_expected; /* windowed, for the loss estimate */

	/* The current silence. */
	unsigned queries_sent, unanswered;
	uint64_t query_due_ms; /* when the outstanding query counts as lost */
	uint64_t next_query_ms;
	bool query_out;
};

enum host_event {
	EV_JOIN,   /* a new host, or one back after expiry */
	EV_UPDATE, /* hostname, addresses, tags... changed, or back from stale */
	EV_RESTART, /* a new instance id: the agent restarted */
	EV_STALE,
	EV_LEAVE, /* goodbye */
	EV_EXPIRE,
	EV_CONFLICT, /* another id claims this hostname */
};

const char *host_status_name(enum host_status s);
const char *host_event_name(enum host_event e);

typedef void (*hosttab_event_fn)(void *ctx, enum host_event ev,
				 const struct host *h, const char *reason,
				 uint64_t now_ms);
/* A host to ask directly: at its last source address. */
typedef void (*hosttab_query_fn)(void *ctx, const struct host *h,
				 const char *addr);

struct hosttab;

/* max_hosts 0: HOSTTAB_DEFAULT_MAX. NULL when out of memory. Callbacks may be
   NULL; they are called from update() and tick() only. */
struct hosttab *hosttab_new(size_t max_hosts, hosttab_event_fn ev,
			    hosttab_query_fn query, void *ctx);
void hosttab_free(struct hosttab *t);

enum hosttab_result {
	HT_NEW,       /* a new row */
	HT_UPDATED,   /* a new beacon for a known row */
	HT_DUPLICATE, /* a copy of the last beacon (another interface...) */
	HT_OLD,       /* an older beacon (reordered), or one after goodbye */
	HT_FULL,      /* refused: the table is full */
};

/* One decoded beacon from src_addr (text) on ifname, at now_ms. */
enum hosttab_result hosttab_update(struct hosttab *t,
				   const struct beacon_msg *b,
				   const char *src_addr, const char *ifname,
				   uint64_t now_ms);

/* Move time to now_ms: status changes, direct queries. Returns the time of
   the next thing to do (UINT64_MAX: nothing). */
uint64_t hosttab_tick(struct hosttab *t, uint64_t now_ms);

/* The loss estimate for h, in [LOSS_MIN, LOSS_MAX]. */
double host_loss(const struct host *h);
/* phi = -log10(chance a live host would be this silent) at now_ms. */
double host_phi(const struct host *h, uint64_t now_ms);
/* Beacons that should have arrived by now_ms. */
unsigned host_missed(const struct host *h, uint64_t now_ms);

size_t hosttab_count(const struct hosttab *t);
const struct host *hosttab_at(const struct hosttab *t, size_t i);
const struct host *hosttab_find(const struct hosttab *t, const char *id);
uint64_t hosttab_refused(const struct hosttab *t);

#endif
