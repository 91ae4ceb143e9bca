/* SPDX-License-Identifier: MIT */
/*
 * Realistic beacons for the benchmarks, made by the real encoders: what a
 * default agent sends (one IPv4 and two IPv6 addresses, OS name and
 * version, uptime, no tags), one per host, each in a mailslot datagram. The
 * sequence number has 7 fixed digits, so a sender can step it in place.
 */
#ifndef BEACON_BENCH_BEACONS_H
#define BEACON_BENCH_BEACONS_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_DGRAM_MAX 600
#define BENCH_SEQ0      1000000 /* 7 digits until 9999999 */

struct bench_beacon {
	uint8_t dgram[BENCH_DGRAM_MAX];
	size_t len;
	size_t seq_at; /* offset of the 7 seq digits in dgram */
	size_t id_at;  /* offset of the datagram id (2 bytes, big-endian) */
};

/* Host i's beacon (ids differ by host and by salt). 0, or -1. */
int bench_beacon_make(struct bench_beacon *b, size_t i, unsigned salt);

/* Write seq (BENCH_SEQ0..9999999) and a datagram id into b. */
void bench_beacon_step(struct bench_beacon *b, uint64_t seq, uint16_t id);

#endif
