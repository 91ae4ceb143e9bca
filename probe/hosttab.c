/* SPDX-License-Identifier: MIT */
/*
 * The host table (hosttab.h): rows in an array, found through an
 * open-addressing index on the host id. Full tables drop their expired and
 * departed rows first, and refuse (and count) new hosts only when every row
 * is live.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hosttab.h"

struct hosttab {
	struct host *hosts;
	size_t n, cap, max;
	uint32_t *index; /* row + 1; 0 = empty */
	size_t index_size;
	uint64_t refused;
	hosttab_event_fn ev;
	hosttab_query_fn query;
	void *ctx;
};

static const char *const status_names[] = {"alive", "stale", "left", "expired"};
static const char *const event_names[] = {"join",  "update", "restart", "stale",
					  "leave", "expire", "conflict"};

const char *
host_status_name(enum host_status s)
{
	return status_names[s];
}

const char *
host_event_name(enum host_event e)
{
	return event_names[e];
}

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

struct hosttab *
hosttab_new(size_t max_hosts, hosttab_event_fn ev, hosttab_query_fn query,
	    void *ctx)
{
	struct hosttab *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->max = max_hosts ? max_hosts : HOSTTAB_DEFAULT_MAX;
	for (t->index_size = 16; t->index_size < 2 * t->max;)
		t->index_size *= 2;
	t->index = calloc(t->index_size, sizeof(*t->index));
	if (t->index == NULL) {
		free(t);
		return NULL;
	}
	t->ev = ev;
	t->query = query;
	t->ctx = ctx;
	return t;
}

void
hosttab_free(struct hosttab *t)
{
	if (t == NULL)
		return;
	free(t->hosts);
	free(t->index);
	free(t);
}

static size_t
slot_of(const struct hosttab *t, const char *id)
{
	size_t i = hash(id) & (t->index_size - 1);

	while (t->index[i] != 0 &&
	       strcmp(t->hosts[t->index[i] - 1].id, id) != 0)
		i = (i + 1) & (t->index_size - 1);
	return i;
}

const struct host *
hosttab_find(const struct hosttab *t, const char *id)
{
	size_t i = slot_of(t, id);

	return t->index[i] ? &t->hosts[t->index[i] - 1] : NULL;
}

static void
reindex(struct hosttab *t)
{
	size_t i;

	memset(t->index, 0, t->index_size * sizeof(*t->index));
	for (i = 0; i < t->n; i++)
		t->index[slot_of(t, t->hosts[i].id)] = (uint32_t)(i + 1);
}

/* Drop expired rows, or failing that departed ones, to make room. */
static void
purge(struct hosttab *t)
{
	enum host_status drop;
	size_t i, j;

	for (drop = HOST_EXPIRED;; drop = HOST_LEFT) {
		for (i = j = 0; i < t->n; i++)
			if (t->hosts[i].status != drop)
				t->hosts[j++] = t->hosts[i];
		if (j < t->n || drop == HOST_LEFT)
			break;
	}
	t->n = j;
	reindex(t);
}

double
host_loss(const struct host *h)
{
	double p = (h->win_lost + LOSS_PRIOR_LOST) /
		   (h->win_expected + LOSS_PRIOR_SEEN);

	return p < LOSS_MIN ? LOSS_MIN : p > LOSS_MAX ? LOSS_MAX : p;
}

unsigned
host_missed(const struct host *h, uint64_t now_ms)
{
	uint64_t silence =
		now_ms > h->last_seen_ms ? now_ms - h->last_seen_ms : 0;

	if (silence <= LIVENESS_MARGIN_MS)
		return 0;
	return (unsigned)floor((double)(silence - LIVENESS_MARGIN_MS) /
			       (LIVENESS_SLACK * h->interval_ms));
}

double
host_phi(const struct host *h, uint64_t now_ms)
{
	double p = host_loss(h), q = 2 * p < 1 ? 2 * p : 1;

	return -(host_missed(h, now_ms) * log10(p) + h->unanswered * log10(q));
}

static void
emit(struct hosttab *t, enum host_event ev, const struct host *h,
     const char *reason, uint64_t now)
{
	if (t->ev != NULL)
		t->ev(t->ctx, ev, h, reason, now);
}

static bool
live(const struct host *h)
{
	return h->status == HOST_ALIVE || h->status == HOST_STALE;
}

