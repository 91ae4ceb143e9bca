/* SPDX-License-Identifier: MIT */
/* The host table with time as a parameter: rows, restarts, goodbyes,
   conflicts, the bound, the liveness rule on clean and lossy links, for old
   and young hosts, and what forged datagrams can and cannot do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hosttab.h"

struct rec {
	unsigned events[EV_CONFLICT + 1];
	unsigned queries;
	uint64_t stale_at, expire_at;
};

static void
on_event(void *ctx, enum host_event ev, const struct host *h,
	 const char *reason, uint64_t now)
{
	struct rec *r = ctx;

	(void)h;
	assert_non_null(reason);
	r->events[ev]++;
	if (ev == EV_STALE && r->stale_at == 0)
		r->stale_at = now;
	if (ev == EV_EXPIRE && r->expire_at == 0)
		r->expire_at = now;
}

static struct beacon_msg
msg(const char *id, const char *inst, uint64_t seq, const char *host)
{
	struct beacon_msg b;

	memset(&b, 0, sizeof(b));
	b.version = 1;
	strcpy(b.id, id);
	strcpy(b.instance, inst);
	b.seq = seq;
	strcpy(b.hostname, host);
	b.interval_ms = 1000;
	b.ttl_ms = 3000;
	b.n_ipv4 = 1;
	strcpy(b.ipv4[0], "198.18.0.5");
	return b;
}

static struct rec *cur; /* the test's record, for tick() */

static uint64_t
tick(struct hosttab *t, uint64_t now)
{
	struct hosttab_ask asks[8];
	size_t n, i;
	uint64_t next = hosttab_tick(t, now, asks, 8, &n);

	for (i = 0; i < n; i++) {
		assert_string_equal(asks[i].ifname, "lab0");
		if (cur != NULL)
			cur->queries++;
	}
	return next;
}

static struct hosttab *
table(size_t max, struct rec *r)
{
	struct hosttab_opts o;

	memset(&o, 0, sizeof(o));
	o.max_hosts = max;
	o.key[0] = 1;
	o.key[1] = 2;
	cur = r;
	return hosttab_new(&o, on_event, r);
}

static enum hosttab_result
feed_from(struct hosttab *t, const struct beacon_msg *b, const char *src,
	  uint64_t now)
{
	tick(t, now);
	return hosttab_update(t, b, src, "lab0", now);
}

static enum hosttab_result
feed(struct hosttab *t, const struct beacon_msg *b, uint64_t now)
{
	return feed_from(t, b, "198.18.0.5", now);
}

/* Tick every 10 ms from..to. */
static void
run(struct hosttab *t, uint64_t from, uint64_t to)
{
	for (; from <= to; from += 10)
		tick(t, from);
}

static void
test_rows_restarts_goodbye(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg b = msg("a", "i1", 1, "alpha");
	const struct host *h;
	(void)state;

	assert_int_equal(feed(t, &b, 0), HT_NEW);
	assert_int_equal(feed(t, &b, 5), HT_DUPLICATE);
	b.seq = 3;
	assert_int_equal(feed(t, &b, 1000), HT_UPDATED);
	h = hosttab_find(t, "a");
	assert_int_equal(h->received, 2);
	assert_int_equal(h->lost, 1);
	b.seq = 2; /* overtaken: arrives late, was not lost after all */
	assert_int_equal(feed(t, &b, 1010), HT_OLD);
	assert_int_equal(h->lost, 0);
	b.seq = 4;
	b.n_tags = 1;
	strcpy(b.tags[0].key, "role");
	strcpy(b.tags[0].value, "db");
	assert_int_equal(feed(t, &b, 2000), HT_UPDATED);
	assert_int_equal(r.events[EV_UPDATE], 1);
	b = msg("a", "i2", 1, "alpha");
	assert_int_equal(feed(t, &b, 3000), HT_UPDATED);
	assert_int_equal(h->restarts, 1);
	assert_int_equal(r.events[EV_RESTART], 1);
	assert_int_equal(hosttab_count(t), 1);
	b.seq = 3;
	b.state = BEACON_STATE_BYE;
	assert_int_equal(feed(t, &b, 3500), HT_UPDATED);
	assert_int_equal(h->status, HOST_LEFT);
	assert_string_equal(host_reason(h), "said goodbye");
	assert_int_equal(r.events[EV_LEAVE], 1);
	b.seq = 4; /* the second goodbye */
	assert_int_equal(feed(t, &b, 3501), HT_UPDATED);
	assert_int_equal(r.events[EV_LEAVE], 1);
	/* Beacons sent before the goodbye, arriving late, or again, do
	   not bring it back. */
	b.state = BEACON_STATE_UP;
	b.seq = 1;
	assert_int_equal(feed(t, &b, 3600), HT_DUPLICATE);
	b.seq = 2;
	assert_int_equal(feed(t, &b, 3610), HT_OLD);
	assert_int_equal(h->status, HOST_LEFT);
	/* Left hosts are never queried nor expired. */
	run(t, 3700, 60000);
	assert_int_equal(h->status, HOST_LEFT);
	assert_int_equal(r.queries, 0);
	/* The agent started again: a new instance after a goodbye is a
	   restart, nothing forged. */
	b = msg("a", "i3", 1, "alpha");
	assert_int_equal(feed(t, &b, 61000), HT_UPDATED);
	assert_int_equal(h->status, HOST_ALIVE);
	assert_int_equal(hosttab_refused(t, HR_AFTER_GOODBYE), 0);
	hosttab_free(t);
}

