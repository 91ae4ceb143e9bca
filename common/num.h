/* SPDX-License-Identifier: MIT */
/* Strict parsing of numbers from the command line (strtonum semantics). */
#ifndef BEACON_COMMON_NUM_H
#define BEACON_COMMON_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits only, no sign, no spaces, within [min, max]. */
bool num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Seconds with an optional fraction ("2", "0.25"), within [min_ms, max_ms]
   once converted to whole milliseconds (rounded to nearest). */
bool num_parse_seconds(const char *s, uint64_t min_ms, uint64_t max_ms,
		       uint64_t *out_ms);

#endif
