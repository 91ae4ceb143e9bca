/* SPDX-License-Identifier: MIT */
/*
 * serve --db: the history in SQLite (store.h). The file is checked before
 * SQLite opens it (lstat, then an open that follows no link, then its
 * first 16 bytes), and held with flock(2) for as long as the probe runs:
 * SQLite's own locks are POSIX record locks, which flock does not touch,
 * so readers still read while a second writer is refused. synchronous=
 * NORMAL in WAL mode: a killed process loses nothing committed (a power
 * cut may lose the last transactions), so a SIGKILL costs at most the
 * events of the last second, which wait in memory.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "keymap.h"
#include "log.h"
#include "probe.h"
#include "store.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000

struct waiting {
	int64_t at; /* ms since the epoch */
	enum host_event ev;
	char id[48];
	char *line;
};

struct store {
	struct probe *p;
	const char *path;
	sqlite3 *db;
	int lock_fd;
	sqlite3_stmt *add_event, *put_host, *touch_host, *has_host;
	sqlite3_stmt *prune_events, *prune_hosts;
	struct waiting *q; /* q[done..n) wait */
	size_t done, n, cap;
	struct keymap known; /* ids joined in this run, and whether new */
	uint64_t oldest_ms;  /* when q[done] came (monotonic) */
	uint64_t retry_ms;   /* after a failure: not before */
	uint64_t backoff_ms;
	size_t sweep_at;    /* the next row the sweep looks at */
	uint64_t sweep_due; /* when it goes on */
	uint64_t prune_due; /* retention: the next slice */
	bool failing, said_full;
	struct store_stats st;
};

static const char schema_v1[] =
	"CREATE TABLE hosts ("
	" id TEXT PRIMARY KEY NOT NULL," /* a host id, or netbios:NAME */
	" kind TEXT NOT NULL,"           /* beacon, browse */
	" first_seen INTEGER NOT NULL,"  /* ms since the epoch */
	" last_seen INTEGER NOT NULL,"
	" hostname TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" reason TEXT NOT NULL," /* of its last event */
	" restarts INTEGER NOT NULL,"
	" row TEXT NOT NULL" /* its object, as /v1/hosts/ID gives it */
	") WITHOUT ROWID;"
	"CREATE TABLE events ("
	" at INTEGER NOT NULL," /* ms since the epoch */
	" host TEXT NOT NULL,"
	" event TEXT NOT NULL,"
	" line TEXT NOT NULL" /* the watch --events object */
	");"
	"CREATE INDEX events_at ON events (at);"
	"CREATE INDEX events_host ON events (host, at);"
	"PRAGMA user_version = 1;";

/* Version 2: hosts by last seen (a restart counts them, and takes the
   most recently seen first when the table cannot hold them all, without
   reading every row: 60 ms of 100,000 hosts' restore). */
static const char schema_v2[] =
	"CREATE INDEX hosts_last_seen ON hosts (last_seen);"
	"PRAGMA user_version = 2;";

/* The path as it is: a regular file (fd, locked), or none yet (fd
   created). -1 with the cause in why. */
