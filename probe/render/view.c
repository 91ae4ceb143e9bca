/* SPDX-License-Identifier: MIT */
/*
 * The view every output shows: the filters (--status, --tag, --auth,
 * --all) and the rows, beacon hosts with their browse twins and browse
 * hosts alone, sorted by hostname. The text table, the document, the HTTP
 * API and MQTT all take their rows from here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render.h"

bool
output_match(const struct probe_config *c, const struct host *h)
{
	size_t i, j;
	bool any = c->n_statuses == 0;

	for (i = 0; i < c->n_statuses; i++)
		if (strcmp(c->statuses[i], host_status_name(h->status)) == 0 ||
		    (strcmp(c->statuses[i], "conflict") == 0 && h->conflict))
			any = true;
	if (!any)
		return false;
	if (c->n_statuses == 0 && !c->all && h->status == HOST_EXPIRED)
		return false;
	if (c->auth != NULL &&
	    strcmp(c->auth, h->verified ? "verified" : "unsigned") != 0)
		return false;
	for (i = 0; i < c->n_tags; i++) {
		for (j = 0; j < h->n_tags; j++)
			if (strcmp(host_tag(h, j)->key, c->tags[i].key) == 0 &&
			    strcmp(host_tag(h, j)->value, c->tags[i].value) ==
				    0)
				break;
		if (j == h->n_tags)
			return false;
	}
	return true;
}

/* A browse host shown on its own: the status filters apply; it has no
   tags, so a tag filter leaves it out. */
static bool
browse_match(const struct probe_config *c, const struct browse_host *b)
{
	size_t i;
	bool any = c->n_statuses == 0;

	for (i = 0; i < c->n_statuses; i++)
		if (strcmp(c->statuses[i], host_status_name(b->status)) == 0)
			any = true;
	if (!any || c->n_tags > 0 ||
	    (c->auth != NULL && strcmp(c->auth, "unsigned") != 0))
		return false;
	return !(c->n_statuses == 0 && !c->all && b->status == HOST_EXPIRED);
}

/* Rows sort by hostname, ASCII case folded, then beacon hosts by id
   before browse hosts. The first 16 folded bytes are packed big-endian
   into two integers, so most comparisons of a big table (100,000 rows:
   1.7 million) are two integer compares instead of two strcasecmp calls
   on rows scattered in memory. Hostnames hold no NUL, so the zero padding
   sorts a shorter name first, as strcasecmp does. */
struct sort_key {
	uint64_t k[2];
	struct output_row r;
};

static const char *
row_name(const struct output_row *r)
{
	return r->h != NULL ? r->h->hostname : r->b->name;
}

static void
pack_name(const char *name, uint64_t k[2])
{
	size_t i;

	k[0] = k[1] = 0;
	for (i = 0; i < 16 && name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		k[i / 8] |= (uint64_t)c << (8 * (7 - i % 8));
	}
}

static int
by_name(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	int c;

	if (x->k[0] != y->k[0])
		return x->k[0] < y->k[0] ? -1 : 1;
	if (x->k[1] != y->k[1])
		return x->k[1] < y->k[1] ? -1 : 1;
	/* Equal to 16 bytes: the rest decides, if both go on. */
	c = (x->k[1] & 0xff) != 0
		    ? strcasecmp(row_name(&x->r) + 16, row_name(&y->r) + 16)
		    : 0;
	if (c != 0)
		return c;
	if ((x->r.h == NULL) != (y->r.h == NULL))
		return x->r.h != NULL ? -1 : 1;
	return x->r.h != NULL ? strcmp(x->r.h->id, y->r.h->id)
			      : strcmp(x->r.b->name, y->r.b->name);
}

/* Whether a browse host is this beacon host: its NetBIOS name (the first
   label of the hostname, upper-cased, 15 characters or the 16 Samba 4.9
   sends) and one of the host's addresses. */
static const struct browse_host *browse_twin(const struct browse_tab *t,
					     const struct host *h);

/* The transport's counters; zeros for a view without sockets (tests,
   tools). */
