/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_mbuf_refcnt.c - reference counts of external storage
 * (mb_free_ext's scheme): storage goes back to its zone with the last
 * reference and not before, in any order of frees, on any thread; the
 * owner's header outlives the owner while others count on it; a caller's
 * free callback runs exactly once; copies that share and copies that do
 * not.
 */
#include <pthread.h>
#include <signal.h>

#include "mbuf_test.h"
#include "xm_mbuf_int.h"

TestSuite(refcnt, .init = mt_setup, .fini = mt_teardown, .timeout = 60);

/* A packet of len bytes in a paired cluster, filled from seed. */
static struct xm_mbuf *cl_packet(int len, uint32_t seed, uint8_t *data)
{
	struct xm_mbuf *m = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);

	cr_assert_not_null(m);
	mt_fill(data, (size_t)len, seed);
	memcpy(m->m_data, data, (size_t)len);
	m->m_len = len;
	m->m_pkthdr.len = (uint32_t)len;
	return m;
}

/*
 * m with 64 bytes in its cluster: xm_copym copies bytes, and an empty
 * mbuf holds none, so a copy shares only storage that holds some.
 */
static struct xm_mbuf *with_bytes(struct xm_mbuf *m)
{
	cr_assert_not_null(m);
	cr_assert(m->m_flags & XM_EXT);
	memset(m->m_data, 0xa5, 64);
	m->m_len = 64;
	m->m_pkthdr.len = 64;
	return m;
}

Test(refcnt, copym_shares_the_frame)
{
	uint8_t data[1500];
	struct xm_mbuf *m = cl_packet(1500, 1, data), *c;

	m->m_pkthdr.flowid = 77;
	m->m_flags |= XM_FLOWID;
	c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
	cr_assert_not_null(c);
	cr_assert_eq(c->m_ext.ext_buf, m->m_ext.ext_buf);
	cr_assert_eq(c->m_data, m->m_data);
	cr_assert_eq(xm_refcnt(m), 2);
	cr_assert_eq(xm_refcnt(c), 2);
	cr_assert_not(c->m_flags & XM_PAIRED, "a sharer's header is its own");
	cr_assert_not(c->m_ext.ext_flags & XM_EXT_FLAG_EMBREF);
	cr_assert_eq(c->m_ext.ext_cnt, &m->m_ext.ext_count);
	cr_assert(xm_zone_owns(xm_umem_zone(tu, XM_ZONE_MBUF), c));
	cr_assert_eq(c->m_pkthdr.flowid, 77);
	cr_assert(c->m_flags & XM_FLOWID);
	/* Shared storage is read-only to both. */
	cr_assert_not(xm_writable(m));
	cr_assert_not(xm_writable(c));
	cr_assert_eq(xm_trailingspace(m), 0);
	cr_assert_eq(xm_leadingspace(c), 0);
	mt_assert_bytes(c, data, 1500);

	xm_freem(c);
	cr_assert_eq(xm_refcnt(m), 1);
	cr_assert(xm_writable(m));
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_MBUF), 0);
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), 1);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(refcnt, owner_freed_first_then_sharer)
{
	uint8_t data[600];
	struct xm_mbuf *m = cl_packet(600, 2, data), *c;
	char *frame = m->m_ext.ext_buf;

	c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
	cr_assert_not_null(c);
	xm_freem(m);
	/* The frame and its header stay: c counts on them. */
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), 1);
	cr_assert_eq(xm_refcnt(c), 1);
	cr_assert(xm_writable(c), "sole reference again");
	mt_assert_bytes(c, data, 600);
	xm_freem(c);
	mt_assert_clean(tu);
	cr_assert_eq(((struct xm_mbuf *)xm_umem_frame_meta(
			tu, xm_umem_addr2off(tu, frame)))->m_ext.ext_count, 0,
		     "paired header idle with its frame");
}