/* A deadline that moves earlier (a shorter interval announced) is kept:
   the table looks at the host then, not at the later deadline it had. */
static void
test_earlier_deadline_kept(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg b = msg("a", "i1", 1, "alpha");
	uint64_t at;
	(void)state;

	b.interval_ms = 10000;
	b.ttl_ms = 30000;
	for (at = 0; at <= 40000; at += 10000, b.seq++)
		feed(t, &b, at);
	/* Its entry comes up and is put back at 40000 + 100 + 11000. */
	run(t, 40000, 42000);
	b.interval_ms = 1000;
	b.ttl_ms = 3000;
	feed(t, &b, 42000);
	run(t, 42000, 44500);
	assert_true(r.queries >= 1); /* missed at 42000 + 100 + 1100 */
	run(t, 44500, 60000);
	assert_int_equal(hosttab_find(t, "a")->status, HOST_EXPIRED);
	assert_true(r.expire_at < 51100);
	hosttab_free(t);
}

/* A copy of the newest beacon from another address is another path when
   it comes at once, a replay later: its source is never the host's, and
   it neither refreshes the host nor moves where it is asked. */
static void
test_late_copy_adds_no_source(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg b = msg("a", "i1", 7, "alpha");
	const struct host *h;
	(void)state;

	assert_int_equal(
		hosttab_update_auth(t, &b, "198.18.0.5", "lab0", 1000, true),
		HT_NEW);
	h = hosttab_find(t, "a");
	assert_int_equal(
		hosttab_update_auth(t, &b, "198.19.0.5", "lab1", 1010, true),
		HT_DUPLICATE);
	assert_int_equal(h->n_seen, 2); /* the host's other interface */
	assert_int_equal(
		hosttab_update_auth(t, &b, "198.18.0.66", "lab0", 1500, true),
		HT_DUPLICATE);
	assert_int_equal(h->n_seen, 2);
	assert_true(host_seen_at(h, 0)->last_ms == 1000);
	assert_true(host_seen_at(h, 1)->last_ms == 1010);
	assert_true(h->last_seen_ms == 1000);
	assert_int_equal(hosttab_refused(t, HR_REPLAYED), 2);
	hosttab_free(t);
}

static void
test_conflict(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg a = msg("a", "i", 1, "twin"),
			  b = msg("b", "j", 1, "TWIN");
	(void)state;

	feed(t, &a, 0);
	assert_false(hosttab_find(t, "a")->conflict);
	feed(t, &b, 10);
	assert_true(hosttab_find(t, "a")->conflict);
	assert_true(hosttab_find(t, "b")->conflict);
	assert_int_equal(r.events[EV_CONFLICT], 2);
	assert_int_equal(hosttab_count(t), 2); /* never merged or dropped */
	b.seq = 2;
	b.state = BEACON_STATE_BYE;
	feed(t, &b, 20);
	assert_false(hosttab_find(t, "a")->conflict);
	/* Its end is an update of the host still there, for readers. */
	assert_int_equal(r.events[EV_UPDATE], 1);
	hosttab_free(t);
}

/* n beacons of b, one a second from `from`. */
static uint64_t
beacons(struct hosttab *t, struct beacon_msg *b, unsigned n, uint64_t from)
{
	unsigned k;

	for (k = 0; k < n; k++, from += 1000) {
		b->seq++;
		feed(t, b, from);
	}
	return from;
}

