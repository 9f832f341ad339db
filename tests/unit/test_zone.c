/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_zone.c - one zone at a time: allocation and free, the limit and
 * what happens there (warning, reclaim hooks, NOWAIT failure, WAITOK
 * sleep), raising limits, the emergency reserve, bulk all-or-nothing,
 * exact statistics, the printers, the audit and failure injection.
 * Run over the four frame sizes where the behaviour is per zone.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xm_umem.h"
#include "xm_umem_int.h"
#include "../lib/warns.h"

static struct xm_umem *u;
static struct xm_zone *z;

static void setup(void)
{
	xm_set_print(xm_warns_capture);
}

static void teardown(void)
{
	_xm_fail_inject(-1, 0);
	xm_umem_destroy(u);
	u = NULL;
	z = NULL;
}

TestSuite(zone, .init = setup, .fini = teardown, .timeout = 20);

static enum xm_zone_id id_of(uint32_t size)
{
	switch (size) {
	case XM_MCLBYTES:
		return XM_ZONE_CLUST;
	case XM_MJUMPAGESIZE:
		return XM_ZONE_JUMBOP;
	case XM_MJUM9BYTES:
		return XM_ZONE_JUMBO9;
	case XM_MJUM16BYTES:
		return XM_ZONE_JUMBO16;
	default:
		return XM_ZONE_MBUF;
	}
}

static const char *tunable_of(enum xm_zone_id id)
{
	static const char *const t[XM_ZONE_MAX] = {
		"nmbclusters", "nmbjumbop", "nmbjumbo9", "nmbjumbo16",
		"nmbufs",
	};

	return t[id];
}

/*
 * A small umem whose zone `size` has `limit` items (times factor carved)
 * and `reserve` reserved (0: the default rule); the other frame zones
 * get 16 and nmbufs covers every frame zone at full capacity.
 */
static void mk(uint32_t size, uint32_t limit, uint32_t factor,
	       uint32_t reserve, uint32_t bucket)
{
	enum xm_zone_id id = id_of(size);
	XM_OPTS(xm_umem_opts, o, .nmbclusters = 16, .nmbjumbop = 16,
		.nmbjumbo9 = 16, .nmbjumbo16 = 16,
		.capacity_factor = factor, .bucket_size = bucket,
		.flags = XM_UMEM_F_NO_HUGEPAGES);
	uint32_t *lim[XM_ZONE_MAX] = {
		&o.nmbclusters, &o.nmbjumbop, &o.nmbjumbo9, &o.nmbjumbo16,
		&o.nmbufs,
	};

	*lim[id] = limit;
	if (id != XM_ZONE_MBUF)
		o.nmbufs = 64 + limit * (factor ? factor : 1);
	o.reserve[id] = reserve;
	u = xm_umem_create(&o);
	cr_assert_not_null(u, "create: %s", strerror(errno));
	z = xm_umem_zone(u, id);
}

static struct xm_zone_stats st(void)
{
	struct xm_zone_stats s;

	cr_assert_eq(xm_zone_stats(z, &s), 0);
	return s;
}

static void audit_clean(uint64_t held)
{
	struct xm_zone_audit a;
	int rc = xm_zone_audit(z, &a);

	cr_expect_eq(rc, 0, "audit %d: dup %lu foreign %lu mismatch %lu",
		     rc, (unsigned long)a.duplicates,
		     (unsigned long)a.foreign, (unsigned long)a.mismatches);
	cr_expect_eq(a.held, held, "held %lu, expected %lu",
		     (unsigned long)a.held, (unsigned long)held);
}

/* Allocates until failure; returns the count, items in v. */
static uint32_t drain(void **v, uint32_t max, int flags)
{
	uint32_t n = 0;
	void *p;

	while (n < max && (p = xm_zone_alloc(z, flags)) != NULL)
		v[n++] = p;
	return n;
}

#define SIZE_PARAMS(test)						\
	ParameterizedTestParameters(zone, test)				\
	{								\
		static uint32_t sizes[] = { 2048, 4096, 9216, 16384 };	\
		return cr_make_param_array(uint32_t, sizes, 4);		\
	}

SIZE_PARAMS(alloc_and_free)
ParameterizedTest(uint32_t *size, zone, alloc_and_free)
{
	char *p, *q;

	mk(*size, 40, 1, 0, 0);
	cr_expect_eq(xm_zone_size(z), *size);
	p = xm_zone_alloc(z, XM_NOWAIT);
	q = xm_zone_alloc(z, XM_WAITOK);
	cr_assert_not_null(p);
	cr_assert_not_null(q);
	cr_expect_neq(p, q);
	cr_expect(xm_zone_owns(z, p));
	cr_expect_eq(xm_umem_zone_of(u, xm_umem_addr2off(u, p)), z);
	memset(p, 0x11, *size);
	memset(q, 0x22, *size);
	cr_expect_eq(p[*size - 1], 0x11);
	cr_expect_eq(st().used, 2);
	xm_zone_free(z, p);
	xm_zone_free(z, q);
	xm_zone_free(z, NULL);
	cr_expect_eq(st().used, 0);
	cr_expect_eq(st().requests, 2);
	audit_clean(0);
}

