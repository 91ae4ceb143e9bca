/* SPDX-License-Identifier: MIT */
/* The host table with time as a parameter: rows, restarts, goodbyes,
   conflicts, the bound, and the liveness rule on clean and lossy links. */
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

static void
on_query(void *ctx, const struct host *h, const char *addr)
{
	struct rec *r = ctx;

	(void)h;
	assert_string_equal(addr, "198.18.0.5");
	r->queries++;
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

static enum hosttab_result
feed(struct hosttab *t, const struct beacon_msg *b, uint64_t now)
{
	hosttab_tick(t, now);
	return hosttab_update(t, b, "198.18.0.5", "lab0", now);
}

/* Tick every 10 ms from..to. */
static void
run(struct hosttab *t, uint64_t from, uint64_t to)
{
	for (; from <= to; from += 10)
		hosttab_tick(t, from);
}

static void
test_rows_restarts_goodbye(void **state)
{
	struct rec r = {0};
	struct hosttab *t = hosttab_new(0, on_event, on_query, &r);
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
	b.seq = 2;
	b.state = BEACON_STATE_BYE;
	assert_int_equal(feed(t, &b, 3500), HT_UPDATED);
	assert_int_equal(h->status, HOST_LEFT);
	assert_string_equal(h->reason, "said goodbye");
	assert_int_equal(r.events[EV_LEAVE], 1);
	/* Late beacons of that instance do not bring it back. */
	b.state = BEACON_STATE_UP;
	b.seq = 1;
	assert_int_equal(feed(t, &b, 3600), HT_OLD);
	b.seq = 3;
	assert_int_equal(feed(t, &b, 3700), HT_OLD);
	assert_int_equal(h->status, HOST_LEFT);
	/* Left hosts are never queried nor expired. */
	run(t, 3700, 60000);
	assert_int_equal(h->status, HOST_LEFT);
	assert_int_equal(r.queries, 0);
	hosttab_free(t);
}

static void
test_conflict(void **state)
{
	struct rec r = {0};
	struct hosttab *t = hosttab_new(0, on_event, NULL, &r);
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
	hosttab_free(t);
}

static void
test_bound(void **state)
{
	struct rec r = {0};
	struct hosttab *t = hosttab_new(2, on_event, NULL, &r);
	struct beacon_msg a = msg("a", "i", 1, "a"), b = msg("b", "i", 1, "b"),
			  c = msg("c", "i", 1, "c");
	(void)state;

	assert_int_equal(feed(t, &a, 0), HT_NEW);
	assert_int_equal(feed(t, &b, 0), HT_NEW);
	assert_int_equal(feed(t, &c, 0), HT_FULL);
	assert_int_equal(hosttab_refused(t), 1);
	/* Known hosts keep updating when full. */
	a.seq = 2;
	assert_int_equal(feed(t, &a, 500), HT_UPDATED);
	/* Once b has expired, its row makes room. */
	for (uint64_t now = 1000; now < 40000; now += 10) {
		a.seq++;
		if (now % 1000 == 0)
			feed(t, &a, now);
		hosttab_tick(t, now);
	}
	assert_int_equal(hosttab_find(t, "b")->status, HOST_EXPIRED);
	assert_int_equal(feed(t, &c, 40000), HT_NEW);
	assert_null(hosttab_find(t, "b"));
	assert_int_equal(hosttab_find(t, "a")->status, HOST_ALIVE);
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
	struct hosttab *t = hosttab_new(0, on_event, on_query, &r);
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

static void
test_lossy_link_waits_longer(void **state)
{
	struct rec r = {0};
	struct hosttab *t = hosttab_new(0, on_event, on_query, &r);
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
	struct hosttab *t = hosttab_new(0, on_event, on_query, &r);
	/* 80% loss measured: phi never reaches 8 in time; 10 x TTL ends it. */
	uint64_t last = history(t, &r, 100, ".xxxx");
	(void)state;

	run(t, last, last + 40000);
	assert_int_equal(r.expire_at, last + 30000);
	hosttab_free(t);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
