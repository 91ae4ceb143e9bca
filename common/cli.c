/* SPDX-License-Identifier: MIT */
/* The option table's parser (cli.h): getopt_long, then each option's type. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "num.h"

#define CLI_OPTS_MAX 96
#define CLI_LONG     256 /* getopt values of options without a letter */

int
cli_usage(const struct cli *c, const char *msg, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s\n", c->prog, msg, arg ? ": " : "",
		arg ? arg : "");
	fprintf(stderr, "Try '%s'.\n", c->help);
	return CLI_USAGE;
}

int
cli_refuse(const struct cli *c, const char *opt, const char *arg,
	   const char *why)
{
	fprintf(stderr, "%s: %s %s: %s\n", c->prog, opt, arg, why);
	fprintf(stderr, "Try '%s'.\n", c->help);
	return CLI_USAGE;
}

static void
store(void *field, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	memcpy(field,
	       size == 1   ? (void *)&u8
	       : size == 2 ? (void *)&u16
	       : size == 4 ? (void *)&u32
			   : (void *)&v,
	       size);
}

/* "1 to 65535", "0.1 to 86400 seconds". */
static void
range_text(const struct cli_opt *o, char *out, size_t size)
{
	if (o->kind == CLI_SECONDS)
		snprintf(out, size, "%g to %g seconds", (double)o->min / 1000,
			 (double)o->max / 1000);
	else
		snprintf(out, size, "%llu to %llu", (unsigned long long)o->min,
			 (unsigned long long)o->max);
}

static int
take_number(const struct cli *c, const struct cli_opt *o, void *field,
	    const char *arg)
{
	char range[64], msg[128];
	uint64_t v;
	bool ok = o->kind == CLI_SECONDS
			  ? num_parse_seconds(arg, o->min, o->max, &v)
			  : num_parse_u64(arg, o->min, o->max, &v);

	if (!ok) {
		range_text(o, range, sizeof(range));
		snprintf(msg, sizeof(msg), "%s must be %s", o->name, range);
		return cli_usage(c, msg, arg);
	}
	store(field, o->size, v);
	return 0;
}

static int
take_list(const struct cli *c, const struct cli_opt *o, char *cfg,
	  const char *arg)
{
	const char **list = (const char **)(void *)(cfg + o->off);
	size_t *n = (size_t *)(void *)(cfg + o->off_n);
	char opt[64];

	snprintf(opt, sizeof(opt), "too many --%s", o->name);
	if (*n >= o->size)
		return cli_usage(c, opt, arg);
	list[(*n)++] = arg;
	return 0;
}

/* One option and its argument into cfg. */
static int
take(const struct cli *c, const struct cli_opt *o, char *cfg, const char *arg)
{
	const char *why = NULL;
	char opt[64];

	snprintf(opt, sizeof(opt), "--%s", o->name);
	if ((o->kind == CLI_TEXT || o->kind == CLI_LIST) && o->check != NULL &&
	    (why = o->check(arg)) != NULL)
		return cli_refuse(c, opt, arg, why);
	switch (o->kind) {
	case CLI_SET:
	case CLI_CLEAR:
		*(bool *)(void *)(cfg + o->off) = o->kind == CLI_SET;
		return 0;
	case CLI_TEXT:
		*(const char **)(void *)(cfg + o->off) = arg;
		return 0;
	case CLI_LIST:
		return take_list(c, o, cfg, arg);
	case CLI_UINT:
	case CLI_SECONDS:
		return take_number(c, o, cfg + o->off, arg);
	case CLI_CALL:
		why = o->take(cfg, arg);
		if (why == NULL)
			return 0;
		if (why[0] == '\0')
			return CLI_USAGE;
		return cli_refuse(c, opt, arg ? arg : "", why);
	case CLI_HELP:
		fputs(c->usage, stdout);
		return CLI_DONE;
	case CLI_VERSION:
		puts(c->version);
		return CLI_DONE;
	}
	return CLI_USAGE;
}

/* getopt_long's tables from ours. */
static void
getopt_tables(const struct cli *c, struct option *lo, char *letters)
{
	size_t i, k = 0;

	for (i = 0; i < c->n; i++) {
		const struct cli_opt *o = &c->opts[i];
		int has = o->kind == CLI_SET || o->kind == CLI_CLEAR ||
					  o->kind == CLI_HELP ||
					  o->kind == CLI_VERSION
				  ? no_argument
			  : o->optional ? optional_argument
					: required_argument;
		lo[i] = (struct option){o->name, has, NULL,
					o->letter ? o->letter
						  : CLI_LONG + (int)i};
		if (o->letter) {
			letters[k++] = (char)o->letter;
			if (has == required_argument)
				letters[k++] = ':';
			else if (has == optional_argument) {
				letters[k++] = ':';
				letters[k++] = ':';
			}
		}
	}
	letters[k] = '\0';
	lo[c->n] = (struct option){NULL, 0, NULL, 0};
}

int
cli_parse(const struct cli *c, int argc, char **argv, void *cfg, int *first)
{
	struct option lo[CLI_OPTS_MAX + 1];
	char letters[3 * CLI_OPTS_MAX + 1], *argv0 = argv[0];
	const struct cli_opt *o;
	size_t i;
	int ch, rc = 0;

	if (c->n > CLI_OPTS_MAX)
		return cli_usage(c, "too many options in the table", NULL);
	getopt_tables(c, lo, letters);
	argv[0] = (char *)(uintptr_t)c->prog; /* getopt's messages name it */
	optind = 0; /* a full reset: parsed more than once in tests */
	while (rc == 0 &&
	       (ch = getopt_long(argc, argv, letters, lo, NULL)) != -1) {
		o = NULL;
		for (i = 0; i < c->n && o == NULL; i++)
			if (lo[i].val == ch)
				o = &c->opts[i];
		rc = o != NULL ? take(c, o, cfg, optarg)
			       : cli_usage(c, "invalid option", NULL);
	}
	argv[0] = argv0;
	*first = optind;
	return rc;
}
