/* SPDX-License-Identifier: MIT */
/*
 * --expect FILE (expected.h has the list): read after the privilege drop
 * and again on SIGHUP, so that both reads see the file as the same user.
 * A name that stays in the file keeps its state across a reload, so a
 * reload raises no event for a host that did not change. Judged again
 * after every pass in which the table changed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "probe.h"
#include "smallfile.h"
#include "store.h"

int
expect_load(struct probe *p, const char *path, uint64_t now)
{
	struct expect *x = p->expect;
	struct expect_list l;
	char why[160], *text = smallfile_read(path, "--expect", false);
	size_t i, j;

	if (text == NULL)
		return -1;
	if (expect_parse(text, &l, why, sizeof(why)) < 0) {
		free(text);
		log_warnx("--expect %s: %s", path, why);
		return -1;
	}
	free(text);
	if (x == NULL && (x = calloc(1, sizeof(*x))) == NULL) {
		expect_list_free(&l);
		log_warnx("--expect %s: out of memory", path);
		return -1;
	}
	for (i = 0; i < l.n; i++)
		for (j = 0; j < x->l.n; j++)
			if (strcasecmp(l.e[i].name, x->l.e[j].name) == 0)
				l.e[i].state = x->l.e[j].state;
	expect_list_free(&x->l);
	x->l = l;
	x->path = path;
	if (p->expect == NULL)
		x->grace_end = now + EXPECT_GRACE_MS;
	x->dirty = true;
	p->expect = x;
	log_info("--expect %s: %zu hosts", path, l.n);
	return 0;
}

void
expect_free(struct probe *p)
{
	if (p->expect != NULL)
		expect_list_free(&p->expect->l);
	free(p->expect);
	p->expect = NULL;
}

/* The id its events carry: its row's, or the name (no row). */
static void
entry_id(const struct expect_entry *e, const struct host *h,
	 const struct browse_host *b, char id[EXPECT_NAME_MAX + 9])
{
	if (h != NULL)
		snprintf(id, EXPECT_NAME_MAX + 9, "%s", h->id);
	else if (b != NULL)
		snprintf(id, EXPECT_NAME_MAX + 9, "netbios:%s", b->name);
	else
		snprintf(id, EXPECT_NAME_MAX + 9, "%s", e->name);
}

/* Why a missing host is missing. */
static void
missing_reason(const struct expect *x, const struct expect_entry *e,
	       const struct host *h, const struct browse_host *b, char *out,
	       size_t len)
{
	int n = snprintf(out, len, "expected (%s line %u): ", x->path, e->line);
	size_t used = n > 0 && (size_t)n < len ? (size_t)n : 0;

	if (h == NULL && b == NULL)
		snprintf(out + used, len - used,
			 "not heard since the probe started");
	else
		snprintf(out + used, len - used, "%s",
			 host_status_name(h != NULL ? h->status : b->status));
}

static void
raise_event(struct probe *p, enum host_event ev, const struct expect_entry *e,
	    const struct host *h, const struct browse_host *b, uint64_t now)
{
	struct probe_view v = probe_view(p);
	char reason[256], id[EXPECT_NAME_MAX + 9];

	if (ev == EV_MISSING)
		missing_reason(p->expect, e, h, b, reason, sizeof(reason));
	else
		snprintf(reason, sizeof(reason), "expected (%s line %u): live",
			 p->expect->path, e->line);
	entry_id(e, h, b, id);
	events_push(p, ev, id,
		    events_want_lines(p)
			    ? output_expect_event(&v, ev, e->name, h, b, reason,
						  now)
			    : NULL);
}

/* A host never heard since the start that the history says went missing
   before the probe restarted: said already, not again. */
static bool
said_before(struct probe *p, const struct expect_entry *e, const struct host *h,
	    const struct browse_host *b)
{
	char id[EXPECT_NAME_MAX + 9];

	if (e->state != EXPECT_WAITING || p->store == NULL)
		return false;
	entry_id(e, h, b, id);
	return store_said_missing(p->store, id);
}

void
expect_judge(struct probe *p, uint64_t now)
{
	struct expect *x = p->expect;
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; i < x->l.n; i++) {
		struct expect_entry *e = &x->l.e[i];
		const struct host *h;
		const struct browse_host *b;
		enum expect_state st;
		expect_row(p->tab, p->browse, e->name, &h, &b);
		st = expect_live(h, b)    ? EXPECT_UP
		     : now < x->grace_end ? EXPECT_WAITING
					  : EXPECT_MISSING;
		if (st == EXPECT_MISSING && e->state != EXPECT_MISSING &&
		    !said_before(p, e, h, b))
			raise_event(p, EV_MISSING, e, h, b, now);
		else if (st == EXPECT_UP && e->state == EXPECT_MISSING)
			raise_event(p, EV_BACK, e, h, b, now);
		e->state = (uint8_t)st;
	}
	x->dirty = false;
}

uint64_t
expect_due(const struct probe *p)
{
	const struct expect *x = p->expect;
	size_t i;

	if (x == NULL)
		return UINT64_MAX;
	if (x->dirty)
		return 0;
	for (i = 0; i < x->l.n; i++)
		if (x->l.e[i].state == EXPECT_WAITING)
			return x->grace_end;
	return UINT64_MAX;
}

void
expect_event(void *ctx, const struct probe_event *e, uint64_t now)
{
	struct probe *p = ctx;

	(void)now;
	if (e->ev != EV_MISSING && e->ev != EV_BACK)
		p->expect->dirty = true;
}
