/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.c - per-thread caches in front of each zone (UMA's per-CPU
 * caches, for threads): the registry of zones with caches, each thread's
 * cache of a zone, and the hand-back of its items when the thread exits.
 *
 *   thread T                               registry (global, locked)
 *   _xm_tls[slot] = { gen, cache, -+     zones[slot], gens[slot]
 *                     bucket }  |  |
 *                               |  v
 *   struct xm_cache: c_alloc bucket (allocs pop, frees push) <- bucket
 *                    c_free  bucket (the spare: full or empty)
 *
 * Each zone gets a slot in a small registry and a generation number that
 * is never reused.  A thread's TLS entry for the slot names the cache it
 * made and the generation it made it for; the fast path uses the cache
 * only when that generation is the zone's, so a TLS entry left behind by
 * a destroyed zone is never dereferenced.  Destroying a zone frees every
 * cache of it, whichever thread made them.  A thread that exits hands its
 * cached items back to the depot (pthread key destructor), under the
 * registry lock so that the zone cannot be destroyed meanwhile.
 *
 * Fast path (cache hit): no lock, no atomic read-modify-write, no write to
 * a line another thread writes.  A cache that runs empty or full trades a
 * whole bucket with the depot (zone.c).  Zones that find no free slot run
 * without caches (every call locks), reported once.  The cache hits are
 * static inlines of xm_zone_fast_int.h (_xm_zone_alloc_cached,
 * _xm_zone_free_cached) so that the mbuf layer inlines them; zone.c's
 * calls add the argument checks and the slow paths.  The TLS slot holds
 * the loaded bucket itself (one dependent load fewer than through the
 * cache; the owning thread updates it whenever c_alloc changes), and a
 * per-thread hint remembers the slot of the zone used last, so that a hit
 * on the same zone does not wait for a load of z->uz_slot.
 *
 * Layering: this file sits below zone.c.  The zone calls what is here;
 * nothing here calls the zone.  The depot is the zone's, so a thread's
 * exit hands its items back through the drain function each zone
 * registered with (xm_cache_int.h).
 *
 * Hidden (umem only): _xm_cache_register, _xm_cache_unregister,
 * _xm_cache_get, _xm_cache_swap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xm_cache_int.h"

__thread struct xm_tls_slot _xm_tls[XM_CACHE_SLOTS]
	__attribute__((tls_model("initial-exec")));
__thread struct xm_tls_hint _xm_tls_hint
	__attribute__((tls_model("initial-exec")));

static struct {
	pthread_mutex_t lock;
	struct xm_zone *zones[XM_CACHE_SLOTS];	/* slot 0: never used */
	uint64_t gens[XM_CACHE_SLOTS];		/* 0 when free */
	xm_cache_drain_fn drains[XM_CACHE_SLOTS]; /* the zones' own */
	uint64_t next_gen;
	bool warned;
} xm_registry = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.next_gen = 1,
};

static pthread_once_t xm_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t xm_key;
static bool xm_key_ok;

/* Thread exit: every live cache of this thread goes back to its zone. */
static void xm_cache_thread_exit(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&xm_registry.lock);
	for (int s = 1; s < XM_CACHE_SLOTS; s++) {
		struct xm_tls_slot *e = &_xm_tls[s];
		struct xm_cache *c = e->ts_cache;
		struct xm_zone *z;

		if (c == NULL)
			continue;
		/* A stale entry's cache was freed with its zone. */
		if (e->ts_gen != 0 && xm_registry.gens[s] == e->ts_gen) {
			z = xm_registry.zones[s];
			pthread_mutex_lock(&z->uz_lock);
			xm_registry.drains[s](z, c);
			*c->c_pprev = c->c_next;
			if (c->c_next != NULL)
				c->c_next->c_pprev = c->c_pprev;
			pthread_mutex_unlock(&z->uz_lock);
			free(c);
		}
		e->ts_cache = NULL;
		e->ts_bucket = NULL;
		e->ts_gen = 0;
	}
	_xm_tls_hint.th_zone = NULL;
	_xm_tls_hint.th_slot = NULL;
	pthread_mutex_unlock(&xm_registry.lock);
}

static void xm_key_init(void)
{
	xm_key_ok = pthread_key_create(&xm_key, xm_cache_thread_exit) == 0;
}

