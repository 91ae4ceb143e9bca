/* SPDX-License-Identifier: MIT */
/* serve --export: the document written atomically beside its path. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"
#include "render.h"

static const char *
kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISLNK(m)  ? "a symbolic link"
			     : "not a regular file";
}

/* The temporary file's template beside path: ".NAME.XXXXXX". */
static int
tmp_template(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash != NULL && slash[1] == '\0')
		return -1;
	n = snprintf(out, len, "%.*s.%s.XXXXXX",
		     slash ? (int)(slash - path + 1) : 0, path,
		     slash ? slash + 1 : path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
output_export_check(const char *path, char *err, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (path[0] == '\0' || tmp_template(path, tmp, sizeof(tmp)) < 0) {
		snprintf(err, len,
			 "the export path is not a usable file name (empty, "
			 "ending in /, or over %d bytes with its temporary "
			 "name): %.100s%s",
			 PATH_MAX, path, strlen(path) > 100 ? "..." : "");
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* Renaming over it would replace it: a device such as
		   /dev/null, a FIFO, a directory. Never. */
		snprintf(err, len,
			 "%s is %s: the export replaces its file at every "
			 "write, so it must be a regular file or not exist "
			 "yet; give a file path",
			 path, kind(st.st_mode));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s",
		 slash ? (int)(slash - path) + (slash == path) : 1,
		 slash ? path : ".");
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, len, "%s: the directory %s does not exist", path,
			 dir);
		return -1;
	}
	return 0;
}

/*
 * The rename makes every export atomic: a reader sees the old document or
 * the new one, whole. Only the last one, at exit, is also made durable
 * before its rename, because it is the one that stays: the probe is often
 * stopped for a shutdown. A periodic export is replaced within seconds,
 * and its fsync would stall the receive loop on the disk (40-60 ms for
 * 100,000 hosts here, seconds on a busy disk). After a crash a periodic
 * export may be the previous one; ext4, Debian's default, also writes a
 * file renamed over another before the rename is committed
 * (auto_da_alloc), so it is not left empty there.
 */
int
output_export(const struct probe *p, const char *path, uint64_t now,
	      bool durable)
{
	struct probe_view v = probe_view(p);
	char tmp[PATH_MAX];
	struct stat st;
	size_t shown;
	FILE *f = NULL;
	int fd, saved;

	if (tmp_template(path, tmp, sizeof(tmp)) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Beside the target (rename() is atomic only within one file
	   system), under a name nobody can guess or pre-create: mkostemp
	   opens with O_CREAT|O_EXCL, which also refuses a symbolic link. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) < 0 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	if (output_document(f, &v, now, &shown) < 0 || fflush(f) != 0 ||
	    (durable && fsync(fd) < 0))
		goto fail;
	fd = -1;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	/* Checked at start too; again here in case the path became a
	   device or a directory since. */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EEXIST;
		goto fail;
	}
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (f != NULL)
		fclose(f); /* closes fd too */
	else if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}
