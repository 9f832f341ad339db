// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_test_dropk.bpf.c - a lossy hop for the packet generator's
 * integration tests (tests/integration/test_pktgen.c), loaded by the test
 * through its skeleton, never by the library.
 *
 *   pktgen tx --> va ====== vm1 [xm_test_dropk] --redirect--> vm2 ====== vc --> pktgen rx
 *                           every k-th IP frame: XDP_DROP
 *
 * Attached in native mode to the middle namespace's end of the first
 * veth, it counts IPv4/IPv6 frames in arrival order (one global atomic
 * counter, so "every k-th" is exact whichever CPU a frame arrives on),
 * drops frame k, 2k, 3k, ... and redirects the others out of
 * out_ifindex; anything that is not IP (none is expected) is passed to
 * the stack untouched and uncounted.  It also keeps the arrival time
 * (CLOCK_MONOTONIC) of the first and the latest IP frame, so a test can
 * measure the rate frames arrive at with no user-space reader in the way.  The test compares the meter's loss
 * with the "dropped" counter and with what k makes of the count sent.
 * Each IP frame's length on the wire (the whole frame, FCS excluded, tag
 * included: bpf_xdp_get_buff_len) is counted too, in xm_dropk_sizes, so
 * a test can check the sizes a generator sent without trusting it.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 k = 0;		/* drop every k-th; 0: none */
const volatile __u32 out_ifindex = 0;	/* redirect target; 0: XDP_PASS */

enum {
	DROPK_SEEN = 0,			/* IP frames counted */
	DROPK_DROPPED,			/* of which dropped */
	DROPK_FORWARDED,		/* of which redirected */
	DROPK_FIRST_NS,			/* arrival of the first (ktime) */
	DROPK_LAST_NS,			/* arrival of the latest */
	DROPK_NCOUNTERS,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DROPK_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} xm_dropk_cnt SEC(".maps");

#define DROPK_SIZES	9217		/* 0..9215 bytes, 9216: longer */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DROPK_SIZES);
	__type(key, __u32);
	__type(value, __u64);
} xm_dropk_sizes SEC(".maps");

static __always_inline __u64 *counter(__u32 idx)
{
	return bpf_map_lookup_elem(&xm_dropk_cnt, &idx);
}

SEC("xdp")
int xm_test_dropk(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 *seen = counter(DROPK_SEEN);
	__u64 *dropped = counter(DROPK_DROPPED);
	__u64 *fwd = counter(DROPK_FORWARDED);
	__u64 *first = counter(DROPK_FIRST_NS);
	__u64 *last = counter(DROPK_LAST_NS);
	__u64 n, now, *sz;
	__u32 len;
	__u16 type;

	if (!seen || !dropped || !fwd || !first || !last ||
	    (void *)(eth + 1) > end)
		return XDP_PASS;
	type = bpf_ntohs(eth->h_proto);
	if (type == 0x8100) {
		struct vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > end)
			return XDP_PASS;
		type = bpf_ntohs(vh->h_vlan_encapsulated_proto);
	}
	if (type != 0x0800 && type != 0x86dd)
		return XDP_PASS;
	/* arrival times: a receiver's rate without a user-space reader */
	now = bpf_ktime_get_ns();
	__sync_val_compare_and_swap(first, 0, now);
	*last = now;
	len = (__u32)bpf_xdp_get_buff_len(ctx);
	if (len > DROPK_SIZES - 1)
		len = DROPK_SIZES - 1;
	sz = bpf_map_lookup_elem(&xm_dropk_sizes, &len);
	if (sz)
		__sync_fetch_and_add(sz, 1);
	n = __sync_fetch_and_add(seen, 1) + 1;
	if (k && n % k == 0) {
		__sync_fetch_and_add(dropped, 1);
		return XDP_DROP;
	}
	__sync_fetch_and_add(fwd, 1);
	return out_ifindex ? bpf_redirect(out_ifindex, 0) : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
