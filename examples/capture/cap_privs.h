/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_privs.h - xmbuf-capture's -Z: become an ordinary user once the
 * interface is set up, as tcpdump -Z does, and keep no capability.
 *
 * tcpdump can drop everything because closing its socket is all its
 * teardown needs.  Ours also has an XDP program on the interface, and
 * taking it off with a netlink request needs CAP_NET_ADMIN.  With -Z the
 * program is therefore attached as a bpf_link (XM_PORT_F_XDP_LINK): the
 * kernel takes it off when the last descriptor of the link closes, at
 * the exit of the process, whatever the exit (SIGKILL included), and no
 * privilege is needed for that.  Everything else the capture does after
 * the switch works on descriptors opened before it (the AF_XDP sockets,
 * the program's maps) or on files the user may create.  So every
 * capability goes: effective, permitted, inheritable, ambient and the
 * bounding set; the process runs with the user's uid, gid and groups and
 * can never regain root (PR_SET_NO_NEW_PRIVS, and a check that setuid(0)
 * fails).
 *
 * A privileged helper process that outlives the capture to detach the
 * program was the other design; it keeps a root process around for the
 * whole capture and still leaves the program behind when both are
 * killed, which the link does not.
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
 * Looks user up: a name, or a numeric uid (decimal digits only).
 * uid 0 is accepted only when asked for by the name "root": another name
 * or a number that resolves to it is refused, so that a typo or an id
 * that wraps (4294967296) can never leave the capture running as root.
 * @return 0; -ENOENT for an unknown user; -ERANGE for a numeric id out
 * of range (0 .. 4294967294; (uid_t)-1 means "unchanged" to setresuid);
 * -EPERM for uid 0 under another name than "root"; -ENAMETOOLONG.
 */
int cap_user_lookup(const char *user, struct cap_user *u);

/**
 * Switches to u with no capability left.  @return 0; -errno after
 * writing why into err (the process may then be half-switched: the
 * caller treats it as fatal).
 */
int cap_drop_privileges(const struct cap_user *u, char *err, size_t errlen);

#endif /* CAP_PRIVS_H */
