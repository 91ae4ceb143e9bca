/* SPDX-License-Identifier: MIT */
/*
 * serve --http ADDR:PORT: the live table over HTTP, on Debian's
 * libmicrohttpd, run from the probe's own poll loop (MHD_USE_EPOLL: one
 * descriptor per daemon to poll, MHD_run when it is ready or its timeout
 * comes), so a request sees the table between two batches of datagrams
 * and nothing needs a lock.
 *
 *   GET /v1/hosts        the table as list --json prints it; the list's
 *                        filters as parameters: status, tag, all, auth
 *   GET /v1/hosts/ID     one host, or 404 with a JSON error
 *   GET /v1/events       Server-Sent Events: "snapshot" (the /v1/hosts
 *                        document), then one event per host change, named
 *                        as watch --events names them, with its line
 *   GET /metrics         Prometheus text exposition (metrics.c)
 *   GET /                the web page (page.html, built in): the live
 *                        table from /v1/events, every value as text
 *   GET /healthz         "ok"
 *
 * Unknown paths are 404, other methods 405, a body (none of ours takes
 * one) is read and let go up to HTTP_BODY_MAX bytes and 413 beyond; every
 * answer has a Content-Type and Cache-Control: no-store. Connections are
 * bounded (256 in all, 16 per client address), and so is a request's
 * memory (16 KiB of headers) and its time: 30 s of silence, and its
 * header and body must be in within HTTP_HEADER_MS of the connection's
 * start (or of the previous answer), however it trickles in, or within
 * HTTP_HEADER_BUSY_MS when 3/4 of the connections are taken. So slow
 * clients cannot hold every connection.
 *
 * --http-cert and --http-key: TLS (libmicrohttpd's GnuTLS). --http-auth:
 * HTTP basic authentication against lines "USER HASH" (httpauth.c): the
 * request is suspended while the checker child runs Argon2id, never in
 * the probe's loop. /healthz stays open.
 *
 * An event stream is a buffer per client that MHD drains as the socket
 * takes it; with nothing to send the connection is suspended, and a new
 * event resumes it. A client whose buffer passes SSE_BACKLOG bytes more
 * than its snapshot (it reads too slowly, or not at all) is dropped: the
 * probe never waits for anyone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "log.h"
#include "num.h"
#include "probe.h"
#include "render.h"
#include "store.h"
#include "pwcheck.h"
#include "smallfile.h"
#include "text.h"

#define HTTP_CONNECTIONS    256
#define HTTP_PER_ADDRESS    16 /* 16 addresses to take them all */
#define HTTP_MEMORY         (16 * 1024)
#define HTTP_IDLE_S         30
#define HTTP_HEADER_MS      10000
#define HTTP_HEADER_BUSY_MS 2000
#define HTTP_BODY_MAX       4096
#define HTTP_MAX_DAEMONS    PROBE_LIST_MAX
#define HTTP_FILTERS_MAX    PROBE_LIST_MAX

#define SSE_BACKLOG (1 << 20)

/* page.html, embedded by cmake/Embed.cmake. */
extern unsigned char page_html[];
extern const size_t page_html_len;

/* The page loads nothing from elsewhere, and nothing may frame it. */
#define PAGE_CSP                                                               \
	"default-src 'none'; script-src 'unsafe-inline'; "                     \
	"style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; "     \
	"form-action 'none'; frame-ancestors 'none'"

struct sse {
	struct sse *next, **prev;
	struct MHD_Connection *c;
	char *buf;
	size_t len, off, cap, limit;
	bool suspended, dropped;
};

/* A connection (MHD's socket context): while its request is not all in,
   it is in the http's list `waiting`, oldest first. */
struct conn {
	struct conn *next, **prev;
	int fd;
	uint64_t since;
	bool nul; /* "%00" in its URL */
};

