/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file
 * xm_live.h - live frames: an in-kernel transmit engine and its counting
 * sink (public KPI of userspace/live.c and live_sink.c).  It needs neither a port nor a umem: only this
 * header and xm_common.h.
 *
 * For peak rate without user space per packet: BPF_PROG_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES runs bpf/xm_live.bpf.c once per frame on a
 * copy of a template (from a kernel page pool), and the program
 * redirects each copy out of the interface.  Nothing is attached to the
 * interface and no socket or UMEM is involved; xm_live_send() returns
 * once every repetition has been handed to the driver.
 *
 * Per frame the program can cut the frame to the next size of a cycle (an
 * IMIX, a sweep: the template is the largest, length fields follow), step
 * header fields over flows and write a stamp (sequence number, stream id,
 * TX time), keeping the IPv4 header and TCP/UDP checksums right
 * incrementally.  The stamp is also what
 * applications write themselves on the AF_XDP path, so one receiver reads
 * both:
 *
 *   offset +0      +2       +4                +10                  +18
 *          | 0x584d | stream | sequence, 48 bit | TX time ns, 64 bit |
 *   big-endian; time is CLOCK_MONOTONIC (bpf_ktime_get_ns()); in live
 *   frames the stream is opts.stream + the CPU the frame was built on and
 *   the sequence comes from that CPU's counter (starting at 0).
 *
 * A receiver that only needs a count can take the sequence number alone
 * (opts.seq_off: its low 32 bits, big-endian), which costs no clock read
 * per frame.
 *
 * Limits: a frame fits one page with the kernel's headroom and
 * skb_shared_info (XM_LIVE_MAX_FRAME); frames the driver refuses (a veth
 * whose peer has neither an XDP program nor GRO, a full ring) are dropped
 * by the kernel without a count here.  Each xm_live_send() builds and
 * tears down a kernel page pool and swaps the program in and out of the
 * kernel's XDP dispatcher, and those wait for RCU grace periods: 20 to
 * 30 ms of idle source per call however few frames it sends (measured),
 * so send tens of thousands of frames per call.  xm_live_run() does that
 * for a steady source: it sizes each call, from the rate so far, to last
 * about a quarter of a second.  Needs CAP_BPF + CAP_NET_ADMIN.
 *
 * The sink (xm_live_sink_*) is the other end of a measurement: an XDP
 * program on the interface where the traffic comes back that counts and
 * drops every frame, and counts apart those with a given destination MAC
 * (a forwarder's MAC swap of the source's frames), with no user-space
 * receiver to bound the figure.
 *
 *   xm_live_run() --> IF ===== peer --> device under test
 *                                             |
 *   xm_live_sink_read() <-- [sink] IF2 <------+
 */
#ifndef XM_LIVE_H
#define XM_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xm_common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xm_live;

#define XM_LIVE_STAMP_LEN	18	/* bytes of a stamp */
#define XM_LIVE_STAMP_MAGIC	0x584d	/* "XM", first two bytes */
#define XM_LIVE_MAX_FIELDS	4	/* stepped header fields */
#define XM_LIVE_MAX_LENS	3	/* length fields */
#define XM_LIVE_MAX_SIZES	65536	/* entries of a size cycle */
#define XM_LIVE_MAX_FRAME	3072	/* largest template (one page) */
#define XM_LIVE_MAX_BATCH	256	/* kernel batch limit */
#define XM_LIVE_MAX_FLOWS	(1U << 24)	/* with a flow order */

/* xm_live_field.lf_flags: checksums that cover the field. */
#define XM_LIVE_F_CSUM_IP	0x1	/* the IPv4 header checksum */
#define XM_LIVE_F_CSUM_L4	0x2	/* the TCP/UDP checksum */
#define XM_LIVE_F_CSUM_L4_2X	0x4	/* xm_live_len only: the TCP/UDP
					 * checksum twice (a UDP length: in
					 * the header and the pseudo-header) */

/*
 * A header field stepped over the flows: frame of flow k carries
 * lf_base + (k / (product of the counts of the fields before it)) %
 * lf_count, big-endian, in lf_len bytes at lf_off.  Fields are mixed-radix
 * digits of k, the first one varying fastest, so the first
 * product-of-counts flows are all distinct.
 */
struct xm_live_field {
	uint32_t lf_off;		/* frame offset, even */
	uint8_t lf_len;			/* 2 or 4 bytes */
	uint8_t lf_flags;		/* XM_LIVE_F_CSUM_* */
	uint16_t lf_spare;		/* 0 */
	uint32_t lf_base;		/* first value, host order */
	uint32_t lf_count;		/* values, >= 1 */
};

