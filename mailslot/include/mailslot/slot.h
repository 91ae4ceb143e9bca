/* SPDX-License-Identifier: MIT */
/*
 * The mailslot API, after Win32's CreateMailslot/ReadFile/GetMailslotInfo
 * (server) and CreateFile/WriteFile (client), over the Remote Mailslot
 * Protocol on UDP.
 *
 * A server receives on 0.0.0.0:PORT with SO_REUSEADDR, so it shares port 138
 * with Samba's nmbd and with other servers on the same host (every one of
 * them gets every broadcast). One read returns exactly one whole message.
 *
 * A client sends each write as one datagram per destination: for \\* and a
 * domain, DIRECT_GROUP to <WORKGROUP or DOMAIN><00> at the directed broadcast
 * of every selected interface (never 255.255.255.255); for a host,
 * DIRECT_UNIQUE to its address; for \\. to 127.0.0.1. It sends from PORT
 * (138 by default, as Windows expects) through sockets connected to their
 * destination, so they never take datagrams meant for a server.
 *
 * Neither side is thread-safe; use one object per thread.
 */
#ifndef BEACON_MAILSLOT_SLOT_H
#define BEACON_MAILSLOT_SLOT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailslot/err.h"
#include "mailslot/wire.h"

#define MAILSLOT_WAIT_FOREVER (-1)
#define MAILSLOT_NO_MESSAGE   ((size_t)-1)
#define MAILSLOT_DEDUP_MS     3000
#define MAILSLOT_QUEUE_MAX    4096
#define MAILSLOT_WORKGROUP    "WORKGROUP"
#define MAILSLOT_SLOTS_MAX    16 /* mailslots one server takes */

/* ---- Server ---- */

struct mailslot_server_opts {
	uint16_t port;       /* 0: 138 */
	size_t max_message;  /* larger messages are dropped; 0: no limit */
	int read_timeout_ms; /* 0, milliseconds, or MAILSLOT_WAIT_FOREVER */
	bool ignore_own;     /* drop datagrams sent from one of this host's
				    addresses and from PORT (our own broadcasts
				    looped back) */
	unsigned dedup_ms;   /* duplicate window; 0: MAILSLOT_DEDUP_MS */
	size_t queue_max;    /* unread messages kept; 0: MAILSLOT_QUEUE_MAX */
	/* More mailslots the same server takes, each \\.\mailslot\NAME
	   (at most MAILSLOT_SLOTS_MAX in all), or every one (all_slots);
	   mailslot_meta.path says which a message was written to. */
	const char *const *more;
	size_t n_more;
	bool all_slots;
};

/* Where a message came from and how (all IPv4 addresses in host order). */
struct mailslot_meta {
	uint32_t src_ip; /* UDP/IP source */
	uint16_t src_port;
	uint32_t dst_ip;  /* IP destination: a broadcast or our address */
	unsigned ifindex; /* interface it came in on */
	char ifname[IF_NAMESIZE];
	uint32_t nbt_src_ip; /* SOURCE_IP as the sender wrote it */
	uint8_t msg_type;
	uint8_t flags;
	uint16_t dgm_id;
	uint16_t priority;
	struct mailslot_nbname src_name;
	struct mailslot_nbname dst_name;
	char path[MAILSLOT_PATH_MAX + 1];
	uint64_t received_ms; /* CLOCK_MONOTONIC */
	size_t len;           /* message size */
};

struct mailslot_info {
	size_t max_message; /* 0: no limit */
	size_t next_size;   /* MAILSLOT_NO_MESSAGE when the queue is empty */
	size_t count;       /* messages queued */
	int read_timeout_ms;
};

/* What the server saw, every datagram counted exactly once. */
struct mailslot_stats {
	uint64_t datagrams;    /* read from the socket */
	uint64_t messages;     /* queued for reading */
	uint64_t own;          /* ignored: our own (ignore_own) */
	uint64_t other_slot;   /* valid, for another mailslot name */
	uint64_t duplicates;   /* same source IP, datagram id and bytes within
				    the window */
	uint64_t oversize;     /* over max_message */
	uint64_t queue_full;   /* queue_max reached */
	uint64_t rcvbuf_drops; /* dropped by the kernel, the socket's receive
				  buffer full (SO_RXQ_OVFL): never read, so
				  not in datagrams */
	uint64_t invalid[MAILSLOT_E__COUNT]; /* decode errors, by reason */
};

struct mailslot_server;

/* Defaults: port 138, no size limit, wait forever, 3 s dedup window. */
void mailslot_server_opts_init(struct mailslot_server_opts *o);

/*
 * Create a server for UNC, which must be \\.\mailslot\NAME (and for the
 * options' more mailslots; UNC may be NULL with all_slots). Binding a port below 1024 without privilege
 * fails with MAILSLOT_E_PRIVILEGED_PORT; over MAILSLOT_SLOTS_MAX mailslots,
 * MAILSLOT_E_TOO_BIG. The caller owns *out and frees it with
 * mailslot_close().
 */
enum mailslot_err mailslot_create(const char *unc,
				  const struct mailslot_server_opts *o,
				  struct mailslot_server **out)
	__attribute__((warn_unused_result));

