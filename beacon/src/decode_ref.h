/* SPDX-License-Identifier: MIT */
/* The reference decoders on cJSON (decode_ref.c), for tests and fuzzing. */
#ifndef BEACON_DECODE_REF_H
#define BEACON_DECODE_REF_H

#include "beacon/beacon.h"

enum beacon_err beacon_decode_ref(const void *buf, size_t len,
				  struct beacon_msg *b);
enum beacon_err beacon_query_decode_ref(const void *buf, size_t len,
					struct beacon_query *q);

#endif
