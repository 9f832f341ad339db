/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_mbuf_chain.c - chain operations (userspace/mbuf_chain.c): bytes
 * survive every operation (random data, random cut points), packet
 * lengths follow the chains, shared storage is never written, and every
 * allocation failure leaves either the old chain or nothing, never a
 * leak.
 */
#include <limits.h>

#include "mbuf_test.h"
#include "xm_mbuf_int.h"

TestSuite(chain, .init = mt_setup, .fini = mt_teardown, .timeout = 60);

static uint8_t pattern[16384];

static void fill_pattern(uint32_t seed)
{
	mt_fill(pattern, sizeof(pattern), seed);
}

/* A few chain shapes: inline head, clusters, page clusters, tiny bits. */
static const int shape_a[] = { 40, 1400, 30, 2048, 88, 3000 };
static const int shape_b[] = { 56, 56, 56 };
static const int shape_c[] = { 2000 };
static const int shape_d[] = { 10, 4096, 1, 1, 500 };

#define SHAPE(s)	(s), (int)(sizeof(s) / sizeof((s)[0]))

static uint32_t shape_len(const int *lens, int n)
{
	uint32_t t = 0;

	for (int i = 0; i < n; i++)
		t += (uint32_t)lens[i];
	return t;
}

/*
 * Layouts of the same bytes with empty mbufs among them.  A spec entry
 * > 0 is a segment of that many bytes (mt_chain's kind), LAY_EMPTY an
 * empty mbuf of its own, LAY_SHARED an empty mbuf on a cluster shared
 * with the donor (what trimming a copy leaves: xm_adj of every byte).
 */
#define LAY_EMPTY	0
#define LAY_SHARED	(-1)

/* A single-cluster packet whose storage the empty shared mbufs share. */
static struct xm_mbuf *lay_donor(void)
{
	struct xm_mbuf *d = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);

	cr_assert_not_null(d);
	cr_assert_eq(xm_append(d, 100, pattern + 8000), 0);
	cr_assert_null(d->m_next);
	return d;
}

static struct xm_mbuf *lay_empty_shared(struct xm_mbuf *donor, bool hdr)
{
	/* off 1 gives a copy without the packet header */
	struct xm_mbuf *e = xm_copym(donor, hdr ? 0 : 1, XM_COPYALL,
				     XM_NOWAIT);

	cr_assert_not_null(e);
	cr_assert_null(e->m_next);
	xm_adj(e, -e->m_len);
	cr_assert_eq(e->m_len, 0);
	cr_assert_geq(xm_refcnt(e), 2, "shares the donor's cluster");
	cr_assert_not(xm_writable(e));
	return e;
}

static struct xm_mbuf *lay_chain(const int *spec, int n,
				 const uint8_t *data, struct xm_mbuf *donor)
{
	struct xm_mbuf *top = NULL, *tail = NULL, *m;
	uint32_t total = 0;

	for (int i = 0; i < n; i++) {
		if (spec[i] == LAY_SHARED) {
			m = lay_empty_shared(donor, i == 0);
		} else {
			m = xm_get2(tu, spec[i], XM_NOWAIT, XM_MT_DATA,
				    i == 0 ? XM_PKTHDR : 0);
			cr_assert_not_null(m);
			memcpy(m->m_data, data + total, (size_t)spec[i]);
			m->m_len = spec[i];
			total += (uint32_t)spec[i];
		}
		if (tail == NULL)
			top = m;
		else
			tail->m_next = m;
		tail = m;
	}
	top->m_pkthdr.len = total;
	return top;
}

struct lay {
	int spec[8];
	int n;
};

/* 100 bytes, empty mbufs at the start, in the middle, at the end. */
static const struct lay lay100[] = {
	{ { 100 }, 1 },
	{ { LAY_EMPTY, 100 }, 2 },
	{ { LAY_SHARED, 100 }, 2 },
	{ { 40, LAY_EMPTY, 60 }, 3 },
	{ { 40, LAY_SHARED, 60 }, 3 },
	{ { 100, LAY_EMPTY }, 2 },
	{ { 100, LAY_SHARED }, 2 },
	/* an empty head, then inline bytes a header mbuf cannot hold */
	{ { LAY_EMPTY, 88, 12 }, 3 },
	{ { LAY_SHARED, LAY_EMPTY, 30, LAY_SHARED, 70, LAY_EMPTY,
	    LAY_SHARED }, 7 },
};

/* No byte at all, in several shapes. */
static const struct lay lay0[] = {
	{ { LAY_EMPTY }, 1 },
	{ { LAY_SHARED }, 1 },
	{ { LAY_EMPTY, LAY_EMPTY }, 2 },
	{ { LAY_SHARED, LAY_EMPTY, LAY_SHARED }, 3 },
};

#define NLAY(a)		((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------- adj */

Test(chain, adj_head_across_segments)
{
	struct xm_mbuf *m;
	uint32_t total = shape_len(SHAPE(shape_a));

	fill_pattern(1);
	m = mt_chain(tu, SHAPE(shape_a), pattern);
	xm_adj(m, 1500);
	cr_assert_eq(m->m_pkthdr.len, total - 1500);
	cr_assert_eq(m->m_len, 0, "head emptied but kept for its header");
	mt_assert_bytes(m, pattern + 1500, total - 1500);
	xm_adj(m, 0);
	mt_assert_bytes(m, pattern + 1500, total - 1500);
	xm_adj(m, INT_MAX);
	cr_assert_eq(m->m_pkthdr.len, 0);
	mt_assert_bytes(m, pattern, 0);
	xm_freem(m);
	xm_adj(NULL, 5);
	mt_assert_clean(tu);
}

Test(chain, adj_tail_within_and_across_segments)
{
	struct xm_mbuf *m;
	uint32_t total = shape_len(SHAPE(shape_a));
	int nsegs;

	fill_pattern(2);
	m = mt_chain(tu, SHAPE(shape_a), pattern);
	nsegs = mt_nsegs(m);
	xm_adj(m, -1000);
	cr_assert_eq(mt_nsegs(m), nsegs, "within the last segment");
	mt_assert_bytes(m, pattern, total - 1000);
	/* Into the fourth segment: the two after it are freed. */
	m->m_next->m_next->m_next->m_next->m_next->m_flags |= XM_EOR;
	xm_adj(m, -(2000 + 88 + 100));
	cr_assert_eq(mt_nsegs(m), 4);
	cr_assert(m->m_next->m_next->m_next->m_flags & XM_EOR,
		  "end of record moves to the new last mbuf");
	mt_assert_bytes(m, pattern, total - 3188);
	xm_adj(m, INT_MIN);
	cr_assert_eq(mt_nsegs(m), 1);
	mt_assert_bytes(m, pattern, 0);
	xm_freem(m);
	mt_assert_clean(tu);
}

/* ---------------------------------------------------------- pullup */

