/* SPDX-License-Identifier: MIT */
/*
 * beacon-probe diff OLD.json NEW.json: what changed between two tables
 * (exports, or list --json): hosts new, gone (live in OLD, not in NEW),
 * back (not live in OLD, live in NEW), and changed (hostname, addresses,
 * OS, tags). The files are checked as the file options are (smallfile:
 * regular, bounded), their text escaped before a terminal sees it. diff
 * --db FILE --since WHEN asks the history instead (from_db).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "keymap.h"
#include "log.h"
#include "probe.h"
#include "smallfile.h"
#include "store.h"
#include "text.h"

#define DIFF_FILE_MAX (1u << 30) /* a million hosts' export is ~800 MB */

/* The table document in path, or NULL (said). */
static cJSON *
load(const char *path)
{
	struct stat st;
	char *buf = NULL;
	ssize_t got = 0;
	cJSON *doc;
	int fd = smallfile_open(path, &st);

	if (fd == -2) {
		log_warnx("%s: %s, not a table", path,
			  smallfile_kind(st.st_mode));
		return NULL;
	}
	if (fd < 0 || st.st_size > DIFF_FILE_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    (got = read(fd, buf, (size_t)st.st_size)) != st.st_size) {
		if (fd >= 0 && st.st_size > DIFF_FILE_MAX)
			errno = EFBIG;
		else if (got >= 0 && fd >= 0 && buf != NULL)
			errno = EIO; /* it changed while read */
		log_warn("%s", path);
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	close(fd);
	doc = cJSON_ParseWithLength(buf, (size_t)got);
	free(buf);
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "hosts"))) {
		log_warnx(
			"%s: not a beacon table (list --json, serve --export)",
			path);
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

static const char *
str(const cJSON *h, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static bool
live(const cJSON *h)
{
	const char *s = h != NULL ? str(h, "status") : "";

	return strcmp(s, "alive") == 0 || strcmp(s, "stale") == 0;
}

/* Whether a and b hold the same items, in any order (small arrays). */
static bool
same_set(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;
	int n = 0;

	cJSON_ArrayForEach (x, a) {
		bool found = false;
		cJSON_ArrayForEach (y, b)
			found = found || cJSON_Compare(x, y, true);
		if (!found)
			return false;
		n++;
	}
	return n == cJSON_GetArraySize(b);
}

/* The fields that changed, as {"field": {"old": ..., "new": ...}}. */
static cJSON *
changes(const cJSON *o, const cJSON *n, bool known_only)
{
	static const char *const fields[] = {"hostname", "os", "os_version",
					     "addresses", "tags"};
	cJSON *c = cJSON_CreateObject();
	size_t i;

	for (i = 0; c != NULL && i < sizeof(fields) / sizeof(*fields); i++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, fields[i]),
			    *b = cJSON_GetObjectItemCaseSensitive(n, fields[i]);
		bool same = cJSON_IsArray(a) && cJSON_IsArray(b)
				    ? same_set(a, b)
				    : cJSON_Compare(a, b, true) ||
					      (a == NULL && b == NULL);
		cJSON *pair;

		if (same || (known_only && a == NULL))
			continue; /* an event does not carry OS nor tags */
		pair = cJSON_AddObjectToObject(c, fields[i]);
		cJSON_AddItemToObject(pair, "old",
				      a ? cJSON_Duplicate(a, true)
					: cJSON_CreateNull());
		cJSON_AddItemToObject(pair, "new",
				      b ? cJSON_Duplicate(b, true)
					: cJSON_CreateNull());
	}
	return c;
}

static void
add(cJSON *list, const cJSON *h, const char *status, cJSON *changed)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "id", str(h, "id"));
	cJSON_AddStringToObject(e, "hostname", str(h, "hostname"));
	cJSON_AddStringToObject(e, "status", status);
	if (changed != NULL)
		cJSON_AddItemToObject(e, "changes", changed);
	cJSON_AddItemToArray(list, e);
}

/* The four lists, in NEW's order then OLD's for the gone ones. */
static cJSON *
compare(cJSON *old, cJSON *new, struct keymap *ids, bool known_only)
{
	cJSON *r = cJSON_CreateObject(), *hs;
	cJSON *l_new = cJSON_AddArrayToObject(r, "new"),
	      *l_gone = cJSON_AddArrayToObject(r, "gone"),
	      *l_back = cJSON_AddArrayToObject(r, "back"),
	      *l_changed = cJSON_AddArrayToObject(r, "changed");
	cJSON *h;
	int err = 0;

	if (l_changed == NULL)
		return r;
	hs = cJSON_GetObjectItemCaseSensitive(old, "hosts");
	cJSON_ArrayForEach (h, hs)
		keymap_put(ids, str(h, "id"), h, &err);
	hs = cJSON_GetObjectItemCaseSensitive(new, "hosts");
	cJSON_ArrayForEach (h, hs) {
		const cJSON *o = keymap_del(ids, str(h, "id"));
		cJSON *c;

		if (o == NULL) {
			add(l_new, h, str(h, "status"), NULL);
		} else if (live(o) && !live(h)) {
			add(l_gone, h, str(h, "status"), NULL);
		} else if (!live(o) && live(h)) {
			add(l_back, h, str(h, "status"), NULL);
		} else if ((c = changes(o, h, known_only)) != NULL &&
			   c->child != NULL) {
			add(l_changed, h, str(h, "status"), c);
		} else {
			cJSON_Delete(c);
		}
	}
	hs = cJSON_GetObjectItemCaseSensitive(old, "hosts");
	cJSON_ArrayForEach (h, hs)
		if (keymap_get(ids, str(h, "id")) != NULL && live(h))
			add(l_gone, h, "absent", NULL);
	return err == 0 ? r : (cJSON_Delete(r), NULL);
}

