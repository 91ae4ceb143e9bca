/* SPDX-License-Identifier: MIT */
/* The option table's parser: each type into its field and size, ranges
   and units with one message, lists to their bound, operands after the
   options, -h and -V, and 64 for every mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct cfg {
	bool on, off;
	const char *name;
	const char *list[2];
	size_t n_list;
	uint16_t port;
	uint8_t small;
	uint64_t wait_ms;
	uint32_t ttl_ms;
	const char *called;
	int calls;
};

#define C(f) offsetof(struct cfg, f)

static const char *
no_x(const char *arg)
{
	return strchr(arg, 'x') ? "no x here" : NULL;
}

static const char *
take_call(void *cfg, const char *arg)
{
	struct cfg *c = cfg;

	c->calls++;
	c->called = arg != NULL ? arg : "(none)";
	return arg != NULL && strcmp(arg, "bad") == 0 ? "not that" : NULL;
}

static const struct cli_opt opts[] = {
	{"on", 'o', CLI_SET, C(on), 0, 0, 0, 0, NULL, NULL, 0},
	{"no-off", 0, CLI_CLEAR, C(off), 0, 0, 0, 0, NULL, NULL, 0},
	{"name", 'n', CLI_TEXT, C(name), 0, 0, 0, 0, no_x, NULL, 0},
	{"item", 'i', CLI_LIST, C(list), 2, C(n_list), 0, 0, no_x, NULL, 0},
	{"port", 'p', CLI_UINT, C(port), 2, 0, 1, 65535, NULL, NULL, 0},
	{"small", 0, CLI_UINT, C(small), 1, 0, 0, 200, NULL, NULL, 0},
	{"wait", 'W', CLI_SECONDS, C(wait_ms), 8, 0, 1, 3600000, NULL, NULL, 0},
	{"ttl", 0, CLI_SECONDS, C(ttl_ms), 4, 0, 100, 864000000, NULL, NULL, 0},
	{"call", 0, CLI_CALL, 0, 0, 0, 0, 0, NULL, take_call, true},
	{"help", 'h', CLI_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0},
	{"version", 'V', CLI_VERSION, 0, 0, 0, 0, 0, NULL, NULL, 0},
};

static const struct cli cli = {
	"prog",     "prog --help", "usage: prog\n",
	"prog 1.0", opts,          sizeof(opts) / sizeof(opts[0])};

/* Parses the arguments (after a program name); stderr kept in err. */
static char err[1024];

static int
parse(struct cfg *c, int *first, ...)
{
	char *argv[32] = {"prog"};
	int argc = 1, rc, saved = dup(2);
	FILE *f = tmpfile();
	va_list ap;
	size_t n;

	va_start(ap, first);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	memset(c, 0, sizeof(*c));
	c->off = true;
	fflush(stderr);
	dup2(fileno(f), 2);
	rc = cli_parse(&cli, argc, argv, c, first);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(err, 1, sizeof(err) - 1, f);
	err[n] = '\0';
	fclose(f);
	return rc;
}

static void
test_types(void **state)
{
	struct cfg c;
	int first;
	(void)state;

	assert_int_equal(parse(&c, &first, "-o", "--no-off", "--name", "a",
			       "-i", "b", "--item=c", "-p", "65535", "--small",
			       "200", "-W", "0.25", "--ttl", "864000", "op1",
			       NULL),
			 0);
	assert_true(c.on);
	assert_false(c.off);
	assert_string_equal(c.name, "a");
	assert_int_equal(c.n_list, 2);
	assert_string_equal(c.list[1], "c");
	assert_int_equal(c.port, 65535);
	assert_int_equal(c.small, 200);
	assert_int_equal(c.wait_ms, 250);
	assert_int_equal(c.ttl_ms, 864000000u);
	assert_int_equal(first, 16);
	assert_string_equal(err, "");
}

static void
test_operands_last(void **state)
{
	struct cfg c;
	int first;
	char *argv[] = {"prog", "op1", "-p", "7", "op2", NULL};
	(void)state;

	/* getopt moves the operands after the options. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(cli_parse(&cli, 5, argv, &c, &first), 0);
	assert_int_equal(c.port, 7);
	assert_int_equal(first, 3);
	assert_string_equal(argv[first], "op1");
	assert_string_equal(argv[first + 1], "op2");
	assert_string_equal(argv[0], "prog"); /* given back */
}

static void
test_ranges(void **state)
{
	struct cfg c;
	int first;
	(void)state;

	assert_int_equal(parse(&c, &first, "-p", "0", NULL), CLI_USAGE);
	assert_string_equal(err, "prog: port must be 1 to 65535: 0\n"
				 "Try 'prog --help'.\n");
	assert_int_equal(parse(&c, &first, "-p", "65536", NULL), CLI_USAGE);
	assert_int_equal(parse(&c, &first, "-p", "1x", NULL), CLI_USAGE);
	assert_int_equal(parse(&c, &first, "-p", "-1", NULL), CLI_USAGE);
	assert_int_equal(parse(&c, &first, "--small", "201", NULL), CLI_USAGE);
	assert_int_equal(parse(&c, &first, "-W", "0", NULL), CLI_USAGE);
	assert_string_equal(err, "prog: wait must be 0.001 to 3600 seconds: 0\n"
				 "Try 'prog --help'.\n");
	assert_int_equal(parse(&c, &first, "--ttl", "0.05", NULL), CLI_USAGE);
	assert_non_null(strstr(err, "ttl must be 0.1 to 864000 seconds"));
}

static void
test_refusals(void **state)
{
	struct cfg c;
	int first;
	(void)state;

	assert_int_equal(parse(&c, &first, "--name", "axe", NULL), CLI_USAGE);
	assert_string_equal(err, "prog: --name axe: no x here\n"
				 "Try 'prog --help'.\n");
	assert_int_equal(
		parse(&c, &first, "-i", "a", "-i", "b", "-i", "c", NULL),
		CLI_USAGE);
	assert_non_null(strstr(err, "prog: too many --item: c\n"));
	assert_int_equal(c.n_list, 2);
	assert_int_equal(parse(&c, &first, "--call=bad", NULL), CLI_USAGE);
	assert_non_null(strstr(err, "prog: --call bad: not that\n"));
	assert_int_equal(parse(&c, &first, "--bogus", NULL), CLI_USAGE);
	assert_non_null(strstr(err, "prog: invalid option\n"));
	assert_int_equal(parse(&c, &first, "-p", NULL), CLI_USAGE);
}

static void
test_call_and_done(void **state)
{
	struct cfg c;
	int first;
	(void)state;

	assert_int_equal(parse(&c, &first, "--call", NULL), 0);
	assert_string_equal(c.called, "(none)"); /* optional, left out */
	assert_int_equal(parse(&c, &first, "--call=v", "--call=w", NULL), 0);
	assert_int_equal(c.calls, 2);
	assert_string_equal(c.called, "w");
	assert_int_equal(parse(&c, &first, "-p", "5", "-h", "-p", "0", NULL),
			 CLI_DONE);
	assert_int_equal(parse(&c, &first, "--version", NULL), CLI_DONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_operands_last),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_call_and_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