/* A request (MHD's request context). */
struct req {
	struct MHD_Connection *c;
	size_t body; /* bytes read and let go */
	bool checked;
	enum auth_verdict auth;
	unsigned retry_s;
};

struct http {
	struct probe *p;
	char *cert, *key; /* PEM, read at start */
	struct httpauth *auth;
	int ep; /* the daemons' epoll descriptors and the checker's socket */
	struct MHD_Daemon *d[HTTP_MAX_DAEMONS];
	size_t n;
	struct sse *clients;
	size_t n_clients;
	struct conn *waiting, **waiting_tail;
	size_t n_conns;
	struct http_stats st;
	bool pending; /* streams resumed since the last run */
};

/* Append an SSE event: "event: NAME", each line of data as "data: ...",
   a blank line. false when it would pass the client's limit. */
static bool
sse_put(struct sse *s, const char *event, const char *data, size_t len)
{
	size_t need = 16 + strlen(event) + len, i, lines = 1;
	char *b;

	for (i = 0; i < len; i++)
		lines += data[i] == '\n';
	need += 7 * lines;
	if (s->off > 0 && s->off == s->len)
		s->off = s->len = 0; /* all sent: start over */
	if (s->len + need > s->limit)
		return false;
	if (s->len + need > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + need)
			cap *= 2;
		if ((b = realloc(s->buf, cap)) == NULL)
			return false;
		s->buf = b;
		s->cap = cap;
	}
	s->len += (size_t)sprintf(s->buf + s->len, "event: %s\ndata: ", event);
	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (i + 1 == len)
				break; /* the document's last newline */
			memcpy(s->buf + s->len, "\ndata: ", 7);
			s->len += 7;
		} else {
			s->buf[s->len++] = data[i];
		}
	}
	memcpy(s->buf + s->len, "\n\n", 2);
	s->len += 2;
	return true;
}

static ssize_t
sse_read(void *ctx, uint64_t pos, char *out, size_t max)
{
	struct sse *s = ctx;
	size_t n = s->len - s->off;

	(void)pos;
	if (s->dropped)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n == 0) {
		/* Nothing now: out of MHD's loop until the next event. */
		s->suspended = true;
		MHD_suspend_connection(s->c);
		return 0;
	}
	if (n > max)
		n = max;
	memcpy(out, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void
sse_free(void *ctx)
{
	struct sse *s = ctx;

	if (s->next != NULL)
		s->next->prev = s->prev;
	*s->prev = s->next;
	free(s->buf);
	free(s);
}

static void
sse_wake(struct sse *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->c);
	}
}

void
http_event(struct http *h, const char *event, const char *line)
{
	struct sse *s;

	if (h == NULL)
		return;
	for (s = h->clients; s != NULL; s = s->next) {
		if (s->dropped)
			continue;
		if (!sse_put(s, event, line, strlen(line))) {
			s->dropped = true; /* too slow: let it go */
			h->st.events_dropped++;
		}
		sse_wake(s);
		h->pending = true;
	}
}

bool
http_pending(const struct http *h)
{
	return h != NULL && h->pending;
}

