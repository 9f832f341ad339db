/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt_build.c - packet header builders: Ethernet with tags, IPv4/IPv6, UDP,
 * TCP with SYN options, whole UDP/TCP frames, tunnel headers written in
 * headroom, and the ICMP / ICMPv6 "too big" replies.
 *
 * Every builder checks its arguments, then the capacity, and only then
 * writes: a refused call leaves the buffer as it was (except
 * xm_pkt_build_too_big() building in place, which checks before moving).
 *
 * Encapsulation writes backwards from the inner packet so the frame that
 * came in is the frame that goes out, as the load balancer needs:
 *
 *        headroom                    inner packet (untouched)
 *   ...[ Ethernet ][ outer IP ][ UDP ][ GUE ][ IP ... ]
 *                  ^ inner - xm_pkt_encap()  ^ inner
 *   (the caller writes Ethernet before that with xm_pkt_build_eth())
 *
 * KPI:
 *   xm_pkt_build_eth, xm_pkt_build_ip, xm_pkt_build_udp, xm_pkt_build_tcp,
 *   xm_pkt_build_frame, xm_pkt_encap, xm_pkt_build_too_big
 */
#include <errno.h>
#include <string.h>

#include "xm_common_int.h"
#include "xm_pkt.h"
#include "xm_pkt_int.h"

#define XM_PKT_DEFAULT_TTL	64
#define XM_PKT_IPV4_MAX		65535		/* total length field */
#define XM_PKT_IPV4_REPLY_MAX	576		/* RFC 1812 4.3.2.3 */
#define XM_PKT_IPV6_MIN_MTU	1280		/* RFC 8200 5 */
#define XM_PKT_IPV4_MIN_MTU	68		/* RFC 791 */

/* TCP option kinds (RFC 9293, RFC 7323, RFC 2018). */
#define TCPOPT_NOP		1
#define TCPOPT_MSS		2
#define TCPOPT_WSCALE		3
#define TCPOPT_SACKOK		4
#define TCPOPT_TS		8
#define TCPOPT_ALL		(XM_PKT_TCPOPT_MSS | XM_PKT_TCPOPT_SACKOK | \
				 XM_PKT_TCPOPT_TS | XM_PKT_TCPOPT_WSCALE)
#define TCP_MAX_WSCALE		14		/* RFC 7323 2.3 */

int xm_pkt_build_eth(void *buf, uint32_t cap, const struct xm_pkt_eth *eth)
{
	uint8_t *p = buf;
	uint32_t need, off = 2 * XM_PKT_ETH_ALEN;

	if (buf == NULL || eth == NULL || eth->eth_nvlan > XM_PKT_MAX_VLANS)
		return -EINVAL;
	need = XM_PKT_ETH_HLEN + XM_PKT_VLAN_HLEN * eth->eth_nvlan;
	if (cap < need)
		return -ENOSPC;
	memcpy(p, eth->eth_dst, XM_PKT_ETH_ALEN);
	memcpy(p + XM_PKT_ETH_ALEN, eth->eth_src, XM_PKT_ETH_ALEN);
	for (unsigned int i = 0; i < eth->eth_nvlan; i++) {
		xm_st16(p + off, eth->eth_vlan_tpid[i] ? eth->eth_vlan_tpid[i]
						       : XM_PKT_ETH_P_VLAN);
		xm_st16(p + off + 2, eth->eth_vlan_tci[i]);
		off += XM_PKT_VLAN_HLEN;
	}
	xm_st16(p + off, eth->eth_type);
	return (int)need;
}

/* Header length for ip, or -EINVAL; payload must fit the length field. */
static int ip_hlen(const struct xm_pkt_ip *ip)
{
	switch (ip->ip_version) {
	case 4:
		if (ip->ip_payload_len > XM_PKT_IPV4_MAX - XM_PKT_IPV4_HLEN)
			return -EINVAL;
		return XM_PKT_IPV4_HLEN;
	case 6:
		if (ip->ip_payload_len > 0xffff || ip->ip_flowlabel > 0xfffff)
			return -EINVAL;
		return XM_PKT_IPV6_HLEN;
	default:
		return -EINVAL;
	}
}

