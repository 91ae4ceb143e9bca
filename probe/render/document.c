/* SPDX-License-Identifier: MIT */
/*
 * The table document (schema/table.schema.json), streamed: written straight
 * from the rows into a buffer that goes out in large writes, with no tree
 * and no per-host allocation, so 100,000 hosts take tens of milliseconds
 * and the memory does not grow with the table. One line per host: the
 * document stays readable and greppable.
 *
 * Strings from the network are escaped for JSON (quote, backslash, control
 * characters); everything else is kept as it came, as the schema promises.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"
#include "text.h"

#define SCHEMA_VERSION 1
#define OUT_CHUNK      (256 * 1024) /* a document's writes */
#define OUT_ONE                                                                \
	(16 * 1024) /* one host's: below malloc's mmap
					 threshold (a 256 KiB buffer for one
					 row was 40 us of mmap and faults) */

struct out {
	FILE *f;
	char *buf;
	size_t len, cap;
	int err;
	bool first_drop;
	/* Times: the wall clock at now_ms, and the last second formatted. */
	int64_t wall_now_ms;
	uint64_t now_ms;
	int64_t sec_cached;
	char sec_text[64];
};

static void
flush(struct out *o)
{
	if (o->len > 0 && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->err = 1;
	o->len = 0;
}

/* Inline, so that the many short constant pieces become plain moves. */
static inline void
put(struct out *o, const char *s, size_t n)
{
	if (__builtin_expect(o->len + n > o->cap, 0)) {
		flush(o);
		if (n > o->cap) {
			if (fwrite(s, 1, n, o->f) != n)
				o->err = 1;
			return;
		}
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* A writer to f with its buffer (cap bytes) and the clocks at now; -1: no
   memory. */
static int
out_open(struct out *o, FILE *f, uint64_t now, size_t cap)
{
	struct timespec ts;

	memset(o, 0, sizeof(*o));
	o->f = f;
	o->cap = cap;
	o->buf = malloc(cap);
	if (o->buf == NULL)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	o->wall_now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	o->now_ms = now;
	o->sec_cached = -1;
	return 0;
}

/* A string literal (only: sizeof must see the array). */
#define LIT(o, s) put(o, "" s, sizeof(s) - 1)

/* Bytes that JSON needs escaped: the quote, the backslash, controls. */
static inline bool
needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Whether any of 8 bytes may need escaping: a byte below 0x20, a quote or
   a backslash sets its high bit (the classic "has zero byte" test, after
   a subtraction or an XOR). A false alarm only sends the caller to the
   exact byte loop. */
static inline bool
word_may_escape(uint64_t x)
{
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');

	return (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) |
		((b - ONES) & ~b)) &
	       HIGHS;
}

/* The length of the prefix of s[0..n) that needs no escaping: 8 bytes at
   a time, then byte by byte. Most strings (names, addresses) have none. */
static size_t
clean_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;
	uint64_t x;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		if (word_may_escape(x))
			break;
	}
	while (i < n && !needs_escape(s[i]))
		i++;
	return i;
}

static void
str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i;

	LIT(o, "\"");
	while (n > 0) {
		i = clean_prefix(p, n);
		put(o, (const char *)p, i);
		if (i == n)
			break;
		if (p[i] == '"' || p[i] == '\\') {
			char esc[2] = {'\\', (char)p[i]};
			put(o, esc, 2);
		} else {
			char esc[6] = "\\u00";
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
			put(o, esc, 6);
		}
		p += i + 1;
		n -= i + 1;
	}
	LIT(o, "\"");
}

static void
u64(struct out *o, uint64_t v)
{
	char d[21];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(o, d + i, sizeof(d) - i);
}

/* A fraction in [0, 1] with up to 6 decimals, as JSON. */
static void
frac(struct out *o, double x)
{
	unsigned long v = (unsigned long)(x * 1e6 + 0.5);
	char d[10];
	int i;

	if (v >= 1000000) {
		LIT(o, "1");
		return;
	}
	if (v == 0) {
		LIT(o, "0");
		return;
	}
	memcpy(d, "0.", 2);
	for (i = 7; i >= 2; i--, v /= 10)
		d[i] = (char)('0' + v % 10);
	for (i = 7; d[i] == '0'; i--)
		;
	put(o, d, (size_t)i + 1);
}

