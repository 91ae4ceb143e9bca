/* SPDX-License-Identifier: MIT */
/* Keyrings (every line error, the file's type, mode and owner) and signed
   beacons: the test vector (MAC computed independently with Python's
   hashlib.blake2b), sign and verify, a signed beacon still decodes, every
   one-byte change is caught, unknown keys, nonces, the size bound. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "beacon/auth.h"
#include "beacon/beacon.h"

/* Key 00 01 02 ... 1f. */
#define KEY_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static struct beacon_key
test_key(void)
{
	struct beacon_key k;

	assert_int_equal(beacon_keyring_line("k1 " KEY_B64 "\n", &k),
			 BEACON_KR_OK);
	return k;
}

static struct beacon_msg
sample(void)
{
	struct beacon_msg b;

	memset(&b, 0, sizeof(b));
	b.version = 1;
	strcpy(b.id, "4f1c2a9e7d3b8a60");
	strcpy(b.instance, "00aa11bb22cc33dd");
	strcpy(b.hostname, "alpha");
	b.seq = 7;
	b.interval_ms = 10000;
	b.ttl_ms = 30000;
	b.n_ipv4 = 1;
	strcpy(b.ipv4[0], "198.18.0.5");
	return b;
}

static size_t
encode(const struct beacon_msg *b, char *out, size_t cap)
{
	size_t len;
	unsigned dropped;

	assert_int_equal(
		beacon_encode(b, BEACON_MAX_WIRE, out, cap, &len, &dropped),
		BEACON_OK);
	return len;
}

static void
test_keyring_lines(void **state)
{
	struct beacon_key k;

	(void)state;
	k = test_key();
	assert_string_equal(k.id, "k1");
	assert_int_equal(k.key[0], 0);
	assert_int_equal(k.key[31], 31);
	assert_int_equal(beacon_keyring_line("  # a comment\n", &k),
			 BEACON_KR_EMPTY);
	assert_int_equal(beacon_keyring_line("\n", &k), BEACON_KR_EMPTY);
	assert_int_equal(beacon_keyring_line("k1\n", &k), BEACON_KR_SYNTAX);
	assert_int_equal(beacon_keyring_line("k1 " KEY_B64 " extra\n", &k),
			 BEACON_KR_SYNTAX);
	assert_int_equal(beacon_keyring_line("toolongid " KEY_B64, &k),
			 BEACON_KR_KEYID);
	assert_int_equal(beacon_keyring_line("k.1 " KEY_B64, &k),
			 BEACON_KR_KEYID);
	assert_int_equal(beacon_keyring_line("k1 AAECAwQ=", &k), BEACON_KR_KEY);
	assert_int_equal(beacon_keyring_line("k1 not*base64", &k),
			 BEACON_KR_KEY);
	assert_int_equal(beacon_keyring_line("12345678\t" KEY_B64 "\r\n", &k),
			 BEACON_KR_OK);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_keyring_file(void **state)
{
	char dir[] = "/tmp/beacon-auth-XXXXXX", path[64], many[2048] = "";
	struct beacon_keyring kr;
	size_t line;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	write_file(path, "# site keys\nk2 " KEY_B64 "\n\nk1 " KEY_B64 "\n",
		   0600);
	assert_int_equal(beacon_keyring_load(path, &kr, &line), BEACON_KR_OK);
	assert_int_equal(kr.n, 2);
	assert_string_equal(kr.keys[0].id, "k2");
	assert_non_null(beacon_keyring_find(&kr, "k1"));
	assert_null(beacon_keyring_find(&kr, "k3"));
	chmod(path, 0640);
	assert_int_equal(beacon_keyring_load(path, &kr, &line), BEACON_KR_MODE);
	assert_int_equal(kr.n, 0);
	chmod(path, 0602);
	assert_int_equal(beacon_keyring_load(path, &kr, &line), BEACON_KR_MODE);
	if (geteuid() == 0) { /* only root can give a file away */
		chmod(path, 0600);
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(beacon_keyring_load(path, &kr, &line),
				 BEACON_KR_OWNER);
		assert_int_equal(chown(path, 0, 0), 0);
	}
	write_file(path, "k1 " KEY_B64 "\nk1 " KEY_B64 "\n", 0600);
	assert_int_equal(beacon_keyring_load(path, &kr, &line),
			 BEACON_KR_DUPLICATE);
	assert_int_equal(line, 2);
	write_file(path, "# nothing\n", 0600);
	assert_int_equal(beacon_keyring_load(path, &kr, &line),
			 BEACON_KR_EMPTY);
	for (i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "k%d %s\n", i, KEY_B64);
	write_file(path, many, 0600);
	assert_int_equal(beacon_keyring_load(path, &kr, &line),
			 BEACON_KR_TOO_MANY);
	assert_int_equal(line, 17);
	assert_int_equal(beacon_keyring_load(dir, &kr, &line),
			 BEACON_KR_NOT_FILE);
	unlink(path);
	assert_int_equal(beacon_keyring_load(path, &kr, &line), BEACON_KR_OPEN);
	rmdir(dir);
}

static void
test_generate(void **state)
{
	char line[BEACON_KEYLINE_MAX], again[BEACON_KEYLINE_MAX];
	struct beacon_key k;

	(void)state;
	assert_int_equal(beacon_key_generate("site-2", line, sizeof(line)), 0);
	assert_int_equal(beacon_keyring_line(line, &k), BEACON_KR_OK);
	assert_string_equal(k.id, "site-2");
	assert_int_equal(beacon_key_generate("site-2", again, sizeof(again)),
			 0);
	assert_string_not_equal(line, again); /* random */
	assert_int_equal(beacon_key_generate("bad id", line, sizeof(line)), -1);
	assert_int_equal(beacon_key_generate("k1", line, 10), -1);
}

/* The vector of docs/wire.md: the MAC over the bytes up to the quote that
   opens it, computed with Python's hashlib.blake2b(key=bytes(range(32)),
   digest_size=16). */
static void
test_vector(void **state)
{
	static const char want[] =
		"{\"v\":1,\"id\":\"4f1c2a9e7d3b8a60\",\"inst\":"
		"\"00aa11bb22cc33dd\",\"seq\":7,\"state\":\"up\",\"host\":"
		"\"alpha\",\"int_ms\":10000,\"ttl_ms\":30000,\"ipv4\":["
		"\"198.18.0.5\"],\"sig\":{\"kid\":\"k1\",\"ts\":1764547200000,"
		"\"mac\":\"bogXZWL4RvKmKhv64B75Iw\"}}";
	struct beacon_msg b = sample();
	struct beacon_key k = test_key();
	char buf[BEACON_MAX_WIRE + 1];
	size_t len = encode(&b, buf, sizeof(buf));

	(void)state;
	assert_int_equal(
		beacon_sign(buf, &len, sizeof(buf), &k, 1764547200000, NULL),
		0);
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf, want);
}

