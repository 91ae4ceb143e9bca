/* SPDX-License-Identifier: MIT */
/* Duplicate suppression, with time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dedup.h"

static void
test_window(void **state)
{
	static struct dedup d;
	uint64_t h = dedup_hash((const uint8_t *)"abc", 3);
	(void)state;

	dedup_init(&d, 3000);
	assert_false(dedup_check(&d, 0x7f000001, 7, h, 1000));
	assert_true(dedup_check(&d, 0x7f000001, 7, h, 1001));
	assert_true(dedup_check(&d, 0x7f000001, 7, h, 3999));
	/* The window is measured from the first copy. */
	assert_false(dedup_check(&d, 0x7f000001, 7, h, 4000));
}

static void
test_key_parts(void **state)
{
	static struct dedup d;
	uint64_t h = dedup_hash((const uint8_t *)"abc", 3);
	uint64_t h2 = dedup_hash((const uint8_t *)"abd", 3);
	(void)state;

	assert_int_not_equal(h, h2);
	dedup_init(&d, 3000);
	assert_false(dedup_check(&d, 0x7f000001, 7, h, 0));
	/* Another sender, another id, other bytes: all new messages. */
	assert_false(dedup_check(&d, 0x7f000002, 7, h, 1));
	assert_false(dedup_check(&d, 0x7f000001, 8, h, 2));
	assert_false(dedup_check(&d, 0x7f000001, 7, h2, 3));
}

static void
test_flood_never_false_positive(void **state)
{
	static struct dedup d;
	uint32_t i;
	unsigned dups = 0;
	(void)state;

	dedup_init(&d, 3000);
	/* 100000 distinct (ip, id, bytes) within one window: none is a
	   duplicate, whatever the slot collisions. */
	for (i = 0; i < 100000; i++)
		dups += dedup_check(&d, 0xc6120000 + (i % 1000),
				    (uint16_t)(i / 1000), i, i / 100);
	assert_int_equal(dups, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_key_parts),
		cmocka_unit_test(test_flood_never_false_positive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
