/* SPDX-License-Identifier: MIT */
/*
 * [MS-BRWS] browser messages: decode and encode (browse.h).
 *
 * An announcement is 32 fixed bytes, then a NUL-terminated comment:
 *   opcode 1, update count 1, periodicity 4 (ms, little-endian), name 16
 *   (NUL-terminated, NUL-padded), OS major 1, OS minor 1, server type 4,
 *   browser version major 1, minor 1, signature 2 (0xaa55), comment.
 * An announcement request is: opcode 1, an unused byte, the requester's
 * name NUL-terminated (at most 16 bytes with its NUL).
 *
 * Where real senders bend [MS-BRWS]: a name may fill its 16 bytes with no
 * NUL (Samba 4.9, from a long hostname), so that is a 16-character name;
 * the comment is free text in the sender's code page, kept as bytes (the
 * probe shows bytes outside printable ASCII as '?').
 */
#include "mailslot/browse.h"

#include <string.h>

#include "cursor.h"

#define NAME_FIELD 16

static const char *const opcodes[] = {
	[BROWSE_HOST_ANNOUNCEMENT] = "host_announcement",
	[BROWSE_ANNOUNCEMENT_REQUEST] = "announcement_request",
	[BROWSE_REQUEST_ELECTION] = "request_election",
	[BROWSE_GET_BACKUP_LIST_REQUEST] = "get_backup_list_request",
	[BROWSE_GET_BACKUP_LIST_RESPONSE] = "get_backup_list_response",
	[BROWSE_BECOME_BACKUP] = "become_backup",
	[BROWSE_DOMAIN_ANNOUNCEMENT] = "domain_announcement",
	[BROWSE_MASTER_ANNOUNCEMENT] = "master_announcement",
	[BROWSE_RESET_STATE_REQUEST] = "reset_state_request",
	[BROWSE_LOCAL_MASTER_ANNOUNCEMENT] = "local_master_announcement",
};

const char *
browse_opcode_name(uint8_t opcode)
{
	if (opcode < sizeof(opcodes) / sizeof(opcodes[0]) &&
	    opcodes[opcode] != NULL)
		return opcodes[opcode];
	return "unknown";
}

const char *
browse_errname(enum browse_err err)
{
	static const char *const names[BROWSE_E__COUNT] = {
		[BROWSE_OK] = "ok",
		[BROWSE_E_EMPTY] = "empty",
		[BROWSE_E_OPCODE] = "opcode",
		[BROWSE_E_TRUNCATED] = "truncated",
		[BROWSE_E_NAME] = "name",
		[BROWSE_E_COMMENT] = "comment",
		[BROWSE_E_NOSPACE] = "nospace",
	};

	return (unsigned)err < BROWSE_E__COUNT ? names[err] : "unknown";
}

bool
browse_is_announcement(uint8_t opcode)
{
	return opcode == BROWSE_HOST_ANNOUNCEMENT ||
	       opcode == BROWSE_LOCAL_MASTER_ANNOUNCEMENT ||
	       opcode == BROWSE_DOMAIN_ANNOUNCEMENT;
}

/* A name in a field of n bytes: up to its NUL, or the whole field when
   filled (fixed: true; Samba 4.9 does that); not empty unless
   may_be_empty; no control character. */
static bool
name_take(const uint8_t *field, size_t n, bool fixed,
	  char out[BROWSE_NAME_MAX + 1], bool may_be_empty)
{
	const uint8_t *nul = memchr(field, '\0', n);
	size_t len, i;

	if (nul == NULL && !fixed)
		return false;
	len = nul != NULL ? (size_t)(nul - field) : n;
	if (len > BROWSE_NAME_MAX || (len == 0 && !may_be_empty))
		return false;
	for (i = 0; i < len; i++)
		if (field[i] < 0x20 || field[i] == 0x7f)
			return false;
	memcpy(out, field, len);
	out[len] = '\0';
	return true;
}