SIZE_PARAMS(limit_is_enforced)
ParameterizedTest(uint32_t *size, zone, limit_is_enforced)
{
	enum xm_zone_id id = id_of(*size);
	void *v[64];
	uint32_t n, rsv;
	char want[128];

	mk(*size, 40, 1, 0, 0);
	rsv = (uint32_t)st().reserve;
	cr_expect_eq(rsv, id <= XM_ZONE_JUMBOP ? 40 / 32 : 0);
	n = drain(v, 64, XM_NOWAIT);
	cr_expect_eq(n, 40 - rsv);
	errno = 0;
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_eq(errno, ENOBUFS);
	cr_expect_eq(xm_warns_n, 1, "%s", xm_warns_text);
	snprintf(want, sizeof(want),
		 "xmbuf: %s limit reached (40), see xm_zone_set_max\n",
		 tunable_of(id));
	cr_expect_str_eq(xm_warns_text, want);
	/* Rate limited: the next failures within a second say nothing. */
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_eq(xm_zone_alloc_bulk(z, v, 1, XM_NOWAIT), -ENOBUFS);
	cr_expect_eq(xm_warns_n, 1);
	cr_expect_eq(st().failures, 4);
	cr_expect_eq(st().used, n);
	audit_clean(n);
	xm_zone_free_bulk(z, v, n);
	audit_clean(0);
}

Test(zone, warning_is_per_zone_and_per_second)
{
	struct xm_zone *zj;
	void *v[64];

	mk(2048, 16, 1, 0, 0);
	zj = xm_umem_zone(u, XM_ZONE_JUMBOP);
	drain(v, 64, XM_NOWAIT);
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_eq(xm_warns_n, 1);
	/* Another zone at its limit has its own warning. */
	for (int i = 0; i < 16; i++)
		cr_assert_not_null(xm_zone_alloc(zj, XM_NOWAIT));
	cr_expect_null(xm_zone_alloc(zj, XM_NOWAIT));
	cr_expect_eq(xm_warns_n, 2);
	cr_expect_not_null(strstr(xm_warns_text,
				  "nmbjumbop limit reached (16)"));
	/* A second later, the first zone warns again. */
	pthread_mutex_lock(&z->uz_lock);
	z->uz_warn_last.tv_sec -= 2;
	pthread_mutex_unlock(&z->uz_lock);
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_eq(xm_warns_n, 3);
}

struct hook_state {
	int calls;
	struct xm_umem *u;
	struct xm_zone *z;
	void *stash[8];
	int nstash;
};

static void hook_count(struct xm_umem *hu, struct xm_zone *hz, void *arg)
{
	struct hook_state *h = arg;

	h->calls++;
	h->u = hu;
	h->z = hz;
}

/* mb_reclaim's job: a protocol drains what it was hoarding. */
static void hook_free_one(struct xm_umem *hu, struct xm_zone *hz, void *arg)
{
	struct hook_state *h = arg;

	h->calls++;
	if (h->nstash > 0)
		xm_zone_free(hz, h->stash[--h->nstash]);
	(void)hu;
}

Test(zone, reclaim_hooks_run_at_the_limit)
{
	struct hook_state a = { 0 }, b = { 0 };
	void *v[64];

	mk(2048, 16, 1, 0, 0);
	cr_assert_eq(xm_umem_reclaim_register(u, hook_count, &a), 0);
	cr_assert_eq(xm_umem_reclaim_register(u, hook_count, &b), 0);
	drain(v, 64, XM_NOWAIT);
	cr_expect_eq(a.calls, 1);
	cr_expect_eq(b.calls, 1);
	cr_expect_eq(a.u, u);
	cr_expect_eq(a.z, z);
	cr_expect_eq(xm_zone_alloc_bulk(z, v, 2, XM_NOWAIT), -ENOBUFS);
	cr_expect_eq(a.calls, 2);
	cr_assert_eq(xm_umem_reclaim_unregister(u, hook_count, &a), 0);
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_eq(a.calls, 2);
	cr_expect_eq(b.calls, 3);
}

