/* SPDX-License-Identifier: MIT */
/*
 * What the probe shows: the text table (every string from the network
 * escaped, so no beacon can move the cursor), the JSON document of
 * schema/table.schema.json (one shape whatever the data: arrays stay
 * arrays, every counter is always there), the atomic export, and events.
 *
 * Times are kept on the monotonic clock and turned into RFC 3339 UTC only
 * here, so a wall-clock step never makes an age negative.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "probe.h"
#include "text.h"

#define SCHEMA_VERSION 1

static void
rfc3339(uint64_t mono_ms, uint64_t now_ms, char *out, size_t len)
{
	struct timespec ts;
	char t[TEXT_RFC3339_LEN + 1];

	clock_gettime(CLOCK_REALTIME, &ts);
	text_rfc3339((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
			     (int64_t)(now_ms - mono_ms),
		     t);
	snprintf(out, len, "%s", t);
}

bool
output_match(const struct probe_config *c, const struct host *h)
{
	size_t i, j;
	bool any = c->n_statuses == 0;

	for (i = 0; i < c->n_statuses; i++)
		if (strcmp(c->statuses[i], host_status_name(h->status)) == 0 ||
		    (strcmp(c->statuses[i], "conflict") == 0 && h->conflict))
			any = true;
	if (!any)
		return false;
	if (c->n_statuses == 0 && !c->all && h->status == HOST_EXPIRED)
		return false;
	if (c->auth != NULL &&
	    strcmp(c->auth, h->verified ? "verified" : "unsigned") != 0)
		return false;
	for (i = 0; i < c->n_tags; i++) {
		for (j = 0; j < h->n_tags; j++)
			if (strcmp(host_tag(h, j)->key, c->tags[i].key) == 0 &&
			    strcmp(host_tag(h, j)->value, c->tags[i].value) ==
				    0)
				break;
		if (j == h->n_tags)
			return false;
	}
	return true;
}

/* A browse host shown on its own: the status filters apply; it has no
   tags, so a tag filter leaves it out. */
static bool
browse_match(const struct probe_config *c, const struct browse_host *b)
{
	size_t i;
	bool any = c->n_statuses == 0;

	for (i = 0; i < c->n_statuses; i++)
		if (strcmp(c->statuses[i], host_status_name(b->status)) == 0)
			any = true;
	if (!any || c->n_tags > 0 ||
	    (c->auth != NULL && strcmp(c->auth, "unsigned") != 0))
		return false;
	return !(c->n_statuses == 0 && !c->all && b->status == HOST_EXPIRED);
}

/* Rows sort by hostname, ASCII case folded, then beacon hosts by id
   before browse hosts. The first 16 folded bytes are packed big-endian
   into two integers, so most comparisons of a big table (100,000 rows:
   1.7 million) are two integer compares instead of two strcasecmp calls
   on rows scattered in memory. Hostnames hold no NUL, so the zero padding
   sorts a shorter name first, as strcasecmp does. */
struct sort_key {
	uint64_t k[2];
	struct output_row r;
};

static const char *
row_name(const struct output_row *r)
{
	return r->h != NULL ? r->h->hostname : r->b->name;
}

static void
pack_name(const char *name, uint64_t k[2])
{
	size_t i;

	k[0] = k[1] = 0;
	for (i = 0; i < 16 && name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		k[i / 8] |= (uint64_t)c << (8 * (7 - i % 8));
	}
}

static int
by_name(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	int c;

	if (x->k[0] != y->k[0])
		return x->k[0] < y->k[0] ? -1 : 1;
	if (x->k[1] != y->k[1])
		return x->k[1] < y->k[1] ? -1 : 1;
	/* Equal to 16 bytes: the rest decides, if both go on. */
	c = (x->k[1] & 0xff) != 0
		    ? strcasecmp(row_name(&x->r) + 16, row_name(&y->r) + 16)
		    : 0;
	if (c != 0)
		return c;
	if ((x->r.h == NULL) != (y->r.h == NULL))
		return x->r.h != NULL ? -1 : 1;
	return x->r.h != NULL ? strcmp(x->r.h->id, y->r.h->id)
			      : strcmp(x->r.b->name, y->r.b->name);
}

