/* SPDX-License-Identifier: MIT */
/* The receive path's counters (rx.c counts, the renderers show them). */
#ifndef BEACON_PROBE_STATS_H
#define BEACON_PROBE_STATS_H

#include <stdint.h>

#include "beacon/auth.h"
#include "beacon/beacon.h"
#include "hosttab.h"
#include "mailslot/browse.h"

struct probe_stats {
	uint64_t events[EV__COUNT]; /* the table's changes, by kind */
	uint64_t beacons;           /* decoded and taken into the table */
	uint64_t duplicates;        /* copies of a beacon already counted */
	uint64_t reordered;         /* older than one already counted */
	uint64_t solicits;          /* general queries sent */
	uint64_t queries;           /* directed queries sent */
	uint64_t queries_capped;    /* not sent: over max_queries a second */
	uint64_t queries_off_link;  /* unicast not sent: address off the link */
	uint64_t source_rate;       /* over max_per_source: not decoded */
	uint64_t invalid[BEACON_E__COUNT];
	uint64_t browse_messages;      /* \MAILSLOT\BROWSE writes decoded */
	uint64_t browse_announcements; /* host, local master, domain */
	uint64_t browse_opcodes[16];   /* by opcode (all are below 16) */
	uint64_t browse_requests;      /* announcement requests sent */
	uint64_t browse_invalid[BROWSE_E__COUNT];
	uint64_t auth_stale;  /* a verified beacon of a new instance sent
				over AUTH_WINDOW_MS from our clock, answering
				no query of ours: a recording */
	uint64_t auth_replay; /* a verified beacon whose seq was taken: a
				 replay (not in "replayed": one reason) */
	uint64_t blind_ms;    /* time the probe could not see (dropping, or
			      behind): left out of every host's silence */
	uint64_t pass_max_ms; /* the loop's longest pass (poll's wait left
				 out): how long a datagram may wait on it */
	uint64_t auth[BEACON_SIG__COUNT]; /* dropped: signature not verified
					     (BEACON_SIG_NONE: unsigned with
					     --require-auth) */
};

#endif
