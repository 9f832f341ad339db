/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_mbuf.c - the mbuf allocation KPI (userspace/mbuf.c): what each
 * constructor initialises, size selection at every boundary, paired
 * headers, external storage, bulk forms, RX wrapping, and every failure
 * path (bad arguments, limits, injected allocation failures), with the
 * frame-conservation audit after each.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "mbuf_test.h"
#include "xm_mbuf_int.h"
#include "xm_umem_int.h"

TestSuite(mbuf, .init = mt_setup, .fini = mt_teardown, .timeout = 60);

static struct xm_zone *zone(enum xm_zone_id id)
{
	return xm_umem_zone(tu, id);
}

/* m is its frame's paired header, owning a frame of zone id. */
static void assert_paired(const struct xm_mbuf *m, enum xm_zone_id id,
			  int ext_type)
{
	char *buf = m->m_ext.ext_buf;

	cr_assert(m->m_flags & XM_EXT);
	cr_assert(m->m_flags & XM_PAIRED);
	cr_assert_eq(m->m_ext.ext_type, ext_type);
	cr_assert_eq(m->m_ext.ext_flags, XM_EXT_FLAG_EMBREF);
	cr_assert_eq(m->m_ext.ext_count, 1);
	cr_assert_eq(m->m_ext.ext_arg1, zone(id));
	cr_assert(xm_zone_owns(zone(id), buf), "frame %p not of %s", buf,
		  xm_zone_name(zone(id)));
	cr_assert_eq((void *)m,
		     xm_umem_frame_meta(tu, xm_umem_addr2off(tu, buf)),
		     "header is not the frame's record");
	cr_assert_eq(_xm_umem_meta_frame(tu, m), buf);
	cr_assert_eq(m->m_umem, tu);
}

/* ---------------------------------------------------------- get, gethdr */

Test(mbuf, get_initialises_plain_mbuf)
{
	struct xm_mbuf *m = xm_get(tu, XM_NOWAIT, XM_MT_DATA);

	cr_assert_not_null(m);
	cr_assert(xm_zone_owns(zone(XM_ZONE_MBUF), m));
	cr_assert_null(m->m_next);
	cr_assert_null(m->m_nextpkt);
	cr_assert_eq(m->m_umem, tu);
	cr_assert_eq(m->m_len, 0);
	cr_assert_eq(m->m_flags, 0);
	cr_assert_eq(m->m_type, XM_MT_DATA);
	cr_assert_eq(m->m_data, m->m_dat);
	cr_assert_eq(xm_size(m), XM_MLEN);
	cr_assert_eq(xm_start(m), m->m_dat);
	cr_assert_eq(xm_refcnt(m), 0);
	cr_assert(xm_writable(m));
	cr_assert_eq(xm_leadingspace(m), 0);
	cr_assert_eq(xm_trailingspace(m), XM_MLEN);
	cr_assert_eq(xm_mtooff(m), UINT64_MAX, "inline data is not in UMEM");
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_MBUF), 1);
	cr_assert_null(xm_free(m));
	mt_assert_clean(tu);
}

Test(mbuf, gethdr_initialises_packet_header)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_WAITOK, XM_MT_CONTROL);
	const char *why;

	cr_assert_not_null(m);
	cr_assert_eq(m->m_flags, XM_PKTHDR);
	cr_assert_eq(m->m_type, XM_MT_CONTROL);
	cr_assert_eq(m->m_data, m->m_pktdat);
	cr_assert_eq(xm_size(m), XM_MHLEN);
	cr_assert_eq(m->m_pkthdr.len, 0);
	cr_assert_eq(m->m_pkthdr.flowid, 0);
	cr_assert_eq(m->m_pkthdr.rcv_tstamp, 0);
	cr_assert_eq(m->m_pkthdr.csum_flags, 0);
	cr_assert_eq(xm_trailingspace(m), XM_MHLEN);
	cr_assert(xm_check(m, &why), "%s", why);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(mbuf, get_rejects_bad_arguments)
{
	int bad_how[] = { 0, XM_NOWAIT | XM_WAITOK, XM_USE_RESERVE, 0x100 };
	short bad_type[] = { XM_MT_NOTMBUF, XM_MT_MAX + 1, -1 };

	errno = 0;
	cr_assert_null(xm_get(NULL, XM_NOWAIT, XM_MT_DATA));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(xm_gethdr(NULL, XM_NOWAIT, XM_MT_DATA));
	cr_assert_eq(errno, EINVAL);
	for (size_t i = 0; i < sizeof(bad_how) / sizeof(bad_how[0]); i++) {
		errno = 0;
		cr_assert_null(xm_get(tu, bad_how[i], XM_MT_DATA),
			       "how %#x", bad_how[i]);
		cr_assert_eq(errno, EINVAL);
		cr_assert_null(xm_getcl(tu, bad_how[i], XM_MT_DATA, 0));
		cr_assert_eq(errno, EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad_type) / sizeof(bad_type[0]); i++) {
		errno = 0;
		cr_assert_null(xm_gethdr(tu, XM_NOWAIT, bad_type[i]),
			       "type %d", bad_type[i]);
		cr_assert_eq(errno, EINVAL);
		cr_assert_null(xm_getcl(tu, XM_NOWAIT, bad_type[i], 0));
		cr_assert_eq(errno, EINVAL);
	}
	mt_assert_clean(tu);
}

Test(mbuf, get_with_reserve_flag)
{
	struct xm_mbuf *m = xm_getcl(tu, XM_NOWAIT | XM_USE_RESERVE,
				     XM_MT_DATA, XM_PKTHDR);

	cr_assert_not_null(m);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(mbuf, get_fails_at_the_mbuf_limit)
{
	uint32_t max = xm_zone_get_max(zone(XM_ZONE_MBUF));
	struct xm_mbuf **ms = calloc(max + 1, sizeof(*ms));
	uint32_t n;

	cr_assert_not_null(ms);
	for (n = 0; n <= max; n++) {
		ms[n] = xm_get(tu, XM_NOWAIT, XM_MT_DATA);
		if (ms[n] == NULL)
			break;
	}
	cr_assert_eq(errno, ENOBUFS);
	cr_assert_eq(n, max, "%u mbufs below a limit of %u (no reserve)",
		     n, max);
	for (uint32_t i = 0; i < n; i++)
		xm_free(ms[i]);
	free(ms);
	mt_assert_clean(tu);
}

/* --------------------------------------------------- getcl, getjcl */

Test(mbuf, getcl_uses_the_paired_header)
{
	struct xm_mbuf *m = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA,
				     XM_PKTHDR | XM_EOR);
	struct xm_mbuf *rec;
	const char *why;
	char *frame;

	cr_assert_not_null(m);
	assert_paired(m, XM_ZONE_CLUST, XM_EXT_PACKET);
	cr_assert_eq(m->m_flags, XM_EXT | XM_PAIRED | XM_PKTHDR | XM_EOR);
	cr_assert_eq(m->m_ext.ext_size, XM_MCLBYTES);
	cr_assert_eq(m->m_data, m->m_ext.ext_buf);
	cr_assert_eq(m->m_len, 0);
	cr_assert_eq(m->m_pkthdr.len, 0);
	cr_assert_null(m->m_next);
	cr_assert_eq(xm_refcnt(m), 1);
	cr_assert(xm_writable(m));
	cr_assert_eq(xm_trailingspace(m), XM_MCLBYTES);
	cr_assert_eq(xm_mtooff(m), xm_umem_addr2off(tu, m->m_ext.ext_buf));
	cr_assert(xm_check(m, &why), "%s", why);
	/* One allocation: the frame.  No mbuf-zone header. */
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), 1);
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_MBUF), 0);

	frame = m->m_ext.ext_buf;
	xm_freem(m);
	mt_assert_clean(tu);
	/* The header stays with its frame, marked idle. */
	rec = xm_umem_frame_meta(tu, xm_umem_addr2off(tu, frame));
	cr_assert_eq(rec->m_type, XM_MT_NOTMBUF);
	cr_assert_eq(rec->m_ext.ext_count, 0);
}