/* Flag every live row claiming NAME when there are two or more. */
static void
check_conflict(struct hosttab *t, const char *name, uint64_t now)
{
	size_t i, claims = 0;
	char reason[160];

	if (name[0] == '\0')
		return;
	for (i = 0; i < t->n; i++)
		if (live(&t->hosts[i]) &&
		    strcasecmp(t->hosts[i].hostname, name) == 0)
			claims++;
	for (i = 0; i < t->n; i++) {
		struct host *h = &t->hosts[i];
		bool c;
		if (strcasecmp(h->hostname, name) != 0)
			continue;
		c = live(h) && claims >= 2;
		if (c && !h->conflict) {
			snprintf(reason, sizeof(reason),
				 "hostname %s claimed by %zu ids", h->hostname,
				 claims);
			h->conflict = true;
			emit(t, EV_CONFLICT, h, reason, now);
		}
		h->conflict = c;
	}
}

static void
set_seen(struct host *h, const char *addr, const char *ifname, uint64_t now)
{
	size_t i, oldest = 0;

	for (i = 0; i < h->n_seen; i++) {
		if (strcmp(h->seen[i].addr, addr) == 0)
			break;
		if (h->seen[i].last_ms < h->seen[oldest].last_ms)
			oldest = i;
	}
	if (i == h->n_seen) {
		if (h->n_seen < HOST_SEEN_MAX)
			h->n_seen++;
		else
			i = oldest;
		snprintf(h->seen[i].addr, sizeof(h->seen[i].addr), "%s", addr);
	}
	snprintf(h->seen[i].ifname, sizeof(h->seen[i].ifname), "%s",
		 ifname ? ifname : "");
	h->seen[i].last_ms = now;
}

/* Copy what the beacon says; describe what changed in what (may be ""). */
static void
apply(struct host *h, const struct beacon_msg *b, uint64_t now, char *what,
      size_t len)
{
	size_t used = 0;

	what[0] = '\0';
#define CHANGED(cond, name)                                                    \
	do {                                                                   \
		if (cond)                                                      \
			used += (size_t)snprintf(                              \
				what + used, used < len ? len - used : 0,      \
				"%s%s", used ? ", " : "", name);               \
	} while (0)
	CHANGED(strcmp(h->hostname, b->hostname) != 0, "hostname");
	CHANGED(h->n_ipv4 != b->n_ipv4 || h->n_ipv6 != b->n_ipv6 ||
			memcmp(h->ipv4, b->ipv4, sizeof(h->ipv4)) != 0 ||
			memcmp(h->ipv6, b->ipv6, sizeof(h->ipv6)) != 0,
		"addresses");
	CHANGED(h->n_tags != b->n_tags ||
			memcmp(h->tags, b->tags, sizeof(h->tags)) != 0,
		"tags");
	CHANGED(strcmp(h->os, b->os) != 0 ||
			strcmp(h->os_version, b->os_version) != 0,
		"os");
	CHANGED(h->interval_ms != b->interval_ms || h->ttl_ms != b->ttl_ms,
		"timing");
#undef CHANGED
	memcpy(h->hostname, b->hostname, sizeof(h->hostname));
	memcpy(h->os, b->os, sizeof(h->os));
	memcpy(h->os_version, b->os_version, sizeof(h->os_version));
	h->n_ipv4 = b->n_ipv4;
	h->n_ipv6 = b->n_ipv6;
	memcpy(h->ipv4, b->ipv4, sizeof(h->ipv4));
	memcpy(h->ipv6, b->ipv6, sizeof(h->ipv6));
	h->n_tags = b->n_tags;
	memcpy(h->tags, b->tags, sizeof(h->tags));
	h->interval_ms = b->interval_ms;
	h->ttl_ms = b->ttl_ms;
	h->has_uptime = b->has_uptime;
	h->uptime_s = b->uptime_s;
	h->uptime_at_ms = now;
}

static void
set_status(struct host *h, enum host_status s, const char *reason, uint64_t now)
{
	h->status = s;
	h->status_ms = now;
	snprintf(h->reason, sizeof(h->reason), "%s", reason);
}

static void
heard(struct host *h, const char *src, const char *ifname, uint64_t now)
{
	h->last_seen_ms = now;
	set_seen(h, src, ifname, now);
	h->queries_sent = h->unanswered = 0;
	h->query_out = false;
	h->next_query_ms = 0;
}

