/* SPDX-License-Identifier: MIT */
/*
 * The reference decoders, on cJSON: what beacon_decode() and
 * beacon_query_decode() were first written as. Kept for the tests and the
 * fuzzer, which hold the allocation-free decoders (decode.c) to the same
 * verdict and the same fields for every input. Not in the programs.
 *
 * Decoding gates the size first, parses with a length bound and nothing but
 * whitespace after the object, refuses duplicate keys (cJSON would take the
 * first, a Python validator the last: they must never disagree), reads numbers
 * from valuedouble with finiteness, integrality and range checks (valueint
 * saturates), and holds every string to a character policy. A "\u0000" escape
 * is refused before parsing, since cJSON would silently cut the string there.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "beacon/beacon.h"
#include "decode_ref.h"
#include "policy.h"

static bool
has_duplicates(const cJSON *obj)
{
	const cJSON *a, *b;

	for (a = obj->child; a != NULL; a = a->next)
		for (b = a->next; b != NULL; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return true;
	return false;
}

static enum beacon_err
parse(const void *buf, size_t len, size_t max, cJSON **root)
{
	const char *end = NULL, *p = buf;
	cJSON *r;

	*root = NULL;
	if (len == 0 || len > max)
		return BEACON_E_SIZE;
	if (memchr(buf, 0, len) != NULL || policy_nul_escape(p, len))
		return BEACON_E_STRING;
	r = cJSON_ParseWithLengthOpts(p, len, &end, false);
	if (r == NULL)
		return BEACON_E_JSON;
	while (end < p + len && strchr(" \t\r\n", *end) != NULL && *end)
		end++;
	if (end != p + len) {
		cJSON_Delete(r);
		return BEACON_E_TRAILING;
	}
	if (!cJSON_IsObject(r)) {
		cJSON_Delete(r);
		return BEACON_E_ROOT;
	}
	*root = r;
	return has_duplicates(r) ? BEACON_E_DUPLICATE : BEACON_OK;
}

static enum beacon_err
get_uint(const cJSON *o, const char *key, bool required, uint64_t min,
	 uint64_t max, uint64_t *out, bool *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return required ? BEACON_E_MISSING : BEACON_OK;
	if (!cJSON_IsNumber(v))
		return BEACON_E_TYPE;
	d = v->valuedouble;
	/* In range first, then integral (the cast is defined once in range;
	   no libm). */
	if (!isfinite(d) || d < (double)min || d > (double)max ||
	    d != (double)(uint64_t)d)
		return BEACON_E_RANGE;
	*out = (uint64_t)d;
	return BEACON_OK;
}

/* A string into out (cap includes the NUL), under POLICY. */
enum policy { IDENT, HOSTNAME, TEXT };

static enum beacon_err
get_str(const cJSON *o, const char *key, bool required, enum policy pol,
	size_t max, char *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *s;
	bool ok;

	out[0] = '\0';
	if (v == NULL)
		return required ? BEACON_E_MISSING : BEACON_OK;
	if (!cJSON_IsString(v))
		return BEACON_E_TYPE;
	s = v->valuestring;
	ok = pol == TEXT ? policy_text_ok(s, max, false)
			 : beacon_ident_valid(s, max);
	if (!ok)
		return BEACON_E_STRING;
	memcpy(out, s, strlen(s) + 1);
	return BEACON_OK;
}

static enum beacon_err
get_addrs(const cJSON *o, const char *key, int af, size_t width, char *out,
	  size_t *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key), *v;

	*n = 0;
	if (arr == NULL)
		return BEACON_OK;
	if (!cJSON_IsArray(arr))
		return BEACON_E_TYPE;
	cJSON_ArrayForEach (v, arr) {
		if (!cJSON_IsString(v))
			return BEACON_E_TYPE;
		if (*n == BEACON_MAX_ADDRS)
			return BEACON_E_TOO_MANY;
		if (strlen(v->valuestring) >= width ||
		    !policy_addr_ok(v->valuestring, af))
			return BEACON_E_ADDRESS;
		memcpy(out + *n * width, v->valuestring,
		       strlen(v->valuestring) + 1);
		(*n)++;
	}
	return BEACON_OK;
}

