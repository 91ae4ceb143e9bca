/*
 * The beacon and the query as JSON (schema/beacon.schema.json,
 * schema/query.schema.json): error names, the string policies both
 * decoders use, and the encoders, which write the text directly and fit a
 * beacon into its budget by dropping optional items in a fixed order. The
 * decoders are decode.c (and decode_ref.c, the reference on cJSON).
 */
/*
 * The beacon and the query as JSON (schema/beacon.schema.json,
 * schema/query.schema.json).
 *
 * Decoding gates the size first, parses with a length bound and nothing but
 * whitespace after the object, refuses duplicate keys (cJSON would take the
 * first, a Python validator the last: they must never disagree), reads numbers
 * from valuedouble with finiteness, integrality and range checks (valueint
 * saturates), and holds every string to a character policy. A "\u0000" escape
 * is refused before parsing, since cJSON would silently cut the string there.
 */
#include <arpa/inet.h>
#include <math.h> /* isfinite */
#include <stdio.h>
#include <string.h>

#include "beacon/beacon.h"
#include "policy.h"
#include "text.h"

static const struct {
	const char *name, *text;
} errs[BEACON_E__COUNT] = {
	[BEACON_OK] = {"ok", "success"},
	[BEACON_E_SIZE] = {"size", "beacon empty or over 424 bytes"},
	[BEACON_E_JSON] = {"json", "not well-formed JSON"},
	[BEACON_E_TRAILING] = {"trailing", "data after the JSON object"},
	[BEACON_E_ROOT] = {"root", "not a JSON object"},
	[BEACON_E_DUPLICATE] = {"duplicate", "duplicate key"},
	[BEACON_E_VERSION] = {"version", "unsupported beacon version"},
	[BEACON_E_MISSING] = {"missing", "required key missing"},
	[BEACON_E_TYPE] = {"type", "value of the wrong type"},
	[BEACON_E_RANGE] = {"range", "number out of range"},
	[BEACON_E_STRING] = {"string", "invalid string"},
	[BEACON_E_ADDRESS] = {"address", "invalid IP address"},
	[BEACON_E_TOO_MANY] = {"too_many", "too many addresses or tags"},
	[BEACON_E_STATE] = {"state", "state is neither up nor bye"},
	[BEACON_E_NOMEM] = {"nomem", "out of memory"},
	[BEACON_E_NOSPACE] = {"nospace", "required fields exceed the budget"},
};

const char *
beacon_strerror(enum beacon_err err)
{
	if ((unsigned)err >= BEACON_E__COUNT)
		return "unknown error";
	return errs[err].text;
}

const char *
beacon_errname(enum beacon_err err)
{
	if ((unsigned)err >= BEACON_E__COUNT)
		return "unknown";
	return errs[err].name;
}

static bool
ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool
beacon_ident_valid(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!ident_char((unsigned char)s[i]))
			return false;
	return true;
}

bool
beacon_hostname_valid(const char *s)
{
	return beacon_ident_valid(s, BEACON_MAX_HOSTNAME);
}

/* Free text (OS names, tag values): printable UTF-8, no C0, DEL or C1. */
bool
policy_text_ok(const char *s, size_t max, bool allow_empty)
{
	size_t n = strlen(s), i;

	if ((n == 0 && !allow_empty) || n > max || !text_utf8_valid(s, n))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
			return false; /* U+0080..U+009F */
	}
	return true;
}

bool
beacon_text_valid(const char *s, size_t max)
{
	return policy_text_ok(s, max, true);
}

const char *
beacon_tag_parse(const char *arg, struct beacon_tag *t)
{
	const char *eq = strchr(arg, '=');
	size_t kl;

	if (eq == NULL)
		return "a tag is KEY=VALUE";
	kl = (size_t)(eq - arg);
	if (kl == 0 || kl > BEACON_MAX_TAG_KEY ||
	    strlen(eq + 1) > BEACON_MAX_TAG_VALUE)
		return "a tag's key must be 1-32 bytes and its value 0-64";
	memcpy(t->key, arg, kl);
	t->key[kl] = '\0';
	if (!beacon_ident_valid(t->key, BEACON_MAX_TAG_KEY))
		return "a tag's key may hold A-Z a-z 0-9 . _ - only";
	strcpy(t->value, eq + 1);
	if (!beacon_text_valid(t->value, BEACON_MAX_TAG_VALUE))
		return "a tag's value must be UTF-8 without control characters";
	return NULL;
}

