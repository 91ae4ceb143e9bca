/* SPDX-License-Identifier: MIT */
/*
 * The text table (every string from the network escaped, so no beacon can
 * move the cursor) and the events as NDJSON lines.
 *
 * Times are kept on the monotonic clock and turned into RFC 3339 UTC only
 * here, so a wall-clock step never makes an age negative.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "render.h"
#include "text.h"

static void
rfc3339(uint64_t mono_ms, uint64_t now_ms, char *out, size_t len)
{
	struct timespec ts;
	char t[TEXT_RFC3339_LEN + 1];

	clock_gettime(CLOCK_REALTIME, &ts);
	text_rfc3339((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
			     (int64_t)(now_ms - mono_ms),
		     t);
	snprintf(out, len, "%s", t);
}

static uint64_t
uptime_now(const struct host *h, uint64_t now)
{
	return h->uptime_s + (now - h->uptime_at_ms) / 1000;
}

static void
duration(uint64_t s, char *out, size_t len)
{
	if (s >= 86400)
		snprintf(out, len, "%llud%02lluh",
			 (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, len, "%lluh%02llum",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, len, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(out, len, "%llus", (unsigned long long)s);
}

/* One cell, escaped, cut to width with "..." when longer (never inside a
   character or an escape). */
static void
cell(char *out, size_t len, const char *s, size_t width)
{
	size_t n = text_escape(s, strlen(s), out, len), cut, i, end;

	if (n <= width || width <= 3 || width >= len)
		return;
	cut = text_cut(out, width - 3);
	/* Not inside an escape (\\, \xNN, \u{...}) either. */
	for (i = 0; i < cut; i = end) {
		const char *close;
		end = i + 1;
		if (out[i] != '\\')
			continue;
		close = out[i + 1] == 'u' ? strchr(out + i, '}') : NULL;
		end = out[i + 1] == 'x' ? i + 4
		      : close != NULL   ? (size_t)(close - out) + 1
					: i + 2;
		if (end > cut) {
			cut = i;
			break;
		}
	}
	strcpy(out + cut, "...");
}

/* A tag for the table: key=value, the value in double quotes (a quote
   inside doubled) when it holds a comma, an equals sign, a quote or a
   space, or is empty, so that "x,role=db" never reads as two tags. */
static void
tag_text(const struct beacon_tag *t, char *out, size_t len)
{
	const char *v = t->value;
	size_t used, i;

	if (v[0] != '\0' && strpbrk(v, ",=\" ") == NULL) {
		snprintf(out, len, "%s=%s", t->key, v);
		return;
	}
	used = (size_t)snprintf(out, len, "%s=\"", t->key);
	for (i = 0; v[i] != '\0' && used + 3 < len; i++) {
		if (v[i] == '"')
			out[used++] = '"';
		out[used++] = v[i];
	}
	out[used++] = '"';
	out[used] = '\0';
}

#define COLS 7

static void
row(FILE *f, const char *const *cols, const size_t *w)
{
	size_t c;

	for (c = 0; c + 1 < COLS; c++)
		fprintf(f, "%-*s  ", (int)w[c], cols[c]);
	fprintf(f, "%s\n", cols[COLS - 1]);
}

/* A browse host's row: NetBIOS name, "browse" for an id, its address,
   status, last announcement, and in TAGS what it announced. */
static void
browse_cells(char cells[COLS][200], const struct browse_host *b, uint64_t now,
	     const size_t *cap)
{
	const char *roles[32];
	char buf[512], t[64], tag[2 * BEACON_MAX_TAG_VALUE + 40];
	struct beacon_tag bt;
	size_t nr = browse_roles(b->server_type, roles, 32), k, used;

	cell(cells[0], 200, b->name, cap[0]);
	cell(cells[1], 200, "browse", cap[1]);
	cell(cells[2], 200, b->addr, cap[2]);
	cell(cells[3], 200, host_status_name(b->status), cap[3]);
	snprintf(t, sizeof(t), "%.1fs", (double)(now - b->last_seen_ms) / 1000);
	cell(cells[4], 200, t, cap[4]);
	cell(cells[5], 200, "-", cap[5]);
	used = (size_t)snprintf(buf, sizeof(buf), "os=%u.%u", b->os_major,
				b->os_minor);
	if (b->workgroup[0] != '\0')
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
					 ",workgroup=%s", b->workgroup);
	for (k = 0; k < nr && used < sizeof(buf); k++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
					 k ? "+" : ",roles=", roles[k]);
	if (b->comment[0] != '\0' && used < sizeof(buf)) {
		snprintf(bt.key, sizeof(bt.key), "comment");
		snprintf(bt.value, sizeof(bt.value), "%s", b->comment);
		tag_text(&bt, tag, sizeof(tag));
		snprintf(buf + used, sizeof(buf) - used, ",%s", tag);
	}
	cell(cells[6], 200, buf, cap[6]);
}

