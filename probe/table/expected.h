/* SPDX-License-Identifier: MIT */
/*
 * The hosts that should always be up (serve --expect FILE, NetAlertX's
 * "always connected"): the list and how each name is found in the table.
 * Pure: the loop reads the file (expect.c) and judges the entries.
 *
 * One name a line: a host id, a hostname (any case) or netbios:NAME; '#'
 * starts a comment; blank lines are skipped. An expected host that is not
 * live (alive, or stale: still being decided) is missing.
 */
#ifndef BEACON_PROBE_EXPECTED_H
#define BEACON_PROBE_EXPECTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "browsetab.h"
#include "hosttab.h"

#define EXPECT_MAX      4096 /* names in a file at most */
#define EXPECT_NAME_MAX BEACON_MAX_HOSTNAME

enum expect_state {
	EXPECT_WAITING, /* never heard, the start-up queries not yet done */
	EXPECT_UP,
	EXPECT_MISSING,
};

struct expect_entry {
	char name[EXPECT_NAME_MAX + 1];
	unsigned line;
	uint8_t state; /* enum expect_state */
};

struct expect_list {
	struct expect_entry *e;
	size_t n;
};

/* text (a file's) into l, every entry waiting. 0, or -1 with why ("line
   N: ..."; l empty). */
int expect_parse(const char *text, struct expect_list *l, char *why,
		 size_t len);
void expect_list_free(struct expect_list *l);
/* The row a name is (a live one first): *h or *b set, or neither. */
void expect_row(const struct hosttab *t, const struct browse_tab *bt,
		const char *name, const struct host **h,
		const struct browse_host **b);
/* Whether the row found is live (none: not). */
bool expect_live(const struct host *h, const struct browse_host *b);
const char *expect_state_name(enum expect_state s);

#endif
