/* SPDX-License-Identifier: MIT */
/* The browse decoder's edges and the browse table (time as a parameter):
   3 periodicities of life (at least 1 minute, at most a third of max_ttl),
   server type 0 is left and the next announcement brings the host back,
   names case-insensitive and printable, workgroups from domain
   announcements, a full table that drops one-shot names but never a live
   host heard twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "browsetab.h"

static const uint64_t key[2] = {3, 4};
static char events[256]; /* "join PC1,expire PC1,..." */

static void
record(void *ctx, enum host_event ev, const struct browse_host *h, uint64_t now)
{
	(void)ctx;
	(void)now;
	snprintf(events + strlen(events), sizeof(events) - strlen(events),
		 "%s%s %s", events[0] ? "," : "", host_event_name(ev), h->name);
}

static struct browse_msg
ann(uint8_t opcode, const char *name, uint32_t period_ms, uint32_t type)
{
	struct browse_msg m;

	memset(&m, 0, sizeof(m));
	m.opcode = opcode;
	snprintf(m.name, sizeof(m.name), "%s", name);
	m.periodicity_ms = period_ms;
	m.server_type = type;
	m.os_major = 10;
	m.browser_major = 15;
	m.browser_minor = 1;
	m.signature = BROWSE_SIGNATURE;
	return m;
}

static enum browse_err
roundtrip(const struct browse_msg *in, struct browse_msg *out)
{
	uint8_t buf[128];
	size_t len;

	assert_int_equal(browse_encode(in, buf, sizeof(buf), &len), BROWSE_OK);
	return browse_decode(buf, len, out);
}

static void
test_decode_edges(void **state)
{
	static const uint8_t request[] = {2, 0, 'P', 'C', 0};
	static const uint8_t unterminated[] = {2, 0, 'P', 'C'};
	uint8_t buf[128], field[40];
	struct browse_msg m = ann(BROWSE_HOST_ANNOUNCEMENT, "PC1", 60000, 3), d;
	size_t len, i;

	(void)state;
	assert_int_equal(browse_decode(buf, 0, &d), BROWSE_E_EMPTY);
	buf[0] = 0x42;
	assert_int_equal(browse_decode(buf, 1, &d), BROWSE_E_OPCODE);
	assert_int_equal(browse_decode(request, sizeof(request), &d),
			 BROWSE_OK);
	assert_string_equal(d.name, "PC");
	assert_int_equal(browse_decode(unterminated, sizeof(unterminated), &d),
			 BROWSE_E_NAME);
	/* Every cut of an announcement is refused, with its reason. */
	strcpy(m.comment, "hello");
	assert_int_equal(browse_encode(&m, buf, sizeof(buf), &len), BROWSE_OK);
	for (i = 1; i < len; i++)
		assert_int_equal(browse_decode(buf, i, &d),
				 i < 32 ? BROWSE_E_TRUNCATED
					: BROWSE_E_COMMENT);
	assert_int_equal(browse_decode(buf, len, &d), BROWSE_OK);
	assert_string_equal(d.comment, "hello");
	/* A name that fills its 16 bytes (Samba 4.9) is taken whole. */
	memcpy(buf + 6, "SIXTEENCHARNAMES", 16);
	assert_int_equal(browse_decode(buf, len, &d), BROWSE_OK);
	assert_string_equal(d.name, "SIXTEENCHARNAMES");
	/* A control character in a name is refused; an empty name too. */
	memcpy(field, buf, len);
	field[7] = 0x01;
	assert_int_equal(browse_decode(field, len, &d), BROWSE_E_NAME);
	memset(buf + 6, 0, 16);
	assert_int_equal(browse_decode(buf, len, &d), BROWSE_E_NAME);
	/* A long comment is cut, not refused. */
	memset(m.comment, 'c', sizeof(m.comment) - 1);
	assert_int_equal(roundtrip(&m, &d), BROWSE_OK);
	assert_int_equal(strlen(d.comment), BROWSE_COMMENT_MAX);
	/* The encoder writes what Windows does: 15 characters at most. */
	strcpy(m.name, "SIXTEENCHARNAMES");
	assert_int_equal(browse_encode(&m, buf, sizeof(buf), &len),
			 BROWSE_E_NAME);
	assert_int_equal(browse_encode(&m, buf, 10, &len), BROWSE_E_NAME);
	strcpy(m.name, "PC1");
	assert_int_equal(browse_encode(&m, buf, 10, &len), BROWSE_E_NOSPACE);
}

static void
test_roles(void **state)
{
	const char *r[32];

	(void)state;
	assert_int_equal(browse_roles(0x00011003, r, 32), 4);
	assert_string_equal(r[0], "workstation");
	assert_string_equal(r[1], "server");
	assert_string_equal(r[2], "nt_workstation");
	assert_string_equal(r[3], "potential_browser");
	assert_int_equal(browse_roles(0x80001000, r, 32), 2);
	assert_string_equal(r[1], "domain_enum");
	assert_int_equal(browse_roles(0xffffffff, r, 2), 2);
}

