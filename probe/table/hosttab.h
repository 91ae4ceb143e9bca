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
#include <string.h>

#include "beacon/beacon.h"

#define HOSTTAB_DEFAULT_MAX        65536
#define HOSTTAB_DEFAULT_MAX_TTL_MS 3600000u /* announced interval/TTL cap */
#define HOSTTAB_NEW_PER_S          10.0  /* new hosts per source per second */
#define HOSTTAB_NEW_BURST          100.0 /* ... and at once */
#define HOSTTAB_RATE_SLOTS         1024
#define HOSTTAB_LINKS              32
#define HOST_SEEN_MAX              8
#define HOST_HISTORY                                                           \
	3                   /* beacons before a row may not be
					 evicted for a newcomer */
#define SEQ_WINDOW       64 /* accepted ahead of the last seq ... */
#define SEQ_WINDOW_PER_S 25 /* ... plus this per second of silence */
#define SEQ_RESYNC                                                             \
	8 /* out-of-window beacons this close
					 together resync a silent row */
#define REORDER_MS                                                             \
	200 /* a reordered beacon arrives within
					   this of the one it follows, or never */
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
#define LOSS_PRIOR                  0.3  /* assumed when nothing is known ... */
#define LOSS_PRIOR_SEEN             10.0 /* ... a host's prior weighs this */
#define LINK_MIN_SEEN               50.0 /* a link is known past this many */
#define LOSS_WINDOW                 200.0 /* counts are halved past this many */
#define LINK_WINDOW                 2000.0
#define LOSS_MIN                    0.005
#define LOSS_MAX                    0.9

enum host_status { HOST_ALIVE, HOST_STALE, HOST_LEFT, HOST_EXPIRED };

/* A source address the host's beacons came from (IPv4: the transport's). */
struct host_seen {
	char addr[16];
	char ifname[16];
	uint64_t last_ms;
};

/*
 * One row, compact: what every beacon has is inline; what varies in size
 * (addresses, tags, OS) lives in one allocation (parts: its strings
 * packed), the sources seen in another, sized to what the host has. About
 * 330 bytes plus about 100 for a default agent's beacon. What a beacon on
 * the fast path reads or writes comes first (224 bytes), so in a table of
 * a million it misses the cache on 4 lines of the row, not 6.
 */
struct host {
	char id[BEACON_MAX_ID + 1];
	uint8_t status;   /* enum host_status */
	uint8_t disputed; /* back from this status by one beacon (HOST_ALIVE:
			     not disputed) */
	uint8_t fp_state; /* the fingerprinted beacon's state */
	int8_t link;      /* index of the link it was last heard on; -1: none */
	uint8_t n_seen;
	bool has_uptime, query_out;
	bool verified; /* every beacon of its instance had a good signature */
	bool restored; /* from the history, not heard since
			  (hosttab_restore) */
	/* The current silence. */
	uint8_t queries_sent, unanswered;
	bool conflict;
	uint16_t drops_at; /* the probe's drop count at the last beacon (low
			      bits: only compared for a change) */
	uint16_t prior;    /* loss prior, of 65535: the link's estimate at
			      the last beacon, or LOSS_PRIOR */
	uint32_t blind_at; /* the probe's blind time at the last beacon (low
			      bits: only subtracted) */
	/* Counts: 2^32 beacons is 136 years at one a second. */
	uint32_t received, lost;
	uint32_t lost_local; /* gaps while the probe itself dropped datagrams */
	uint32_t top_gap;    /* ... the gap seq left (within the window) */
	uint32_t interval_ms, ttl_ms; /* as announced, capped */
	float win_lost, win_expected; /* windowed, for the loss estimate */
	uint32_t restarts;

