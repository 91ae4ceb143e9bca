/* SPDX-License-Identifier: MIT */
/* Realistic beacons for the benchmarks (beacons.h). */
#include <stdio.h>
#include <string.h>

#include "beacon/beacon.h"
#include "beacons.h"
#include "mailslot/wire.h"

int
bench_beacon_make(struct bench_beacon *bb, size_t i, unsigned salt)
{
	struct beacon_msg b;
	struct mailslot_dgram d;
	char json[BEACON_MAX_WIRE + 1], *seq;
	unsigned dropped;
	size_t jl;

	memset(&b, 0, sizeof(b));
	memset(&d, 0, sizeof(d));
	b.version = BEACON_FORMAT;
	snprintf(b.id, sizeof(b.id), "%08x%08zx", salt, i);
	snprintf(b.instance, sizeof(b.instance), "%016llx",
		 (unsigned long long)(i + 1) * 0x9e3779b97f4a7c15ull);
	b.seq = BENCH_SEQ0;
	snprintf(b.hostname, sizeof(b.hostname), "host-%07zu.lab.example", i);
	b.interval_ms = 10000;
	b.ttl_ms = 30000;
	b.has_uptime = true;
	b.uptime_s = 1234567;
	strcpy(b.os, "Debian GNU/Linux");
	strcpy(b.os_version, "12");
	b.n_ipv4 = 1;
	snprintf(b.ipv4[0], sizeof(b.ipv4[0]), "198.18.%zu.%zu", i / 250 % 256,
		 i % 250 + 1);
	b.n_ipv6 = 2;
	snprintf(b.ipv6[0], sizeof(b.ipv6[0]), "2001:db8:%zx:%zx::1", i >> 16,
		 i & 0xffff);
	snprintf(b.ipv6[1], sizeof(b.ipv6[1]), "fe80::5054:ff:fe%02zx:%04zx",
		 (i >> 16) & 0xff, i & 0xffff);
	if (beacon_encode(&b, BEACON_MAX_WIRE - BEACON_SIG_RESERVE, json,
			  sizeof(json), &jl, &dropped) != BEACON_OK)
		return -1;
	d.msg_type = MAILSLOT_DIRECT_GROUP;
	d.flags = MAILSLOT_FLAG_FIRST;
	d.src_ip = 0x7f000001;
	d.src_port = 138;
	mailslot_nbname_set(&d.src_name, "HOST", 0);
	mailslot_nbname_set(&d.dst_name, "WORKGROUP", 0);
	strcpy(d.path, "\\MAILSLOT\\beacon");
	d.data = (const uint8_t *)json;
	d.data_len = jl;
	if (mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, bb->dgram,
				  sizeof(bb->dgram), &bb->len) != MAILSLOT_OK)
		return -1;
	seq = memmem(bb->dgram, bb->len, "\"seq\":1000000", 13);
	if (seq == NULL)
		return -1;
	bb->seq_at = (size_t)(seq - (char *)bb->dgram) + 6;
	bb->id_at = 2;
	return 0;
}

void
bench_beacon_step(struct bench_beacon *b, uint64_t seq, uint16_t id)
{
	char digits[8];

	snprintf(digits, sizeof(digits), "%07llu", (unsigned long long)seq);
	memcpy(b->dgram + b->seq_at, digits, 7);
	b->dgram[b->id_at] = (uint8_t)(id >> 8);
	b->dgram[b->id_at + 1] = (uint8_t)id;
}