/* Whether a browse host is this beacon host: its NetBIOS name (the first
   label of the hostname, upper-cased, 15 characters or the 16 Samba 4.9
   sends) and one of the host's addresses. */
static const struct browse_host *browse_twin(const struct browse_tab *t,
					     const struct host *h);

const struct browse_host *
output_browse_twin(const struct probe *p, const struct host *h)
{
	if (p->browse == NULL || browse_tab_count(p->browse) == 0)
		return NULL;
	return browse_twin(p->browse, h);
}

static const struct browse_host *
browse_twin(const struct browse_tab *t, const struct host *h)
{
	const char *addr[3 * BEACON_MAX_ADDRS];
	char name[BROWSE_NAME_MAX + 1];
	const struct browse_host *b = NULL;
	size_t na, i, len;

	for (len = 15; len <= 16 && b == NULL; len++) {
		browse_netbios_name(h->hostname, len, name);
		if (strlen(name) == len || len == 15)
			b = browse_tab_find(t, name);
	}
	if (b == NULL)
		return NULL;
	na = output_addresses(h, addr, 3 * BEACON_MAX_ADDRS);
	for (i = 0; i < na; i++)
		if (strcmp(addr[i], b->addr) == 0)
			return b;
	return NULL;
}

/* The rows to show, sorted by hostname; caller frees. */
struct output_row *
output_rows(const struct probe *p, size_t *n)
{
	size_t total = hosttab_count(p->tab), nb = 0, i;
	const struct browse_tab *bt = p->browse;
	struct output_row *r;
	struct sort_key *k;
	bool *merged = NULL;

	if (bt != NULL && browse_tab_count(bt) > 0) {
		nb = browse_tab_count(bt);
		merged = calloc(nb, sizeof(*merged));
		if (merged == NULL)
			return NULL;
	}
	r = calloc(total + nb ? total + nb : 1, sizeof(*r));
	k = calloc(total + nb ? total + nb : 1, sizeof(*k));
	*n = 0;
	if (r == NULL || k == NULL) {
		free(r);
		free(k);
		free(merged);
		return NULL;
	}
	for (i = 0; i < total; i++) {
		const struct host *h = hosttab_at(p->tab, i);
		/* The names are in each row's own allocation: ask for one a
		   few rows ahead, the rows themselves are contiguous. */
		if (i + 8 < total)
			__builtin_prefetch(hosttab_at(p->tab, i + 8)->hostname);
		if (!output_match(p->c, h))
			continue;
		k[*n].r.h = h;
		if (merged != NULL) {
			k[*n].r.b = browse_twin(bt, h);
			if (k[*n].r.b != NULL)
				merged[k[*n].r.b - browse_tab_at(bt, 0)] = true;
		}
		pack_name(h->hostname, k[(*n)++].k);
	}
	for (i = 0; i < nb; i++) {
		const struct browse_host *b = browse_tab_at(bt, i);
		if (merged[i] || !browse_match(p->c, b))
			continue;
		k[*n].r.b = b;
		pack_name(b->name, k[(*n)++].k);
	}
	qsort(k, *n, sizeof(*k), by_name);
	for (i = 0; i < *n; i++)
		r[i] = k[i].r;
	free(k);
	free(merged);
	return r;
}

/* Claimed addresses, then the sources seen, each once. */
size_t
output_addresses(const struct host *h, const char **out, size_t max)
{
	size_t n = 0, i, j;

	for (i = 0; i < h->n_ipv4 && n < max; i++)
		out[n++] = host_ipv4(h, i);
	for (i = 0; i < h->n_ipv6 && n < max; i++)
		out[n++] = host_ipv6(h, i);
	for (i = 0; i < h->n_seen && n < max; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(out[j], host_seen_at(h, i)->addr) == 0)
				break;
		if (j == n)
			out[n++] = host_seen_at(h, i)->addr;
	}
	return n;
}

static uint64_t
uptime_now(const struct host *h, uint64_t now)
{
	return h->uptime_s + (now - h->uptime_at_ms) / 1000;
}

