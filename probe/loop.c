/* SPDX-License-Identifier: MIT */
/*
 * The probe's loop, shared by list, watch and serve. Each pass: poll the
 * beacon socket and a signalfd until the earliest deadline, take at most
 * RX_BATCH datagrams, then run every job that is due. The batch bound is
 * what keeps a flood from starving the rest: timers, signals, exports and
 * redraws run every few milliseconds whatever arrives, and what the probe
 * cannot take waits in (or overflows from) the kernel's buffer, counted.
 *
 * The periodic jobs are rows of one table: when each is next due (from
 * the loop's state) and what it does.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "privdrop.h"
#include "probe.h"
#include "store.h"
#include "render.h"

#define RX_BATCH       256
#define ASK_BATCH      64
#define REDRAW_MIN_MS  200
#define REDRAW_AGES_MS 1000
#define RESOLICIT_MS   1100
#define SAMPLE_MS      100
#define IFACES_MS      2000 /* watch and serve look for new interfaces */

struct loop {
	struct probe p;
	bool tty, stop, failed;
	int rc;
	uint64_t start, end, table_due, resolicit, last_out, sample_due;
	uint64_t browse_due;
	uint64_t ifaces_due;
	short mqtt_revents; /* the broker connection's, this pass */
};

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static int
finish_list(struct probe *p, uint64_t now)
{
	struct probe_view v = probe_view(p);
	size_t shown;

	if (p->expect != NULL) { /* the listening is over: missing or up */
		p->expect->grace_end = 0;
		expect_judge(p, now);
	}
	/* Out of memory or a failed write is 1, never "no host" (2). */
	if ((p->c->json ? output_document(stdout, &v, now, &shown)
			: output_table(stdout, &v, now, &shown)) < 0 ||
	    fflush(stdout) != 0) {
		log_warn("cannot write the table");
		return 1;
	}
	return shown > 0 ? 0 : EXIT_NONE;
}

/* ---- the jobs: each a due time and an action ---- */

static uint64_t
table_due(const struct loop *l)
{
	return l->table_due;
}

static void
table_run(struct loop *l, uint64_t now)
{
	struct hosttab_ask asks[ASK_BATCH];
	size_t n, i;

	l->table_due = hosttab_tick(l->p.tab, now, asks, ASK_BATCH, &n);
	for (i = 0; i < n; i++)
		probe_ask(&l->p, &asks[i], now);
}

static uint64_t
browse_due(const struct loop *l)
{
	return l->p.browse != NULL ? l->browse_due : UINT64_MAX;
}

static void
browse_run(struct loop *l, uint64_t now)
{
	if (browse_tab_tick(l->p.browse, now, &l->browse_due) > 0)
		l->p.dirty = true;
}

static uint64_t
mqtt_job_due(const struct loop *l)
{
	return l->mqtt_revents != 0 ? 0 : mqtt_due(l->p.mqtt);
}

static void
mqtt_job_run(struct loop *l, uint64_t now)
{
	mqtt_run(l->p.mqtt, l->mqtt_revents, now);
	l->mqtt_revents = 0;
}

static uint64_t
store_job_due(const struct loop *l)
{
	return l->p.store != NULL ? store_due(l->p.store) : UINT64_MAX;
}

static void
store_job_run(struct loop *l, uint64_t now)
{
	store_run(l->p.store, now);
}

static uint64_t
notify_job_due(const struct loop *l)
{
	return l->p.notify != NULL ? notify_due(l->p.notify) : UINT64_MAX;
}

static void
notify_job_run(struct loop *l, uint64_t now)
{
	notify_run(l->p.notify, NULL, 0, now);
}

static uint64_t
expect_job_due(const struct loop *l)
{
	return expect_due(&l->p);
}

static void
expect_job_run(struct loop *l, uint64_t now)
{
	expect_judge(&l->p, now);
}

static uint64_t
end_due(const struct loop *l)
{
	return l->end;
}

static void
end_run(struct loop *l, uint64_t now)
{
	(void)now;
	l->stop = true;
}

static uint64_t
solicit_due(const struct loop *l)
{
	return l->resolicit ? l->resolicit : UINT64_MAX;
}

static void
solicit_run(struct loop *l, uint64_t now)
{
	(void)now;
	probe_solicit(&l->p);
	l->resolicit = 0;
}

static uint64_t
redraw_due(const struct loop *l)
{
	if (l->p.c->cmd != CMD_WATCH || l->p.c->events)
		return UINT64_MAX;
	return l->last_out + (l->p.dirty ? REDRAW_MIN_MS : REDRAW_AGES_MS);
}

