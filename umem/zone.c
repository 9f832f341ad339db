/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zone.c - a zone's shared state: the keg, the depot and its reserve,
 * the limit, what happens at the limit, and the debug checks.
 *
 *   thread caches (cache.c)      whole buckets, under uz_lock
 *        |   ^                         |   ^
 *        v   |                         v   |
 *   +--------------------------------------------------+
 *   | uz_stack: [ reserve | depot ...........  ]  top  |   free items
 *   +--------------------------------------------------+
 *   | keg: items [uz_created, uz_limit) never created   |   unborn
 *   +--------------------------------------------------+
 *
 * An allocation that finds its cache empty takes a bucket's worth from
 * the depot (above the reserve), else creates a bucket's worth from the
 * keg.  When neither has anything, the zone is at its limit (UMA's
 * uz_max_items counts created items, so does uz_limit): a rate-limited
 * warning names the tunable, the umem's reclaim hooks run with no zone
 * lock held (mb_reclaim), the allocation is retried once, then XM_NOWAIT
 * fails with ENOBUFS and XM_WAITOK sleeps on uz_cv.  While anyone sleeps,
 * or while the reserve is below its target, frees bypass the caches
 * (uz_free_max is 0: no thread's bucket has room) and go straight to
 * the depot: a thread cache would hide the item from the sleeper, or
 * keep the reserve short.
 *
 * XXX: a WAITOK sleeper sees only the depot and the keg: items parked in
 * other threads' caches stay invisible until those threads free more
 * (their frees then go to the depot), flush, or exit.  A thread that
 * stops allocating for long should call xm_umem_cache_flush().  A bulk
 * WAITOK request for more than the limit can ever free sleeps forever.
 *
 * The emergency reserve (kern_mbuf.c's debugnet pools) is the bottom of
 * the stack: ordinary allocations stop above it, XM_USE_RESERVE may take
 * from it, and since frees push onto the same stack, they refill it first.
 *
 * INVARIANTS builds keep one state byte per item and poison freed items
 * (trash_dtor/trash_ctor): a double free, a foreign pointer or a write
 * after free panics, naming the zone.
 *
 * Bulk: xm_zone_alloc_bulk() takes all n items or none; on failure
 * (-ENOBUFS, -EINVAL) nothing is taken and items[] is not written.  It is
 * a memcpy when the calling thread's loaded bucket holds n.  Items come
 * out in no particular order.
 *
 * The per-thread caches in front of the depot are cache.c's; the zone
 * calls them, never the other way round (see there).
 *
 * KPI:
 *	xm_zone_alloc, xm_zone_free, xm_zone_alloc_bulk, xm_zone_free_bulk
 *	xm_zone_cache_flush, xm_umem_cache_flush
 *	xm_zone_name, xm_zone_size, xm_zone_id, xm_zone_owns
 *	xm_zone_get_max, xm_zone_set_max
 *	xm_umem_reclaim_register, xm_umem_reclaim_unregister
 * Hidden (tests): _xm_zone_stride.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xm_umem_int.h"

static const char *const zone_names[XM_ZONE_MAX] = {
	[XM_ZONE_CLUST] = "mbuf_cluster",
	[XM_ZONE_JUMBOP] = "mbuf_jumbo_page",
	[XM_ZONE_JUMBO9] = "mbuf_jumbo_9k",
	[XM_ZONE_JUMBO16] = "mbuf_jumbo_16k",
	[XM_ZONE_MBUF] = "mbuf",
};

static const char *const zone_tunables[XM_ZONE_MAX] = {
	[XM_ZONE_CLUST] = "nmbclusters",
	[XM_ZONE_JUMBOP] = "nmbjumbop",
	[XM_ZONE_JUMBO9] = "nmbjumbo9",
	[XM_ZONE_JUMBO16] = "nmbjumbo16",
	[XM_ZONE_MBUF] = "nmbufs",
};

/* ------------------------------------------------------ fail injection */

void _xm_zone_fail_injected(struct xm_zone *z, unsigned int n)
{
	atomic_fetch_add_explicit(&z->uz_failures, n, memory_order_relaxed);
}

/* -------------------------------------------------------- debug state */

#ifdef INVARIANTS
static void poison_item(const struct xm_zone *z, void *item)
{
	uint32_t *w = item;

	for (uint32_t i = 0; i < z->uz_size / 4; i++)
		w[i] = XM_POISON;
}

/* Byte offset of the first word that lost its poison, or -1. */
static long poison_damage(const struct xm_zone *z, const void *item)
{
	const uint32_t *w = item;

	for (uint32_t i = 0; i < z->uz_size / 4; i++)
		if (w[i] != XM_POISON)
			return (long)i * 4;
	return -1;
}
#endif

void _xm_zone_debug_alloc(struct xm_zone *z, void *item)
{
#ifdef INVARIANTS
	unsigned long long idx;
	uint8_t st;
	long bad;

	if (!_xm_zone_owns(z, item))
		_xm_panic("xmbuf: %s: free list holds foreign pointer %p\n",
			  z->uz_name, item);
	idx = _xm_zone_index(z, item);
	st = atomic_load_explicit(&z->uz_state[idx], memory_order_relaxed);
	XM_ASAN_UNPOISON(item, z->uz_size);
	if (st == XM_ITEM_FREE) {
		bad = poison_damage(z, item);
		if (bad >= 0)
			_xm_panic("xmbuf: %s: write after free of %p (item "
				  "%llu, byte %ld)\n", z->uz_name, item, idx,
				  bad);
	} else if (st != XM_ITEM_FRESH) {
		_xm_panic("xmbuf: %s: allocating %p (item %llu) that is not "
			  "free (state %u)\n", z->uz_name, item, idx, st);
	}
	atomic_store_explicit(&z->uz_state[idx], XM_ITEM_ALLOCATED,
			      memory_order_relaxed);
#else
	(void)z;
	(void)item;
#endif
}

void _xm_zone_debug_free(struct xm_zone *z, void *item)
{
#ifdef INVARIANTS
	unsigned long long idx;
	uint8_t old;

	if ((uint64_t)((char *)item - z->uz_base) >= z->uz_span)
		_xm_panic("xmbuf: %s: free of foreign pointer %p (outside "
			  "the zone)\n", z->uz_name, item);
	if (!_xm_zone_owns(z, item))
		_xm_panic("xmbuf: %s: free of foreign pointer %p (not an "
			  "item start)\n", z->uz_name, item);
	idx = _xm_zone_index(z, item);
	old = atomic_exchange(&z->uz_state[idx], XM_ITEM_FREE);
	if (old == XM_ITEM_FREE || old == XM_ITEM_FRESH)
		_xm_panic("xmbuf: %s: double free of %p (item %llu)\n",
			  z->uz_name, item, idx);
	if (old != XM_ITEM_ALLOCATED)
		_xm_panic("xmbuf: %s: free of never-allocated item %p (item "
			  "%llu)\n", z->uz_name, item, idx);
	poison_item(z, item);
	XM_ASAN_POISON(item, z->uz_size);
#else
	(void)z;
	(void)item;
#endif
}

/* ---------------------------------------------------------- the keg */

/*
 * Creates up to n items below the limit into dst, ordered so that
 * popping from the end hands out ascending addresses.  z locked.
 */
static uint32_t keg_create_locked(struct xm_zone *z, void **dst, uint32_t n)
{
	uint32_t limit = atomic_load_explicit(&z->uz_limit,
					      memory_order_relaxed);
	uint32_t avail = limit - z->uz_created;

	if (n > avail)
		n = avail;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t idx = z->uz_created + n - 1 - i;

		dst[i] = _xm_zone_item(z, idx);
#ifdef INVARIANTS
		atomic_store_explicit(&z->uz_state[idx], XM_ITEM_FRESH,
				      memory_order_relaxed);
#endif
	}
	z->uz_created += n;
	return n;
}

/* ---------------------------------------------------------- the depot */

static uint32_t depot_avail_locked(const struct xm_zone *z)
{
	return z->uz_stack_cnt > z->uz_reserve_target ?
	       z->uz_stack_cnt - z->uz_reserve_target : 0;
}

void _xm_zone_update_direct_locked(struct xm_zone *z)
{
	bool direct = z->uz_sleepers != 0 ||
		      z->uz_stack_cnt < z->uz_reserve_target;
	uint32_t max = direct ? 0 : z->uz_bucket_size;

	/* Store only on change: the line is read by every fast path. */
	if (atomic_load_explicit(&z->uz_free_max, memory_order_relaxed) !=
	    max)
		atomic_store_explicit(&z->uz_free_max, max,
				      memory_order_relaxed);
}

static void depot_push_locked(struct xm_zone *z, void *const *items,
			      uint32_t n)
{
	if (n > z->uz_capacity - z->uz_stack_cnt)
		_xm_panic("xmbuf: %s: more items freed than exist (double "
			  "free?)\n", z->uz_name);
	memcpy(&z->uz_stack[z->uz_stack_cnt], items, n * sizeof(void *));
	z->uz_stack_cnt += n;
	if (z->uz_sleepers != 0)
		pthread_cond_broadcast(&z->uz_cv);
	_xm_zone_update_direct_locked(z);
}

void _xm_zone_cache_drain_locked(struct xm_zone *z, struct xm_cache *c)
{
	depot_push_locked(z, c->c_alloc->ub_items, c->c_alloc->ub_cnt);
	c->c_alloc->ub_cnt = 0;
	depot_push_locked(z, c->c_free->ub_items, c->c_free->ub_cnt);
	c->c_free->ub_cnt = 0;
}

/*
 * The drain cache.c calls for a cache whose thread exits (z locked): its
 * items go back to the depot, its counts to the zone.
 */
static void zone_cache_retire_locked(struct xm_zone *z, struct xm_cache *c)
{
	_xm_zone_cache_drain_locked(z, c);
	z->uz_allocs += atomic_load(&c->c_allocs);
	z->uz_frees += atomic_load(&c->c_frees);
}

/* Refills an empty bucket from the depot, else from the keg. z locked. */
static bool zone_fill_locked(struct xm_zone *z, struct xm_bucket *b)
{
	uint32_t n = depot_avail_locked(z);

	if (n != 0) {
		if (n > z->uz_bucket_size)
			n = z->uz_bucket_size;
		z->uz_stack_cnt -= n;
		memcpy(b->ub_items, &z->uz_stack[z->uz_stack_cnt],
		       n * sizeof(void *));
		b->ub_cnt = n;
		return true;
	}
	b->ub_cnt = keg_create_locked(z, b->ub_items, z->uz_bucket_size);
	return b->ub_cnt != 0;
}

/* One item for an uncached allocation, or NULL at the limit. z locked. */
static void *zone_take_locked(struct xm_zone *z, int flags)
{
	void *item;

	if (z->uz_stack_cnt > z->uz_reserve_target)
		return z->uz_stack[--z->uz_stack_cnt];
	if (keg_create_locked(z, &item, 1) == 1)
		return item;
	if ((flags & XM_USE_RESERVE) && z->uz_stack_cnt != 0) {
		item = z->uz_stack[--z->uz_stack_cnt];
		_xm_zone_update_direct_locked(z);
		return item;
	}
	return NULL;
}

/* ------------------------------------------------------- at the limit */

/* Whether to warn now: at most once a second per zone.  z locked. */
static bool limit_warn_due_locked(struct xm_zone *z)
{
	struct timespec now;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (now.tv_sec - z->uz_warn_last.tv_sec) * 1000000000LL +
	     (now.tv_nsec - z->uz_warn_last.tv_nsec);
	if (z->uz_warned && ns < 1000000000LL)
		return false;
	z->uz_warned = true;
	z->uz_warn_last = now;
	return true;
}

static __thread bool xm_in_reclaim
	__attribute__((tls_model("initial-exec")));

/* Runs the reclaim hooks; never nested on one thread. */
static void umem_reclaim(struct xm_umem *u, struct xm_zone *z)
{
	if (xm_in_reclaim)
		return;
	xm_in_reclaim = true;
	pthread_mutex_lock(&u->u_hook_lock);
	for (uint32_t i = 0; i < u->u_nhooks; i++)
		u->u_hooks[i].rh_fn(u, z, u->u_hooks[i].rh_arg);
	pthread_mutex_unlock(&u->u_hook_lock);
	xm_in_reclaim = false;
}

/*
 * Called with z locked when nothing is left: warns, drops the lock for
 * the hooks, takes it again.  The caller retries once afterwards.
 */
static void zone_at_limit_locked(struct xm_zone *z)
{
	bool warn = limit_warn_due_locked(z);
	uint32_t limit = atomic_load_explicit(&z->uz_limit,
					      memory_order_relaxed);

	pthread_mutex_unlock(&z->uz_lock);
	if (warn)
		xm_pr_warn("%s limit reached (%u), see xm_zone_set_max\n",
			   z->uz_tunable, limit);
	umem_reclaim(z->uz_umem, z);
	pthread_mutex_lock(&z->uz_lock);
}

/* ---------------------------------------------- fast paths (the KPI) */

void *xm_zone_alloc(struct xm_zone *z, int flags)
{
	void *item;

	if (xm_unlikely(z == NULL || !_xm_alloc_flags_valid(flags))) {
		errno = EINVAL;
		return NULL;
	}
	if (xm_likely(_xm_zone_alloc_cached(z, &item)))
		return item;
	return _xm_zone_alloc_slow(z, flags);
}

void xm_zone_free(struct xm_zone *z, void *item)
{
	if (item == NULL)
		return;
	XM_ASSERT(z != NULL, ("xmbuf: xm_zone_free(NULL, %p)\n", item));
	if (xm_unlikely(!_xm_zone_free_cached(z, item)))
		_xm_zone_free_slow(z, item);
}

int xm_zone_alloc_bulk(struct xm_zone *z, void **items, unsigned int n,
		       int flags)
{
	struct xm_tls_slot *e;
	struct xm_bucket *b;
	struct xm_cache *c;

	if (xm_unlikely(z == NULL || (items == NULL && n != 0) ||
			!_xm_alloc_flags_valid(flags)))
		return -EINVAL;
	if (n == 0)
		return 0;
#ifdef INVARIANTS
	if (xm_unlikely(atomic_load_explicit(&_xm_fail_armed,
					     memory_order_relaxed)) &&
	    _xm_fail_now()) {
		_xm_zone_fail_injected(z, n);
		return -ENOBUFS;
	}
#endif
	e = _xm_tls_slot_of(z);
	if (xm_likely(e->ts_gen == z->uz_gen)) {
		c = e->ts_cache;
		b = e->ts_bucket;
		if (xm_likely(b->ub_cnt >= n)) {
			b->ub_cnt -= n;
			memcpy(items, &b->ub_items[b->ub_cnt],
			       n * sizeof(void *));
			_xm_counter_add(&c->c_allocs, n);
#ifdef INVARIANTS
			for (unsigned int i = 0; i < n; i++)
				_xm_zone_debug_alloc(z, items[i]);
#endif
			return 0;
		}
	}
	return _xm_zone_alloc_bulk_slow(z, items, n, flags);
}

void xm_zone_free_bulk(struct xm_zone *z, void *const *items, unsigned int n)
{
	struct xm_tls_slot *e;
	struct xm_bucket *b;
	struct xm_cache *c;

	if (n == 0)
		return;
	XM_ASSERT(z != NULL && items != NULL,
		  ("xmbuf: xm_zone_free_bulk(%p, %p, %u)\n", (void *)z,
		   (void *)items, n));
#ifdef INVARIANTS
	for (unsigned int i = 0; i < n; i++)
		_xm_zone_debug_free(z, items[i]);
#endif
	e = _xm_tls_slot_of(z);
	if (xm_likely(e->ts_gen == z->uz_gen)) {
		c = e->ts_cache;
		b = e->ts_bucket;
		/* Room for n, and frees not bypassing caches (max 0). */
		if (xm_likely((uint64_t)b->ub_cnt + n <=
			      atomic_load_explicit(&z->uz_free_max,
						   memory_order_relaxed))) {
			memcpy(&b->ub_items[b->ub_cnt], items,
			       n * sizeof(void *));
			b->ub_cnt += n;
			_xm_counter_add(&c->c_frees, n);
			return;
		}
	}
	_xm_zone_free_bulk_slow(z, items, n);
}

void xm_zone_cache_flush(struct xm_zone *z)
{
	struct xm_cache *c;

	if (z == NULL)
		return;
	c = _xm_cache_get(z, false);
	if (c == NULL)
		return;
	pthread_mutex_lock(&z->uz_lock);
	_xm_zone_cache_drain_locked(z, c);
	pthread_mutex_unlock(&z->uz_lock);
}

void xm_umem_cache_flush(struct xm_umem *u)
{
	if (u == NULL)
		return;
	for (int i = 0; i < XM_ZONE_MAX; i++)
		xm_zone_cache_flush(&u->u_zone[i]);
}

/* ------------------------------------------------------ slow paths */

static void *cache_pop(struct xm_cache *c)
{
	struct xm_bucket *b = c->c_alloc;

	_xm_counter_add(&c->c_allocs, 1);
	return b->ub_items[--b->ub_cnt];
}

void *_xm_zone_alloc_slow(struct xm_zone *z, int flags)
{
	struct xm_cache *c;
	bool retried = false;
	void *item;

#ifdef INVARIANTS
	/* The fast path defers to us while injection is armed. */
	if (xm_unlikely(atomic_load_explicit(&_xm_fail_armed,
					     memory_order_relaxed)) &&
	    _xm_fail_now()) {
		_xm_zone_fail_injected(z, 1);
		errno = ENOBUFS;
		return NULL;
	}
#endif
	c = _xm_cache_get(z, true);
	if (c != NULL) {
		if (c->c_alloc->ub_cnt == 0 && c->c_free->ub_cnt != 0)
			_xm_cache_swap(c);
		if (c->c_alloc->ub_cnt != 0)
			goto pop;
	}
	pthread_mutex_lock(&z->uz_lock);
	for (;;) {
		/*
		 * A reclaim hook may have freed into this thread's cache.
		 * While someone sleeps, take single items, not a bucket.
		 */
		if (c != NULL) {
			if (c->c_alloc->ub_cnt == 0 && c->c_free->ub_cnt != 0)
				_xm_cache_swap(c);
			if (c->c_alloc->ub_cnt != 0 ||
			    (z->uz_sleepers == 0 &&
			     zone_fill_locked(z, c->c_alloc))) {
				pthread_mutex_unlock(&z->uz_lock);
				goto pop;
			}
		}
		item = zone_take_locked(z, flags);
		if (item != NULL)
			goto took;
		if (retried)
			break;
		retried = true;
		zone_at_limit_locked(z);
	}
	if (!(flags & XM_WAITOK)) {
		atomic_fetch_add_explicit(&z->uz_failures, 1,
					  memory_order_relaxed);
		pthread_mutex_unlock(&z->uz_lock);
		errno = ENOBUFS;
		return NULL;
	}
	z->uz_sleeps++;
	z->uz_sleepers++;
	_xm_zone_update_direct_locked(z);
	while ((item = zone_take_locked(z, flags)) == NULL)
		pthread_cond_wait(&z->uz_cv, &z->uz_lock);
	z->uz_sleepers--;
	_xm_zone_update_direct_locked(z);
took:
	z->uz_allocs++;
	pthread_mutex_unlock(&z->uz_lock);
#ifdef INVARIANTS
	_xm_zone_debug_alloc(z, item);
#endif
	return item;
pop:
	item = cache_pop(c);
#ifdef INVARIANTS
	_xm_zone_debug_alloc(z, item);
#endif
	return item;
}

void _xm_zone_free_slow(struct xm_zone *z, void *item)
{
	struct xm_cache *c = NULL;

	if (!_xm_zone_direct(z))
		c = _xm_cache_get(z, true);
	if (c != NULL) {
		if (c->c_alloc->ub_cnt == z->uz_bucket_size) {
			if (c->c_free->ub_cnt != 0) {
				pthread_mutex_lock(&z->uz_lock);
				depot_push_locked(z, c->c_free->ub_items,
						  c->c_free->ub_cnt);
				pthread_mutex_unlock(&z->uz_lock);
				c->c_free->ub_cnt = 0;
			}
			_xm_cache_swap(c);
		}
		c->c_alloc->ub_items[c->c_alloc->ub_cnt++] = item;
		_xm_counter_add(&c->c_frees, 1);
		return;
	}
	pthread_mutex_lock(&z->uz_lock);
	depot_push_locked(z, &item, 1);
	z->uz_frees++;
	pthread_mutex_unlock(&z->uz_lock);
}

/* Takes n items (n <= both buckets' count) out of c. */
static void cache_take(struct xm_cache *c, void **items, uint32_t n)
{
	struct xm_bucket *b = c->c_alloc;
	uint32_t k = n < b->ub_cnt ? n : b->ub_cnt;

	b->ub_cnt -= k;
	memcpy(items, &b->ub_items[b->ub_cnt], k * sizeof(void *));
	if (k < n) {
		_xm_cache_swap(c);
		b = c->c_alloc;
		b->ub_cnt -= n - k;
		memcpy(items + k, &b->ub_items[b->ub_cnt],
		       (n - k) * sizeof(void *));
	}
}

/* Items a bulk request could get right now.  z locked. */
static uint64_t bulk_avail_locked(const struct xm_zone *z, uint32_t cached,
				  int flags)
{
	uint32_t limit = atomic_load_explicit(&z->uz_limit,
					      memory_order_relaxed);

	return (uint64_t)cached + (limit - z->uz_created) +
	       ((flags & XM_USE_RESERVE) ? z->uz_stack_cnt :
		depot_avail_locked(z));
}

int _xm_zone_alloc_bulk_slow(struct xm_zone *z, void **items, unsigned int n,
			     int flags)
{
	struct xm_cache *c = _xm_cache_get(z, true);
	uint32_t cached, from_cache, got, k;
	bool retried = false;

	if (n > z->uz_capacity)
		return -EINVAL;
	if (c != NULL) {
		cached = c->c_alloc->ub_cnt + c->c_free->ub_cnt;
		if (cached >= n) {
			cache_take(c, items, n);
			_xm_counter_add(&c->c_allocs, n);
			goto out;
		}
	}
	pthread_mutex_lock(&z->uz_lock);
	for (;;) {
		/* Recounted: a reclaim hook may have used this cache. */
		cached = c != NULL ? c->c_alloc->ub_cnt + c->c_free->ub_cnt : 0;
		if (bulk_avail_locked(z, cached, flags) >= n)
			break;
		if (!retried) {
			retried = true;
			zone_at_limit_locked(z);
			continue;
		}
		if (!(flags & XM_WAITOK)) {
			atomic_fetch_add_explicit(&z->uz_failures, n,
						  memory_order_relaxed);
			pthread_mutex_unlock(&z->uz_lock);
			return -ENOBUFS;
		}
		z->uz_sleeps++;
		z->uz_sleepers++;
		_xm_zone_update_direct_locked(z);
		while (bulk_avail_locked(z, cached, flags) < n)
			pthread_cond_wait(&z->uz_cv, &z->uz_lock);
		z->uz_sleepers--;
		_xm_zone_update_direct_locked(z);
		break;
	}
	/* Enough is there: the cache first, then depot, keg, reserve. */
	got = cached < n ? cached : n;
	from_cache = got;
	if (got != 0) {
		cache_take(c, items, got);
		_xm_counter_add(&c->c_allocs, got);
	}
	k = depot_avail_locked(z);
	if (k > n - got)
		k = n - got;
	z->uz_stack_cnt -= k;
	memcpy(items + got, &z->uz_stack[z->uz_stack_cnt], k * sizeof(void *));
	got += k;
	got += keg_create_locked(z, items + got, n - got);
	if (got < n) {
		k = n - got;
		z->uz_stack_cnt -= k;
		memcpy(items + got, &z->uz_stack[z->uz_stack_cnt],
		       k * sizeof(void *));
		_xm_zone_update_direct_locked(z);
	}
	z->uz_allocs += n - from_cache;
	pthread_mutex_unlock(&z->uz_lock);
out:
#ifdef INVARIANTS
	for (unsigned int i = 0; i < n; i++)
		_xm_zone_debug_alloc(z, items[i]);
#endif
	return 0;
}

void _xm_zone_free_bulk_slow(struct xm_zone *z, void *const *items,
			     unsigned int n)
{
	struct xm_cache *c = NULL;
	struct xm_bucket *b;
	uint32_t k;

	if (!_xm_zone_direct(z))
		c = _xm_cache_get(z, true);
	if (c != NULL) {
		/* Fill the loaded bucket, then the spare if it is empty. */
		for (int pass = 0; pass < 2 && n != 0; pass++) {
			b = c->c_alloc;
			k = z->uz_bucket_size - b->ub_cnt;
			if (k > n)
				k = n;
			memcpy(&b->ub_items[b->ub_cnt], items,
			       k * sizeof(void *));
			b->ub_cnt += k;
			items += k;
			n -= k;
			_xm_counter_add(&c->c_frees, k);
			if (n == 0 || c->c_free->ub_cnt != 0)
				break;
			_xm_cache_swap(c);
		}
		if (n == 0)
			return;
	}
	pthread_mutex_lock(&z->uz_lock);
	depot_push_locked(z, items, n);
	z->uz_frees += n;
	pthread_mutex_unlock(&z->uz_lock);
}

/* ----------------------------------------------------- zone lifecycle */

int _xm_zone_init(struct xm_umem *u, struct xm_zone *z, enum xm_zone_id id,
		  char *base, uint64_t off, uint32_t size, uint32_t stride,
		  uint32_t limit, uint32_t capacity, uint32_t reserve,
		  uint32_t bucket_size)
{
	memset(z, 0, sizeof(*z));
	z->uz_umem = u;
	z->uz_id = id;
	z->uz_name = zone_names[id];
	z->uz_tunable = zone_tunables[id];
	z->uz_base = base;
	z->uz_off = off;
	z->uz_size = size;
	z->uz_stride = stride;
	z->uz_stride_shift = (stride & (stride - 1)) == 0 ?
			     31 - (uint32_t)__builtin_clz(stride) : 0;
	z->uz_capacity = capacity;
	z->uz_span = (uint64_t)capacity * stride;
	z->uz_bucket_size = bucket_size;
	atomic_init(&z->uz_limit, limit);
	atomic_init(&z->uz_free_max, bucket_size);
	atomic_init(&z->uz_failures, 0);

	z->uz_stack = malloc((size_t)capacity * sizeof(void *) + 1);
	if (z->uz_stack == NULL)
		return -ENOMEM;
#ifdef INVARIANTS
	z->uz_state = calloc((size_t)capacity + 1, 1);
	if (z->uz_state == NULL) {
		free(z->uz_stack);
		return -ENOMEM;
	}
#endif
	pthread_mutex_init(&z->uz_lock, NULL);
	pthread_cond_init(&z->uz_cv, NULL);

	/* The reserve is set aside first: it counts against the limit. */
	z->uz_stack_cnt = keg_create_locked(z, z->uz_stack, reserve);
	z->uz_reserve_target = reserve;
	_xm_cache_register(z, zone_cache_retire_locked);
	return 0;
}

void _xm_zone_fini(struct xm_zone *z)
{
	_xm_cache_unregister(z);
	pthread_cond_destroy(&z->uz_cv);
	pthread_mutex_destroy(&z->uz_lock);
	free(z->uz_stack);
	z->uz_stack = NULL;
#ifdef INVARIANTS
	free((void *)z->uz_state);
	z->uz_state = NULL;
#endif
}

/* ------------------------------------------------------------ getters */

/* Getters take NULL (NULL/0/XM_ZONE_MAX): not the fast path. */
const char *xm_zone_name(const struct xm_zone *z)
{
	return z != NULL ? z->uz_name : NULL;
}

uint32_t xm_zone_size(const struct xm_zone *z)
{
	return z != NULL ? z->uz_size : 0;
}

uint32_t _xm_zone_stride(const struct xm_zone *z)
{
	return z != NULL ? z->uz_stride : 0;
}

enum xm_zone_id xm_zone_id(const struct xm_zone *z)
{
	return z != NULL ? z->uz_id : XM_ZONE_MAX;
}

bool xm_zone_owns(const struct xm_zone *z, const void *item)
{
	return z != NULL && _xm_zone_owns(z, item);
}

uint32_t xm_zone_get_max(const struct xm_zone *z)
{
	return z != NULL ? atomic_load_explicit(&z->uz_limit,
						memory_order_relaxed) : 0;
}

int64_t xm_zone_set_max(struct xm_zone *z, uint32_t nitems)
{
	struct xm_umem *u;
	uint32_t cur;
	uint64_t sum = 0;
	int64_t rc = nitems;

	if (z == NULL)
		return -EINVAL;
	u = z->uz_umem;
	pthread_mutex_lock(&u->u_limit_lock);
	cur = atomic_load(&z->uz_limit);
	if (nitems < cur) {
		xm_pr_warn("%s: %u is below the current limit %u: limits "
			   "are never lowered\n", z->uz_tunable, nitems, cur);
		rc = -EINVAL;
		goto out;
	}
	if (nitems > z->uz_capacity) {
		xm_pr_warn("%s: %u is above the carved capacity %u (see "
			   "capacity_factor)\n", z->uz_tunable, nitems,
			   z->uz_capacity);
		rc = -EINVAL;
		goto out;
	}
	if (z->uz_id != XM_ZONE_MBUF) {
		uint32_t nmbufs;

		nmbufs = atomic_load(&u->u_zone[XM_ZONE_MBUF].uz_limit);

		/* kern_mbuf.c: nmbufs must cover every frame zone. */
		for (int i = 0; i < XM_FRAME_ZONES; i++)
			sum += i == (int)z->uz_id ? nitems :
			       atomic_load(&u->u_zone[i].uz_limit);
		if (sum > nmbufs) {
			xm_pr_warn("%s: %u would put the frame zones (%llu) "
				   "above nmbufs (%u)\n", z->uz_tunable,
				   nitems, (unsigned long long)sum, nmbufs);
			rc = -EINVAL;
			goto out;
		}
	}
	pthread_mutex_lock(&z->uz_lock);
	atomic_store(&z->uz_limit, nitems);
	if (z->uz_sleepers != 0)
		pthread_cond_broadcast(&z->uz_cv);
	pthread_mutex_unlock(&z->uz_lock);
out:
	pthread_mutex_unlock(&u->u_limit_lock);
	return rc;
}

/* ------------------------------------------------------ reclaim hooks */

int xm_umem_reclaim_register(struct xm_umem *u, xm_reclaim_fn_t fn, void *arg)
{
	int rc = 0;

	if (u == NULL || fn == NULL || xm_in_reclaim)
		return -EINVAL;
	pthread_mutex_lock(&u->u_hook_lock);
	for (uint32_t i = 0; i < u->u_nhooks; i++) {
		if (u->u_hooks[i].rh_fn == fn && u->u_hooks[i].rh_arg == arg) {
			rc = -EEXIST;
			goto out;
		}
	}
	if (u->u_nhooks == u->u_hooks_cap) {
		uint32_t cap = u->u_hooks_cap ? u->u_hooks_cap * 2 : 4;
		struct xm_reclaim_hook *h;

		h = realloc(u->u_hooks, cap * sizeof(*h));
		if (h == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		u->u_hooks = h;
		u->u_hooks_cap = cap;
	}
	u->u_hooks[u->u_nhooks].rh_fn = fn;
	u->u_hooks[u->u_nhooks].rh_arg = arg;
	u->u_nhooks++;
out:
	pthread_mutex_unlock(&u->u_hook_lock);
	return rc;
}

int xm_umem_reclaim_unregister(struct xm_umem *u, xm_reclaim_fn_t fn,
			       void *arg)
{
	int rc = -ENOENT;

	if (u == NULL || fn == NULL || xm_in_reclaim)
		return u == NULL || fn == NULL ? -ENOENT : -EINVAL;
	pthread_mutex_lock(&u->u_hook_lock);
	for (uint32_t i = 0; i < u->u_nhooks; i++) {
		if (u->u_hooks[i].rh_fn == fn && u->u_hooks[i].rh_arg == arg) {
			memmove(&u->u_hooks[i], &u->u_hooks[i + 1],
				(u->u_nhooks - i - 1) * sizeof(*u->u_hooks));
			u->u_nhooks--;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&u->u_hook_lock);
	return rc;
}
