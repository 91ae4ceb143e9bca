/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the browse decoder. On a successful decode it checks
 * the result's invariants (names and comment terminated within their
 * arrays, no control character in a name) and, for an announcement or a
 * request with a name of at most 15 characters, that encoding it again
 * decodes to the same message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailslot/browse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[128];
	struct browse_msg m, back;
	const char *roles[32];
	size_t used, n, i;

	if (browse_decode(data, size, &m) != BROWSE_OK)
		return 0;
	n = strnlen(m.name, sizeof(m.name));
	if (n == sizeof(m.name) ||
	    strnlen(m.comment, sizeof(m.comment)) == sizeof(m.comment))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)m.name[i] < 0x20)
			abort();
	if (browse_roles(m.server_type, roles, 32) > 32)
		abort();
	if (n > 15 || (!browse_is_announcement(m.opcode) &&
		       m.opcode != BROWSE_ANNOUNCEMENT_REQUEST))
		return 0;
	if (browse_encode(&m, out, sizeof(out), &used) != BROWSE_OK)
		abort();
	if (browse_decode(out, used, &back) != BROWSE_OK)
		abort();
	back.comment_cut = m.comment_cut; /* a cut comment went out cut */
	if (memcmp(&back, &m, sizeof(m)) != 0)
		abort();
	return 0;
}
