/* SPDX-License-Identifier: MIT */
/* NetBIOS names: set, encode, decode, format, and every decode error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mailslot/wire.h"

/* docs/wire.md 1.2: WORKGROUP<00>. */
static const uint8_t workgroup_wire[34] = {
	0x20, 'F', 'H', 'E', 'P', 'F', 'C', 'E', 'L', 'E', 'H', 'F',
	'C',  'E', 'P', 'F', 'F', 'F', 'A', 'C', 'A', 'C', 'A', 'C',
	'A',  'C', 'A', 'C', 'A', 'C', 'A', 'A', 'A', 0x00};

static void
test_set_uppercases_and_pads(void **state)
{
	struct mailslot_nbname n;
	(void)state;

	assert_int_equal(mailslot_nbname_set(&n, "workGroup", 0x1d),
			 MAILSLOT_OK);
	assert_memory_equal(n.raw, "WORKGROUP      ", 15);
	assert_int_equal(n.suffix, 0x1d);
	assert_string_equal(n.scope, "");
}

static void
test_set_star_pads_with_nul(void **state)
{
	struct mailslot_nbname n;
	static const uint8_t want[15] = {'*'};
	(void)state;

	assert_int_equal(mailslot_nbname_set(&n, "*", 0), MAILSLOT_OK);
	assert_memory_equal(n.raw, want, 15);
}

static void
test_set_rejects_bad_names(void **state)
{
	struct mailslot_nbname n;
	(void)state;

	assert_int_equal(mailslot_nbname_set(&n, "", 0),
			 MAILSLOT_E_NAME_INVALID);
	assert_int_equal(mailslot_nbname_set(&n, "ABCDEFGHIJKLMNOP", 0),
			 MAILSLOT_E_NAME_INVALID);
	assert_int_equal(mailslot_nbname_set(&n, "ABCDEFGHIJKLMNO", 0),
			 MAILSLOT_OK);
	assert_int_equal(mailslot_nbname_set(&n, "a.b", 0),
			 MAILSLOT_E_NAME_INVALID);
	assert_int_equal(mailslot_nbname_set(&n, "a\tb", 0),
			 MAILSLOT_E_NAME_INVALID);
	assert_int_equal(mailslot_nbname_set(&n, "a*", 0),
			 MAILSLOT_E_NAME_INVALID);
	assert_int_equal(mailslot_nbname_set(&n, "caf\xc3\xa9", 0),
			 MAILSLOT_E_NAME_INVALID);
}

static void
test_encode_workgroup_matches_reference(void **state)
{
	struct mailslot_nbname n;
	uint8_t buf[64];
	size_t used;
	(void)state;

	assert_int_equal(mailslot_nbname_set(&n, "WORKGROUP", 0), MAILSLOT_OK);
	assert_int_equal(mailslot_nbname_encode(&n, buf, sizeof(buf), &used),
			 MAILSLOT_OK);
	assert_int_equal(used, 34);
	assert_memory_equal(buf, workgroup_wire, 34);
	assert_int_equal(mailslot_nbname_encode(&n, buf, 33, &used),
			 MAILSLOT_E_NOSPACE);
}

static void
test_scope_round_trip(void **state)
{
	struct mailslot_nbname n, back;
	uint8_t buf[300];
	size_t used, used2;
	char text[300];
	(void)state;

	assert_int_equal(mailslot_nbname_set(&n, "host", 0x20), MAILSLOT_OK);
	strcpy(n.scope, "lab.Example");
	assert_int_equal(mailslot_nbname_encode(&n, buf, sizeof(buf), &used),
			 MAILSLOT_OK);
	assert_int_equal(used, 34 + 4 + 8);
	assert_int_equal(buf[33], 3);
	assert_memory_equal(buf + 34, "lab", 3);
	assert_int_equal(mailslot_nbname_decode(buf, used, &back, &used2),
			 MAILSLOT_OK);
	assert_int_equal(used2, used);
	assert_memory_equal(back.raw, n.raw, 15);
	assert_int_equal(back.suffix, 0x20);
	assert_string_equal(back.scope, "lab.Example");
	mailslot_nbname_format(&back, text, sizeof(text));
	assert_string_equal(text, "HOST<20>.lab.Example");
}

static void
test_encode_rejects_bad_scope(void **state)
{
	struct mailslot_nbname n;
	uint8_t buf[300];
	size_t used;
	(void)state;

	assert_int_equal(mailslot_nbname_set(&n, "h", 0), MAILSLOT_OK);
	strcpy(n.scope, "a..b");
	assert_int_equal(mailslot_nbname_encode(&n, buf, sizeof(buf), &used),
			 MAILSLOT_E_NAME_SCOPE);
	strcpy(n.scope, "a.");
	assert_int_equal(mailslot_nbname_encode(&n, buf, sizeof(buf), &used),
			 MAILSLOT_E_NAME_SCOPE);
	memset(n.scope, 'x', 64);
	n.scope[64] = '\0';
	assert_int_equal(mailslot_nbname_encode(&n, buf, sizeof(buf), &used),
			 MAILSLOT_E_NAME_SCOPE);
}

