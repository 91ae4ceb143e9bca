/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the beacon and query decoders. A decoded beacon must
 * encode again within 424 bytes (our encoding can be longer than the input,
 * e.g. through escapes, so optional items may be dropped) and decode back;
 * when nothing was dropped, to the very same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "beacon/beacon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct beacon_msg b, back;
	struct beacon_query q;
	char out[BEACON_MAX_WIRE + 1];
	size_t len;
	unsigned dropped;

	if (beacon_query_decode(data, size, &q) == BEACON_OK &&
	    !beacon_ident_valid(q.nonce, BEACON_MAX_ID))
		abort();
	if (beacon_decode(data, size, &b) != BEACON_OK)
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
