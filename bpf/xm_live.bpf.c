// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_live.bpf.c - the transmit program of the library's live-frames
 * engine (userspace/live.c, xm_live_* in xm_live.h).
 *
 * It is run, not attached: user space calls BPF_PROG_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES, a template frame and a repeat count; the
 * kernel builds one xdp_buff per repetition from a page pool, runs this
 * program on it and carries out the verdict for real.  The verdict is a
 * redirect out of cfg.ifindex, so each repetition is one frame sent and
 * no user-space code runs per frame:
 *
 *   BPF_PROG_RUN(frame, repeat = N)
 *     page pool frame --> xm_live: flow fields, stamp, checksums
 *                     --> bpf_redirect(ifindex) --> ndo_xdp_xmit
 *
 * Page-pool pages are recycled without being rewritten from the template
 * (net/bpf/test_run.c resets the pointers, not the bytes).  So the
 * program never assumes the template's values are in the frame: it
 * writes every field it varies in full, and updates each checksum from
 * the bytes it replaced (RFC 1624), which keeps a frame that was
 * consistent consistent whatever earlier runs left in it.
 *
 * Per frame, in this order:
 *   1. seq = this CPU's counter++ (per-CPU: no atomics, one stream each)
 *   2. size (nsizes != 0): the frame is cut to sizes[seq % nsizes] with
 *      bpf_xdp_adjust_tail() (the template is the largest size), and the
 *      length fields (IPv4 total length, IPv6 payload length, UDP length)
 *      are rewritten; an IMIX goes out interleaved frame by frame from
 *      one call
 *   3. flows (nflows > 1): k = seq % nflows, or order[seq % nflows] for
 *      a caller's order (a random permutation); each field gets
 *      base + (k / div) % count
 *   4. the sequence number alone (seq_off != 0): its low 32 bits, for
 *      receivers that want a count and no clock read per frame
 *   5. the stamp (stamp_off != 0): magic, stream + CPU, seq, time
 *   6. the IPv4 header and L4 checksums, incrementally
 *
 * Cutting works because the kernel restores a frame's pointers (not its
 * bytes) before the next run: the template's tail is still there, and
 * what the program wrote into it is only ever headers and the stamp.
 *
 * All offsets are .rodata constants (frozen before load), so the
 * verifier sees each packet access at a known offset and bounds it once.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xm_live_shared.h"

const volatile struct xm_live_bpf_cfg cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_live_bpf_pcpu);
} xm_live_state SEC(".maps");

/* Flow order (a permutation of 0..nflows-1); resized before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xm_live_order SEC(".maps");

/* Frame sizes, cycled by sequence number; resized before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xm_live_sizes SEC(".maps");

/* One's complement sum contribution of replacing 16-bit word o by n. */
static __always_inline __u32 csum_delta16(__u16 o, __u16 n)
{
	return (__u32)(__u16)~o + (__u32)n;
}