/* A monotonic time as RFC 3339 UTC with milliseconds. */
static void
when(struct out *o, uint64_t mono_ms)
{
	int64_t wall = o->wall_now_ms - (int64_t)(o->now_ms - mono_ms);
	int64_t sec = wall / 1000;
	char ms[6];

	if (sec != o->sec_cached) { /* the seconds' text, kept */
		char t[TEXT_RFC3339_LEN + 1];
		text_rfc3339(sec * 1000, t);
		memcpy(o->sec_text, t, 19);
		o->sec_cached = sec;
	}
	LIT(o, "\"");
	put(o, o->sec_text, 19);
	ms[0] = '.';
	ms[1] = (char)('0' + wall % 1000 / 100);
	ms[2] = (char)('0' + wall % 100 / 10);
	ms[3] = (char)('0' + wall % 10);
	ms[4] = 'Z';
	ms[5] = '"';
	put(o, ms, 6);
}

/* A JSON array of n strings. */
static void
strs(struct out *o, const char *const *list, size_t n)
{
	size_t i;

	LIT(o, "[");
	for (i = 0; i < n; i++) {
		if (i)
			LIT(o, ",");
		str(o, list[i]);
	}
	LIT(o, "]");
}

static void
boolean(struct out *o, bool v)
{
	if (v)
		LIT(o, "true");
	else
		LIT(o, "false");
}

/* A key that is a string literal. */
#define KEY(o, k) LIT(o, ",\"" k "\":")

/* What a host's browse announcements said (null for none). */
static void
browse_obj(struct out *o, const struct browse_host *b)
{
	const char *roles[32];
	char v[16];
	size_t nr, i;

	if (b == NULL) {
		LIT(o, "null");
		return;
	}
	nr = browse_roles(b->server_type, roles, 32);
	LIT(o, "{\"name\":");
	str(o, b->name);
	KEY(o, "workgroup");
	str(o, b->workgroup);
	KEY(o, "os_version");
	snprintf(v, sizeof(v), "%u.%u", b->os_major, b->os_minor);
	str(o, v);
	KEY(o, "server_type");
	u64(o, b->server_type);
	KEY(o, "roles");
	LIT(o, "[");
	for (i = 0; i < nr; i++) {
		if (i)
			LIT(o, ",");
		str(o, roles[i]);
	}
	LIT(o, "]");
	KEY(o, "comment");
	str(o, b->comment);
	KEY(o, "local_master");
	boolean(o, b->local_master);
	KEY(o, "browser_version");
	snprintf(v, sizeof(v), "%u.%u", b->browser_major, b->browser_minor);
	str(o, v);
	KEY(o, "periodicity_ms");
	u64(o, b->periodicity_ms);
	KEY(o, "update_count");
	u64(o, b->update_count);
	KEY(o, "address");
	str(o, b->addr);
	KEY(o, "last_seen");
	when(o, b->last_seen_ms);
	KEY(o, "announcements");
	u64(o, b->announcements);
	LIT(o, "}");
}

