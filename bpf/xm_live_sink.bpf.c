// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_live_sink.bpf.c - the counting sink of the library's live-frames
 * engine (userspace/live_sink.c, xm_live_sink_* in xm_live.h).
 *
 * Attached to the interface where traffic comes back (a forwarder's
 * output, the far end of a veth), it counts every frame, counts those
 * whose destination MAC is cfg.dst (what a MAC swap of the source's
 * frames leaves there), and drops them all, so no user-space receiver
 * bounds what is measured:
 *
 *   live source --> device under test --> ifindex [xm_live_sink: count,
 *                                                  XDP_DROP]
 *
 * The counters are per-CPU (no atomics on the hot path); user space sums
 * them.  On a veth the program runs in the sender's softirq, on the CPU
 * that transmitted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "xm_live_shared.h"

const volatile struct xm_live_bpf_sink_cfg sink_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_live_bpf_sink_pcpu);
} xm_live_sink_state SEC(".maps");

SEC("xdp")
int xm_live_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xm_live_bpf_sink_pcpu *st;
	struct ethhdr *eth = data;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&xm_live_sink_state, &zero);
	if (!st)
		return XDP_DROP;
	st->frames++;
	if (sink_cfg.match && (void *)(eth + 1) <= end &&
	    eth->h_dest[0] == sink_cfg.dst[0] &&
	    eth->h_dest[1] == sink_cfg.dst[1] &&
	    eth->h_dest[2] == sink_cfg.dst[2] &&
	    eth->h_dest[3] == sink_cfg.dst[3] &&
	    eth->h_dest[4] == sink_cfg.dst[4] &&
	    eth->h_dest[5] == sink_cfg.dst[5])
		st->matched++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
