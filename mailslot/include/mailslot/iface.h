/* SPDX-License-Identifier: MIT */
/*
 * Which of this host's IPv4 addresses a broadcast goes out on: the one
 * place that decides it, for the library's clients and for the programs'
 * --print and start-up logs.
 *
 * Every up IPv4 address with a directed broadcast is used, secondary
 * addresses in other subnets too, one copy per distinct broadcast. Skipped,
 * each with its reason: interfaces that are down, loopback, point-to-point
 * links (tunnels, PPP, WireGuard), addresses with no directed broadcast
 * (a /32 or /31), and container and VM plumbing (docker*, veth*, virbr*,
 * br-*, ...) unless asked for. When interfaces are named, only those are
 * considered, and then loopback and container interfaces may be used.
 */
#ifndef BEACON_MAILSLOT_IFACE_H_PUBLIC
#define BEACON_MAILSLOT_IFACE_H_PUBLIC

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailslot/err.h"

#define MAILSLOT_IF_MAX 64

enum mailslot_if_use {
	MAILSLOT_IF_USED,
	MAILSLOT_IF_DOWN,
	MAILSLOT_IF_LOOPBACK,
	MAILSLOT_IF_POINTOPOINT,
	MAILSLOT_IF_NO_BROADCAST,   /* a /32 or /31: no directed broadcast */
	MAILSLOT_IF_VIRTUAL,        /* container/VM plumbing */
	MAILSLOT_IF_NOT_NAMED,      /* other interfaces were named */
	MAILSLOT_IF_SAME_BROADCAST, /* another address already covers it */
};

struct mailslot_if {
	char name[IF_NAMESIZE];
	unsigned index;
	uint32_t addr, mask, bcast; /* host order; bcast 0 when none */
	enum mailslot_if_use use;
};

struct mailslot_if_filter {
	const char *const *only; /* interface names; none: all */
	size_t n_only;
	bool all_virtual; /* use container/VM interfaces too */
};

/* Every IPv4 address of this host (at most max), each marked used or
   skipped with its reason. MAILSLOT_E_SYSTEM if they cannot be listed. */
enum mailslot_err mailslot_interfaces(const struct mailslot_if_filter *f,
				      struct mailslot_if *out, size_t max,
				      size_t *n);

/* Why an address is skipped, in words ("used" for MAILSLOT_IF_USED). */
const char *mailslot_if_use_text(enum mailslot_if_use u);

/* Container and VM plumbing by its name (docker0, veth1234, virbr0...)? */
bool mailslot_if_virtual(const char *name);

/*
 * The network options every program takes, checked at start so that a
 * typo is a usage error, not a program that runs and sends nothing. Each
 * returns NULL when the value is fine, else what is wrong with it.
 * --broadcast: an IPv4 address, not 0.0.0.0, 255.255.255.255 or multicast.
 * --workgroup: a NetBIOS name (1-15 bytes, no . * \\ / : and the like).
 * --interface: a name the system knows now.
 */
const char *mailslot_check_broadcast(const char *s);
const char *mailslot_check_workgroup(const char *s);
const char *mailslot_check_interface(const char *s);

#endif
