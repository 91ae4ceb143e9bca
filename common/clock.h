/* SPDX-License-Identifier: MIT */
/* The one clock every timer and timeout uses: monotonic milliseconds. */
#ifndef BEACON_COMMON_CLOCK_H
#define BEACON_COMMON_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC, counted from CLOCK_MONO_BASE_MS before
   boot: never goes back, ignores date changes. The base gives a time the
   probe's history restores (a host first seen last year, before this
   boot) a place on the same clock as the rest; 2^39 ms is 17 years back,
   and leaves 17 years of uptime below the table's timers' 2^40. */
#define CLOCK_MONO_BASE_MS (UINT64_C(1) << 39)
uint64_t clock_mono_ms(void);
/* CLOCK_REALTIME in milliseconds since the epoch: for the times people
   read (and the history keeps), never for a timer. */
int64_t clock_wall_ms(void);

#endif
