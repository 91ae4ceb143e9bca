/* SPDX-License-Identifier: MIT */
/*
 * Small files given on the command line. A FIFO, a directory or a device
 * is refused before anything reads it: opening a FIFO for reading waits
 * for a writer, at start-up, where signals are blocked, so nothing could
 * end the program. The checks are made on the file opened, not its name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "smallfile.h"

#define SMALLFILE_MAX (1 << 20)

int
smallfile_open(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int flags, e;

	st->st_mode = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || (flags = fcntl(fd, F_GETFL)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -2;
	}
	if (fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

const char *
smallfile_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a file";
}

static void
say_not_file(const char *path, const char *what, mode_t mode)
{
	log_warnx("%s %s: %s, not a regular file: give the path of the file "
		  "itself",
		  what, path, smallfile_kind(mode));
}

bool
smallfile_check(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		log_warn("%s %s", what, path);
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		say_not_file(path, what, st.st_mode);
		return false;
	}
	return true;
}

char *
smallfile_read(const char *path, const char *what, bool private)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd = smallfile_open(path, &st);

	if (fd == -1) {
		log_warn("%s %s", what, path);
		return NULL;
	}
	if (fd == -2) {
		say_not_file(path, what, st.st_mode);
		return NULL;
	}
	if (st.st_size > SMALLFILE_MAX) {
		log_warnx("%s %s: over 1 MiB", what, path);
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
	close(fd);
	return buf;
}