static int
open_file(const char *path, bool *created, char *why, size_t len)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	struct stat st;
	ssize_t n;
	int fd;

	*created = false;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(why, len, "it is %s, not a database file",
			 S_ISLNK(st.st_mode)    ? "a symbolic link"
			 : S_ISDIR(st.st_mode)  ? "a directory"
			 : S_ISFIFO(st.st_mode) ? "a FIFO"
						: "a device or socket");
		return -1;
	}
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0640);
		*created = fd >= 0;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s",
			 fd < 0 ? strerror(errno) : "not a regular file");
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(why, len, "%s",
			 errno == EWOULDBLOCK
				 ? "another beacon-probe serve writes it "
				   "(give each its own --db)"
				 : strerror(errno));
		goto fail;
	}
	n = pread(fd, head, sizeof(head), 0);
	if (n != 0 && (n != (ssize_t)sizeof(head) ||
		       memcmp(head, magic, sizeof(head)) != 0)) {
		snprintf(why, len, "it is not an SQLite database");
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	if (*created)
		unlink(path);
	return -1;
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The schema, created or checked (a newer one is refused untouched). */
static int
schema(struct store *s, char *why, size_t len)
{
	int v = 0, rc = user_version(s->db, &v);

	if (rc != SQLITE_OK) {
		snprintf(why, len, "%s", sqlite3_errstr(rc));
		return -1;
	}
	if (v > STORE_VERSION) {
		snprintf(why, len,
			 "its schema is version %d, newer than this "
			 "beacon-probe's (%d): upgrade beacon-probe",
			 v, STORE_VERSION);
		return -1;
	}
	/* Migrations go forward only, one version after the other, each in
	   its own transaction: 0 (a new file) to 1, 1 to 2. */
	static const char *const step[STORE_VERSION] = {schema_v1, schema_v2};
	if (sqlite3_exec(s->db,
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = "
			 "NORMAL; PRAGMA trusted_schema = OFF",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (; v < STORE_VERSION; v++)
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
			    SQLITE_OK ||
		    sqlite3_exec(s->db, step[v], NULL, NULL, NULL) !=
			    SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) !=
			    SQLITE_OK)
			goto fail;
	return 0;
fail:
	snprintf(why, len, "%s", sqlite3_errmsg(s->db));
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
prepare(struct store *s)
{
	const struct {
		const char *sql;
		sqlite3_stmt **st;
	} stmts[] = {
		{"INSERT INTO events (at, host, event, line) VALUES (?1, ?2, "
		 "?3, ?4)",
		 &s->add_event},
		{"INSERT INTO hosts (id, kind, first_seen, last_seen, hostname, "
		 "status, reason, restarts, row) VALUES (?1, ?2, ?3, ?4, ?5, "
		 "?6, ?7, ?8, ?9) ON CONFLICT (id) DO UPDATE SET kind = "
		 "excluded.kind, last_seen = excluded.last_seen, hostname = "
		 "excluded.hostname, status = excluded.status, reason = "
		 "excluded.reason, restarts = excluded.restarts, row = "
		 "excluded.row",
		 &s->put_host},
		{"UPDATE hosts SET last_seen = ?2, status = ?3, restarts = ?4, "
		 "row = ?5 WHERE id = ?1",
		 &s->touch_host},
		{"SELECT 1 FROM hosts WHERE id = ?1", &s->has_host},
		/* Retention, a slice at a time (events_at is the index). */
		{"DELETE FROM events WHERE rowid IN (SELECT rowid FROM events "
		 "WHERE at < ?1 ORDER BY at LIMIT ?2)",
		 &s->prune_events},
		{"DELETE FROM hosts WHERE id IN (SELECT id FROM hosts WHERE "
		 "last_seen < ?1 AND NOT EXISTS (SELECT 1 FROM events WHERE "
		 "events.host = hosts.id) LIMIT ?2)",
		 &s->prune_hosts},
	};
	size_t i;

	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		if (sqlite3_prepare_v3(s->db, stmts[i].sql, -1,
				       SQLITE_PREPARE_PERSISTENT, stmts[i].st,
				       NULL) != SQLITE_OK)
			return -1;
	return 0;
}

struct store *
store_open(const char *path, struct probe *p)
{
	struct store *s = calloc(1, sizeof(*s));
	char why[160] = "out of memory";
	bool created = false;

	if (s == NULL)
		goto fail;
	s->p = p;
	s->path = path;
	s->lock_fd = -1;
	keymap_init(&s->known);
	s->lock_fd = open_file(path, &created, why, sizeof(why));
	if (s->lock_fd < 0)
		goto fail;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
			    NULL) != SQLITE_OK) {
		snprintf(why, sizeof(why), "%s", sqlite3_errmsg(s->db));
		goto fail;
	}
	if (schema(s, why, sizeof(why)) < 0)
		goto fail;
	if (restore_table(s->db, p, path) < 0 || prepare(s) < 0) {
		snprintf(why, sizeof(why), "%s", sqlite3_errmsg(s->db));
		goto fail;
	}
	s->backoff_ms = RETRY_MIN_MS;
	s->sweep_due = clock_mono_ms() + STORE_SWEEP_MS;
	s->prune_due = clock_mono_ms() + 1000; /* once started */
	return s;
fail:
	log_warnx("--db %s: %s", path, why);
	if (s != NULL) {
		sqlite3_close(s->db);
		if (created)
			unlink(path);
		if (s->lock_fd >= 0)
			close(s->lock_fd);
		keymap_free(&s->known);
		free(s);
	}
	return NULL;
}

