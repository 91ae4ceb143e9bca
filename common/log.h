/* SPDX-License-Identifier: MIT */
/*
 * Logging for the three programs, after OpenBSD's log.h: log_warn appends
 * strerror(errno), log_warnx does not, log_info and log_debug are for
 * progress. Lines go to standard error as "PROGRAM: message".
 *
 * Warnings are rate-limited per call site (the format string): a burst of
 * LOG_BURST lines, then at most one every LOG_GAP_MS, and the next line
 * that passes says how many were held back. So a flood of bad datagrams or
 * a failure that repeats every pass costs a few lines a minute, never a
 * line per event. Text from the network must be escaped by the caller
 * (text_escape) before it is logged.
 */
#ifndef BEACON_COMMON_LOG_H
#define BEACON_COMMON_LOG_H

#include <stdint.h>

#define LOG_BURST  3
#define LOG_GAP_MS 60000
#define LOG_SITES  64

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Name the program; verbose turns log_debug on. */
void log_init(const char *progname, int verbose);
/* For tests: the clock the rate limit reads (NULL: CLOCK_MONOTONIC). */
void log_set_clock(uint64_t (*now_ms)(void));

void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);

/* Lines held back by the rate limit so far. */
uint64_t log_suppressed(void);

#endif
