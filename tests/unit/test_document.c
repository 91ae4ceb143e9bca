/* SPDX-License-Identifier: MIT */
/* The streamed table document: every string survives a JSON parser byte
   for byte, whatever it holds and wherever in an 8-byte word a character
   to escape falls; the rows come out in the order of the reference
   comparison (case-folded hostname, then id), long shared prefixes
   included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "render.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* A table and what the renderers read of it, as the loop would give. */
struct fixture {
	struct hosttab *tab;
	struct probe_stats st;
	struct probe_view v;
};

static struct fixture *
fixture_new(size_t max_hosts)
{
	static struct probe_config c = {.cmd_name = "serve", .all = true};
	struct fixture *p = calloc(1, sizeof(*p));
	struct hosttab_opts o = {.max_hosts = max_hosts,
				 .new_per_s = 1e9,
				 .new_burst = 1e9,
				 .key = {7, 8}};

	assert_non_null(p);
	p->tab = hosttab_new(&o, NULL, NULL);
	assert_non_null(p->tab);
	p->v = (struct probe_view){.c = &c, .tab = p->tab, .st = &p->st};
	return p;
}

static void
fixture_free(struct fixture *p)
{
	hosttab_free(p->tab);
	free(p);
}

static struct beacon_msg
sample(unsigned i, const char *hostname)
{
	struct beacon_msg b;

	memset(&b, 0, sizeof(b));
	b.version = 1;
	snprintf(b.id, sizeof(b.id), "%016x", i);
	strcpy(b.instance, "00aa11bb22cc33dd");
	snprintf(b.hostname, sizeof(b.hostname), "%s", hostname);
	b.seq = 1;
	b.interval_ms = 1000;
	b.ttl_ms = 3000;
	strcpy(b.os, "Debian GNU/Linux");
	return b;
}

/* The document as a cJSON tree (the reference parser). */
static cJSON *
document(struct fixture *p)
{
	char *text = NULL;
	size_t len = 0, shown;
	FILE *f = open_memstream(&text, &len);
	cJSON *doc;

	assert_non_null(f);
	assert_int_equal(output_document(f, &p->v, 1000, &shown), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(shown, hosttab_count(p->tab));
	doc = cJSON_ParseWithLength(text, len);
	if (doc == NULL)
		fail_msg("not JSON: %.200s", text);
	free(text);
	return doc;
}

/* Random strings of every byte but NUL, the characters to escape made
   common, at every offset and length around the 8-byte words. */
static void
random_text(char *out, size_t max)
{
	static const char special[] = "\"\\\x01\x1f\x7f\x80\xff a";
	size_t n = next() % max, i;

	for (i = 0; i < n; i++)
		out[i] = next() % 3 == 0
				 ? special[next() % (sizeof(special) - 1)]
				 : (char)(1 + next() % 255);
	out[n] = '\0';
}

static void
test_strings_round_trip(void **state)
{
	(void)state;
	for (unsigned round = 0; round < 200; round++) {
		struct fixture *p = fixture_new(8);
		struct beacon_msg b = sample(round, "");
		const cJSON *h, *tags;
		cJSON *doc;

		random_text(b.hostname, sizeof(b.hostname));
		random_text(b.os_version, sizeof(b.os_version));
		b.n_tags = 2;
		random_text(b.tags[0].key, sizeof(b.tags[0].key) - 1);
		memcpy(b.tags[1].key, b.tags[0].key, sizeof(b.tags[1].key));
		strcat(b.tags[1].key, "~"); /* another key */
		random_text(b.tags[0].value, sizeof(b.tags[0].value));
		random_text(b.tags[1].value, sizeof(b.tags[1].value));
		assert_int_equal(
			hosttab_update(p->tab, &b, "198.18.0.5", "lab0", 1000),
			HT_NEW);
		doc = document(p);
		h = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "hosts"), 0);
		assert_non_null(h);
		assert_string_equal(
			cJSON_GetObjectItem(h, "hostname")->valuestring,
			b.hostname);
		assert_string_equal(
			cJSON_GetObjectItem(h, "os_version")->valuestring,
			b.os_version);
		tags = cJSON_GetObjectItem(h, "tags");
		assert_int_equal(cJSON_GetArraySize(tags), 2);
		for (int t = 0; t < 2; t++)
			assert_string_equal(cJSON_GetObjectItemCaseSensitive(
						    tags, b.tags[t].key)
						    ->valuestring,
					    b.tags[t].value);
		cJSON_Delete(doc);
		fixture_free(p);
	}
}

