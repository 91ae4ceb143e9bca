/* SPDX-License-Identifier: MIT */
/*
 * The mailslot API over real sockets on loopback (127.0.0.1 and
 * 127.255.255.255 only), on a high port chosen per process: whole-message
 * reads, too-small buffers, info, timeouts, the size rules, and every drop
 * counter. Waits poll against a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mailslot/slot.h"

static uint16_t base_port;

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct mailslot_server *
server(uint16_t port, const char *unc, size_t max, size_t queue_max,
       bool ignore_own)
{
	struct mailslot_server_opts o;
	struct mailslot_server *s;

	mailslot_server_opts_init(&o);
	o.port = port;
	o.max_message = max;
	o.queue_max = queue_max;
	o.ignore_own = ignore_own;
	o.read_timeout_ms = 2000;
	assert_int_equal(mailslot_create(unc, &o, &s), MAILSLOT_OK);
	return s;
}

static struct mailslot_client *
client(uint16_t port, const char *unc)
{
	static const char *const bcast[] = {"127.255.255.255"};
	struct mailslot_client_opts o;
	struct mailslot_client *c;

	mailslot_client_opts_init(&o);
	o.port = port;
	o.from = "tester";
	o.broadcast = bcast;
	o.n_broadcast = 1;
	assert_int_equal(mailslot_open(unc, &o, &c), MAILSLOT_OK);
	return c;
}

/* Poll until the server has taken N datagrams off its socket. */
static void
wait_datagrams(struct mailslot_server *s, uint64_t n)
{
	uint64_t deadline = mono_ms() + 3000;
	struct mailslot_info info;

	for (;;) {
		struct pollfd p = {mailslot_fd(s), POLLIN, 0};
		assert_int_equal(mailslot_info(s, &info), MAILSLOT_OK);
		if (mailslot_stats(s)->datagrams >= n)
			return;
		assert_true(mono_ms() < deadline);
		poll(&p, 1, 50);
	}
}

/* Send raw bytes from 127.0.0.1:src_port to 127.0.0.1:port. */
static void
send_raw(uint16_t src_port, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in sin = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(src_port);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_port = htons(port);
	assert_int_equal(
		sendto(fd, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin)),
		(ssize_t)len);
	close(fd);
}

static size_t
encode(const char *path, const char *data, uint16_t id, uint8_t *out)
{
	struct mailslot_dgram d = {0};
	size_t used;

	d.msg_type = MAILSLOT_DIRECT_UNIQUE;
	d.flags = MAILSLOT_FLAG_FIRST;
	d.dgm_id = id;
	d.src_ip = INADDR_LOOPBACK;
	d.src_port = 138;
	assert_int_equal(mailslot_nbname_set(&d.src_name, "RAW", 0),
			 MAILSLOT_OK);
	assert_int_equal(mailslot_nbname_set(&d.dst_name, "*", 0), MAILSLOT_OK);
	strcpy(d.path, path);
	d.data = (const uint8_t *)data;
	d.data_len = strlen(data);
	assert_int_equal(mailslot_dgram_encode(&d, MAILSLOT_STYLE_UNPADDED, out,
					       1024, &used),
			 MAILSLOT_OK);
	return used;
}

static void
test_create_rejects_remote_names(void **state)
{
	struct mailslot_server_opts o;
	struct mailslot_server *s;
	(void)state;

	mailslot_server_opts_init(&o);
	o.port = base_port;
	assert_int_equal(mailslot_create("\\\\*\\mailslot\\x", &o, &s),
			 MAILSLOT_E_UNC_NOT_LOCAL);
	assert_null(s);
	assert_int_equal(mailslot_create("\\\\host\\mailslot\\x", &o, &s),
			 MAILSLOT_E_UNC_NOT_LOCAL);
	assert_int_equal(mailslot_create("mailslot\\x", &o, &s),
			 MAILSLOT_E_UNC_PREFIX);
}

