/* SPDX-License-Identifier: MIT */
/* beacon-agent's command line: defaults, values, and every usage error
   exiting AGENT_EXIT_USAGE (64, as in the other two programs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent.h"

#define PARSE(c, ...) parse(c, (char *[]){"beacon-agent", __VA_ARGS__, NULL})

static int
parse(struct agent_config *c, char **argv)
{
	bool done;
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return agent_config_parse(argc, argv, c, &done);
}

static void
test_defaults(void **state)
{
	struct agent_config c;
	(void)state;

	assert_int_equal(parse(&c, (char *[]){"beacon-agent", NULL}), 0);
	assert_int_equal(c.port, 138);
	assert_int_equal(c.interval_ms, 10000);
	assert_int_equal(c.ttl_ms, 30000);
	assert_int_equal(c.n_tags, 0);
	assert_null(c.workgroup);
}

static void
test_values(void **state)
{
	struct agent_config c;
	(void)state;

	assert_int_equal(PARSE(&c, "--port", "47138", "--interval", "0.5",
			       "--broadcast", "127.255.255.255", "--tag",
			       "note=x,role=db", "--tag",
			       "empty=", "--workgroup", "LAB", "--interface",
			       "later0", "--hostname", "h1", "--id", "abc"),
			 0);
	assert_int_equal(c.port, 47138);
	assert_int_equal(c.interval_ms, 500);
	assert_int_equal(c.ttl_ms, 1500); /* 3 x interval */
	assert_int_equal(c.n_broadcast, 1);
	assert_int_equal(c.n_tags, 2);
	assert_string_equal(c.tags[0].key, "note");
	assert_string_equal(c.tags[0].value, "x,role=db");
	assert_string_equal(c.tags[1].value, "");
	assert_string_equal(c.workgroup, "LAB");
	/* An interface that does not exist yet may come: not an error. */
	assert_int_equal(c.n_interfaces, 1);
	assert_int_equal(PARSE(&c, "--ttl", "60"), 0);
	assert_int_equal(c.ttl_ms, 60000);
}

static void
test_usage_errors(void **state)
{
	struct agent_config c;
	char *many[2 * BEACON_MAX_TAGS + 4] = {"beacon-agent"};
	char tags[BEACON_MAX_TAGS + 1][16];
	int i, n = 1;
	(void)state;

	assert_int_equal(PARSE(&c, "--port", "0"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--interval", "0.01"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--interval", "2", "--ttl", "1"),
			 AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--tag", "novalue"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--tag", "=v"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--tag", "a b=v"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--tag", "k=\x1b[2J"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--tag", "k=1", "--tag", "k=2"),
			 AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--broadcast", "nonsense"),
			 AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--broadcast", "255.255.255.255"),
			 AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--workgroup", "a.b"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--workgroup", "*"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--interface", ""), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--interface", "much-too-long-name"),
			 AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--hostname", "bad name"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--id", "bad/id"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "extra"), AGENT_EXIT_USAGE);
	assert_int_equal(PARSE(&c, "--bogus"), AGENT_EXIT_USAGE);
	for (i = 0; i <= BEACON_MAX_TAGS; i++) {
		snprintf(tags[i], sizeof(tags[i]), "k%d=v", i);
		many[n++] = "--tag";
		many[n++] = tags[i];
	}
	many[n] = NULL;
	assert_int_equal(parse(&c, many), AGENT_EXIT_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
