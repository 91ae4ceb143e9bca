/* SPDX-License-Identifier: MIT */
/*
 * The agent's schedule, pure: time and randomness come in as arguments.
 *
 * First beacon after a random 0-500 ms (less for short intervals), so hosts
 * that boot together do not all speak at once; then a fast start, the 2nd
 * one interval (at most 1 s) later and the 3rd 2 s (at most one interval)
 * after that; then every interval, jittered by +-10% so agents started in
 * phase drift apart. Replies: a general query is answered after a random
 * 0-500 ms and at most once a second (many agents answer one query); a
 * directed one, which only its target answers, after 0-20 ms and at most
 * every 50 ms.
 */
#include "agent.h"

#define FIRST_DELAY_MS    500
#define GENERAL_DELAY_MS  500
#define GENERAL_GAP_MS    1000
#define DIRECTED_DELAY_MS 20
#define DIRECTED_GAP_MS   50 /* the probe asks at most every 100 ms */

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void
sched_init(struct sched *s, uint64_t now_ms, uint32_t interval_ms,
	   sched_rand rnd, void *ctx)
{
	uint64_t first = min_u64(FIRST_DELAY_MS, interval_ms / 2);

	s->interval_ms = interval_ms;
	s->sent = 0;
	s->next_ms = now_ms + (uint64_t)(rnd(ctx) * (double)first);
	s->reply_ms = 0;
	s->last_general_ms = 0;
	s->last_directed_ms = 0;
}

void
sched_sent(struct sched *s, uint64_t now_ms, sched_rand rnd, void *ctx)
{
	uint64_t gap;

	s->sent++;
	if (s->reply_ms != 0 && s->reply_ms <= now_ms)
		s->reply_ms = 0;
	if (s->sent == 1)
		gap = min_u64(1000, s->interval_ms);
	else if (s->sent == 2)
		gap = min_u64(2000, s->interval_ms);
	else
		gap = (uint64_t)((double)s->interval_ms *
				 (0.9 + 0.2 * rnd(ctx)));
	s->next_ms = now_ms + gap;
}

void
sched_query(struct sched *s, uint64_t now_ms, bool directed, sched_rand rnd,
	    void *ctx)
{
	uint64_t *last = directed ? &s->last_directed_ms : &s->last_general_ms;
	uint64_t gap = directed ? DIRECTED_GAP_MS : GENERAL_GAP_MS;
	uint64_t delay = directed ? DIRECTED_DELAY_MS : GENERAL_DELAY_MS;
	uint64_t at;

	if (*last != 0 && now_ms - *last < gap)
		return; /* answered one of these just now */
	at = now_ms + (uint64_t)(rnd(ctx) * (double)delay);
	if (s->reply_ms == 0 || at < s->reply_ms)
		s->reply_ms = at;
	*last = now_ms;
}

uint64_t
sched_due(const struct sched *s)
{
	if (s->reply_ms != 0 && s->reply_ms < s->next_ms)
		return s->reply_ms;
	return s->next_ms;
}
