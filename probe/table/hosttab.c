/* SPDX-License-Identifier: MIT */
/*
 * The host table (hosttab.h): rows in an array, found through an
 * open-addressing index on the host id. Full tables drop their expired and
 * departed rows first, and refuse (and count) new hosts only when every row
 * is live.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bucket.h"
#include "hosttab.h"
#include "timerq.h"

struct rate {
	uint64_t key; /* hash of the source address + 1; 0: free */
	struct bucket b;
};

struct link {
	char ifname[16];
	double lost, expected;
};

struct name_slot {
	uint32_t hash; /* of the lower-cased name, | 1; 0: never used (two
			  names may share one: the rows' names are compared) */
	uint32_t head; /* first row + 1 with it; 0: none now */
};

struct hosttab {
	struct host *hosts;
	size_t n, cap, max;
	uint32_t *index; /* row + 1; 0 = empty */
	size_t index_size;
	/* Live rows by due time (entries due << 24 | row), so a tick
	   touches only the rows that need it. */
	struct timerq tq;
	/* Rows by hostname, so a conflict check touches only the rows that
	   claim that name; same size as the index. */
	struct name_slot *names;
	size_t names_used;
	uint64_t key[2];
	uint32_t max_ttl_ms;
	double new_per_s, new_burst;
	struct rate rate[HOSTTAB_RATE_SLOTS];
	struct link links[HOSTTAB_LINKS];
	size_t n_links;
	uint64_t drops;
	uint64_t blind_ms; /* the probe's blind time so far (hosttab_blind) */
	uint64_t restored_ms; /* when saved rows were put back */
	double rx_loss;
	uint64_t refused[HR__COUNT];
	hosttab_event_fn ev;
	void *ctx;
};

static const char *const status_names[] = {"alive", "stale", "left", "expired"};
static const char *const event_names[] = {
	"join",   "update",   "restart", "stale",   "leave",
	"expire", "conflict", "new",     "missing", "back"};
static const char *const refusal_names[] = {
	"table_full", "new_host_rate", "seq_window",     "replayed",
	"seq_forged", "after_goodbye", "auth_unverified"};

const char *
host_status_name(enum host_status s)
{
	return status_names[s];
}

bool
host_status_word(const char *w)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(*status_names); i++)
		if (strcmp(w, status_names[i]) == 0)
			return true;
	return strcmp(w, "conflict") == 0;
}

const char *
host_event_name(enum host_event e)
{
	return event_names[e];
}

bool
host_event_word(const char *w, enum host_event *e)
{
	int i;

	for (i = 0; i < EV__COUNT; i++)
		if (strcmp(w, event_names[i]) == 0) {
			*e = (enum host_event)i;
			return true;
		}
	return false;
}

const char *
hosttab_refusal_name(enum hosttab_refusal r)
{
	return refusal_names[r];
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = ROTL(v1, 13);                                             \
		v1 ^= v0;                                                      \
		v0 = ROTL(v0, 32);                                             \
		v2 += v3;                                                      \
		v3 = ROTL(v3, 16);                                             \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = ROTL(v3, 21);                                             \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = ROTL(v1, 17);                                             \
		v1 ^= v2;                                                      \
		v2 = ROTL(v2, 32);                                             \
	} while (0)

/* SipHash-2-4 (Aumasson and Bernstein, 2012): ids and source addresses
   come from the network, so their hash is keyed, and chosen ids cannot
   pile up in one run of the index. */
