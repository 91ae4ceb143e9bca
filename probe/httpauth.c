/* SPDX-License-Identifier: MIT */
/*
 * --http-auth: the users, and the bounds around checking their passwords.
 *
 * A check runs Argon2id in the checker child (pwcheck.c), never in the
 * loop; the request waits, suspended. What a client can make it do is
 * bounded:
 *   - a good pair is remembered (a keyed BLAKE2b of it), so a page's many
 *     requests pay Argon2id once;
 *   - at most AUTH_PENDING checks wait at once (then 503);
 *   - an address (an IPv6 one by its /64) may fail AUTH_BURST checks, then
 *     one every AUTH_EVERY_MS (then 429): a token bucket, taken when a
 *     check starts and given back when it succeeds;
 *   - a user not in the file is checked against a dummy hash with the
 *     first user's parameters, so its time tells nothing;
 *   - the file's hashes are refused beyond AUTH_MEM_MAX_KIB and AUTH_T_MAX
 *     (8 times the cost --hash-password gives, libsodium's interactive
 *     limits), so no check takes gigabytes or minutes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>

#include "bucket.h"
#include "log.h"
#include "num.h"
#include "pwcheck.h"
#include "smallfile.h"

#define AUTH_USERS        32
#define AUTH_CACHE        16
#define AUTH_PENDING      4 /* about 4 x 150 ms of waiting at most */
#define AUTH_ADDRS        64
#define AUTH_BURST        5
#define AUTH_EVERY_MS     5000
#define AUTH_CHECK_MAX_MS 30000 /* an answer later than this: a stuck child */
#define AUTH_MEM_MAX_KIB  (4 * crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024)
#define AUTH_T_MAX        (2 * crypto_pwhash_OPSLIMIT_INTERACTIVE)
#define AUTH_P_MAX        8
#define AUTH_TAG          16
#define AUTH_KEY          17 /* family, then up to 16 bytes of address */

struct httpauth {
	struct {
		char user[64];
		char hash[crypto_pwhash_STRBYTES];
	} users[AUTH_USERS];
	size_t n_users;
	char dummy[crypto_pwhash_STRBYTES];
	uint8_t cache_key[crypto_generichash_KEYBYTES];
	uint8_t cache[AUTH_CACHE][AUTH_TAG];
	size_t cache_next;
	struct {
		uint8_t key[AUTH_KEY];
		struct bucket b;
	} addrs[AUTH_ADDRS];
	struct {
		void *waiter;
		uint32_t seq;
		uint8_t tag[AUTH_TAG], key[AUTH_KEY];
		uint64_t at;
	} pend[AUTH_PENDING];
	size_t n_pend;
	uint32_t seq;
	struct pwcheck ck;
	struct httpauth_stats st;
};

/* "NAME" then digits then END at *s, past it; any value, for the caller
   to bound (and name in its message). */
static bool
param(const char **s, const char *name, char end, uint64_t *v)
{
	size_t n = strlen(name), len;
	char digits[21];

	if (strncmp(*s, name, n) != 0)
		return false;
	*s += n;
	len = strspn(*s, "0123456789");
	if (len == 0 || len >= sizeof(digits) || (*s)[len] != end)
		return false;
	memcpy(digits, *s, len);
	digits[len] = '\0';
	*s += len + 1;
	return num_parse_u64(digits, 1, UINT64_MAX, v);
}

/* The algorithm prefix ("$argon2id$") and the parameters of a hash. */
static bool
hash_params(const char *hash, size_t *prefix, uint64_t mtp[3])
{
	const char *s = hash;

	if (strncmp(s, "$argon2id$", 10) == 0)
		*prefix = 10;
	else if (strncmp(s, "$argon2i$", 9) == 0)
		*prefix = 9;
	else
		return false;
	s += *prefix;
	return param(&s, "v=", '$', &mtp[0]) && mtp[0] == 19 &&
	       param(&s, "m=", ',', &mtp[0]) && param(&s, "t=", ',', &mtp[1]) &&
	       param(&s, "p=", '$', &mtp[2]);
}

static bool
hash_ok(const char *path, size_t line, const char *hash)
{
	uint64_t mtp[3];
	size_t prefix;

	if (!hash_params(hash, &prefix, mtp)) {
		log_warnx("--http-auth %s, line %zu: not \"USER HASH\" (make "
			  "the hash with beacon-probe --hash-password)",
			  path, line);
		return false;
	}
	if (mtp[0] > AUTH_MEM_MAX_KIB || mtp[1] > AUTH_T_MAX ||
	    mtp[2] > AUTH_P_MAX) {
		log_warnx("--http-auth %s, line %zu: the hash asks for m=%llu "
			  "KiB, t=%llu, p=%llu; at most m=%llu, t=%llu, p=%d "
			  "here (each request could cost that much memory "
			  "and time): make it with beacon-probe "
			  "--hash-password",
			  path, line, (unsigned long long)mtp[0],
			  (unsigned long long)mtp[1],
			  (unsigned long long)mtp[2],
			  (unsigned long long)AUTH_MEM_MAX_KIB,
			  (unsigned long long)AUTH_T_MAX, AUTH_P_MAX);
		return false;
	}
	return true;
}

