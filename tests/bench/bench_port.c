// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_port.c - bench-port, xmbuf's side of the rxdrop comparison: every
 * packet received through xm_port_rx_burst() as an mbuf and freed with
 * xm_freem_bulk() (or xm_freem() one by one with --single), which puts
 * its frame back in the cluster zone for the port to refill the fill ring
 * from.
 *
 *   kernel --RX ring--> xm_port_rx_burst --mbufs--> xm_freem_bulk
 *      ^                                                 |
 *      +------ fill ring <-- refill (zone_clust) <-------+
 *
 * The loop, its clock reads and its output are the same as
 * peer_raw_rxdrop.c's, the libxdp baseline: the difference between the
 * two is the mbuf and port layers, which is what rxdrop_vs_raw_ratio
 * measures.  tests/bench/port.sh runs both (and DPDK testpmd) against the
 * same live-frames source.
 *
 * Runs until SIGINT/SIGTERM or -d seconds.  Output (stdout, "key value"):
 *   rx_packets N, active_s T (first to last packet), rx_mpps R,
 *   busy_cycles and cycles_per_pkt (TSC cycles spent in bursts that
 *   brought packets, per packet: testpmd's --record-core-cycles figure),
 *   and the port's rx_dropped, rx_ring_full, rx_fill_ring_empty_descs,
 *   fill_starved; then the audit: audit_held (frames not home after
 *   close, must be 0).
 * Exit: 0 on success, 1 on a runtime error (or a failed audit), 2 on a
 * usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xm_mbuf.h"
#include "xm_port.h"
#include "xm_umem.h"

#include "bench_util.h"

#define PORT_BURST		64
#define PORT_MAX_SECONDS	3600

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	return (double)bench_now_ns() * 1e-9;
}

/* TSC ticks (ns where there is no TSC): testpmd's --record-core-cycles
 * clock, so busy cycles per packet compare with its figure. */
static inline uint64_t cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return bench_now_ns();
#endif
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: bench-port -i IF [options]\n"
"AF_XDP rxdrop through xmbuf: xm_port_rx_burst + xm_freem.\n"
"  -i, --iface IF       interface (required)\n"
"  -q, --queue Q        queue id (default 0)\n"
"  -d, --duration SEC   time limit, 1..%d (default 10)\n"
"  -c, --cpu CPU        pin to CPU\n"
"  -r, --ring N         RX ring size, a power of two (default 2048)\n"
"  -p, --poll           sleep in poll() when idle instead of spinning\n"
"  -S, --skb            SKB (generic) XDP mode instead of native\n"
"  -1, --single         xm_freem() each packet instead of xm_freem_bulk()\n"
"  -b, --busy-poll N    preferred busy polling, budget N (busy_poll_budget)\n"
"  -h, --help           this text\n", PORT_MAX_SECONDS);
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
		{ "single", no_argument, NULL, '1' },
		{ "busy-poll", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long queue = 0, seconds = 10, ring = 2048, busy = 0, v;
	struct xm_mbuf *pkts[PORT_BURST];
	struct xm_port_stats st = {};
	struct xm_umem *u = NULL;
	struct xm_port *p = NULL;
	const char *ifname = NULL;
	uint32_t qid, mode = XM_PORT_MODE_COPY;
	double start, first = 0, last = 0;
	uint64_t packets = 0, held = 0, busy_cycles = 0;
	bool use_poll = false, single = false;
	long cpu = -1;
	int opt, err, ret = 0;

	while ((opt = getopt_long(argc, argv, "i:q:d:c:r:pS1b:h", opts,
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
			if (!bench_parse_ulong(optarg, 1, PORT_MAX_SECONDS, &seconds))
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
			mode = XM_PORT_MODE_SKB;
			break;
		case '1':
			single = true;
			break;
		case 'b':
			if (!bench_parse_ulong(optarg, 1, 65535, &busy))
				goto bad;
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
	if (bench_pin_or_report("bench-port", cpu))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	/*
	 * Frames: the fill ring (twice the RX ring), the RX ring, one burst
	 * held, two cache buckets, and the reserve; the other zones are
	 * unused, so keep them to a token size.
	 */
	XM_OPTS(xm_umem_opts, uo,
		.nmbclusters = (uint32_t)(ring * 4 + 1024),
		.nmbjumbop = 16, .nmbjumbo9 = 16, .nmbjumbo16 = 16);
	u = xm_umem_create(&uo);
	if (!u) {
		fprintf(stderr, "bench-port: xm_umem_create: %s\n",
			strerror(errno));
		return 1;
	}
	qid = (uint32_t)queue;
	XM_OPTS(xm_port_opts, po,
		.queues = &qid, .nqueues = 1, .mode = mode,
		.rx_size = (uint32_t)ring, .fill_size = (uint32_t)ring * 2,
		.busy_poll_budget = (uint32_t)busy,
		.flags = XM_PORT_F_RX_ONLY | XM_PORT_F_NO_METADATA);
	p = xm_port_open(u, ifname, &po);
	if (!p) {
		fprintf(stderr, "bench-port: xm_port_open(%s, queue %u): %s\n",
			ifname, qid, strerror(errno));
		ret = 1;
		goto out_umem;
	}
	fprintf(stderr, "bench-port: ready on %s queue %u (%s)\n", ifname, qid,
		xm_port_mode_name(xm_port_mode(p)));

	start = now_s();
	while (!stop_requested) {
		uint64_t c0 = cycles();
		uint16_t n = xm_port_rx_burst(p, 0, pkts, PORT_BURST);
		double now;

		if (n) {
			if (single) {
				for (uint16_t i = 0; i < n; i++)
					xm_freem(pkts[i]);
			} else {
				xm_freem_bulk(pkts, n);
			}
			/* Busy time only, as testpmd counts it: bursts that
			 * brought packets, from the call to the last free. */
			busy_cycles += cycles() - c0;
		} else if (use_poll) {
			xm_port_poll(p, 0, 100);
		}
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

	err = xm_port_stats(p, &st);
	if (err) {
		fprintf(stderr, "bench-port: xm_port_stats: %s\n",
			strerror(-err));
		ret = 1;
	}
	xm_port_close(p);
	xm_umem_cache_flush(u);
	err = xm_umem_audit(u, &held);
	if (err || held) {
		fprintf(stderr, "bench-port: audit after close: %s, %llu frames "
			"held\n", err ? "FAILED" : "ok",
			(unsigned long long)held);
		ret = 1;
	}

	printf("rx_packets %llu\n", (unsigned long long)packets);
	printf("active_s %.6f\n", last - first);
	printf("rx_mpps %.4f\n",
	       last > first ? (double)packets / (last - first) / 1e6 : 0);
	printf("busy_cycles %llu\n", (unsigned long long)busy_cycles);
	printf("cycles_per_pkt %.2f\n",
	       packets ? (double)busy_cycles / (double)packets : 0);
	printf("rx_dropped %llu\n", (unsigned long long)st.rx_dropped);
	printf("rx_ring_full %llu\n", (unsigned long long)st.rx_ring_full);
	printf("rx_fill_ring_empty_descs %llu\n",
	       (unsigned long long)st.rx_fill_ring_empty_descs);
	printf("fill_starved %llu\n", (unsigned long long)st.fill_starved);
	printf("audit_held %llu\n", (unsigned long long)held);
out_umem:
	xm_umem_destroy(u);
	return ret;

bad:
	fprintf(stderr, "bench-port: bad arguments\n");
	usage(stderr);
	return 2;
}
