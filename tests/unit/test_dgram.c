/* SPDX-License-Identifier: MIT */
/*
 * The datagram codec: the reference's "hello" example byte for byte in both
 * styles (docs/wire.md 2.3), round trips, and every decode error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mailslot/wire.h"

/* docs/wire.md 2.3, style A (padded) and style B (unpadded). */
static const char hello_a_hex[] =
	"11021234c0a8010a008a00a100002046444546454f4545454646434341434143"
	"4143414341434143414341434141410020464845504643454c45484643455046"
	"464641434143414341434143414341414100ff534d4225000000001804000000"
	"000000000000000000000000fffe000000001100000500020000000000020000"
	"00000000000000580005005800030001000000020018005c4d41494c534c4f54"
	"5c424541434f4e00000068656c6c6f";
static const char hello_b_hex[] =
	"11021234c0a8010a008a009f00002046444546454f4545454646434341434143"
	"4143414341434143414341434141410020464845504643454c45484643455046"
	"464641434143414341434143414341414100ff534d4225000000000000000000"
	"00000000000000000000000000000000000011000005000000000000000000e8"
	"03000000000000000005005600030001000000020016005c4d41494c534c4f54"
	"5c424541434f4e0068656c6c6f";

/* Offsets in the NBT datagram of the unpadded hello (style B). */
enum {
	OFF_TYPE = 0,
	OFF_FLAGS = 1,
	OFF_DGM_LEN = 10,
	OFF_PKT_OFF = 12,
	OFF_SMB = 82,
	OFF_CMD = OFF_SMB + 4,
	OFF_WC = OFF_SMB + 32,
	OFF_TDC = OFF_SMB + 35,
	OFF_DC = OFF_SMB + 55,
	OFF_DOFF = OFF_SMB + 57,
	OFF_SC = OFF_SMB + 59,
	OFF_OPCODE = OFF_SMB + 61,
	OFF_NAME = OFF_SMB + 69,
};

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2, i;
	unsigned v;

	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
hello(struct mailslot_dgram *d)
{
	memset(d, 0, sizeof(*d));
	d->msg_type = MAILSLOT_DIRECT_GROUP;
	d->flags = MAILSLOT_FLAG_FIRST;
	d->dgm_id = 0x1234;
	d->src_ip = 0xc0a8010a; /* 192.168.1.10 */
	d->src_port = 138;
	assert_int_equal(mailslot_nbname_set(&d->src_name, "SENDER", 0),
			 MAILSLOT_OK);
	assert_int_equal(mailslot_nbname_set(&d->dst_name, "WORKGROUP", 0),
			 MAILSLOT_OK);
	strcpy(d->path, "\\MAILSLOT\\BEACON");
	d->data = (const uint8_t *)"hello";
	d->data_len = 5;
}

static size_t
hello_b(uint8_t *buf)
{
	return unhex(hello_b_hex, buf);
}

static void
test_encode_hello_padded_byte_for_byte(void **state)
{
	uint8_t want[256], got[256];
	struct mailslot_dgram d;
	size_t n = unhex(hello_a_hex, want), used;
	(void)state;

	assert_int_equal(n, 175);
	hello(&d);
	assert_int_equal(mailslot_dgram_encode(&d, MAILSLOT_STYLE_PADDED, got,
					       sizeof(got), &used),
			 MAILSLOT_OK);
	assert_int_equal(used, n);
	assert_memory_equal(got, want, n);
}

static void
test_encode_hello_unpadded_byte_for_byte(void **state)
{
	uint8_t want[256], got[256];
	struct mailslot_dgram d;
	size_t n = hello_b(want), used;
	(void)state;

	assert_int_equal(n, 173);
	hello(&d);
	assert_int_equal(mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, got,
					       sizeof(got), &used),
			 MAILSLOT_OK);
	assert_int_equal(used, n);
	assert_memory_equal(got, want, n);
}

static void
check_hello_fields(const struct mailslot_dgram *d, uint16_t doff)
{
	char name[64];

	assert_int_equal(d->msg_type, 0x11);
	assert_int_equal(d->flags, 0x02);
	assert_int_equal(d->dgm_id, 0x1234);
	assert_int_equal(d->src_ip, 0xc0a8010a);
	assert_int_equal(d->src_port, 138);
	mailslot_nbname_format(&d->src_name, name, sizeof(name));
	assert_string_equal(name, "SENDER<00>");
	mailslot_nbname_format(&d->dst_name, name, sizeof(name));
	assert_string_equal(name, "WORKGROUP<00>");
	assert_string_equal(d->path, "\\MAILSLOT\\BEACON");
	assert_int_equal(d->data_offset, doff);
	assert_int_equal(d->data_len, 5);
	assert_memory_equal(d->data, "hello", 5);
	assert_int_equal(d->mailslot_class, 2);
}

