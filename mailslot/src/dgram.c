/* SPDX-License-Identifier: MIT */
/*
 * One mailslot write as a NetBIOS datagram (docs/wire.md 1, 2).
 *
 * The decoder accepts what Windows, Samba and macOS send and what the spec
 * allows a client to send: types 0x10-0x12, any SNT bits, padded or not. It
 * finds the payload only through DataOffset/DataCount, as Windows does, never
 * by "end of name", so pad bytes never leak into a message.
 */
#include <string.h>
#include <strings.h>

#include "cursor.h"
#include "mailslot/wire.h"

#define SMB_COM_TRANSACTION       0x25
#define SMB_WORDCOUNT             17
#define SMB_SETUPCOUNT            3
#define MAILSLOT_OPCODE_WRITE     1
#define MAILSLOT_CLASS_UNRELIABLE 2
#define NAME_WIRE_MAX             256

static bool
path_char_ok(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool
path_valid(const char *path, size_t len)
{
	size_t i;

	if (len <= MAILSLOT_PREFIX_LEN || len > MAILSLOT_PATH_MAX)
		return false;
	if (strncasecmp(path, MAILSLOT_PREFIX, MAILSLOT_PREFIX_LEN) != 0)
		return false;
	for (i = 0; i < len; i++)
		if (!path_char_ok((unsigned char)path[i]))
			return false;
	return true;
}

static enum mailslot_err
decode_smb(const uint8_t *smb, size_t smb_len, struct mailslot_dgram *d)
{
	struct rd r = rd_init(smb, smb_len);
	uint8_t magic[4], cmd, wc, sc, u8;
	uint16_t u16, tdc, dc, doff, opcode;
	uint32_t u32;
	const uint8_t *name, *nul;
	size_t name_len, name_end;

	if (!rd_bytes(&r, magic, 4))
		return MAILSLOT_E_TRUNCATED;
	if (memcmp(magic, "\xffSMB", 4) != 0)
		return MAILSLOT_E_SMB_MAGIC;
	if (!rd_u8(&r, &cmd))
		return MAILSLOT_E_TRUNCATED;
	if (cmd != SMB_COM_TRANSACTION)
		return MAILSLOT_E_SMB_COMMAND;
	/* Status, then Flags, Flags2; PID, TID, UID, MID are ignored. */
	if (!rd_le32(&r, &u32) || !rd_u8(&r, &d->smb_flags) ||
	    !rd_le16(&r, &d->smb_flags2) || !rd_skip(&r, 20) || !rd_u8(&r, &wc))
		return MAILSLOT_E_TRUNCATED;
	if (wc != SMB_WORDCOUNT)
		return MAILSLOT_E_SMB_WORDCOUNT;
	/* TotalParameterCount, TotalDataCount, MaxParameterCount,
	   MaxDataCount, MaxSetupCount, Reserved, Flags, Timeout, Reserved2,
	   ParameterCount, ParameterOffset, DataCount, DataOffset, SetupCount,
	   Reserved3, Setup[3], ByteCount. */
	if (!rd_le16(&r, &u16) || !rd_le16(&r, &tdc) || !rd_le16(&r, &u16) ||
	    !rd_le16(&r, &u16) || !rd_u8(&r, &u8) || !rd_u8(&r, &u8) ||
	    !rd_le16(&r, &d->trans_flags) || !rd_le32(&r, &d->timeout_ms) ||
	    !rd_le16(&r, &u16) || !rd_le16(&r, &u16) || !rd_le16(&r, &u16) ||
	    !rd_le16(&r, &dc) || !rd_le16(&r, &doff) || !rd_u8(&r, &sc) ||
	    !rd_u8(&r, &u8))
		return MAILSLOT_E_TRUNCATED;
	if (sc != SMB_SETUPCOUNT)
		return MAILSLOT_E_SMB_SETUP;
	if (!rd_le16(&r, &opcode) || !rd_le16(&r, &d->priority) ||
	    !rd_le16(&r, &d->mailslot_class) || !rd_le16(&r, &u16))
		return MAILSLOT_E_TRUNCATED;
	if (opcode != MAILSLOT_OPCODE_WRITE)
		return MAILSLOT_E_SMB_OPCODE;
	if (tdc != dc)
		return MAILSLOT_E_SMB_PARTIAL;

	/* The name runs from offset 69 to its NUL, inside the SMB part. */
	name = r.p;
	nul = memchr(name, 0, r.left);
	if (nul == NULL)
		return r.left > MAILSLOT_PATH_MAX ? MAILSLOT_E_SMB_NAME
						  : MAILSLOT_E_TRUNCATED;
	name_len = (size_t)(nul - name);
	if (!path_valid((const char *)name, name_len))
		return MAILSLOT_E_SMB_NAME;
	memcpy(d->path, name, name_len);
	d->path[name_len] = '\0';

	/* Data must lie after the name and inside the SMB part. */
	name_end = MAILSLOT_SMB_FIXED + name_len + 1;
	if (doff < name_end || doff > smb_len || dc > smb_len - doff)
		return MAILSLOT_E_SMB_DATA_RANGE;
	d->data_offset = doff;
	d->data = smb + doff;
	d->data_len = dc;
	return MAILSLOT_OK;
}

enum mailslot_err
mailslot_dgram_decode(const uint8_t *buf, size_t len, struct mailslot_dgram *d)
{
	struct rd r = rd_init(buf, len);
	uint16_t dgm_len, pkt_off;
	enum mailslot_err err;
	size_t used;

	memset(d, 0, sizeof(*d));
	if (!rd_u8(&r, &d->msg_type) || !rd_u8(&r, &d->flags) ||
	    !rd_be16(&r, &d->dgm_id) || !rd_be32(&r, &d->src_ip) ||
	    !rd_be16(&r, &d->src_port) || !rd_be16(&r, &dgm_len) ||
	    !rd_be16(&r, &pkt_off))
		return MAILSLOT_E_TRUNCATED;
	if (d->msg_type < MAILSLOT_DIRECT_UNIQUE ||
	    d->msg_type > MAILSLOT_BROADCAST)
		return MAILSLOT_E_MSG_TYPE;
	if ((d->flags & MAILSLOT_FLAG_MORE) ||
	    !(d->flags & MAILSLOT_FLAG_FIRST) || pkt_off != 0)
		return MAILSLOT_E_FRAGMENT;
	if (dgm_len > r.left)
		return MAILSLOT_E_DGM_LENGTH;
	r.left = dgm_len; /* bytes past DGM_LENGTH are not ours */

	err = mailslot_nbname_decode(r.p, r.left, &d->src_name, &used);
	if (err != MAILSLOT_OK)
		return err;
	rd_skip(&r, used);
	err = mailslot_nbname_decode(r.p, r.left, &d->dst_name, &used);
	if (err != MAILSLOT_OK)
		return err;
	rd_skip(&r, used);
	return decode_smb(r.p, r.left, d);
}

enum mailslot_err
mailslot_dgram_encode(const struct mailslot_dgram *d, enum mailslot_style style,
		      uint8_t *buf, size_t len, size_t *used)
{
	uint8_t src[NAME_WIRE_MAX], dst[NAME_WIRE_MAX];
	size_t src_len, dst_len, path_len = strlen(d->path);
	size_t off, pad = 0, doff, smb_len, dgm_len;
	bool padded = style == MAILSLOT_STYLE_PADDED;
	enum mailslot_err err;
	struct wr w;

	err = mailslot_nbname_encode(&d->src_name, src, sizeof(src), &src_len);
	if (err != MAILSLOT_OK)
		return err;
	err = mailslot_nbname_encode(&d->dst_name, dst, sizeof(dst), &dst_len);
	if (err != MAILSLOT_OK)
		return err;
	if (!path_valid(d->path, path_len))
		return MAILSLOT_E_SMB_NAME;

	off = MAILSLOT_SMB_FIXED + path_len + 1;
	if (padded)
		pad = (4 - off % 4) % 4;
	doff = off + pad;
	smb_len = doff + d->data_len;
	dgm_len = src_len + dst_len + smb_len;
	if (d->data_len > UINT16_MAX || dgm_len > UINT16_MAX ||
	    MAILSLOT_HEADER_LEN + dgm_len > MAILSLOT_DGRAM_MAX)
		return MAILSLOT_E_TOO_BIG;

	w = wr_init(buf, len);
	wr_u8(&w, d->msg_type);
	wr_u8(&w, d->flags);
	wr_be16(&w, d->dgm_id);
	wr_be32(&w, d->src_ip);
	wr_be16(&w, d->src_port);
	wr_be16(&w, (uint16_t)dgm_len);
	wr_be16(&w, 0); /* PACKET_OFFSET */
	wr_bytes(&w, src, src_len);
	wr_bytes(&w, dst, dst_len);

	wr_bytes(&w, "\xffSMB", 4);
	wr_u8(&w, SMB_COM_TRANSACTION);
	wr_zero(&w, 4);                   /* Status */
	wr_u8(&w, padded ? 0x18 : 0);     /* Flags */
	wr_le16(&w, padded ? 0x0004 : 0); /* Flags2 */
	wr_zero(&w, 2 + 8 + 2 + 2);       /* PIDHigh, Security, Res, TID */
	wr_le16(&w, padded ? 0xfeff : 0); /* PIDLow */
	wr_zero(&w, 4);                   /* UID, MID */
	wr_u8(&w, SMB_WORDCOUNT);
	wr_le16(&w, 0);                           /* TotalParameterCount */
	wr_le16(&w, (uint16_t)d->data_len);       /* TotalDataCount */
	wr_le16(&w, padded ? 2 : 0);              /* MaxParameterCount */
	wr_le16(&w, 0);                           /* MaxDataCount */
	wr_zero(&w, 2);                           /* MaxSetupCount, Reserved */
	wr_le16(&w, padded ? 0x0002 : 0);         /* Flags: NO_RESPONSE */
	wr_le32(&w, padded ? 0 : 1000);           /* Timeout */
	wr_le16(&w, 0);                           /* Reserved2 */
	wr_le16(&w, 0);                           /* ParameterCount */
	wr_le16(&w, padded ? (uint16_t)doff : 0); /* ParameterOffset */
	wr_le16(&w, (uint16_t)d->data_len);       /* DataCount */
	wr_le16(&w, (uint16_t)doff);              /* DataOffset */
	wr_u8(&w, SMB_SETUPCOUNT);
	wr_u8(&w, 0); /* Reserved3 */
	wr_le16(&w, MAILSLOT_OPCODE_WRITE);
	wr_le16(&w, d->priority);
	wr_le16(&w, MAILSLOT_CLASS_UNRELIABLE);
	wr_le16(&w,
		(uint16_t)(path_len + 1 + pad + d->data_len)); /* ByteCount */
	wr_bytes(&w, d->path, path_len + 1);
	wr_zero(&w, pad);
	wr_bytes(&w, d->data, d->data_len);
	if (w.overflow)
		return MAILSLOT_E_NOSPACE;
	*used = len - w.left;
	return MAILSLOT_OK;
}

size_t
mailslot_max_payload(const char *path)
{
	size_t n = strlen(path);

	n = n > MAILSLOT_PREFIX_LEN ? n - MAILSLOT_PREFIX_LEN : 0;
	n = (n + 3) & ~(size_t)3;
	if (n >= 432)
		return 0;
	/* The API's flat 424 also caps the 428 a 1-4 byte name would allow. */
	return 432 - n < MAILSLOT_API_MAX ? 432 - n : MAILSLOT_API_MAX;
}

bool
mailslot_path_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}
