/* SPDX-License-Identifier: MIT */
/* The decoders' JSON reader (scan.c): a document as a fixed pool of nodes
   and decoded strings. Private to the beacon library. */
#ifndef BEACON_SCAN_H
#define BEACON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beacon/beacon.h"

/* Every node takes at least two bytes of input ("0,"), every decoded
   string is no longer than its input. */
#define SCAN_NODES (BEACON_MAX_WIRE / 2 + 2)
#define SCAN_POOL  (BEACON_MAX_WIRE + 8)

enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT };

struct jnode {
	enum jtype type;
	int next;     /* the next member or element; -1: none */
	int child;    /* the first member or element; -1: none */
	size_t count; /* members or elements */
	long key;     /* a member's name: offset in the pool */
	long str;     /* a string's value: offset in the pool */
	double num;   /* a number's value, as strtod read it */
};

struct jdoc {
	struct jnode nodes[SCAN_NODES];
	char pool[SCAN_POOL];
};

/* Read one JSON value from buf into d (node 0 is the root). *end gets the
   offset after it. False when it is not JSON (or needs more nodes than a
   424-byte document can hold). The input must hold no NUL byte. */
bool scan_json(const void *buf, size_t len, struct jdoc *d, size_t *end);

/* The first member of object obj named key, or -1. */
int jdoc_get(const struct jdoc *d, int obj, const char *key);

#endif
