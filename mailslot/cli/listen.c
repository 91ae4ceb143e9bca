/* SPDX-License-Identifier: MIT */
/*
 * mailslot listen: receive on \\.\mailslot\NAME (several, or all of them)
 * and print one line per message, or one JSON object per line. Everything from the network is
 * escaped before it reaches the terminal; JSON strings are escaped by cJSON
 * and the data is there as text only when it is valid UTF-8.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "log.h"
#include "clock.h"
#include "mailslot/slot.h"
#include "mailslot/unc.h"
#include "text.h"

static const char usage[] =
	"usage: mailslot listen [OPTIONS] \\\\.\\mailslot\\NAME...\n"
	"       mailslot listen [OPTIONS] --all\n"
	"\n"
	"Receive messages written to the mailslot NAME (or to any of several,\n"
	"or with --all to every mailslot) on this host (from Windows, Samba\n"
	"or mailslot send) and print one line for each:\n"
	"time, source address, source and destination NetBIOS names, mailslot\n"
	"path, interface, size and the data, with control characters escaped.\n"
	"Duplicates (same source, datagram id and bytes within 3 s) are\n"
	"dropped.\n"
	"\n"
	"Options:\n"
	"  -a, --all           every mailslot: browse announcements\n"
	"                      (\\MAILSLOT\\BROWSE), NETLOGON, any application's\n"
	"  -p, --port N        UDP port (default 138; below 1024 needs root or\n"
	"                      CAP_NET_BIND_SERVICE); shared with nmbd and\n"
	"                      other listeners\n"
	"  -c, --count N       exit after N messages\n"
	"  -t, --timeout SEC   stop after SEC seconds (fractions allowed); with\n"
	"                      --count, fewer than N messages by then is an error\n"
	"  -j, --json          one JSON object per line: metadata, 'text' (the\n"
	"                      data if valid UTF-8, else null) and 'base64'\n"
	"      --max-size N    drop messages larger than N bytes\n"
	"      --ignore-own    drop datagrams this host sent from the same port\n"
	"  -h, --help          show this help\n"
	"\n"
	"When ready it prints 'listening on 0.0.0.0:PORT' to standard error.\n"
	"Exit status: 0 success, 1 error or timeout before --count, 64 usage.\n";

/* What the command line says. */
struct listen_args {
	struct mailslot_server_opts o;
	uint64_t count, timeout_ms;
	bool json;
};

#define ARG(f) offsetof(struct listen_args, f)

static const struct cli_opt opts[] = {
	{"all", 'a', CLI_SET, ARG(o.all_slots), 0, 0, 0, 0, NULL, NULL, 0},
	{"port", 'p', CLI_UINT, ARG(o.port), 2, 0, 1, 65535, NULL, NULL, 0},
	{"count", 'c', CLI_UINT, ARG(count), 8, 0, 1, UINT32_MAX, NULL, NULL,
	 0},
	{"timeout", 't', CLI_SECONDS, ARG(timeout_ms), 8, 0, 1, 86400000, NULL,
	 NULL, 0},
	{"json", 'j', CLI_SET, ARG(json), 0, 0, 0, 0, NULL, NULL, 0},
	{"max-size", 0, CLI_UINT, ARG(o.max_message), sizeof(size_t), 0, 1,
	 MAILSLOT_DGRAM_MAX, NULL, NULL, 0},
	{"ignore-own", 0, CLI_SET, ARG(o.ignore_own), 0, 0, 0, 0, NULL, NULL,
	 0},
	{"help", 'h', CLI_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0},
};

static const struct cli cli = {"mailslot listen",
			       "mailslot listen --help",
			       usage,
			       "",
			       opts,
			       sizeof(opts) / sizeof(opts[0])};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
ip_text(uint32_t ip, char out[INET_ADDRSTRLEN])
{
	struct in_addr a = {htonl(ip)};

	inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

/* Wall-clock time of now, RFC 3339 UTC with milliseconds. */
static void
wall_time(char *out, size_t len, bool date)
{
	struct timespec ts;
	struct tm tm;
	char base[48];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), date ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S",
		 &tm);
	snprintf(out, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
	if (!date)
		out[strlen(out) - 1] = '\0';
}