uint64_t
hosttab_hash(const uint64_t key[2], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key[1];
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;
	int r;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (r = 7; r >= 0; r--)
			m = m << 8 | p[i + (size_t)r];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (r = (int)left - 1; r >= 0; r--)
		b |= (uint64_t)p[i + (size_t)r] << (8 * r);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static size_t
hash_id(const struct hosttab *t, const char *id)
{
	return (size_t)hosttab_hash(t->key, id, strlen(id));
}

struct hosttab *
hosttab_new(const struct hosttab_opts *o, hosttab_event_fn ev, void *ctx)
{
	struct hosttab *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->max = o->max_hosts ? o->max_hosts : HOSTTAB_DEFAULT_MAX;
	t->max_ttl_ms =
		o->max_ttl_ms ? o->max_ttl_ms : HOSTTAB_DEFAULT_MAX_TTL_MS;
	t->new_per_s = o->new_per_s > 0 ? o->new_per_s : HOSTTAB_NEW_PER_S;
	t->new_burst = o->new_burst >= 1 ? o->new_burst : HOSTTAB_NEW_BURST;
	t->key[0] = o->key[0];
	t->key[1] = o->key[1];
	/* The index and the names grow with the table (rebuilt at each
	   doubling), so memory follows the hosts there are, not the bound. */
	t->index_size = 64;
	t->index = calloc(t->index_size, sizeof(*t->index));
	t->names = calloc(t->index_size, sizeof(*t->names));
	/* Room for every row's entry and as many dropped ones. */
	if (timerq_init(&t->tq, 2 * t->max + 64) < 0 || t->index == NULL ||
	    t->names == NULL) {
		hosttab_free(t);
		return NULL;
	}
	t->ev = ev;
	t->ctx = ctx;
	return t;
}

static void host_release(struct host *h);

void
hosttab_free(struct hosttab *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		host_release(&t->hosts[i]);
	free(t->hosts);
	free(t->index);
	free(t->names);
	timerq_free(&t->tq);
	free(t);
}

/* An index slot: row + 1 in the low 25 bits (--max-hosts is at most
   2^24), and the top 7 bits of the id's hash, so a probe past a slot
   reads another row (a cache miss in a large table) once in 128. */
#define IDX_ROW_BITS 25
#define IDX_ROW(v)   ((v) & ((UINT32_C(1) << IDX_ROW_BITS) - 1))

static size_t
slot_hashed(const struct hosttab *t, const char *id, uint64_t hash,
	    uint32_t *tag)
{
	size_t i = hash & (t->index_size - 1);
	uint32_t v;

	*tag = (uint32_t)(hash >> 57) << IDX_ROW_BITS;
	while ((v = t->index[i]) != 0 &&
	       ((v & ~IDX_ROW(UINT32_MAX)) != *tag ||
		strcmp(t->hosts[IDX_ROW(v) - 1].id, id) != 0))
		i = (i + 1) & (t->index_size - 1);
	return i;
}

static size_t
slot_tag_of(const struct hosttab *t, const char *id, uint32_t *tag)
{
	return slot_hashed(t, id, hash_id(t, id), tag);
}

static size_t
slot_of(const struct hosttab *t, const char *id)
{
	uint32_t tag;

	return slot_tag_of(t, id, &tag);
}

/* Row i (whose id is not in the index yet) into the index. */
static void
index_put(struct hosttab *t, size_t i)
{
	uint32_t tag;
	size_t slot = slot_tag_of(t, t->hosts[i].id, &tag);

	t->index[slot] = tag | (uint32_t)(i + 1);
}

/* The row at an index slot, or NULL. */
static struct host *
row_at(const struct hosttab *t, size_t slot)
{
	return t->index[slot] ? &t->hosts[IDX_ROW(t->index[slot]) - 1] : NULL;
}

const struct host *
hosttab_find(const struct hosttab *t, const char *id)
{
	return row_at(t, slot_of(t, id));
}

/* ---- the timers ----
 *
 * Entries are (due << 24 | row): compared as they are, without touching a
 * row (timerq.h). A row's deadline moves later with each of its beacons:
 * then nothing happens here; its entry, earlier, comes up first, and is put
 * back at the row's due (one queue operation an interval instead of one a
 * beacon). An entry is the row's own while row->heap_key is it + 1; any
 * other is dropped when it comes up (a row that left, or whose deadline
 * moved earlier). */

#define HEAP_DUE_MAX ((UINT64_C(1) << (64 - TIMERQ_ROW_BITS)) - 1)

/* The timers anew from the live rows' deadlines. */
static void
heap_rebuild(struct hosttab *t)
{
	size_t i;

	timerq_clear(&t->tq);
	for (i = 0; i < t->n; i++) {
		struct host *h = &t->hosts[i];
		uint64_t due =
			h->due_ms > HEAP_DUE_MAX ? HEAP_DUE_MAX : h->due_ms;
		h->heap_key = 0;
		if (h->status == HOST_ALIVE || h->status == HOST_STALE) {
			uint64_t e = due << TIMERQ_ROW_BITS | i;
			timerq_push(&t->tq, e);
			h->heap_key = e + 1;
		}
	}
}

static void
heap_remove(struct hosttab *t, struct host *h)
{
	(void)t;
	h->heap_key = 0; /* its entry is dropped when it comes up */
}

/* Look at h again at due (UINT64_MAX: never, it is not live). */
static void
schedule(struct hosttab *t, struct host *h, uint64_t due)
{
	uint64_t e;

	if (due == UINT64_MAX) {
		heap_remove(t, h);
		return;
	}
	h->due_ms = due;
	e = (due > HEAP_DUE_MAX ? HEAP_DUE_MAX : due) << TIMERQ_ROW_BITS |
	    (uint64_t)(h - t->hosts);
	if (h->heap_key != 0 && h->heap_key - 1 <= e)
		return; /* its entry comes up first, and is put back */
	if (timerq_len(&t->tq) == t->tq.cap)
		heap_rebuild(t); /* only dropped entries are lost */
	if (h->heap_key != 0 && h->heap_key - 1 <= e)
		return;
	timerq_push(&t->tq, e);
	h->heap_key = e + 1;
}

/* ---- rows by hostname ---- */

static uint32_t
name_hash(const struct hosttab *t, const char *name)
{
	char low[BEACON_MAX_HOSTNAME + 1];
	size_t i;

	for (i = 0; name[i] != '\0' && i < BEACON_MAX_HOSTNAME; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	return (uint32_t)(hosttab_hash(t->key, low, i) >> 32) | 1;
}

static struct name_slot *
name_slot(struct hosttab *t, uint32_t hash, bool create)
{
	size_t mask = t->index_size - 1, i = (size_t)hash & mask;

	while (t->names[i].hash != 0 && t->names[i].hash != hash)
		i = (i + 1) & mask;
	if (t->names[i].hash == 0) {
		if (!create)
			return NULL;
		t->names[i].hash = hash;
		t->names_used++;
	}
	return &t->names[i];
}

const struct host *
hosttab_find_name(const struct hosttab *t, const char *name)
{
	uint32_t hash = name_hash(t, name), row;
	size_t mask = t->index_size - 1, i = (size_t)hash & mask;
	const struct host *found = NULL;

	while (t->names[i].hash != 0 && t->names[i].hash != hash)
		i = (i + 1) & mask;
	if (t->names[i].hash == 0)
		return NULL;
	for (row = t->names[i].head; row != 0;
	     row = t->hosts[row - 1].name_next) {
		const struct host *h = &t->hosts[row - 1];
		if (strcasecmp(h->hostname, name) != 0)
			continue;
		if (h->status == HOST_ALIVE || h->status == HOST_STALE)
			return h;
		found = h;
	}
	return found;
}

static void
name_link(struct hosttab *t, struct host *h)
{
	struct name_slot *n = name_slot(t, name_hash(t, h->hostname), true);

	h->name_next = n->head;
	n->head = (uint32_t)(h - t->hosts) + 1;
}

static void
name_unlink(struct hosttab *t, struct host *h, const char *name)
{
	struct name_slot *n = name_slot(t, name_hash(t, name), false);
	uint32_t row = (uint32_t)(h - t->hosts) + 1, *p;

	if (n == NULL)
		return;
	for (p = &n->head; *p != 0; p = &t->hosts[*p - 1].name_next)
		if (*p == row) {
			*p = h->name_next;
			break;
		}
	h->name_next = 0;
}

static void rebuild(struct hosttab *t);
static void reindex(struct hosttab *t);

/* The names table keeps a slot for every name it has seen: rebuilt
   from the rows when that fills it past three quarters. */
static void
names_room(struct hosttab *t)
{
	if (t->names_used + 1 > t->index_size / 4 * 3)
		reindex(t);
}

/* Twice the room in the index and the names. False when out of memory. */
static bool
grow_index(struct hosttab *t)
{
	size_t size = 2 * t->index_size;
	uint32_t *index = realloc(t->index, size * sizeof(*index));
	struct name_slot *names;

	if (index == NULL)
		return false;
	t->index = index;
	names = realloc(t->names, size * sizeof(*names));
	if (names == NULL)
		return false; /* the bigger index is kept; size unchanged */
	t->names = names;
	t->index_size = size;
	reindex(t);
	return true;
}

/* Index, names and heap anew from the rows (after rows moved). */
static void
rebuild(struct hosttab *t)
{
	reindex(t);
	heap_rebuild(t);
}

/* Index and names anew from the rows (the rows in place: the heap holds
   them as it is). */
static void
reindex(struct hosttab *t)
{
	size_t i;

	memset(t->index, 0, t->index_size * sizeof(*t->index));
	memset(t->names, 0, t->index_size * sizeof(*t->names));
	t->names_used = 0;
	for (i = 0; i < t->n; i++) {
		struct host *h = &t->hosts[i];
		index_put(t, i);
		name_link(t, h);
	}
}

static bool
live(const struct host *h)
{
	return h->status == HOST_ALIVE || h->status == HOST_STALE;
}

/* A departed row whose goodbye has stood for one of its intervals (a
   forged one is undone by the host's next beacon before that). */
static bool
gone(const struct host *h, uint64_t now)
{
	return h->status == HOST_EXPIRED ||
	       (h->status == HOST_LEFT && now - h->status_ms >= h->interval_ms);
}

/* Make room for a newcomer: drop every row that is gone, or failing that
   the quietest live row without a history (a host that sent fewer than
   HOST_HISTORY beacons: possibly one of many forged ids). A live host with
   a history is never dropped for a newcomer. */
static bool
make_room(struct hosttab *t, uint64_t now)
{
	size_t i, j, victim = SIZE_MAX;

	for (i = j = 0; i < t->n; i++)
		if (!gone(&t->hosts[i], now))
			t->hosts[j++] = t->hosts[i];
		else
			host_release(&t->hosts[i]);
	if (j == t->n) {
		for (i = 0; i < t->n; i++) {
			const struct host *h = &t->hosts[i];
			if (h->received < HOST_HISTORY &&
			    (victim == SIZE_MAX ||
			     h->last_seen_ms < t->hosts[victim].last_seen_ms))
				victim = i;
		}
		if (victim == SIZE_MAX)
			return false;
		host_release(&t->hosts[victim]);
		t->hosts[victim] = t->hosts[--j];
	}
	t->n = j;
	rebuild(t);
	return true;
}

/* A token bucket per source address (hashed into a fixed table; a
   collision only makes two sources share one bucket). */
static bool
rate_ok(struct hosttab *t, const char *src, uint64_t now)
{
	uint64_t k = hosttab_hash(t->key, src, strlen(src)) | 1;
	struct rate *r = &t->rate[k % HOSTTAB_RATE_SLOTS];

	if (r->key != k) { /* another source: a full bucket */
		r->key = k;
		r->b.used = false;
	}
	return bucket_take(&r->b, t->new_per_s, t->new_burst, now);
}

static int
link_of(struct hosttab *t, const char *ifname)
{
	size_t i;

	for (i = 0; i < t->n_links; i++)
		if (strcmp(t->links[i].ifname, ifname) == 0)
			return (int)i;
	if (t->n_links == HOSTTAB_LINKS)
		return -1;
	snprintf(t->links[i].ifname, sizeof(t->links[i].ifname), "%s", ifname);
	t->n_links++;
	return (int)i;
}

/* The most loss a pool of n expected beacons with `lost` missing allows
   (one-sided 99%, Wilson's score bound: with none lost, z^2 / (n + z^2),
   0.18 at 24 beacons, 0.10 at 50). */
static double
loss_upper(double lost, double n)
{
	const double z = 2.326, z2 = z * z;
	double p;

	if (n <= 0)
		return 1;
	p = lost / n;
	return (p + z2 / (2 * n) +
		z * sqrt(p * (1 - p) / n + z2 / (4 * n * n))) /
	       (1 + z2 / n);
}

/* What the probe knows of loss on a link: every host heard there pooled.
   Below LINK_MIN_SEEN expected beacons, the most the pool allows (so a
   chance-clean start on a lossy link does not pass for a clean link), and
   never more than LOSS_PRIOR, the guess when nothing is known; past it,
   one more loss than measured keeps the estimate on the cautious side of
   a short clean run. */
static double
link_loss(const struct hosttab *t, int l)
{
	const struct link *k;
	double up;

	if (l < 0)
		return LOSS_PRIOR;
	k = &t->links[l];
	if (k->expected < LINK_MIN_SEEN) {
		up = loss_upper(k->lost, k->expected);
		return up < LOSS_PRIOR ? up : LOSS_PRIOR;
	}
	return (k->lost + 1) / (k->expected + 1);
}

static void
count_beacons(struct hosttab *t, struct host *h, uint64_t gap)
{
	struct link *k = h->link >= 0 ? &t->links[h->link] : NULL;

	h->win_lost += (float)gap;
	h->win_expected += (float)gap + 1;
	if (h->win_expected > LOSS_WINDOW) {
		h->win_lost /= 2;
		h->win_expected /= 2;
	}
	if (k != NULL) {
		k->lost += (double)gap;
		k->expected += (double)gap + 1;
		if (k->expected > LINK_WINDOW) {
			k->lost /= 2;
			k->expected /= 2;
		}
	}
}

double
host_loss(const struct host *h)
{
	double p = (h->win_lost + h->prior / 65535.0 * LOSS_PRIOR_SEEN) /
		   (h->win_expected + LOSS_PRIOR_SEEN);

	return p < LOSS_MIN ? LOSS_MIN : p > LOSS_MAX ? LOSS_MAX : p;
}

/* When h was last heard, as far as liveness goes: later by the time the
   probe has been blind since; a restored row, when it was put back. */
static uint64_t
heard_ms(const struct hosttab *t, const struct host *h)
{
	uint64_t at = h->restored && t->restored_ms > h->last_seen_ms
			      ? t->restored_ms
			      : h->last_seen_ms;

	return at + (uint32_t)((uint32_t)t->blind_ms - h->blind_at);
}

static unsigned
missed_since(const struct host *h, uint64_t heard, uint64_t now_ms)
{
	uint64_t silence = now_ms > heard ? now_ms - heard : 0;

	if (silence <= LIVENESS_MARGIN_MS)
		return 0;
	return (unsigned)floor((double)(silence - LIVENESS_MARGIN_MS) /
			       (LIVENESS_SLACK * h->interval_ms));
}

unsigned
host_missed(const struct hosttab *t, const struct host *h, uint64_t now_ms)
{
	return missed_since(h, heard_ms(t, h), now_ms);
}

/* The chance a beacon of h does not reach the table: its link's loss,
   and what the probe drops itself. */
static double
loss_now(const struct hosttab *t, const struct host *h)
{
	double p = 1 - (1 - host_loss(h)) * (1 - t->rx_loss);

	return p > LOSS_MAX ? LOSS_MAX : p;
}

static double
host_phi(const struct hosttab *t, const struct host *h, uint64_t now_ms)
{
	double p = loss_now(t, h), q = 2 * p < 1 ? 2 * p : 1;

	return -(host_missed(t, h, now_ms) * log10(p) +
		 h->unanswered * log10(q));
}

static void
emit(struct hosttab *t, enum host_event ev, const struct host *h,
     const char *reason, uint64_t now)
{
	if (t->ev != NULL)
		t->ev(t->ctx, ev, h, reason, now);
}

/* Flag every live row claiming NAME when there are two or more. */
static void
check_conflict(struct hosttab *t, const char *name, uint64_t now)
{
	struct name_slot *n;
	size_t claims = 0;
	char reason[160];
	uint32_t r;

	if (name[0] == '\0')
		return;
	n = name_slot(t, name_hash(t, name), false);
	if (n == NULL)
		return;
	for (r = n->head; r != 0; r = t->hosts[r - 1].name_next)
		if (live(&t->hosts[r - 1]) &&
		    strcasecmp(t->hosts[r - 1].hostname, name) == 0)
			claims++;
	for (r = n->head; r != 0; r = t->hosts[r - 1].name_next) {
		struct host *h = &t->hosts[r - 1];
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
		} else if (!c && h->conflict && live(h)) {
			/* Readers (watch, HTTP streams, MQTT) see it end. */
			snprintf(reason, sizeof(reason),
				 "hostname %s no longer claimed by another id",
				 h->hostname);
			h->conflict = false;
			emit(t, EV_UPDATE, h, reason, now);
		}
		h->conflict = c;
	}
}

static struct host_seen *
seen_at(struct host *h, size_t i)
{
	return i == 0 ? &h->seen0 : &h->seen_more[i - 1];
}

static void
set_seen(struct host *h, const char *addr, const char *ifname, uint64_t now)
{
	struct host_seen *e;
	size_t i, oldest = 0;

	for (i = 0; i < h->n_seen; i++) {
		if (strcmp(seen_at(h, i)->addr, addr) == 0)
			break;
		if (seen_at(h, i)->last_ms < seen_at(h, oldest)->last_ms)
			oldest = i;
	}
	if (i == h->n_seen) {
		struct host_seen *more = NULL;
		if (h->n_seen == 0)
			h->n_seen = 1;
		else if (h->n_seen < HOST_SEEN_MAX &&
			 (more = realloc(h->seen_more,
					 h->n_seen * sizeof(*more))) != NULL) {
			h->seen_more = more;
			h->n_seen++;
		} else {
			i = oldest; /* full, or out of memory */
		}
		e = seen_at(h, i);
		snprintf(e->addr, sizeof(e->addr), "%s", addr);
		e->ifname[0] = '\0';
	}
	e = seen_at(h, i);
	if (strcmp(e->ifname, ifname ? ifname : "") != 0)
		snprintf(e->ifname, sizeof(e->ifname), "%s",
			 ifname ? ifname : "");
	e->last_ms = now;
}

/* Free what a row owns (not the row). */
static void
host_release(struct host *h)
{
	free(h->parts);
	free(h->seen_more);
	free(h->reason);
	h->parts = NULL;
	h->seen_more = NULL;
	h->reason = NULL;
	h->hostname = "";
	h->n_seen = h->n_ipv4 = h->n_ipv6 = h->n_tags = 0;
}

/* The variable parts of b in one allocation (host_*() read them). False
   when out of memory (h keeps what it had). */
static bool
set_parts(struct host *h, const struct beacon_msg *b)
{
	size_t nt = b->n_tags * sizeof(struct beacon_tag), n = nt, i;
	const char *s[2 * BEACON_MAX_ADDRS + 3];
	size_t ns = 0, len[sizeof(s) / sizeof(s[0])];
	char *p, *q;

	for (i = 0; i < b->n_ipv4; i++)
		s[ns++] = b->ipv4[i];
	for (i = 0; i < b->n_ipv6; i++)
		s[ns++] = b->ipv6[i];
	s[ns++] = b->hostname;
	s[ns++] = b->os;
	s[ns++] = b->os_version;
	for (i = 0; i < ns; i++)
		n += len[i] = strlen(s[i]) + 1;
	if ((p = malloc(n)) == NULL)
		return false;
	memcpy(p, b->tags, nt);
	for (q = p + nt, i = 0; i < ns; q += len[i++])
		memcpy(q, s[i], len[i]);
	free(h->parts);
	h->parts = p;
	h->n_ipv4 = (uint8_t)b->n_ipv4;
	h->n_ipv6 = (uint8_t)b->n_ipv6;
	h->n_tags = (uint8_t)b->n_tags;
	h->hostname = host_part(h, h->n_ipv4 + h->n_ipv6);
	return true;
}

static bool
same_addrs(const struct host *h, const struct beacon_msg *b)
{
	size_t i;

	if (h->n_ipv4 != b->n_ipv4 || h->n_ipv6 != b->n_ipv6)
		return false;
	for (i = 0; i < b->n_ipv4; i++)
		if (strcmp(host_ipv4(h, i), b->ipv4[i]) != 0)
			return false;
	for (i = 0; i < b->n_ipv6; i++)
		if (strcmp(host_ipv6(h, i), b->ipv6[i]) != 0)
			return false;
	return true;
}

static bool
same_tags(const struct host *h, const struct beacon_msg *b)
{
	size_t i;

	if (h->n_tags != b->n_tags)
		return false;
	for (i = 0; i < b->n_tags; i++)
		if (strcmp(host_tag(h, i)->key, b->tags[i].key) != 0 ||
		    strcmp(host_tag(h, i)->value, b->tags[i].value) != 0)
			return false;
	return true;
}

/* Copy what the beacon says; describe what changed in what (may be ""). */
static void
apply(struct host *h, const struct beacon_msg *b, uint64_t now, char *what,
      size_t len)
{
	size_t used = 0;
	bool addrs, tags, os;

	what[0] = '\0';
#define CHANGED(cond, name)                                                    \
	do {                                                                   \
		if (cond)                                                      \
			used += (size_t)snprintf(                              \
				what + used, used < len ? len - used : 0,      \
				"%s%s", used ? ", " : "", name);               \
	} while (0)
	addrs = same_addrs(h, b);
	tags = same_tags(h, b);
	os = h->parts != NULL && strcmp(host_os(h), b->os) == 0 &&
	     strcmp(host_os_version(h), b->os_version) == 0;
	CHANGED(strcmp(h->hostname, b->hostname) != 0, "hostname");
	CHANGED(!addrs, "addresses");
	CHANGED(!tags, "tags");
	CHANGED(!os, "os");
	CHANGED(h->interval_ms != b->interval_ms || h->ttl_ms != b->ttl_ms,
		"timing");
#undef CHANGED
	if (!(addrs && tags && os) || strcmp(h->hostname, b->hostname) != 0)
		(void)set_parts(h, b); /* out of memory: the old ones stay */
	h->interval_ms = b->interval_ms;
	h->ttl_ms = b->ttl_ms;
	h->has_uptime = b->has_uptime;
	h->uptime_s = b->uptime_s;
	h->uptime_at_ms = now;
}

/* The reasons most rows have are these constants, shared; the others are
   copied. */
static const char R_ARRIVING[] = "beacons arriving";
static const char R_BYE[] = "said goodbye";

static void
set_status(struct hosttab *t, struct host *h, enum host_status s,
	   const char *reason, uint64_t now)
{
	h->status = (uint8_t)s;
	h->status_ms = now;
	free(h->reason);
	/* The usual words are not stored (host_reason); out of memory, the
	   row goes without its reason. */
	h->reason =
		reason == R_ARRIVING || reason == R_BYE ? NULL : strdup(reason);
	if (s == HOST_LEFT || s == HOST_EXPIRED)
		heap_remove(t, h);
}

static void
heard(struct hosttab *t, struct host *h, const char *src, const char *ifname,
      uint64_t now)
{
	h->last_seen_ms = now;
	set_seen(h, src, ifname, now);
	h->link = (int8_t)link_of(t, ifname ? ifname : "");
	h->prior = (uint16_t)lround(link_loss(t, h->link) * 65535);
	h->drops_at = (uint16_t)t->drops;
	h->blind_at = (uint32_t)t->blind_ms;
	h->queries_sent = h->unanswered = 0;
	h->query_out = false;
	h->restored = false;
	h->next_query_ms = 0;
}

static void
timing(const struct hosttab *t, struct host *h)
{
	if (h->interval_ms > t->max_ttl_ms)
		h->interval_ms = t->max_ttl_ms;
	if (h->ttl_ms > t->max_ttl_ms)
		h->ttl_ms = t->max_ttl_ms;
}

static void
new_sequence(struct host *h, uint64_t seq, uint64_t now)
{
	h->seq = h->seq_up = seq;
	h->seq_seen = 1;
	h->cand_seq = 0;
	h->top_ms = now;
	h->top_gap = 0;
}

static void
said_goodbye(struct hosttab *t, struct host *h, uint64_t seq, uint64_t now)
{
	if (h->status != HOST_LEFT || h->bye_seq == 0) {
		h->bye_seq = seq;
		h->bye_ms = now;
	}
	if (h->status != HOST_LEFT) {
		set_status(t, h, HOST_LEFT, R_BYE, now);
		emit(t, EV_LEAVE, h, "said goodbye", now);
	}
}

/* After a beacon, nothing is due before the next one is missed. */
static uint64_t
first_miss(const struct host *h)
{
	return h->last_seen_ms + LIVENESS_MARGIN_MS +
	       (uint64_t)ceil(LIVENESS_SLACK * h->interval_ms);
}

/* The next row (t->n < t->max), with b's id, instance and parts; not in
   the table until put_row(). NULL when out of memory. */
static struct host *
new_row(struct hosttab *t, const struct beacon_msg *b)
{
	struct host *h;
	char what[96];

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct host *hs;
		if (cap > t->max)
			cap = t->max;
		hs = realloc(t->hosts, cap * sizeof(*hs));
		if (hs == NULL)
			return NULL;
		t->hosts = hs;
		t->cap = cap;
	}
	/* Load at most 0.7: 16 slots a cache line, so a probe past its
	   first slot rarely costs another miss; 0.5 took 20 bytes a host
	   more at 20,000 hosts. */
	if (10 * (t->n + 1) > 7 * t->index_size && !grow_index(t))
		return NULL;
	names_room(t);
	h = &t->hosts[t->n];
	memset(h, 0, sizeof(*h));
	memcpy(h->id, b->id, sizeof(h->id));
	memcpy(h->instance, b->instance, sizeof(h->instance));
	h->hostname = "";
	apply(h, b, 0, what, sizeof(what));
	if (h->parts == NULL) {
		host_release(h);
		return NULL;
	}
	return h;
}

