/* SPDX-License-Identifier: MIT */
/*
 * The probe's traffic: beacons in (mailslot -> beacon decode -> host
 * table, every drop counted by reason) and queries out (general ones to
 * every agent, directed ones to one silent host, both as a unicast to its
 * last address and as a broadcast naming it, since a unicast to a host
 * running nmbd or several mailslot programs reaches only one of them).
 * Browse announcements from Windows and Samba come through the same
 * server, into their own table (browse.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "text.h"
#include "probe.h"
#include "render.h"
#include "store.h"

/* watch --events: one NDJSON line appended, for the loop to write. */
void
probe_watch_event(void *ctx, const struct probe_event *e, uint64_t now)
{
	struct probe *p = ctx;
	size_t len;

	(void)now;
	if (e->line == NULL) {
		p->events_dropped++;
		return;
	}
	len = strlen(e->line);
	if (p->events_len + len + 1 > p->events_cap) {
		size_t cap = p->events_cap ? 2 * p->events_cap : 4096;
		char *buf;
		while (cap < p->events_len + len + 1)
			cap *= 2;
		buf = cap <= PROBE_EVENTS_MAX ? realloc(p->events, cap) : NULL;
		if (buf == NULL) {
			p->events_dropped++;
			return;
		}
		p->events = buf;
		p->events_cap = cap;
	}
	memcpy(p->events + p->events_len, e->line, len);
	p->events[p->events_len + len] = '\n';
	p->events_len += len + 1;
}

/* A join of a host the history has never seen (serve --db) is a new one
   first. */
static bool
is_new(struct probe *p, enum host_event ev, const char *id)
{
	return ev == EV_JOIN && p->store != NULL && store_first(p->store, id);
}

/* The table's callbacks: the change queued (events.c), its line formatted
   now, while the row is as the change left it, if anyone takes lines. */
static void
on_event(void *ctx, enum host_event ev, const struct host *h,
	 const char *reason, uint64_t now)
{
	struct probe *p = ctx;

	if (is_new(p, ev, h->id))
		events_push(p, EV_NEW, h->id,
			    events_want_lines(p)
				    ? output_event(EV_NEW, h, reason, now)
				    : NULL);
	events_push(p, ev, h->id,
		    events_want_lines(p) ? output_event(ev, h, reason, now)
					 : NULL);
}

static void
on_browse_event(void *ctx, enum host_event ev, const struct browse_host *h,
		uint64_t now)
{
	struct probe *p = ctx;
	struct probe_view v = probe_view(p);
	char id[BROWSE_NAME_MAX + 9];

	snprintf(id, sizeof(id), "netbios:%s", h->name);
	if (is_new(p, ev, id))
		events_push(p, EV_NEW, id,
			    events_want_lines(p)
				    ? output_browse_event(&v, EV_NEW, h, now)
				    : NULL);
	events_push(p, ev, id,
		    events_want_lines(p) ? output_browse_event(&v, ev, h, now)
					 : NULL);
}

int
probe_flush_events(struct probe *p, FILE *f)
{
	int rc = 0;

	if (p->events_len > 0 &&
	    (fwrite(p->events, 1, p->events_len, f) != p->events_len ||
	     fflush(f) != 0))
		rc = -1;
	p->events_len = 0;
	if (p->events_dropped + p->evq_dropped > 0) {
		log_warnx("%llu events dropped (out of memory or output too "
			  "slow)",
			  (unsigned long long)(p->events_dropped +
					       p->evq_dropped));
		p->events_dropped = 0;
		p->evq_dropped = 0;
	}
	return rc;
}

static void
encode_query(struct probe *p, const char *target, char *buf, size_t cap,
	     size_t *len)
{
	struct beacon_query q;

	memset(&q, 0, sizeof(q));
	q.version = BEACON_FORMAT;
	snprintf(q.nonce, sizeof(q.nonce), "%s-%llu", p->nonce_prefix,
		 (unsigned long long)++p->nonce_n);
	if (target != NULL)
		snprintf(q.target, sizeof(q.target), "%s", target);
	if (beacon_query_encode(&q, buf, cap, len) != BEACON_OK)
		*len = 0;
}

/* A direct query: a unicast to the host's last address, only if that is
   on a subnet of the interface its beacon came in on (a forged source
   elsewhere gets nothing), and a broadcast naming it. At most
   c->max_queries a second in all, so the probe cannot be made to
   amplify. */
