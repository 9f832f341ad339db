/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_redirect_prog.h - the body of the XDP redirect program, compiled
 * once per build by the bpf/xm_redirect*.bpf.c files (macros XM_FRAGS and
 * XM_KFUNCS select the build; see xm_redirect.bpf.c for the model).  A
 * header so that the Makefile's dependency on bpf/ headers rebuilds every build
 * when it changes.
 */
#ifndef XM_REDIRECT_PROG_H
#define XM_REDIRECT_PROG_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xm_redirect_shared.h"

#ifndef XM_FRAGS
#define XM_FRAGS 0
#endif
#ifndef XM_KFUNCS
#define XM_KFUNCS 0
#endif

#if XM_FRAGS && XM_KFUNCS
#define XM_PROG_NAME	xm_redirect_kfmb
#elif XM_FRAGS
#define XM_PROG_NAME	xm_redirect_mb
#elif XM_KFUNCS
#define XM_PROG_NAME	xm_redirect_kf
#else
#define XM_PROG_NAME	xm_redirect
#endif

#if XM_FRAGS
#define XM_SEC		"xdp.frags"
#else
#define XM_SEC		"xdp"
#endif

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_DSTOPTS_	60
#define IP_OFFSET	0x1fff	/* fragment offset bits */

#if XM_KFUNCS
/* Prototypes exactly as the kernel's BTF has them (enum, not int). */
extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx,
					 __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym;
#endif

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XM_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/*
 * One rule set (see struct xm_xdp_ruleset): the inner map's shape.  By
 * size, not by type: a struct reached only through this template is
 * emitted as a forward declaration in BTF, which libbpf cannot size.
 */
struct xm_ruleset_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xm_xdp_ruleset));
};

/* The rule set in force, swapped whole by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct xm_ruleset_map);
} xm_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_xdp_config);
} xm_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_xdp_stats);
} xm_stats SEC(".maps");

/* What the rules look at, parsed once per packet. */
struct xm_pkt {
	__u32 src[4];			/* network order; v4 in src[0] */
	__u32 dst[4];
	__u16 dst_port;			/* network order, when has_ports */
	__u16 vlan_id;			/* outer tag, 0 = untagged */
	__u8 family;			/* 0, XM_XDP_FAMILY_IPV4 or _IPV6 */
	__u8 proto;
	__u8 has_ports;
};

static __always_inline int parse_l4(void *l4, void *end, struct xm_pkt *pi)
{
	__u16 *ports = l4;

	if (pi->proto != IPPROTO_UDP && pi->proto != IPPROTO_TCP &&
	    pi->proto != IPPROTO_SCTP)
		return 0;
	/* source and destination port lead UDP, TCP and SCTP alike */
	if ((void *)(ports + 2) > end)
		return 0;
	pi->dst_port = ports[1];
	pi->has_ports = 1;
	return 0;
}

static __always_inline void parse_ipv4(void *l3, void *end, struct xm_pkt *pi)
{
	struct iphdr *ip = l3;
	__u32 ihl;

	if ((void *)(ip + 1) > end)
		return;
	ihl = ip->ihl * 4;
	if (ihl < sizeof(*ip))
		return;
	pi->family = XM_XDP_FAMILY_IPV4;
	pi->proto = ip->protocol;
	pi->src[0] = ip->saddr;
	pi->dst[0] = ip->daddr;
	/* a later fragment has no L4 header; the first one does */
	if (ip->frag_off & bpf_htons(IP_OFFSET))
		return;
	parse_l4(l3 + ihl, end, pi);
}

static __always_inline void parse_ipv6(void *l3, void *end, struct xm_pkt *pi)
{
	struct ipv6hdr *ip6 = l3;
	void *p = ip6 + 1;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6 + 1) > end)
		return;
	pi->family = XM_XDP_FAMILY_IPV6;
	__builtin_memcpy(pi->src, &ip6->saddr, 16);
	__builtin_memcpy(pi->dst, &ip6->daddr, 16);
	nexthdr = ip6->nexthdr;
	/* walk a bounded number of extension headers to the L4 header */
#pragma unroll
	for (i = 0; i < 4; i++) {
		if (nexthdr == IPPROTO_HOPOPTS_ || nexthdr == IPPROTO_ROUTING_ ||
		    nexthdr == IPPROTO_DSTOPTS_) {
			__u8 *opt = p;

			if ((void *)(opt + 2) > end)
				return;
			nexthdr = opt[0];
			p += (opt[1] + 1) * 8;
		} else if (nexthdr == IPPROTO_FRAGMENT_) {
			struct frag_hdr *fh = p;

			if ((void *)(fh + 1) > end)
				return;
			nexthdr = fh->nexthdr;
			p = fh + 1;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				pi->proto = nexthdr;
				return;
			}
		} else {
			break;
		}
	}
	pi->proto = nexthdr;
	parse_l4(p, end, pi);
}

