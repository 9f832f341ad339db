/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_privs.h - xmbuf-capture's -Z: become an ordinary user once the
 * interface is set up, as tcpdump -Z does.
 *
 * tcpdump can drop everything because closing its socket is all its
 * teardown needs.  Ours also detaches an XDP program from the interface
 * at exit, which takes CAP_NET_ADMIN (a netlink request), so that one
 * capability is kept across the switch (PR_SET_KEEPCAPS) and every
 * other one, the bounding set's included, is given up: the process runs
 * with the user's uid, gid and groups, creates files as that user, can
 * no longer read what root can, and can never regain root
 * (PR_SET_NO_NEW_PRIVS).
 */
#ifndef CAP_PRIVS_H
#define CAP_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct cap_user {
	char name[64];			/* login name */
	uid_t uid;			/* its uid */
	gid_t gid;			/* primary group */
};

/**
 * Looks user up (a name, or a numeric uid).  @return 0; -ENOENT for an
 * unknown user; -ENAMETOOLONG.
 */
int cap_user_lookup(const char *user, struct cap_user *u);

/**
 * Switches to u, keeping CAP_NET_ADMIN only.  @return 0; -errno after
 * writing why into err (the process may then be half-switched: the
 * caller treats it as fatal).
 */
int cap_drop_privileges(const struct cap_user *u, char *err, size_t errlen);

#endif /* CAP_PRIVS_H */
