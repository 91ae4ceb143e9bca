/* SPDX-License-Identifier: MIT */
/* Syntax of mailslot UNC names (unc.h); no lookups happen here. */
#include <string.h>
#include <strings.h>

#include "mailslot/unc.h"

static bool
server_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static bool
name_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("/:*?\"<>|", c) == NULL;
}

enum mailslot_err
mailslot_unc_parse(const char *unc, struct mailslot_unc *out)
{
	const char *server, *end, *name;
	size_t len, i;

	memset(out, 0, sizeof(*out));
	if (strncmp(unc, "\\\\", 2) != 0)
		return MAILSLOT_E_UNC_PREFIX;
	server = unc + 2;
	end = strchr(server, '\\');
	if (end == NULL)
		return MAILSLOT_E_UNC_MAILSLOT;
	len = (size_t)(end - server);
	if (len == 0 || len > MAILSLOT_SERVER_MAX)
		return MAILSLOT_E_UNC_SERVER;
	if (len == 1 && server[0] == '.') {
		out->target = MAILSLOT_TARGET_LOCAL;
	} else if (len == 1 && server[0] == '*') {
		out->target = MAILSLOT_TARGET_ANY;
	} else {
		for (i = 0; i < len; i++)
			if (!server_char_ok((unsigned char)server[i]))
				return MAILSLOT_E_UNC_SERVER;
		out->target = MAILSLOT_TARGET_NAMED;
	}
	memcpy(out->server, server, len);
	out->server[len] = '\0';

	if (strncasecmp(end, "\\mailslot\\", 10) != 0)
		return MAILSLOT_E_UNC_MAILSLOT;
	name = end + 10;
	len = strlen(name);
	if (len == 0 || MAILSLOT_PREFIX_LEN + len > MAILSLOT_PATH_MAX)
		return MAILSLOT_E_UNC_NAME;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '\\') {
			/* no empty component: not first, not last, not "\\" */
			if (i == 0 || i == len - 1 || name[i + 1] == '\\')
				return MAILSLOT_E_UNC_NAME;
		} else if (!name_char_ok(c)) {
			return MAILSLOT_E_UNC_NAME;
		}
	}
	memcpy(out->path, MAILSLOT_PREFIX, MAILSLOT_PREFIX_LEN);
	memcpy(out->path + MAILSLOT_PREFIX_LEN, name, len + 1);
	return MAILSLOT_OK;
}
