/* SPDX-License-Identifier: MIT */
/* beacon-probe's command line: commands, defaults, values, and every usage
   error exiting EXIT_USAGE (64, as in the other two programs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "probe.h"

#define PARSE(c, ...) parse(c, (char *[]){"beacon-probe", __VA_ARGS__, NULL})

static int
parse(struct probe_config *c, char **argv)
{
	bool done;
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return probe_config_parse(argc, argv, c, &done);
}

/* The MQTT options: where they go, their checks, list --mqtt's wait. */
static void
test_mqtt(void **state)
{
	struct probe_config c;

	(void)state;
	assert_int_equal(PARSE(&c, "list", "--mqtt", "mqtt://b"), 0);
	assert_int_equal(c.wait_ms, 1000);
	assert_int_equal(PARSE(&c, "list", "--mqtt", "mqtt://b", "-W", "3"), 0);
	assert_int_equal(c.wait_ms, 3000);
	assert_int_equal(PARSE(&c, "list"), 0);
	assert_int_equal(c.wait_ms, 2000);
	assert_int_equal(PARSE(&c, "watch", "--mqtt", "mqtts://u@b:8883",
			       "--site", "a", "--site", "b", "-s", "unknown"),
			 0);
	assert_int_equal(c.n_sites, 2);
	assert_int_equal(PARSE(&c, "serve", "-o", "x", "--mqtt", "mqtt://b",
			       "--site", "s", "--mqtt-refresh", "5",
			       "--mqtt-homeassistant"),
			 0);
	assert_int_equal(c.mqtt_refresh_ms, 5000);
	assert_string_equal(c.mqtt_homeassistant, "homeassistant");
	assert_int_equal(PARSE(&c, "serve", "-o", "x", "--mqtt", "mqtt://b",
			       "--site", "s", "--mqtt-homeassistant=ha"),
			 0);
	assert_string_equal(c.mqtt_homeassistant, "ha");
	/* Usage errors. */
	assert_int_equal(PARSE(&c, "list", "--mqtt-refresh", "5"), EXIT_USAGE);
	assert_int_equal(
		PARSE(&c, "list", "--mqtt", "mqtt://b", "--mqtt-homeassistant"),
		EXIT_USAGE);
	assert_int_equal(PARSE(&c, "serve", "-o", "x", "--mqtt", "mqtt://b",
			       "--site", "s", "--mqtt-homeassistant=a/b"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&c, "serve", "-o", "x", "--mqtt", "mqtt://b",
			       "--site", "s", "--mqtt-refresh", "0"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "-s", "unknown"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "serve", "-o", "x", "--mqtt", "mqtt://b",
			       "--site", "a", "--site", "b"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--mqtt", "http://b"), EXIT_USAGE);
}

static void
test_defaults(void **state)
{
	struct probe_config c;
	(void)state;

	assert_int_equal(PARSE(&c, "list"), 0);
	assert_int_equal(c.cmd, CMD_LIST);
	assert_int_equal(c.port, 138);
	assert_int_equal(c.wait_ms, 2000);
	assert_true(c.solicit);
	assert_int_equal(c.max_hosts, HOSTTAB_DEFAULT_MAX);
	assert_int_equal(c.max_ttl_ms, HOSTTAB_DEFAULT_MAX_TTL_MS);
	assert_int_equal(c.max_queries, 50);
	assert_int_equal(c.max_per_source, 1000);
	assert_true(c.new_per_source == HOSTTAB_NEW_PER_S);
	assert_int_equal(c.export_interval_ms, 1000);
}

static void
test_values(void **state)
{
	struct probe_config c;
	(void)state;

	assert_int_equal(PARSE(&c, "serve", "--export", "/tmp/x.json",
			       "--export-interval", "0.25", "--max-ttl", "10",
			       "--new-hosts-per-source", "50", "--max-queries",
			       "5", "--max-per-source", "7", "--max-hosts",
			       "1000", "--interface", "lo", "--broadcast",
			       "127.255.255.255"),
			 0);
	assert_int_equal(c.cmd, CMD_SERVE);
	assert_int_equal(c.export_interval_ms, 250);
	assert_int_equal(c.max_ttl_ms, 10000);
	assert_true(c.new_per_source == 50);
	assert_true(c.new_burst == 500);
	assert_int_equal(c.max_queries, 5);
	assert_int_equal(c.max_per_source, 7);
	assert_int_equal(c.max_hosts, 1000);
	assert_int_equal(PARSE(&c, "watch", "--events", "--tag", "a=b=c",
			       "--status", "stale", "--status", "conflict"),
			 0);
	assert_true(c.events);
	assert_int_equal(c.n_tags, 1);
	assert_string_equal(c.tags[0].value, "b=c");
	assert_int_equal(c.n_statuses, 2);
}

static void
test_usage_errors(void **state)
{
	struct probe_config c;
	(void)state;

	assert_int_equal(parse(&c, (char *[]){"beacon-probe", NULL}),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&c, "frobnicate"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "serve"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--export", "x"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--events"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--status", "bogus"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--tag", "novalue"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--wait", "0"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--port", "65536"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--max-ttl", "0"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--new-hosts-per-source", "0"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--max-queries", "0"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--broadcast", "0.0.0.0"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--broadcast", "224.0.0.1"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--interface", "nonexistent0"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "--workgroup", "a:b"), EXIT_USAGE);
	assert_int_equal(PARSE(&c, "list", "extra"), EXIT_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_mqtt),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
