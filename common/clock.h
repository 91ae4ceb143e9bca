/* SPDX-License-Identifier: MIT */
/* The one clock every timer and timeout uses: monotonic milliseconds. */
#ifndef BEACON_COMMON_CLOCK_H
#define BEACON_COMMON_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds; never goes back, ignores date changes. */
uint64_t clock_mono_ms(void);

#endif
