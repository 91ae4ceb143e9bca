/* SPDX-License-Identifier: MIT */
/* keymap: random puts and deletes against a plain array, through growth
   and the backward shift of deletion; and the topic-level encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keymap.h"
#include "probe.h"

#define N 3000

static void
test_against_array(void **state)
{
	static char keys[N][16];
	static int present[N];
	struct keymap m;
	size_t i, round, live = 0;
	int err;

	(void)state;
	keymap_init(&m);
	srand(7);
	for (i = 0; i < N; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i * 7919 % 100003);
	for (round = 0; round < 60000; round++) {
		size_t k = (size_t)rand() % N;
		if (rand() % 3 != 0) {
			void *old = keymap_put(&m, keys[k], &present[k], &err);
			assert_int_equal(err, 0);
			assert_ptr_equal(old, present[k] ? &present[k] : NULL);
			live += !present[k];
			present[k] = 1;
		} else {
			void *old = keymap_del(&m, keys[k]);
			assert_ptr_equal(old, present[k] ? &present[k] : NULL);
			live -= present[k] != 0;
			present[k] = 0;
		}
		if (round % 5000 == 0)
			for (i = 0; i < N; i++)
				assert_ptr_equal(keymap_get(&m, keys[i]),
						 present[i] ? &present[i]
							    : NULL);
		assert_int_equal(m.n, live);
	}
	for (i = 0; i < N; i++)
		assert_ptr_equal(keymap_get(&m, keys[i]),
				 present[i] ? &present[i] : NULL);
	keymap_free(&m);
	assert_null(keymap_get(&m, "k1"));
}

static void
test_topic_id(void **state)
{
	char out[MQTT_KEY_MAX];

	(void)state;
	mqtt_topic_id("a1-B_2.x", out);
	assert_string_equal(out, "a1-B_2.x");
	mqtt_topic_id("netbios:A/B+#", out);
	assert_string_equal(out, "netbios%3AA%2FB%2B%23");
	mqtt_topic_id("%\xff", out);
	assert_string_equal(out, "%25%FF");
	/* Sixteen bytes that all need escaping still fit. */
	mqtt_topic_id("netbios:################", out);
	assert_int_equal(strlen(out), 10 + 16 * 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_array),
		cmocka_unit_test(test_topic_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
