/* SPDX-License-Identifier: MIT */
/*
 * Browse hosts (browse.h): a bounded array of rows with a keyed,
 * open-addressed index by upper-cased NetBIOS name, and a short list of
 * workgroups. Announcements are rare (every 1 to 12 minutes per host), so
 * the tick scans the rows; the table holds at most a few thousand.
 */
#include "browsetab.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TTL_MS (60u * 60 * 1000)
#define EMPTY          UINT32_MAX

struct browse_tab {
	struct browse_host *rows;
	size_t n, max;
	uint32_t *index; /* row numbers, EMPTY: free */
	size_t index_size;
	struct browse_group *groups;
	size_t n_groups, max_groups;
	uint32_t max_ttl_ms;
	uint64_t key[2];
	uint64_t refused;
	uint64_t restored_ms; /* when saved rows were put back */
	browse_event_fn ev;
	void *ctx;
};

struct browse_tab *
browse_tab_new(size_t max, uint32_t max_ttl_ms, const uint64_t key[2],
	       browse_event_fn ev, void *ctx)
{
	struct browse_tab *t = calloc(1, sizeof(*t));
	size_t i;

	if (t == NULL)
		return NULL;
	t->ev = ev;
	t->ctx = ctx;
	t->max = max ? max : BROWSE_DEFAULT_MAX;
	t->max_groups = t->max / 16 + 1;
	t->max_ttl_ms = max_ttl_ms ? max_ttl_ms : DEFAULT_TTL_MS;
	t->key[0] = key[0];
	t->key[1] = key[1];
	for (t->index_size = 16; t->index_size < 2 * t->max;)
		t->index_size *= 2;
	t->rows = calloc(t->max, sizeof(*t->rows));
	t->index = malloc(t->index_size * sizeof(*t->index));
	t->groups = calloc(t->max_groups, sizeof(*t->groups));
	if (t->rows == NULL || t->index == NULL || t->groups == NULL) {
		browse_tab_free(t);
		return NULL;
	}
	for (i = 0; i < t->index_size; i++)
		t->index[i] = EMPTY;
	return t;
}

void
browse_tab_free(struct browse_tab *t)
{
	if (t == NULL)
		return;
	free(t->rows);
	free(t->index);
	free(t->groups);
	free(t);
}

static void
upper(const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i + 1 < cap && in[i] != '\0'; i++)
		out[i] = in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 32)
						      : in[i];
	out[i] = '\0';
}

/* Printable ASCII only: the sender's code page is unknown. */
static void
printable(const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i + 1 < cap && in[i] != '\0'; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[i] = '\0';
}

/* The index slot for name (upper case): its row's, or the free one where
   it would go. */
