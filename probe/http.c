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
 * Unknown paths are 404, other methods 405; every answer has a
 * Content-Type and Cache-Control: no-store. Connections are bounded (256
 * in all, 32 per client address), and so is a request's memory (16 KiB of
 * headers) and its time (30 s of silence).
 *
 * --http-cert and --http-key: TLS (libmicrohttpd's GnuTLS). --http-auth:
 * HTTP basic authentication against lines "USER HASH" (HASH from
 * beacon-probe --hash-password: libsodium's Argon2id string, checked by
 * crypto_pwhash_str_verify). A good pair is remembered (a keyed BLAKE2b of
 * it), so a page's many requests do not each pay Argon2id's deliberate
 * tens of milliseconds in the probe's loop. /healthz stays open.
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
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "log.h"
#include "probe.h"
#include "smallfile.h"

#define HTTP_CONNECTIONS 256
#define HTTP_PER_ADDRESS 32
#define HTTP_MEMORY      (16 * 1024)
#define HTTP_IDLE_S      30
#define HTTP_MAX_DAEMONS PROBE_LIST_MAX
#define HTTP_FILTERS_MAX PROBE_LIST_MAX

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

#define AUTH_USERS 32
#define AUTH_CACHE 16

struct http {
	struct probe *p;
	char *cert, *key; /* PEM, read at start */
	struct {
		char user[64];
		char hash[crypto_pwhash_STRBYTES];
	} users[AUTH_USERS];
	size_t n_users;
	uint8_t cache_key[crypto_generichash_KEYBYTES];
	uint8_t cache[AUTH_CACHE][16];
	size_t cache_next;
	struct MHD_Daemon *d[HTTP_MAX_DAEMONS];
	size_t n;
	struct sse *clients;
	size_t n_clients;
	uint64_t sse_dropped;
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
			h->sse_dropped++;
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
reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
      size_t len)
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
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* A JSON error body: {"error": "..."} (the text is ours, never the
   request's). */
static enum MHD_Result
error(struct MHD_Connection *c, unsigned status, const char *what)
{
	char *body = NULL;
	int n = asprintf(&body, "{\"error\":\"%s\",\"status\":%u}\n", what,
			 status);

	if (n < 0)
		return MHD_NO;
	return reply(c, status, "application/json", body, (size_t)n);
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
		    (strcmp(value, "alive") != 0 &&
		     strcmp(value, "stale") != 0 &&
		     strcmp(value, "left") != 0 &&
		     strcmp(value, "expired") != 0 &&
		     strcmp(value, "conflict") != 0))
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
	struct probe view = *h->p;
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
	char *body = NULL;
	size_t len = 0;
	int found =
		output_one_host_text(h->p, id, clock_mono_ms(), &body, &len);

	if (found < 0)
		return error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory");
	if (found == 0)
		return error(c, MHD_HTTP_NOT_FOUND, "no such host");
	return reply(c, MHD_HTTP_OK, "application/json", body, len);
}

static enum MHD_Result
metrics(struct http *h, struct MHD_Connection *c)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	int rc;

	if (f == NULL)
		return MHD_NO;
	rc = output_metrics(f, h->p, clock_mono_ms());
	if (fclose(f) != 0 || rc < 0) {
		free(body);
		return error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory");
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		     body, len);
}