void
probe_ask(struct probe *p, const struct hosttab_ask *a, uint64_t now)
{
	struct in_addr in;
	char buf[128];
	size_t len;

	/* max_queries a second, as many at once. */
	if (!bucket_take(&p->asks, p->c->max_queries, p->c->max_queries, now)) {
		p->st.queries_capped++;
		return;
	}
	p->st.queries++;
	encode_query(p, a->id, buf, sizeof(buf), &len);
	if (len == 0)
		return;
	if (p->direct != NULL && inet_pton(AF_INET, a->addr, &in) == 1 &&
	    mailslot_write_to(p->direct, ntohl(in.s_addr), a->ifname, buf,
			      len) == MAILSLOT_E_NOT_ON_LINK)
		p->st.queries_off_link++;
	if (p->solicit != NULL)
		(void)mailslot_write(p->solicit, buf, len);
}

void
probe_solicit(struct probe *p)
{
	char buf[128];
	size_t len;

	if (p->solicit == NULL)
		return;
	p->st.solicits++;
	encode_query(p, NULL, buf, sizeof(buf), &len);
	if (len > 0 && mailslot_write(p->solicit, buf, len) != MAILSLOT_OK)
		log_warn("cannot send a query");
}

static void
query_opts(const struct probe_config *c, struct mailslot_client_opts *co)
{
	mailslot_client_opts_init(co);
	co->port = c->port;
	co->workgroup = c->workgroup;
	co->broadcast = c->broadcast;
	co->n_broadcast = c->n_broadcast;
	co->interfaces = c->interfaces;
	co->n_interfaces = c->n_interfaces;
}

bool
probe_refresh_solicit(struct probe *p)
{
	struct mailslot_client_opts co;
	enum mailslot_err err;
	bool had = p->solicit != NULL;

	query_opts(p->c, &co);
	if (!mailslot_client_moved(p->solicit, &co))
		return false;
	mailslot_client_close(p->solicit);
	p->solicit = NULL;
	err = mailslot_open("\\\\*\\mailslot\\beacon\\query", &co, &p->solicit);
	if (err != MAILSLOT_OK) {
		const char *hint = mailslot_hint(err);
		/* Listening alone still works: say so (once), go on. */
		if (had || !p->said_listening_only)
			log_warnx("cannot send queries: %s%s%s; listening only "
				  "until an interface is usable",
				  err == MAILSLOT_E_SYSTEM
					  ? strerror(errno)
					  : mailslot_strerror(err),
				  hint[0] ? "; " : "", hint);
		p->said_listening_only = true;
		p->solicit = NULL;
		mailslot_client_close(p->solicit_browse);
		p->solicit_browse = NULL;
		return false;
	}
	if (p->said_listening_only)
		log_info("sending queries again");
	p->said_listening_only = false;
	/* The browse requests go the same ways: to WORKGROUP<00>, which
	   every Windows and Samba host of the workgroup has registered (and
	   where Windows sends its own requests). */
	mailslot_client_close(p->solicit_browse);
	p->solicit_browse = NULL;
	if (p->c->browse && p->c->browse_request &&
	    mailslot_open("\\\\*\\mailslot\\BROWSE", &co, &p->solicit_browse) !=
		    MAILSLOT_OK)
		p->solicit_browse = NULL; /* as for queries: listen only */
	return true;
}

static int
load_keys(struct probe *p)
{
	enum beacon_keyring_err e;
	size_t line;

	p->keys = calloc(1, sizeof(*p->keys));
	if (p->keys == NULL || beacon_auth_init() < 0) {
		log_warnx("cannot verify signatures: out of memory or no "
			  "libsodium");
		return -1;
	}
	e = beacon_keyring_load(p->c->keyring, p->keys, &line);
	if (e == BEACON_KR_OK) {
		log_info("verifying signed beacons with %zu key%s of %s",
			 p->keys->n, p->keys->n == 1 ? "" : "s", p->c->keyring);
		return 0;
	}
	if (e == BEACON_KR_OPEN)
		log_warn("keyring %s", p->c->keyring);
	else if (line > 0)
		log_warnx("keyring %s, line %zu: %s", p->c->keyring, line,
			  beacon_keyring_strerror(e));
	else
		log_warnx("keyring %s: %s", p->c->keyring,
			  beacon_keyring_strerror(e));
	return -1;
}

static const char *const browse_slot[] = {"\\\\.\\mailslot\\BROWSE"};

