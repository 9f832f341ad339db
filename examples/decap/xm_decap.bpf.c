// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_decap.bpf.c - the backend half of xmbuf-lb's direct server return:
 * an XDP program that strips the outer header the balancer added and
 * passes the client's own packet on to the stack, which answers the
 * client directly from the VIP.  Katran ships the same thing
 * (decap.bpf.c) for hosts without tunnel devices; the kernels here have
 * no ipip, fou, gre or ip6 tunnel support at all, and a real backend
 * saves the tunnel device's cost.
 *
 *   before:  | eth [vlan..] | outer IPv4/IPv6 | [UDP [GUE]] | inner IP ... |
 *                           |<------------ outer ------------>|
 *   after:                  | eth [vlan..] | inner IP ... |   (XDP_PASS)
 *            bpf_xdp_adjust_head(outer); the L2 header is moved up and its
 *            ethertype set to the inner version's.
 *
 * Decapsulated: IPv4 protocol 4 (IPIP) and 41 (6in4), IPv6 next header 41
 * (IP6IP6) and 4 (4in6), directly after the fixed header; with GUE
 * configured, UDP to the GUE port over either version, GUE variant 0
 * (4-byte header, proto field, optional extension words; control
 * messages are left alone) or variant 1 (the inner IP header right after
 * UDP).  Everything else passes untouched, and so does anything that
 * looks like a tunnel but does not parse (the stack then drops it as it
 * would without us) and outer fragments (there is nothing to strip until
 * the stack reassembles them).
 *
 * Who may tunnel to us.  Stripping a tunnel delivers its inner packet
 * with the inner source the sender chose, so anyone who can reach the
 * backend could inject packets from any address.  With an allow-list of
 * the balancers' outer source prefixes configured (XM_DECAP_F_SRC_CHECK,
 * the "xm_decap_src" trie), a tunnel packet from anywhere else is dropped
 * and counted (refused_src): default deny.  With the destination check
 * (XM_DECAP_F_DST_CHECK, the "xm_decap_dst" trie of this host's
 * addresses), so is one whose outer destination is not ours
 * (refused_dst).  Both checks come before anything is stripped; packets
 * that are no tunnel of ours are never looked at by them.
 *
 *   tunnel packet? --no--> passed
 *     | yes
 *   source allowed? --no--> XDP_DROP, refused_src   (check configured)
 *   destination ours? --no--> XDP_DROP, refused_dst (check configured)
 *   strip, XDP_PASS
 *
 * Without either check the program decapsulates whatever tunnel packet
 * reaches the interface, as a tunnel device there would.  The loader
 * (xmbuf-decap) writes the configuration and prefix maps and reads the
 * per-CPU counters.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xm_decap_shared.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define PROTO_IPIP	4
#define PROTO_IPV6	41
#define PROTO_UDP	17
#define IP_MF_OFFSET	0x3fff	/* more fragments + offset */
#define MAX_L2		(14 + 2 * 4)
#define MAX_OUTER	(60 + 8 + 4 + 31 * 4)	/* IPv4 options, UDP, GUE */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_decap_config);
} xm_decap_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_decap_stats);
} xm_decap_stats SEC(".maps");

/* Allowed outer sources: the balancers' src-prefix. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XM_DECAP_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xm_decap_prefix);
	__type(value, __u8);
} xm_decap_src SEC(".maps");

/* Outer destinations that are ours. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XM_DECAP_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xm_decap_prefix);
	__type(value, __u8);
} xm_decap_dst SEC(".maps");

/*
 * The trie key of an outer address, written while the header's bounds are
 * proven (a packet pointer kept for later would need proving again).
 */
static __always_inline void key4(struct xm_decap_prefix *k, __be32 a)
{
	k->prefixlen = 128;
	__builtin_memset(k->addr, 0, 10);
	k->addr[10] = 0xff;
	k->addr[11] = 0xff;
	__builtin_memcpy(&k->addr[12], &a, 4);
}

static __always_inline void key6(struct xm_decap_prefix *k,
				 const struct in6_addr *a)
{
	k->prefixlen = 128;
	__builtin_memcpy(k->addr, a, 16);
}

/*
 * The GUE header at g (outer UDP payload): its length and the inner
 * ethertype, or 0 for a control message or garbage.
 */
static __always_inline __u32 gue_len(__u8 *g, void *end, __u16 *inner)
{
	__u8 b0;

	if ((void *)(g + 1) > end)
		return 0;
	b0 = g[0];
	if ((b0 >> 6) == 1) {
		/* Variant 1: the inner IP header itself. */
		*inner = (b0 >> 4) == 4 ? ETH_P_IP : ETH_P_IPV6;
		return (b0 >> 4) == 4 || (b0 >> 4) == 6 ? 0xffff : 0;
	}
	if ((b0 >> 6) != 0 || (b0 & 0x20))
		return 0;	/* unknown variant, or a control message */
	if ((void *)(g + 4) > end)
		return 0;
	if (g[1] == PROTO_IPIP)
		*inner = ETH_P_IP;
	else if (g[1] == PROTO_IPV6)
		*inner = ETH_P_IPV6;
	else
		return 0;
	return 4 + (b0 & 0x1f) * 4;
}

/*
 * A tunnel packet from src to dst (trie keys): refused, and counted, when
 * a check is configured and the address is not in its trie.
 */