static void
test_decode_hello_both_styles(void **state)
{
	uint8_t buf[256];
	struct mailslot_dgram d;
	size_t n;
	(void)state;

	n = unhex(hello_a_hex, buf);
	assert_int_equal(mailslot_dgram_decode(buf, n, &d), MAILSLOT_OK);
	check_hello_fields(&d, 88);
	assert_int_equal(d.smb_flags, 0x18);
	assert_int_equal(d.smb_flags2, 0x0004);
	assert_int_equal(d.trans_flags, 0x0002);
	assert_int_equal(d.timeout_ms, 0);

	n = hello_b(buf);
	assert_int_equal(mailslot_dgram_decode(buf, n, &d), MAILSLOT_OK);
	check_hello_fields(&d, 86);
	assert_int_equal(d.smb_flags, 0);
	assert_int_equal(d.timeout_ms, 1000);
}

static void
test_round_trip_scoped_unique_long(void **state)
{
	static uint8_t payload[1000], buf[2048];
	struct mailslot_dgram d, back;
	size_t used, i;
	int style;
	(void)state;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	for (style = 0; style < 2; style++) {
		hello(&d);
		d.msg_type = MAILSLOT_DIRECT_UNIQUE;
		d.flags = 0x0e;
		d.priority = 7;
		strcpy(d.src_name.scope, "lab.test");
		strcpy(d.path, "\\MAILSLOT\\beacon\\qry");
		d.data = payload;
		d.data_len = sizeof(payload);
		assert_int_equal(
			mailslot_dgram_encode(&d, (enum mailslot_style)style,
					      buf, sizeof(buf), &used),
			MAILSLOT_OK);
		assert_int_equal(mailslot_dgram_decode(buf, used, &back),
				 MAILSLOT_OK);
		assert_int_equal(back.msg_type, MAILSLOT_DIRECT_UNIQUE);
		assert_int_equal(back.flags, 0x0e);
		assert_int_equal(back.priority, 7);
		assert_string_equal(back.src_name.scope, "lab.test");
		assert_string_equal(back.path, "\\MAILSLOT\\beacon\\qry");
		assert_int_equal(back.data_len, sizeof(payload));
		assert_memory_equal(back.data, payload, sizeof(payload));
		/* 70 + strlen(path) unpadded, rounded up to 4 padded */
		assert_int_equal(back.data_offset, style ? 92 : 90);
	}
}

static void
test_accepts_types_and_ignores_snt(void **state)
{
	uint8_t buf[256];
	struct mailslot_dgram d;
	size_t n = hello_b(buf);
	static const uint8_t types[] = {0x10, 0x11, 0x12};
	static const uint8_t flags[] = {0x02, 0x06, 0x0a, 0x0e};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(types); i++) {
		buf[OFF_TYPE] = types[i];
		assert_int_equal(mailslot_dgram_decode(buf, n, &d),
				 MAILSLOT_OK);
		assert_int_equal(d.msg_type, types[i]);
	}
	for (i = 0; i < sizeof(flags); i++) {
		buf[OFF_FLAGS] = flags[i];
		assert_int_equal(mailslot_dgram_decode(buf, n, &d),
				 MAILSLOT_OK);
	}
}

static void
test_ignores_bytes_past_dgm_length(void **state)
{
	uint8_t buf[256];
	struct mailslot_dgram d;
	size_t n = hello_b(buf);
	(void)state;

	memcpy(buf + n, "junk", 4);
	assert_int_equal(mailslot_dgram_decode(buf, n + 4, &d), MAILSLOT_OK);
	assert_int_equal(d.data_len, 5);
}

static void
test_data_found_only_by_offset(void **state)
{
	uint8_t buf[256];
	struct mailslot_dgram d;
	size_t n = hello_b(buf);
	(void)state;

	/* DataOffset 87, DataCount 4: "ello", as tshark shows it. */
	buf[OFF_DOFF] = 87;
	buf[OFF_DC] = 4;
	buf[OFF_TDC] = 4;
	assert_int_equal(mailslot_dgram_decode(buf, n, &d), MAILSLOT_OK);
	assert_int_equal(d.data_len, 4);
	assert_memory_equal(d.data, "ello", 4);
}

