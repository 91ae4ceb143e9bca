/* SPDX-License-Identifier: MIT */
/*
 * The server side: one UDP socket on 0.0.0.0:PORT, a FIFO of whole messages,
 * and the Win32 read/info/timeout semantics on top of it.
 *
 * Every datagram taken from the socket goes through the same pipeline and is
 * counted exactly once: own -> decode -> mailslot name -> duplicate -> size ->
 * message. Datagrams come in recvmmsg batches, and a message goes straight
 * from the batch to the reader's buffer; only one that must wait (a buffer
 * too small, or mailslot_info counting what is there) is copied into the
 * queue, so it survives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dedup.h"
#include "iface.h"
#include "mailslot/slot.h"
#include "mailslot/unc.h"
#include "sock.h"

#define RCVBUF_BYTES   (4 << 20)
#define OWN_ADDRS_MAX  64
#define OWN_REFRESH_MS 5000
#define DRAIN_MAX      1024 /* datagrams per drain, so one call cannot spin */
#define BATCH          32   /* datagrams per recvmmsg */
#define SLOT_BYTES     (MAILSLOT_DGRAM_MAX + 1) /* one more: a cut one shows */

/* One datagram of the last recvmmsg, with what the kernel said of it. */
struct rx {
	uint32_t len;
	int flags; /* MSG_TRUNC */
	struct sockaddr_in from;
	/* IP_PKTINFO and SO_RXQ_OVFL: CMSG_SPACE(12) + CMSG_SPACE(4) = 56
	   bytes on Linux (a field's size must be a constant here). */
	union {
		size_t align; /* a cmsghdr's (it ends in a flexible array) */
		char buf[64];
	} ctl;
	size_t ctl_len;
};

struct entry {
	struct entry *next;
	struct mailslot_meta meta;
	uint8_t data[];
};

struct mailslot_server {
	int fd;
	uint16_t port;
	char paths[MAILSLOT_SLOTS_MAX][MAILSLOT_PATH_MAX + 1];
	size_t n_paths;
	bool all_slots;
	size_t max_message;
	int timeout_ms;
	bool ignore_own;
	size_t queue_max;

	struct entry *head, *tail;
	size_t count;

	uint32_t own[OWN_ADDRS_MAX];
	size_t n_own;
	uint64_t own_at_ms;

	struct dedup dedup;
	struct mailslot_stats stats;
	/* The last recvmmsg: datagrams [next, got) are still to be looked
	   at. The slots are allocated at the first read; pages the kernel
	   never writes to stay out of memory. */
	uint8_t *slots;
	struct rx rx[BATCH];
	unsigned next, got;
	/* The last recvmmsg emptied the socket (fewer than BATCH): once its
	   datagrams are taken, say so without asking the socket again. That
	   second recvmmsg all but always found nothing; the caller polls. */
	bool emptied;
	struct {
		unsigned index;
		char name[IF_NAMESIZE];
	} ifcache[OWN_ADDRS_MAX]; /* if_indextoname is a system call */
	uint64_t ifcache_at_ms;
};

void
mailslot_server_opts_init(struct mailslot_server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = MAILSLOT_PORT;
	o->read_timeout_ms = MAILSLOT_WAIT_FOREVER;
}

enum mailslot_err
mailslot_create(const char *unc, const struct mailslot_server_opts *o,
		struct mailslot_server **out)
{
	struct mailslot_server *s;
	struct mailslot_unc u;
	enum mailslot_err err;
	int one = 1, rcvbuf = RCVBUF_BYTES;

	size_t i;