static void
print_value(const cJSON *v, char *out, size_t cap)
{
	char *s = v != NULL ? cJSON_PrintUnformatted(v) : NULL;

	text_escape(s != NULL ? s : "null", s != NULL ? strlen(s) : 4, out,
		    cap);
	free(s);
}

static void
print_text(const cJSON *r)
{
	static const char *const lists[] = {"new", "gone", "back", "changed"};
	char name[256], id[200], a[1024], b[1024];
	const cJSON *e, *c;
	size_t i;

	for (i = 0; i < 4; i++) {
		cJSON_ArrayForEach (
			e, cJSON_GetObjectItemCaseSensitive(r, lists[i])) {
			const char *s;
			s = str(e, "hostname");
			text_escape(s, strlen(s), name, sizeof(name));
			s = str(e, "id");
			text_escape(s, strlen(s), id, sizeof(id));
			printf("%-8s %-20s %-20s %s\n", lists[i], name, id,
			       str(e, "status"));
			cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(
						       e, "changes")) {
				print_value(cJSON_GetObjectItem(c, "old"), a,
					    sizeof(a));
				print_value(cJSON_GetObjectItem(c, "new"), b,
					    sizeof(b));
				printf("         %s: %s -> %s\n", c->string, a,
				       b);
			}
		}
	}
}

/* Each row's text (column 0 of st) parsed into doc's hosts. */
static int
rows_into(sqlite3_stmt *st, cJSON *doc)
{
	cJSON *hosts = cJSON_AddArrayToObject(doc, "hosts"), *h;
	int rc;

	while (hosts != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((h = cJSON_ParseWithLength(
			     (const char *)sqlite3_column_text(st, 0),
			     (size_t)sqlite3_column_bytes(st, 0))) != NULL)
			cJSON_AddItemToArray(hosts, h);
	return hosts != NULL && rc == SQLITE_DONE ? 0 : -1;
}

/*
 * diff --db FILE --since WHEN: OLD is each host as its last event at or
 * before WHEN left it (id, hostname, status, addresses: what an event
 * carries; a host with none then is new), NEW each host's row as serve
 * last wrote it (a live one's at most a minute old).
 */
static int
from_db(const struct probe_config *c, cJSON **old, cJSON **new)
{
	static const char *const sql[2] = {
		"SELECT line FROM events WHERE rowid IN (SELECT max(rowid) "
		"FROM events WHERE at <= ?1 GROUP BY host)",
		"SELECT row FROM hosts"};
	sqlite3 *db = history_open(c->db);
	sqlite3_stmt *st = NULL;
	int64_t since;
	int i, rc = 0;

	if (db == NULL)
		return -1;
	(void)text_when(c->since, clock_wall_ms(), &since); /* checked */
	*old = cJSON_CreateObject();
	*new = cJSON_CreateObject();
	for (i = 0; i < 2 && rc == 0; i++) {
		rc = sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK
			     ? -1
			     : 0;
		if (rc == 0)
			sqlite3_bind_int64(st, 1, since);
		if (rc == 0 && rows_into(st, i == 0 ? *old : *new) < 0)
			rc = -1;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc < 0)
		log_warnx("--db %s: %s", c->db, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

int
diff_run(const struct probe_config *c)
{
	cJSON *old = NULL, *new = NULL;
	cJSON *r = NULL;
	struct keymap ids;
	int rc = 1, n = 0;
	size_t i;

	if (c->db != NULL) {
		if (from_db(c, &old, &new) < 0) {
			cJSON_Delete(old);
			cJSON_Delete(new);
			return 1;
		}
	} else if ((old = load(c->diff_old)) != NULL) {
		new = load(c->diff_new);
	}
	keymap_init(&ids);
	if (new != NULL && (r = compare(old, new, &ids, c->db != NULL)) == NULL)
		log_warnx("out of memory");
	for (i = 0; r != NULL && i < 4; i++)
		n += cJSON_GetArraySize(cJSON_GetArrayItem(r, (int)i));
	if (r != NULL && c->json) {
		char *s = cJSON_PrintUnformatted(r);
		if (s != NULL)
			puts(s);
		free(s);
	} else if (r != NULL) {
		print_text(r);
	}
	if (r != NULL)
		rc = fflush(stdout) != 0 ? (log_warn("cannot write"), 1)
		     : n == 0            ? EXIT_NONE
					 : 0;
	keymap_free(&ids);
	cJSON_Delete(r);
	cJSON_Delete(old);
	cJSON_Delete(new);
	return rc;
}