SIZE_PARAMS(reclaim_that_frees_lets_the_retry_succeed)
ParameterizedTest(uint32_t *size, zone,
		  reclaim_that_frees_lets_the_retry_succeed)
{
	struct hook_state h = { 0 };
	void *v[64], *p;
	uint32_t n;

	mk(*size, 40, 1, 0, 0);
	n = drain(v, 64, XM_NOWAIT);
	h.stash[h.nstash++] = v[--n];
	h.stash[h.nstash++] = v[--n];
	cr_assert_eq(xm_umem_reclaim_register(u, hook_free_one, &h), 0);
	p = xm_zone_alloc(z, XM_NOWAIT);
	cr_expect_not_null(p);
	cr_expect_eq(h.calls, 1);
	cr_expect_eq(st().failures, 1);	/* drain()'s last try only */
	cr_expect_eq(xm_warns_n, 1);
	v[n++] = p;
	/* Bulk too: the hook frees the last stashed item. */
	cr_expect_eq(xm_zone_alloc_bulk(z, &v[n], 1, XM_NOWAIT), 0);
	n++;
	cr_expect_eq(h.calls, 2);
	cr_expect_eq(h.nstash, 0);
	audit_clean(n);
	xm_zone_free_bulk(z, v, n);
}

Test(zone, reclaim_register_errors)
{
	struct hook_state h[6];

	mk(2048, 16, 1, 0, 0);
	cr_expect_eq(xm_umem_reclaim_register(u, NULL, NULL), -EINVAL);
	cr_expect_eq(xm_umem_reclaim_register(NULL, hook_count, h), -EINVAL);
	for (int i = 0; i < 6; i++)
		cr_expect_eq(xm_umem_reclaim_register(u, hook_count, &h[i]), 0);
	cr_expect_eq(xm_umem_reclaim_register(u, hook_count, &h[3]), -EEXIST);
	cr_expect_eq(xm_umem_reclaim_register(u, hook_free_one, &h[3]), 0);
	cr_expect_eq(xm_umem_reclaim_unregister(u, hook_count, &h[3]), 0);
	cr_expect_eq(xm_umem_reclaim_unregister(u, hook_count, &h[3]),
		     -ENOENT);
	cr_expect_eq(xm_umem_reclaim_unregister(u, hook_count, NULL),
		     -ENOENT);
	cr_expect_eq(xm_umem_reclaim_unregister(NULL, hook_count, h),
		     -ENOENT);
	cr_expect_eq(xm_umem_reclaim_unregister(u, hook_free_one, &h[3]), 0);
	cr_expect_eq(u->u_nhooks, 5);
}

SIZE_PARAMS(set_max_raises_only)
ParameterizedTest(uint32_t *size, zone, set_max_raises_only)
{
	void *v[128];
	uint32_t n;

	mk(*size, 20, 2, 0, 0);
	cr_expect_eq(st().capacity, 40);
	n = drain(v, 128, XM_NOWAIT);
	cr_expect_eq(n, 20 - st().reserve);
	cr_expect_eq(xm_zone_set_max(z, 30), 30);
	cr_expect_eq(xm_zone_get_max(z), 30);
	n += drain(&v[n], 128 - n, XM_NOWAIT);
	cr_expect_eq(n, 30 - st().reserve);
	cr_expect_eq(xm_zone_set_max(z, 29), -EINVAL);
	cr_expect_eq(xm_zone_set_max(z, 41), -EINVAL);
	cr_expect_eq(xm_zone_get_max(z), 30);
	cr_expect_eq(xm_zone_set_max(z, 30), 30);
	cr_expect_eq(xm_zone_set_max(z, 40), 40);
	n += drain(&v[n], 128 - n, XM_NOWAIT);
	cr_expect_eq(n, 40 - st().reserve);
	cr_expect_eq(xm_zone_set_max(NULL, 50), -EINVAL);
	audit_clean(n);
	xm_zone_free_bulk(z, v, n);
}

/* kern_mbuf.c: the frame zones together stay within nmbufs. */
Test(zone, set_max_keeps_frames_within_nmbufs)
{
	XM_OPTS(xm_umem_opts, o, .nmbclusters = 16, .nmbjumbop = 16,
		.nmbjumbo9 = 16, .nmbjumbo16 = 16, .nmbufs = 70,
		.capacity_factor = 2, .flags = XM_UMEM_F_NO_HUGEPAGES);
	struct xm_zone *zm;

	u = xm_umem_create(&o);
	cr_assert_not_null(u);
	z = xm_umem_zone(u, XM_ZONE_CLUST);
	zm = xm_umem_zone(u, XM_ZONE_MBUF);
	cr_expect_eq(xm_zone_set_max(z, 22), 22);
	cr_expect_eq(xm_zone_set_max(z, 23), -EINVAL);
	cr_expect_eq(xm_zone_set_max(xm_umem_zone(u, XM_ZONE_JUMBO9), 17),
		     -EINVAL);
	cr_expect_eq(xm_zone_set_max(zm, 100), 100);
	cr_expect_eq(xm_zone_set_max(z, 23), 23);
	cr_expect_eq(xm_zone_set_max(xm_umem_zone(u, XM_ZONE_JUMBO9), 32),
		     32);
	cr_expect_eq(xm_zone_set_max(zm, 99), -EINVAL);
	cr_expect_eq(xm_zone_set_max(zm, 141), -EINVAL);
}