static void
test_sign_verify(void **state)
{
	struct beacon_msg b = sample(), d;
	struct beacon_key k = test_key();
	struct beacon_keyring kr = {.n = 1};
	struct beacon_sig s;
	char buf[BEACON_MAX_WIRE + 1], bad[BEACON_MAX_WIRE + 1];
	size_t len = encode(&b, buf, sizeof(buf)), unsigned_len = len, i;

	(void)state;
	kr.keys[0] = k;
	assert_int_equal(beacon_sig_verify(&kr, buf, len, &s), BEACON_SIG_NONE);
	assert_int_equal(beacon_sign(buf, &len, sizeof(buf), &k, 42, "a1b2-7"),
			 0);
	assert_true(len - unsigned_len <= beacon_sig_size(&k, "a1b2-7"));
	/* Older decoders read it: "sig" is an unknown key. */
	assert_int_equal(beacon_decode(buf, len, &d), BEACON_OK);
	assert_int_equal(d.seq, 7);
	assert_int_equal(beacon_sig_verify(&kr, buf, len, &s), BEACON_SIG_OK);
	assert_string_equal(s.kid, "k1");
	assert_int_equal(s.ts_ms, 42);
	assert_string_equal(s.nonce, "a1b2-7");
	assert_int_equal(s.start, unsigned_len - 1);
	/* Every one-byte change is caught. */
	for (i = 0; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x01;
		assert_int_not_equal(beacon_sig_verify(&kr, bad, len, &s),
				     BEACON_SIG_OK);
	}
	/* Cut anywhere: never verified. */
	for (i = 0; i < len; i++)
		assert_int_not_equal(beacon_sig_verify(&kr, buf, i, &s),
				     BEACON_SIG_OK);
	/* Another key with the same id, or an id not in the keyring. */
	kr.keys[0].key[0] ^= 1;
	assert_int_equal(beacon_sig_verify(&kr, buf, len, &s),
			 BEACON_SIG_BAD_MAC);
	strcpy(kr.keys[0].id, "k2");
	assert_int_equal(beacon_sig_verify(&kr, buf, len, &s),
			 BEACON_SIG_UNKNOWN_KEY);
	/* No room: refused, nothing written past cap. */
	len = unsigned_len;
	buf[len] = '\0';
	assert_int_equal(beacon_sign(buf, &len, unsigned_len + 10, &k, 42, ""),
			 -1);
	assert_int_equal(len, unsigned_len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring_lines),
		cmocka_unit_test(test_keyring_file),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_sign_verify),
	};

	if (beacon_auth_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