static void
test_life(void **state)
{
	struct browse_tab *t = browse_tab_new(16, 3600000, key, record, NULL);
	struct browse_msg m =
		ann(BROWSE_HOST_ANNOUNCEMENT, "pc1", 720000, 0x00011003);
	const struct browse_host *h;
	uint64_t next;

	(void)state;
	assert_non_null(t);
	assert_int_equal(browse_tab_update(t, &m, "WORKGROUP", "198.18.0.5",
					   "lab0", 1000),
			 BR_NEW);
	h = browse_tab_find(t, "Pc1");
	assert_non_null(h);
	assert_string_equal(h->name, "PC1");
	assert_string_equal(h->workgroup, "WORKGROUP");
	assert_int_equal(browse_ttl_ms(t, h), 3 * 720000);
	/* Alive until 3 periodicities have passed, then expired. */
	assert_int_equal(browse_tab_tick(t, 1000 + 3 * 720000 - 1, &next), 0);
	assert_int_equal(next, 1000 + 3 * 720000);
	assert_int_equal(h->status, HOST_ALIVE);
	assert_int_equal(browse_tab_tick(t, 1000 + 3 * 720000, &next), 1);
	assert_int_equal(h->status, HOST_EXPIRED);
	assert_int_equal(next, UINT64_MAX);
	/* Back with its next announcement; a type of 0 is a goodbye. */
	assert_int_equal(
		browse_tab_update(t, &m, "", "198.18.0.5", "lab0", 3000000),
		BR_NEW);
	assert_string_equal(h->workgroup, "WORKGROUP");
	m.server_type = 0;
	assert_int_equal(
		browse_tab_update(t, &m, "", "198.18.0.5", "lab0", 3000001),
		BR_LEFT);
	assert_int_equal(h->status, HOST_LEFT);
	assert_int_equal(browse_tab_tick(t, 9000000, &next), 0);
	assert_int_equal(h->status, HOST_LEFT);
	/* A goodbye from a name never seen makes no row. */
	m = ann(BROWSE_HOST_ANNOUNCEMENT, "GHOST", 60000, 0);
	assert_int_equal(browse_tab_update(t, &m, "", "198.18.0.6", "lab0", 1),
			 BR_LEFT);
	assert_null(browse_tab_find(t, "GHOST"));
	assert_string_equal(events, "join PC1,expire PC1,join PC1,leave PC1");
	browse_tab_free(t);
}

/* Rows from the history: back without an event; one alive at the last
   stop is stale until its next announcement (an update, not a join), and
   expires 3 periodicities after the restore, not after its last seen. */
static void
test_restore(void **state)
{
	struct browse_tab *t = browse_tab_new(16, 3600000, key, record, NULL);
	struct browse_msg m =
		ann(BROWSE_HOST_ANNOUNCEMENT, "PC1", 720000, 0x00011003);
	struct browse_host row = {.name = "PC1",
				  .status = HOST_ALIVE,
				  .periodicity_ms = 720000,
				  .first_seen_ms = 10,
				  .last_seen_ms = 500000,
				  .announcements = 7};
	const uint64_t now = 1000000;
	uint64_t next;

	(void)state;
	events[0] = '\0';
	assert_int_equal(browse_tab_restore(t, &row, now), 0);
	assert_int_equal(browse_tab_restore(t, &row, now), -1);
	strcpy(row.name, "PC2");
	assert_int_equal(browse_tab_restore(t, &row, now), 0);
	strcpy(row.name, "PC3");
	row.status = HOST_EXPIRED;
	assert_int_equal(browse_tab_restore(t, &row, now), 0);
	assert_string_equal(events, "");
	assert_int_equal(browse_tab_find(t, "PC1")->status, HOST_STALE);
	assert_int_equal(browse_tab_find(t, "PC1")->first_seen_ms, 10);
	assert_int_equal(browse_tab_find(t, "PC3")->status, HOST_EXPIRED);
	assert_int_equal(browse_tab_update(t, &m, "WORKGROUP", "198.18.0.5",
					   "lab0", now + 5),
			 BR_UPDATED);
	assert_int_equal(browse_tab_find(t, "PC1")->status, HOST_ALIVE);
	assert_int_equal(browse_tab_tick(t, now + 3 * 720000 - 1, &next), 0);
	assert_int_equal(browse_tab_find(t, "PC2")->status, HOST_STALE);
	assert_int_equal(browse_tab_tick(t, now + 3 * 720000, &next), 1);
	assert_int_equal(browse_tab_find(t, "PC2")->status, HOST_EXPIRED);
	assert_string_equal(events, "update PC1,expire PC2");
	browse_tab_free(t);
}

