/* SPDX-License-Identifier: MIT */
/* UNC mailslot names: every accepted form and every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mailslot/unc.h"

static void
parse_ok(const char *unc, enum mailslot_target target, const char *server,
	 const char *path)
{
	struct mailslot_unc u;

	assert_int_equal(mailslot_unc_parse(unc, &u), MAILSLOT_OK);
	assert_int_equal(u.target, target);
	assert_string_equal(u.server, server);
	assert_string_equal(u.path, path);
}

static void
test_forms(void **state)
{
	(void)state;
	parse_ok("\\\\.\\mailslot\\beacon", MAILSLOT_TARGET_LOCAL, ".",
		 "\\MAILSLOT\\beacon");
	parse_ok("\\\\*\\mailslot\\beacon", MAILSLOT_TARGET_ANY, "*",
		 "\\MAILSLOT\\beacon");
	parse_ok("\\\\OFFICE\\MailSlot\\Beacon", MAILSLOT_TARGET_NAMED,
		 "OFFICE", "\\MAILSLOT\\Beacon");
	parse_ok("\\\\host-1.lab.example\\MAILSLOT\\x", MAILSLOT_TARGET_NAMED,
		 "host-1.lab.example", "\\MAILSLOT\\x");
	parse_ok("\\\\198.18.0.5\\mailslot\\x", MAILSLOT_TARGET_NAMED,
		 "198.18.0.5", "\\MAILSLOT\\x");
	parse_ok("\\\\*\\mailslot\\beacon\\query", MAILSLOT_TARGET_ANY, "*",
		 "\\MAILSLOT\\beacon\\query");
	parse_ok("\\\\.\\mailslot\\a\\b\\c", MAILSLOT_TARGET_LOCAL, ".",
		 "\\MAILSLOT\\a\\b\\c");
}

static void
expect(const char *unc, enum mailslot_err err)
{
	struct mailslot_unc u;

	assert_int_equal(mailslot_unc_parse(unc, &u), err);
}

static void
test_errors(void **state)
{
	char long_server[300], long_name[300];
	(void)state;

	expect("", MAILSLOT_E_UNC_PREFIX);
	expect("\\.\\mailslot\\x", MAILSLOT_E_UNC_PREFIX);
	expect("//./mailslot/x", MAILSLOT_E_UNC_PREFIX);
	expect("\\\\", MAILSLOT_E_UNC_MAILSLOT);
	expect("\\\\.", MAILSLOT_E_UNC_MAILSLOT);
	expect("\\\\\\mailslot\\x", MAILSLOT_E_UNC_SERVER);
	expect("\\\\a b\\mailslot\\x", MAILSLOT_E_UNC_SERVER);
	expect("\\\\**\\mailslot\\x", MAILSLOT_E_UNC_SERVER);
	expect("\\\\.\\pipe\\x", MAILSLOT_E_UNC_MAILSLOT);
	expect("\\\\.\\mailslots\\x", MAILSLOT_E_UNC_MAILSLOT);
	expect("\\\\.\\mailslot", MAILSLOT_E_UNC_MAILSLOT);
	expect("\\\\.\\mailslot\\", MAILSLOT_E_UNC_NAME);
	expect("\\\\.\\mailslot\\\\x", MAILSLOT_E_UNC_NAME);
	expect("\\\\.\\mailslot\\x\\", MAILSLOT_E_UNC_NAME);
	expect("\\\\.\\mailslot\\a\\\\b", MAILSLOT_E_UNC_NAME);
	expect("\\\\.\\mailslot\\a b", MAILSLOT_E_UNC_NAME);
	expect("\\\\.\\mailslot\\a*", MAILSLOT_E_UNC_NAME);
	expect("\\\\.\\mailslot\\a/b", MAILSLOT_E_UNC_NAME);
	expect("\\\\.\\mailslot\\a\x1b", MAILSLOT_E_UNC_NAME);
	expect("\\\\.\\mailslot\\caf\xc3\xa9", MAILSLOT_E_UNC_NAME);

	memset(long_server, 'a', sizeof(long_server));
	memcpy(long_server, "\\\\", 2);
	strcpy(long_server + 2 + 254, "\\mailslot\\x");
	expect(long_server, MAILSLOT_E_UNC_SERVER);

	/* The wire path may be 255 bytes: "\MAILSLOT\" + 245. */
	strcpy(long_name, "\\\\.\\mailslot\\");
	memset(long_name + 13, 'n', 245);
	long_name[13 + 245] = '\0';
	expect(long_name, MAILSLOT_OK);
	strcat(long_name, "n");
	expect(long_name, MAILSLOT_E_UNC_NAME);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
