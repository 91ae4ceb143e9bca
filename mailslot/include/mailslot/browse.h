/* SPDX-License-Identifier: MIT */
/*
 * The Common Internet File System Browser Protocol ([MS-BRWS]) messages that
 * Windows, Samba, NAS boxes and Macs write to \MAILSLOT\BROWSE: who they
 * are, what they run and serve, and how often they will say so again.
 *
 * Pure functions like wire.h: no I/O, no allocation, every length checked
 * through the cursor, names NUL-terminated within their 16-byte fields,
 * comments capped (browse.c says where real senders bend the rules). One error value per reason a message is refused. The
 * decoder is fuzzed (tests/fuzz/fuzz_browse.c).
 */
#ifndef BEACON_MAILSLOT_BROWSE_H
#define BEACON_MAILSLOT_BROWSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROWSE_MAILSLOT "\\MAILSLOT\\BROWSE"
/* A name's 16-byte field: NetBIOS names have 15 characters, NUL-padded,
   but Samba 4.9 fills all 16 with a longer hostname and no NUL (in the
   reference captures); that is taken too. */
#define BROWSE_NAME_MAX 16
/* Windows caps the comment at 43 bytes and Samba's at 43 too; longer ones
   are cut here (comment_cut) rather than refused. */
#define BROWSE_COMMENT_MAX 63
#define BROWSE_SIGNATURE   0xaa55

/* The opcode, the message's first byte ([MS-BRWS] 2.2). */
enum browse_opcode {
	BROWSE_HOST_ANNOUNCEMENT = 0x01,
	BROWSE_ANNOUNCEMENT_REQUEST = 0x02,
	BROWSE_REQUEST_ELECTION = 0x08,
	BROWSE_GET_BACKUP_LIST_REQUEST = 0x09,
	BROWSE_GET_BACKUP_LIST_RESPONSE = 0x0a,
	BROWSE_BECOME_BACKUP = 0x0b,
	BROWSE_DOMAIN_ANNOUNCEMENT = 0x0c,
	BROWSE_MASTER_ANNOUNCEMENT = 0x0d,
	BROWSE_RESET_STATE_REQUEST = 0x0e,
	BROWSE_LOCAL_MASTER_ANNOUNCEMENT = 0x0f,
};

enum browse_err {
	BROWSE_OK = 0,
	BROWSE_E_EMPTY,     /* no opcode */
	BROWSE_E_OPCODE,    /* not an [MS-BRWS] opcode */
	BROWSE_E_TRUNCATED, /* ends inside its fixed fields */
	BROWSE_E_NAME,      /* a name empty or holding a control character;
			       a request's over 16 bytes or unterminated */
	BROWSE_E_COMMENT,   /* the comment not NUL-terminated */
	BROWSE_E_NOSPACE,   /* encoding: the buffer is too small */
	BROWSE_E__COUNT
};

/* Server type bits ([MS-RAP] 5.1.1, as in announcements). */
#define BROWSE_SV_WORKSTATION       0x00000001u
#define BROWSE_SV_SERVER            0x00000002u
#define BROWSE_SV_DOMAIN_CTRL       0x00000008u
#define BROWSE_SV_DOMAIN_BAKCTRL    0x00000010u
#define BROWSE_SV_PRINTQ_SERVER     0x00000200u
#define BROWSE_SV_NT                0x00001000u
#define BROWSE_SV_SERVER_NT         0x00008000u
#define BROWSE_SV_POTENTIAL_BROWSER 0x00010000u
#define BROWSE_SV_BACKUP_BROWSER    0x00020000u
#define BROWSE_SV_MASTER_BROWSER    0x00040000u
#define BROWSE_SV_DOMAIN_MASTER     0x00080000u
#define BROWSE_SV_DOMAIN_ENUM       0x80000000u

/*
 * One message. The announcements (host, local master, domain) fill every
 * field; in a domain announcement name is the workgroup and comment the
 * name of its local master browser. An announcement request fills name
 * with the requester's (it may be empty: "" then). The other opcodes are
 * recognised and fill only opcode.
 */
struct browse_msg {
	uint8_t opcode;
	uint8_t update_count;
	uint32_t periodicity_ms;
	char name[BROWSE_NAME_MAX + 1];
	uint8_t os_major, os_minor;
	uint32_t server_type;
	uint8_t browser_major, browser_minor;
	uint16_t signature;
	char comment[BROWSE_COMMENT_MAX + 1];
	bool comment_cut; /* longer than BROWSE_COMMENT_MAX: cut */
};

/* Decode the data of one \MAILSLOT\BROWSE write. */
enum browse_err browse_decode(const uint8_t *data, size_t len,
			      struct browse_msg *m);

/* Whether the opcode is one of the three announcements. */
bool browse_is_announcement(uint8_t opcode);

/*
 * Encode an announcement (host, local master or domain: m->opcode) or an
 * announcement request (m->opcode BROWSE_ANNOUNCEMENT_REQUEST, m->name the
 * requester). *len gets the size. Errors: BROWSE_E_OPCODE (another
 * opcode), BROWSE_E_NAME, BROWSE_E_NOSPACE.
 */
enum browse_err browse_encode(const struct browse_msg *m, uint8_t *buf,
			      size_t cap, size_t *len);

/* Names: "host_announcement"..., "unknown" for others. */
const char *browse_opcode_name(uint8_t opcode);
/* A stable snake_case name for counters ("truncated"...); never NULL. */
const char *browse_errname(enum browse_err err);

/*
 * The roles of a server type, as names ("workstation", "server",
 * "domain_controller", "print_server", "master_browser"...): up to max
 * of them into out, in bit order; returns how many.
 */
size_t browse_roles(uint32_t server_type, const char **out, size_t max);

#endif
