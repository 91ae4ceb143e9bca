/* SPDX-License-Identifier: MIT */
/* The receive path with a fake clock: beacon datagrams in (probe_take, as
   the mailslot server hands them over), the table's changes out (the
   queue, handed to a subscriber as the loop does), each datagram counted
   under one reason; and the Prometheus text of what came in. The probe
   binds one UDP port on loopback and sends nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailslot/slot.h"
#include "probe.h"
#include "render.h"

#define EVENTS_MAX 32

struct heard {
	enum host_event ev[EVENTS_MAX];
	char id[EVENTS_MAX][48];
	bool had_line[EVENTS_MAX];
	size_t n;
	bool lines; /* the subscriber takes lines */
};

static bool
wants(void *ctx)
{
	return ((struct heard *)ctx)->lines;
}

static void
hear(void *ctx, const struct probe_event *e, uint64_t now)
{
	struct heard *h = ctx;

	(void)now;
	assert_true(h->n < EVENTS_MAX);
	h->ev[h->n] = e->ev;
	snprintf(h->id[h->n], sizeof(h->id[0]), "%s", e->id);
	h->had_line[h->n] = e->line != NULL;
	if (e->line != NULL) /* the line is the change's, with its id */
		assert_non_null(strstr(e->line, e->id));
	h->n++;
}

static struct probe_config cfg;
static const char *bcast[] = {"127.255.255.255"};

/* A probe on a free loopback port; 0, or skipped. */
static int
setup(void **state)
{
	struct probe *p = calloc(1, sizeof(*p));
	int tries;

	assert_non_null(p);
	memset(&cfg, 0, sizeof(cfg));
	cfg.cmd = CMD_SERVE;
	cfg.cmd_name = "serve";
	cfg.broadcast[0] = bcast[0];
	cfg.n_broadcast = 1;
	cfg.max_hosts = 1000;
	cfg.max_ttl_ms = 3600000;
	cfg.new_per_source = 1000;
	cfg.new_burst = 1000;
	cfg.max_queries = 50;
	cfg.max_per_source = 5;
	cfg.all = true;
	for (tries = 0; tries < 20; tries++) {
		cfg.port = (uint16_t)(20000 +
				      (getpid() * 7 + tries * 131) % 40000);
		if (probe_open(p, &cfg) == 0) {
			*state = p;
			return 0;
		}
		probe_close(p);
	}
	free(p);
	skip();
	return -1;
}

static int
teardown(void **state)
{
	probe_close(*state);
	free(*state);
	return 0;
}

static struct beacon_msg
beacon(const char *id, const char *inst, uint64_t seq, const char *name)
{
	struct beacon_msg b;

	memset(&b, 0, sizeof(b));
	b.version = 1;
	snprintf(b.id, sizeof(b.id), "%s", id);
	snprintf(b.instance, sizeof(b.instance), "%s", inst);
	snprintf(b.hostname, sizeof(b.hostname), "%s", name);
	b.seq = seq;
	b.interval_ms = 1000;
	b.ttl_ms = 3000;
	b.n_ipv4 = 1;
	strcpy(b.ipv4[0], "127.0.0.9");
	return b;
}

/* The datagram's body from src, as the server hands it over, at now. */
static void
take_bytes(struct probe *p, const void *buf, size_t len, const char *src,
	   uint64_t now)
{
	struct mailslot_meta m;
	struct in_addr a;

	memset(&m, 0, sizeof(m));
	inet_pton(AF_INET, src, &a);
	m.src_ip = ntohl(a.s_addr);
	m.src_port = 138;
	snprintf(m.ifname, sizeof(m.ifname), "lo");
	snprintf(m.path, sizeof(m.path), "\\MAILSLOT\\beacon");
	m.received_ms = now;
	m.len = len;
	probe_take(p, buf, len, &m, now);
}

static void
take(struct probe *p, const struct beacon_msg *b, const char *src, uint64_t now)
{
	char buf[BEACON_MAX_WIRE];
	size_t len;
	unsigned dropped;

	assert_int_equal(beacon_encode(b, BEACON_MAX_WIRE, buf, sizeof(buf),
				       &len, &dropped),
			 BEACON_OK);
	take_bytes(p, buf, len, src, now);
}