struct waiter {
	struct xm_zone *z;
	void *item;
	void *bulk[4];
	unsigned int n;
	int rc;
};

static void *wait_one(void *arg)
{
	struct waiter *w = arg;

	w->item = xm_zone_alloc(w->z, XM_WAITOK);
	return NULL;
}

static void *wait_bulk(void *arg)
{
	struct waiter *w = arg;

	w->rc = xm_zone_alloc_bulk(w->z, w->bulk, w->n, XM_WAITOK);
	return NULL;
}

/* Polls until a WAITOK request sleeps (bounded by the suite timeout). */
static void until_sleeps(uint64_t n)
{
	while (st().sleeps < n)
		usleep(1000);
}

SIZE_PARAMS(waitok_sleeps_until_a_free)
ParameterizedTest(uint32_t *size, zone, waitok_sleeps_until_a_free)
{
	struct waiter w = { 0 };
	void *v[64];
	uint32_t n;
	pthread_t t;

	mk(*size, 40, 1, 0, 0);
	n = drain(v, 64, XM_NOWAIT);
	w.z = z;
	cr_assert_eq(pthread_create(&t, NULL, wait_one, &w), 0);
	until_sleeps(1);
	cr_expect_null(w.item);
	xm_zone_free(z, v[--n]);
	pthread_join(t, NULL);
	cr_expect_eq(w.item, v[n]);
	cr_expect_eq(st().sleeps, 1);
	cr_expect_eq(st().failures, 1);	/* drain()'s last try only */
	cr_expect_eq(xm_warns_n, 1);
	v[n++] = w.item;
	audit_clean(n);
	xm_zone_free_bulk(z, v, n);
	audit_clean(0);
}

Test(zone, waitok_wakes_when_the_limit_rises)
{
	struct waiter w = { 0 };
	void *v[64];
	uint32_t n;
	pthread_t t;

	mk(4096, 16, 2, 0, 0);
	n = drain(v, 64, XM_NOWAIT);
	w.z = z;
	cr_assert_eq(pthread_create(&t, NULL, wait_one, &w), 0);
	until_sleeps(1);
	cr_expect_eq(xm_zone_set_max(z, 17), 17);
	pthread_join(t, NULL);
	cr_expect_not_null(w.item);
	v[n++] = w.item;
	audit_clean(n);
}

Test(zone, waitok_bulk_waits_for_all)
{
	struct xm_zone_audit a;
	struct waiter w = { 0 };
	void *v[64];
	uint32_t n;
	pthread_t t;

	mk(9216, 16, 1, 0, 0);
	n = drain(v, 64, XM_NOWAIT);
	cr_assert_eq(n, 16);
	/*
	 * Two free before the request for four: the waiter counts a sleep
	 * only after it saw them and found them too few, so once it has
	 * slept, leaving them is a decision it made, not a race it lost.
	 */
	xm_zone_free(z, v[--n]);
	xm_zone_free(z, v[--n]);
	xm_zone_cache_flush(z);		/* into the depot, where it looks */
	cr_assert_eq(xm_zone_audit(z, &a), 0);
	cr_assert_eq(a.depot, 2);
	w.z = z;
	w.n = 4;
	cr_assert_eq(pthread_create(&t, NULL, wait_bulk, &w), 0);
	until_sleeps(1);
	cr_expect_null(w.bulk[0], "bulk took less than all");
	cr_assert_eq(xm_zone_audit(z, &a), 0);
	cr_expect_eq(a.depot, 2, "bulk took less than all");
	cr_expect_eq(a.held, 14);
	/* a third wakes it to too few again; the fourth completes it */
	xm_zone_free(z, v[--n]);
	xm_zone_free(z, v[--n]);
	pthread_join(t, NULL);
	cr_expect_eq(w.rc, 0);
	for (int i = 0; i < 4; i++) {
		cr_expect_not_null(w.bulk[i]);
		v[n++] = w.bulk[i];
	}
	audit_clean(16);
}