static enum beacon_err
get_tags(const cJSON *o, struct beacon_msg *b)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(o, "tags"), *v;

	b->n_tags = 0;
	if (obj == NULL)
		return BEACON_OK;
	if (!cJSON_IsObject(obj))
		return BEACON_E_TYPE;
	if (has_duplicates(obj))
		return BEACON_E_DUPLICATE;
	cJSON_ArrayForEach (v, obj) {
		struct beacon_tag *t = &b->tags[b->n_tags];
		if (b->n_tags == BEACON_MAX_TAGS)
			return BEACON_E_TOO_MANY;
		if (!cJSON_IsString(v))
			return BEACON_E_TYPE;
		if (!beacon_ident_valid(v->string, BEACON_MAX_TAG_KEY) ||
		    !policy_text_ok(v->valuestring, BEACON_MAX_TAG_VALUE, true))
			return BEACON_E_STRING;
		memcpy(t->key, v->string, strlen(v->string) + 1);
		memcpy(t->value, v->valuestring, strlen(v->valuestring) + 1);
		b->n_tags++;
	}
	return BEACON_OK;
}

/* Return the first error; the decoder is a straight list of these. */
#define TRY(expr)                                                              \
	do {                                                                   \
		enum beacon_err e_ = (expr);                                   \
		if (e_ != BEACON_OK)                                           \
			return e_;                                             \
	} while (0)

static enum beacon_err
decode_state(const cJSON *r, enum beacon_state *state)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "state");

	if (st == NULL)
		return BEACON_E_MISSING;
	if (!cJSON_IsString(st))
		return BEACON_E_TYPE;
	if (strcmp(st->valuestring, "up") == 0)
		*state = BEACON_STATE_UP;
	else if (strcmp(st->valuestring, "bye") == 0)
		*state = BEACON_STATE_BYE;
	else
		return BEACON_E_STATE;
	return BEACON_OK;
}

static enum beacon_err
decode_fields(const cJSON *r, struct beacon_msg *b)
{
	uint64_t v, iv, ttl;

	TRY(get_uint(r, "v", true, 0, 1000, &v, NULL));
	if (v != BEACON_FORMAT)
		return BEACON_E_VERSION;
	b->version = (unsigned)v;
	TRY(get_str(r, "id", true, IDENT, BEACON_MAX_ID, b->id));
	TRY(get_str(r, "inst", true, IDENT, BEACON_MAX_ID, b->instance));
	TRY(get_uint(r, "seq", true, 0, BEACON_MAX_SEQ, &b->seq, NULL));
	TRY(get_str(r, "host", true, HOSTNAME, BEACON_MAX_HOSTNAME,
		    b->hostname));
	TRY(get_uint(r, "int_ms", true, BEACON_MIN_INTERVAL_MS,
		     BEACON_MAX_INTERVAL_MS, &iv, NULL));
	TRY(get_uint(r, "ttl_ms", true, BEACON_MIN_INTERVAL_MS,
		     BEACON_MAX_TTL_MS, &ttl, NULL));
	if (ttl < iv)
		return BEACON_E_RANGE; /* a TTL shorter than the interval */
	b->interval_ms = (uint32_t)iv;
	b->ttl_ms = (uint32_t)ttl;
	TRY(decode_state(r, &b->state));
	TRY(get_uint(r, "uptime_s", false, 0, BEACON_MAX_SEQ, &b->uptime_s,
		     &b->has_uptime));
	TRY(get_str(r, "os", false, TEXT, BEACON_MAX_OS, b->os));
	TRY(get_str(r, "osver", false, TEXT, BEACON_MAX_OS, b->os_version));
	TRY(get_addrs(r, "ipv4", AF_INET, sizeof(b->ipv4[0]), &b->ipv4[0][0],
		      &b->n_ipv4));
	TRY(get_addrs(r, "ipv6", AF_INET6, sizeof(b->ipv6[0]), &b->ipv6[0][0],
		      &b->n_ipv6));
	return get_tags(r, b);
}

enum beacon_err
beacon_decode_ref(const void *buf, size_t len, struct beacon_msg *b)
{
	enum beacon_err e;
	cJSON *r;

	memset(b, 0, sizeof(*b));
	e = parse(buf, len, BEACON_MAX_WIRE, &r);
	if (e == BEACON_OK)
		e = decode_fields(r, b);
	cJSON_Delete(r);
	return e;
}

static enum beacon_err
decode_query(const cJSON *r, struct beacon_query *q)
{
	uint64_t v;

	TRY(get_uint(r, "v", true, 0, 1000, &v, NULL));
	if (v != BEACON_FORMAT)
		return BEACON_E_VERSION;
	q->version = (unsigned)v;
	TRY(get_str(r, "query", true, IDENT, BEACON_MAX_ID, q->nonce));
	return get_str(r, "target", false, IDENT, BEACON_MAX_ID, q->target);
}

enum beacon_err
beacon_query_decode_ref(const void *buf, size_t len, struct beacon_query *q)
{
	enum beacon_err e;
	cJSON *r;

	memset(q, 0, sizeof(*q));
	e = parse(buf, len, BEACON_MAX_WIRE, &r);
	if (e == BEACON_OK)
		e = decode_query(r, q);
	cJSON_Delete(r);
	return e;
}
