/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_redirect_prog.h - the body of the XDP redirect program, compiled
 * once per build by the bpf/xm_redirect*.bpf.c files (macros XM_FRAGS and
 * XM_KFUNCS select the build; see xm_redirect.bpf.c for the model).  A
 * header so that the Makefile's dependency on bpf/ headers rebuilds every build
 * when it changes.  What a rule matches, and how a frame is read for it,
 * is bpf/xm_redirect_match.h, which user space compiles too.
 */
#ifndef XM_REDIRECT_PROG_H
#define XM_REDIRECT_PROG_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xm_redirect_shared.h"

/*
 * The parse and each rule test are global functions: the verifier checks
 * each once, on its own, and the caller sees their results as unknown
 * values.  Inlined, every way through the parse (tags, IPv4/IPv6, each
 * extension header, each cut) and through each test would be a distinct
 * state carried into the next rule, and the 16 rules multiply them
 * beyond what the verifier walks.
 */
struct xm_xdp_view;
__noinline int xm_redirect_rule_match(const struct xm_xdp_rule *r,
				      const struct xm_xdp_view *v);
#define XM_XDP_RULE_MATCH(r, v)	xm_redirect_rule_match(r, v)
#include "xm_redirect_match.h"

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

__noinline int xm_redirect_rule_match(const struct xm_xdp_rule *r,
				      const struct xm_xdp_view *v)
{
	if (!r || !v)
		return 0;
	return xm_xdp_rule_match(r, v);
}

__noinline int xm_redirect_parse(struct xdp_md *ctx, struct xm_xdp_view *v)
{
	if (!ctx || !v)
		return 0;
	xm_xdp_parse((const __u8 *)(long)ctx->data,
		     (const __u8 *)(long)ctx->data_end, v);
	return 0;
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
	struct xm_xdp_view view = {};
	struct xm_xdp_config *cfg;
	struct xm_xdp_stats *st;
	__u32 zero = 0;
	void *inner;
	long ret;

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
		int hit;

		xm_redirect_parse(ctx, &view);
		hit = xm_xdp_first_match(set, &view);
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
