/* SPDX-License-Identifier: MIT */
/*
 * The agent's event loop: one poll(2) over a signalfd, the query mailslot,
 * a netlink socket (address and link changes) and /proc/sys/kernel/hostname
 * (which signals renames), with one timer: the schedule's next deadline. So
 * the agent wakes only to send, to answer, or when something changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "beacon/auth.h"
#include "clock.h"
#include "log.h"
#include "privdrop.h"
#include "mailslot/iface.h"
#include "mailslot/slot.h"

#define NONCES            8
#define CHANGE_MS         250 /* at most one change announcement per CHANGE_MS */
#define HOST_QUIET_MIN_MS 1000
#define HOST_QUIET_MAX_MS 60000

struct agent {
	const struct agent_config *c;
	struct beacon_msg msg;
	struct mailslot_client *client; /* NULL while no interface is usable */
	uint64_t change_ms;             /* a change to look at then; 0: none */
	uint64_t announced_ms;          /* the last change announcement */
	bool said_truncated;
	bool waiting; /* for an interface: said once */
	struct mailslot_server *query;
	int sigfd, nlfd, hostfd;
	/* The hostname file signals a rename in any UTS namespace of the
	   machine: after one that was not ours, it is left alone for a
	   while (doubling to HOST_QUIET_MAX_MS), and the hostname is looked
	   at before each beacon instead. */
	uint64_t host_quiet_until, host_quiet_ms;
	struct sched sched;
	char nonces[NONCES][BEACON_MAX_ID + 1];
	size_t nonce_next;
	bool signing;
	struct beacon_key key;
	char reply_nonce[BEACON_MAX_ID + 1]; /* the query the next beacon
						answers, signed with it */
	uint64_t rng;
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
log_err(const char *what, enum mailslot_err err)
{
	const char *hint = mailslot_hint(err);

	if (err == MAILSLOT_E_SYSTEM)
		log_warn("%s", what);
	else
		log_warnx("%s: %s%s%s", what, mailslot_strerror(err),
			  hint[0] ? "; " : "", hint);
}

/* Where broadcasts go and why not elsewhere: at start, and for --print. */
static void
log_interfaces(const struct agent_config *c)
{
	struct mailslot_if_filter f = {c->interfaces, c->n_interfaces,
				       c->all_interfaces};
	struct mailslot_if ifs[MAILSLOT_IF_MAX];
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t n, i;

	if (c->n_broadcast > 0) {
		for (i = 0; i < c->n_broadcast; i++)
			log_info("broadcast to %s (--broadcast)",
				 c->broadcast[i]);
		return;
	}
	if (mailslot_interfaces(&f, ifs, MAILSLOT_IF_MAX, &n) != MAILSLOT_OK)
		return;
	for (i = 0; i < n; i++) {
		struct in_addr x = {htonl(ifs[i].addr)},
			       y = {htonl(ifs[i].bcast)};
		inet_ntop(AF_INET, &x, a, sizeof(a));
		inet_ntop(AF_INET, &y, b, sizeof(b));
		if (ifs[i].use == MAILSLOT_IF_USED)
			log_info("%s %s: broadcast to %s", ifs[i].name, a, b);
		else
			log_info("%s %s: skipped, %s", ifs[i].name, a,
				 mailslot_if_use_text(ifs[i].use));
	}
}

/* (Re)open the client for the interfaces there are now. The daemon never
   gives up for want of one: it waits for rtnetlink to announce one. */
/* The client's options; from (16 bytes) holds the source name. */
static void
client_opts(const struct agent *a, struct mailslot_client_opts *o, char *from)
{
	mailslot_client_opts_init(o);
	o->port = a->c->port;
	o->workgroup = a->c->workgroup;
	snprintf(from, 16, "%.*s", (int)strcspn(a->msg.hostname, "."),
		 a->msg.hostname);
	o->from = from;
	o->broadcast = a->c->broadcast;
	o->n_broadcast = a->c->n_broadcast;
	o->interfaces = a->c->interfaces;
	o->n_interfaces = a->c->n_interfaces;
	o->all_interfaces = a->c->all_interfaces;
}

static enum mailslot_err
open_client(struct agent *a)
{
	struct mailslot_client_opts o;
	char from[16];
	enum mailslot_err err;

	mailslot_client_close(a->client);
	a->client = NULL;
	client_opts(a, &o, from);
	err = mailslot_open("\\\\*\\mailslot\\beacon", &o, &a->client);
	if (err == MAILSLOT_E_NO_INTERFACE && !a->waiting)
		log_warnx("no IPv4 interface to broadcast on yet (%s); "
			  "waiting for one",
			  a->c->n_interfaces ? "the one named by --interface "
					       "has no broadcast address"
					     : "none up with a broadcast "
					       "address");
	else if (err != MAILSLOT_OK && err != MAILSLOT_E_PRIVILEGED_PORT)
		log_err("cannot send to \\\\*\\mailslot\\beacon", err);
	if (err == MAILSLOT_OK && a->waiting)
		log_info("an interface is usable again: sending");
	a->waiting = err == MAILSLOT_E_NO_INTERFACE;
	return err;
}

/* Would a client opened now broadcast to other addresses? */
static bool
dests_changed(const struct agent *a)
{
	struct mailslot_client_opts o;
	char from[16];

	client_opts(a, &o, from);
	return mailslot_client_moved(a->client, &o);
}

static bool
gather(struct agent *a, struct beacon_msg *m)
{
	char err[400];
	bool truncated;

	if (!facts_gather(a->c, m, &truncated, err, sizeof(err))) {
		log_warnx("%s", err);
		return false;
	}
	if (truncated && !a->said_truncated)
		log_warnx("the hostname is over 63 bytes: announcing its "
			  "first 63, %s (give --hostname to choose)",
			  m->hostname);
	a->said_truncated = truncated;
	return true;
}

/* The beacon's room: all of it but what the signature takes (unsigned:
   BEACON_SIG_RESERVE kept spare, so signing later changes nothing). */
static size_t
budget(const struct agent *a)
{
	return BEACON_MAX_WIRE -
	       (a->signing ? beacon_sig_size(&a->key, a->reply_nonce)
			   : BEACON_SIG_RESERVE);
}

/* The beacon as it goes out: encoded, and signed with the send time
   (the wall clock) and the nonce of the query it answers. */
static enum beacon_err
encode(struct agent *a, char *out, size_t cap, size_t *len, unsigned *dropped)
{
	struct timespec ts;
	enum beacon_err be =
		beacon_encode(&a->msg, budget(a), out, cap, len, dropped);

	if (be != BEACON_OK || !a->signing)
		return be;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (beacon_sign(out, len, cap, &a->key,
			(uint64_t)ts.tv_sec * 1000 +
				(uint64_t)ts.tv_nsec / 1000000,
			a->reply_nonce) < 0)
		return BEACON_E_NOSPACE;
	return BEACON_OK;
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
	be = encode(a, out, sizeof(out), &len, &dropped);
	a->reply_nonce[0] = '\0'; /* answered (or not at all) */
	if (be != BEACON_OK) {
		log_warnx("cannot encode the beacon: %s", beacon_strerror(be));
		return;
	}
	if (a->client == NULL)
		return;
	err = mailslot_write(a->client, out, len);
	if (err != MAILSLOT_OK)
		log_err("send", err);
	else
		log_debug("sent %s seq %llu, %zu bytes, to %zu destinations",
			  state == BEACON_STATE_BYE ? "bye" : "beacon",
			  (unsigned long long)a->msg.seq, len,
			  mailslot_client_ndest(a->client));
}

/* Something changed (rtnetlink, the hostname): look at it within
   CHANGE_MS of the last announcement, so a burst of changes makes one
   beacon with the last state. */
static void
changed(struct agent *a, uint64_t now)
{
	uint64_t at = a->announced_ms + CHANGE_MS;

	if (a->change_ms == 0)
		a->change_ms = at > now ? at : now;
}

/* Facts and interfaces again; announce when they changed. */
static void
refresh(struct agent *a, uint64_t now)
{
	struct beacon_msg m = a->msg;
	bool same, reopen;

	a->change_ms = 0;
	if (!gather(a, &m))
		return;
	same = facts_same(&m, &a->msg);
	reopen = dests_changed(a) || strcmp(m.hostname, a->msg.hostname) != 0;
	if (same && !reopen)
		return;
	a->msg = m;
	if (reopen) {
		(void)open_client(a); /* failures are logged */
		if (a->client != NULL)
			log_interfaces(a->c);
	}
	log_debug("hostname, addresses or interfaces changed");
	send_beacon(a, BEACON_STATE_UP);
	a->announced_ms = now;
	sched_sent(&a->sched, now, rnd, a);
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
		memcpy(a->reply_nonce, q.nonce, sizeof(a->reply_nonce));
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

/* The signing key: the keyring's first, or --key-id's. */
static int
load_key(struct agent *a)
{
	struct beacon_keyring kr;
	const struct beacon_key *k;
	enum beacon_keyring_err e;
	size_t line;

	if (beacon_auth_init() < 0) {
		log_warnx("libsodium cannot start (no entropy source?)");
		return -1;
	}
	e = beacon_keyring_load(a->c->keyring, &kr, &line);
	if (e != BEACON_KR_OK) {
		if (e == BEACON_KR_OPEN)
			log_warn("keyring %s", a->c->keyring);
		else if (line > 0)
			log_warnx("keyring %s, line %zu: %s", a->c->keyring,
				  line, beacon_keyring_strerror(e));
		else
			log_warnx("keyring %s: %s", a->c->keyring,
				  beacon_keyring_strerror(e));
		return -1;
	}
	k = a->c->key_id ? beacon_keyring_find(&kr, a->c->key_id) : &kr.keys[0];
	if (k == NULL) {
		log_warnx("keyring %s has no key %s", a->c->keyring,
			  a->c->key_id);
		sodium_memzero(&kr, sizeof(kr));
		return -1;
	}
	a->key = *k;
	a->signing = true;
	sodium_memzero(&kr, sizeof(kr));
	return 0;
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
	log_init("beacon-agent", c->verbose);
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = clock_mono_ms() ^ (uint64_t)getpid();
	a->rng = seed | 1;
	a->msg.version = BEACON_FORMAT;
	a->msg.interval_ms = c->interval_ms;
	a->msg.ttl_ms = c->ttl_ms;
	memcpy(a->msg.tags, c->tags, sizeof(c->tags));
	a->msg.n_tags = c->n_tags;
	if (!facts_host_id(c, a->msg.id, sizeof(a->msg.id), e, sizeof(e))) {
		log_warnx("%s", e);
		return -1;
	}
	facts_random_hex(a->msg.instance);
	if (!gather(a, &a->msg))
		return -1;
	if (c->keyring != NULL && load_key(a) < 0)
		return -1;
	if (c->print) {
		log_interfaces(c);
		return 0;
	}
	if (open_client(a) == MAILSLOT_E_PRIVILEGED_PORT) {
		log_warnx("UDP port %u is privileged: %s", c->port,
			  mailslot_hint(MAILSLOT_E_PRIVILEGED_PORT));
		return -1;
	}
	log_interfaces(c);
	if (c->once) /* nothing usable at all: an error */
		return a->client != NULL ? privdrop_logged(c->user, true) : -1;

	mailslot_server_opts_init(&so);
	so.port = c->port;
	so.max_message = BEACON_MAX_WIRE;
	so.read_timeout_ms = 0; /* the loop polls; reads never wait */
	err = mailslot_create("\\\\.\\mailslot\\beacon\\query", &so, &a->query);
	if (err != MAILSLOT_OK) {
		if (err == MAILSLOT_E_PRIVILEGED_PORT)
			log_warnx("UDP port %u is privileged: %s", c->port,
				  mailslot_hint(err));
		else
			log_err("cannot listen for queries", err);
		return -1;
	}
	a->nlfd = open_netlink();
	if (a->nlfd < 0)
		log_warn("no netlink: address changes are seen at the next "
			 "beacon");
	if (c->hostname == NULL)
		a->hostfd =
			open("/proc/sys/kernel/hostname", O_RDONLY | O_CLOEXEC);
	return privdrop_logged(c->user, true);
}

static void
teardown(struct agent *a)
{
	sodium_memzero(&a->key, sizeof(a->key));
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
	be = encode(a, out, sizeof(out), &len, &dropped);
	if (be != BEACON_OK) {
		log_warnx("cannot encode the beacon: %s", beacon_strerror(be));
		return -1;
	}
	puts(out);
	if (a->signing)
		log_info("%zu bytes, signed with key %s (budget %zu of %d, %zu "
			 "for the signature); %u optional items dropped to fit",
			 len, a->key.id, budget(a), BEACON_MAX_WIRE,
			 BEACON_MAX_WIRE - budget(a), dropped);
	else
		log_info("%zu bytes (budget %zu of %d, %d kept for a "
			 "signature); %u optional items dropped to fit",
			 len, budget(a), BEACON_MAX_WIRE, BEACON_SIG_RESERVE,
			 dropped);
	return 0;
}

static bool
hostname_moved(const struct agent *a)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0)
		return false;
	host[sizeof(host) - 1] = '\0';
	return strncmp(host, a->msg.hostname, BEACON_MAX_HOSTNAME) != 0;
}