bool
http_streaming(const struct http *h)
{
	return h != NULL && h->clients != NULL;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" into a socket address; -1 if not. */
int
http_parse_addr(const char *s, struct sockaddr_storage *ss, unsigned *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;
	size_t n;

	if (colon == NULL || colon == s)
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port == 0 || port > 65535)
		return -1;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return -1;
		s++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host,
		      &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static bool
loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)
				      ->sin_addr.s_addr) >>
			24) == 127;
	return IN6_IS_ADDR_LOOPBACK(
		&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static enum MHD_Result
reply_retry(struct MHD_Connection *c, unsigned status, const char *type,
	    char *body, size_t len, unsigned retry_s)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ok;

	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (retry_s > 0) {
		char v[16];
		snprintf(v, sizeof(v), "%u", retry_s);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
      size_t len)
{
	return reply_retry(c, status, type, body, len, 0);
}

/* A JSON error body: {"error": "..."} (the text is ours, never the
   request's); with Retry-After when RETRY_S is not 0. */
static enum MHD_Result
error_retry(struct MHD_Connection *c, unsigned status, const char *what,
	    unsigned retry_s)
{
	char *body = NULL;
	int n = asprintf(&body, "{\"error\":\"%s\",\"status\":%u}\n", what,
			 status);

	if (n < 0)
		return MHD_NO;
	return reply_retry(c, status, "application/json", body, (size_t)n,
			   retry_s);
}

static enum MHD_Result
error(struct MHD_Connection *c, unsigned status, const char *what)
{
	return error_retry(c, status, what, 0);
}

/* The list filters from the query string, into a copy of the config. */
struct query {
	struct probe_config c;
	bool bad;
};

static enum MHD_Result
one_arg(void *ctx, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query *q = ctx;

	(void)kind;
	if (value == NULL)
		value = "";
	if (strcmp(key, "status") == 0) {
		if (q->c.n_statuses == HTTP_FILTERS_MAX ||
		    !host_status_word(value))
			q->bad = true;
		else
			q->c.statuses[q->c.n_statuses++] = value;
	} else if (strcmp(key, "tag") == 0) {
		const char *eq = strchr(value, '=');
		struct beacon_tag *t = &q->c.tags[q->c.n_tags];
		if (q->c.n_tags == HTTP_FILTERS_MAX || eq == NULL ||
		    eq == value || (size_t)(eq - value) > BEACON_MAX_TAG_KEY ||
		    strlen(eq + 1) > BEACON_MAX_TAG_VALUE) {
			q->bad = true;
		} else {
			memcpy(t->key, value, (size_t)(eq - value));
			t->key[eq - value] = '\0';
			strcpy(t->value, eq + 1);
			q->c.n_tags++;
		}
	} else if (strcmp(key, "all") == 0) {
		q->c.all = strcmp(value, "0") != 0;
	} else if (strcmp(key, "auth") == 0) {
		if (strcmp(value, "verified") == 0)
			q->c.auth = "verified";
		else if (strcmp(value, "unsigned") == 0)
			q->c.auth = "unsigned";
		else
			q->bad = true;
	} else {
		q->bad = true; /* a parameter we do not know: say so */
	}
	return MHD_YES;
}

static enum MHD_Result
hosts(struct http *h, struct MHD_Connection *c)
{
	struct query q;
	struct probe_view view = probe_view(h->p);
	char *body = NULL;
	size_t len = 0, shown;
	FILE *f;
	int rc;

	memset(&q, 0, sizeof(q));
	q.c = *h->p->c;
	q.c.n_statuses = q.c.n_tags = 0;
	q.c.all = false;
	q.c.auth = NULL;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, one_arg, &q);
	if (q.bad)
		return error(c, MHD_HTTP_BAD_REQUEST,
			     "parameters: status, tag=KEY=VALUE, all, auth");
	view.c = &q.c;
	f = open_memstream(&body, &len);
	if (f == NULL)
		return MHD_NO;
	rc = output_document(f, &view, clock_mono_ms(), &shown);
	if (fclose(f) != 0 || rc < 0) {
		free(body);
		return error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory");
	}
	return reply(c, MHD_HTTP_OK, "application/json", body, len);
}

static enum MHD_Result
one_host(struct http *h, struct MHD_Connection *c, const char *id)
{
	struct probe_view v = probe_view(h->p);
	char *body = NULL;
	size_t len = 0;
	int found = output_one_host_text(&v, id, clock_mono_ms(), &body, &len);

	if (found < 0)
		return error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory");
	if (found == 0)
		return error(c, MHD_HTTP_NOT_FOUND, "no such host");
	return reply(c, MHD_HTTP_OK, "application/json", body, len);
}

/* GET /v1/history's parameters. */
struct history_args {
	struct store_ask a;
	bool bad;
};

