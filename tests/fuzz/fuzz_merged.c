/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the merged view (list and watch --mqtt): what a
 * broker delivers, from anyone who may publish there, must never crash
 * it, whatever the topics and payloads. The input is a first byte of
 * options (JSON or the table; list or watch --events; a --site filter)
 * and then messages: a topic length byte, the topic under beacon/v1/ and
 * a 2-byte payload length (big-endian), the payload. The view is printed
 * to /dev/null.
 */
#include <mosquitto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

#define MAX_MSGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct mosquitto_message msgs[MAX_MSGS];
	char topics[MAX_MSGS][300];
	char *argv[12] = {"beacon-probe", "list", "--mqtt", "mqtt://broker"};
	int argc = 4, n = 0;
	struct probe_config c;
	bool done = false;
	size_t i = 1;

	if (!quiet) {
		quiet = freopen("/dev/null", "w", stdout) != NULL;
		if (!quiet)
			abort();
	}
	if (size < 1)
		return 0;
	if (data[0] & 1)
		argv[argc++] = "--json";
	if (data[0] & 2) {
		argv[1] = "watch";
		argv[argc++] = "--events";
	}
	if (data[0] & 4)
		argv[argc++] = "--all";
	if (data[0] & 8) {
		argv[argc++] = "--site";
		argv[argc++] = "s1";
	}
	if (data[0] & 16) {
		argv[argc++] = "--status";
		argv[argc++] = "unknown";
	}
	if (probe_config_parse(argc, argv, &c, &done) != 0 || done)
		abort();
	while (n < MAX_MSGS && i < size) {
		size_t tl = data[i++], pl;
		if (i + tl + 2 > size)
			break;
		snprintf(topics[n], sizeof(topics[n]), "beacon/v1/%.*s",
			 (int)tl, (const char *)data + i);
		/* A topic is UTF-8 without NUL: the bytes up to a NUL. */
		i += tl;
		pl = (size_t)data[i] << 8 | data[i + 1];
		i += 2;
		if (pl > size - i)
			pl = size - i;
		memset(&msgs[n], 0, sizeof(msgs[n]));
		msgs[n].topic = topics[n];
		msgs[n].payload = pl ? malloc(pl) : NULL;
		if (pl)
			memcpy(msgs[n].payload, data + i, pl);
		msgs[n].payloadlen = (int)pl;
		msgs[n].retain = true;
		i += pl;
		n++;
	}
	merged_replay(&c, msgs, (size_t)n);
	for (i = 0; i < (size_t)n; i++)
		free(msgs[i].payload);
	return 0;
}