Test(mbuf, getcl_rejects_bad_flags)
{
	errno = 0;
	cr_assert_null(xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_RDONLY));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PAIRED));
	cr_assert_null(xm_getcl(NULL, XM_NOWAIT, XM_MT_DATA, 0));
	cr_assert_eq(errno, EINVAL);
	mt_assert_clean(tu);
}

Test(mbuf, getcl_fails_at_the_cluster_limit)
{
	uint32_t max = xm_zone_get_max(zone(XM_ZONE_CLUST));
	struct xm_mbuf **ms = calloc(max + 1, sizeof(*ms));
	uint32_t n;

	cr_assert_not_null(ms);
	for (n = 0; n <= max; n++) {
		ms[n] = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
		if (ms[n] == NULL)
			break;
	}
	cr_assert_eq(errno, ENOBUFS);
	cr_assert_lt(n, max + 1);
	cr_assert_gt(n, 0);
	for (uint32_t i = 0; i < n; i++)
		xm_freem(ms[i]);
	free(ms);
	mt_assert_clean(tu);
}

struct cl_waiter {
	struct xm_mbuf *m;
	_Atomic bool done;
};

static void *getcl_waitok(void *arg)
{
	struct cl_waiter *w = arg;

	w->m = xm_getcl(tu, XM_WAITOK, XM_MT_DATA, XM_PKTHDR);
	atomic_store(&w->done, true);
	return NULL;
}

static uint64_t clust_sleeps(void)
{
	struct xm_zone_stats st;

	cr_assert_eq(xm_zone_stats(zone(XM_ZONE_CLUST), &st), 0);
	return st.sleeps;
}

/*
 * WAITOK at the limit sleeps until a cluster comes back, then succeeds.
 * The waiter is seen asleep (the zone counts the sleep once it found
 * nothing to take) before anything is freed: it cannot have returned.
 */
Test(mbuf, getcl_waitok_sleeps_until_a_free)
{
	uint32_t max = xm_zone_get_max(zone(XM_ZONE_CLUST));
	struct xm_mbuf **ms = calloc(max, sizeof(*ms));
	struct cl_waiter w = { 0 };
	uint64_t sleeps0 = clust_sleeps();
	uint32_t n = 0;
	pthread_t t;

	cr_assert_not_null(ms);
	while (n < max && (ms[n] = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0)))
		n++;
	cr_assert_gt(n, 1);
	cr_assert_eq(pthread_create(&t, NULL, getcl_waitok, &w), 0);
	/* bounded: 10 s, polled every millisecond */
	for (int i = 0; i < 10000 && clust_sleeps() == sleeps0; i++)
		usleep(1000);
	cr_assert_eq(clust_sleeps(), sleeps0 + 1, "the waiter never slept");
	cr_assert_not(atomic_load(&w.done), "returned at the limit");
	xm_free(ms[--n]);
	pthread_join(t, NULL);
	cr_assert_not_null(w.m);
	assert_paired(w.m, XM_ZONE_CLUST, XM_EXT_PACKET);
	xm_free(w.m);
	while (n > 0)
		xm_free(ms[--n]);
	free(ms);
	mt_assert_clean(tu);
}

struct size_case {
	int size;
	enum xm_zone_id id;
};

/* The parameters of a test run once per cluster size. */
static struct criterion_test_params each_size(void)
{
	static struct size_case cases[] = {
		{ XM_MCLBYTES, XM_ZONE_CLUST },
		{ XM_MJUMPAGESIZE, XM_ZONE_JUMBOP },
		{ XM_MJUM9BYTES, XM_ZONE_JUMBO9 },
		{ XM_MJUM16BYTES, XM_ZONE_JUMBO16 },
	};

