/* SPDX-License-Identifier: MIT */
/*
 * The password checker: Argon2id costs a deliberate 100-250 ms a check,
 * which the probe's loop must never spend (datagrams would wait, hosts go
 * falsely stale). So checks run in a child process, in the manner of
 * OpenBSD's privilege separation but without threads and without exec:
 *
 *   - forked at the first check, which comes from a request, so after the
 *     privileges were dropped (serve drops them before it serves);
 *   - it keeps one descriptor, its end of a SOCK_SEQPACKET socketpair
 *     (one datagram a check, one answer each, in order), with standard
 *     input and output on /dev/null and standard error for a crash's
 *     report; no capability, no way to gain one (NO_NEW_PRIVS), niced so
 *     that the probe's loop wins the CPU;
 *   - it dies with the probe (PR_SET_PDEATHSIG) or when its socket closes;
 *     a child that dies is reaped and logged, its checks answered "busy",
 *     and the next check forks another.
 *
 * Its memory is a copy of the probe's at the fork (a fresh image needs
 * an exec); it reads nothing but fixed-size requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "pwcheck.h"

#define CHILD_FD   3
#define CHILD_NICE 10

struct request {
	uint32_t seq, len;
	char hash[crypto_pwhash_STRBYTES];
	char pass[PWCHECK_PASS_MAX];
};

struct answer {
	uint32_t seq;
	uint8_t ok;
};

void
pwcheck_init(struct pwcheck *k, int epfd)
{
	memset(k, 0, sizeof(*k));
	k->fd = -1;
	k->epfd = epfd;
}

/* Keep CHILD_FD and standard error; /dev/null for input and output. */
static void
child_descriptors(int fd)
{
	int null;

	if (fd != CHILD_FD && (dup2(fd, CHILD_FD) < 0 || close(fd) < 0))
		_exit(1);
	if (syscall(SYS_close_range, CHILD_FD + 1, ~0U, 0) < 0) {
		long n = sysconf(_SC_OPEN_MAX);
		for (fd = CHILD_FD + 1; fd < n; fd++)
			(void)close(fd);
	}
	if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(null, 0) < 0 ||
	    dup2(null, 1) < 0)
		_exit(1);
	if (null > 2 && null != CHILD_FD)
		(void)close(null);
}

/* Nothing to gain: no capability now or later. Failures are tolerated
   (a seccomp filter may refuse capset or setpriority: systemd's unit). */
static void
child_confine(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	sigset_t all;

	memset(data, 0, sizeof(data));
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	(void)syscall(SYS_capset, &hdr, data);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	(void)setpriority(PRIO_PROCESS, 0, CHILD_NICE);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL); /* the probe blocks some */
}

static void __attribute__((noreturn)) child(int fd, pid_t parent)
{
	struct request q;
	struct answer a;
	ssize_t n;

	/* Dies with the probe; it may have died before the prctl. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    getppid() != parent)
		_exit(1);
	child_descriptors(fd);
	child_confine();
	while ((n = recv(CHILD_FD, &q, sizeof(q), 0)) > 0) {
		memset(&a, 0, sizeof(a));
		a.seq = q.seq;
		if ((size_t)n == sizeof(q) && q.len <= sizeof(q.pass) &&
		    memchr(q.hash, '\0', sizeof(q.hash)) != NULL)
			a.ok = crypto_pwhash_str_verify(q.hash, q.pass,
							q.len) == 0;
		sodium_memzero(&q, sizeof(q));
		if (send(CHILD_FD, &a, sizeof(a), MSG_NOSIGNAL) != sizeof(a))
			break;
	}
	_exit(0); /* not exit(): the probe's atexit handlers are not ours */
}

static int
spawn(struct pwcheck *k)
{
	struct epoll_event ev = {.events = EPOLLIN};
	pid_t parent = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("the password checker: socketpair");
		return -1;
	}
	k->pid = fork();
	if (k->pid == 0) {
		close(sv[0]);
		child(sv[1], parent);
	}
	close(sv[1]);
	if (k->pid < 0)
		k->pid = 0; /* never kill(-1) */
	ev.data.fd = sv[0];
	if (k->pid == 0 || fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ||
	    epoll_ctl(k->epfd, EPOLL_CTL_ADD, sv[0], &ev) < 0) {
		log_warn("the password checker: cannot start it");
		close(sv[0]);
		k->fd = -1;
		pwcheck_stop(k);
		return -1;
	}
	k->fd = sv[0];
	return 0;
}

int
pwcheck_submit(struct pwcheck *k, uint32_t seq,
	       const char hash[crypto_pwhash_STRBYTES], const char *pass,
	       size_t len)
{
	struct request q;
	ssize_t n;

	if (len > sizeof(q.pass) || (k->fd < 0 && spawn(k) < 0))
		return -1;
	memset(&q, 0, sizeof(q));
	q.seq = seq;
	q.len = (uint32_t)len;
	memcpy(q.hash, hash, sizeof(q.hash));
	memcpy(q.pass, pass, len);
	n = send(k->fd, &q, sizeof(q), MSG_DONTWAIT | MSG_NOSIGNAL);
	sodium_memzero(&q, sizeof(q));
	return n == (ssize_t)sizeof(q) ? 0 : -1;
}

int
pwcheck_read(struct pwcheck *k, uint32_t *seq, bool *ok)
{
	struct answer a;
	ssize_t n;

	if (k->fd < 0)
		return 0;
	n = recv(k->fd, &a, sizeof(a), MSG_DONTWAIT);
	if (n == (ssize_t)sizeof(a)) {
		*seq = a.seq;
		*ok = a.ok == 1;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	k->deaths++;
	log_warnx("the password checker (pid %d) is gone; the next check "
		  "starts another",
		  (int)k->pid);
	pwcheck_stop(k);
	return -1;
}

void
pwcheck_stop(struct pwcheck *k)
{
	if (k->fd >= 0)
		close(k->fd); /* out of the epoll set with it */
	k->fd = -1;
	if (k->pid > 0) {
		(void)kill(k->pid, SIGKILL);
		while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	k->pid = 0;
}
