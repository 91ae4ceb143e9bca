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