SIZE_PARAMS(reserve_only_with_use_reserve)
ParameterizedTest(uint32_t *size, zone, reserve_only_with_use_reserve)
{
	void *v[64], *p;
	uint32_t n;

	mk(*size, 40, 1, 4, 0);
	cr_expect_eq(st().reserve, 4);
	n = drain(v, 64, XM_NOWAIT);
	cr_expect_eq(n, 36);
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT));
	for (int i = 0; i < 4; i++) {
		p = xm_zone_alloc(z, XM_NOWAIT | XM_USE_RESERVE);
		cr_assert_not_null(p, "reserve item %d", i);
		v[n++] = p;
	}
	cr_expect_eq(st().reserve, 0);
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT | XM_USE_RESERVE));
	/* A free refills the reserve before anyone else sees the item. */
	xm_zone_free(z, v[--n]);
	cr_expect_eq(st().reserve, 1);
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_eq(xm_zone_alloc_bulk(z, &v[n], 1, XM_NOWAIT), -ENOBUFS);
	cr_expect_eq(xm_zone_alloc_bulk(z, &v[n], 1,
					XM_NOWAIT | XM_USE_RESERVE), 0);
	n++;
	audit_clean(40);
	xm_zone_free_bulk(z, v, 3);
	cr_expect_eq(st().reserve, 3);
	xm_zone_free_bulk(z, &v[3], n - 3);
	cr_expect_eq(st().reserve, 4);
	cr_expect_eq(st().used, 0);
	audit_clean(0);
}

/*
 * Frees bypass the thread caches only while the reserve is short: the
 * free that fills it goes to the depot, the next one to the cache.
 */
Test(zone, frees_are_cached_again_once_the_reserve_is_full)
{
	struct xm_zone_stats s;
	void *v[64];
	uint32_t n;

	mk(2048, 40, 1, 4, 0);
	n = drain(v, 64, XM_NOWAIT);
	for (int i = 0; i < 4; i++)
		v[n++] = xm_zone_alloc(z, XM_NOWAIT | XM_USE_RESERVE);
	cr_assert_eq(st().reserve, 0);
	s = st();
	for (int i = 1; i <= 4; i++) {
		xm_zone_free(z, v[--n]);
		cr_expect_eq(st().reserve, (uint64_t)i);
		cr_expect_eq(st().cached, s.cached, "free %d was cached while "
			     "the reserve was short", i);
	}
	xm_zone_free(z, v[--n]);
	cr_expect_eq(st().cached, s.cached + 1, "with the reserve full, a "
		     "free goes to the thread's cache");
	cr_expect_eq(st().reserve, 4);
	xm_zone_free_bulk(z, v, n);
	audit_clean(0);
}

/*
 * A WAITOK sleeper makes frees go straight to the depot, where it can
 * get them; once it has been served, frees are cached again.
 */
Test(zone, frees_are_cached_again_after_a_sleeper_is_served)
{
	struct waiter w = { 0 };
	struct xm_zone_stats s;
	void *v[64];
	uint32_t n;
	pthread_t t;

	mk(2048, 40, 1, 4, 0);
	n = drain(v, 64, XM_NOWAIT);
	cr_assert_eq(n, 36);
	w.z = z;
	cr_assert_eq(pthread_create(&t, NULL, wait_one, &w), 0);
	until_sleeps(1);
	xm_zone_free(z, v[--n]);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_not_null(w.item);
	v[n++] = w.item;
	s = st();
	xm_zone_free(z, v[--n]);
	cr_expect_eq(st().cached, s.cached + 1, "a free after the sleeper "
		     "left went to the depot, not the cache");
	xm_zone_free_bulk(z, v, n);
	audit_clean(0);
}

/* A bulk request for the whole carved capacity is not too large. */
Test(zone, bulk_of_the_whole_capacity)
{
	void *v[41];

	mk(2048, 40, 1, 4, 0);	/* capacity 40 */
	cr_expect_eq(xm_zone_alloc_bulk(z, v, 41, XM_NOWAIT | XM_USE_RESERVE),
		     -EINVAL, "more than the capacity");
	cr_assert_eq(xm_zone_alloc_bulk(z, v, 40, XM_NOWAIT | XM_USE_RESERVE),
		     0, "the whole capacity, reserve included");
	audit_clean(40);
	xm_zone_free_bulk(z, v, 40);
	audit_clean(0);
}