static enum hosttab_result
add(struct hosttab *t, const struct beacon_msg *b, const char *src,
    const char *ifname, uint64_t now)
{
	struct host *h;
	char what[96];

	if (t->n == t->max)
		purge(t);
	if (t->n == t->max) {
		t->refused++;
		return HT_FULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct host *hs;
		if (cap > t->max)
			cap = t->max;
		hs = realloc(t->hosts, cap * sizeof(*hs));
		if (hs == NULL) {
			t->refused++;
			return HT_FULL;
		}
		t->hosts = hs;
		t->cap = cap;
	}
	h = &t->hosts[t->n];
	memset(h, 0, sizeof(*h));
	memcpy(h->id, b->id, sizeof(h->id));
	memcpy(h->instance, b->instance, sizeof(h->instance));
	h->seq = b->seq;
	h->received = 1;
	h->win_expected = 1;
	h->first_seen_ms = now;
	apply(h, b, now, what, sizeof(what));
	heard(h, src, ifname, now);
	t->index[slot_of(t, h->id)] = (uint32_t)(t->n + 1);
	t->n++;
	if (b->state == BEACON_STATE_BYE) {
		h->bye_seq = b->seq;
		set_status(h, HOST_LEFT, "said goodbye", now);
		emit(t, EV_LEAVE, h, "said goodbye", now);
	} else {
		set_status(h, HOST_ALIVE, "beacons arriving", now);
		emit(t, EV_JOIN, h, "first beacon", now);
		check_conflict(t, h->hostname, now);
	}
	return HT_NEW;
}

enum hosttab_result
hosttab_update(struct hosttab *t, const struct beacon_msg *b, const char *src,
	       const char *ifname, uint64_t now)
{
	size_t slot = slot_of(t, b->id);
	enum host_status was;
	char what[96], reason[160], oldname[BEACON_MAX_HOSTNAME + 1];
	struct host *h;

	if (t->index[slot] == 0)
		return add(t, b, src, ifname, now);
	h = &t->hosts[t->index[slot] - 1];
	was = h->status;
	if (strcmp(h->instance, b->instance) != 0) {
		snprintf(reason, sizeof(reason), "new instance %s (was %s)",
			 b->instance, h->instance);
		memcpy(h->instance, b->instance, sizeof(h->instance));
		h->seq = b->seq;
		h->restarts++;
		h->received++;
		h->bye_seq = 0;
		emit(t, EV_RESTART, h, reason, now);
	} else if (b->seq == h->seq) {
		heard(h, src, ifname, now);
		return HT_DUPLICATE;
	} else if (b->seq < h->seq || (was == HOST_LEFT && h->bye_seq != 0)) {
		/* Overtaken on the way, or sent before a goodbye we have. */
		if (was != HOST_LEFT) {
			h->last_seen_ms = now;
			if (h->win_lost >= 1)
				h->win_lost -= 1;
			if (h->lost > 0)
				h->lost--;
		}
		return HT_OLD;
	} else {
		uint64_t gap = b->seq - h->seq - 1;
		h->lost += gap;
		h->win_lost += (double)gap;
		h->win_expected += (double)gap + 1;
		if (h->win_expected > LOSS_WINDOW) {
			h->win_lost /= 2;
			h->win_expected /= 2;
		}
		h->seq = b->seq;
		h->received++;
	}
	memcpy(oldname, h->hostname, sizeof(oldname));
	apply(h, b, now, what, sizeof(what));
	heard(h, src, ifname, now);
	if (b->state == BEACON_STATE_BYE) {
		h->bye_seq = b->seq;
		set_status(h, HOST_LEFT, "said goodbye", now);
		emit(t, EV_LEAVE, h, "said goodbye", now);
	} else if (was != HOST_ALIVE) {
		if (was == HOST_STALE)
			snprintf(reason, sizeof(reason),
				 "beacon after %.1f s of silence",
				 (double)(now - h->status_ms) / 1000);
		else
			snprintf(reason, sizeof(reason), "back after %s",
				 was == HOST_LEFT ? "leaving" : "expiry");
		set_status(h, HOST_ALIVE, "beacons arriving", now);
		emit(t, was == HOST_STALE ? EV_UPDATE : EV_JOIN, h, reason,
		     now);
	} else if (what[0] != '\0') {
		snprintf(reason, sizeof(reason), "changed: %s", what);
		emit(t, EV_UPDATE, h, reason, now);
	}
	if (strcmp(oldname, h->hostname) != 0)
		check_conflict(t, oldname, now);
	if (live(h) != (was == HOST_ALIVE || was == HOST_STALE) ||
	    strcmp(oldname, h->hostname) != 0)
		check_conflict(t, h->hostname, now);
	return HT_UPDATED;
}

