/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_decap_shared.h - what examples/decap/xm_decap.bpf.c and its loader
 * (examples/decap/decap.c, `xmbuf-decap`) agree on: the configuration
 * map's entry and the statistics map's entry.  Included by BPF code
 * (types from vmlinux.h) and by user space (types from linux/types.h).
 */
#ifndef XM_DECAP_SHARED_H
#define XM_DECAP_SHARED_H

/* xm_decap_config.flags */
#define XM_DECAP_F_GUE		0x0001	/* decapsulate UDP to gue_port */
#define XM_DECAP_F_SRC_CHECK	0x0002	/* outer source must be in
					 * xm_decap_src (default deny) */
#define XM_DECAP_F_DST_CHECK	0x0004	/* outer destination must be in
					 * xm_decap_dst (a local address) */
#define XM_DECAP_F_READY	0x0008	/* written last by the loader: until
					 * then nothing is stripped */

#define XM_DECAP_MAX_PREFIXES	256	/* entries of each prefix map */

/*
 * Key of the LPM-trie maps "xm_decap_src" (balancers' source prefixes)
 * and "xm_decap_dst" (this host's addresses): one trie for both
 * families, an IPv4 address as IPv4-mapped IPv6 (::ffff:a.b.c.d, its
 * prefix length plus 96), so a lookup is one call whatever the family.
 * The value is one byte, unused.
 */
struct xm_decap_prefix {
	__u32 prefixlen;		/* bits of addr that count */
	__u8 addr[16];			/* network order */
};

/* Array map "xm_decap_cfg", one entry, written by the loader. */
struct xm_decap_config {
	__u32 flags;			/* XM_DECAP_F_* */
	__u16 gue_port;			/* network byte order */
	__u16 pad;
};

/* Per-CPU array map "xm_decap_stats", one entry. */
struct xm_decap_stats {
	__u64 seen;			/* packets the program ran on */
	__u64 ipip;			/* IPv4 outer, IPv4 inner (proto 4) */
	__u64 ip6in4;			/* IPv4 outer, IPv6 inner (proto 41) */
	__u64 ip6ip6;			/* IPv6 outer, IPv6 inner (nh 41) */
	__u64 ip4in6;			/* IPv6 outer, IPv4 inner (nh 4) */
	__u64 gue;			/* GUE (either variant), any versions */
	__u64 passed;			/* not a tunnel packet: untouched */
	__u64 malformed;		/* looked like one, did not parse:
					 * passed untouched for the stack to
					 * judge */
	__u64 fragmented;		/* outer fragment: cannot strip, passed */
	__u64 failed;			/* bpf_xdp_adjust_head() refused */
	__u64 refused_src;		/* tunnel packet dropped: outer source
					 * not an allowed balancer prefix */
	__u64 refused_dst;		/* tunnel packet dropped: outer
					 * destination not a local address */
};

#endif /* XM_DECAP_SHARED_H */
