/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mbuf_test.h - fixtures shared by the mbuf suites (test_mbuf.c,
 * test_mbuf_chain.c, test_mbuf_refcnt.c): a small umem per test, the
 * frame-conservation audit, byte patterns, chain builders, and the
 * failure-injection walk that runs every cleanup path of an operation.
 */
#ifndef MBUF_TEST_H
#define MBUF_TEST_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xm_common_int.h"
#include "xm_mbuf.h"

/* The umem of the running test (each Criterion test is its own process). */
static struct xm_umem *tu;

static inline struct xm_umem *mt_umem_create(uint32_t meta_size,
					     uint32_t hdr_size,
					     uint32_t chunk_size)
{
	XM_OPTS(xm_umem_opts, o, .maxmbufmem = 4u << 20,
		.meta_size = meta_size, .hdr_size = hdr_size,
		.chunk_size = chunk_size, .flags = XM_UMEM_F_NO_HUGEPAGES);
	struct xm_umem *u = xm_umem_create(&o);

	cr_assert_not_null(u, "xm_umem_create: %s", strerror(errno));
	return u;
}

static inline void mt_setup(void)
{
	tu = mt_umem_create(0, 0, 0);
}

static inline void mt_teardown(void)
{
	_xm_fail_inject(-1, 0);
	if (tu != NULL)
		xm_umem_destroy(tu);
	tu = NULL;
}

/* Items allocated from u's zones (audit must be clean). */
static inline uint64_t mt_held(struct xm_umem *u)
{
	uint64_t held = UINT64_MAX;

	cr_assert_eq(xm_umem_audit(u, &held), 0, "umem audit found damage");
	return held;
}

static inline uint64_t mt_zone_held(struct xm_umem *u, enum xm_zone_id id)
{
	struct xm_zone_audit a;

	cr_assert_eq(xm_zone_audit(xm_umem_zone(u, id), &a), 0);
	return a.held;
}

static inline uint64_t mt_failures(struct xm_umem *u)
{
	struct xm_zone_stats st;
	uint64_t n = 0;

	for (int i = 0; i < XM_ZONE_MAX; i++) {
		cr_assert_eq(xm_zone_stats(xm_umem_zone(u, i), &st), 0);
		n += st.failures;
	}
	return n;
}

/* Everything went back: the test leaked nothing. */
#define mt_assert_clean(u)						\
	cr_assert_eq(mt_held(u), 0, "items still held after freeing all")

/* Deterministic pseudo-random bytes (xorshift32). */
static inline void mt_fill(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static inline uint32_t mt_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/*
 * A packet chain of n segments of lens[i] bytes holding data: each
 * segment is the smallest mbuf xm_get2 makes for its length (inline,
 * 2 KiB or 4 KiB cluster), the first with the packet header.
 */
static inline struct xm_mbuf *mt_chain(struct xm_umem *u, const int *lens,
				       int n, const uint8_t *data)
{
	struct xm_mbuf *top = NULL, *tail = NULL;
	uint32_t total = 0;

	for (int i = 0; i < n; i++) {
		struct xm_mbuf *m = xm_get2(u, lens[i], XM_NOWAIT, XM_MT_DATA,
					    i == 0 ? XM_PKTHDR : 0);

		cr_assert_not_null(m, "xm_get2(%d): %s", lens[i],
				   strerror(errno));
		memcpy(m->m_data, data + total, (size_t)lens[i]);
		m->m_len = lens[i];
		total += (uint32_t)lens[i];
		if (tail == NULL)
			top = m;
		else
			tail->m_next = m;
		tail = m;
	}
	top->m_pkthdr.len = total;
	return top;
}

/* m holds exactly the len bytes at expect, and is sane. */
static inline void mt_assert_bytes(const struct xm_mbuf *m,
				   const uint8_t *expect, uint32_t len)
{
	const char *why = NULL;
	uint8_t *got;

	cr_assert(xm_check(m, &why), "xm_check: %s", why);
	cr_assert_eq(xm_length((struct xm_mbuf *)m, NULL), len,
		     "chain has %u bytes, expected %u",
		     xm_length((struct xm_mbuf *)m, NULL), len);
	got = malloc(len + 1);
	cr_assert_not_null(got);
	cr_assert_eq(xm_copydata(m, 0, (int)len, got), 0);
	cr_assert_eq(memcmp(got, expect, len), 0, "chain bytes differ");
	free(got);
}

static inline int mt_nsegs(const struct xm_mbuf *m)
{
	int n = 0;

	for (; m != NULL; m = m->m_next)
		n++;
	return n;
}

/*
 * Failure-injection walk: for after = 0, 1, 2, ... make the allocation
 * after `after` successful ones fail (and the count - 1 after it), run
 * the operation, and check that whatever happened left nothing held that
 * should not be.  Stops at the first run no injection reached (the
 * operation needed fewer allocations than `after`).  must_fail: some
 * injected failure has to make the operation fail (not be absorbed by a
 * fallback).
 *   prepare: build the input (injection off)
 *   run:     the operation under test (injection on); true on success
 *   finish:  verify the outcome and free everything (injection off)
 */
struct mt_inject {
	void (*prepare)(void *arg);
	bool (*run)(void *arg);
	void (*finish)(void *arg, bool ok);
};

static inline void mt_inject_walk(struct xm_umem *u, long count,
				  const struct mt_inject *op, void *arg,
				  bool must_fail)
{
	uint64_t base = mt_held(u);
	long after, fired = 0, failed = 0;

	for (after = 0; after < 4096; after++) {
		uint64_t f0;
		bool ok;

		if (op->prepare != NULL)
			op->prepare(arg);
		f0 = mt_failures(u);
		_xm_fail_inject(after, count);
		ok = op->run(arg);
		_xm_fail_inject(-1, 0);
		op->finish(arg, ok);
		cr_assert_eq(mt_held(u), base,
			     "after=%ld count=%ld: %llu items held, %llu "
			     "before", after, count,
			     (unsigned long long)mt_held(u),
			     (unsigned long long)base);
		if (mt_failures(u) == f0)
			break;
		fired++;
		if (!ok)
			failed++;
	}
	cr_assert_lt(after, 4096, "operation never stopped allocating");
	cr_assert_gt(fired, 0, "no injected failure was reached");
	if (must_fail)
		cr_assert_gt(failed, 0,
			     "no injected failure made the operation fail");
}

#endif /* MBUF_TEST_H */
