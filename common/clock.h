/* SPDX-License-Identifier: MIT */
/* The one clock every timer and timeout uses: monotonic milliseconds. */
#ifndef BEACON_COMMON_CLOCK_H
#define BEACON_COMMON_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds; never goes back, ignores date changes. */
uint64_t clock_mono_ms(void);
/* CLOCK_REALTIME in milliseconds since the epoch: for the times people
   read (and the history keeps), never for a timer. */
int64_t clock_wall_ms(void);

#endif
