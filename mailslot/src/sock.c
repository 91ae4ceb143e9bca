/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

enum mailslot_err
sock_bind_udp(uint32_t addr, uint16_t port, int *fd)
{
	struct sockaddr_in sin;
	int one = 1, s, saved;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return MAILSLOT_E_SYSTEM;
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(addr);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (errno == EACCES && port < 1024) {
			close(s);
			return MAILSLOT_E_PRIVILEGED_PORT;
		}
		goto fail;
	}
	*fd = s;
	return MAILSLOT_OK;
fail:
	saved = errno;
	close(s);
	errno = saved;
	return MAILSLOT_E_SYSTEM;
}