SIZE_PARAMS(bulk_is_all_or_nothing)
ParameterizedTest(uint32_t *size, zone, bulk_is_all_or_nothing)
{
	struct xm_zone_stats before, after;
	void *v[64], *sentinel = (void *)0x1234;
	uint32_t avail;

	mk(*size, 40, 2, 0, 0);	/* capacity 80: n = 41 is not EINVAL */
	avail = 40 - (uint32_t)st().reserve;
	/* Some items in this thread's cache, some in the keg. */
	cr_assert_eq(xm_zone_alloc_bulk(z, v, 5, XM_NOWAIT), 0);
	xm_zone_free_bulk(z, v, 5);
	for (int i = 0; i < 64; i++)
		v[i] = sentinel;
	before = st();
	cr_expect_eq(xm_zone_alloc_bulk(z, v, avail + 1, XM_NOWAIT),
		     -ENOBUFS);
	after = st();
	for (int i = 0; i < 64; i++)
		cr_assert_eq(v[i], sentinel, "items[%d] written", i);
	cr_expect_eq(after.used, before.used);
	cr_expect_eq(after.free, before.free);
	cr_expect_eq(after.cached, before.cached);
	cr_expect_eq(after.reserve, before.reserve);
	cr_expect_eq(after.failures, before.failures + avail + 1,
		     "failures %lu -> %lu", (unsigned long)before.failures,
		     (unsigned long)after.failures);
	audit_clean(0);

	cr_expect_eq(xm_zone_alloc_bulk(z, v, avail, XM_NOWAIT), 0);
	for (uint32_t i = 0; i < avail; i++) {
		cr_assert(xm_zone_owns(z, v[i]));
		for (uint32_t j = 0; j < i; j++)
			cr_assert_neq(v[i], v[j]);
	}
	cr_expect_eq(xm_zone_alloc_bulk(z, &v[avail], 1, XM_NOWAIT),
		     -ENOBUFS);
	cr_expect_eq(st().used, avail);
	audit_clean(avail);
	xm_zone_free_bulk(z, v, avail);
	cr_expect_eq(st().used, 0);
	audit_clean(0);
}

Test(zone, bulk_larger_than_buckets)
{
	void *v[600];

	mk(2048, 600, 1, 0, 8);
	cr_expect_eq(xm_zone_alloc_bulk(z, v, 500, XM_NOWAIT), 0);
	audit_clean(500);
	xm_zone_free_bulk(z, v, 500);
	audit_clean(0);
	cr_expect_eq(st().cached, 16);
	cr_expect_eq(xm_zone_alloc_bulk(z, v, 100, XM_NOWAIT), 0);
	xm_zone_free_bulk(z, v, 37);
	xm_zone_free_bulk(z, &v[37], 63);
	audit_clean(0);
}

Test(zone, bad_arguments)
{
	void *v[4];

	mk(2048, 16, 1, 0, 0);
	errno = 0;
	cr_expect_null(xm_zone_alloc(NULL, XM_NOWAIT));
	cr_expect_eq(errno, EINVAL);
	cr_expect_null(xm_zone_alloc(z, 0));
	cr_expect_null(xm_zone_alloc(z, XM_NOWAIT | XM_WAITOK));
	cr_expect_null(xm_zone_alloc(z, XM_USE_RESERVE));
	cr_expect_null(xm_zone_alloc(z, 0x8 | XM_NOWAIT));
	cr_expect_null(xm_zone_alloc(z, -1));
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(xm_zone_alloc_bulk(NULL, v, 1, XM_NOWAIT), -EINVAL);
	cr_expect_eq(xm_zone_alloc_bulk(z, NULL, 1, XM_NOWAIT), -EINVAL);
	cr_expect_eq(xm_zone_alloc_bulk(z, v, 1, 0), -EINVAL);
	cr_expect_eq(xm_zone_alloc_bulk(z, v, 17, XM_NOWAIT), -EINVAL);
	cr_expect_eq(xm_zone_alloc_bulk(z, v, 0, XM_NOWAIT), 0);
	cr_expect_eq(xm_zone_alloc_bulk(z, NULL, 0, XM_NOWAIT), 0);
	xm_zone_free_bulk(z, v, 0);
	cr_expect_eq(xm_zone_stats(NULL, NULL), -EINVAL);
	cr_expect_eq(xm_zone_stats(z, NULL), -EINVAL);
	cr_expect_eq(xm_zone_audit(NULL, NULL), -EINVAL);
	cr_expect_eq(xm_zone_audit(z, NULL), -EINVAL);
	cr_expect_eq(xm_umem_audit(NULL, NULL), -EINVAL);
	cr_expect_not(xm_zone_owns(NULL, v));
	cr_expect_not(xm_zone_owns(z, NULL));
	cr_expect_not(xm_zone_owns(z, z->uz_base + z->uz_span));
	cr_expect_not(xm_zone_owns(z, z->uz_base - z->uz_stride));
	cr_expect_eq(st().requests, 0);
	xm_zone_cache_flush(NULL);
	xm_umem_cache_flush(NULL);
}