Test(refcnt, many_sharers_freed_in_every_order)
{
	enum { N = 4 };
	/* All 24 orders of freeing the owner and three sharers. */
	for (int perm = 0; perm < 24; perm++) {
		uint8_t data[300];
		struct xm_mbuf *ms[N];
		int order[N] = { 0, 1, 2, 3 }, p = perm;

		for (int i = N; i > 1; i--) {
			int j = p % i, t = order[i - 1];

			p /= i;
			order[i - 1] = order[j];
			order[j] = t;
		}
		ms[0] = cl_packet(300, (uint32_t)perm, data);
		for (int i = 1; i < N; i++) {
			ms[i] = xm_copym(ms[i - 1], 0, XM_COPYALL, XM_NOWAIT);
			cr_assert_not_null(ms[i]);
		}
		cr_assert_eq(xm_refcnt(ms[0]), N);
		for (int k = 0; k < N; k++) {
			cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), 1,
				     "perm %d: frame freed early", perm);
			for (int i = 0; i < N; i++) {
				bool alive = true;

				for (int q = 0; q < k; q++)
					alive &= order[q] != i;
				if (alive) {
					cr_assert_eq(xm_refcnt(ms[i]),
						     (uint32_t)(N - k));
					mt_assert_bytes(ms[i], data, 300);
				}
			}
			xm_freem(ms[order[k]]);
		}
		mt_assert_clean(tu);
	}
}

Test(refcnt, cluster_on_a_zone_header_returns_both)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA), *c1, *c2;

	cr_assert_eq(xm_cljget(tu, m, XM_NOWAIT, XM_MJUM16BYTES) != NULL,
		     true);
	m->m_len = 16000;
	m->m_pkthdr.len = 16000;
	c1 = xm_copym(m, 100, 5000, XM_NOWAIT);
	c2 = xm_copym(c1, 0, XM_COPYALL, XM_NOWAIT);
	cr_assert_not_null(c2);
	cr_assert_eq(c2->m_ext.ext_cnt, &m->m_ext.ext_count,
		     "a copy of a copy counts on the owner");
	cr_assert_eq(xm_refcnt(m), 3);
	cr_assert_eq(c1->m_data, m->m_data + 100);
	cr_assert_eq(c1->m_len, 5000);
	cr_assert_not(c1->m_flags & XM_PKTHDR, "off > 0: no packet header");
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_MBUF), 3);
	xm_freem(m);
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_MBUF), 3,
		     "owner header stays while counted on");
	xm_freem(c2);
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_MBUF), 2);
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_JUMBO16), 1);
	xm_freem(c1);
	mt_assert_clean(tu);
}

static int cb_calls;
static struct xm_mbuf *cb_mbuf;

static void count_free(struct xm_mbuf *m)
{
	cb_calls++;
	cb_mbuf = m;
	cr_assert_eq(m->m_ext.ext_arg1, (void *)0x1234);
}

Test(refcnt, extref_callback_runs_once_with_the_last_reference)
{
	static char buf[4096];

	for (int last = 0; last < 3; last++) {
		struct xm_mbuf *ms[3];

		cb_calls = 0;
		ms[0] = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
		cr_assert_eq(xm_extadd(ms[0], buf, sizeof(buf), count_free,
				       (void *)0x1234, NULL, 0,
				       XM_EXT_EXTREF), 0);
		ms[0]->m_len = 4000;
		ms[0]->m_pkthdr.len = 4000;
		ms[1] = xm_copym(ms[0], 0, 2000, XM_NOWAIT);
		ms[2] = xm_copym(ms[0], 2000, 2000, XM_NOWAIT);
		cr_assert_eq(xm_refcnt(ms[0]), 3);
		for (int i = 0; i < 3; i++) {
			if (i != last)
				xm_free(ms[i]);
			cr_assert_eq(cb_calls, 0);
		}
		xm_free(ms[last]);
		cr_assert_eq(cb_calls, 1);
		cr_assert_eq(cb_mbuf, ms[last],
			     "called with the mbuf that dropped the count");
		mt_assert_clean(tu);
	}
}

