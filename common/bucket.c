/* SPDX-License-Identifier: MIT */
#include "bucket.h"

bool
bucket_take(struct bucket *b, double rate, double burst, uint64_t now)
{
	if (!b->used) {
		b->used = true;
		b->tokens = burst;
		b->at_ms = now;
	} else if (now > b->at_ms) { /* (a clock gone back gives nothing) */
		b->tokens += (double)(now - b->at_ms) * rate / 1000;
		if (b->tokens > burst)
			b->tokens = burst;
		b->at_ms = now;
	}
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

uint64_t
bucket_wait_ms(const struct bucket *b, double rate)
{
	double w = b->tokens >= 1 ? 0 : (1 - b->tokens) * 1000 / rate;
	uint64_t ms = (uint64_t)w;

	return ms +
	       (w > (double)ms + 1e-6); /* up, but not for the float's dust */
}

void
bucket_give(struct bucket *b, double burst)
{
	b->tokens = b->tokens + 1 > burst ? burst : b->tokens + 1;
}
