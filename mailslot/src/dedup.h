/* SPDX-License-Identifier: MIT */
/*
 * Duplicate suppression for received datagrams: a datagram is a duplicate
 * when one with the same source IP, datagram id and payload hash was seen
 * less than the window ago. Pure (time is a parameter) and fixed-size: a
 * flood of distinct ids only overwrites slots, so at worst a duplicate is
 * missed; a new message is never taken for a duplicate.
 */
#ifndef BEACON_MAILSLOT_DEDUP_H
#define BEACON_MAILSLOT_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEDUP_SLOTS 1024

struct dedup_slot {
	uint64_t seen_ms;
	uint64_t hash;
	uint32_t ip;
	uint16_t id;
	bool used;
};

struct dedup {
	uint64_t window_ms;
	struct dedup_slot slot[DEDUP_SLOTS];
};

void dedup_init(struct dedup *d, uint64_t window_ms);

/* FNV-1a over the payload. */
uint64_t dedup_hash(const uint8_t *p, size_t len);

/* True when (ip, id, hash) was seen within the window; otherwise records it. */
bool dedup_check(struct dedup *d, uint32_t ip, uint16_t id, uint64_t hash,
		 uint64_t now_ms);

#endif