Test(chain, pullup_into_an_inline_head)
{
	int lens[] = { 10, 20, 30, 1000 };
	struct xm_mbuf *m, *p;

	fill_pattern(3);
	m = mt_chain(tu, lens, 4, pattern);
	p = xm_pullup(m, 50);
	cr_assert_eq(p, m, "the head had room");
	cr_assert_geq(p->m_len, 50);
	cr_assert_eq(memcmp(p->m_data, pattern, 50), 0);
	mt_assert_bytes(p, pattern, 1060);
	cr_assert_eq(xm_pullup(p, 20), p, "already contiguous");
	xm_freem(p);
	mt_assert_clean(tu);
}

Test(chain, pullup_into_a_cluster_head_in_place)
{
	int lens[] = { 60, 40, 40 };
	struct xm_mbuf *m, *p;

	fill_pattern(4);
	m = mt_chain(tu, lens, 3, pattern);
	cr_assert(m->m_flags & XM_EXT);
	p = xm_pullup(m, 120);
	cr_assert_eq(p, m);
	cr_assert_eq(p->m_len, 120);
	cr_assert_eq(mt_nsegs(p), 2, "emptied mbuf was freed");
	mt_assert_bytes(p, pattern, 140);
	xm_freem(p);
	mt_assert_clean(tu);
}

/* The record's end (M_EOR) moves with the last bytes into the head. */
Test(chain, pullup_of_a_whole_record_keeps_its_end)
{
	int lens[] = { 60, 40, 40 };
	struct xm_mbuf *m, *p, *last;

	fill_pattern(9);
	m = mt_chain(tu, lens, 3, pattern);
	xm_length(m, &last);
	last->m_flags |= XM_EOR;
	p = xm_pullup(m, 140);
	cr_assert_eq(p, m, "the cluster head had room");
	cr_assert_eq(p->m_len, 140);
	cr_assert_null(p->m_next, "every other mbuf was emptied and freed");
	cr_assert(p->m_flags & XM_EOR, "M_EOR moved to the head");
	mt_assert_bytes(p, pattern, 140);
	xm_freem(p);
	mt_assert_clean(tu);
}

Test(chain, pullup_with_a_shared_head_makes_a_new_one)
{
	int lens[] = { 1000, 1000 };
	struct xm_mbuf *m, *c, *p;

	fill_pattern(5);
	m = mt_chain(tu, lens, 2, pattern);
	c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
	p = xm_pullup(c, 1200);
	cr_assert_not_null(p);
	cr_assert_neq(p, c, "shared storage is not written");
	cr_assert(p->m_flags & XM_PKTHDR, "packet header moved to new head");
	cr_assert_geq(p->m_len, 1200);
	mt_assert_bytes(p, pattern, 2000);
	mt_assert_bytes(m, pattern, 2000);
	xm_freem(p);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, pullup_beyond_mhlen_uses_a_cluster)
{
	int lens[] = { 30, 30, 30 };
	struct xm_mbuf *m, *p;

	fill_pattern(6);
	m = mt_chain(tu, lens, 3, pattern);
	cr_assert_not(m->m_flags & XM_EXT);
	p = xm_pullup(m, 80);
	cr_assert_not_null(p);
	cr_assert(p->m_flags & XM_EXT);
	cr_assert_geq(p->m_len, 80);
	mt_assert_bytes(p, pattern, 90);
	xm_freem(p);
	mt_assert_clean(tu);
}

Test(chain, pullup_failures_free_the_chain)
{
	int lens[] = { 30, 30 };
	struct xm_mbuf *m;

	fill_pattern(7);
	m = mt_chain(tu, lens, 2, pattern);
	errno = 0;
	cr_assert_null(xm_pullup(m, 61), "longer than the packet");
	cr_assert_eq(errno, EINVAL);
	mt_assert_clean(tu);
	m = mt_chain(tu, lens, 2, pattern);
	errno = 0;
	cr_assert_null(xm_pullup(m, -1));
	cr_assert_eq(errno, EINVAL);
	mt_assert_clean(tu);
	m = mt_chain(tu, lens, 2, pattern);
	cr_assert_null(xm_pullup(m, XM_MJUMPAGESIZE + 1));
	mt_assert_clean(tu);
	errno = 0;
	cr_assert_null(xm_pullup(NULL, 10));
	cr_assert_eq(errno, EINVAL);
}

/* Exactly the chain's length is allowed, one more is not, any layout. */
Test(chain, pullup_at_exactly_the_chain_length)
{
	static const struct lay lays[] = {
		{ { 56, 56, 56 }, 3 },
		{ { 2000 }, 1 },
		{ { LAY_EMPTY, 30, LAY_EMPTY, 30, LAY_EMPTY }, 5 },
		{ { LAY_SHARED, 60, LAY_SHARED }, 3 },
		{ { 10, LAY_SHARED, 50 }, 3 },
		{ { 10, 4086 }, 2 },		/* XM_MJUMPAGESIZE exactly */
		{ { LAY_EMPTY, 4096 }, 2 },
	};
	struct xm_mbuf *donor, *m, *p;

	fill_pattern(40);
	donor = lay_donor();
	for (int i = 0; i < NLAY(lays); i++) {
		uint32_t total = 0;

		for (int k = 0; k < lays[i].n; k++)
			total += lays[i].spec[k] > 0 ?
				 (uint32_t)lays[i].spec[k] : 0;
		m = lay_chain(lays[i].spec, lays[i].n, pattern, donor);
		p = xm_pullup(m, (int)total);
		cr_assert_not_null(p, "layout %d: pullup(%u): %s", i, total,
				   strerror(errno));
		cr_assert_geq(p->m_len, (int32_t)total, "layout %d", i);
		cr_assert_eq(p->m_pkthdr.len, total, "layout %d", i);
		mt_assert_bytes(p, pattern, total);
		xm_freem(p);
		m = lay_chain(lays[i].spec, lays[i].n, pattern, donor);
		errno = 0;
		cr_assert_null(xm_pullup(m, (int)total + 1), "layout %d", i);
		cr_assert_eq(errno, EINVAL, "layout %d", i);
	}
	cr_assert_eq(xm_refcnt(donor), 1, "every sharer freed");
	mt_assert_bytes(donor, pattern + 8000, 100);
	xm_freem(donor);
	mt_assert_clean(tu);
}

static int big_freed;

static void big_free(struct xm_mbuf *m)
{
	big_freed++;
	free(m->m_ext.ext_buf);
}

