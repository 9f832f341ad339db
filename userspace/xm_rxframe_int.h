/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_rxframe_int.h - the two calls between the port's data path and the
 * mbuf layer that bypass the public KPI.  RX: mbuf.c wraps a run of
 * one-descriptor packets straight off the RX ring, without xm_rxframe()'s
 * per-frame lookups and checks (the port lent those frames, so it knows
 * they are whole UMEM frames of the zone).  TX completion: the port's own
 * frames go from the completed mbufs back to its fill ring without a
 * round trip through the zone.  Both sides include this header, so the
 * compiler holds them to one declaration; it names no ring or socket
 * type (the mbuf layer knows zones, not rings).
 */
#ifndef XM_RXFRAME_INT_H
#define XM_RXFRAME_INT_H

#include <stdint.h>

#include "xm_common_int.h"

struct xm_umem;
struct xm_zone;
struct xm_mbuf;

struct xm_rxdesc {			/* struct xdp_desc's layout */
	uint64_t addr;
	uint32_t len;
	uint32_t options;
};

/* xdp_desc.options: the packet goes on in the next descriptor */
#define XM_RXDESC_CONTD		0x1

/* A run of RX descriptors to wrap, and what the wrap made of it. */
struct xm_rxrun {
	const struct xm_rxdesc *ring;	/* the RX ring */
	uint32_t first;			/* index of the first descriptor */
	uint32_t mask;			/* ring entries - 1 */
	uint64_t *lent;			/* bit i: the region's chunk i is lent
					 * to the kernel by the caller */
	uint64_t nchunks;		/* bits in lent */
	uint32_t rcv;			/* rcvport | rcvqueue << 16 */
	struct xm_zone *zone;		/* (the wrap's own) */
	unsigned int nout;		/* out: mbufs written */
	uint64_t bytes;			/* out: grows by their lengths */
};

/*
 * Wraps up to max descriptors ring[(first + i) & mask], each a one-mbuf
 * packet in a frame of zone z, into out[]; stops before a descriptor
 * that continues its packet (XM_RXDESC_CONTD) or names a frame whose lent
 * bit is not set.  The bit of each descriptor taken is cleared.  A
 * descriptor that runs past its frame, or whose paired header is not
 * idle, has its frame freed to z and is skipped.
 * @return descriptors taken; r->nout mbufs are in out[].
 */
XM_HIDDEN unsigned int _xm_rxframe_port_ring(struct xm_umem *u,
					     struct xm_zone *z,
					     struct xm_rxrun *r,
					     unsigned int max,
					     struct xm_mbuf **out);

/* Where recycled frames go: a fill ring and its lent bitmap. */
struct xm_fillrun {
	uint64_t *ring;			/* the fill ring */
	uint32_t prod;			/* in: first free index; out: past
					 * the last frame put */
	uint32_t mask;			/* ring entries - 1 */
	uint32_t room;			/* frames it may take */
	uint32_t cshift;		/* log2(chunk size) */
	uint64_t *lent;			/* bit i: chunk i is lent */
	const char *base;		/* the region (offset 0) */
	void **spill;			/* frames with no room on the ring */
	uint32_t spill_room;		/* entries spill[] may take */
	uint32_t nspill;		/* in/out: entries in spill[] */
};

/*
 * The TX completion's side (mbuf.c): frees the n mbufs of ms[], except
 * that the frame of each one that is a one-mbuf packet and the sole
 * reference to a frame of z (its paired header idled, as a free does)
 * is not given back to z but put on f's fill ring, its lent bit set,
 * up to f->room frames, then in f->spill[] (not lent), up to
 * f->spill_room entries in all.
 * @return frames put on the ring (f->prod moved past them).
 */
XM_HIDDEN unsigned int _xm_mbuf_recycle(struct xm_zone *z,
					struct xm_mbuf *const *ms,
					unsigned int n, struct xm_fillrun *f);

#endif /* XM_RXFRAME_INT_H */
