/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_redirect_shared.h - what the XDP redirect program and the port layer
 * (userspace/xdp.c, userspace/port_io.c) must agree on: map layouts and the
 * metadata the program leaves in front of each packet.  Included by BPF
 * code (types from vmlinux.h) and by userspace (types from linux/types.h);
 * xdp-tools' KERN_USER_H style.
 *
 * Metadata layout in a received frame (copy mode copies it too):
 *
 *   desc.addr - sizeof(struct xm_xdp_meta)      desc.addr
 *   |                                           |
 *   v                                           v
 *   +-------------------------------------------+----------------------+
 *   | rx_tstamp | rx_hash | hash_type | flags | magic | packet bytes ... |
 *   +-------------------------------------------+----------------------+
 *
 * magic sits last, adjacent to the packet, so a reader checks the one
 * word the program wrote last.  The port clears it after reading so a
 * recycled frame never presents stale metadata as fresh.
 */
#ifndef XM_REDIRECT_SHARED_H
#define XM_REDIRECT_SHARED_H

#define XM_XDP_MAX_RULES	16	/* = XM_PORT_MAX_RULES */
#define XM_XDP_MAX_QUEUES	256	/* xskmap entries (queue ids) */

#define XM_XDP_META_MAGIC	0x584d4d31	/* "XMM1" */

/* xm_xdp_meta.flags */
#define XM_XDP_META_F_TSTAMP	0x0001	/* rx_tstamp valid */
#define XM_XDP_META_F_TSTAMP_HW	0x0002	/* ... and from the driver */
#define XM_XDP_META_F_HASH	0x0004	/* rx_hash / hash_type valid */

struct xm_xdp_meta {
	__u64 rx_tstamp;		/* ns: driver's clock or MONOTONIC */
	__u32 rx_hash;			/* RSS hash from the driver */
	__u32 hash_type;		/* enum xdp_rss_hash_type */
	__u32 flags;			/* XM_XDP_META_F_* */
	__u32 magic;			/* XM_XDP_META_MAGIC, last */
};
/* bpf_xdp_adjust_meta() takes a multiple of 4 bytes, at most 32. */
_Static_assert(sizeof(struct xm_xdp_meta) % 4 == 0 &&
	       sizeof(struct xm_xdp_meta) <= 32, "xdp metadata size");

/* xm_xdp_rule.match: same bits as XM_RULE_M_* in xm_port.h */
#define XM_XDP_M_PROTO		0x01
#define XM_XDP_M_DST_PORT	0x02
#define XM_XDP_M_VLAN		0x04
#define XM_XDP_M_SRC		0x08
#define XM_XDP_M_DST		0x10
#define XM_XDP_M_FAMILY		0x20
#define XM_XDP_M_SRC_PORT	0x40

#define XM_XDP_FAMILY_IPV4	4
#define XM_XDP_FAMILY_IPV6	6

/* One steering rule as the program reads it; addresses pre-masked. */
struct xm_xdp_rule {
	__u32 match;			/* XM_XDP_M_* */
	__u8 family;			/* XM_XDP_FAMILY_* */
	__u8 ip_proto;
	__u16 dst_port;			/* network byte order */
	__u16 vlan_id;			/* host order, 0 = untagged */
	__u16 src_port;			/* network byte order */
	__u32 src[4];			/* network order, already masked */
	__u32 src_mask[4];
	__u32 dst[4];
	__u32 dst_mask[4];
};

/* xm_xdp_ruleset.flags */
#define XM_XDP_SET_ALL		0x0001	/* steer every packet; rules unused */

/*
 * A whole rule set, published at once.  The program reaches it through
 * the array-of-maps "xm_rules": its one slot holds an inner array map
 * whose one value is this.  Userspace never changes a published set: it
 * builds the next one in a new inner map and swaps the slot with one
 * update, which the program sees whole or not at all (the kernel frees
 * the old map once no program run can still hold it).
 *
 *   xm_rules[0] --> inner map { nrules, flags, rules[0 .. nrules) }
 *   slot empty, or nrules 0 without XM_XDP_SET_ALL: nothing is steered
 */
struct xm_xdp_ruleset {
	__u32 nrules;			/* rules in use, 0 .. XM_XDP_MAX_RULES */
	__u32 flags;			/* XM_XDP_SET_* */
	struct xm_xdp_rule rules[XM_XDP_MAX_RULES];
};

/* xm_xdp_config.flags */
#define XM_XDP_CFG_META		0x0001	/* write struct xm_xdp_meta */

/* Who attached the program, so a later process can tell a dead owner's
 * program from a live one (kept in the config map: the kernel lists only
 * the maps a program uses among its map ids). */
struct xm_xdp_owner {
	__u32 pid;			/* tgid of the owner */
	__u32 pad;
	__u64 pidns_ino;		/* inode of its pid namespace */
	__u64 start_time;		/* /proc/pid/stat starttime (ticks) */
};

/* Array map "xm_config", one entry, written by userspace. */
struct xm_xdp_config {
	__u32 pad;			/* was the rule count: the rule set
					 * lives in "xm_rules" now, whole */
	__u32 flags;			/* XM_XDP_CFG_* */
	struct xm_xdp_owner owner;	/* read by other processes only */
};

/* Per-CPU counters, one entry of map "xm_stats". */
struct xm_xdp_stats {
	__u64 seen;			/* packets the program ran on */
	__u64 redirected;		/* matched, handed to a socket */
	__u64 no_socket;		/* matched, no socket: passed */
	__u64 passed;			/* matched no rule (or no rule set
					 * published): passed */
	__u64 meta_failed;		/* bpf_xdp_adjust_meta refused */
	__u64 rule_hits[XM_XDP_MAX_RULES];
};

#endif /* XM_REDIRECT_SHARED_H */
