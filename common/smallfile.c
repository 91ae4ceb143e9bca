/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "smallfile.h"

char *
smallfile_read(const char *path, const char *what, bool private)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		log_warn("%s %s", what, path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > 1 << 20) {
		log_warnx("%s %s: not a regular file of at most 1 MiB", what,
			  path);
		goto fail;
	}
	if (private && ((st.st_mode & (S_IRWXG | S_IRWXO)) ||
			(st.st_uid != geteuid() && st.st_uid != 0))) {
		log_warnx("%s %s: readable or writable by others, or owned by "
			  "another user: chmod 600 it",
			  what, path);
		goto fail;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (buf == NULL || (n = read(fd, buf, (size_t)st.st_size)) < 0 ||
	    n != st.st_size) {
		log_warn("%s %s", what, path);
		free(buf);
		buf = NULL;
	}
fail:
	if (fd >= 0)
		close(fd);
	return buf;
}
