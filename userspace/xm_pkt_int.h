/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_pkt_int.h - private helpers of pkt.c and pkt_build.c: unaligned
 * big-endian loads and stores (frames sit at any alignment once a VLAN
 * tag or IP options shift them, so every access goes through memcpy) and
 * the 16-bit fold shared by the checksum code.  Not installed.
 */
#ifndef XM_PKT_INT_H
#define XM_PKT_INT_H

#include <stdint.h>
#include <string.h>

#include "xm_common_int.h"
#include "xm_pkt.h"

static inline uint16_t xm_ld16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t xm_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void xm_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void xm_st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t xm_bswap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/* One's complement fold to 16 bits, not complemented. */
static inline uint16_t xm_csum_fold16(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * The parser with two bounds: cap bytes may be read, the packet is len
 * bytes long (cap <= len).  xm_pkt_parse() is cap == len.
 */
XM_HIDDEN int _xm_pkt_parse(const void *frame, uint32_t cap, uint32_t len,
			    struct xm_pkt_info *pi);

#endif /* XM_PKT_INT_H */
