/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer_dpdk_alloc.c - DPDK's side of the allocator benchmark
 * (`make bench B=alloc`): the same three loops as bench_alloc.c, on
 * rte_pktmbuf_alloc/rte_pktmbuf_free and their bulk forms, from a pktmbuf
 * pool with a 256-entry per-lcore cache.
 *
 *   pair     rte_pktmbuf_alloc + rte_pktmbuf_free, one at a time (lcore 0)
 *   bulk32   rte_pktmbuf_alloc_bulk(32) + rte_pktmbuf_free_bulk(32)
 *   xthread  lcore 0 allocates one at a time and pushes into the SPSC ring
 *            of bench_util.h; lcore 1 pops and frees: every mbuf crosses
 *            cores and both per-lcore caches trade with the pool's ring
 *
 * Usage: peer-dpdk-alloc EAL_ARGS... -- [-r REPS] [-n SCALE] [-o LOOPS]
 * run.sh passes `-l 0,1 --in-memory` when hugepages can be had, otherwise
 * `-l 0,1 --no-huge --no-shconf` (EAL refuses --in-memory with --no-huge).
 * It prints which memory EAL ended up with, then one BENCH line per figure
 * (the median over REPS repetitions, after a warm-up pass).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bench_util.h"

#define POOL_MBUFS	8191u	/* 2^13 - 1: the ring backend's best fit */
#define POOL_CACHE	256u	/* per-lcore cache, the spec's size */
#define BULK		32u
#define MAX_REPS	64

static unsigned long pair_n = 1ul << 21;	/* pairs per repetition */
static unsigned long bulk_n = 1ul << 16;	/* bursts per repetition */
static unsigned long xthread_n = 1ul << 20;	/* mbufs per repetition */

static double pair_once(struct rte_mempool *mp)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < pair_n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		if (m == NULL) {
			fprintf(stderr, "peer-dpdk-alloc: rte_pktmbuf_alloc "
				"failed\n");
			exit(1);
		}
		rte_pktmbuf_free(m);
	}
	return (double)(bench_now_ns() - t0) / (double)pair_n;
}

static double bulk_once(struct rte_mempool *mp)
{
	struct rte_mbuf *ms[BULK];
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < bulk_n; i++) {
		if (rte_pktmbuf_alloc_bulk(mp, ms, BULK) != 0) {
			fprintf(stderr, "peer-dpdk-alloc: "
				"rte_pktmbuf_alloc_bulk failed\n");
			exit(1);
		}
		rte_pktmbuf_free_bulk(ms, BULK);
	}
	return (double)(bench_now_ns() - t0) / (double)(bulk_n * BULK);
}

/* The consumer, on the worker lcore. */
static int consumer_lcore(void *arg)
{
	struct bench_xthread *x = arg;

	atomic_store_explicit(&x->ready, 1, memory_order_release);
	for (uint64_t i = 0; i < x->n; i++)
		rte_pktmbuf_free(bench_spsc_pop(&x->ring));
	x->t_end = bench_now_ns();
	return 0;
}

static double xthread_once(struct rte_mempool *mp, struct bench_xthread *x,
			   unsigned int worker)
{
	uint64_t t0;
	int rc;

	bench_spsc_init(&x->ring);
	atomic_store(&x->ready, 0);
	x->n = xthread_n;
	rc = rte_eal_remote_launch(consumer_lcore, x, worker);
	if (rc != 0) {
		fprintf(stderr, "peer-dpdk-alloc: rte_eal_remote_launch: %s\n",
			rte_strerror(-rc));
		exit(1);
	}
	bench_xthread_wait_ready(x);
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < x->n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		if (m == NULL) {
			fprintf(stderr, "peer-dpdk-alloc: rte_pktmbuf_alloc "
				"failed (xthread)\n");
			exit(1);
		}
		bench_spsc_push(&x->ring, m);
	}
	rte_eal_wait_lcore(worker);
	return (double)(x->t_end - t0) / (double)x->n;
}

