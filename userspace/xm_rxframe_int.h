/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_rxframe_int.h - the one call between the port's RX burst and the
 * mbuf layer that bypasses the public KPI: mbuf.c wraps a run of
 * one-descriptor packets straight off the RX ring, without
 * xm_rxframe()'s per-frame lookups and checks (the port lent those
 * frames, so it knows they are whole UMEM frames of the zone).  Both
 * sides include this header, so the compiler holds them to one
 * declaration; it names no ring or socket type (the mbuf layer knows
 * zones, not rings).
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

/*
 * Wraps the n descriptors ring[(first + i) & mask] (frames of zone z)
 * into mbufs in out[], each a one-mbuf packet.  rcv is rcvport in the
 * low 16 bits, rcvqueue in the high 16; cmask is the chunk mask of an
 * address.  A descriptor that runs past its frame, or whose paired header
 * is not idle, has its frame freed to z and is skipped.  The lengths
 * wrapped are added to *bytes.  @return the mbufs written to out[].
 */
XM_HIDDEN unsigned int _xm_rxframe_port_ring(struct xm_umem *u,
					     struct xm_zone *z,
					     const struct xm_rxdesc *ring,
					     uint32_t first, uint32_t mask,
					     uint64_t cmask, unsigned int n,
					     uint32_t rcv, struct xm_mbuf **out,
					     uint64_t *bytes);

#endif /* XM_RXFRAME_INT_H */