/* A browse host on its own, in the shape of every row. */
static void
browse_host(struct out *o, const struct probe_view *p,
	    const struct browse_host *b, uint64_t now)
{
	uint64_t ttl = browse_ttl_ms(p->browse, b);
	char v[64];

	LIT(o, "{\"id\":");
	snprintf(v, sizeof(v), "netbios:%s", b->name);
	str(o, v);
	KEY(o, "hostname");
	str(o, b->name);
	LIT(o, ",\"kind\":\"browse\"");
	KEY(o, "status");
	str(o, host_status_name(b->status));
	LIT(o, ",\"conflict\":false,\"auth\":\"unsigned\"");
	KEY(o, "reason");
	if (b->status == HOST_LEFT)
		snprintf(v, sizeof(v), "announced it is shutting down");
	else if (b->status == HOST_STALE)
		snprintf(v, sizeof(v), "%s", HOSTTAB_NOT_HEARD);
	else if (b->status == HOST_EXPIRED)
		snprintf(v, sizeof(v), "no announcement for %llu s (3 periods)",
			 (unsigned long long)(ttl / 1000));
	else
		snprintf(v, sizeof(v), "announcing every %llu s",
			 (unsigned long long)(ttl / 3000));
	str(o, v);
	KEY(o, "addresses");
	LIT(o, "[");
	str(o, b->addr);
	LIT(o, "]");
	LIT(o, ",\"claimed\":{\"ipv4\":[],\"ipv6\":[]},\"seen\":[{"
	       "\"address\":");
	str(o, b->addr);
	KEY(o, "interface");
	str(o, b->ifname);
	KEY(o, "last_seen");
	when(o, b->last_seen_ms);
	LIT(o, "}]");
	KEY(o, "first_seen");
	when(o, b->first_seen_ms);
	KEY(o, "last_seen");
	when(o, b->last_seen_ms);
	KEY(o, "last_seen_age_ms");
	u64(o, now - b->last_seen_ms);
	KEY(o, "status_since");
	when(o, b->status_ms);
	LIT(o, ",\"os\":\"\"");
	KEY(o, "os_version");
	snprintf(v, sizeof(v), "%u.%u", b->os_major, b->os_minor);
	str(o, v);
	LIT(o, ",\"uptime_s\":null");
	KEY(o, "interval_ms");
	u64(o, ttl / 3);
	KEY(o, "ttl_ms");
	u64(o, ttl);
	LIT(o, ",\"tags\":{},\"instance\":\"\",\"seq\":0");
	KEY(o, "beacons_received");
	u64(o, b->announcements);
	LIT(o, ",\"beacons_lost\":0,\"loss\":0,\"restarts\":0");
	KEY(o, "browse");
	browse_obj(o, b);
	LIT(o, "}");
}

/* "addresses", "claimed" and "seen". */
static void
host_addresses(struct out *o, const struct host *h)
{
	const char *addr[3 * BEACON_MAX_ADDRS], *claimed[BEACON_MAX_ADDRS];
	size_t na = output_addresses(h, addr, 3 * BEACON_MAX_ADDRS), i;

	KEY(o, "addresses");
	strs(o, addr, na);
	LIT(o, ",\"claimed\":{\"ipv4\":");
	for (i = 0; i < h->n_ipv4; i++)
		claimed[i] = host_ipv4(h, i);
	strs(o, claimed, h->n_ipv4);
	LIT(o, ",\"ipv6\":");
	for (i = 0; i < h->n_ipv6; i++)
		claimed[i] = host_ipv6(h, i);
	strs(o, claimed, h->n_ipv6);
	LIT(o, "},\"seen\":[");
	for (i = 0; i < h->n_seen; i++) {
		if (i)
			LIT(o, ",");
		LIT(o, "{\"address\":");
		str(o, host_seen_at(h, i)->addr);
		KEY(o, "interface");
		str(o, host_seen_at(h, i)->ifname);
		KEY(o, "last_seen");
		when(o, host_seen_at(h, i)->last_ms);
		LIT(o, "}");
	}
	LIT(o, "]");
}

/* "uptime_s" to "restarts": what the agent says of itself, and counts. */
static void
host_agent(struct out *o, const struct host *h, uint64_t now)
{
	size_t i;

	KEY(o, "uptime_s");
	if (h->has_uptime)
		u64(o, h->status == HOST_ALIVE || h->status == HOST_STALE
			       ? h->uptime_s + (now - h->uptime_at_ms) / 1000
			       : h->uptime_s);
	else
		LIT(o, "null");
	KEY(o, "interval_ms");
	u64(o, h->interval_ms);
	KEY(o, "ttl_ms");
	u64(o, h->ttl_ms);
	KEY(o, "tags");
	LIT(o, "{");
	for (i = 0; i < h->n_tags; i++) {
		if (i)
			LIT(o, ",");
		str(o, host_tag(h, i)->key);
		LIT(o, ":");
		str(o, host_tag(h, i)->value);
	}
	LIT(o, "}");
	KEY(o, "instance");
	str(o, h->instance);
	KEY(o, "seq");
	u64(o, h->seq);
	KEY(o, "beacons_received");
	u64(o, h->received);
	KEY(o, "beacons_lost");
	u64(o, h->lost);
	KEY(o, "loss");
	frac(o, host_loss(h));
	KEY(o, "restarts");
	u64(o, h->restarts);
}