/* The figures after a known sequence, bucket by bucket. */
Test(zone, stats_are_exact)
{
	struct xm_zone_stats s;
	void *v[64];
	uint32_t n;

	mk(2048, 40, 1, 0, 8);	/* reserve 40/32 = 1 */
	s = st();
	cr_expect_str_eq(s.name, "mbuf_cluster");
	cr_expect_eq(s.size, 2048);
	cr_expect_eq(s.limit, 40);
	cr_expect_eq(s.capacity, 40);
	cr_expect_eq(s.used, 0);
	cr_expect_eq(s.free, 40);
	cr_expect_eq(s.cached, 0);
	cr_expect_eq(s.reserve, 1);

	for (int i = 0; i < 10; i++)
		v[i] = xm_zone_alloc(z, XM_NOWAIT);
	for (int i = 0; i < 4; i++)
		xm_zone_free(z, v[9 - i]);
	/* Two buckets of 8 created; 6 held; 10 back in the cache. */
	s = st();
	cr_expect_eq(s.used, 6);
	cr_expect_eq(s.cached, 10);
	cr_expect_eq(s.free, 1 + 40 - 17);
	cr_expect_eq(s.requests, 10);
	cr_expect_eq(s.failures, 0);
	cr_expect_eq(s.used + s.cached + s.free, s.limit);

	xm_zone_cache_flush(z);
	s = st();
	cr_expect_eq(s.cached, 0);
	cr_expect_eq(s.free, 34);
	cr_expect_eq(s.reserve, 1);

	n = 6 + drain(&v[6], 58, XM_NOWAIT);
	cr_expect_eq(n, 39);
	s = st();
	cr_expect_eq(s.used, 39);
	cr_expect_eq(s.free, 1);
	cr_expect_eq(s.requests, 10 + 33 + 1);
	cr_expect_eq(s.failures, 1);
	cr_expect_eq(s.sleeps, 0);
	xm_zone_free_bulk(z, v, 6);
	xm_zone_free_bulk(z, &v[6], n - 6);
	s = st();
	cr_expect_eq(s.used, 0);
	cr_expect_eq(s.used + s.cached + s.free, s.limit);
	audit_clean(0);
}

