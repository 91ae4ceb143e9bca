/* SPDX-License-Identifier: MIT */
/* This host's IPv4 interfaces and addresses (private to the library). */
#ifndef BEACON_MAILSLOT_IFACE_H
#define BEACON_MAILSLOT_IFACE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailslot/err.h"

#define IFACE_MAX 64

struct iface {
	char name[IF_NAMESIZE];
	uint32_t addr;  /* host order */
	uint32_t bcast; /* directed broadcast, host order */
};

/*
 * The broadcast-capable IPv4 interfaces: those named in ONLY (loopback
 * allowed, with its 127.255.255.255), or when n_only is 0 every up,
 * non-loopback interface with a broadcast address. Errors:
 * MAILSLOT_E_NO_INTERFACE (none, or a named one has no IPv4 address),
 * MAILSLOT_E_SYSTEM.
 */
enum mailslot_err iface_list(const char *const *only, size_t n_only,
			     struct iface *out, size_t max, size_t *n);

/* Fill addrs with every local IPv4 address (host order); returns the count. */
size_t iface_local_addrs(uint32_t *addrs, size_t max);

#endif