static void
put_row(struct hosttab *t, struct host *h)
{
	index_put(t, t->n);
	t->n++;
	name_link(t, h);
}

static enum hosttab_result
add(struct hosttab *t, const struct beacon_msg *b, const char *src,
    const char *ifname, uint64_t now)
{
	struct host *h;

	if (!rate_ok(t, src, now)) {
		t->refused[HR_NEW_RATE]++;
		return HT_REFUSED;
	}
	if ((t->n == t->max && !make_room(t, now)) ||
	    (h = new_row(t, b)) == NULL) {
		t->refused[HR_TABLE_FULL]++;
		return HT_REFUSED;
	}
	new_sequence(h, b->seq, now);
	h->received = 1;
	h->first_seen_ms = h->uptime_at_ms = now;
	timing(t, h);
	heard(t, h, src, ifname, now);
	count_beacons(t, h, 0);
	put_row(t, h);
	if (b->state == BEACON_STATE_BYE) {
		said_goodbye(t, h, b->seq, now);
	} else {
		set_status(t, h, HOST_ALIVE, R_ARRIVING, now);
		schedule(t, h, first_miss(h));
		emit(t, EV_JOIN, h, "first beacon", now);
		check_conflict(t, h->hostname, now);
	}
	return HT_NEW;
}

