/* SPDX-License-Identifier: MIT */
/* The agent's schedule, with time and randomness passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent.h"

/* A scripted random source: returns *v each time. */
static double
fixed(void *ctx)
{
	return *(double *)ctx;
}

static void
test_first_delay_and_fast_start(void **state)
{
	struct sched s;
	double r = 0.999;
	(void)state;

	sched_init(&s, 1000, 10000, fixed, &r);
	assert_true(s.next_ms >= 1000 && s.next_ms < 1500); /* 0-500 ms */
	sched_sent(&s, s.next_ms, fixed, &r);
	assert_int_equal(s.next_ms - 1499, 1000); /* 2nd: 1 s later */
	sched_sent(&s, s.next_ms, fixed, &r);
	assert_int_equal(s.next_ms - 2499, 2000); /* 3rd: 2 s later */
	/* Then the interval, jittered within +-10%. */
	for (int i = 0; i < 100; i++) {
		double lo = 0.0, hi = 0.9999;
		uint64_t at = s.next_ms;
		sched_sent(&s, at, fixed, i % 2 ? &lo : &hi);
		assert_true(s.next_ms - at >= 9000 && s.next_ms - at <= 11000);
	}
}

static void
test_short_interval_fast_start(void **state)
{
	struct sched s;
	double r = 0.5;
	(void)state;

	sched_init(&s, 0, 300, fixed, &r);
	assert_true(s.next_ms <= 150); /* at most half an interval */
	sched_sent(&s, 100, fixed, &r);
	assert_int_equal(s.next_ms, 400); /* never slower than the interval */
}

static void
test_query_replies(void **state)
{
	struct sched s;
	double r = 0.5;
	(void)state;

	sched_init(&s, 0, 10000, fixed, &r);
	sched_sent(&s, 0, fixed, &r);
	sched_sent(&s, 1000, fixed, &r);
	sched_sent(&s, 3000, fixed, &r); /* next at 13000 */
	sched_query(&s, 5000, false, fixed, &r);
	assert_int_equal(sched_due(&s), 5250); /* 0-500 ms */
	/* A second general query within a second gets no second reply. */
	sched_query(&s, 5100, false, fixed, &r);
	assert_int_equal(sched_due(&s), 5250);
	sched_sent(&s, 5250, fixed, &r);
	assert_int_equal(s.reply_ms, 0);
	sched_query(&s, 5900, false, fixed, &r);
	assert_int_equal(s.reply_ms, 0); /* 800 ms after the last one */
	sched_query(&s, 6200, false, fixed, &r);
	assert_int_equal(s.reply_ms, 6450);
	/* A directed query is answered within 20 ms, 100 ms apart. */
	sched_sent(&s, 6450, fixed,
		   &r); /* the reply went; next beacon ~16450 */
	sched_query(&s, 7000, true, fixed, &r);
	assert_int_equal(sched_due(&s), 7010);
	sched_sent(&s, 7010, fixed, &r);
	sched_query(&s, 7040, true, fixed, &r);
	assert_int_equal(s.reply_ms, 0);
	sched_query(&s, 7200, true, fixed, &r);
	assert_int_equal(s.reply_ms, 7210);
	/* Directed and general limits are apart: a general query right after
	   a directed reply is still answered. */
	sched_sent(&s, 7210, fixed, &r);
	sched_query(&s, 7300, false, fixed, &r);
	assert_int_equal(s.reply_ms, 7550);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_delay_and_fast_start),
		cmocka_unit_test(test_short_interval_fast_start),
		cmocka_unit_test(test_query_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
