/* SPDX-License-Identifier: MIT */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "beacon/hostid.h"

void
beacon_host_id(const char *machine_id, char out[17])
{
	static const char prefix[] = "beacon-host-id:";
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	size_t i;

	/* SHA-256 needs no sodium_init(): it has no CPU dispatch or
	   randomness. */
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)prefix,
				  sizeof(prefix) - 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)machine_id,
				  strlen(machine_id));
	crypto_hash_sha256_final(&st, digest);
	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}
