/* SPDX-License-Identifier: MIT */
/*
 * What the beacon says about this host: hostname, addresses, OS, uptime,
 * and the stable host id. Read fresh whenever the loop learns of a change.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "beacon/hostid.h"
#include "mailslot/iface.h"
#include "text.h"

static bool
selected(const struct agent_config *c, const struct ifaddrs *i)
{
	size_t k;

	if (c->n_interfaces > 0) {
		for (k = 0; k < c->n_interfaces; k++)
			if (strcmp(c->interfaces[k], i->ifa_name) == 0)
				return true;
		return false;
	}
	if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
		return false;
	return c->all_interfaces || !mailslot_if_virtual(i->ifa_name);
}

/* The addresses the beacon claims: every address of the interfaces that
   are up and not loopback or container/VM plumbing (or of those named),
   /32s and tunnels included; where broadcasts go is the transport's
   choice (mailslot/iface.h). */
static void
addresses(const struct agent_config *c, struct beacon_msg *b)
{
	struct ifaddrs *ifa, *i;

	b->n_ipv4 = b->n_ipv6 = 0;
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		const void *a;
		if (i->ifa_addr == NULL || !selected(c, i))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a = &((struct sockaddr_in *)(void *)i->ifa_addr)
				     ->sin_addr;
			if (b->n_ipv4 < BEACON_MAX_ADDRS)
				inet_ntop(AF_INET, a, b->ipv4[b->n_ipv4++],
					  sizeof(b->ipv4[0]));
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a = &((struct sockaddr_in6 *)(void *)i->ifa_addr)
				     ->sin6_addr;
			if (b->n_ipv6 < BEACON_MAX_ADDRS)
				inet_ntop(AF_INET6, a, b->ipv6[b->n_ipv6++],
					  sizeof(b->ipv6[0]));
		}
	}
	freeifaddrs(ifa);
}

/* KEY=value or KEY="value" from os-release, kept only if it is clean text. */
static void
os_field(const char *line, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key), n, i;
	const char *v;

	if (strncmp(line, key, kl) != 0 || line[kl] != '=')
		return;
	v = line + kl + 1;
	if (*v == '"' || *v == '\'')
		v++;
	n = strcspn(v, "\"'\n");
	if (n >= len)
		n = len - 1;
	while (n > 0 && !text_utf8_valid(v, n))
		n--; /* do not cut a character in two */
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return;
	memcpy(out, v, n);
	out[n] = '\0';
}

static void
os_release(struct beacon_msg *b)
{
	char line[256];
	FILE *f = fopen("/etc/os-release", "r");

	b->os[0] = b->os_version[0] = '\0';
	if (f == NULL)
		f = fopen("/usr/lib/os-release", "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		os_field(line, "NAME", b->os, sizeof(b->os));
		os_field(line, "VERSION_ID", b->os_version,
			 sizeof(b->os_version));
	}
	fclose(f);
}

bool
facts_gather(const struct agent_config *c, struct beacon_msg *b,
	     bool *truncated, char *err, size_t errlen)
{
	char host[256], shown[64 * 4 + 1];
	struct timespec ts;

	*truncated = false;
	if (c->hostname != NULL) {
		snprintf(b->hostname, sizeof(b->hostname), "%s", c->hostname);
	} else {
		if (gethostname(host, sizeof(host)) < 0) {
			snprintf(err, errlen, "gethostname: %s",
				 strerror(errno));
			return false;
		}
		host[sizeof(host) - 1] = '\0';
		/* Linux allows 64 bytes; a beacon holds 63 (a DNS label's
		   limit): announce the first 63 and say so. */
		if (strlen(host) > BEACON_MAX_HOSTNAME) {
			host[BEACON_MAX_HOSTNAME] = '\0';
			*truncated = true;
		}
		if (!beacon_hostname_valid(host)) {
			text_escape(host, strlen(host), shown, sizeof(shown));
			snprintf(err, errlen,
				 "hostname '%s' cannot be announced "
				 "(1-63 of A-Z a-z 0-9 . _ -); give --hostname",
				 shown);
			return false;
		}
		memcpy(b->hostname, host, strlen(host) + 1);
	}
	addresses(c, b);
	os_release(b);
	b->has_uptime = clock_gettime(CLOCK_BOOTTIME, &ts) == 0;
	b->uptime_s = b->has_uptime ? (uint64_t)ts.tv_sec : 0;
	return true;
}

bool
facts_host_id(const struct agent_config *c, char *out, size_t len, char *err,
	      size_t errlen)
{
	static const char *const files[] = {"/etc/machine-id",
					    "/var/lib/dbus/machine-id"};
	char mid[128];
	size_t i, n;

	if (c->id != NULL) {
		snprintf(out, len, "%s", c->id);
		return true;
	}
	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");
		if (f == NULL)
			continue;
		n = fread(mid, 1, sizeof(mid) - 1, f);
		fclose(f);
		mid[n] = '\0';
		mid[strcspn(mid, " \t\r\n")] = '\0';
		/* systemd writes "uninitialized" until the first boot is
		   complete: every such host would get one id. */
		if (mid[0] != '\0' && strcmp(mid, "uninitialized") != 0) {
			char id[17];
			beacon_host_id(mid, id);
			snprintf(out, len, "%s", id);
			return true;
		}
	}
	snprintf(err, errlen,
		 "no machine id in /etc/machine-id (missing, empty or "
		 "\"uninitialized\"): run systemd-machine-id-setup, or "
		 "give --id");
	return false;
}

void
facts_random_hex(char out[17])
{
	uint8_t r[8];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		memcpy(r, &t, sizeof(r));
	}
	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

bool
facts_same(const struct beacon_msg *a, const struct beacon_msg *b)
{
	size_t i;

	if (strcmp(a->hostname, b->hostname) != 0 || a->n_ipv4 != b->n_ipv4 ||
	    a->n_ipv6 != b->n_ipv6)
		return false;
	for (i = 0; i < a->n_ipv4; i++)
		if (strcmp(a->ipv4[i], b->ipv4[i]) != 0)
			return false;
	for (i = 0; i < a->n_ipv6; i++)
		if (strcmp(a->ipv6[i], b->ipv6[i]) != 0)
			return false;
	return true;
}