static void
test_periodicity_bounds(void **state)
{
	struct browse_tab *t = browse_tab_new(16, 600000, key, NULL, NULL);
	struct browse_msg m = ann(BROWSE_HOST_ANNOUNCEMENT, "FAST", 0, 3);

	(void)state;
	browse_tab_update(t, &m, "", "198.18.0.5", "lab0", 0);
	/* At least a minute: 0 would expire it at once. */
	assert_int_equal(browse_ttl_ms(t, browse_tab_find(t, "FAST")),
			 3 * BROWSE_MIN_PERIOD_MS);
	m = ann(BROWSE_HOST_ANNOUNCEMENT, "SLOW", 0xffffffffu, 3);
	browse_tab_update(t, &m, "", "198.18.0.6", "lab0", 0);
	/* At most max_ttl: a forged day-long period does not hold a row. */
	assert_int_equal(browse_ttl_ms(t, browse_tab_find(t, "SLOW")), 600000);
	browse_tab_free(t);
}

static void
test_printable_and_groups(void **state)
{
	struct browse_tab *t = browse_tab_new(16, 0, key, NULL, NULL);
	struct browse_msg m =
		ann(BROWSE_HOST_ANNOUNCEMENT, "K\xc4SE", 60000, 3);
	const struct browse_host *h;

	(void)state;
	strcpy(m.comment, "a\x1b[2Jb\xe9");
	browse_tab_update(t, &m, "GRUPPE", "198.18.0.5", "lab0", 0);
	h = browse_tab_at(t, 0);
	assert_string_equal(h->name, "K?SE");
	assert_string_equal(h->comment, "a?[2Jb?");
	m = ann(BROWSE_DOMAIN_ANNOUNCEMENT, "gruppe", 720000, 0x80001000);
	strcpy(m.comment, "MASTER");
	assert_int_equal(browse_tab_update(t, &m, "", "198.18.0.7", "lab0", 5),
			 BR_GROUP);
	assert_int_equal(browse_tab_count(t), 1); /* not a host */
	assert_int_equal(browse_tab_groups(t), 1);
	assert_string_equal(browse_tab_group(t, 0)->name, "GRUPPE");
	assert_string_equal(browse_tab_group(t, 0)->master, "MASTER");
	m.opcode = BROWSE_REQUEST_ELECTION;
	assert_int_equal(browse_tab_update(t, &m, "", "198.18.0.7", "lab0", 5),
			 BR_IGNORED);
	browse_tab_free(t);
}

static void
test_full(void **state)
{
	struct browse_tab *t = browse_tab_new(4, 0, key, NULL, NULL);
	struct browse_msg m;
	char name[16];
	int i;

	(void)state;
	/* Four real hosts, each heard twice. */
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "REAL%d", i % 4);
		m = ann(BROWSE_HOST_ANNOUNCEMENT, name, 60000, 3);
		browse_tab_update(t, &m, "", "198.18.0.5", "lab0", (uint64_t)i);
	}
	m = ann(BROWSE_HOST_ANNOUNCEMENT, "FORGED", 60000, 3);
	assert_int_equal(browse_tab_update(t, &m, "", "198.18.0.9", "lab0", 9),
			 BR_FULL);
	assert_int_equal(browse_tab_refused(t), 1);
	/* One real host expires: its row makes room. */
	assert_int_equal(browse_tab_tick(t, 180004, &(uint64_t){0}), 1);
	assert_int_equal(
		browse_tab_update(t, &m, "", "198.18.0.9", "lab0", 180004),
		BR_NEW);
	assert_null(browse_tab_find(t, "REAL0"));
	/* A one-shot name gives way to the next one; the live hosts heard
	   twice stay. */
	m = ann(BROWSE_HOST_ANNOUNCEMENT, "FORGED2", 60000, 3);
	assert_int_equal(
		browse_tab_update(t, &m, "", "198.18.0.9", "lab0", 180005),
		BR_NEW);
	assert_null(browse_tab_find(t, "FORGED"));
	for (i = 1; i < 4; i++) {
		snprintf(name, sizeof(name), "real%d", i);
		assert_non_null(browse_tab_find(t, name));
	}
	browse_tab_free(t);
}

static void
test_netbios_name(void **state)
{
	char out[BROWSE_NAME_MAX + 1];

	(void)state;
	browse_netbios_name("web-01.corp.example", 15, out);
	assert_string_equal(out, "WEB-01");
	browse_netbios_name("sanji-LIFEBOOK-LH531", 15, out);
	assert_string_equal(out, "SANJI-LIFEBOOK-");
	browse_netbios_name("sanji-LIFEBOOK-LH531", 16, out);
	assert_string_equal(out, "SANJI-LIFEBOOK-L");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_edges),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_life),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_periodicity_bounds),
		cmocka_unit_test(test_printable_and_groups),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_netbios_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
