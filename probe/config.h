/* SPDX-License-Identifier: MIT */
/* beacon-probe's command line, as config.c parses it: what the loop runs
   and what the renderers filter and show. */
#ifndef BEACON_PROBE_CONFIG_H
#define BEACON_PROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beacon/beacon.h"

#define PROBE_LIST_MAX 32
#define EXIT_NONE      2 /* list: no host matched */
#define EXIT_USAGE     64 /* sysexits' EX_USAGE: the same in all three programs */

enum probe_cmd { CMD_LIST, CMD_WATCH, CMD_SERVE, CMD_HISTORY, CMD_DIFF };

struct probe_config {
	enum probe_cmd cmd;
	const char *cmd_name;
	uint16_t port;
	const char *broadcast[PROBE_LIST_MAX];
	size_t n_broadcast;
	const char *interfaces[PROBE_LIST_MAX];
	size_t n_interfaces;
	const char *workgroup;
	uint64_t wait_ms;
	bool json, events, solicit, header, all;
	bool browse, browse_request; /* Windows/Samba hosts; ask them (list) */
	const char *keyring;         /* verify signed beacons with its keys */
	const char *user;            /* run as this user once set up */
	const char *http[PROBE_LIST_MAX]; /* serve --http ADDR:PORT */
	size_t n_http;
	const char *http_auth;             /* users and password hashes */
	const char *mqtt;                  /* serve --mqtt URL */
	const char *site;                  /* a topic level */
	const char *sites[PROBE_LIST_MAX]; /* list --mqtt: these sites */
	size_t n_sites;
	const char *mqtt_prefix;
	const char *mqtt_password_file, *mqtt_cafile;
	int mqtt_keepalive;
	uint32_t mqtt_refresh_ms;         /* counters ride along this often */
	const char *mqtt_homeassistant;   /* discovery prefix; NULL: off */
	const char *http_cert, *http_key; /* TLS, PEM files */
	bool require_auth;                /* drop unsigned beacons */
	const char *auth;                 /* filter: "verified", "unsigned" */
	struct beacon_tag tags[PROBE_LIST_MAX]; /* filters: all must match */
	size_t n_tags;
	const char *statuses[PROBE_LIST_MAX]; /* filters: any may match */
	size_t n_statuses;
	const char *export_path;
	const char *db;     /* serve --db: the history; history reads it */
	const char *expect; /* the hosts that should always be up */
	unsigned db_retention_days;         /* events older are pruned */
	const char *notify[PROBE_LIST_MAX]; /* serve --notify URL */
	size_t n_notify;
	unsigned notify_events; /* bit 1 << enum host_event */
	int notify_format;      /* notify_format(): json, text, slack... */
	const char *host;       /* history HOST: id, hostname */
	const char *diff_old, *diff_new; /* diff OLD.json NEW.json */
	const char *since, *until;       /* history: text_when() times */
	const char *events_wanted[PROBE_LIST_MAX]; /* history --event */
	size_t n_events_wanted;
	uint64_t export_interval_ms;
	size_t max_hosts;
	uint32_t max_ttl_ms;   /* cap on announced interval and TTL */
	double new_per_source; /* new hosts per source address per second */
	double new_burst;
	unsigned max_queries;    /* direct queries per second, in all */
	unsigned max_per_source; /* beacons decoded per source per second */
};

/* config.c: 0 to go on, or the exit status (after -h, or EXIT_USAGE). */
int probe_config_parse(int argc, char **argv, struct probe_config *c,
		       bool *done);

#endif