bool
store_said_missing(struct store *s, const char *id)
{
	sqlite3_stmt *st;
	bool said = false;
	size_t i;

	for (i = s->n; i > s->done; i--) /* the newest waiting first */
		if (strcmp(s->q[i - 1].id, id) == 0 &&
		    (s->q[i - 1].ev == EV_MISSING || s->q[i - 1].ev == EV_BACK))
			return s->q[i - 1].ev == EV_MISSING;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT event FROM events WHERE host = ?1 AND "
			       "event IN ('missing', 'back') ORDER BY at DESC, "
			       "rowid DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	said = sqlite3_step(st) == SQLITE_ROW &&
	       strcmp((const char *)sqlite3_column_text(st, 0), "missing") == 0;
	sqlite3_finalize(st);
	return said;
}

bool
store_first(struct store *s, const char *id)
{
	int err = 0, rc;

	if (keymap_get(&s->known, id) != NULL)
		return false;
	/* Not read at start (100,000 ids were a tenth of a restore): the
	   file is asked once per id that joins. */
	sqlite3_bind_text(s->has_host, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->has_host);
	sqlite3_reset(s->has_host);
	keymap_put(&s->known, id, s, &err);
	return rc == SQLITE_DONE;
}

void
store_event(void *ctx, const struct probe_event *e, uint64_t now)
{
	struct store *s = ctx;
	struct waiting *w;
	char *line = e->line != NULL ? strdup(e->line) : NULL;

	if (s->n - s->done >= STORE_QUEUE_MAX || line == NULL) {
		free(line);
		s->st.events_dropped++;
		if (!s->said_full)
			log_warnx("--db %s: %s; events are dropped (counted in "
				  "beacon_db_events_dropped_total)",
				  s->path,
				  line == NULL ? "out of memory"
					       : "too many events wait");
		s->said_full = true;
		return;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		w = realloc(s->q, cap * sizeof(*w));
		if (w == NULL) {
			free(line);
			s->st.events_dropped++;
			return;
		}
		s->q = w;
		s->cap = cap;
	}
	if (s->done == s->n)
		s->oldest_ms = now;
	w = &s->q[s->n++];
	w->at = clock_wall_ms();
	w->ev = e->ev;
	snprintf(w->id, sizeof(w->id), "%s", e->id);
	w->line = line;
}

/* When the queue is due (UINT64_MAX: empty). */
static uint64_t
queue_due(const struct store *s)
{
	uint64_t due;

	if (s->done == s->n)
		return UINT64_MAX;
	due = s->n - s->done >= STORE_BATCH ? 0 : s->oldest_ms + STORE_FLUSH_MS;
	return s->failing && s->retry_ms > due ? s->retry_ms : due;
}

uint64_t
store_due(const struct store *s)
{
	uint64_t q = queue_due(s), d = s->sweep_due;

	if (q < d)
		d = q;
	return s->prune_due < d ? s->prune_due : d;
}

/* The host's row as the table has it now; 0 when it is not in the table
   (then only its events are written). */
static int
put_host(struct store *s, const struct waiting *w, uint64_t now)
{
	struct probe_view v = probe_view(s->p);
	const struct host *h;
	const struct browse_host *b;
	sqlite3_stmt *st = s->put_host;
	char *row = NULL;
	size_t len;
	uint64_t seen;
	int rc;

	if (!output_find_row(&v, w->id, &h, &b) ||
	    output_one_host_text(&v, w->id, now, &row, &len) <= 0)
		return 0;
	seen = h != NULL ? h->last_seen_ms : b->last_seen_ms;
	sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h != NULL ? "beacon" : "browse", -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, w->at);
	sqlite3_bind_int64(st, 4, clock_wall_ms() - (int64_t)(now - seen));
	sqlite3_bind_text(st, 5, h != NULL ? h->hostname : b->name, -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 6,
			  host_status_name(h != NULL ? h->status : b->status),
			  -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, host_event_name(w->ev), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, h != NULL ? h->restarts : 0);
	sqlite3_bind_text(st, 9, row, (int)len - 1, free);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Whether a transaction that started at t0 has had its time (checked
   every 64 items: a clock read costs more than the check). */