struct ref {
	char hostname[BEACON_MAX_HOSTNAME + 1];
	char id[BEACON_MAX_ID + 1];
};

static int
ref_order(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcasecmp(x->hostname, y->hostname);

	return c != 0 ? c : strcmp(x->id, y->id);
}

static void
test_sorted_as_reference(void **state)
{
	/* Mostly 'a' in either case up to 16 bytes, lengths 14 to 21: many
	   names share their first 16 folded bytes, or are prefixes. */
	static const char alphabet[] = "aAbB-.~\x80";
	enum { N = 600 };
	struct ref *want = calloc(N, sizeof(*want));
	struct fixture *p = fixture_new(N);
	const cJSON *h;
	cJSON *doc;
	size_t i = 0;

	(void)state;
	assert_non_null(want);
	for (unsigned k = 0; k < N; k++) {
		struct beacon_msg b;
		static char name[BEACON_MAX_HOSTNAME + 1];
		size_t n = 14 + next() % 8, j;

		/* A quarter keep the last name: conflicts, ordered by id. */
		if (k == 0 || next() % 4 != 0) {
			for (j = 0; j < n; j++)
				name[j] = j < 16 && next() % 8
						  ? "aA"[next() % 2]
						  : alphabet[next() % 8];
			name[n] = '\0';
		}
		b = sample(next() % 64 == 0 ? k % 7 : (k + 100) * 2654435761u,
			   name); /* ids not in insertion order */
		if (hosttab_update(p->tab, &b, "198.18.0.5", "lab0", 1000) !=
		    HT_NEW)
			continue; /* the same id again: a restart, not a row */
		snprintf(want[i].hostname, sizeof(want[i].hostname), "%s",
			 name);
		snprintf(want[i].id, sizeof(want[i].id), "%s", b.id);
		i++;
	}
	qsort(want, i, sizeof(*want), ref_order);
	doc = document(p);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "hosts")),
			 (int)i);
	i = 0;
	cJSON_ArrayForEach (h, cJSON_GetObjectItem(doc, "hosts")) {
		assert_string_equal(
			cJSON_GetObjectItem(h, "hostname")->valuestring,
			want[i].hostname);
		assert_string_equal(cJSON_GetObjectItem(h, "id")->valuestring,
				    want[i].id);
		i++;
	}
	cJSON_Delete(doc);
	fixture_free(p);
	free(want);
}

/* The text table: a row a host, sorted by name; an empty table is 0 rows,
   not an error; a stream that fails is an error (-1), never "no host". */
static void
test_text_table(void **state)
{
	struct fixture *p = fixture_new(8);
	struct beacon_msg b = sample(1, "zulu");
	char out[4096];
	size_t shown = 99, n;
	FILE *f = tmpfile();
	FILE *ro = fopen("/dev/null", "r");
	(void)state;

	assert_non_null(f);
	assert_non_null(ro);
	assert_int_equal(output_table(f, &p->v, 1000, &shown), 0);
	assert_int_equal(shown, 0);
	assert_int_equal(hosttab_update(p->tab, &b, "198.18.0.1", "eth0", 500),
			 HT_NEW);
	b = sample(2, "alpha");
	assert_int_equal(hosttab_update(p->tab, &b, "198.18.0.2", "eth0", 500),
			 HT_NEW);
	assert_int_equal(output_table(f, &p->v, 1000, &shown), 0);
	assert_int_equal(shown, 2);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	assert_null(strstr(out, "HOSTNAME")); /* not a terminal, no --header */
	assert_non_null(strstr(out, "alpha"));
	assert_true(strstr(out, "alpha") < strstr(out, "zulu"));
	assert_non_null(strstr(out, "198.18.0.2"));
	assert_int_equal(output_table(ro, &p->v, 1000, &shown), -1);
	fclose(ro);
	fclose(f);
	fixture_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_round_trip),
		cmocka_unit_test(test_sorted_as_reference),
		cmocka_unit_test(test_text_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
