/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's sender: beacons of HOSTS hosts (beacons.h), host after
 * host, ROUNDS times (each round the next seq), paced at RATE a second with
 * sendmmsg batches, to 127.0.0.1:PORT. Loopback only; bounded by the
 * rounds and by 60 s.
 *
 *   bench_send PORT HOSTS ROUNDS RATE [SALT [FIRST_ROUND [SOURCES]]]
 *
 * Round r carries seq BENCH_SEQ0 + FIRST_ROUND + r, so a second run goes
 * on where a first one stopped. SOURCES "own" (the default) sends host i
 * from its own address, 127.1.0.1 + i (IP_PKTINFO sets each datagram's
 * source: loopback holds all of 127/8), as on a LAN; "one" sends every
 * host from 127.0.0.1.
 * Prints "sent N in T s".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "beacons.h"

#define BATCH 32
#define SRC0  0x7f010001u /* 127.1.0.1: host i sends from SRC0 + i */

union pktinfo_cmsg {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
};

/* Message k's source: host i's own address, through IP_PKTINFO. */
static void
set_source(struct msghdr *mh, union pktinfo_cmsg *c, size_t i)
{
	struct in_pktinfo pi = {0};
	struct cmsghdr *h;

	pi.ipi_spec_dst.s_addr = htonl(SRC0 + (uint32_t)i);
	mh->msg_control = c->buf;
	mh->msg_controllen = sizeof(c->buf);
	h = CMSG_FIRSTHDR(mh);
	h->cmsg_level = IPPROTO_IP;
	h->cmsg_type = IP_PKTINFO;
	h->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(h), &pi, sizeof(pi));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in dst = {0};
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	union pktinfo_cmsg cm[BATCH];
	struct bench_beacon *bb;
	size_t hosts, i, k, n = 0, total;
	unsigned rounds, salt, first;
	double rate, start;
	bool own;
	int fd;

	if (argc < 5) {
		fprintf(stderr,
			"usage: bench_send PORT HOSTS ROUNDS RATE [SALT "
			"[FIRST_ROUND [own|one]]]\n");
		return 64;
	}
	hosts = strtoul(argv[2], NULL, 10);
	rounds = (unsigned)strtoul(argv[3], NULL, 10);
	rate = atof(argv[4]);
	salt = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 10) : 0;
	first = argc > 6 ? (unsigned)strtoul(argv[6], NULL, 10) : 0;
	own = argc <= 7 || strcmp(argv[7], "one") != 0;
	if (hosts == 0 || hosts > 2000000 || rounds == 0 || rounds > 8000000 ||
	    rate <= 0 || (argc > 7 && !own && strcmp(argv[7], "one") != 0) ||
	    (argc > 7 && own && strcmp(argv[7], "own") != 0)) {
		fprintf(stderr, "bench_send: bad arguments\n");
		return 64;
	}
	bb = calloc(hosts, sizeof(*bb));
	if (bb == NULL)
		return 1;
	for (i = 0; i < hosts; i++)
		if (bench_beacon_make(&bb[i], i, salt) < 0) {
			fprintf(stderr, "bench_send: encoding failed\n");
			return 1;
		}
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[1]));
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    (!own && connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)) {
		perror("bench_send");
		return 1;
	}
	total = hosts * rounds;
	start = now_s();
	while (n < total && now_s() - start < 60) {
		size_t m = total - n < BATCH ? total - n : BATCH;
		double due = start + (double)(n + m) / rate;
		int sent;
		for (k = 0; k < m; k++) {
			struct bench_beacon *b = &bb[(n + k) % hosts];
			bench_beacon_step(b,
					  BENCH_SEQ0 + first + (n + k) / hosts,
					  (uint16_t)(n + k));
			iov[k].iov_base = b->dgram;
			iov[k].iov_len = b->len;
			memset(&mm[k], 0, sizeof(mm[k]));
			mm[k].msg_hdr.msg_iov = &iov[k];
			mm[k].msg_hdr.msg_iovlen = 1;
			if (own) {
				mm[k].msg_hdr.msg_name = &dst;
				mm[k].msg_hdr.msg_namelen = sizeof(dst);
				set_source(&mm[k].msg_hdr, &cm[k],
					   (n + k) % hosts);
			}
		}
		while (now_s() < due)
			; /* paced: spin, a sleep is too coarse at 400k/s */
		sent = sendmmsg(fd, mm, (unsigned)m, 0);
		if (sent > 0)
			n += (size_t)sent;
	}
	printf("sent %zu in %.3f s\n", n, now_s() - start);
	free(bb);
	close(fd);
	return 0;
}