	uint64_t seq;      /* highest accepted, goodbyes included */
	uint64_t seq_seen; /* bit i: seq - i arrived (replay window) */
	uint64_t seq_up;   /* highest accepted before a goodbye */
	uint64_t cand_seq; /* last out-of-window seq, for a resync */
	uint64_t top_ms;   /* when seq was taken ... */
	uint64_t fp_hash;  /* the last beacon's bytes but its seq; 0: none */
	uint64_t uptime_s, uptime_at_ms;
	uint64_t last_seen_ms;
	/* The table's own: the timer entry (+ 1; 0: none) and deadline. */
	uint64_t heap_key;
	uint64_t due_ms; /* when tick() must look at it next */
	uint64_t next_query_ms;
	struct host_seen seen0; /* the first source (host_seen_at) */

	/* Cold: what only a full beacon, a change or a reader touches. */
	char instance[BEACON_MAX_ID + 1];
	uint8_t n_ipv4, n_ipv6, n_tags;
	uint32_t name_next; /* next row + 1 with the same name hash; 0: end */
	/* parts: tags, then the IPv4 and IPv6 addresses, the hostname, the
	   OS name and version, as the beacon had them, each ending in a NUL
	   (host_*() read them). */
	void *parts;
	const char *hostname; /* into parts ("" before the first beacon) */
	struct host_seen *seen_more; /* the others: n_seen - 1 */
	char *reason; /* why it has its status; NULL: the usual words for the
			 status (host_reason) */
	uint64_t first_seen_ms, status_ms;
	uint64_t bye_seq, bye_ms;
	uint64_t query_due_ms; /* when the outstanding query counts as lost */
};

/* Why h has its status, in words. */
static inline const char *
host_reason(const struct host *h)
{
	if (h->reason != NULL)
		return h->reason;
	return h->status == HOST_ALIVE  ? "beacons arriving"
	       : h->status == HOST_LEFT ? "said goodbye"
					: "";
}

/* The i-th source a row's beacons came from (i < n_seen). */
static inline const struct host_seen *
host_seen_at(const struct host *h, size_t i)
{
	return i == 0 ? &h->seen0 : &h->seen_more[i - 1];
}

/* The variable parts of a row. */
static inline const struct beacon_tag *
host_tag(const struct host *h, size_t i)
{
	return (const struct beacon_tag *)h->parts + i;
}

/* The i-th string after the tags, packed (addresses, then hostname...). */
static inline const char *
host_part(const struct host *h, size_t i)
{
	const char *s =
		(const char *)h->parts + h->n_tags * sizeof(struct beacon_tag);

	while (i-- > 0)
		s += strlen(s) + 1;
	return s;
}

static inline const char *
host_ipv4(const struct host *h, size_t i)
{
	return host_part(h, i);
}

static inline const char *
host_ipv6(const struct host *h, size_t i)
{
	return host_part(h, h->n_ipv4 + i);
}

static inline const char *
host_os(const struct host *h)
{
	return h->hostname + strlen(h->hostname) + 1;
}

static inline const char *
host_os_version(const struct host *h)
{
	const char *os = host_os(h);

	return os + strlen(os) + 1;
}

enum host_event {
	EV_JOIN,   /* a new host, or one back after expiry */
	EV_UPDATE, /* hostname, addresses, tags... changed, or back from stale */
	EV_RESTART, /* a new instance id: the agent restarted */
	EV_STALE,
	EV_LEAVE, /* goodbye */
	EV_EXPIRE,
	EV_CONFLICT, /* another id claims this hostname */
	EV_NEW,      /* never seen before by the probe's history (serve
			--db): the probe raises it, never the table */
	EV_MISSING,  /* an expected host (--expect) is not live: the probe
			raises it and the next, never the table */
	EV_BACK,     /* ... and is again */
	EV__COUNT
};

const char *host_status_name(enum host_status s);
/* Whether w is a word a status filter takes (list --status, the HTTP
   API's ?status=): a status's name, or "conflict". */
bool host_status_word(const char *w);
const char *host_event_name(enum host_event e);
/* The event a name is (host_event_name's inverse); false: none. */
bool host_event_word(const char *w, enum host_event *e);

