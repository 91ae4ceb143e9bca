/* SPDX-License-Identifier: MIT */
/* log.h: lines to standard error, warnings rate-limited per call site. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

struct site {
	const char *site; /* LOG_SITE: one string per file and line */
	uint64_t window_ms;
	unsigned in_window;
	uint64_t held;
};

static const char *progname = "beacon";
static int debug;
static uint64_t (*clock_fn)(void) = clock_mono_ms;
static struct site sites[LOG_SITES];
static uint64_t suppressed;

void
log_init(const char *name, int verbose)
{
	progname = name;
	debug = verbose;
}

void
log_set_clock(uint64_t (*now_ms)(void))
{
	clock_fn = now_ms != NULL ? now_ms : clock_mono_ms;
	memset(sites, 0, sizeof(sites));
	suppressed = 0;
}

uint64_t
log_suppressed(void)
{
	return suppressed;
}

/* May this site log now? *held gets the lines it held back until now. */
static bool
admit(const char *site, uint64_t *held)
{
	uintptr_t h = (uintptr_t)site;
	uint64_t now = clock_fn();
	struct site *s;
	size_t i;

	*held = 0;
	h ^= h >> 7;
	for (i = 0; i < LOG_SITES; i++) {
		s = &sites[(h + i) % LOG_SITES];
		if (s->site == site || s->site == NULL)
			break;
	}
	if (i == LOG_SITES)
		s = &sites[h % LOG_SITES]; /* full: share a slot */
	if (s->site != site) {
		s->site = site;
		s->window_ms = now;
		s->in_window = 0;
		s->held = 0;
	}
	if (now - s->window_ms >= LOG_GAP_MS) {
		s->window_ms = now;
		s->in_window = 0;
	}
	if (s->in_window >= LOG_BURST) {
		s->held++;
		suppressed++;
		return false;
	}
	s->in_window++;
	*held = s->held;
	s->held = 0;
	return true;
}

static void vlog(const char *fmt, va_list ap, const char *err, uint64_t held)
	LOG_PRINTF(1, 0);

static void
vlog(const char *fmt, va_list ap, const char *err, uint64_t held)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s: %s%s%s", progname, line, err ? ": " : "",
		err ? err : "");
	if (held > 0)
		fprintf(stderr, " (%llu more like this held back)",
			(unsigned long long)held);
	fputc('\n', stderr);
}

void
log_warn_at(const char *site, const char *fmt, ...)
{
	int saved = errno;
	uint64_t held;
	va_list ap;

	if (admit(site, &held)) {
		va_start(ap, fmt);
		vlog(fmt, ap, strerror(saved), held);
		va_end(ap);
	}
	errno = saved;
}

void
log_warnx_at(const char *site, const char *fmt, ...)
{
	int saved = errno;
	uint64_t held;
	va_list ap;

	if (admit(site, &held)) {
		va_start(ap, fmt);
		vlog(fmt, ap, NULL, held);
		va_end(ap);
	}
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL, 0);
	va_end(ap);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!debug)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL, 0);
	va_end(ap);
	errno = saved;
}
