/* SPDX-License-Identifier: MIT */
/*
 * The probe's loop, shared by list, watch and serve: one poll(2) on the
 * beacon mailslot with a timeout from the earliest deadline (the table's
 * next status change or query, the end of a list, a redraw, an export).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "probe.h"

#define REDRAW_MIN_MS  200
#define REDRAW_AGES_MS 1000
#define RESOLICIT_MS   1100

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void
draw(struct probe *p, uint64_t now, bool tty)
{
	if (tty)
		fputs("\033[H\033[2J", stdout);
	else
		printf("\n");
	output_table(stdout, p, now);
	if (tty)
		printf("\n%zu hosts in the table; port %u\n",
		       hosttab_count(p->tab), p->c->port);
	fflush(stdout);
}

static int
finish_list(struct probe *p, uint64_t now)
{
	size_t shown;

	if (p->c->json) {
		char *doc = output_json(p, now, &shown);
		if (doc == NULL) {
			fprintf(stderr, "beacon-probe: out of memory\n");
			return 1;
		}
		puts(doc);
		free(doc);
	} else {
		shown = output_table(stdout, p, now);
	}
	return shown > 0 ? 0 : EXIT_NONE;
}

static int export(struct probe *p, uint64_t now)
{
	if (output_export(p, p->c->export_path, now) < 0) {
		fprintf(stderr, "beacon-probe: cannot write %s: %s\n",
			p->c->export_path, strerror(errno));
		return -1;
	}
	return 0;
}

int
probe_run(const struct probe_config *c)
{
	uint64_t start, now, next_tick, resolicit = 0, last_out = 0, end;
	bool tty = isatty(STDOUT_FILENO);
	struct sigaction sa;
	struct probe p;
	int rc;

	rc = probe_open(&p, c);
	if (rc != 0) {
		probe_close(&p);
		return rc;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (c->events)
		p.events = stdout;
	start = now = clock_mono_ms();
	end = c->cmd == CMD_LIST ? start + c->wait_ms : UINT64_MAX;
	if (c->solicit) {
		probe_solicit(&p);
		/* A second query for the agents that missed the first one,
		   or had just answered another probe: they answer at most
		   once a second. */
		if (c->cmd != CMD_LIST || c->wait_ms >= 1500)
			resolicit = start + RESOLICIT_MS;
	}
	if (c->cmd == CMD_SERVE && export(&p, now) < 0) {
		probe_close(&p);
		return 1;
	}
	next_tick = now;
	while (!stop) {
		struct pollfd pf = {mailslot_fd(p.srv), POLLIN, 0};
		uint64_t due = earliest(next_tick, end);
		int timeout;

		if (resolicit)
			due = earliest(due, resolicit);
		if (c->cmd == CMD_WATCH && !c->events)
			due = earliest(due,
				       last_out + (p.dirty ? REDRAW_MIN_MS
							   : REDRAW_AGES_MS));
		if (c->cmd == CMD_SERVE && p.dirty)
			due = earliest(due, last_out + c->export_interval_ms);
		now = clock_mono_ms();
		timeout = due <= now          ? 0
			  : due - now > 60000 ? 60000
					      : (int)(due - now);
		if (poll(&pf, 1, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "beacon-probe: poll: %s\n",
				strerror(errno));
			rc = 1;
			break;
		}
		now = clock_mono_ms();
		probe_receive(&p, now);
		next_tick = hosttab_tick(p.tab, now);
		if (resolicit && now >= resolicit) {
			probe_solicit(&p);
			resolicit = 0;
		}
		if (now >= end)
			break;
		if (c->cmd == CMD_WATCH && !c->events &&
		    now - last_out >=
			    (p.dirty ? REDRAW_MIN_MS : REDRAW_AGES_MS)) {
			draw(&p, now, tty);
			p.dirty = false;
			last_out = now;
		}
		if (c->cmd == CMD_SERVE && p.dirty &&
		    now - last_out >= c->export_interval_ms) {
			if (export(&p, now) < 0)
				rc = 1;
			p.dirty = false;
			last_out = now;
		}
	}
	now = clock_mono_ms();
	if (c->cmd == CMD_LIST && rc == 0)
		rc = finish_list(&p, now);
	if (c->cmd == CMD_SERVE && export(&p, now) < 0)
		rc = 1;
	probe_close(&p);
	return rc;
}