static void
test_unique_write_and_metadata(void **state)
{
	uint16_t port = base_port + 1;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\slot", 0, 0, false);
	struct mailslot_client *c =
		client(port, "\\\\127.0.0.1\\mailslot\\SLOT");
	struct mailslot_meta m;
	char buf[64], name[64];
	uint64_t before = mono_ms();
	size_t len;
	(void)state;

	assert_int_equal(mailslot_write(c, "hello", 5), MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, &m),
			 MAILSLOT_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(m.len, 5);
	assert_int_equal(m.src_ip, INADDR_LOOPBACK);
	/* Unicast to this host leaves from an ephemeral port (client.c). */
	assert_int_not_equal(m.src_port, port);
	assert_int_equal(m.dst_ip, INADDR_LOOPBACK);
	assert_int_equal(m.nbt_src_ip, INADDR_LOOPBACK);
	assert_string_equal(m.ifname, "lo");
	assert_true(m.ifindex > 0);
	assert_int_equal(m.msg_type, MAILSLOT_DIRECT_UNIQUE);
	mailslot_nbname_format(&m.src_name, name, sizeof(name));
	assert_string_equal(name, "TESTER<00>");
	mailslot_nbname_format(&m.dst_name, name, sizeof(name));
	assert_string_equal(name, "*<00>");
	assert_string_equal(m.path, "\\MAILSLOT\\SLOT");
	assert_true(m.received_ms >= before && m.received_ms <= mono_ms());
	mailslot_client_close(c);
	mailslot_close(s);
}

static void
test_boundaries_kept(void **state)
{
	uint16_t port = base_port + 2;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\b", 0, 0, false);
	struct mailslot_client *c = client(port, "\\\\*\\mailslot\\b");
	static char big[400], buf[1000];
	size_t len;
	(void)state;

	memset(big, 'z', sizeof(big));
	assert_int_equal(mailslot_write(c, "a", 1), MAILSLOT_OK);
	assert_int_equal(mailslot_write(c, "", 0), MAILSLOT_OK);
	assert_int_equal(mailslot_write(c, big, sizeof(big)), MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_int_equal(len, 1);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_int_equal(len, 0);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	mailslot_client_close(c);
	mailslot_close(s);
}

/* A recvmmsg that emptied the socket is not followed by another that
   finds nothing: once its datagrams are taken, a read without waiting says
   "nothing now" without asking; the next read asks, and nothing is lost. */
static void
test_emptied_batch_then_more(void **state)
{
	uint16_t port = base_port + 10;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\e", 0, 0, false);
	struct mailslot_client *c = client(port, "\\\\*\\mailslot\\e");
	char buf[64];
	size_t len;
	(void)state;

	mailslot_set_timeout(s, 0);
	assert_int_equal(mailslot_write(c, "one", 3), MAILSLOT_OK);
	assert_int_equal(mailslot_write(c, "two", 3), MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_memory_equal(buf, "two", 3);
	/* Loopback has queued it before the write returns. */
	assert_int_equal(mailslot_write(c, "three", 5), MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_E_TIMEOUT);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "three", 5);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_E_TIMEOUT);
	/* Waiting, the read asks the socket at once. */
	mailslot_set_timeout(s, 2000);
	assert_int_equal(mailslot_write(c, "four", 4), MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_memory_equal(buf, "four", 4);
	mailslot_client_close(c);
	mailslot_close(s);
}

static void
test_small_buffer_keeps_message_and_info(void **state)
{
	uint16_t port = base_port + 3;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\i", 0, 0, false);
	struct mailslot_client *c = client(port, "\\\\*\\mailslot\\i");
	struct mailslot_info info;
	char buf[200];
	size_t len;
	(void)state;

	assert_int_equal(mailslot_info(s, &info), MAILSLOT_OK);
	assert_int_equal(info.count, 0);
	assert_true(info.next_size == MAILSLOT_NO_MESSAGE);
	assert_int_equal(info.read_timeout_ms, 2000);
	assert_int_equal(info.max_message, 0);

	memset(buf, 'q', 100);
	assert_int_equal(mailslot_write(c, buf, 100), MAILSLOT_OK);
	assert_int_equal(mailslot_write(c, buf, 7), MAILSLOT_OK);
	wait_datagrams(s, 2);
	assert_int_equal(mailslot_info(s, &info), MAILSLOT_OK);
	assert_int_equal(info.count, 2);
	assert_int_equal(info.next_size, 100);

	assert_int_equal(mailslot_read(s, buf, 10, &len, NULL),
			 MAILSLOT_E_BUFFER_SMALL);
	assert_int_equal(len, 100);
	assert_int_equal(mailslot_info(s, &info), MAILSLOT_OK);
	assert_int_equal(info.count, 2);
	assert_int_equal(mailslot_read(s, buf, 100, &len, NULL), MAILSLOT_OK);
	assert_int_equal(len, 100);
	assert_int_equal(mailslot_info(s, &info), MAILSLOT_OK);
	assert_int_equal(info.count, 1);
	assert_int_equal(info.next_size, 7);
	mailslot_client_close(c);
	mailslot_close(s);
}

static void
test_timeouts(void **state)
{
	uint16_t port = base_port + 4;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\t", 0, 0, false);
	struct mailslot_info info;
	uint64_t t0;
	char buf[8];
	size_t len;
	(void)state;

	mailslot_set_timeout(s, 0);
	t0 = mono_ms();
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_E_TIMEOUT);
	assert_true(mono_ms() - t0 < 1000);
	mailslot_set_timeout(s, 150);
	assert_int_equal(mailslot_info(s, &info), MAILSLOT_OK);
	assert_int_equal(info.read_timeout_ms, 150);
	t0 = mono_ms();
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_E_TIMEOUT);
	assert_true(mono_ms() - t0 >= 149);
	mailslot_close(s);
}

