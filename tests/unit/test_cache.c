/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cache.c - per-thread caches: items freed on another thread, thread
 * exit, flushing, zone destruction while other threads hold caches, more
 * zones than cache slots, and a multi-threaded producer/consumer stress
 * that must end with every item accounted for exactly once.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	xm_umem_destroy(u);
	u = NULL;
}

TestSuite(cache, .init = setup, .fini = teardown, .timeout = 30);

static struct xm_umem *mk_umem(uint32_t limit, uint32_t bucket)
{
	XM_OPTS(xm_umem_opts, o, .nmbclusters = limit, .nmbjumbop = limit,
		.nmbjumbo9 = limit, .nmbjumbo16 = limit, .nmbufs = 4 * limit,
		.bucket_size = bucket, .reserve = { 1, 1, 1, 1, 1 },
		.flags = XM_UMEM_F_NO_HUGEPAGES);
	struct xm_umem *m = xm_umem_create(&o);

	cr_assert_not_null(m, "create: %s", strerror(errno));
	return m;
}

static struct xm_zone_stats st(struct xm_zone *zz)
{
	struct xm_zone_stats s;

	cr_assert_eq(xm_zone_stats(zz, &s), 0);
	return s;
}

static void audit_clean(struct xm_zone *zz, uint64_t held)
{
	struct xm_zone_audit a;
	int rc = xm_zone_audit(zz, &a);

	cr_expect_eq(rc, 0, "%s: audit %d: dup %lu foreign %lu mismatch %lu",
		     xm_zone_name(zz), rc, (unsigned long)a.duplicates,
		     (unsigned long)a.foreign, (unsigned long)a.mismatches);
	cr_expect_eq(a.held, held, "%s: held %lu, expected %lu",
		     xm_zone_name(zz), (unsigned long)a.held,
		     (unsigned long)held);
}

/* A two-party rendezvous: step n happens after the other side's n-1. */
struct baton {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int step;
};

static void baton_pass(struct baton *b, int step)
{
	pthread_mutex_lock(&b->lock);
	b->step = step;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->lock);
}

static void baton_wait(struct baton *b, int step)
{
	pthread_mutex_lock(&b->lock);
	while (b->step < step)
		pthread_cond_wait(&b->cv, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

struct worker {
	struct baton b;
	struct xm_zone *z;
	void *items[64];
	unsigned int n;
};

static void *cache_then_exit(void *arg)
{
	struct worker *w = arg;

	for (unsigned int i = 0; i < w->n; i++)
		w->items[i] = xm_zone_alloc(w->z, XM_NOWAIT);
	for (unsigned int i = 0; i < w->n; i++)
		xm_zone_free(w->z, w->items[i]);
	baton_pass(&w->b, 1);
	baton_wait(&w->b, 2);
	return NULL;
}

Test(cache, thread_exit_flushes_its_cache)
{
	struct worker w = {
		.b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER },
		.n = 10,
	};
	pthread_t t;

	u = mk_umem(256, 16);
	z = w.z = xm_umem_zone(u, XM_ZONE_JUMBOP);
	cr_assert_eq(pthread_create(&t, NULL, cache_then_exit, &w), 0);
	baton_wait(&w.b, 1);
	/* One bucket of 16 was created; all 16 sit in the thread's cache. */
	cr_expect_eq(st(z).cached, 16);
	cr_expect_eq(st(z).used, 0);
	audit_clean(z, 0);
	baton_pass(&w.b, 2);
	pthread_join(t, NULL);
	cr_expect_eq(st(z).cached, 0);
	cr_expect_eq(st(z).free, 256);
	cr_expect_eq(st(z).requests, 10);
	audit_clean(z, 0);
}

static void *free_all(void *arg)
{
	struct worker *w = arg;

	for (unsigned int i = 0; i < w->n; i++)
		xm_zone_free(w->z, w->items[i]);
	baton_pass(&w->b, 1);
	baton_wait(&w->b, 2);
	return NULL;
}

/* A frame freed on another thread lands in that thread's cache. */
Test(cache, frees_from_another_thread_come_home)
{
	struct worker w = {
		.b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER },
		.n = 40,
	};
	void *v[256];
	uint32_t n = 0;
	pthread_t t;

	u = mk_umem(256, 16);
	z = w.z = xm_umem_zone(u, XM_ZONE_CLUST);
	cr_assert_eq(xm_zone_alloc_bulk(z, w.items, w.n, XM_NOWAIT), 0);
	cr_assert_eq(pthread_create(&t, NULL, free_all, &w), 0);
	baton_wait(&w.b, 1);
	cr_expect_eq(st(z).used, 0);
	/*
	 * Buckets of 16: the third full bucket pushed the spare (16) to
	 * the depot; 16 + 8 stay in the freeing thread's cache.
	 */
	cr_expect_eq(st(z).cached, 24);
	audit_clean(z, 0);
	baton_pass(&w.b, 2);
	pthread_join(t, NULL);
	cr_expect_eq(st(z).cached, 0);
	/* Everything is reachable again from here. */
	while (n < 256 && (v[n] = xm_zone_alloc(z, XM_NOWAIT)) != NULL)
		n++;
	cr_expect_eq(n, 255);
	audit_clean(z, 255);
	xm_zone_free_bulk(z, v, n);
	audit_clean(z, 0);
}

