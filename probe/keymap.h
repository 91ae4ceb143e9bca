/* SPDX-License-Identifier: MIT */
/*
 * A map from strings to pointers: open addressing, linear probing, at most
 * half full, SipHash under a random key per map (keys come from the
 * network: a broker's topics).
 */
#ifndef BEACON_KEYMAP_H
#define BEACON_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

struct keymap_slot {
	char *key; /* NULL: free */
	void *val;
};

struct keymap {
	struct keymap_slot *slots;
	size_t n, cap;
	uint64_t hkey[2];
};

void keymap_init(struct keymap *m);
/* Frees the keys, not the values. */
void keymap_free(struct keymap *m);
void *keymap_get(const struct keymap *m, const char *key);
/* Sets key to val (a copy of key is kept); the value it had, or NULL;
   -1 in *err when out of memory. */
void *keymap_put(struct keymap *m, const char *key, void *val, int *err);
/* Removes key: its value, or NULL. */
void *keymap_del(struct keymap *m, const char *key);

#endif
