/* SPDX-License-Identifier: MIT */
/*
 * Logging for the three programs, after OpenBSD's log.h: log_warn appends
 * strerror(errno), log_warnx does not, log_info and log_debug are for
 * progress. Lines go to standard error as "PROGRAM: message".
 *
 * Warnings are rate-limited per call site (file and line: log_warn and
 * log_warnx are macros that name it; one format shared by many sites, say
 * "%s", does not make them one), a burst of
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

#define LOG_STR_(x)    #x
#define LOG_STR(x)     LOG_STR_(x)
#define LOG_SITE       __FILE__ ":" LOG_STR(__LINE__)
#define log_warn(...)  log_warn_at(LOG_SITE, __VA_ARGS__)
#define log_warnx(...) log_warnx_at(LOG_SITE, __VA_ARGS__)

/* Every one keeps errno as it was. */
void log_warn_at(const char *site, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_warnx_at(const char *site, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);

/* Lines held back by the rate limit so far. */
uint64_t log_suppressed(void);

#endif