static void
test_bound(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(2, &r);
	struct beacon_msg a = msg("a", "i", 0, "a"), b = msg("b", "i", 0, "b"),
			  c = msg("c", "i", 0, "c"), d = msg("d", "i", 0, "d");
	(void)state;

	beacons(t, &a, 3, 0); /* a has a history */
	b.seq = 1;
	assert_int_equal(feed(t, &b, 2500), HT_NEW);
	/* Full: a newcomer takes the row of one without a history. */
	c.seq = 1;
	assert_int_equal(feed(t, &c, 2600), HT_NEW);
	assert_null(hosttab_find(t, "b"));
	assert_non_null(hosttab_find(t, "a"));
	beacons(t, &c, 3, 3000);
	/* Both live with a history: the newcomer is refused, counted. */
	d.seq = 1;
	assert_int_equal(feed(t, &d, 5500), HT_REFUSED);
	assert_int_equal(hosttab_refused(t, HR_TABLE_FULL), 1);
	/* A goodbye (forged or not) does not free the row at once ... */
	a.seq = 4;
	a.state = BEACON_STATE_BYE;
	assert_int_equal(feed(t, &a, 5600), HT_UPDATED);
	assert_int_equal(feed(t, &d, 5700), HT_REFUSED);
	/* ... only once it has stood for an interval. */
	assert_int_equal(feed(t, &d, 6700), HT_NEW);
	assert_null(hosttab_find(t, "a"));
	hosttab_free(t);
}

/* N beacons at 1 s with a loss pattern (lose[k % len] drops beacon k),
   then silence. Returns the time of the last beacon. */
static uint64_t
history(struct hosttab *t, struct rec *r, unsigned n, const char *pattern)
{
	struct beacon_msg b = msg("h", "i", 0, "host");
	uint64_t now = 0;
	unsigned k;

	for (k = 0; k < n; k++) {
		now = (uint64_t)k * 1000;
		run(t, now > 1000 ? now - 990 : 0, now);
		b.seq = k + 1;
		if (pattern[k % strlen(pattern)] == '.')
			hosttab_update(t, &b, "198.18.0.5", "lab0", now);
	}
	b.seq++;
	now += 1000;
	run(t, now - 990, now);
	/* The last one always arrives. */
	hosttab_update(t, &b, "198.18.0.5", "lab0", now);
	/* Queries went unanswered (nothing answers here), yet a live host
	   was never expired; from now on, count afresh. */
	assert_int_equal(r->events[EV_EXPIRE], 0);
	memset(r, 0, sizeof(*r));
	return now;
}

static void
test_clean_link_expires_within_ttl(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	uint64_t last = history(t, &r, 200, ".");
	const struct host *h = hosttab_find(t, "h");
	(void)state;

	assert_true(host_loss(h) <= 0.03);
	assert_int_equal(r.events[EV_STALE], 0);
	run(t, last, last + 30000);
	assert_true(r.stale_at > last + 1000); /* not on the first miss */
	assert_true(r.stale_at < r.expire_at);
	assert_true(r.expire_at >= last + 3000);
	assert_true(r.expire_at <= last + 3000 + 10); /* at its TTL */
	assert_true(r.queries >= 2);
	assert_int_equal(h->status, HOST_EXPIRED);
	hosttab_free(t);
}

/* The probe blind (dropping, or behind) for 5 s during a host's
   silence: no stale, no expiry for that time; a host really gone expires
   5 s later than on a clean link (test_clean_link_expires_within_ttl). */
static void
test_probe_blind_time_not_blamed(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	uint64_t last = history(t, &r, 200, ".");
	const struct host *h = hosttab_find(t, "h");
	uint64_t at;
	(void)state;

	/* 0.5 s after the last beacon the probe stops seeing for 5 s: it
	   says so in steps, as its passes would, while ticking. */
	run(t, last, last + 500);
	for (at = last + 510; at <= last + 5500; at += 10) {
		hosttab_blind(t, 10);
		tick(t, at);
	}
	assert_int_equal(r.events[EV_STALE], 0);
	assert_int_equal(r.events[EV_EXPIRE], 0);
	assert_int_equal(h->status, HOST_ALIVE);
	assert_int_equal(host_missed(t, h, last + 5500), 0);
	run(t, last + 5510, last + 40000);
	assert_int_equal(h->status, HOST_EXPIRED);
	assert_true(r.stale_at > last + 5000 + 1000);
	assert_true(r.expire_at >= last + 5000 + 3000);
	assert_true(r.expire_at <= last + 5000 + 3000 + 20);
	hosttab_free(t);
}