const struct mailslot_stats *
output_rx(const struct probe_view *p)
{
	static const struct mailslot_stats none;

	return p->rx != NULL ? p->rx : &none;
}

const struct browse_host *
output_browse_twin(const struct probe_view *p, const struct host *h)
{
	if (p->browse == NULL || browse_tab_count(p->browse) == 0)
		return NULL;
	return browse_twin(p->browse, h);
}

static const struct browse_host *
browse_twin(const struct browse_tab *t, const struct host *h)
{
	const char *addr[3 * BEACON_MAX_ADDRS];
	char name[BROWSE_NAME_MAX + 1];
	const struct browse_host *b = NULL;
	size_t na, i, len;

	for (len = 15; len <= 16 && b == NULL; len++) {
		browse_netbios_name(h->hostname, len, name);
		if (strlen(name) == len || len == 15)
			b = browse_tab_find(t, name);
	}
	if (b == NULL)
		return NULL;
	na = output_addresses(h, addr, 3 * BEACON_MAX_ADDRS);
	for (i = 0; i < na; i++)
		if (strcmp(addr[i], b->addr) == 0)
			return b;
	return NULL;
}

/* The rows to show, sorted by hostname; caller frees. */
struct output_row *
output_rows(const struct probe_view *p, size_t *n)
{
	size_t total = hosttab_count(p->tab), nb = 0, i;
	const struct browse_tab *bt = p->browse;
	struct output_row *r;
	struct sort_key *k;
	bool *merged = NULL;

	if (bt != NULL && browse_tab_count(bt) > 0) {
		nb = browse_tab_count(bt);
		merged = calloc(nb, sizeof(*merged));
		if (merged == NULL)
			return NULL;
	}
	r = calloc(total + nb ? total + nb : 1, sizeof(*r));
	k = calloc(total + nb ? total + nb : 1, sizeof(*k));
	*n = 0;
	if (r == NULL || k == NULL) {
		free(r);
		free(k);
		free(merged);
		return NULL;
	}
	for (i = 0; i < total; i++) {
		const struct host *h = hosttab_at(p->tab, i);
		/* The names are in each row's own allocation: ask for one a
		   few rows ahead, the rows themselves are contiguous. */
		if (i + 8 < total)
			__builtin_prefetch(hosttab_at(p->tab, i + 8)->hostname);
		if (!output_match(p->c, h))
			continue;
		k[*n].r.h = h;
		if (merged != NULL) {
			k[*n].r.b = browse_twin(bt, h);
			if (k[*n].r.b != NULL)
				merged[k[*n].r.b - browse_tab_at(bt, 0)] = true;
		}
		pack_name(h->hostname, k[(*n)++].k);
	}
	for (i = 0; i < nb; i++) {
		const struct browse_host *b = browse_tab_at(bt, i);
		if (merged[i] || !browse_match(p->c, b))
			continue;
		k[*n].r.b = b;
		pack_name(b->name, k[(*n)++].k);
	}
	qsort(k, *n, sizeof(*k), by_name);
	for (i = 0; i < *n; i++)
		r[i] = k[i].r;
	free(k);
	free(merged);
	return r;
}

/* Claimed addresses, then the sources seen, each once. */
size_t
output_addresses(const struct host *h, const char **out, size_t max)
{
	size_t n = 0, i, j;

	for (i = 0; i < h->n_ipv4 && n < max; i++)
		out[n++] = host_ipv4(h, i);
	for (i = 0; i < h->n_ipv6 && n < max; i++)
		out[n++] = host_ipv6(h, i);
	for (i = 0; i < h->n_seen && n < max; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(out[j], host_seen_at(h, i)->addr) == 0)
				break;
		if (j == n)
			out[n++] = host_seen_at(h, i)->addr;
	}
	return n;
}

bool
output_find_row(const struct probe_view *p, const char *id,
		const struct host **h, const struct browse_host **b)
{
	*h = hosttab_find(p->tab, id);
	*b = NULL;
	if (*h == NULL && p->browse != NULL && strncmp(id, "netbios:", 8) == 0)
		*b = browse_tab_find(p->browse, id + 8);
	return *h != NULL || *b != NULL;
}