Test(cache, flush_hands_items_to_the_depot)
{
	void *v[20];

	u = mk_umem(256, 8);
	for (int id = 0; id < XM_ZONE_MAX; id++) {
		z = xm_umem_zone(u, (enum xm_zone_id)id);
		cr_assert_eq(xm_zone_alloc_bulk(z, v, 20, XM_NOWAIT), 0);
		xm_zone_free_bulk(z, v, 20);
		cr_expect_gt(st(z).cached, 0);
	}
	z = xm_umem_zone(u, XM_ZONE_CLUST);
	xm_zone_cache_flush(z);
	cr_expect_eq(st(z).cached, 0);
	cr_expect_gt(st(xm_umem_zone(u, XM_ZONE_MBUF)).cached, 0);
	xm_umem_cache_flush(u);
	for (int id = 0; id < XM_ZONE_MAX; id++) {
		z = xm_umem_zone(u, (enum xm_zone_id)id);
		cr_expect_eq(st(z).cached, 0, "%s", xm_zone_name(z));
		cr_expect_eq(st(z).free, 256 * (id == XM_ZONE_MBUF ? 4 : 1));
		audit_clean(z, 0);
	}
	/* Flushing a cache this thread never made is harmless. */
	xm_umem_cache_flush(u);
}

struct survivor {
	struct baton b;
	struct xm_umem *old_umem;
	struct xm_umem *new_umem;
	int ok;
};

static void *outlive_the_umem(void *arg)
{
	struct survivor *s = arg;
	struct xm_zone *zz;
	void *p;

	for (int id = 0; id < XM_ZONE_MAX; id++) {
		zz = xm_umem_zone(s->old_umem, (enum xm_zone_id)id);
		p = xm_zone_alloc(zz, XM_NOWAIT);
		xm_zone_free(zz, p);
	}
	baton_pass(&s->b, 1);
	baton_wait(&s->b, 2);
	/* The old umem is gone; a new one likely reuses the same slots. */
	if (s->new_umem != NULL) {
		zz = xm_umem_zone(s->new_umem, XM_ZONE_CLUST);
		p = xm_zone_alloc(zz, XM_NOWAIT);
		s->ok = p != NULL && xm_zone_owns(zz, p);
		xm_zone_free(zz, p);
	}
	return NULL;
}

/*
 * Destroy with another thread's caches live; that thread then exits.
 * Its caches held items when the umem went (the audit counted them);
 * its exit must then leave the registry sound: a new umem gets the same
 * cache slots back, caches work on it (on this thread and on one that
 * exits), and every item is accounted for.
 */