/* A hash no password fits (random salt and tag), with the parameters of
   HASH: checking it takes as long as checking HASH. */
static void
make_dummy(char dummy[crypto_pwhash_STRBYTES], const char *hash)
{
	uint8_t salt[16], tag[32];
	char s64[32], t64[48];
	const char *end = hash;
	int i;

	for (i = 0; i < 3; i++) /* "$argon2id$v=19$m=...,t=...,p=...$" */
		end = strchr(end + 1, '$');
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(tag, sizeof(tag));
	sodium_bin2base64(s64, sizeof(s64), salt, sizeof(salt),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_bin2base64(t64, sizeof(t64), tag, sizeof(tag),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(dummy, crypto_pwhash_STRBYTES, "%.*s%s$%s",
		 (int)(end - hash + 1), hash, s64, t64);
}

static int
add_line(struct httpauth *a, const char *path, size_t n, const char *line)
{
	char user[64], hash[crypto_pwhash_STRBYTES];

	if (sscanf(line, "%63s %127s", user, hash) != 2 ||
	    a->n_users == AUTH_USERS) {
		log_warnx("--http-auth %s, line %zu: not \"USER HASH\" (make "
			  "the hash with beacon-probe --hash-password; at "
			  "most %d users)",
			  path, n, AUTH_USERS);
		return -1;
	}
	if (!hash_ok(path, n, hash))
		return -1;
	snprintf(a->users[a->n_users].user, sizeof(a->users[0].user), "%s",
		 user);
	snprintf(a->users[a->n_users].hash, sizeof(a->users[0].hash), "%s",
		 hash);
	a->n_users++;
	return 0;
}

struct httpauth *
httpauth_load(const char *path, int epfd)
{
	char *text = smallfile_read(path, "--http-auth", true), *line,
	     *save = NULL;
	struct httpauth *a = calloc(1, sizeof(*a));
	size_t n = 0;
	int rc = 0;

	if (text == NULL || a == NULL) {
		free(text);
		free(a);
		return NULL;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL && rc == 0;
	     line = strtok_r(NULL, "\n", &save))
		if (++n, line[0] != '#' && line[0] != '\0')
			rc = add_line(a, path, n, line);
	sodium_memzero(text, strlen(text));
	free(text);
	if (rc == 0 && a->n_users == 0) {
		log_warnx("--http-auth %s: no user in it", path);
		rc = -1;
	}
	if (rc < 0) {
		httpauth_free(a);
		return NULL;
	}
	make_dummy(a->dummy, a->users[0].hash);
	randombytes_buf(a->cache_key, sizeof(a->cache_key));
	pwcheck_init(&a->ck, epfd);
	return a;
}

void
httpauth_free(struct httpauth *a)
{
	if (a == NULL)
		return;
	pwcheck_stop(&a->ck);
	sodium_memzero(a, sizeof(*a));
	free(a);
}

/* An address as a bucket's key: IPv4 whole, IPv6 by its /64 (a host on
   a LAN can take as many addresses in it as it likes). */
static void
addr_key(const struct sockaddr *sa, uint8_t key[AUTH_KEY])
{
	memset(key, 0, AUTH_KEY);
	if (sa != NULL && sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			key[0] = 4;
			memcpy(key + 1, a6->s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a6->s6_addr, 8);
		}
	}
}

#define AUTH_RATE (1000.0 / AUTH_EVERY_MS)

/* The address's bucket; a new one takes the slot idle the longest. */
static struct bucket *
addr_bucket(struct httpauth *a, const uint8_t key[AUTH_KEY])
{
	size_t i, old = 0;

	for (i = 0; i < AUTH_ADDRS; i++) {
		if (memcmp(a->addrs[i].key, key, AUTH_KEY) == 0)
			return &a->addrs[i].b;
		if (a->addrs[i].b.at_ms < a->addrs[old].b.at_ms)
			old = i;
	}
	memcpy(a->addrs[old].key, key, AUTH_KEY);
	memset(&a->addrs[old].b, 0, sizeof(a->addrs[old].b));
	return &a->addrs[old].b;
}

/* Take a token from the address's bucket; false and the seconds until
   one comes back when it is empty. */
static bool
addr_take(struct httpauth *a, const uint8_t key[AUTH_KEY], uint64_t now,
	  unsigned *retry_s)
{
	struct bucket *b = addr_bucket(a, key);

	if (bucket_take(b, AUTH_RATE, AUTH_BURST, now))
		return true;
	*retry_s = (unsigned)((bucket_wait_ms(b, AUTH_RATE) + 999) / 1000);
	return false;
}

static void
addr_give_back(struct httpauth *a, const uint8_t key[AUTH_KEY])
{
	bucket_give(addr_bucket(a, key), AUTH_BURST);
}

static void
pair_tag(const struct httpauth *a, const char *user, const char *pass,
	 uint8_t tag[AUTH_TAG])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, a->cache_key, sizeof(a->cache_key),
				AUTH_TAG);
	crypto_generichash_update(&st, (const uint8_t *)user, strlen(user) + 1);
	crypto_generichash_update(&st, (const uint8_t *)pass, strlen(pass));
	crypto_generichash_final(&st, tag, AUTH_TAG);
}

