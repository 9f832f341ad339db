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
};

#endif /* XM_DECAP_SHARED_H */