int xm_pkt_build_ip(void *buf, uint32_t cap, const struct xm_pkt_ip *ip)
{
	uint8_t *p = buf;
	uint8_t ttl;
	uint16_t csum;
	int hlen;

	if (buf == NULL || ip == NULL)
		return -EINVAL;
	hlen = ip_hlen(ip);
	if (hlen < 0)
		return hlen;
	if (cap < (uint32_t)hlen)
		return -ENOSPC;
	ttl = ip->ip_ttl ? ip->ip_ttl : XM_PKT_DEFAULT_TTL;
	if (ip->ip_version == 4) {
		p[0] = 0x45;
		p[1] = ip->ip_tos;
		xm_st16(p + 2, (uint16_t)(XM_PKT_IPV4_HLEN + ip->ip_payload_len));
		xm_st16(p + 4, ip->ip_id);
		xm_st16(p + 6, ip->ip_frag);
		p[8] = ttl;
		p[9] = ip->ip_proto;
		xm_st16(p + 10, 0);
		memcpy(p + 12, &ip->ip_src.a_v4, 4);
		memcpy(p + 16, &ip->ip_dst.a_v4, 4);
		csum = xm_pkt_ipv4_csum(p, XM_PKT_IPV4_HLEN);
		memcpy(p + 10, &csum, 2);
	} else {
		xm_st32(p, 6u << 28 | (uint32_t)ip->ip_tos << 20 |
			   ip->ip_flowlabel);
		xm_st16(p + 4, (uint16_t)ip->ip_payload_len);
		p[6] = ip->ip_proto;
		p[7] = ttl;
		memcpy(p + 8, ip->ip_src.a_v6, 16);
		memcpy(p + 24, ip->ip_dst.a_v6, 16);
	}
	return hlen;
}

int xm_pkt_build_udp(void *buf, uint32_t cap, uint16_t sport, uint16_t dport,
		     uint32_t payload_len)
{
	uint8_t *p = buf;

	if (buf == NULL || payload_len > 0xffff - XM_PKT_UDP_HLEN)
		return -EINVAL;
	if (cap < XM_PKT_UDP_HLEN)
		return -ENOSPC;
	xm_st16(p, sport);
	xm_st16(p + 2, dport);
	xm_st16(p + 4, (uint16_t)(XM_PKT_UDP_HLEN + payload_len));
	xm_st16(p + 6, 0);
	return XM_PKT_UDP_HLEN;
}

/* TCP header length for tcp's options, or -EINVAL. */
static int tcp_hlen(const struct xm_pkt_tcp *tcp)
{
	uint32_t n = XM_PKT_TCP_HLEN;

	if (tcp->tcp_opts & ~TCPOPT_ALL)
		return -EINVAL;
	if ((tcp->tcp_opts & XM_PKT_TCPOPT_WSCALE) &&
	    tcp->tcp_wscale > TCP_MAX_WSCALE)
		return -EINVAL;
	/* Each option group below is a whole 32-bit word (Linux's layout). */
	if (tcp->tcp_opts & XM_PKT_TCPOPT_MSS)
		n += 4;
	if (tcp->tcp_opts & XM_PKT_TCPOPT_TS)
		n += 12;
	else if (tcp->tcp_opts & XM_PKT_TCPOPT_SACKOK)
		n += 4;
	if (tcp->tcp_opts & XM_PKT_TCPOPT_WSCALE)
		n += 4;
	return (int)n;
}

