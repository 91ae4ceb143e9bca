/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hosttab.h"
#include "keymap.h"

void
keymap_init(struct keymap *m)
{
	memset(m, 0, sizeof(*m));
	if (getrandom(m->hkey, sizeof(m->hkey), 0) != sizeof(m->hkey))
		m->hkey[0] = (uint64_t)(uintptr_t)m;
}

void
keymap_free(struct keymap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->n = m->cap = 0;
}

static size_t
home(const struct keymap *m, const char *key)
{
	return hosttab_hash(m->hkey, key, strlen(key)) & (m->cap - 1);
}

/* The slot of key, or the free one where it would go. */
static struct keymap_slot *
slot(const struct keymap *m, const char *key)
{
	size_t i = home(m, key);

	while (m->slots[i].key != NULL && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

void *
keymap_get(const struct keymap *m, const char *key)
{
	return m->cap != 0 ? slot(m, key)->val : NULL;
}

static int
grow(struct keymap *m)
{
	size_t i, old = m->cap;
	struct keymap_slot *was = m->slots;

	m->cap = old ? 2 * old : 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = was;
		m->cap = old;
		return -1;
	}
	for (i = 0; i < old; i++)
		if (was[i].key != NULL)
			*slot(m, was[i].key) = was[i];
	free(was);
	return 0;
}

void *
keymap_put(struct keymap *m, const char *key, void *val, int *err)
{
	struct keymap_slot *s;
	void *old;

	*err = 0;
	if (2 * (m->n + 1) > m->cap && grow(m) < 0) {
		*err = -1;
		return NULL;
	}
	s = slot(m, key);
	if (s->key == NULL) {
		if ((s->key = strdup(key)) == NULL) {
			*err = -1;
			return NULL;
		}
		m->n++;
	}
	old = s->val;
	s->val = val;
	return old;
}

/* Linear probing: the entries after the hole that belong at or before it
   move back into it. */
void *
keymap_del(struct keymap *m, const char *key)
{
	size_t mask = m->cap - 1, i, j, k;
	void *val;

	if (m->cap == 0 || slot(m, key)->key == NULL)
		return NULL;
	i = j = (size_t)(slot(m, key) - m->slots);
	val = m->slots[i].val;
	free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->slots[i].val = NULL;
	m->n--;
	for (;;) {
		j = (j + 1) & mask;
		if (m->slots[j].key == NULL)
			return val;
		k = home(m, m->slots[j].key);
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && k <= i && k > j)) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			m->slots[j].val = NULL;
			i = j;
		}
	}
}
