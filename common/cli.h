/* SPDX-License-Identifier: MIT */
/*
 * The three programs' command lines: an option table with typed values,
 * ranges and units, parsed by getopt_long, with the same message for the
 * same mistake:
 *
 *   PROG: NAME must be MIN to MAX [seconds]: ARG   a number out of range
 *   PROG: --NAME ARG: WHY                          a value refused
 *   PROG: too many --NAME: ARG                     a list past its bound
 *   PROG: invalid option                           (after getopt's words)
 *   Try 'PROG --help'.                             after each, exit 64
 */
#ifndef BEACON_COMMON_CLI_H
#define BEACON_COMMON_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_USAGE 64 /* sysexits' EX_USAGE: the same in all three */
#define CLI_DONE  -1 /* --help or --version printed: exit 0 */

enum cli_kind {
	CLI_SET,     /* a flag: the bool at off becomes true */
	CLI_CLEAR,   /* a flag: the bool at off becomes false */
	CLI_TEXT,    /* the const char * at off */
	CLI_LIST,    /* appended to the const char *[max] at off; its
			count, a size_t, at off_n */
	CLI_UINT,    /* an integer in [min, max] into `size` bytes at off */
	CLI_SECONDS, /* seconds, decimals allowed, in [min, max] ms: ms
			into `size` bytes at off */
	CLI_CALL,    /* take(cfg, arg) */
	CLI_HELP,    /* print the usage; CLI_DONE */
	CLI_VERSION, /* print the version; CLI_DONE */
};

struct cli_opt {
	const char *name; /* the long name, without "--" */
	int letter;       /* its short form; 0: none */
	enum cli_kind kind;
	size_t off;
	size_t size;  /* CLI_UINT, CLI_SECONDS: the field's bytes (1, 2, 4,
			 8); CLI_LIST: its most items */
	size_t off_n; /* CLI_LIST: where its count is */
	uint64_t min, max;
	/* CLI_TEXT, CLI_LIST: NULL when arg is good, else why not. */
	const char *(*check)(const char *arg);
	/* CLI_CALL: NULL when arg was taken, else why not ("" when take
	   said it itself). arg is NULL for an optional one left out. */
	const char *(*take)(void *cfg, const char *arg);
	bool optional; /* CLI_CALL: the argument may be left out */
};

struct cli {
	const char
		*prog; /* in messages: "beacon-probe list", "mailslot send" */
	const char *help;            /* the hint: "beacon-probe --help" */
	const char *usage, *version; /* what -h and -V print */
	const struct cli_opt *opts;
	size_t n;
};

/* Parses the options of argv (argv[0] is the program or command, not
   parsed) into cfg, each as its table says. Returns 0 with *first the
   index of the first operand (options and operands may mix: getopt moves
   the operands last), CLI_DONE after --help or --version, or CLI_USAGE
   having said why. */
int cli_parse(const struct cli *c, int argc, char **argv, void *cfg,
	      int *first);
/* A mistake found after parsing: "PROG: MSG[: ARG]" and the hint;
   returns CLI_USAGE. */
int cli_usage(const struct cli *c, const char *msg, const char *arg);
/* "PROG: --OPT ARG: WHY" and the hint; returns CLI_USAGE. */
int cli_refuse(const struct cli *c, const char *opt, const char *arg,
	       const char *why);

#endif
