/* SPDX-License-Identifier: MIT */
/* The expected hosts' list (expected.h). */
#include "expected.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const state_names[] = {"waiting", "up", "missing"};

const char *
expect_state_name(enum expect_state s)
{
	return s <= EXPECT_MISSING ? state_names[s] : "unknown";
}

/* A name as a file may give it: printable ASCII, no space, not too long. */
static bool
valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > EXPECT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

static bool
listed(const struct expect_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->e[i].name, name) == 0)
			return true;
	return false;
}

/* One line (without its newline): a name added, or nothing. -1 with
   why. */
static int
parse_line(struct expect_list *l, const char *s, size_t n, unsigned line,
	   char *why, size_t len)
{
	const char *hash = memchr(s, '#', n);
	struct expect_entry *e;

	if (hash != NULL)
		n = (size_t)(hash - s);
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0)
		return 0;
	if (!valid_name(s, n)) {
		snprintf(why, len,
			 "line %u: not a host id, hostname or netbios:NAME "
			 "(printable, no spaces, at most %d bytes)",
			 line, EXPECT_NAME_MAX);
		return -1;
	}
	if (l->n == EXPECT_MAX) {
		snprintf(why, len, "line %u: more than %d names", line,
			 EXPECT_MAX);
		return -1;
	}
	e = &l->e[l->n];
	memcpy(e->name, s, n);
	e->name[n] = '\0';
	if (listed(l, e->name))
		return 0; /* named twice: once is enough */
	e->line = line;
	e->state = EXPECT_WAITING;
	l->n++;
	return 0;
}

int
expect_parse(const char *text, struct expect_list *l, char *why, size_t len)
{
	unsigned line = 1;

	l->n = 0;
	l->e = calloc(EXPECT_MAX, sizeof(*l->e));
	if (l->e == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	while (*text != '\0') {
		const char *end = strchr(text, '\n');
		size_t n = end != NULL ? (size_t)(end - text) : strlen(text);
		if (parse_line(l, text, n, line++, why, len) < 0) {
			expect_list_free(l);
			return -1;
		}
		text += n + (end != NULL);
	}
	return 0;
}

void
expect_list_free(struct expect_list *l)
{
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

void
expect_row(const struct hosttab *t, const struct browse_tab *bt,
	   const char *name, const struct host **h,
	   const struct browse_host **b)
{
	*b = NULL;
	if (strncasecmp(name, "netbios:", 8) == 0) {
		*h = NULL;
		if (bt != NULL)
			*b = browse_tab_find(bt, name + 8);
		return;
	}
	*h = hosttab_find(t, name);
	if (*h == NULL || !expect_live(*h, NULL)) {
		const struct host *by_name = hosttab_find_name(t, name);
		if (by_name != NULL &&
		    (*h == NULL || expect_live(by_name, NULL)))
			*h = by_name;
	}
}

bool
expect_live(const struct host *h, const struct browse_host *b)
{
	uint8_t s = h != NULL   ? h->status
		    : b != NULL ? b->status
				: HOST_EXPIRED;

	return (h != NULL || b != NULL) && (s == HOST_ALIVE || s == HOST_STALE);
}
