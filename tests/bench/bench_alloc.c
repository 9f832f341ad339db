/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_alloc.c - the allocator benchmark (`make bench B=alloc`), xmbuf's
 * side and glibc malloc's; DPDK's side is peer_dpdk_alloc.c, and
 * tests/bench/run.sh runs the two in turns and prints the ratios.
 *
 *   pair     xm_getcl(XM_PKTHDR) + xm_freem, one at a time, on CPU 0:
 *            the per-thread cache's fast path, both directions
 *   bulk32   xm_getcl_bulk(32) + xm_freem_bulk(32): the burst path
 *   xthread  CPU 0 allocates one at a time and pushes into the SPSC ring
 *            of bench_util.h; a thread on CPU 1 pops and frees.  Every
 *            frame comes home from a foreign thread: the consumer's cache
 *            fills and trades full buckets into the depot, the producer's
 *            empties and takes them back
 *
 * The same three loops run on malloc(2048)/free, the baseline every user
 * has.  A figure is the median over REPS repetitions after a warm-up pass;
 * the loops of one repetition run back to back so that the two allocators
 * see the same machine.
 *
 * Usage: bench-alloc [-r REPS] [-n SCALE] [-o LOOPS]
 * Prints which memory the umem got, one BENCH line per figure, and fails
 * if the umem's conservation audit finds a frame missing at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xm_mbuf.h"
#include "xm_umem.h"

#include "bench_util.h"

#define BULK		32u
#define MALLOC_SIZE	2048u	/* what a 2 KiB cluster is to malloc */
#define MAX_REPS	64

static unsigned long pair_n = 1ul << 21;	/* pairs per repetition */
static unsigned long bulk_n = 1ul << 16;	/* bursts per repetition */
static unsigned long xthread_n = 1ul << 20;	/* items per repetition */
/*
 * glibc hands a 2 KiB chunk freed on another thread back through the
 * arena lock both threads fight over: about a microsecond an item here,
 * so the malloc producer/consumer carries fewer items to stay in budget.
 */
static unsigned long malloc_xthread_n = 1ul << 16;

static void die(const char *what)
{
	fprintf(stderr, "bench-alloc: %s failed: %s\n", what, strerror(errno));
	exit(1);
}

/* ------------------------------------------------------------- xmbuf */

static double xm_pair_once(struct xm_umem *u)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < pair_n; i++) {
		struct xm_mbuf *m = xm_getcl(u, XM_NOWAIT, XM_MT_DATA,
					     XM_PKTHDR);

		if (m == NULL)
			die("xm_getcl");
		xm_freem(m);
	}
	return (double)(bench_now_ns() - t0) / (double)pair_n;
}

static double xm_bulk_once(struct xm_umem *u)
{
	struct xm_mbuf *ms[BULK];
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < bulk_n; i++) {
		int rc = xm_getcl_bulk(u, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR,
				       ms, BULK);

		if (rc != 0) {
			errno = -rc;
			die("xm_getcl_bulk");
		}
		xm_freem_bulk(ms, BULK);
	}
	return (double)(bench_now_ns() - t0) / (double)(bulk_n * BULK);
}

static void *xm_consumer(void *arg)
{
	struct bench_xthread *x = arg;

	atomic_store_explicit(&x->ready, 1, memory_order_release);
	for (uint64_t i = 0; i < x->n; i++)
		xm_freem(bench_spsc_pop(&x->ring));
	x->t_end = bench_now_ns();
	return NULL;
}

/* ------------------------------------------------------------ malloc */

static double malloc_pair_once(void)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < pair_n; i++) {
		void *p = malloc(MALLOC_SIZE);

		if (p == NULL)
			die("malloc");
		/* Without this, gcc folds the malloc/free pair away. */
		bench_escape(p);
		free(p);
	}
	return (double)(bench_now_ns() - t0) / (double)pair_n;
}