static void
test_lossy_link_waits_longer(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	/* 30% loss: 3 of every 10 lost, in a run. */
	uint64_t last = history(t, &r, 200, ".......xxx");
	const struct host *h = hosttab_find(t, "h");
	(void)state;

	assert_true(host_loss(h) > 0.25 && host_loss(h) < 0.35);
	assert_int_equal(r.events[EV_EXPIRE], 0);
	run(t, last, last + 60000);
	assert_int_equal(h->status, HOST_EXPIRED);
	/* Later than the TTL, within the documented bound (14 intervals). */
	assert_true(r.expire_at > last + 3000);
	assert_true(r.expire_at <= last + 14 * 1100 + 100);
	hosttab_free(t);
}

static void
test_hard_cap(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	/* 80% loss measured: phi never reaches 8 in time; 10 x TTL ends it. */
	uint64_t last = history(t, &r, 100, ".xxxx");
	(void)state;

	run(t, last, last + 40000);
	assert_int_equal(r.expire_at, last + 30000);
	hosttab_free(t);
}

/* A link the probe knows is clean (other hosts' long histories): a young
   host there, killed after 3 beacons, expires at its TTL plus one query
   round, not after the cautious prior's 10+ intervals. */
static void
test_young_host_on_known_link(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg o = msg("old", "i", 0, "old"),
			  y = msg("young", "i", 0, "young");
	const struct host *h;
	uint64_t last;
	(void)state;

	beacons(t, &o, 100, 0);
	last = beacons(t, &y, 3, 100000) - 1000;
	h = hosttab_find(t, "young");
	assert_true(host_loss(h) < 0.02);
	for (uint64_t now = last; now <= last + 20000; now += 10) {
		if (now % 1000 == 0) {
			o.seq++;
			hosttab_update(t, &o, "198.18.0.6", "lab0", now);
		}
		tick(t, now);
	}
	assert_int_equal(h->status, HOST_EXPIRED);
	assert_true(r.expire_at >= last + 3000);
	assert_true(r.expire_at <= last + 3000 + 300);
	hosttab_free(t);
}

/* Knowing nothing of the link, the prior is cautious: no expiry at the
   TTL, but within the lossy bound. */
static void
test_young_host_on_unknown_link(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg y = msg("young", "i", 0, "young");
	uint64_t last = beacons(t, &y, 2, 0) - 1000;
	(void)state;

	assert_true(host_loss(hosttab_find(t, "young")) > 0.2);
	run(t, last, last + 40000);
	assert_true(r.expire_at > last + 3000);
	assert_true(r.expire_at <= last + 14 * 1100 + 100);
	hosttab_free(t);
}

/* A probe started with its hosts (issue 20): three agents at 1 s, TTL
   3 s, on a link it has no history of. One killed after 9 beacons expires
   within its TTL and one query round (6 queries a quarter interval apart:
   1.5 s) of its last beacon: the pool's few clean beacons count, at the
   most loss they allow. */
static void
test_young_hosts_young_probe(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg b[3] = {msg("y0", "i", 0, "y0"),
				  msg("y1", "i", 0, "y1"),
				  msg("y2", "i", 0, "y2")};
	uint64_t now, last = 8000;
	int i;
	(void)state;

	for (now = 0; now <= 20000; now += 10) {
		for (i = 0; i < 3 && now % 1000 == 0; i++)
			if (i > 0 || now <= last) {
				b[i].seq++;
				hosttab_update(t, &b[i], "198.18.0.5", "lab0",
					       now);
			}
		tick(t, now);
	}
	assert_int_equal(hosttab_find(t, "y0")->status, HOST_EXPIRED);
	assert_int_equal(r.events[EV_EXPIRE], 1);
	assert_true(r.expire_at >= last + 3000);
	assert_true(r.expire_at <= last + 3000 + 1500 + 100);
	hosttab_free(t);
}

/* The same young probe on a lossy link (8 in 21 lost, in runs of five and
   three) whose first 10 s looked better by chance (one lost in ten, as in
   1% of starts): no live host is expired. The pool's mean (4/31) would
   have expired each at its first run of five. */
static void
test_young_probe_lossy_link(void **state)
{
	const char *pattern = "..xxxxx.......xxx....";
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg b[3] = {msg("l0", "i", 0, "l0"),
				  msg("l1", "i", 0, "l1"),
				  msg("l2", "i", 0, "l2")};
	uint64_t now, k;
	bool lost;
	int i;
	(void)state;

	for (now = 0; now <= 120000; now += 10) {
		k = now / 1000;
		for (i = 0; i < 3 && now % 1000 == 0; i++) {
			b[i].seq++;
			/* Each host's runs at its own place in the pattern. */
			lost = k < 10 ? k == 4 + (uint64_t)i
				      : pattern[(k - 10 + 5 * (uint64_t)i) %
						21] == 'x';
			if (!lost)
				hosttab_update(t, &b[i], "198.18.0.5", "lab0",
					       now);
		}
		tick(t, now);
	}
	assert_int_equal(r.events[EV_EXPIRE], 0);
	hosttab_free(t);
}

