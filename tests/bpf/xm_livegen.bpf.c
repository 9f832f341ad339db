// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_livegen.bpf.c - a line-rate traffic source and a counting sink for
 * benchmarks on veth pairs.
 *
 * The source is run, not attached: user space calls BPF_PROG_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES and a template frame, and the kernel builds
 * one xdp_buff per repetition from a page pool, runs xm_livegen on it and
 * carries out the verdict for real.  Our verdict is a redirect out of
 * out_ifindex, so each repetition is one frame transmitted:
 *
 *   BPF_PROG_RUN(repeat = N)            veth pair
 *   +-------------------------+   ndo_xdp_xmit   +---------------------+
 *   | page pool frame         | ---------------> | out_ifindex ~ peer  | --> peer's
 *   | xm_livegen: set flow,   |                  | (peer's NAPI, same  |     XDP prog,
 *   | seq; bpf_redirect()     |                  |  CPU as the caller) |     AF_XDP...
 *   +-------------------------+                  +---------------------+
 *
 * Pages are recycled without being rewritten from the template, so the
 * program writes every field it varies on every run and depends on no
 * earlier content.  The frame is the template user space built: Ethernet,
 * IPv4 without options, UDP with checksum 0 (legal over IPv4, so changing
 * the source port or the payload needs no checksum update).
 *
 * Per frame: the UDP source port becomes port_base + seq % nflows (flows a
 * receiver can tell apart), and, when seq_off is set, the 32-bit sequence
 * number is stored big-endian at that offset.  The sequence is per CPU.
 *
 * xm_livegen_sink is attached in native mode to the interface that
 * receives the traffic back (a forwarder's output): it counts every frame,
 * counts those whose destination MAC is expect_dst (the MAC swap the
 * forwarder should have done), and drops them all.  The counters are
 * per-CPU: user space sums them.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define XM_LIVEGEN_UDP_OFF	(14 + 20)	/* Ethernet + IPv4, no options */
#define XM_LIVEGEN_MAX_OFF	4096

/* Set by user space before load; the verifier sees them as constants. */
const volatile __u32 out_ifindex = 0;	/* where frames are redirected */
const volatile __u32 nflows = 1;	/* distinct UDP source ports */
const volatile __u16 port_base = 1024;	/* first source port, host order */
const volatile __u32 seq_off = 0;	/* offset of the sequence, 0: none */
const volatile __u8 expect_dst[6] = {};	/* sink: MAC a good frame carries */

enum {
	XM_LIVEGEN_SEQ = 0,		/* source: frames built so far */
	XM_LIVEGEN_SINK_RX,		/* sink: frames seen */
	XM_LIVEGEN_SINK_GOOD,		/* sink: ... with dst == expect_dst */
	XM_LIVEGEN_NCOUNTERS,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_LIVEGEN_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} xm_livegen_cnt SEC(".maps");

static __always_inline __u64 *counter(__u32 idx)
{
	return bpf_map_lookup_elem(&xm_livegen_cnt, &idx);
}

SEC("xdp")
int xm_livegen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 *seqp = counter(XM_LIVEGEN_SEQ);
	__u64 seq;

	if (!seqp)
		return XDP_ABORTED;
	seq = (*seqp)++;

	if (nflows > 1) {
		struct udphdr *udp = data + XM_LIVEGEN_UDP_OFF;

		if ((void *)(udp + 1) > end)
			return XDP_ABORTED;
		udp->source = bpf_htons(port_base + (__u16)(seq % nflows));
	}
	if (seq_off && seq_off <= XM_LIVEGEN_MAX_OFF) {
		__be32 *p = data + seq_off;
		__be32 v = bpf_htonl((__u32)seq);

		if ((void *)(p + 1) > end)
			return XDP_ABORTED;
		/* May be unaligned: store bytewise through memcpy. */
		__builtin_memcpy(p, &v, sizeof(v));
	}
	return bpf_redirect(out_ifindex, 0);
}

SEC("xdp")
int xm_livegen_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 *rx = counter(XM_LIVEGEN_SINK_RX);
	__u64 *good = counter(XM_LIVEGEN_SINK_GOOD);

	if (!rx || !good)
		return XDP_DROP;
	(*rx)++;
	if ((void *)(eth + 1) <= end &&
	    eth->h_dest[0] == expect_dst[0] && eth->h_dest[1] == expect_dst[1] &&
	    eth->h_dest[2] == expect_dst[2] && eth->h_dest[3] == expect_dst[3] &&
	    eth->h_dest[4] == expect_dst[4] && eth->h_dest[5] == expect_dst[5])
		(*good)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