bool
policy_addr_ok(const char *s, int af)
{
	unsigned char buf[16];

	return inet_pton(af, s, buf) == 1;
}

/* A "\u0000" escape inside a string: the reference reader (cJSON) would
   end the string there, and so does ours; refused before reading. */
bool
policy_nul_escape(const char *p, size_t n)
{
	bool in_str = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!in_str) {
			in_str = p[i] == '"';
			continue;
		}
		if (p[i] == '"') {
			in_str = false;
		} else if (p[i] == '\\' && i + 1 < n) {
			if (p[i + 1] == 'u' && i + 5 < n &&
			    strncmp(p + i + 2, "0000", 4) == 0)
				return true;
			i++; /* skip the escaped character */
		}
	}
	return false;
}

/* ---- Encoding ---- */

static enum beacon_err
check(const struct beacon_msg *b)
{
	size_t i;

	if (!beacon_ident_valid(b->id, BEACON_MAX_ID) ||
	    !beacon_ident_valid(b->instance, BEACON_MAX_ID) ||
	    !beacon_hostname_valid(b->hostname) ||
	    (b->os[0] && !policy_text_ok(b->os, BEACON_MAX_OS, false)) ||
	    (b->os_version[0] &&
	     !policy_text_ok(b->os_version, BEACON_MAX_OS, false)))
		return BEACON_E_STRING;
	if (b->seq > BEACON_MAX_SEQ ||
	    b->interval_ms < BEACON_MIN_INTERVAL_MS ||
	    b->interval_ms > BEACON_MAX_INTERVAL_MS ||
	    b->ttl_ms < b->interval_ms || b->ttl_ms > BEACON_MAX_TTL_MS ||
	    b->uptime_s > BEACON_MAX_SEQ)
		return BEACON_E_RANGE;
	if (b->n_ipv4 > BEACON_MAX_ADDRS || b->n_ipv6 > BEACON_MAX_ADDRS ||
	    b->n_tags > BEACON_MAX_TAGS)
		return BEACON_E_TOO_MANY;
	for (i = 0; i < b->n_ipv4; i++)
		if (!policy_addr_ok(b->ipv4[i], AF_INET))
			return BEACON_E_ADDRESS;
	for (i = 0; i < b->n_ipv6; i++)
		if (!policy_addr_ok(b->ipv6[i], AF_INET6))
			return BEACON_E_ADDRESS;
	for (i = 0; i < b->n_tags; i++)
		if (!beacon_ident_valid(b->tags[i].key, BEACON_MAX_TAG_KEY) ||
		    !policy_text_ok(b->tags[i].value, BEACON_MAX_TAG_VALUE,
				    true))
			return BEACON_E_STRING;
	for (i = 0; i < b->n_tags; i++)
		for (size_t j = i + 1; j < b->n_tags; j++)
			if (strcmp(b->tags[i].key, b->tags[j].key) == 0)
				return BEACON_E_DUPLICATE;
	return BEACON_OK;
}

/* The compact JSON text, written directly (as cJSON_PrintUnformatted wrote
   it: no spaces, strings escaped the same way, integers exact). */
struct w {
	char *p;
	size_t n, cap;
	bool over;
};

static void
put(struct w *w, const char *s, size_t n)
{
	if (w->n + n >= w->cap) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->n, s, n);
	w->n += n;
}

#define PUT(w, lit) put(w, "" lit, sizeof(lit) - 1)

static void
str(struct w *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	PUT(w, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		switch (c) {
		case '"':
		case '\\':
			e[1] = (char)c;
			put(w, e, 2);
			break;
		case '\b':
			PUT(w, "\\b");
			break;
		case '\f':
			PUT(w, "\\f");
			break;
		case '\n':
			PUT(w, "\\n");
			break;
		case '\r':
			PUT(w, "\\r");
			break;
		case '\t':
			PUT(w, "\\t");
			break;
		default:
			if (c < 0x20)
				put(w, e, 6);
			else
				put(w, (const char *)&c, 1);
		}
	}
	PUT(w, "\"");
}

static void
num(struct w *w, uint64_t v)
{
	char d[24];
	int n = snprintf(d, sizeof(d), "%llu", (unsigned long long)v);

	put(w, d, (size_t)n);
}

static void
key(struct w *w, const char *k)
{
	PUT(w, ",");
	str(w, k);
	PUT(w, ":");
}

/* The beacon with the first v4/v6/tags items and the optional fields whose
   keep flags are set. */
struct keep {
	size_t v4, v6, tags;
	bool osver, os, uptime;
};

