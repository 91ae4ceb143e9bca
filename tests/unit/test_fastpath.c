/* SPDX-License-Identifier: MIT */
/* The probe's fast path: taken for a host's next beacon (seq and uptime
   stepped), never for anything else; and, for many random mutations of a
   learned beacon, whenever it says yes the full decoder agrees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe.h"

static struct probe *
probe_new(void)
{
	static struct probe_config c;
	struct probe *p = calloc(1, sizeof(*p));
	struct hosttab_opts o = {.max_hosts = 16, .key = {5, 6}};

	assert_non_null(p);
	p->c = &c;
	p->key[0] = 5;
	p->key[1] = 6;
	p->tab = hosttab_new(&o, NULL, NULL);
	assert_non_null(p->tab);
	return p;
}

static void
probe_free(struct probe *p)
{
	hosttab_free(p->tab);
	free(p);
}

static size_t
encode(struct beacon_msg *b, uint64_t seq, uint64_t up, char *out)
{
	unsigned dropped;
	size_t len;

	b->seq = seq;
	b->uptime_s = up;
	assert_int_equal(
		beacon_encode(b, 376, out, BEACON_MAX_WIRE + 1, &len, &dropped),
		BEACON_OK);
	return len;
}

static struct beacon_msg
sample(void)
{
	struct beacon_msg b;

	memset(&b, 0, sizeof(b));
	b.version = 1;
	strcpy(b.id, "4f1c2a9e7d3b8a60");
	strcpy(b.instance, "00aa11bb22cc33dd");
	strcpy(b.hostname, "alpha");
	b.interval_ms = 1000;
	b.ttl_ms = 3000;
	b.has_uptime = true;
	strcpy(b.os, "Debian GNU/Linux");
	strcpy(b.os_version, "12");
	b.n_ipv4 = 1;
	strcpy(b.ipv4[0], "198.18.0.5");
	return b;
}

/* The full path, as probe_receive takes it. */
static void
full(struct probe *p, const char *buf, size_t len, uint64_t now)
{
	struct beacon_msg b;

	assert_int_equal(beacon_decode(buf, len, &b), BEACON_OK);
	assert_true(hosttab_update(p->tab, &b, "198.18.0.5", "lab0", now) <=
		    HT_UPDATED);
	fastpath_learn(p, &b, (const uint8_t *)buf, len);
}

static void
test_next_beacon_taken(void **state)
{
	struct probe *p = probe_new();
	struct beacon_msg b = sample();
	enum hosttab_result r;
	char buf[BEACON_MAX_WIRE + 1];
	size_t len;
	(void)state;

	len = encode(&b, 9, 100, buf);
	assert_false(fastpath_take(p, (uint8_t *)buf, len, "198.18.0.5", "lab0",
				   0, &r)); /* unknown yet */
	full(p, buf, len, 0);
	len = encode(&b, 10, 101, buf);
	assert_true(fastpath_take(p, (uint8_t *)buf, len, "198.18.0.5", "lab0",
				  1000, &r));
	assert_int_equal(r, HT_UPDATED);
	assert_int_equal(hosttab_find(p->tab, b.id)->seq, 10);
	assert_int_equal(hosttab_find(p->tab, b.id)->uptime_s, 101);
	/* seq from 99 to 100 and uptime from 9 to 10: longer digits too. */
	len = encode(&b, 100, 1000, buf);
	assert_true(fastpath_take(p, (uint8_t *)buf, len, "198.18.0.5", "lab0",
				  2000, &r));
	/* The same bytes again: a copy. */
	assert_true(fastpath_take(p, (uint8_t *)buf, len, "198.18.0.5", "lab0",
				  2001, &r));
	assert_int_equal(r, HT_DUPLICATE);
	/* Anything else changed: the full decoder. */
	strcpy(b.hostname, "beta");
	len = encode(&b, 101, 1001, buf);
	assert_false(fastpath_take(p, (uint8_t *)buf, len, "198.18.0.5", "lab0",
				   3000, &r));
	/* A nested "seq" makes two: no fingerprint is learned. */
	strcpy(buf, "{\"v\":1,\"id\":\"n1\",\"x\":{\"seq\":5},\"inst\":\"i\","
		    "\"seq\":7,\"state\":\"up\",\"host\":\"n\",\"int_ms\":1000,"
		    "\"ttl_ms\":3000}");
	full(p, buf, strlen(buf), 4000);
	buf[strlen(buf) - 30] = '8'; /* "seq":8 */
	assert_false(fastpath_take(p, (uint8_t *)buf, strlen(buf), "198.18.0.5",
				   "lab0", 5000, &r));
	probe_free(p);
}

/* Random byte changes: when the fast path says yes, the bytes decode to
   the learned beacon but for seq and uptime. */
static void
test_mutations_agree_with_decoder(void **state)
{
	struct beacon_msg b = sample(), d;
	char base[BEACON_MAX_WIRE + 1], buf[BEACON_MAX_WIRE + 1];
	unsigned k, taken = 0;
	size_t len;
	(void)state;

	srand(1);
	len = encode(&b, 500, 7000, base);
	for (k = 0; k < 5000; k++) {
		struct probe *p = probe_new();
		enum hosttab_result r;
		size_t at = (size_t)rand() % len;
		full(p, base, len, 0);
		memcpy(buf, base, len + 1);
		buf[at] = (char)(rand() % 3 == 0 ? '0' + rand() % 10 : rand());
		if (fastpath_take(p, (uint8_t *)buf, len, "198.18.0.5", "lab0",
				  1000, &r)) {
			taken++;
			assert_int_equal(beacon_decode(buf, len, &d),
					 BEACON_OK);
			d.seq = b.seq;
			d.uptime_s = b.uptime_s;
			assert_memory_equal(&d, &b, sizeof(d));
			/* And the table took it as the decoder would have
			   (a seq too far ahead is refused either way). */
			assert_int_equal(beacon_decode(buf, len, &d),
					 BEACON_OK);
			if (r == HT_UPDATED)
				assert_int_equal(
					hosttab_find(p->tab, b.id)->seq, d.seq);
		}
		probe_free(p);
	}
	assert_true(taken > 0); /* digit changes of seq and uptime */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_beacon_taken),
		cmocka_unit_test(test_mutations_agree_with_decoder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