int xm_pkt_build_tcp(void *buf, uint32_t cap, uint16_t sport, uint16_t dport,
		     const struct xm_pkt_tcp *tcp)
{
	uint8_t *p = buf, *o;
	int hlen;

	if (buf == NULL || tcp == NULL)
		return -EINVAL;
	hlen = tcp_hlen(tcp);
	if (hlen < 0)
		return hlen;
	if (cap < (uint32_t)hlen)
		return -ENOSPC;
	xm_st16(p, sport);
	xm_st16(p + 2, dport);
	xm_st32(p + 4, tcp->tcp_seq);
	xm_st32(p + 8, tcp->tcp_ack);
	p[12] = (uint8_t)((hlen / 4) << 4);
	p[13] = tcp->tcp_flags;
	xm_st16(p + 14, tcp->tcp_window);
	xm_st16(p + 16, 0);
	xm_st16(p + 18, 0);
	o = p + XM_PKT_TCP_HLEN;
	if (tcp->tcp_opts & XM_PKT_TCPOPT_MSS) {
		o[0] = TCPOPT_MSS;
		o[1] = 4;
		xm_st16(o + 2, tcp->tcp_mss);
		o += 4;
	}
	if (tcp->tcp_opts & XM_PKT_TCPOPT_TS) {
		/* SACK-permitted fills the word timestamps leave over. */
		if (tcp->tcp_opts & XM_PKT_TCPOPT_SACKOK) {
			o[0] = TCPOPT_SACKOK;
			o[1] = 2;
		} else {
			o[0] = o[1] = TCPOPT_NOP;
		}
		o[2] = TCPOPT_TS;
		o[3] = 10;
		xm_st32(o + 4, tcp->tcp_tsval);
		xm_st32(o + 8, tcp->tcp_tsecr);
		o += 12;
	} else if (tcp->tcp_opts & XM_PKT_TCPOPT_SACKOK) {
		o[0] = o[1] = TCPOPT_NOP;
		o[2] = TCPOPT_SACKOK;
		o[3] = 2;
		o += 4;
	}
	if (tcp->tcp_opts & XM_PKT_TCPOPT_WSCALE) {
		o[0] = TCPOPT_NOP;
		o[1] = TCPOPT_WSCALE;
		o[2] = 3;
		o[3] = tcp->tcp_wscale;
		o += 4;
	}
	XM_ASSERT(o == p + hlen, ("%s: options %td, header %d", __func__,
				  o - p, hlen));
	return hlen;
}

/* Sum of an L4 pseudo-header for an IP header built from ip. */
static uint32_t pseudo_of(const struct xm_pkt_ip *ip, uint8_t proto,
			  uint32_t len)
{
	if (ip->ip_version == 4)
		return xm_pkt_pseudo_v4(ip->ip_src.a_v4, ip->ip_dst.a_v4, proto,
					(uint16_t)len);
	return xm_pkt_pseudo_v6(ip->ip_src.a_v6, ip->ip_dst.a_v6, proto, len);
}

int xm_pkt_build_frame(void *buf, uint32_t cap, const struct xm_pkt_tmpl *t)
{
	struct xm_pkt_eth eth;
	struct xm_pkt_ip ip;
	uint8_t *p = buf;
	uint32_t l2, l3, l4, total, pad, seglen;
	uint16_t csum, field;
	int n;

	if (buf == NULL || t == NULL)
		return -EINVAL;
	switch (t->t_proto) {
	case XM_PKT_IPPROTO_UDP:
		if (t->t_payload_len > 0xffff - XM_PKT_UDP_HLEN)
			return -EINVAL;
		l4 = XM_PKT_UDP_HLEN;
		field = 6;
		break;
	case XM_PKT_IPPROTO_TCP:
		n = tcp_hlen(&t->t_tcp);
		if (n < 0)
			return n;
		l4 = (uint32_t)n;
		field = 16;
		break;
	default:
		return -EINVAL;
	}
	if (t->t_payload_len > 0xffff)
		return -EINVAL;
	eth = t->t_eth;
	ip = t->t_ip;
	if (eth.eth_nvlan > XM_PKT_MAX_VLANS)
		return -EINVAL;
	eth.eth_type = ip.ip_version == 6 ? XM_PKT_ETH_P_IPV6 : XM_PKT_ETH_P_IPV4;
	ip.ip_proto = t->t_proto;
	ip.ip_payload_len = l4 + t->t_payload_len;
	n = ip_hlen(&ip);
	if (n < 0)
		return n;
	l3 = (uint32_t)n;
	l2 = XM_PKT_ETH_HLEN + XM_PKT_VLAN_HLEN * eth.eth_nvlan;
	total = l2 + l3 + l4 + t->t_payload_len;
	pad = total < XM_PKT_ETH_ZLEN ? XM_PKT_ETH_ZLEN - total : 0;
	if (cap < total + pad)
		return -ENOSPC;

	/* Sizes are checked: the builders below cannot fail. */
	xm_pkt_build_eth(p, l2, &eth);
	xm_pkt_build_ip(p + l2, l3, &ip);
	if (t->t_proto == XM_PKT_IPPROTO_UDP)
		xm_pkt_build_udp(p + l2 + l3, l4, t->t_sport, t->t_dport,
				 t->t_payload_len);
	else
		xm_pkt_build_tcp(p + l2 + l3, l4, t->t_sport, t->t_dport,
				 &t->t_tcp);
	if (t->t_payload != NULL)
		memcpy(p + l2 + l3 + l4, t->t_payload, t->t_payload_len);
	else
		memset(p + l2 + l3 + l4, 0, t->t_payload_len);
	memset(p + total, 0, pad);

	seglen = l4 + t->t_payload_len;
	csum = xm_pkt_csum_fold(xm_pkt_csum_partial(p + l2 + l3, seglen,
				pseudo_of(&ip, t->t_proto, seglen)));
	if (csum == 0 && t->t_proto == XM_PKT_IPPROTO_UDP)
		csum = 0xffff;
	memcpy(p + l2 + l3 + field, &csum, 2);
	return (int)(total + pad);
}