static double malloc_bulk_once(void)
{
	void *ps[BULK];
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < bulk_n; i++) {
		for (unsigned int j = 0; j < BULK; j++) {
			ps[j] = malloc(MALLOC_SIZE);
			if (ps[j] == NULL)
				die("malloc");
			bench_escape(ps[j]);
		}
		for (unsigned int j = 0; j < BULK; j++)
			free(ps[j]);
	}
	return (double)(bench_now_ns() - t0) / (double)(bulk_n * BULK);
}

static void *malloc_consumer(void *arg)
{
	struct bench_xthread *x = arg;

	atomic_store_explicit(&x->ready, 1, memory_order_release);
	for (uint64_t i = 0; i < x->n; i++)
		free(bench_spsc_pop(&x->ring));
	x->t_end = bench_now_ns();
	return NULL;
}

/* ----------------------------------------------------------- xthread */

static pthread_t xthread_start(struct bench_xthread *x,
			       void *(*consumer)(void *), uint64_t n)
{
	pthread_attr_t attr;
	cpu_set_t set;
	pthread_t th;
	int rc;

	bench_spsc_init(&x->ring);
	atomic_store(&x->ready, 0);
	x->n = n;
	CPU_ZERO(&set);
	CPU_SET(x->cpu, &set);
	pthread_attr_init(&attr);
	/* Born on its CPU: no migration inside the timed window. */
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	rc = pthread_create(&th, &attr, consumer, x);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		die("pthread_create");
	}
	bench_xthread_wait_ready(x);
	return th;
}

static double xm_xthread_once(struct xm_umem *u, struct bench_xthread *x)
{
	pthread_t th = xthread_start(x, xm_consumer, xthread_n);
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < x->n; i++) {
		struct xm_mbuf *m = xm_getcl(u, XM_NOWAIT, XM_MT_DATA,
					     XM_PKTHDR);

		if (m == NULL)
			die("xm_getcl (xthread)");
		bench_spsc_push(&x->ring, m);
	}
	pthread_join(th, NULL);
	return (double)(x->t_end - t0) / (double)x->n;
}

static double malloc_xthread_once(struct bench_xthread *x)
{
	pthread_t th = xthread_start(x, malloc_consumer, malloc_xthread_n);
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < x->n; i++) {
		void *p = malloc(MALLOC_SIZE);

		if (p == NULL)
			die("malloc (xthread)");
		bench_spsc_push(&x->ring, p);
	}
	pthread_join(th, NULL);
	return (double)(x->t_end - t0) / (double)x->n;
}

/* -------------------------------------------------------------- main */

/* Uniform signatures for the table below. */
static double fig_xm_pair(struct xm_umem *u, struct bench_xthread *x)
{
	(void)x;
	return xm_pair_once(u);
}

static double fig_xm_bulk(struct xm_umem *u, struct bench_xthread *x)
{
	(void)x;
	return xm_bulk_once(u);
}

static double fig_xm_xthread(struct xm_umem *u, struct bench_xthread *x)
{
	return xm_xthread_once(u, x);
}

static double fig_malloc_pair(struct xm_umem *u, struct bench_xthread *x)
{
	(void)u;
	(void)x;
	return malloc_pair_once();
}

static double fig_malloc_bulk(struct xm_umem *u, struct bench_xthread *x)
{
	(void)u;
	(void)x;
	return malloc_bulk_once();
}

static double fig_malloc_xthread(struct xm_umem *u, struct bench_xthread *x)
{
	(void)u;
	return malloc_xthread_once(x);
}

/*
 * In the order they run inside a repetition: each xmbuf loop next to its
 * malloc twin, so both see the machine in the same state.
 */