static bool
now_quiet(const struct agent *a)
{
	return clock_mono_ms() < a->host_quiet_until;
}

/* The hostname file says some UTS namespace was renamed: ours, or another
   (the signal is the machine's). */
static void
hostname_signal(struct agent *a, uint64_t now)
{
	if (hostname_moved(a)) {
		a->host_quiet_ms = 0;
		changed(a, now);
		return;
	}
	a->host_quiet_ms = a->host_quiet_ms == 0 ? HOST_QUIET_MIN_MS
			   : 2 * a->host_quiet_ms > HOST_QUIET_MAX_MS
				   ? HOST_QUIET_MAX_MS
				   : 2 * a->host_quiet_ms;
	a->host_quiet_until = now + a->host_quiet_ms;
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
		log_warn("signalfd");
		return -1;
	}
	sched_init(&a->sched, clock_mono_ms(), a->c->interval_ms, rnd, a);
	for (;;) {
		struct pollfd p[4] = {
			{a->sigfd, POLLIN, 0},
			{mailslot_fd(a->query), POLLIN, 0},
			{a->nlfd, POLLIN, 0},
			{a->hostfd < 0 || now_quiet(a) ? -1 : a->hostfd,
			 POLLPRI, 0},
		};
		uint64_t now = clock_mono_ms(), due = sched_due(&a->sched);

		if (a->change_ms != 0 && a->change_ms < due)
			due = a->change_ms;
		/* Back to the hostname signal when the quiet ends: a rename
		   of ours meanwhile is announced then. */
		if (a->hostfd >= 0 && now_quiet(a) && a->host_quiet_until < due)
			due = a->host_quiet_until;
		int timeout = due <= now             ? 0
			      : due - now > 86400000 ? 86400000
						     : (int)(due - now);

		if (poll(p, 4, timeout) < 0 && errno != EINTR) {
			log_warn("poll");
			return -1;
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
		now = clock_mono_ms();
		if (p[2].revents & POLLIN) {
			drain(a->nlfd);
			changed(a, now);
		}
		if (p[3].revents & (POLLPRI | POLLERR))
			hostname_signal(a, now);
		if (a->change_ms != 0 && now >= a->change_ms)
			refresh(a, now);
		if (p[1].revents & POLLIN)
			read_queries(a);
		if (now >= sched_due(&a->sched)) {
			if (a->hostfd >= 0 && now_quiet(a) && hostname_moved(a))
				refresh(a,
					now); /* announces, and reschedules */
			send_beacon(a, BEACON_STATE_UP);
			sched_sent(&a->sched, now, rnd, a);
		}
	}
}

/* Helpers return 0 or -1 (having logged why); only this maps them to the
   exit status. */
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
	return rc < 0 ? 1 : 0;
}
