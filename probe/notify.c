/* SPDX-License-Identifier: MIT */
/*
 * serve --notify URL: each chosen event POSTed to a webhook, through
 * libcurl's multi interface driven from the probe's own poll loop (its
 * sockets in the loop's poll set, its timer one of the loop's jobs), so a
 * slow or dead receiver never holds the loop. One transfer at a time per
 * URL, so a receiver gets its events in order and each once: the one at
 * the head is tried again with back-off (1 s doubling to 60 s) until the
 * receiver takes it (2xx); 4xx but 408 and 429 is a refusal that will not
 * change, so that event is given up (counted, said once). Each URL has a
 * bounded queue; what does not fit is dropped and counted. libcurl starts
 * after the privilege drop (Debian's resolves names in a short-lived
 * thread of its own, which has no more than the loop then). URLs are
 * logged by scheme and host only: a webhook's path often holds its
 * secret.
 */
#include <curl/curl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "log.h"
#include "probe.h"

#define NOTIFY_QUEUE_MAX  1000 /* events waiting per URL */
#define NOTIFY_RETRY_MS   1000
#define NOTIFY_RETRY_MAX  60000
#define NOTIFY_CONNECT_MS 5000
#define NOTIFY_TIMEOUT_MS 10000

struct target {
	const char *url;
	char where[96]; /* scheme://host:port, for messages */
	char **q;       /* bodies, q[head..head+n) modulo NOTIFY_QUEUE_MAX */
	size_t head, n;
	CURL *easy; /* the transfer of q[head], or NULL */
	unsigned tries;
	uint64_t retry_at, backoff;
	bool down;
};

struct notify {
	struct probe *p;
	CURLM *multi;
	struct curl_slist *headers;
	struct target t[PROBE_LIST_MAX];
	size_t n;
	struct {
		curl_socket_t fd;
		short events;
	} s[NOTIFY_SOCKETS_MAX];
	size_t n_s;
	uint64_t timer_at;
	struct notify_stats st;
};

static const char *const format_names[] = {"json", "text", "slack", "gotify"};

int
notify_format(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(format_names) / sizeof(*format_names); i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -1;
}

/* libcurl's sockets, as the loop polls them. */
static int
on_socket(CURL *e, curl_socket_t fd, int what, void *ctx, void *sockp)
{
	struct notify *nt = ctx;
	size_t i;

	(void)e;
	(void)sockp;
	for (i = 0; i < nt->n_s && nt->s[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < nt->n_s)
			nt->s[i] = nt->s[--nt->n_s];
		return 0;
	}
	if (i == nt->n_s) {
		if (nt->n_s == NOTIFY_SOCKETS_MAX)
			return -1; /* libcurl fails that transfer */
		nt->n_s++;
	}
	nt->s[i].fd = fd;
	nt->s[i].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) |
				  (what & CURL_POLL_OUT ? POLLOUT : 0));
	return 0;
}

static int
on_timer(CURLM *m, long ms, void *ctx)
{
	struct notify *nt = ctx;

	(void)m;
	nt->timer_at = ms < 0 ? UINT64_MAX : clock_mono_ms() + (uint64_t)ms;
	return 0;
}

static size_t
discard(char *b, size_t size, size_t n, void *ctx)
{
	(void)b;
	(void)ctx;
	return size * n; /* the receiver's answer is not read */
}