/*
 * A length field rewritten for each frame's size (with size_cycle): the
 * 16-bit big-endian value frame length - ll_sub at ll_off.  ll_flags say
 * which checksums its change moves: an IPv4 total length CSUM_IP (and
 * CSUM_L4 for TCP, whose pseudo-header length moves with it), an IPv6
 * payload length CSUM_L4 for TCP (0 for UDP), a UDP length CSUM_L4_2X.
 */
struct xm_live_len {
	uint32_t ll_off;		/* frame offset, even */
	uint16_t ll_sub;		/* bytes before what the field counts */
	uint8_t ll_flags;		/* XM_LIVE_F_CSUM_* */
	uint8_t ll_spare;		/* 0 */
};

/* Open options; build with XM_OPTS(xm_live_opts, name, .field = v). */
struct xm_live_opts {
	size_t sz;			/* sizeof(struct xm_live_opts) */
	uint32_t batch_size;		/* frames per kernel batch (64),
					 * 1..XM_LIVE_MAX_BATCH */
	uint32_t stamp_off;		/* stamp offset, even; 0: no stamp */
	uint32_t ip_csum_off;		/* IPv4 header checksum offset, even;
					 * 0: none to keep */
	uint32_t l4_csum_off;		/* TCP/UDP checksum offset, even; 0:
					 * none (the stamp must then not be
					 * covered by one) */
	bool l4_udp;			/* the L4 checksum is UDP's: 0 stays 0
					 * (none), a result of 0 is 0xffff */
	uint16_t stream;		/* stream id base (the CPU is added) */
	uint32_t nflows;		/* flows; 0 or 1: fields not stepped */
	const uint32_t *flow_order;	/* nflows flow numbers: frame n is
					 * flow flow_order[n % nflows]; NULL:
					 * n % nflows (copied at open) */
	uint32_t nfields;		/* fields[] in use */
	struct xm_live_field fields[XM_LIVE_MAX_FIELDS];
	const uint32_t *size_cycle;	/* nsizes frame sizes: frame n is cut
					 * to size_cycle[n % nsizes]; the
					 * template must be the largest;
					 * NULL: frames go as given (copied
					 * at open) */
	uint32_t nsizes;		/* 0..XM_LIVE_MAX_SIZES */
	uint32_t nlens;			/* lens[] in use (with size_cycle) */
	struct xm_live_len lens[XM_LIVE_MAX_LENS];
	uint32_t seq_off;		/* offset of a 32-bit big-endian
					 * sequence number (the low 32 bits
					 * of the stamp's; covered by the L4
					 * checksum like the stamp), even; 0:
					 * none */
};
#define xm_live_opts__last_field seq_off

/**
 * @brief **xm_live_open()** loads the live-frames program for ifname.
 * @param ifname the interface frames leave by (this thread's namespace)
 * @param opts the per-frame work, or NULL for plain repetition
 * @return the engine, or NULL with errno set, after a message: ENODEV
 * unknown interface; EINVAL bad options (odd offset, a field length other
 * than 2 or 4, a count of 0, an offset past XM_LIVE_MAX_FRAME, nflows
 * above XM_LIVE_MAX_FLOWS with an order, an order entry >= nflows, a
 * size in the cycle shorter than the stamp and fields need or longer than
 * XM_LIVE_MAX_FRAME);
 * EPERM without privilege; what the BPF load returned otherwise.
 *
 * Several threads may call xm_live_send() on one engine at once; each
 * CPU keeps its own sequence counter.
 */
XM_API struct xm_live *xm_live_open(const char *ifname,
				    const struct xm_live_opts *opts);

/**
 * @brief **xm_live_send()** transmits count copies of frame.
 * @param frame the template: Ethernet frame without FCS, len bytes,
 * ETH_HLEN..XM_LIVE_MAX_FRAME, long enough to hold the stamp and every
 * field of the options, and at least the largest size of the cycle
 * @return 0, on success; -EINVAL bad arguments; -EINTR when a signal cut
 * the run short (fewer were sent: xm_live_frames() says how many the
 * program ran); -errno from BPF_PROG_RUN otherwise.  Block signals in
 * threads that send large counts, or send in chunks.
 */
XM_API int xm_live_send(struct xm_live *l, const void *frame, uint32_t len,
			uint32_t count);

/**
 * @brief **xm_live_frames()** frames the program has run on, summed over
 * CPUs (each was redirected; the driver may still have dropped some).
 * @return 0, on success; negative error code otherwise.
 */
XM_API int xm_live_frames(struct xm_live *l, uint64_t *frames);