static __always_inline __u16 csum_apply(__u16 csum, __u32 delta)
{
	__u32 sum = (__u32)(__u16)~csum + delta;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Writes a 16-bit word at p; @return its checksum delta. */
static __always_inline __u32 put16(void *p, __u16 v_be)
{
	__u16 old;

	__builtin_memcpy(&old, p, 2);
	__builtin_memcpy(p, &v_be, 2);
	return csum_delta16(old, v_be);
}

SEC("xdp")
int xm_live(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xm_live_bpf_pcpu *st;
	__u32 zero = 0, ipd = 0, l4d = 0;
	__u64 seq;

	st = bpf_map_lookup_elem(&xm_live_state, &zero);
	if (!st)
		return XDP_ABORTED;
	seq = st->seq++;

	if (cfg.nsizes) {
		__u32 i = (__u32)(seq % cfg.nsizes), len;
		__u32 *want = bpf_map_lookup_elem(&xm_live_sizes, &i);
		int cut;

		if (!want)
			return XDP_ABORTED;
		cut = (int)*want - (int)(end - data);
		if (cut < 0 && bpf_xdp_adjust_tail(ctx, cut))
			return XDP_ABORTED;
		/* adjust_tail invalidates every packet pointer */
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		len = (__u32)(end - data);
#pragma unroll
		for (int k = 0; k < XM_LIVE_BPF_MAX_LENS; k++) {
			const volatile struct xm_live_bpf_len *l = &cfg.lens[k];
			__u32 off = l->off, d;
			void *p;

			if (k >= cfg.nlens)
				break;
			if (off > XM_LIVE_BPF_MAX_OFF)
				return XDP_ABORTED;
			p = data + off;
			if (p + 2 > end)
				return XDP_ABORTED;
			d = put16(p, bpf_htons((__u16)(len - l->sub)));
			if (l->flags & XM_LIVE_BPF_CSUM_IP)
				ipd += d;
			if (l->flags & XM_LIVE_BPF_CSUM_L4)
				l4d += d;
			if (l->flags & XM_LIVE_BPF_CSUM_L4_2X)
				l4d += 2 * d;
		}
	}

	if (cfg.nflows > 1) {
		__u32 k = (__u32)(seq % cfg.nflows);

		if (cfg.ordered) {
			__u32 *o = bpf_map_lookup_elem(&xm_live_order, &k);

			if (!o)
				return XDP_ABORTED;
			k = *o;
		}
#pragma unroll
		for (int i = 0; i < XM_LIVE_BPF_MAX_FIELDS; i++) {
			const volatile struct xm_live_bpf_field *f =
				&cfg.fields[i];
			__u32 off = f->off, v, d;
			void *p;

			if (i >= cfg.nfields)
				break;
			if (f->div == 0 || f->count == 0 ||
			    off > XM_LIVE_BPF_MAX_OFF)
				return XDP_ABORTED;
			v = f->base + (k / f->div) % f->count;
			p = data + off;
			if (f->len == 4) {
				if (p + 4 > end)
					return XDP_ABORTED;
				d = put16(p, bpf_htons((__u16)(v >> 16)));
				d += put16(p + 2, bpf_htons((__u16)v));
			} else {
				if (p + 2 > end)
					return XDP_ABORTED;
				d = put16(p, bpf_htons((__u16)v));
			}
			if (f->flags & XM_LIVE_BPF_CSUM_IP)
				ipd += d;
			if (f->flags & XM_LIVE_BPF_CSUM_L4)
				l4d += d;
		}
	}

	if (cfg.seq_off) {
		__u32 off = cfg.seq_off;
		void *p = data + off;

		if (off > XM_LIVE_BPF_MAX_OFF || p + 4 > end)
			return XDP_ABORTED;
		l4d += put16(p, bpf_htons((__u16)(seq >> 16)));
		l4d += put16(p + 2, bpf_htons((__u16)seq));
	}

	if (cfg.stamp_off) {
		__u32 off = cfg.stamp_off;
		__u64 ts = bpf_ktime_get_ns();
		__u16 stream = (__u16)(cfg.stream + bpf_get_smp_processor_id());
		void *p = data + off;

		if (off > XM_LIVE_BPF_MAX_OFF ||
		    p + XM_LIVE_BPF_STAMP_LEN > end)
			return XDP_ABORTED;
		l4d += put16(p, bpf_htons(XM_LIVE_BPF_STAMP_MAGIC));
		l4d += put16(p + 2, bpf_htons(stream));
		l4d += put16(p + 4, bpf_htons((__u16)(seq >> 32)));
		l4d += put16(p + 6, bpf_htons((__u16)(seq >> 16)));
		l4d += put16(p + 8, bpf_htons((__u16)seq));
		l4d += put16(p + 10, bpf_htons((__u16)(ts >> 48)));
		l4d += put16(p + 12, bpf_htons((__u16)(ts >> 32)));
		l4d += put16(p + 14, bpf_htons((__u16)(ts >> 16)));
		l4d += put16(p + 16, bpf_htons((__u16)ts));
	}

	if (cfg.ip_csum_off && ipd) {
		__u32 off = cfg.ip_csum_off;
		void *p = data + off;
		__u16 c;

		if (off > XM_LIVE_BPF_MAX_OFF || p + 2 > end)
			return XDP_ABORTED;
		__builtin_memcpy(&c, p, 2);
		c = csum_apply(c, ipd);
		__builtin_memcpy(p, &c, 2);
	}
	if (cfg.l4_csum_off && l4d) {
		__u32 off = cfg.l4_csum_off;
		void *p = data + off;
		__u16 c;

		if (off > XM_LIVE_BPF_MAX_OFF || p + 2 > end)
			return XDP_ABORTED;
		__builtin_memcpy(&c, p, 2);
		/* UDP over IPv4 with checksum 0 carries none: keep it so. */
		if (!(cfg.l4_udp && c == 0)) {
			c = csum_apply(c, l4d);
			if (cfg.l4_udp && c == 0)
				c = 0xffff;
			__builtin_memcpy(p, &c, 2);
		}
	}
	return bpf_redirect(cfg.ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