/* A host that has sent n beacons at 1 s, the last at 10000 ms. */
static struct hosttab *
live_host(struct rec *r, struct beacon_msg *b)
{
	struct hosttab *t = table(0, r);

	*b = msg("h", "i", 0, "real");
	beacons(t, b, 11, 0);
	return t;
}

static void
test_forged_seq_jump_is_refused(void **state)
{
	struct rec r = {0};
	struct beacon_msg b, f;
	struct hosttab *t = live_host(&r, &b);
	const struct host *h = hosttab_find(t, "h");
	(void)state;

	f = b;
	f.seq = BEACON_MAX_SEQ;
	strcpy(f.hostname, "evil");
	assert_int_equal(feed_from(t, &f, "198.18.0.66", 10100), HT_REFUSED);
	f.state = BEACON_STATE_BYE;
	assert_int_equal(feed_from(t, &f, "198.18.0.66", 10200), HT_REFUSED);
	assert_int_equal(hosttab_refused(t, HR_SEQ_WINDOW), 2);
	assert_string_equal(h->hostname, "real");
	assert_int_equal(h->status, HOST_ALIVE);
	/* Not frozen: the real beacons go on counting. */
	b.seq++;
	assert_int_equal(feed(t, &b, 11000), HT_UPDATED);
	assert_int_equal(h->seq, 12);
	assert_int_equal(h->lost, 0);
	hosttab_free(t);
}

static void
test_forged_jump_within_window_is_rewound(void **state)
{
	struct rec r = {0};
	struct beacon_msg b, f;
	struct hosttab *t = live_host(&r, &b);
	const struct host *h = hosttab_find(t, "h");
	(void)state;

	f = b;
	f.seq = b.seq + 40;
	strcpy(f.hostname, "evil");
	assert_int_equal(feed_from(t, &f, "198.18.0.66", 10100), HT_UPDATED);
	assert_string_equal(h->hostname, "evil");
	/* The host's own next beacon, an interval later, takes it back. */
	b.seq++;
	assert_int_equal(feed(t, &b, 11000), HT_UPDATED);
	assert_string_equal(h->hostname, "real");
	assert_int_equal(h->seq, b.seq);
	assert_int_equal(h->lost, 0);
	assert_int_equal(hosttab_refused(t, HR_SEQ_FORGED), 1);
	hosttab_free(t);
}

static void
test_forged_goodbye_is_undone(void **state)
{
	struct rec r = {0};
	struct beacon_msg b, f;
	struct hosttab *t = live_host(&r, &b);
	const struct host *h = hosttab_find(t, "h");
	(void)state;

	f = b;
	f.seq = b.seq + 1; /* guessed right */
	f.state = BEACON_STATE_BYE;
	assert_int_equal(feed_from(t, &f, "198.18.0.66", 10100), HT_UPDATED);
	assert_int_equal(h->status, HOST_LEFT);
	/* The host goes on: its next beacon (the seq the forger used) ends
	   it, one interval later. */
	b.seq++;
	assert_int_equal(feed(t, &b, 11000), HT_UPDATED);
	assert_int_equal(h->status, HOST_ALIVE);
	assert_int_equal(hosttab_refused(t, HR_AFTER_GOODBYE), 1);
	/* And it stays alive while it sends. */
	beacons(t, &b, 5, 12000);
	assert_int_equal(h->status, HOST_ALIVE);
	hosttab_free(t);
}

static void
test_forged_beacon_after_goodbye_lasts_one_interval(void **state)
{
	struct rec r = {0};
	struct beacon_msg b;
	struct hosttab *t = live_host(&r, &b);
	const struct host *h = hosttab_find(t, "h");
	(void)state;

	b.seq++;
	b.state = BEACON_STATE_BYE;
	feed(t, &b, 10500);
	assert_int_equal(h->status, HOST_LEFT);
	/* A forger continues the sequence after the real goodbye. */
	b.seq++;
	b.state = BEACON_STATE_UP;
	assert_int_equal(feed_from(t, &b, "198.18.0.66", 20000), HT_UPDATED);
	assert_int_equal(h->status, HOST_ALIVE);
	run(t, 20000, 30000);
	assert_int_equal(h->status, HOST_LEFT);
	/* Back at one missed beacon and one unanswered query. */
	assert_true(h->status_ms <= 20000 + 1100 + 100 + 10 + 100 + 10);
	hosttab_free(t);
}

