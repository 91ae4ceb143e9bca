/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the signature reader and keyring lines. The first
 * byte chooses: odd, a keyring line (then its key, if taken, signs a
 * beacon that must verify); even, a datagram's "sig" member (parse and
 * verify with a fixed keyring; what parses must point inside the input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "beacon/auth.h"
#include "beacon/beacon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct beacon_keyring kr;
	static int ready;
	char line[BEACON_KEYLINE_MAX + 1];
	struct beacon_sig s;
	struct beacon_key k;
	enum beacon_sig_err e;

	if (!ready) {
		if (beacon_auth_init() < 0 ||
		    beacon_keyring_line(
			    "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaG"
			    "xwdHh8=",
			    &kr.keys[0]) != BEACON_KR_OK)
			abort();
		kr.n = 1;
		ready = 1;
	}
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		char beacon[BEACON_MAX_WIRE + 1] = "{\"v\":1}";
		size_t n = size - 1 < BEACON_KEYLINE_MAX ? size - 1
							 : BEACON_KEYLINE_MAX;
		struct beacon_keyring one = {.n = 1};
		memcpy(line, data + 1, n);
		line[n] = '\0';
		if (beacon_keyring_line(line, &k) != BEACON_KR_OK)
			return 0;
		if (strlen(k.id) == 0 || strlen(k.id) > BEACON_KEYID_MAX)
			abort();
		n = strlen(beacon);
		one.keys[0] = k;
		if (beacon_sign(beacon, &n, sizeof(beacon), &k, 1, NULL) != 0 ||
		    beacon_sig_verify(&one, beacon, n, &s) != BEACON_SIG_OK)
			abort();
		return 0;
	}
	e = beacon_sig_verify(&kr, data + 1, size - 1, &s);
	if (e == BEACON_SIG_OK || e == BEACON_SIG_BAD_MAC ||
	    e == BEACON_SIG_UNKNOWN_KEY) {
		if (s.signed_len >= size - 1 || s.start >= s.signed_len ||
		    strlen(s.kid) == 0)
			abort();
	}
	return 0;
}