int xm_pkt_encap(void *inner, uint32_t headroom, uint32_t inner_len,
		 const struct xm_pkt_encap *en)
{
	struct xm_pkt_ip outer;
	uint8_t *in = inner, *p;
	uint32_t udp = 0, gue = 0, need, iph;
	uint8_t proto;
	uint16_t csum;
	int n;

	if (inner == NULL || en == NULL || inner_len == 0 ||
	    (en->en_flags & ~XM_PKT_ENCAP_F_UDP_CSUM))
		return -EINVAL;
	switch (in[0] >> 4) {
	case 4:
		proto = XM_PKT_IPPROTO_IPIP;
		break;
	case 6:
		proto = XM_PKT_IPPROTO_IPV6;
		break;
	default:
		return -EINVAL;
	}
	switch (en->en_type) {
	case XM_PKT_ENCAP_IPIP:
		break;
	case XM_PKT_ENCAP_GUE:
		gue = XM_PKT_GUE_HLEN;
		/* fall through */
	case XM_PKT_ENCAP_GUE_DIRECT:
		udp = XM_PKT_UDP_HLEN;
		if (en->en_dport == 0)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	outer = en->en_outer;
	if (outer.ip_version != 4 && outer.ip_version != 6)
		return -EINVAL;
	iph = outer.ip_version == 4 ? XM_PKT_IPV4_HLEN : XM_PKT_IPV6_HLEN;
	if (inner_len > XM_PKT_IPV4_MAX - udp - gue -
			(outer.ip_version == 4 ? iph : 0))
		return -EMSGSIZE;
	outer.ip_proto = udp ? XM_PKT_IPPROTO_UDP : proto;
	outer.ip_payload_len = udp + gue + inner_len;
	n = ip_hlen(&outer);
	if (n < 0)
		return n;
	need = iph + udp + gue;
	if (headroom < need)
		return -ENOSPC;

	p = in - need;
	xm_pkt_build_ip(p, iph, &outer);
	if (udp == 0)
		return (int)need;
	xm_pkt_build_udp(p + iph, udp, en->en_sport, en->en_dport,
			 gue + inner_len);
	if (gue) {
		/* Variant 0, no control flag, no extension fields. */
		p[iph + udp] = 0;
		p[iph + udp + 1] = proto;
		xm_st16(p + iph + udp + 2, 0);
	}
	if (en->en_flags & XM_PKT_ENCAP_F_UDP_CSUM) {
		csum = xm_pkt_csum_fold(xm_pkt_csum_partial(p + iph,
				udp + gue + inner_len,
				pseudo_of(&outer, XM_PKT_IPPROTO_UDP,
					  udp + gue + inner_len)));
		if (csum == 0)
			csum = 0xffff;
		memcpy(p + iph + 6, &csum, 2);
	}
	return (int)need;
}

/* RFC 1122 3.2.2 / RFC 1812 4.3.2.7: who must not get an ICMP error. */
static bool ipv4_no_error(const struct xm_pkt_info *pi)
{
	const uint8_t *src = (const uint8_t *)&pi->pi_ip.ip_src.a_v4;
	const uint8_t *dst = (const uint8_t *)&pi->pi_ip.ip_dst.a_v4;

	if (pi->pi_proto == XM_PKT_IPPROTO_ICMP &&
	    (pi->pi_flags & XM_PKT_F_L4)) {
		switch (pi->pi_icmp_type) {
		case 3:		/* destination unreachable */
		case 4:		/* source quench */
		case 5:		/* redirect */
		case 11:	/* time exceeded */
		case 12:	/* parameter problem */
			return true;
		default:
			break;
		}
	}
	if ((pi->pi_flags & XM_PKT_F_FRAG) &&
	    !(pi->pi_flags & XM_PKT_F_FRAG_FIRST))
		return true;
	/* Code 4 means "DF set": without DF the packet is fragmented. */
	if (!(pi->pi_flags & XM_PKT_F_DF))
		return true;
	/* Multicast, reserved and limited broadcast (224/3). */
	if (dst[0] >= 224)
		return true;
	/* "This network", loopback, multicast/reserved/broadcast sources. */
	if (src[0] == 0 || src[0] == 127 || src[0] >= 224)
		return true;
	/* Link-layer multicast or broadcast, when there is a link layer. */
	if (pi->pi_l3_off != 0 && (pi->pi_eth.eth_dst[0] & 1))
		return true;
	return false;
}

/* RFC 4443 2.4(e); packet too big may answer multicast destinations. */
static bool ipv6_no_error(const struct xm_pkt_info *pi)
{
	static const uint8_t unspec[16];

	if (pi->pi_proto == XM_PKT_IPPROTO_ICMPV6 &&
	    (pi->pi_flags & XM_PKT_F_L4) && pi->pi_icmp_type < 128)
		return true;
	if (memcmp(pi->pi_ip.ip_src.a_v6, unspec, 16) == 0 ||
	    pi->pi_ip.ip_src.a_v6[0] == 0xff)
		return true;
	return false;
}

int xm_pkt_build_too_big(void *buf, uint32_t cap, const void *frame,
			 const struct xm_pkt_info *pi, uint32_t mtu,
			 const struct xm_pkt_reply_opts *opts)
{
	struct xm_pkt_eth eth;
	struct xm_pkt_ip ip = { 0 };
	const union xm_pkt_addr *src;
	uint8_t *p = buf, *icmp;
	uint32_t l2, iph, hdrs, min_quote, quote, max_len;
	bool v4;
	uint16_t csum;

	if (buf == NULL || frame == NULL || pi == NULL ||
	    pi->pi_err != XM_PKT_ERR_NONE ||
	    !(pi->pi_flags & (XM_PKT_F_IPV4 | XM_PKT_F_IPV6)) ||
	    !XM_OPTS_VALID(opts, xm_pkt_reply_opts))
		return -EINVAL;
	v4 = pi->pi_ip.ip_version == 4;
	if (v4 ? (mtu < XM_PKT_IPV4_MIN_MTU || mtu > XM_PKT_IPV4_MAX)
	       : mtu < XM_PKT_IPV6_MIN_MTU)
		return -EINVAL;
	src = XM_OPTS_GET(opts, src, NULL);
	if (src == NULL)
		src = &pi->pi_ip.ip_dst;
	/* A reply from a multicast address would be dropped. */
	if (!v4 && src->a_v6[0] == 0xff)
		return -EINVAL;
	if (v4 ? ipv4_no_error(pi) : ipv6_no_error(pi))
		return -EPERM;

	iph = v4 ? XM_PKT_IPV4_HLEN : XM_PKT_IPV6_HLEN;
	max_len = XM_OPTS_GET(opts, max_len, 0);
	if (max_len == 0)
		max_len = v4 ? XM_PKT_IPV4_REPLY_MAX : XM_PKT_IPV6_MIN_MTU;
	/* The whole reply must fit its own length field. */
	if (max_len > XM_PKT_IPV4_MAX + (v4 ? 0 : iph))
		max_len = XM_PKT_IPV4_MAX + (v4 ? 0 : iph);
	/*
	 * The receiver matches the quote on the IP header and 8 bytes more:
	 * RFC 792 requires them.  IPv6 only asks for what fits, which for a
	 * long extension header chain may be less, but never less than the
	 * fixed header.
	 */
	min_quote = pi->pi_l3_hlen + 8;
	if (min_quote > pi->pi_l3_len)
		min_quote = pi->pi_l3_len;
	if (!v4 && max_len >= 2 * iph + XM_PKT_ICMP_HLEN &&
	    min_quote > max_len - iph - XM_PKT_ICMP_HLEN)
		min_quote = max_len - iph - XM_PKT_ICMP_HLEN;
	if (max_len < iph + XM_PKT_ICMP_HLEN + min_quote ||
	    pi->pi_caplen - pi->pi_l3_off < min_quote)
		return -EINVAL;
	l2 = pi->pi_l3_off;
	hdrs = l2 + iph + XM_PKT_ICMP_HLEN;
	if (cap < hdrs || cap - hdrs < min_quote)
		return -ENOSPC;
	quote = pi->pi_l3_len;
	if (quote > pi->pi_caplen - pi->pi_l3_off)
		quote = pi->pi_caplen - pi->pi_l3_off;
	if (quote > max_len - iph - XM_PKT_ICMP_HLEN)
		quote = max_len - iph - XM_PKT_ICMP_HLEN;
	if (quote > cap - hdrs)
		quote = cap - hdrs;

	/*
	 * Quote first: buf may be frame, and the headers written next land
	 * where the offending headers were.  Everything else comes from pi.
	 */
	memmove(p + hdrs, (const uint8_t *)frame + pi->pi_l3_off, quote);
	if (l2 != 0) {
		eth = pi->pi_eth;
		memcpy(eth.eth_dst, XM_OPTS_GET(opts, eth_dst, NULL) ?
		       opts->eth_dst : pi->pi_eth.eth_src, XM_PKT_ETH_ALEN);
		memcpy(eth.eth_src, XM_OPTS_GET(opts, eth_src, NULL) ?
		       opts->eth_src : pi->pi_eth.eth_dst, XM_PKT_ETH_ALEN);
		xm_pkt_build_eth(p, l2, &eth);
	}
	ip.ip_version = pi->pi_ip.ip_version;
	ip.ip_proto = v4 ? XM_PKT_IPPROTO_ICMP : XM_PKT_IPPROTO_ICMPV6;
	ip.ip_ttl = XM_OPTS_GET(opts, ttl, 0);
	ip.ip_id = XM_OPTS_GET(opts, ip_id, 0);
	ip.ip_payload_len = XM_PKT_ICMP_HLEN + quote;
	ip.ip_src = *src;
	ip.ip_dst = pi->pi_ip.ip_src;
	xm_pkt_build_ip(p + l2, iph, &ip);

	icmp = p + l2 + iph;
	if (v4) {
		icmp[0] = XM_PKT_ICMP_UNREACH;
		icmp[1] = XM_PKT_ICMP_UNREACH_NEEDFRAG;
		xm_st16(icmp + 4, 0);
		xm_st16(icmp + 6, (uint16_t)mtu);	/* RFC 1191 */
	} else {
		icmp[0] = XM_PKT_ICMP6_PACKET_TOO_BIG;
		icmp[1] = 0;
		xm_st32(icmp + 4, mtu);
	}
	xm_st16(icmp + 2, 0);
	csum = xm_pkt_csum_fold(xm_pkt_csum_partial(icmp,
			XM_PKT_ICMP_HLEN + quote,
			v4 ? 0 : pseudo_of(&ip, XM_PKT_IPPROTO_ICMPV6,
					   XM_PKT_ICMP_HLEN + quote)));
	memcpy(icmp + 2, &csum, 2);
	return (int)(hdrs + quote);
}