Test(refcnt, dup_shares_nothing)
{
	uint8_t data[3000];
	int lens[] = { 40, 1460, 1500 };
	struct xm_mbuf *m, *d;

	mt_fill(data, sizeof(data), 9);
	m = mt_chain(tu, lens, 3, data);
	m->m_pkthdr.rcvport = 3;
	d = xm_dup(m, XM_NOWAIT);
	cr_assert_not_null(d);
	mt_assert_bytes(d, data, 3000);
	cr_assert_eq(d->m_pkthdr.rcvport, 3);
	for (struct xm_mbuf *x = d; x != NULL; x = x->m_next) {
		if (x->m_flags & XM_EXT)
			cr_assert_eq(xm_refcnt(x), 1);
		cr_assert(xm_writable(x));
		for (struct xm_mbuf *y = m; y != NULL; y = y->m_next)
			if ((x->m_flags & XM_EXT) && (y->m_flags & XM_EXT))
				cr_assert_neq(x->m_ext.ext_buf,
					      y->m_ext.ext_buf);
	}
	for (struct xm_mbuf *y = m; y != NULL; y = y->m_next)
		if (y->m_flags & XM_EXT)
			cr_assert_eq(xm_refcnt(y), 1);
	xm_freem(m);
	mt_assert_bytes(d, data, 3000);
	xm_freem(d);
	mt_assert_clean(tu);
}

Test(refcnt, refcnt_of_inline_storage_is_zero)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA), *c;

	memcpy(m->m_data, "abc", 3);
	m->m_len = 3;
	m->m_pkthdr.len = 3;
	cr_assert_eq(xm_refcnt(m), 0);
	c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
	cr_assert_not_null(c);
	cr_assert_eq(xm_refcnt(c), 0, "inline bytes are copied, not shared");
	cr_assert_neq(c->m_data, m->m_data);
	cr_assert(xm_writable(m));
	mt_assert_bytes(c, (const uint8_t *)"abc", 3);
	xm_freem(m);
	xm_freem(c);
	mt_assert_clean(tu);
}

Test(refcnt, rx_frame_shared_then_freed)
{
	void *frame = xm_cljget(tu, NULL, XM_NOWAIT, XM_MJUMPAGESIZE);
	struct xm_mbuf *m, *c;

	m = xm_rxframe(tu, xm_umem_addr2off(tu, frame) + 256, 1000,
		       XM_PKTHDR);
	cr_assert_not_null(m);
	c = xm_copym(m, 14, XM_COPYALL, XM_NOWAIT);
	cr_assert_not_null(c);
	cr_assert_eq(c->m_ext.ext_type, XM_EXT_RXFRAME);
	cr_assert_eq(xm_mtooff(c), xm_mtooff(m) + 14);
	errno = 0;
	cr_assert_null(xm_rxframe(tu, xm_umem_addr2off(tu, frame), 60, 0),
		       "owner freed but frame still referenced");
	xm_free(m);
	errno = 0;
	cr_assert_null(xm_rxframe(tu, xm_umem_addr2off(tu, frame), 60, 0));
	cr_assert_eq(errno, EBUSY, "the frame is still c's");
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_JUMBOP), 1);
	xm_free(c);
	mt_assert_clean(tu);
}

Test(refcnt, freem_bulk_with_shared_frames)
{
	enum { N = 64 };
	struct xm_mbuf *ms[2 * N];
	uint8_t data[100];

	for (int i = 0; i < N; i++) {
		ms[i] = cl_packet(100, (uint32_t)i, data);
		ms[N + i] = xm_copym(ms[i], 0, XM_COPYALL, XM_NOWAIT);
		cr_assert_not_null(ms[N + i]);
	}
	/* Owners first: none may go back; then sharers: all do. */
	xm_freem_bulk(ms, N);
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), N);
	xm_freem_bulk(ms + N, N);
	mt_assert_clean(tu);
}