static void
duration(uint64_t s, char *out, size_t len)
{
	if (s >= 86400)
		snprintf(out, len, "%llud%02lluh",
			 (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, len, "%lluh%02llum",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, len, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(out, len, "%llus", (unsigned long long)s);
}

/* One cell, escaped, cut to width with "..." when longer (never inside a
   character or an escape). */
static void
cell(char *out, size_t len, const char *s, size_t width)
{
	size_t n = text_escape(s, strlen(s), out, len), cut, i, end;

	if (n <= width || width <= 3 || width >= len)
		return;
	cut = text_cut(out, width - 3);
	/* Not inside an escape (\\, \xNN, \u{...}) either. */
	for (i = 0; i < cut; i = end) {
		const char *close;
		end = i + 1;
		if (out[i] != '\\')
			continue;
		close = out[i + 1] == 'u' ? strchr(out + i, '}') : NULL;
		end = out[i + 1] == 'x' ? i + 4
		      : close != NULL   ? (size_t)(close - out) + 1
					: i + 2;
		if (end > cut) {
			cut = i;
			break;
		}
	}
	strcpy(out + cut, "...");
}

/* A tag for the table: key=value, the value in double quotes (a quote
   inside doubled) when it holds a comma, an equals sign, a quote or a
   space, or is empty, so that "x,role=db" never reads as two tags. */
static void
tag_text(const struct beacon_tag *t, char *out, size_t len)
{
	const char *v = t->value;
	size_t used, i;

	if (v[0] != '\0' && strpbrk(v, ",=\" ") == NULL) {
		snprintf(out, len, "%s=%s", t->key, v);
		return;
	}
	used = (size_t)snprintf(out, len, "%s=\"", t->key);
	for (i = 0; v[i] != '\0' && used + 3 < len; i++) {
		if (v[i] == '"')
			out[used++] = '"';
		out[used++] = v[i];
	}
	out[used++] = '"';
	out[used] = '\0';
}

#define COLS 7

static void
row(FILE *f, const char *const *cols, const size_t *w)
{
	size_t c;

	for (c = 0; c + 1 < COLS; c++)
		fprintf(f, "%-*s  ", (int)w[c], cols[c]);
	fprintf(f, "%s\n", cols[COLS - 1]);
}

/* A browse host's row: NetBIOS name, "browse" for an id, its address,
   status, last announcement, and in TAGS what it announced. */
static void
browse_cells(char cells[COLS][200], const struct browse_host *b, uint64_t now,
	     const size_t *cap)
{
	const char *roles[32];
	char buf[512], t[64], tag[2 * BEACON_MAX_TAG_VALUE + 40];
	struct beacon_tag bt;
	size_t nr = browse_roles(b->server_type, roles, 32), k, used;

	cell(cells[0], 200, b->name, cap[0]);
	cell(cells[1], 200, "browse", cap[1]);
	cell(cells[2], 200, b->addr, cap[2]);
	cell(cells[3], 200, host_status_name(b->status), cap[3]);
	snprintf(t, sizeof(t), "%.1fs", (double)(now - b->last_seen_ms) / 1000);
	cell(cells[4], 200, t, cap[4]);
	cell(cells[5], 200, "-", cap[5]);
	used = (size_t)snprintf(buf, sizeof(buf), "os=%u.%u", b->os_major,
				b->os_minor);
	if (b->workgroup[0] != '\0')
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
					 ",workgroup=%s", b->workgroup);
	for (k = 0; k < nr && used < sizeof(buf); k++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
					 k ? "+" : ",roles=", roles[k]);
	if (b->comment[0] != '\0' && used < sizeof(buf)) {
		snprintf(bt.key, sizeof(bt.key), "comment");
		snprintf(bt.value, sizeof(bt.value), "%s", b->comment);
		tag_text(&bt, tag, sizeof(tag));
		snprintf(buf + used, sizeof(buf) - used, ",%s", tag);
	}
	cell(cells[6], 200, buf, cap[6]);
}

/* A host's cells in the text table. */
static void
host_cells(char cells[COLS][200], const struct output_row *r,
	   const struct probe *p, uint64_t now, const size_t *cap)
{
	const struct host *h = r->h;
	const char *addr[3 * BEACON_MAX_ADDRS];
	char buf[512], t[64];
	size_t na = output_addresses(h, addr, 3 * BEACON_MAX_ADDRS), k, used;

	cell(cells[0], 200, h->hostname, cap[0]);
	snprintf(t, sizeof(t), "%.8s", h->id);
	cell(cells[1], 200, t, cap[1]);
	for (k = used = 0, buf[0] = '\0'; k < na; k++)
		used += (size_t)snprintf(
			buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0,
			"%s%s", k ? "," : "", addr[k]);
	cell(cells[2], 200, buf, cap[2]);
	/* With a keyring, both states show: the odd one out is seen
	   (without, every host is unsigned: nothing to say). */
	snprintf(t, sizeof(t), "%s%s%s", host_status_name(h->status),
		 h->conflict ? ",conflict" : "",
		 p->keys == NULL ? ""
		 : h->verified   ? ",verified"
				 : ",unsigned");
	cell(cells[3], 200, t, cap[3]);
	snprintf(t, sizeof(t), "%.1fs", (double)(now - h->last_seen_ms) / 1000);
	cell(cells[4], 200, t, cap[4]);
	if (h->has_uptime && h->status != HOST_LEFT &&
	    h->status != HOST_EXPIRED)
		duration(uptime_now(h, now), t, sizeof(t));
	else
		strcpy(t, "-");
	cell(cells[5], 200, t, cap[5]);
	for (k = used = 0, buf[0] = '\0'; k < h->n_tags; k++) {
		char tag[2 * BEACON_MAX_TAG_VALUE + 40];
		tag_text(host_tag(h, k), tag, sizeof(tag));
		used += (size_t)snprintf(
			buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0,
			"%s%s", k ? "," : "", tag);
	}
	if (r->b != NULL) /* the same machine announces over browse */
		used += (size_t)snprintf(
			buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0,
			"%snetbios=%s", used ? "," : "", r->b->name);
	cell(cells[6], 200, buf, cap[6]);
}

int
output_table(FILE *f, const struct probe *p, uint64_t now, size_t *shown)
{
	static const char *const head[COLS] = {
		"HOSTNAME",  "ID",     "ADDRESSES", "STATUS",
		"LAST SEEN", "UPTIME", "TAGS"};
	static const size_t cap[COLS] = {32, 8, 48, 16, 10, 8, 160};
	size_t n = 0, i, c, w[COLS];
	struct output_row *r = output_rows(p, &n);
	char(*cells)[COLS][200];

	*shown = 0;
	cells = r != NULL ? calloc(n ? n : 1, sizeof(*cells)) : NULL;
	if (cells == NULL) {
		free(r);
		errno = ENOMEM;
		return -1;
	}
	for (c = 0; c < COLS; c++)
		w[c] = strlen(head[c]);
	for (i = 0; i < n; i++) {
		if (r[i].h == NULL)
			browse_cells(cells[i], r[i].b, now, cap);
		else
			host_cells(cells[i], &r[i], p, now, cap);
		for (c = 0; c < COLS; c++)
			if (strlen(cells[i][c]) > w[c])
				w[c] = strlen(cells[i][c]);
	}
	if (p->c->header || isatty(fileno(f)))
		row(f, head, w);
	for (i = 0; i < n; i++) {
		const char *line[COLS];
		for (c = 0; c < COLS; c++)
			line[c] = cells[i][c];
		row(f, line, w);
	}
	free(cells);
	free(r);
	*shown = n;
	return ferror(f) ? -1 : 0;
}

/* What a path that exists is, for the error message. */
static const char *
kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISLNK(m)  ? "a symbolic link"
			     : "not a regular file";
}