/* How far ahead of the last seq a beacon may be: what an agent can send in
   the silence (beacons, announcements, answers), and some. */
static uint64_t
seq_window(const struct host *h, uint64_t now)
{
	return SEQ_WINDOW +
	       SEQ_WINDOW_PER_S * ((now - h->last_seen_ms) / 1000 + 1);
}

/* A beacon older than the newest one taken: a late copy of one the link
   reordered (within REORDER_MS: real links reorder by milliseconds), a
   replay, or a sign that the newest one was forged: one that jumped ahead
   and is followed, later, by the real host's own sequence. */
static enum hosttab_result
older(struct hosttab *t, struct host *h, uint64_t seq, enum beacon_state state,
      uint64_t now)
{
	uint64_t back = h->seq - seq;

	if (state == BEACON_STATE_BYE || back >= 64 ||
	    (h->seq_seen >> back) & 1) {
		t->refused[HR_REPLAYED]++;
		return HT_DUPLICATE;
	}
	if (now - h->top_ms >= REORDER_MS && h->top_gap > 0) {
		t->refused[HR_SEQ_FORGED]++;
		h->lost -= h->lost >= h->top_gap ? h->top_gap : h->lost;
		h->win_lost -= h->win_lost >= (float)h->top_gap
				       ? (float)h->top_gap
				       : h->win_lost;
		h->seq = h->seq_up = seq;
		h->seq_seen = 1;
		h->top_ms = now;
		h->top_gap = 0;
		h->received++;
		return HT_UPDATED;
	}
	h->seq_seen |= 1ull << back;
	if (h->win_lost >= 1)
		h->win_lost -= 1;
	if (h->lost > 0)
		h->lost--;
	h->received++;
	return HT_OLD;
}

