/* SPDX-License-Identifier: MIT */
/*
 * The JSON reader of the decoders: one pass over the bytes into a fixed
 * pool of nodes and decoded strings, no allocation. It accepts exactly what
 * the reference (cJSON 1.7, which the decoders were first written on and
 * which tests/fuzz keeps comparing against) accepts, quirks included, so the
 * decoders' verdicts never depend on which reader ran:
 *
 *  - whitespace is any byte up to 0x20; a UTF-8 BOM may open the document;
 *  - a number is the longest run of 0-9 + - e E . that strtod reads a
 *    prefix of, and it must start with '-' or a digit;
 *  - strings hold any byte but '"' and '\' unescaped; \uXXXX with a bad
 *    hex digit stands for U+0000 (and ends the string's C form there);
 *    surrogates must pair;
 *  - objects and arrays nest up to 1000 deep.
 */
#include <stdlib.h>
#include <string.h>

#include "scan.h"

struct scan {
	const uint8_t *p;
	size_t len, off, depth;
	struct jnode *nodes;
	size_t n_nodes;
	char *pool;
	size_t pool_used;
};

#define NESTING_LIMIT 1000

static bool
can(const struct scan *s, size_t i)
{
	return s->off + i < s->len;
}

static void
skip_ws(struct scan *s)
{
	if (!can(s, 0))
		return;
	while (can(s, 0) && s->p[s->off] <= 32)
		s->off++;
	if (s->off == s->len)
		s->off--; /* as the reference: back on the last byte */
}

static int
node_new(struct scan *s)
{
	if (s->n_nodes == SCAN_NODES)
		return -1;
	memset(&s->nodes[s->n_nodes], 0, sizeof(s->nodes[0]));
	s->nodes[s->n_nodes].next = -1;
	s->nodes[s->n_nodes].child = -1;
	return (int)s->n_nodes++;
}

static unsigned
hex4(const uint8_t *p)
{
	unsigned h = 0, i;

	for (i = 0; i < 4; i++) {
		unsigned c = p[i];
		h <<= 4;
		if (c >= '0' && c <= '9')
			h += c - '0';
		else if (c >= 'A' && c <= 'F')
			h += 10 + c - 'A';
		else if (c >= 'a' && c <= 'f')
			h += 10 + c - 'a';
		else
			return 0; /* the reference's reading of a bad digit */
	}
	return h;
}

/* \uXXXX(\uXXXX) at in (end: the closing quote) into out: the bytes of
   input it took, or 0. */
static size_t
utf16(const uint8_t *in, const uint8_t *end, char **out)
{
	unsigned long cp;
	unsigned first, second;
	size_t taken = 6, n, i;
	uint8_t lead;

	if (end - in < 6)
		return 0;
	first = hex4(in + 2);
	if (first >= 0xdc00 && first <= 0xdfff)
		return 0;
	if (first >= 0xd800 && first <= 0xdbff) {
		const uint8_t *s2 = in + 6;
		if (end - s2 < 6 || s2[0] != '\\' || s2[1] != 'u')
			return 0;
		second = hex4(s2 + 2);
		if (second < 0xdc00 || second > 0xdfff)
			return 0;
		cp = 0x10000 + (((first & 0x3ff) << 10) | (second & 0x3ff));
		taken = 12;
	} else {
		cp = first;
	}
	if (cp < 0x80) {
		n = 1;
		lead = 0;
	} else if (cp < 0x800) {
		n = 2;
		lead = 0xc0;
	} else if (cp < 0x10000) {
		n = 3;
		lead = 0xe0;
	} else if (cp <= 0x10ffff) {
		n = 4;
		lead = 0xf0;
	} else {
		return 0;
	}
	for (i = n - 1; i > 0; i--) {
		(*out)[i] = (char)((cp | 0x80) & 0xbf);
		cp >>= 6;
	}
	(*out)[0] = (char)(n > 1 ? (cp | lead) & 0xff : cp & 0xff);
	*out += n;
	return taken;
}