static const char *
last_addr(const struct host *h)
{
	size_t i, best = 0;

	for (i = 1; i < h->n_seen; i++)
		if (h->seen[i].last_ms > h->seen[best].last_ms)
			best = i;
	return h->n_seen ? h->seen[best].addr : NULL;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Queries are spread over a quarter interval each, so that a brief outage
   of the link does not fail them all at once. */
static uint64_t
query_gap(const struct host *h)
{
	uint64_t gap = h->interval_ms / 4;

	return gap < LIVENESS_QUERY_GAP_MS       ? LIVENESS_QUERY_GAP_MS
	       : gap > LIVENESS_QUERY_GAP_MAX_MS ? LIVENESS_QUERY_GAP_MAX_MS
						 : gap;
}

/* One live row: queries, status, and when it next needs a look. */
static uint64_t
tick_host(struct hosttab *t, struct host *h, uint64_t now)
{
	uint64_t silence = now - h->last_seen_ms, next = UINT64_MAX;
	unsigned missed;
	double phi;
	char reason[160];

	if (h->query_out && now >= h->query_due_ms) {
		h->unanswered++;
		h->query_out = false;
	}
	missed = host_missed(h, now);
	if (missed >= 1 && !h->query_out &&
	    h->queries_sent < LIVENESS_QUERIES && now >= h->next_query_ms) {
		const char *addr = last_addr(h);
		if (t->query != NULL && addr != NULL)
			t->query(t->ctx, h, addr);
		h->queries_sent++;
		h->query_out = true;
		h->query_due_ms = now + LIVENESS_ANSWER_MS;
		h->next_query_ms = now + query_gap(h);
	}
	phi = host_phi(h, now);
	snprintf(reason, sizeof(reason),
		 "silent %.1f s: %u beacons and %u direct queries unanswered "
		 "at %.1f%% loss (phi %.1f)",
		 (double)silence / 1000, missed, h->unanswered,
		 100 * host_loss(h), phi);
	if (silence >= (uint64_t)LIVENESS_HARD_TTLS * h->ttl_ms ||
	    (phi >= LIVENESS_EXPIRE_PHI && silence >= h->ttl_ms &&
	     h->unanswered >= LIVENESS_EXPIRE_MIN_QUERIES)) {
		set_status(h, HOST_EXPIRED, reason, now);
		emit(t, EV_EXPIRE, h, reason, now);
		check_conflict(t, h->hostname, now);
		return UINT64_MAX;
	}
	if (h->status == HOST_ALIVE && phi >= LIVENESS_STALE_PHI &&
	    missed >= 2) {
		set_status(h, HOST_STALE, reason, now);
		emit(t, EV_STALE, h, reason, now);
	}
	if (h->query_out)
		next = h->query_due_ms;
	else if (missed >= 1 && h->queries_sent < LIVENESS_QUERIES)
		next = h->next_query_ms > now ? h->next_query_ms : now;
	next = min_u64(next,
		       h->last_seen_ms + LIVENESS_MARGIN_MS +
			       (uint64_t)ceil((missed + 1) * LIVENESS_SLACK *
					      h->interval_ms));
	if (silence < h->ttl_ms)
		next = min_u64(next, h->last_seen_ms + h->ttl_ms);
	return min_u64(next, h->last_seen_ms +
				     (uint64_t)LIVENESS_HARD_TTLS * h->ttl_ms);
}

uint64_t
hosttab_tick(struct hosttab *t, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (live(&t->hosts[i]))
			next = min_u64(next, tick_host(t, &t->hosts[i], now));
	return next;
}

size_t
hosttab_count(const struct hosttab *t)
{
	return t->n;
}

const struct host *
hosttab_at(const struct hosttab *t, size_t i)
{
	return i < t->n ? &t->hosts[i] : NULL;
}

uint64_t
hosttab_refused(const struct hosttab *t)
{
	return t->refused;
}