Test(refcnt, double_free_of_a_sharer_panics, .signal = SIGABRT)
{
	struct xm_mbuf *m = with_bytes(xm_getcl(tu, XM_NOWAIT, XM_MT_DATA,
						XM_PKTHDR));
	struct xm_mbuf *c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);

	cr_assert_not_null(c);
	cr_assert_eq(xm_refcnt(c), 2, "c is a sharer");

	xm_free(c);
	xm_free(c);
}

Test(refcnt, double_free_of_a_counted_owner_panics, .signal = SIGABRT)
{
	struct xm_mbuf *m = with_bytes(xm_getcl(tu, XM_NOWAIT, XM_MT_DATA,
						XM_PKTHDR));
	struct xm_mbuf *c = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);

	cr_assert_not_null(c);
	cr_assert_eq(xm_refcnt(m), 2, "m's count is held by c");
	xm_free(m);
	xm_free(m);	/* header still allocated for c's count */
}

/* ------------------------------------------------------- threads */

struct race {
	struct xm_mbuf *m;
	pthread_barrier_t *bar;
	int iters;
};

/* Copies and frees references to one frame as fast as it can. */
static void *copy_free_loop(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->bar);
	for (int i = 0; i < r->iters; i++) {
		struct xm_mbuf *c = xm_copym(r->m, 0, XM_COPYALL, XM_NOWAIT);

		if (c == NULL)
			return (void *)1;
		xm_freem(c);
	}
	return NULL;
}

Test(refcnt, concurrent_copies_keep_the_count)
{
	pthread_barrier_t bar;
	struct xm_mbuf *m = with_bytes(xm_getcl(tu, XM_NOWAIT, XM_MT_DATA,
						XM_PKTHDR));
	struct xm_mbuf *keep = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
	struct race r = { .m = keep, .bar = &bar, .iters = 20000 };
	pthread_t t[2];
	void *rv;

	/* keep holds the count above 1 so every update is atomic. */
	pthread_barrier_init(&bar, NULL, 3);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, copy_free_loop, &r);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], &rv);
		cr_assert_null(rv, "a copy failed");
	}
	cr_assert_eq(xm_refcnt(m), 2);
	xm_free(keep);
	cr_assert_eq(xm_refcnt(m), 1);
	xm_free(m);
	mt_assert_clean(tu);
	pthread_barrier_destroy(&bar);
}

struct pair_free {
	struct xm_mbuf *m;
	pthread_barrier_t *bar;
};

static void *free_after_barrier(void *arg)
{
	struct pair_free *p = arg;

	pthread_barrier_wait(p->bar);
	xm_free(p->m);
	return NULL;
}

Test(refcnt, owner_and_sharer_freed_at_once)
{
	pthread_barrier_t bar;

	pthread_barrier_init(&bar, NULL, 2);
	for (int i = 0; i < 2000; i++) {
		struct xm_mbuf *m = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA,
					     XM_PKTHDR);
		struct pair_free p = { .bar = &bar };
		pthread_t t;

		if (i & 1) {
			/* Zone-header owner: its header goes last. */
			xm_free(m);
			m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
			cr_assert_eq(xm_clget(m, XM_NOWAIT), 0);
		}
		with_bytes(m);
		p.m = xm_copym(m, 0, XM_COPYALL, XM_NOWAIT);
		cr_assert_not_null(p.m);
		cr_assert_eq(xm_refcnt(m), 2);
		pthread_create(&t, NULL, free_after_barrier, &p);
		pthread_barrier_wait(&bar);
		xm_free(m);
		pthread_join(t, NULL);
	}
	mt_assert_clean(tu);
	pthread_barrier_destroy(&bar);
}
