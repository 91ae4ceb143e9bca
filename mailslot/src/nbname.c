/* SPDX-License-Identifier: MIT */
/*
 * NetBIOS names (RFC 1001 14, RFC 1002 4.1; docs/wire.md 1.2): the
 * 16-byte name, its first-level encoding into 32 letters 'A'..'P', and the
 * second-level form used in datagrams (length 32, the letters, scope labels,
 * a zero byte). Label pointers are refused: no datagram sender uses them.
 */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "mailslot/wire.h"

#define LABEL_MAX     63
#define WIRE_NAME_MAX 255 /* a whole encoded name, as a DNS name */

static bool
name_char_ok(unsigned char c)
{
	if (c < 0x20 || c > 0x7e || c == '.')
		return false;
	return strchr("\\/:*?\"<>|", c) == NULL;
}

enum mailslot_err
mailslot_nbname_set(struct mailslot_nbname *n, const char *name, uint8_t suffix)
{
	size_t len = strlen(name);
	size_t i;

	memset(n, 0, sizeof(*n));
	n->suffix = suffix;
	if (strcmp(name, "*") == 0) {
		n->raw[0] = '*'; /* padded with NUL, as Samba does */
		return MAILSLOT_OK;
	}
	if (len == 0 || len > MAILSLOT_NB_NAME_MAX)
		return MAILSLOT_E_NAME_INVALID;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!name_char_ok(c))
			return MAILSLOT_E_NAME_INVALID;
		n->raw[i] = (uint8_t)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	memset(n->raw + len, ' ', MAILSLOT_NB_NAME_MAX - len);
	return MAILSLOT_OK;
}

static size_t
name_len(const struct mailslot_nbname *n)
{
	size_t len = MAILSLOT_NB_NAME_MAX;

	while (len > 0 && (n->raw[len - 1] == ' ' || n->raw[len - 1] == 0))
		len--;
	return len;
}

size_t
mailslot_nbname_format(const struct mailslot_nbname *n, char *buf, size_t len)
{
	char tmp[MAILSLOT_NB_NAME_MAX * 4 + 8 + MAILSLOT_SCOPE_MAX + 2];
	size_t used = 0, i, nl = name_len(n);

	for (i = 0; i < nl; i++) {
		uint8_t c = n->raw[i];
		if (c >= 0x20 && c <= 0x7e)
			tmp[used++] = (char)c;
		else
			used += (size_t)snprintf(tmp + used, sizeof(tmp) - used,
						 "<%02x>", c);
	}
	used += (size_t)snprintf(tmp + used, sizeof(tmp) - used, "<%02x>",
				 n->suffix);
	if (n->scope[0] != '\0')
		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used, ".%s",
					 n->scope);
	if (len > 0) {
		size_t copy = used < len ? used : len - 1;
		memcpy(buf, tmp, copy);
		buf[copy] = '\0';
	}
	return used;
}

enum mailslot_err
mailslot_nbname_encode(const struct mailslot_nbname *n, uint8_t *buf,
		       size_t len, size_t *used)
{
	struct wr w = wr_init(buf, len);
	const char *s = n->scope;
	size_t i;

	wr_u8(&w, 32);
	for (i = 0; i < 16; i++) {
		uint8_t b = i < MAILSLOT_NB_NAME_MAX ? n->raw[i] : n->suffix;
		wr_u8(&w, (uint8_t)('A' + (b >> 4)));
		wr_u8(&w, (uint8_t)('A' + (b & 0x0f)));
	}
	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l > LABEL_MAX)
			return MAILSLOT_E_NAME_SCOPE;
		wr_u8(&w, (uint8_t)l);
		wr_bytes(&w, s, l);
		s += l;
		if (*s == '.' && *++s == '\0')
			return MAILSLOT_E_NAME_SCOPE; /* trailing dot */
	}
	wr_u8(&w, 0);
	if (w.overflow)
		return MAILSLOT_E_NOSPACE;
	*used = len - w.left;
	if (*used > WIRE_NAME_MAX)
		return MAILSLOT_E_NAME_SCOPE;
	return MAILSLOT_OK;
}

enum mailslot_err
mailslot_nbname_decode(const uint8_t *buf, size_t len,
		       struct mailslot_nbname *n, size_t *used)
{
	struct rd r = rd_init(buf, len);
	uint8_t enc[32], l;
	size_t i, slen = 0;

	memset(n, 0, sizeof(*n));
	if (!rd_u8(&r, &l))
		return MAILSLOT_E_TRUNCATED;
	if (l != 32)
		return MAILSLOT_E_NAME_LABEL;
	if (!rd_bytes(&r, enc, sizeof(enc)))
		return MAILSLOT_E_TRUNCATED;
	/* One pass: each half-byte is 'A' to 'P' (unsigned: below 'A' wraps
	   past 15). */
	for (i = 0; i < 16; i++) {
		unsigned hi = (unsigned)enc[2 * i] - 'A',
			 lo = (unsigned)enc[2 * i + 1] - 'A';
		if ((hi | lo) > 15)
			return MAILSLOT_E_NAME_ENCODING;
		if (i < MAILSLOT_NB_NAME_MAX)
			n->raw[i] = (uint8_t)(hi << 4 | lo);
		else
			n->suffix = (uint8_t)(hi << 4 | lo);
	}
	for (;;) {
		uint8_t label[LABEL_MAX];
		if (!rd_u8(&r, &l))
			return MAILSLOT_E_TRUNCATED;
		if (l == 0)
			break;
		if (l > LABEL_MAX) /* 0xc0 pointers and reserved types */
			return MAILSLOT_E_NAME_SCOPE;
		if (!rd_bytes(&r, label, l))
			return MAILSLOT_E_TRUNCATED;
		for (i = 0; i < l; i++)
			if (label[i] <= 0x20 || label[i] > 0x7e ||
			    label[i] == '.')
				return MAILSLOT_E_NAME_SCOPE;
		if (slen + (slen > 0) + l > MAILSLOT_SCOPE_MAX)
			return MAILSLOT_E_NAME_SCOPE;
		if (slen > 0)
			n->scope[slen++] = '.';
		memcpy(n->scope + slen, label, l);
		slen += l;
	}
	*used = len - r.left;
	return MAILSLOT_OK;
}