static enum MHD_Result
events(struct http *h, struct MHD_Connection *c)
{
	struct sse *s = calloc(1, sizeof(*s));
	struct MHD_Response *r;
	struct probe view = *h->p;
	struct probe_config cfg = *h->p->c;
	char *doc = NULL;
	size_t len = 0, shown;
	enum MHD_Result ok;
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
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ok = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

/* Basic authentication: a user of the file and its password. */
static bool
authorized(struct http *h, struct MHD_Connection *c)
{
	char *pass = NULL,
	     *user = MHD_basic_auth_get_username_password(c, &pass);
	uint8_t tag[16];
	bool ok = false;
	size_t i;

	if (user == NULL || pass == NULL)
		goto out;
	crypto_generichash_state st;
	crypto_generichash_init(&st, h->cache_key, sizeof(h->cache_key),
				sizeof(tag));
	crypto_generichash_update(&st, (const uint8_t *)user, strlen(user) + 1);
	crypto_generichash_update(&st, (const uint8_t *)pass, strlen(pass));
	crypto_generichash_final(&st, tag, sizeof(tag));
	for (i = 0; i < AUTH_CACHE && !ok; i++)
		ok = sodium_memcmp(h->cache[i], tag, sizeof(tag)) == 0;
	for (i = 0; i < h->n_users && !ok; i++)
		if (strcmp(h->users[i].user, user) == 0 &&
		    crypto_pwhash_str_verify(h->users[i].hash, pass,
					     strlen(pass)) == 0) {
			memcpy(h->cache[h->cache_next], tag, sizeof(tag));
			h->cache_next = (h->cache_next + 1) % AUTH_CACHE;
			ok = true;
		}
out:
	if (pass != NULL)
		sodium_memzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return ok;
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

static enum MHD_Result
handle(void *ctx, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_len,
       void **state)
{
	struct http *h = ctx;
	static int first;

	(void)version;
	(void)upload;
	/* The first call is for the headers alone: answer on the second,
	   and refuse a body (none of ours takes one). */
	if (*state == NULL) {
		*state = &first;
		return MHD_YES;
	}
	if (*upload_len != 0)
		return error(c, MHD_HTTP_CONTENT_TOO_LARGE, "no body here");
	if (h->n_users > 0 && strcmp(url, "/healthz") != 0 && !authorized(h, c))
		return refuse(c);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
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
	if (strcmp(url, "/v1/events") == 0 && strcmp(method, "GET") == 0)
		return events(h, c);
	return error(c, MHD_HTTP_NOT_FOUND, "not found");
}

static int
load_users(struct http *h, const char *path)
{
	char *text = smallfile_read(path, "--http-auth", true), *line,
	     *save = NULL;
	size_t n = 0;

	if (text == NULL)
		return -1;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char user[64], hash[crypto_pwhash_STRBYTES];
		n++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "%63s %127s", user, hash) != 2 ||
		    strncmp(hash, "$argon2", 7) != 0 ||
		    h->n_users == AUTH_USERS) {
			log_warnx("--http-auth %s, line %zu: not \"USER HASH\" "
				  "(make the hash with beacon-probe "
				  "--hash-password; at most %d users)",
				  path, n, AUTH_USERS);
			sodium_memzero(text, strlen(text));
			free(text);
			return -1;
		}
		snprintf(h->users[h->n_users].user, sizeof(h->users[0].user),
			 "%s", user);
		snprintf(h->users[h->n_users].hash, sizeof(h->users[0].hash),
			 "%s", hash);
		h->n_users++;
	}
	sodium_memzero(text, strlen(text));
	free(text);
	if (h->n_users == 0) {
		log_warnx("--http-auth %s: no user in it", path);
		return -1;
	}
	randombytes_buf(h->cache_key, sizeof(h->cache_key));
	return 0;
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
	if ((c->http_auth != NULL && load_users(h, c->http_auth) < 0) ||
	    (c->http_cert != NULL &&
	     ((h->cert = smallfile_read(c->http_cert, "--http-cert", false)) ==
		      NULL ||
	      (h->key = smallfile_read(c->http_key, "--http-key", true)) ==
		      NULL)))
		goto fail;
	for (i = 0; i < c->n_http; i++) {
		struct sockaddr_storage ss;
		unsigned len;
		/* No MHD_USE_ERROR_LOG: a dropped stream would log a line
		   each; what matters is logged here. */
		unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
				 (h->cert != NULL ? MHD_USE_TLS : 0);

		if (http_parse_addr(c->http[i], &ss, &len) < 0) {
			log_warnx("--http %s: not ADDR:PORT", c->http[i]);
			goto fail;
		}
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		h->d[i] = MHD_start_daemon(
			flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
			(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
			(unsigned)HTTP_CONNECTIONS,
			MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			(unsigned)HTTP_PER_ADDRESS,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,
			h->cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT
					: MHD_OPTION_END,
			h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key,
			MHD_OPTION_END);
		if (h->d[i] == NULL) {
			log_warn("--http %s: cannot listen", c->http[i]);
			goto fail;
		}
		h->n++;
		if (loopback(&ss) || h->n_users > 0)
			log_info("HTTP%s on %s%s", h->cert ? "S" : "",
				 c->http[i],
				 h->n_users > 0 ? ", with a password" : "");
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
	/* Suspended streams must be resumed before their daemon stops. */
	for (s = h->clients; s != NULL; s = s->next) {
		s->dropped = true;
		sse_wake(s);
	}
	for (i = 0; i < h->n; i++)
		MHD_run(h->d[i]);
	for (i = 0; i < h->n; i++)
		MHD_stop_daemon(h->d[i]);
	if (h->key != NULL) {
		sodium_memzero(h->key, strlen(h->key));
		free(h->key);
	}
	free(h->cert);
	sodium_memzero(h->users, sizeof(h->users));
	free(h);
}

size_t
http_fds(const struct http *h, int *fds, size_t max)
{
	size_t i, n = 0;

	for (i = 0; h != NULL && i < h->n && n < max; i++) {
		const union MHD_DaemonInfo *info =
			MHD_get_daemon_info(h->d[i], MHD_DAEMON_INFO_EPOLL_FD);
		if (info != NULL)
			fds[n++] = info->epoll_fd;
	}
	return n;
}

uint64_t
http_timeout_ms(const struct http *h)
{
	MHD_UNSIGNED_LONG_LONG t, min = UINT64_MAX;
	size_t i;

	for (i = 0; h != NULL && i < h->n; i++)
		if (MHD_get_timeout(h->d[i], &t) == MHD_YES && t < min)
			min = t;
	return min;
}

void
http_run(struct http *h)
{
	size_t i;

	if (h == NULL)
		return;
	h->pending = false;
	for (i = 0; i < h->n; i++)
		MHD_run(h->d[i]);
}
