/* SPDX-License-Identifier: MIT */
/*
 * beacon-probe history: the events serve --db kept, oldest first, as a
 * text table or (--json) the watch --events objects, one a line. It opens
 * the database read-only, so it reads while serve writes (WAL), and takes
 * no lock that could stall serve.
 */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "probe.h"
#include "store.h"
#include "text.h"

sqlite3 *
history_open(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	const char *why = NULL;
	int v = -1;

	if (lstat(path, &sb) < 0)
		why = "no such file (serve --db FILE makes it)";
	else if (!S_ISREG(sb.st_mode))
		why = "not a regular file";
	else if (sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW,
				 NULL) != SQLITE_OK ||
		 sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
			 SQLITE_OK ||
		 sqlite3_step(st) != SQLITE_ROW)
		why = db != NULL ? sqlite3_errmsg(db) : "out of memory";
	else if ((v = sqlite3_column_int(st, 0)) == 0)
		why = "not a beacon history (serve --db FILE makes one)";
	else if (v > STORE_VERSION)
		why = "its schema is newer than this beacon-probe's: upgrade "
		      "beacon-probe";
	if (why != NULL)
		log_warnx("--db %s: %s", path, why);
	sqlite3_finalize(st);
	if (why == NULL)
		return db;
	sqlite3_close(db);
	return NULL;
}

sqlite3_stmt *
history_query(sqlite3 *db, bool host, size_t n_events, bool paged)
{
	char sql[1024];
	size_t n, i;
	sqlite3_stmt *st = NULL;

	n = (size_t)snprintf(sql, sizeof(sql),
			     "SELECT at, event, host, line, rowid FROM events "
			     "WHERE at >= ?1 AND at <= ?2%s",
			     !host ? ""
				   : " AND (host = ?3 OR host IN (SELECT id "
				     "FROM hosts WHERE hostname = ?3 COLLATE "
				     "NOCASE))");
	for (i = 0; i < n_events; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s?%zu",
				      i == 0 ? " AND event IN (" : ", ", i + 4);
	n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s",
			      n_events > 0 ? ")" : "");
	snprintf(sql + n, sizeof(sql) - n, "%s",
		 paged ? " AND (at < ?20 OR (at = ?20 AND rowid < ?21)) ORDER "
			 "BY at DESC, rowid DESC LIMIT ?22"
		       : " ORDER BY at, rowid");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

static int
bind_filters(sqlite3_stmt *st, const struct probe_config *c)
{
	int64_t now = clock_wall_ms(), since = INT64_MIN, until = INT64_MAX;
	size_t i;

	if ((c->since != NULL && text_when(c->since, now, &since) < 0) ||
	    (c->until != NULL && text_when(c->until, now, &until) < 0))
		return -1;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	if (c->host != NULL)
		sqlite3_bind_text(st, 3, c->host, -1, SQLITE_STATIC);
	for (i = 0; i < c->n_events_wanted; i++)
		sqlite3_bind_text(st, (int)i + 4, c->events_wanted[i], -1,
				  SQLITE_STATIC);
	return 0;
}

/* A string field of the event's object, escaped for a terminal. */
static const char *
field(const cJSON *o, const char *name, char *out, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	const char *s = cJSON_IsString(v) ? v->valuestring : "";

	text_escape(s, strlen(s), out, cap);
	return out;
}

static void
print_text(sqlite3_stmt *st, bool header)
{
	char t[TEXT_RFC3339_LEN + 1], name[256], id[200], reason[512];
	const char *line = (const char *)sqlite3_column_text(st, 3);
	cJSON *o = cJSON_Parse(line != NULL ? line : "");

	if (header)
		printf("%-24s  %-8s  %-20s  %-20s  %s\n", "TIME", "EVENT",
		       "HOSTNAME", "ID", "REASON");
	text_rfc3339(sqlite3_column_int64(st, 0), t);
	field(o, "id", id, sizeof(id));
	printf("%-24s  %-8s  %-20s  %-20s  %s\n", t,
	       (const char *)sqlite3_column_text(st, 1),
	       field(o, "hostname", name, sizeof(name)),
	       id[0] != '\0' ? id : "?",
	       field(o, "reason", reason, sizeof(reason)));
	cJSON_Delete(o);
}

int
history_run(const struct probe_config *c)
{
	sqlite3 *db = history_open(c->db);
	sqlite3_stmt *st;
	size_t shown = 0;
	int rc;

	if (db == NULL)
		return 1;
	st = history_query(db, c->host != NULL, c->n_events_wanted, false);
	if (st == NULL || bind_filters(st, c) < 0) {
		log_warnx("--db %s: %s", c->db, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		sqlite3_close(db);
		return 1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->json)
			printf("%s\n",
			       (const char *)sqlite3_column_text(st, 3));
		else
			print_text(st, shown == 0 && (c->header || isatty(1)));
		shown++;
	}
	if (rc != SQLITE_DONE)
		log_warnx("--db %s: %s", c->db, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (fflush(stdout) != 0) {
		log_warn("cannot write the history");
		return 1;
	}
	return rc != SQLITE_DONE ? 1 : shown == 0 ? EXIT_NONE : 0;
}
