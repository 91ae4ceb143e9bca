/* SPDX-License-Identifier: MIT */
/*
 * Signed beacons: keyrings, and a MAC carried inside the beacon's JSON.
 *
 * A signed beacon is the beacon's JSON with one more member at its end:
 *
 *   ...,"sig":{"kid":"ID","ts":MS[,"nonce":"N"],"mac":"MAC"}}
 *
 * kid names the key, ts is the send time (ms since the Unix epoch, the
 * sender's clock), nonce the query a beacon answers (if it does), and MAC
 * is BLAKE2b keyed with the 32-byte key (libsodium's crypto_generichash),
 * 16 bytes, in unpadded base64url (22 characters), over every byte of the
 * datagram before it: from the opening brace to the quote that opens the
 * MAC. The member is written in exactly this form and order, and last:
 * beacon_sig_parse() reads it from the end, so nothing in the signed bytes
 * can move it. docs/wire.md gives a test vector. Decoders that do not know
 * "sig" ignore it as an unknown key: older probes still read signed
 * beacons.
 *
 * A keyring is a text file of lines "KEYID BASE64KEY" (KEYID: 1 to 8 of
 * A-Z a-z 0-9 '_' '-'; the key: 32 bytes in standard base64), '#'
 * comments and blank lines. It must be a regular file that only its owner
 * (the user or root) can read or write, as ssh wants of a private key.
 */
#ifndef BEACON_AUTH_H
#define BEACON_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BEACON_KEYID_MAX   8
#define BEACON_KEY_BYTES   32
#define BEACON_MAC_BYTES   16
#define BEACON_MAC_TEXT    22 /* unpadded base64url of 16 bytes */
#define BEACON_KEYRING_MAX 16
#define BEACON_KEYLINE_MAX 128 /* a key line, with room to spare */

struct beacon_key {
	char id[BEACON_KEYID_MAX + 1];
	uint8_t key[BEACON_KEY_BYTES];
};

struct beacon_keyring {
	struct beacon_key keys[BEACON_KEYRING_MAX];
	size_t n;
};

enum beacon_keyring_err {
	BEACON_KR_OK = 0,
	BEACON_KR_OPEN,      /* cannot open or read it (errno) */
	BEACON_KR_NOT_FILE,  /* a directory (or another non-regular file) */
	BEACON_KR_FIFO,      /* a FIFO: refused before anything reads it */
	BEACON_KR_DEVICE,    /* a character or block device */
	BEACON_KR_SOCKET,    /* a socket */
	BEACON_KR_MODE,      /* readable or writable by group or others */
	BEACON_KR_OWNER,     /* owned by neither the user nor root */
	BEACON_KR_SYNTAX,    /* a line is not "KEYID BASE64KEY" */
	BEACON_KR_KEYID,     /* a key id empty, too long or bad characters */
	BEACON_KR_KEY,       /* a key not base64 of exactly 32 bytes */
	BEACON_KR_DUPLICATE, /* a key id twice */
	BEACON_KR_TOO_MANY,  /* over BEACON_KEYRING_MAX keys */
	BEACON_KR_EMPTY,     /* no key at all */
	BEACON_KR__COUNT
};

/* Why a signature was not verified; BEACON_SIG_OK: it was. */
enum beacon_sig_err {
	BEACON_SIG_OK = 0,
	BEACON_SIG_NONE,        /* the beacon is not signed */
	BEACON_SIG_MALFORMED,   /* "sig" is there but not in its exact form */
	BEACON_SIG_UNKNOWN_KEY, /* no key with that id in the keyring */
	BEACON_SIG_BAD_MAC,     /* the MAC does not match */
	BEACON_SIG__COUNT
};

/* What a signature says, and where it is. */
struct beacon_sig {
	char kid[BEACON_KEYID_MAX + 1];
	uint64_t ts_ms;
	char nonce[33]; /* "" when not an answer */
	uint8_t mac[BEACON_MAC_BYTES];
	size_t signed_len; /* the bytes the MAC covers */
	size_t start;      /* where ,"sig": begins (the beacon without it
			      ends there, plus its closing brace) */
};

/* libsodium's initialisation; -1 when it fails (no entropy source). */
int beacon_auth_init(void);

const char *beacon_keyring_strerror(enum beacon_keyring_err e);
const char *beacon_sig_errname(enum beacon_sig_err e);

/* One line of a keyring: BEACON_KR_OK with *k filled, BEACON_KR_EMPTY for
   a blank or comment line, or the reason it is bad. Pure (fuzzed). */
enum beacon_keyring_err beacon_keyring_line(const char *line,
					    struct beacon_key *k);

/* Read a keyring file, checking its type, mode and owner first (a FIFO
   or a device is opened without blocking and refused before any read).
   On error *line gets the line number (0 for the file itself). */
enum beacon_keyring_err
beacon_keyring_load(const char *path, struct beacon_keyring *kr, size_t *line);

/* The key with this id, or NULL. */
const struct beacon_key *beacon_keyring_find(const struct beacon_keyring *kr,
					     const char *id);

/* A new key line "ID BASE64KEY\n" (random key) into out; -1 if id is not
   a valid key id or out is too small. */
int beacon_key_generate(const char *id, char *out, size_t cap);

/* How many bytes signing adds to a beacon (for the encoder's budget). */
size_t beacon_sig_size(const struct beacon_key *k, const char *nonce);

/*
 * Sign the beacon in buf (*len bytes of JSON, as beacon_encode wrote it;
 * cap bytes of room): replace its closing brace with the "sig" member.
 * -1 if it does not fit in cap or is not an object.
 */
int beacon_sign(char *buf, size_t *len, size_t cap, const struct beacon_key *k,
		uint64_t ts_ms, const char *nonce);

/* Find and read the "sig" member at the end of buf, without checking the
   MAC. BEACON_SIG_NONE when there is none. Pure (fuzzed). */
enum beacon_sig_err beacon_sig_parse(const void *buf, size_t len,
				     struct beacon_sig *s);

/* Parse, then check the MAC with the keyring's key of that id (constant
   time). */
enum beacon_sig_err beacon_sig_verify(const struct beacon_keyring *kr,
				      const void *buf, size_t len,
				      struct beacon_sig *s);

#endif
