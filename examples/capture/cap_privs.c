// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_privs.c - the -Z privilege drop (why nothing needs to stay:
 * cap_privs.h).
 *
 * Order matters: the bounding set first (dropping from it takes
 * CAP_SETPCAP, which goes later), the ambient set, groups and gid while
 * still root, then the uid with KEEPCAPS clear, so that leaving uid 0
 * clears the permitted and effective sets, then capset() to zero for
 * what a switch to uid 0 (-Z root) keeps, and last the checks: no
 * capability in any set, the ids are the user's, root cannot come back.
 *
 * KPI (example-private): cap_user_lookup, cap_drop_privileges
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cap_privs.h"

/* Capabilities a kernel may know of: the bounding set is walked up to
 * here and the numbers it does not have are skipped (EINVAL). */
#define CAP_PRIVS_CAP_MAX	63

/* A uid made of decimal digits only (no sign, no blanks, which strtoul
 * would take), up to the largest valid id.  @return 0, -ENOENT when it
 * is not a number, -ERANGE when it is one out of range. */
static int parse_uid(const char *s, uid_t *uid)
{
	uint64_t v = 0;

	if (!*s)
		return -ENOENT;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -ENOENT;
		v = v * 10 + (uint64_t)(*p - '0');
		/* (uid_t)-1 is "leave unchanged" to setresuid(2) */
		if (v >= (uid_t)-1)
			return -ERANGE;
	}
	*uid = (uid_t)v;
	return 0;
}

int cap_user_lookup(const char *user, struct cap_user *u)
{
	struct passwd pwbuf, *pw = NULL;
	char buf[4096];
	uid_t id;
	int err;

	if (!user || !*user)
		return -ENOENT;
	if (getpwnam_r(user, &pwbuf, buf, sizeof(buf), &pw) != 0 || !pw) {
		/* a numeric uid, as in "-Z 65534" */
		err = parse_uid(user, &id);
		if (err)
			return err;
		if (getpwuid_r(id, &pwbuf, buf, sizeof(buf), &pw) != 0 || !pw)
			return -ENOENT;
	}
	if (pw->pw_uid == (uid_t)-1 || pw->pw_gid == (gid_t)-1)
		return -ERANGE;
	if (pw->pw_uid == 0 && strcmp(user, "root") != 0)
		return -EPERM;
	if (strlen(pw->pw_name) >= sizeof(u->name))
		return -ENAMETOOLONG;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

static int capset_none(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	return 0;
}

/* True when the effective, permitted, inheritable and bounding sets are
 * empty. */
static bool caps_empty(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	for (unsigned int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable)
			return false;
	/* nor the bounding set (ambient is a subset of permitted) */
	for (unsigned int c = 0; c <= CAP_PRIVS_CAP_MAX; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			return false;
	return true;
}

int cap_drop_privileges(const struct cap_user *u, char *err, size_t errlen)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int ret;

#define FAIL(what)							\
	do {								\
		ret = -errno;						\
		snprintf(err, errlen, "%s: %s", what, strerror(errno));	\
		return ret;						\
	} while (0)

	for (unsigned int c = 0; c <= CAP_PRIVS_CAP_MAX; c++) {
		/* EINVAL: a capability this kernel does not have */
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
			FAIL("prctl(PR_CAPBSET_DROP)");
	}
	/* EINVAL: a kernel without ambient capabilities (before 4.3) */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL)
		FAIL("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		FAIL("prctl(PR_SET_KEEPCAPS, 0)");
	if (initgroups(u->name, u->gid) != 0)
		FAIL("initgroups");
	if (setresgid(u->gid, u->gid, u->gid) != 0)
		FAIL("setresgid");
	if (setresuid(u->uid, u->uid, u->uid) != 0)
		FAIL("setresuid");
	ret = capset_none();
	if (ret) {
		errno = -ret;
		FAIL("capset");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		FAIL("prctl(PR_SET_NO_NEW_PRIVS)");
#undef FAIL

	if (!caps_empty()) {
		snprintf(err, errlen, "capabilities left after the switch");
		return -EPERM;
	}
	if (getresuid(&ruid, &euid, &suid) != 0 ||
	    getresgid(&rgid, &egid, &sgid) != 0 ||
	    ruid != u->uid || euid != u->uid || suid != u->uid ||
	    rgid != u->gid || egid != u->gid || sgid != u->gid) {
		snprintf(err, errlen, "the ids did not all change");
		return -EPERM;
	}
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root could be regained after -Z");
		return -EPERM;
	}
	return 0;
}