static void
test_drops_counted_by_reason(void **state)
{
	uint16_t port = base_port + 5;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\d", 50, 0, false);
	const struct mailslot_stats *st = mailslot_stats(s);
	uint8_t dg[1024], bad[1024];
	char fits[51], over[52], buf[64];
	size_t n, len;
	(void)state;

	memset(fits, 'o', 50);
	fits[50] = '\0';
	memset(over, 'p', 51);
	over[51] = '\0';
	n = encode("\\MAILSLOT\\d", "once", 42, dg);
	send_raw(port + 100, port, dg, n);
	send_raw(port + 100, port, dg, n); /* duplicate */
	n = encode("\\MAILSLOT\\other", "x", 43, dg);
	send_raw(port + 100, port, dg, n);    /* other slot */
	send_raw(port + 100, port, "xyz", 3); /* truncated */
	n = encode("\\MAILSLOT\\d", "y", 44, bad);
	bad[82] = 0xfe;
	send_raw(port + 100, port, bad, n); /* not SMB */
	n = encode("\\MAILSLOT\\d", fits, 45, dg);
	send_raw(port + 100, port, dg, n); /* 50: fits */
	n = encode("\\MAILSLOT\\d", over, 46, dg);
	send_raw(port + 100, port, dg, n); /* oversize */
	wait_datagrams(s, 7);
	assert_int_equal(st->datagrams, 7);
	assert_int_equal(st->messages, 2);
	assert_int_equal(st->duplicates, 1);
	assert_int_equal(st->other_slot, 1);
	assert_int_equal(st->invalid[MAILSLOT_E_TRUNCATED], 1);
	assert_int_equal(st->invalid[MAILSLOT_E_SMB_MAGIC], 1);
	assert_int_equal(st->oversize, 1);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_memory_equal(buf, "once", 4);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_int_equal(len, 50);
	mailslot_close(s);
}

static void
test_queue_bound_and_ignore_own(void **state)
{
	uint16_t port = base_port + 6;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\q", 0, 2, true);
	const struct mailslot_stats *st = mailslot_stats(s);
	struct mailslot_client *c = client(port, "\\\\*\\mailslot\\q");
	struct mailslot_info info;
	uint8_t dg[1024];
	size_t n, i;
	(void)state;

	/* From our own address and port: our own broadcast, ignored. */
	assert_int_equal(mailslot_write(c, "mine", 4), MAILSLOT_OK);
	for (i = 0; i < 3; i++) {
		n = encode("\\MAILSLOT\\q", "theirs", (uint16_t)(100 + i), dg);
		send_raw(port + 1000, port, dg, n);
	}
	/* A full queue leaves the rest in the socket (a flood overflows
	   the kernel's buffer, counted there, not our queue). */
	wait_datagrams(s, 3);
	assert_int_equal(st->own, 1);
	assert_int_equal(st->messages, 2);
	assert_int_equal(mailslot_info(s, &info), MAILSLOT_OK);
	assert_int_equal(info.count, 2);
	assert_int_equal(st->datagrams, 3);
	assert_int_equal(mailslot_read(s, dg, sizeof(dg), &n, NULL),
			 MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, dg, sizeof(dg), &n, NULL),
			 MAILSLOT_OK);
	wait_datagrams(s, 4);
	assert_int_equal(st->messages, 3);
	assert_int_equal(st->queue_full, 0);
	mailslot_client_close(c);
	mailslot_close(s);
}

