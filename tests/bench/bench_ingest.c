/* SPDX-License-Identifier: MIT */
/*
 * The probe's per-beacon pipeline in memory, without sockets: datagram
 * decode -> beacon decode -> host table update, for N hosts cycled.
 * Prints ns per beacon (wall clock: run it on a quiet machine) so the
 * closing notes can give figures; under valgrind --tool=callgrind the
 * instruction count per beacon is exact and repeatable.
 *
 *   bench_ingest [HOSTS [ROUNDS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beacon/beacon.h"
#include "hosttab.h"
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
	size_t hosts = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 20;
	uint8_t(*dg)[600] = calloc(hosts, sizeof(*dg));
	size_t *len = calloc(hosts, sizeof(*len)), i;
	struct hosttab_opts o = {.max_hosts = hosts,
				 .new_per_s = 1e9,
				 .new_burst = 1e9,
				 .key = {1, 2}};
	struct hosttab *t = hosttab_new(&o, NULL, NULL);
	uint64_t start, n = 0, sum_len = 0;
	unsigned r;

	if (dg == NULL || len == NULL || t == NULL)
		return 1;
	for (i = 0; i < hosts; i++) {
		struct beacon_msg b = {0};
		struct mailslot_dgram d = {0};
		char json[BEACON_MAX_WIRE + 1];
		unsigned dropped;
		size_t jl;

		b.version = 1;
		snprintf(b.id, sizeof(b.id), "%016zx", i * 2654435761u);
		strcpy(b.instance, "00aa11bb22cc33dd");
		b.seq = 1;
		snprintf(b.hostname, sizeof(b.hostname), "host-%05zu", i);
		b.interval_ms = 10000;
		b.ttl_ms = 30000;
		b.has_uptime = true;
		b.uptime_s = 123456;
		strcpy(b.os, "Debian GNU/Linux");
		strcpy(b.os_version, "12");
		b.n_ipv4 = 1;
		snprintf(b.ipv4[0], sizeof(b.ipv4[0]), "198.18.%u.%u",
			 (unsigned)(i / 250 % 250), (unsigned)(i % 250 + 1));
		b.n_ipv6 = 1;
		strcpy(b.ipv6[0], "fe80::1");
		b.n_tags = 1;
		strcpy(b.tags[0].key, "role");
		strcpy(b.tags[0].value, "web");
		if (beacon_encode(&b, 376, json, sizeof(json), &jl, &dropped))
			return 1;
		d.msg_type = MAILSLOT_DIRECT_GROUP;
		d.flags = MAILSLOT_FLAG_FIRST;
		d.src_port = 138;
		mailslot_nbname_set(&d.src_name, "HOST", 0);
		mailslot_nbname_set(&d.dst_name, "WORKGROUP", 0);
		strcpy(d.path, "\\MAILSLOT\\beacon");
		d.data = (const uint8_t *)json;
		d.data_len = jl;
		if (mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, dg[i],
					  sizeof(dg[i]), &len[i]))
			return 1;
		sum_len += len[i];
	}
	start = ns();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < hosts; i++) {
			struct mailslot_dgram d;
			struct beacon_msg b;
			if (mailslot_dgram_decode(dg[i], len[i], &d) ||
			    beacon_decode(d.data, d.data_len, &b))
				return 1;
			b.seq = r + 1;
			hosttab_update(t, &b, "198.18.0.1", "lab0", r * 10000u);
			n++;
		}
	printf("%zu hosts, %llu beacons of %zu bytes: %.0f ns per beacon "
	       "(%.0f beacons/s on one core)\n",
	       hosts, (unsigned long long)n, (size_t)(sum_len / hosts),
	       (double)(ns() - start) / (double)n,
	       1e9 * (double)n / (double)(ns() - start));
	hosttab_free(t);
	free(dg);
	free(len);
	return 0;
}
