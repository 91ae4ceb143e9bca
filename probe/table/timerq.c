/* SPDX-License-Identifier: MIT */
#include "timerq.h"

#include <stdlib.h>
#include <string.h>

int
timerq_init(struct timerq *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->heap = calloc(cap, sizeof(*q->heap));
	if (q->heap == NULL)
		return -1;
	q->cap = cap;
	return 0;
}

void
timerq_free(struct timerq *q)
{
	size_t i;

	for (i = 0; i < TIMERQ_SLICES; i++)
		free(q->b[i].e);
	free(q->heap);
	memset(q, 0, sizeof(*q));
}

/* Empty, the buckets' room kept. */
void
timerq_clear(struct timerq *q)
{
	size_t i;

	for (i = 0; i < TIMERQ_SLICES; i++)
		q->b[i].n = 0;
	memset(q->nonempty, 0, sizeof(q->nonempty));
	q->n = q->waiting = 0;
}

size_t
timerq_len(const struct timerq *q)
{
	return q->n + q->waiting;
}

/* ---- the heap: children of i are 4i+1 .. 4i+4 (half a binary heap's
   depth, and the four share a cache line or two) ---- */

static void
heap_push(struct timerq *q, uint64_t e)
{
	size_t i = q->n++;

	while (i > 0 && e < q->heap[(i - 1) / 4]) {
		q->heap[i] = q->heap[(i - 1) / 4];
		i = (i - 1) / 4;
	}
	q->heap[i] = e;
}

static void
heap_down(struct timerq *q, size_t i)
{
	uint64_t e = q->heap[i];

	for (;;) {
		size_t c = 4 * i + 1, m = c, k;
		if (c >= q->n)
			break;
		for (k = c + 1; k < c + 4 && k < q->n; k++)
			if (q->heap[k] < q->heap[m])
				m = k;
		if (q->heap[m] >= e)
			break;
		q->heap[i] = q->heap[m];
		i = m;
	}
	q->heap[i] = e;
}

void
timerq_pop(struct timerq *q)
{
	q->heap[0] = q->heap[--q->n];
	if (q->n > 0)
		heap_down(q, 0);
}

/* ---- the buckets ---- */

static void
mark(struct timerq *q, size_t k, bool on)
{
	if (on)
		q->nonempty[k / 64] |= UINT64_C(1) << (k % 64);
	else
		q->nonempty[k / 64] &= ~(UINT64_C(1) << (k % 64));
}

/* How many buckets after `first` the first waiting entry is; waiting > 0. */
static size_t
first_waiting(const struct timerq *q)
{
	size_t w = q->first / 64, j;
	uint64_t bits = q->nonempty[w] & (~UINT64_C(0) << (q->first % 64));

	for (j = 0; j <= TIMERQ_SLICES / 64; j++) {
		if (bits != 0) {
			size_t k = w * 64 + (size_t)__builtin_ctzll(bits);
			return (k + TIMERQ_SLICES - q->first) % TIMERQ_SLICES;
		}
		w = (w + 1) % (TIMERQ_SLICES / 64);
		bits = q->nonempty[w];
	}
	return 0; /* not reached while waiting > 0 */
}

/* The bucket for e, counted from `first`. */
static size_t
slot_for(const struct timerq *q, uint64_t e)
{
	uint64_t j = (timerq_due(e) - q->far_at) / TIMERQ_SLICE_MS;

	return j >= TIMERQ_SLICES ? TIMERQ_SLICES - 1 : (size_t)j;
}

static bool
bucket_put(struct timerq *q, size_t k, uint64_t e)
{
	struct timerq_bucket *b = &q->b[k];

	if (b->n == b->cap) {
		uint32_t cap = b->cap ? 2 * b->cap : 64;
		uint64_t *ne = realloc(b->e, cap * sizeof(*ne));
		if (ne == NULL)
			return false;
		b->e = ne;
		b->cap = cap;
	}
	b->e[b->n++] = e;
	mark(q, k, true);
	q->waiting++;
	return true;
}

void
timerq_push(struct timerq *q, uint64_t e)
{
	uint64_t due = timerq_due(e);

	/* Nothing waits: the buckets start where this entry is due, so a
	   table's first entries are not all past the buckets' reach. */
	if (q->waiting == 0 && due >= q->far_at + TIMERQ_SLICE_MS) {
		q->far_at = due - due % TIMERQ_SLICE_MS;
		q->first = 0;
	}
	if (due < q->far_at ||
	    !bucket_put(q, (q->first + slot_for(q, e)) % TIMERQ_SLICES, e))
		heap_push(q, e); /* the heap has room for all */
}

/* The first bucket into the heap; what is due later is put again. */
static void
advance_one(struct timerq *q)
{
	size_t k = q->first, i, kept = 0;
	struct timerq_bucket *b = &q->b[k];

	q->far_at += TIMERQ_SLICE_MS;
	q->first = (q->first + 1) % TIMERQ_SLICES;
	q->waiting -= b->n;
	for (i = 0; i < b->n; i++) {
		uint64_t e = b->e[i];
		size_t to;
		if (timerq_due(e) < q->far_at) {
			heap_push(q, e);
			continue;
		}
		to = (q->first + slot_for(q, e)) % TIMERQ_SLICES;
		if (to == k) { /* still past reach: stays, now the last */
			b->e[kept++] = e;
			q->waiting++;
		} else if (!bucket_put(q, to, e)) {
			heap_push(q, e);
		}
	}
	b->n = kept;
	mark(q, k, kept > 0);
}

/* Every entry due by now into the heap. */
static void
advance(struct timerq *q, uint64_t now)
{
	while (q->far_at <= now) {
		size_t j;
		if (q->waiting == 0) {
			q->far_at = now + 1;
			return;
		}
		j = first_waiting(q); /* skip the empty ones at once */
		if (q->far_at + j * TIMERQ_SLICE_MS > now) {
			q->far_at += j * TIMERQ_SLICE_MS;
			q->first = (q->first + j) % TIMERQ_SLICES;
			return;
		}
		q->far_at += j * TIMERQ_SLICE_MS;
		q->first = (q->first + j) % TIMERQ_SLICES;
		advance_one(q);
	}
}

bool
timerq_first(struct timerq *q, uint64_t now, uint64_t *e)
{
	advance(q, now);
	if (q->n == 0)
		return false;
	*e = q->heap[0];
	return true;
}

uint64_t
timerq_next(const struct timerq *q)
{
	uint64_t next = q->n > 0 ? timerq_due(q->heap[0]) : UINT64_MAX;

	if (q->waiting > 0) {
		uint64_t at = q->far_at + first_waiting(q) * TIMERQ_SLICE_MS;
		if (at < next)
			next = at;
	}
	return next;
}
