/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_cap_shared.h - what xmbuf-capture's copying programs
 * (examples/capture/xm_cap.bpf.c) and the tool (cap_passive.c) agree on:
 * the record each copy is in the ring buffer, and the counters.
 * Included by BPF code (types from vmlinux.h) and by user space (types
 * from linux/types.h).
 *
 *   ring record:  | struct xm_cap_rec | caplen bytes of the frame ... |
 *                 reserved in size classes (XM_CAP_CLASS_*), so the
 *                 program copies the frame once, straight into the ring
 */
#ifndef XM_CAP_SHARED_H
#define XM_CAP_SHARED_H

#define XM_CAP_DIR_IN		1	/* received (tc ingress, XDP) */
#define XM_CAP_DIR_OUT		2	/* transmitted (tc egress) */

#define XM_CAP_VERDICT_NONE	0xffffffffu	/* not at an XDP exit */

/* The largest copy: a GSO super-packet at egress is up to 64 KiB. */
#define XM_CAP_COPY_MAX		65536

struct xm_cap_rec {
	__u64 ts_ns;			/* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u32 wirelen;			/* the frame's length */
	__u32 caplen;			/* bytes that follow */
	__u32 dir;			/* XM_CAP_DIR_* */
	__u32 verdict;			/* XDP action at fexit, else
					 * XM_CAP_VERDICT_NONE */
};

/* Counter slots of the per-CPU array "xm_cap_stats". */
enum xm_cap_stat {
	XM_CAP_ST_SEEN_IN,		/* packets the program saw */
	XM_CAP_ST_SEEN_OUT,
	XM_CAP_ST_LOST_IN,		/* ring buffer full: no copy */
	XM_CAP_ST_LOST_OUT,
	XM_CAP_ST_COPY_ERR,		/* the frame's bytes unreadable */
	XM_CAP_ST_MAX
};

#endif /* XM_CAP_SHARED_H */
