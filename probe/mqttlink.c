/* SPDX-License-Identifier: MIT */
/*
 * A broker connection in the caller's poll loop (mqttlink.h). libmosquitto
 * without its thread: mosquitto_loop_read on a ready descriptor (it also
 * drives a TLS handshake, whichever way it waits), mosquitto_loop_write
 * when it wants to write, mosquitto_loop_misc once a second for the
 * keepalive. Its callbacks then run in the caller's pass, so no state is
 * shared with another thread.
 */
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mqttlink.h"
#include "probe.h"
#include "smallfile.h"

#define MISC_MS      1000
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000
#define PASSWORD_MAX 256

void
mqtt_client_id(char *out, size_t size, const char *role)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)clock_mono_ms();
	snprintf(out, size, "beacon-%s-%d-%08x", role, (int)getpid(), r);
}

static int
parse_userinfo(const char *p, const char *at, struct mqtt_url *u)
{
	const char *c = memchr(p, ':', (size_t)(at - p));
	size_t ul = c ? (size_t)(c - p) : (size_t)(at - p);

	if (ul == 0 || ul >= sizeof(u->user))
		return -1;
	memcpy(u->user, p, ul);
	if (c != NULL) {
		size_t pl = (size_t)(at - c - 1);
		if (pl >= sizeof(u->pass))
			return -1;
		memcpy(u->pass, c + 1, pl);
		u->has_pass = true;
	}
	return 0;
}

int
mqtt_parse_url(const char *url, struct mqtt_url *u)
{
	const char *p, *at, *host, *colon;
	unsigned long port;
	size_t hl;
	char *end;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "mqtt://", 7) == 0) {
		p = url + 7;
		u->port = 1883;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		p = url + 8;
		u->port = 8883;
		u->tls = true;
	} else {
		return -1;
	}
	at = strrchr(p, '@');
	host = p;
	if (at != NULL) {
		if (parse_userinfo(p, at, u) < 0)
			return -1;
		host = at + 1;
	}
	colon = strrchr(host, ':');
	if (colon != NULL) {
		port = strtoul(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || port == 0 ||
		    port > 65535)
			return -1;
		u->port = (int)port;
	}
	hl = colon ? (size_t)(colon - host) : strlen(host);
	if (hl == 0 || hl >= sizeof(u->host))
		return -1;
	memcpy(u->host, host, hl);
	if (strpbrk(u->host, "/?#") != NULL)
		return -1;
	return 0;
}

bool
mqtt_why_log(struct mqtt_why *w, int level, const char *line)
{
	if ((level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) == 0 ||
	    strstr(line, "OpenSSL Error[0]") == NULL)
		return false;
	/* "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify
	   failed": its last part. */
	if (strstr(line, "::") != NULL)
		line = strstr(line, "::") + 2;
	snprintf(w->text, sizeof(w->text), "%s", line);
	w->fresh = true;
	return true;
}

bool
mqtt_why_take(struct mqtt_why *w, char *out, size_t size)
{
	const char *hint = "";
	bool fresh = w->fresh;

	w->fresh = false;
	if (strstr(w->text, "certificate verify failed") != NULL)
		hint = " (the broker's certificate is not signed by the CA "
		       "of --mqtt-cafile, or by a CA of this system without "
		       "it, or does not name HOST)";
	else if (strstr(w->text, "wrong version number") != NULL ||
		 strstr(w->text, "unexpected eof") != NULL ||
		 strstr(w->text, "packet length too long") != NULL)
		hint = " (is HOST:PORT a TLS listener? mqtts:// is for TLS, "
		       "mqtt:// for plain MQTT)";
	if (fresh)
		snprintf(out, size, "%s%s", w->text, hint);
	return fresh;
}

/* The first line of --mqtt-password-file (private, as a keyring), else
   the URL's password, into pass; -1 having logged why. */
static int
read_password(const struct probe_config *c, const struct mqtt_url *u,
	      char pass[PASSWORD_MAX])
{
	char *text;

	pass[0] = '\0';
	if (c->mqtt_password_file == NULL) {
		if (u->has_pass)
			snprintf(pass, PASSWORD_MAX, "%s", u->pass);
		return 0;
	}
	text = smallfile_read(c->mqtt_password_file, "--mqtt-password-file",
			      true);
	if (text == NULL)
		return -1;
	if (strcspn(text, "\r\n") >= PASSWORD_MAX) {
		log_warnx("--mqtt-password-file %s: its first line is over %d "
			  "bytes",
			  c->mqtt_password_file, PASSWORD_MAX - 1);
		free(text);
		return -1;
	}
	snprintf(pass, PASSWORD_MAX, "%s", text);
	memset(text, 0, strlen(text));
	free(text);
	pass[strcspn(pass, "\r\n")] = '\0';
	return 0;
}

/* For mqtts://: the CA of --mqtt-cafile (checked here: libmosquitto opens
   it itself, blocking on a FIFO), else the system's (a broker with a
   public certificate). */
