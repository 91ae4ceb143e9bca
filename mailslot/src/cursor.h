/* SPDX-License-Identifier: MIT */
/*
 * Checked read and write cursors: the only way the codec touches a buffer.
 * Every accessor checks the bytes left first, fails without moving, and
 * advances only on success, so a forgotten bounds check cannot happen.
 * Multi-byte integers are assembled byte by byte; nothing is cast to a struct.
 */
#ifndef BEACON_MAILSLOT_CURSOR_H
#define BEACON_MAILSLOT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p;
	size_t left;
};

struct wr {
	uint8_t *p;
	size_t left;
	bool overflow; /* set by the first write that did not fit */
};

static inline struct rd
rd_init(const uint8_t *p, size_t len)
{
	struct rd r = {p, len};
	return r;
}

static inline bool
rd_u8(struct rd *r, uint8_t *v)
{
	if (r->left < 1)
		return false;
	*v = r->p[0];
	r->p++;
	r->left--;
	return true;
}

static inline bool
rd_be16(struct rd *r, uint16_t *v)
{
	if (r->left < 2)
		return false;
	*v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return true;
}

static inline bool
rd_be32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return true;
}

static inline bool
rd_le16(struct rd *r, uint16_t *v)
{
	if (r->left < 2)
		return false;
	*v = (uint16_t)(r->p[0] | (unsigned)r->p[1] << 8);
	r->p += 2;
	r->left -= 2;
	return true;
}

static inline bool
rd_le32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	*v = r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
	     (uint32_t)r->p[3] << 24;
	r->p += 4;
	r->left -= 4;
	return true;
}

static inline bool
rd_bytes(struct rd *r, void *out, size_t n)
{
	if (r->left < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static inline bool
rd_skip(struct rd *r, size_t n)
{
	if (r->left < n)
		return false;
	r->p += n;
	r->left -= n;
	return true;
}

static inline struct wr
wr_init(uint8_t *p, size_t len)
{
	struct wr w = {p, len, false};
	return w;
}

static inline void
wr_bytes(struct wr *w, const void *src, size_t n)
{
	if (w->overflow || w->left < n) {
		w->overflow = true;
		return;
	}
	if (n > 0)
		memcpy(w->p, src, n);
	w->p += n;
	w->left -= n;
}

static inline void
wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

static inline void
wr_zero(struct wr *w, size_t n)
{
	if (w->overflow || w->left < n) {
		w->overflow = true;
		return;
	}
	memset(w->p, 0, n);
	w->p += n;
	w->left -= n;
}

static inline void
wr_be16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 2);
}

static inline void
wr_be32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 4);
}

static inline void
wr_le16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	wr_bytes(w, b, 2);
}

static inline void
wr_le32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			(uint8_t)(v >> 24)};
	wr_bytes(w, b, 4);
}

#endif