static char *print_to_string(int (*fn)(struct xm_umem *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(fn(u, f), 0);
	fclose(f);
	return buf;
}

Test(zone, printers)
{
	void *v[3], *m;
	char *out;
	FILE *ro;

	mk(2048, 40, 1, 0, 0);
	for (int i = 0; i < 3; i++)
		cr_assert_not_null(v[i] = xm_zone_alloc(z, XM_NOWAIT));
	m = xm_zone_alloc(xm_umem_zone(u, XM_ZONE_MBUF), XM_NOWAIT);
	cr_assert_not_null(m);

	out = print_to_string(xm_umem_print_zones);
	cr_expect_not_null(strstr(out, "ITEM"), "%s", out);
	cr_expect_not_null(strstr(out, "SIZE"));
	cr_expect_not_null(strstr(out, "CACHED"));
	cr_expect_not_null(strstr(out, "SLEEP"));
	/* used 3, free 0 + 1 reserve, cached 36 (one 64-bucket fill). */
	cr_expect_not_null(strstr(out, "mbuf_cluster:       2048,"
				  "       40,        3,        1,       36,"
				  "           3,       0,     0\n"), "%s", out);
	cr_expect_not_null(strstr(out, "mbuf_jumbo_16k:"), "%s", out);
	cr_expect_not_null(strstr(out, "\nmbuf:"), "%s", out);
	free(out);

	out = print_to_string(xm_umem_print_summary);
	cr_expect_not_null(strstr(out, "1/63/64 mbufs in use "
				  "(current/cache/total)\n"), "%s", out);
	cr_expect_not_null(strstr(out, "3/37/40/40 mbuf clusters in use "
				  "(current/cache/total/max)\n"), "%s", out);
	cr_expect_not_null(strstr(out, "0/0/0/16 4k (page size) jumbo "
				  "clusters in use"), "%s", out);
	cr_expect_not_null(strstr(out, "0/0/0/16 16k jumbo clusters"),
			   "%s", out);
	cr_expect_not_null(strstr(out, "6K/81K/88K bytes allocated to "
				  "network (current/cache/total)\n"),
			   "%s", out);
	cr_expect_not_null(strstr(out, "0/0 requests for mbufs denied"),
			   "%s", out);
	free(out);

	cr_expect_eq(xm_umem_print_zones(NULL, stdout), -EINVAL);
	cr_expect_eq(xm_umem_print_zones(u, NULL), -EINVAL);
	cr_expect_eq(xm_umem_print_summary(u, NULL), -EINVAL);
	ro = fopen("/dev/null", "r");
	cr_assert_not_null(ro);
	cr_expect_eq(xm_umem_print_zones(u, ro), -EIO);
	cr_expect_eq(xm_umem_print_summary(u, ro), -EIO);
	fclose(ro);
}

/* The audit must catch what it exists to catch. */
Test(zone, audit_finds_damage)
{
	struct xm_zone_audit a;
	void *v[4];
	uint64_t held;

	mk(2048, 40, 1, 0, 8);
	for (int i = 0; i < 4; i++)
		v[i] = xm_zone_alloc(z, XM_NOWAIT);
	xm_zone_free(z, v[3]);
	xm_zone_cache_flush(z);
	cr_expect_eq(xm_umem_audit(u, &held), 0);
	cr_expect_eq(held, 3);

	/* The same item twice in the depot. */
	pthread_mutex_lock(&z->uz_lock);
	z->uz_stack[z->uz_stack_cnt++] = v[3];
	pthread_mutex_unlock(&z->uz_lock);
	cr_expect_eq(xm_zone_audit(z, &a), -EUCLEAN);
	cr_expect_eq(a.duplicates, 1);
	cr_expect_eq(xm_umem_audit(u, &held), -EUCLEAN);
	cr_expect_eq(xm_warns_n, 1);
	/* Something that is not an item. */
	pthread_mutex_lock(&z->uz_lock);
	z->uz_stack[z->uz_stack_cnt - 1] = (char *)v[0] + 8;
	pthread_mutex_unlock(&z->uz_lock);
	cr_expect_eq(xm_zone_audit(z, &a), -EUCLEAN);
	cr_expect_eq(a.foreign, 1);
	cr_expect_eq(a.duplicates, 0);
	/* An item the keg never created. */
	pthread_mutex_lock(&z->uz_lock);
	z->uz_stack[z->uz_stack_cnt - 1] = _xm_zone_item(z, 39);
	pthread_mutex_unlock(&z->uz_lock);
	cr_expect_eq(xm_zone_audit(z, &a), -EUCLEAN);
	cr_expect_eq(a.foreign, 1);
	pthread_mutex_lock(&z->uz_lock);
	z->uz_stack_cnt--;
	/* Counters that disagree with what was found. */
	z->uz_allocs++;
	pthread_mutex_unlock(&z->uz_lock);
	cr_expect_eq(xm_zone_audit(z, &a), -EUCLEAN);
	cr_expect_eq(a.mismatches, 1);
	pthread_mutex_lock(&z->uz_lock);
	z->uz_allocs--;
	pthread_mutex_unlock(&z->uz_lock);
	cr_expect_eq(xm_zone_audit(z, &a), 0);
	cr_expect_eq(a.capacity, 40);
	cr_expect_eq(a.held, 3);
	cr_expect_eq(a.reserve, 1);
	cr_expect_eq(a.depot + a.cached + a.unborn, 36);
}

Test(zone, fail_injection)
{
	struct hook_state h = { 0 };
	void *v[8];

	mk(2048, 40, 1, 0, 0);
	cr_assert_eq(xm_umem_reclaim_register(u, hook_count, &h), 0);
#ifdef INVARIANTS
	_xm_fail_inject(2, 3);
	cr_expect_not_null(v[0] = xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_not_null(v[1] = xm_zone_alloc(z, XM_NOWAIT));
	for (int i = 0; i < 3; i++) {
		errno = 0;
		cr_expect_null(xm_zone_alloc(z, XM_WAITOK), "step %d", i);
		cr_expect_eq(errno, ENOBUFS);
	}
	cr_expect_not_null(v[2] = xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_eq(xm_warns_n, 0, "%s", xm_warns_text);
	cr_expect_eq(h.calls, 0);
	cr_expect_eq(st().failures, 3);
	/* A bulk request is one allocation. */
	_xm_fail_inject(0, 1);
	cr_expect_eq(xm_zone_alloc_bulk(z, &v[3], 4, XM_NOWAIT), -ENOBUFS);
	cr_expect_eq(xm_zone_alloc_bulk(z, &v[3], 4, XM_NOWAIT), 0);
	cr_expect_eq(st().failures, 7);
	/* Turned off. */
	_xm_fail_inject(0, 5);
	_xm_fail_inject(-1, 0);
	cr_expect_not_null(v[7] = xm_zone_alloc(z, XM_NOWAIT));
	cr_expect_not(_xm_fail_now());
	_xm_fail_inject(1, 1);
	cr_expect_not(_xm_fail_now());
	cr_expect(_xm_fail_now());
	cr_expect_not(_xm_fail_now());
	audit_clean(8);
#else
	/* Release builds never fail on purpose. */
	_xm_fail_inject(0, 5);
	cr_expect_not(_xm_fail_now());
	cr_expect_not_null(v[0] = xm_zone_alloc(z, XM_NOWAIT));
	audit_clean(1);
#endif
}
