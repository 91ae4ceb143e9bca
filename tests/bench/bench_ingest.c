/* SPDX-License-Identifier: MIT */
/*
 * The probe's per-beacon pipeline in memory, without sockets: datagram
 * decode -> the probe's per-datagram path (per-source rate, fast path or
 * beacon decode, host table), for N hosts cycled, each from its own
 * address, with the defences at their defaults.
 * Prints ns per beacon (wall clock: run it on a quiet machine) so the
 * closing notes can give figures; under valgrind --tool=callgrind the
 * instruction count per beacon is exact and repeatable.
 *
 *   bench_ingest [HOSTS [ROUNDS]]
 *
 * The beacons are those of beacons.h (a default agent's); the seq steps in
 * place between rounds, outside the timed and counted part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beacon/beacon.h"
#include "probe.h"
#include "beacons.h"
#include "mailslot/wire.h"

static uint64_t
ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The steady state: every host's next beacon through the probe's own
   per-datagram function (probe_take: the per-source rate, the fast path,
   else the beacon decoder and the table), each host from its own address
   as on a LAN, after the datagram's decode. Kept out of line so callgrind
   can count it alone (--toggle-collect). */
static void
ingest_round(struct probe *p, struct bench_beacon *bb, size_t hosts, unsigned r)
{
	struct mailslot_meta m;
	size_t i;

	memset(&m, 0, sizeof(m));
	snprintf(m.ifname, sizeof(m.ifname), "lab0");
	snprintf(m.path, sizeof(m.path), "\\MAILSLOT\\beacon");
	for (i = 0; i < hosts; i++) {
		struct mailslot_dgram d;
		if (mailslot_dgram_decode(bb[i].dgram, bb[i].len, &d)) {
			fprintf(stderr, "bench_ingest: decode failed\n");
			exit(1);
		}
		m.src_ip = 0xc6120001u + (uint32_t)i; /* 198.18.0.1 + i */
		probe_take(p, d.data, d.data_len, &m, r * 10000u);
	}
}

/* The rounds after the first, which filled the table: what callgrind
   counts (--toggle-collect=steady_round). */
__attribute__((noinline)) static void
steady_round(struct probe *p, struct bench_beacon *bb, size_t hosts, unsigned r)
{
	ingest_round(p, bb, hosts, r);
}

int
main(int argc, char **argv)
{
	size_t hosts = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 20;
	struct bench_beacon *bb = calloc(hosts, sizeof(*bb));
	char *args[] = {"beacon-probe", "watch", NULL};
	struct probe_config c;
	struct hosttab_opts o = {.max_hosts = hosts, .key = {1, 2}};
	struct hosttab *t;
	bool done;
	struct probe p;
	uint64_t start, n, sum_len = 0;
	size_t i;
	unsigned r;

	/* The defences at their defaults, as the probe has them. */
	if (probe_config_parse(2, args, &c, &done) != 0 || done)
		return 1;
	o.new_per_s = c.new_per_source;
	o.new_burst = c.new_burst;
	t = hosttab_new(&o, NULL, NULL);
	if (bb == NULL || t == NULL)
		return 1;
	memset(&p, 0, sizeof(p));
	p.c = &c;
	p.tab = t;
	p.key[0] = 1;
	p.key[1] = 2;
	for (i = 0; i < hosts; i++) {
		if (bench_beacon_make(&bb[i], i, 0) < 0)
			return 1;
		sum_len += bb[i].len;
	}
	/* The first round fills the table; the rest is the steady state. */
	ingest_round(&p, bb, hosts, 0);
	start = ns();
	for (r = 1; r <= rounds; r++) {
		for (i = 0; i < hosts; i++)
			bench_beacon_step(&bb[i], BENCH_SEQ0 + r, (uint16_t)r);
		steady_round(&p, bb, hosts, r);
	}
	n = (uint64_t)hosts * rounds;
	printf("%zu hosts, %llu beacons of %zu bytes: %.0f ns per beacon "
	       "(%.0f beacons/s on one core)\n",
	       hosts, (unsigned long long)n, (size_t)(sum_len / hosts),
	       (double)(ns() - start) / (double)n,
	       1e9 * (double)n / (double)(ns() - start));
	hosttab_free(t);
	free(bb);
	return 0;
}