static void
test_format_like_tshark(void **state)
{
	static const uint8_t msbrowse[16] = {1,   2,   '_', '_', 'M', 'S',
					     'B', 'R', 'O', 'W', 'S', 'E',
					     '_', '_', 2,   1};
	struct mailslot_nbname n;
	char text[64], small[6];
	(void)state;

	memcpy(n.raw, msbrowse, 15);
	n.suffix = msbrowse[15];
	n.scope[0] = '\0';
	assert_int_equal(mailslot_nbname_format(&n, text, sizeof(text)),
			 strlen("<01><02>__MSBROWSE__<02><01>"));
	assert_string_equal(text, "<01><02>__MSBROWSE__<02><01>");
	/* Truncation still terminates. */
	mailslot_nbname_format(&n, small, sizeof(small));
	assert_string_equal(small, "<01><");
	assert_int_equal(mailslot_nbname_set(&n, "*", 0), MAILSLOT_OK);
	mailslot_nbname_format(&n, text, sizeof(text));
	assert_string_equal(text, "*<00>");
}

static void
test_decode_errors(void **state)
{
	struct mailslot_nbname n;
	uint8_t buf[64];
	size_t used;
	(void)state;

	memcpy(buf, workgroup_wire, 34);
	assert_int_equal(mailslot_nbname_decode(buf, 34, &n, &used),
			 MAILSLOT_OK);
	assert_int_equal(mailslot_nbname_decode(buf, 0, &n, &used),
			 MAILSLOT_E_TRUNCATED);
	assert_int_equal(mailslot_nbname_decode(buf, 20, &n, &used),
			 MAILSLOT_E_TRUNCATED);
	/* Missing terminator. */
	assert_int_equal(mailslot_nbname_decode(buf, 33, &n, &used),
			 MAILSLOT_E_TRUNCATED);
	buf[0] = 31;
	assert_int_equal(mailslot_nbname_decode(buf, 34, &n, &used),
			 MAILSLOT_E_NAME_LABEL);
	buf[0] = 32;
	buf[5] = 'Q';
	assert_int_equal(mailslot_nbname_decode(buf, 34, &n, &used),
			 MAILSLOT_E_NAME_ENCODING);
	buf[5] = 'a';
	assert_int_equal(mailslot_nbname_decode(buf, 34, &n, &used),
			 MAILSLOT_E_NAME_ENCODING);
	memcpy(buf, workgroup_wire, 34);
	/* A label pointer instead of a scope. */
	buf[33] = 0xc0;
	buf[34] = 0x0c;
	assert_int_equal(mailslot_nbname_decode(buf, 35, &n, &used),
			 MAILSLOT_E_NAME_SCOPE);
	/* A scope label holding a control byte. */
	buf[33] = 2;
	buf[34] = 'a';
	buf[35] = 0x07;
	buf[36] = 0;
	assert_int_equal(mailslot_nbname_decode(buf, 37, &n, &used),
			 MAILSLOT_E_NAME_SCOPE);
	/* A scope label running past the end. */
	buf[33] = 9;
	assert_int_equal(mailslot_nbname_decode(buf, 37, &n, &used),
			 MAILSLOT_E_TRUNCATED);
}

static void
test_decode_rejects_overlong_scope(void **state)
{
	uint8_t buf[400];
	struct mailslot_nbname n;
	size_t used, off = 34, i;
	(void)state;

	memcpy(buf, workgroup_wire, 33);
	off = 33;
	for (i = 0; i < 4; i++) { /* 4 x 63 = 252 > MAILSLOT_SCOPE_MAX */
		buf[off++] = 63;
		memset(buf + off, 'x', 63);
		off += 63;
	}
	buf[off++] = 0;
	assert_int_equal(mailslot_nbname_decode(buf, off, &n, &used),
			 MAILSLOT_E_NAME_SCOPE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_uppercases_and_pads),
		cmocka_unit_test(test_set_star_pads_with_nul),
		cmocka_unit_test(test_set_rejects_bad_names),
		cmocka_unit_test(test_encode_workgroup_matches_reference),
		cmocka_unit_test(test_scope_round_trip),
		cmocka_unit_test(test_encode_rejects_bad_scope),
		cmocka_unit_test(test_format_like_tshark),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_rejects_overlong_scope),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