int
probe_open(struct probe *p, const struct probe_config *c)
{
	struct mailslot_server_opts so;
	struct mailslot_client_opts co;
	struct hosttab_opts to;
	enum mailslot_err err;
	uint32_t r;

	memset(p, 0, sizeof(*p));
	p->c = c;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)getpid();
	snprintf(p->nonce_prefix, sizeof(p->nonce_prefix), "%08x", r);
	memset(&to, 0, sizeof(to));
	to.max_hosts = c->max_hosts;
	to.max_ttl_ms = c->max_ttl_ms;
	to.new_per_s = c->new_per_source;
	to.new_burst = c->new_burst;
	if (getrandom(to.key, sizeof(to.key), 0) != sizeof(to.key)) {
		log_warn("getrandom");
		return -1;
	}
	memcpy(p->key, to.key, sizeof(p->key));
	p->tab = hosttab_new(&to, on_event, p);
	if (p->tab == NULL) {
		log_warnx("out of memory");
		return -1;
	}
	if (c->keyring != NULL && load_keys(p) < 0)
		return -1;
	if (c->browse) {
		p->browse = browse_tab_new(0, c->max_ttl_ms, p->key,
					   on_browse_event, p);
		if (p->browse == NULL) {
			log_warnx("out of memory");
			return -1;
		}
	}
	mailslot_server_opts_init(&so);
	so.port = c->port;
	so.max_message = BEACON_MAX_WIRE;
	so.read_timeout_ms = 0;
	so.more = browse_slot;
	so.n_more = c->browse ? 1 : 0;
	err = mailslot_create("\\\\.\\mailslot\\beacon", &so, &p->srv);
	if (err != MAILSLOT_OK) {
		if (err == MAILSLOT_E_PRIVILEGED_PORT)
			log_warnx("UDP port %u is privileged: %s", c->port,
				  mailslot_hint(err));
		else if (err == MAILSLOT_E_SYSTEM)
			log_warn("cannot listen on UDP port %u", c->port);
		else
			log_warnx("cannot listen: %s", mailslot_strerror(err));
		return -1;
	}
	(void)probe_refresh_solicit(p);
	query_opts(c, &co);
	if (mailslot_open_direct("\\\\*\\mailslot\\beacon\\query", &co,
				 &p->direct) != MAILSLOT_OK)
		p->direct = NULL; /* the broadcast copy still goes */
	return 0;
}

struct probe_view
probe_view(const struct probe *p)
{
	return (struct probe_view){
		.c = p->c,
		.tab = p->tab,
		.browse = p->browse,
		.st = &p->st,
		.rx = p->srv != NULL ? mailslot_stats(p->srv) : NULL,
		.keyring = p->keys != NULL,
		.expect = p->expect != NULL ? &p->expect->l : NULL,
	};
}

void
probe_close(struct probe *p)
{
	mailslot_client_close(p->solicit);
	mailslot_client_close(p->solicit_browse);
	mailslot_client_close(p->direct);
	mailslot_close(p->srv);
	hosttab_free(p->tab);
	browse_tab_free(p->browse);
	if (p->keys != NULL)
		sodium_memzero(p->keys, sizeof(*p->keys));
	free(p->keys);
	free(p->events);
	events_free(p);
}

/* At most c->max_per_source beacons a second from one source address
   (bursts of twice that) reach the JSON decoder: a flood from one address
   costs a header decode each, and leaves the CPU to everyone else. */
static bool
source_ok(struct probe *p, uint32_t ip, uint64_t now)
{
	uint64_t k = hosttab_hash(p->key, &ip, sizeof(ip)) | 1;
	struct source_rate *r = &p->sources[k % PROBE_SOURCES];
	double rate = (double)p->c->max_per_source;

	if (r->key != k) { /* another source: a full bucket */
		r->key = k;
		r->b.used = false;
	}
	return bucket_take(&r->b, rate, 2 * rate, now);
}

/* Whether a verified beacon is fresh, not a recording. A known instance
   is: its sequence numbers guard it (window and replay map). A new
   instance (or a host the table does not have) must answer one of this
   probe's recent queries (its nonce), or have been sent within
   AUTH_WINDOW_MS of this probe's clock: a beacon recorded earlier is
   refused however good its MAC, and a host whose clock is off is asked,
   and verified by its answer. */
