/* SPDX-License-Identifier: MIT */
/* Socket set-up shared by the server and the client (private). */
#ifndef BEACON_MAILSLOT_SOCK_H
#define BEACON_MAILSLOT_SOCK_H

#include <stdint.h>

#include "mailslot/err.h"

/*
 * A UDP socket with SO_REUSEADDR (to share the port with nmbd and other
 * servers) and SO_BROADCAST, bound to ADDR:PORT (host order). EACCES on a
 * port below 1024 becomes MAILSLOT_E_PRIVILEGED_PORT; other failures are
 * MAILSLOT_E_SYSTEM with errno kept.
 */
enum mailslot_err sock_bind_udp(uint32_t addr, uint16_t port, int *fd);

#endif
