/* SPDX-License-Identifier: MIT */
/* The token bucket with time as a parameter: full at first, the burst,
   then the rate; never more than the burst after a long quiet; no credit
   from a clock that does not move forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bucket.h"

static void
test_burst_then_rate(void **state)
{
	struct bucket b = {0};
	uint64_t now = 5000;
	int i, n;
	(void)state;

	for (i = 0; i < 3; i++)
		assert_true(bucket_take(&b, 10, 3, now));
	assert_false(bucket_take(&b, 10, 3, now));
	assert_false(bucket_take(&b, 10, 3, now + 99)); /* 0.99 of a token */
	assert_true(bucket_take(&b, 10, 3, now + 100));
	assert_false(bucket_take(&b, 10, 3, now + 100));
	/* An hour of quiet fills it to the burst, no more. */
	now += 3600000;
	for (n = 0; bucket_take(&b, 10, 3, now); n++)
		;
	assert_int_equal(n, 3);
	/* One second at the rate lets ten through, spread or at once. */
	for (n = 0, i = 1; i <= 1000; i++)
		n += bucket_take(&b, 10, 3, now + (uint64_t)i);
	assert_int_equal(n, 10);
	/* A clock that goes back gives nothing. */
	assert_false(bucket_take(&b, 10, 3, now));
	assert_false(bucket_take(&b, 10, 3, now + 1000));
}

/* The wait until the next token, and a token given back (an event that
   did not count), never past the burst. */
static void
test_wait_and_give(void **state)
{
	struct bucket b = {0};
	uint64_t now = 1000;
	int i;
	(void)state;

	for (i = 0; i < 5; i++)
		assert_true(bucket_take(&b, 0.2, 5, now)); /* one per 5 s */
	assert_false(bucket_take(&b, 0.2, 5, now));
	assert_int_equal(bucket_wait_ms(&b, 0.2), 5000);
	assert_false(bucket_take(&b, 0.2, 5, now + 1001));
	assert_int_equal(bucket_wait_ms(&b, 0.2), 3999);
	assert_true(bucket_take(&b, 0.2, 5, now + 5000));
	assert_false(bucket_take(&b, 0.2, 5, now + 5000));
	/* 1/3 of a token a second: 1 s leaves 2/3 to wait, 2000 ms, not
	   2001 for the float's last bits. */
	{
		struct bucket c = {0};
		assert_true(bucket_take(&c, 1.0 / 3, 1, now));
		assert_false(bucket_take(&c, 1.0 / 3, 1, now + 1000));
		assert_int_equal(bucket_wait_ms(&c, 1.0 / 3), 2000);
	}
	bucket_give(&b, 5);
	assert_true(bucket_take(&b, 0.2, 5, now + 5000));
	assert_false(bucket_take(&b, 0.2, 5, now + 5000));
	for (i = 0; i < 9; i++)
		bucket_give(&b, 5);
	for (i = 0; i < 5; i++)
		assert_true(bucket_take(&b, 0.2, 5, now + 5000));
	assert_false(bucket_take(&b, 0.2, 5, now + 5000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_wait_and_give),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
