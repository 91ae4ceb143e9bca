/* SPDX-License-Identifier: MIT */
/*
 * The fast path for the common case: an agent's next beacon is its last
 * one with the next sequence number and a later uptime. Such a beacon is
 * recognised by its fingerprint (a keyed hash of its bytes without the
 * digits of "seq" and "uptime_s") and taken without decoding the JSON
 * again: the bytes around the digits are those of a beacon the full
 * decoder accepted, and only the digits are parsed.
 *
 * It needs only to be right when it says yes: any doubt (no "id" where
 * expected, a key that is not there exactly once, another fingerprint)
 * sends the beacon through the full decoder.
 */
#include <string.h>

#include "fasthash.h"
#include "probe.h"

/* The digits of a JSON unsigned integer at buf[at...]: their end, or 0. */
static size_t
digits(const uint8_t *buf, size_t len, size_t at, uint64_t *v)
{
	size_t i = at;

	*v = 0;
	while (i < len && i - at < 16 && buf[i] >= '0' && buf[i] <= '9')
		*v = *v * 10 + (uint64_t)(buf[i++] - '0');
	if (i == at || (buf[at] == '0' && i - at > 1) ||
	    (i < len && buf[i] >= '0' && buf[i] <= '9'))
		return 0;
	return i;
}

/* Where the first occurrence of key in buf puts its value: 0 when there is
   none. A fingerprint is learned only from a beacon in which it is the
   only one (fastpath_learn), and another beacon with that fingerprint has
   the same bytes around the digits: the same keys, once each. */
static size_t
first(const uint8_t *buf, size_t len, const char *key, size_t klen)
{
	const uint8_t *k = memmem(buf, len, key, klen);

	return k == NULL ? 0 : (size_t)(k - buf) + klen;
}

/* Whether key occurs in buf again after its first value at 'at'. */
static bool
again(const uint8_t *buf, size_t len, size_t at, const char *key, size_t klen)
{
	return at != 0 && memmem(buf + at, len - at, key, klen) != NULL;
}

/* The fingerprint of buf: false when it has none. */
static bool
fingerprint(const struct probe *p, const uint8_t *buf, size_t len,
	    struct hosttab_fast *f)
{
	uint8_t tmp[BEACON_MAX_WIRE];
	size_t seq_end, up_end = 0, a, b, n = 0;

	f->seq_at = first(buf, len, "\"seq\":", 6);
	f->up_at = first(buf, len, "\"uptime_s\":", 11);
	if (f->seq_at == 0 || len > sizeof(tmp))
		return false;
	seq_end = digits(buf, len, f->seq_at, &f->seq);
	if (seq_end == 0 || f->seq > BEACON_MAX_SEQ)
		return false;
	if (f->up_at != 0 &&
	    (up_end = digits(buf, len, f->up_at, &f->uptime_s)) == 0)
		return false;
	/* The bytes without the two digit runs, in order. */
	a = f->up_at != 0 && f->up_at < f->seq_at ? f->up_at : f->seq_at;
	b = a == f->seq_at ? seq_end : up_end;
	memcpy(tmp, buf, a);
	n = a;
	if (f->up_at != 0) {
		size_t a2 = a == f->seq_at ? f->up_at : f->seq_at;
		size_t b2 = a == f->seq_at ? up_end : seq_end;
		memcpy(tmp + n, buf + b, a2 - b);
		n += a2 - b;
		b = b2;
	}
	memcpy(tmp + n, buf + b, len - b);
	n += len - b;
	f->hash = fasthash(p->key, tmp, n) | 1;
	return true;
}

bool
fastpath_take(struct probe *p, const uint8_t *buf, size_t len, const char *src,
	      const char *ifname, uint64_t now, enum hosttab_result *r)
{
	const uint8_t *k = memmem(buf, len < 64 ? len : 64, "\"id\":\"", 6);
	char id[BEACON_MAX_ID + 1];
	struct hosttab_fast f;
	size_t i;

	if (k == NULL)
		return false;
	k += 6;
	for (i = 0; i < BEACON_MAX_ID && k + i < buf + len && k[i] != '"'; i++)
		id[i] = (char)k[i];
	if (k + i >= buf + len || k[i] != '"')
		return false;
	id[i] = '\0';
	hosttab_prefetch(p->tab, id, &f);
	if (!fingerprint(p, buf, len, &f))
		return false;
	*r = hosttab_refresh(p->tab, id, &f, src, ifname, now);
	return *r != HT_UNKNOWN;
}

void
fastpath_learn(struct probe *p, const struct beacon_msg *b, const uint8_t *buf,
	       size_t len)
{
	struct hosttab_fast f;

	/* Only when each key is there once and the digits found are the
	   values the decoder read: then they are the top-level keys, not a
	   nested object's. */
	if (!fingerprint(p, buf, len, &f) ||
	    again(buf, len, f.seq_at, "\"seq\":", 6) ||
	    again(buf, len, f.up_at, "\"uptime_s\":", 11) || f.seq != b->seq ||
	    (f.up_at != 0) != b->has_uptime ||
	    (b->has_uptime && f.uptime_s != b->uptime_s))
		f.hash = 0;
	hosttab_set_fingerprint(p->tab, b, &f);
}