/* Decode a mutated hello and expect ERR. */
static void
expect(const uint8_t *buf, size_t n, enum mailslot_err err)
{
	struct mailslot_dgram d;

	assert_int_equal(mailslot_dgram_decode(buf, n, &d), err);
}

static void
test_decode_errors_header(void **state)
{
	uint8_t b[256], m[256];
	size_t n = hello_b(b);
	(void)state;

	expect(b, 0, MAILSLOT_E_TRUNCATED);
	expect(b, 13, MAILSLOT_E_TRUNCATED);
	memcpy(m, b, n);
	m[OFF_TYPE] = 0x13; /* DATAGRAM ERROR */
	expect(m, n, MAILSLOT_E_MSG_TYPE);
	m[OFF_TYPE] = 0x0f;
	expect(m, n, MAILSLOT_E_MSG_TYPE);
	memcpy(m, b, n);
	m[OFF_FLAGS] = 0x03; /* more fragments follow */
	expect(m, n, MAILSLOT_E_FRAGMENT);
	m[OFF_FLAGS] = 0x00; /* not the first fragment */
	expect(m, n, MAILSLOT_E_FRAGMENT);
	memcpy(m, b, n);
	m[OFF_PKT_OFF + 1] = 1;
	expect(m, n, MAILSLOT_E_FRAGMENT);
	/* DGM_LENGTH one past the datagram. */
	memcpy(m, b, n);
	m[OFF_DGM_LEN + 1]++;
	expect(m, n, MAILSLOT_E_DGM_LENGTH);
	/* Cut inside the source name, the destination name, the SMB. */
	memcpy(m, b, n);
	m[OFF_DGM_LEN] = 0;
	m[OFF_DGM_LEN + 1] = 20;
	expect(m, n, MAILSLOT_E_TRUNCATED);
	m[OFF_DGM_LEN + 1] = 60;
	expect(m, n, MAILSLOT_E_TRUNCATED);
	m[OFF_DGM_LEN + 1] = 68 + 40;
	expect(m, n, MAILSLOT_E_TRUNCATED);
	/* A bad destination name. */
	memcpy(m, b, n);
	m[48] = 33;
	expect(m, n, MAILSLOT_E_NAME_LABEL);
	memcpy(m, b, n);
	m[50] = 'Z';
	expect(m, n, MAILSLOT_E_NAME_ENCODING);
	memcpy(m, b, n);
	m[47] = 0xc0; /* pointer in place of the source terminator */
	expect(m, n, MAILSLOT_E_NAME_SCOPE);
}

static void
test_decode_errors_smb(void **state)
{
	uint8_t b[256], m[256];
	size_t n = hello_b(b);
	(void)state;

	memcpy(m, b, n);
	m[OFF_SMB] = 0xfe; /* SMB2 magic */
	expect(m, n, MAILSLOT_E_SMB_MAGIC);
	memcpy(m, b, n);
	m[OFF_CMD] = 0x32; /* TRANSACTION2 */
	expect(m, n, MAILSLOT_E_SMB_COMMAND);
	memcpy(m, b, n);
	m[OFF_WC] = 14;
	expect(m, n, MAILSLOT_E_SMB_WORDCOUNT);
	memcpy(m, b, n);
	m[OFF_SC] = 2;
	expect(m, n, MAILSLOT_E_SMB_SETUP);
	memcpy(m, b, n);
	m[OFF_OPCODE] = 2;
	expect(m, n, MAILSLOT_E_SMB_OPCODE);
	memcpy(m, b, n);
	m[OFF_TDC] = 9;
	expect(m, n, MAILSLOT_E_SMB_PARTIAL);
	/* DataCount past the end (TotalDataCount kept equal). */
	memcpy(m, b, n);
	m[OFF_DC] = m[OFF_TDC] = 6;
	expect(m, n, MAILSLOT_E_SMB_DATA_RANGE);
	/* DataOffset past the end. */
	memcpy(m, b, n);
	m[OFF_DOFF] = 200;
	expect(m, n, MAILSLOT_E_SMB_DATA_RANGE);
	/* DataOffset inside the name. */
	memcpy(m, b, n);
	m[OFF_DOFF] = 75;
	expect(m, n, MAILSLOT_E_SMB_DATA_RANGE);
	/* Name not under \MAILSLOT\. */
	memcpy(m, b, n);
	memcpy(m + OFF_NAME + 1, "PIPE", 4);
	expect(m, n, MAILSLOT_E_SMB_NAME);
	/* Name with a control byte. */
	memcpy(m, b, n);
	m[OFF_NAME + 12] = 0x1b;
	expect(m, n, MAILSLOT_E_SMB_NAME);
	/* Name with no NUL before the end. */
	memcpy(m, b, n);
	m[OFF_NAME + 16] = 'X';
	memset(m + OFF_NAME + 17, 'Y', 5);
	expect(m, n, MAILSLOT_E_TRUNCATED);
	/* Just "\MAILSLOT\" with no name. */
	memcpy(m, b, n);
	m[OFF_NAME + 10] = 0;
	expect(m, n, MAILSLOT_E_SMB_NAME);
	/* Every cut of the SMB part fails cleanly. */
	for (size_t cut = OFF_SMB; cut < n - 5; cut++) {
		struct mailslot_dgram d;
		memcpy(m, b, n);
		m[OFF_DGM_LEN] = (uint8_t)((cut - 14) >> 8);
		m[OFF_DGM_LEN + 1] = (uint8_t)(cut - 14);
		assert_int_not_equal(mailslot_dgram_decode(m, cut, &d),
				     MAILSLOT_OK);
	}
}

