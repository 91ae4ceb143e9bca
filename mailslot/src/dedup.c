/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "dedup.h"
#include "fasthash.h"

void
dedup_init(struct dedup *d, uint64_t window_ms)
{
	memset(d, 0, sizeof(*d));
	d->window_ms = window_ms;
}

uint64_t
dedup_hash(const uint8_t *p, size_t len)
{
	/* No secret: a sender can only make its own copies collide. */
	static const uint64_t key[2] = {0x243f6a8885a308d3u,
					0x13198a2e03707344u};

	return fasthash(key, p, len);
}

bool
dedup_check(struct dedup *d, uint32_t ip, uint16_t id, uint64_t hash,
	    uint64_t now_ms)
{
	uint32_t k = (ip * 2654435761u) ^ ((uint32_t)id * 40503u);
	struct dedup_slot *s = &d->slot[k % DEDUP_SLOTS];

	if (s->used && s->ip == ip && s->id == id && s->hash == hash &&
	    now_ms - s->seen_ms < d->window_ms)
		return true;
	s->used = true;
	s->ip = ip;
	s->id = id;
	s->hash = hash;
	s->seen_ms = now_ms;
	return false;
}