	return cr_make_param_array(struct size_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTestParameters(mbuf, getjcl_each_size)
{
	return each_size();
}

ParameterizedTest(struct size_case *c, mbuf, getjcl_each_size)
{
	struct xm_mbuf *m = xm_getjcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR,
				      c->size);
	const char *why;

	cr_assert_not_null(m, "size %d: %s", c->size, strerror(errno));
	assert_paired(m, c->id, XM_EXT_PACKET);
	cr_assert_eq(m->m_ext.ext_size, (uint32_t)c->size);
	cr_assert_eq(xm_trailingspace(m), c->size);
	cr_assert(m->m_flags & XM_PKTHDR);
	/* Every byte of a multi-chunk frame is writable storage. */
	memset(m->m_data, 0xab, (size_t)c->size);
	m->m_len = c->size;
	m->m_pkthdr.len = (uint32_t)c->size;
	cr_assert(xm_check(m, &why), "%s", why);
	cr_assert_eq(mt_zone_held(tu, c->id), 1);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(mbuf, getjcl_rejects_other_sizes)
{
	int bad[] = { 0, -1, 1, XM_MHLEN, XM_MCLBYTES - 1, XM_MCLBYTES + 1,
		      XM_MJUMPAGESIZE + 1, XM_MJUM16BYTES * 2 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		cr_assert_null(xm_getjcl(tu, XM_NOWAIT, XM_MT_DATA, 0, bad[i]),
			       "size %d", bad[i]);
		cr_assert_eq(errno, EINVAL);
	}
	mt_assert_clean(tu);
}

/* ------------------------------------------------------------ get2 */

enum kind { K_NONE, K_INLINE, K_CLUST, K_JUMBOP };

struct get2_case {
	int size;
	int flags;
	enum kind kind;
};

ParameterizedTestParameters(mbuf, get2_boundaries)
{
	static struct get2_case cases[] = {
		{ 0, XM_PKTHDR, K_INLINE },
		{ 1, 0, K_INLINE },
		{ XM_MHLEN, XM_PKTHDR, K_INLINE },
		{ XM_MHLEN + 1, XM_PKTHDR, K_CLUST },
		{ XM_MHLEN + 1, 0, K_INLINE },
		{ XM_MLEN, 0, K_INLINE },
		{ XM_MLEN, XM_PKTHDR, K_CLUST },
		{ XM_MLEN + 1, 0, K_CLUST },
		{ XM_MCLBYTES, 0, K_CLUST },
		{ XM_MCLBYTES, XM_PKTHDR, K_CLUST },
		{ XM_MCLBYTES + 1, XM_PKTHDR, K_JUMBOP },
		{ XM_MJUMPAGESIZE, 0, K_JUMBOP },
		{ XM_MJUMPAGESIZE + 1, XM_PKTHDR, K_NONE },
		{ XM_MJUM9BYTES, 0, K_NONE },
		{ -1, 0, K_NONE },
	};

	return cr_make_param_array(struct get2_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct get2_case *c, mbuf, get2_boundaries)
{
	struct xm_mbuf *m;

	errno = 0;
	m = xm_get2(tu, c->size, XM_NOWAIT, XM_MT_DATA, c->flags);
	switch (c->kind) {
	case K_NONE:
		cr_assert_null(m, "size %d", c->size);
		cr_assert_eq(errno, EINVAL);
		break;
	case K_INLINE:
		cr_assert_not_null(m, "size %d", c->size);
		cr_assert_not(m->m_flags & XM_EXT, "size %d", c->size);
		cr_assert_geq(xm_trailingspace(m), c->size);
		break;
	case K_CLUST:
		cr_assert_not_null(m, "size %d", c->size);
		assert_paired(m, XM_ZONE_CLUST, XM_EXT_PACKET);
		break;
	case K_JUMBOP:
		cr_assert_not_null(m, "size %d", c->size);
		assert_paired(m, XM_ZONE_JUMBOP, XM_EXT_PACKET);
		break;
	}
	if (m != NULL)
		cr_assert_eq(m->m_flags & XM_PKTHDR, (uint32_t)c->flags);
	xm_freem(m);
	mt_assert_clean(tu);
}

/* ----------------------------------------------------------- getm2 */

struct getm2_case {
	int len;
	int flags;
	uint32_t sizes[4];	/* storage size of each segment, 0-ended */
};

ParameterizedTestParameters(mbuf, getm2_shapes)
{
	static struct getm2_case cases[] = {
		{ 1, XM_PKTHDR, { XM_MHLEN } },
		{ XM_MHLEN, XM_PKTHDR | XM_EOR, { XM_MHLEN } },
		{ XM_MINCLSIZE, XM_PKTHDR, { XM_MCLBYTES } },
		{ XM_MINCLSIZE - 1, 0, { XM_MLEN } },
		{ XM_MLEN, 0, { XM_MCLBYTES } },
		{ XM_MCLBYTES, XM_EOR, { XM_MCLBYTES } },
		{ XM_MCLBYTES + 1, XM_PKTHDR, { XM_MJUMPAGESIZE } },
		{ XM_MJUMPAGESIZE, XM_PKTHDR | XM_EOR, { XM_MJUMPAGESIZE } },
		{ XM_MJUMPAGESIZE + 1, XM_PKTHDR,
		  { XM_MJUMPAGESIZE, XM_MLEN } },
		{ XM_MJUMPAGESIZE + XM_MINCLSIZE, XM_EOR,
		  { XM_MJUMPAGESIZE, XM_MCLBYTES } },
		{ XM_MJUMPAGESIZE + XM_MCLBYTES + 1, XM_PKTHDR,
		  { XM_MJUMPAGESIZE, XM_MJUMPAGESIZE } },
		{ 10000, XM_PKTHDR | XM_EOR,
		  { XM_MJUMPAGESIZE, XM_MJUMPAGESIZE, XM_MCLBYTES } },
	};

	return cr_make_param_array(struct getm2_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct getm2_case *c, mbuf, getm2_shapes)
{
	struct xm_mbuf *m = xm_getm2(tu, NULL, c->len, XM_NOWAIT, XM_MT_DATA,
				     c->flags);
	const struct xm_mbuf *x;
	int i = 0;

	cr_assert_not_null(m, "len %d: %s", c->len, strerror(errno));
	for (x = m; x != NULL; x = x->m_next, i++) {
		cr_assert_lt(i, 4, "len %d: too many segments", c->len);
		cr_assert_eq(xm_size(x), c->sizes[i],
			     "len %d segment %d: size %u, expected %u", c->len,
			     i, xm_size(x), c->sizes[i]);
		cr_assert_eq(x->m_len, 0);
		cr_assert_eq(!!(x->m_flags & XM_PKTHDR),
			     i == 0 && (c->flags & XM_PKTHDR));
		cr_assert_eq(!!(x->m_flags & XM_EOR),
			     x->m_next == NULL && (c->flags & XM_EOR));
		if (x->m_flags & XM_EXT)
			cr_assert(x->m_flags & XM_PAIRED);
	}
	cr_assert_eq(i < 4 ? c->sizes[i] : 0, 0, "len %d: too few segments",
		     c->len);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(mbuf, getm2_falls_back_to_clusters_without_page_clusters)
{
	struct xm_mbuf *hold[1024], *m;
	int n = 0;

	/* Take every page cluster an ordinary allocation can have. */
	while (n < 1024 && (hold[n] = xm_getjcl(tu, XM_NOWAIT, XM_MT_DATA, 0,
						XM_MJUMPAGESIZE)) != NULL)
		n++;
	cr_assert_lt(n, 1024);
	m = xm_getm2(tu, NULL, 5000, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	cr_assert_not_null(m);
	cr_assert_eq(mt_nsegs(m), 3);
	for (struct xm_mbuf *x = m; x != NULL; x = x->m_next)
		cr_assert_eq(xm_size(x), XM_MCLBYTES);
	xm_freem(m);
	for (int i = 0; i < n; i++)
		xm_free(hold[i]);
	mt_assert_clean(tu);
}

Test(mbuf, getm2_appends_to_a_chain)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA), *r;

	cr_assert_not_null(m);
	m->m_flags |= XM_EOR;
	r = xm_getm2(tu, m, 3000, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR | XM_EOR);
	cr_assert_eq(r, m);
	cr_assert(m->m_flags & XM_PKTHDR);
	cr_assert_not(m->m_flags & XM_EOR, "EOR moves to the new tail");
	cr_assert_not_null(m->m_next);
	cr_assert_eq(xm_size(m->m_next), XM_MJUMPAGESIZE);
	cr_assert_not(m->m_next->m_flags & XM_PKTHDR);
	cr_assert(m->m_next->m_flags & XM_EOR);
	cr_assert_null(m->m_next->m_next);
	/* len 0 with a chain: nothing to add, the chain comes back. */
	cr_assert_eq(xm_getm2(tu, m, 0, XM_NOWAIT, XM_MT_DATA, XM_EOR), m);
	cr_assert_eq(mt_nsegs(m), 2);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(mbuf, getm2_rejects_bad_arguments)
{
	struct xm_umem *u2 = mt_umem_create(0, 0, 0);
	struct xm_mbuf *m = xm_get(u2, XM_NOWAIT, XM_MT_DATA);

	cr_assert_not_null(m);
	errno = 0;
	cr_assert_null(xm_getm2(NULL, NULL, 100, XM_NOWAIT, XM_MT_DATA, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_getm2(tu, NULL, -1, XM_NOWAIT, XM_MT_DATA, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_getm2(tu, NULL, 0, XM_NOWAIT, XM_MT_DATA, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_getm2(tu, NULL, 100, 0, XM_MT_DATA, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_getm2(tu, NULL, 100, XM_NOWAIT, 0, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_getm2(tu, m, 100, XM_NOWAIT, XM_MT_DATA, 0),
		       "chain of another umem");
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(m->m_next);
	xm_freem(m);
	cr_assert_eq(mt_held(u2), 0);
	xm_umem_destroy(u2);
	mt_assert_clean(tu);
}

struct getm2_ctx {
	int len;
	struct xm_mbuf *m;
};

static bool getm2_run(void *arg)
{
	struct getm2_ctx *c = arg;

	c->m = xm_getm2(tu, NULL, c->len, XM_NOWAIT, XM_MT_DATA,
			XM_PKTHDR | XM_EOR);
	cr_assert(c->m != NULL || errno == ENOBUFS, "errno %d", errno);
	return c->m != NULL;
}

static void getm2_finish(void *arg, bool ok)
{
	struct getm2_ctx *c = arg;
	uint32_t room = 0;

	if (!ok)
		return;
	for (struct xm_mbuf *x = c->m; x != NULL; x = x->m_next)
		room += xm_size(x);
	cr_assert_geq(room, (uint32_t)c->len);
	xm_freem(c->m);
}

Test(mbuf, getm2_is_all_or_nothing)
{
	static const struct mt_inject op = {
		.run = getm2_run, .finish = getm2_finish,
	};
	struct getm2_ctx c = { .len = 12000 };

	/*
	 * One failure at a time is absorbed: each is a page-cluster try
	 * that falls back to a 2 KiB cluster.  All failing from the Nth
	 * on makes the call fail, with what it built freed.
	 */
	mt_inject_walk(tu, 1, &op, &c, false);
	mt_inject_walk(tu, 1000, &op, &c, true);
	mt_assert_clean(tu);
}

/* ---------------------------------------------------- clget, cljget */

Test(mbuf, clget_attaches_a_cluster_and_keeps_inline_bytes)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
	const char *why;

	cr_assert_not_null(m);
	memcpy(m->m_data, "0123456789", 10);
	m->m_len = 10;
	m->m_pkthdr.len = 10;
	cr_assert_eq(xm_clget(m, XM_NOWAIT), 0);
	cr_assert(m->m_flags & XM_EXT);
	cr_assert_not(m->m_flags & XM_PAIRED);
	cr_assert(m->m_flags & XM_PKTHDR);
	cr_assert_eq(m->m_ext.ext_type, XM_EXT_CLUSTER);
	cr_assert_eq(m->m_ext.ext_flags, XM_EXT_FLAG_EMBREF);
	cr_assert_eq(m->m_ext.ext_count, 1);
	cr_assert_eq(m->m_ext.ext_size, XM_MCLBYTES);
	cr_assert_eq(m->m_ext.ext_arg1, zone(XM_ZONE_CLUST));
	cr_assert_eq(m->m_data, m->m_ext.ext_buf);
	cr_assert_eq(memcmp(m->m_data, "0123456789", 10), 0);
	cr_assert(xm_check(m, &why), "%s", why);
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_MBUF), 1);
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), 1);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(mbuf, clget_failure_leaves_the_mbuf_alone)
{
	struct xm_mbuf *m = xm_get(tu, XM_NOWAIT, XM_MT_DATA);
	struct xm_mbuf *cl = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0);

	cr_assert_not_null(m);
	cr_assert_not_null(cl);
	cr_assert_eq(xm_clget(NULL, XM_NOWAIT), -EINVAL);
	cr_assert_eq(xm_clget(cl, XM_NOWAIT), -EINVAL, "already has one");
	cr_assert_eq(xm_clget(m, 0), -EINVAL);
	_xm_fail_inject(0, 1);
	cr_assert_eq(xm_clget(m, XM_NOWAIT), -ENOBUFS);
	_xm_fail_inject(-1, 0);
	cr_assert_eq(m->m_flags, 0);
	cr_assert_eq(m->m_data, m->m_dat);
	xm_free(m);
	xm_free(cl);
	mt_assert_clean(tu);
}

ParameterizedTestParameters(mbuf, cljget_each_size)
{
	return each_size();
}

ParameterizedTest(struct size_case *c, mbuf, cljget_each_size)
{
	static const int ext_type[] = {
		[XM_ZONE_CLUST] = XM_EXT_CLUSTER,
		[XM_ZONE_JUMBOP] = XM_EXT_JUMBOP,
		[XM_ZONE_JUMBO9] = XM_EXT_JUMBO9,
		[XM_ZONE_JUMBO16] = XM_EXT_JUMBO16,
	};
	struct xm_mbuf *m = xm_get(tu, XM_NOWAIT, XM_MT_DATA);
	void *bare = xm_cljget(tu, NULL, XM_NOWAIT, c->size), *cl;

	cr_assert_not_null(bare);
	cr_assert(xm_zone_owns(zone(c->id), bare));
	xm_zone_free(zone(c->id), bare);

	cl = xm_cljget(tu, m, XM_NOWAIT, c->size);
	cr_assert_not_null(cl);
	cr_assert_eq(m->m_ext.ext_buf, cl);
	cr_assert_eq(m->m_data, cl);
	cr_assert_eq(m->m_ext.ext_type, ext_type[c->id]);
	cr_assert_eq(m->m_ext.ext_size, (uint32_t)c->size);
	cr_assert_eq(m->m_ext.ext_arg1, zone(c->id));
	cr_assert_eq(xm_trailingspace(m), c->size);
	cr_assert_eq(mt_zone_held(tu, c->id), 1);
	xm_free(m);
	mt_assert_clean(tu);
}

Test(mbuf, cljget_rejects_bad_arguments)
{
	struct xm_umem *u2 = mt_umem_create(0, 0, 0);
	struct xm_mbuf *other = xm_get(u2, XM_NOWAIT, XM_MT_DATA);
	struct xm_mbuf *cl = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0);

	errno = 0;
	cr_assert_null(xm_cljget(tu, NULL, XM_NOWAIT, 1000));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_cljget(NULL, NULL, XM_NOWAIT, XM_MCLBYTES));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_cljget(tu, NULL, 0, XM_MCLBYTES));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_cljget(tu, cl, XM_NOWAIT, XM_MCLBYTES));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_cljget(tu, other, XM_NOWAIT, XM_MCLBYTES),
		       "mbuf of another umem");
	cr_assert_eq(errno, EINVAL);
	xm_free(other);
	xm_free(cl);
	cr_assert_eq(mt_held(u2), 0);
	xm_umem_destroy(u2);
	mt_assert_clean(tu);
}