	*out = NULL;
	if (o->n_more + 1 > MAILSLOT_SLOTS_MAX)
		return MAILSLOT_E_TOO_BIG;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return MAILSLOT_E_NOMEM;
	for (i = 0; i <= o->n_more; i++) {
		if (i == 0 && unc == NULL && o->all_slots)
			continue; /* every mailslot: no first name needed */
		err = mailslot_unc_parse(i == 0 ? unc : o->more[i - 1], &u);
		if (err == MAILSLOT_OK && u.target != MAILSLOT_TARGET_LOCAL)
			err = MAILSLOT_E_UNC_NOT_LOCAL;
		if (err != MAILSLOT_OK) {
			free(s);
			return err;
		}
		snprintf(s->paths[i], sizeof(s->paths[i]), "%s", u.path);
	}
	s->n_paths = o->n_more + 1;
	s->all_slots = o->all_slots;
	s->fd = -1;
	s->port = o->port ? o->port : MAILSLOT_PORT;
	s->max_message = o->max_message;
	s->timeout_ms = o->read_timeout_ms;
	s->ignore_own = o->ignore_own;
	s->queue_max = o->queue_max ? o->queue_max : MAILSLOT_QUEUE_MAX;
	dedup_init(&s->dedup, o->dedup_ms ? o->dedup_ms : MAILSLOT_DEDUP_MS);

	err = sock_bind_udp(0, s->port, &s->fd);
	if (err != MAILSLOT_OK)
		goto fail;
	/* A best effort: past rmem_max only root (SO_RCVBUFFORCE) gets it. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	if (setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) {
		err = MAILSLOT_E_SYSTEM;
		goto fail;
	}
	/* The kernel's count of datagrams dropped on this socket (a full
	   receive buffer) comes with every datagram. */
	(void)setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	*out = s;
	return MAILSLOT_OK;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return err;
}

static bool
is_own(struct mailslot_server *s, uint32_t ip, uint16_t port, uint64_t now)
{
	size_t i;

	if (port != s->port)
		return false;
	if (s->own_at_ms == 0 || now - s->own_at_ms >= OWN_REFRESH_MS) {
		s->n_own = iface_local_addrs(s->own, OWN_ADDRS_MAX);
		s->own_at_ms = now ? now : 1;
	}
	for (i = 0; i < s->n_own; i++)
		if (s->own[i] == ip)
			return true;
	return false;
}

static void
enqueue(struct mailslot_server *s, const struct mailslot_meta *m,
	const uint8_t *data)
{
	struct entry *e;

	if (s->count >= s->queue_max ||
	    (e = malloc(sizeof(*e) + m->len)) == NULL) {
		/* Counted as a message by ingest(); it is not one after all. */
		s->stats.messages--;
		s->stats.queue_full++;
		return;
	}
	e->next = NULL;
	e->meta = *m;
	memcpy(e->data, data, m->len);
	if (s->tail != NULL)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	s->count++;
}

/* The name of interface index, cached (refreshed every OWN_REFRESH_MS, so
   a renamed or new interface is seen). */
static void
ifname(struct mailslot_server *s, unsigned index, char *out, uint64_t now)
{
	size_t i;

	if (now - s->ifcache_at_ms >= OWN_REFRESH_MS) {
		memset(s->ifcache, 0, sizeof(s->ifcache));
		s->ifcache_at_ms = now;
	}
	for (i = 0; i < OWN_ADDRS_MAX && s->ifcache[i].index != 0; i++)
		if (s->ifcache[i].index == index) {
			memcpy(out, s->ifcache[i].name, IF_NAMESIZE);
			return;
		}
	if (if_indextoname(index, out) == NULL)
		out[0] = '\0';
	if (i < OWN_ADDRS_MAX) {
		s->ifcache[i].index = index;
		memcpy(s->ifcache[i].name, out, IF_NAMESIZE);
	}
}

static bool
takes(const struct mailslot_server *s, const char *path)
{
	size_t i;

	if (s->all_slots)
		return true;
	for (i = 0; i < s->n_paths; i++)
		if (mailslot_path_equal(path, s->paths[i]))
			return true;
	return false;
}

/* One datagram through the pipeline: false when it is not a message for
   this mailslot (counted by reason); else *m, and *data pointing into the
   datagram. */
