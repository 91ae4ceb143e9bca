/* SPDX-License-Identifier: MIT */
/*
 * The agent's event loop: one poll(2) over a signalfd, the query mailslot,
 * a netlink socket (address and link changes) and /proc/sys/kernel/hostname
 * (which signals renames), with one timer: the schedule's next deadline. So
 * the agent wakes only to send, to answer, or when something changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "mailslot/slot.h"

#define BUDGET     (BEACON_MAX_WIRE - BEACON_SIG_RESERVE)
#define NONCES     8
#define LOG_GAP_MS 60000 /* the same failure is logged once a minute */

struct agent {
	const struct agent_config *c;
	struct beacon_msg msg;
	char ifnames[AGENT_LIST_MAX][16];
	size_t n_if;
	struct mailslot_client *client; /* NULL while no interface is usable */
	struct mailslot_server *query;
	int sigfd, nlfd, hostfd;
	struct sched sched;
	char nonces[NONCES][BEACON_MAX_ID + 1];
	size_t nonce_next;
	uint64_t rng;
	uint64_t logged_ms;
	enum mailslot_err logged_err;
};

/* xorshift64*, seeded from getrandom: the schedule's jitter. */
static double
rnd(void *ctx)
{
	struct agent *a = ctx;

	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return (double)((a->rng * 2685821657736338717ull) >> 11) /
	       9007199254740992.0;
}

static void
log_err(struct agent *a, const char *what, enum mailslot_err err)
{
	uint64_t now = clock_mono_ms();
	const char *hint = mailslot_hint(err);
	int saved = errno;

	if (err == a->logged_err && now - a->logged_ms < LOG_GAP_MS)
		return;
	a->logged_err = err;
	a->logged_ms = now;
	fprintf(stderr, "beacon-agent: %s: %s%s%s\n", what,
		err == MAILSLOT_E_SYSTEM ? strerror(saved)
					 : mailslot_strerror(err),
		hint[0] ? "; " : "", hint);
}

/* (Re)open the client for the current interfaces. */
static enum mailslot_err
open_client(struct agent *a)
{
	const char *ifs[AGENT_LIST_MAX];
	struct mailslot_client_opts o;
	char from[16];
	enum mailslot_err err;
	size_t i;

	mailslot_client_close(a->client);
	a->client = NULL;
	mailslot_client_opts_init(&o);
	o.port = a->c->port;
	o.workgroup = a->c->workgroup;
	snprintf(from, sizeof(from), "%.*s", (int)strcspn(a->msg.hostname, "."),
		 a->msg.hostname);
	o.from = from;
	o.broadcast = a->c->broadcast;
	o.n_broadcast = a->c->n_broadcast;
	for (i = 0; i < a->n_if; i++)
		ifs[i] = a->ifnames[i];
	o.interfaces = ifs;
	o.n_interfaces = a->n_if;
	if (o.n_broadcast == 0 && o.n_interfaces == 0) {
		log_err(a,
			"no up IPv4 interface to broadcast on (waiting for "
			"one)",
			MAILSLOT_E_NO_INTERFACE);
		return MAILSLOT_E_NO_INTERFACE;
	}
	err = mailslot_open("\\\\*\\mailslot\\beacon", &o, &a->client);
	if (err != MAILSLOT_OK && err != MAILSLOT_E_PRIVILEGED_PORT)
		log_err(a, "cannot send to \\\\*\\mailslot\\beacon", err);
	return err;
}

static bool
gather(struct agent *a, struct beacon_msg *m)
{
	char err[160];

	if (!facts_gather(a->c, m, a->ifnames, &a->n_if, err, sizeof(err))) {
		fprintf(stderr, "beacon-agent: %s\n", err);
		return false;
	}
	return true;
}