static __always_inline void parse(struct xdp_md *ctx, struct xm_pkt *pi)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *p = eth + 1;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > end)
		return;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < 2; i++) {
		struct vlan_hdr *vh = p;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return;
		if (i == 0)
			pi->vlan_id = bpf_ntohs(vh->h_vlan_TCI) & 0x0fff;
		proto = vh->h_vlan_encapsulated_proto;
		p = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		parse_ipv4(p, end, pi);
	else if (proto == bpf_htons(ETH_P_IPV6))
		parse_ipv6(p, end, pi);
}

static __always_inline bool prefix_match(const __u32 *addr, const __u32 *want,
					 const __u32 *mask)
{
	return ((addr[0] & mask[0]) == want[0]) &
	       ((addr[1] & mask[1]) == want[1]) &
	       ((addr[2] & mask[2]) == want[2]) &
	       ((addr[3] & mask[3]) == want[3]);
}

static __always_inline bool rule_match(const struct xm_xdp_rule *r,
				       const struct xm_pkt *pi)
{
	__u32 m = r->match;

	if ((m & XM_XDP_M_VLAN) && pi->vlan_id != r->vlan_id)
		return false;
	if ((m & (XM_XDP_M_FAMILY | XM_XDP_M_SRC | XM_XDP_M_DST)) &&
	    pi->family != r->family)
		return false;
	if ((m & XM_XDP_M_PROTO) && (!pi->family || pi->proto != r->ip_proto))
		return false;
	if ((m & XM_XDP_M_DST_PORT) &&
	    (!pi->has_ports || pi->dst_port != r->dst_port))
		return false;
	if ((m & XM_XDP_M_SRC) && !prefix_match(pi->src, r->src, r->src_mask))
		return false;
	if ((m & XM_XDP_M_DST) && !prefix_match(pi->dst, r->dst, r->dst_mask))
		return false;
	return true;
}

static __always_inline void write_meta(struct xdp_md *ctx,
				       struct xm_xdp_stats *st)
{
	struct xm_xdp_meta *meta;
	__u64 tstamp = 0;
	__u32 flags = 0;
	__u32 hash = 0;
	__u32 htype = 0;
	void *data;

#if XM_KFUNCS
	enum xdp_rss_hash_type rss_type = XDP_RSS_TYPE_NONE;

	/* veth answers 0 with a zero stamp when the skb carries none */
	if (bpf_xdp_metadata_rx_timestamp(ctx, &tstamp) == 0 && tstamp)
		flags |= XM_XDP_META_F_TSTAMP | XM_XDP_META_F_TSTAMP_HW;
	if (bpf_xdp_metadata_rx_hash(ctx, &hash, &rss_type) == 0) {
		htype = rss_type;
		flags |= XM_XDP_META_F_HASH;
	}
#endif
	if (!(flags & XM_XDP_META_F_TSTAMP)) {
		tstamp = bpf_ktime_get_ns();
		flags |= XM_XDP_META_F_TSTAMP;
	}
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta))) {
		st->meta_failed++;
		return;
	}
	/* adjust_meta moved the pointers: reload and re-prove bounds */
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(meta + 1) > data)
		return;
	meta->rx_tstamp = tstamp;
	meta->rx_hash = hash;
	meta->hash_type = htype;
	meta->flags = flags;
	meta->magic = XM_XDP_META_MAGIC;
}

SEC(XM_SEC)
int XM_PROG_NAME(struct xdp_md *ctx)
{
	const struct xm_xdp_ruleset *set = NULL;
	struct xm_pkt pi = {};
	struct xm_xdp_config *cfg;
	struct xm_xdp_stats *st;
	__u32 zero = 0;
	__u32 nrules;
	void *inner;
	long ret;
	int i;

	st = bpf_map_lookup_elem(&xm_stats, &zero);
	cfg = bpf_map_lookup_elem(&xm_config, &zero);
	if (!st || !cfg)
		return XDP_PASS;
	st->seen++;

	/*
	 * One lookup gives the whole set in force: a set being replaced
	 * is never seen half written, and no set at all steers nothing.
	 */
	inner = bpf_map_lookup_elem(&xm_rules, &zero);
	if (inner)
		set = bpf_map_lookup_elem(inner, &zero);
	if (!set) {
		st->passed++;
		return XDP_PASS;
	}
	if (!(set->flags & XM_XDP_SET_ALL)) {
		int hit = -1;

		nrules = set->nrules;
		parse(ctx, &pi);
		for (i = 0; i < XM_XDP_MAX_RULES; i++) {
			if (i >= nrules)
				break;
			if (rule_match(&set->rules[i], &pi)) {
				hit = i;
				break;
			}
		}
		if (hit < 0 || hit >= XM_XDP_MAX_RULES) {
			st->passed++;
			return XDP_PASS;
		}
		st->rule_hits[hit]++;
	}

	if (cfg->flags & XM_XDP_CFG_META)
		write_meta(ctx, st);

	ret = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	if (ret == XDP_REDIRECT)
		st->redirected++;
	else
		st->no_socket++;
	return ret;
}

char _license[] SEC("license") = "Dual BSD/GPL";

#endif /* XM_REDIRECT_PROG_H */
