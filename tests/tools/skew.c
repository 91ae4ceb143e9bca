/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD for the tests: CLOCK_REALTIME moved by BEACON_SKEW_MS
 * milliseconds (a host whose clock is off), every other clock as it is.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

int clock_gettime(clockid_t id, struct timespec *ts);

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	const char *skew = getenv("BEACON_SKEW_MS");
	long long ms, ns;
	int rc;

	if (real == NULL)
		real = (int (*)(clockid_t, struct timespec *))dlsym(
			RTLD_NEXT, "clock_gettime");
	rc = real(id, ts);
	if (rc != 0 || id != CLOCK_REALTIME || skew == NULL)
		return rc;
	ms = atoll(skew);
	ns = (long long)ts->tv_nsec + ms % 1000 * 1000000;
	ts->tv_sec += (time_t)(ms / 1000 + (ns >= 1000000000) - (ns < 0));
	ts->tv_nsec = (long)(ns >= 1000000000 ? ns - 1000000000
			     : ns < 0         ? ns + 1000000000
					      : ns);
	return 0;
}
