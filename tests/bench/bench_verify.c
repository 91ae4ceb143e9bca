/* SPDX-License-Identifier: MIT */
/*
 * The cost of a signature: signing and verifying a default agent's beacon
 * (a beacon of tests/bench/beacons.h, signed with a random key), as ns per
 * operation over N rounds (wall clock: run it on a quiet machine).
 *
 *   bench_verify [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beacon/auth.h"
#include "beacon/beacon.h"
#include "beacons.h"
#include "mailslot/wire.h"

static uint64_t
ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	struct beacon_keyring kr = {.n = 1};
	struct bench_beacon bb;
	struct beacon_msg b;
	struct mailslot_dgram d;
	struct beacon_sig s;
	char line[BEACON_KEYLINE_MAX], buf[BEACON_MAX_WIRE + 1];
	size_t len, unsigned_len, signed_len = 0;
	unsigned dropped;
	unsigned long i, ok = 0;
	uint64_t t0, t1, t2;

	if (beacon_auth_init() < 0 ||
	    beacon_key_generate("k1", line, sizeof(line)) ||
	    beacon_keyring_line(line, &kr.keys[0]) != BEACON_KR_OK ||
	    bench_beacon_make(&bb, 0, 0) < 0 ||
	    mailslot_dgram_decode(bb.dgram, bb.len, &d) != MAILSLOT_OK ||
	    beacon_decode(d.data, d.data_len, &b) != BEACON_OK)
		return 1;
	if (beacon_encode(&b,
			  BEACON_MAX_WIRE - beacon_sig_size(&kr.keys[0], NULL),
			  buf, sizeof(buf), &len, &dropped) != BEACON_OK)
		return 1;
	unsigned_len = len;
	t0 = ns();
	for (i = 0; i < rounds; i++) {
		char copy[BEACON_MAX_WIRE + 1];
		size_t n = len;
		memcpy(copy, buf, len + 1);
		if (beacon_sign(copy, &n, sizeof(copy), &kr.keys[0],
				1764547200000 + i, NULL) < 0)
			return 1;
		signed_len = n;
	}
	t1 = ns();
	beacon_sign(buf, &len, sizeof(buf), &kr.keys[0], 1764547200000, NULL);
	for (i = 0; i < rounds; i++)
		ok += beacon_sig_verify(&kr, buf, len, &s) == BEACON_SIG_OK;
	t2 = ns();
	printf("signed beacon %zu bytes (unsigned %zu): sign %.0f ns, verify "
	       "%.0f ns (%lu of %lu verified)\n",
	       signed_len, unsigned_len, (double)(t1 - t0) / (double)rounds,
	       (double)(t2 - t1) / (double)rounds, ok, rounds);
	return ok == rounds ? 0 : 1;
}
