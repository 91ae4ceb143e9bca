/* SPDX-License-Identifier: MIT */
/* SHA-256 (FIPS 180-4), one-shot; used to derive the host id. */
#ifndef BEACON_SHA256_H
#define BEACON_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);

#endif
