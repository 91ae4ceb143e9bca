/* SPDX-License-Identifier: MIT */
/*
 * Signed beacons and keyrings (auth.h). The cryptography is libsodium's:
 * crypto_generichash (BLAKE2b, keyed) for the MAC, randombytes for keys,
 * sodium_memcmp to compare MACs in constant time, and its base64 codecs.
 * What is here is the framing: where the MAC sits and what it covers.
 */
#include "beacon/auth.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beacon/beacon.h"
#include "smallfile.h"

#define SIG_HEAD   ",\"sig\":{\"kid\":\""
#define SIG_TS     "\",\"ts\":"
#define SIG_NONCE  ",\"nonce\":\""
#define SIG_MAC    ",\"mac\":\""
#define SIG_TAIL   "\"}}"
#define LIT_LEN(s) (sizeof(s) - 1)
#define TS_DIGITS  16 /* ms since 1970 fit in 16 digits until year 318857 */

int
beacon_auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

const char *
beacon_keyring_strerror(enum beacon_keyring_err e)
{
	static const char *const text[BEACON_KR__COUNT] = {
		[BEACON_KR_OK] = "ok",
		[BEACON_KR_OPEN] = "cannot read it",
		[BEACON_KR_NOT_FILE] = "a directory, not a regular file: give "
				       "the path of the keyring file itself",
		[BEACON_KR_FIFO] = "a FIFO (named pipe), not a regular file: "
				   "give the path of the keyring file itself",
		[BEACON_KR_DEVICE] = "a device, not a regular file: give the "
				     "path of the keyring file itself",
		[BEACON_KR_SOCKET] = "a socket, not a regular file: give the "
				     "path of the keyring file itself",
		[BEACON_KR_MODE] = "readable or writable by group or others: "
				   "chmod 600 it",
		[BEACON_KR_OWNER] = "owned by another user: it must be yours "
				    "or root's",
		[BEACON_KR_SYNTAX] = "a line is not \"KEYID BASE64KEY\"",
		[BEACON_KR_KEYID] = "a key id is not 1 to 8 of A-Z a-z 0-9 _ -",
		[BEACON_KR_KEY] = "a key is not base64 of 32 bytes (make one "
				  "with beacon-agent --gen-key ID)",
		[BEACON_KR_DUPLICATE] = "a key id appears twice",
		[BEACON_KR_TOO_MANY] = "more than 16 keys",
		[BEACON_KR_EMPTY] = "no key in it",
	};

	return (unsigned)e < BEACON_KR__COUNT ? text[e] : "unknown error";
}

const char *
beacon_sig_errname(enum beacon_sig_err e)
{
	static const char *const names[BEACON_SIG__COUNT] = {
		[BEACON_SIG_OK] = "ok",
		[BEACON_SIG_NONE] = "unsigned",
		[BEACON_SIG_MALFORMED] = "malformed",
		[BEACON_SIG_UNKNOWN_KEY] = "unknown_key",
		[BEACON_SIG_BAD_MAC] = "bad_mac",
	};

	return (unsigned)e < BEACON_SIG__COUNT ? names[e] : "unknown";
}

static bool
keyid_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool
keyid_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > BEACON_KEYID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!keyid_char(s[i]))
			return false;
	return true;
}

enum beacon_keyring_err
beacon_keyring_line(const char *line, struct beacon_key *k)
{
	const char *p = line, *id, *key;
	size_t id_len, key_len, bin_len;
	uint8_t bin[BEACON_KEY_BYTES + 1];

	memset(k, 0, sizeof(*k));
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n' || *p == '#')
		return BEACON_KR_EMPTY;
	id = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	id_len = (size_t)(p - id);
	while (*p == ' ' || *p == '\t')
		p++;
	key = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' &&
	       *p != '\r')
		p++;
	key_len = (size_t)(p - key);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (key_len == 0 || *p != '\0')
		return BEACON_KR_SYNTAX;
	if (!keyid_valid(id, id_len))
		return BEACON_KR_KEYID;
	if (sodium_base642bin(bin, sizeof(bin), key, key_len, NULL, &bin_len,
			      NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != BEACON_KEY_BYTES) {
		sodium_memzero(bin, sizeof(bin));
		return BEACON_KR_KEY;
	}
	memcpy(k->id, id, id_len);
	memcpy(k->key, bin, BEACON_KEY_BYTES);
	sodium_memzero(bin, sizeof(bin));
	return BEACON_KR_OK;
}

const struct beacon_key *
beacon_keyring_find(const struct beacon_keyring *kr, const char *id)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		if (strcmp(kr->keys[i].id, id) == 0)
			return &kr->keys[i];
	return NULL;
}