static enum browse_err
announcement(struct rd *r, struct browse_msg *m)
{
	uint8_t name[NAME_FIELD];
	const uint8_t *nul;
	size_t len;

	if (!rd_u8(r, &m->update_count) || !rd_le32(r, &m->periodicity_ms) ||
	    !rd_bytes(r, name, sizeof(name)) || !rd_u8(r, &m->os_major) ||
	    !rd_u8(r, &m->os_minor) || !rd_le32(r, &m->server_type) ||
	    !rd_u8(r, &m->browser_major) || !rd_u8(r, &m->browser_minor) ||
	    !rd_le16(r, &m->signature))
		return BROWSE_E_TRUNCATED;
	if (!name_take(name, NAME_FIELD, true, m->name, false))
		return BROWSE_E_NAME;
	/* The comment: what is left, up to its NUL. Kept as bytes (it is
	   free text in the sender's code page); the caller escapes it. */
	nul = memchr(r->p, '\0', r->left);
	if (nul == NULL)
		return BROWSE_E_COMMENT;
	len = (size_t)(nul - r->p);
	m->comment_cut = len > BROWSE_COMMENT_MAX;
	if (m->comment_cut)
		len = BROWSE_COMMENT_MAX;
	memcpy(m->comment, r->p, len);
	m->comment[len] = '\0';
	return BROWSE_OK;
}

enum browse_err
browse_decode(const uint8_t *data, size_t len, struct browse_msg *m)
{
	struct rd r = rd_init(data, len);

	memset(m, 0, sizeof(*m));
	if (!rd_u8(&r, &m->opcode))
		return BROWSE_E_EMPTY;
	if (strcmp(browse_opcode_name(m->opcode), "unknown") == 0)
		return BROWSE_E_OPCODE;
	if (browse_is_announcement(m->opcode))
		return announcement(&r, m);
	if (m->opcode == BROWSE_ANNOUNCEMENT_REQUEST) {
		if (!rd_skip(&r, 1) || r.left == 0)
			return BROWSE_E_TRUNCATED;
		if (!name_take(r.p, r.left < NAME_FIELD ? r.left : NAME_FIELD,
			       false, m->name, true))
			return BROWSE_E_NAME;
	}
	return BROWSE_OK;
}

/* What the encoder writes: a NetBIOS name of at most 15 characters. */
static bool
name_ok(const char *name, bool may_be_empty)
{
	size_t len = strnlen(name, BROWSE_NAME_MAX + 1), i;

	if (len >= NAME_FIELD || (len == 0 && !may_be_empty))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

enum browse_err
browse_encode(const struct browse_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	struct wr w = wr_init(buf, cap);
	uint8_t field[NAME_FIELD] = {0};
	size_t n;

	*len = 0;
	if (m->opcode == BROWSE_ANNOUNCEMENT_REQUEST) {
		if (!name_ok(m->name, true))
			return BROWSE_E_NAME;
		wr_u8(&w, m->opcode);
		wr_u8(&w, 0);
		wr_bytes(&w, m->name, strlen(m->name) + 1);
	} else if (browse_is_announcement(m->opcode)) {
		if (!name_ok(m->name, false))
			return BROWSE_E_NAME;
		memcpy(field, m->name, strlen(m->name));
		n = strnlen(m->comment, BROWSE_COMMENT_MAX);
		wr_u8(&w, m->opcode);
		wr_u8(&w, m->update_count);
		wr_le32(&w, m->periodicity_ms);
		wr_bytes(&w, field, sizeof(field));
		wr_u8(&w, m->os_major);
		wr_u8(&w, m->os_minor);
		wr_le32(&w, m->server_type);
		wr_u8(&w, m->browser_major);
		wr_u8(&w, m->browser_minor);
		wr_le16(&w, m->signature);
		wr_bytes(&w, m->comment, n);
		wr_u8(&w, 0);
	} else {
		return BROWSE_E_OPCODE;
	}
	if (w.overflow)
		return BROWSE_E_NOSPACE;
	*len = cap - w.left;
	return BROWSE_OK;
}

size_t
browse_roles(uint32_t server_type, const char **out, size_t max)
{
	static const char *const bits[32] = {
		"workstation",
		"server",
		"sql_server",
		"domain_controller",
		"backup_domain_controller",
		"time_source",
		"apple",
		"novell",
		"domain_member",
		"print_server",
		"dialin_server",
		"xenix",
		"nt_workstation",
		"windows_for_workgroups",
		"mfpn",
		"nt_server",
		"potential_browser",
		"backup_browser",
		"master_browser",
		"domain_master_browser",
		"osf",
		"vms",
		"windows_95",
		"dfs",
		[30] = "local_list_only",
		[31] = "domain_enum",
	};
	size_t n = 0;
	unsigned i;

	for (i = 0; i < 32 && n < max; i++)
		if ((server_type >> i & 1) && bits[i] != NULL)
			out[n++] = bits[i];
	return n;
}
