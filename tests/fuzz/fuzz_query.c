/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the query decoder: it must agree with the
 * reference decoder on cJSON (decode_ref.c), the same verdict and on
 * success the same fields, and a decoded query must encode and decode
 * back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "beacon/beacon.h"
#include "decode_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct beacon_query q, ref, back;
	char out[BEACON_MAX_WIRE + 1];
	enum beacon_err e = beacon_query_decode(data, size, &q);
	size_t len;

	if (e != beacon_query_decode_ref(data, size, &ref) ||
	    (e == BEACON_OK && memcmp(&q, &ref, sizeof(q)) != 0))
		abort();
	if (e != BEACON_OK)
		return 0;
	if (beacon_query_encode(&q, out, sizeof(out), &len) != BEACON_OK ||
	    beacon_query_decode(out, len, &back) != BEACON_OK ||
	    memcmp(&q, &back, sizeof(q)) != 0)
		abort();
	return 0;
}
