/* SPDX-License-Identifier: MIT */
/* Interface enumeration with getifaddrs(3), IPv4 only. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "iface.h"

static bool
named(const char *name, const char *const *only, size_t n_only)
{
	size_t i;

	for (i = 0; i < n_only; i++)
		if (strcmp(name, only[i]) == 0)
			return true;
	return false;
}

static uint32_t
in4(const struct sockaddr *sa)
{
	return ntohl(((const struct sockaddr_in *)(const void *)sa)
			     ->sin_addr.s_addr);
}

enum mailslot_err
iface_list(const char *const *only, size_t n_only, struct iface *out,
	   size_t max, size_t *n)
{
	struct ifaddrs *ifa, *i;
	size_t k;

	*n = 0;
	if (getifaddrs(&ifa) < 0)
		return MAILSLOT_E_SYSTEM;
	for (i = ifa; i != NULL && *n < max; i = i->ifa_next) {
		bool loop = i->ifa_flags & IFF_LOOPBACK;
		uint32_t addr, bcast;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		if (n_only > 0 ? !named(i->ifa_name, only, n_only) : loop)
			continue;
		addr = in4(i->ifa_addr);
		if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_broadaddr != NULL)
			bcast = in4(i->ifa_broadaddr);
		else if (loop && i->ifa_netmask != NULL)
			bcast = addr | ~in4(i->ifa_netmask);
		else
			continue;
		if (bcast == INADDR_BROADCAST || bcast == addr)
			continue; /* no directed broadcast (e.g. a /32) */
		snprintf(out[*n].name, sizeof(out[*n].name), "%s", i->ifa_name);
		out[*n].addr = addr;
		out[*n].bcast = bcast;
		(*n)++;
	}
	freeifaddrs(ifa);
	/* Every interface asked for by name must have given an address. */
	for (k = 0; k < n_only; k++) {
		size_t j;
		for (j = 0; j < *n; j++)
			if (strcmp(out[j].name, only[k]) == 0)
				break;
		if (j == *n)
			return MAILSLOT_E_NO_INTERFACE;
	}
	return *n > 0 ? MAILSLOT_OK : MAILSLOT_E_NO_INTERFACE;
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