Test(cache, destroy_while_another_thread_holds_caches)
{
	struct survivor s = {
		.b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER },
	};
	struct worker w = {
		.b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER },
		.n = 5,
	};
	uint32_t slot[XM_ZONE_MAX];
	struct xm_zone *zz;
	pthread_t t;
	void *p;

	s.old_umem = mk_umem(64, 8);
	cr_assert_eq(pthread_create(&t, NULL, outlive_the_umem, &s), 0);
	baton_wait(&s.b, 1);
	for (int id = 0; id < XM_ZONE_MAX; id++) {
		zz = xm_umem_zone(s.old_umem, (enum xm_zone_id)id);
		slot[id] = zz->uz_slot;
		cr_assert_neq(slot[id], 0, "%s: no cache slot: test is moot",
			      xm_zone_name(zz));
		cr_expect_geq(st(zz).cached, 1, "%s: the other thread's "
			      "cache holds its item", xm_zone_name(zz));
		cr_expect_eq(st(zz).used, 0);
		audit_clean(zz, 0);
	}
	xm_umem_destroy(s.old_umem);
	baton_pass(&s.b, 2);
	cr_assert_eq(pthread_join(t, NULL), 0);

	u = mk_umem(64, 8);
	for (int id = 0; id < XM_ZONE_MAX; id++) {
		zz = xm_umem_zone(u, (enum xm_zone_id)id);
		cr_expect_eq(zz->uz_slot, slot[id], "%s: slot not given back",
			     xm_zone_name(zz));
		p = xm_zone_alloc(zz, XM_NOWAIT);
		cr_assert_not_null(p);
		cr_expect(xm_zone_owns(zz, p));
		xm_zone_free(zz, p);
		cr_expect_geq(st(zz).cached, 1, "%s: this thread caches",
			      xm_zone_name(zz));
	}
	z = w.z = xm_umem_zone(u, XM_ZONE_CLUST);
	cr_assert_eq(pthread_create(&t, NULL, cache_then_exit, &w), 0);
	baton_wait(&w.b, 1);
	baton_pass(&w.b, 2);
	cr_assert_eq(pthread_join(t, NULL), 0);
	xm_umem_cache_flush(u);
	for (int id = 0; id < XM_ZONE_MAX; id++) {
		zz = xm_umem_zone(u, (enum xm_zone_id)id);
		cr_expect_eq(st(zz).cached, 0, "%s", xm_zone_name(zz));
		audit_clean(zz, 0);
	}
}

Test(cache, slot_reused_after_destroy_is_not_confused)
{
	struct survivor s = {
		.b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER },
	};
	pthread_t t;
	uint32_t old_slot;

	s.old_umem = mk_umem(64, 8);
	old_slot = xm_umem_zone(s.old_umem, XM_ZONE_CLUST)->uz_slot;
	cr_assert_eq(pthread_create(&t, NULL, outlive_the_umem, &s), 0);
	baton_wait(&s.b, 1);
	xm_umem_destroy(s.old_umem);
	u = s.new_umem = mk_umem(64, 8);
	z = xm_umem_zone(u, XM_ZONE_CLUST);
	cr_expect_eq(z->uz_slot, old_slot, "slot not reused: test is moot");
	baton_pass(&s.b, 2);
	pthread_join(t, NULL);
	cr_expect(s.ok);
	/* The thread's item came back through its new cache at exit. */
	cr_expect_eq(st(z).cached, 0);
	cr_expect_eq(st(z).used, 0);
	audit_clean(z, 0);
}

Test(cache, more_zones_than_slots_run_uncached)
{
	struct xm_umem *m[8];
	void *v[10], *p;

	for (int i = 0; i < 8; i++)
		m[i] = mk_umem(64, 8);
	cr_expect_eq(xm_warns_n, 1, "%s", xm_warns_text);
	cr_expect_not_null(strstr(xm_warns_text, "without thread caches"));
	cr_expect_eq(xm_umem_zone(m[7], XM_ZONE_MBUF)->uz_slot, 0);
	for (int i = 0; i < 8; i++) {
		for (int id = 0; id < XM_ZONE_MAX; id++) {
			z = xm_umem_zone(m[i], (enum xm_zone_id)id);
			cr_assert_eq(xm_zone_alloc_bulk(z, v, 10, XM_NOWAIT),
				     0);
			p = xm_zone_alloc(z, XM_NOWAIT);
			cr_assert_not_null(p);
			xm_zone_free(z, p);
			xm_zone_free_bulk(z, v, 10);
			audit_clean(z, 0);
			cr_expect_eq(st(z).used, 0);
			cr_expect_eq(st(z).requests, 11);
		}
	}
	for (int i = 0; i < 8; i++)
		xm_umem_destroy(m[i]);
	/* Slots come back. */
	u = mk_umem(64, 8);
	cr_expect_neq(xm_umem_zone(u, XM_ZONE_MBUF)->uz_slot, 0);
}

