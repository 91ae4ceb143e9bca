/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the restore (serve --db at start): a history file
 * is the probe's own, but what is in it is treated as a datagram would
 * be. The input is a first byte (bit 0: a browse row, else a beacon
 * row), an id length byte and the id, then the stored row's text. What
 * reads is put in a fresh table, which then ticks a day on (the liveness
 * rule over the restored interval, TTL and loss) and is rendered as the
 * JSON document to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "probe.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct probe_config c;
	static bool ready;
	static FILE *out;
	struct hosttab_opts o = {.max_hosts = 16, .key = {1, 2}};
	struct hosttab_ask asks[8];
	struct probe p;
	struct probe_view v;
	char id[256], *text;
	size_t n, idlen, shown;
	bool live = false;
	uint64_t next;

	if (!ready) {
		char *argv[] = {"beacon-probe", "list", "--all"};
		bool done = false;
		if (probe_config_parse(3, argv, &c, &done) != 0 ||
		    (out = fopen("/dev/null", "w")) == NULL)
			abort();
		ready = true;
	}
	if (size < 2 || (idlen = data[1]) + 2 > size)
		return 0;
	memcpy(id, data + 2, idlen);
	id[idlen] = '\0';
	n = size - 2 - idlen;
	if ((text = malloc(n + 1)) == NULL)
		return 0;
	memcpy(text, data + 2 + idlen, n);
	text[n] = '\0';
	memset(&p, 0, sizeof(p));
	p.c = &c;
	p.tab = hosttab_new(&o, NULL, NULL);
	p.browse = browse_tab_new(16, 0, o.key, NULL, NULL);
	if (p.tab != NULL && p.browse != NULL) {
		const struct restore_row r = {id,
					      data[0] & 1 ? "browse" : "beacon",
					      1796524769838,
					      1796524774752,
					      text,
					      n};
		const uint64_t now =
			CLOCK_MONO_BASE_MS + 3600000; /* an hour up */
		(void)restore_row(&p, &r, now, 1796524800000, &live);
		(void)hosttab_tick(p.tab, now + 86400000, asks, 8, &n);
		(void)browse_tab_tick(p.browse, now + 86400000, &next);
		v = probe_view(&p);
		(void)output_document(out, &v, now + 86400000, &shown);
	}
	hosttab_free(p.tab);
	browse_tab_free(p.browse);
	free(text);
	return 0;
}
