/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "num.h"

bool
num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned d;
		if (*s < '0' || *s > '9')
			return false;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
num_parse_seconds(const char *s, uint64_t min_ms, uint64_t max_ms,
		  uint64_t *out_ms)
{
	const char *q;
	char *end;
	double v, ms;

	/* strtod would take hex, inf, nan, exponents and spaces: refuse them. */
	if (*s == '\0')
		return false;
	for (q = s; *q != '\0'; q++)
		if (!((*q >= '0' && *q <= '9') || *q == '.'))
			return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v))
		return false;
	ms = v * 1000.0 + 0.5; /* v >= 0: rounds to nearest, without libm */
	ms = ms < 1.8e19 ? (double)(uint64_t)ms : ms;
	if (ms < (double)min_ms || ms > (double)max_ms)
		return false;
	*out_ms = (uint64_t)ms;
	return true;
}
