/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_redirect_match.h - what the redirect program reads in a frame and
 * how a steering rule matches it.  Plain C on a byte range [data, end),
 * compiled into the XDP program (bpf/xm_redirect_prog.h) and into user
 * space (the capture filter's differential test and fuzz target), so that
 * a test of the rules runs the very code the kernel runs.
 *
 * A frame is read as far as it goes, and every field remembers whether it
 * was read:
 *
 *   dst mac | src mac | type [| TPID TCI]{0,2} | IPv4 or IPv6 [| ext]* | ports
 *                       ^ 0x8100, 0x88a8 and 0x9100 are tags (libpcap's set)
 *
 *   field        read when                     not readable
 *   vlan_id      the outer tag (or untagged)   frame < 14 bytes, tag cut
 *   family       the type after the tags      (the same)
 *   proto        IPv4 byte 9; IPv6 next        header cut before it, an
 *                header after at most four     extension header cut short
 *                extension headers             or more than four of them
 *   src, dst     each address whole            the address is cut
 *   src_port,    TCP/UDP/SCTP, first fragment  IPv4 IHL < 5, cut short
 *   dst_port
 *
 * A test on a field that was not read HOLDS: a frame the parser cannot
 * read goes to user space, where the application (libpcap in
 * xmbuf-capture) decides; the rules never reject what they cannot see.
 * A field read and absent (an ARP frame has no protocol, a later
 * fragment no ports) fails the tests on it.  IPv4 addresses and protocol
 * are read whatever the IHL, as libpcap reads them.
 */
#ifndef XM_REDIRECT_MATCH_H
#define XM_REDIRECT_MATCH_H

#ifdef __bpf__
#define XM_MATCH_FN	static __always_inline
#define XM_UNROLL	_Pragma("unroll")
#else
#include <linux/types.h>
#include <stdbool.h>
#define XM_MATCH_FN	static inline
#define XM_UNROLL
#endif

#include "xm_redirect_shared.h"

#define XM_ETH_P_IP		0x0800
#define XM_ETH_P_IPV6		0x86DD
#define XM_ETH_P_8021Q		0x8100
#define XM_ETH_P_8021AD		0x88A8
#define XM_ETH_P_QINQ1		0x9100	/* pre-standard QinQ */
#define XM_IPPROTO_HOPOPTS	0
#define XM_IPPROTO_TCP		6
#define XM_IPPROTO_UDP		17
#define XM_IPPROTO_ROUTING	43
#define XM_IPPROTO_FRAGMENT	44
#define XM_IPPROTO_DSTOPTS	60
#define XM_IPPROTO_SCTP		132

/* xm_xdp_view.known */
#define XM_VIEW_K_VLAN		0x01	/* vlan_id read */
#define XM_VIEW_K_FAMILY	0x02	/* family read (0: not IP) */
#define XM_VIEW_K_PROTO		0x04	/* proto read */

/* xm_xdp_view.ports */
#define XM_VIEW_PORTS_UNREAD	0	/* could not be read: tests hold */
#define XM_VIEW_PORTS_NONE	1	/* the frame has none */
#define XM_VIEW_PORTS_READ	2	/* src_port and dst_port read */

/* What the rules look at, parsed once per frame; all zero = nothing read. */
struct xm_xdp_view {
	__u32 src[4];			/* network order; IPv4 in src[0] */
	__u32 dst[4];
	__u16 dst_port;			/* network order, with PORTS_READ */
	__u16 src_port;			/* network order, with PORTS_READ */
	__u16 vlan_id;			/* outer tag, 0 = untagged */
	__u8 family;			/* 0, XM_XDP_FAMILY_IPV4 or _IPV6 */
	__u8 proto;			/* IPv4 protocol, IPv6 last header */
	__u8 known;			/* XM_VIEW_K_* */
	__u8 ports;			/* XM_VIEW_PORTS_* */
	__u32 src_read[4];		/* ~0 for each word of src read */
	__u32 dst_read[4];
};

XM_MATCH_FN bool xm_xdp_has_ports(__u8 proto)
{
	return proto == XM_IPPROTO_TCP || proto == XM_IPPROTO_UDP ||
	       proto == XM_IPPROTO_SCTP;
}

XM_MATCH_FN bool xm_xdp_is_ext(__u8 nh)
{
	return nh == XM_IPPROTO_HOPOPTS || nh == XM_IPPROTO_ROUTING ||
	       nh == XM_IPPROTO_DSTOPTS || nh == XM_IPPROTO_FRAGMENT;
}

/* Ports lead TCP, UDP and SCTP alike; l4 at or past end: unread. */
XM_MATCH_FN void xm_xdp_read_ports(const __u8 *l4, const __u8 *end,
				   struct xm_xdp_view *v)
{
	if (l4 + 4 > end)
		return;
	__builtin_memcpy(&v->src_port, l4, 2);
	__builtin_memcpy(&v->dst_port, l4 + 2, 2);
	v->ports = XM_VIEW_PORTS_READ;
}

XM_MATCH_FN void xm_xdp_parse_ipv4(const __u8 *l3, const __u8 *end,
				   struct xm_xdp_view *v)
{
	__u32 ihl;

	v->family = XM_XDP_FAMILY_IPV4;
	if (l3 + 10 > end)
		return;
	v->proto = l3[9];
	v->known |= XM_VIEW_K_PROTO;
	if (l3 + 16 <= end) {
		__builtin_memcpy(&v->src[0], l3 + 12, 4);
		v->src_read[0] = ~0u;
	}
	if (l3 + 20 <= end) {
		__builtin_memcpy(&v->dst[0], l3 + 16, 4);
		v->dst_read[0] = ~0u;
	}
	/* a later fragment has no L4 header; the first one does */
	if (!xm_xdp_has_ports(v->proto) || (l3[6] & 0x1f) || l3[7]) {
		v->ports = XM_VIEW_PORTS_NONE;
		return;
	}
	ihl = (__u32)(l3[0] & 0x0f) * 4;
	if (ihl < 20)
		return;		/* no L4 header to be found: unread */
	xm_xdp_read_ports(l3 + ihl, end, v);
}

XM_MATCH_FN void xm_xdp_parse_ipv6(const __u8 *l3, const __u8 *end,
				   struct xm_xdp_view *v)
{
	const __u8 *p = l3 + 40;
	__u8 nh;
	int i;

	v->family = XM_XDP_FAMILY_IPV6;
	/* each address whole or not at all: a header cut after the source
	 * still shows the source */
	if (l3 + 24 <= end) {
		__builtin_memcpy(v->src, l3 + 8, 16);
		__builtin_memset(v->src_read, 0xff, 16);
	}
	if (l3 + 40 <= end) {
		__builtin_memcpy(v->dst, l3 + 24, 16);
		__builtin_memset(v->dst_read, 0xff, 16);
	}
	if (l3 + 7 > end)
		return;
	nh = l3[6];
	if (p > end) {
		/* header cut short: its next header is still the protocol
		 * unless it announces an extension header we cannot walk */
		if (!xm_xdp_is_ext(nh)) {
			v->proto = nh;
			v->known |= XM_VIEW_K_PROTO;
			if (!xm_xdp_has_ports(nh))
				v->ports = XM_VIEW_PORTS_NONE;
		}
		return;
	}
	/* a bounded walk; a header cut short leaves the protocol unread */
	XM_UNROLL
	for (i = 0; i < 4; i++) {
		if (nh == XM_IPPROTO_FRAGMENT) {
			if (p + 8 > end)
				return;
			nh = p[0];
			if ((p[2] << 8 | p[3]) & 0xfff8) {
				/* a later fragment: no L4 header */
				v->proto = nh;
				v->known |= XM_VIEW_K_PROTO;
				v->ports = XM_VIEW_PORTS_NONE;
				return;
			}
			p += 8;
		} else if (xm_xdp_is_ext(nh)) {
			if (p + 2 > end)
				return;
			nh = p[0];
			p += ((__u32)p[1] + 1) * 8;
		} else {
			break;
		}
	}
	if (xm_xdp_is_ext(nh))
		return;		/* more than four extension headers */
	v->proto = nh;
	v->known |= XM_VIEW_K_PROTO;
	if (!xm_xdp_has_ports(nh)) {
		v->ports = XM_VIEW_PORTS_NONE;
		return;
	}
	xm_xdp_read_ports(p, end, v);
}

XM_MATCH_FN bool xm_xdp_is_tpid(__u16 type)
{
	return type == XM_ETH_P_8021Q || type == XM_ETH_P_8021AD ||
	       type == XM_ETH_P_QINQ1;
}

/* Fills *v (zeroed by the caller) from the frame [data, end). */
XM_MATCH_FN void xm_xdp_parse(const __u8 *data, const __u8 *end,
			      struct xm_xdp_view *v)
{
	const __u8 *p = data + 14;
	__u16 type;
	int i;

	if (p > end)
		return;
	type = (__u16)(data[12] << 8 | data[13]);
	XM_UNROLL
	for (i = 0; i < 2; i++) {
		if (!xm_xdp_is_tpid(type))
			break;
		if (p + 4 > end) {
			if (i > 0)
				v->known |= XM_VIEW_K_VLAN;
			return;
		}
		if (i == 0)
			v->vlan_id = (__u16)((p[0] << 8 | p[1]) & 0x0fff);
		type = (__u16)(p[2] << 8 | p[3]);
		p += 4;
	}
	v->known |= XM_VIEW_K_VLAN | XM_VIEW_K_FAMILY;
	if (type == XM_ETH_P_IP)
		xm_xdp_parse_ipv4(p, end, v);
	else if (type == XM_ETH_P_IPV6)
		xm_xdp_parse_ipv6(p, end, v);
	else
		v->ports = XM_VIEW_PORTS_NONE;	/* not IP (three tags too) */
}

/*
 * Each word read must match; words not read hold.  Without a branch per
 * word: branches here would multiply the verifier's paths by 3^8 per rule.
 */
XM_MATCH_FN bool xm_xdp_prefix_match(const __u32 *addr, const __u32 *read,
				     const __u32 *want, const __u32 *mask)
{
	__u32 diff = 0;
	int i;

	XM_UNROLL
	for (i = 0; i < 4; i++)
		diff |= ((addr[i] & mask[i]) ^ want[i]) & read[i];
	return diff == 0;
}

XM_MATCH_FN bool xm_xdp_rule_match(const struct xm_xdp_rule *r,
				   const struct xm_xdp_view *v)
{
	const __u32 ip_tests = XM_XDP_M_FAMILY | XM_XDP_M_SRC | XM_XDP_M_DST |
			       XM_XDP_M_PROTO | XM_XDP_M_DST_PORT |
			       XM_XDP_M_SRC_PORT;
	__u32 m = r->match;

	if ((m & XM_XDP_M_VLAN) && (v->known & XM_VIEW_K_VLAN) &&
	    v->vlan_id != r->vlan_id)
		return false;
	if ((m & ip_tests) && (v->known & XM_VIEW_K_FAMILY)) {
		if (!v->family)
			return false;
		if ((m & (XM_XDP_M_FAMILY | XM_XDP_M_SRC | XM_XDP_M_DST)) &&
		    v->family != r->family)
			return false;
	}
	if ((m & XM_XDP_M_PROTO) && (v->known & XM_VIEW_K_PROTO) &&
	    v->proto != r->ip_proto)
		return false;
	if ((m & XM_XDP_M_DST_PORT) &&
	    (v->ports == XM_VIEW_PORTS_NONE ||
	     (v->ports == XM_VIEW_PORTS_READ && v->dst_port != r->dst_port)))
		return false;
	if ((m & XM_XDP_M_SRC_PORT) &&
	    (v->ports == XM_VIEW_PORTS_NONE ||
	     (v->ports == XM_VIEW_PORTS_READ && v->src_port != r->src_port)))
		return false;
	if ((m & XM_XDP_M_SRC) &&
	    !xm_xdp_prefix_match(v->src, v->src_read, r->src, r->src_mask))
		return false;
	if ((m & XM_XDP_M_DST) &&
	    !xm_xdp_prefix_match(v->dst, v->dst_read, r->dst, r->dst_mask))
		return false;
	return true;
}

/*
 * The rule test first_match calls: the XDP program defines it as its own
 * global function around xm_xdp_rule_match (see xm_redirect_prog.h).
 */
#ifndef XM_XDP_RULE_MATCH
#define XM_XDP_RULE_MATCH(r, v)	xm_xdp_rule_match(r, v)
#endif

/* @return the first rule of set matching v, or -1 (set->flags aside). */
XM_MATCH_FN int xm_xdp_first_match(const struct xm_xdp_ruleset *set,
				   const struct xm_xdp_view *v)
{
	__u32 nrules = set->nrules;
	int i;

	for (i = 0; i < XM_XDP_MAX_RULES; i++) {
		if ((__u32)i >= nrules)
			break;
		if (XM_XDP_RULE_MATCH(&set->rules[i], v))
			return i;
	}
	return -1;
}

#endif /* XM_REDIRECT_MATCH_H */