static void
send_beacon(struct agent *a, enum beacon_state state)
{
	char out[BEACON_MAX_WIRE + 1];
	struct timespec ts;
	enum beacon_err be;
	enum mailslot_err err;
	unsigned dropped;
	size_t len;

	a->msg.seq++;
	a->msg.state = state;
	if (a->msg.has_uptime && clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		a->msg.uptime_s = (uint64_t)ts.tv_sec;
	be = beacon_encode(&a->msg, BUDGET, out, sizeof(out), &len, &dropped);
	if (be != BEACON_OK) {
		fprintf(stderr, "beacon-agent: cannot encode the beacon: %s\n",
			beacon_strerror(be));
		return;
	}
	if (a->client == NULL)
		return;
	err = mailslot_write(a->client, out, len);
	if (err != MAILSLOT_OK)
		log_err(a, "send", err);
	else if (a->c->verbose)
		fprintf(stderr,
			"beacon-agent: sent %s seq %llu, %zu bytes, to "
			"%zu destinations\n",
			state == BEACON_STATE_BYE ? "bye" : "beacon",
			(unsigned long long)a->msg.seq, len,
			mailslot_client_ndest(a->client));
}

/* Facts again; announce at once when they changed. */
static void
refresh(struct agent *a)
{
	struct beacon_msg m = a->msg;

	if (!gather(a, &m))
		return;
	if (facts_same(&m, &a->msg) && a->client != NULL)
		return;
	a->msg = m;
	(void)open_client(a); /* failures are logged; we wait for a change */
	if (a->c->verbose)
		fprintf(stderr,
			"beacon-agent: hostname or addresses changed\n");
	send_beacon(a, BEACON_STATE_UP);
	sched_sent(&a->sched, clock_mono_ms(), rnd, a);
}

static bool
nonce_seen(struct agent *a, const char *nonce)
{
	size_t i;

	for (i = 0; i < NONCES; i++)
		if (strcmp(a->nonces[i], nonce) == 0)
			return true;
	snprintf(a->nonces[a->nonce_next], sizeof(a->nonces[0]), "%s", nonce);
	a->nonce_next = (a->nonce_next + 1) % NONCES;
	return false;
}

static void
read_queries(struct agent *a)
{
	uint8_t buf[BEACON_MAX_WIRE + 1];
	struct beacon_query q;
	size_t len;

	/* The server drops messages over BEACON_MAX_WIRE (max_message), so
	   the buffer always fits the next one. */
	for (;;) {
		enum mailslot_err err =
			mailslot_read(a->query, buf, sizeof(buf), &len, NULL);
		if (err != MAILSLOT_OK)
			return;
		if (beacon_query_decode(buf, len, &q) != BEACON_OK)
			continue;
		if (q.target[0] != '\0' && strcmp(q.target, a->msg.id) != 0)
			continue;
		if (nonce_seen(a, q.nonce))
			continue; /* the same query by another path */
		sched_query(&a->sched, clock_mono_ms(), q.target[0] != '\0',
			    rnd, a);
	}
}

static int
open_netlink(void)
{
	struct sockaddr_nl sa = {0};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
drain(int fd)
{
	char buf[8192];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static int
setup(struct agent *a, const struct agent_config *c)
{
	struct mailslot_server_opts so;
	enum mailslot_err err;
	char e[200];
	uint64_t seed;

	memset(a, 0, sizeof(*a));
	a->c = c;
	a->sigfd = a->nlfd = a->hostfd = -1;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = clock_mono_ms() ^ (uint64_t)getpid();
	a->rng = seed | 1;
	a->msg.version = BEACON_FORMAT;
	a->msg.interval_ms = c->interval_ms;
	a->msg.ttl_ms = c->ttl_ms;
	memcpy(a->msg.tags, c->tags, sizeof(c->tags));
	a->msg.n_tags = c->n_tags;
	if (!facts_host_id(c, a->msg.id, sizeof(a->msg.id), e, sizeof(e))) {
		fprintf(stderr, "beacon-agent: %s\n", e);
		return 1;
	}
	facts_random_hex(a->msg.instance);
	if (!gather(a, &a->msg))
		return 1;
	if (c->print)
		return 0;
	if (open_client(a) == MAILSLOT_E_PRIVILEGED_PORT) {
		fprintf(stderr, "beacon-agent: UDP port %u is privileged: %s\n",
			c->port, mailslot_hint(MAILSLOT_E_PRIVILEGED_PORT));
		return 1;
	}
	if (c->once)
		return a->client != NULL ? 0 : 1;

	mailslot_server_opts_init(&so);
	so.port = c->port;
	so.max_message = BEACON_MAX_WIRE;
	so.read_timeout_ms = 0; /* the loop polls; reads never wait */
	err = mailslot_create("\\\\.\\mailslot\\beacon\\query", &so, &a->query);
	if (err != MAILSLOT_OK) {
		if (err == MAILSLOT_E_PRIVILEGED_PORT)
			fprintf(stderr,
				"beacon-agent: UDP port %u is privileged: %s\n",
				c->port, mailslot_hint(err));
		else
			log_err(a, "cannot listen for queries", err);
		return 1;
	}
	a->nlfd = open_netlink();
	if (a->nlfd < 0)
		fprintf(stderr,
			"beacon-agent: no netlink (%s): address "
			"changes are seen at the next beacon\n",
			strerror(errno));
	if (c->hostname == NULL)
		a->hostfd =
			open("/proc/sys/kernel/hostname", O_RDONLY | O_CLOEXEC);
	return 0;
}

static void
teardown(struct agent *a)
{
	mailslot_client_close(a->client);
	mailslot_close(a->query);
	if (a->sigfd >= 0)
		close(a->sigfd);
	if (a->nlfd >= 0)
		close(a->nlfd);
	if (a->hostfd >= 0)
		close(a->hostfd);
}

static int
print_beacon(struct agent *a)
{
	char out[BEACON_MAX_WIRE + 1];
	unsigned dropped;
	enum beacon_err be;
	size_t len;

	a->msg.seq = 1;
	be = beacon_encode(&a->msg, BUDGET, out, sizeof(out), &len, &dropped);
	if (be != BEACON_OK) {
		fprintf(stderr, "beacon-agent: cannot encode the beacon: %s\n",
			beacon_strerror(be));
		return 1;
	}
	puts(out);
	fprintf(stderr,
		"beacon-agent: %zu bytes (budget %d of %d, %d kept for a "
		"signature); %u optional items dropped to fit\n",
		len, BUDGET, BEACON_MAX_WIRE, BEACON_SIG_RESERVE, dropped);
	return 0;
}

static int
loop(struct agent *a)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->sigfd < 0) {
		fprintf(stderr, "beacon-agent: signalfd: %s\n",
			strerror(errno));
		return 1;
	}
	sched_init(&a->sched, clock_mono_ms(), a->c->interval_ms, rnd, a);
	for (;;) {
		struct pollfd p[4] = {
			{a->sigfd, POLLIN, 0},
			{mailslot_fd(a->query), POLLIN, 0},
			{a->nlfd, POLLIN, 0},
			{a->hostfd, POLLPRI, 0},
		};
		uint64_t now = clock_mono_ms(), due = sched_due(&a->sched);
		int timeout = due <= now             ? 0
			      : due - now > 86400000 ? 86400000
						     : (int)(due - now);

		if (poll(p, 4, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "beacon-agent: poll: %s\n",
				strerror(errno));
			return 1;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
				/* Two goodbyes: one may be lost. */
				send_beacon(a, BEACON_STATE_BYE);
				send_beacon(a, BEACON_STATE_BYE);
				return 0;
			}
		}
		if (p[2].revents & POLLIN) {
			drain(a->nlfd);
			refresh(a);
		}
		if (p[3].revents & (POLLPRI | POLLERR))
			refresh(a);
		if (p[1].revents & POLLIN)
			read_queries(a);
		now = clock_mono_ms();
		if (now >= sched_due(&a->sched)) {
			send_beacon(a, BEACON_STATE_UP);
			sched_sent(&a->sched, now, rnd, a);
		}
	}
}

int
agent_run(const struct agent_config *c)
{
	struct agent a;
	int rc = setup(&a, c);

	if (rc == 0) {
		if (c->print)
			rc = print_beacon(&a);
		else if (c->once) {
			send_beacon(&a, BEACON_STATE_UP);
			rc = 0;
		} else
			rc = loop(&a);
	}
	teardown(&a);
	return rc;
}