static __always_inline bool refused(const struct xm_decap_config *cfg,
				    struct xm_decap_stats *st,
				    const struct xm_decap_prefix *src,
				    const struct xm_decap_prefix *dst)
{
	if ((cfg->flags & XM_DECAP_F_SRC_CHECK) &&
	    !bpf_map_lookup_elem(&xm_decap_src, src)) {
		st->refused_src++;
		return true;
	}
	if ((cfg->flags & XM_DECAP_F_DST_CHECK) &&
	    !bpf_map_lookup_elem(&xm_decap_dst, dst)) {
		st->refused_dst++;
		return true;
	}
	return false;
}

SEC("xdp")
int xm_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xm_decap_config *cfg;
	struct xm_decap_stats *st;
	__u8 l2[MAX_L2];
	__u32 zero = 0, l2len = sizeof(*eth), outer = 0, iplen;
	__u16 proto, inner = 0;
	struct xm_decap_prefix ksrc, kdst;
	__u8 l4;
	__u64 *counter;
	__u8 *p;
	int i;

	st = bpf_map_lookup_elem(&xm_decap_stats, &zero);
	cfg = bpf_map_lookup_elem(&xm_decap_cfg, &zero);
	if (!st || !cfg)
		return XDP_PASS;
	st->seen++;
	/* attached but not configured yet: the checks may not be in place */
	if (!(cfg->flags & XM_DECAP_F_READY))
		goto out_pass;
	if ((void *)(eth + 1) > end)
		goto out_pass;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < 2; i++) {
		struct vlan_hdr *vh = data + l2len;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			goto out_pass;
		proto = vh->h_vlan_encapsulated_proto;
		l2len += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data + l2len;

		if ((void *)(iph + 1) > end)
			goto out_pass;
		l4 = iph->protocol;
		if (l4 != PROTO_IPIP && l4 != PROTO_IPV6 && l4 != PROTO_UDP)
			goto out_pass;
		if (iph->version != 4 || iph->ihl < 5)
			goto out_malformed;
		if (iph->frag_off & bpf_htons(IP_MF_OFFSET)) {
			/* A UDP fragment may be anyone's: a later one has no
			 * port to tell GUE by. */
			if (l4 == PROTO_UDP)
				goto out_pass;
			st->fragmented++;
			return XDP_PASS;
		}
		iplen = iph->ihl * 4;
		counter = l4 == PROTO_IPIP ? &st->ipip : &st->ip6in4;
		key4(&ksrc, iph->saddr);
		key4(&kdst, iph->daddr);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = data + l2len;

		if ((void *)(ip6h + 1) > end)
			goto out_pass;
		l4 = ip6h->nexthdr;
		if (l4 != PROTO_IPIP && l4 != PROTO_IPV6 && l4 != PROTO_UDP)
			goto out_pass;
		iplen = sizeof(*ip6h);
		counter = l4 == PROTO_IPV6 ? &st->ip6ip6 : &st->ip4in6;
		key6(&ksrc, &ip6h->saddr);
		key6(&kdst, &ip6h->daddr);
	} else {
		goto out_pass;
	}

	if (l4 == PROTO_UDP) {
		struct udphdr *udp = data + l2len + iplen;
		__u32 g;

		if (!(cfg->flags & XM_DECAP_F_GUE))
			goto out_pass;
		if ((void *)(udp + 1) > end)
			goto out_pass;
		if (udp->dest != cfg->gue_port)
			goto out_pass;
		if (refused(cfg, st, &ksrc, &kdst))
			return XDP_DROP;
		g = gue_len((__u8 *)(udp + 1), end, &inner);
		if (g == 0)
			goto out_malformed;
		outer = iplen + sizeof(*udp) + (g == 0xffff ? 0 : g);
		counter = &st->gue;
	} else {
		if (refused(cfg, st, &ksrc, &kdst))
			return XDP_DROP;
		outer = iplen;
		inner = l4 == PROTO_IPIP ? ETH_P_IP : ETH_P_IPV6;
	}
	if (outer > MAX_OUTER)
		goto out_malformed;

	/* The inner packet must be what the outer header says it is. */
	p = data + l2len + outer;
	if ((void *)(p + 1) > end)
		goto out_malformed;
	if ((p[0] >> 4) != (inner == ETH_P_IP ? 4 : 6))
		goto out_malformed;

	/* Keep the L2 header, drop the outer headers, put it back. */
	if (l2len == 14) {
		__builtin_memcpy(l2, data, 14);
	} else if (l2len == 18) {
		if (data + 18 > end)
			goto out_pass;
		__builtin_memcpy(l2, data, 18);
	} else {
		if (data + 22 > end)
			goto out_pass;
		__builtin_memcpy(l2, data, 22);
	}
	if (bpf_xdp_adjust_head(ctx, (int)outer)) {
		st->failed++;
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	/* The checks below cannot fail (the inner packet's first byte,
	 * now at l2len, was seen above); the verifier needs them. */
	if (l2len == 14) {
		if (data + 14 > end)
			return XDP_ABORTED;
		__builtin_memcpy(data, l2, 14);
	} else if (l2len == 18) {
		if (data + 18 > end)
			return XDP_ABORTED;
		__builtin_memcpy(data, l2, 18);
	} else {
		if (data + 22 > end)
			return XDP_ABORTED;
		__builtin_memcpy(data, l2, 22);
	}
	p = data + l2len - 2;
	if ((void *)(p + 2) > end)
		return XDP_ABORTED;
	*(__u16 *)p = bpf_htons(inner);
	(*counter)++;
	return XDP_PASS;

out_malformed:
	st->malformed++;
	return XDP_PASS;
out_pass:
	st->passed++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
