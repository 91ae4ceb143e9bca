/* SPDX-License-Identifier: MIT */
/* Interface enumeration with getifaddrs(3), IPv4 only (mailslot/iface.h). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "iface.h"
#include "mailslot/wire.h"
#include "mailslot/iface.h"

/* Container and VM plumbing: a beacon through them would reach the host's
   own guests, and show a host twice. */
static const char *const virtual_prefixes[] = {
	"docker", "veth",   "virbr",   "br-",       "vnet",
	"cni",    "podman", "lxcbr",   "lxdbr",     "flannel",
	"cali",   "vmnet",  "vboxnet", "tailscale", "zt",
};

bool
mailslot_if_virtual(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(virtual_prefixes) / sizeof(*virtual_prefixes);
	     i++)
		if (strncmp(name, virtual_prefixes[i],
			    strlen(virtual_prefixes[i])) == 0)
			return true;
	return false;
}

const char *
mailslot_if_use_text(enum mailslot_if_use u)
{
	switch (u) {
	case MAILSLOT_IF_USED:
		return "used";
	case MAILSLOT_IF_DOWN:
		return "down";
	case MAILSLOT_IF_LOOPBACK:
		return "loopback (name it with --interface to use it)";
	case MAILSLOT_IF_POINTOPOINT:
		return "point-to-point link: no broadcast";
	case MAILSLOT_IF_NO_BROADCAST:
		return "no directed broadcast (a /32 or /31 address)";
	case MAILSLOT_IF_VIRTUAL:
		return "container/VM interface (--all-interfaces or "
		       "--interface to use it)";
	case MAILSLOT_IF_NOT_NAMED:
		return "not named by --interface";
	case MAILSLOT_IF_SAME_BROADCAST:
		return "its broadcast is already used";
	}
	return "?";
}

static bool
named(const char *name, const struct mailslot_if_filter *f)
{
	size_t i;

	for (i = 0; i < f->n_only; i++)
		if (strcmp(name, f->only[i]) == 0)
			return true;
	return false;
}

static uint32_t
in4(const struct sockaddr *sa)
{
	return ntohl(((const struct sockaddr_in *)(const void *)sa)
			     ->sin_addr.s_addr);
}

static enum mailslot_if_use
judge(const struct ifaddrs *i, const struct mailslot_if_filter *f,
      const struct mailslot_if *m)
{
	bool is_named = f->n_only > 0 && named(i->ifa_name, f);

	if (f->n_only > 0 && !is_named)
		return MAILSLOT_IF_NOT_NAMED;
	if (!(i->ifa_flags & IFF_UP))
		return MAILSLOT_IF_DOWN;
	if ((i->ifa_flags & IFF_LOOPBACK) && !is_named)
		return MAILSLOT_IF_LOOPBACK;
	if (i->ifa_flags & IFF_POINTOPOINT)
		return MAILSLOT_IF_POINTOPOINT;
	if (m->bcast == 0)
		return MAILSLOT_IF_NO_BROADCAST;
	if (!is_named && !f->all_virtual && mailslot_if_virtual(i->ifa_name))
		return MAILSLOT_IF_VIRTUAL;
	return MAILSLOT_IF_USED;
}

enum mailslot_err
mailslot_interfaces(const struct mailslot_if_filter *f, struct mailslot_if *out,
		    size_t max, size_t *n)
{
	struct ifaddrs *ifa, *i;
	size_t k;

	*n = 0;
	if (getifaddrs(&ifa) < 0)
		return MAILSLOT_E_SYSTEM;
	for (i = ifa; i != NULL && *n < max; i = i->ifa_next) {
		struct mailslot_if *m = &out[*n];

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%s", i->ifa_name);
		m->index = if_nametoindex(i->ifa_name);
		m->addr = in4(i->ifa_addr);
		m->mask = i->ifa_netmask ? in4(i->ifa_netmask) : 0xffffffffu;
		/* Computed from the mask, not taken from ifa_broadaddr: a
		   /32 has none, and lo has no IFF_BROADCAST but a subnet. */
		m->bcast = m->addr | ~m->mask;
		if (m->mask >= 0xfffffffeu || (i->ifa_flags & IFF_POINTOPOINT))
			m->bcast = 0;
		m->use = judge(i, f, m);
		for (k = 0; m->use == MAILSLOT_IF_USED && k < *n; k++)
			if (out[k].use == MAILSLOT_IF_USED &&
			    out[k].bcast == m->bcast)
				m->use = MAILSLOT_IF_SAME_BROADCAST;
		(*n)++;
	}
	freeifaddrs(ifa);
	return MAILSLOT_OK;
}