/* An 8000-byte packet in one caller's buffer, after `empty` empty mbufs. */
static struct xm_mbuf *big_chain(int empty)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA), *b = m;
	char *buf = malloc(8000);

	cr_assert_not_null(m);
	cr_assert_not_null(buf);
	memcpy(buf, pattern, 8000);
	/* m is the first empty one; the bytes go in the last mbuf */
	for (int i = 0; i < empty; i++) {
		b->m_next = xm_get(tu, XM_NOWAIT, XM_MT_DATA);
		b = b->m_next;
		cr_assert_not_null(b);
	}
	cr_assert_eq(xm_extadd(b, buf, 8000, big_free, NULL, NULL, 0,
			       XM_EXT_EXTREF), 0);
	b->m_len = 8000;
	m->m_pkthdr.len = 8000;
	return m;
}

/*
 * Above XM_MJUMPAGESIZE: a first mbuf that already holds len bytes is
 * the answer (nothing to gather); gathering that much is refused.
 */
Test(chain, pullup_above_a_page_only_when_already_contiguous)
{
	struct xm_mbuf *m;

	fill_pattern(41);
	big_freed = 0;
	m = big_chain(0);
	cr_assert_eq(xm_pullup(m, XM_MJUMPAGESIZE + 1), m);
	cr_assert_eq(xm_pullup(m, 8000), m, "exactly the chain's length");
	mt_assert_bytes(m, pattern, 8000);
	errno = 0;
	cr_assert_null(xm_pullup(m, 8001), "longer than the packet");
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(big_freed, 1, "the chain was freed");
	for (int empty = 1; empty <= 2; empty++) {
		int freed = big_freed;

		m = big_chain(empty);
		errno = 0;
		cr_assert_null(xm_pullup(m, XM_MJUMPAGESIZE + 1),
			       "%d empty mbufs first: would gather", empty);
		cr_assert_eq(errno, EINVAL);
		cr_assert_eq(big_freed, freed + 1, "the chain was freed");
		/* up to a page, gathering is fine whatever the layout */
		m = big_chain(empty);
		m = xm_pullup(m, XM_MJUMPAGESIZE);
		cr_assert_not_null(m);
		cr_assert_eq(m->m_len, XM_MJUMPAGESIZE);
		mt_assert_bytes(m, pattern, 8000);
		xm_freem(m);
	}
	mt_assert_clean(tu);
}

struct chain_ctx {
	const int *lens;
	int n;
	int arg;
	struct xm_mbuf *m;
	struct xm_mbuf *r;
	int rc;
};

static void chain_prepare(void *arg)
{
	struct chain_ctx *c = arg;

	c->m = mt_chain(tu, c->lens, c->n, pattern);
	c->r = NULL;
}

static bool pullup_run(void *arg)
{
	struct chain_ctx *c = arg;

	c->r = xm_pullup(c->m, c->arg);
	return c->r != NULL;
}

static void pullup_finish(void *arg, bool ok)
{
	struct chain_ctx *c = arg;

	if (!ok)
		return;		/* chain freed: the audit checks it */
	cr_assert_geq(c->r->m_len, c->arg);
	mt_assert_bytes(c->r, pattern, shape_len(c->lens, c->n));
	xm_freem(c->r);
}

Test(chain, pullup_allocation_failure_frees_the_chain)
{
	static const int lens[] = { 20, 20, 20, 20 };
	static const struct mt_inject op = {
		.prepare = chain_prepare, .run = pullup_run,
		.finish = pullup_finish,
	};
	struct chain_ctx c = { .lens = lens, .n = 4, .arg = 70 };

	fill_pattern(8);
	mt_inject_walk(tu, 1, &op, &c, true);
	mt_assert_clean(tu);
}

/* --------------------------------------------------------- prepend */

Test(chain, prepend_uses_leading_space)
{
	void *frame = xm_cljget(tu, NULL, XM_NOWAIT, XM_MCLBYTES);
	struct xm_mbuf *m, *p;

	m = xm_rxframe(tu, xm_umem_addr2off(tu, frame) + 256, 100,
		       XM_PKTHDR);
	fill_pattern(9);
	memcpy(m->m_data, pattern + 14, 100);
	memcpy(m->m_data - 14, pattern, 14);
	p = xm_prepend(m, 14, XM_NOWAIT);
	cr_assert_eq(p, m, "room in front: same mbuf");
	cr_assert_eq(p->m_len, 114);
	cr_assert_eq(p->m_pkthdr.len, 114);
	cr_assert_eq(xm_leadingspace(p), 242);
	mt_assert_bytes(p, pattern, 114);
	xm_freem(p);
	mt_assert_clean(tu);
}

Test(chain, prepend_without_room_adds_a_head)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA), *p;

	fill_pattern(10);
	memcpy(m->m_data, pattern + 20, 30);
	m->m_len = 30;
	m->m_pkthdr.len = 30;
	m->m_pkthdr.rcvport = 7;
	p = xm_prepend(m, 20, XM_NOWAIT);
	cr_assert_not_null(p);
	cr_assert_neq(p, m);
	cr_assert_eq(p->m_next, m);
	cr_assert(p->m_flags & XM_PKTHDR);
	cr_assert_not(m->m_flags & XM_PKTHDR);
	cr_assert_eq(p->m_pkthdr.rcvport, 7);
	cr_assert_gt(xm_leadingspace(p), 0, "placed at the end of its mbuf");
	memcpy(p->m_data, pattern, 20);
	mt_assert_bytes(p, pattern, 50);
	/* A big prepend gets a cluster. */
	p = xm_prepend(p, 1000, XM_NOWAIT);
	cr_assert_not_null(p);
	cr_assert(p->m_flags & XM_EXT);
	cr_assert_eq(p->m_pkthdr.len, 1050);
	cr_assert_eq(p->m_len, 1000);
	xm_freem(p);
	mt_assert_clean(tu);
}

Test(chain, prepend_does_not_write_shared_storage)
{
	void *frame = xm_cljget(tu, NULL, XM_NOWAIT, XM_MCLBYTES);
	struct xm_mbuf *m, *c, *p;

	m = xm_rxframe(tu, xm_umem_addr2off(tu, frame) + 256, 100,
		       XM_PKTHDR);
	c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
	p = xm_prepend(c, 14, XM_NOWAIT);
	cr_assert_not_null(p);
	cr_assert_neq(p, c, "leading space of a shared frame is not ours");
	cr_assert_eq(p->m_pkthdr.len, 114);
	cr_assert_eq(m->m_data, (char *)frame + 256);
	xm_freem(p);
	xm_freem(m);
	mt_assert_clean(tu);
}

static bool prepend_run(void *arg)
{
	struct chain_ctx *c = arg;

	c->r = xm_prepend(c->m, c->arg, XM_NOWAIT);
	return c->r != NULL;
}

static void prepend_finish(void *arg, bool ok)
{
	struct chain_ctx *c = arg;

	if (ok) {
		cr_assert_eq(c->r->m_pkthdr.len,
			     shape_len(c->lens, c->n) + (uint32_t)c->arg);
		xm_freem(c->r);
	}
}