static enum MHD_Result
history_arg(void *ctx, enum MHD_ValueKind kind, const char *key,
	    const char *value)
{
	struct history_args *q = ctx;
	int64_t now = clock_wall_ms(), v;
	long long at, row;
	enum host_event ev;
	uint64_t n;
	int used = 0;

	(void)kind;
	if (value == NULL)
		value = "";
	if (strcmp(key, "host") == 0 && value[0] != '\0' &&
	    strlen(value) <= BEACON_MAX_HOSTNAME + 8)
		q->a.host = value;
	else if (strcmp(key, "since") == 0 && text_when(value, now, &v) == 0)
		q->a.since = v;
	else if (strcmp(key, "until") == 0 && text_when(value, now, &v) == 0)
		q->a.until = v;
	else if (strcmp(key, "event") == 0 && host_event_word(value, &ev) &&
		 q->a.n_events < EV__COUNT)
		q->a.events[q->a.n_events++] = value;
	else if (strcmp(key, "limit") == 0 &&
		 num_parse_u64(value, 1, STORE_PAGE_MAX, &n))
		q->a.limit = (unsigned)n;
	else if (strcmp(key, "cursor") == 0 &&
		 sscanf(value, "%lld.%lld%n", &at, &row, &used) == 2 &&
		 value[used] == '\0')
		q->a.cursor_at = at, q->a.cursor_row = row;
	else
		q->bad = true;
	return MHD_YES;
}

static enum MHD_Result
history(struct http *h, struct MHD_Connection *c)
{
	struct history_args q = {
		.a = {.since = INT64_MIN,
		      .until = INT64_MAX,
		      .limit = 100,
		      .cursor_at = INT64_MAX,
		      .cursor_row = INT64_MAX},
	};
	char *body = NULL;
	size_t len = 0;

	if (h->p->store == NULL)
		return error(c, MHD_HTTP_NOT_FOUND,
			     "no history: serve --db FILE keeps one");
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, history_arg, &q);
	if (q.bad)
		return error(c, MHD_HTTP_BAD_REQUEST,
			     "parameters: host, since, until (90m, 7d or RFC "
			     "3339), event (repeatable), limit (1 to 1000), "
			     "cursor (the last page's next)");
	if (store_page(h->p->store, &q.a, &body, &len) < 0)
		return error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "the history cannot be read now");
	return reply(c, MHD_HTTP_OK, "application/json", body, len);
}

/* The HTTP server's own counters. */
static void
http_metrics(FILE *f, const struct http *h)
{
	struct http_stats s;

	http_stats(h, &s);
	metrics_counter(f, "beacon_http_events_dropped_total",
			"Event-stream clients dropped for reading too slowly.",
			s.events_dropped);
	metrics_counter(
		f, "beacon_http_requests_late_total",
		"Connections closed: their request was not in within its "
		"deadline.",
		s.requests_late);
	metrics_counter(f, "beacon_http_password_checks_total",
			"Passwords checked (Argon2id, in the checker process).",
			s.auth_checks);
	metrics_counter(f, "beacon_http_password_failures_total",
			"Checked passwords that were wrong.", s.auth_failures);
	metrics_head(
		f, "beacon_http_password_refused_total", "counter",
		"Password checks refused: too many failures from the address "
		"(429), too many checks at once (503).");
	fprintf(f,
		"beacon_http_password_refused_total{reason=\"throttled\"} "
		"%llu\n"
		"beacon_http_password_refused_total{reason=\"busy\"} %llu\n",
		(unsigned long long)s.auth_throttled,
		(unsigned long long)s.auth_busy);
	metrics_counter(f, "beacon_http_password_checker_restarts_total",
			"Password checker processes that died or hung.",
			s.auth_restarts);
	if (h->p->store != NULL)
		store_metrics(f, h->p->store);
	if (h->p->notify != NULL)
		notify_metrics(f, h->p->notify);
}

