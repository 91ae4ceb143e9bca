/* SPDX-License-Identifier: MIT */
#ifndef BEACON_HOSTID_H
#define BEACON_HOSTID_H

/*
 * The stable host id: the first 16 hex digits of SHA-256 over
 * "beacon-host-id:" and the machine id, so the machine id itself is not
 * exposed and other applications' ids from it do not match ours. In
 * beacon_hostid, on libsodium's SHA-256 (the message library links none).
 */
void beacon_host_id(const char *machine_id, char out[17]);

#endif