/* The temporary file's template beside path: ".NAME.XXXXXX". */
static int
tmp_template(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash != NULL && slash[1] == '\0')
		return -1;
	n = snprintf(out, len, "%.*s.%s.XXXXXX",
		     slash ? (int)(slash - path + 1) : 0, path,
		     slash ? slash + 1 : path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
output_export_check(const char *path, char *err, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (path[0] == '\0' || tmp_template(path, tmp, sizeof(tmp)) < 0) {
		snprintf(err, len,
			 "the export path is not a usable file name (empty, "
			 "ending in /, or over %d bytes with its temporary "
			 "name): %.100s%s",
			 PATH_MAX, path, strlen(path) > 100 ? "..." : "");
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* Renaming over it would replace it: a device such as
		   /dev/null, a FIFO, a directory. Never. */
		snprintf(err, len,
			 "%s is %s: the export replaces its file at every "
			 "write, so it must be a regular file or not exist "
			 "yet; give a file path",
			 path, kind(st.st_mode));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s",
		 slash ? (int)(slash - path) + (slash == path) : 1,
		 slash ? path : ".");
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, len, "%s: the directory %s does not exist", path,
			 dir);
		return -1;
	}
	return 0;
}

/*
 * The rename makes every export atomic: a reader sees the old document or
 * the new one, whole. Only the last one, at exit, is also made durable
 * before its rename, because it is the one that stays: the probe is often
 * stopped for a shutdown. A periodic export is replaced within seconds,
 * and its fsync would stall the receive loop on the disk (40-60 ms for
 * 100,000 hosts here, seconds on a busy disk). After a crash a periodic
 * export may be the previous one; ext4, Debian's default, also writes a
 * file renamed over another before the rename is committed
 * (auto_da_alloc), so it is not left empty there.
 */
