/* SPDX-License-Identifier: MIT */
/*
 * The Remote Mailslot Protocol on the wire: one UDP datagram holding a
 * NetBIOS datagram (RFC 1002 4.4, big-endian) that carries an SMB
 * TRANSACTION mailslot write ([MS-MAIL] 2.2.1, little-endian).
 *
 * Pure functions: no I/O, no clock, no allocation, no global state. The
 * decoder reads only through a checked cursor and locates the payload by
 * DataOffset/DataCount alone, so it is safe on any input (it is fuzzed).
 * Section numbers below refer to docs/wire.md.
 */
#ifndef BEACON_MAILSLOT_WIRE_H
#define BEACON_MAILSLOT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailslot/err.h"

/* NetBIOS datagram types (RFC 1002 4.4.1) that carry user data. */
#define MAILSLOT_DIRECT_UNIQUE 0x10
#define MAILSLOT_DIRECT_GROUP  0x11
#define MAILSLOT_BROADCAST     0x12

/* FLAGS bits: M = more fragments, F = first fragment, SNT = node type. */
#define MAILSLOT_FLAG_MORE     0x01
#define MAILSLOT_FLAG_FIRST    0x02
#define MAILSLOT_FLAG_SNT_MASK 0x0c

#define MAILSLOT_PORT       138
#define MAILSLOT_PREFIX     "\\MAILSLOT\\"
#define MAILSLOT_PREFIX_LEN 10

/* Limits. */
#define MAILSLOT_NB_NAME_MAX 15  /* NetBIOS name without suffix */
#define MAILSLOT_SCOPE_MAX   220 /* dotted scope text we keep */
#define MAILSLOT_PATH_MAX    255 /* \MAILSLOT\... without the NUL */
#define MAILSLOT_SMB_MAX     512 /* Windows' cap on the SMB part ([MS-MAIL] <2>) */
#define MAILSLOT_API_MAX     424   /* WriteFile's cap for "*" and domains */
#define MAILSLOT_DGRAM_MAX   65507 /* largest IPv4 UDP payload */
#define MAILSLOT_HEADER_LEN  14    /* NBT header before the names */
#define MAILSLOT_SMB_FIXED   69    /* SMB header + words + ByteCount */

/*
 * A NetBIOS name: the 15 name bytes as on the wire after first-level
 * decoding (upper case, padding included), the 16th "suffix" byte, and the
 * scope (dotted labels, "" when none).
 */
struct mailslot_nbname {
	uint8_t raw[MAILSLOT_NB_NAME_MAX]; /* padded with ' ' (or 0 for "*") */
	uint8_t suffix;
	char scope[MAILSLOT_SCOPE_MAX + 1];
};

/* Sender styles (2.2): which optional SMB values and whether data is padded. */
enum mailslot_style {
	MAILSLOT_STYLE_UNPADDED = 0, /* browser/Samba: DataOffset 70+len, all 0,
					Timeout 1000; the default */
	MAILSLOT_STYLE_PADDED, /* client trace: data 4-aligned, Flags 0x18,
					Flags2 4, PID 0xFEFF, MaxParam 2,
					NO_RESPONSE, Timeout 0 */
};

/*
 * One mailslot write. Filled by mailslot_dgram_decode(); read by
 * mailslot_dgram_encode() (which takes msg_type, flags, dgm_id, src_ip,
 * src_port, the names, priority, path and data from it, and the rest from
 * the style).
 */
struct mailslot_dgram {
	/* NetBIOS datagram header. */
	uint8_t msg_type;
	uint8_t flags;
	uint16_t dgm_id;
	uint32_t src_ip; /* host byte order */
	uint16_t src_port;
	struct mailslot_nbname src_name;
	struct mailslot_nbname dst_name;

	/* SMB transaction fields a receiver may want to see (ignored by it). */
	uint8_t smb_flags;
	uint16_t smb_flags2;
	uint16_t trans_flags;
	uint32_t timeout_ms;
	uint16_t priority;
	uint16_t mailslot_class;
	uint16_t data_offset; /* from the SMB header */

	/* The transaction name as sent, e.g. "\MAILSLOT\beacon", NUL-terminated. */
	char path[MAILSLOT_PATH_MAX + 1];

	/* The message: on decode it points into the caller's buffer. */
	const uint8_t *data;
	size_t data_len;
};

/*
 * Fill *n with NAME (1..15 bytes of printable ASCII other than '.', which
 * would be mistaken for a scope) upper-cased and space-padded, and SUFFIX.
 * "*" is padded with NUL bytes as Samba does. Scope is left empty.
 */
enum mailslot_err mailslot_nbname_set(struct mailslot_nbname *n,
				      const char *name, uint8_t suffix);

/*
 * Format *n as tshark shows it: the name without its padding, bytes outside
 * printable ASCII as <xx>, then <suffix> and ".scope" if any. Always
 * NUL-terminates (truncating) when len > 0; returns the length it needed.
 */
size_t mailslot_nbname_format(const struct mailslot_nbname *n, char *buf,
			      size_t len);

/*
 * Second-level encode *n (length byte 32, 32 characters, scope labels, 0)
 * into buf. *used gets the length. Errors: MAILSLOT_E_NOSPACE,
 * MAILSLOT_E_NAME_SCOPE.
 */
enum mailslot_err mailslot_nbname_encode(const struct mailslot_nbname *n,
					 uint8_t *buf, size_t len,
					 size_t *used);

/*
 * Decode one second-level encoded name at the start of buf; *used gets the
 * bytes it took. Label pointers are refused (Windows and Samba never send
 * them in datagrams).
 */
enum mailslot_err mailslot_nbname_decode(const uint8_t *buf, size_t len,
					 struct mailslot_nbname *n,
					 size_t *used)
	__attribute__((warn_unused_result));

/*
 * Decode one datagram (the UDP payload). On MAILSLOT_OK every field of *d is
 * set and d->data points into buf; on error *d is unspecified. The checks,
 * in order: header, type (0x10-0x12, SNT ignored), fragments dropped,
 * DGM_LENGTH within the datagram (bytes past it are ignored), both names,
 * SMB magic, command, WordCount, SetupCount, opcode, TotalDataCount, the
 * transaction name, DataOffset/DataCount within the SMB part.
 */
enum mailslot_err mailslot_dgram_decode(const uint8_t *buf, size_t len,
					struct mailslot_dgram *d)
	__attribute__((warn_unused_result));

/*
 * Encode *d in STYLE into buf; *used gets the datagram length. Only the
 * size of the whole datagram is limited here (MAILSLOT_E_TOO_BIG past
 * 65507 bytes); the Windows limit for broadcasts is the caller's policy,
 * see mailslot_max_payload().
 */
enum mailslot_err mailslot_dgram_encode(const struct mailslot_dgram *d,
					enum mailslot_style style, uint8_t *buf,
					size_t len, size_t *used);

/*
 * The Windows limit on one message to a broadcast mailslot: the smaller of
 * the protocol's 432 minus the length of the name after "\mailslot\" rounded
 * up to 4 ([MS-MAIL] note <2>: the SMB part fits 512 bytes) and the API's
 * flat 424 (WriteFile to "*" or a domain fails above it). So 424 for names of
 * 1 to 8 bytes such as "beacon", 420 for 9 to 12, and so on. PATH is the
 * full "\MAILSLOT\..." path. Returns 0 when the name leaves no room.
 */
size_t mailslot_max_payload(const char *path);

/* Case-insensitive comparison of two mailslot paths (2.1). */
bool mailslot_path_equal(const char *a, const char *b);

#endif