static enum MHD_Result
metrics(struct http *h, struct MHD_Connection *c)
{
	struct probe_view v = probe_view(h->p);
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	int rc;

	if (f == NULL)
		return MHD_NO;
	rc = output_metrics(f, &v, clock_mono_ms());
	if (rc == 0)
		http_metrics(f, h);
	if (fclose(f) != 0 || rc < 0) {
		free(body);
		return error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory");
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		     body, len);
}

/* Queue an event stream's answer (and let go of R). */
static enum MHD_Result
stream_queue(struct MHD_Connection *c, struct MHD_Response *r)
{
	enum MHD_Result ok;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ok = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
events(struct http *h, struct MHD_Connection *c)
{
	struct sse *s = calloc(1, sizeof(*s));
	struct MHD_Response *r;
	struct probe_view view = probe_view(h->p);
	struct probe_config cfg = *h->p->c;
	char *doc = NULL;
	size_t len = 0, shown;
	FILE *f;
	int rc;

	if (s == NULL)
		return MHD_NO;
	cfg.n_statuses = cfg.n_tags = 0;
	cfg.all = true; /* the page keeps hosts that left or expired */
	cfg.auth = NULL;
	view.c = &cfg;
	f = open_memstream(&doc, &len);
	rc = f == NULL ? -1
		       : output_document(f, &view, clock_mono_ms(), &shown);
	if (f == NULL || fclose(f) != 0 || rc < 0) {
		free(doc);
		free(s);
		return error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory");
	}
	s->c = c;
	s->limit = 2 * len + 64 + SSE_BACKLOG;
	if (!sse_put(s, "snapshot", doc, len)) {
		free(doc);
		free(s->buf);
		free(s);
		return error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory");
	}
	free(doc);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
					      sse_read, s, sse_free);
	if (r == NULL) {
		free(s->buf);
		free(s);
		return MHD_NO;
	}
	s->next = h->clients;
	if (s->next != NULL)
		s->next->prev = &s->next;
	s->prev = &h->clients;
	h->clients = s;
	return stream_queue(c, r);
}

static ssize_t
no_events(void *ctx, uint64_t pos, char *out, size_t max)
{
	(void)ctx;
	(void)pos;
	(void)out;
	(void)max;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/* HEAD /v1/events: GET's head, and no stream behind it. */
static enum MHD_Result
events_head(struct MHD_Connection *c)
{
	struct MHD_Response *r = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 1024, no_events, NULL, NULL);

	return r == NULL ? MHD_NO : stream_queue(c, r);
}