static void
test_replay_does_not_keep_a_dead_host(void **state)
{
	struct rec r = {0};
	struct beacon_msg b;
	struct hosttab *t = live_host(&r, &b);
	const struct host *h = hosttab_find(t, "h");
	(void)state;

	/* The host dies at 10000; its last beacon is replayed every 500 ms. */
	for (uint64_t now = 10000; now <= 30000; now += 10) {
		if (now % 500 == 0)
			assert_int_equal(feed_from(t, &b, "198.18.0.66", now),
					 HT_DUPLICATE);
		tick(t, now);
	}
	assert_int_equal(h->status, HOST_EXPIRED);
	assert_true(r.expire_at <= 10000 + 14 * 1100 + 100); /* as if silent */
	hosttab_free(t);
}

static void
test_timing_capped(void **state)
{
	struct rec r = {0};
	struct hosttab_opts o;
	struct hosttab *t;
	struct beacon_msg b = msg("h", "i", 1, "h");
	(void)state;

	memset(&o, 0, sizeof(o));
	o.max_ttl_ms = 5000;
	t = hosttab_new(&o, on_event, &r);
	b.interval_ms = 86400000;
	b.ttl_ms = 864000000;
	hosttab_update(t, &b, "198.18.0.5", "lab0", 0);
	assert_int_equal(hosttab_find(t, "h")->interval_ms, 5000);
	assert_int_equal(hosttab_find(t, "h")->ttl_ms, 5000);
	run(t, 0, 60000);
	assert_int_equal(hosttab_find(t, "h")->status, HOST_EXPIRED);
	hosttab_free(t);
}

static void
test_new_hosts_per_source(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	unsigned k, taken = 0;
	char id[16];
	(void)state;

	for (k = 0; k < 300; k++) {
		struct beacon_msg b;
		snprintf(id, sizeof(id), "f%u", k);
		b = msg(id, "i", 1, id);
		taken += hosttab_update(t, &b, "198.18.0.66", "lab0", 0) ==
			 HT_NEW;
	}
	assert_int_equal(taken, (unsigned)HOSTTAB_NEW_BURST);
	assert_int_equal(hosttab_refused(t, HR_NEW_RATE),
			 300 - (unsigned)HOSTTAB_NEW_BURST);
	/* Another source is not held back ... */
	{
		struct beacon_msg b = msg("real", "i", 1, "real");
		assert_int_equal(hosttab_update(t, &b, "198.18.0.5", "lab0", 0),
				 HT_NEW);
	}
	/* ... and the first one gets HOSTTAB_NEW_PER_S more a second. */
	for (k = 300, taken = 0; k < 400; k++) {
		struct beacon_msg b;
		snprintf(id, sizeof(id), "f%u", k);
		b = msg(id, "i", 1, id);
		taken += hosttab_update(t, &b, "198.18.0.66", "lab0", 1000) ==
			 HT_NEW;
	}
	assert_int_equal(taken, (unsigned)HOSTTAB_NEW_PER_S);
	hosttab_free(t);
}

/* Beacons the probe dropped itself are not the link's loss. */
static void
test_probe_drops_not_charged(void **state)
{
	struct rec r = {0};
	struct beacon_msg b;
	struct hosttab *t = live_host(&r, &b);
	const struct host *h = hosttab_find(t, "h");
	(void)state;

	hosttab_set_drops(t, 5000, 0.5);
	b.seq += 3;
	feed(t, &b, 13000);
	assert_int_equal(h->lost, 0);
	assert_int_equal(h->lost_local, 2);
	b.seq += 3; /* no drops since: the link's */
	feed(t, &b, 16000);
	assert_int_equal(h->lost, 2);
	hosttab_free(t);
}

static void
test_siphash(void **state)
{
	/* The reference vector (SipHash paper, appendix A). */
	uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
	uint8_t m[15];
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	assert_true(hosttab_hash(key, m, sizeof(m)) == 0xa129ca6149be45e5ull);
	key[0] ^= 1;
	assert_true(hosttab_hash(key, m, sizeof(m)) != 0xa129ca6149be45e5ull);
}

/* Conflicts follow renames (the per-name index), and the timer heap
   expires exactly the silent half of many hosts, and nothing else. */
