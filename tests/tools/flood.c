/* SPDX-License-Identifier: MIT */
/*
 * A bounded flood for the lab: mailslot datagrams to DEST:PORT as fast as
 * one core sends them, with UDP GSO (16 equal datagrams a system call, the
 * only way one sender reaches the receive limit here: lab-notes.md), until
 * COUNT datagrams or SECONDS have gone, whichever is first.
 *
 *   flood SRC DEST PORT COUNT SECONDS KIND [FIRST]
 *
 * KIND: beacons (valid beacons from new host ids, all different), junk
 * (random bytes), or mixed (half each). The ids count up from FIRST
 * (default 0), so floods run one after another bring new hosts each.
 * Prints "sent N in T s (R/s)".
 * Only for tests: it refuses anything but 127/8 and 198.18.0.0/15.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mailslot/wire.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define SEGS 16
#define SIZE 300 /* every datagram, so GSO can cut them */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
lab_addr(uint32_t a)
{
	return (a >> 24) == 127 || (a >> 17) == (0xc612u >> 1); /* 198.18/15 */
}

/* One datagram of exactly SIZE bytes into out. */
static void
make(uint8_t *out, uint32_t src, uint64_t n, int junk)
{
	static const char pad[] =
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	struct mailslot_dgram d;
	char body[SIZE];
	size_t len, want, i;
	int b;

	if (junk) {
		for (i = 0; i < SIZE; i++)
			out[i] = (uint8_t)rand();
		return;
	}
	memset(&d, 0, sizeof(d));
	d.msg_type = MAILSLOT_DIRECT_GROUP;
	d.flags = MAILSLOT_FLAG_FIRST;
	d.dgm_id = (uint16_t)n;
	d.src_ip = src;
	d.src_port = 138;
	mailslot_nbname_set(&d.src_name, "FLOOD", 0);
	mailslot_nbname_set(&d.dst_name, "WORKGROUP", 0);
	strcpy(d.path, "\\MAILSLOT\\beacon");
	/* The header takes what the body does not: size the tag to fit. */
	d.data = (const uint8_t *)"";
	d.data_len = 0;
	mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, out, SIZE, &len);
	want = SIZE - len;
	b = snprintf(body, sizeof(body),
		     "{\"v\":1,\"id\":\"f%012llx\",\"inst\":\"i\",\"seq\":1,"
		     "\"state\":\"up\",\"host\":\"flood\",\"int_ms\":1000,"
		     "\"ttl_ms\":3000,\"tags\":{\"p\":\"\"}}",
		     (unsigned long long)n);
	memmove(body + b - 3 + (want - (size_t)b), body + b - 3, 4);
	memcpy(body + b - 3, pad, want - (size_t)b);
	d.data = (const uint8_t *)body;
	d.data_len = want;
	mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, out, SIZE, &len);
}

int
main(int argc, char **argv)
{
	static uint8_t buf[SEGS * SIZE];
	struct sockaddr_in src = {0}, dst = {0};
	uint64_t count, sent = 0, n = 0;
	double seconds, start;
	int fd, one = 1, seg = SIZE, kind;

	if ((argc != 7 && argc != 8) ||
	    inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: flood SRC DEST PORT COUNT SECONDS "
				"beacons|junk|mixed [FIRST]\n");
		return 64;
	}
	if (!lab_addr(ntohl(src.sin_addr.s_addr)) ||
	    !lab_addr(ntohl(dst.sin_addr.s_addr))) {
		fprintf(stderr, "flood: lab addresses only (127/8, "
				"198.18.0.0/15)\n");
		return 64;
	}
	count = strtoull(argv[4], NULL, 10);
	n = argc == 8 ? strtoull(argv[7], NULL, 10) : 0;
	seconds = atof(argv[5]);
	kind = strcmp(argv[6], "junk") == 0    ? 1
	       : strcmp(argv[6], "mixed") == 0 ? 2
					       : 0;
	if (count > 20000000 || seconds > 30) {
		fprintf(stderr, "flood: at most 20M datagrams and 30 s\n");
		return 64;
	}
	src.sin_family = dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
	    setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)) < 0) {
		perror("flood");
		return 1;
	}
	srand((unsigned)getpid());
	start = now_s();
	while (sent < count && now_s() - start < seconds) {
		int i;
		for (i = 0; i < SEGS; i++, n++)
			make(buf + i * SIZE, ntohl(src.sin_addr.s_addr), n,
			     kind == 1 || (kind == 2 && (n & 1)));
		if (send(fd, buf, sizeof(buf), 0) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("flood: send");
			return 1;
		}
		sent += SEGS;
	}
	printf("sent %llu in %.2f s (%.0f/s)\n", (unsigned long long)sent,
	       now_s() - start, (double)sent / (now_s() - start));
	return 0;
}
