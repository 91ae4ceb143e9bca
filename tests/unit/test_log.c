/* SPDX-License-Identifier: MIT */
/* The log's rate limit, with the clock as a parameter: a burst per call
   site, then one line a gap, the held-back count said with the next line;
   sites are counted apart, even with one format; info lines are never held
   back; errno is kept. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* Run fn with standard error in a temporary file; the lines it wrote. */
static size_t
captured(void (*fn)(void), char *out, size_t cap)
{
	FILE *tmp = tmpfile();
	int saved = dup(fileno(stderr));
	size_t n, lines = 0, i;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), fileno(stderr));
	fn();
	fflush(stderr);
	dup2(saved, fileno(stderr));
	close(saved);
	rewind(tmp);
	n = fread(out, 1, cap - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	for (i = 0; i < n; i++)
		lines += out[i] == '\n';
	return lines;
}

/* One call site. */
static void
bad_datagram(int i)
{
	log_warnx("bad datagram from %d", i);
}

static void
flood_one_site(void)
{
	int i;

	for (i = 0; i < 1000; i++)
		bad_datagram(i);
}

static void
after_gap(void)
{
	fake_now += LOG_GAP_MS;
	bad_datagram(-1);
}

static void
other_sites(void)
{
	log_warnx("another failure");
	/* The same format as the flooded site, elsewhere: its own limit. */
	log_warnx("bad datagram from %d", 7);
	log_info("a progress line");
	log_info("a progress line");
	log_debug("not shown without verbose");
}

static void
test_rate_limit(void **state)
{
	static char out[65536];
	(void)state;

	log_init("beacon-test", 0);
	log_set_clock(fake_clock);
	fake_now = 1000;
	assert_int_equal(captured(flood_one_site, out, sizeof(out)), LOG_BURST);
	assert_non_null(strstr(out, "beacon-test: bad datagram from 0\n"));
	assert_null(strstr(out, "from 3\n"));
	assert_int_equal(log_suppressed(), 1000 - LOG_BURST);
	assert_int_equal(captured(after_gap, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "(997 more like this held back)"));
	assert_int_equal(captured(other_sites, out, sizeof(out)), 4);
	assert_non_null(strstr(out, "bad datagram from 7\n"));
	log_set_clock(NULL);
}

static void
warn_keeps_errno(void)
{
	errno = EAGAIN;
	log_warnx("a warning");
	assert_int_equal(errno, EAGAIN);
	errno = ENOENT;
	log_warn("a failure");
	assert_int_equal(errno, ENOENT);
	errno = EINTR;
	log_info("a progress line");
	assert_int_equal(errno, EINTR);
}

static void
test_errno_kept(void **state)
{
	static char out[4096];
	(void)state;

	log_init("beacon-test", 0);
	assert_int_equal(captured(warn_keeps_errno, out, sizeof(out)), 3);
	/* Standard error closed: the write fails, errno stays. */
	errno = EPERM;
	{
		int saved = dup(fileno(stderr));
		close(fileno(stderr));
		log_warnx("to a closed stderr");
		dup2(saved, fileno(stderr));
		close(saved);
	}
	assert_int_equal(errno, EPERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_errno_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