Test(cache, bucket_of_one)
{
	void *v[32];

	u = mk_umem(64, 1);
	z = xm_umem_zone(u, XM_ZONE_JUMBO9);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 32; i++)
			cr_assert_not_null(v[i] = xm_zone_alloc(z, XM_NOWAIT));
		for (int i = 0; i < 32; i += 2)
			xm_zone_free(z, v[i]);
		for (int i = 1; i < 32; i += 2)
			xm_zone_free(z, v[i]);
	}
	cr_expect_leq(st(z).cached, 2);
	cr_assert_eq(xm_zone_alloc_bulk(z, v, 32, XM_NOWAIT), 0);
	xm_zone_free_bulk(z, v, 32);
	audit_clean(z, 0);
}

/*
 * The per-thread hint (zone used last -> its TLS slot) may name a slot
 * that is not the zone's, as when a destroyed zone's memory is reused by
 * a new zone registered in another slot.  Such a hint must send the call
 * to the slow path, which puts it right, and never touch the other
 * slot's cache.
 */
static void make_hint_stale(struct xm_zone *zz, struct xm_zone *other)
{
	_xm_tls_hint.th_zone = zz;
	_xm_tls_hint.th_slot = &_xm_tls[other->uz_slot];
}

Test(cache, stale_hint_is_not_trusted)
{
	struct xm_zone *other;
	struct xm_bucket *ob;
	uint32_t ocnt;
	void *item;

	u = mk_umem(64, 8);
	z = xm_umem_zone(u, XM_ZONE_CLUST);
	other = xm_umem_zone(u, XM_ZONE_JUMBOP);
	cr_assert_neq(z->uz_slot, other->uz_slot);
	/* This thread gets a cache of each zone, a few items in each. */
	xm_zone_free(other, xm_zone_alloc(other, XM_NOWAIT));
	xm_zone_free(z, xm_zone_alloc(z, XM_NOWAIT));
	ob = _xm_tls[other->uz_slot].ts_bucket;
	ocnt = ob->ub_cnt;
	cr_assert_gt(ocnt, 0);

	make_hint_stale(z, other);
	item = xm_zone_alloc(z, XM_NOWAIT);
	cr_assert(xm_zone_owns(z, item), "%p is not of %s", item,
		  xm_zone_name(z));
	cr_expect_eq(_xm_tls_hint.th_slot, &_xm_tls[z->uz_slot]);
	cr_expect_eq(ob->ub_cnt, ocnt, "the other zone's cache was used");

	make_hint_stale(z, other);
	xm_zone_free(z, item);
	cr_expect_eq(_xm_tls_hint.th_slot, &_xm_tls[z->uz_slot]);
	cr_expect_eq(ob->ub_cnt, ocnt, "freed into the other zone's cache");
	cr_expect_gt(st(z).cached, 0, "the free went to z's own cache");
	audit_clean(z, 0);
	audit_clean(other, 0);
}

/*
 * The TLS slot keeps the loaded bucket itself: it must follow every
 * exchange of the loaded and spare buckets, in both directions.
 */
Test(cache, slot_follows_bucket_swaps)
{
	enum { B = 4, N = 3 * B };
	struct xm_tls_slot *e;
	struct xm_cache *c;
	void *v[N];

	u = mk_umem(64, B);
	z = xm_umem_zone(u, XM_ZONE_CLUST);
	e = &_xm_tls[z->uz_slot];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			cr_assert_not_null(v[i] = xm_zone_alloc(z, XM_NOWAIT));
			c = e->ts_cache;
			cr_assert_eq(e->ts_bucket, c->c_alloc, "alloc %d", i);
		}
		for (int i = 0; i < N; i++) {
			xm_zone_free(z, v[i]);
			c = e->ts_cache;
			cr_assert_eq(e->ts_bucket, c->c_alloc, "free %d", i);
		}
	}
	audit_clean(z, 0);
}

/* ---------------------------------------------------------- stress */

#define QCAP	32

struct stress {
	struct xm_zone *z;
	int flags;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	void *q[QCAP];
	unsigned int qhead, qlen;
	int producers_left;
	volatile int stop;
	unsigned long produced, consumed;
};