/* Sort a beacon of the current instance: new (the gap it leaves counted
   as lost), older, or refused. A goodbye does not move the sequence, so
   the instance's next beacon, if any, still counts as new. */
static enum hosttab_result
sequence(struct hosttab *t, struct host *h, uint64_t s, enum beacon_state state,
	 uint64_t now)
{
	uint64_t gap;

	if (s <= h->seq)
		return older(t, h, s, state, now);
	if (s - h->seq > seq_window(h, now)) {
		/* A jump no agent makes: a forgery, or a host back from a
		   long silence. It is believed only when the row has been
		   silent for its TTL and the jumps continue each other. */
		bool resync = h->cand_seq != 0 && s > h->cand_seq &&
			      s - h->cand_seq <= SEQ_RESYNC &&
			      now - h->last_seen_ms >= h->ttl_ms;
		h->cand_seq = s;
		if (!resync) {
			t->refused[HR_SEQ_WINDOW]++;
			return HT_REFUSED;
		}
		gap = 0;
	} else {
		gap = s - h->seq - 1;
	}
	h->cand_seq = 0;
	if (state == BEACON_STATE_BYE)
		return HT_UPDATED;
	h->seq_seen = gap >= 63 ? 1 : (h->seq_seen << (gap + 1)) | 1;
	h->seq = h->seq_up = s;
	h->top_ms = now;
	if ((uint16_t)t->drops != h->drops_at) {
		h->lost_local += gap; /* the probe's loss, not the link's */
		gap = 0;
	}
	h->top_gap = (uint32_t)gap; /* at most the window */
	h->lost += gap;
	count_beacons(t, h, gap);
	h->received++;
	return HT_UPDATED;
}