enum mailslot_err
iface_list(const struct mailslot_if_filter *f, uint32_t *bcast, size_t max,
	   size_t *n)
{
	struct mailslot_if ifs[MAILSLOT_IF_MAX];
	enum mailslot_err err;
	size_t all, i, k;

	*n = 0;
	err = mailslot_interfaces(f, ifs, MAILSLOT_IF_MAX, &all);
	if (err != MAILSLOT_OK)
		return err;
	for (i = 0; i < all && *n < max; i++)
		if (ifs[i].use == MAILSLOT_IF_USED)
			bcast[(*n)++] = ifs[i].bcast;
	/* Every interface asked for by name must be usable. */
	for (k = 0; k < f->n_only; k++) {
		for (i = 0; i < all; i++)
			if (strcmp(ifs[i].name, f->only[k]) == 0 &&
			    (ifs[i].use == MAILSLOT_IF_USED ||
			     ifs[i].use == MAILSLOT_IF_SAME_BROADCAST))
				break;
		if (i == all)
			return MAILSLOT_E_NO_INTERFACE;
	}
	return *n > 0 ? MAILSLOT_OK : MAILSLOT_E_NO_INTERFACE;
}

bool
iface_on_link(const char *ifname, uint32_t addr, uint32_t *local)
{
	struct mailslot_if ifs[MAILSLOT_IF_MAX];
	struct mailslot_if_filter f = {0};
	size_t n, i;

	if (mailslot_interfaces(&f, ifs, MAILSLOT_IF_MAX, &n) != MAILSLOT_OK)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(ifs[i].name, ifname) == 0 && ifs[i].mask != 0 &&
		    (ifs[i].addr & ifs[i].mask) == (addr & ifs[i].mask)) {
			*local = ifs[i].addr;
			return true;
		}
	return false;
}

size_t
iface_local_addrs(uint32_t *addrs, size_t max)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i != NULL && n < max; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET)
			addrs[n++] = in4(i->ifa_addr);
	freeifaddrs(ifa);
	return n;
}

const char *
mailslot_check_broadcast(const char *s)
{
	struct in_addr in;
	uint32_t a;

	if (inet_pton(AF_INET, s, &in) != 1)
		return "not an IPv4 address (e.g. 198.18.0.255 or "
		       "127.255.255.255)";
	a = ntohl(in.s_addr);
	if (a == INADDR_BROADCAST)
		return "255.255.255.255 is never used: give a subnet's "
		       "directed broadcast";
	if (a == INADDR_ANY || IN_MULTICAST(a))
		return "0.0.0.0 and multicast addresses are not broadcasts";
	return NULL;
}

const char *
mailslot_check_workgroup(const char *s)
{
	struct mailslot_nbname n;

	if (strcmp(s, "*") == 0 ||
	    mailslot_nbname_set(&n, s, 0x00) != MAILSLOT_OK)
		return "not a NetBIOS name (1-15 bytes, no . * \\ / : ; | "
		       "= + ? < > \" [ ] or spaces)";
	return NULL;
}

const char *
mailslot_check_interface(const char *s)
{
	if (s[0] == '\0' || strlen(s) >= IF_NAMESIZE || strchr(s, '/'))
		return "not an interface name";
	if (if_nametoindex(s) == 0)
		return "no such interface (ip link lists them)";
	return NULL;
}
