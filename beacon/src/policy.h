/* SPDX-License-Identifier: MIT */
/* The string policies both decoders share (codec.c). Private. */
#ifndef BEACON_POLICY_H
#define BEACON_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* Free text: printable UTF-8 of at most max bytes, no C0, DEL or C1. */
bool policy_text_ok(const char *s, size_t max, bool allow_empty);
/* An address in text form for af (AF_INET, AF_INET6). */
bool policy_addr_ok(const char *s, int af);
/* A "\u0000" escape inside a string of p[0..n). */
bool policy_nul_escape(const char *p, size_t n);

#endif
