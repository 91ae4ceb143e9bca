/* SPDX-License-Identifier: MIT */
/* Small files a program is given: certificates, password files, keyrings. */
#ifndef BEACON_SMALLFILE_H
#define BEACON_SMALLFILE_H

#include <stdbool.h>
#include <sys/stat.h>

/* path opened for reading without waiting on it: a FIFO or a device is
   opened non-blocking (a FIFO without a writer does not block then) and
   refused, so nothing hangs before the check. The descriptor of a regular
   file (blocking again, O_CLOEXEC) with *st filled; -2 when it is not a
   regular file (*st filled, nothing left open); -1 with errno when it
   cannot be opened. Logs nothing (the keyring's library uses it). */
int smallfile_open(const char *path, struct stat *st);

/* What a file of this mode is, for messages: "a FIFO (named pipe)",
   "a directory", "a character device"... */
const char *smallfile_kind(mode_t mode);

/* For a path handed to a library that opens it itself (--mqtt-cafile):
   stat() it, without opening it; false with why logged, naming the option
   what, unless it is a regular file. */
bool smallfile_check(const char *path, const char *what);

/* The whole file (a regular file of at most 1 MiB), NUL-terminated, to
   free(); NULL with why logged, naming the option what. private: refused
   when others may read or write it, or another user owns it (root may). */
char *smallfile_read(const char *path, const char *what, bool private);

#endif