typedef void (*hosttab_event_fn)(void *ctx, enum host_event ev,
				 const struct host *h, const char *reason,
				 uint64_t now_ms);

struct hosttab_opts {
	size_t max_hosts;    /* 0: HOSTTAB_DEFAULT_MAX */
	uint32_t max_ttl_ms; /* cap on announced interval and TTL; 0: 1 hour */
	double new_per_s;    /* new hosts per source address per second;
				0: HOSTTAB_NEW_PER_S */
	double new_burst;    /* 0: HOSTTAB_NEW_BURST */
	uint64_t key[2];     /* the id hash's key: random per process */
};

/* Why a beacon was not taken. */
enum hosttab_refusal {
	HR_TABLE_FULL,    /* a new host, and every row is live with history */
	HR_NEW_RATE,      /* too many new hosts from this source address */
	HR_SEQ_WINDOW,    /* seq too far ahead of the host's (a forgery) */
	HR_REPLAYED,      /* a seq already taken (a replay or a copy) */
	HR_SEQ_FORGED,    /* the newest seq was a forged jump: rewound */
	HR_AFTER_GOODBYE, /* the instance went on after its goodbye: one of
			     the two was forged (counted, not refused) */
	HR_UNVERIFIED,    /* a beacon without a good signature for a host
			     whose beacons are verified */
	HR__COUNT
};
const char *hosttab_refusal_name(enum hosttab_refusal r);

struct hosttab;

/* NULL when out of memory. ev may be NULL; it is called from update() and
   tick() only. */
struct hosttab *hosttab_new(const struct hosttab_opts *o, hosttab_event_fn ev,
			    void *ctx);
void hosttab_free(struct hosttab *t);

enum hosttab_result {
	HT_NEW,       /* a new row */
	HT_UPDATED,   /* a new beacon for a known row */
	HT_DUPLICATE, /* a copy of a beacon already taken (another interface,
			 or a replay): no news of the host's liveness */
	HT_OLD,       /* an older beacon (reordered), or one after goodbye */
	HT_REFUSED,   /* not taken: see hosttab_refused() */
	HT_UNKNOWN,   /* hosttab_refresh(): no such row or fingerprint */
};

/* One decoded beacon from src_addr (text) on ifname, at now_ms. */
enum hosttab_result hosttab_update(struct hosttab *t,
				   const struct beacon_msg *b,
				   const char *src_addr, const char *ifname,
				   uint64_t now_ms);
/* The same, saying whether its signature was verified. A verified host
   (every beacon of its instance verified) is changed by verified beacons
   only: any other is refused (HR_UNVERIFIED), so an unsigned or forged
   goodbye, restart or rename never touches it. */
enum hosttab_result hosttab_update_auth(struct hosttab *t,
					const struct beacon_msg *b,
					const char *src_addr,
					const char *ifname, uint64_t now_ms,
					bool verified);

/*
 * The fast path: a beacon whose bytes are those of the last one taken from
 * its host but for its seq and uptime (the same fingerprint: a keyed hash
 * of the bytes without those digits), is taken without decoding it again.
 */
struct hosttab_fast {
	uint64_t id_hash; /* hosttab_prefetch()'s */
	uint64_t hash;
	size_t seq_at, up_at; /* up_at 0: no uptime */
	uint64_t seq, uptime_s;
};
/* First, as soon as a beacon's id is known: f->id_hash set, and its index
   slot on its way into the cache while the fingerprint is taken (in a
   table of a million, a miss that was in the way; bench_ingest at 1M went
   from 553-584 to 468-471 ns. Fetching the row too, which needs the slot,
   made it slower: 564). */
void hosttab_prefetch(const struct hosttab *t, const char *id,
		      struct hosttab_fast *f);
/* With f from hosttab_prefetch() and the fingerprint: HT_UNKNOWN when
   there is no such row or the fingerprint differs: decode the beacon and
   call hosttab_update(). */
