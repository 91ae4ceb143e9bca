/* SPDX-License-Identifier: MIT */
/*
 * The client side: map a UNC name to NetBIOS names and IP destinations
 * (docs/wire.md 3), then send each write as one datagram per
 * destination.
 *
 * Each destination gets its own socket, bound to 0.0.0.0:PORT with
 * SO_REUSEADDR (so the datagram leaves from port 138, as Windows expects)
 * and connected to the destination: a connected UDP socket only takes
 * datagrams from its peer (a broadcast address never sends any), so it does
 * not steal a server's traffic on the shared port; only a unicast peer's own
 * datagrams to PORT could land on it while the client is open.
 * getsockname() then tells the source address and port, which go into the
 * header's SOURCE_IP and SOURCE_PORT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "iface.h"
#include "mailslot/slot.h"
#include "mailslot/unc.h"
#include "sock.h"

#define DEST_MAX IFACE_MAX

struct dest {
	int fd;
	uint32_t addr;
	uint32_t src_ip;   /* for SOURCE_IP */
	uint16_t src_port; /* for SOURCE_PORT */
};

struct mailslot_client {
	bool direct; /* mailslot_open_direct: one unconnected socket */
	struct dest dest[DEST_MAX];
	size_t ndest;
	struct mailslot_dgram tmpl;
	enum mailslot_style style;
	size_t max;
	uint16_t next_id;
	uint16_t port;
	uint8_t buf[MAILSLOT_DGRAM_MAX];
};

void
mailslot_client_opts_init(struct mailslot_client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = MAILSLOT_PORT;
	o->style = MAILSLOT_STYLE_UNPADDED;
}

/* The first label of NAME, upper-cased and cut to 15, as a NetBIOS name. */
static enum mailslot_err
host_nbname(const char *name, struct mailslot_nbname *n)
{
	char label[MAILSLOT_NB_NAME_MAX + 1];
	size_t len = strcspn(name, ".");

	if (len > MAILSLOT_NB_NAME_MAX)
		len = MAILSLOT_NB_NAME_MAX;
	memcpy(label, name, len);
	label[len] = '\0';
	return mailslot_nbname_set(n, label, 0x00);
}

static enum mailslot_err
own_nbname(struct mailslot_nbname *n)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0)
		return MAILSLOT_E_SYSTEM;
	host[sizeof(host) - 1] = '\0';
	return host_nbname(host, n);
}

