/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_live_shared.h - what the live-frames transmit program
 * (bpf/xm_live.bpf.c) and the library's live engine (userspace/live.c)
 * agree on: the program's configuration, set in .rodata before load, and
 * its per-CPU state.  Included by BPF code (types from vmlinux.h) and by
 * userspace (types from linux/types.h); xdp-tools' KERN_USER_H style.
 *
 * The stamp a frame carries (XM_LIVE_STAMP_* in userspace/xm_live.h):
 *
 *   stamp_off +0      +2       +4               +10                 +18
 *   | magic "XM" | stream | sequence (48 bit) | TX time, ns (64 bit) |
 *   all fields big-endian; stream = stream base + the CPU the program ran
 *   on, sequence from that CPU's counter, time from bpf_ktime_get_ns()
 *   (CLOCK_MONOTONIC).
 */
#ifndef XM_LIVE_SHARED_H
#define XM_LIVE_SHARED_H

#define XM_LIVE_BPF_MAX_FIELDS	4	/* = XM_LIVE_MAX_FIELDS */
#define XM_LIVE_BPF_MAX_LENS	3	/* = XM_LIVE_MAX_LENS */
#define XM_LIVE_BPF_MAX_OFF	4096	/* no offset at or past this */
#define XM_LIVE_BPF_STAMP_LEN	18	/* = XM_LIVE_STAMP_LEN */
#define XM_LIVE_BPF_STAMP_MAGIC	0x584d	/* "XM" */

/* xm_live_bpf_field.flags: which checksums cover the field. */
#define XM_LIVE_BPF_CSUM_IP	0x1	/* the IPv4 header checksum */
#define XM_LIVE_BPF_CSUM_L4	0x2	/* the TCP/UDP checksum */
#define XM_LIVE_BPF_CSUM_L4_2X	0x4	/* ... twice: a length in the L4
					 * header that is also the
					 * pseudo-header's */

/*
 * One header field stepped over the flows: the value written for flow k
 * is base + (k / div) % count, big-endian, len 2 or 4 bytes at off.
 */
struct xm_live_bpf_field {
	__u32 off;			/* frame offset, even */
	__u32 len;			/* 2 or 4 */
	__u32 base;			/* first value */
	__u32 count;			/* values (>= 1) */
	__u32 div;			/* flows per step of this field (>= 1) */
	__u32 flags;			/* XM_LIVE_BPF_CSUM_* */
};

/* A length field rewritten for each frame's size: frame length - sub. */
struct xm_live_bpf_len {
	__u32 off;			/* frame offset, even */
	__u32 sub;			/* bytes not counted (headers before) */
	__u32 flags;			/* XM_LIVE_BPF_CSUM_* */
};

struct xm_live_bpf_cfg {
	__u32 ifindex;			/* redirect target */
	__u32 stamp_off;		/* stamp offset, even; 0: no stamp */
	__u32 ip_csum_off;		/* IPv4 header checksum; 0: none */
	__u32 l4_csum_off;		/* TCP/UDP checksum; 0: none */
	__u32 l4_udp;			/* the L4 checksum is UDP's: 0 stays
					 * 0 ("none"), a result of 0 is 0xffff */
	__u32 stream;			/* stream id base (plus the CPU) */
	__u32 nflows;			/* flows; <= 1: no field stepping */
	__u32 ordered;			/* flow k of frame n: order[n % nflows] */
	__u32 nfields;			/* fields[] in use */
	__u32 nsizes;			/* frame n is cut to sizes[n % nsizes];
					 * 0: sent as given */
	__u32 nlens;			/* lens[] in use */
	__u32 seq_off;			/* 32-bit sequence number, even; 0:
					 * none */
	struct xm_live_bpf_field fields[XM_LIVE_BPF_MAX_FIELDS];
	struct xm_live_bpf_len lens[XM_LIVE_BPF_MAX_LENS];
};

/* Per-CPU state (one entry of a per-CPU array). */
struct xm_live_bpf_pcpu {
	__u64 seq;			/* next sequence number of this CPU,
					 * = frames the program ran on it */
};

/* The sink's configuration (bpf/xm_live_sink.bpf.c). */
struct xm_live_bpf_sink_cfg {
	__u8 dst[6];			/* destination MAC of a matching frame */
	__u8 match;			/* 0: count no matches */
	__u8 spare;
};

/* The sink's per-CPU counters (one entry of a per-CPU array). */
struct xm_live_bpf_sink_pcpu {
	__u64 frames;			/* every frame that arrived */
	__u64 matched;			/* ... whose destination is cfg.dst */
};

#endif /* XM_LIVE_SHARED_H */