static void
print_text(const struct mailslot_meta *m, const uint8_t *data)
{
	char src[INET_ADDRSTRLEN], when[64], sname[96], dname[96];
	size_t need = text_escape(data, m->len, NULL, 0) + 1;
	char *esc = malloc(need);

	ip_text(m->src_ip, src);
	wall_time(when, sizeof(when), false);
	mailslot_nbname_format(&m->src_name, sname, sizeof(sname));
	mailslot_nbname_format(&m->dst_name, dname, sizeof(dname));
	if (esc != NULL)
		text_escape(data, m->len, esc, need);
	printf("%s %s:%u %s -> %s %s [%s] %zu bytes: %s\n", when, src,
	       m->src_port, sname, dname, m->path,
	       m->ifname[0] ? m->ifname : "?", m->len, esc ? esc : "");
	free(esc);
}

static bool
print_json(const struct mailslot_meta *m, const uint8_t *data)
{
	char ip[INET_ADDRSTRLEN], when[64], name[96];
	size_t b64len = 4 * ((m->len + 2) / 3) + 1;
	char *b64 = malloc(b64len), *text = NULL, *line;
	cJSON *o = cJSON_CreateObject();
	bool ok = false;

	if (o == NULL || b64 == NULL)
		goto out;
	wall_time(when, sizeof(when), true);
	cJSON_AddStringToObject(o, "time", when);
	cJSON_AddNumberToObject(o, "received_ms", (double)m->received_ms);
	ip_text(m->src_ip, ip);
	cJSON_AddStringToObject(o, "src_ip", ip);
	cJSON_AddNumberToObject(o, "src_port", m->src_port);
	ip_text(m->dst_ip, ip);
	cJSON_AddStringToObject(o, "dst_ip", ip);
	cJSON_AddStringToObject(o, "interface", m->ifname);
	ip_text(m->nbt_src_ip, ip);
	cJSON_AddStringToObject(o, "nbt_src_ip", ip);
	cJSON_AddNumberToObject(o, "msg_type", m->msg_type);
	cJSON_AddNumberToObject(o, "flags", m->flags);
	cJSON_AddNumberToObject(o, "dgm_id", m->dgm_id);
	cJSON_AddNumberToObject(o, "priority", m->priority);
	mailslot_nbname_format(&m->src_name, name, sizeof(name));
	cJSON_AddStringToObject(o, "src_name", name);
	mailslot_nbname_format(&m->dst_name, name, sizeof(name));
	cJSON_AddStringToObject(o, "dst_name", name);
	cJSON_AddStringToObject(o, "mailslot", m->path);
	cJSON_AddNumberToObject(o, "size", (double)m->len);
	/* As text only when it would reach a terminal unharmed: cJSON
	   escapes C0 controls but passes DEL and C1 controls through. */
	if (text_printable(data, m->len)) {
		text = malloc(m->len + 1);
		if (text == NULL)
			goto out;
		memcpy(text, data, m->len);
		text[m->len] = '\0';
		cJSON_AddStringToObject(o, "text", text);
	} else {
		cJSON_AddNullToObject(o, "text");
	}
	text_base64(data, m->len, b64, b64len);
	cJSON_AddStringToObject(o, "base64", b64);
	line = cJSON_PrintUnformatted(o);
	if (line != NULL) {
		puts(line);
		cJSON_free(line);
		ok = true;
	}
out:
	cJSON_Delete(o);
	free(text);
	free(b64);
	return ok;
}

static void
print_drops(const struct mailslot_stats *st)
{
	uint64_t bad = 0;
	int i;

	for (i = 0; i < MAILSLOT_E__COUNT; i++)
		bad += st->invalid[i];
	if (bad + st->duplicates + st->oversize + st->other_slot + st->own +
		    st->queue_full ==
	    0)
		return;
	log_info("%llu datagrams: %llu messages, %llu "
		 "invalid, %llu duplicates, %llu other mailslots, %llu "
		 "oversize, %llu own, %llu queue full",
		 (unsigned long long)st->datagrams,
		 (unsigned long long)st->messages, (unsigned long long)bad,
		 (unsigned long long)st->duplicates,
		 (unsigned long long)st->other_slot,
		 (unsigned long long)st->oversize, (unsigned long long)st->own,
		 (unsigned long long)st->queue_full);
}