static enum MHD_Result
refuse(struct MHD_Connection *c)
{
	static const char body[] = "{\"error\":\"authentication "
				   "required\",\"status\":401}\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(
		sizeof(body) - 1, (void *)(uintptr_t)body,
		MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ok = MHD_queue_basic_auth_fail_response(c, "beacon-probe", r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
page(struct MHD_Connection *c)
{
	/* Not const: MHD's buffer argument is not, though it only reads a
	   PERSISTENT one. */
	struct MHD_Response *r = MHD_create_response_from_buffer(
		page_html_len, page_html, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/html; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", PAGE_CSP);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	ok = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

/* ---- connections: the deadline of a request's header (and body) ---- */

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

static void
conn_unwait(struct http *h, struct conn *k)
{
	if (k == NULL || k->prev == NULL)
		return;
	if (k->next != NULL)
		k->next->prev = k->prev;
	else
		h->waiting_tail = k->prev;
	*k->prev = k->next;
	k->next = NULL;
	k->prev = NULL;
}

/* Its next request is due within the deadline from NOW. */
static void
conn_wait(struct http *h, struct conn *k, uint64_t now)
{
	conn_unwait(h, k);
	k->since = now;
	k->prev = h->waiting_tail;
	*h->waiting_tail = k;
	h->waiting_tail = &k->next;
}

static void
conn_notify(void *ctx, struct MHD_Connection *c, void **socket_ctx,
	    enum MHD_ConnectionNotificationCode what)
{
	struct http *h = ctx;
	struct conn *k = *socket_ctx;
	const union MHD_ConnectionInfo *ci;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		conn_unwait(h, k);
		free(k);
		*socket_ctx = NULL;
		h->n_conns--;
		return;
	}
	h->n_conns++;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		(void)shutdown(ci->connect_fd, SHUT_RDWR); /* no deadline: no */
		return;
	}
	k->fd = ci->connect_fd;
	conn_wait(h, k, clock_mono_ms());
	*socket_ctx = k;
}

static uint64_t
header_ms(const struct http *h)
{
	return h->n_conns * 4 > HTTP_CONNECTIONS * 3 ? HTTP_HEADER_BUSY_MS
						     : HTTP_HEADER_MS;
}

/* Connections whose request is late are shut: MHD sees them end. */
static void
sweep(struct http *h, uint64_t now)
{
	uint64_t limit = header_ms(h);
	struct conn *k;

	while ((k = h->waiting) != NULL && k->since + limit <= now) {
		conn_unwait(h, k);
		(void)shutdown(k->fd, SHUT_RDWR);
		h->st.requests_late++;
	}
}

/* MHD's decoding of the URL, refusing "%00": it would cut a value. */
static size_t
unescape(void *ctx, struct MHD_Connection *c, char *s)
{
	size_t n = MHD_http_unescape(s);
	struct conn *k;

	(void)ctx;
	if (strlen(s) != n && (k = conn_of(c)) != NULL)
		k->nul = true;
	return n;
}

/* ---- requests ---- */

static void
completed(void *ctx, struct MHD_Connection *c, void **state,
	  enum MHD_RequestTerminationCode why)
{
	struct http *h = ctx;
	struct conn *k = conn_of(c);

	(void)why;
	free(*state);
	*state = NULL;
	if (k != NULL) {
		k->nul = false;
		conn_wait(h, k, clock_mono_ms()); /* the next one, if any */
	}
}

/* A body no more than HTTP_BODY_MAX, announced (chunks are refused: a
   first answer can only be queued before the body or after all of it). */
static bool
body_fits(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t n;

	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
	    NULL)
		return false;
	return cl == NULL || num_parse_u64(cl, 0, HTTP_BODY_MAX, &n);
}

/* The header is in: refuse now what cannot be answered later. */
static enum MHD_Result
begin(struct MHD_Connection *c, void **state)
{
	struct req *r = calloc(1, sizeof(*r));
	struct conn *k = conn_of(c);

	if (r == NULL)
		return MHD_NO;
	r->c = c;
	*state = r;
	if (k != NULL && k->nul)
		return error(c, MHD_HTTP_BAD_REQUEST, "%00 in the URL");
	if (!body_fits(c))
		return error(c, MHD_HTTP_CONTENT_TOO_LARGE,
			     "a body of at most 4096 bytes, with a "
			     "Content-Length");
	return MHD_YES;
}

static void
auth_done(void *ctx, void *waiter, enum auth_verdict v)
{
	struct req *r = waiter;

	(void)ctx;
	r->auth = v;
	MHD_resume_connection(r->c);
}

/* The password's verdict: at once, or the request suspended until the
   checker's answer (then MHD calls again). *go when it may proceed. */
static enum MHD_Result
authorize(struct http *h, struct req *r, bool *go)
{
	*go = false;
	if (!r->checked) {
		char *pass = NULL,
		     *user = MHD_basic_auth_get_username_password(r->c, &pass);
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		r->checked = true;
		r->auth = httpauth_check(h->auth, user, pass,
					 ci != NULL ? ci->client_addr : NULL,
					 clock_mono_ms(), r, &r->retry_s);
		if (pass != NULL)
			sodium_memzero(pass, strlen(pass));
		MHD_free(user);
		MHD_free(pass);
		if (r->auth == AUTH_WAIT)
			MHD_suspend_connection(r->c);
	}
	switch (r->auth) {
	case AUTH_OK:
		*go = true;
		return MHD_YES;
	case AUTH_WAIT:
		return MHD_YES;
	case AUTH_BAD:
		return refuse(r->c);
	case AUTH_BUSY:
		return error_retry(r->c, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "busy checking passwords", r->retry_s);
	case AUTH_THROTTLED:
		break;
	}
	return error_retry(r->c, MHD_HTTP_TOO_MANY_REQUESTS,
			   "too many wrong passwords from this address",
			   r->retry_s);
}

static enum MHD_Result
route(struct http *h, struct MHD_Connection *c, const char *url,
      const char *method)
{
	bool head = strcmp(method, "HEAD") == 0;

	if (strcmp(method, "GET") != 0 && !head)
		return error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD");
	if (strcmp(url, "/") == 0)
		return page(c);
	if (strcmp(url, "/healthz") == 0)
		return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8",
			     strdup("ok\n"), 3);
	if (strcmp(url, "/v1/hosts") == 0)
		return hosts(h, c);
	if (strncmp(url, "/v1/hosts/", 10) == 0 && url[10] != '\0')
		return one_host(h, c, url + 10);
	if (strcmp(url, "/metrics") == 0)
		return metrics(h, c);
	if (strcmp(url, "/v1/history") == 0)
		return history(h, c);
	if (strcmp(url, "/v1/events") == 0)
		return head ? events_head(c) : events(h, c);
	return error(c, MHD_HTTP_NOT_FOUND, "not found");
}

