/* SPDX-License-Identifier: MIT */
/* Escaping network text for terminals, UTF-8, base64, number parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "fasthash.h"
#include "num.h"
#include "text.h"

static void
esc_is(const char *in, size_t n, const char *want)
{
	char out[256];

	assert_int_equal(text_escape(in, n, out, sizeof(out)), strlen(want));
	assert_string_equal(out, want);
}

static void
test_escape(void **state)
{
	(void)state;
	esc_is("plain text", 10, "plain text");
	esc_is("\x1b[2J", 4, "\\x1b[2J");
	esc_is("a\nb\r\t", 5, "a\\x0ab\\x0d\\x09");
	esc_is("back\\slash", 10, "back\\\\slash");
	esc_is("nul\0x", 5, "nul\\x00x");
	esc_is("del\x7f", 4, "del\\x7f");
	esc_is("caf\xc3\xa9", 5, "caf\xc3\xa9"); /* valid UTF-8 kept */
	esc_is("\xc2\x9b"
	       "31m",
	       5, "\\xc2\\x9b31m");                   /* C1 CSI */
	esc_is("\xff\xc3", 2, "\\xff\\xc3");          /* invalid UTF-8 */
	esc_is("\xed\xa0\x80", 3, "\\xed\\xa0\\x80"); /* surrogate */
	esc_is("\xe0\x80\xaf", 3, "\\xe0\\x80\\xaf"); /* overlong */
	/* Format characters: bidi override and isolate, zero width space,
	   BOM, line separator, a tag character; others are kept. */
	esc_is("a\xe2\x80\xae"
	       "b",
	       5, "a\\u{202e}b");
	esc_is("\xe2\x81\xa6"
	       "x",
	       4, "\\u{2066}x");
	esc_is("\xe2\x80\x8b", 3, "\\u{200b}");
	esc_is("\xef\xbb\xbf", 3, "\\u{feff}");
	esc_is("\xe2\x80\xa8", 3, "\\u{2028}");
	esc_is("\xf3\xa0\x80\x81", 4, "\\u{e0001}");
	esc_is("\xe2\x80\x94", 3, "\xe2\x80\x94"); /* an em dash stays */
	/* Cutting never splits a character. */
	assert_int_equal(text_cut("caf\xc3\xa9", 4), 3);
	assert_int_equal(text_cut("caf\xc3\xa9", 5), 5);
	assert_int_equal(text_cut("abc", 10), 3);
}

