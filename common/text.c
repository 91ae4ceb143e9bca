/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "text.h"

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

bool
text_utf8_valid(const void *v, size_t n)
{
	const uint8_t *p = v;
	size_t i = 0, l;

	while (i < n) {
		l = utf8_seq(p + i, n - i);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

bool
text_printable(const void *v, size_t n)
{
	const uint8_t *p = v;
	size_t i;

	if (!text_utf8_valid(p, n))
		return false;
	for (i = 0; i < n; i++)
		if (p[i] == 0 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0))
			return false;
	return true;
}

static uint32_t
decode(const uint8_t *p, size_t l)
{
	static const uint8_t lead[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	uint32_t cp = p[0] & lead[l];
	size_t i;

	for (i = 1; i < l; i++)
		cp = cp << 6 | (p[i] & 0x3fu);
	return cp;
}

/* Unicode's format characters (general category Cf: bidi controls, zero
   widths, invisible operators, tags) and the line and paragraph
   separators: printable in the sense of UTF-8, yet they reorder, hide or
   break what a terminal shows. Unicode 15. */
static bool
invisible(uint32_t cp)
{
	static const uint32_t r[][2] = {
		{0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},
		{0x06dd, 0x06dd},   {0x070f, 0x070f},   {0x0890, 0x0891},
		{0x08e2, 0x08e2},   {0x180e, 0x180e},   {0x200b, 0x200f},
		{0x2028, 0x202e},   {0x2060, 0x2064},   {0x2066, 0x206f},
		{0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd},
		{0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3},
		{0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
	};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (cp >= r[i][0] && cp <= r[i][1])
			return true;
	return false;
}

size_t
text_escape(const void *v, size_t n, char *out, size_t cap)
{
	const uint8_t *p = v;
	size_t i = 0, used = 0, l, el;
	bool full = cap == 0;
	char esc[12];

	while (i < n) {
		l = utf8_seq(p + i, n - i);
		if (l == 1 && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			esc[0] = (char)p[i];
			el = 1;
		} else if (l == 1 && p[i] == '\\') {
			memcpy(esc, "\\\\", 2);
			el = 2;
		} else if (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			/* C1 controls (U+0080..U+009F) act like ESC sequences */
			el = (size_t)snprintf(esc, sizeof(esc),
					      "\\x%02x\\x%02x", p[i], p[i + 1]);
		} else if (l >= 2 && invisible(decode(p + i, l))) {
			el = (size_t)snprintf(esc, sizeof(esc), "\\u{%04x}",
					      (unsigned)decode(p + i, l));
		} else if (l >= 2) {
			memcpy(esc, p + i, l);
			el = l;
		} else {
			el = (size_t)snprintf(esc, sizeof(esc), "\\x%02x",
					      p[i]);
			l = 1;
		}
		if (!full && used + el < cap)
			memcpy(out + used, esc, el);
		else if (!full) {
			out[used] = '\0';
			full = true;
		}
		if (!full)
			out[used + el] = '\0';
		used += el;
		i += l;
	}
	if (cap > 0 && used == 0)
		out[0] = '\0';
	return used;
}

size_t
text_base64(const void *v, size_t n, char *out, size_t cap)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = v;
	size_t need = 4 * ((n + 2) / 3), i, o = 0;

	if (cap < need + 1) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
			     p[i + 2];
		out[o++] = tab[w >> 18];
		out[o++] = tab[(w >> 12) & 63];
		out[o++] = tab[(w >> 6) & 63];
		out[o++] = tab[w & 63];
	}
	if (i < n) {
		uint32_t w = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			w |= (uint32_t)p[i + 1] << 8;
		out[o++] = tab[w >> 18];
		out[o++] = tab[(w >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(w >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t
text_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	while (max > 0 && ((uint8_t)s[max] & 0xc0) == 0x80)
		max--; /* never inside a UTF-8 character */
	return max;
}

void
text_ipv4(uint32_t ip, char out[16])
{
	char *o = out;
	int i;

	for (i = 3; i >= 0; i--) {
		unsigned v = (ip >> (8 * i)) & 0xff;
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i > 0 ? '.' : '\0';
	}
}

void
text_rfc3339(int64_t wall_ms, char out[TEXT_RFC3339_LEN + 1])
{
	int64_t ms = wall_ms % 1000;
	time_t sec = (time_t)(wall_ms / 1000);
	struct tm tm;
	char buf[96];

	if (ms < 0) { /* before 1970: floor, not towards zero */
		ms += 1000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	/* Room for any int the fields could hold; years past 9999 cut. */
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)ms);
	memcpy(out, buf, TEXT_RFC3339_LEN);
	out[TEXT_RFC3339_LEN] = '\0';
}

/* Digits at s, exactly n of them; -1 if not. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "2026-12-05T18:53:58Z", with an optional fraction and a numeric offset
   instead of Z. */
static int
rfc3339_parse(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int frac = 0, scale = 1000, off = 0, oh, om;
	time_t t;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	if (tm.tm_year < -1900 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 ||
	    tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
	    tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	s += 19;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if ((*s == '+' || *s == '-') && s[3] == ':' &&
		   (oh = digits(s + 1, 2)) >= 0 && oh < 24 &&
		   (om = digits(s + 4, 2)) >= 0 && om < 60) {
		off = (*s == '-' ? -1 : 1) * (oh * 60 + om) * 60;
		s += 6;
	} else {
		return -1;
	}
	if (*s != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = ((int64_t)t - off) * 1000 + frac;
	return 0;
}

int
text_when(const char *s, int64_t now_ms, int64_t *ms)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {{'s', 1000},
		     {'m', 60000},
		     {'h', 3600000},
		     {'d', 86400000},
		     {'w', 604800000}};
	int64_t n = 0;
	size_t i, len = strlen(s);

	if (rfc3339_parse(s, ms) == 0)
		return 0;
	if (len < 2 || len > 10)
		return -1;
	for (i = 0; i + 1 < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s[len - 1] == units[i].unit) {
			*ms = now_ms - n * units[i].ms;
			return 0;
		}
	return -1;
}