static int
set_tls(struct mosquitto *m, const struct probe_config *c)
{
	int e;

	if (c->mqtt_cafile == NULL) {
		e = mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		if (e != MOSQ_ERR_SUCCESS) {
			log_warnx("--mqtt %s: TLS: %s", c->mqtt,
				  mosquitto_strerror(e));
			return -1;
		}
		return 0;
	}
	if (!smallfile_check(c->mqtt_cafile, "--mqtt-cafile"))
		return -1;
	e = mosquitto_tls_set(m, c->mqtt_cafile, NULL, NULL, NULL, NULL);
	if (e != MOSQ_ERR_SUCCESS) {
		log_warnx("--mqtt-cafile %s: %s", c->mqtt_cafile,
			  e == MOSQ_ERR_INVAL ? "cannot be read"
					      : mosquitto_strerror(e));
		return -1;
	}
	return 0;
}

static void
on_connect(struct mosquitto *m, void *ctx, int rc)
{
	struct mqtt_link *l = ctx;

	(void)m;
	if (rc != 0) {
		l->refused = rc;
		return;
	}
	l->connected = true;
	l->trying = false;
	l->fails = 0;
	l->backoff_ms = RETRY_MIN_MS;
	if (l->ops->connected != NULL)
		l->ops->connected(l->ctx);
}

static void
on_disconnect(struct mosquitto *m, void *ctx, int rc)
{
	struct mqtt_link *l = ctx;

	(void)m;
	(void)rc;
	if (l->connected && !l->stopping)
		l->lost = true;
	l->connected = false;
}

static void
on_message(struct mosquitto *m, void *ctx, const struct mosquitto_message *msg)
{
	struct mqtt_link *l = ctx;

	(void)m;
	if (l->ops->message != NULL)
		l->ops->message(l->ctx, msg);
}

static void
on_publish(struct mosquitto *m, void *ctx, int mid)
{
	struct mqtt_link *l = ctx;

	(void)m;
	if (l->ops->published != NULL)
		l->ops->published(l->ctx, mid);
}

static void
on_log(struct mosquitto *m, void *ctx, int level, const char *line)
{
	struct mqtt_link *l = ctx;

	(void)m;
	mqtt_why_log(&l->why, level, line);
}

int
mqtt_link_open(struct mqtt_link *l, const struct probe_config *c,
	       const char *role, const struct mqtt_link_ops *ops, void *ctx)
{
	char id[96], pass[PASSWORD_MAX];
	int rc = 0;

	memset(l, 0, sizeof(*l));
	if (mqtt_parse_url(c->mqtt, &l->u) < 0) {
		log_warnx("--mqtt %s: not mqtt[s]://[USER[:PASS]@]HOST[:PORT]",
			  c->mqtt);
		return -1;
	}
	snprintf(l->broker, sizeof(l->broker), "%s:%d", l->u.host, l->u.port);
	l->keepalive = c->mqtt_keepalive;
	l->cafile = l->u.tls ? c->mqtt_cafile : NULL;
	l->ops = ops;
	l->ctx = ctx;
	l->backoff_ms = RETRY_MIN_MS;
	mosquitto_lib_init();
	mqtt_client_id(id, sizeof(id), role);
	if ((l->m = mosquitto_new(id, true, l)) == NULL) {
		log_warn("mosquitto_new");
		mosquitto_lib_cleanup();
		return -1;
	}
	mosquitto_int_option(l->m, MOSQ_OPT_PROTOCOL_VERSION,
			     MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(l->m, on_connect);
	mosquitto_disconnect_callback_set(l->m, on_disconnect);
	mosquitto_publish_callback_set(l->m, on_publish);
	mosquitto_message_callback_set(l->m, on_message);
	mosquitto_log_callback_set(l->m, on_log);
	if (read_password(c, &l->u, pass) < 0 ||
	    (l->u.user[0] != '\0' &&
	     mosquitto_username_pw_set(l->m, l->u.user,
				       pass[0] ? pass : NULL) !=
		     MOSQ_ERR_SUCCESS) ||
	    (l->u.tls && set_tls(l->m, c) < 0))
		rc = -1;
	memset(pass, 0, sizeof(pass));
	memset(l->u.pass, 0, sizeof(l->u.pass));
	if (rc < 0)
		mqtt_link_close(l, 0);
	return rc;
}

static void
failed(struct mqtt_link *l, int rc, uint64_t now)
{
	l->fail_errno = errno;
	l->trying = false;
	l->fails++;
	l->fail_rc = rc;
	l->retry_at = now + l->backoff_ms;
	l->backoff_ms = l->backoff_ms < RETRY_MAX_MS / 2 ? 2 * l->backoff_ms
							 : RETRY_MAX_MS;
}

static void
try_connect(struct mqtt_link *l, bool first, uint64_t now)
{
	int rc = first ? mosquitto_connect_async(l->m, l->u.host, l->u.port,
						 l->keepalive)
		       : mosquitto_reconnect_async(l->m);

	l->tried_at = now;
	l->misc_at = now + MISC_MS;
	l->trying = true;
	if (rc != MOSQ_ERR_SUCCESS)
		failed(l, rc, now);
}

int
mqtt_link_start(struct mqtt_link *l, uint64_t now)
{
	if (l->cafile != NULL && access(l->cafile, R_OK) < 0) {
		log_warn("--mqtt-cafile %s: cannot be read by the user the "
			 "probe runs as (a CA certificate is public: make it "
			 "and its directories readable by that user)",
			 l->cafile);
		return -1;
	}
	try_connect(l, true, now);
	return l->fails == 0 ? MOSQ_ERR_SUCCESS : l->fail_rc;
}

int
mqtt_link_fd(const struct mqtt_link *l)
{
	return l->m != NULL ? mosquitto_socket(l->m) : -1;
}

short
mqtt_link_events(struct mqtt_link *l)
{
	return (short)(POLLIN | (mosquitto_want_write(l->m) ? POLLOUT : 0));
}

uint64_t
mqtt_link_due(const struct mqtt_link *l)
{
	uint64_t due = mqtt_link_fd(l) >= 0 ? l->misc_at : UINT64_MAX;

	if (l->stopping)
		return due;
	if (l->trying && l->tried_at + MQTT_CONNECT_MS < due)
		due = l->tried_at + MQTT_CONNECT_MS;
	if (!l->trying && !l->connected && l->retry_at < due)
		due = l->retry_at;
	return due;
}

/* libmosquitto's part: what the descriptor has, and the keepalive. */
static int
io(struct mqtt_link *l, short revents, uint64_t now)
{
	int rc = MOSQ_ERR_SUCCESS;

	if (mosquitto_socket(l->m) < 0)
		return MOSQ_ERR_NO_CONN;
	if (revents != 0)
		rc = mosquitto_loop_read(l->m, 1);
	if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT) &&
	    mosquitto_socket(l->m) >= 0)
		rc = mosquitto_loop_write(l->m, 1);
	if (rc == MOSQ_ERR_SUCCESS && now >= l->misc_at &&
	    mosquitto_socket(l->m) >= 0) {
		l->misc_at = now + MISC_MS;
		rc = mosquitto_loop_misc(l->m);
	}
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(l->m) < 0)
		rc = MOSQ_ERR_NO_CONN;
	return rc;
}

