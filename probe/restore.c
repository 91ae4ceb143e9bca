/* SPDX-License-Identifier: MIT */
/*
 * serve --db at start: the table from the history (store.h). Each host's
 * row is its /v1/hosts/ID object as the store last wrote it; what the
 * table needs of it is read back with bounds (a string too long for its
 * field, a missing number, an unknown status: the row is skipped and
 * counted, never half-restored). Times come back from the wall clock to
 * the table's (common/clock.h), the most recently seen hosts first, so a
 * table smaller than the history keeps the hosts of today.
 */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "probe.h"
#include "store.h"
#include "text.h"

struct clocks {
	uint64_t mono;
	int64_t wall;
};

/* A wall-clock time on the table's clock (1 at the earliest; never
   ahead of now, whatever the clock did while the probe was down). */
static uint64_t
mono_of(const struct clocks *c, int64_t wall)
{
	/* In this order, so that no value of wall overflows. */
	if (wall >= c->wall)
		return c->mono;
	if (wall < c->wall - (int64_t)(c->mono - 1))
		return 1;
	return c->mono - (uint64_t)(c->wall - wall);
}

/* An object's members, looked up in the order the renderer wrote them:
   each lookup starts after the last one found (cJSON's own lookup walks
   from the first member: 25 of them, 20 lookups a row, was a quarter of
   the restore). A member out of order is still found, going round. */
struct members {
	const cJSON *first, *next;
};

static struct members
members(const cJSON *o)
{
	const cJSON *c = cJSON_IsObject(o) ? o->child : NULL;

	return (struct members){c, c};
}

static const cJSON *
member(struct members *m, const char *key)
{
	const cJSON *v;

	for (v = m->next; v != NULL; v = v->next)
		if (strcmp(v->string, key) == 0)
			goto found;
	for (v = m->first; v != m->next; v = v->next)
		if (strcmp(v->string, key) == 0)
			goto found;
	return NULL;
found:
	m->next = v->next;
	return v;
}

static const char *
jstr(struct members *m, const char *key)
{
	return cJSON_GetStringValue(member(m, key));
}