/* ---------------------------------------------------------- extadd */

static int ext_calls;
static struct {
	char *buf;
	uint32_t size;
	void *arg1;
	void *arg2;
} ext_seen;

static void ext_free_cb(struct xm_mbuf *m)
{
	ext_calls++;
	ext_seen.buf = m->m_ext.ext_buf;
	ext_seen.size = m->m_ext.ext_size;
	ext_seen.arg1 = m->m_ext.ext_arg1;
	ext_seen.arg2 = m->m_ext.ext_arg2;
	free(m->m_ext.ext_buf);
}

Test(mbuf, extadd_calls_free_once)
{
	struct xm_mbuf *m = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
	char *buf = malloc(1000);
	int a1, a2;
	const char *why;

	cr_assert_not_null(buf);
	cr_assert_eq(xm_extadd(m, buf, 1000, ext_free_cb, &a1, &a2, 0,
			       XM_EXT_EXTREF), 0);
	cr_assert(m->m_flags & XM_EXT);
	cr_assert(m->m_flags & XM_PKTHDR);
	cr_assert_eq(m->m_ext.ext_type, XM_EXT_EXTREF);
	cr_assert_eq(m->m_ext.ext_flags, XM_EXT_FLAG_EMBREF);
	cr_assert_eq(xm_refcnt(m), 1);
	cr_assert_eq(m->m_data, buf);
	cr_assert_eq(xm_trailingspace(m), 1000);
	cr_assert(xm_writable(m));
	cr_assert_eq(xm_mtooff(m), UINT64_MAX, "heap memory is not UMEM");
	cr_assert(xm_check(m, &why), "%s", why);
	xm_freem(m);
	cr_assert_eq(ext_calls, 1);
	cr_assert_eq(ext_seen.buf, buf);
	cr_assert_eq(ext_seen.size, 1000);
	cr_assert_eq(ext_seen.arg1, &a1);
	cr_assert_eq(ext_seen.arg2, &a2);
	mt_assert_clean(tu);
}

