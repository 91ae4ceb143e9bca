/* SPDX-License-Identifier: MIT */
/* The beacon codec: round trips, the 424-byte budget, every decode error,
   queries, the host id and its SHA-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "beacon/beacon.h"
#include "beacon/hostid.h"

static void
full(struct beacon_msg *b)
{
	memset(b, 0, sizeof(*b));
	b->version = 1;
	strcpy(b->id, "4f1c2a9e7d3b8a60");
	strcpy(b->instance, "00aa11bb22cc33dd");
	b->seq = 42;
	b->state = BEACON_STATE_UP;
	strcpy(b->hostname, "lab-host-01");
	b->interval_ms = 10000;
	b->ttl_ms = 30000;
	b->has_uptime = true;
	b->uptime_s = 123456;
	strcpy(b->os, "Debian GNU/Linux");
	strcpy(b->os_version, "12");
	b->n_ipv4 = 2;
	strcpy(b->ipv4[0], "198.18.0.1");
	strcpy(b->ipv4[1], "198.19.0.1");
	b->n_ipv6 = 1;
	strcpy(b->ipv6[0], "fe80::1");
	b->n_tags = 2;
	strcpy(b->tags[0].key, "role");
	strcpy(b->tags[0].value, "web");
	strcpy(b->tags[1].key, "rack");
	strcpy(b->tags[1].value, "r\xc3\xa9seau 7");
}

static void
test_host_id(void **state)
{
	char a[17], b[17], c[17];
	(void)state;

	beacon_host_id("0123456789abcdef0123456789abcdef", a);
	beacon_host_id("0123456789abcdef0123456789abcdef", b);
	beacon_host_id("0123456789abcdef0123456789abcdee", c);
	/* The ids agents have announced so far: python3's hashlib gives
	   sha256(b"beacon-host-id:" + machine id)[:8] as these. */
	assert_string_equal(a, "591c4e6943532fa7");
	assert_string_equal(c, "ce941cf77c35d335");
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 16);
	assert_true(beacon_ident_valid(a, BEACON_MAX_ID));
	assert_null(strstr("0123456789abcdef0123456789abcdef", a));
}

