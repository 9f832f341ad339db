/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_util.h - what a benchmark and its peers must share to be compared:
 * the clock, CPU pinning, medians, the output format and the SPSC ring
 * that carries items between a producer and a consumer thread.
 *
 * A benchmark and its peer (a DPDK program, say) are separate binaries
 * run side by side by tests/bench/run.sh.  Anything that shapes the
 * figure -- how time is read, how the two threads hand items over --
 * lives here once, so a ratio compares the allocators and not two
 * different harnesses.
 *
 * Output: one line per figure, "BENCH <name> <value> <unit>"; lines that
 * start with '#' are remarks (which memory was used, and so on).
 *
 * Header-only; every function is static.  Not part of the library.
 */
#ifndef XM_BENCH_UTIL_H
#define XM_BENCH_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_CACHE_LINE	64

/* Keeps the compiler from eliding or reordering work on p (malloc/free). */
#define bench_escape(p)		__asm__ volatile("" : : "r"(p) : "memory")

/* Tells the core we are spinning (x86 PAUSE, arm64 YIELD). */
static inline void bench_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Pins the calling thread to cpu.  @return 0 or -errno. */
static inline int bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * A tool's -c CPU: pins the calling thread, or prints "<tool>: cannot
 * pin to CPU ..." on stderr.  Nothing when cpu < 0.  @return 0 or -errno.
 */
static inline int bench_pin_or_report(const char *tool, long cpu)
{
	int err;

	if (cpu < 0)
		return 0;
	err = bench_pin((int)cpu);
	if (err)
		fprintf(stderr, "%s: cannot pin to CPU %ld: %s\n", tool, cpu,
			strerror(-err));
	return err;
}

/* An option's unsigned number in [lo, hi] (any base strtoul takes). */
static inline bool bench_parse_ulong(const char *s, unsigned long lo,
				     unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* The CPU a second thread should use: 1 when there is one, else 0. */
static inline int bench_second_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_ISSET(1, &set))
		return 1;
	return 0;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v in place). */
static inline double bench_median(double *v, int n)
{
	if (n <= 0)
		return 0.0;
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	if (n & 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static inline void bench_print(const char *name, double value,
			       const char *unit)
{
	printf("BENCH %s %.2f %s\n", name, value, unit);
}

/*
 * Single-producer single-consumer ring of pointers.
 *
 * Each side owns one index on its own cache line and keeps a private copy
 * of the other side's index, rereading the shared one only when its copy
 * says the ring is full (producer) or empty (consumer).  The line with the
 * slots is the only one the two cores trade in the steady state, which is
 * the cost any hand-over between threads pays.  Release on publishing an
 * index, acquire on reading the other's: a consumer that sees head moved
 * sees the slot written before it.
 */
#define BENCH_SPSC_SIZE		1024u	/* slots; a power of two */

struct bench_spsc {
	_Alignas(BENCH_CACHE_LINE) _Atomic uint32_t head; /* producer: next slot */
	uint32_t tail_cache;		/* producer's copy of tail */
	_Alignas(BENCH_CACHE_LINE) _Atomic uint32_t tail; /* consumer: next slot */
	uint32_t head_cache;		/* consumer's copy of head */
	_Alignas(BENCH_CACHE_LINE) void *slot[BENCH_SPSC_SIZE];
};

static inline void bench_spsc_init(struct bench_spsc *r)
{
	memset(r, 0, sizeof(*r));
}

/* Spins until there is room, then publishes p. */
static inline void bench_spsc_push(struct bench_spsc *r, void *p)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	while (h - r->tail_cache == BENCH_SPSC_SIZE) {
		r->tail_cache = atomic_load_explicit(&r->tail,
						     memory_order_acquire);
		if (h - r->tail_cache == BENCH_SPSC_SIZE)
			bench_cpu_relax();
	}
	r->slot[h & (BENCH_SPSC_SIZE - 1)] = p;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/* Spins until an item is there, then takes it. */
static inline void *bench_spsc_pop(struct bench_spsc *r)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	void *p;

	while (t == r->head_cache) {
		r->head_cache = atomic_load_explicit(&r->head,
						     memory_order_acquire);
		if (t == r->head_cache)
			bench_cpu_relax();
	}
	p = r->slot[t & (BENCH_SPSC_SIZE - 1)];
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return p;
}

/*
 * The producer/consumer rendezvous: the consumer says it is spinning on
 * the ring (ready), the producer starts the clock after that, and the
 * consumer stops it when the last item is freed (t_end).
 */
struct bench_xthread {
	struct bench_spsc ring;		/* items in flight */
	_Alignas(BENCH_CACHE_LINE) _Atomic int ready; /* consumer is waiting */
	uint64_t n;			/* items to carry */
	uint64_t t_end;			/* consumer: time of the last free */
	int cpu;			/* consumer's CPU (pthread peers) */
};

static inline void bench_xthread_wait_ready(struct bench_xthread *x)
{
	while (!atomic_load_explicit(&x->ready, memory_order_acquire))
		bench_cpu_relax();
}

/* Loops a benchmark may be asked to run (-o pair,bulk32,xthread,...). */
#define BENCH_LOOP_PAIR		0x1	/* alloc + free, one at a time */
#define BENCH_LOOP_BULK		0x2	/* bursts of 32 */
#define BENCH_LOOP_XTHREAD	0x4	/* producer/consumer on two CPUs */
#define BENCH_LOOP_ALL		0x7
#define BENCH_LOOP_MALLOC	0x8	/* glibc's twin of each loop chosen */

/* Parses a comma list of loop names; exits on garbage. */
static inline unsigned int bench_parse_loops(const char *s)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} names[] = {
		{ "pair", BENCH_LOOP_PAIR },
		{ "bulk32", BENCH_LOOP_BULK },
		{ "xthread", BENCH_LOOP_XTHREAD },
		{ "malloc", BENCH_LOOP_MALLOC },
	};
	unsigned int loops = 0;

	while (*s) {
		size_t len = strcspn(s, ",");
		unsigned int i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len &&
			    strncmp(s, names[i].name, len) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			fprintf(stderr, "unknown loop '%.*s' (known: pair, "
				"bulk32, xthread, malloc)\n", (int)len, s);
			exit(2);
		}
		loops |= names[i].bit;
		s += len;
		if (*s == ',')
			s++;
	}
	return loops;
}

/* Parses "-r N" style counts; exits on garbage (benchmarks only). */
static inline unsigned long bench_parse_count(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0) {
		fprintf(stderr, "bad %s: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

#endif /* XM_BENCH_UTIL_H */
