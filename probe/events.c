/* SPDX-License-Identifier: MIT */
/*
 * The table's changes on their way out. The table's callback (rx.c) only
 * queues each change, with its NDJSON line formatted while the row is as
 * the change left it (and only when a subscriber takes lines); the loop
 * hands the queue to its subscribers once per pass (events_deliver):
 * watch's standard output, the HTTP event streams, the MQTT broker, the
 * export's dirty flag. A new subscriber (a history store) is one more
 * struct probe_sub, and touches nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

bool
events_subscribe(struct probe *p, const struct probe_sub *s)
{
	if (p->n_subs == PROBE_SUBS_MAX)
		return false;
	p->subs[p->n_subs++] = *s;
	return true;
}

bool
events_want_lines(const struct probe *p)
{
	size_t i;

	for (i = 0; i < p->n_subs; i++)
		if (p->subs[i].wants_lines != NULL &&
		    p->subs[i].wants_lines(p->subs[i].ctx))
			return true;
	return false;
}

void
events_push(struct probe *p, enum host_event ev, const char *id, char *line)
{
	struct probe_event *e;

	p->st.events[ev]++;
	if (p->n_evq == p->cap_evq) {
		size_t cap = p->cap_evq ? 2 * p->cap_evq : 64;
		e = cap <= PROBE_QUEUE_MAX
			    ? realloc(p->evq, cap * sizeof(*p->evq))
			    : NULL;
		if (e == NULL) {
			p->evq_dropped++; /* said by the watch output */
			free(line);
			return;
		}
		p->evq = e;
		p->cap_evq = cap;
	}
	e = &p->evq[p->n_evq++];
	e->ev = ev;
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->line = line;
}

void
events_deliver(struct probe *p, uint64_t now)
{
	size_t i, k;

	for (i = 0; i < p->n_evq; i++) {
		for (k = 0; k < p->n_subs; k++)
			p->subs[k].event(p->subs[k].ctx, &p->evq[i], now);
		free(p->evq[i].line);
	}
	p->n_evq = 0;
}

/* At the end, after the subscribers: what is left is dropped. */
void
events_free(struct probe *p)
{
	size_t i;

	for (i = 0; i < p->n_evq; i++)
		free(p->evq[i].line);
	p->n_evq = 0;
	free(p->evq);
	p->evq = NULL;
	p->cap_evq = 0;
}
