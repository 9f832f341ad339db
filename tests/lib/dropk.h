/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dropk.h - a lossy or counting hop made of tests/bpf/xm_test_dropk.bpf.c,
 * loaded through its skeleton into a test namespace and attached in XDP
 * (native mode) to one interface there.
 *
 *   frames in --> ifname [xm_test_dropk] --> out_ifname (redirect), or
 *                   |                         the stack (XDP_PASS)
 *                   every k-th IP frame: XDP_DROP (k = 0: none)
 *
 * It counts IP frames in arrival order and keeps the kernel's arrival
 * time of the first and the latest, so a test can read what arrived,
 * and how fast, without a user-space reader that a loaded machine may
 * starve; and counts the frames of each length.  Every function returns
 * 0 or -errno and never aborts; a
 * zeroed struct xm_dropk is "not loaded" and safe to detach.
 */
#ifndef XM_TEST_DROPK_H
#define XM_TEST_DROPK_H

#include <stdint.h>

#include "netns.h"

/*
 * Counters, by index in the program's map (tests/bpf/xm_test_dropk.bpf.c):
 * 0 IP frames seen, 1 of which dropped, 2 of which redirected, 3 the
 * first's arrival (ktime ns), 4 the latest's.
 */
#define XM_DROPK_NCOUNTERS	5

struct bpf_link;
struct xm_test_dropk_bpf;		/* its skeleton */

struct xm_dropk {
	struct xm_test_dropk_bpf *skel;	/* NULL: not loaded */
	struct bpf_link *link;		/* its XDP attachment */
};

/**
 * Loads the program with k and attaches it to ifname inside ns;
 * out_ifname (in ns) receives the frames it keeps, NULL passes them to
 * the stack.  On failure nothing stays loaded.
 */
int xm_dropk_attach(struct xm_dropk *d, const struct xm_netns *ns,
		    const char *ifname, uint32_t k, const char *out_ifname);
/** Detaches and unloads (no-op when not loaded). */
void xm_dropk_detach(struct xm_dropk *d);
/** Reads counter idx into *v. */
int xm_dropk_read(const struct xm_dropk *d, uint32_t idx, uint64_t *v);
/** Frames of len bytes on the wire (no FCS) seen, into *v. */
int xm_dropk_size(const struct xm_dropk *d, uint32_t len, uint64_t *v);
/** Zeroes every counter and size count (a retried run starts afresh). */
int xm_dropk_reset(const struct xm_dropk *d);

#endif /* XM_TEST_DROPK_H */