void _xm_cache_register(struct xm_zone *z, xm_cache_drain_fn drain)
{
	bool warn = false;

	pthread_mutex_lock(&xm_registry.lock);
	z->uz_slot = 0;
	z->uz_gen = UINT64_MAX;	/* matches no TLS entry */
	for (int s = 1; s < XM_CACHE_SLOTS; s++) {
		if (xm_registry.zones[s] == NULL) {
			xm_registry.zones[s] = z;
			xm_registry.gens[s] = xm_registry.next_gen++;
			xm_registry.drains[s] = drain;
			z->uz_slot = (uint32_t)s;
			z->uz_gen = xm_registry.gens[s];
			break;
		}
	}
	if (z->uz_slot == 0 && !xm_registry.warned) {
		xm_registry.warned = true;
		warn = true;
	}
	pthread_mutex_unlock(&xm_registry.lock);
	if (warn)
		xm_pr_warn("%s: more than %d zones at once: this one runs "
			   "without thread caches (slower)\n", z->uz_name,
			   XM_CACHE_SLOTS - 1);
}

void _xm_cache_unregister(struct xm_zone *z)
{
	struct xm_cache *c, *next;

	pthread_mutex_lock(&xm_registry.lock);
	if (z->uz_slot != 0) {
		xm_registry.zones[z->uz_slot] = NULL;
		xm_registry.gens[z->uz_slot] = 0;
		xm_registry.drains[z->uz_slot] = NULL;
	}
	/*
	 * Other threads' TLS entries still name these caches, but with a
	 * generation no zone will have again: they never touch them.
	 */
	pthread_mutex_lock(&z->uz_lock);
	for (c = z->uz_caches; c != NULL; c = next) {
		next = c->c_next;
		free(c);
	}
	z->uz_caches = NULL;
	pthread_mutex_unlock(&z->uz_lock);
	pthread_mutex_unlock(&xm_registry.lock);
}

static struct xm_cache *cache_create(struct xm_zone *z)
{
	size_t bucket = sizeof(struct xm_bucket) +
			(size_t)z->uz_bucket_size * sizeof(void *);
	size_t len = sizeof(struct xm_cache) + 2 * bucket;
	struct xm_tls_slot *e = &_xm_tls[z->uz_slot];
	struct xm_cache *c;

	pthread_once(&xm_key_once, xm_key_init);
	/* Without the key a thread's exit would strand its cached items. */
	if (!xm_key_ok || pthread_setspecific(xm_key, (void *)1) != 0)
		return NULL;
	len = (len + XM_CACHE_LINE - 1) / XM_CACHE_LINE * XM_CACHE_LINE;
	c = aligned_alloc(XM_CACHE_LINE, len);
	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->c_alloc = (struct xm_bucket *)(c + 1);
	c->c_free = (struct xm_bucket *)((char *)c->c_alloc + bucket);
	c->c_alloc->ub_cnt = 0;
	c->c_free->ub_cnt = 0;
	atomic_init(&c->c_allocs, 0);
	atomic_init(&c->c_frees, 0);
	c->c_zone = z;
	c->c_gen = z->uz_gen;
	c->c_slot = z->uz_slot;

	pthread_mutex_lock(&z->uz_lock);
	c->c_next = z->uz_caches;
	if (c->c_next != NULL)
		c->c_next->c_pprev = &c->c_next;
	c->c_pprev = &z->uz_caches;
	z->uz_caches = c;
	pthread_mutex_unlock(&z->uz_lock);

	e->ts_cache = c;
	e->ts_bucket = c->c_alloc;
	e->ts_gen = z->uz_gen;
	return c;
}

struct xm_cache *_xm_cache_get(struct xm_zone *z, bool create)
{
	struct xm_tls_slot *e = &_xm_tls[z->uz_slot];

	/*
	 * The hint may name a stale slot for z (a destroyed zone's memory
	 * reused): every slow path comes here, and puts it right.
	 */
	_xm_tls_hint.th_zone = z;
	_xm_tls_hint.th_slot = e;
	if (z->uz_slot == 0)
		return NULL;
	if (e->ts_gen == z->uz_gen)
		return e->ts_cache;
	return create ? cache_create(z) : NULL;
}

/*
 * Exchanges the loaded and the spare bucket of the calling thread's cache
 * c, and points the TLS slot at the new loaded bucket: the fast paths
 * use ts_bucket, never c_alloc, so the two must change together.  Only
 * the owning thread swaps (every slow path gets c from its own slot).
 */
void _xm_cache_swap(struct xm_cache *c)
{
	struct xm_bucket *b = c->c_alloc;

	XM_ASSERT(_xm_tls[c->c_slot].ts_cache == c &&
		  _xm_tls[c->c_slot].ts_gen == c->c_gen,
		  ("xmbuf: %s: cache %p is not the calling thread's\n",
		   __func__, (void *)c));
	c->c_alloc = c->c_free;
	c->c_free = b;
	_xm_tls[c->c_slot].ts_bucket = c->c_alloc;
}
