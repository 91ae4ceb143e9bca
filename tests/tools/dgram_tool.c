/* SPDX-License-Identifier: MIT */
/*
 * A test helper around the codec, for the scripts in tests/wire:
 *
 *   dgram_tool decode            hex datagrams on stdin, one per line; prints
 *                                "ok" and the fields tab-separated in tshark's
 *                                notation, or "error <name>"
 *   dgram_tool encode STYLE TYPE FLAGS ID SRCIP PORT SRC SRCSUF DST DSTSUF
 *                     PRIORITY PATH DATAHEX
 *                                prints the datagram in hex
 *   dgram_tool browse            hex \MAILSLOT\BROWSE data on stdin, one
 *                                message per line; prints "ok" and its
 *                                fields as tshark shows them, or "error
 *                                <name>"
 *
 * Names are given as NAME (or NAME.scope); suffixes and numbers in hex or
 * decimal as strtoul reads them.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailslot/browse.h"
#include "mailslot/wire.h"

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (s[0] && s[1] && s[0] != '\n' && n < cap) {
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void
hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int
decode(void)
{
	static char line[2 * MAILSLOT_DGRAM_MAX + 2];
	static uint8_t buf[MAILSLOT_DGRAM_MAX];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct mailslot_dgram d;
		enum mailslot_err err;
		char src[300], dst[300];
		struct in_addr a;
		size_t n = unhex(line, buf, sizeof(buf));

		err = mailslot_dgram_decode(buf, n, &d);
		if (err != MAILSLOT_OK) {
			printf("error\t%s\n", mailslot_errname(err));
			continue;
		}
		mailslot_nbname_format(&d.src_name, src, sizeof(src));
		mailslot_nbname_format(&d.dst_name, dst, sizeof(dst));
		a.s_addr = htonl(d.src_ip);
		printf("ok\t%u\t0x%02x\t0x%04x\t%s\t%u\t%s\t%s\t%u\t%zu\t%s\t%u\t%u"
		       "\t%u\t",
		       d.msg_type, d.flags, d.dgm_id, inet_ntoa(a), d.src_port,
		       src, dst, d.data_offset, d.data_len, d.path, d.priority,
		       d.mailslot_class, d.timeout_ms);
		hex(d.data, d.data_len);
		putchar('\n');
	}
	return 0;
}

/* ok opcode update_count periodicity name os_major os_minor server_type
   browser_major browser_minor signature comment roles (comma-separated) */
static int
browse(void)
{
	static char line[2 * MAILSLOT_DGRAM_MAX + 2];
	static uint8_t buf[MAILSLOT_DGRAM_MAX];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct browse_msg m;
		enum browse_err err;
		const char *roles[32];
		size_t n = unhex(line, buf, sizeof(buf)), i, k;

		err = browse_decode(buf, n, &m);
		if (err != BROWSE_OK) {
			printf("error\t%s\n", browse_errname(err));
			continue;
		}
		printf("ok\t0x%02x\t%u\t%u\t%s\t%u\t%u\t0x%08x\t%u\t%u\t0x%04x"
		       "\t%s\t",
		       m.opcode, m.update_count, m.periodicity_ms, m.name,
		       m.os_major, m.os_minor, m.server_type, m.browser_major,
		       m.browser_minor, m.signature, m.comment);
		k = browse_roles(m.server_type, roles, 32);
		for (i = 0; i < k; i++)
			printf("%s%s", i ? "," : "", roles[i]);
		putchar('\n');
	}
	return 0;
}

static int
name_arg(struct mailslot_nbname *n, const char *arg, const char *suffix)
{
	char name[64];
	const char *dot = strchr(arg, '.');
	size_t len = dot ? (size_t)(dot - arg) : strlen(arg);

	if (len >= sizeof(name))
		return -1;
	memcpy(name, arg, len);
	name[len] = '\0';
	if (mailslot_nbname_set(n, name, (uint8_t)strtoul(suffix, NULL, 0)) !=
	    MAILSLOT_OK)
		return -1;
	if (dot != NULL)
		snprintf(n->scope, sizeof(n->scope), "%s", dot + 1);
	return 0;
}

static int
encode(char **a)
{
	static uint8_t data[MAILSLOT_DGRAM_MAX], out[MAILSLOT_DGRAM_MAX];
	struct mailslot_dgram d = {0};
	enum mailslot_err err;
	struct in_addr ip;
	size_t used;

	enum mailslot_style style = strcmp(a[0], "padded") == 0
					    ? MAILSLOT_STYLE_PADDED
					    : MAILSLOT_STYLE_UNPADDED;
	d.msg_type = (uint8_t)strtoul(a[1], NULL, 0);
	d.flags = (uint8_t)strtoul(a[2], NULL, 0);
	d.dgm_id = (uint16_t)strtoul(a[3], NULL, 0);
	if (inet_pton(AF_INET, a[4], &ip) != 1)
		return fprintf(stderr, "bad address %s\n", a[4]), 2;
	d.src_ip = ntohl(ip.s_addr);
	d.src_port = (uint16_t)strtoul(a[5], NULL, 0);
	if (name_arg(&d.src_name, a[6], a[7]) < 0 ||
	    name_arg(&d.dst_name, a[8], a[9]) < 0)
		return fprintf(stderr, "bad name\n"), 2;
	d.priority = (uint16_t)strtoul(a[10], NULL, 0);
	snprintf(d.path, sizeof(d.path), "%s", a[11]);
	d.data = data;
	d.data_len = unhex(a[12], data, sizeof(data));
	err = mailslot_dgram_encode(&d, style, out, sizeof(out), &used);
	if (err != MAILSLOT_OK)
		return fprintf(stderr, "encode: %s\n", mailslot_strerror(err)),
		       1;
	hex(out, used);
	putchar('\n');
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "decode") == 0)
		return decode();
	if (argc == 2 && strcmp(argv[1], "browse") == 0)
		return browse();
	if (argc == 15 && strcmp(argv[1], "encode") == 0)
		return encode(argv + 2);
	fprintf(stderr, "usage: dgram_tool decode | dgram_tool browse | "
			"dgram_tool encode STYLE "
			"TYPE FLAGS ID SRCIP PORT SRC SRCSUF DST DSTSUF "
			"PRIORITY PATH DATAHEX\n");
	return 2;
}
