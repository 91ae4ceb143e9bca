/* SPDX-License-Identifier: MIT */
/*
 * The decoders (beacon.h): one pass of the JSON reader (scan.c) into a
 * fixed pool, then the fields, in a fixed order, each to its policy. No
 * allocation, no global state: the pool is on the stack.
 *
 * The order of the checks is the reference's (decode_ref.c), so that for
 * every input both give the same verdict and the same fields: size, NUL
 * bytes and "\u0000" escapes, JSON, trailing bytes, an object, duplicate
 * keys, then v, id, inst, seq, host, int_ms, ttl_ms, state, uptime_s, os,
 * osver, ipv4, ipv6, tags. Unknown keys are ignored.
 */
#include <arpa/inet.h>
#include <math.h>
#include <string.h>

#include "beacon/beacon.h"
#include "policy.h"
#include "scan.h"

#define TRY(expr)                                                              \
	do {                                                                   \
		enum beacon_err e_ = (expr);                                   \
		if (e_ != BEACON_OK)                                           \
			return e_;                                             \
	} while (0)

static const char *
key(const struct jdoc *d, int m)
{
	return d->pool + d->nodes[m].key;
}

static const char *
sval(const struct jdoc *d, int m)
{
	return d->pool + d->nodes[m].str;
}

static bool
has_duplicates(const struct jdoc *d, int obj)
{
	int a, b;

	for (a = d->nodes[obj].child; a >= 0; a = d->nodes[a].next)
		for (b = d->nodes[a].next; b >= 0; b = d->nodes[b].next)
			if (strcmp(key(d, a), key(d, b)) == 0)
				return true;
	return false;
}

static enum beacon_err
parse(const void *buf, size_t len, struct jdoc *d)
{
	const char *p = buf;
	size_t end;

	if (len == 0 || len > BEACON_MAX_WIRE)
		return BEACON_E_SIZE;
	if (memchr(buf, 0, len) != NULL || policy_nul_escape(p, len))
		return BEACON_E_STRING;
	if (!scan_json(buf, len, d, &end))
		return BEACON_E_JSON;
	while (end < len && strchr(" \t\r\n", p[end]) != NULL)
		end++;
	if (end != len)
		return BEACON_E_TRAILING;
	if (d->nodes[0].type != J_OBJECT)
		return BEACON_E_ROOT;
	return has_duplicates(d, 0) ? BEACON_E_DUPLICATE : BEACON_OK;
}

static enum beacon_err
get_uint(const struct jdoc *d, const char *k, bool required, uint64_t min,
	 uint64_t max, uint64_t *out, bool *present)
{
	int m = jdoc_get(d, 0, k);
	double v;

	if (present != NULL)
		*present = m >= 0;
	if (m < 0)
		return required ? BEACON_E_MISSING : BEACON_OK;
	if (d->nodes[m].type != J_NUMBER)
		return BEACON_E_TYPE;
	v = d->nodes[m].num;
	if (!isfinite(v) || v < (double)min || v > (double)max ||
	    v != (double)(uint64_t)v)
		return BEACON_E_RANGE;
	*out = (uint64_t)v;
	return BEACON_OK;
}

enum policy { IDENT, TEXT };

static enum beacon_err
get_str(const struct jdoc *d, int obj, const char *k, bool required,
	enum policy pol, size_t max, char *out)
{
	int m = jdoc_get(d, obj, k);
	const char *s;
	bool ok;

	out[0] = '\0';
	if (m < 0)
		return required ? BEACON_E_MISSING : BEACON_OK;
	if (d->nodes[m].type != J_STRING)
		return BEACON_E_TYPE;
	s = sval(d, m);
	ok = pol == TEXT ? policy_text_ok(s, max, false)
			 : beacon_ident_valid(s, max);
	if (!ok)
		return BEACON_E_STRING;
	memcpy(out, s, strlen(s) + 1);
	return BEACON_OK;
}

static enum beacon_err
get_addrs(const struct jdoc *d, const char *k, int af, size_t width, char *out,
	  size_t *n)
{
	int arr = jdoc_get(d, 0, k), v;

	*n = 0;
	if (arr < 0)
		return BEACON_OK;
	if (d->nodes[arr].type != J_ARRAY)
		return BEACON_E_TYPE;
	for (v = d->nodes[arr].child; v >= 0; v = d->nodes[v].next) {
		const char *s;
		if (d->nodes[v].type != J_STRING)
			return BEACON_E_TYPE;
		if (*n == BEACON_MAX_ADDRS)
			return BEACON_E_TOO_MANY;
		s = sval(d, v);
		if (strlen(s) >= width || !policy_addr_ok(s, af))
			return BEACON_E_ADDRESS;
		memcpy(out + *n * width, s, strlen(s) + 1);
		(*n)++;
	}
	return BEACON_OK;
}

