// SPDX-License-Identifier: BSD-2-Clause
/*
 * xdp_rule.c - a steering rule (struct xm_port_rule, xm_port.h) checked
 * and written as the redirect program reads it (struct xm_xdp_rule,
 * bpf/xm_redirect_shared.h): family to the program's numbering, the port
 * to network order, prefixes to a pre-masked address and its mask.
 *
 * Pure: no maps, no sockets, no printing.  xdp.c publishes what comes out
 * of it; tests run it beside bpf/xm_redirect_match.h so that a frame is
 * judged in user space by the same rule bytes and the same matcher as in
 * the kernel.
 *
 * KPI (hidden): _xm_xdp_rule_encode
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include "xdp_rule_int.h"

static void xm_prefix(const uint8_t *addr, unsigned int len,
		      unsigned int bits, uint32_t *want, uint32_t *mask)
{
	uint8_t m[16] = { 0 };
	uint8_t a[16] = { 0 };

	for (unsigned int i = 0; i < len; i++) {
		unsigned int b = bits > i * 8 ? bits - i * 8 : 0;

		m[i] = b >= 8 ? 0xff : (uint8_t)(0xff << (8 - b));
		a[i] = addr[i] & m[i];
	}
	memcpy(want, a, 16);
	memcpy(mask, m, 16);
}

int _xm_xdp_rule_encode(const struct xm_port_rule *r, struct xm_xdp_rule *kr,
			char *why, size_t whylen)
{
	const uint32_t known = XM_RULE_M_PROTO | XM_RULE_M_DST_PORT |
			       XM_RULE_M_VLAN | XM_RULE_M_SRC | XM_RULE_M_DST |
			       XM_RULE_M_FAMILY | XM_RULE_M_SRC_PORT;
	unsigned int alen, maxlen;

	if (r->match & ~known) {
		snprintf(why, whylen, "rule has unknown match bits 0x%x",
			 r->match & ~known);
		return -EINVAL;
	}
	if (r->match & (XM_RULE_M_SRC | XM_RULE_M_DST | XM_RULE_M_FAMILY)) {
		if (r->family != AF_INET && r->family != AF_INET6) {
			snprintf(why, whylen, "rule needs family AF_INET or "
				 "AF_INET6 for address matches");
			return -EINVAL;
		}
	}
	alen = r->family == AF_INET6 ? 16 : 4;
	maxlen = alen * 8;
	if (((r->match & XM_RULE_M_SRC) && r->src_len > maxlen) ||
	    ((r->match & XM_RULE_M_DST) && r->dst_len > maxlen)) {
		snprintf(why, whylen, "rule prefix length above %u", maxlen);
		return -EINVAL;
	}
	if ((r->match & XM_RULE_M_VLAN) && r->vlan_id > 4095) {
		snprintf(why, whylen, "rule VLAN id %u above 4095",
			 r->vlan_id);
		return -EINVAL;
	}

	memset(kr, 0, sizeof(*kr));
	kr->match = r->match;
	kr->family = r->family == AF_INET6 ? XM_XDP_FAMILY_IPV6 :
		     XM_XDP_FAMILY_IPV4;
	kr->ip_proto = r->ip_proto;
	kr->dst_port = htons(r->dst_port);
	kr->src_port = htons(r->src_port);
	kr->vlan_id = r->vlan_id;
	if (r->match & XM_RULE_M_SRC)
		xm_prefix(r->src, alen, r->src_len, kr->src, kr->src_mask);
	if (r->match & XM_RULE_M_DST)
		xm_prefix(r->dst, alen, r->dst_len, kr->dst, kr->dst_mask);
	return 0;
}