static void q_put(struct stress *s, void *p)
{
	pthread_mutex_lock(&s->lock);
	while (s->qlen == QCAP)
		pthread_cond_wait(&s->cv, &s->lock);
	s->q[(s->qhead + s->qlen++) % QCAP] = p;
	s->produced++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

/* Returns NULL when producers are done and the queue is empty. */
static void *q_get(struct stress *s)
{
	void *p = NULL;

	pthread_mutex_lock(&s->lock);
	while (s->qlen == 0 && s->producers_left > 0)
		pthread_cond_wait(&s->cv, &s->lock);
	if (s->qlen != 0) {
		p = s->q[s->qhead];
		s->qhead = (s->qhead + 1) % QCAP;
		s->qlen--;
		s->consumed++;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->lock);
	return p;
}

static void *producer(void *arg)
{
	struct stress *s = arg;
	void *v[8];
	unsigned int r = 1;

	while (!s->stop) {
		r = r * 1103515245 + 12345;
		if (r & 0x100) {
			void *p = xm_zone_alloc(s->z, s->flags);

			if (p != NULL) {
				*(volatile char *)p = 1;
				q_put(s, p);
			}
		} else if (xm_zone_alloc_bulk(s->z, v, 1 + (r >> 20) % 8,
					      s->flags) == 0) {
			for (unsigned int i = 0; i < 1 + (r >> 20) % 8; i++)
				q_put(s, v[i]);
		}
		/* Local churn: alloc and free on the same thread. */
		if ((r & 0x3000) == 0) {
			void *p = xm_zone_alloc(s->z, s->flags);

			xm_zone_free(s->z, p);
		}
	}
	pthread_mutex_lock(&s->lock);
	s->producers_left--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void *consumer(void *arg)
{
	struct stress *s = arg;
	void *batch[8];
	unsigned int n = 0;
	void *p;

	while ((p = q_get(s)) != NULL) {
		batch[n++] = p;
		if (n == 8 || (((uintptr_t)p >> 11) & 1)) {
			if (n == 1)
				xm_zone_free(s->z, batch[0]);
			else
				xm_zone_free_bulk(s->z, batch, n);
			n = 0;
		}
	}
	xm_zone_free_bulk(s->z, batch, n);
	return NULL;
}

static void run_stress(uint32_t size, int flags, uint32_t limit,
		       unsigned int ms)
{
	static const struct { uint32_t size; enum xm_zone_id id; } ids[] = {
		{ 2048, XM_ZONE_CLUST }, { 4096, XM_ZONE_JUMBOP },
		{ 9216, XM_ZONE_JUMBO9 }, { 16384, XM_ZONE_JUMBO16 },
	};
	struct stress s = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cv = PTHREAD_COND_INITIALIZER,
		.producers_left = 2,
		.flags = flags,
	};
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };
	pthread_t t[4];
	uint64_t held;

	/*
	 * Consumers' caches (2 x 8 each) and batches in hand (7 each) can
	 * hide up to 46 items from a WAITOK sleeper: limit stays above.
	 */
	cr_assert_gt(limit, 2 * (16 + 7) + 1);
	u = mk_umem(limit, 8);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i].size == size)
			z = xm_umem_zone(u, ids[i].id);
	s.z = z;
	cr_assert_eq(pthread_create(&t[0], NULL, producer, &s), 0);
	cr_assert_eq(pthread_create(&t[1], NULL, producer, &s), 0);
	cr_assert_eq(pthread_create(&t[2], NULL, consumer, &s), 0);
	cr_assert_eq(pthread_create(&t[3], NULL, consumer, &s), 0);
	nanosleep(&ts, NULL);
	s.stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_log_info("%s: %lu items moved, %lu sleeps, %lu failures",
		    xm_zone_name(z), s.produced, (unsigned long)st(z).sleeps,
		    (unsigned long)st(z).failures);
	cr_expect_gt(s.produced, 100, "only %lu items moved", s.produced);
	cr_expect_eq(s.produced, s.consumed);
	/* Every thread exited: everything is back, each item once. */
	cr_expect_eq(st(z).used, 0);
	cr_expect_eq(st(z).cached, 0);
	cr_expect_eq(xm_umem_audit(u, &held), 0, "%s", xm_warns_text);
	cr_expect_eq(held, 0);
	audit_clean(z, 0);
}

ParameterizedTestParameters(cache, stress_nowait)
{
	static uint32_t sizes[] = { 2048, 4096, 9216, 16384 };

	return cr_make_param_array(uint32_t, sizes, 4);
}

ParameterizedTest(uint32_t *size, cache, stress_nowait)
{
	run_stress(*size, XM_NOWAIT, 64, 250);
}

Test(cache, stress_waitok)
{
	/* Few items for a queue of 32 and four caches: producers sleep. */
	run_stress(2048, XM_WAITOK, 64, 400);
	cr_expect_eq(st(z).failures, 0);
}