static void
redraw_run(struct loop *l, uint64_t now)
{
	struct probe *p = &l->p;
	struct probe_view v = probe_view(p);
	size_t shown;

	if (l->tty)
		fputs("\033[H\033[2J", stdout);
	else
		printf("\n");
	if (output_table(stdout, &v, now, &shown) < 0)
		log_warn("cannot write the table");
	if (l->tty)
		printf("\n%zu hosts in the table; port %u\n",
		       hosttab_count(p->tab), p->c->port);
	fflush(stdout);
	p->dirty = false;
	l->last_out = now;
}

static uint64_t
export_due(const struct loop *l)
{
	if (l->p.c->cmd != CMD_SERVE || (!l->p.dirty && !l->failed))
		return UINT64_MAX;
	return l->last_out + l->p.c->export_interval_ms;
}

/* A failed export is retried at the next interval, and logged once in a
   while (log.h), so a full disk costs neither descriptors nor lines. */
static void
export_run(struct loop *l, uint64_t now)
{
	struct probe *p = &l->p;

	l->last_out = now;
	if (output_export(p, p->c->export_path, now, false) < 0) {
		log_warn("cannot write %s (will retry)", p->c->export_path);
		l->failed = true;
		return;
	}
	if (l->failed)
		log_info("%s written again", p->c->export_path);
	l->failed = false;
	p->dirty = false;
}

static uint64_t
sample_due(const struct loop *l)
{
	return l->sample_due;
}

static void
sample_run(struct loop *l, uint64_t now)
{
	probe_sample_drops(&l->p);
	l->sample_due = now + SAMPLE_MS;
}

static uint64_t
ifaces_due(const struct loop *l)
{
	return l->p.c->cmd == CMD_LIST ? UINT64_MAX : l->ifaces_due;
}

/* Interfaces come and go: queries follow them, and a new one is asked at
   once. */
static void
ifaces_run(struct loop *l, uint64_t now)
{
	l->ifaces_due = now + IFACES_MS;
	if (!probe_refresh_solicit(&l->p))
		return;
	if (l->p.c->solicit)
		probe_solicit(&l->p);
	probe_browse_request(&l->p);
}

static const struct job {
	uint64_t (*due)(const struct loop *l);
	void (*run)(struct loop *l, uint64_t now);
} jobs[] = {
	{table_due, table_run},           {sample_due, sample_run},
	{solicit_due, solicit_run},       {redraw_due, redraw_run},
	{export_due, export_run},         {ifaces_due, ifaces_run},
	{browse_due, browse_run},         {mqtt_job_due, mqtt_job_run},
	{store_job_due, store_job_run},   {expect_job_due, expect_job_run},
	{notify_job_due, notify_job_run}, {end_due, end_run},
};
#define NJOBS (sizeof(jobs) / sizeof(jobs[0]))

static int
block_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP); /* --expect: read the file again */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* ---- the subscribers to the table's changes (events.c) ---- */

static bool
always(void *ctx)
{
	(void)ctx;
	return true;
}

/* The export and watch's redraw: the table changed. */
static void
dirty_event(void *ctx, const struct probe_event *e, uint64_t now)
{
	(void)e;
	(void)now;
	((struct probe *)ctx)->dirty = true;
}

static bool
http_wants(void *ctx)
{
	return http_streaming(ctx);
}

static void
http_sub_event(void *ctx, const struct probe_event *e, uint64_t now)
{
	(void)now;
	if (e->line != NULL)
		http_event(ctx, host_event_name(e->ev), e->line);
}

static void
mqtt_sub_event(void *ctx, const struct probe_event *e, uint64_t now)
{
	if (e->line != NULL)
		mqtt_event(ctx, e->id, e->line, now);
}

static void
subscribe(struct loop *l, const struct probe_config *c)
{
	struct probe *p = &l->p;

	events_subscribe(p, &(struct probe_sub){NULL, dirty_event, p});
	if (c->events)
		events_subscribe(
			p, &(struct probe_sub){always, probe_watch_event, p});
	if (p->http != NULL)
		events_subscribe(p,
				 &(struct probe_sub){http_wants, http_sub_event,
						     p->http});
	if (p->mqtt != NULL)
		events_subscribe(p, &(struct probe_sub){always, mqtt_sub_event,
							p->mqtt});
	if (p->store != NULL)
		events_subscribe(
			p, &(struct probe_sub){always, store_event, p->store});
	if (p->expect != NULL)
		events_subscribe(p, &(struct probe_sub){NULL, expect_event, p});
	if (p->notify != NULL)
		events_subscribe(p, &(struct probe_sub){always, notify_event,
							p->notify});
}

/* What needs root (the keyring, the ports, the broker's password), then
   the drop, then the broker's connection. 0, or -1 having said why. */