static int
by_address(const void *a, const void *b)
{
	const void *x = *(const void *const *)a, *y = *(const void *const *)b;

	return x < y ? -1 : x > y;
}

/* A host's cells in the text table. */
static void
host_cells(char cells[COLS][200], const struct output_row *r,
	   const struct probe_view *p, uint64_t now, const size_t *cap)
{
	const struct host *h = r->h;
	const char *addr[3 * BEACON_MAX_ADDRS];
	char buf[512], t[64];
	size_t na = output_addresses(h, addr, 3 * BEACON_MAX_ADDRS), k, used;

	cell(cells[0], 200, h->hostname, cap[0]);
	snprintf(t, sizeof(t), "%.8s", h->id);
	cell(cells[1], 200, t, cap[1]);
	for (k = used = 0, buf[0] = '\0'; k < na; k++)
		used += (size_t)snprintf(
			buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0,
			"%s%s", k ? "," : "", addr[k]);
	cell(cells[2], 200, buf, cap[2]);
	/* With a keyring, both states show: the odd one out is seen
	   (without, every host is unsigned: nothing to say). */
	snprintf(t, sizeof(t), "%s%s%s", host_status_name(h->status),
		 h->conflict ? ",conflict" : "",
		 !p->keyring   ? ""
		 : h->verified ? ",verified"
			       : ",unsigned");
	cell(cells[3], 200, t, cap[3]);
	snprintf(t, sizeof(t), "%.1fs", (double)(now - h->last_seen_ms) / 1000);
	cell(cells[4], 200, t, cap[4]);
	if (h->has_uptime && h->status != HOST_LEFT &&
	    h->status != HOST_EXPIRED)
		duration(uptime_now(h, now), t, sizeof(t));
	else
		strcpy(t, "-");
	cell(cells[5], 200, t, cap[5]);
	for (k = used = 0, buf[0] = '\0'; k < h->n_tags; k++) {
		char tag[2 * BEACON_MAX_TAG_VALUE + 40];
		tag_text(host_tag(h, k), tag, sizeof(tag));
		used += (size_t)snprintf(
			buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0,
			"%s%s", k ? "," : "", tag);
	}
	if (r->b != NULL) /* the same machine announces over browse */
		used += (size_t)snprintf(
			buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0,
			"%snetbios=%s", used ? "," : "", r->b->name);
	cell(cells[6], 200, buf, cap[6]);
}

/* The rows of the expected hosts that are missing (--expect), sorted,
   for the status column; *n of them (NULL: none, or out of memory). */
static const void **
missing_rows(const struct probe_view *p, size_t *n)
{
	const void **m;
	size_t i;

	*n = 0;
	if (p->expect == NULL || p->expect->n == 0 ||
	    (m = calloc(p->expect->n, sizeof(*m))) == NULL)
		return NULL;
	for (i = 0; i < p->expect->n; i++) {
		const struct host *h;
		const struct browse_host *b;
		if (p->expect->e[i].state != EXPECT_MISSING)
			continue;
		expect_row(p->tab, p->browse, p->expect->e[i].name, &h, &b);
		if (h != NULL || b != NULL)
			m[(*n)++] =
				h != NULL ? (const void *)h : (const void *)b;
	}
	qsort(m, *n, sizeof(*m), by_address);
	return m;
}

/* With --all, the expected hosts never heard, each as a row. */
static size_t
unheard_cells(const struct probe_view *p, char (*cells)[COLS][200],
	      const size_t *cap)
{
	size_t i, n = 0, c;

	for (i = 0; p->c->all && p->expect != NULL && i < p->expect->n; i++) {
		const struct expect_entry *e = &p->expect->e[i];
		const struct host *h;
		const struct browse_host *b;
		expect_row(p->tab, p->browse, e->name, &h, &b);
		if (h != NULL || b != NULL || e->state != EXPECT_MISSING)
			continue;
		for (c = 0; c < COLS; c++)
			cell(cells[n][c], 200, "-", cap[c]);
		cell(cells[n][0], 200, e->name, cap[0]);
		cell(cells[n][3], 200, "missing", cap[3]);
		cell(cells[n][4], 200, "never", cap[4]);
		n++;
	}
	return n;
}

