/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics: the Prometheus text exposition format (version 0.0.4).
 * Hosts by status, per host (labels id, hostname, kind) up, the age of its
 * last beacon, its estimated loss and restarts; the probe's counters as
 * _total counters, drops by reason. Label values escaped as the format
 * wants (backslash, double quote, newline); the rest of a hostname is
 * printable already (the beacon's policy, or '?' for browse names).
 */
#include <stdio.h>
#include <string.h>

#include "render.h"

static void
label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f), fputc(*v, f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

void
metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per host, beacon and browse, with the host's labels. */
struct host_labels {
	const char *id, *hostname, *kind;
	char browse_id[BROWSE_NAME_MAX + 9];
};

static void
labels(FILE *f, const struct host_labels *l)
{
	fputs("{id=\"", f);
	label(f, l->id);
	fputs("\",hostname=\"", f);
	label(f, l->hostname);
	fprintf(f, "\",kind=\"%s\"}", l->kind);
}

static struct host_labels
beacon_labels(const struct host *h)
{
	struct host_labels l = {h->id, h->hostname, "beacon", ""};

	return l;
}

static struct host_labels
browse_labels(const struct browse_host *b)
{
	struct host_labels l = {NULL, b->name, "browse", ""};

	snprintf(l.browse_id, sizeof(l.browse_id), "netbios:%s", b->name);
	l.id = l.browse_id;
	return l;
}

static bool
up(uint8_t status)
{
	return status == HOST_ALIVE || status == HOST_STALE;
}

void
metrics_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	metrics_head(f, name, "counter", help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void
drop_sample(void *ctx, const char *name, uint64_t v)
{
	fprintf(ctx, "beacon_dropped_total{reason=\"%s\"} %llu\n", name,
		(unsigned long long)v);
}

/* beacon_hosts{status}: beacon and browse hosts alike. */
static void
host_counts(FILE *f, const struct probe_view *p)
{
	size_t nh = hosttab_count(p->tab), i;
	size_t nb = p->browse ? browse_tab_count(p->browse) : 0;
	uint64_t by[HOST_EXPIRED + 1] = {0};
	int s;

	for (i = 0; i < nh; i++)
		by[hosttab_at(p->tab, i)->status]++;
	for (i = 0; i < nb; i++)
		by[browse_tab_at(p->browse, i)->status]++;
	metrics_head(f, "beacon_hosts", "gauge",
		     "Hosts in the table by status (beacon and browse hosts).");
	for (s = HOST_ALIVE; s <= HOST_EXPIRED; s++)
		fprintf(f, "beacon_hosts{status=\"%s\"} %llu\n",
			host_status_name((enum host_status)s),
			(unsigned long long)by[s]);
}

/* The series every host has: up, and the age of its last word. */
static void
host_series(FILE *f, const struct probe_view *p, bool age, uint64_t now)
{
	size_t nh = hosttab_count(p->tab), i;
	size_t nb = p->browse ? browse_tab_count(p->browse) : 0;
	const char *name =
		age ? "beacon_host_last_seen_age_seconds" : "beacon_host_up";
	struct host_labels l;

	if (age)
		metrics_head(
			f, name, "gauge",
			"Seconds since the host's last beacon or announcement.");
	else
		metrics_head(
			f, name, "gauge",
			"1 while the host is alive or stale, 0 once it left or "
			"expired.");
	for (i = 0; i < nh; i++) {
		const struct host *h = hosttab_at(p->tab, i);
		l = beacon_labels(h);
		fputs(name, f);
		labels(f, &l);
		if (age)
			fprintf(f, " %.3f\n",
				(double)(now - h->last_seen_ms) / 1000);
		else
			fprintf(f, " %d\n", up(h->status));
	}
	for (i = 0; i < nb; i++) {
		const struct browse_host *b = browse_tab_at(p->browse, i);
		l = browse_labels(b);
		fputs(name, f);
		labels(f, &l);
		if (age)
			fprintf(f, " %.3f\n",
				(double)(now - b->last_seen_ms) / 1000);
		else
			fprintf(f, " %d\n", up(b->status));
	}
}

static void
host_tags(FILE *f, const struct probe_view *p)
{
	size_t nh = hosttab_count(p->tab), i, k;

	metrics_head(
		f, "beacon_host_tag", "gauge",
		"1 for each tag of a beacon host (join on id to select by tag).");
	for (i = 0; i < nh; i++) {
		const struct host *h = hosttab_at(p->tab, i);
		for (k = 0; k < h->n_tags; k++) {
			fputs("beacon_host_tag{id=\"", f);
			label(f, h->id);
			fputs("\",key=\"", f);
			label(f, host_tag(h, k)->key);
			fputs("\",value=\"", f);
			label(f, host_tag(h, k)->value);
			fputs("\"} 1\n", f);
		}
	}
}

/* What only beacon hosts have: the loss estimate, the restarts. */
static void
beacon_series(FILE *f, const struct probe_view *p, bool restarts)
{
	size_t nh = hosttab_count(p->tab), i;
	const char *name = restarts ? "beacon_host_restarts_total"
				    : "beacon_host_loss_ratio";
	struct host_labels l;

	if (restarts)
		metrics_head(
			f, name, "counter",
			"New instance ids seen for the host (beacon hosts).");
	else
		metrics_head(
			f, name, "gauge",
			"The beacon loss estimated for the host (beacon hosts).");
	for (i = 0; i < nh; i++) {
		const struct host *h = hosttab_at(p->tab, i);
		l = beacon_labels(h);
		fputs(name, f);
		labels(f, &l);
		if (restarts)
			fprintf(f, " %llu\n", (unsigned long long)h->restarts);
		else
			fprintf(f, " %.6f\n", host_loss(h));
	}
}

int
output_metrics(FILE *f, const struct probe_view *p, uint64_t now)
{
	const struct mailslot_stats *ms = output_rx(p);

	host_counts(f, p);
	host_series(f, p, false, now);
	host_tags(f, p);
	host_series(f, p, true, now);
	beacon_series(f, p, false);
	beacon_series(f, p, true);
	metrics_counter(f, "beacon_datagrams_total",
			"Datagrams read from the socket.", ms->datagrams);
	metrics_counter(f, "beacon_beacons_total",
			"Beacons taken into the table.", p->st->beacons);
	metrics_counter(f, "beacon_duplicates_total",
			"Copies of a datagram or beacon already counted.",
			ms->duplicates + p->st->duplicates);
	metrics_counter(f, "beacon_browse_announcements_total",
			"Browse announcements of Windows and Samba hosts.",
			p->st->browse_announcements);
	metrics_head(f, "beacon_events_total", "counter",
		     "The table's changes, by event (new: serve --db).");
	for (int e = 0; e < EV__COUNT; e++)
		fprintf(f, "beacon_events_total{event=\"%s\"} %llu\n",
			host_event_name((enum host_event)e),
			(unsigned long long)p->st->events[e]);
	if (p->expect != NULL) {
		size_t by[EXPECT_MISSING + 1] = {0}, i;
		for (i = 0; i < p->expect->n; i++)
			by[p->expect->e[i].state]++;
		metrics_head(
			f, "beacon_expected_hosts", "gauge",
			"Hosts named in --expect, by state (waiting: never "
			"heard, the start-up queries not yet done).");
		for (i = 0; i <= EXPECT_MISSING; i++)
			fprintf(f, "beacon_expected_hosts{state=\"%s\"} %zu\n",
				expect_state_name((enum expect_state)i), by[i]);
	}
	metrics_head(f, "beacon_loop_longest_pass_seconds", "gauge",
		     "The probe loop's longest pass since it started (the wait "
		     "in poll left out).");
	fprintf(f, "beacon_loop_longest_pass_seconds %.3f\n",
		(double)p->st->pass_max_ms / 1000);
	metrics_head(
		f, "beacon_dropped_total", "counter",
		"Datagrams dropped, by reason (the export's stats.dropped).");
	output_drops(p, drop_sample, f);
	return ferror(f) ? -1 : 0;
}