static bool
fresh(const struct probe *p, const struct beacon_msg *b,
      const struct beacon_sig *s)
{
	const struct host *h = hosttab_find(p->tab, b->id);
	size_t n = strlen(p->nonce_prefix);
	unsigned long long q;
	struct timespec ts;
	int64_t diff;
	char *end;

	/* A restored row's sequence is as the history last wrote it: its
	   first signed beacon proves itself fresh as a new instance's
	   would (the start-up query's nonce, or the time). */
	if (h != NULL && h->verified && !h->restored &&
	    strcmp(h->instance, b->instance) == 0)
		return true;
	if (strncmp(s->nonce, p->nonce_prefix, n) == 0 && s->nonce[n] == '-') {
		q = strtoull(s->nonce + n + 1, &end, 10);
		if (*end == '\0' && q <= p->nonce_n && p->nonce_n - q < 64)
			return true;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	diff = (int64_t)s->ts_ms -
	       ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return diff <= AUTH_WINDOW_MS && diff >= -AUTH_WINDOW_MS;
}

/* The workgroup a datagram was sent to: its NetBIOS destination name
   (a host announcement goes to WORKGROUP<1d>), unpadded. */
static void
dest_group(const struct mailslot_meta *m, char *out, size_t cap)
{
	size_t n = sizeof(m->dst_name.raw), i;

	while (n > 0 && (m->dst_name.raw[n - 1] == ' ' ||
			 m->dst_name.raw[n - 1] == '\0'))
		n--;
	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)m->dst_name.raw[i];
	out[n] = '\0';
	/* __MSBROWSE__ and the like are not workgroups. */
	if (m->dst_name.raw[0] < 0x20)
		out[0] = '\0';
}

static void
browse_receive(struct probe *p, const uint8_t *buf, size_t len,
	       const struct mailslot_meta *m, const char *src, uint64_t now)
{
	struct browse_msg b;
	enum browse_err err = browse_decode(buf, len, &b);
	char group[BROWSE_NAME_MAX + 1];

	if (err != BROWSE_OK) {
		p->st.browse_invalid[err]++;
		return;
	}
	p->st.browse_messages++;
	p->st.browse_opcodes[b.opcode & 15]++;
	if (!browse_is_announcement(b.opcode))
		return; /* requests, elections, backup lists: counted */
	p->st.browse_announcements++;
	dest_group(m, group, sizeof(group));
	switch (browse_tab_update(p->browse, &b, group, src, m->ifname, now)) {
	case BR_NEW:
	case BR_UPDATED:
	case BR_LEFT:
	case BR_GROUP:
		p->dirty = true;
		break;
	case BR_FULL:
	case BR_IGNORED:
		break;
	}
}

void
probe_browse_request(struct probe *p)
{
	struct browse_msg b;
	uint8_t buf[64];
	char host[256] = "";
	size_t len;

	if (p->solicit_browse == NULL)
		return;
	memset(&b, 0, sizeof(b));
	b.opcode = BROWSE_ANNOUNCEMENT_REQUEST;
	(void)gethostname(host, sizeof(host) - 1);
	browse_netbios_name(host, 15, b.name);
	if (browse_encode(&b, buf, sizeof(buf), &len) != BROWSE_OK)
		return;
	p->st.browse_requests++;
	if (mailslot_write(p->solicit_browse, buf, len) != MAILSLOT_OK)
		log_warn("cannot send a browse announcement request");
}

/* A verified beacon of a new instance that is not fresh: counted, and its
   host asked (a host whose clock is off answers with our nonce, verified
   then). */
static void
ask_stale(struct probe *p, const struct beacon_msg *b, const char *src,
	  const char *ifname, uint64_t now)
{
	struct hosttab_ask ask;

	p->st.auth_stale++;
	snprintf(ask.id, sizeof(ask.id), "%s", b->id);
	snprintf(ask.addr, sizeof(ask.addr), "%s", src);
	snprintf(ask.ifname, sizeof(ask.ifname), "%s", ifname);
	probe_ask(p, &ask, now);
}

/* A beacon datagram's body from src: the table's verdict, or HT_REFUSED
   when dropped before the table (counted here). */