Test(mbuf, extadd_read_only_storage_is_not_writable)
{
	struct xm_mbuf *m = xm_get(tu, XM_NOWAIT, XM_MT_DATA);
	char *buf = malloc(64);

	cr_assert_eq(xm_extadd(m, buf, 64, ext_free_cb, NULL, NULL,
			       XM_RDONLY, XM_EXT_EXTREF), 0);
	cr_assert_not(xm_writable(m));
	cr_assert_eq(xm_trailingspace(m), 0);
	cr_assert_eq(xm_leadingspace(m), 0);
	xm_free(m);
	cr_assert_eq(ext_calls, 1);
	mt_assert_clean(tu);
}

Test(mbuf, extadd_rejects_bad_arguments)
{
	struct xm_mbuf *m = xm_get(tu, XM_NOWAIT, XM_MT_DATA);
	struct xm_mbuf *cl = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0);
	char buf[64];

	cr_assert_eq(xm_extadd(NULL, buf, 64, ext_free_cb, NULL, NULL, 0,
			       XM_EXT_EXTREF), -EINVAL);
	cr_assert_eq(xm_extadd(m, NULL, 64, ext_free_cb, NULL, NULL, 0,
			       XM_EXT_EXTREF), -EINVAL);
	cr_assert_eq(xm_extadd(m, buf, 0, ext_free_cb, NULL, NULL, 0,
			       XM_EXT_EXTREF), -EINVAL);
	cr_assert_eq(xm_extadd(m, buf, 64, NULL, NULL, NULL, 0,
			       XM_EXT_EXTREF), -EINVAL);
	cr_assert_eq(xm_extadd(m, buf, 64, ext_free_cb, NULL, NULL, 0,
			       XM_EXT_CLUSTER), -EINVAL);
	cr_assert_eq(xm_extadd(m, buf, 64, ext_free_cb, NULL, NULL,
			       XM_PAIRED, XM_EXT_EXTREF), -EINVAL);
	cr_assert_eq(xm_extadd(cl, buf, 64, ext_free_cb, NULL, NULL, 0,
			       XM_EXT_EXTREF), -EINVAL, "already M_EXT");
	cr_assert_eq(m->m_flags, 0);
	xm_free(m);
	xm_free(cl);
	cr_assert_eq(ext_calls, 0);
	mt_assert_clean(tu);
}

/* A header that is not the library's: XM_NOFREE keeps it out of zones. */
Test(mbuf, nofree_header_is_never_given_to_a_zone)
{
	struct xm_mbuf sm;
	char *buf = malloc(256);

	memset(&sm, 0, sizeof(sm));
	sm.m_umem = tu;
	sm.m_type = XM_MT_DATA;
	sm.m_data = sm.m_dat;
	cr_assert_eq(xm_extadd(&sm, buf, 256, ext_free_cb, NULL, NULL,
			       XM_NOFREE, XM_EXT_EXTREF), 0);
	cr_assert_null(xm_free(&sm));
	cr_assert_eq(ext_calls, 1);
	mt_assert_clean(tu);

	/* Without storage too. */
	memset(&sm, 0, sizeof(sm));
	sm.m_umem = tu;
	sm.m_type = XM_MT_DATA;
	sm.m_data = sm.m_dat;
	sm.m_flags = XM_NOFREE;
	cr_assert_null(xm_free(&sm));
	mt_assert_clean(tu);
}

/* ------------------------------------------------------------ free */

Test(mbuf, free_returns_next_and_freem_takes_null)
{
	struct xm_mbuf *a = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
	struct xm_mbuf *b = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0);

	a->m_next = b;
	cr_assert_eq(xm_free(a), b);
	cr_assert_null(xm_free(b));
	cr_assert_null(xm_free(NULL));
	xm_freem(NULL);
	xm_freem_list(NULL);
	mt_assert_clean(tu);
}

Test(mbuf, freem_list_frees_every_packet)
{
	struct xm_mbuf *q = NULL, **tail = &q;

	for (int i = 0; i < 5; i++) {
		struct xm_mbuf *m = xm_getm2(tu, NULL, 3000 + i * 1000,
					     XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);

		cr_assert_not_null(m);
		*tail = m;
		tail = &m->m_nextpkt;
	}
	cr_assert_gt(mt_held(tu), 5);
	xm_freem_list(q);
	mt_assert_clean(tu);
}

Test(mbuf, double_free_of_an_mbuf_panics, .signal = SIGABRT)
{
	struct xm_mbuf *m = xm_get(tu, XM_NOWAIT, XM_MT_DATA);

	xm_free(m);
	xm_free(m);
}

Test(mbuf, double_free_of_a_paired_header_panics, .signal = SIGABRT)
{
	struct xm_mbuf *m = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);

	xm_free(m);
	xm_free(m);
}

Test(mbuf, double_free_in_bulk_panics, .signal = SIGABRT)
{
	struct xm_mbuf *m = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);

	xm_freem_bulk(&m, 1);
	xm_freem_bulk(&m, 1);
}

/* ------------------------------------------------------------ bulk */

Test(mbuf, getcl_bulk_and_freem_bulk)
{
	enum { N = 200 };
	struct xm_mbuf *ms[N];

	cr_assert_eq(xm_getcl_bulk(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR, ms,
				   N), 0);
	for (int i = 0; i < N; i++) {
		assert_paired(ms[i], XM_ZONE_CLUST, XM_EXT_PACKET);
		cr_assert_eq(ms[i]->m_flags, XM_EXT | XM_PAIRED | XM_PKTHDR);
		cr_assert_eq(ms[i]->m_len, 0);
		cr_assert_eq(ms[i]->m_data, ms[i]->m_ext.ext_buf);
		for (int j = 0; j < i; j++)
			cr_assert_neq(ms[i], ms[j]);
	}
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), N);
	xm_freem_bulk(ms, N);
	mt_assert_clean(tu);
	cr_assert_eq(xm_getcl_bulk(tu, XM_NOWAIT, XM_MT_DATA, 0, ms, 0), 0);
	xm_freem_bulk(NULL, 3);
	xm_freem_bulk(ms, 0);
	mt_assert_clean(tu);
}

