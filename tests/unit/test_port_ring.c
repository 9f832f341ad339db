/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_port_ring.c - the AF_XDP ring index arithmetic of xm_port_int.h
 * (xm_cons_avail, xm_cons_release, xm_prod_free, xm_prod_submit) on a
 * ring in ordinary memory: the test plays the kernel's side by moving
 * the shared producer and consumer words itself.  No socket, no root.
 *
 * What the port layer relies on:
 *   - counts are right across the 32-bit wrap of the free-running
 *     indices (a long-lived socket wraps them: 2^32 frames is about seven
 *     minutes at 10 Mpps);
 *   - a consumer never sees more than the kernel produced, a producer
 *     never more free slots than the ring has;
 *   - the shared words are read only when the cached copies show too
 *     little (libxdp's contract: the cached view may lag, never lead);
 *   - release and submit publish exactly the cached index.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "xm_port_int.h"

TestSuite(port_ring, .timeout = 30);

/* A ring's shared words as the kernel's mmap would hold them. */
struct fake_ring {
	uint32_t prod;
	uint32_t cons;
	uint32_t flags;
	struct xm_ring r;
};

/* As xm_ring_map() leaves it: cached copies equal to the shared words. */
static void fake_init(struct fake_ring *f, uint32_t size, uint32_t start)
{
	memset(f, 0, sizeof(*f));
	f->prod = f->cons = start;
	f->r.r_size = size;
	f->r.r_mask = size - 1;
	f->r.r_producer = &f->prod;
	f->r.r_consumer = &f->cons;
	f->r.r_flags = &f->flags;
	f->r.r_cached_prod = f->prod;
	f->r.r_cached_cons = f->cons;
}

static const uint32_t starts[] = {
	0, 1, 1000, UINT32_MAX - 5, UINT32_MAX, 0x80000000u - 3,
};

/* RX / completion side: the kernel produces, we consume. */
Test(port_ring, consumer_counts_across_the_wrap)
{
	struct fake_ring f;

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		uint32_t s = starts[i];

		fake_init(&f, 16, s);
		cr_assert_eq(xm_cons_avail(&f.r), 0, "start %u: empty", s);
		f.prod = s + 10;			/* kernel: 10 in */
		cr_assert_eq(xm_cons_avail(&f.r), 10, "start %u", s);
		cr_assert_eq(f.r.r_cached_prod, s + 10);
		f.r.r_cached_cons += 4;			/* we take 4 */
		xm_cons_release(&f.r);
		cr_assert_eq(f.cons, s + 4, "release publishes the index");
		cr_assert_eq(xm_cons_avail(&f.r), 6, "start %u", s);
		f.r.r_cached_cons += 6;
		xm_cons_release(&f.r);
		cr_assert_eq(f.cons, s + 10);
		f.prod = s + 10 + 16;			/* a full ring */
		cr_assert_eq(xm_cons_avail(&f.r), 16, "start %u", s);
	}
}

/*
 * The shared producer word is read only when the cached view is empty:
 * entries the kernel adds meanwhile show up once those seen are used.
 */
Test(port_ring, consumer_refreshes_only_when_empty)
{
	struct fake_ring f;

	fake_init(&f, 8, UINT32_MAX - 1);
	f.prod += 3;
	cr_assert_eq(xm_cons_avail(&f.r), 3);
	f.prod += 2;				/* not read yet */
	cr_assert_eq(xm_cons_avail(&f.r), 3, "the cached view may lag");
	f.r.r_cached_cons += 3;
	cr_assert_eq(xm_cons_avail(&f.r), 2, "refreshed once used up");
	cr_assert_eq(f.r.r_cached_prod, f.prod);
	f.r.r_cached_cons += 2;
	cr_assert_eq(xm_cons_avail(&f.r), 0, "nothing new: still empty");
	cr_assert_eq(f.cons, UINT32_MAX - 1, "avail never releases");
}

/* Fill / TX side: we produce, the kernel consumes. */
Test(port_ring, producer_counts_across_the_wrap)
{
	struct fake_ring f;

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		uint32_t s = starts[i];

		fake_init(&f, 16, s);
		cr_assert_eq(xm_prod_free(&f.r, 1), 16, "start %u: all free",
			     s);
		cr_assert_eq(xm_prod_free(&f.r, 16), 16);
		f.r.r_cached_prod += 16;		/* we fill it */
		cr_assert_eq(f.prod, s, "nothing published before submit");
		xm_prod_submit(&f.r);
		cr_assert_eq(f.prod, s + 16, "submit publishes the index");
		cr_assert_eq(xm_prod_free(&f.r, 1), 0, "start %u: full", s);
		f.cons = s + 5;				/* kernel: 5 out */
		cr_assert_eq(xm_prod_free(&f.r, 1), 5, "start %u", s);
		cr_assert_eq(f.r.r_cached_cons, s + 5);
		f.r.r_cached_prod += 5;
		xm_prod_submit(&f.r);
		f.cons = s + 21;			/* all of it out */
		cr_assert_eq(xm_prod_free(&f.r, 16), 16, "start %u", s);
		cr_assert_eq(f.cons, s + 21, "free never writes the consumer");
	}
}

/*
 * The shared consumer word is read only when fewer than `want` slots
 * show free: the answer may then be below what the kernel has freed, but
 * never above what the ring holds.
 */
Test(port_ring, producer_refreshes_only_when_short)
{
	struct fake_ring f;

	fake_init(&f, 8, UINT32_MAX - 2);
	f.r.r_cached_prod += 6;
	xm_prod_submit(&f.r);
	cr_assert_eq(xm_prod_free(&f.r, 2), 2, "2 free, 2 wanted");
	f.cons += 4;				/* not read yet */
	cr_assert_eq(xm_prod_free(&f.r, 2), 2, "enough: no refresh");
	cr_assert_eq(f.r.r_cached_cons, UINT32_MAX - 2);
	cr_assert_eq(xm_prod_free(&f.r, 3), 6, "short of 3: refreshed");
	cr_assert_eq(f.r.r_cached_cons, f.cons);
	cr_assert_eq(xm_prod_free(&f.r, 8), 6, "still 6: no more freed");
}