static bool
ingest(struct mailslot_server *s, const uint8_t *buf, size_t len,
       const struct sockaddr_in *from, const struct in_pktinfo *pi,
       uint64_t now, struct mailslot_meta *m, const uint8_t **data)
{
	struct mailslot_dgram d;
	enum mailslot_err err;

	memset(m, 0, sizeof(*m));
	m->src_ip = ntohl(from->sin_addr.s_addr);
	m->src_port = ntohs(from->sin_port);
	if (s->ignore_own && is_own(s, m->src_ip, m->src_port, now)) {
		s->stats.own++;
		return false;
	}
	err = mailslot_dgram_decode(buf, len, &d);
	if (err != MAILSLOT_OK) {
		s->stats.invalid[err]++;
		return false;
	}
	if (!takes(s, d.path)) {
		s->stats.other_slot++;
		return false;
	}
	if (dedup_check(&s->dedup, m->src_ip, d.dgm_id,
			dedup_hash(d.data, d.data_len), now)) {
		s->stats.duplicates++;
		return false;
	}
	if (s->max_message != 0 && d.data_len > s->max_message) {
		s->stats.oversize++;
		return false;
	}
	if (pi != NULL) {
		m->dst_ip = ntohl(pi->ipi_addr.s_addr);
		m->ifindex = (unsigned)pi->ipi_ifindex;
		ifname(s, m->ifindex, m->ifname, now);
	}
	m->nbt_src_ip = d.src_ip;
	m->msg_type = d.msg_type;
	m->flags = d.flags;
	m->dgm_id = d.dgm_id;
	m->priority = d.priority;
	m->src_name = d.src_name;
	m->dst_name = d.dst_name;
	memcpy(m->path, d.path, sizeof(m->path));
	m->received_ms = now - CLOCK_MONO_BASE_MS; /* CLOCK_MONOTONIC */
	m->len = d.data_len;
	s->stats.messages++;
	*data = d.data;
	return true;
}

/* Fill the batch from the socket: MAILSLOT_OK with s->got > 0,
   MAILSLOT_E_TIMEOUT when the socket is empty, or an error. */
static enum mailslot_err
fill(struct mailslot_server *s)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int i, n;

	if (s->slots == NULL) {
		s->slots = malloc((size_t)BATCH * SLOT_BYTES);
		if (s->slots == NULL)
			return MAILSLOT_E_NOMEM;
	}
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = s->slots + (size_t)i * SLOT_BYTES;
		iov[i].iov_len = SLOT_BYTES;
		mm[i].msg_hdr.msg_name = &s->rx[i].from;
		mm[i].msg_hdr.msg_namelen = sizeof(s->rx[i].from);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = s->rx[i].ctl.buf;
		mm[i].msg_hdr.msg_controllen = sizeof(s->rx[i].ctl.buf);
	}
	do
		n = recvmmsg(s->fd, mm, BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK
			       ? MAILSLOT_E_TIMEOUT
			       : MAILSLOT_E_SYSTEM;
	for (i = 0; i < n; i++) {
		s->rx[i].len = mm[i].msg_len;
		s->rx[i].flags = mm[i].msg_hdr.msg_flags;
		s->rx[i].ctl_len = mm[i].msg_hdr.msg_controllen;
	}
	s->next = 0;
	s->got = (unsigned)n;
	s->emptied = n < BATCH;
	return MAILSLOT_OK;
}

/* The next message of the batch (refilled from the socket when empty):
   MAILSLOT_OK with *m and *data (valid until the next call), or
   MAILSLOT_E_TIMEOUT when the socket has nothing more. */
static enum mailslot_err
next_message(struct mailslot_server *s, struct mailslot_meta *m,
	     const uint8_t **data)
{
	enum mailslot_err err;

	for (;;) {
		struct rx *r;
		struct msghdr mh = {0};
		struct in_pktinfo *pi = NULL;
		struct cmsghdr *c;
		const uint8_t *buf;

		if (s->next == s->got) {
			if (s->emptied) {
				s->emptied = false;
				return MAILSLOT_E_TIMEOUT;
			}
			err = fill(s);
			if (err != MAILSLOT_OK)
				return err;
		}
		r = &s->rx[s->next];
		buf = s->slots + (size_t)s->next * SLOT_BYTES;
		s->next++;
		s->stats.datagrams++;
		mh.msg_control = r->ctl.buf;
		mh.msg_controllen = r->ctl_len;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL;
		     c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_PKTINFO)
				pi = (struct in_pktinfo *)(void *)CMSG_DATA(c);
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t drops;
				memcpy(&drops, CMSG_DATA(c), sizeof(drops));
				s->stats.rcvbuf_drops = drops;
			}
		}
		if ((r->flags & MSG_TRUNC) || r->len > MAILSLOT_DGRAM_MAX) {
			s->stats.invalid[MAILSLOT_E_TOO_BIG]++;
			continue;
		}
		if (ingest(s, buf, r->len, &r->from, pi, clock_mono_ms(), m,
			   data))
			return MAILSLOT_OK;
	}
}