static bool
cached(const struct httpauth *a, const uint8_t tag[AUTH_TAG])
{
	bool hit = false;
	size_t i;

	for (i = 0; i < AUTH_CACHE; i++)
		hit |= sodium_memcmp(a->cache[i], tag, AUTH_TAG) == 0;
	return hit;
}

static const char *
hash_of(const struct httpauth *a, const char *user)
{
	size_t i;

	for (i = 0; i < a->n_users; i++)
		if (strcmp(a->users[i].user, user) == 0)
			return a->users[i].hash;
	return a->dummy;
}

enum auth_verdict
httpauth_check(struct httpauth *a, const char *user, const char *pass,
	       const struct sockaddr *addr, uint64_t now, void *waiter,
	       unsigned *retry_s)
{
	uint8_t tag[AUTH_TAG], key[AUTH_KEY];
	size_t len;

	if (user == NULL || pass == NULL ||
	    (len = strlen(pass)) > PWCHECK_PASS_MAX)
		return AUTH_BAD; /* the same for every user: nothing to learn */
	pair_tag(a, user, pass, tag);
	if (cached(a, tag))
		return AUTH_OK;
	addr_key(addr, key);
	if (!addr_take(a, key, now, retry_s)) {
		a->st.throttled++;
		return AUTH_THROTTLED;
	}
	*retry_s = 1;
	if (a->n_pend == AUTH_PENDING ||
	    pwcheck_submit(&a->ck, ++a->seq, hash_of(a, user), pass, len) < 0) {
		addr_give_back(a, key);
		a->st.busy++;
		return AUTH_BUSY;
	}
	a->st.checks++;
	a->pend[a->n_pend].waiter = waiter;
	a->pend[a->n_pend].seq = a->seq;
	a->pend[a->n_pend].at = now;
	memcpy(a->pend[a->n_pend].tag, tag, AUTH_TAG);
	memcpy(a->pend[a->n_pend].key, key, AUTH_KEY);
	a->n_pend++;
	return AUTH_WAIT;
}

static void
answer(struct httpauth *a, uint32_t seq, bool ok, httpauth_done_fn *done,
       void *ctx)
{
	size_t i;

	for (i = 0; i < a->n_pend && a->pend[i].seq != seq; i++)
		;
	if (i == a->n_pend)
		return;
	if (ok) {
		memcpy(a->cache[a->cache_next], a->pend[i].tag, AUTH_TAG);
		a->cache_next = (a->cache_next + 1) % AUTH_CACHE;
		addr_give_back(a, a->pend[i].key);
	} else {
		a->st.failures++;
	}
	done(ctx, a->pend[i].waiter, ok ? AUTH_OK : AUTH_BAD);
	a->pend[i] = a->pend[--a->n_pend];
}

void
httpauth_cancel(struct httpauth *a, httpauth_done_fn *done, void *ctx)
{
	if (a == NULL)
		return;
	pwcheck_stop(&a->ck);
	while (a->n_pend > 0)
		done(ctx, a->pend[--a->n_pend].waiter, AUTH_BUSY);
}

uint64_t
httpauth_due(const struct httpauth *a)
{
	uint64_t due = UINT64_MAX;
	size_t i;

	for (i = 0; a != NULL && i < a->n_pend; i++)
		if (a->pend[i].at + AUTH_CHECK_MAX_MS < due)
			due = a->pend[i].at + AUTH_CHECK_MAX_MS;
	return due;
}

void
httpauth_run(struct httpauth *a, uint64_t now, httpauth_done_fn *done,
	     void *ctx)
{
	uint32_t seq;
	bool ok;
	int rc;

	if (a == NULL)
		return;
	while ((rc = pwcheck_read(&a->ck, &seq, &ok)) == 1)
		answer(a, seq, ok, done, ctx);
	if (rc < 0) {
		httpauth_cancel(a, done, ctx);
	} else if (httpauth_due(a) <= now) {
		log_warnx("the password checker took more than %d s: "
			  "restarting it",
			  AUTH_CHECK_MAX_MS / 1000);
		a->ck.deaths++;
		httpauth_cancel(a, done, ctx);
	}
}

void
httpauth_stats(const struct httpauth *a, struct httpauth_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (a != NULL) {
		*s = a->st;
		s->checker_restarts = a->ck.deaths;
	}
}
