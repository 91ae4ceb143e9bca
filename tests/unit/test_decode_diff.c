/* SPDX-License-Identifier: MIT */
/*
 * The allocation-free decoders against the reference decoders on cJSON:
 * the same verdict and the same fields, for every corpus file and many
 * mutations of each (bytes changed, inserted and removed, and tokens that
 * JSON readers disagree on: whitespace bytes, a BOM, escapes, odd numbers).
 * libFuzzer does the same without end (fuzz_beacon); this keeps a few
 * hundred thousand cases in every build.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "beacon/beacon.h"
#include "decode_ref.h"

static const char *corpus_dir;
static unsigned long checked;

static void
agree(const uint8_t *p, size_t n)
{
	struct beacon_msg a, b;
	struct beacon_query q, r;
	enum beacon_err ea = beacon_decode(p, n, &a),
			eb = beacon_decode_ref(p, n, &b);

	if (ea != eb || (ea == BEACON_OK && memcmp(&a, &b, sizeof(a)) != 0)) {
		fprintf(stderr, "disagree on %zu bytes: %d vs %d: %.*s\n", n,
			ea, eb, (int)n, (const char *)p);
		fail();
	}
	ea = beacon_query_decode(p, n, &q);
	eb = beacon_query_decode_ref(p, n, &r);
	if (ea != eb || (ea == BEACON_OK && memcmp(&q, &r, sizeof(q)) != 0)) {
		fprintf(stderr, "queries disagree: %d vs %d: %.*s\n", ea, eb,
			(int)n, (const char *)p);
		fail();
	}
	checked++;
}

static const char *const tokens[] = {
	" ",
	"\t",
	"\x01",
	"\x1f",
	"\xef\xbb\xbf",
	"\\u",
	"\\u00e9",
	"\\uD83D\\uDE00",
	"\\uDC00",
	"\\uZZZZ",
	"\\\"",
	"\\/",
	"\\x",
	"01",
	"1.0",
	"1e3",
	"-0",
	"1e400",
	"1.5",
	"9007199254740992",
	"-",
	".5",
	"1e",
	"+1",
	"[]",
	"{}",
	"null",
	"true",
	",",
	":",
	"\"",
	"}",
	"]",
	"\"tags\":{\"a\":\"b\"}",
};

static void
mutate_all(const uint8_t *base, size_t n, unsigned rounds)
{
	uint8_t buf[600];
	unsigned k;

	agree(base, n);
	for (k = 0; k < rounds; k++) {
		size_t len = n, at = n ? (size_t)rand() % n : 0, i;
		int op = rand() % 4;
		memcpy(buf, base, n);
		if (op == 0 && n > 0) {
			buf[at] = (uint8_t)rand();
		} else if (op == 1 && n > 0) {
			memmove(buf + at, buf + at + 1, n - at - 1);
			len--;
		} else {
			const char *t =
				tokens[(size_t)rand() %
				       (sizeof(tokens) / sizeof(*tokens))];
			size_t tl = strlen(t);
			if (n + tl > sizeof(buf))
				continue;
			memmove(buf + at + tl, buf + at, n - at);
			memcpy(buf + at, t, tl);
			len += tl;
			if (op == 3) /* and a second change elsewhere */
				for (i = 0; i < 2 && len > 0; i++)
					buf[(size_t)rand() % len] =
						(uint8_t)("0123456789\"{}[],: e."
								  [rand() %
								   20]);
		}
		agree(buf, len);
	}
}

static void
test_corpus_and_mutations(void **state)
{
	DIR *dir = opendir(corpus_dir);
	struct dirent *e;
	unsigned files = 0;
	(void)state;

	assert_non_null(dir);
	srand(12345);
	while ((e = readdir(dir)) != NULL) {
		char path[4096];
		uint8_t data[600];
		size_t n;
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", corpus_dir, e->d_name);
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		n = fread(data, 1, sizeof(data), f);
		fclose(f);
		mutate_all(data, n, 2000);
		files++;
	}
	closedir(dir);
	assert_true(files > 50);
	printf("%lu inputs checked against the reference\n", checked);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_and_mutations),
	};

	corpus_dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/beacon";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