int
output_export(const struct probe *p, const char *path, uint64_t now,
	      bool durable)
{
	char tmp[PATH_MAX];
	struct stat st;
	size_t shown;
	FILE *f = NULL;
	int fd, saved;

	if (tmp_template(path, tmp, sizeof(tmp)) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Beside the target (rename() is atomic only within one file
	   system), under a name nobody can guess or pre-create: mkostemp
	   opens with O_CREAT|O_EXCL, which also refuses a symbolic link. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) < 0 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	if (output_document(f, p, now, &shown) < 0 || fflush(f) != 0 ||
	    (durable && fsync(fd) < 0))
		goto fail;
	fd = -1;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	/* Checked at start too; again here in case the path became a
	   device or a directory since. */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EEXIST;
		goto fail;
	}
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (f != NULL)
		fclose(f); /* closes fd too */
	else if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

char *
output_event(enum host_event ev, const struct host *h, const char *reason,
	     uint64_t now)
{
	const char *addr[3 * BEACON_MAX_ADDRS];
	cJSON *o = cJSON_CreateObject(), *a;
	char t[64], *line;
	size_t i, na = output_addresses(h, addr, 3 * BEACON_MAX_ADDRS);

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "event", host_event_name(ev));
	rfc3339(now, now, t, sizeof(t));
	cJSON_AddStringToObject(o, "time", t);
	cJSON_AddStringToObject(o, "id", h->id);
	cJSON_AddStringToObject(o, "hostname", h->hostname);
	cJSON_AddStringToObject(o, "kind", "beacon");
	cJSON_AddStringToObject(o, "status", host_status_name(h->status));
	cJSON_AddBoolToObject(o, "conflict", h->conflict);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddStringToObject(o, "instance", h->instance);
	a = cJSON_AddArrayToObject(o, "addresses");
	for (i = 0; a && i < na; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(addr[i]));
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

char *
output_browse_event(const struct probe *p, enum host_event ev,
		    const struct browse_host *h, uint64_t now)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char t[64], id[32], *line;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "event", host_event_name(ev));
	rfc3339(now, now, t, sizeof(t));
	cJSON_AddStringToObject(o, "time", t);
	snprintf(id, sizeof(id), "netbios:%s", h->name);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "hostname", h->name);
	cJSON_AddStringToObject(o, "kind", "browse");
	cJSON_AddStringToObject(o, "status", host_status_name(h->status));
	cJSON_AddBoolToObject(o, "conflict", false);
	if (ev == EV_EXPIRE)
		snprintf(t, sizeof(t), "no announcement for %llu s (3 periods)",
			 (unsigned long long)(browse_ttl_ms(p->browse, h) /
					      1000));
	else
		snprintf(t, sizeof(t), "%s",
			 ev == EV_LEAVE ? "announced it is shutting down"
					: "announced");
	cJSON_AddStringToObject(o, "reason", t);
	cJSON_AddStringToObject(o, "instance", "");
	a = cJSON_AddArrayToObject(o, "addresses");
	if (a != NULL)
		cJSON_AddItemToArray(a, cJSON_CreateString(h->addr));
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}
