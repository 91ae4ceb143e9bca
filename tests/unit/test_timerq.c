/* SPDX-License-Identifier: MIT */
/* The table's timer queue against a plain list: every entry comes up once,
   in order, by the time it is due, whether it is due in a millisecond, in a
   minute or hours past the buckets' reach, and timerq_next() never sleeps
   past one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "timerq.h"

struct ref {
	uint64_t *e;
	size_t n;
};

static uint64_t
ref_min(const struct ref *r)
{
	uint64_t m = UINT64_MAX;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->e[i] < m)
			m = r->e[i];
	return m;
}

static void
ref_take(struct ref *r, uint64_t e)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->e[i] == e) {
			r->e[i] = r->e[--r->n];
			return;
		}
	fail_msg("entry %llx came up but was not in the queue",
		 (unsigned long long)e);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Takes every entry due by now, checking each against the list. */
static void
pop_due(struct timerq *q, struct ref *r, uint64_t now, uint64_t *last)
{
	uint64_t e;

	while (timerq_first(q, now, &e) && timerq_due(e) <= now) {
		assert_true(e >= *last); /* in order */
		*last = e;
		ref_take(r, e);
		timerq_pop(q);
	}
	/* Nothing due is left behind, and the next wake-up is in time. */
	assert_true(r->n == 0 || timerq_due(ref_min(r)) > now);
	if (r->n > 0)
		assert_true(timerq_next(q) <= timerq_due(ref_min(r)));
	assert_int_equal(timerq_len(q), r->n);
}

static void
test_against_list(void **state)
{
	enum { CAP = 20000 };
	struct timerq *q = malloc(sizeof(*q));
	struct ref r = {calloc(CAP, sizeof(uint64_t)), 0};
	uint64_t s = 88172645463325252ull, now = 1000000000, last = 0;
	uint32_t row = 0;
	int step;

	(void)state;
	assert_non_null(q);
	assert_int_equal(timerq_init(q, CAP), 0);
	assert_int_equal(timerq_next(q), UINT64_MAX);
	for (step = 0; step < 4000; step++) {
		int k = (int)(rnd(&s) % 12);
		while (k-- > 0 && r.n < CAP) {
			uint64_t x = rnd(&s), in;
			switch (x % 8) {
			case 0: /* now or soon */
				in = x % 5;
				break;
			case 1: /* within hours */
				in = x % 3600000;
				break;
			case 2: /* just past reach */
				in = 131072 + x % 1000;
				break;
			default: /* an interval */
				in = 9000 + x % 3000;
				break;
			}
			uint64_t e = (now + in) << TIMERQ_ROW_BITS |
				     (row++ & ((1u << TIMERQ_ROW_BITS) - 1));
			timerq_push(q, e);
			r.e[r.n++] = e;
		}
		switch (rnd(&s) % 4) {
		case 0:
			now += rnd(&s) % 40;
			break;
		case 1:
			now += rnd(&s) % 400000;
			break;
		default:
			if (timerq_next(q) != UINT64_MAX &&
			    timerq_next(q) > now)
				now = timerq_next(q);
			break;
		}
		pop_due(q, &r, now, &last);
	}
	while (r.n > 0) { /* drain, waking only when told */
		uint64_t next = timerq_next(q);
		assert_true(next != UINT64_MAX);
		now = next > now ? next : now;
		pop_due(q, &r, now, &last);
	}
	assert_int_equal(timerq_next(q), UINT64_MAX);
	timerq_free(q);
	free(q);
	free(r.e);
}

/* One entry, a long quiet, then due: it comes up at its time, not a
   bucket's reach later, and the clear keeps nothing. */
static void
test_quiet_then_due(void **state)
{
	struct timerq *q = malloc(sizeof(*q));
	uint64_t e, at = 5000000000ull + 7200000;

	(void)state;
	assert_int_equal(timerq_init(q, 8), 0);
	assert_false(timerq_first(q, 5000000000ull, &e));
	timerq_push(q, at << TIMERQ_ROW_BITS | 3);
	assert_true(timerq_next(q) <= at);
	assert_true(!timerq_first(q, at - 1, &e) || timerq_due(e) > at - 1);
	assert_true(timerq_first(q, at, &e));
	assert_int_equal(timerq_due(e), at);
	assert_int_equal(timerq_row(e), 3);
	timerq_pop(q);
	assert_int_equal(timerq_len(q), 0);
	timerq_push(q, (at + 50) << TIMERQ_ROW_BITS | 4);
	timerq_clear(q);
	assert_int_equal(timerq_len(q), 0);
	assert_false(timerq_first(q, at + 100, &e));
	timerq_free(q);
	free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_list),
		cmocka_unit_test(test_quiet_then_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