/* A beacon for a row that was not alive: back, with why. */
static void
revive(struct hosttab *t, struct host *h, enum host_status was, bool restored,
       bool restarted, uint64_t now)
{
	char reason[160];

	if (was == HOST_STALE && restored) {
		snprintf(reason, sizeof(reason),
			 "first beacon since the probe started");
	} else if (was == HOST_STALE) {
		snprintf(reason, sizeof(reason),
			 "beacon after %.1f s of silence",
			 (double)(now - h->status_ms) / 1000);
	} else {
		/* One beacon brings a departed host back, but only
		   until the host fails to send the next one. */
		if (was == HOST_LEFT && h->bye_seq != 0 && !restarted)
			t->refused[HR_AFTER_GOODBYE]++;
		snprintf(reason, sizeof(reason), "back after %s",
			 was == HOST_LEFT ? "leaving" : "expiry");
		h->disputed = was;
	}
	h->bye_seq = h->bye_ms = 0;
	set_status(t, h, HOST_ALIVE, R_ARRIVING, now);
	emit(t, was == HOST_STALE ? EV_UPDATE : EV_JOIN, h, reason, now);
}

/* A beacon for row h: b, or (b NULL) one whose bytes are those of h's
   last one but for its sequence number. */
static enum hosttab_result
update_row(struct hosttab *t, struct host *h, const struct beacon_msg *b,
	   uint64_t seq, enum beacon_state state, const char *src,
	   const char *ifname, uint64_t now)
{
	enum host_status was = h->status;
	enum hosttab_result r;
	char what[96], reason[160], oldname[BEACON_MAX_HOSTNAME + 1] = "";
	bool renamed = false;
	bool restarted = b != NULL && strcmp(h->instance, b->instance) != 0;
	bool restored = h->restored;

	what[0] = '\0';
	if (restarted) {
		snprintf(reason, sizeof(reason), "new instance %s (was %s)",
			 b->instance, h->instance);
		memcpy(h->instance, b->instance, sizeof(h->instance));
		new_sequence(h, seq, now);
		h->restarts++;
		h->received++;
		h->fp_hash = 0;
		emit(t, EV_RESTART, h, reason, now);
	} else {
		r = sequence(t, h, seq, state, now);
		/* A copy of the newest beacon soon after it came another
		   way (another interface, another of the host's addresses).
		   Later, it is a replay: its source is not the host's. */
		if (r == HT_DUPLICATE && seq == h->seq &&
		    now - h->top_ms < REORDER_MS)
			set_seen(h, src, ifname, now);
		if (r != HT_UPDATED)
			return r;
		if (was == HOST_LEFT && state == BEACON_STATE_UP &&
		    seq < h->bye_seq && now - h->bye_ms < REORDER_MS)
			return HT_OLD; /* sent just before its goodbye */
	}
	if (b != NULL) { /* (the fast path's beacons leave the name cold) */
		renamed = strcmp(h->hostname, b->hostname) != 0;
		if (renamed) {
			snprintf(oldname, sizeof(oldname), "%s", h->hostname);
			names_room(t);
			name_unlink(t, h, oldname);
		}
		apply(h, b, now, what, sizeof(what));
		if (renamed)
			name_link(t, h);
		timing(t, h);
	}
	heard(t, h, src, ifname, now);
	if (live(h))
		h->disputed = HOST_ALIVE; /* a second beacon settles it */
	if (state == BEACON_STATE_BYE) {
		h->disputed = HOST_ALIVE;
		said_goodbye(t, h, seq, now);
	} else if (was != HOST_ALIVE) {
		revive(t, h, was, restored, restarted, now);
	} else if (what[0] != '\0') {
		snprintf(reason, sizeof(reason), "changed: %s", what);
		emit(t, EV_UPDATE, h, reason, now);
	}
	if (live(h))
		schedule(t, h, first_miss(h));
	if (renamed)
		check_conflict(t, oldname, now);
	if (live(h) != (was == HOST_ALIVE || was == HOST_STALE) || renamed)
		check_conflict(t, h->hostname, now);
	return HT_UPDATED;
}

