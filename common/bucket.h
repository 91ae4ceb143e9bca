/* SPDX-License-Identifier: MIT */
/*
 * A token bucket: rate tokens a second, at most burst at once, one taken
 * per event. Not a fixed window, which lets twice the rate through across
 * its edge. Pure: the time (monotonic ms) is an argument. A zeroed bucket
 * is full at its first take.
 */
#ifndef BEACON_COMMON_BUCKET_H
#define BEACON_COMMON_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct bucket {
	double tokens;
	uint64_t at_ms;
	bool used;
};

/* Take a token: false when there is none (the event is over the rate). */
bool bucket_take(struct bucket *b, double rate, double burst, uint64_t now);
/* After a take that failed: the milliseconds until a token comes. */
uint64_t bucket_wait_ms(const struct bucket *b, double rate);
/* A token given back (the event did not count), up to the burst. */
void bucket_give(struct bucket *b, double burst);

#endif