static enum MHD_Result
handle(void *ctx, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_len,
       void **state)
{
	struct http *h = ctx;
	struct req *r = *state;
	enum MHD_Result ok;
	bool go = true;

	(void)version;
	(void)upload;
	/* The first call is for the header alone; the body, if any, comes
	   in the next ones, and is let go (begin() bounded it). */
	if (r == NULL)
		return begin(c, state);
	if (*upload_len != 0) {
		r->body += *upload_len;
		*upload_len = 0;
		return r->body <= HTTP_BODY_MAX ? MHD_YES : MHD_NO;
	}
	conn_unwait(h, conn_of(c)); /* all in: no deadline now */
	if (h->auth != NULL && strcmp(url, "/healthz") != 0) {
		ok = authorize(h, r, &go);
		if (!go)
			return ok;
	}
	return route(h, c, url, method);
}

/* One daemon on SS, in the probe's loop (its epoll descriptor in h->ep). */
static struct MHD_Daemon *
start_daemon(struct http *h, const struct sockaddr_storage *ss)
{
	/* No MHD_USE_ERROR_LOG: a dropped stream would log a line each;
	   what matters is logged here. */
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			 (h->cert != NULL ? MHD_USE_TLS : 0) |
			 (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
		(const struct sockaddr *)ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)HTTP_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)HTTP_PER_ADDRESS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)HTTP_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_IDLE_S, MHD_OPTION_NOTIFY_CONNECTION,
		conn_notify, h, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
		h->cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
		h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = {.events = EPOLLIN};

	if (d == NULL)
		return NULL;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL ||
	    (ev.data.fd = info->epoll_fd,
	     epoll_ctl(h->ep, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0)) {
		MHD_stop_daemon(d);
		return NULL;
	}
	return d;
}