Test(chain, prepend_failures_free_the_chain)
{
	static const int lens[] = { 56, 100 };
	static const struct mt_inject op = {
		.prepare = chain_prepare, .run = prepend_run,
		.finish = prepend_finish,
	};
	struct chain_ctx c = { .lens = lens, .n = 2, .arg = 40 };
	struct xm_mbuf *m;

	fill_pattern(11);
	mt_inject_walk(tu, 1, &op, &c, true);
	m = mt_chain(tu, lens, 2, pattern);
	errno = 0;
	cr_assert_null(xm_prepend(m, -1, XM_NOWAIT));
	cr_assert_eq(errno, EINVAL);
	m = mt_chain(tu, lens, 2, pattern);
	cr_assert_null(xm_prepend(m, XM_MJUMPAGESIZE + 1, XM_NOWAIT));
	m = mt_chain(tu, lens, 2, pattern);
	cr_assert_null(xm_prepend(m, 10, 0));
	cr_assert_null(xm_prepend(NULL, 10, XM_NOWAIT));
	mt_assert_clean(tu);
}

/* ------------------------------------------- append, copydata, back */

Test(chain, append_fills_trailing_space_then_grows)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);

	fill_pattern(12);
	cr_assert_eq(xm_append(m, 40, pattern), 0);
	cr_assert_eq(mt_nsegs(m), 1);
	cr_assert_eq(xm_append(m, 5000, pattern + 40), 0);
	cr_assert_gt(mt_nsegs(m), 1);
	cr_assert_eq(m->m_pkthdr.len, 5040);
	mt_assert_bytes(m, pattern, 5040);
	cr_assert_eq(xm_append(m, 0, NULL), 0);
	cr_assert_eq(xm_append(m, -1, pattern), -EINVAL);
	cr_assert_eq(xm_append(m, 1, NULL), -EINVAL);
	cr_assert_eq(xm_append(NULL, 1, pattern), -EINVAL);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, append_failure_leaves_the_chain)
{
	int lens[] = { 50 };
	struct xm_mbuf *m;

	fill_pattern(13);
	m = mt_chain(tu, lens, 1, pattern);
	_xm_fail_inject(0, 1000);
	cr_assert_eq(xm_append(m, 3000, pattern + 50), -ENOBUFS);
	_xm_fail_inject(-1, 0);
	cr_assert_eq(mt_nsegs(m), 1);
	mt_assert_bytes(m, pattern, 50);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, copydata_any_range)
{
	uint32_t total = shape_len(SHAPE(shape_a)), seed = 14;
	struct xm_mbuf *m;
	uint8_t out[8000], canary[8000];

	fill_pattern(14);
	m = mt_chain(tu, SHAPE(shape_a), pattern);
	for (int i = 0; i < 300; i++) {
		int off = (int)(mt_rand(&seed) % (total + 1));
		int len = (int)(mt_rand(&seed) % (total - (uint32_t)off + 1));

		cr_assert_eq(xm_copydata(m, off, len, out), 0);
		cr_assert_eq(memcmp(out, pattern + off, (size_t)len), 0,
			     "off %d len %d", off, len);
	}
	memset(out, 0x5a, sizeof(out));
	memset(canary, 0x5a, sizeof(canary));
	cr_assert_eq(xm_copydata(m, 0, (int)total + 1, out), -EINVAL);
	cr_assert_eq(xm_copydata(m, (int)total, 1, out), -EINVAL);
	cr_assert_eq(xm_copydata(m, -1, 1, out), -EINVAL);
	cr_assert_eq(xm_copydata(m, 0, -1, out), -EINVAL);
	cr_assert_eq(xm_copydata(m, 0, 1, NULL), -EINVAL);
	cr_assert_eq(xm_copydata(NULL, 0, 1, out), -EINVAL);
	cr_assert_eq(memcmp(out, canary, sizeof(out)), 0,
		     "a failed copy wrote nothing");
	cr_assert_eq(xm_copydata(m, (int)total, 0, out), 0);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, copyback_overwrites_and_extends)
{
	uint8_t expect[12000];
	uint32_t total = shape_len(SHAPE(shape_d));
	struct xm_mbuf *m, *last;

	fill_pattern(15);
	m = mt_chain(tu, SHAPE(shape_d), pattern);
	xm_length(m, &last);
	last->m_flags |= XM_EOR;
	memcpy(expect, pattern, total);
	/* Inside, across several segments. */
	cr_assert_eq(xm_copyback(m, 5, 4200, pattern + 8000, XM_NOWAIT), 0);
	memcpy(expect + 5, pattern + 8000, 4200);
	mt_assert_bytes(m, expect, total);
	/* Past the end, with a gap that reads as zeros. */
	cr_assert_eq(xm_copyback(m, (int)total + 1000, 6000, pattern + 100,
				 XM_NOWAIT), 0);
	memset(expect + total, 0, 1000);
	memcpy(expect + total + 1000, pattern + 100, 6000);
	cr_assert_eq(m->m_pkthdr.len, total + 7000);
	mt_assert_bytes(m, expect, total + 7000);
	xm_length(m, &last);
	cr_assert(last->m_flags & XM_EOR, "EOR stays at the end");
	cr_assert_eq(xm_copyback(m, 0, 0, NULL, XM_NOWAIT), 0);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, copyback_refuses_shared_storage)
{
	int lens[] = { 56, 1000 };
	struct xm_mbuf *m, *c;

	fill_pattern(16);
	m = mt_chain(tu, lens, 2, pattern);
	c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
	/* The inline head was copied: writable; the cluster is shared. */
	cr_assert_eq(xm_copyback(c, 0, 56, pattern + 5000, XM_NOWAIT), 0);
	cr_assert_eq(xm_copyback(c, 50, 10, pattern + 5000, XM_NOWAIT),
		     -EROFS);
	cr_assert_eq(xm_copyback(c, 1056, 100, pattern + 5000, XM_NOWAIT), 0,
		     "extending past shared storage is fine");
	mt_assert_bytes(m, pattern, 1056);
	cr_assert_eq(xm_copyback(c, -1, 1, pattern, XM_NOWAIT), -EINVAL);
	cr_assert_eq(xm_copyback(c, 0, 1, NULL, XM_NOWAIT), -EINVAL);
	cr_assert_eq(xm_copyback(c, 0, 1, pattern, 0), -EINVAL);
	cr_assert_eq(xm_copyback(NULL, 0, 1, pattern, XM_NOWAIT), -EINVAL);
	cr_assert_eq(xm_copyback(c, INT_MAX, 1, pattern, XM_NOWAIT), -EINVAL);
	xm_freem(c);
	xm_freem(m);
	mt_assert_clean(tu);
}

