/* SPDX-License-Identifier: MIT */
/*
 * Text from the network, made safe to show. Nothing that arrives in a
 * datagram may move a terminal's cursor, start an escape sequence, or
 * reorder or hide what is shown, so control bytes, DEL, C1 controls and
 * invalid UTF-8 come out as \xNN, format characters (bidi controls such as
 * U+202E, zero widths such as U+200B: Unicode's Cf) and U+2028/U+2029 as
 * \u{XXXX}, and a backslash as \\; other valid UTF-8 is kept.
 */
#ifndef BEACON_COMMON_TEXT_H
#define BEACON_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when p[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool text_utf8_valid(const void *p, size_t n);

/* True when p[0..n) is valid UTF-8 holding no NUL, DEL or C1 control
   (C0 controls other than NUL are allowed: JSON encoders escape them). */
bool text_printable(const void *p, size_t n);

/*
 * Escape p[0..n) into out (cap bytes, always NUL-terminated when cap > 0,
 * cut at a whole escape). Returns the length the whole escape needs.
 */
size_t text_escape(const void *p, size_t n, char *out, size_t cap);

/* The length of s cut to at most max bytes on a character boundary. */
size_t text_cut(const char *s, size_t max);

/* Base64 (RFC 4648, padded) of p[0..n) into out; needs 4*((n+2)/3)+1 bytes.
   Returns the length written, or 0 with out[0] = 0 if cap is too small. */
size_t text_base64(const void *p, size_t n, char *out, size_t cap);

/* An IPv4 address (host order) in dotted decimal, as inet_ntop() writes
   it, without its sprintf (a tenth of the cost, on the receive path). */
void text_ipv4(uint32_t ip, char out[16]);

/* A wall-clock time (ms since the epoch, UTC) as RFC 3339 with
   milliseconds: "2026-12-05T08:29:20.537Z" (24 characters). */
#define TEXT_RFC3339_LEN 24
void text_rfc3339(int64_t wall_ms, char out[TEXT_RFC3339_LEN + 1]);
/* A time as people give it: a duration back from now_ms ("90m", "7d":
   s, m, h, d, w) or an RFC 3339 time ("2026-12-05T08:29:20Z", a fraction
   and a "+01:00" offset allowed). 0 with *ms (since the epoch), or -1. */
int text_when(const char *s, int64_t now_ms, int64_t *ms);

#endif