enum hosttab_result hosttab_refresh(struct hosttab *t, const char *id,
				    const struct hosttab_fast *f,
				    const char *src, const char *ifname,
				    uint64_t now_ms);
/* After a hosttab_update() that took b: its fingerprint (hash 0: none). */
void hosttab_set_fingerprint(struct hosttab *t, const struct beacon_msg *b,
			     const struct hosttab_fast *f);

/*
 * A row from the probe's history (serve --db), put back at start: what its
 * last beacon said (b: id, instance, seq, hostname, addresses, tags, OS,
 * interval and TTL), its times on the table's clock, its counts, the
 * sources its beacons came from.
 */
struct hosttab_saved {
	const struct beacon_msg *b;
	enum host_status status; /* at the last stop */
	const char *reason;      /* of a departed row */
	uint64_t first_seen_ms, last_seen_ms, status_ms;
	uint32_t received, lost, restarts;
	double loss; /* host_loss() at the last stop: kept with the weight
			of its beacons, so its silence is judged as before */
	bool verified;
	const struct host_seen *seen;
	size_t n_seen;
};
#define HOSTTAB_NOT_HEARD "not heard since the probe started"
/* Put a saved row back, before any beacon, without an event. One that was
   live at the last stop is stale (HOSTTAB_NOT_HEARD, restored set) and
   judged as if heard at now_ms: its next beacon (the start-up query asks
   for it) brings it back alive, an update (a restart when its instance
   changed), and silent it expires by the usual rule. One that had left or
   expired stays so. Its sequence (b->seq) is as last written: the next
   beacon is judged against it as any row's. -1: the id is in the table, it is full, or out of
   memory. */
int hosttab_restore(struct hosttab *t, const struct hosttab_saved *s,
		    uint64_t now_ms);

/* Room for n rows (at most the bound) without growing again, before a
   restore of n; 0 or -1 (out of memory). */
int hosttab_reserve(struct hosttab *t, size_t n);

/* The probe's own losses: drops is the count of datagrams it has dropped
   so far (receive buffer, queue); rx_loss the fraction it is dropping now.
   Gaps in a host's sequence while drops rose are not charged to its loss,
   and silences are judged with the loss the probe adds. */
void hosttab_set_drops(struct hosttab *t, uint64_t drops, double rx_loss);

/* The probe could not see for ms: it dropped datagrams, or fell behind
   with datagrams waiting. A silence is judged without that time, so no
   live host goes stale or expired for what the probe missed itself (a
   host really gone expires later by as much). */
void hosttab_blind(struct hosttab *t, uint64_t ms);

/* A host to ask directly, at its last source address. */
struct hosttab_ask {
	char id[BEACON_MAX_ID + 1];
	char addr[46];
	char ifname[16];
};

/* Move time to now_ms: status changes, and up to max hosts to query into
   asks (*n of them). Returns the time of the next thing to do (UINT64_MAX:
   nothing). */
uint64_t hosttab_tick(struct hosttab *t, uint64_t now_ms,
		      struct hosttab_ask *asks, size_t max, size_t *n);

/* The loss estimate for h, in [LOSS_MIN, LOSS_MAX]. */
double host_loss(const struct host *h);
/* Beacons that should have arrived by now_ms (the probe's blind time
   left out). */
unsigned host_missed(const struct hosttab *t, const struct host *h,
		     uint64_t now_ms);

size_t hosttab_count(const struct hosttab *t);
const struct host *hosttab_at(const struct hosttab *t, size_t i);
const struct host *hosttab_find(const struct hosttab *t, const char *id);
/* A row claiming hostname name (any case): a live one if there is one;
   NULL: none. */
const struct host *hosttab_find_name(const struct hosttab *t, const char *name);
uint64_t hosttab_refused(const struct hosttab *t, enum hosttab_refusal r);

/* SipHash-2-4 of s under key: the id index's hash. */
uint64_t hosttab_hash(const uint64_t key[2], const void *s, size_t len);

#endif