static int
loop_open(struct loop *l, const struct probe_config *c)
{
	if (probe_open(&l->p, c) < 0 ||
	    (c->n_http > 0 && (l->p.http = http_start(&l->p)) == NULL) ||
	    (c->mqtt != NULL && (l->p.mqtt = mqtt_open(&l->p)) == NULL) ||
	    privdrop_logged(c->user, c->cmd != CMD_LIST) < 0 ||
	    (c->db != NULL &&
	     (l->p.store = store_open(c->db, &l->p)) == NULL) ||
	    (c->expect != NULL &&
	     expect_load(&l->p, c->expect, clock_mono_ms()) < 0) ||
	    (c->n_notify > 0 && (l->p.notify = notify_open(&l->p)) == NULL) ||
	    mqtt_connect(l->p.mqtt) < 0)
		return -1;
	subscribe(l, c);
	return 0;
}

/* The first moves: the queries, the browse request, the jobs' times. */
static void
loop_start(struct loop *l, const struct probe_config *c)
{
	l->tty = isatty(STDOUT_FILENO);
	l->start = clock_mono_ms();
	l->end = c->cmd == CMD_LIST ? l->start + c->wait_ms : UINT64_MAX;
	l->sample_due = l->start + SAMPLE_MS;
	l->ifaces_due = l->start + IFACES_MS;
	if (c->solicit) {
		probe_solicit(&l->p);
		/* A second query for the agents that missed the first one,
		   or had just answered another probe: they answer at most
		   once a second. */
		if (c->cmd != CMD_LIST || c->wait_ms >= 1500)
			l->resolicit = l->start + RESOLICIT_MS;
	}
	/* Windows and Samba hosts answer within 30 s (Samba at once). */
	probe_browse_request(&l->p);
}

/* The poll set: signals, beacons, the broker, the HTTP server's (*nh),
   the webhooks' (*nn); the number of descriptors. */
static nfds_t
poll_set(struct loop *l, int sigfd, struct pollfd *pf, size_t *nh, size_t *nn)
{
	int hfd[PROBE_LIST_MAX];
	size_t i;

	pf[0] = (struct pollfd){sigfd, POLLIN, 0};
	pf[1] = (struct pollfd){mailslot_fd(l->p.srv), POLLIN, 0};
	pf[2] = (struct pollfd){-1, 0, 0};
	pf[2].fd = mqtt_fd(l->p.mqtt, &pf[2].events);
	*nh = http_fds(l->p.http, hfd, PROBE_LIST_MAX);
	for (i = 0; i < *nh; i++)
		pf[3 + i] = (struct pollfd){hfd[i], POLLIN, 0};
	*nn = notify_fds(l->p.notify, pf + 3 + *nh, NOTIFY_SOCKETS_MAX);
	return (nfds_t)(3 + *nh + *nn);
}

/* How long poll may wait: until the first job, at most a minute; not at
   all when datagrams or stream events wait. */
static int
poll_timeout(const struct loop *l, uint64_t now, uint64_t ht, bool more)
{
	uint64_t due = UINT64_MAX;
	size_t i;

	for (i = 0; i < NJOBS; i++)
		due = earliest(due, jobs[i].due(l));
	if (ht != UINT64_MAX)
		due = earliest(due, now + ht);
	if (more || http_pending(l->p.http) || due <= now)
		return 0;
	return due - now > 60000 ? 60000 : (int)(due - now);
}

/* A signal came: true when it was SIGHUP to serve (--expect read
   again), false to stop. */
static bool
hangup(struct loop *l, int sigfd)
{
	struct signalfd_siginfo si;

	/* list and watch stop on a hangup, as on a closed terminal. */
	if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si) ||
	    si.ssi_signo != SIGHUP || l->p.c->cmd != CMD_SERVE)
		return false;
	if (l->p.expect != NULL)
		(void)expect_load(&l->p, l->p.expect->path, clock_mono_ms());
	else
		log_info("SIGHUP: nothing to read again (no --expect)");
	return true;
}

/*
 * One pass: poll, then datagrams first (after a late wake-up the table
 * judges no host before reading what waited: what did not fit in one
 * pass, or was dropped, is blind time, rx.c), then the HTTP server when it
 * has something to do, then the jobs that are due, then the events to
 * standard output. A pass cut short by its budget left datagrams: the
 * next looks again at once; else the socket was emptied, and poll says
 * when more came (mailslot's server.c). A new host's first deadline is
 * LIVENESS_MARGIN_MS away at the least, so the table looks at it within
 * 50 ms. 1 to stop, -1 on an error, else 0.
 */