/* A non-negative whole number below max, or -1. */
static int64_t
jnum(struct members *m, const char *key, double max)
{
	const cJSON *v = member(m, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < max
		       ? (int64_t)v->valuedouble
		       : -1;
}

/* Printable ASCII (interface names, which pick the table's links). */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* s into out[cap]; -1 when absent or too long. */
static int
copy(char *out, size_t cap, const char *s)
{
	size_t n = s != NULL ? strlen(s) : cap;

	if (n >= cap)
		return -1;
	memcpy(out, s, n + 1);
	return 0;
}

static int
jtime(struct members *m, const char *key, const struct clocks *c, uint64_t *ms)
{
	const char *s = jstr(m, key);
	int64_t wall;

	if (s == NULL || text_when(s, c->wall, &wall) < 0)
		return -1;
	*ms = mono_of(c, wall);
	return 0;
}

static int
status_of(const char *name, enum host_status *st)
{
	int i;

	for (i = HOST_ALIVE; name != NULL && i <= HOST_EXPIRED; i++)
		if (strcmp(name, host_status_name((enum host_status)i)) == 0) {
			*st = (enum host_status)i;
			return 0;
		}
	return -1;
}

/* The claimed addresses. */
static int
claimed(const cJSON *o, struct beacon_msg *b)
{
	struct members m = members(o);
	const cJSON *v;

	cJSON_ArrayForEach (v, member(&m, "ipv4"))
		if (b->n_ipv4 == BEACON_MAX_ADDRS ||
		    copy(b->ipv4[b->n_ipv4++], 16, cJSON_GetStringValue(v)) < 0)
			return -1;
	cJSON_ArrayForEach (v, member(&m, "ipv6"))
		if (b->n_ipv6 == BEACON_MAX_ADDRS ||
		    copy(b->ipv6[b->n_ipv6++], 46, cJSON_GetStringValue(v)) < 0)
			return -1;
	return 0;
}

static int
tags(const cJSON *o, struct beacon_msg *b)
{
	const cJSON *v;

	cJSON_ArrayForEach (v, o)
		if (b->n_tags == BEACON_MAX_TAGS ||
		    copy(b->tags[b->n_tags].key, sizeof(b->tags[0].key),
			 v->string) < 0 ||
		    copy(b->tags[b->n_tags++].value, sizeof(b->tags[0].value),
			 cJSON_GetStringValue(v)) < 0)
			return -1;
	return 0;
}

/* The sources its beacons came from. */
static int
sources(const cJSON *o, const struct clocks *c,
	struct host_seen seen[HOST_SEEN_MAX], size_t *n)
{
	const cJSON *v;

	*n = 0;
	cJSON_ArrayForEach (v, o) {
		struct host_seen *s = &seen[*n];
		struct members m = members(v);
		if (*n == HOST_SEEN_MAX ||
		    copy(s->addr, sizeof(s->addr), jstr(&m, "address")) < 0 ||
		    copy(s->ifname, sizeof(s->ifname), jstr(&m, "interface")) <
			    0 ||
		    !printable(s->ifname) ||
		    jtime(&m, "last_seen", c, &s->last_ms) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

/* What a beacon host's row says of it, read in the order it was written
   (render/document.c's host()). */
static int
beacon_fields(struct members *m, struct hosttab_saved *s, struct beacon_msg *b,
	      struct host_seen *seen, const struct clocks *c)
{
	const char *auth;
	int64_t iv, ttl, seq, rx, lost, rs;

	if (copy(b->hostname, sizeof(b->hostname), jstr(m, "hostname")) < 0 ||
	    status_of(jstr(m, "status"), &s->status) < 0 ||
	    (auth = jstr(m, "auth")) == NULL ||
	    (s->reason = jstr(m, "reason")) == NULL ||
	    claimed(member(m, "claimed"), b) < 0 ||
	    sources(member(m, "seen"), c, seen, &s->n_seen) < 0 ||
	    jtime(m, "status_since", c, &s->status_ms) < 0 ||
	    copy(b->os, sizeof(b->os), jstr(m, "os")) < 0 ||
	    copy(b->os_version, sizeof(b->os_version), jstr(m, "os_version")) <
		    0 ||
	    (iv = jnum(m, "interval_ms", 4294967296.0)) <= 0 ||
	    (ttl = jnum(m, "ttl_ms", 4294967296.0)) <= 0 ||
	    tags(member(m, "tags"), b) < 0 ||
	    copy(b->instance, sizeof(b->instance), jstr(m, "instance")) < 0 ||
	    b->instance[0] == '\0' ||
	    (seq = jnum(m, "seq", 9007199254740992.0)) < 0 ||
	    (rx = jnum(m, "beacons_received", 4294967296.0)) < 0 ||
	    (lost = jnum(m, "beacons_lost", 4294967296.0)) < 0)
		return -1;
	s->loss = cJSON_GetNumberValue(member(m, "loss"));
	if ((rs = jnum(m, "restarts", 4294967296.0)) < 0)
		return -1;
	/* As a beacon may announce them (codec.c). */
	if (iv < BEACON_MIN_INTERVAL_MS || iv > BEACON_MAX_INTERVAL_MS ||
	    ttl < iv || ttl > BEACON_MAX_TTL_MS ||
	    (uint64_t)seq > BEACON_MAX_SEQ)
		return -1;
	b->interval_ms = (uint32_t)iv;
	b->ttl_ms = (uint32_t)ttl;
	b->seq = (uint64_t)seq;
	s->received = (uint32_t)rx;
	s->lost = (uint32_t)lost;
	s->restarts = (uint32_t)rs;
	s->verified = strcmp(auth, "verified") == 0;
	return 0;
}

/* One beacon host's row into the table: 1, 0 when the table is full or
   has it, -1 when the row does not read. */
static int
beacon_row(struct probe *p, const char *id, const int64_t when[2],
	   const cJSON *row, const struct clocks *c)
{
	struct beacon_msg b;
	struct host_seen seen[HOST_SEEN_MAX];
	struct hosttab_saved s = {.b = &b, .seen = seen};
	struct members m = members(row);

	memset(&b, 0, sizeof(b));
	s.first_seen_ms = mono_of(c, when[0]);
	s.last_seen_ms = mono_of(c, when[1]);
	if (copy(b.id, sizeof(b.id), id) < 0 ||
	    beacon_fields(&m, &s, &b, seen, c) < 0)
		return -1;
	return hosttab_restore(p->tab, &s, c->mono) == 0;
}

/* "1.2" into two bytes. */
static int
version(const char *v, uint8_t *major, uint8_t *minor)
{
	unsigned a, b;

	if (v == NULL || sscanf(v, "%u.%u", &a, &b) != 2 || a > 255 || b > 255)
		return -1;
	*major = (uint8_t)a;
	*minor = (uint8_t)b;
	return 0;
}

/* One browse host's row (its "browse" object) into its table. */
static int
browse_row(struct probe *p, const cJSON *row, const struct clocks *c)
{
	struct members m = members(row), bm, sm;
	struct browse_host h;
	enum host_status st;
	int64_t type, per, upd, ann;

	memset(&h, 0, sizeof(h));
	if (status_of(jstr(&m, "status"), &st) < 0)
		return -1;
	sm = members(cJSON_GetArrayItem(member(&m, "seen"), 0));
	if (copy(h.ifname, sizeof(h.ifname), jstr(&sm, "interface")) < 0 ||
	    jtime(&m, "first_seen", c, &h.first_seen_ms) < 0 ||
	    jtime(&m, "status_since", c, &h.status_ms) < 0)
		return -1;
	bm = members(member(&m, "browse"));
	if (copy(h.name, sizeof(h.name), jstr(&bm, "name")) < 0 ||
	    copy(h.workgroup, sizeof(h.workgroup), jstr(&bm, "workgroup")) <
		    0 ||
	    version(jstr(&bm, "os_version"), &h.os_major, &h.os_minor) < 0 ||
	    (type = jnum(&bm, "server_type", 4294967296.0)) < 0 ||
	    copy(h.comment, sizeof(h.comment), jstr(&bm, "comment")) < 0 ||
	    version(jstr(&bm, "browser_version"), &h.browser_major,
		    &h.browser_minor) < 0 ||
	    (per = jnum(&bm, "periodicity_ms", 4294967296.0)) < 0 ||
	    (upd = jnum(&bm, "update_count", 256)) < 0 ||
	    copy(h.addr, sizeof(h.addr), jstr(&bm, "address")) < 0 ||
	    jtime(&bm, "last_seen", c, &h.last_seen_ms) < 0 ||
	    (ann = jnum(&bm, "announcements", 9007199254740992.0)) < 0)
		return -1;
	h.status = (uint8_t)st;
	h.server_type = (uint32_t)type;
	h.periodicity_ms = (uint32_t)per;
	h.update_count = (uint8_t)upd;
	h.announcements = (uint64_t)ann;
	h.local_master = cJSON_IsTrue(member(&bm, "local_master"));
	return browse_tab_restore(p->browse, &h, c->mono) == 0;
}

struct tally {
	size_t rows, restored, live, skipped, no_room;
};

int
restore_row(struct probe *p, const struct restore_row *r, uint64_t mono,
	    int64_t wall, bool *live)
{
	const struct clocks c = {mono, wall};
	const int64_t when[2] = {r->first_seen, r->last_seen};
	cJSON *row = cJSON_ParseWithLength(r->text, r->len);
	int rc;

	if (strcmp(r->kind, "browse") == 0)
		rc = p->browse == NULL ? 0 : browse_row(p, row, &c);
	else
		rc = beacon_row(p, r->id, when, row, &c);
	if (rc > 0) {
		struct members m = members(row);
		const char *s = jstr(&m, "status");
		*live = s != NULL &&
			(strcmp(s, "alive") == 0 || strcmp(s, "stale") == 0);
	}
	cJSON_Delete(row);
	return rc;
}

/* One row of the hosts table into the table. */
static void
take(struct probe *p, sqlite3_stmt *st, const struct clocks *c, struct tally *n)
{
	/* first and last seen: the columns, which a restart does not
	   write again (the row's, rendered, may be a millisecond off) */
	const struct restore_row r = {
		(const char *)sqlite3_column_text(st, 0),
		(const char *)sqlite3_column_text(st, 1),
		sqlite3_column_int64(st, 3),
		sqlite3_column_int64(st, 4),
		(const char *)sqlite3_column_text(st, 2),
		(size_t)sqlite3_column_bytes(st, 2),
	};
	bool live = false;
	int rc;

	if (r.id == NULL || r.kind == NULL || r.text == NULL)
		return;
	n->rows++;
	rc = restore_row(p, &r, c->mono, c->wall, &live);
	if (rc < 0)
		n->skipped++;
	else if (rc == 0)
		n->no_room +=
			p->browse != NULL || strcmp(r.kind, "browse") != 0;
	else
		n->restored++, n->live += live;
}

static size_t
hosts(sqlite3 *db)
{
	sqlite3_stmt *st;
	size_t n = SIZE_MAX;

	if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM hosts", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int
restore_table(struct sqlite3 *db, struct probe *p, const char *path)
{
	struct clocks c = {clock_mono_ms(), clock_wall_ms()};
	struct tally n = {0};
	sqlite3_stmt *st;
	int rc;

	size_t all = hosts(db);

	/* Room for them, at once: growing on the way was a sixth of the
	   time. */
	if (all != SIZE_MAX && hosttab_reserve(p->tab, all) < 0)
		return -1;
	/* Sorted only when the table cannot take them all: SQLite's sorter
	   copies every row. */
	if (sqlite3_prepare_v2(db,
			       all > p->c->max_hosts
				       ? "SELECT id, kind, row, first_seen, "
					 "last_seen FROM hosts ORDER BY "
					 "last_seen DESC"
				       : "SELECT id, kind, row, first_seen, "
					 "last_seen FROM hosts",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		take(p, st, &c, &n);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	log_info("history in %s: %zu hosts, %zu restored (%zu were live: %s "
		 "until they answer) in %llu ms",
		 path, n.rows, n.restored, n.live, HOSTTAB_NOT_HEARD,
		 (unsigned long long)(clock_mono_ms() - c.mono));
	if (n.no_room > 0)
		log_warnx("history in %s: %zu hosts not restored, the least "
			  "recently seen: the table is full (--max-hosts)",
			  path, n.no_room);
	if (n.skipped > 0)
		log_warnx("history in %s: %zu hosts not restored: their rows "
			  "do not read (they stay in the history)",
			  path, n.skipped);
	return 0;
}
