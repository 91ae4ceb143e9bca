/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the beacon and query decoders. The decoders must
 * agree with the reference decoders on cJSON (decode_ref.c): the same
 * verdict, and on success the same fields. A decoded beacon must encode
 * again within 424 bytes (our encoding can be longer than the input, e.g.
 * through escapes, so optional items may be dropped) and decode back; when
 * nothing was dropped, to the very same struct.
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
	struct beacon_msg b, back, ref;
	struct beacon_query q, qref;
	enum beacon_err e;
	char out[BEACON_MAX_WIRE + 1];
	size_t len;
	unsigned dropped;

	e = beacon_query_decode(data, size, &q);
	if (e != beacon_query_decode_ref(data, size, &qref) ||
	    (e == BEACON_OK && memcmp(&q, &qref, sizeof(q)) != 0))
		abort();
	if (e == BEACON_OK && !beacon_ident_valid(q.nonce, BEACON_MAX_ID))
		abort();
	e = beacon_decode(data, size, &b);
	if (e != beacon_decode_ref(data, size, &ref) ||
	    (e == BEACON_OK && memcmp(&b, &ref, sizeof(b)) != 0))
		abort();
	if (e != BEACON_OK)
		return 0;
	if (beacon_encode(&b, BEACON_MAX_WIRE, out, sizeof(out), &len,
			  &dropped) != BEACON_OK)
		abort();
	if (beacon_decode(out, len, &back) != BEACON_OK)
		abort();
	if (dropped == 0 && memcmp(&b, &back, sizeof(b)) != 0)
		abort();
	return 0;
}
