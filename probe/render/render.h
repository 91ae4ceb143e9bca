/* SPDX-License-Identifier: MIT */
/*
 * The probe's renderers: the view (filters, rows), the text table, the
 * JSON document, the NDJSON events, the Prometheus text. Each reads a
 * struct probe_view (the table, the filters, the counters) and writes to
 * a FILE (a file, a memory stream, a socket's buffer); none sends, binds,
 * publishes or reads a socket, and none includes the loop's probe.h: the
 * room builds as its own library (probe_render) on the table's, and
 * style.shape checks that no renderer calls into the loop's I/O.
 */
#ifndef BEACON_PROBE_RENDER_H
#define BEACON_PROBE_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "browsetab.h"
#include "config.h"
#include "expected.h"
#include "hosttab.h"
#include "mailslot/slot.h"
#include "stats.h"

/* What a renderer reads, all of it const: the loop makes one of its
   probe (probe_view()), the HTTP server one with a request's filters. */
struct probe_view {
	const struct probe_config *c; /* the filters, header, all */
	const struct hosttab *tab;
	const struct browse_tab *browse; /* NULL: --no-browse */
	const struct probe_stats *st;
	const struct mailslot_stats *rx;  /* the socket's; NULL: none */
	bool keyring;                     /* beacons are verified */
	const struct expect_list *expect; /* --expect; NULL: none */
};

/* text.c: a missing or back event's watch --events line (h or b: the
   row the name is, or neither); NULL when out of memory. */
char *output_expect_event(const struct probe_view *p, enum host_event ev,
			  const char *name, const struct host *h,
			  const struct browse_host *b, const char *reason,
			  uint64_t now_ms);

/* view.c: the filters and the rows. */
bool output_match(const struct probe_config *c, const struct host *h);
/* text.c: the text table: 0 with *shown (rows written), or -1 with errno (out of
   memory, or f failed). */
int output_table(FILE *f, const struct probe_view *p, uint64_t now_ms,
		 size_t *shown);
/* The rows to show, sorted by hostname; caller frees. NULL when out of
   memory. */
/* One row shown: a beacon host (h) with its browse announcements if the
   same machine sends them (b, or NULL), or a browse host alone (h NULL). */
struct output_row {
	const struct host *h;
	const struct browse_host *b;
};
struct output_row *output_rows(const struct probe_view *p, size_t *n);
/* Claimed addresses, then the sources seen, each once. */
size_t output_addresses(const struct host *h, const char **out, size_t max);

/* document.c: the table document (schema/table.schema.json), streamed to
   f; *shown gets the number of hosts in it. -1 when out of memory or f
   failed. */
int output_document(FILE *f, const struct probe_view *p, uint64_t now_ms,
		    size_t *shown);
/* One event as an NDJSON line (no newline); caller frees with free().
   NULL when out of memory. */
char *output_event(enum host_event ev, const struct host *h, const char *reason,
		   uint64_t now_ms);

/* The transport's counters, zeros when the view has none. */
const struct mailslot_stats *output_rx(const struct probe_view *p);
/* The browse host that is this beacon host (same NetBIOS name, one of its
   addresses), or NULL. */
const struct browse_host *output_browse_twin(const struct probe_view *p,
					     const struct host *h);
/* document.c: one host's object (1; 0: no such id, "netbios:NAME" for a
   browse host; -1: f failed); every drop counter by name, in the
   document's order. */
int output_one_host(FILE *f, const struct probe_view *p, const char *id,
		    uint64_t now_ms);
/* The same in memory: 1 with *text (to free, ending in a newline) and
   *len; 0: no such id; -1: out of memory. */
int output_one_host_text(const struct probe_view *p, const char *id,
			 uint64_t now_ms, char **text, size_t *len);
/* The row of id: a beacon host in *h, or for "netbios:NAME" a browse host
   in *b; false when there is none. */
bool output_find_row(const struct probe_view *p, const char *id,
		     const struct host **h, const struct browse_host **b);
void output_drops(const struct probe_view *p,
		  void (*fn)(void *ctx, const char *name, uint64_t v),
		  void *ctx);
/* metrics.c: the Prometheus text exposition of the table and the
   receive path (the HTTP server adds its own); -1 when f fails. */
int output_metrics(FILE *f, const struct probe_view *p, uint64_t now_ms);

/* The same for a browse host's join, leave or expiry. */
char *output_browse_event(const struct probe_view *p, enum host_event ev,
			  const struct browse_host *h, uint64_t now_ms);
/* The text format's parts, for the other counters (the HTTP server's):
   a family's HELP and TYPE lines; a counter's, with its one sample. */
void metrics_head(FILE *f, const char *name, const char *type,
		  const char *help);
void metrics_counter(FILE *f, const char *name, const char *help, uint64_t v);

#endif