Test(mbuf, getcl_bulk_rejects_bad_arguments)
{
	struct xm_mbuf *ms[4];

	cr_assert_eq(xm_getcl_bulk(NULL, XM_NOWAIT, XM_MT_DATA, 0, ms, 4),
		     -EINVAL);
	cr_assert_eq(xm_getcl_bulk(tu, XM_NOWAIT, XM_MT_DATA, 0, NULL, 4),
		     -EINVAL);
	cr_assert_eq(xm_getcl_bulk(tu, 0, XM_MT_DATA, 0, ms, 4), -EINVAL);
	cr_assert_eq(xm_getcl_bulk(tu, XM_NOWAIT, 0, 0, ms, 4), -EINVAL);
	cr_assert_eq(xm_getcl_bulk(tu, XM_NOWAIT, XM_MT_DATA, XM_RDONLY, ms,
				   4), -EINVAL);
	mt_assert_clean(tu);
}

Test(mbuf, getcl_bulk_takes_nothing_at_the_limit)
{
	uint32_t max = xm_zone_get_max(zone(XM_ZONE_CLUST));
	struct xm_mbuf **ms = calloc(max, sizeof(*ms));
	struct xm_mbuf *held[100];

	cr_assert_eq(xm_getcl_bulk(tu, XM_NOWAIT, XM_MT_DATA, 0, held, 100),
		     0);
	cr_assert_eq(xm_getcl_bulk(tu, XM_NOWAIT, XM_MT_DATA, 0, ms,
				   max - 50), -ENOBUFS);
	cr_assert_eq(mt_held(tu), 100, "a failed bulk call took something");
	xm_freem_bulk(held, 100);
	mt_assert_clean(tu);
	free(ms);
}

struct bulk_ctx {
	struct xm_mbuf *ms[96];
	int rc;
};

static bool bulk_run(void *arg)
{
	struct bulk_ctx *c = arg;

	c->rc = xm_getcl_bulk(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR, c->ms,
			      96);
	cr_assert(c->rc == 0 || c->rc == -ENOBUFS, "rc %d", c->rc);
	return c->rc == 0;
}

static void bulk_finish(void *arg, bool ok)
{
	struct bulk_ctx *c = arg;

	if (ok)
		xm_freem_bulk(c->ms, 96);
}

Test(mbuf, getcl_bulk_failure_takes_nothing)
{
	static const struct mt_inject op = {
		.run = bulk_run, .finish = bulk_finish,
	};
	struct bulk_ctx c;

	mt_inject_walk(tu, 1, &op, &c, true);
	mt_assert_clean(tu);
}

static void ext_nop_free(struct xm_mbuf *m)
{
	(void)m;
	ext_calls++;
}

Test(mbuf, freem_bulk_frees_every_kind)
{
	static char extbuf[512];
	struct xm_mbuf *ms[10], *copy;
	void *frame;

	ms[0] = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	ms[1] = xm_getm2(tu, NULL, 9000, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	ms[2] = xm_getjcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR,
			  XM_MJUM9BYTES);
	ms[3] = NULL;
	ms[4] = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
	cr_assert_eq(xm_clget(ms[4], XM_NOWAIT), 0);
	ms[5] = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
	cr_assert_eq(xm_extadd(ms[5], extbuf, sizeof(extbuf), ext_nop_free,
			       NULL, NULL, 0, XM_EXT_EXTREF), 0);
	frame = xm_cljget(tu, NULL, XM_NOWAIT, XM_MCLBYTES);
	ms[6] = xm_rxframe(tu, xm_umem_addr2off(tu, frame) + 64, 60,
			   XM_PKTHDR);
	/* Shared frames take the slow path, in either order. */
	ms[0]->m_len = 100;
	ms[0]->m_pkthdr.len = 100;
	copy = xm_copym(ms[0], 0, XM_COPYALL, XM_NOWAIT);
	ms[7] = copy;
	/* bytes in every mbuf of ms[1]: a copy shares what holds bytes */
	ms[1]->m_pkthdr.len = 0;
	for (struct xm_mbuf *x = ms[1]; x != NULL; x = x->m_next) {
		x->m_len = (int32_t)xm_size(x);
		ms[1]->m_pkthdr.len += (uint32_t)x->m_len;
	}
	ms[8] = xm_copym(ms[1], 0, XM_COPYALL, XM_NOWAIT);
	ms[9] = xm_gethdr(tu, XM_NOWAIT, XM_MT_DATA);
	for (int i = 0; i < 10; i++)
		cr_assert(i == 3 || ms[i] != NULL, "ms[%d]", i);
	cr_assert_eq(xm_refcnt(copy), 2);
	for (struct xm_mbuf *x = ms[8]; x != NULL; x = x->m_next)
		cr_assert_eq(xm_refcnt(x), 2, "ms[8] shares ms[1]'s frames");
	xm_freem_bulk(ms, 10);
	cr_assert_eq(ext_calls, 1);
	mt_assert_clean(tu);
}

/*
 * One zone, counts around the batch size (64): every batch is flushed
 * when full, and every frame comes back once.  Chains of one and of two
 * frames, so a batch also fills in the middle of a chain.
 */
Test(mbuf, freem_bulk_flushes_full_batches)
{
	static const unsigned int counts[] = { 63, 64, 65, 128, 129, 200 };
	struct xm_mbuf *ms[200];

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned int n = counts[c];

		for (int segs = 1; segs <= 2; segs++) {
			cr_assert_eq(xm_getcl_bulk(tu, XM_NOWAIT, XM_MT_DATA,
						   XM_PKTHDR, ms, n), 0);
			for (unsigned int i = 0; segs == 2 && i < n; i++) {
				ms[i]->m_next = xm_getcl(tu, XM_NOWAIT,
							 XM_MT_DATA, 0);
				cr_assert_not_null(ms[i]->m_next);
			}
			cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST),
				     (uint64_t)n * (uint64_t)segs);
			xm_freem_bulk(ms, n);
			cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), 0,
				     "%u chains of %d", n, segs);
			mt_assert_clean(tu);
		}
	}
}

Test(mbuf, freem_bulk_batches_across_zones)
{
	enum { N = 300 };
	struct xm_mbuf *ms[N];

	/* Alternate runs of zones so batches flush on zone change and size. */
	for (int i = 0; i < N; i++) {
		int size = (i / 70) % 2 ? XM_MJUMPAGESIZE : XM_MCLBYTES;

		ms[i] = xm_getjcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR, size);
		cr_assert_not_null(ms[i], "i %d", i);
	}
	xm_freem_bulk(ms, N);
	mt_assert_clean(tu);
}

/* ---------------------------------------------------------- rxframe */

static uint64_t frame_off(void *frame)
{
	return xm_umem_addr2off(tu, frame);
}

