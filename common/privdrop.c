/* SPDX-License-Identifier: MIT */
/*
 * Dropping root (privdrop.h): the user's uid, gid and groups, and of all
 * capabilities only CAP_NET_BIND_SERVICE, in the permitted and effective
 * sets and the bounding set. Raw prctl and capset: no libcap.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

static int
fail(char *err, size_t len, const char *what)
{
	snprintf(err, len, "%s: %s", what, strerror(errno));
	return -1;
}

int
privdrop(const char *user, char *err, size_t len)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	struct passwd pw, *found = NULL;
	char buf[4096];
	unsigned long cap;
	uid_t uid;
	gid_t gid;
	int rc;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &found);
	if (rc != 0 || found == NULL) {
		snprintf(err, len,
			 "no user %s (--user takes a user name from the "
			 "password database)",
			 user);
		return -1;
	}
	uid = pw.pw_uid;
	gid = pw.pw_gid;
	if (uid == 0) {
		snprintf(err, len,
			 "--user %s is root: give an unprivileged "
			 "user",
			 user);
		return -1;
	}
	if (geteuid() != 0) {
		snprintf(err, len, "--user needs to start as root");
		return -1;
	}
	/* Nothing but the one capability can ever come back. */
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap != CAP_NET_BIND_SERVICE &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return fail(err, len, "dropping the bounding set");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return fail(err, len, "PR_SET_KEEPCAPS");
	if (initgroups(user, gid) < 0)
		return fail(err, len, "initgroups");
	if (setresgid(gid, gid, gid) < 0)
		return fail(err, len, "setresgid");
	if (setresuid(uid, uid, uid) < 0)
		return fail(err, len, "setresuid");
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail(err, len, "capset");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fail(err, len, "PR_SET_KEEPCAPS");
	/* Checked, not assumed: root must be gone for good. */
	if (setresuid(0, 0, 0) == 0 || getuid() != uid || geteuid() != uid ||
	    getgid() != gid) {
		snprintf(err, len,
			 "root could be taken back after dropping it");
		return -1;
	}
	return 0;
}

int
privdrop_logged(const char *user, bool note_root)
{
	char err[256];

	if (user == NULL) {
		if (note_root && geteuid() == 0)
			log_info("running as root: --user NAME would keep only "
				 "CAP_NET_BIND_SERVICE");
		return 0;
	}
	if (privdrop(user, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	log_info("running as %s, with CAP_NET_BIND_SERVICE only", user);
	return 0;
}