static int
loop_pass(struct loop *l, int sigfd, bool *more)
{
	struct pollfd pf[3 + PROBE_LIST_MAX + NOTIFY_SOCKETS_MAX];
	size_t nh, nn, i, got;
	uint64_t now = clock_mono_ms(), ht = http_timeout_ms(l->p.http);
	uint64_t polled = now, took;
	nfds_t n = poll_set(l, sigfd, pf, &nh, &nn);

	if (poll(pf, n, poll_timeout(l, now, ht, *more)) < 0 &&
	    errno != EINTR) {
		log_warn("poll");
		return -1;
	}
	if ((pf[0].revents & POLLIN) && !hangup(l, sigfd))
		return 1; /* SIGTERM or SIGINT */
	now = clock_mono_ms();
	got = probe_receive(&l->p, now, RX_BATCH);
	*more = got == RX_BATCH;
	if (got > 0) {
		l->table_due = earliest(l->table_due, now + 50);
		l->browse_due = earliest(l->browse_due, now + 50);
	}
	l->mqtt_revents = pf[2].fd >= 0 ? pf[2].revents : 0;
	for (i = 0; i < nh && pf[3 + i].revents == 0; i++)
		;
	if (i < nh || http_pending(l->p.http) ||
	    (ht != UINT64_MAX && now >= polled + ht))
		http_run(l->p.http);
	for (i = 0; i < nn && pf[3 + nh + i].revents == 0; i++)
		;
	if (i < nn)
		notify_run(l->p.notify, pf + 3 + nh, nn, now);
	for (i = 0; i < NJOBS && !l->stop; i++)
		if (jobs[i].due(l) <= now)
			jobs[i].run(l, now);
	events_deliver(&l->p, now);
	took = clock_mono_ms() - now;
	if (took > l->p.st.pass_max_ms)
		l->p.st.pass_max_ms = took;
	if (probe_flush_events(&l->p, stdout) < 0 && errno == EPIPE)
		return 1; /* the reader went away */
	return l->stop ? 1 : 0;
}

/* The end: list's table, serve's last export; the exit status. */
static int
loop_finish(struct loop *l, const struct probe_config *c, int rc)
{
	(void)probe_flush_events(&l->p, stdout);
	if (rc == 0 && c->cmd == CMD_LIST)
		rc = finish_list(&l->p, clock_mono_ms());
	if (c->cmd == CMD_SERVE &&
	    output_export(&l->p, c->export_path, clock_mono_ms(), true) < 0) {
		log_warn("cannot write %s", c->export_path);
		rc = 1;
	}
	return rc;
}

int
probe_run(const struct probe_config *c)
{
	struct loop l;
	char err[512];
	bool more = true; /* datagrams may wait: read before the first wait */
	int sigfd, rc = 0, pass = 0;

	memset(&l, 0, sizeof(l));
	log_init("beacon-probe", 0);
	/* The table's arrays (rows, index, heap) double as it grows: past
	   256 KiB each lives in its own mapping, grown by mremap and given
	   back when freed. glibc's default threshold rises with every large
	   free (to 32 MiB), after which each doubling copied into the heap
	   and left the old copy resident: about 20 bytes a host. Fixing it
	   fixes the trim threshold too: 4 MiB, so the churn of small rows
	   does not give pages back and fault them in again. */
	(void)mallopt(M_MMAP_THRESHOLD, 256 << 10);
	(void)mallopt(M_TRIM_THRESHOLD, 4 << 20);
	if (c->cmd == CMD_HISTORY)
		return history_run(c); /* a file, not the LAN */
	if (c->cmd == CMD_DIFF)
		return diff_run(c);
	if (c->cmd != CMD_SERVE && c->mqtt != NULL)
		return merged_list(c); /* the broker's view, not this LAN's */
	if (c->cmd == CMD_SERVE &&
	    output_export_check(c->export_path, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return 1;
	}
	if ((sigfd = block_signals()) < 0) {
		log_warn("signalfd");
		return 1;
	}
	if (loop_open(&l, c) < 0) {
		rc = 1;
	} else {
		loop_start(&l, c);
		if (c->cmd == CMD_SERVE) {
			/* The first write must work: say so at once. */
			export_run(&l, l.start);
			rc = l.failed ? 1 : 0;
		}
		while (rc == 0 && (pass = loop_pass(&l, sigfd, &more)) == 0)
			;
		rc = loop_finish(&l, c, pass < 0 ? 1 : rc);
	}
	store_close(l.p.store);
	notify_close(l.p.notify);
	expect_free(&l.p);
	mqtt_stop(l.p.mqtt);
	http_stop(l.p.http);
	probe_close(&l.p);
	close(sigfd);
	return rc;
}