static void
test_prefix_case_insensitive(void **state)
{
	uint8_t m[256];
	struct mailslot_dgram d;
	size_t n = hello_b(m);
	(void)state;

	memcpy(m + OFF_NAME + 1, "mailslot", 8);
	assert_int_equal(mailslot_dgram_decode(m, n, &d), MAILSLOT_OK);
	assert_true(mailslot_path_equal(d.path, "\\MAILSLOT\\beacon"));
	assert_false(mailslot_path_equal(d.path, "\\MAILSLOT\\beacons"));
}

static void
test_encode_errors(void **state)
{
	uint8_t buf[256];
	static uint8_t big[65536];
	struct mailslot_dgram d;
	size_t used;
	(void)state;

	hello(&d);
	assert_int_equal(mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, buf,
					       172, &used),
			 MAILSLOT_E_NOSPACE);
	strcpy(d.path, "\\PIPE\\x");
	assert_int_equal(mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, buf,
					       sizeof(buf), &used),
			 MAILSLOT_E_SMB_NAME);
	hello(&d);
	d.data = big;
	d.data_len = sizeof(big) - 100;
	assert_int_equal(mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, buf,
					       sizeof(buf), &used),
			 MAILSLOT_E_TOO_BIG);
}

static void
test_max_payload_windows_limit(void **state)
{
	(void)state;
	assert_int_equal(mailslot_max_payload("\\MAILSLOT\\beacon"), 424);
	assert_int_equal(mailslot_max_payload("\\MAILSLOT\\x"), 424);
	assert_int_equal(mailslot_max_payload("\\MAILSLOT\\abcd"), 424);
	assert_int_equal(mailslot_max_payload("\\MAILSLOT\\abcde"), 424);
	assert_int_equal(mailslot_max_payload("\\MAILSLOT\\abcdefgh"), 424);
	assert_int_equal(mailslot_max_payload("\\MAILSLOT\\abcdefghi"), 420);
	assert_int_equal(mailslot_max_payload("\\MAILSLOT\\beacon\\query"),
			 420);
	assert_int_equal(mailslot_max_payload("\\MAILSLOT\\abcdefghijklm"),
			 416);
}

static void
test_strerror_covers_every_value(void **state)
{
	int e;
	(void)state;

	for (e = 0; e < MAILSLOT_E__COUNT; e++) {
		assert_string_not_equal(mailslot_strerror((enum mailslot_err)e),
					"unknown error");
		assert_string_not_equal(mailslot_errname((enum mailslot_err)e),
					"unknown");
	}
	assert_string_equal(mailslot_strerror(MAILSLOT_E__COUNT),
			    "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_hello_padded_byte_for_byte),
		cmocka_unit_test(test_encode_hello_unpadded_byte_for_byte),
		cmocka_unit_test(test_decode_hello_both_styles),
		cmocka_unit_test(test_round_trip_scoped_unique_long),
		cmocka_unit_test(test_accepts_types_and_ignores_snt),
		cmocka_unit_test(test_ignores_bytes_past_dgm_length),
		cmocka_unit_test(test_data_found_only_by_offset),
		cmocka_unit_test(test_decode_errors_header),
		cmocka_unit_test(test_decode_errors_smb),
		cmocka_unit_test(test_prefix_case_insensitive),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_max_payload_windows_limit),
		cmocka_unit_test(test_strerror_covers_every_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
