/* SPDX-License-Identifier: MIT */
/*
 * serve --db: the probe's history, an SQLite database it alone writes
 * (WAL; readers such as `history` never block it). One more subscriber to
 * the table's changes: each event is queued in memory and written in
 * batches (one transaction a second, or per STORE_BATCH events), with the
 * host's row as the table has it then. A failing disk never stops the
 * probe: the events wait in a bounded queue and are written when it can.
 */
#ifndef BEACON_PROBE_STORE_H
#define BEACON_PROBE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hosttab.h"

#define STORE_VERSION  2    /* PRAGMA user_version */
#define STORE_BATCH    1000 /* events a transaction at most */
#define STORE_FLUSH_MS 1000 /* the oldest unwritten event waits this */
/* A transaction's work at most: the loop goes on between (one of 1,000
   events took 54 ms at 20,000 joins a second). */
#define STORE_PASS_MS   10
#define STORE_QUEUE_MAX 200000 /* events waiting at most; then dropped */
/* Live hosts' rows written again (their last seen, counts), STORE_BATCH
   a pass, this often. */
#define STORE_SWEEP_MS 60000
/* Retention: looked at this often, then a slice a pass until done. */
#define STORE_PRUNE_MS    600000
#define STORE_PRUNE_SLICE 500

struct probe;
struct probe_event;
struct store;

struct store_stats {
	uint64_t events_written;
	uint64_t events_dropped; /* the queue was full (a failing disk) */
	uint64_t errors;         /* transactions that failed */
	uint64_t pruned_events, pruned_hosts; /* past --db-retention */
	size_t waiting;                       /* events not yet written */
};

/* Opens (or creates) the database at path, after the privilege drop.
   Refused, the file left as it was, with a message naming the cause: a
   symbolic link, a directory, FIFO or device; a file that is not an
   SQLite database; a schema newer than this program's; a database another
   beacon-probe writes. NULL (logged) then. */
struct store *store_open(const char *path, struct probe *p);
/* Writes what waits and every live host's row (as far as the disk lets
   it), then closes. */
void store_close(struct store *s);
/* Whether the history's last missing or back event of id is a missing
   one (written, or waiting to be): said before the probe restarted. */
bool store_said_missing(struct store *s, const char *id);
/* Whether id is new to the database (asked of it the first time an id
   joins in this run; a failing read says not new); known from now on. */
bool store_first(struct store *s, const char *id);
/* The subscriber (ctx: the store). */
void store_event(void *ctx, const struct probe_event *e, uint64_t now_ms);
/* When the loop should call store_run: UINT64_MAX when nothing waits. */
uint64_t store_due(const struct store *s);
void store_run(struct store *s, uint64_t now_ms);
void store_stats(const struct store *s, struct store_stats *st);
/* Its counters in the Prometheus text (beacon_db_...). */
void store_metrics(FILE *f, const struct store *s);

/* restore.c: the table from the history, at start: every host the
   database has (the most recently seen first, while the table has room).
   0, or -1 (the database's error). */
struct sqlite3;
int restore_table(struct sqlite3 *db, struct probe *p, const char *path);
/* One row of the file's hosts table (its row text untrusted: checked as
   a datagram is), into p's tables at the clocks mono and wall: 1 put
   back (*live: it was alive or stale), 0 no room or already there, -1 the
   row does not read. For the restore and its fuzzer. */
struct restore_row {
	const char *id, *kind;
	int64_t first_seen, last_seen; /* ms since the epoch */
	const char *text;
	size_t len;
};
int restore_row(struct probe *p, const struct restore_row *r, uint64_t mono,
		int64_t wall, bool *live);

/* history.c: the database at path, read-only (readers never block
   serve): a regular file with a schema this program knows; NULL (said)
   if not. */
struct sqlite3 *history_open(const char *path);
/* The events query: ?1 since, ?2 until (ms since the epoch), ?3 the host
   (an id, or a hostname in any case) when host, ?4... the n_events event
   names; oldest first, or (paged) newest first from the cursor ?20 (at),
   ?21 (rowid), at most ?22. Columns: at, event, host, line, rowid. */
struct sqlite3_stmt *history_query(struct sqlite3 *db, bool host,
				   size_t n_events, bool paged);

/* GET /v1/history: a page of events, newest first. */
#define STORE_PAGE_MAX 1000
struct store_ask {
	const char *host; /* NULL: every host */
	int64_t since, until;
	const char *events[EV__COUNT];
	size_t n_events;
	unsigned limit;
	int64_t cursor_at, cursor_row; /* INT64_MAX: from the newest */
};
/* The page as {"events": [...], "next": CURSOR or null} into *body (to
   free). 0, or -1 (the database's error). */
int store_page(struct store *s, const struct store_ask *a, char **body,
	       size_t *len);

#endif