static void
host(struct out *o, const struct host *h, const struct browse_host *b,
     uint64_t now)
{
	LIT(o, "{\"id\":");
	str(o, h->id);
	KEY(o, "hostname");
	str(o, h->hostname);
	LIT(o, ",\"kind\":\"beacon\"");
	KEY(o, "status");
	str(o, host_status_name(h->status));
	KEY(o, "conflict");
	boolean(o, h->conflict);
	KEY(o, "auth");
	str(o, h->verified ? "verified" : "unsigned");
	KEY(o, "reason");
	str(o, host_reason(h));
	host_addresses(o, h);
	KEY(o, "first_seen");
	when(o, h->first_seen_ms);
	KEY(o, "last_seen");
	when(o, h->last_seen_ms);
	KEY(o, "last_seen_age_ms");
	u64(o, now - h->last_seen_ms);
	KEY(o, "status_since");
	when(o, h->status_ms);
	KEY(o, "os");
	str(o, host_os(h));
	KEY(o, "os_version");
	str(o, host_os_version(h));
	host_agent(o, h, now);
	KEY(o, "browse");
	browse_obj(o, b);
	LIT(o, "}");
}

static void
workgroups(struct out *o, const struct probe_view *p)
{
	size_t n = p->browse ? browse_tab_groups(p->browse) : 0, i;

	LIT(o, "[");
	for (i = 0; i < n; i++) {
		const struct browse_group *g = browse_tab_group(p->browse, i);
		if (i)
			LIT(o, ",");
		LIT(o, "{\"name\":");
		str(o, g->name);
		KEY(o, "master_browser");
		str(o, g->master);
		KEY(o, "address");
		str(o, g->addr);
		KEY(o, "periodicity_ms");
		u64(o, g->periodicity_ms);
		KEY(o, "last_seen");
		when(o, g->last_seen_ms);
		LIT(o, "}");
	}
	LIT(o, "]");
}

/* Every drop counter, by name, in the document's order (also /metrics). */
void
output_drops(const struct probe_view *p,
	     void (*fn)(void *ctx, const char *name, uint64_t v), void *ctx)
{
	const struct mailslot_stats *ms = output_rx(p);
	char k[48];
	int i;

	for (i = MAILSLOT_E_TRUNCATED; i < MAILSLOT_E__COUNT; i++) {
		if (i >= MAILSLOT_E_NAME_INVALID && i != MAILSLOT_E_TOO_BIG)
			continue; /* not decode errors */
		snprintf(k, sizeof(k), "datagram_%s",
			 mailslot_errname((enum mailslot_err)i));
		fn(ctx, k, ms->invalid[i]);
	}
	for (i = 1; i < BEACON_E__COUNT; i++) {
		if (i == BEACON_E_NOMEM || i == BEACON_E_NOSPACE)
			continue;
		snprintf(k, sizeof(k), "beacon_%s",
			 beacon_errname((enum beacon_err)i));
		fn(ctx, k, p->st->invalid[i]);
	}
	for (i = 1; i < BROWSE_E__COUNT; i++) {
		if (i == BROWSE_E_NOSPACE)
			continue;
		snprintf(k, sizeof(k), "browse_%s",
			 browse_errname((enum browse_err)i));
		fn(ctx, k, p->st->browse_invalid[i]);
	}
	fn(ctx, "auth_unsigned", p->st->auth[BEACON_SIG_NONE]);
	fn(ctx, "auth_malformed", p->st->auth[BEACON_SIG_MALFORMED]);
	fn(ctx, "auth_unknown_key", p->st->auth[BEACON_SIG_UNKNOWN_KEY]);
	fn(ctx, "auth_bad_mac", p->st->auth[BEACON_SIG_BAD_MAC]);
	fn(ctx, "auth_stale", p->st->auth_stale);
	fn(ctx, "auth_replay", p->st->auth_replay);
	fn(ctx, "other_mailslot", ms->other_slot);
	fn(ctx, "oversize", ms->oversize);
	fn(ctx, "queue_full", ms->queue_full);
	fn(ctx, "receive_buffer", ms->rcvbuf_drops);
	fn(ctx, "source_rate", p->st->source_rate);
	for (i = 0; i < HR__COUNT; i++) {
		uint64_t v = hosttab_refused(p->tab, (enum hosttab_refusal)i);
		/* One reason a datagram: a signed replay is auth_replay. */
		if (i == HR_REPLAYED)
			v -= v >= p->st->auth_replay ? p->st->auth_replay : v;
		fn(ctx, hosttab_refusal_name((enum hosttab_refusal)i), v);
	}
}

