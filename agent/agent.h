/* SPDX-License-Identifier: MIT */
/* beacon-agent: private declarations, grouped by the file that defines them. */
#ifndef BEACON_AGENT_H
#define BEACON_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beacon/beacon.h"

#define AGENT_LIST_MAX   32
#define AGENT_EXIT_USAGE 64 /* EX_USAGE, as beacon-probe and mailslot */

struct agent_config {
	uint16_t port;
	const char *broadcast[AGENT_LIST_MAX];
	size_t n_broadcast;
	const char *interfaces[AGENT_LIST_MAX];
	size_t n_interfaces;
	bool all_interfaces; /* include docker*, veth*, virbr*, ... */
	uint32_t interval_ms;
	uint32_t ttl_ms;      /* 0: 3 x interval */
	const char *id;       /* NULL: from the machine id */
	const char *hostname; /* NULL: gethostname() */
	struct beacon_tag tags[BEACON_MAX_TAGS];
	size_t n_tags;
	const char *workgroup;
	const char *keyring; /* sign with a key of this file */
	const char *key_id;  /* NULL: its first key */
	const char *gen_key; /* print a new key with this id, and exit */
	const char *user;    /* run as this user once set up */
	bool once;
	bool print;
	bool verbose;
};

/* config.c */
/*
 * Parse argv into *c. Returns 0 to go on, or the exit status to leave with
 * (0 after -h/-V, AGENT_EXIT_USAGE on a usage error, with the message on
 * stderr).
 */
int agent_config_parse(int argc, char **argv, struct agent_config *c,
		       bool *done);

/* facts.c: what the beacon says about this host. */
/* Fill the host facts of *b (hostname, addresses, OS, uptime). *truncated
   tells a system hostname cut to 63 bytes. Returns false with a message
   in err when the hostname is not usable. */
bool facts_gather(const struct agent_config *c, struct beacon_msg *b,
		  bool *truncated, char *err, size_t errlen);
/* The host id from --id or the machine id; false with a message in err. */
bool facts_host_id(const struct agent_config *c, char *out, size_t len,
		   char *err, size_t errlen);
/* A random identifier of 16 hex digits. */
void facts_random_hex(char out[17]);
/* Same addresses, hostname and interfaces? */
bool facts_same(const struct beacon_msg *a, const struct beacon_msg *b);

/* sched.c: when to send, as a pure function of time and randomness. */
struct sched {
	uint64_t next_ms; /* next scheduled beacon */
	uint32_t interval_ms;
	unsigned sent;             /* beacons sent so far */
	uint64_t reply_ms;         /* pending query reply, 0: none */
	uint64_t last_general_ms;  /* last reply to a general query */
	uint64_t last_directed_ms; /* last reply to a directed query */
};
/* rnd returns a uniform value in [0, 1). */
typedef double (*sched_rand)(void *ctx);
void sched_init(struct sched *s, uint64_t now_ms, uint32_t interval_ms,
		sched_rand rnd, void *ctx);
/* A beacon went out at now_ms (scheduled, a reply or an announcement):
   plan the next one. */
void sched_sent(struct sched *s, uint64_t now_ms, sched_rand rnd, void *ctx);
/* A query arrived; directed ones get a short delay and their own limit. */
void sched_query(struct sched *s, uint64_t now_ms, bool directed,
		 sched_rand rnd, void *ctx);
/* The earliest deadline: a beacon or a reply. */
uint64_t sched_due(const struct sched *s);

/* loop.c */
int agent_run(const struct agent_config *c);

#endif