static struct figure {
	const char *name;		/* BENCH name */
	unsigned int loops;		/* BENCH_LOOP_* bits that select it */
	double (*once)(struct xm_umem *u, struct bench_xthread *x);
	double v[MAX_REPS];		/* one value per repetition */
} figures[] = {
	{ "alloc_pair_ns", BENCH_LOOP_PAIR, fig_xm_pair, { 0 } },
	{ "alloc_pair_malloc_ns", BENCH_LOOP_PAIR | BENCH_LOOP_MALLOC,
	  fig_malloc_pair, { 0 } },
	{ "alloc_bulk32_ns_per_mbuf", BENCH_LOOP_BULK, fig_xm_bulk, { 0 } },
	{ "alloc_bulk32_malloc_ns_per_mbuf", BENCH_LOOP_BULK |
	  BENCH_LOOP_MALLOC, fig_malloc_bulk, { 0 } },
	{ "alloc_xthread_ns_per_mbuf", BENCH_LOOP_XTHREAD, fig_xm_xthread,
	  { 0 } },
	{ "alloc_xthread_malloc_ns_per_mbuf", BENCH_LOOP_XTHREAD |
	  BENCH_LOOP_MALLOC, fig_malloc_xthread, { 0 } },
};
#define NFIGURES	(sizeof(figures) / sizeof(figures[0]))

static bool figure_selected(const struct figure *f, unsigned int loops)
{
	return (f->loops & loops) == f->loops;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-alloc [-r REPS] [-n SCALE] [-o LOOPS]\n"
		"  -r REPS   repetitions per figure, median reported (default 7)\n"
		"  -n SCALE  divide the loop counts by SCALE (quick runs)\n"
		"  -o LOOPS  comma list of pair,bulk32,xthread,malloc (default: "
		"all;\n"
		"            malloc adds glibc's twin of each loop selected)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int loops = BENCH_LOOP_ALL | BENCH_LOOP_MALLOC;
	unsigned long reps = 7, scale = 1;
	struct bench_xthread *x;
	struct xm_umem *u;
	uint64_t held = 0;
	int opt, rc, ret = 0;

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
	malloc_xthread_n = malloc_xthread_n / scale ?
			   malloc_xthread_n / scale : 1;

	x = aligned_alloc(BENCH_CACHE_LINE, sizeof(*x));
	if (x == NULL)
		die("aligned_alloc");
	/* Before pinning: afterwards CPU 0 is all this thread may see. */
	x->cpu = bench_second_cpu();
	rc = bench_pin(0);
	if (rc != 0) {
		errno = -rc;
		die("pinning to CPU 0");
	}
	u = xm_umem_create(NULL);
	if (u == NULL)
		die("xm_umem_create");
	printf("# xmbuf: hugepages=%s cpus=0,%d region=%zu chunk=%u "
	       "nmbclusters=%u\n", xm_umem_hugepages(u) ? "yes" : "no", x->cpu,
	       xm_umem_size(u), xm_umem_chunk_size(u),
	       xm_zone_get_max(xm_umem_zone(u, XM_ZONE_CLUST)));

	/* Warm-up: faults in the headers and frames, fills the caches. */
	for (size_t i = 0; i < NFIGURES; i++)
		if (figure_selected(&figures[i], loops))
			figures[i].once(u, x);
	for (unsigned long r = 0; r < reps; r++)
		for (size_t i = 0; i < NFIGURES; i++)
			if (figure_selected(&figures[i], loops))
				figures[i].v[r] = figures[i].once(u, x);
	for (size_t i = 0; i < NFIGURES; i++)
		if (figure_selected(&figures[i], loops))
			bench_print(figures[i].name,
				    bench_median(figures[i].v, (int)reps), "ns");

	/* Every frame must be back: a leak would flatter the figures. */
	xm_umem_cache_flush(u);
	rc = xm_umem_audit(u, &held);
	if (rc != 0 || held != 0) {
		fprintf(stderr, "bench-alloc: after the last free the "
			"conservation audit says %s and %llu items are still "
			"held\n", rc ? strerror(-rc) : "ok",
			(unsigned long long)held);
		ret = 1;
	}
	free(x);
	xm_umem_destroy(u);
	return ret;
}