static enum beacon_keyring_err
not_file(mode_t mode)
{
	if (S_ISFIFO(mode))
		return BEACON_KR_FIFO;
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return BEACON_KR_DEVICE;
	if (S_ISSOCK(mode))
		return BEACON_KR_SOCKET;
	return BEACON_KR_NOT_FILE;
}

enum beacon_keyring_err
beacon_keyring_load(const char *path, struct beacon_keyring *kr, size_t *line)
{
	char buf[BEACON_KEYLINE_MAX + 2];
	enum beacon_keyring_err err = BEACON_KR_OK;
	struct beacon_key k;
	struct stat st;
	FILE *f;
	int fd;

	memset(kr, 0, sizeof(*kr));
	*line = 0;
	/* Opened without waiting on a FIFO; checked on the file opened, not
	   the name, so nothing can swap it in between. */
	fd = smallfile_open(path, &st);
	if (fd == -1)
		return BEACON_KR_OPEN;
	if (fd == -2)
		return not_file(st.st_mode);
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		err = BEACON_KR_MODE;
	else if (st.st_uid != geteuid() && st.st_uid != 0)
		err = BEACON_KR_OWNER;
	if (err != BEACON_KR_OK || (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return err != BEACON_KR_OK ? err : BEACON_KR_OPEN;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		enum beacon_keyring_err e;
		++*line;
		if (strlen(buf) > BEACON_KEYLINE_MAX) {
			err = BEACON_KR_SYNTAX;
			break;
		}
		e = beacon_keyring_line(buf, &k);
		if (e == BEACON_KR_EMPTY)
			continue;
		if (e == BEACON_KR_OK && beacon_keyring_find(kr, k.id) != NULL)
			e = BEACON_KR_DUPLICATE;
		if (e == BEACON_KR_OK && kr->n == BEACON_KEYRING_MAX)
			e = BEACON_KR_TOO_MANY;
		if (e != BEACON_KR_OK) {
			err = e;
			break;
		}
		kr->keys[kr->n++] = k;
	}
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(buf, sizeof(buf));
	if (err == BEACON_KR_OK && ferror(f))
		err = BEACON_KR_OPEN;
	fclose(f);
	if (err == BEACON_KR_OK && kr->n == 0) {
		*line = 0;
		err = BEACON_KR_EMPTY;
	}
	if (err != BEACON_KR_OK)
		sodium_memzero(kr, sizeof(*kr));
	return err;
}

int
beacon_key_generate(const char *id, char *out, size_t cap)
{
	uint8_t key[BEACON_KEY_BYTES];
	char b64[sodium_base64_ENCODED_LEN(BEACON_KEY_BYTES,
					   sodium_base64_VARIANT_ORIGINAL)];
	int n;

	if (!keyid_valid(id, strlen(id)))
		return -1;
	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	n = snprintf(out, cap, "%s %s\n", id, b64);
	sodium_memzero(b64, sizeof(b64));
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static size_t
digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

size_t
beacon_sig_size(const struct beacon_key *k, const char *nonce)
{
	size_t n = LIT_LEN(SIG_HEAD) + strlen(k->id) + LIT_LEN(SIG_TS) +
		   TS_DIGITS + LIT_LEN(SIG_MAC) + BEACON_MAC_TEXT +
		   LIT_LEN(SIG_TAIL) - 1; /* the closing brace it replaces */

	if (nonce != NULL && nonce[0] != '\0')
		n += LIT_LEN(SIG_NONCE) + strlen(nonce) + 1;
	return n;
}

static void
mac(const uint8_t *data, size_t len, const struct beacon_key *k,
    uint8_t out[BEACON_MAC_BYTES])
{
	crypto_generichash(out, BEACON_MAC_BYTES, data, len, k->key,
			   BEACON_KEY_BYTES);
}

int
beacon_sign(char *buf, size_t *len, size_t cap, const struct beacon_key *k,
	    uint64_t ts_ms, const char *nonce)
{
	uint8_t m[BEACON_MAC_BYTES];
	size_t n = *len;
	int w;

	if (n < 2 || buf[n - 1] != '}' ||
	    n - 1 + beacon_sig_size(k, nonce) >= cap ||
	    (nonce != NULL && nonce[0] != '\0' &&
	     !beacon_ident_valid(nonce, BEACON_MAX_ID)) ||
	    digits(ts_ms) > TS_DIGITS)
		return -1;
	n--; /* the object's closing brace: the member goes before it */
	w = snprintf(buf + n, cap - n, SIG_HEAD "%s" SIG_TS "%llu", k->id,
		     (unsigned long long)ts_ms);
	n += (size_t)w;
	if (nonce != NULL && nonce[0] != '\0')
		n += (size_t)snprintf(buf + n, cap - n, SIG_NONCE "%s\"",
				      nonce);
	memcpy(buf + n, SIG_MAC, LIT_LEN(SIG_MAC));
	n += LIT_LEN(SIG_MAC);
	mac((const uint8_t *)buf, n, k, m);
	sodium_bin2base64(buf + n, BEACON_MAC_TEXT + 1, m, sizeof(m),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n += BEACON_MAC_TEXT;
	memcpy(buf + n, SIG_TAIL, LIT_LEN(SIG_TAIL) + 1);
	*len = n + LIT_LEN(SIG_TAIL);
	return 0;
}

/* Whether p[-n..0) is the literal s: reading backwards from p. */
static bool
ends_with(const char *base, size_t at, const char *s, size_t n)
{
	return at >= n && memcmp(base + at - n, s, n) == 0;
}

static bool
b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

enum beacon_sig_err
beacon_sig_parse(const void *data, size_t len, struct beacon_sig *s)
{
	const char *p = data;
	size_t at = len, end, i, bin_len;
	uint64_t ts = 0, scale = 1;

	memset(s, 0, sizeof(*s));
	/* Not signed unless it ends the way a signature ends. */
	if (!ends_with(p, at, SIG_TAIL, LIT_LEN(SIG_TAIL)))
		return BEACON_SIG_NONE;
	at -= LIT_LEN(SIG_TAIL);
	if (at < BEACON_MAC_TEXT ||
	    !ends_with(p, at - BEACON_MAC_TEXT, SIG_MAC, LIT_LEN(SIG_MAC)))
		return BEACON_SIG_NONE;
	for (i = at - BEACON_MAC_TEXT; i < at; i++)
		if (!b64url_char(p[i]))
			return BEACON_SIG_MALFORMED;
	if (sodium_base642bin(s->mac, sizeof(s->mac), p + at - BEACON_MAC_TEXT,
			      BEACON_MAC_TEXT, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    bin_len != BEACON_MAC_BYTES)
		return BEACON_SIG_MALFORMED;
	at -= BEACON_MAC_TEXT;
	s->signed_len = at;
	at -= LIT_LEN(SIG_MAC);
	/* An answer's nonce: ,"nonce":"N" */
	if (at > 0 && p[at - 1] == '"') {
		end = --at;
		while (at > 0 && p[at - 1] != '"' && end - at <= BEACON_MAX_ID)
			at--;
		if (end - at == 0 || end - at > BEACON_MAX_ID ||
		    !ends_with(p, at, SIG_NONCE, LIT_LEN(SIG_NONCE)))
			return BEACON_SIG_MALFORMED;
		memcpy(s->nonce, p + at, end - at);
		if (!beacon_ident_valid(s->nonce, BEACON_MAX_ID))
			return BEACON_SIG_MALFORMED;
		at -= LIT_LEN(SIG_NONCE);
	}
	/* The send time: digits, no leading zero but for 0 itself. */
	end = at;
	while (at > 0 && p[at - 1] >= '0' && p[at - 1] <= '9' &&
	       end - at < TS_DIGITS) {
		ts += (uint64_t)(p[at - 1] - '0') * scale;
		scale *= 10;
		at--;
	}
	if (end == at || (p[at] == '0' && end - at > 1) ||
	    !ends_with(p, at, SIG_TS, LIT_LEN(SIG_TS)))
		return BEACON_SIG_MALFORMED;
	s->ts_ms = ts;
	at -= LIT_LEN(SIG_TS);
	/* The key id. */
	end = at;
	while (at > 0 && keyid_char(p[at - 1]) && end - at < BEACON_KEYID_MAX)
		at--;
	if (end == at || !ends_with(p, at, SIG_HEAD, LIT_LEN(SIG_HEAD)))
		return BEACON_SIG_MALFORMED;
	memcpy(s->kid, p + at, end - at);
	s->start = at - LIT_LEN(SIG_HEAD);
	return BEACON_SIG_OK;
}

enum beacon_sig_err
beacon_sig_verify(const struct beacon_keyring *kr, const void *data, size_t len,
		  struct beacon_sig *s)
{
	enum beacon_sig_err e = beacon_sig_parse(data, len, s);
	const struct beacon_key *k;
	uint8_t m[BEACON_MAC_BYTES];

	if (e != BEACON_SIG_OK)
		return e;
	k = beacon_keyring_find(kr, s->kid);
	if (k == NULL)
		return BEACON_SIG_UNKNOWN_KEY;
	mac(data, s->signed_len, k, m);
	return sodium_memcmp(m, s->mac, sizeof(m)) == 0 ? BEACON_SIG_OK
							: BEACON_SIG_BAD_MAC;
}
