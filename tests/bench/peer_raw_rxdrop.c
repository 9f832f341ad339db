// SPDX-License-Identifier: BSD-2-Clause
/*
 * peer_raw_rxdrop.c - peer-raw-rxdrop, the baseline the port benchmark
 * measures xmbuf against: the least an AF_XDP receiver can do, written on
 * libxdp's <xdp/xsk.h> rings and nothing else.
 *
 *   kernel --RX ring--> peek a batch --addresses--> fill ring --> kernel
 *
 * One UMEM (2 KiB chunks, the size xmbuf's cluster zone uses), one
 * socket, libxdp's default XDP program.  A received frame is never read:
 * its address goes straight back to the fill ring, so the loop costs two
 * ring operations per batch and nothing per packet beyond the copy of a
 * descriptor address.  That is the floor under any buffer layer; the
 * benchmark's rxdrop_vs_raw_ratio is xmbuf's RX burst + xm_freem
 * measured against it.
 *
 * Runs until SIGINT/SIGTERM or -d seconds.  Output (stdout, "key value"):
 *   rx_packets N, active_s T (first to last packet), rx_mpps R (N / T),
 *   busy_cycles and cycles_per_pkt (TSC cycles spent in batches that
 *   brought packets, per packet: testpmd's --record-core-cycles figure),
 *   and the socket's XDP_STATISTICS: rx_dropped, rx_ring_full,
 *   rx_fill_ring_empty_descs.
 * Exit: 0 on success, 1 on a runtime error, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "bench_util.h"

#define RAW_FRAME_SIZE		2048
#define RAW_BATCH		64
#define RAW_MAX_SECONDS		3600

struct raw_rx {
	struct xsk_umem *umem;		/* the registered region */
	struct xsk_socket *xsk;		/* the one socket */
	struct xsk_ring_prod fq;	/* fill ring */
	struct xsk_ring_cons cq;	/* completion ring (unused: no TX) */
	struct xsk_ring_cons rx;	/* RX ring */
	void *buf;			/* region */
	size_t buf_size;		/* bytes mapped */
	uint32_t nframes;		/* frames in the region */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* TSC ticks (ns where there is no TSC): testpmd's --record-core-cycles
 * clock, so busy cycles per packet compare with its figure. */
static inline uint64_t cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return (uint64_t)(now_s() * 1e9);
#endif
}

static void raw_close(struct raw_rx *r)
{
	if (r->xsk)
		xsk_socket__delete(r->xsk);
	if (r->umem)
		xsk_umem__delete(r->umem);
	if (r->buf)
		munmap(r->buf, r->buf_size);
}