static void
test_changes_out(void **state)
{
	struct probe *p = *state;
	struct heard h = {.lines = true};
	struct beacon_msg b = beacon("r1", "i1", 1, "one");

	assert_true(events_subscribe(p, &(struct probe_sub){wants, hear, &h}));
	take(p, &b, "127.0.0.9", 1000);
	assert_int_equal(h.n, 0); /* queued, not yet handed out */
	events_deliver(p, 1000);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.ev[0], EV_JOIN);
	assert_string_equal(h.id[0], "r1");
	assert_true(h.had_line[0]);
	assert_int_equal(p->st.beacons, 1);
	/* The same datagram again (another interface, a replay): counted,
	   no change. */
	take(p, &b, "127.0.0.9", 1010);
	assert_int_equal(p->st.duplicates, 1);
	/* A new name; a new instance (a restart); an older seq after a newer
	   one (reordered). */
	b.seq = 2;
	snprintf(b.hostname, sizeof(b.hostname), "uno");
	take(p, &b, "127.0.0.9", 2000);
	b = beacon("r1", "i2", 1, "uno");
	take(p, &b, "127.0.0.9", 3000);
	b.seq = 3;
	take(p, &b, "127.0.0.9", 3100);
	b.seq = 2;
	take(p, &b, "127.0.0.9", 3150);
	assert_int_equal(p->st.reordered, 1);
	events_deliver(p, 3150);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.ev[1], EV_UPDATE);
	assert_int_equal(h.ev[2], EV_RESTART);
	assert_int_equal(p->st.beacons, 4);
	/* Silence: the table, ticked with the fake clock, turns it stale
	   then expired; each change out with its line. */
	for (uint64_t now = 3200; now < 60000; now += 50) {
		struct hosttab_ask asks[8];
		size_t n;
		hosttab_tick(p->tab, now, asks, 8, &n);
	}
	events_deliver(p, 60000);
	assert_int_equal(h.n, 5);
	assert_int_equal(h.ev[3], EV_STALE);
	assert_int_equal(h.ev[4], EV_EXPIRE);
	assert_true(h.had_line[4]);
}

static void
test_no_lines_unless_wanted(void **state)
{
	struct probe *p = *state;
	struct heard h = {.lines = false};
	struct beacon_msg b = beacon("q1", "i1", 1, "quiet");

	events_subscribe(p, &(struct probe_sub){wants, hear, &h});
	take(p, &b, "127.0.0.10", 1000);
	events_deliver(p, 1000);
	assert_int_equal(h.n, 1);
	assert_false(h.had_line[0]); /* nobody takes lines: none formatted */
}

static void
test_bad_datagrams_counted(void **state)
{
	struct probe *p = *state;
	struct heard h = {.lines = true};
	const char *bad[] = {"",         "{",
			     "not json", "{\"v\":1}",
			     "[1,2,3]",  "{\"v\":1,\"id\":\"\\u0000\"}"};
	uint64_t invalid = 0;
	size_t i, k;

	events_subscribe(p, &(struct probe_sub){wants, hear, &h});
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		take_bytes(p, bad[i], strlen(bad[i]), "127.0.0.11",
			   1000 + 250 * i);
	for (k = 0; k < BEACON_E__COUNT; k++)
		invalid += p->st.invalid[k];
	assert_int_equal(invalid, sizeof(bad) / sizeof(bad[0]));
	events_deliver(p, 5000);
	assert_int_equal(h.n, 0);
	assert_int_equal(p->st.beacons, 0);
}

static void
test_per_source_limit(void **state)
{
	struct probe *p = *state;
	struct beacon_msg b;
	char id[16];
	int i;

	/* max_per_source 5 (bursts of 10): 30 at once from one address. */
	for (i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		b = beacon(id, "i", 1, id);
		take(p, &b, "127.0.0.12", 1000);
	}
	assert_int_equal(p->st.source_rate + p->st.beacons, 30);
	assert_true(p->st.source_rate >= 15);
	/* Another address is not held back by it. */
	b = beacon("other", "i", 1, "other");
	take(p, &b, "127.0.0.13", 1000);
	assert_non_null(hosttab_find(p->tab, "other"));
}

/* /metrics after two hosts, one with tags that Prometheus's text format
   must escape. */
static void
test_metrics(void **state)
{
	struct probe *p = *state;
	struct beacon_msg a = beacon("m1", "i", 1, "alpha"),
			  b = beacon("m2", "i", 1, "beta");
	struct probe_view v;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	a.n_tags = 1;
	strcpy(a.tags[0].key, "role");
	strcpy(a.tags[0].value, "we\"b\\1");
	take(p, &a, "127.0.0.14", 1000);
	take(p, &b, "127.0.0.14", 1000);
	v = probe_view(p);
	f = open_memstream(&text, &len);
	assert_int_equal(output_metrics(f, &v, 1500), 0);
	fclose(f);
	assert_non_null(strstr(text, "beacon_hosts{status=\"alive\"} 2\n"));
	assert_non_null(strstr(text, "beacon_hosts{status=\"expired\"} 0\n"));
	assert_non_null(strstr(text, "beacon_host_up{id=\"m1\",hostname="
				     "\"alpha\",kind=\"beacon\"} 1\n"));
	assert_non_null(strstr(text, "beacon_host_tag{id=\"m1\",key=\"role\","
				     "value=\"we\\\"b\\\\1\"} 1\n"));
	assert_non_null(strstr(text, "beacon_host_last_seen_age_seconds{id="
				     "\"m2\",hostname=\"beta\",kind=\"beacon"
				     "\"} 0.500\n"));
	assert_non_null(strstr(text, "beacon_beacons_total 2\n"));
	assert_non_null(strstr(text, "# TYPE beacon_host_restarts_total "
				     "counter\n"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changes_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_lines_unless_wanted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_datagrams_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_source_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