/* "scheme://host[:port]" of url, or -1 when it is not an http(s) URL. */
static int
where(const char *url, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)) {
		(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
		snprintf(out, len, "%s://%s%s%s", scheme, host, port ? ":" : "",
			 port ? port : "");
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int
notify_check_url(const char *url)
{
	char w[96];

	return where(url, w, sizeof(w));
}

struct notify *
notify_open(struct probe *p)
{
	const struct probe_config *c = p->c;
	struct notify *nt;
	size_t i;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (nt = calloc(1, sizeof(*nt))) == NULL) {
		log_warnx("--notify: cannot start libcurl");
		return NULL;
	}
	nt->p = p;
	nt->timer_at = UINT64_MAX;
	nt->multi = curl_multi_init();
	nt->headers = curl_slist_append(
		NULL, c->notify_format == 1 ? "Content-Type: text/plain; "
					      "charset=utf-8"
					    : "Content-Type: application/json");
	for (i = 0; i < c->n_notify && nt->multi != NULL; i++) {
		struct target *t = &nt->t[nt->n++];
		t->url = c->notify[i];
		t->backoff = NOTIFY_RETRY_MS;
		(void)where(t->url, t->where, sizeof(t->where));
		if ((t->q = calloc(NOTIFY_QUEUE_MAX, sizeof(*t->q))) == NULL)
			break;
	}
	if (nt->multi == NULL || nt->headers == NULL || i < c->n_notify) {
		log_warnx("--notify: out of memory");
		notify_close(nt);
		return NULL;
	}
	curl_multi_setopt(nt->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(nt->multi, CURLMOPT_SOCKETDATA, nt);
	curl_multi_setopt(nt->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(nt->multi, CURLMOPT_TIMERDATA, nt);
	return nt;
}

void
notify_close(struct notify *nt)
{
	size_t i, k;

	if (nt == NULL)
		return;
	for (i = 0; i < nt->n; i++) {
		struct target *t = &nt->t[i];
		if (t->easy != NULL) {
			curl_multi_remove_handle(nt->multi, t->easy);
			curl_easy_cleanup(t->easy);
		}
		for (k = 0; t->q != NULL && k < t->n; k++)
			free(t->q[(t->head + k) % NOTIFY_QUEUE_MAX]);
		if (t->n > 0)
			log_warnx("--notify %s: %zu events not delivered",
				  t->where, t->n);
		free(t->q);
	}
	curl_multi_cleanup(nt->multi);
	curl_slist_free_all(nt->headers);
	curl_global_cleanup();
	free(nt);
}

/* The body for one event line, in the chosen format; NULL: no memory. */
static char *
body(int format, const char *line)
{
	cJSON *e, *o;
	char text[1024], *out;
	const char *ev, *host, *why, *id;

	if (format == 0)
		return strdup(line);
	if ((e = cJSON_Parse(line)) == NULL)
		return NULL;
	ev = cJSON_GetStringValue(cJSON_GetObjectItem(e, "event"));
	host = cJSON_GetStringValue(cJSON_GetObjectItem(e, "hostname"));
	why = cJSON_GetStringValue(cJSON_GetObjectItem(e, "reason"));
	id = cJSON_GetStringValue(cJSON_GetObjectItem(e, "id"));
	snprintf(text, sizeof(text), "%s %s (%s): %s", host ? host : "?",
		 ev ? ev : "?", id ? id : "?", why ? why : "");
	cJSON_Delete(e);
	if (format == 1)
		return strdup(text);
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (format == 2) {
		cJSON_AddStringToObject(o, "text", text);
	} else {
		cJSON_AddStringToObject(o, "title", "beacon");
		cJSON_AddStringToObject(o, "message", text);
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

void
notify_event(void *ctx, const struct probe_event *e, uint64_t now)
{
	struct notify *nt = ctx;
	const struct probe_config *c = nt->p->c;
	size_t i;

	(void)now;
	if (e->line == NULL || !(c->notify_events & (1u << e->ev)))
		return;
	for (i = 0; i < nt->n; i++) {
		struct target *t = &nt->t[i];
		char *b = t->n < NOTIFY_QUEUE_MAX
				  ? body(c->notify_format, e->line)
				  : NULL;
		if (b == NULL) {
			if (nt->st.dropped++ == 0)
				log_warnx("--notify %s: events dropped: %s "
					  "(counted in "
					  "beacon_notify_dropped_total)",
					  t->where,
					  t->n < NOTIFY_QUEUE_MAX
						  ? "out of memory"
						  : "too many wait");
			continue;
		}
		t->q[(t->head + t->n++) % NOTIFY_QUEUE_MAX] = b;
	}
}

/* The head of t's queue on its way. */
static void
start(struct notify *nt, struct target *t)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		return;
	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)NOTIFY_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, nt->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->q[t->head]);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "beacon-probe");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	if (curl_multi_add_handle(nt->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return;
	}
	t->easy = e;
}

static void
pop(struct target *t)
{
	free(t->q[t->head]);
	t->head = (t->head + 1) % NOTIFY_QUEUE_MAX;
	t->n--;
	t->tries = 0;
}

/* A transfer ended: delivered, refused for good, or to try again. */
static void
done(struct notify *nt, struct target *t, CURLcode rc, uint64_t now)
{
	long code = 0;
	bool refused;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(nt->multi, t->easy);
	curl_easy_cleanup(t->easy);
	t->easy = NULL;
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		nt->st.sent++;
		if (t->down)
			log_info("--notify %s: delivered again", t->where);
		t->down = false;
		t->backoff = NOTIFY_RETRY_MS;
		pop(t);
		return;
	}
	refused = rc == CURLE_OK && code >= 400 && code < 500 && code != 408 &&
		  code != 429;
	if (refused) {
		log_warnx("--notify %s: HTTP %ld, an event given up (the "
			  "receiver refuses it)",
			  t->where, code);
		nt->st.refused++;
		pop(t);
		return;
	}
	nt->st.failed++;
	if (!t->down)
		log_warnx("--notify %s: %s; tried again with back-off, events "
			  "wait (at most %d)",
			  t->where,
			  rc != CURLE_OK ? curl_easy_strerror(rc)
					 : "HTTP error",
			  NOTIFY_QUEUE_MAX);
	t->down = true;
	t->tries++;
	t->retry_at = now + t->backoff;
	t->backoff = t->backoff * 2 < NOTIFY_RETRY_MAX ? t->backoff * 2
						       : NOTIFY_RETRY_MAX;
}

static void
finished(struct notify *nt, uint64_t now)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(nt->multi, &left)) != NULL) {
		struct target *t = NULL;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &t);
		if (t != NULL)
			done(nt, t, m->data.result, now);
	}
}