/* @return 0 or -errno, with a message printed. */
static int raw_open(struct raw_rx *r, const char *ifname, uint32_t queue,
		    uint32_t ring, uint32_t xdp_flags)
{
	struct xsk_umem_config ucfg = {
		.fill_size = ring * 2,	/* the RX ring must never wait on it */
		.comp_size = ring,
		.frame_size = RAW_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = ring,
		.tx_size = ring,
		.libxdp_flags = 0,
		.xdp_flags = xdp_flags,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	uint32_t idx = 0;
	int err;

	/* Fill ring plus one RX ring's worth: the fill ring starts full. */
	r->nframes = ring * 4;
	r->buf_size = (size_t)r->nframes * RAW_FRAME_SIZE;
	r->buf = mmap(NULL, r->buf_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		err = -errno;
		fprintf(stderr, "peer-raw-rxdrop: mmap: %s\n", strerror(-err));
		return err;
	}
	err = xsk_umem__create(&r->umem, r->buf, r->buf_size, &r->fq, &r->cq,
			       &ucfg);
	if (err) {
		r->umem = NULL;
		fprintf(stderr, "peer-raw-rxdrop: xsk_umem__create: %s\n",
			strerror(-err));
		return err;
	}
	err = xsk_socket__create(&r->xsk, ifname, queue, r->umem, &r->rx,
				 NULL, &scfg);
	if (err) {
		r->xsk = NULL;
		fprintf(stderr, "peer-raw-rxdrop: xsk_socket__create(%s, %u): %s\n",
			ifname, queue, strerror(-err));
		return err;
	}
	if (xsk_ring_prod__reserve(&r->fq, ucfg.fill_size, &idx) !=
	    ucfg.fill_size) {
		fprintf(stderr, "peer-raw-rxdrop: cannot stock the fill ring\n");
		return -ENOSPC;
	}
	for (uint32_t i = 0; i < ucfg.fill_size; i++)
		*xsk_ring_prod__fill_addr(&r->fq, idx + i) =
			(uint64_t)i * RAW_FRAME_SIZE;
	xsk_ring_prod__submit(&r->fq, ucfg.fill_size);
	return 0;
}

/*
 * One batch: every received address goes back to the fill ring as is (in
 * aligned mode the kernel masks it to the chunk).  The fill ring holds
 * twice the RX ring, so room for n is always there once the kernel has
 * consumed what it took the frames from; spin until it is.
 * @return packets received.
 */
static uint32_t raw_rx_batch(struct raw_rx *r, bool use_poll)
{
	uint32_t idx_rx = 0, idx_fq = 0, n;

	n = xsk_ring_cons__peek(&r->rx, RAW_BATCH, &idx_rx);
	if (!n) {
		if (use_poll) {
			struct pollfd pfd = {
				.fd = xsk_socket__fd(r->xsk),
				.events = POLLIN,
			};

			poll(&pfd, 1, 100);
		} else if (xsk_ring_prod__needs_wakeup(&r->fq)) {
			recvfrom(xsk_socket__fd(r->xsk), NULL, 0, MSG_DONTWAIT,
				 NULL, NULL);
		}
		return 0;
	}
	while (xsk_ring_prod__reserve(&r->fq, n, &idx_fq) != n) {
		if (xsk_ring_prod__needs_wakeup(&r->fq))
			recvfrom(xsk_socket__fd(r->xsk), NULL, 0, MSG_DONTWAIT,
				 NULL, NULL);
		if (stop_requested)
			break;
	}
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&r->fq, idx_fq + i) =
			xsk_ring_cons__rx_desc(&r->rx, idx_rx + i)->addr;
	/* The fill entries must be visible before the RX slots are freed. */
	xsk_ring_prod__submit(&r->fq, n);
	xsk_ring_cons__release(&r->rx, n);
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: peer-raw-rxdrop -i IF [options]\n"
"Minimal AF_XDP rxdrop on libxdp's xsk.h rings (the benchmark baseline).\n"
"  -i, --iface IF       interface (required)\n"
"  -q, --queue Q        queue id (default 0)\n"
"  -d, --duration SEC   time limit, 1..%d (default 10)\n"
"  -c, --cpu CPU        pin to CPU\n"
"  -r, --ring N         RX ring size, a power of two, 64..32768 (default 2048)\n"
"  -p, --poll           sleep in poll() when idle instead of spinning\n"
"  -S, --skb            attach the XDP program in SKB (generic) mode\n"
"  -h, --help           this text\n", RAW_MAX_SECONDS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "queue", required_argument, NULL, 'q' },
		{ "duration", required_argument, NULL, 'd' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "ring", required_argument, NULL, 'r' },
		{ "poll", no_argument, NULL, 'p' },
		{ "skb", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long queue = 0, seconds = 10, ring = 2048, v;
	uint32_t xdp_flags = XDP_FLAGS_DRV_MODE;
	struct xdp_statistics st = {};
	socklen_t stlen = sizeof(st);
	struct raw_rx r = {};
	const char *ifname = NULL;
	double start, first = 0, last = 0;
	uint64_t packets = 0, busy = 0;
	bool use_poll = false;
	long cpu = -1;
	int opt, err, ret = 0;

	while ((opt = getopt_long(argc, argv, "i:q:d:c:r:pSh", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'q':
			if (!bench_parse_ulong(optarg, 0, 4095, &queue))
				goto bad;
			break;
		case 'd':
			if (!bench_parse_ulong(optarg, 1, RAW_MAX_SECONDS, &seconds))
				goto bad;
			break;
		case 'c':
			if (!bench_parse_ulong(optarg, 0, CPU_SETSIZE - 1, &v))
				goto bad;
			cpu = (long)v;
			break;
		case 'r':
			if (!bench_parse_ulong(optarg, 64, 32768, &ring) ||
			    (ring & (ring - 1)))
				goto bad;
			break;
		case 'p':
			use_poll = true;
			break;
		case 'S':
			xdp_flags = XDP_FLAGS_SKB_MODE;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || optind != argc)
		goto bad;
	if (!if_nametoindex(ifname)) {
		fprintf(stderr, "peer-raw-rxdrop: no interface '%s'\n", ifname);
		return 1;
	}
	if (bench_pin_or_report("peer-raw-rxdrop", cpu))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	err = raw_open(&r, ifname, (uint32_t)queue, (uint32_t)ring, xdp_flags);
	if (err) {
		raw_close(&r);
		return 1;
	}
	/* Tell a script the socket is bound and traffic may start. */
	fprintf(stderr, "peer-raw-rxdrop: ready on %s queue %lu\n", ifname,
		queue);

	start = now_s();
	while (!stop_requested) {
		uint64_t c0 = cycles();
		uint32_t n = raw_rx_batch(&r, use_poll);
		double now;

		if (n)
			busy += cycles() - c0;	/* as testpmd counts */
		now = now_s();
		if (n) {
			if (!packets)
				first = now;
			last = now;
			packets += n;
		}
		if (now - start >= (double)seconds)
			break;
	}

	if (getsockopt(xsk_socket__fd(r.xsk), SOL_XDP, XDP_STATISTICS, &st,
		       &stlen)) {
		fprintf(stderr, "peer-raw-rxdrop: XDP_STATISTICS: %s\n",
			strerror(errno));
		ret = 1;
	}
	raw_close(&r);

	printf("rx_packets %llu\n", (unsigned long long)packets);
	printf("active_s %.6f\n", last - first);
	printf("rx_mpps %.4f\n",
	       last > first ? (double)packets / (last - first) / 1e6 : 0);
	printf("busy_cycles %llu\n", (unsigned long long)busy);
	printf("cycles_per_pkt %.2f\n",
	       packets ? (double)busy / (double)packets : 0);
	printf("rx_dropped %llu\n", (unsigned long long)st.rx_dropped);
	printf("rx_ring_full %llu\n", (unsigned long long)st.rx_ring_full);
	printf("rx_fill_ring_empty_descs %llu\n",
	       (unsigned long long)st.rx_fill_ring_empty_descs);
	return ret;

bad:
	fprintf(stderr, "peer-raw-rxdrop: bad arguments\n");
	usage(stderr);
	return 2;
}