/* Issue: an empty mbuf on shared storage inside the range made -EROFS. */
Test(chain, copyback_passes_empty_mbufs_on_shared_storage)
{
	static const struct lay lays[] = {
		{ { 20 }, 1 },
		{ { LAY_SHARED, 20 }, 2 },
		{ { 10, LAY_SHARED, 10 }, 3 },
		{ { 20, LAY_SHARED }, 2 },
		{ { LAY_SHARED, 5, LAY_SHARED, LAY_EMPTY, 15, LAY_SHARED }, 6 },
	};
	uint8_t expect[64];
	struct xm_mbuf *a, *b;

	fill_pattern(42);
	/* the case as reported */
	a = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	cr_assert_not_null(a);
	cr_assert_eq(xm_append(a, 100, pattern), 0);
	b = xm_copym(a, 0, XM_COPYALL, XM_NOWAIT);
	cr_assert_not_null(b);
	xm_adj(b, -100);			/* [0, shared] */
	b = xm_prepend(b, 10, XM_NOWAIT);
	cr_assert_not_null(b);
	memcpy(b->m_data, pattern + 200, 10);
	cr_assert_eq(xm_append(b, 10, pattern + 210), 0);
	cr_assert_eq(mt_nsegs(b), 3, "[10][0 shared][10]");
	cr_assert_eq(b->m_next->m_len, 0);
	cr_assert_eq(xm_refcnt(b->m_next), 2);
	cr_assert_eq(xm_copyback(b, 5, 10, pattern + 300, XM_NOWAIT), 0);
	memcpy(expect, pattern + 200, 20);
	memcpy(expect + 5, pattern + 300, 10);
	mt_assert_bytes(b, expect, 20);
	mt_assert_bytes(a, pattern, 100);
	xm_freem(b);
	xm_freem(a);

	/* the same 20 bytes, shared empty mbufs anywhere */
	a = lay_donor();
	for (int i = 0; i < NLAY(lays); i++) {
		b = lay_chain(lays[i].spec, lays[i].n, pattern, a);
		memcpy(expect, pattern, 20);
		cr_assert_eq(xm_copyback(b, 0, 20, pattern + 400, XM_NOWAIT),
			     0, "layout %d: the whole range", i);
		memcpy(expect, pattern + 400, 20);
		cr_assert_eq(xm_copyback(b, 5, 10, pattern + 500, XM_NOWAIT),
			     0, "layout %d: inside", i);
		memcpy(expect + 5, pattern + 500, 10);
		cr_assert_eq(xm_copyback(b, 15, 10, pattern + 600, XM_NOWAIT),
			     0, "layout %d: past the end", i);
		memcpy(expect + 15, pattern + 600, 10);
		cr_assert_eq(b->m_pkthdr.len, 25, "layout %d", i);
		mt_assert_bytes(b, expect, 25);
		xm_freem(b);
	}
	mt_assert_bytes(a, pattern + 8000, 100);

	/* a shared mbuf that holds bytes is still refused, not its edge */
	b = mt_chain(tu, (const int[]){ 10 }, 1, pattern);
	b->m_next = xm_copym(a, 0, 10, XM_NOWAIT);
	cr_assert_not_null(b->m_next);
	b->m_next->m_flags &= ~XM_PKTHDR_FLAGS;
	b->m_pkthdr.len = 20;
	cr_assert_eq(xm_copyback(b, 5, 10, pattern, XM_NOWAIT), -EROFS);
	cr_assert_eq(xm_copyback(b, 19, 1, pattern, XM_NOWAIT), -EROFS);
	cr_assert_eq(xm_copyback(b, 0, 10, pattern + 700, XM_NOWAIT), 0,
		     "ends where the shared bytes begin");
	cr_assert_eq(xm_copyback(b, 20, 5, pattern + 710, XM_NOWAIT), 0,
		     "begins where they end");
	memcpy(expect, pattern + 700, 10);
	memcpy(expect + 10, pattern + 8000, 10);
	memcpy(expect + 20, pattern + 710, 5);
	mt_assert_bytes(b, expect, 25);
	mt_assert_bytes(a, pattern + 8000, 100);
	xm_freem(b);
	cr_assert_eq(xm_refcnt(a), 1);
	xm_freem(a);
	mt_assert_clean(tu);
}

static bool copyback_run(void *arg)
{
	struct chain_ctx *c = arg;

	c->rc = xm_copyback(c->m, c->arg, 9000, pattern + 1, XM_NOWAIT);
	cr_assert(c->rc == 0 || c->rc == -ENOBUFS, "rc %d", c->rc);
	return c->rc == 0;
}

static void copyback_finish(void *arg, bool ok)
{
	struct chain_ctx *c = arg;
	uint32_t total = shape_len(c->lens, c->n);
	static uint8_t expect[20000];

	memcpy(expect, pattern, total);
	if (ok) {
		memset(expect + total, 0, (size_t)c->arg - total);
		memcpy(expect + c->arg, pattern + 1, 9000);
		mt_assert_bytes(c->m, expect, (uint32_t)c->arg + 9000);
	} else {
		mt_assert_bytes(c->m, expect, total);
	}
	xm_freem(c->m);
}

Test(chain, copyback_failure_leaves_the_chain)
{
	static const struct mt_inject op = {
		.prepare = chain_prepare, .run = copyback_run,
		.finish = copyback_finish,
	};
	struct chain_ctx c = { .lens = shape_b, .n = 3, .arg = 300 };

	fill_pattern(17);
	mt_inject_walk(tu, 1, &op, &c, false);
	mt_inject_walk(tu, 1000, &op, &c, true);
	mt_assert_clean(tu);
}

Test(chain, length_and_last)
{
	struct xm_mbuf *m, *last = NULL;

	fill_pattern(18);
	m = mt_chain(tu, SHAPE(shape_d), pattern);
	cr_assert_eq(xm_length(m, &last), shape_len(SHAPE(shape_d)));
	cr_assert_null(last->m_next);
	cr_assert_eq(last->m_len, 500);
	cr_assert_eq(xm_length(NULL, &last), 0);
	cr_assert_null(last);
	xm_freem(m);
	mt_assert_clean(tu);
}

/* ------------------------------------------------------ split, cat */

Test(chain, split_and_cat_round_trips)
{
	const int *shapes[] = { shape_a, shape_b, shape_c, shape_d };
	const int nshape[] = { 6, 3, 1, 5 };
	uint32_t seed = 19;

	fill_pattern(19);
	for (int it = 0; it < 400; it++) {
		int s = it % 4;
		uint32_t total = shape_len(shapes[s], nshape[s]);
		int cut = (int)(mt_rand(&seed) % (total + 1));
		struct xm_mbuf *m, *n;

		if (it % 50 == 0)
			cut = 0;
		else if (it % 50 == 1)
			cut = (int)total;
		else if (it % 50 == 2)
			cut = shapes[s][0];	/* a segment boundary */
		m = mt_chain(tu, shapes[s], nshape[s], pattern);
		m->m_pkthdr.rcvport = 5;
		n = xm_split(m, cut, XM_NOWAIT);
		cr_assert_not_null(n, "shape %d cut %d: %s", s, cut,
				   strerror(errno));
		cr_assert(n->m_flags & XM_PKTHDR);
		cr_assert_eq(n->m_pkthdr.rcvport, 5);
		cr_assert_eq(m->m_pkthdr.len, (uint32_t)cut);
		cr_assert_eq(n->m_pkthdr.len, total - (uint32_t)cut);
		mt_assert_bytes(m, pattern, (uint32_t)cut);
		mt_assert_bytes(n, pattern + cut, total - (uint32_t)cut);
		xm_cat(m, n);
		cr_assert_eq(m->m_pkthdr.len, total);
		mt_assert_bytes(m, pattern, total);
		xm_freem(m);
	}
	mt_assert_clean(tu);
}