static enum mailslot_err
resolve(const char *host, uint32_t *addr)
{
	struct addrinfo hints = {0}, *res;
	struct in_addr in;

	if (inet_pton(AF_INET, host, &in) == 1) {
		*addr = ntohl(in.s_addr);
		return MAILSLOT_OK;
	}
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return MAILSLOT_E_RESOLVE;
	*addr = ntohl(
		((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr.s_addr);
	freeaddrinfo(res);
	return MAILSLOT_OK;
}

static bool
is_ipv4_literal(const char *s)
{
	struct in_addr in;

	return inet_pton(AF_INET, s, &in) == 1;
}

/* A host or a domain? See enum mailslot_named. */
static bool
named_is_host(const char *server, const struct mailslot_client_opts *o,
	      uint32_t *addr, enum mailslot_err *err)
{
	const char *wg = o->workgroup ? o->workgroup : MAILSLOT_WORKGROUP;

	*err = MAILSLOT_OK;
	if (o->named == MAILSLOT_NAMED_DOMAIN)
		return false;
	if (o->named == MAILSLOT_NAMED_HOST || is_ipv4_literal(server) ||
	    strchr(server, '.') != NULL) {
		*err = resolve(server, addr);
		return true;
	}
	if (strcasecmp(server, wg) == 0)
		return false;
	return resolve(server, addr) == MAILSLOT_OK;
}

static enum mailslot_err
broadcast_addrs(const struct mailslot_client_opts *o, uint32_t *out, size_t *n)
{
	struct mailslot_if_filter f = {o->interfaces, o->n_interfaces,
				       o->all_interfaces};
	size_t i;

	*n = 0;
	if (o->n_broadcast > 0) {
		for (i = 0; i < o->n_broadcast && *n < DEST_MAX; i++) {
			struct in_addr in;
			uint32_t a;
			if (inet_pton(AF_INET, o->broadcast[i], &in) != 1)
				return MAILSLOT_E_BROADCAST_ADDR;
			a = ntohl(in.s_addr);
			/* Never the limited broadcast, nor 0.0.0.0 or multicast. */
			if (a == INADDR_BROADCAST || a == INADDR_ANY ||
			    IN_MULTICAST(a))
				return MAILSLOT_E_BROADCAST_ADDR;
			out[(*n)++] = a;
		}
		return MAILSLOT_OK;
	}
	return iface_list(&f, out, DEST_MAX, n);
}

/* One of this host's addresses (127/8 included)? */
static bool
is_local(uint32_t addr)
{
	uint32_t own[IFACE_MAX];
	size_t n = iface_local_addrs(own, IFACE_MAX), i;

	if ((addr >> 24) == 127)
		return true;
	for (i = 0; i < n; i++)
		if (own[i] == addr)
			return true;
	return false;
}

static enum mailslot_err
add_dest(struct mailslot_client *c, uint32_t addr, uint16_t port, bool unique)
{
	struct dest *d = &c->dest[c->ndest];
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	enum mailslot_err err;
	int saved;

	/* A socket connected from PORT to ourselves at PORT would receive
	   its own datagram in place of the server: this host is reached
	   from an ephemeral port instead. */
	err = sock_bind_udp(0, unique && is_local(addr) ? 0 : port, &d->fd);
	if (err != MAILSLOT_OK)
		return err;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(addr);
	if (connect(d->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(d->fd, (struct sockaddr *)&sin, &sl) < 0) {
		saved = errno;
		close(d->fd);
		errno = saved;
		return MAILSLOT_E_SYSTEM;
	}
	d->addr = addr;
	d->src_ip = ntohl(sin.sin_addr.s_addr);
	d->src_port = ntohs(sin.sin_port);
	c->ndest++;
	return MAILSLOT_OK;
}

static uint16_t
random_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
		id = (uint16_t)(time(NULL) ^ getpid());
	return id;
}

/* The destination name, and for a unicast its one address in addrs[0]:
   whether it is a group (a workgroup or domain, broadcast). */
static enum mailslot_err
destination(struct mailslot_client *c, const struct mailslot_unc *u,
	    const struct mailslot_client_opts *o, uint32_t *addrs,
	    size_t *naddr, bool *group)
{
	enum mailslot_err err;

	*group = false;
	switch (u->target) {
	case MAILSLOT_TARGET_LOCAL:
		addrs[(*naddr)++] = INADDR_LOOPBACK;
		return own_nbname(&c->tmpl.dst_name);
	case MAILSLOT_TARGET_ANY:
		*group = true;
		return mailslot_nbname_set(
			&c->tmpl.dst_name,
			o->workgroup ? o->workgroup : MAILSLOT_WORKGROUP, 0x00);
	case MAILSLOT_TARGET_NAMED:
		break;
	}
	if (named_is_host(u->server, o, &addrs[0], &err)) {
		if (err != MAILSLOT_OK)
			return err;
		*naddr = 1;
		/* An address literal names no NetBIOS host: send to "*", as
		   Samba does for remote announcements. */
		return is_ipv4_literal(u->server)
			       ? mailslot_nbname_set(&c->tmpl.dst_name, "*",
						     0x00)
			       : host_nbname(u->server, &c->tmpl.dst_name);
	}
	*group = true;
	err = mailslot_nbname_set(&c->tmpl.dst_name, u->server, 0x00);
	return err != MAILSLOT_OK ? MAILSLOT_E_UNC_SERVER : MAILSLOT_OK;
}

/* A unicast's largest message: what its names and path leave of a
   datagram. */
static enum mailslot_err
unicast_max(struct mailslot_client *c, const char *path)
{
	uint8_t scratch[300];
	size_t l1, l2;

	if (mailslot_nbname_encode(&c->tmpl.src_name, scratch, sizeof(scratch),
				   &l1) != MAILSLOT_OK ||
	    mailslot_nbname_encode(&c->tmpl.dst_name, scratch, sizeof(scratch),
				   &l2) != MAILSLOT_OK)
		return MAILSLOT_E_NAME_INVALID;
	c->max = MAILSLOT_DGRAM_MAX -
		 (MAILSLOT_HEADER_LEN + l1 + l2 + MAILSLOT_SMB_FIXED +
		  strlen(path) + 1 + 3);
	return MAILSLOT_OK;
}

enum mailslot_err
mailslot_open(const char *unc, const struct mailslot_client_opts *o,
	      struct mailslot_client **out)
{
	uint32_t addrs[DEST_MAX];
	size_t naddr = 0, i;
	struct mailslot_client *c;
	struct mailslot_unc u;
	enum mailslot_err err;
	uint16_t port = o->port ? o->port : MAILSLOT_PORT;
	bool group = false;

	*out = NULL;
	err = mailslot_unc_parse(unc, &u);
	if (err != MAILSLOT_OK)
		return err;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return MAILSLOT_E_NOMEM;
	c->style = o->style;
	c->next_id = random_id();
	c->tmpl.flags = MAILSLOT_FLAG_FIRST; /* B-node, unfragmented */
	c->tmpl.src_port = port;
	c->tmpl.priority = o->priority;
	memcpy(c->tmpl.path, u.path, sizeof(u.path));
	err = o->from ? mailslot_nbname_set(&c->tmpl.src_name, o->from, 0x00)
		      : own_nbname(&c->tmpl.src_name);
	if (err == MAILSLOT_OK)
		err = destination(c, &u, o, addrs, &naddr, &group);
	if (err == MAILSLOT_OK && group) {
		c->tmpl.msg_type = MAILSLOT_DIRECT_GROUP;
		c->max = mailslot_max_payload(u.path);
		err = broadcast_addrs(o, addrs, &naddr);
	} else if (err == MAILSLOT_OK) {
		c->tmpl.msg_type = MAILSLOT_DIRECT_UNIQUE;
		err = unicast_max(c, u.path);
	}
	for (i = 0; i < naddr && err == MAILSLOT_OK; i++)
		err = add_dest(c, addrs[i], port, !group);
	if (err != MAILSLOT_OK) {
		mailslot_client_close(c);
		return err;
	}
	*out = c;
	return MAILSLOT_OK;
}

enum mailslot_err
mailslot_write(struct mailslot_client *c, const void *buf, size_t len)
{
	enum mailslot_err first = MAILSLOT_OK, err;
	size_t i, n;
	int first_errno = 0;

	if (len > c->max)
		return MAILSLOT_E_TOO_BIG;
	c->tmpl.dgm_id = c->next_id++;
	c->tmpl.data = buf;
	c->tmpl.data_len = len;
	for (i = 0; i < c->ndest; i++) {
		c->tmpl.src_ip = c->dest[i].src_ip;
		c->tmpl.src_port = c->dest[i].src_port;
		err = mailslot_dgram_encode(&c->tmpl, c->style, c->buf,
					    sizeof(c->buf), &n);
		if (err == MAILSLOT_OK && send(c->dest[i].fd, c->buf, n, 0) < 0)
			err = MAILSLOT_E_SYSTEM;
		if (err != MAILSLOT_OK && first == MAILSLOT_OK) {
			first = err;
			first_errno = errno;
		}
	}
	c->tmpl.data = NULL;
	errno = first_errno;
	return first;
}

enum mailslot_err
mailslot_open_direct(const char *unc, const struct mailslot_client_opts *o,
		     struct mailslot_client **out)
{
	struct mailslot_client *c;
	struct mailslot_unc u;
	enum mailslot_err err;
	uint8_t scratch[300];
	size_t l1, l2;

	*out = NULL;
	err = mailslot_unc_parse(unc, &u);
	if (err != MAILSLOT_OK)
		return err;
	if (u.target != MAILSLOT_TARGET_ANY)
		return MAILSLOT_E_UNC_SERVER;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return MAILSLOT_E_NOMEM;
	c->direct = true;
	c->style = o->style;
	c->next_id = random_id();
	c->tmpl.msg_type = MAILSLOT_DIRECT_UNIQUE;
	c->tmpl.flags = MAILSLOT_FLAG_FIRST;
	c->tmpl.priority = o->priority;
	c->port = o->port ? o->port : MAILSLOT_PORT;
	memcpy(c->tmpl.path, u.path, sizeof(u.path));
	err = o->from ? mailslot_nbname_set(&c->tmpl.src_name, o->from, 0x00)
		      : own_nbname(&c->tmpl.src_name);
	if (err == MAILSLOT_OK)
		err = mailslot_nbname_set(&c->tmpl.dst_name, "*", 0x00);
	if (err != MAILSLOT_OK)
		goto fail;
	if (mailslot_nbname_encode(&c->tmpl.src_name, scratch, sizeof(scratch),
				   &l1) != MAILSLOT_OK ||
	    mailslot_nbname_encode(&c->tmpl.dst_name, scratch, sizeof(scratch),
				   &l2) != MAILSLOT_OK) {
		err = MAILSLOT_E_NAME_INVALID;
		goto fail;
	}
	c->max = MAILSLOT_DGRAM_MAX -
		 (MAILSLOT_HEADER_LEN + l1 + l2 + MAILSLOT_SMB_FIXED +
		  strlen(u.path) + 1 + 3);
	/* An ephemeral port, not PORT: an unconnected socket on the shared
	   port would take unicasts meant for the server. */
	err = sock_bind_udp(0, 0, &c->dest[0].fd);
	if (err != MAILSLOT_OK)
		goto fail;
	c->ndest = 1;
	*out = c;
	return MAILSLOT_OK;
fail:
	mailslot_client_close(c);
	return err;
}

enum mailslot_err
mailslot_write_to(struct mailslot_client *c, uint32_t addr, const char *ifname,
		  const void *buf, size_t len)
{
	struct sockaddr_in sin;
	enum mailslot_err err;
	uint32_t local;
	size_t n;

	if (!c->direct)
		return MAILSLOT_E_UNC_SERVER;
	if (len > c->max)
		return MAILSLOT_E_TOO_BIG;
	if (!iface_on_link(ifname, addr, &local))
		return MAILSLOT_E_NOT_ON_LINK;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(c->port);
	sin.sin_addr.s_addr = htonl(addr);
	c->tmpl.dgm_id = c->next_id++;
	c->tmpl.src_ip = local;
	c->tmpl.src_port = c->port;
	c->tmpl.data = buf;
	c->tmpl.data_len = len;
	err = mailslot_dgram_encode(&c->tmpl, c->style, c->buf, sizeof(c->buf),
				    &n);
	c->tmpl.data = NULL;
	if (err != MAILSLOT_OK)
		return err;
	if (sendto(c->dest[0].fd, c->buf, n, 0, (struct sockaddr *)&sin,
		   sizeof(sin)) < 0)
		return MAILSLOT_E_SYSTEM;
	return MAILSLOT_OK;
}

bool
mailslot_client_moved(const struct mailslot_client *c,
		      const struct mailslot_client_opts *o)
{
	uint32_t addrs[DEST_MAX];
	size_t n, i;

	if (c == NULL)
		return true;
	switch (broadcast_addrs(o, addrs, &n)) {
	case MAILSLOT_OK:
		break;
	case MAILSLOT_E_SYSTEM:
		return false; /* cannot tell: keep what works */
	default:
		return true; /* none usable now */
	}
	if (n != c->ndest)
		return true;
	for (i = 0; i < n; i++)
		if (c->dest[i].addr != addrs[i])
			return true;
	return false;
}

size_t
mailslot_client_max(const struct mailslot_client *c)
{
	return c->max;
}

size_t
mailslot_client_ndest(const struct mailslot_client *c)
{
	return c->ndest;
}

uint32_t
mailslot_client_dest(const struct mailslot_client *c, size_t i)
{
	return i < c->ndest ? c->dest[i].addr : 0;
}

void
mailslot_client_close(struct mailslot_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ndest; i++)
		close(c->dest[i].fd);
	free(c);
}