static void
test_escape_truncates_at_whole_escape(void **state)
{
	char out[6];
	(void)state;

	assert_int_equal(text_escape("ab\x1b"
				     "cd",
				     5, out, sizeof(out)),
			 8);
	assert_string_equal(out, "ab");
	assert_int_equal(text_escape("abcdefgh", 8, out, sizeof(out)), 8);
	assert_string_equal(out, "abcde");
	assert_int_equal(text_escape("abc", 3, NULL, 0), 3);
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(text_utf8_valid("", 0));
	assert_true(
		text_utf8_valid("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
	assert_false(text_utf8_valid("\xc3", 1));
	assert_false(text_utf8_valid("\xc0\xaf", 2));
	assert_false(text_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

static void
test_printable(void **state)
{
	(void)state;
	assert_true(text_printable("caf\xc3\xa9\nline", 10));
	assert_false(text_printable("a\0b", 3));
	assert_false(text_printable("del\x7f", 4));
	assert_false(text_printable("\xc2\x9b"
				    "31m",
				    5));
	assert_true(text_printable("\xc2\xa0nbsp", 6));
	assert_false(text_printable("\xff", 1));
}

static void
test_base64(void **state)
{
	char out[16];
	(void)state;

	assert_int_equal(text_base64("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	text_base64("f", 1, out, sizeof(out));
	assert_string_equal(out, "Zg==");
	text_base64("fo", 2, out, sizeof(out));
	assert_string_equal(out, "Zm8=");
	text_base64("foobar", 6, out, sizeof(out));
	assert_string_equal(out, "Zm9vYmFy");
	assert_int_equal(text_base64("foobar", 6, out, 8), 0);
	assert_string_equal(out, "");
}

static void
test_num(void **state)
{
	uint64_t v;
	(void)state;

	assert_true(num_parse_u64("138", 1, 65535, &v));
	assert_int_equal(v, 138);
	assert_false(num_parse_u64("", 0, 10, &v));
	assert_false(num_parse_u64("-1", 0, 10, &v));
	assert_false(num_parse_u64("+1", 0, 10, &v));
	assert_false(num_parse_u64(" 1", 0, 10, &v));
	assert_false(num_parse_u64("1x", 0, 10, &v));
	assert_false(num_parse_u64("65536", 1, 65535, &v));
	assert_false(num_parse_u64("0", 1, 65535, &v));
	assert_false(
		num_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v));
	assert_true(num_parse_seconds("2", 1, 10000, &v));
	assert_int_equal(v, 2000);
	assert_true(num_parse_seconds("0.25", 1, 10000, &v));
	assert_int_equal(v, 250);
	assert_true(num_parse_seconds(".5", 1, 10000, &v));
	assert_int_equal(v, 500);
	assert_false(num_parse_seconds("0", 1, 10000, &v));
	assert_false(num_parse_seconds("11", 1, 10000, &v));
	assert_false(num_parse_seconds("inf", 1, 10000, &v));
	assert_false(num_parse_seconds("0x10", 1, 10000, &v));
	assert_false(num_parse_seconds("1e3", 1, 10000, &v));
	assert_false(num_parse_seconds("-1", 0, 10000, &v));
	assert_false(num_parse_seconds("1..2", 0, 10000, &v));
}

/* text_ipv4 writes what inet_ntop writes, at every digit count. */
static void
test_ipv4(void **state)
{
	static const uint32_t ips[] = {0,           0x7f000001u, 0xc6120a63u,
				       0xffffffffu, 0x0a00ff09u, 0x01020304u,
				       0x64c80a00u};
	char want[INET_ADDRSTRLEN], got[16];
	size_t i;
	uint32_t v;

	(void)state;
	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		struct in_addr a = {.s_addr = htonl(ips[i])};
		inet_ntop(AF_INET, &a, want, sizeof(want));
		text_ipv4(ips[i], got);
		assert_string_equal(got, want);
	}
	for (v = 0; v < 256; v++) { /* every octet value, in every place */
		uint32_t ip = v << 24 | (255 - v) << 16 | v << 8 | (v ^ 0x5a);
		struct in_addr a = {.s_addr = htonl(ip)};
		inet_ntop(AF_INET, &a, want, sizeof(want));
		text_ipv4(ip, got);
		assert_string_equal(got, want);
	}
}

/* fasthash: every byte and the length count, at every tail length, and
   the key does. */
static void
test_fasthash(void **state)
{
	const uint64_t k1[2] = {1, 2}, k2[2] = {1, 3};
	uint8_t buf[64];
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	for (len = 0; len <= sizeof(buf); len++) {
		uint64_t h = fasthash(k1, buf, len);
		assert_true(h != fasthash(k2, buf, len));
		if (len < sizeof(buf))
			assert_true(h != fasthash(k1, buf, len + 1));
		for (i = 0; i < len; i++) {
			buf[i] ^= 1;
			assert_true(h != fasthash(k1, buf, len));
			buf[i] ^= 1;
		}
		assert_true(h == fasthash(k1, buf, len));
	}
}

/* RFC 3339 with milliseconds, as python3's datetime writes it. */
static void
test_rfc3339(void **state)
{
	char t[TEXT_RFC3339_LEN + 1];
	(void)state;

	text_rfc3339(0, t);
	assert_string_equal(t, "1970-01-01T00:00:00.000Z");
	text_rfc3339(1796459360537, t);
	assert_string_equal(t, "2026-12-05T08:29:20.537Z");
	text_rfc3339(951782400000, t); /* a leap day */
	assert_string_equal(t, "2000-02-29T00:00:00.000Z");
	text_rfc3339(-1, t);
	assert_string_equal(t, "1969-12-31T23:59:59.999Z");
	assert_int_equal(strlen(t), TEXT_RFC3339_LEN);
}

/* --since and --until: durations back from now, RFC 3339 times with a
   fraction or an offset; anything else refused. */
static void
test_when(void **state)
{
	const int64_t now = 1796496838176;
	int64_t ms;
	(void)state;

	assert_int_equal(text_when("90m", now, &ms), 0);
	assert_true(ms == now - 90 * 60000);
	assert_int_equal(text_when("7d", now, &ms), 0);
	assert_true(ms == now - 7 * 86400000LL);
	assert_int_equal(text_when("2026-12-05T18:53:58.175Z", now, &ms), 0);
	assert_true(ms == now - 1);
	assert_int_equal(text_when("2026-12-05T19:53:58.176+01:00", now, &ms),
			 0);
	assert_true(ms == now);
	assert_int_equal(text_when("1970-01-01T00:00:00Z", now, &ms), 0);
	assert_true(ms == 0);
	assert_int_equal(text_when("2026-12-05T18:53:58", now, &ms), -1);
	assert_int_equal(text_when("2026-13-05T18:53:58Z", now, &ms), -1);
	assert_int_equal(text_when("2026-12-05T18:53:58Zx", now, &ms), -1);
	assert_int_equal(text_when("90", now, &ms), -1);
	assert_int_equal(text_when("m", now, &ms), -1);
	assert_int_equal(text_when("9x", now, &ms), -1);
	assert_int_equal(text_when("-5m", now, &ms), -1);
	assert_int_equal(text_when("12345678901m", now, &ms), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_truncates_at_whole_escape),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_num),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_fasthash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
