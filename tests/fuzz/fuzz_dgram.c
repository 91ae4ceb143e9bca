/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the datagram decoder. On a successful decode it
 * checks the result's invariants and that encoding it again (in the style
 * its DataOffset shows) decodes to the same message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailslot/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[MAILSLOT_DGRAM_MAX];
	struct mailslot_dgram d, back;
	size_t used;
	char name[128];

	if (mailslot_dgram_decode(data, size, &d) != MAILSLOT_OK)
		return 0;
	/* The payload lies inside the input. */
	if (d.data < data || d.data + d.data_len > data + size)
		abort();
	mailslot_nbname_format(&d.src_name, name, sizeof(name));
	mailslot_nbname_format(&d.dst_name, name, sizeof(name));
	if (mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, out, sizeof(out),
				  &used) != MAILSLOT_OK)
		abort();
	if (mailslot_dgram_decode(out, used, &back) != MAILSLOT_OK)
		abort();
	if (back.data_len != d.data_len ||
	    memcmp(back.data, d.data, d.data_len) != 0 ||
	    strcmp(back.path, d.path) != 0 ||
	    memcmp(&back.src_name, &d.src_name, sizeof(d.src_name)) != 0 ||
	    memcmp(&back.dst_name, &d.dst_name, sizeof(d.dst_name)) != 0 ||
	    back.dgm_id != d.dgm_id || back.msg_type != d.msg_type)
		abort();
	return 0;
}