static const struct host_seen *last_seen(const struct host *h);

int
hosttab_reserve(struct hosttab *t, size_t n)
{
	struct host *hs;

	if (n > t->max)
		n = t->max;
	if (n > t->cap) {
		if ((hs = realloc(t->hosts, n * sizeof(*hs))) == NULL)
			return -1;
		t->hosts = hs;
		t->cap = n;
	}
	while (10 * n > 7 * t->index_size)
		if (!grow_index(t))
			return -1;
	return 0;
}

int
hosttab_restore(struct hosttab *t, const struct hosttab_saved *s, uint64_t now)
{
	struct host *h;
	double loss;
	size_t i;

	if (t->index[slot_of(t, s->b->id)] != 0 || t->n == t->max ||
	    (h = new_row(t, s->b)) == NULL)
		return -1;
	timing(t, h);
	h->first_seen_ms = s->first_seen_ms;
	h->last_seen_ms = h->uptime_at_ms = s->last_seen_ms;
	h->received = s->received;
	h->lost = s->lost;
	h->restarts = s->restarts;
	h->verified = s->verified;
	for (i = 0; i < s->n_seen; i++)
		set_seen(h, s->seen[i].addr, s->seen[i].ifname,
			 s->seen[i].last_ms);
	h->link = (int8_t)(h->n_seen ? link_of(t, last_seen(h)->ifname) : -1);
	loss = s->loss >= LOSS_MIN && s->loss <= LOSS_MAX ? s->loss
							  : LOSS_PRIOR;
	h->prior = (uint16_t)lround(loss * 65535);
	h->win_expected =
		(float)(s->received < LOSS_WINDOW ? s->received : LOSS_WINDOW);
	h->win_lost = (float)loss * h->win_expected;
	h->drops_at = (uint16_t)t->drops;
	h->blind_at = (uint32_t)t->blind_ms;
	/* Its sequence as last written: a beacon takes it on as usual (the
	   window widens with the silence), so a forged jump or a recording
	   does no more to a restored row than to any other. */
	h->seq = h->seq_up = s->b->seq;
	h->seq_seen = 1;
	h->top_ms = s->last_seen_ms;
	h->restored = true;
	put_row(t, h);
	if (s->status == HOST_ALIVE || s->status == HOST_STALE) {
		t->restored_ms = now;
		set_status(t, h, HOST_STALE, HOSTTAB_NOT_HEARD, now);
		schedule(t, h,
			 now + LIVENESS_MARGIN_MS +
				 (uint64_t)ceil(LIVENESS_SLACK *
						h->interval_ms));
	} else {
		set_status(t, h, s->status, s->reason != NULL ? s->reason : "",
			   s->status_ms);
	}
	return 0;
}

enum hosttab_result
hosttab_update(struct hosttab *t, const struct beacon_msg *b, const char *src,
	       const char *ifname, uint64_t now)
{
	size_t slot = slot_of(t, b->id);

	if (t->index[slot] == 0)
		return add(t, b, src, ifname, now);
	return update_row(t, row_at(t, slot), b, b->seq, b->state, src, ifname,
			  now);
}

enum hosttab_result
hosttab_update_auth(struct hosttab *t, const struct beacon_msg *b,
		    const char *src, const char *ifname, uint64_t now,
		    bool verified)
{
	size_t slot = slot_of(t, b->id);
	enum hosttab_result r;
	struct host *h;
	bool restart;

	if (t->index[slot] == 0) {
		r = add(t, b, src, ifname, now);
		slot = slot_of(t, b->id);
		if (r == HT_NEW && t->index[slot] != 0)
			row_at(t, slot)->verified = verified;
		return r;
	}
	h = row_at(t, slot);
	if (h->verified && !verified) {
		t->refused[HR_UNVERIFIED]++;
		return HT_REFUSED;
	}
	restart = strcmp(h->instance, b->instance) != 0;
	r = update_row(t, h, b, b->seq, b->state, src, ifname, now);
	if (r == HT_UPDATED && restart)
		h->verified = verified;
	return r;
}

void
hosttab_prefetch(const struct hosttab *t, const char *id,
		 struct hosttab_fast *f)
{
	f->id_hash = hash_id(t, id);
	__builtin_prefetch(&t->index[f->id_hash & (t->index_size - 1)]);
}

enum hosttab_result
hosttab_refresh(struct hosttab *t, const char *id, const struct hosttab_fast *f,
		const char *src, const char *ifname, uint64_t now)
{
	uint32_t tag;
	size_t slot = slot_hashed(t, id, f->id_hash, &tag);
	enum hosttab_result r;
	struct host *h;

	if (t->index[slot] == 0)
		return HT_UNKNOWN;
	h = row_at(t, slot);
	/* The same bytes but the digits: the keys before the digits are
	   where they were, once each, so the digits mean what they did. */
	if (h->fp_hash == 0 || h->fp_hash != f->hash || h->verified)
		return HT_UNKNOWN; /* a verified host: its signatures are checked */
	r = update_row(t, h, NULL, f->seq, h->fp_state, src, ifname, now);
	if (r == HT_UPDATED && f->up_at != 0) {
		h->uptime_s = f->uptime_s;
		h->uptime_at_ms = now;
	}
	return r;
}

void
hosttab_set_fingerprint(struct hosttab *t, const struct beacon_msg *b,
			const struct hosttab_fast *f)
{
	size_t slot = slot_of(t, b->id);
	struct host *h;

	if (t->index[slot] == 0)
		return;
	h = row_at(t, slot);
	h->fp_hash = f->hash;
	h->fp_state = (uint8_t)b->state;
}

void
hosttab_blind(struct hosttab *t, uint64_t ms)
{
	/* The rows' deadlines were set without it: a row looked at early
	   finds its silence shorter and is put back, later. */
	t->blind_ms += ms;
}

void
hosttab_set_drops(struct hosttab *t, uint64_t drops, double rx_loss)
{
	t->drops = drops;
	t->rx_loss = rx_loss < 0 ? 0 : rx_loss > 0.99 ? 0.99 : rx_loss;
}