Test(chain, split_without_packet_header)
{
	int lens[] = { 88, 500, 80 };
	struct xm_mbuf *m, *n, *second;

	fill_pattern(20);
	m = mt_chain(tu, lens, 3, pattern);
	/* Take the packet header off: a plain chain. */
	m->m_flags &= ~XM_PKTHDR;
	second = m->m_next;
	n = xm_split(m, 88, XM_NOWAIT);
	cr_assert_eq(n, second, "cut between mbufs: no allocation");
	cr_assert_null(m->m_next);
	cr_assert_not(n->m_flags & XM_PKTHDR);
	xm_cat(m, n);
	n = xm_split(m, 30, XM_NOWAIT);
	cr_assert_not_null(n);
	cr_assert_eq(xm_length(m, NULL), 30);
	cr_assert_eq(xm_length(n, NULL), 638);
	xm_cat(m, n);
	n = xm_split(m, 668, XM_NOWAIT);
	cr_assert_not_null(n, "at the very end: an empty mbuf");
	cr_assert_eq(n->m_len, 0);
	xm_freem(n);
	cr_assert_eq(xm_length(m, NULL), 668);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, split_shares_large_and_copies_small_remainders)
{
	int lens[] = { 2000 };
	struct xm_mbuf *m, *n;

	fill_pattern(21);
	m = mt_chain(tu, lens, 1, pattern);
	n = xm_split(m, 1000, XM_NOWAIT);
	cr_assert_eq(n->m_ext.ext_buf, m->m_ext.ext_buf, "1000 B shared");
	cr_assert_eq(xm_refcnt(m), 2);
	xm_freem(n);
	n = xm_split(m, 980, XM_NOWAIT);
	cr_assert_not(n->m_flags & XM_EXT, "20 B copied inline");
	cr_assert_eq(xm_refcnt(m), 1);
	cr_assert(xm_writable(m));
	mt_assert_bytes(n, pattern + 980, 20);
	mt_assert_bytes(m, pattern, 980);
	xm_freem(n);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, split_inline_remainder_too_big_for_a_header_mbuf)
{
	int lens[] = { 20, 88 };
	struct xm_mbuf *m, *n;

	fill_pattern(22);
	m = mt_chain(tu, lens, 2, pattern);
	n = xm_split(m, 21, XM_NOWAIT);
	cr_assert_not_null(n);
	cr_assert_eq(n->m_len, 0, "header mbuf, data in the next one");
	cr_assert_eq(n->m_next->m_len, 87);
	mt_assert_bytes(n, pattern + 21, 87);
	mt_assert_bytes(m, pattern, 21);
	xm_freem(n);
	xm_freem(m);
	mt_assert_clean(tu);
}

static bool split_run(void *arg)
{
	struct chain_ctx *c = arg;

	c->r = xm_split(c->m, c->arg, XM_NOWAIT);
	return c->r != NULL;
}

static void split_finish(void *arg, bool ok)
{
	struct chain_ctx *c = arg;
	uint32_t total = shape_len(c->lens, c->n);

	if (ok) {
		mt_assert_bytes(c->m, pattern, (uint32_t)c->arg);
		mt_assert_bytes(c->r, pattern + c->arg,
				total - (uint32_t)c->arg);
		xm_freem(c->r);
	} else {
		mt_assert_bytes(c->m, pattern, total);
		cr_assert_eq(c->m->m_pkthdr.len, total, "m untouched");
	}
	xm_freem(c->m);
}

Test(chain, split_failure_leaves_the_chain)
{
	static const int lens[] = { 20, 88, 1000 };
	static const struct mt_inject op = {
		.prepare = chain_prepare, .run = split_run,
		.finish = split_finish,
	};
	int cuts[] = { 21, 500, 108 };

	fill_pattern(23);
	for (int i = 0; i < 3; i++) {
		struct chain_ctx c = { .lens = lens, .n = 3, .arg = cuts[i] };

		mt_inject_walk(tu, 1, &op, &c, true);
	}
	mt_assert_clean(tu);
}

Test(chain, split_rejects_bad_arguments)
{
	int lens[] = { 100 };
	struct xm_mbuf *m;

	fill_pattern(24);
	m = mt_chain(tu, lens, 1, pattern);
	errno = 0;
	cr_assert_null(xm_split(m, 101, XM_NOWAIT));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(xm_split(m, -1, XM_NOWAIT));
	cr_assert_null(xm_split(m, 10, 0));
	cr_assert_null(xm_split(NULL, 10, XM_NOWAIT));
	mt_assert_bytes(m, pattern, 100);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, cat_copies_small_and_links_large)
{
	int la[] = { 500 }, lb[] = { 30 }, lc[] = { 1000 };
	struct xm_mbuf *a, *b, *c;

	fill_pattern(25);
	a = mt_chain(tu, la, 1, pattern);
	b = mt_chain(tu, lb, 1, pattern + 500);
	c = mt_chain(tu, lc, 1, pattern + 530);
	xm_cat(a, b);
	cr_assert_eq(mt_nsegs(a), 1, "30 B copied into trailing space");
	xm_cat(a, c);
	cr_assert_eq(mt_nsegs(a), 2, "1000 B linked");
	cr_assert_eq(a->m_pkthdr.len, 1530);
	cr_assert_not(a->m_next->m_flags & XM_PKTHDR, "header dropped");
	mt_assert_bytes(a, pattern, 1530);
	xm_cat(a, NULL);
	xm_cat(NULL, a);
	mt_assert_bytes(a, pattern, 1530);
	xm_freem(a);
	mt_assert_clean(tu);
}

Test(chain, cat_does_not_write_shared_storage)
{
	int la[] = { 500 }, lb[] = { 30 };
	struct xm_mbuf *a, *b, *copy;

	fill_pattern(26);
	a = mt_chain(tu, la, 1, pattern);
	b = mt_chain(tu, lb, 1, pattern + 500);
	copy = xm_copym(a, 0, XM_COPYALL, XM_NOWAIT);
	xm_cat(copy, b);
	cr_assert_eq(mt_nsegs(copy), 2, "linked, not copied into");
	mt_assert_bytes(copy, pattern, 530);
	mt_assert_bytes(a, pattern, 500);
	xm_freem(copy);
	xm_freem(a);
	mt_assert_clean(tu);
}