static enum beacon_err
get_tags(const struct jdoc *d, struct beacon_msg *b)
{
	int obj = jdoc_get(d, 0, "tags"), v;

	b->n_tags = 0;
	if (obj < 0)
		return BEACON_OK;
	if (d->nodes[obj].type != J_OBJECT)
		return BEACON_E_TYPE;
	if (has_duplicates(d, obj))
		return BEACON_E_DUPLICATE;
	for (v = d->nodes[obj].child; v >= 0; v = d->nodes[v].next) {
		struct beacon_tag *t = &b->tags[b->n_tags];
		if (b->n_tags == BEACON_MAX_TAGS)
			return BEACON_E_TOO_MANY;
		if (d->nodes[v].type != J_STRING)
			return BEACON_E_TYPE;
		if (!beacon_ident_valid(key(d, v), BEACON_MAX_TAG_KEY) ||
		    !policy_text_ok(sval(d, v), BEACON_MAX_TAG_VALUE, true))
			return BEACON_E_STRING;
		memcpy(t->key, key(d, v), strlen(key(d, v)) + 1);
		memcpy(t->value, sval(d, v), strlen(sval(d, v)) + 1);
		b->n_tags++;
	}
	return BEACON_OK;
}

static enum beacon_err
get_state(const struct jdoc *d, enum beacon_state *state)
{
	int m = jdoc_get(d, 0, "state");

	if (m < 0)
		return BEACON_E_MISSING;
	if (d->nodes[m].type != J_STRING)
		return BEACON_E_TYPE;
	if (strcmp(sval(d, m), "up") == 0)
		*state = BEACON_STATE_UP;
	else if (strcmp(sval(d, m), "bye") == 0)
		*state = BEACON_STATE_BYE;
	else
		return BEACON_E_STATE;
	return BEACON_OK;
}

static enum beacon_err
fields(const struct jdoc *d, struct beacon_msg *b)
{
	uint64_t v, iv, ttl;

	TRY(get_uint(d, "v", true, 0, 1000, &v, NULL));
	if (v != BEACON_FORMAT)
		return BEACON_E_VERSION;
	b->version = (unsigned)v;
	TRY(get_str(d, 0, "id", true, IDENT, BEACON_MAX_ID, b->id));
	TRY(get_str(d, 0, "inst", true, IDENT, BEACON_MAX_ID, b->instance));
	TRY(get_uint(d, "seq", true, 0, BEACON_MAX_SEQ, &b->seq, NULL));
	TRY(get_str(d, 0, "host", true, IDENT, BEACON_MAX_HOSTNAME,
		    b->hostname));
	TRY(get_uint(d, "int_ms", true, BEACON_MIN_INTERVAL_MS,
		     BEACON_MAX_INTERVAL_MS, &iv, NULL));
	TRY(get_uint(d, "ttl_ms", true, BEACON_MIN_INTERVAL_MS,
		     BEACON_MAX_TTL_MS, &ttl, NULL));
	if (ttl < iv)
		return BEACON_E_RANGE; /* a TTL shorter than the interval */
	b->interval_ms = (uint32_t)iv;
	b->ttl_ms = (uint32_t)ttl;
	TRY(get_state(d, &b->state));
	TRY(get_uint(d, "uptime_s", false, 0, BEACON_MAX_SEQ, &b->uptime_s,
		     &b->has_uptime));
	TRY(get_str(d, 0, "os", false, TEXT, BEACON_MAX_OS, b->os));
	TRY(get_str(d, 0, "osver", false, TEXT, BEACON_MAX_OS, b->os_version));
	TRY(get_addrs(d, "ipv4", AF_INET, sizeof(b->ipv4[0]), &b->ipv4[0][0],
		      &b->n_ipv4));
	TRY(get_addrs(d, "ipv6", AF_INET6, sizeof(b->ipv6[0]), &b->ipv6[0][0],
		      &b->n_ipv6));
	return get_tags(d, b);
}

enum beacon_err
beacon_decode(const void *buf, size_t len, struct beacon_msg *b)
{
	struct jdoc d;
	enum beacon_err e;

	memset(b, 0, sizeof(*b));
	e = parse(buf, len, &d);
	return e == BEACON_OK ? fields(&d, b) : e;
}

enum beacon_err
beacon_query_decode(const void *buf, size_t len, struct beacon_query *q)
{
	struct jdoc d;
	enum beacon_err e;
	uint64_t v;

	memset(q, 0, sizeof(*q));
	e = parse(buf, len, &d);
	if (e != BEACON_OK)
		return e;
	TRY(get_uint(&d, "v", true, 0, 1000, &v, NULL));
	if (v != BEACON_FORMAT)
		return BEACON_E_VERSION;
	q->version = (unsigned)v;
	TRY(get_str(&d, 0, "query", true, IDENT, BEACON_MAX_ID, q->nonce));
	return get_str(&d, 0, "target", false, IDENT, BEACON_MAX_ID, q->target);
}