int
output_table(FILE *f, const struct probe_view *p, uint64_t now, size_t *shown)
{
	static const char *const head[COLS] = {
		"HOSTNAME",  "ID",     "ADDRESSES", "STATUS",
		"LAST SEEN", "UPTIME", "TAGS"};
	static const size_t cap[COLS] = {32, 8, 48, 16, 10, 8, 160};
	size_t n = 0, i, c, w[COLS];
	struct output_row *r = output_rows(p, &n);
	char(*cells)[COLS][200];

	*shown = 0;
	size_t nx = p->expect != NULL ? p->expect->n : 0, nm;
	const void **missing = missing_rows(p, &nm);

	cells = r != NULL ? calloc(n + nx + 1, sizeof(*cells)) : NULL;
	if (cells == NULL) {
		free(r);
		free(missing);
		errno = ENOMEM;
		return -1;
	}
	for (c = 0; c < COLS; c++)
		w[c] = strlen(head[c]);
	for (i = 0; i < n; i++) {
		const void *row = r[i].h != NULL ? (const void *)r[i].h
						 : (const void *)r[i].b;
		if (r[i].h == NULL)
			browse_cells(cells[i], r[i].b, now, cap);
		else
			host_cells(cells[i], &r[i], p, now, cap);
		if (nm > 0 &&
		    bsearch(&row, missing, nm, sizeof(*missing), by_address))
			strncat(cells[i][3], ",missing",
				sizeof(cells[i][3]) - strlen(cells[i][3]) - 1);
	}
	free(missing);
	n += unheard_cells(p, cells + n, cap);
	for (i = 0; i < n; i++) {
		for (c = 0; c < COLS; c++)
			if (strlen(cells[i][c]) > w[c])
				w[c] = strlen(cells[i][c]);
	}
	if (p->c->header || isatty(fileno(f)))
		row(f, head, w);
	for (i = 0; i < n; i++) {
		const char *line[COLS];
		for (c = 0; c < COLS; c++)
			line[c] = cells[i][c];
		row(f, line, w);
	}
	free(cells);
	free(r);
	*shown = n;
	return ferror(f) ? -1 : 0;
}

/* What a path that exists is, for the error message. */

char *
output_event(enum host_event ev, const struct host *h, const char *reason,
	     uint64_t now)
{
	const char *addr[3 * BEACON_MAX_ADDRS];
	cJSON *o = cJSON_CreateObject(), *a;
	char t[64], *line;
	size_t i, na = output_addresses(h, addr, 3 * BEACON_MAX_ADDRS);

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "event", host_event_name(ev));
	rfc3339(now, now, t, sizeof(t));
	cJSON_AddStringToObject(o, "time", t);
	cJSON_AddStringToObject(o, "id", h->id);
	cJSON_AddStringToObject(o, "hostname", h->hostname);
	cJSON_AddStringToObject(o, "kind", "beacon");
	cJSON_AddStringToObject(o, "status", host_status_name(h->status));
	cJSON_AddBoolToObject(o, "conflict", h->conflict);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddStringToObject(o, "instance", h->instance);
	a = cJSON_AddArrayToObject(o, "addresses");
	for (i = 0; a && i < na; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(addr[i]));
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

char *
output_expect_event(const struct probe_view *p, enum host_event ev,
		    const char *name, const struct host *h,
		    const struct browse_host *b, const char *reason,
		    uint64_t now)
{
	cJSON *o;
	char t[64], *line;

	if (h != NULL)
		return output_event(ev, h, reason, now);
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "event", host_event_name(ev));
	rfc3339(now, now, t, sizeof(t));
	cJSON_AddStringToObject(o, "time", t);
	if (b != NULL)
		snprintf(t, sizeof(t), "netbios:%s", b->name);
	cJSON_AddStringToObject(o, "id", b != NULL ? t : name);
	cJSON_AddStringToObject(o, "hostname", b != NULL ? b->name : name);
	cJSON_AddStringToObject(o, "kind", b != NULL ? "browse" : "beacon");
	cJSON_AddStringToObject(o, "status",
				b != NULL ? host_status_name(b->status)
					  : "missing");
	cJSON_AddBoolToObject(o, "conflict", false);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddStringToObject(o, "instance", "");
	(void)cJSON_AddArrayToObject(o, "addresses");
	(void)p;
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

char *
output_browse_event(const struct probe_view *p, enum host_event ev,
		    const struct browse_host *h, uint64_t now)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char t[64], id[32], *line;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "event", host_event_name(ev));
	rfc3339(now, now, t, sizeof(t));
	cJSON_AddStringToObject(o, "time", t);
	snprintf(id, sizeof(id), "netbios:%s", h->name);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "hostname", h->name);
	cJSON_AddStringToObject(o, "kind", "browse");
	cJSON_AddStringToObject(o, "status", host_status_name(h->status));
	cJSON_AddBoolToObject(o, "conflict", false);
	if (ev == EV_EXPIRE)
		snprintf(t, sizeof(t), "no announcement for %llu s (3 periods)",
			 (unsigned long long)(browse_ttl_ms(p->browse, h) /
					      1000));
	else
		snprintf(t, sizeof(t), "%s",
			 ev == EV_LEAVE ? "announced it is shutting down"
					: "announced");
	cJSON_AddStringToObject(o, "reason", t);
	cJSON_AddStringToObject(o, "instance", "");
	a = cJSON_AddArrayToObject(o, "addresses");
	if (a != NULL)
		cJSON_AddItemToArray(a, cJSON_CreateString(h->addr));
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}