static void
build(struct w *w, const struct beacon_msg *b, const struct keep *k)
{
	size_t i;

	w->n = 0;
	w->over = false;
	PUT(w, "{\"v\":");
	num(w, BEACON_FORMAT);
	key(w, "id");
	str(w, b->id);
	key(w, "inst");
	str(w, b->instance);
	key(w, "seq");
	num(w, b->seq);
	key(w, "state");
	str(w, b->state == BEACON_STATE_BYE ? "bye" : "up");
	key(w, "host");
	str(w, b->hostname);
	key(w, "int_ms");
	num(w, b->interval_ms);
	key(w, "ttl_ms");
	num(w, b->ttl_ms);
	if (k->uptime) {
		key(w, "uptime_s");
		num(w, b->uptime_s);
	}
	if (k->os) {
		key(w, "os");
		str(w, b->os);
	}
	if (k->osver) {
		key(w, "osver");
		str(w, b->os_version);
	}
	if (k->v4 > 0) {
		key(w, "ipv4");
		for (i = 0; i < k->v4; i++) {
			if (i)
				PUT(w, ",");
			else
				PUT(w, "[");
			str(w, b->ipv4[i]);
		}
		PUT(w, "]");
	}
	if (k->v6 > 0) {
		key(w, "ipv6");
		for (i = 0; i < k->v6; i++) {
			if (i)
				PUT(w, ",");
			else
				PUT(w, "[");
			str(w, b->ipv6[i]);
		}
		PUT(w, "]");
	}
	if (k->tags > 0) {
		key(w, "tags");
		for (i = 0; i < k->tags; i++) {
			if (i)
				PUT(w, ",");
			else
				PUT(w, "{");
			str(w, b->tags[i].key);
			PUT(w, ":");
			str(w, b->tags[i].value);
		}
		PUT(w, "}");
	}
	PUT(w, "}");
}

/* Drop the next optional item in the documented order; false when none. */
static bool
drop_one(struct keep *k)
{
	if (k->tags > 0)
		k->tags--;
	else if (k->v6 > 0)
		k->v6--;
	else if (k->v4 > 1)
		k->v4--;
	else if (k->osver)
		k->osver = false;
	else if (k->os)
		k->os = false;
	else if (k->uptime)
		k->uptime = false;
	else if (k->v4 > 0)
		k->v4--;
	else
		return false;
	return true;
}

enum beacon_err
beacon_encode(const struct beacon_msg *b, size_t budget, char *out, size_t cap,
	      size_t *len, unsigned *dropped)
{
	struct keep k = {b->n_ipv4,     b->n_ipv6,
			 b->n_tags,     b->os_version[0] != 0,
			 b->os[0] != 0, b->has_uptime};
	enum beacon_err e = check(b);

	*dropped = 0;
	if (e != BEACON_OK)
		return e;
	if (budget > BEACON_MAX_WIRE)
		budget = BEACON_MAX_WIRE;
	for (;;) {
		/* Longer than any budget: a beacon that does not fit here
		   is over 424 bytes anyway. */
		char buf[2 * BEACON_MAX_WIRE];
		struct w w = {buf, 0, sizeof(buf), false};

		build(&w, b, &k);
		if (!w.over && w.n <= budget) {
			if (w.n + 1 > cap)
				return BEACON_E_NOSPACE;
			memcpy(out, buf, w.n);
			out[w.n] = '\0';
			*len = w.n;
			return BEACON_OK;
		}
		if (!drop_one(&k))
			return BEACON_E_NOSPACE;
		(*dropped)++;
	}
}

enum beacon_err
beacon_query_encode(const struct beacon_query *q, char *out, size_t cap,
		    size_t *len)
{
	int n;

	if (!beacon_ident_valid(q->nonce, BEACON_MAX_ID) ||
	    (q->target[0] && !beacon_ident_valid(q->target, BEACON_MAX_ID)))
		return BEACON_E_STRING;
	/* Identifiers need no escaping, so plain formatting is exact. */
	if (q->target[0])
		n = snprintf(out, cap,
			     "{\"v\":%d,\"query\":\"%s\",\"target\":\"%s\"}",
			     BEACON_FORMAT, q->nonce, q->target);
	else
		n = snprintf(out, cap, "{\"v\":%d,\"query\":\"%s\"}",
			     BEACON_FORMAT, q->nonce);
	if (n < 0 || (size_t)n >= cap)
		return BEACON_E_NOSPACE;
	*len = (size_t)n;
	return BEACON_OK;
}