/* ---------------------------------------------------- copym, dup */

Test(chain, copym_ranges)
{
	uint32_t total = shape_len(SHAPE(shape_a)), seed = 27;
	struct xm_mbuf *m;

	fill_pattern(27);
	m = mt_chain(tu, SHAPE(shape_a), pattern);
	m->m_pkthdr.rcvqueue = 3;
	for (int i = 0; i < 200; i++) {
		int off = (int)(mt_rand(&seed) % total);
		int len = 1 + (int)(mt_rand(&seed) % (total - (uint32_t)off));
		struct xm_mbuf *c;

		if (i % 10 == 0)
			off = 0;
		c = xm_copym(m, off, len, XM_NOWAIT);
		cr_assert_not_null(c, "off %d len %d", off, len);
		cr_assert_eq(!!(c->m_flags & XM_PKTHDR), off == 0);
		if (off == 0) {
			cr_assert_eq(c->m_pkthdr.len, (uint32_t)len);
			cr_assert_eq(c->m_pkthdr.rcvqueue, 3);
		}
		mt_assert_bytes(c, pattern + off, (uint32_t)len);
		xm_freem(c);
	}
	mt_assert_bytes(m, pattern, total);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(chain, copym_rejects_bad_ranges)
{
	int lens[] = { 100, 100 };
	struct xm_mbuf *m;

	fill_pattern(28);
	m = mt_chain(tu, lens, 2, pattern);
	errno = 0;
	cr_assert_null(xm_copym(m, 201, 1, XM_NOWAIT));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_copym(m, 150, 51, XM_NOWAIT));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_copym(m, 201, XM_COPYALL, XM_NOWAIT));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_copym(m, 200, 1, XM_NOWAIT));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(xm_copym(m, -1, 10, XM_NOWAIT));
	cr_assert_null(xm_copym(m, 0, -1, XM_NOWAIT));
	cr_assert_null(xm_copym(m, 0, 10, 0));
	cr_assert_null(xm_copym(NULL, 0, 10, XM_NOWAIT));
	xm_freem(m);
	mt_assert_clean(tu);
}

/* Asserts c is a copy of the n bytes at expect: empty only when n is 0. */
static void assert_copy(struct xm_mbuf *c, const uint8_t *expect,
			uint32_t n, bool hdr, const char *what)
{
	cr_assert_not_null(c, "%s: %s", what, strerror(errno));
	cr_assert_eq(!!(c->m_flags & XM_PKTHDR), hdr, "%s", what);
	if (hdr)
		cr_assert_eq(c->m_pkthdr.len, n, "%s", what);
	mt_assert_bytes(c, expect, n);
	if (n == 0)
		cr_assert_eq(mt_nsegs(c), 1, "%s: one empty mbuf", what);
	else
		for (struct xm_mbuf *x = c; x != NULL; x = x->m_next)
			cr_assert(x->m_len > 0 || (x == c && hdr),
				  "%s: an empty mbuf copied", what);
}

/*
 * The same bytes laid out with empty mbufs at the start, in the middle
 * and at the end give the same answer: the copy of every range, an empty
 * copy for an empty range (off at the end included), EINVAL past it.
 */
Test(chain, copym_answer_depends_on_the_bytes_not_the_layout)
{
	static const int offs[] = { 0, 1, 40, 99, 100 };
	struct xm_mbuf *donor, *m, *c;
	char what[96];

	fill_pattern(43);
	donor = lay_donor();
	for (int i = 0; i < NLAY(lay100); i++) {
		m = lay_chain(lay100[i].spec, lay100[i].n, pattern, donor);
		m->m_pkthdr.rcvqueue = 5;
		for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
			int off = offs[k];
			uint32_t rest = 100 - (uint32_t)off;

			snprintf(what, sizeof(what), "layout %d off %d all",
				 i, off);
			c = xm_copym(m, off, XM_COPYALL, XM_NOWAIT);
			assert_copy(c, pattern + off, rest, off == 0, what);
			if (off == 0)
				cr_assert_eq(c->m_pkthdr.rcvqueue, 5);
			xm_freem(c);
			snprintf(what, sizeof(what), "layout %d off %d len %u",
				 i, off, rest);
			c = xm_copym(m, off, (int)rest, XM_NOWAIT);
			assert_copy(c, pattern + off, rest, off == 0, what);
			xm_freem(c);
			snprintf(what, sizeof(what), "layout %d off %d len 0",
				 i, off);
			c = xm_copym(m, off, 0, XM_NOWAIT);
			assert_copy(c, pattern, 0, off == 0, what);
			xm_freem(c);
			errno = 0;
			cr_assert_null(xm_copym(m, off, (int)rest + 1,
						XM_NOWAIT),
				       "layout %d off %d: past the end", i, off);
			cr_assert_eq(errno, EINVAL);
		}
		errno = 0;
		cr_assert_null(xm_copym(m, 101, XM_COPYALL, XM_NOWAIT),
			       "layout %d", i);
		cr_assert_eq(errno, EINVAL);
		mt_assert_bytes(m, pattern, 100);
		xm_freem(m);
	}
	/* no byte at all: a copy of the (empty) packet, in any shape */
	for (int i = 0; i < NLAY(lay0); i++) {
		m = lay_chain(lay0[i].spec, lay0[i].n, pattern, donor);
		snprintf(what, sizeof(what), "empty layout %d", i);
		c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
		assert_copy(c, pattern, 0, true, what);
		xm_freem(c);
		errno = 0;
		cr_assert_null(xm_copym(m, 1, XM_COPYALL, XM_NOWAIT), "%s",
			       what);
		cr_assert_eq(errno, EINVAL);
		xm_freem(m);
	}
	cr_assert_eq(xm_refcnt(donor), 1, "no reference left behind");
	xm_freem(donor);
	mt_assert_clean(tu);
}

static bool copym_run(void *arg)
{
	struct chain_ctx *c = arg;

	c->r = xm_copym(c->m, c->arg, XM_COPYALL, XM_NOWAIT);
	return c->r != NULL;
}

static void copym_finish(void *arg, bool ok)
{
	struct chain_ctx *c = arg;
	uint32_t total = shape_len(c->lens, c->n);

	if (ok) {
		mt_assert_bytes(c->r, pattern + c->arg,
				total - (uint32_t)c->arg);
		xm_freem(c->r);
	}
	mt_assert_bytes(c->m, pattern, total);
	for (struct xm_mbuf *x = c->m; x != NULL; x = x->m_next)
		if (x->m_flags & XM_EXT)
			cr_assert_eq(xm_refcnt(x), 1, "a reference leaked");
	xm_freem(c->m);
}

