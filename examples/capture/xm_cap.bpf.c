// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_cap.bpf.c - xmbuf-capture's copying programs: each one copies a
 * frame it sees (up to the snap length) into the BPF ring buffer
 * "xm_cap_ring" and changes nothing about the frame's fate.  The tool
 * (cap_passive.c) loads only the ones its path needs.
 *
 *   passive:  tcx ingress  xm_cap_tc_in  --copy--+
 *             tcx egress   xm_cap_tc_out --copy--+--> xm_cap_ring --> tool
 *             both return TCX_NEXT: the next program, then the stack,
 *             decide, exactly as without the capture (with the clsact
 *             fallback the same value is TC_ACT_UNSPEC: the next filter)
 *   --at-xdp: fentry  xm_cap_xdp_entry  on the XDP program attached to
 *             fexit   xm_cap_xdp_exit   the interface (a running xmbuf-lb),
 *             the frame as it came in, and as it leaves with the verdict
 *
 * The copy goes straight into the ring: the record is reserved in the
 * smallest of a few size classes that holds it (bpf_ringbuf_reserve
 * takes a constant size), so a 64-byte packet takes 96 bytes of ring
 * (the ring's 8-byte header, the record's 24, the frame) and the frame
 * is copied once; the smallest classes are the commonest packets (a
 * minimal frame, a TCP ACK, a ping).  A full ring is counted (lost), the
 * frame goes on.  Counters: xm_cap_stats, per CPU (xm_cap_shared.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "xm_cap_shared.h"

/* Set by the tool before load (the rodata map is frozen: constants). */
const volatile __u32 xm_cap_snaplen = XM_CAP_COPY_MAX;
const volatile __u64 xm_cap_wakeup = 65536;	/* bytes waiting before
						 * the reader is woken */
/* Set by the reader (through the mmap'd .bss) just before it sleeps;
 * the copy that wakes it clears it. */
volatile __u32 xm_cap_armed;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 25);	/* the tool sets it (-B) */
} xm_cap_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_CAP_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xm_cap_stats SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&xm_cap_stats, &slot);

	if (v)
		(*v)++;
}

/* Bytes to copy of a frame of len bytes. */
static __always_inline __u32 cap_len(__u32 len)
{
	__u32 snap = xm_cap_snaplen;

	if (snap > XM_CAP_COPY_MAX)
		snap = XM_CAP_COPY_MAX;
	return len < snap ? len : snap;
}

/*
 * One copy in size class cls (a constant after inlining).  src is the
 * socket buffer (skb != NULL) or kernel memory (an XDP frame's data).
 */
static __always_inline void put(struct __sk_buff *skb, const void *src,
				__u32 wirelen, __u32 caplen, __u32 dir,
				__u32 verdict, const __u32 cls)
{
	struct xm_cap_rec *r;
	__u64 len = caplen;
	long err;

	r = bpf_ringbuf_reserve(&xm_cap_ring, sizeof(*r) + cls, 0);
	if (!r) {
		count(dir == XM_CAP_DIR_OUT ? XM_CAP_ST_LOST_OUT :
					      XM_CAP_ST_LOST_IN);
		return;
	}
	/* the class's test bounds caplen, but in a copy of the register
	 * the verifier does not link back: bound it again, on the one it
	 * hands the helper */
	asm volatile("" : "+r"(len));
	if (len > cls)
		len = cls;
	if (len == 0) {
		err = 0;
	} else if (skb) {
		err = bpf_skb_load_bytes(skb, 0, r + 1, len);
	} else {
		err = bpf_probe_read_kernel(r + 1, len, src);
	}
	if (err) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		count(XM_CAP_ST_COPY_ERR);
		return;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->wirelen = wirelen;
	r->caplen = (__u32)len;
	r->dir = dir;
	r->verdict = verdict;
	/*
	 * The reader is woken only once xm_cap_wakeup bytes wait (it polls
	 * with a timeout for the rest): the ring's default wakes it for
	 * every record that finds it caught up, an irq_work on the
	 * receiving CPU per packet, which cut the source's rate by a third
	 * in the benchmark (tests/bench/capture.sh).  And only once per
	 * sleep: a forced wake-up raises the irq_work again as soon as the
	 * last one ran, so forcing it for every record until the reader
	 * has caught up was a self-IPI (an exit to the hypervisor, in a VM)
	 * per packet in that window, a third of this program's time
	 * (measured with perf).  Two CPUs may both see it armed: a second
	 * wake-up, harmless.
	 */
	if (xm_cap_armed && bpf_ringbuf_query(&xm_cap_ring,
					      BPF_RB_AVAIL_DATA) >=
			    xm_cap_wakeup) {
		xm_cap_armed = 0;
		bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
	} else {
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
}

static __always_inline void copy(struct __sk_buff *skb, const void *src,
				 __u32 wirelen, __u32 dir, __u32 verdict)
{
	__u32 caplen = cap_len(wirelen);

	count(dir == XM_CAP_DIR_OUT ? XM_CAP_ST_SEEN_OUT : XM_CAP_ST_SEEN_IN);
	if (caplen <= 64)
		put(skb, src, wirelen, caplen, dir, verdict, 64);
	else if (caplen <= 96)
		put(skb, src, wirelen, caplen, dir, verdict, 96);
	else if (caplen <= 128)
		put(skb, src, wirelen, caplen, dir, verdict, 128);
	else if (caplen <= 256)
		put(skb, src, wirelen, caplen, dir, verdict, 256);
	else if (caplen <= 512)
		put(skb, src, wirelen, caplen, dir, verdict, 512);
	else if (caplen <= 1024)
		put(skb, src, wirelen, caplen, dir, verdict, 1024);
	else if (caplen <= 1536)
		put(skb, src, wirelen, caplen, dir, verdict, 1536);
	else if (caplen <= 2048)
		put(skb, src, wirelen, caplen, dir, verdict, 2048);
	else if (caplen <= 4096)
		put(skb, src, wirelen, caplen, dir, verdict, 4096);
	else if (caplen <= 9216)
		put(skb, src, wirelen, caplen, dir, verdict, 9216);
	else if (caplen <= 16384)
		put(skb, src, wirelen, caplen, dir, verdict, 16384);
	else
		put(skb, src, wirelen, caplen, dir, verdict, XM_CAP_COPY_MAX);
}

SEC("tc")
int xm_cap_tc_in(struct __sk_buff *skb)
{
	copy(skb, NULL, skb->len, XM_CAP_DIR_IN, XM_CAP_VERDICT_NONE);
	return TCX_NEXT;
}

SEC("tc")
int xm_cap_tc_out(struct __sk_buff *skb)
{
	copy(skb, NULL, skb->len, XM_CAP_DIR_OUT, XM_CAP_VERDICT_NONE);
	return TCX_NEXT;
}

/* The linear part of an XDP frame (a multi-buffer frame's fragments
 * are not copied). */
static __always_inline void copy_xdp(struct xdp_buff *xdp, __u32 verdict)
{
	void *data = xdp->data, *end = xdp->data_end;

	copy(NULL, data, (__u32)(end - data), XM_CAP_DIR_IN, verdict);
}

/* The target is set at load (bpf_program__set_attach_target). */
SEC("fentry/xdp")
int BPF_PROG(xm_cap_xdp_entry, struct xdp_buff *xdp)
{
	copy_xdp(xdp, XM_CAP_VERDICT_NONE);
	return 0;
}

SEC("fexit/xdp")
int BPF_PROG(xm_cap_xdp_exit, struct xdp_buff *xdp, int ret)
{
	copy_xdp(xdp, (__u32)ret);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
