/* SPDX-License-Identifier: MIT */
/*
 * The password checker (pwcheck.c) and the HTTP server's use of it
 * (httpauth.c): Argon2id off the probe's loop, in a child process.
 */
#ifndef BEACON_PROBE_PWCHECK_H
#define BEACON_PROBE_PWCHECK_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PWCHECK_PASS_MAX 1024 /* longer passwords are wrong */

/* The child and the probe's end of its socket; pid 0 and fd -1: none. */
struct pwcheck {
	pid_t pid;
	int fd;
	int epfd; /* the fd is added to it while the child lives */
	uint64_t deaths;
};

void pwcheck_init(struct pwcheck *k, int epfd);
/* Ask the child (forked now if there is none) whether PASS fits HASH;
   the answer comes as SEQ through pwcheck_read. -1 if it cannot be sent. */
int pwcheck_submit(struct pwcheck *k, uint32_t seq,
		   const char hash[crypto_pwhash_STRBYTES], const char *pass,
		   size_t len);
/* 1: an answer; 0: none yet; -1: the child is gone (reaped, logged), so
   every check sent and not answered is lost. */
int pwcheck_read(struct pwcheck *k, uint32_t *seq, bool *ok);
/* End the child (SIGKILL) and wait for it. */
void pwcheck_stop(struct pwcheck *k);

/* ---- httpauth.c: users, the cache of good pairs, the bounds ---- */

enum auth_verdict {
	AUTH_OK,
	AUTH_BAD,       /* 401 */
	AUTH_WAIT,      /* checking: the caller suspends until done */
	AUTH_BUSY,      /* 503: too many checks at once, or none possible */
	AUTH_THROTTLED, /* 429: too many failures from this address */
};

struct httpauth;
struct httpauth_stats {
	uint64_t checks, failures, throttled, busy, checker_restarts;
};

/* The --http-auth file; NULL (logged, naming the line) when it is not
   "USER HASH" lines of Argon2 hashes within the bounds. */
struct httpauth *httpauth_load(const char *path, int epfd);
void httpauth_free(struct httpauth *a);
/* USER and PASS of a request from ADDR (either may be NULL). On AUTH_WAIT
   done(waiter) comes later, from httpauth_run; RETRY_S is set for
   AUTH_BUSY and AUTH_THROTTLED. */
enum auth_verdict httpauth_check(struct httpauth *a, const char *user,
				 const char *pass, const struct sockaddr *addr,
				 uint64_t now, void *waiter, unsigned *retry_s);
typedef void httpauth_done_fn(void *ctx, void *waiter, enum auth_verdict v);
/* Take the checker's answers (and its death, or a check overdue). */
void httpauth_run(struct httpauth *a, uint64_t now, httpauth_done_fn *done,
		  void *ctx);
/* When httpauth_run is due next (a check overdue); UINT64_MAX: never. */
uint64_t httpauth_due(const struct httpauth *a);
/* Every pending check answered AUTH_BUSY, the child ended. */
void httpauth_cancel(struct httpauth *a, httpauth_done_fn *done, void *ctx);
void httpauth_stats(const struct httpauth *a, struct httpauth_stats *s);

#endif
