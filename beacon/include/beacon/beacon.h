/* SPDX-License-Identifier: MIT */
/*
 * The presence beacon: a compact JSON object carried as one mailslot message
 * to \\*\mailslot\beacon, never more than 424 bytes; and the probe's query
 * (solicitation) carried to \\*\mailslot\beacon\query.
 *
 * schema/beacon.schema.json and schema/query.schema.json describe both. The
 * decoders are strict and pure (size gate, bounded parse, types, ranges,
 * duplicate keys, string policy) and ignore unknown keys, so newer agents
 * work with older probes. Every decoded string is printable UTF-8.
 */
#ifndef BEACON_BEACON_H
#define BEACON_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BEACON_FORMAT          1 /* "v": the major version we speak */
#define BEACON_MAX_WIRE        424 /* the mailslot limit for \\*\mailslot\beacon */
#define BEACON_SIG_RESERVE     48 /* kept spare by default for a signature */
#define BEACON_MAX_ID          32 /* id and instance id */
#define BEACON_MAX_HOSTNAME    63
#define BEACON_MAX_OS          32 /* os and os version */
#define BEACON_MAX_ADDRS       8  /* per family */
#define BEACON_MAX_TAGS        16
#define BEACON_MAX_TAG_KEY     32
#define BEACON_MAX_TAG_VALUE   64
#define BEACON_MIN_INTERVAL_MS 100
#define BEACON_MAX_INTERVAL_MS 86400000u
#define BEACON_MAX_TTL_MS      (10u * BEACON_MAX_INTERVAL_MS)
#define BEACON_MAX_SEQ         9007199254740991ull /* 2^53 - 1, exact in JSON */

enum beacon_err {
	BEACON_OK = 0,
	BEACON_E_SIZE,      /* empty, or over 424 bytes */
	BEACON_E_JSON,      /* not well-formed JSON */
	BEACON_E_TRAILING,  /* something after the object */
	BEACON_E_ROOT,      /* not a JSON object */
	BEACON_E_DUPLICATE, /* a key appears twice */
	BEACON_E_VERSION,   /* "v" is not a version we speak */
	BEACON_E_MISSING,   /* a required key is absent */
	BEACON_E_TYPE,      /* a value of the wrong JSON type */
	BEACON_E_RANGE,     /* a number out of range or not an integer */
	BEACON_E_STRING,    /* a string too long, empty, with NUL, control
			       characters, invalid UTF-8 or bad characters */
	BEACON_E_ADDRESS,   /* not an IPv4/IPv6 address in text form */
	BEACON_E_TOO_MANY,  /* too many addresses or tags */
	BEACON_E_STATE,     /* state is neither "up" nor "bye" */
	BEACON_E_NOMEM,
	BEACON_E_NOSPACE, /* the required fields alone exceed the budget */
	BEACON_E__COUNT
};

enum beacon_state { BEACON_STATE_UP, BEACON_STATE_BYE };

struct beacon_tag {
	char key[BEACON_MAX_TAG_KEY + 1];
	char value[BEACON_MAX_TAG_VALUE + 1];
};

/* One beacon. Strings are NUL-terminated; optional ones are "" when absent. */
struct beacon_msg {
	unsigned version;
	char id[BEACON_MAX_ID + 1];       /* stable host id */
	char instance[BEACON_MAX_ID + 1]; /* changes at every agent start */
	uint64_t seq; /* +1 for every beacon of an instance */
	enum beacon_state state;
	char hostname[BEACON_MAX_HOSTNAME + 1];
	uint32_t interval_ms;
	uint32_t ttl_ms;
	bool has_uptime;
	uint64_t uptime_s;
	char os[BEACON_MAX_OS + 1];
	char os_version[BEACON_MAX_OS + 1];
	size_t n_ipv4, n_ipv6;
	char ipv4[BEACON_MAX_ADDRS][16];
	char ipv6[BEACON_MAX_ADDRS][46];
	size_t n_tags;
	struct beacon_tag tags[BEACON_MAX_TAGS];
};

/* The probe's query: every agent answers, or only the one whose id is
   target (when set). nonce tells repeated copies of one query apart. */
struct beacon_query {
	unsigned version;
	char nonce[BEACON_MAX_ID + 1];
	char target[BEACON_MAX_ID + 1];
};

const char *beacon_strerror(enum beacon_err err);
/* Stable snake_case name for counters and JSON ("duplicate", ...). */
const char *beacon_errname(enum beacon_err err);

/*
 * Encode *b as compact JSON into out (cap bytes, NUL-terminated), fitting it
 * into budget bytes (at most BEACON_MAX_WIRE) by dropping optional content in
 * this fixed order until it fits: tags (last first), IPv6 addresses (last
 * first), IPv4 addresses but the first (last first), OS version, OS name,
 * uptime, the first IPv4 address. *dropped gets how many items went.
 * *len gets the length. BEACON_E_NOSPACE if the required fields alone do not
 * fit; BEACON_E_STRING etc. if *b would not pass beacon_decode().
 */
enum beacon_err beacon_encode(const struct beacon_msg *b, size_t budget,
			      char *out, size_t cap, size_t *len,
			      unsigned *dropped);

/*
 * Decode a beacon. Pure: no allocation survives the call, no global state.
 * *b is valid only on BEACON_OK.
 */
enum beacon_err beacon_decode(const void *buf, size_t len, struct beacon_msg *b)
	__attribute__((warn_unused_result));

/* The same for queries. */
enum beacon_err beacon_query_encode(const struct beacon_query *q, char *out,
				    size_t cap, size_t *len);
enum beacon_err beacon_query_decode(const void *buf, size_t len,
				    struct beacon_query *q)
	__attribute__((warn_unused_result));

/* Identifier policy for id, instance, nonce and tag keys:
   1..max of A-Z a-z 0-9 '.' '_' '-'. */
bool beacon_ident_valid(const char *s, size_t max);
/* Free-text policy (OS names, tag values): 0..max bytes of UTF-8 without
   C0 or C1 control characters or DEL. */
bool beacon_text_valid(const char *s, size_t max);
/* Hostname policy: 1..63 of A-Z a-z 0-9 '.' '_' '-'. */
bool beacon_hostname_valid(const char *s);

/*
 * KEY=VALUE from a command line into *t, under the identifier policy for
 * the key and the free-text policy for the value (the first '=' splits, so
 * a value may hold '='). NULL when fine, else what is wrong, for a usage
 * message.
 */
const char *beacon_tag_parse(const char *arg, struct beacon_tag *t);

#endif