/* The names: mailslots on this host, at most MAILSLOT_SLOTS_MAX, or
   --all. 0, or EXIT_USAGE having said why (each name checked here, so the
   error names the bad one). */
static int
check_names(const struct listen_args *a, int n, char **names)
{
	struct mailslot_unc u;
	enum mailslot_err err;
	int i;

	if (a->o.all_slots && n > 0)
		return cli_usage(&cli, "give mailslot names or --all, not both",
				 names[0]);
	if (!a->o.all_slots && n == 0)
		return cli_usage(&cli, "missing SLOT (or --all)", NULL);
	if (n > MAILSLOT_SLOTS_MAX)
		return cli_usage(&cli, "at most 16 mailslots",
				 names[MAILSLOT_SLOTS_MAX]);
	for (i = 0; i < n; i++) {
		err = mailslot_unc_parse(names[i], &u);
		if (err == MAILSLOT_OK && u.target != MAILSLOT_TARGET_LOCAL)
			err = MAILSLOT_E_UNC_NOT_LOCAL;
		if (err != MAILSLOT_OK) {
			report_err(names[i], err, a->o.port);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Messages printed until --count, --timeout or a signal: 0, or 1 having
   said why. */
static int
receive(struct mailslot_server *s, const struct listen_args *a)
{
	static uint8_t buf[MAILSLOT_DGRAM_MAX];
	uint64_t got = 0, deadline = 0, now;
	struct mailslot_meta m;
	enum mailslot_err err;
	size_t len;
	int wait_ms;

	if (a->timeout_ms > 0)
		deadline = clock_mono_ms() + a->timeout_ms;
	while (!stop && (a->count == 0 || got < a->count)) {
		/* Wake at least once a second so a signal is seen promptly. */
		wait_ms = 1000;
		if (deadline != 0 && (now = clock_mono_ms()) >= deadline)
			break;
		if (deadline != 0 && deadline - now < (uint64_t)wait_ms)
			wait_ms = (int)(deadline - now);
		mailslot_set_timeout(s, wait_ms);
		err = mailslot_read(s, buf, sizeof(buf), &len, &m);
		if (err == MAILSLOT_E_TIMEOUT ||
		    (err != MAILSLOT_OK && errno == EINTR))
			continue;
		if (err != MAILSLOT_OK) {
			report_err("read", err, a->o.port);
			return 1;
		}
		got++;
		if (!a->json) {
			print_text(&m, buf);
		} else if (!print_json(&m, buf)) {
			log_warnx("out of memory");
			return 1;
		}
	}
	if (a->count > 0 && got < a->count && !stop) {
		log_warnx("timed out after %.3f s with %llu of %llu messages",
			  (double)a->timeout_ms / 1000, (unsigned long long)got,
			  (unsigned long long)a->count);
		return 1;
	}
	return 0;
}

int
cli_listen(int argc, char **argv)
{
	struct mailslot_server *s = NULL;
	struct listen_args a;
	struct sigaction sa;
	enum mailslot_err err;
	int rc, first;

	log_init("mailslot listen", 0);
	memset(&a, 0, sizeof(a));
	mailslot_server_opts_init(&a.o);
	if ((rc = cli_parse(&cli, argc, argv, &a, &first)) != 0)
		return rc == CLI_DONE ? 0 : rc;
	if ((rc = check_names(&a, argc - first, argv + first)) != 0)
		return rc;
	if (first < argc) {
		a.o.more = (const char *const *)argv + first + 1;
		a.o.n_more = (size_t)(argc - first - 1);
	}
	err = mailslot_create(a.o.all_slots ? NULL : argv[first], &a.o, &s);
	if (err != MAILSLOT_OK) {
		report_err(a.o.all_slots ? "--all" : "mailslot", err, a.o.port);
		return err == MAILSLOT_E_PRIVILEGED_PORT ||
				       err == MAILSLOT_E_SYSTEM ||
				       err == MAILSLOT_E_NOMEM
			       ? 1
			       : EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_info("listening on 0.0.0.0:%u for %s%s", mailslot_port(s),
		 a.o.all_slots ? "every mailslot" : argv[first],
		 argc - first > 1 ? " and more" : "");
	rc = receive(s, &a);
	print_drops(mailslot_stats(s));
	mailslot_close(s);
	return rc;
}
