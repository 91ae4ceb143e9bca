/* SPDX-License-Identifier: MIT */
/*
 * Error values of the mailslot library. Every fallible function returns one
 * of these; results go through out-parameters. Decode errors are fine-grained
 * on purpose: one value per reason a datagram is rejected, so tests can assert
 * the exact reason and a receiver can count drops by reason.
 *
 * The library never logs and never exits. For MAILSLOT_E_SYSTEM the failing
 * call's errno is left in errno for the caller to report.
 */
#ifndef BEACON_MAILSLOT_ERR_H
#define BEACON_MAILSLOT_ERR_H

enum mailslot_err {
	MAILSLOT_OK = 0,

	/* Decoding a datagram (wire.h). */
	MAILSLOT_E_TRUNCATED,     /* ends before a field it must hold */
	MAILSLOT_E_MSG_TYPE,      /* NBT type not 0x10/0x11/0x12 */
	MAILSLOT_E_FRAGMENT,      /* M set, F clear or nonzero PACKET_OFFSET */
	MAILSLOT_E_DGM_LENGTH,    /* DGM_LENGTH larger than the datagram */
	MAILSLOT_E_NAME_LABEL,    /* first name label not 32 bytes long */
	MAILSLOT_E_NAME_ENCODING, /* first-level encoding outside 'A'..'P' */
	MAILSLOT_E_NAME_SCOPE, /* bad scope label: pointer, bad byte, too long */
	MAILSLOT_E_SMB_MAGIC,  /* not \xffSMB */
	MAILSLOT_E_SMB_COMMAND,    /* not SMB_COM_TRANSACTION (0x25) */
	MAILSLOT_E_SMB_WORDCOUNT,  /* WordCount not 17 */
	MAILSLOT_E_SMB_SETUP,      /* SetupCount not 3 */
	MAILSLOT_E_SMB_OPCODE,     /* Setup[0] not 1 (mailslot write) */
	MAILSLOT_E_SMB_PARTIAL,    /* TotalDataCount differs from DataCount */
	MAILSLOT_E_SMB_DATA_RANGE, /* DataOffset/DataCount outside the SMB */
	MAILSLOT_E_SMB_NAME,       /* transaction name unterminated or not
				      \MAILSLOT\... */

	/* Encoding and names. */
	MAILSLOT_E_NAME_INVALID, /* NetBIOS name empty, too long, bad char */
	MAILSLOT_E_NOSPACE,      /* output buffer too small */
	MAILSLOT_E_TOO_BIG,      /* message over the limit for its target */

	/* UNC names (unc.h). */
	MAILSLOT_E_UNC_PREFIX,    /* does not start with two backslashes */
	MAILSLOT_E_UNC_SERVER,    /* server part empty, too long or bad */
	MAILSLOT_E_UNC_MAILSLOT,  /* second component is not "mailslot" */
	MAILSLOT_E_UNC_NAME,      /* mailslot name empty, too long or bad */
	MAILSLOT_E_UNC_NOT_LOCAL, /* a server needs \\.\mailslot\NAME */

	/* The API (slot.h). */
	MAILSLOT_E_TIMEOUT,         /* no message within the read timeout */
	MAILSLOT_E_BUFFER_SMALL,    /* buffer smaller than the next message;
				      the message stays queued */
	MAILSLOT_E_PRIVILEGED_PORT, /* bind needs root or CAP_NET_BIND_SERVICE */
	MAILSLOT_E_RESOLVE,         /* host name did not resolve */
	MAILSLOT_E_NO_INTERFACE,    /* no usable broadcast interface */
	MAILSLOT_E_BROADCAST_ADDR,  /* 255.255.255.255 or not an IPv4 address */
	MAILSLOT_E_NOT_ON_LINK,     /* a direct write to an address outside
				       the subnets of the interface named */
	MAILSLOT_E_NOMEM,
	MAILSLOT_E_SYSTEM, /* a system call failed; see errno */

	MAILSLOT_E__COUNT
};

/* A short English description; never NULL, also for out-of-range values. */
const char *mailslot_strerror(enum mailslot_err err);

/* What to do about it, for the errors where there is a known fix (binding a
   privileged port, no interface, a bad broadcast address); else "". */
const char *mailslot_hint(enum mailslot_err err);

/* A stable snake_case identifier for counters and JSON ("smb_magic"...). */
const char *mailslot_errname(enum mailslot_err err);

#endif