Test(chain, copym_failure_frees_the_partial_copy)
{
	static const struct mt_inject op = {
		.prepare = chain_prepare, .run = copym_run,
		.finish = copym_finish,
	};
	/* an empty head, inline bytes too many for a header mbuf */
	static const int lens_e[] = { 0, 88, 12, 0, 2000, 0 };
	struct chain_ctx c = { .lens = shape_a, .n = 6, .arg = 0 };

	fill_pattern(29);
	mt_inject_walk(tu, 1, &op, &c, true);
	c.arg = 1450;
	mt_inject_walk(tu, 1, &op, &c, true);
	c.lens = lens_e;
	c.arg = 0;
	mt_inject_walk(tu, 1, &op, &c, true);
	c.arg = 2100;
	mt_inject_walk(tu, 1, &op, &c, true);
	mt_assert_clean(tu);
}

static bool dup_run(void *arg)
{
	struct chain_ctx *c = arg;

	c->r = xm_dup(c->m, XM_NOWAIT);
	return c->r != NULL;
}

static void dup_finish(void *arg, bool ok)
{
	struct chain_ctx *c = arg;
	uint32_t total = shape_len(c->lens, c->n);

	if (ok) {
		mt_assert_bytes(c->r, pattern, total);
		cr_assert_eq(c->r->m_pkthdr.len, total);
		xm_freem(c->r);
	}
	xm_freem(c->m);
}

Test(chain, dup_failure_frees_the_partial_copy)
{
	static const struct mt_inject op = {
		.prepare = chain_prepare, .run = dup_run, .finish = dup_finish,
	};
	struct chain_ctx c = { .lens = shape_a, .n = 6 };

	fill_pattern(30);
	mt_inject_walk(tu, 1, &op, &c, false);
	mt_inject_walk(tu, 1000, &op, &c, true);
	mt_assert_clean(tu);
}

Test(chain, dup_of_empty_and_plain_chains)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_CONTROL), *d;
	int lens[] = { 30, 20 };

	d = xm_dup(m, XM_NOWAIT);
	cr_assert_not_null(d);
	cr_assert(d->m_flags & XM_PKTHDR);
	cr_assert_eq(d->m_type, XM_MT_CONTROL);
	mt_assert_bytes(d, pattern, 0);
	xm_freem(d);
	xm_freem(m);
	fill_pattern(31);
	m = mt_chain(tu, lens, 2, pattern);
	m->m_flags &= ~XM_PKTHDR;
	d = xm_dup(m, XM_NOWAIT);
	cr_assert_not(d->m_flags & XM_PKTHDR);
	mt_assert_bytes(d, pattern, 50);
	xm_freem(d);
	xm_freem(m);
	errno = 0;
	cr_assert_null(xm_dup(NULL, XM_NOWAIT));
	cr_assert_eq(errno, EINVAL);
	mt_assert_clean(tu);
}

Test(chain, dup_pkthdr)
{
	struct xm_mbuf *a = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
	struct xm_mbuf *b = xm_get(tu, XM_NOWAIT, XM_MT_DATA);
	struct xm_mbuf *c = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0);

	a->m_pkthdr.len = 0;
	a->m_pkthdr.flowid = 99;
	a->m_flags |= XM_FLOWID | XM_BCAST;
	cr_assert_eq(xm_dup_pkthdr(b, a), 0);
	cr_assert_eq(b->m_flags, XM_PKTHDR | XM_FLOWID | XM_BCAST);
	cr_assert_eq(b->m_data, b->m_pktdat);
	cr_assert_eq(b->m_pkthdr.flowid, 99);
	cr_assert_eq(xm_dup_pkthdr(c, a), 0);
	cr_assert_eq(c->m_flags, XM_EXT | XM_PAIRED | XM_PKTHDR | XM_FLOWID |
		     XM_BCAST, "storage flags kept");
	cr_assert_eq(xm_dup_pkthdr(a, a), -EINVAL);
	cr_assert_eq(xm_dup_pkthdr(NULL, a), -EINVAL);
	cr_assert_eq(xm_dup_pkthdr(b, NULL), -EINVAL);
	xm_free(b);
	b = xm_get(tu, XM_NOWAIT, XM_MT_DATA);
	cr_assert_eq(xm_dup_pkthdr(a, b), -EINVAL, "from has no header");
	b->m_len = 1;
	cr_assert_eq(xm_dup_pkthdr(b, a), -EINVAL, "one inline byte in the way");
	b->m_len = 10;
	cr_assert_eq(xm_dup_pkthdr(b, a), -EINVAL, "inline data in the way");
	xm_free(a);
	xm_free(b);
	xm_free(c);
	mt_assert_clean(tu);
}

/* ------------------------------------------------------------ check */

static void assert_bad(const struct xm_mbuf *m, const char *word)
{
	const char *why = NULL;

	cr_assert_not(xm_check(m, &why), "expected: %s", word);
	cr_assert_not_null(why);
	cr_assert_not_null(strstr(why, word), "reason \"%s\" lacks \"%s\"",
			   why, word);
}

Test(chain, check_catches_corruption)
{
	int lens[] = { 40, 1000, 60 };
	struct xm_mbuf *m, *second, *third;
	int32_t saved;

	fill_pattern(32);
	m = mt_chain(tu, lens, 3, pattern);
	second = m->m_next;
	third = second->m_next;
	cr_assert(xm_check(m, NULL));

	m->m_pkthdr.len++;
	assert_bad(m, "pkthdr.len");
	m->m_pkthdr.len--;

	saved = second->m_len;
	second->m_len = -1;
	assert_bad(m, "negative m_len");
	second->m_len = XM_MCLBYTES + 1;
	assert_bad(m, "past the end");
	second->m_len = saved;

	third->m_data -= 100;
	assert_bad(m, "outside");
	third->m_data += 100;

	third->m_next = second;
	assert_bad(m, "loop");
	third->m_next = NULL;
	third->m_next = third;
	assert_bad(m, "loop");
	third->m_next = NULL;

	third->m_flags |= XM_PKTHDR;
	assert_bad(m, "not first");
	third->m_flags &= ~XM_PKTHDR;

	second->m_ext.ext_count = 0;
	assert_bad(m, "count");
	second->m_ext.ext_count = 1;

	second->m_ext.ext_type = 42;
	assert_bad(m, "ext_type");
	second->m_ext.ext_type = XM_EXT_PACKET;

	third->m_type = XM_MT_NOTMBUF;
	assert_bad(m, "freed");
	third->m_type = XM_MT_MAX + 1;
	assert_bad(m, "m_type");
	third->m_type = XM_MT_DATA;

	second->m_flags &= ~XM_EXT;
	assert_bad(m, "paired");
	second->m_flags |= XM_EXT;

	assert_bad(NULL, "NULL");
	cr_assert_not(xm_check(NULL, NULL));
	cr_assert(xm_check(m, NULL));
	xm_freem(m);
	mt_assert_clean(tu);
}