/**
 * @brief **xm_live_cpu_frames()** frames run per CPU: CPU c's count is
 * also the next sequence number of stream opts.stream + c.
 * @param frames n entries; CPUs past n are not reported
 * @return the number of possible CPUs (may exceed n); negative error code
 * otherwise.
 */
XM_API int xm_live_cpu_frames(struct xm_live *l, uint64_t *frames,
			      unsigned int n);

/** @brief **xm_live_close()** unloads the program.  NULL is allowed. */
XM_API void xm_live_close(struct xm_live *l);

#define XM_LIVE_RUN_CALL_NS	250000000ULL	/* default call length */
#define XM_LIVE_RUN_MIN_CALL	65536	/* frames of the first call, and
					 * the fewest of any but the last */
#define XM_LIVE_RUN_MAX_CALL	(1U << 24)	/* most frames of a call */

/* Run options; build with XM_OPTS(xm_live_run_opts, name, .field = v). */
struct xm_live_run_opts {
	size_t sz;			/* sizeof(struct xm_live_run_opts) */
	uint64_t count;			/* frames to send; 0: until the time
					 * limit */
	uint64_t duration_ns;		/* time limit; 0: until count (one of
					 * the two must be set) */
	uint64_t call_ns;		/* how long each call should last; 0:
					 * XM_LIVE_RUN_CALL_NS */
	const volatile sig_atomic_t *stop;	/* once nonzero (a signal
					 * handler, another thread), no
					 * further call; NULL: none */
};
#define xm_live_run_opts__last_field stop

/* What xm_live_run() did. */
struct xm_live_run_stats {
	uint64_t rs_sent;		/* frames of the calls that completed */
	uint64_t rs_elapsed_ns;		/* first call's start to last's end */
	uint64_t rs_calls;		/* calls made, the failed one too */
};

/**
 * @brief **xm_live_run()** sends copies of frame, in as many
 * xm_live_send() calls as it takes, until opts->count frames, the time
 * limit, or opts->stop.  The first call sends XM_LIVE_RUN_MIN_CALL
 * frames; each later one as many as the rate measured so far sends in
 * opts->call_ns (at least XM_LIVE_RUN_MIN_CALL, at most
 * XM_LIVE_RUN_MAX_CALL, and no more than fit before the time limit or
 * the count), so the source stays busy between the kernel's per-call
 * pauses and a time limit is overrun by at most about one call.
 * @param frame, len as for xm_live_send()
 * @param st filled in every case but -EINVAL
 * @return 0, on success (count reached, time up, or stop set); -EINVAL
 * bad arguments (no opts, neither a count nor a time limit, a frame
 * xm_live_send() would refuse); -EINTR when a signal cut a call short
 * (its frames are not in rs_sent: xm_live_frames() says how many the
 * program ran); -errno from BPF_PROG_RUN otherwise.
 */
XM_API int xm_live_run(struct xm_live *l, const void *frame, uint32_t len,
		       const struct xm_live_run_opts *opts,
		       struct xm_live_run_stats *st);

struct xm_live_sink;

/* Sink options; build with XM_OPTS(xm_live_sink_opts, name, .field = v). */
struct xm_live_sink_opts {
	size_t sz;			/* sizeof(struct xm_live_sink_opts) */
	const uint8_t *match_dst;	/* 6 bytes: count frames with this
					 * destination MAC apart (copied at
					 * open); NULL: no such count */
};
#define xm_live_sink_opts__last_field match_dst

/**
 * @brief **xm_live_sink_open()** attaches the counting sink to ifname:
 * from now on every frame arriving there is counted and dropped.  It is
 * attached through a BPF link, in driver mode where the driver has XDP
 * (generic mode otherwise), and goes when the sink is closed or the
 * process dies.
 * @param ifname the interface (this thread's namespace)
 * @return the sink, or NULL with errno set, after a message: ENODEV
 * unknown interface; EINVAL bad options; EBUSY another XDP program is
 * attached; EPERM without privilege; what the BPF load returned
 * otherwise.
 */
XM_API struct xm_live_sink *xm_live_sink_open(const char *ifname,
				const struct xm_live_sink_opts *opts);

/**
 * @brief **xm_live_sink_read()** the counts so far, summed over CPUs.
 * @param frames every frame that arrived (may be NULL)
 * @param matched those with opts.match_dst as destination (may be NULL)
 * @return 0, on success; negative error code otherwise.
 */
XM_API int xm_live_sink_read(struct xm_live_sink *s, uint64_t *frames,
			     uint64_t *matched);

/** @brief **xm_live_sink_close()** detaches the sink.  NULL is allowed. */
XM_API void xm_live_sink_close(struct xm_live_sink *s);

#ifdef __cplusplus
}
#endif

#endif /* XM_LIVE_H */
