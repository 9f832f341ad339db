/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt_mbuf.c - the one place the header code meets the mbuf layer: parse
 * the packet an mbuf chain holds.  Kept apart from pkt.c so the parser,
 * checksums and builders build (and fuzz) without the mbuf layer.
 *
 * A chain's headers are read from its first mbuf alone.  AF_XDP frames
 * put every header there (the first descriptor is a whole chunk), so the
 * common case is one parse with no copy; a chain built by hand (a small
 * header mbuf in front of a payload cluster) may split them, and is then
 * pulled up once, a little, and if that is still short, once more, up to
 * a page: the same two bounds (contiguous bytes, packet length) the parser
 * always checks make the first attempt safe.
 *
 * KPI:
 *   xm_pkt_parse_mbuf
 */
#include <errno.h>

#include "xm_mbuf.h"
#include "xm_pkt.h"
#include "xm_pkt_int.h"

/* A reason that more contiguous bytes could cure. */
static bool short_of_bytes(uint8_t reason)
{
	switch (reason) {
	case XM_PKT_ERR_TRUNC_ETH:
	case XM_PKT_ERR_TRUNC_VLAN:
	case XM_PKT_ERR_TRUNC_IP:
	case XM_PKT_ERR_TRUNC_EXTHDR:
	case XM_PKT_ERR_TRUNC_L4:
		return true;
	default:
		return false;
	}
}

/* Pull-up sizes, tried in order while the headers stay out of reach. */
static const uint32_t xm_pkt_pulls[] = { XM_PKT_PULLUP_LEN, XM_MJUMPAGESIZE };
#define XM_PKT_NPULLS	(sizeof(xm_pkt_pulls) / sizeof(xm_pkt_pulls[0]))

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

int xm_pkt_parse_mbuf(struct xm_mbuf **mp, struct xm_pkt_info *pi)
{
	struct xm_mbuf *m;
	uint32_t len, cap;
	unsigned int i = 0;
	int err;

	if (mp == NULL || *mp == NULL || pi == NULL ||
	    !((*mp)->m_flags & XM_PKTHDR))
		return -EINVAL;
	m = *mp;
	len = m->m_pkthdr.len;
	for (;;) {
		cap = min_u32((uint32_t)m->m_len, len);
		err = _xm_pkt_parse(xm_mtod(m, const void *), cap, len, pi);
		if (err != -EBADMSG || !short_of_bytes(pi->pi_err) ||
		    cap == len)
			return err;
		while (i < XM_PKT_NPULLS && min_u32(len, xm_pkt_pulls[i]) <= cap)
			i++;
		if (i == XM_PKT_NPULLS)
			return err;
		m = xm_pullup(m, (int)min_u32(len, xm_pkt_pulls[i++]));
		*mp = m;
		if (m == NULL)
			return -errno;
	}
}