static void
test_rename_conflict_and_many_hosts(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	struct beacon_msg a = msg("a", "i", 1, "alpha"),
			  b = msg("b", "i", 1, "beta");
	char id[16], name[32];
	unsigned k;
	uint64_t now;
	(void)state;

	feed(t, &a, 0);
	feed(t, &b, 0);
	a.seq = 2;
	strcpy(a.hostname, "BETA");
	feed(t, &a, 100);
	assert_true(hosttab_find(t, "a")->conflict);
	assert_true(hosttab_find(t, "b")->conflict);
	a.seq = 3;
	strcpy(a.hostname, "gamma");
	feed(t, &a, 200);
	assert_false(hosttab_find(t, "a")->conflict);
	assert_false(hosttab_find(t, "b")->conflict);
	hosttab_free(t);

	memset(&r, 0, sizeof(r));
	{
		struct hosttab_opts o = {
			.new_per_s = 1e9, .new_burst = 1e9, .key = {3, 4}};
		t = hosttab_new(&o, on_event, &r);
	}
	for (k = 0; k < 4000; k++) {
		struct beacon_msg m;
		snprintf(id, sizeof(id), "m%u", k);
		snprintf(name, sizeof(name), "host%u", k);
		m = msg(id, "i", 1, name);
		hosttab_update(t, &m, "198.18.0.5", "lab0", k % 1000);
	}
	/* The even ones go on sending every second; the odd ones stop. */
	for (now = 1000; now <= 40000; now += 10) {
		if (now % 1000 == 0)
			for (k = 0; k < 4000; k += 2) {
				struct beacon_msg m;
				snprintf(id, sizeof(id), "m%u", k);
				snprintf(name, sizeof(name), "host%u", k);
				m = msg(id, "i", now / 1000 + 1, name);
				hosttab_update(t, &m, "198.18.0.5", "lab0",
					       now);
			}
		tick(t, now);
	}
	for (k = 0; k < 4000; k++) {
		snprintf(id, sizeof(id), "m%u", k);
		assert_int_equal(hosttab_find(t, id)->status,
				 k % 2 ? HOST_EXPIRED : HOST_ALIVE);
	}
	assert_int_equal(r.events[EV_EXPIRE], 2000);
	assert_int_equal(r.events[EV_CONFLICT], 0);
	hosttab_free(t);
}

static int
restore(struct hosttab *t, const char *id, enum host_status st,
	uint64_t last_seen, uint64_t now)
{
	struct beacon_msg b = msg(id, "i1", 4999, id); /* its last seq */
	struct host_seen seen = {"198.18.0.5", "lab0", last_seen};
	struct hosttab_saved s = {.b = &b,
				  .status = st,
				  .reason = "expired long ago",
				  .first_seen_ms = 10,
				  .last_seen_ms = last_seen,
				  .status_ms = 500,
				  .received = 200,
				  .lost = 2,
				  .restarts = 1,
				  .loss = 0.01,
				  .seen = &seen,
				  .n_seen = 1};

	return hosttab_restore(t, &s, now);
}

/* Rows from the history: back without an event, a live one as stale
   until heard, its sequence taken as it comes; its counts and times
   kept; silent, it expires by the rule counted from the restore, not
   from when it was last heard. */