Test(mbuf, rxframe_wraps_without_allocating)
{
	void *frame = xm_cljget(tu, NULL, XM_NOWAIT, XM_MCLBYTES);
	uint64_t addr = frame_off(frame) + 256;
	uint32_t stride = _xm_zone_stride(zone(XM_ZONE_CLUST));
	struct xm_mbuf *m;
	const char *why;

	cr_assert_not_null(frame);
	m = xm_rxframe(tu, addr, 100, XM_PKTHDR);
	cr_assert_not_null(m, "%s", strerror(errno));
	assert_paired(m, XM_ZONE_CLUST, XM_EXT_RXFRAME);
	cr_assert_eq(m->m_ext.ext_buf, frame);
	cr_assert_eq(m->m_ext.ext_size, stride);
	cr_assert_eq(m->m_data, (char *)xm_umem_base(tu) + addr);
	cr_assert_eq(m->m_len, 100);
	cr_assert_eq(m->m_pkthdr.len, 100);
	cr_assert_eq(m->m_type, XM_MT_DATA);
	cr_assert_eq(xm_leadingspace(m), 256);
	cr_assert_eq(xm_trailingspace(m), (int32_t)stride - 356);
	cr_assert_eq(xm_mtooff(m), addr);
	cr_assert(xm_check(m, &why), "%s", why);
	cr_assert_eq(mt_held(tu), 1, "only the frame, no header");
	xm_freem(m);
	mt_assert_clean(tu);
}

/*
 * A paired header keeps its storage fields across uses (only the count
 * and the type word are reset): they must follow the kind of use, the
 * item size for an allocation, the stride for an RX frame.  A 9 KiB
 * cluster has both different (9216 in a 10240-byte stride).
 */
Test(mbuf, paired_header_follows_the_kind_of_use)
{
	uint32_t stride = _xm_zone_stride(zone(XM_ZONE_JUMBO9));
	struct xm_mbuf *m;
	char *frame;

	cr_assert_neq(stride, XM_MJUM9BYTES);
	m = xm_getjcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR, XM_MJUM9BYTES);
	cr_assert_not_null(m);
	frame = m->m_ext.ext_buf;
	assert_paired(m, XM_ZONE_JUMBO9, XM_EXT_PACKET);
	cr_assert_eq(m->m_ext.ext_size, XM_MJUM9BYTES);
	xm_freem(m);
	for (int round = 0; round < 2; round++) {
		/* The thread's cache is LIFO: the same frame each time. */
		cr_assert_eq(xm_cljget(tu, NULL, XM_NOWAIT, XM_MJUM9BYTES),
			     frame);
		m = xm_rxframe(tu, frame_off(frame) + 64, 100, XM_PKTHDR);
		cr_assert_not_null(m, "%s", strerror(errno));
		assert_paired(m, XM_ZONE_JUMBO9, XM_EXT_RXFRAME);
		cr_assert_eq(m->m_ext.ext_size, stride);
		cr_assert_eq(m->m_data, frame + 64);
		xm_freem(m);

		m = xm_getjcl(tu, XM_NOWAIT, XM_MT_DATA, 0, XM_MJUM9BYTES);
		cr_assert_eq(m->m_ext.ext_buf, frame);
		assert_paired(m, XM_ZONE_JUMBO9, XM_EXT_PACKET);
		cr_assert_eq(m->m_ext.ext_size, XM_MJUM9BYTES);
		cr_assert_eq(m->m_data, frame);
		cr_assert_eq(xm_trailingspace(m), XM_MJUM9BYTES);
		xm_freem(m);
	}
	mt_assert_clean(tu);
}

/* A stray write into an idle paired header is caught when it is reused. */
Test(mbuf, overwritten_idle_paired_header_panics, .signal = SIGABRT)
{
	struct xm_mbuf *m = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0);
	struct xm_mbuf *rec;
	char *frame;

	cr_assert_not_null(m);
	frame = m->m_ext.ext_buf;
	xm_freem(m);
	rec = xm_umem_frame_meta(tu, frame_off(frame));
	rec->m_ext.ext_arg1 = zone(XM_ZONE_JUMBOP);
	m = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0);
	cr_log_error("reused %p without noticing (frame %p)", (void *)m,
		     (void *)frame);
}

