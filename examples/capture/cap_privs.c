// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_privs.c - the -Z privilege drop (why CAP_NET_ADMIN stays:
 * cap_privs.h).
 *
 * Order matters: the bounding set first (dropping from it takes
 * CAP_SETPCAP, which goes later), groups and gid while still root, then
 * the uid with KEEPCAPS set (else the switch clears the permitted set),
 * then the capability sets cut down to CAP_NET_ADMIN, and last a check
 * that root cannot come back.
 *
 * KPI (example-private): cap_user_lookup, cap_drop_privileges
 */
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

#include "cap_privs.h"

int cap_user_lookup(const char *user, struct cap_user *u)
{
	struct passwd pwbuf, *pw = NULL;
	char buf[4096];
	char *end;
	unsigned long id;

	if (!user || !*user)
		return -ENOENT;
	if (getpwnam_r(user, &pwbuf, buf, sizeof(buf), &pw) != 0 || !pw) {
		/* a numeric uid, as in "-Z 65534" */
		id = strtoul(user, &end, 10);
		if (*end || end == user ||
		    getpwuid_r((uid_t)id, &pwbuf, buf, sizeof(buf), &pw) != 0 ||
		    !pw)
			return -ENOENT;
	}
	if (strlen(pw->pw_name) >= sizeof(u->name))
		return -ENAMETOOLONG;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

static int capset_keep(unsigned int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	data[cap / 32].effective = 1u << (cap % 32);
	data[cap / 32].permitted = 1u << (cap % 32);
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	return 0;
}

int cap_drop_privileges(const struct cap_user *u, char *err, size_t errlen)
{
	int ret;

#define FAIL(what)							\
	do {								\
		ret = -errno;						\
		snprintf(err, errlen, "%s: %s", what, strerror(errno));	\
		return ret;						\
	} while (0)

	for (unsigned int c = 0; c <= CAP_LAST_CAP; c++) {
		/* EINVAL: a capability this kernel does not have */
		if (c != CAP_NET_ADMIN &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
			FAIL("prctl(PR_CAPBSET_DROP)");
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		FAIL("prctl(PR_SET_KEEPCAPS)");
	if (initgroups(u->name, u->gid) != 0)
		FAIL("initgroups");
	if (setresgid(u->gid, u->gid, u->gid) != 0)
		FAIL("setresgid");
	if (setresuid(u->uid, u->uid, u->uid) != 0)
		FAIL("setresuid");
	ret = capset_keep(CAP_NET_ADMIN);
	if (ret) {
		errno = -ret;
		FAIL("capset");
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		FAIL("prctl(PR_SET_KEEPCAPS, 0)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		FAIL("prctl(PR_SET_NO_NEW_PRIVS)");
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root could be regained after -Z");
		return -EPERM;
	}
#undef FAIL
	return 0;
}
