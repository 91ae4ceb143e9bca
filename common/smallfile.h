/* SPDX-License-Identifier: MIT */
/* Small files a program is given: certificates, password files. */
#ifndef BEACON_SMALLFILE_H
#define BEACON_SMALLFILE_H

#include <stdbool.h>

/* The whole file (a regular file of at most 1 MiB), NUL-terminated, to
   free(); NULL with why logged, naming the option what. private: refused
   when others may read or write it, or another user owns it (root may). */
char *smallfile_read(const char *path, const char *what, bool private);

#endif
