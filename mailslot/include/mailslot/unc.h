/* SPDX-License-Identifier: MIT */
/*
 * Mailslot UNC names, as Win32 takes them (docs/wire.md 3):
 *
 *   \\.\mailslot\NAME        this machine only (the only form a server takes)
 *   \\*\mailslot\NAME        every mailslot NAME in our workgroup or domain
 *   \\DOMAIN\mailslot\NAME   every mailslot NAME in DOMAIN
 *   \\HOST\mailslot\NAME     the mailslot NAME on HOST (DNS name or IPv4)
 *
 * NAME may have sub-paths ("a\b"). "mailslot" is matched case-insensitively.
 * Parsing is pure syntax: whether a server part names a host or a domain is
 * decided when a client opens it (slot.h).
 */
#ifndef BEACON_MAILSLOT_UNC_H
#define BEACON_MAILSLOT_UNC_H

#include "mailslot/err.h"
#include "mailslot/wire.h"

#define MAILSLOT_SERVER_MAX 253 /* a DNS name */

enum mailslot_target {
	MAILSLOT_TARGET_LOCAL, /* \\. */
	MAILSLOT_TARGET_ANY,   /* \\* */
	MAILSLOT_TARGET_NAMED, /* \\DOMAIN or \\HOST */
};

struct mailslot_unc {
	enum mailslot_target target;
	char server[MAILSLOT_SERVER_MAX + 1]; /* as given; "." or "*" too */
	char path[MAILSLOT_PATH_MAX + 1]; /* wire path: "\MAILSLOT\" + NAME */
};

/*
 * Parse UNC into *out. Errors name the part that is wrong:
 * MAILSLOT_E_UNC_PREFIX, _SERVER (empty, over 253 bytes, or a byte outside
 * letters, digits, '-', '_' and '.'), _MAILSLOT, _NAME (empty component, a
 * byte outside printable ASCII or one of \ / : * ? " < > |, or a path over
 * 255 bytes).
 */
enum mailslot_err mailslot_unc_parse(const char *unc, struct mailslot_unc *out)
	__attribute__((warn_unused_result));

#endif
