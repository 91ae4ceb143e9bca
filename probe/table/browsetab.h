/* SPDX-License-Identifier: MIT */
/*
 * Browse hosts: Windows, Samba, NAS boxes and Macs known from their
 * [MS-BRWS] announcements to \MAILSLOT\BROWSE, with no agent installed.
 * One row per NetBIOS name; the workgroups seen in domain announcements
 * beside them. Pure: no I/O, time is a parameter.
 *
 * A row lives for 3 periodicities after its last announcement, as
 * [MS-BRWS] has browsers keep it (the periodicity taken between 1 minute
 * and a third of the probe's --max-ttl); a server type of 0 is a host
 * that shut down ("left"). Names and comments are stored printable: a byte
 * outside printable ASCII (the sender's code page) becomes '?'.
 */
#ifndef BEACON_PROBE_BROWSETAB_H
#define BEACON_PROBE_BROWSETAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hosttab.h"
#include "mailslot/browse.h"

#define BROWSE_DEFAULT_MAX   4096 /* rows, and as many workgroups / 16 */
#define BROWSE_MIN_PERIOD_MS 60000u

struct browse_host {
	char name[BROWSE_NAME_MAX + 1];
	char workgroup[BROWSE_NAME_MAX + 1]; /* "" when not known */
	char comment[BROWSE_COMMENT_MAX + 1];
	char addr[16];
	char ifname[16];
	uint8_t status; /* enum host_status: alive, left or expired */
	uint8_t os_major, os_minor, browser_major, browser_minor;
	uint8_t update_count;
	bool local_master; /* its last was a local master announcement */
	bool restored;     /* from the history, not heard since */
	uint32_t server_type;
	uint32_t periodicity_ms; /* as announced */
	uint64_t first_seen_ms, last_seen_ms, status_ms;
	uint64_t announcements;
};

struct browse_group {
	char name[BROWSE_NAME_MAX + 1];
	char master[BROWSE_COMMENT_MAX + 1]; /* its local master browser */
	char addr[16];
	uint32_t periodicity_ms;
	uint64_t last_seen_ms;
};

enum browse_result {
	BR_NEW,     /* a new row (or one back from left/expired) */
	BR_UPDATED, /* an announcement from a known row */
	BR_LEFT,    /* server type 0: it shut down */
	BR_GROUP,   /* a domain announcement: the workgroup list */
	BR_FULL,    /* not taken: the table is full of live rows */
	BR_IGNORED, /* not an announcement */
};

struct browse_tab;

/* A row joined (new, or back from left or expired), left (server type 0)
   or expired: EV_JOIN, EV_LEAVE, EV_EXPIRE; a restored row heard again:
   EV_UPDATE. */
typedef void (*browse_event_fn)(void *ctx, enum host_event ev,
				const struct browse_host *h, uint64_t now_ms);

/* NULL when out of memory. max: rows (0: BROWSE_DEFAULT_MAX); max_ttl_ms
   caps 3 periodicities (0: 1 hour); key: the name index's hash key
   (names come from the network: hosttab_hash); ev may be NULL. */
struct browse_tab *browse_tab_new(size_t max, uint32_t max_ttl_ms,
				  const uint64_t key[2], browse_event_fn ev,
				  void *ctx);
void browse_tab_free(struct browse_tab *t);

/* One decoded message from src on ifname; workgroup is the NetBIOS
   destination's name (a host announcement goes to WORKGROUP<1d>). */
enum browse_result browse_tab_update(struct browse_tab *t,
				     const struct browse_msg *m,
				     const char *workgroup, const char *src,
				     const char *ifname, uint64_t now_ms);

/* Expire the rows whose 3 periodicities have passed; returns how many
   changed, and *next the next time one will (UINT64_MAX: none). */
size_t browse_tab_tick(struct browse_tab *t, uint64_t now_ms, uint64_t *next);

/* A row from the probe's history, put back at start without an event
   (browse_tab_restore): one that was alive at the last stop is stale
   (HOSTTAB_NOT_HEARD) until its next announcement, and expires 3
   periodicities after now_ms without one; one that had left or expired
   stays so. -1: the name is in the table, or it is full. */
int browse_tab_restore(struct browse_tab *t, const struct browse_host *row,
		       uint64_t now_ms);

size_t browse_tab_count(const struct browse_tab *t);
const struct browse_host *browse_tab_at(const struct browse_tab *t, size_t i);
size_t browse_tab_groups(const struct browse_tab *t);
const struct browse_group *browse_tab_group(const struct browse_tab *t,
					    size_t i);
/* Rows refused because the table was full of live rows. */
uint64_t browse_tab_refused(const struct browse_tab *t);

/* The row for a NetBIOS name (case-insensitive), or NULL. */
const struct browse_host *browse_tab_find(const struct browse_tab *t,
					  const char *name);

/*
 * The NetBIOS name a beacon host would have: its hostname's first label,
 * upper-cased, cut to len (15, or 16 as Samba 4.9 sends). out has room for
 * BROWSE_NAME_MAX + 1.
 */
void browse_netbios_name(const char *hostname, size_t len, char *out);

/* How long the row lives after its last announcement. */
uint64_t browse_ttl_ms(const struct browse_tab *t, const struct browse_host *h);

#endif