static const struct host_seen *
last_seen(const struct host *h)
{
	size_t i, best = 0;

	for (i = 1; i < h->n_seen; i++)
		if (host_seen_at(h, i)->last_ms >
		    host_seen_at(h, best)->last_ms)
			best = i;
	return h->n_seen ? host_seen_at(h, best) : NULL;
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

/* A query for a silent row, when one is due and none is out. */
static void
ask(struct host *h, unsigned missed, uint64_t now, struct hosttab_ask *asks,
    size_t max, size_t *n)
{
	const struct host_seen *s;
	struct hosttab_ask *a;

	if (missed < 1 || h->query_out || h->queries_sent >= LIVENESS_QUERIES ||
	    now < h->next_query_ms || *n >= max) /* the caller leaves room */
		return;
	s = last_seen(h);
	a = &asks[(*n)++];
	memcpy(a->id, h->id, sizeof(a->id));
	snprintf(a->addr, sizeof(a->addr), "%s", s ? s->addr : "");
	snprintf(a->ifname, sizeof(a->ifname), "%s", s ? s->ifname : "");
	h->queries_sent++;
	h->query_out = true;
	h->query_due_ms = now + LIVENESS_ANSWER_MS;
	h->next_query_ms = now + query_gap(h);
}

/* When a live row needs its next look: its query's answer or the next
   query, its next beacon, its TTL, its hard limit. */
static uint64_t
next_look(const struct host *h, uint64_t heard, unsigned missed, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if (h->query_out)
		next = min_u64(next, h->query_due_ms);
	else if (missed >= 1 && h->queries_sent < LIVENESS_QUERIES)
		next = min_u64(next,
			       h->next_query_ms > now ? h->next_query_ms : now);
	next = min_u64(next,
		       heard + LIVENESS_MARGIN_MS +
			       (uint64_t)ceil((missed + 1) * LIVENESS_SLACK *
					      h->interval_ms));
	if (now < heard + h->ttl_ms)
		next = min_u64(next, heard + h->ttl_ms);
	return min_u64(next, heard + (uint64_t)LIVENESS_HARD_TTLS * h->ttl_ms);
}

/* A row brought back by one beacon, then silent: that beacon was not the
   host's, and it goes back to where it was. */
static void
undispute(struct hosttab *t, struct host *h, uint64_t now)
{
	enum host_status back = (enum host_status)h->disputed;

	h->disputed = HOST_ALIVE;
	set_status(t, h, back,
		   back == HOST_LEFT
			   ? "said goodbye (one later beacon, then silence)"
			   : "expired (one later beacon, then silence)",
		   now);
	emit(t, back == HOST_LEFT ? EV_LEAVE : EV_EXPIRE, h, host_reason(h),
	     now);
	check_conflict(t, h->hostname, now);
}

static void
silent_reason(const struct hosttab *t, const struct host *h, uint64_t silence,
	      unsigned missed, double phi, char reason[160])
{
	snprintf(reason, 160,
		 "silent %.1f s%s: %u beacons and %u direct queries "
		 "unanswered at %.1f%% loss (phi %.1f)",
		 (double)silence / 1000,
		 h->restored ? " since the probe started" : "", missed,
		 h->unanswered, 100 * loss_now(t, h), phi);
}

/* One live row: queries, status, and when it next needs a look. The
   reason is written only when the status changes. */
static uint64_t
tick_host(struct hosttab *t, struct host *h, uint64_t now,
	  struct hosttab_ask *asks, size_t max, size_t *n)
{
	uint64_t heard = heard_ms(t, h);
	uint64_t silence = now > heard ? now - heard : 0;
	unsigned missed;
	double phi;
	char reason[160];

	if (h->query_out && now >= h->query_due_ms) {
		h->unanswered++;
		h->query_out = false;
	}
	missed = missed_since(h, heard, now);
	ask(h, missed, now, asks, max, n);
	if (h->disputed != HOST_ALIVE && missed >= 1 && h->unanswered >= 1) {
		undispute(t, h, now);
		return UINT64_MAX;
	}
	phi = host_phi(t, h, now);
	if (silence >= (uint64_t)LIVENESS_HARD_TTLS * h->ttl_ms ||
	    (phi >= LIVENESS_EXPIRE_PHI && silence >= h->ttl_ms &&
	     h->unanswered >= LIVENESS_EXPIRE_MIN_QUERIES)) {
		silent_reason(t, h, silence, missed, phi, reason);
		if (h->status == HOST_ALIVE) {
			/* Expired implies stale: consumers see both, in order,
			   even when one look finds both thresholds passed. */
			set_status(t, h, HOST_STALE, reason, now);
			emit(t, EV_STALE, h, reason, now);
		}
		set_status(t, h, HOST_EXPIRED, reason, now);
		emit(t, EV_EXPIRE, h, reason, now);
		check_conflict(t, h->hostname, now);
		return UINT64_MAX;
	}
	if (h->status == HOST_ALIVE && phi >= LIVENESS_STALE_PHI &&
	    missed >= 2) {
		silent_reason(t, h, silence, missed, phi, reason);
		set_status(t, h, HOST_STALE, reason, now);
		emit(t, EV_STALE, h, reason, now);
	}
	return next_look(h, heard, missed, now);
}

uint64_t
hosttab_tick(struct hosttab *t, uint64_t now, struct hosttab_ask *asks,
	     size_t max, size_t *n)
{
	uint64_t e;

	*n = 0;
	while (timerq_first(&t->tq, now, &e) && timerq_due(e) <= now) {
		struct host *h = &t->hosts[timerq_row(e)];
		uint64_t next;
		if (h->heap_key != e + 1) {
			timerq_pop(&t->tq); /* not the row's own any more */
			continue;
		}
		if (h->due_ms > timerq_due(e)) { /* heard since: put back */
			timerq_pop(&t->tq);
			h->heap_key = 0;
			schedule(t, h, h->due_ms);
			continue;
		}
		if (*n == max)
			return now; /* no room to ask: again at once */
		timerq_pop(&t->tq);
		h->heap_key = 0;
		next = tick_host(t, h, now, asks, max, n);
		if (live(h))
			schedule(t, h, next > now ? next : now + 1);
	}
	return timerq_next(&t->tq);
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
hosttab_refused(const struct hosttab *t, enum hosttab_refusal r)
{
	return t->refused[r];
}