void
notify_run(struct notify *nt, const struct pollfd *pf, size_t n, uint64_t now)
{
	int running;
	size_t i;

	for (i = 0; i < n; i++)
		if (pf[i].revents != 0)
			curl_multi_socket_action(
				nt->multi, pf[i].fd,
				(pf[i].revents & POLLIN ? CURL_CSELECT_IN : 0) |
					(pf[i].revents & POLLOUT
						 ? CURL_CSELECT_OUT
						 : 0) |
					(pf[i].revents & (POLLERR | POLLHUP)
						 ? CURL_CSELECT_ERR
						 : 0),
				&running);
	if (now >= nt->timer_at) {
		nt->timer_at = UINT64_MAX;
		curl_multi_socket_action(nt->multi, CURL_SOCKET_TIMEOUT, 0,
					 &running);
	}
	finished(nt, now);
	for (i = 0; i < nt->n; i++) {
		struct target *t = &nt->t[i];
		if (t->easy == NULL && t->n > 0 && now >= t->retry_at)
			start(nt, t);
	}
}

uint64_t
notify_due(const struct notify *nt)
{
	uint64_t due = nt->timer_at;
	size_t i;

	for (i = 0; i < nt->n; i++) {
		const struct target *t = &nt->t[i];
		if (t->easy == NULL && t->n > 0 && t->retry_at < due)
			due = t->retry_at;
	}
	return due;
}

size_t
notify_fds(const struct notify *nt, struct pollfd *pf, size_t max)
{
	size_t i;

	if (nt == NULL)
		return 0;
	for (i = 0; i < nt->n_s && i < max; i++)
		pf[i] = (struct pollfd){nt->s[i].fd, nt->s[i].events, 0};
	return i;
}

void
notify_stats(const struct notify *nt, struct notify_stats *st)
{
	size_t i;

	*st = nt->st;
	st->waiting = 0;
	for (i = 0; i < nt->n; i++)
		st->waiting += nt->t[i].n;
}

void
notify_metrics(FILE *f, const struct notify *nt)
{
	struct notify_stats st;

	notify_stats(nt, &st);
	metrics_counter(f, "beacon_notify_sent_total",
			"Events delivered to --notify webhooks (2xx).",
			st.sent);
	metrics_counter(f, "beacon_notify_failed_total",
			"Webhook attempts that failed (tried again).",
			st.failed);
	metrics_counter(f, "beacon_notify_refused_total",
			"Events given up: the webhook refused them (4xx).",
			st.refused);
	metrics_counter(f, "beacon_notify_dropped_total",
			"Events not queued for a webhook: too many waited.",
			st.dropped);
	metrics_head(f, "beacon_notify_waiting", "gauge",
		     "Events waiting for their webhook.");
	fprintf(f, "beacon_notify_waiting %zu\n", st.waiting);
}