/*
 * Take the next whole message into buf (cap bytes), waiting up to the read
 * timeout. *len gets its size. If cap is too small: MAILSLOT_E_BUFFER_SMALL,
 * *len gets the size needed and the message stays queued. No message in
 * time: MAILSLOT_E_TIMEOUT. A signal during the wait: MAILSLOT_E_SYSTEM
 * with errno EINTR. meta may be NULL.
 */
enum mailslot_err mailslot_read(struct mailslot_server *s, void *buf,
				size_t cap, size_t *len,
				struct mailslot_meta *meta);

/* GetMailslotInfo: takes what is waiting on the socket into the queue first. */
enum mailslot_err mailslot_info(struct mailslot_server *s,
				struct mailslot_info *info);

/* SetMailslotInfo: only the read timeout can change. */
void mailslot_set_timeout(struct mailslot_server *s, int read_timeout_ms);

/*
 * The socket, to poll for POLLIN. Messages may already be queued when it is
 * not readable: read with timeout 0 until MAILSLOT_E_TIMEOUT before polling.
 */
int mailslot_fd(const struct mailslot_server *s);

const struct mailslot_stats *mailslot_stats(const struct mailslot_server *s);

/* The port the server is bound to. */
uint16_t mailslot_port(const struct mailslot_server *s);

void mailslot_close(struct mailslot_server *s);

/* ---- Client ---- */

enum mailslot_named {
	MAILSLOT_NAMED_AUTO, /* IPv4 literal, dotted name, or a name that
				  resolves: host; otherwise a domain */
	MAILSLOT_NAMED_HOST,
	MAILSLOT_NAMED_DOMAIN,
};

struct mailslot_client_opts {
	uint16_t port;         /* 0: 138; destination and source */
	const char *workgroup; /* for \\*; NULL: "WORKGROUP" */
	const char *from;      /* source name; NULL: this host's name */
	enum mailslot_style style;
	uint16_t priority;
	enum mailslot_named named;
	/* Destinations for \\* and domains: the broadcast addresses if any are
	   given, else the directed broadcast of each named interface (lo too,
	   as 127.255.255.255), else of every up, non-loopback IPv4 interface
	   that has one. */
	const char *const *broadcast;
	size_t n_broadcast;
	const char *const *interfaces;
	size_t n_interfaces;
	bool all_interfaces; /* container/VM interfaces too (mailslot/iface.h) */
};

struct mailslot_client;

void mailslot_client_opts_init(struct mailslot_client_opts *o);

/*
 * Open UNC for writing. Errors: the UNC ones, MAILSLOT_E_NAME_INVALID (from
 * or workgroup not a NetBIOS name), MAILSLOT_E_RESOLVE,
 * MAILSLOT_E_NO_INTERFACE, MAILSLOT_E_BROADCAST_ADDR,
 * MAILSLOT_E_PRIVILEGED_PORT, MAILSLOT_E_SYSTEM. The caller owns *out and
 * frees it with mailslot_client_close().
 */
enum mailslot_err mailslot_open(const char *unc,
				const struct mailslot_client_opts *o,
				struct mailslot_client **out)
	__attribute__((warn_unused_result));

/*
 * Send one message. Over mailslot_client_max(): MAILSLOT_E_TOO_BIG and
 * nothing is sent. A send that fails on one destination is still tried on
 * the others; the first failure is returned.
 */
enum mailslot_err mailslot_write(struct mailslot_client *c, const void *buf,
				 size_t len);

/*
 * A client for one mailslot on any host of the LAN, named with each write:
 * unc is \\*\mailslot\NAME; writes go DIRECT_UNIQUE to "*<00>" through
 * one socket on an ephemeral port, opened here once (it never takes a
 * server's datagrams). Errors as mailslot_open().
 */
enum mailslot_err mailslot_open_direct(const char *unc,
				       const struct mailslot_client_opts *o,
				       struct mailslot_client **out)
	__attribute__((warn_unused_result));

/*
 * Send one message to addr (IPv4, host order), only if addr lies on a
 * subnet of one of ifname's addresses: a direct write never leaves the link
 * it is meant for (MAILSLOT_E_NOT_ON_LINK otherwise). Only for clients from
 * mailslot_open_direct().
 */
enum mailslot_err mailslot_write_to(struct mailslot_client *c, uint32_t addr,
				    const char *ifname, const void *buf,
				    size_t len);

/* Largest message: the Windows limit for \\* and domains (424 for "beacon"),
   else what one UDP datagram holds. */
size_t mailslot_client_max(const struct mailslot_client *c);

/* Would a client opened now with o (for \\* or a domain) broadcast to
   other addresses than c does? True when c is NULL, or when interfaces came
   or went: the caller reopens it. */
bool mailslot_client_moved(const struct mailslot_client *c,
			   const struct mailslot_client_opts *o);

/* Destinations, for messages: count, and each as IPv4 (host order). */
size_t mailslot_client_ndest(const struct mailslot_client *c);
uint32_t mailslot_client_dest(const struct mailslot_client *c, size_t i);

void mailslot_client_close(struct mailslot_client *c);

#endif