void
mqtt_link_run(struct mqtt_link *l, short revents, uint64_t now)
{
	bool up = l->connected;
	int rc = io(l, revents, now);

	if (l->stopping)
		return;
	if (up) {
		/* A loss is tried again at once, then as any failure. */
		if (rc != MOSQ_ERR_SUCCESS || !l->connected) {
			if (!l->lost && l->connected)
				l->lost = true;
			l->connected = false;
			failed(l, rc, now);
			l->retry_at = now;
		}
		return;
	}
	if (l->connected)
		return; /* the CONNACK came in this run */
	if (l->trying) {
		/* After a TLS failure libmosquitto may wait on a dead socket
		   without an error: a try is given MQTT_CONNECT_MS. */
		if (rc != MOSQ_ERR_SUCCESS)
			failed(l, rc, now);
		else if (now >= l->tried_at + MQTT_CONNECT_MS)
			failed(l, MOSQ_ERR_SUCCESS, now);
		return;
	}
	if (now >= l->retry_at)
		try_connect(l, false, now);
}

void
mqtt_link_pump(struct mqtt_link *l, int ms)
{
	struct pollfd pf = {mqtt_link_fd(l), 0, 0};
	uint64_t now = clock_mono_ms(), due = mqtt_link_due(l);

	if (due <= now)
		ms = 0;
	else if (due - now < (uint64_t)ms)
		ms = (int)(due - now);
	if (pf.fd >= 0)
		pf.events = mqtt_link_events(l);
	if (poll(&pf, 1, ms) < 0)
		pf.revents = 0;
	mqtt_link_run(l, pf.revents, clock_mono_ms());
}

int
mqtt_link_refused(struct mqtt_link *l)
{
	int rc = l->refused;

	l->refused = 0;
	return rc;
}

bool
mqtt_link_lost(struct mqtt_link *l)
{
	bool lost = l->lost;

	l->lost = false;
	return lost;
}

void
mqtt_link_close(struct mqtt_link *l, int ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)ms;

	if (l->m == NULL)
		return;
	l->stopping = true;
	if (l->connected && mosquitto_disconnect(l->m) == MOSQ_ERR_SUCCESS)
		while (mqtt_link_fd(l) >= 0 && mosquitto_want_write(l->m) &&
		       clock_mono_ms() < end)
			mqtt_link_pump(l, (int)(end - clock_mono_ms()));
	mosquitto_destroy(l->m);
	mosquitto_lib_cleanup();
	l->m = NULL;
	l->connected = false;
}
