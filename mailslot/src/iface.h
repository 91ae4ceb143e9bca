/* SPDX-License-Identifier: MIT */
/* This host's IPv4 interfaces and addresses (private to the library; the
   public choice of interfaces is mailslot/iface.h). */
#ifndef BEACON_MAILSLOT_IFACE_H
#define BEACON_MAILSLOT_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailslot/err.h"
#include "mailslot/iface.h"

#define IFACE_MAX MAILSLOT_IF_MAX

/* The directed broadcasts of the used addresses (mailslot_interfaces).
   MAILSLOT_E_NO_INTERFACE when there is none, or an interface named in the
   filter gives none; MAILSLOT_E_SYSTEM. */
enum mailslot_err iface_list(const struct mailslot_if_filter *f,
			     uint32_t *bcast, size_t max, size_t *n);

/* Is addr on a subnet of one of ifname's IPv4 addresses? *local gets
   that address. */
bool iface_on_link(const char *ifname, uint32_t addr, uint32_t *local);

/* Fill addrs with every local IPv4 address (host order); returns the count. */
size_t iface_local_addrs(uint32_t *addrs, size_t max);

#endif