static bool
spent(size_t k, uint64_t t0)
{
	return k % 64 == 0 && clock_mono_ms() - t0 >= STORE_PASS_MS;
}

/* A live row written again as the table has it: its last seen, status,
   counts (not its first seen, nor the reason of its last event). 1, 0
   when the table has no row by that id (passed over), -1 failed. */
static int
touch_host(struct store *s, const struct probe_view *v, const char *id,
	   uint64_t seen, uint64_t status, uint32_t restarts, uint64_t now)
{
	sqlite3_stmt *st = s->touch_host;
	char *row = NULL;
	size_t len;
	int rc, found = output_one_host_text(v, id, now, &row, &len);

	if (found <= 0)
		return found; /* 0: not in the table as named: passed over */
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, clock_wall_ms() - (int64_t)(now - seen));
	sqlite3_bind_text(st, 3, host_status_name((enum host_status)status), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, restarts);
	sqlite3_bind_text(st, 5, row, (int)len - 1, free);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 1 : -1;
}

/* Row i of the sweep (the beacon rows, then the browse rows) if it is
   live: 1 written, 0 not live, -1 failed; 2 past the last row. */
static int
touch_row(struct store *s, const struct probe_view *v, size_t i, uint64_t now)
{
	size_t nb = hosttab_count(v->tab);
	char id[BROWSE_NAME_MAX + 9];

	if (i < nb) {
		const struct host *h = hosttab_at(v->tab, i);
		if (h->status != HOST_ALIVE && h->status != HOST_STALE)
			return 0;
		return touch_host(s, v, h->id, h->last_seen_ms, h->status,
				  h->restarts, now);
	}
	if (v->browse == NULL || i - nb >= browse_tab_count(v->browse))
		return 2;
	{
		const struct browse_host *b = browse_tab_at(v->browse, i - nb);
		if (b->status != HOST_ALIVE && b->status != HOST_STALE)
			return 0;
		snprintf(id, sizeof(id), "netbios:%s", b->name);
		return touch_host(s, v, id, b->last_seen_ms, b->status, 0, now);
	}
}

/* Up to STORE_BATCH live rows in one transaction, from where the sweep
   is; true when it went past the last row. -1: rolled back. */