static void
test_round_trip(void **state)
{
	struct beacon_msg b, back;
	char out[512];
	size_t len;
	unsigned dropped;
	(void)state;

	full(&b);
	assert_int_equal(beacon_encode(&b, BEACON_MAX_WIRE - BEACON_SIG_RESERVE,
				       out, sizeof(out), &len, &dropped),
			 BEACON_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(strlen(out), len);
	assert_int_equal(beacon_decode(out, len, &back), BEACON_OK);
	assert_memory_equal(&b, &back, sizeof(b));
	b.state = BEACON_STATE_BYE;
	assert_int_equal(
		beacon_encode(&b, 424, out, sizeof(out), &len, &dropped),
		BEACON_OK);
	assert_non_null(strstr(out, "\"state\":\"bye\""));
	assert_int_equal(beacon_decode(out, len, &back), BEACON_OK);
	assert_int_equal(back.state, BEACON_STATE_BYE);
}

static void
test_budget_drops_in_order(void **state)
{
	struct beacon_msg b, back;
	char out[512];
	size_t len, i;
	unsigned dropped;
	(void)state;

	full(&b);
	b.n_ipv4 = b.n_ipv6 = BEACON_MAX_ADDRS;
	for (i = 0; i < BEACON_MAX_ADDRS; i++) {
		snprintf(b.ipv4[i], sizeof(b.ipv4[i]), "198.18.%zu.%zu", i,
			 100 + i);
		snprintf(b.ipv6[i], sizeof(b.ipv6[i]), "2001:db8:%zx::%zx", i,
			 i + 1);
	}
	b.n_tags = BEACON_MAX_TAGS;
	for (i = 0; i < BEACON_MAX_TAGS; i++) {
		snprintf(b.tags[i].key, sizeof(b.tags[i].key), "key%02zu", i);
		memset(b.tags[i].value, 'v', 40);
		b.tags[i].value[40] = '\0';
	}
	assert_int_equal(
		beacon_encode(&b, 376, out, sizeof(out), &len, &dropped),
		BEACON_OK);
	assert_true(len <= 376);
	assert_true(dropped > 0);
	assert_int_equal(beacon_decode(out, len, &back), BEACON_OK);
	/* Tags go first: all are gone before any address. */
	assert_int_equal(back.n_tags, 0);
	assert_int_equal(back.n_ipv4, BEACON_MAX_ADDRS);
	assert_true(back.n_ipv6 < BEACON_MAX_ADDRS);
	assert_int_equal(dropped,
			 BEACON_MAX_TAGS + (BEACON_MAX_ADDRS - back.n_ipv6));
	assert_string_equal(back.os, b.os);

	/* A budget of exactly the required fields and one IPv4 keeps those:
	   that address is the last thing to go. */
	{
		struct beacon_msg min = b;
		min.n_ipv4 = 1;
		min.n_ipv6 = min.n_tags = 0;
		min.os[0] = min.os_version[0] = '\0';
		min.has_uptime = false;
		assert_int_equal(beacon_encode(&min, 424, out, sizeof(out),
					       &len, &dropped),
				 BEACON_OK);
	}
	assert_int_equal(
		beacon_encode(&b, len, out, sizeof(out), &len, &dropped),
		BEACON_OK);
	assert_int_equal(beacon_decode(out, len, &back), BEACON_OK);
	assert_int_equal(back.n_ipv6, 0);
	assert_int_equal(back.n_ipv4, 1);
	assert_string_equal(back.os, "");
	assert_false(back.has_uptime);
	assert_int_equal(
		beacon_encode(&b, 100, out, sizeof(out), &len, &dropped),
		BEACON_E_NOSPACE);
	/* The whole wire limit never passes 424 whatever the budget asked. */
	assert_int_equal(
		beacon_encode(&b, 5000, out, sizeof(out), &len, &dropped),
		BEACON_OK);
	assert_true(len <= BEACON_MAX_WIRE);
}

static void
test_encode_refuses_invalid(void **state)
{
	struct beacon_msg b;
	char out[512];
	size_t len;
	unsigned dropped;
	(void)state;

	full(&b);
	strcpy(b.hostname, "bad host");
	assert_int_equal(
		beacon_encode(&b, 424, out, sizeof(out), &len, &dropped),
		BEACON_E_STRING);
	full(&b);
	b.ttl_ms = 5000;
	assert_int_equal(
		beacon_encode(&b, 424, out, sizeof(out), &len, &dropped),
		BEACON_E_RANGE);
	full(&b);
	strcpy(b.ipv4[1], "999.1.1.1");
	assert_int_equal(
		beacon_encode(&b, 424, out, sizeof(out), &len, &dropped),
		BEACON_E_ADDRESS);
	full(&b);
	strcpy(b.tags[1].key, "role");
	assert_int_equal(
		beacon_encode(&b, 424, out, sizeof(out), &len, &dropped),
		BEACON_E_DUPLICATE);
}

static const char base[] =
	"\"v\":1,\"id\":\"abc\",\"inst\":\"i1\",\"seq\":1,\"state\":\"up\","
	"\"host\":\"h\",\"int_ms\":1000,\"ttl_ms\":3000";

/* Decode "{" base EXTRA "}" and expect ERR. */
static void
expect(const char *extra, enum beacon_err err)
{
	char buf[1024];
	struct beacon_msg b;

	snprintf(buf, sizeof(buf), "{%s%s}", base, extra);
	assert_int_equal(beacon_decode(buf, strlen(buf), &b), err);
}

static void
expect_raw(const char *s, enum beacon_err err)
{
	struct beacon_msg b;

	assert_int_equal(beacon_decode(s, strlen(s), &b), err);
}

static void
test_decode_errors(void **state)
{
	char big[600];
	struct beacon_msg b;
	(void)state;

	expect("", BEACON_OK);
	expect(",\"future\":{\"x\":[1,2]}",
	       BEACON_OK); /* unknown keys ignored */
	assert_int_equal(beacon_decode("", 0, &b), BEACON_E_SIZE);
	memset(big, ' ', sizeof(big));
	assert_int_equal(beacon_decode(big, 425, &b), BEACON_E_SIZE);
	expect_raw("{\"v\":1,", BEACON_E_JSON);
	expect_raw("{\"v\":1} x", BEACON_E_TRAILING);
	expect_raw("{\"v\":1}{}", BEACON_E_TRAILING);
	expect_raw("[1]", BEACON_E_ROOT);
	expect_raw("\"up\"", BEACON_E_ROOT);
	expect(",\"id\":\"abc\"", BEACON_E_DUPLICATE);
	expect(",\"tags\":{\"a\":\"1\",\"a\":\"2\"}", BEACON_E_DUPLICATE);
	expect_raw("{\"v\":2,\"id\":\"x\"}", BEACON_E_VERSION);
	expect_raw("{\"id\":\"x\"}", BEACON_E_MISSING);
	expect_raw(
		"{\"v\":1,\"inst\":\"i\",\"seq\":1,\"state\":\"up\",\"host\":\"h\","
		"\"int_ms\":1000,\"ttl_ms\":3000}",
		BEACON_E_MISSING);
	expect_raw("{\"v\":\"1\"}", BEACON_E_TYPE);
	expect(",\"uptime_s\":\"5\"", BEACON_E_TYPE);
	expect(",\"ipv4\":\"198.18.0.1\"", BEACON_E_TYPE);
	expect(",\"ipv4\":[1]", BEACON_E_TYPE);
	expect(",\"tags\":[]", BEACON_E_TYPE);
	expect(",\"tags\":{\"a\":1}", BEACON_E_TYPE);
	expect(",\"os\":null", BEACON_E_TYPE);
	expect(",\"uptime_s\":-1", BEACON_E_RANGE);
	expect(",\"uptime_s\":1.5", BEACON_E_RANGE);
	expect(",\"uptime_s\":1e300", BEACON_E_RANGE);
	expect(",\"uptime_s\":9007199254740992", BEACON_E_RANGE);
	expect_raw(
		"{\"v\":1,\"id\":\"a\",\"inst\":\"i\",\"seq\":1,\"state\":\"up\","
		"\"host\":\"h\",\"int_ms\":1000,\"ttl_ms\":999}",
		BEACON_E_RANGE);
	expect_raw(
		"{\"v\":1,\"id\":\"a\",\"inst\":\"i\",\"seq\":1,\"state\":\"up\","
		"\"host\":\"h\",\"int_ms\":99,\"ttl_ms\":999}",
		BEACON_E_RANGE);
	expect_raw("{\"v\":1,\"id\":\"a b\",\"inst\":\"i\",\"seq\":1}",
		   BEACON_E_STRING);
	expect_raw("{\"v\":1,\"id\":\"\",\"inst\":\"i\",\"seq\":1}",
		   BEACON_E_STRING);
	expect(",\"os\":\"a\\u0000b\"", BEACON_E_STRING);
	expect(",\"os\":\"a\\u001bb\"", BEACON_E_STRING);
	expect(",\"os\":\"a\\u0085b\"", BEACON_E_STRING);
	expect(",\"os\":\"a\xff\"", BEACON_E_STRING);
	expect(",\"os\":\"\"", BEACON_E_STRING);
	expect(",\"os\":\"123456789012345678901234567890123\"",
	       BEACON_E_STRING);
	expect(",\"tags\":{\"bad key\":\"v\"}", BEACON_E_STRING);
	expect(",\"os\":\"back\\\\u0000slash\"", BEACON_OK); /* escaped '\' */
	expect(",\"ipv4\":[\"198.18.0.256\"]", BEACON_E_ADDRESS);
	expect(",\"ipv6\":[\"198.18.0.1\"]", BEACON_E_ADDRESS);
	expect(",\"ipv4\":[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\","
	       "\"1.1.1.5\",\"1.1.1.6\",\"1.1.1.7\",\"1.1.1.8\",\"1.1.1.9\"]",
	       BEACON_E_TOO_MANY);
	expect(",\"tags\":{\"a\":\"\",\"b\":\"\",\"c\":\"\",\"d\":\"\",\"e\":\"\","
	       "\"f\":\"\",\"g\":\"\",\"h\":\"\",\"i\":\"\",\"j\":\"\",\"k\":\"\","
	       "\"l\":\"\",\"m\":\"\",\"n\":\"\",\"o\":\"\",\"p\":\"\",\"q\":\"\"}",
	       BEACON_E_TOO_MANY);
	expect_raw(
		"{\"v\":1,\"id\":\"a\",\"inst\":\"i\",\"seq\":1,\"state\":\"down\","
		"\"host\":\"h\",\"int_ms\":1000,\"ttl_ms\":3000}",
		BEACON_E_STATE);
	assert_int_equal(beacon_decode("{\"v\":1}\0", 8, &b), BEACON_E_STRING);
}

static void
test_strerror_covers_every_value(void **state)
{
	int e;
	(void)state;

	for (e = 0; e < BEACON_E__COUNT; e++) {
		assert_string_not_equal(beacon_strerror((enum beacon_err)e),
					"unknown error");
		assert_string_not_equal(beacon_errname((enum beacon_err)e),
					"unknown");
	}
}

static void
test_query(void **state)
{
	struct beacon_query q = {1, "n0nce", ""}, back;
	char out[128];
	size_t len;
	(void)state;

	assert_int_equal(beacon_query_encode(&q, out, sizeof(out), &len),
			 BEACON_OK);
	assert_string_equal(out, "{\"v\":1,\"query\":\"n0nce\"}");
	assert_int_equal(beacon_query_decode(out, len, &back), BEACON_OK);
	assert_string_equal(back.nonce, "n0nce");
	assert_string_equal(back.target, "");
	strcpy(q.target, "4f1c2a9e7d3b8a60");
	assert_int_equal(beacon_query_encode(&q, out, sizeof(out), &len),
			 BEACON_OK);
	assert_int_equal(beacon_query_decode(out, len, &back), BEACON_OK);
	assert_string_equal(back.target, "4f1c2a9e7d3b8a60");
	assert_int_equal(beacon_query_decode("{\"v\":1}", 7, &back),
			 BEACON_E_MISSING);
	assert_int_equal(
		beacon_query_decode("{\"v\":1,\"query\":\"a\",\"query\":\"b\"}",
				    31, &back),
		BEACON_E_DUPLICATE);
	strcpy(q.nonce, "bad nonce");
	assert_int_equal(beacon_query_encode(&q, out, sizeof(out), &len),
			 BEACON_E_STRING);
}

/* Integers travel exactly: the largest seq comes back as sent,
   and one past the largest seq is refused. */
static void
test_exact_integers(void **state)
{
	struct beacon_msg b, d;
	char out[BEACON_MAX_WIRE + 1];
	unsigned dropped;
	size_t len;
	(void)state;

	full(&b);
	b.seq = BEACON_MAX_SEQ;
	b.uptime_s = 9007199254740990ull;
	assert_int_equal(beacon_encode(&b, BEACON_MAX_WIRE, out, sizeof(out),
				       &len, &dropped),
			 BEACON_OK);
	assert_non_null(strstr(out, "\"seq\":9007199254740991"));
	assert_int_equal(beacon_decode(out, len, &d), BEACON_OK);
	assert_true(d.seq == BEACON_MAX_SEQ);
	b.seq = BEACON_MAX_SEQ + 1;
	assert_int_not_equal(beacon_encode(&b, BEACON_MAX_WIRE, out,
					   sizeof(out), &len, &dropped),
			     BEACON_OK);
	strcpy(out,
	       "{\"v\":1,\"id\":\"a\",\"inst\":\"b\",\"seq\":9007199254740992,"
	       "\"state\":\"up\",\"host\":\"h\",\"int_ms\":1000,"
	       "\"ttl_ms\":3000}");
	assert_int_equal(beacon_decode(out, strlen(out), &d), BEACON_E_RANGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_id),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_exact_integers),
		cmocka_unit_test(test_budget_drops_in_order),
		cmocka_unit_test(test_encode_refuses_invalid),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_strerror_covers_every_value),
		cmocka_unit_test(test_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
