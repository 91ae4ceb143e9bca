/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's bare receiver: recvmmsg (64) on 0.0.0.0:PORT with a
 * 4 MiB buffer, doing nothing with what it reads, until COUNT datagrams or
 * IDLE seconds without one after the first (60 s at most). Prints
 * "received N cpu_ns NS" (user + system time of this process).
 *
 *   bench_recv PORT COUNT IDLE
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

int
main(int argc, char **argv)
{
	static char buf[BATCH][2048];
	struct sockaddr_in sa = {0};
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct rusage ru;
	unsigned long long n = 0, count;
	int fd, i, one = 1, rcv = 4 << 20, idle_ms;
	time_t start = time(NULL);

	if (argc != 4)
		return 64;
	count = strtoull(argv[2], NULL, 10);
	idle_ms = (int)(atof(argv[3]) * 1000);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("bench_recv");
		return 1;
	}
	fprintf(stderr, "ready\n");
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
	}
	while (n < count && time(NULL) - start < 60) {
		struct pollfd p = {fd, POLLIN, 0};
		int got;
		if (poll(&p, 1, n ? idle_ms : 60000) <= 0)
			break;
		for (i = 0; i < BATCH; i++) {
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = NULL;
			mm[i].msg_hdr.msg_control = NULL;
		}
		got = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (got > 0)
			n += (unsigned long long)got;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("received %llu cpu_ns %lld\n", n,
	       (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
			       1000000000LL +
		       (long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) *
			       1000LL);
	return 0;
}