/* Move what the socket holds into the queue, without blocking (for
   mailslot_info, which must count what is waiting). */
static enum mailslot_err
drain(struct mailslot_server *s)
{
	struct mailslot_meta m;
	const uint8_t *data;
	enum mailslot_err err;
	int i;

	for (i = 0; i < DRAIN_MAX && s->count < s->queue_max; i++) {
		err = next_message(s, &m, &data);
		if (err == MAILSLOT_E_TIMEOUT)
			return MAILSLOT_OK;
		if (err != MAILSLOT_OK)
			return err;
		enqueue(s, &m, data);
	}
	return MAILSLOT_OK;
}

enum mailslot_err
mailslot_read(struct mailslot_server *s, void *buf, size_t cap, size_t *len,
	      struct mailslot_meta *meta)
{
	uint64_t deadline = 0;
	enum mailslot_err err;
	struct mailslot_meta m;
	const uint8_t *data;
	struct entry *e;

	if (s->timeout_ms > 0)
		deadline = clock_mono_ms() + (uint64_t)s->timeout_ms;
	while (s->head == NULL) {
		struct pollfd p = {s->fd, POLLIN, 0};
		int wait_ms;

		/* Straight from the socket's batch into buf: no copy kept,
		   no allocation, unless buf is too small. */
		err = next_message(s, &m, &data);
		if (err == MAILSLOT_OK) {
			*len = m.len;
			if (cap < m.len) {
				enqueue(s, &m, data);
				return MAILSLOT_E_BUFFER_SMALL;
			}
			memcpy(buf, data, m.len);
			if (meta != NULL)
				*meta = m;
			return MAILSLOT_OK;
		}
		if (err != MAILSLOT_E_TIMEOUT)
			return err;
		if (s->timeout_ms == 0)
			return MAILSLOT_E_TIMEOUT;
		if (s->timeout_ms == MAILSLOT_WAIT_FOREVER) {
			wait_ms = -1;
		} else {
			uint64_t now = clock_mono_ms();
			if (now >= deadline)
				return MAILSLOT_E_TIMEOUT;
			wait_ms = (int)(deadline - now);
		}
		if (poll(&p, 1, wait_ms) < 0)
			return MAILSLOT_E_SYSTEM; /* EINTR too: let the caller
						     look at its signals */
	}
	e = s->head;
	*len = e->meta.len;
	if (cap < e->meta.len)
		return MAILSLOT_E_BUFFER_SMALL;
	memcpy(buf, e->data, e->meta.len);
	if (meta != NULL)
		*meta = e->meta;
	s->head = e->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->count--;
	free(e);
	return MAILSLOT_OK;
}

enum mailslot_err
mailslot_info(struct mailslot_server *s, struct mailslot_info *info)
{
	enum mailslot_err err = drain(s);

	info->max_message = s->max_message;
	info->next_size = s->head ? s->head->meta.len : MAILSLOT_NO_MESSAGE;
	info->count = s->count;
	info->read_timeout_ms = s->timeout_ms;
	return err;
}

void
mailslot_set_timeout(struct mailslot_server *s, int read_timeout_ms)
{
	s->timeout_ms = read_timeout_ms;
}

int
mailslot_fd(const struct mailslot_server *s)
{
	return s->fd;
}

const struct mailslot_stats *
mailslot_stats(const struct mailslot_server *s)
{
	return &s->stats;
}

uint16_t
mailslot_port(const struct mailslot_server *s)
{
	return s->port;
}

void
mailslot_close(struct mailslot_server *s)
{
	struct entry *e, *next;

	if (s == NULL)
		return;
	for (e = s->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	close(s->fd);
	free(s->slots);
	free(s);
}