static void usage(void)
{
	fprintf(stderr, "usage: peer-dpdk-alloc EAL_ARGS... -- "
		"[-r REPS] [-n SCALE] [-o LOOPS]\n"
		"  -r REPS   repetitions per figure, median reported (default 7)\n"
		"  -n SCALE  divide the loop counts by SCALE (quick runs)\n"
		"  -o LOOPS  comma list of pair,bulk32,xthread (default: all)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double pair[MAX_REPS], bulk[MAX_REPS], xthr[MAX_REPS];
	struct bench_xthread *x;
	struct rte_mempool *mp;
	unsigned long reps = 7, scale = 1;
	unsigned int worker, loops = BENCH_LOOP_ALL;
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "peer-dpdk-alloc: rte_eal_init: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt(argc, argv, "r:n:o:")) != -1) {
		switch (opt) {
		case 'r':
			reps = bench_parse_count(optarg, "repetitions");
			break;
		case 'n':
			scale = bench_parse_count(optarg, "scale");
			break;
		case 'o':
			loops = bench_parse_loops(optarg);
			break;
		default:
			usage();
		}
	}
	if (reps > MAX_REPS)
		reps = MAX_REPS;
	pair_n = pair_n / scale ? pair_n / scale : 1;
	bulk_n = bulk_n / scale ? bulk_n / scale : 1;
	xthread_n = xthread_n / scale ? xthread_n / scale : 1;

	worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE) {
		fprintf(stderr, "peer-dpdk-alloc: needs two lcores (-l 0,1)\n");
		rte_eal_cleanup();
		return 1;
	}

	mp = rte_pktmbuf_pool_create("bench_alloc", POOL_MBUFS, POOL_CACHE, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "peer-dpdk-alloc: rte_pktmbuf_pool_create: "
			"%s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	/* Ordinary memory, as on our side: the harness must not differ. */
	x = aligned_alloc(BENCH_CACHE_LINE, sizeof(*x));
	if (x == NULL) {
		fprintf(stderr, "peer-dpdk-alloc: out of memory\n");
		rte_mempool_free(mp);
		rte_eal_cleanup();
		return 1;
	}
	printf("# dpdk: hugepages=%s lcores=%u,%u pool=%u cache=%u "
	       "buf=%u ops=%s\n", rte_eal_has_hugepages() ? "yes" : "no",
	       rte_lcore_id(), worker, POOL_MBUFS, POOL_CACHE,
	       (unsigned int)RTE_MBUF_DEFAULT_BUF_SIZE,
	       rte_mempool_get_ops(mp->ops_index)->name);

	/* Warm-up: faults in the pool, fills both lcore caches. */
	if (loops & BENCH_LOOP_PAIR)
		pair_once(mp);
	if (loops & BENCH_LOOP_BULK)
		bulk_once(mp);
	if (loops & BENCH_LOOP_XTHREAD)
		xthread_once(mp, x, worker);

	for (unsigned long r = 0; r < reps; r++) {
		if (loops & BENCH_LOOP_PAIR)
			pair[r] = pair_once(mp);
		if (loops & BENCH_LOOP_BULK)
			bulk[r] = bulk_once(mp);
		if (loops & BENCH_LOOP_XTHREAD)
			xthr[r] = xthread_once(mp, x, worker);
	}
	if (loops & BENCH_LOOP_PAIR)
		bench_print("alloc_pair_dpdk_ns",
			    bench_median(pair, (int)reps), "ns");
	if (loops & BENCH_LOOP_BULK)
		bench_print("alloc_bulk32_dpdk_ns_per_mbuf",
			    bench_median(bulk, (int)reps), "ns");
	if (loops & BENCH_LOOP_XTHREAD)
		bench_print("alloc_xthread_dpdk_ns_per_mbuf",
			    bench_median(xthr, (int)reps), "ns");

	/* Every mbuf must be back: a leak would flatter the figures. */
	ret = 0;
	if (rte_mempool_avail_count(mp) != POOL_MBUFS) {
		fprintf(stderr, "peer-dpdk-alloc: %u of %u mbufs missing\n",
			POOL_MBUFS - rte_mempool_avail_count(mp), POOL_MBUFS);
		ret = 1;
	}
	free(x);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return ret;
}