static void
test_restore(void **state)
{
	struct rec r = {0};
	struct hosttab *t = table(0, &r);
	const uint64_t now = 100000;
	uint64_t seq, at;
	struct beacon_msg b;
	const struct host *h;
	(void)state;

	assert_int_equal(restore(t, "a", HOST_ALIVE, 90000, now), 0);
	assert_int_equal(restore(t, "a", HOST_ALIVE, 90000, now), -1);
	assert_int_equal(restore(t, "c", HOST_STALE, 50000, now), 0);
	assert_int_equal(restore(t, "d", HOST_EXPIRED, 40000, now), 0);
	assert_int_equal(restore(t, "e", HOST_ALIVE, 90000, now), 0);
	assert_int_equal(hosttab_count(t), 4);
	assert_memory_equal(&r, &(struct rec){0}, sizeof(r));
	h = hosttab_find(t, "a");
	assert_int_equal(h->status, HOST_STALE);
	assert_string_equal(host_reason(h), HOSTTAB_NOT_HEARD);
	assert_int_equal(h->first_seen_ms, 10);
	assert_int_equal(h->last_seen_ms, 90000);
	assert_int_equal(h->received, 200);
	assert_int_equal(h->restarts, 1);
	assert_string_equal(host_ipv4(h, 0), "198.18.0.5");
	assert_int_equal(hosttab_find(t, "d")->status, HOST_EXPIRED);
	assert_string_equal(host_reason(hosttab_find(t, "d")),
			    "expired long ago");

	/* Its next beacon, after the one last written: alive, an update. */
	b = msg("a", "i1", 5000, "a");
	assert_int_equal(feed(t, &b, now + 500), HT_UPDATED);
	assert_int_equal(h->status, HOST_ALIVE);
	assert_int_equal(h->received, 201);
	assert_int_equal(r.events[EV_UPDATE], 1);
	b.seq = 5001;
	assert_int_equal(feed(t, &b, now + 1500), HT_UPDATED);
	assert_int_equal(h->lost, 2);
	/* A forged jump is refused as for any row; so is a recording of an
	   older beacon. */
	b = msg("c", "i1", 1ull << 40, "c");
	assert_int_equal(feed(t, &b, now + 550), HT_REFUSED);
	assert_int_equal(hosttab_refused(t, HR_SEQ_WINDOW), 1);
	b = msg("c", "i1", 4999, "c");
	assert_int_equal(feed(t, &b, now + 560), HT_DUPLICATE);
	assert_int_equal(hosttab_find(t, "c")->status, HOST_STALE);
	/* Back after expiry, and restarted while the probe was down. */
	b = msg("d", "i1", 5000, "d");
	assert_int_equal(feed(t, &b, now + 600), HT_UPDATED);
	assert_int_equal(r.events[EV_JOIN], 1);
	b = msg("e", "i9", 1, "e");
	assert_int_equal(feed(t, &b, now + 700), HT_UPDATED);
	assert_int_equal(r.events[EV_RESTART], 1);
	assert_int_equal(hosttab_find(t, "e")->restarts, 2);
	assert_int_equal(hosttab_refused(t, HR_SEQ_WINDOW), 1);

	/* "c", silent: queried, expired no sooner than its TTL after the
	   restore (it was last heard 50 s before), and within the hard
	   cap. */
	for (seq = 5002, at = now + 2500; at <= now + 40000; at += 1000) {
		b = msg("a", "i1", seq, "a");
		feed(t, &b, at);
		b = msg("d", "i1", seq, "d");
		feed(t, &b, at);
		b = msg("e", "i9", seq - 5000, "e");
		feed(t, &b, at);
		seq++;
		run(t, at, at + 990);
	}
	assert_int_equal(hosttab_find(t, "c")->status, HOST_EXPIRED);
	assert_int_equal(r.events[EV_EXPIRE], 1);
	assert_true(r.expire_at >= now + 3000);
	assert_true(r.expire_at <= now + 30000 + 10);
	assert_true(r.queries >= 2);
	hosttab_free(t);
}

/* The words a status filter takes: the four names the table writes, and
   "conflict"; nothing else (case counts). */
static void
test_status_words(void **state)
{
	int st;
	(void)state;

	for (st = HOST_ALIVE; st <= HOST_EXPIRED; st++)
		assert_true(host_status_word(
			host_status_name((enum host_status)st)));
	assert_true(host_status_word("conflict"));
	assert_false(host_status_word("unknown"));
	assert_false(host_status_word("Alive"));
	assert_false(host_status_word(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_restarts_goodbye),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_clean_link_expires_within_ttl),
		cmocka_unit_test(test_lossy_link_waits_longer),
		cmocka_unit_test(test_hard_cap),
		cmocka_unit_test(test_young_host_on_known_link),
		cmocka_unit_test(test_young_host_on_unknown_link),
		cmocka_unit_test(test_young_hosts_young_probe),
		cmocka_unit_test(test_young_probe_lossy_link),
		cmocka_unit_test(test_forged_seq_jump_is_refused),
		cmocka_unit_test(test_forged_jump_within_window_is_rewound),
		cmocka_unit_test(test_forged_goodbye_is_undone),
		cmocka_unit_test(
			test_forged_beacon_after_goodbye_lasts_one_interval),
		cmocka_unit_test(test_replay_does_not_keep_a_dead_host),
		cmocka_unit_test(test_timing_capped),
		cmocka_unit_test(test_new_hosts_per_source),
		cmocka_unit_test(test_probe_drops_not_charged),
		cmocka_unit_test(test_probe_blind_time_not_blamed),
		cmocka_unit_test(test_late_copy_adds_no_source),
		cmocka_unit_test(test_earlier_deadline_kept),
		cmocka_unit_test(test_siphash),
		cmocka_unit_test(test_rename_conflict_and_many_hosts),
		cmocka_unit_test(test_status_words),
		cmocka_unit_test(test_restore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