static size_t
slot(const struct browse_tab *t, const char *name)
{
	size_t mask = t->index_size - 1;
	size_t i = (size_t)hosttab_hash(t->key, name, strlen(name)) & mask;

	while (t->index[i] != EMPTY &&
	       strcmp(t->rows[t->index[i]].name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

const struct browse_host *
browse_tab_find(const struct browse_tab *t, const char *name)
{
	char key[BROWSE_NAME_MAX + 1];
	size_t i;

	upper(name, key, sizeof(key));
	i = slot(t, key);
	return t->index[i] == EMPTY ? NULL : &t->rows[t->index[i]];
}

uint64_t
browse_ttl_ms(const struct browse_tab *t, const struct browse_host *h)
{
	uint64_t p = h->periodicity_ms;

	if (p < BROWSE_MIN_PERIOD_MS)
		p = BROWSE_MIN_PERIOD_MS;
	return 3 * p < t->max_ttl_ms ? 3 * p : t->max_ttl_ms;
}

/* Rebuild the index after rows moved. */
static void
reindex(struct browse_tab *t)
{
	size_t i;

	for (i = 0; i < t->index_size; i++)
		t->index[i] = EMPTY;
	for (i = 0; i < t->n; i++)
		t->index[slot(t, t->rows[i].name)] = (uint32_t)i;
}

/* Room for a new row: drop the expired rows, then those that left, then
   the longest silent of the rows heard only once (a forger's names, sent
   once each; a real host announces every 1 to 12 minutes). A live host
   heard twice or more is never dropped. */
static bool
make_room(struct browse_tab *t)
{
	size_t i, kept = 0, victim = SIZE_MAX;
	int pass;

	for (pass = HOST_EXPIRED; pass >= HOST_LEFT && t->n == t->max; pass--) {
		for (i = kept = 0; i < t->n; i++)
			if (t->rows[i].status != pass)
				t->rows[kept++] = t->rows[i];
		t->n = kept;
	}
	for (i = 0; i < t->n && t->n == t->max; i++)
		if (t->rows[i].announcements < 2 &&
		    (victim == SIZE_MAX ||
		     t->rows[i].last_seen_ms < t->rows[victim].last_seen_ms))
			victim = i;
	if (victim != SIZE_MAX)
		t->rows[victim] = t->rows[--t->n];
	reindex(t);
	return t->n < t->max;
}

static enum browse_result
group(struct browse_tab *t, const struct browse_msg *m, const char *src,
      uint64_t now)
{
	struct browse_group *g = NULL;
	char name[BROWSE_NAME_MAX + 1];
	size_t i, oldest = 0;

	printable(m->name, name, sizeof(name));
	upper(name, name, sizeof(name));
	for (i = 0; i < t->n_groups && g == NULL; i++)
		if (strcmp(t->groups[i].name, name) == 0)
			g = &t->groups[i];
	if (g == NULL) {
		if (t->n_groups < t->max_groups) {
			g = &t->groups[t->n_groups++];
		} else { /* full: the longest silent goes */
			for (i = 1; i < t->n_groups; i++)
				if (t->groups[i].last_seen_ms <
				    t->groups[oldest].last_seen_ms)
					oldest = i;
			g = &t->groups[oldest];
		}
		memset(g, 0, sizeof(*g));
		memcpy(g->name, name, sizeof(name));
	}
	printable(m->comment, g->master, sizeof(g->master));
	snprintf(g->addr, sizeof(g->addr), "%s", src);
	g->periodicity_ms = m->periodicity_ms;
	g->last_seen_ms = now;
	return BR_GROUP;
}

enum browse_result
browse_tab_update(struct browse_tab *t, const struct browse_msg *m,
		  const char *workgroup, const char *src, const char *ifname,
		  uint64_t now)
{
	struct browse_host *h;
	char name[BROWSE_NAME_MAX + 1];
	enum browse_result r = BR_UPDATED;
	size_t i;

	if (m->opcode == BROWSE_DOMAIN_ANNOUNCEMENT)
		return group(t, m, src, now);
	if (!browse_is_announcement(m->opcode))
		return BR_IGNORED;
	printable(m->name, name, sizeof(name));
	upper(name, name, sizeof(name));
	i = slot(t, name);
	if (t->index[i] == EMPTY) {
		if (m->server_type == 0)
			return BR_LEFT; /* a goodbye from a host never seen */
		if (t->n == t->max) {
			if (!make_room(t)) {
				t->refused++;
				return BR_FULL;
			}
			i = slot(t, name);
		}
		h = &t->rows[t->n];
		memset(h, 0, sizeof(*h));
		memcpy(h->name, name, sizeof(name));
		h->first_seen_ms = now;
		h->status = HOST_EXPIRED; /* becomes alive below */
		t->index[i] = (uint32_t)t->n++;
	}
	h = &t->rows[t->index[i]];
	if (workgroup != NULL && workgroup[0] != '\0')
		printable(workgroup, h->workgroup, sizeof(h->workgroup));
	printable(m->comment, h->comment, sizeof(h->comment));
	snprintf(h->addr, sizeof(h->addr), "%s", src);
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	h->os_major = m->os_major;
	h->os_minor = m->os_minor;
	h->browser_major = m->browser_major;
	h->browser_minor = m->browser_minor;
	h->update_count = m->update_count;
	h->server_type = m->server_type;
	h->periodicity_ms = m->periodicity_ms;
	h->local_master = m->opcode == BROWSE_LOCAL_MASTER_ANNOUNCEMENT;
	h->last_seen_ms = now;
	h->announcements++;
	if (m->server_type == 0) {
		h->restored = false;
		if (h->status == HOST_LEFT)
			return BR_UPDATED;
		h->status = HOST_LEFT;
		h->status_ms = now;
		if (t->ev != NULL)
			t->ev(t->ctx, EV_LEAVE, h, now);
		return BR_LEFT;
	}
	if (h->status != HOST_ALIVE) {
		bool back = h->status == HOST_STALE; /* restored, heard again */
		h->status = HOST_ALIVE;
		h->status_ms = now;
		r = back ? BR_UPDATED : BR_NEW;
		if (t->ev != NULL)
			t->ev(t->ctx, back ? EV_UPDATE : EV_JOIN, h, now);
	}
	h->restored = false;
	return r;
}

int
browse_tab_restore(struct browse_tab *t, const struct browse_host *row,
		   uint64_t now)
{
	char name[BROWSE_NAME_MAX + 1];
	struct browse_host *h;
	size_t i;

	/* As an announcement's name would be: printable, upper-case. */
	printable(row->name, name, sizeof(name));
	upper(name, name, sizeof(name));
	i = slot(t, name);
	if (name[0] == '\0' || t->index[i] != EMPTY || t->n == t->max)
		return -1;
	h = &t->rows[t->n];
	*h = *row;
	memcpy(h->name, name, sizeof(name));
	printable(row->workgroup, h->workgroup, sizeof(h->workgroup));
	printable(row->comment, h->comment, sizeof(h->comment));
	h->restored = true;
	if (h->status == HOST_ALIVE || h->status == HOST_STALE) {
		h->status = HOST_STALE;
		h->status_ms = t->restored_ms = now;
	}
	t->index[i] = (uint32_t)t->n++;
	return 0;
}

size_t
browse_tab_tick(struct browse_tab *t, uint64_t now, uint64_t *next)
{
	size_t i, changed = 0;

	*next = UINT64_MAX;
	for (i = 0; i < t->n; i++) {
		struct browse_host *h = &t->rows[i];
		uint64_t due;
		if (h->status != HOST_ALIVE && h->status != HOST_STALE)
			continue;
		/* A restored row: counted from when it was put back. */
		due = (h->restored && t->restored_ms > h->last_seen_ms
			       ? t->restored_ms
			       : h->last_seen_ms) +
		      browse_ttl_ms(t, h);
		if (now >= due) {
			h->status = HOST_EXPIRED;
			h->status_ms = now;
			changed++;
			if (t->ev != NULL)
				t->ev(t->ctx, EV_EXPIRE, h, now);
		} else if (due < *next) {
			*next = due;
		}
	}
	return changed;
}

size_t
browse_tab_count(const struct browse_tab *t)
{
	return t->n;
}

const struct browse_host *
browse_tab_at(const struct browse_tab *t, size_t i)
{
	return i < t->n ? &t->rows[i] : NULL;
}

size_t
browse_tab_groups(const struct browse_tab *t)
{
	return t->n_groups;
}

const struct browse_group *
browse_tab_group(const struct browse_tab *t, size_t i)
{
	return i < t->n_groups ? &t->groups[i] : NULL;
}

uint64_t
browse_tab_refused(const struct browse_tab *t)
{
	return t->refused;
}

void
browse_netbios_name(const char *hostname, size_t len, char *out)
{
	size_t i;

	if (len > BROWSE_NAME_MAX)
		len = BROWSE_NAME_MAX;
	for (i = 0; i < len && hostname[i] != '\0' && hostname[i] != '.'; i++)
		out[i] = hostname[i] >= 'a' && hostname[i] <= 'z'
				 ? (char)(hostname[i] - 32)
				 : hostname[i];
	out[i] = '\0';
}
