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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