static enum hosttab_result
take_beacon(struct probe *p, const uint8_t *buf, size_t len, const char *src,
	    const char *ifname, uint64_t now)
{
	struct beacon_sig sig;
	struct beacon_msg b;
	enum hosttab_result r;
	enum beacon_err be;
	uint64_t replays;
	bool verified = false;

	/* A signature is checked first: nothing unverified may take the
	   fast path into a verified host's row. */
	if (p->keys != NULL) {
		enum beacon_sig_err se =
			beacon_sig_verify(p->keys, buf, len, &sig);
		if (se == BEACON_SIG_OK)
			verified = true;
		else if (se != BEACON_SIG_NONE || p->c->require_auth) {
			p->st.auth[se]++;
			return HT_REFUSED;
		}
	}
	if (!verified && fastpath_take(p, buf, len, src, ifname, now, &r))
		return r;
	be = beacon_decode(buf, len, &b);
	if (be != BEACON_OK) {
		p->st.invalid[be]++;
		return HT_REFUSED;
	}
	if (verified && !fresh(p, &b, &sig)) {
		ask_stale(p, &b, src, ifname, now);
		return HT_REFUSED;
	}
	replays = hosttab_refused(p->tab, HR_REPLAYED);
	r = hosttab_update_auth(p->tab, &b, src, ifname, now, verified);
	if (verified && hosttab_refused(p->tab, HR_REPLAYED) > replays)
		p->st.auth_replay++; /* a good MAC, again */
	if (!verified && (r == HT_NEW || r == HT_UPDATED))
		fastpath_learn(p, &b, buf, len);
	return r;
}

void
probe_take(struct probe *p, const uint8_t *buf, size_t len,
	   const struct mailslot_meta *m, uint64_t now)
{
	char src[INET_ADDRSTRLEN];

	if (!source_ok(p, m->src_ip, now)) {
		p->st.source_rate++;
		return;
	}
	text_ipv4(m->src_ip, src);
	if (p->browse != NULL &&
	    mailslot_path_equal(m->path, BROWSE_MAILSLOT)) {
		browse_receive(p, buf, len, m, src, now);
		return;
	}
	switch (take_beacon(p, buf, len, src, m->ifname, now)) {
	case HT_NEW:
	case HT_UPDATED:
		p->st.beacons++;
		p->dirty = true;
		break;
	case HT_DUPLICATE:
		p->st.duplicates++;
		break;
	case HT_OLD:
		p->st.reordered++;
		break;
	case HT_REFUSED:
	case HT_UNKNOWN:
		break; /* counted by the table, or above */
	}
}

/* What the probe has dropped itself so far: a full receive buffer (the
   kernel's count, with the next datagram read) or queue. */
static uint64_t
own_drops(const struct probe *p)
{
	const struct mailslot_stats *ms = mailslot_stats(p->srv);

	return ms->rcvbuf_drops + ms->queue_full;
}

/* Since the last pass the probe was blind if it dropped datagrams (the
   kernel's count rose: a full buffer) or fell behind (this pass left
   datagrams waiting): the table leaves that time out of every silence. */
static void
blind_time(struct probe *p, bool behind, uint64_t now)
{
	uint64_t drops = own_drops(p);

	if (p->pass_ms != 0 && now > p->pass_ms &&
	    (behind || drops != p->drops_at_pass)) {
		hosttab_blind(p->tab, now - p->pass_ms);
		p->st.blind_ms += now - p->pass_ms;
	}
	p->drops_at_pass = drops;
	p->pass_ms = now;
}

size_t
probe_receive(struct probe *p, uint64_t now, size_t max)
{
	uint8_t buf[BEACON_MAX_WIRE + 1];
	struct mailslot_meta m;
	size_t len, n;

	/* The drops so far, so that a gap they explain is not charged to a
	   host. */
	hosttab_set_drops(p->tab, own_drops(p), p->rx_loss);
	for (n = 0; n < max; n++) {
		if (mailslot_read(p->srv, buf, sizeof(buf), &len, &m) !=
		    MAILSLOT_OK)
			break;
		probe_take(p, buf, len, &m, now);
	}
	blind_time(p, n == max, now);
	return n;
}

/* What the probe drops itself, for the table: a full receive buffer or
   queue. Sampled every SAMPLE_MS by the loop; the fraction follows a rise
   at once and a fall slowly (x0.9 a sample), so a flood is accounted for
   from its first moments and for a while after. */
void
probe_sample_drops(struct probe *p)
{
	uint64_t drops = own_drops(p);
	uint64_t seen = mailslot_stats(p->srv)->datagrams + drops;
	double d = 0;

	if (seen > p->seen_at_sample)
		d = (double)(drops - p->drops_at_sample) /
		    (double)(seen - p->seen_at_sample);
	p->drops_at_sample = drops;
	p->seen_at_sample = seen;
	p->rx_loss = d > 0.9 * p->rx_loss ? d : 0.9 * p->rx_loss;
	hosttab_set_drops(p->tab, drops, p->rx_loss);
}