/* A string at s->off into the pool: its offset, or -1. */
static long
string(struct scan *s)
{
	const uint8_t *start = s->p + s->off, *in = start + 1, *end = in;
	char *out, *o;
	long at;

	if (!can(s, 0) || *start != '"')
		return -1;
	while ((size_t)(end - s->p) < s->len && *end != '"') {
		if (*end == '\\') {
			if ((size_t)(end + 1 - s->p) >= s->len)
				return -1;
			end++;
		}
		end++;
	}
	if ((size_t)(end - s->p) >= s->len || *end != '"')
		return -1;
	if (s->pool_used + (size_t)(end - in) + 1 > SCAN_POOL)
		return -1;
	at = (long)s->pool_used;
	out = o = s->pool + s->pool_used;
	while (in < end) {
		if (*in != '\\') {
			*o++ = (char)*in++;
			continue;
		}
		switch (in[1]) {
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case '"':
		case '\\':
		case '/':
			*o++ = (char)in[1];
			break;
		case 'u': {
			size_t k = utf16(in, end, &o);
			if (k == 0)
				return -1;
			in += k;
			continue;
		}
		default:
			return -1;
		}
		in += 2;
	}
	*o++ = '\0';
	s->pool_used += (size_t)(o - out);
	s->off = (size_t)(end - s->p) + 1;
	return at;
}

static bool
number(struct scan *s, double *v)
{
	char buf[SCAN_POOL], *after; /* the whole run: the input is bounded */
	size_t i;

	for (i = 0; i < sizeof(buf) - 1 && can(s, i); i++) {
		char c = (char)s->p[s->off + i];
		if ((c >= '0' && c <= '9') || c == '+' || c == '-' ||
		    c == 'e' || c == 'E' || c == '.')
			buf[i] = c;
		else
			break;
	}
	buf[i] = '\0';
	*v = strtod(buf, &after);
	if (after == buf)
		return false;
	s->off += (size_t)(after - buf);
	return true;
}

static bool value(struct scan *s, int node);

/* The members (or elements) of the object (array) at s->off into node. */
static bool
container(struct scan *s, int node, bool object)
{
	int last = -1;

	if (s->depth >= NESTING_LIMIT)
		return false;
	s->depth++;
	if (!can(s, 0) || s->p[s->off] != (object ? '{' : '['))
		return false;
	s->off++;
	skip_ws(s);
	if (can(s, 0) && s->p[s->off] == (object ? '}' : ']'))
		goto done;
	if (!can(s, 0)) {
		s->off--;
		return false;
	}
	s->off--;
	do {
		int m = node_new(s);
		if (m < 0)
			return false;
		if (last < 0)
			s->nodes[node].child = m;
		else
			s->nodes[last].next = m;
		last = m;
		s->nodes[node].count++;
		s->off++;
		skip_ws(s);
		if (object) {
			long k = string(s);
			if (k < 0)
				return false;
			s->nodes[m].key = k;
			skip_ws(s);
			if (!can(s, 0) || s->p[s->off] != ':')
				return false;
			s->off++;
			skip_ws(s);
		}
		if (!value(s, m))
			return false;
		skip_ws(s);
	} while (can(s, 0) && s->p[s->off] == ',');
	if (!can(s, 0) || s->p[s->off] != (object ? '}' : ']'))
		return false;
done:
	s->depth--;
	s->off++;
	return true;
}

static bool
value(struct scan *s, int node)
{
	struct jnode *n = &s->nodes[node];
	const uint8_t *p = s->p + s->off;
	size_t left = s->len - s->off;

	if (left >= 4 && memcmp(p, "null", 4) == 0) {
		n->type = J_NULL;
		s->off += 4;
		return true;
	}
	if (left >= 5 && memcmp(p, "false", 5) == 0) {
		n->type = J_FALSE;
		s->off += 5;
		return true;
	}
	if (left >= 4 && memcmp(p, "true", 4) == 0) {
		n->type = J_TRUE;
		s->off += 4;
		return true;
	}
	if (left == 0)
		return false;
	if (*p == '"') {
		n->type = J_STRING;
		n->str = string(s);
		return n->str >= 0;
	}
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		n->type = J_NUMBER;
		return number(s, &n->num);
	}
	if (*p == '[') {
		n->type = J_ARRAY;
		return container(s, node, false);
	}
	if (*p == '{') {
		n->type = J_OBJECT;
		return container(s, node, true);
	}
	return false;
}

bool
scan_json(const void *buf, size_t len, struct jdoc *d, size_t *end)
{
	struct scan s;

	memset(&s, 0, sizeof(s));
	s.p = buf;
	s.len = len;
	s.nodes = d->nodes;
	s.pool = d->pool;
	if (len >= 5 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		s.off = 3;
	skip_ws(&s);
	if (node_new(&s) != 0 || !value(&s, 0))
		return false;
	*end = s.off;
	return true;
}

int
jdoc_get(const struct jdoc *d, int obj, const char *key)
{
	int m;

	for (m = d->nodes[obj].child; m >= 0; m = d->nodes[m].next)
		if (strcmp(d->pool + d->nodes[m].key, key) == 0)
			return m;
	return -1;
}