static void
drop_json(void *ctx, const char *name, uint64_t v)
{
	struct out *o = ctx;

	if (!o->first_drop)
		LIT(o, ",");
	o->first_drop = false;
	str(o, name);
	LIT(o, ":");
	u64(o, v);
}

static void
stats(struct out *o, const struct probe_view *p)
{
	const struct mailslot_stats *ms = output_rx(p);
	int i, n;

	LIT(o, "{\"datagrams\":");
	u64(o, ms->datagrams);
	KEY(o, "beacons");
	u64(o, p->st->beacons);
	KEY(o, "duplicates");
	u64(o, ms->duplicates + p->st->duplicates);
	KEY(o, "reordered");
	u64(o, p->st->reordered);
	KEY(o, "solicitations");
	u64(o, p->st->solicits);
	KEY(o, "direct_queries");
	u64(o, p->st->queries);
	KEY(o, "direct_queries_capped");
	u64(o, p->st->queries_capped);
	KEY(o, "direct_unicasts_off_link");
	u64(o, p->st->queries_off_link);
	KEY(o, "blind_ms");
	u64(o, p->st->blind_ms);
	LIT(o, ",\"browse\":{\"messages\":");
	u64(o, p->st->browse_messages);
	KEY(o, "announcements");
	u64(o, p->st->browse_announcements);
	KEY(o, "requests_sent");
	u64(o, p->st->browse_requests);
	KEY(o, "table_full");
	u64(o, p->browse ? browse_tab_refused(p->browse) : 0);
	LIT(o, ",\"by_opcode\":{");
	for (i = 0, n = 0; i < 16; i++) {
		const char *name = browse_opcode_name((uint8_t)i);
		if (strcmp(name, "unknown") == 0)
			continue;
		if (n++)
			LIT(o, ",");
		str(o, name);
		LIT(o, ":");
		u64(o, p->st->browse_opcodes[i]);
	}
	LIT(o, "}}");
	LIT(o, ",\"dropped\":{");
	o->first_drop = true;
	output_drops(p, drop_json, o);
	LIT(o, "}}");
}

/* --expect: each name, its line, its state, the row it is (or null). */
static void
expected(struct out *o, const struct probe_view *p)
{
	const struct host *h;
	const struct browse_host *b;
	char id[EXPECT_NAME_MAX + 9];
	size_t i;

	LIT(o, ",\n\"expected\":[");
	for (i = 0; i < p->expect->n; i++) {
		const struct expect_entry *e = &p->expect->e[i];
		expect_row(p->tab, p->browse, e->name, &h, &b);
		if (i)
			LIT(o, ",");
		LIT(o, "{\"name\":");
		str(o, e->name);
		KEY(o, "line");
		u64(o, e->line);
		KEY(o, "state");
		str(o, expect_state_name((enum expect_state)e->state));
		KEY(o, "id");
		if (h != NULL)
			str(o, h->id);
		else if (b != NULL) {
			snprintf(id, sizeof(id), "netbios:%s", b->name);
			str(o, id);
		} else
			LIT(o, "null");
		LIT(o, "}");
	}
	LIT(o, "]");
}