static int
sweep(struct store *s, uint64_t now, bool *end)
{
	struct probe_view v = probe_view(s->p);
	size_t written = 0, looked = 0;
	uint64_t t0;
	int r = 0;

	*end = false;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return -1;
	t0 = clock_mono_ms();
	while (written < STORE_BATCH && (looked == 0 || !spent(looked, t0)) &&
	       (r = touch_row(s, &v, s->sweep_at, now)) >= 0 && r != 2) {
		written += (size_t)r;
		s->sweep_at++;
		looked++;
	}
	if (r < 0 ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	*end = r == 2;
	return 0;
}

static int
add_event(struct store *s, const struct waiting *w)
{
	sqlite3_stmt *st = s->add_event;
	int rc;

	sqlite3_bind_int64(st, 1, w->at);
	sqlite3_bind_text(st, 2, w->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, host_event_name(w->ev), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->line, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Whether the next event in the batch is of the same host (a new then
   its join): its row is written once, with the later (half the work of
   a burst of new hosts). */
static bool
same_host_next(const struct store *s, size_t i, size_t end)
{
	return i + 1 < end && strcmp(s->q[i].id, s->q[i + 1].id) == 0;
}

/* One transaction: up to STORE_BATCH events and their hosts' rows, for
   at most about STORE_PASS_MS. The number written, or -1 (rolled back:
   they wait). */
static long
write_batch(struct store *s, uint64_t now)
{
	size_t i, end = s->done + STORE_BATCH < s->n ? s->done + STORE_BATCH
						     : s->n;
	uint64_t t0;
	bool failed = false;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return -1;
	t0 = clock_mono_ms();
	for (i = s->done;
	     i < end && !failed && (i == s->done || !spent(i - s->done, t0));
	     i++)
		failed = add_event(s, &s->q[i]) < 0 ||
			 (!same_host_next(s, i, end) &&
			  put_host(s, &s->q[i], now) < 0);
	if (failed ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return (long)(i - s->done);
}

static void
forget_written(struct store *s, size_t k, uint64_t now)
{
	size_t i;

	for (i = s->done; i < s->done + k; i++)
		free(s->q[i].line);
	s->done += k;
	s->st.events_written += k;
	if (s->done == s->n)
		s->done = s->n = 0;
	else if (s->done > s->n / 2) {
		memmove(s->q, s->q + s->done, (s->n - s->done) * sizeof(*s->q));
		s->n -= s->done;
		s->done = 0;
	}
	s->oldest_ms = now; /* the rest came later; close enough */
}

/* A write failed: said once, retried with back-off. */
static void
failed(struct store *s, uint64_t now)
{
	s->st.errors++;
	if (!s->failing)
		log_warnx("--db %s: cannot write: %s; events wait in memory "
			  "(at most %d) and are written when it can",
			  s->path, sqlite3_errmsg(s->db), STORE_QUEUE_MAX);
	s->failing = true;
	s->retry_ms = now + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 < RETRY_MAX_MS ? s->backoff_ms * 2
							 : RETRY_MAX_MS;
}

static void
succeeded(struct store *s)
{
	if (s->failing)
		log_info("--db %s: written again", s->path);
	s->failing = s->said_full = false;
	s->backoff_ms = RETRY_MIN_MS;
}

/* Rows older than the retention, at most n of them, through st: how
   many went, or -1. */
static long
prune(struct store *s, sqlite3_stmt *st, int64_t cutoff, int n)
{
	int rc;

	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int(st, 2, n);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? sqlite3_changes(s->db) : -1;
}

/* Retention: a slice of events (then of hosts with none left and not
   seen within it) a pass while there are any; then not for a while. */
static void
prune_run(struct store *s, uint64_t now)
{
	int64_t cutoff = clock_wall_ms() -
			 (int64_t)s->p->c->db_retention_days * 86400000;
	long e = prune(s, s->prune_events, cutoff, STORE_PRUNE_SLICE),
	     h = e >= 0 && e < STORE_PRUNE_SLICE
			 ? prune(s, s->prune_hosts, cutoff, STORE_PRUNE_SLICE)
			 : 0;

	if (e < 0 || h < 0) {
		failed(s, now);
		s->prune_due = s->retry_ms;
		return;
	}
	s->st.pruned_events += (uint64_t)e;
	s->st.pruned_hosts += (uint64_t)h;
	/* A full slice: more wait (the next pass goes on after the loop's
	   own work); else done until the next look. */
	s->prune_due = e == STORE_PRUNE_SLICE || h == STORE_PRUNE_SLICE
			       ? now + 1
			       : now + STORE_PRUNE_MS;
}

void
store_run(struct store *s, uint64_t now)
{
	bool end;
	long k;

	if (queue_due(s) <= now) {
		if ((k = write_batch(s, now)) < 0) {
			failed(s, now);
			return;
		}
		succeeded(s);
		forget_written(s, (size_t)k, now);
	} else if (s->prune_due <= now) {
		prune_run(s, now);
	} else if (s->sweep_due <= now) {
		/* One slice a pass: the receive loop goes on between. */
		if (sweep(s, now, &end) < 0) {
			failed(s, now);
			s->sweep_due = s->retry_ms;
			return;
		}
		succeeded(s);
		s->sweep_due = end ? now + STORE_SWEEP_MS : now;
		if (end)
			s->sweep_at = 0;
	}
}

void
store_close(struct store *s)
{
	bool end = false;
	size_t i;
	long k;

	if (s == NULL)
		return;
	while (s->done < s->n && (k = write_batch(s, clock_mono_ms())) > 0)
		forget_written(s, (size_t)k, clock_mono_ms());
	/* Every live row, so that the next start knows when each was last
	   heard. */
	s->sweep_at = 0;
	while (!end && sweep(s, clock_mono_ms(), &end) == 0)
		;
	if (s->done < s->n)
		log_warnx("--db %s: %zu events not written", s->path,
			  s->n - s->done);
	for (i = s->done; i < s->n; i++)
		free(s->q[i].line);
	free(s->q);
	sqlite3_finalize(s->add_event);
	sqlite3_finalize(s->put_host);
	sqlite3_finalize(s->touch_host);
	sqlite3_finalize(s->has_host);
	sqlite3_finalize(s->prune_events);
	sqlite3_finalize(s->prune_hosts);
	sqlite3_close(s->db);
	close(s->lock_fd);
	keymap_free(&s->known);
	free(s);
}

int
store_page(struct store *s, const struct store_ask *a, char **body, size_t *len)
{
	sqlite3_stmt *st =
		history_query(s->db, a->host != NULL, a->n_events, true);
	FILE *f = NULL;
	int64_t at = 0, row = 0;
	unsigned n = 0;
	size_t i;
	int rc = SQLITE_ERROR;

	if (st == NULL || (f = open_memstream(body, len)) == NULL)
		goto done;
	sqlite3_bind_int64(st, 1, a->since);
	sqlite3_bind_int64(st, 2, a->until);
	if (a->host != NULL)
		sqlite3_bind_text(st, 3, a->host, -1, SQLITE_STATIC);
	for (i = 0; i < a->n_events; i++)
		sqlite3_bind_text(st, (int)i + 4, a->events[i], -1,
				  SQLITE_STATIC);
	sqlite3_bind_int64(st, 20, a->cursor_at);
	sqlite3_bind_int64(st, 21, a->cursor_row);
	sqlite3_bind_int64(st, 22, (int64_t)a->limit + 1);
	fputs("{\"events\":[", f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < a->limit) {
		const char *line = (const char *)sqlite3_column_text(st, 3);
		cJSON *o = line != NULL ? cJSON_Parse(line) : NULL;
		if (o == NULL)
			continue; /* not ours: left out, never passed on */
		cJSON_Delete(o);
		fprintf(f, "%s\n%s", n++ ? "," : "", line);
		at = sqlite3_column_int64(st, 0);
		row = sqlite3_column_int64(st, 4);
	}
	if (rc == SQLITE_ROW) /* one more than the page: there is a next */
		fprintf(f, "],\n\"next\":\"%lld.%lld\"}\n", (long long)at,
			(long long)row);
	else
		fputs("],\n\"next\":null}\n", f);
	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;
done:
	sqlite3_finalize(st);
	if (f != NULL && fclose(f) != 0)
		rc = SQLITE_NOMEM;
	if (rc != SQLITE_DONE) {
		if (f != NULL)
			free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

void
store_stats(const struct store *s, struct store_stats *st)
{
	*st = s->st;
	st->waiting = s->n - s->done;
}

void
store_metrics(FILE *f, const struct store *s)
{
	metrics_counter(f, "beacon_db_events_written_total",
			"Events written to the history (--db).",
			s->st.events_written);
	metrics_counter(f, "beacon_db_events_dropped_total",
			"Events not kept: too many waited for the database.",
			s->st.events_dropped);
	metrics_counter(f, "beacon_db_events_pruned_total",
			"Events older than --db-retention, deleted.",
			s->st.pruned_events);
	metrics_counter(f, "beacon_db_hosts_pruned_total",
			"Hosts with no event left, not seen within "
			"--db-retention, deleted.",
			s->st.pruned_hosts);
	metrics_counter(f, "beacon_db_errors_total",
			"Writes to the history that failed (retried).",
			s->st.errors);
	metrics_head(f, "beacon_db_events_waiting", "gauge",
		     "Events waiting in memory for the database.");
	fprintf(f, "beacon_db_events_waiting %zu\n", s->n - s->done);
}
