/* SPDX-License-Identifier: MIT */
/*
 * The table's timer queue: entries are 64-bit keys (due << 24 | row, so
 * they compare by due without touching a row). A million hosts each put an
 * entry back once an interval; a binary heap of them is 16 MB, and every
 * sift was a chain of cache misses. So only the entries due soon (before
 * far_at) are in a small 4-ary heap; the later ones wait, unsorted, in
 * buckets of TIMERQ_SLICE_MS (an append each), and a bucket moves into the
 * heap when its time comes. Entries past the buckets' reach wait in the
 * last one and are put again when it comes up. Pure: time is an argument.
 */
#ifndef BEACON_PROBE_TIMERQ_H
#define BEACON_PROBE_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMERQ_ROW_BITS 24
#define TIMERQ_SLICE_MS 32
#define TIMERQ_SLICES   4096 /* 131 s ahead */

struct timerq_bucket {
	uint64_t *e;
	uint32_t n, cap;
};

struct timerq {
	uint64_t *heap;  /* 4-ary min-heap; room for every entry */
	size_t n, cap;   /* in the heap; the most entries in all */
	size_t waiting;  /* in the buckets */
	uint64_t far_at; /* bucket `first` starts here; the heap holds what
			    was due before it when it was put */
	size_t first;
	uint64_t nonempty[TIMERQ_SLICES / 64]; /* bit per bucket */
	struct timerq_bucket b[TIMERQ_SLICES];
};

static inline uint64_t
timerq_due(uint64_t e)
{
	return e >> TIMERQ_ROW_BITS;
}

static inline size_t
timerq_row(uint64_t e)
{
	return (size_t)(e & ((UINT64_C(1) << TIMERQ_ROW_BITS) - 1));
}

/* Room for cap entries; 0 or -1 (out of memory). */
int timerq_init(struct timerq *q, size_t cap);
void timerq_free(struct timerq *q);
void timerq_clear(struct timerq *q);
size_t timerq_len(const struct timerq *q);
/* Never fails while timerq_len() < cap. */
void timerq_push(struct timerq *q, uint64_t e);
/* The first entry, once every entry due by now is in reach; false: none. */
bool timerq_first(struct timerq *q, uint64_t now, uint64_t *e);
/* Takes the entry timerq_first() gave. */
void timerq_pop(struct timerq *q);
/* When to look again: no later than the first entry's due. */
uint64_t timerq_next(const struct timerq *q);

#endif
