/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt.c - packet header parsing, checksums and checksum-preserving
 * rewrites (the builders are in pkt_build.c).
 *
 * The parser walks a frame layer by layer and believes a length field only
 * after checking it against two bounds: `cap`, the bytes that may be read
 * (the contiguous buffer), and `len`, the packet's length.  For a flat
 * buffer the two are equal; they differ only for a caller that sees the
 * first part of a longer packet.  Every header read is preceded by a check
 * that it ends at or before both, so the parser is safe on any input: the
 * fuzz target (tests/fuzz/fuzz_pkt.c) holds it to that under ASan.
 *
 *   L2  dst src type [tpid tci]{0,2}     -> pi_eth, pi_l3_off
 *   L3  IPv4: version, IHL >= 5, IHL <= total length <= frame
 *       IPv6: payload length <= frame, then the extension header chain
 *             (hop-by-hop first only, one fragment header, at most
 *             XM_PKT_MAX_EXTHDRS headers, each inside the payload)
 *       fragments: offset + length <= 65535, non-last 8-byte multiple;
 *             a non-first fragment stops here (its data is no header)
 *   L4  TCP (data offset 5..15 inside the packet), UDP (8 <= length <= IP
 *       payload), ICMP (8 bytes), ICMPv6 (4 bytes, 8 when present)
 *
 * Checksums use the byte-order independence of the one's complement sum
 * (RFC 1071): words are loaded in host order, the folded result is stored
 * as it is.  Incremental updates follow RFC 1624 eqn. 3; a rewrite that
 * starts at an odd offset of the checksummed data contributes its sum
 * byte-swapped (a one's complement sum times 256).
 *
 * KPI:
 *   xm_pkt_parse, xm_pkt_parse_ip, xm_pkt_strerror
 *   xm_pkt_csum_partial, xm_pkt_csum_fold, xm_pkt_ipv4_csum,
 *   xm_pkt_pseudo_v4, xm_pkt_pseudo_v6, xm_pkt_csum_replace16,
 *   xm_pkt_csum_replace32, xm_pkt_csum_replace,
 *   xm_pkt_csum_fill, xm_pkt_csum_ok
 *   xm_pkt_rewrite, xm_pkt_set_addr, xm_pkt_set_port
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "xm_common_int.h"
#include "xm_pkt.h"
#include "xm_pkt_int.h"

/* ------------------------------------------------------------- parsing */

static int parse_fail(struct xm_pkt_info *pi, enum xm_pkt_err err)
{
	pi->pi_err = (uint8_t)err;
	return -EBADMSG;
}

/* [off, off + n) lies inside the readable bytes. */
static inline bool in_cap(uint32_t off, uint32_t n, uint32_t cap)
{
	return off <= cap && n <= cap - off;
}

static inline bool is_echo(const struct xm_pkt_info *pi)
{
	if (pi->pi_ip.ip_version == 4)
		return pi->pi_icmp_type == XM_PKT_ICMP_ECHO ||
		       pi->pi_icmp_type == XM_PKT_ICMP_ECHOREPLY;
	return pi->pi_icmp_type == XM_PKT_ICMP6_ECHO_REQUEST ||
	       pi->pi_icmp_type == XM_PKT_ICMP6_ECHO_REPLY;
}

/*
 * The L4 header at off, inside an IP packet ending at end (end <= len).
 * Called for unfragmented packets and first fragments only.
 */
static inline __attribute__((always_inline)) int
parse_l4(const uint8_t *p, uint32_t off, uint32_t end, uint32_t cap,
	 struct xm_pkt_info *pi)
{
	uint32_t avail = end - off;
	bool frag = pi->pi_flags & XM_PKT_F_FRAG;
	uint32_t hlen;
	uint16_t ulen;

	pi->pi_l4_off = off;
	switch (pi->pi_proto) {
	case XM_PKT_IPPROTO_TCP:
		if (avail < XM_PKT_TCP_HLEN || !in_cap(off, XM_PKT_TCP_HLEN, cap))
			return parse_fail(pi, XM_PKT_ERR_TRUNC_L4);
		hlen = (uint32_t)(p[off + 12] >> 4) * 4;
		if (hlen < XM_PKT_TCP_HLEN)
			return parse_fail(pi, XM_PKT_ERR_BAD_TCP_DOFF);
		/*
		 * Options that run past a first fragment are the tiny
		 * fragment attack (RFC 1858): refuse them like a truncation.
		 */
		if (hlen > avail || !in_cap(off, hlen, cap))
			return parse_fail(pi, XM_PKT_ERR_TRUNC_L4);
		pi->pi_sport = xm_ld16(p + off);
		pi->pi_dport = xm_ld16(p + off + 2);
		pi->pi_tcp_flags = p[off + 13];
		pi->pi_payload_len = avail - hlen;
		break;
	case XM_PKT_IPPROTO_UDP:
		hlen = XM_PKT_UDP_HLEN;
		if (avail < hlen || !in_cap(off, hlen, cap))
			return parse_fail(pi, XM_PKT_ERR_TRUNC_L4);
		ulen = xm_ld16(p + off + 4);
		/*
		 * A first fragment holds part of the datagram: its length
		 * can only be checked for sanity.  A whole datagram may be
		 * shorter than the IP payload (trailing bytes are ignored,
		 * as Linux does), never longer.
		 */
		if (ulen < hlen || (!frag && ulen > avail))
			return parse_fail(pi, XM_PKT_ERR_BAD_UDP_LEN);
		pi->pi_sport = xm_ld16(p + off);
		pi->pi_dport = xm_ld16(p + off + 2);
		pi->pi_payload_len = frag ? avail - hlen : ulen - hlen;
		break;
	case XM_PKT_IPPROTO_ICMP:
	case XM_PKT_IPPROTO_ICMPV6:
		/* ICMP in IPv6 or ICMPv6 in IPv4 is just an unknown protocol. */
		if ((pi->pi_proto == XM_PKT_IPPROTO_ICMP) !=
		    (pi->pi_ip.ip_version == 4))
			goto other;
		/*
		 * Every ICMPv4 message has 8 bytes; ICMPv6 only promises 4,
		 * and has 8 whenever the packet does.
		 */
		hlen = pi->pi_ip.ip_version == 4 || avail >= XM_PKT_ICMP_HLEN
		       ? XM_PKT_ICMP_HLEN : 4;
		if (avail < hlen || !in_cap(off, hlen, cap))
			return parse_fail(pi, XM_PKT_ERR_TRUNC_L4);
		pi->pi_icmp_type = p[off];
		pi->pi_icmp_code = p[off + 1];
		if (hlen == XM_PKT_ICMP_HLEN && is_echo(pi))
			pi->pi_icmp_id = xm_ld16(p + off + 4);
		pi->pi_payload_len = avail - hlen;
		break;
	default:
other:
		pi->pi_payload_off = off;
		pi->pi_payload_len = avail;
		return 0;
	}
	pi->pi_l4_hlen = (uint16_t)hlen;
	pi->pi_flags |= XM_PKT_F_L4;
	pi->pi_payload_off = off + hlen;
	return 0;
}

/* Fragment checks shared by both versions; fdata: bytes in this fragment. */
static inline int check_frag(struct xm_pkt_info *pi, uint32_t foff, bool more,
			     uint32_t fdata)
{
	if (foff == 0 && !more)
		return 0;
	/* Reassembly past 65535 bytes is the ping of death. */
	if (foff + fdata > 65535)
		return parse_fail(pi, XM_PKT_ERR_BAD_FRAG);
	if (more && (fdata & 7) != 0)
		return parse_fail(pi, XM_PKT_ERR_BAD_FRAG);
	pi->pi_flags |= XM_PKT_F_FRAG;
	if (foff == 0)
		pi->pi_flags |= XM_PKT_F_FRAG_FIRST;
	pi->pi_frag_off = (uint16_t)foff;
	return 0;
}

static inline __attribute__((always_inline)) int
parse_ipv4(const uint8_t *p, uint32_t off, uint32_t cap, uint32_t len,
	   struct xm_pkt_info *pi)
{
	struct xm_pkt_ip *ip = &pi->pi_ip;
	uint32_t hlen, totlen, foff;
	int err;

	if (!in_cap(off, XM_PKT_IPV4_HLEN, cap))
		return parse_fail(pi, XM_PKT_ERR_TRUNC_IP);
	if ((p[off] >> 4) != 4)
		return parse_fail(pi, XM_PKT_ERR_BAD_VERSION);
	hlen = (uint32_t)(p[off] & 0xf) * 4;
	if (hlen < XM_PKT_IPV4_HLEN)
		return parse_fail(pi, XM_PKT_ERR_BAD_IHL);
	if (!in_cap(off, hlen, cap))
		return parse_fail(pi, XM_PKT_ERR_TRUNC_IP);
	totlen = xm_ld16(p + off + 2);
	if (totlen < hlen || totlen > len - off)
		return parse_fail(pi, XM_PKT_ERR_BAD_TOTLEN);

	pi->pi_flags |= XM_PKT_F_IPV4;
	ip->ip_version = 4;
	ip->ip_tos = p[off + 1];
	ip->ip_id = xm_ld16(p + off + 4);
	ip->ip_frag = xm_ld16(p + off + 6);
	ip->ip_ttl = p[off + 8];
	ip->ip_proto = p[off + 9];
	ip->ip_payload_len = totlen - hlen;
	memcpy(&ip->ip_src.a_v4, p + off + 12, 4);
	memcpy(&ip->ip_dst.a_v4, p + off + 16, 4);
	pi->pi_proto = ip->ip_proto;
	pi->pi_l3_hlen = (uint16_t)hlen;
	pi->pi_l3_len = totlen;
	pi->pi_csum_dst_off = off + 16;
	if (hlen > XM_PKT_IPV4_HLEN)
		pi->pi_flags |= XM_PKT_F_IPOPTS;
	if (ip->ip_frag & XM_PKT_IP_DF)
		pi->pi_flags |= XM_PKT_F_DF;
	if (len - off > totlen)
		pi->pi_flags |= XM_PKT_F_L2_PAD;

	foff = (uint32_t)(ip->ip_frag & XM_PKT_IP_OFFMASK) * 8;
	err = check_frag(pi, foff, ip->ip_frag & XM_PKT_IP_MF, totlen - hlen);
	if (err)
		return err;
	if (pi->pi_flags & XM_PKT_F_FRAG)
		pi->pi_frag_id = ip->ip_id;
	if (foff != 0) {
		pi->pi_payload_off = off + hlen;
		pi->pi_payload_len = totlen - hlen;
		return 0;
	}
	return parse_l4(p, off + hlen, off + totlen, cap, pi);
}

/*
 * Where the L4 pseudo-header's destination lives when a routing header
 * still has segments to visit (RFC 8200 8.1: the final destination).
 * Types 0 (deprecated, still parsed), 2 (Mobile IPv6) and 4 (SRv6, whose
 * segment list is stored last-first) carry plain addresses; RPL's (3) are
 * compressed and left to the fixed header's destination.
 */
static void routing_final_dst(const uint8_t *rh, uint32_t rh_off,
			      uint32_t rh_len, struct xm_pkt_info *pi)
{
	uint8_t type = rh[2], segs_left = rh[3];
	uint32_t naddr = rh_len / 16;	/* hdr_ext_len / 2 */

	if (segs_left == 0 || naddr == 0)
		return;
	switch (type) {
	case 0:
		pi->pi_csum_dst_off = rh_off + 8 + 16 * (naddr - 1);
		break;
	case 2:
	case 4:
		pi->pi_csum_dst_off = rh_off + 8;
		break;
	default:
		break;
	}
}

static int parse_ipv6(const uint8_t *p, uint32_t off, uint32_t cap,
		      uint32_t len, struct xm_pkt_info *pi)
{
	struct xm_pkt_ip *ip = &pi->pi_ip;
	uint32_t word, plen, end, cur, hlen, foff;
	bool seen_frag = false;
	uint8_t nh;
	int err;

	if (!in_cap(off, XM_PKT_IPV6_HLEN, cap))
		return parse_fail(pi, XM_PKT_ERR_TRUNC_IP);
	word = xm_ld32(p + off);
	if ((word >> 28) != 6)
		return parse_fail(pi, XM_PKT_ERR_BAD_VERSION);
	plen = xm_ld16(p + off + 4);
	/* Jumbograms (payload length 0, RFC 2675) never fit a frame here. */
	if (plen > len - off - XM_PKT_IPV6_HLEN)
		return parse_fail(pi, XM_PKT_ERR_BAD_TOTLEN);

	pi->pi_flags |= XM_PKT_F_IPV6;
	ip->ip_version = 6;
	ip->ip_tos = (uint8_t)(word >> 20);
	ip->ip_flowlabel = word & 0xfffff;
	ip->ip_payload_len = plen;
	ip->ip_proto = p[off + 6];
	ip->ip_ttl = p[off + 7];
	memcpy(ip->ip_src.a_v6, p + off + 8, 16);
	memcpy(ip->ip_dst.a_v6, p + off + 24, 16);
	end = off + XM_PKT_IPV6_HLEN + plen;
	pi->pi_l3_len = XM_PKT_IPV6_HLEN + plen;
	pi->pi_csum_dst_off = off + 24;
	if (len > end)
		pi->pi_flags |= XM_PKT_F_L2_PAD;

	nh = ip->ip_proto;
	cur = off + XM_PKT_IPV6_HLEN;
	for (;;) {
		switch (nh) {
		case XM_PKT_IPPROTO_HOPOPTS:
		case XM_PKT_IPPROTO_ROUTING:
		case XM_PKT_IPPROTO_DSTOPTS:
		case XM_PKT_IPPROTO_AH:
		case XM_PKT_IPPROTO_MH:
		case XM_PKT_IPPROTO_HIP:
		case XM_PKT_IPPROTO_SHIM6:
		case XM_PKT_IPPROTO_FRAGMENT:
			break;
		default:
			goto upper;
		}
		if (pi->pi_nexthdrs == XM_PKT_MAX_EXTHDRS)
			return parse_fail(pi, XM_PKT_ERR_EXTHDR_TOO_LONG);
		/* RFC 8200 4.3: hop-by-hop options only right after the header. */
		if (nh == XM_PKT_IPPROTO_HOPOPTS && pi->pi_nexthdrs != 0)
			return parse_fail(pi, XM_PKT_ERR_BAD_EXTHDR);
		if (nh == XM_PKT_IPPROTO_FRAGMENT) {
			if (seen_frag)
				return parse_fail(pi, XM_PKT_ERR_BAD_EXTHDR);
			seen_frag = true;
			hlen = 8;
		} else {
			if (end - cur < 2 || !in_cap(cur, 2, cap))
				return parse_fail(pi, XM_PKT_ERR_TRUNC_EXTHDR);
			if (nh == XM_PKT_IPPROTO_AH)
				hlen = ((uint32_t)p[cur + 1] + 2) * 4;
			else
				hlen = ((uint32_t)p[cur + 1] + 1) * 8;
		}
		if (end - cur < hlen || !in_cap(cur, hlen, cap))
			return parse_fail(pi, XM_PKT_ERR_TRUNC_EXTHDR);
		pi->pi_nexthdrs++;
		pi->pi_flags |= XM_PKT_F_EXTHDRS;
		if (nh == XM_PKT_IPPROTO_ROUTING)
			routing_final_dst(p + cur, cur, hlen - 8, pi);
		if (nh == XM_PKT_IPPROTO_FRAGMENT) {
			word = xm_ld16(p + cur + 2);
			foff = word & 0xfff8;
			err = check_frag(pi, foff, word & 1, end - cur - hlen);
			if (err)
				return err;
			if (pi->pi_flags & XM_PKT_F_FRAG)
				pi->pi_frag_id = xm_ld32(p + cur + 4);
			if (foff != 0) {
				/* What follows is fragment data, not headers. */
				nh = p[cur];
				cur += hlen;
				pi->pi_proto = nh;
				pi->pi_l3_hlen = (uint16_t)(cur - off);
				pi->pi_payload_off = cur;
				pi->pi_payload_len = end - cur;
				return 0;
			}
		}
		nh = p[cur];
		cur += hlen;
	}
upper:
	pi->pi_proto = nh;
	pi->pi_l3_hlen = (uint16_t)(cur - off);
	return parse_l4(p, cur, end, cap, pi);
}

static inline __attribute__((always_inline)) int
parse_l3(const uint8_t *p, uint32_t off, uint32_t cap, uint32_t len,
	 struct xm_pkt_info *pi)
{
	pi->pi_l3_off = off;
	switch (pi->pi_eth.eth_type) {
	case XM_PKT_ETH_P_IPV4:
		return parse_ipv4(p, off, cap, len, pi);
	case XM_PKT_ETH_P_IPV6:
		return parse_ipv6(p, off, cap, len, pi);
	default:
		pi->pi_payload_off = off;
		pi->pi_payload_len = len - off;
		return 0;
	}
}

/*
 * Clearing pi by copying a zero struct: GCC turns a 128-byte memset() into
 * "rep stos", whose start-up cost made a 64-byte UDP frame's parse take
 * 16-17 ns instead of 9-10 (same run, same core); a copy is eight 16-byte
 * stores.
 */
static const struct xm_pkt_info xm_pkt_info_zero;

static inline bool is_vlan_tpid(uint16_t type)
{
	return type == XM_PKT_ETH_P_VLAN || type == XM_PKT_ETH_P_QINQ ||
	       type == XM_PKT_ETH_P_QINQ_OLD;
}

int _xm_pkt_parse(const void *frame, uint32_t cap, uint32_t len,
		  struct xm_pkt_info *pi)
{
	const uint8_t *p = frame;
	struct xm_pkt_eth *eth = &pi->pi_eth;
	uint32_t off = XM_PKT_ETH_HLEN;
	uint16_t type;

	XM_ASSERT(cap <= len, ("%s: cap %u > len %u", __func__, cap, len));
	*pi = xm_pkt_info_zero;
	pi->pi_len = len;
	pi->pi_caplen = cap;
	if (cap < XM_PKT_ETH_HLEN)
		return parse_fail(pi, XM_PKT_ERR_TRUNC_ETH);
	memcpy(eth->eth_dst, p, XM_PKT_ETH_ALEN);
	memcpy(eth->eth_src, p + XM_PKT_ETH_ALEN, XM_PKT_ETH_ALEN);
	type = xm_ld16(p + 12);
	while (is_vlan_tpid(type)) {
		if (eth->eth_nvlan == XM_PKT_MAX_VLANS)
			return parse_fail(pi, XM_PKT_ERR_VLAN_DEPTH);
		if (!in_cap(off, XM_PKT_VLAN_HLEN, cap))
			return parse_fail(pi, XM_PKT_ERR_TRUNC_VLAN);
		eth->eth_vlan_tpid[eth->eth_nvlan] = type;
		eth->eth_vlan_tci[eth->eth_nvlan] = xm_ld16(p + off);
		eth->eth_nvlan++;
		type = xm_ld16(p + off + 2);
		off += XM_PKT_VLAN_HLEN;
	}
	eth->eth_type = type;
	return parse_l3(p, off, cap, len, pi);
}

int xm_pkt_parse(const void *frame, uint32_t len, struct xm_pkt_info *pi)
{
	if (pi == NULL || (frame == NULL && len != 0))
		return -EINVAL;
	return _xm_pkt_parse(frame, len, len, pi);
}

int xm_pkt_parse_ip(const void *pkt, uint32_t len, struct xm_pkt_info *pi)
{
	const uint8_t *p = pkt;

	if (pi == NULL || (pkt == NULL && len != 0))
		return -EINVAL;
	*pi = xm_pkt_info_zero;
	pi->pi_len = len;
	pi->pi_caplen = len;
	if (len == 0)
		return parse_fail(pi, XM_PKT_ERR_TRUNC_IP);
	switch (p[0] >> 4) {
	case 4:
		pi->pi_eth.eth_type = XM_PKT_ETH_P_IPV4;
		break;
	case 6:
		pi->pi_eth.eth_type = XM_PKT_ETH_P_IPV6;
		break;
	default:
		return parse_fail(pi, XM_PKT_ERR_BAD_VERSION);
	}
	return parse_l3(p, 0, len, len, pi);
}

static const char *const xm_pkt_errstr[XM_PKT_ERR_MAX] = {
	[XM_PKT_ERR_NONE]		= "no error",
	[XM_PKT_ERR_TRUNC_ETH]		= "truncated Ethernet header",
	[XM_PKT_ERR_TRUNC_VLAN]		= "truncated VLAN tag",
	[XM_PKT_ERR_VLAN_DEPTH]		= "too many VLAN tags",
	[XM_PKT_ERR_TRUNC_IP]		= "truncated IP header",
	[XM_PKT_ERR_BAD_VERSION]	= "IP version does not match",
	[XM_PKT_ERR_BAD_IHL]		= "IPv4 header length below 20",
	[XM_PKT_ERR_BAD_TOTLEN]		= "bad IP total length",
	[XM_PKT_ERR_TRUNC_EXTHDR]	= "truncated IPv6 extension header",
	[XM_PKT_ERR_EXTHDR_TOO_LONG]	= "IPv6 extension header chain too long",
	[XM_PKT_ERR_BAD_EXTHDR]		= "misplaced IPv6 extension header",
	[XM_PKT_ERR_BAD_FRAG]		= "bad fragment offset or length",
	[XM_PKT_ERR_TRUNC_L4]		= "truncated L4 header",
	[XM_PKT_ERR_BAD_TCP_DOFF]	= "TCP data offset below 5",
	[XM_PKT_ERR_BAD_UDP_LEN]	= "bad UDP length",
};

const char *xm_pkt_strerror(int reason)
{
	if (reason < 0)
		reason = -reason;
	if (reason >= XM_PKT_ERR_MAX)
		return "unknown packet error";
	return xm_pkt_errstr[reason];
}

/* ----------------------------------------------------------- checksums */

uint32_t xm_pkt_csum_partial(const void *buf, uint32_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t a0 = sum, a1 = 0, a2 = 0, a3 = 0;
	uint32_t w32;
	uint16_t w16;

	/*
	 * 32-bit words summed into four 64-bit lanes: the one's complement
	 * sum of wide words folds to the same 16-bit sum (2^16 == 1 mod
	 * 0xffff), and a lane cannot carry out before 2^31 words (8 GiB),
	 * so there is no carry to chain: twice the speed of add-with-carry
	 * on 64-bit words (1400 bytes: 54 ns against 116, same run).
	 */
	while (len >= 32) {
		uint64_t w[4];

		memcpy(w, p, sizeof(w));
		a0 += (w[0] & 0xffffffff) + (w[0] >> 32);
		a1 += (w[1] & 0xffffffff) + (w[1] >> 32);
		a2 += (w[2] & 0xffffffff) + (w[2] >> 32);
		a3 += (w[3] & 0xffffffff) + (w[3] >> 32);
		p += 32;
		len -= 32;
	}
	a0 += a1 + a2 + a3;
	while (len >= 4) {
		memcpy(&w32, p, 4);
		a0 += w32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		a0 += w16;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd byte is the first of a zero-padded word. */
		w16 = 0;
		memcpy(&w16, p, 1);
		a0 += w16;
	}
	a0 = (a0 & 0xffffffff) + (a0 >> 32);
	a0 = (a0 & 0xffffffff) + (a0 >> 32);
	return (uint32_t)a0;
}

uint16_t xm_pkt_csum_fold(uint32_t sum)
{
	return (uint16_t)~xm_csum_fold16(sum);
}

uint16_t xm_pkt_ipv4_csum(const void *iph, uint32_t hlen)
{
	return xm_pkt_csum_fold(xm_pkt_csum_partial(iph, hlen, 0));
}

uint32_t xm_pkt_pseudo_v4(uint32_t src, uint32_t dst, uint8_t proto,
			  uint16_t len)
{
	uint8_t ph[12];

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	xm_st16(ph + 10, len);
	return xm_pkt_csum_partial(ph, sizeof(ph), 0);
}

uint32_t xm_pkt_pseudo_v6(const void *src, const void *dst, uint8_t nexthdr,
			  uint32_t len)
{
	uint8_t ph[40];

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	xm_st32(ph + 32, len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = nexthdr;
	return xm_pkt_csum_partial(ph, sizeof(ph), 0);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m and m' as 16-bit sums. */
static inline uint16_t csum_adjust(uint16_t csum, uint16_t old_sum,
				   uint16_t new_sum)
{
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old_sum + new_sum;

	return xm_pkt_csum_fold(s);
}

uint16_t xm_pkt_csum_replace16(uint16_t csum, uint16_t old, uint16_t new_val)
{
	return csum_adjust(csum, old, new_val);
}

uint16_t xm_pkt_csum_replace32(uint16_t csum, uint32_t old, uint32_t new_val)
{
	return csum_adjust(csum, xm_csum_fold16(old), xm_csum_fold16(new_val));
}

uint16_t xm_pkt_csum_replace(uint16_t csum, const void *old,
			     const void *new_val, uint32_t len)
{
	uint16_t s_old = xm_csum_fold16(xm_pkt_csum_partial(old, len, 0));
	uint16_t s_new = xm_csum_fold16(xm_pkt_csum_partial(new_val, len, 0));

	return csum_adjust(csum, s_old, s_new);
}

/* pi is a successful parse with an IP header. */
static inline bool pi_has_ip(const struct xm_pkt_info *pi)
{
	return pi != NULL && pi->pi_err == XM_PKT_ERR_NONE &&
	       (pi->pi_flags & (XM_PKT_F_IPV4 | XM_PKT_F_IPV6));
}

/*
 * Offset of the L4 checksum field within the L4 header, or 0 when the
 * packet has no L4 checksum this code maintains.  A non-first fragment has
 * no L4 header; a first fragment has the field but not the whole datagram.
 */
static uint32_t l4_csum_field(const struct xm_pkt_info *pi)
{
	if (!(pi->pi_flags & XM_PKT_F_L4))
		return 0;
	switch (pi->pi_proto) {
	case XM_PKT_IPPROTO_TCP:
		return 16;
	case XM_PKT_IPPROTO_UDP:
		return 6;
	case XM_PKT_IPPROTO_ICMP:
	case XM_PKT_IPPROTO_ICMPV6:
		return 2;
	default:
		return 0;
	}
}

/* The L4 datagram's end (for checksums over it). */
static inline uint32_t l4_end(const struct xm_pkt_info *pi)
{
	return pi->pi_payload_off + pi->pi_payload_len;
}

static inline bool l4_has_pseudo(const struct xm_pkt_info *pi)
{
	return pi->pi_proto != XM_PKT_IPPROTO_ICMP;
}

/* Sum of the L4 datagram as it is, pseudo-header included. */
static uint32_t l4_sum(const uint8_t *p, const struct xm_pkt_info *pi)
{
	uint32_t seglen = l4_end(pi) - pi->pi_l4_off;
	uint32_t sum = 0, src, dst;

	/* Addresses from the frame: a rewrite may have changed them. */
	if (l4_has_pseudo(pi)) {
		if (pi->pi_ip.ip_version == 4) {
			memcpy(&src, p + pi->pi_l3_off + 12, 4);
			memcpy(&dst, p + pi->pi_l3_off + 16, 4);
			sum = xm_pkt_pseudo_v4(src, dst, pi->pi_proto,
					       (uint16_t)seglen);
		} else {
			sum = xm_pkt_pseudo_v6(p + pi->pi_l3_off + 8,
					       p + pi->pi_csum_dst_off,
					       pi->pi_proto, seglen);
		}
	}
	return xm_pkt_csum_partial(p + pi->pi_l4_off, seglen, sum);
}

int xm_pkt_csum_fill(void *frame, const struct xm_pkt_info *pi)
{
	uint8_t *p = frame;
	uint32_t field;
	uint16_t csum;

	if (!pi_has_ip(pi) || frame == NULL)
		return -EINVAL;
	field = l4_csum_field(pi);
	if (pi->pi_flags & XM_PKT_F_FRAG)
		field = 0;
	/* A chain's datagram is not all here: refuse before writing. */
	if (field != 0 && l4_end(pi) > pi->pi_caplen)
		return -EINVAL;
	if (pi->pi_ip.ip_version == 4) {
		xm_st16(p + pi->pi_l3_off + 10, 0);
		csum = xm_pkt_ipv4_csum(p + pi->pi_l3_off, pi->pi_l3_hlen);
		memcpy(p + pi->pi_l3_off + 10, &csum, 2);
	}
	if (field == 0)
		return 0;
	field += pi->pi_l4_off;
	xm_st16(p + field, 0);
	csum = xm_pkt_csum_fold(l4_sum(p, pi));
	/* For UDP, 0 means "no checksum": a computed 0 goes out as -0. */
	if (csum == 0 && pi->pi_proto == XM_PKT_IPPROTO_UDP)
		csum = 0xffff;
	memcpy(p + field, &csum, 2);
	return 0;
}

bool xm_pkt_csum_ok(const void *frame, const struct xm_pkt_info *pi)
{
	const uint8_t *p = frame;
	uint32_t field;

	if (!pi_has_ip(pi) || frame == NULL)
		return false;
	if (pi->pi_ip.ip_version == 4 &&
	    xm_pkt_ipv4_csum(p + pi->pi_l3_off, pi->pi_l3_hlen) != 0)
		return false;
	field = l4_csum_field(pi);
	if (field == 0 || (pi->pi_flags & XM_PKT_F_FRAG))
		return true;
	if (l4_end(pi) > pi->pi_caplen)
		return false;
	if (pi->pi_proto == XM_PKT_IPPROTO_UDP && pi->pi_ip.ip_version == 4 &&
	    xm_ld16(p + pi->pi_l4_off + field) == 0)
		return true;
	return xm_pkt_csum_fold(l4_sum(p, pi)) == 0;
}

/* ----------------------------------------------------------- rewriting */

/* Overlap of [a, a + alen) and [b, b + blen). */
static inline bool overlaps(uint32_t a, uint32_t alen, uint32_t b,
			    uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * The bytes of [off, off + len) inside [start, start + slen), as a 16-bit
 * sum placed at their parity relative to start (data at an odd offset of
 * the checksummed words contributes its sum byte-swapped).
 */
struct xm_pkt_delta {
	uint16_t d_old;			/* sum of the bytes being replaced */
	uint16_t d_new;			/* sum of their replacement */
	bool d_any;			/* the range touched the region */
};

static void region_delta(const uint8_t *p, const uint8_t *data, uint32_t off,
			 uint32_t len, uint32_t start, uint32_t slen,
			 uint32_t parity_base, struct xm_pkt_delta *d)
{
	uint32_t lo = off > start ? off : start;
	uint32_t hi = off + len < start + slen ? off + len : start + slen;
	uint16_t s_old, s_new;

	if (lo >= hi)
		return;
	s_old = xm_csum_fold16(xm_pkt_csum_partial(p + lo, hi - lo, 0));
	s_new = xm_csum_fold16(xm_pkt_csum_partial(data + (lo - off),
						   hi - lo, 0));
	if ((lo - parity_base) & 1) {
		s_old = xm_bswap16(s_old);
		s_new = xm_bswap16(s_new);
	}
	/* Accumulate: sums of disjoint pieces add. */
	d->d_old = xm_csum_fold16((uint32_t)d->d_old + s_old);
	d->d_new = xm_csum_fold16((uint32_t)d->d_new + s_new);
	d->d_any = true;
}

/* Fields a rewrite may not touch, as (offset, length) from their header. */
struct xm_pkt_span {
	uint8_t s_off;
	uint8_t s_len;
};
static const struct xm_pkt_span ipv4_fixed[] = {
	{ 0, 1 }, { 2, 2 }, { 9, 3 },	/* ver/IHL, length, proto+csum */
};
static const struct xm_pkt_span ipv6_fixed[] = {
	{ 4, 3 },			/* payload length, next header */
};
static const struct xm_pkt_span tcp_fixed[] = {
	{ 12, 1 }, { 16, 2 },		/* data offset, checksum */
};
static const struct xm_pkt_span udp_fixed[] = {
	{ 4, 4 },			/* length, checksum */
};
static const struct xm_pkt_span icmp_fixed[] = {
	{ 2, 2 },			/* checksum */
};

static bool touches(const struct xm_pkt_span *s, size_t n, uint32_t base,
		    uint32_t off, uint32_t len)
{
	for (size_t i = 0; i < n; i++)
		if (overlaps(off, len, base + s[i].s_off, s[i].s_len))
			return true;
	return false;
}

static bool rewrite_allowed(const struct xm_pkt_info *pi, uint32_t off,
			    uint32_t len)
{
	uint32_t l3 = pi->pi_l3_off, l4 = pi->pi_l4_off;

	if (pi->pi_ip.ip_version == 4 &&
	    touches(ipv4_fixed, 3, l3, off, len))
		return false;
	if (pi->pi_ip.ip_version == 6 &&
	    touches(ipv6_fixed, 1, l3, off, len))
		return false;
	if (!(pi->pi_flags & XM_PKT_F_L4))
		return true;
	switch (pi->pi_proto) {
	case XM_PKT_IPPROTO_TCP:
		return !touches(tcp_fixed, 2, l4, off, len);
	case XM_PKT_IPPROTO_UDP:
		return !touches(udp_fixed, 1, l4, off, len);
	default:
		return !touches(icmp_fixed, 1, l4, off, len);
	}
}

/* True when n bytes at p are zero. */
static bool all_zero(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

int xm_pkt_rewrite(void *frame, const struct xm_pkt_info *pi, uint32_t off,
		   const void *data, uint32_t len)
{
	struct xm_pkt_delta ip_d = { 0 }, l4_d = { 0 };
	uint8_t *p = frame;
	uint32_t l3 = pi ? pi->pi_l3_off : 0, field, seglen = 0;
	uint16_t csum;

	if (pi == NULL || frame == NULL || (data == NULL && len != 0) ||
	    pi->pi_err != XM_PKT_ERR_NONE || off > pi->pi_caplen ||
	    len > pi->pi_caplen - off)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!pi_has_ip(pi)) {
		memcpy(p + off, data, len);
		return 0;
	}
	if (!rewrite_allowed(pi, off, len))
		return -EINVAL;

	if (pi->pi_ip.ip_version == 4)
		region_delta(p, data, off, len, l3, pi->pi_l3_hlen, l3, &ip_d);
	field = l4_csum_field(pi);
	if (field != 0) {
		/* A first fragment's share of the datagram is still summed. */
		seglen = l4_end(pi) - pi->pi_l4_off;
		region_delta(p, data, off, len, pi->pi_l4_off, seglen,
			     pi->pi_l4_off, &l4_d);
		if (l4_has_pseudo(pi)) {
			if (pi->pi_ip.ip_version == 4) {
				region_delta(p, data, off, len, l3 + 12, 8, l3,
					     &l4_d);
			} else {
				region_delta(p, data, off, len, l3 + 8, 16, l3,
					     &l4_d);
				region_delta(p, data, off, len,
					     pi->pi_csum_dst_off, 16, l3, &l4_d);
			}
		}
	}

	memcpy(p + off, data, len);
	if (ip_d.d_any) {
		memcpy(&csum, p + l3 + 10, 2);
		csum = csum_adjust(csum, ip_d.d_old, ip_d.d_new);
		memcpy(p + l3 + 10, &csum, 2);
	}
	if (l4_d.d_any) {
		field += pi->pi_l4_off;
		memcpy(&csum, p + field, 2);
		/* A zero UDP checksum over IPv4 is "none": nothing to keep. */
		if (pi->pi_proto == XM_PKT_IPPROTO_UDP && csum == 0 &&
		    pi->pi_ip.ip_version == 4)
			return 0;
		csum = csum_adjust(csum, l4_d.d_old, l4_d.d_new);
		if (csum == 0) {
			/*
			 * UDP sends a computed 0 as 0xffff.  Eqn. 3 answers 0
			 * also for data that became all zero, whose checksum
			 * must be 0xffff; with a pseudo-header the data never
			 * is, so only ICMPv4 needs the (rare) look.
			 */
			if (pi->pi_proto == XM_PKT_IPPROTO_UDP ||
			    (pi->pi_proto == XM_PKT_IPPROTO_ICMP &&
			     all_zero(p + pi->pi_l4_off, 2) &&
			     all_zero(p + field + 2, seglen - 4)))
				csum = 0xffff;
		}
		memcpy(p + field, &csum, 2);
	}
	return 0;
}

int xm_pkt_set_addr(void *frame, struct xm_pkt_info *pi, int which,
		    const union xm_pkt_addr *addr)
{
	union xm_pkt_addr *dst;
	uint32_t off, alen;
	int err;

	if (!pi_has_ip(pi) || addr == NULL ||
	    (which != XM_PKT_SRC && which != XM_PKT_DST))
		return -EINVAL;
	alen = pi->pi_ip.ip_version == 4 ? 4 : 16;
	off = pi->pi_l3_off + (alen == 4 ? 12 : 8) + (which ? alen : 0);
	err = xm_pkt_rewrite(frame, pi, off, addr, alen);
	if (err)
		return err;
	dst = which == XM_PKT_SRC ? &pi->pi_ip.ip_src : &pi->pi_ip.ip_dst;
	memset(dst, 0, sizeof(*dst));
	memcpy(dst, addr, alen);
	return 0;
}

int xm_pkt_set_port(void *frame, struct xm_pkt_info *pi, int which,
		    uint16_t port)
{
	uint8_t be[2];
	int err;

	if (!pi_has_ip(pi) || !(pi->pi_flags & XM_PKT_F_L4) ||
	    (pi->pi_proto != XM_PKT_IPPROTO_TCP &&
	     pi->pi_proto != XM_PKT_IPPROTO_UDP) ||
	    (which != XM_PKT_SRC && which != XM_PKT_DST))
		return -EINVAL;
	xm_st16(be, port);
	err = xm_pkt_rewrite(frame, pi, pi->pi_l4_off + (which ? 2 : 0), be, 2);
	if (err)
		return err;
	if (which == XM_PKT_SRC)
		pi->pi_sport = port;
	else
		pi->pi_dport = port;
	return 0;
}
