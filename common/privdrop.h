/* SPDX-License-Identifier: MIT */
/*
 * Least privilege for the agent and the probe: after they have read what
 * needs root (the keyring, /etc/machine-id) and opened their sockets, they
 * become USER (its uid, gid and supplementary groups) and keep only
 * CAP_NET_BIND_SERVICE, which opening sockets on port 138 for a new
 * interface needs later. Every other capability leaves the bounding set
 * too, so none can come back.
 */
#ifndef BEACON_PRIVDROP_H
#define BEACON_PRIVDROP_H

#include <stddef.h>

#include <stdbool.h>

/* 0, or -1 with why in err (a user that does not exist, is root, or a
   step that failed). Must be called as root. */
int privdrop(const char *user, char *err, size_t len);

/* What needed root is done: become user (logged), or, with none given,
   say once that root stays (when note_root). 0, or -1 having logged why. */
int privdrop_logged(const char *user, bool note_root);

#endif