static void
test_broadcast_size_limit(void **state)
{
	uint16_t port = base_port + 7;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\beacon", 0, 0, false);
	struct mailslot_client *c = client(port, "\\\\*\\mailslot\\beacon");
	static char msg[425], buf[1024];
	size_t len;
	(void)state;

	memset(msg, 'm', sizeof(msg));
	assert_int_equal(mailslot_client_max(c), 424);
	assert_int_equal(mailslot_write(c, msg, 425), MAILSLOT_E_TOO_BIG);
	assert_int_equal(mailslot_write(c, msg, 424), MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, NULL),
			 MAILSLOT_OK);
	assert_int_equal(len, 424);
	/* The refused write went first on the same path: had it been sent,
	   the server would have taken it before the 424-byte one. */
	assert_int_equal(mailslot_stats(s)->datagrams, 1);
	mailslot_client_close(c);
	mailslot_close(s);
}

static void
test_local_write(void **state)
{
	uint16_t port = base_port + 8;
	struct mailslot_server *s =
		server(port, "\\\\.\\mailslot\\loc", 0, 0, false);
	struct mailslot_client *c = client(port, "\\\\.\\mailslot\\loc");
	struct mailslot_meta m;
	char buf[16];
	size_t len;
	(void)state;

	assert_true(mailslot_client_max(c) > 60000);
	assert_int_equal(mailslot_client_ndest(c), 1);
	assert_int_equal(mailslot_client_dest(c, 0), INADDR_LOOPBACK);
	assert_int_equal(mailslot_write(c, "here", 4), MAILSLOT_OK);
	assert_int_equal(mailslot_read(s, buf, sizeof(buf), &len, &m),
			 MAILSLOT_OK);
	assert_int_equal(m.msg_type, MAILSLOT_DIRECT_UNIQUE);
	assert_int_equal(m.dst_ip, INADDR_LOOPBACK);
	mailslot_client_close(c);
	mailslot_close(s);
}

static void
test_open_errors(void **state)
{
	const char *bad[] = {"255.255.255.255"}, *junk[] = {"not-an-ip"},
		   *none[] = {"0.0.0.0"}, *ifs[] = {"nonexistent0"};
	struct mailslot_client_opts o;
	struct mailslot_client *c;
	(void)state;

	mailslot_client_opts_init(&o);
	o.port = base_port + 9;
	o.from = "tester";
	o.broadcast = bad;
	o.n_broadcast = 1;
	assert_int_equal(mailslot_open("\\\\*\\mailslot\\x", &o, &c),
			 MAILSLOT_E_BROADCAST_ADDR);
	o.broadcast = junk;
	assert_int_equal(mailslot_open("\\\\*\\mailslot\\x", &o, &c),
			 MAILSLOT_E_BROADCAST_ADDR);
	o.broadcast = none;
	assert_int_equal(mailslot_open("\\\\*\\mailslot\\x", &o, &c),
			 MAILSLOT_E_BROADCAST_ADDR);
	o.n_broadcast = 0;
	o.interfaces = ifs;
	o.n_interfaces = 1;
	assert_int_equal(mailslot_open("\\\\*\\mailslot\\x", &o, &c),
			 MAILSLOT_E_NO_INTERFACE);
	o.n_interfaces = 0;
	o.from = "bad.name";
	assert_int_equal(mailslot_open("\\\\127.0.0.1\\mailslot\\x", &o, &c),
			 MAILSLOT_E_NAME_INVALID);
	o.from = "tester";
	o.workgroup = "WAY-TOO-LONG-WORKGROUP";
	assert_int_equal(mailslot_open("\\\\*\\mailslot\\x", &o, &c),
			 MAILSLOT_E_NAME_INVALID);
	assert_int_equal(mailslot_open("\\\\*\\pipe\\x", &o, &c),
			 MAILSLOT_E_UNC_MAILSLOT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects_remote_names),
		cmocka_unit_test(test_unique_write_and_metadata),
		cmocka_unit_test(test_boundaries_kept),
		cmocka_unit_test(test_emptied_batch_then_more),
		cmocka_unit_test(test_small_buffer_keeps_message_and_info),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_drops_counted_by_reason),
		cmocka_unit_test(test_queue_bound_and_ignore_own),
		cmocka_unit_test(test_broadcast_size_limit),
		cmocka_unit_test(test_local_write),
		cmocka_unit_test(test_open_errors),
	};
	/* A high port per process, so parallel test runs do not meet. */
	base_port = (uint16_t)(20000 + (getpid() % 2000) * 20);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
