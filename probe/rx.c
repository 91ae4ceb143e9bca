/* SPDX-License-Identifier: MIT */
/*
 * The probe's traffic: beacons in (mailslot -> beacon decode -> host
 * table, every drop counted by reason) and queries out (general ones to
 * every agent, directed ones to one silent host, both as a unicast to its
 * last address and as a broadcast naming it, since a unicast to a host
 * running nmbd or several mailslot programs reaches only one of them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "probe.h"

static void
on_event(void *ctx, enum host_event ev, const struct host *h,
	 const char *reason, uint64_t now)
{
	struct probe *p = ctx;

	(void)now;
	p->dirty = true;
	if (p->events != NULL)
		output_event(p->events, ev, h, reason);
}

static void
send_query(struct probe *p, struct mailslot_client *c, const char *target)
{
	struct beacon_query q;
	char buf[128];
	size_t len;

	memset(&q, 0, sizeof(q));
	q.version = BEACON_FORMAT;
	snprintf(q.nonce, sizeof(q.nonce), "%s-%llu", p->nonce_prefix,
		 (unsigned long long)++p->nonce_n);
	if (target != NULL)
		snprintf(q.target, sizeof(q.target), "%s", target);
	if (beacon_query_encode(&q, buf, sizeof(buf), &len) == BEACON_OK)
		(void)mailslot_write(c, buf, len);
}

static void
on_query(void *ctx, const struct host *h, const char *addr)
{
	struct probe *p = ctx;
	struct mailslot_client_opts o;
	struct mailslot_client *c;
	char unc[96];

	p->st.queries++;
	mailslot_client_opts_init(&o);
	o.port = p->c->port;
	o.workgroup = p->c->workgroup;
	o.named = MAILSLOT_NAMED_HOST;
	snprintf(unc, sizeof(unc), "\\\\%s\\mailslot\\beacon\\query", addr);
	if (mailslot_open(unc, &o, &c) == MAILSLOT_OK) {
		send_query(p, c, h->id);
		mailslot_client_close(c);
	}
	if (p->solicit != NULL)
		send_query(p, p->solicit, h->id);
}

void
probe_solicit(struct probe *p)
{
	if (p->solicit == NULL)
		return;
	p->st.solicits++;
	send_query(p, p->solicit, NULL);
}

int
probe_open(struct probe *p, const struct probe_config *c)
{
	struct mailslot_server_opts so;
	struct mailslot_client_opts co;
	enum mailslot_err err;
	uint32_t r;

	memset(p, 0, sizeof(*p));
	p->c = c;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)getpid();
	snprintf(p->nonce_prefix, sizeof(p->nonce_prefix), "%08x", r);
	p->tab = hosttab_new(c->max_hosts, on_event, on_query, p);
	if (p->tab == NULL) {
		fprintf(stderr, "beacon-probe: out of memory\n");
		return 1;
	}
	mailslot_server_opts_init(&so);
	so.port = c->port;
	so.max_message = BEACON_MAX_WIRE;
	so.read_timeout_ms = 0;
	err = mailslot_create("\\\\.\\mailslot\\beacon", &so, &p->srv);
	if (err != MAILSLOT_OK) {
		if (err == MAILSLOT_E_PRIVILEGED_PORT)
			fprintf(stderr,
				"beacon-probe: UDP port %u is privileged: %s\n",
				c->port, mailslot_hint(err));
		else
			fprintf(stderr, "beacon-probe: cannot listen: %s\n",
				err == MAILSLOT_E_SYSTEM
					? strerror(errno)
					: mailslot_strerror(err));
		return 1;
	}
	mailslot_client_opts_init(&co);
	co.port = c->port;
	co.workgroup = c->workgroup;
	co.broadcast = c->broadcast;
	co.n_broadcast = c->n_broadcast;
	co.interfaces = c->interfaces;
	co.n_interfaces = c->n_interfaces;
	err = mailslot_open("\\\\*\\mailslot\\beacon\\query", &co, &p->solicit);
	if (err != MAILSLOT_OK) {
		const char *hint = mailslot_hint(err);
		fprintf(stderr, "beacon-probe: cannot send queries: %s%s%s\n",
			err == MAILSLOT_E_SYSTEM ? strerror(errno)
						 : mailslot_strerror(err),
			hint[0] ? "; " : "", hint);
		/* Listening alone still works: say so, go on. */
		fprintf(stderr, "beacon-probe: listening only\n");
		p->solicit = NULL;
	}
	return 0;
}

void
probe_close(struct probe *p)
{
	mailslot_client_close(p->solicit);
	mailslot_close(p->srv);
	hosttab_free(p->tab);
}

void
probe_receive(struct probe *p, uint64_t now)
{
	uint8_t buf[BEACON_MAX_WIRE + 1];
	struct mailslot_meta m;
	struct beacon_msg b;
	char src[INET_ADDRSTRLEN];
	enum beacon_err be;
	size_t len;

	while (mailslot_read(p->srv, buf, sizeof(buf), &len, &m) ==
	       MAILSLOT_OK) {
		struct in_addr a = {htonl(m.src_ip)};
		be = beacon_decode(buf, len, &b);
		if (be != BEACON_OK) {
			p->st.invalid[be]++;
			continue;
		}
		inet_ntop(AF_INET, &a, src, sizeof(src));
		switch (hosttab_update(p->tab, &b, src, m.ifname, now)) {
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
		case HT_FULL:
			break; /* counted by the table */
		}
	}
}