int
output_document(FILE *f, const struct probe_view *p, uint64_t now,
		size_t *shown)
{
	const struct probe_config *c = p->c;
	struct out o;
	struct output_row *r;
	size_t n, i;

	*shown = 0;
	if (out_open(&o, f, now, OUT_CHUNK) < 0)
		return -1;
	r = output_rows(p, &n);
	if (r == NULL) {
		free(o.buf);
		return -1;
	}
	LIT(&o, "{\"schema_version\":");
	u64(&o, SCHEMA_VERSION);
	KEY(&o, "generated_at");
	when(&o, now);
	LIT(&o, ",\n\"probe\":{\"version\":");
	str(&o, BEACON_VERSION);
	KEY(&o, "command");
	str(&o, c->cmd_name);
	KEY(&o, "port");
	u64(&o, c->port);
	KEY(&o, "workgroup");
	str(&o, c->workgroup ? c->workgroup : MAILSLOT_WORKGROUP);
	KEY(&o, "broadcast");
	strs(&o, c->broadcast, c->n_broadcast);
	KEY(&o, "interfaces");
	strs(&o, c->interfaces, c->n_interfaces);
	KEY(&o, "solicit");
	boolean(&o, c->solicit);
	KEY(&o, "browse");
	boolean(&o, c->browse);
	KEY(&o, "browse_request");
	boolean(&o, c->browse && c->browse_request);
	KEY(&o, "keyring");
	boolean(&o, p->keyring);
	KEY(&o, "require_auth");
	boolean(&o, c->require_auth);
	KEY(&o, "wait_ms");
	u64(&o, c->wait_ms);
	KEY(&o, "max_hosts");
	u64(&o, c->max_hosts);
	KEY(&o, "stale_phi");
	u64(&o, (uint64_t)LIVENESS_STALE_PHI);
	KEY(&o, "expire_phi");
	u64(&o, (uint64_t)LIVENESS_EXPIRE_PHI);
	LIT(&o, "},\n\"stats\":");
	stats(&o, p);
	LIT(&o, ",\n\"hosts\":[");
	for (i = 0; i < n; i++) {
		if (i)
			LIT(&o, ",");
		LIT(&o, "\n");
		if (r[i].h != NULL)
			host(&o, r[i].h, r[i].b, now);
		else
			browse_host(&o, p, r[i].b, now);
	}
	LIT(&o, "],\n\"workgroups\":");
	workgroups(&o, p);
	if (p->expect != NULL)
		expected(&o, p);
	LIT(&o, "}\n");
	flush(&o);
	free(o.buf);
	free(r);
	*shown = n;
	return o.err ? -1 : 0;
}

/* One host as its object in the document (GET /v1/hosts/ID): 1, 0 when
   there is no such host, -1 when f fails. */
int
output_one_host(FILE *f, const struct probe_view *p, const char *id,
		uint64_t now)
{
	const struct host *h;
	const struct browse_host *b;
	struct out o;

	if (!output_find_row(p, id, &h, &b))
		return 0;
	if (out_open(&o, f, now, OUT_ONE) < 0)
		return -1;
	if (h != NULL)
		host(&o, h, output_browse_twin(p, h), now);
	else
		browse_host(&o, p, b, now);
	LIT(&o, "\n");
	flush(&o);
	free(o.buf);
	return o.err ? -1 : 1;
}

int
output_one_host_text(const struct probe_view *p, const char *id, uint64_t now,
		     char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	int found;

	if (f == NULL)
		return -1;
	found = output_one_host(f, p, id, now);
	if (fclose(f) != 0 || found <= 0) {
		free(*text);
		*text = NULL;
		return found < 0 ? -1 : found;
	}
	return 1;
}