struct http *
http_start(struct probe *p)
{
	const struct probe_config *c = p->c;
	struct http *h = calloc(1, sizeof(*h));
	size_t i;

	if (h == NULL || sodium_init() < 0) {
		free(h);
		return NULL;
	}
	h->p = p;
	h->waiting_tail = &h->waiting;
	if ((h->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_warn("--http: epoll");
		free(h);
		return NULL;
	}
	if ((c->http_auth != NULL &&
	     (h->auth = httpauth_load(c->http_auth, h->ep)) == NULL) ||
	    (c->http_cert != NULL &&
	     ((h->cert = smallfile_read(c->http_cert, "--http-cert", false)) ==
		      NULL ||
	      (h->key = smallfile_read(c->http_key, "--http-key", true)) ==
		      NULL)))
		goto fail;
	for (i = 0; i < c->n_http; i++) {
		struct sockaddr_storage ss;
		unsigned len;

		if (http_parse_addr(c->http[i], &ss, &len) < 0) {
			log_warnx("--http %s: not ADDR:PORT", c->http[i]);
			goto fail;
		}
		if ((h->d[i] = start_daemon(h, &ss)) == NULL) {
			log_warn("--http %s: cannot listen", c->http[i]);
			goto fail;
		}
		h->n++;
		if (loopback(&ss) || h->auth != NULL)
			log_info("HTTP%s on %s%s", h->cert ? "S" : "",
				 c->http[i],
				 h->auth != NULL ? ", with a password" : "");
		else
			log_info(
				"HTTP%s on %s: the table is readable by anyone "
				"who can reach it (--http-auth FILE asks for a "
				"password)",
				h->cert ? "S" : "", c->http[i]);
	}
	return h;
fail:
	http_stop(h);
	return NULL;
}

void
http_stop(struct http *h)
{
	struct sse *s;
	size_t i;

	if (h == NULL)
		return;
	/* Suspended requests and streams must be resumed before their
	   daemon stops. */
	httpauth_cancel(h->auth, auth_done, h);
	for (s = h->clients; s != NULL; s = s->next) {
		s->dropped = true;
		sse_wake(s);
	}
	for (i = 0; i < h->n; i++)
		MHD_run(h->d[i]);
	for (i = 0; i < h->n; i++)
		MHD_stop_daemon(h->d[i]);
	httpauth_free(h->auth);
	if (h->key != NULL) {
		sodium_memzero(h->key, strlen(h->key));
		free(h->key);
	}
	free(h->cert);
	close(h->ep);
	free(h);
}

/* One descriptor: an epoll set of the daemons' own and the checker's. */
size_t
http_fds(const struct http *h, int *fds, size_t max)
{
	if (h == NULL || max == 0)
		return 0;
	fds[0] = h->ep;
	return 1;
}

static uint64_t
until(uint64_t due, uint64_t now)
{
	return due == UINT64_MAX ? UINT64_MAX : due > now ? due - now : 0;
}

uint64_t
http_timeout_ms(const struct http *h)
{
	MHD_UNSIGNED_LONG_LONG t, min = UINT64_MAX;
	uint64_t now = clock_mono_ms(), v;
	size_t i;

	if (h == NULL)
		return UINT64_MAX;
	for (i = 0; i < h->n; i++)
		if (MHD_get_timeout(h->d[i], &t) == MHD_YES && t < min)
			min = t;
	if (h->waiting != NULL &&
	    (v = until(h->waiting->since + header_ms(h), now)) < min)
		min = v;
	if ((v = until(httpauth_due(h->auth), now)) < min)
		min = v;
	return min;
}

void
http_run(struct http *h)
{
	uint64_t now = clock_mono_ms();
	size_t i;

	if (h == NULL)
		return;
	h->pending = false;
	httpauth_run(h->auth, now, auth_done, h);
	sweep(h, now);
	for (i = 0; i < h->n; i++)
		MHD_run(h->d[i]);
}

void
http_stats(const struct http *h, struct http_stats *s)
{
	struct httpauth_stats a;

	memset(s, 0, sizeof(*s));
	if (h == NULL)
		return;
	*s = h->st;
	httpauth_stats(h->auth, &a);
	s->auth_checks = a.checks;
	s->auth_failures = a.failures;
	s->auth_throttled = a.throttled;
	s->auth_busy = a.busy;
	s->auth_restarts = a.checker_restarts;
}