Test(mbuf, rxframe_refuses_a_frame_already_wrapped)
{
	void *frame = xm_cljget(tu, NULL, XM_NOWAIT, XM_MCLBYTES);
	struct xm_mbuf *m = xm_rxframe(tu, frame_off(frame), 60, XM_PKTHDR);

	cr_assert_not_null(m);
	errno = 0;
	cr_assert_null(xm_rxframe(tu, frame_off(frame) + 128, 60, 0));
	cr_assert_eq(errno, EBUSY);
	cr_assert_eq(m->m_len, 60, "the live header was not touched");
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(mbuf, rxframe_rejects_bad_addresses)
{
	void *frame = xm_cljget(tu, NULL, XM_NOWAIT, XM_MCLBYTES);
	uint32_t stride = _xm_zone_stride(zone(XM_ZONE_CLUST));
	uint64_t off = frame_off(frame);
	struct xm_mbuf *m;

	errno = 0;
	cr_assert_null(xm_rxframe(tu, xm_umem_size(tu) + 4096, 60, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_rxframe(tu, UINT64_MAX - 10, 60, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_rxframe(tu, off + 100, stride - 99, 0),
		       "runs past the frame");
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_rxframe(tu, off, 60, XM_RDONLY));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_rxframe(NULL, off, 60, 0));
	cr_assert_eq(errno, EINVAL);
	/* The last byte of the frame is still fine. */
	m = xm_rxframe(tu, off + 100, stride - 100, 0);
	cr_assert_not_null(m);
	cr_assert_eq(xm_trailingspace(m), 0);
	xm_free(m);
	mt_assert_clean(tu);
}

Test(mbuf, rxframe_in_a_multi_chunk_frame_uses_its_first_record)
{
	void *frame = xm_cljget(tu, NULL, XM_NOWAIT, XM_MJUM9BYTES);
	uint32_t chunk = xm_umem_chunk_size(tu);
	uint64_t addr = frame_off(frame) + 2 * chunk + 10;
	struct xm_mbuf *m;

	cr_assert_not_null(frame);
	m = xm_rxframe(tu, addr, 1000, XM_PKTHDR | XM_EOR);
	cr_assert_not_null(m);
	assert_paired(m, XM_ZONE_JUMBO9, XM_EXT_RXFRAME);
	cr_assert_eq(m->m_ext.ext_buf, frame);
	cr_assert_eq(xm_leadingspace(m), 2 * chunk + 10);
	cr_assert(m->m_flags & XM_EOR);
	xm_freem(m);
	mt_assert_clean(tu);
}

Test(mbuf, rxframe_on_4k_chunks_owns_the_whole_chunk)
{
	struct xm_umem *u = mt_umem_create(0, 0, 4096);
	struct xm_zone *z = xm_umem_zone(u, XM_ZONE_CLUST);
	void *frame = xm_zone_alloc(z, XM_NOWAIT);
	struct xm_mbuf *m, *cl;

	cr_assert_not_null(frame);
	m = xm_rxframe(u, xm_umem_addr2off(u, frame) + 256, 3000, XM_PKTHDR);
	cr_assert_not_null(m, "a 2 KiB item on a 4 KiB chunk holds 3000 B");
	cr_assert_eq(m->m_ext.ext_size, 4096);
	xm_freem(m);
	/* A cluster allocated by size is still the cluster size. */
	cl = xm_getcl(u, XM_NOWAIT, XM_MT_DATA, 0);
	cr_assert_eq(cl->m_ext.ext_size, XM_MCLBYTES);
	xm_free(cl);
	cr_assert_eq(mt_held(u), 0);
	xm_umem_destroy(u);
}

/* ---------------------------------------------- space and offsets */

Test(mbuf, space_helpers_follow_writability)
{
	struct xm_mbuf *m = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	uint64_t off0 = xm_mtooff(m);

	m->m_data += 100;
	m->m_len = 50;
	cr_assert_eq(xm_leadingspace(m), 100);
	cr_assert_eq(xm_trailingspace(m), XM_MCLBYTES - 150);
	cr_assert_eq(xm_mtooff(m), off0 + 100);
	m->m_flags |= XM_RDONLY;
	cr_assert_not(xm_writable(m));
	cr_assert_eq(xm_leadingspace(m), 0);
	cr_assert_eq(xm_trailingspace(m), 0);
	cr_assert_eq(xm_mtooff(m), off0 + 100, "read-only is still UMEM");
	/* The region's last byte is in it; its end is not. */
	m->m_data = (char *)xm_umem_base(tu) + xm_umem_size(tu) - 1;
	cr_assert_eq(xm_mtooff(m), xm_umem_size(tu) - 1);
	m->m_data += 1;
	cr_assert_eq(xm_mtooff(m), UINT64_MAX, "the region's end is outside");
	m->m_data = m->m_ext.ext_buf;
	cr_assert_not(xm_writable(NULL));
	cr_assert_eq(xm_refcnt(NULL), 0);
	cr_assert_eq(xm_mtooff(NULL), UINT64_MAX);
	xm_free(m);
	mt_assert_clean(tu);
}

/* ------------------------------------- umems our headers do not fit */

/*
 * The frame -> paired header translation has a shift-and-add form for
 * power-of-two records no larger than a chunk and a general one for the
 * rest: both must land on the frame's own record (xm_umem_frame_meta),
 * for every frame zone, through allocation, bursts and RX wrapping.
 */
struct record_case {
	uint32_t meta_size;
	uint32_t chunk_size;
};

ParameterizedTestParameters(mbuf, paired_header_is_the_record_for_any_size)
{
	static struct record_case cases[] = {
		{ 128, 2048 }, { 128, 4096 }, { 2048, 2048 }, { 4096, 4096 },
		{ 192, 2048 }, { 4096, 2048 }, { 3072, 4096 },
	};

	return cr_make_param_array(struct record_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct record_case *c, mbuf,
		  paired_header_is_the_record_for_any_size)
{
	static const int sizes[] = {
		XM_MCLBYTES, XM_MJUMPAGESIZE, XM_MJUM9BYTES, XM_MJUM16BYTES,
	};
	struct xm_umem *u = mt_umem_create(c->meta_size, 0, c->chunk_size);
	struct xm_mbuf *ms[8], *m;
	char *frame;

	for (int i = 0; i < 4; i++) {
		for (int k = 0; k < 8; k++) {
			m = xm_getjcl(u, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR,
				      sizes[i]);
			cr_assert_not_null(m, "%d: %s", sizes[i],
					   strerror(errno));
			frame = m->m_ext.ext_buf;
			cr_assert_eq((void *)m, xm_umem_frame_meta(u,
				     xm_umem_addr2off(u, frame)),
				     "meta %u chunk %u size %d: not the "
				     "frame's record", c->meta_size,
				     c->chunk_size, sizes[i]);
			cr_assert_eq(_xm_umem_meta_frame(u, m), frame);
			ms[k] = m;
		}
		xm_freem_bulk(ms, 8);
	}
	cr_assert_eq(xm_getcl_bulk(u, XM_NOWAIT, XM_MT_DATA, 0, ms, 8), 0);
	for (int k = 0; k < 8; k++)
		cr_assert_eq((void *)ms[k], xm_umem_frame_meta(u,
			     xm_umem_addr2off(u, ms[k]->m_ext.ext_buf)));
	frame = ms[7]->m_ext.ext_buf;
	xm_freem_bulk(ms, 8);
	cr_assert_eq(xm_cljget(u, NULL, XM_NOWAIT, XM_MCLBYTES), frame);
	m = xm_rxframe(u, xm_umem_addr2off(u, frame) + 100, 60, 0);
	cr_assert_not_null(m, "%s", strerror(errno));
	cr_assert_eq((void *)m, xm_umem_frame_meta(u,
		     xm_umem_addr2off(u, frame)));
	xm_freem(m);
	cr_assert_eq(mt_held(u), 0);
	xm_umem_destroy(u);
}

Test(mbuf, small_records_refuse_paired_headers)
{
	struct xm_umem *u = mt_umem_create(64, 0, 0);
	struct xm_mbuf *ms[2], *m;
	void *frame;

	errno = 0;
	cr_assert_null(xm_getcl(u, XM_NOWAIT, XM_MT_DATA, 0));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(xm_getjcl(u, XM_NOWAIT, XM_MT_DATA, 0, XM_MJUM9BYTES));
	cr_assert_null(xm_get2(u, 1000, XM_NOWAIT, XM_MT_DATA, 0));
	cr_assert_eq(xm_getcl_bulk(u, XM_NOWAIT, XM_MT_DATA, 0, ms, 2),
		     -EINVAL);
	frame = xm_cljget(u, NULL, XM_NOWAIT, XM_MCLBYTES);
	cr_assert_not_null(frame, "bare frames do not need records");
	errno = 0;
	cr_assert_null(xm_rxframe(u, xm_umem_addr2off(u, frame), 60, 0));
	cr_assert_eq(errno, EINVAL);
	/* Headers from the mbuf zone still work, clusters attached too. */
	m = xm_gethdr(u, XM_NOWAIT, XM_MT_DATA);
	cr_assert_not_null(m);
	cr_assert_eq(xm_clget(m, XM_NOWAIT), 0);
	xm_free(m);
	xm_zone_free(xm_umem_zone(u, XM_ZONE_CLUST), frame);
	cr_assert_eq(mt_held(u), 0);
	xm_umem_destroy(u);
	mt_assert_clean(tu);
}

Test(mbuf, small_header_zone_refuses_plain_mbufs)
{
	struct xm_umem *u = mt_umem_create(0, 64, 0);
	struct xm_mbuf *m;

	errno = 0;
	cr_assert_null(xm_get(u, XM_NOWAIT, XM_MT_DATA));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(xm_gethdr(u, XM_NOWAIT, XM_MT_DATA));
	cr_assert_null(xm_get2(u, 10, XM_NOWAIT, XM_MT_DATA, 0));
	m = xm_getcl(u, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	cr_assert_not_null(m, "paired headers do not use the mbuf zone");
	xm_free(m);
	cr_assert_eq(mt_held(u), 0);
	xm_umem_destroy(u);
}
