/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_zone_fast_int.h - what the mbuf layer may see of umem's private side:
 * the layout of the region, its zones and the per-thread caches, the
 * O(1) inline accessors, and the inline cache hits of zone allocation and
 * free (_xm_zone_alloc_cached, _xm_zone_free_cached) with their
 * out-of-line slow paths.  The structs are here only because the inlines
 * read them; the mbuf layer reads no field itself but the item sizes and
 * the region size.  Not installed.  Everything else private to umem/ is
 * in xm_umem_int.h (between umem files) and xm_cache_int.h (cache.c).
 *
 *   struct xm_umem
 *   +-------------------------------------------------------------+
 *   | u_base ... u_size          the region (AF_XDP UMEM)         |
 *   | u_meta, u_meta_size        one record per chunk, by offset  |
 *   | u_zone[XM_ZONE_MAX]        zones, one cache line apart      |
 *   +-------------------------------------------------------------+
 *
 *   struct xm_zone                       thread T's cache of zone z
 *   +---------------------------+        +------------------------+
 *   | read-mostly line:         |        | c_alloc: bucket        |
 *   |  uz_slot, uz_gen, base,   |  TLS   |  (allocs pop, frees    |
 *   |  stride, uz_free_max      | <----- |   push)                |
 *   +---------------------------+ slot,  | c_free: bucket (spare, |
 *   | locked (uz_lock):         |  gen   |   full or empty)       |
 *   |  uz_stack: depot+reserve  |        +------------------------+
 *   |  uz_created, uz_limit     |   whole buckets are traded with the
 *   |  sleepers, counters       |   depot under uz_lock, nothing else
 *   +---------------------------+
 *
 * The depot is a stack of free item pointers sized to the zone's carved
 * capacity, so a free never needs memory; its bottom
 * min(uz_stack_cnt, uz_reserve_target) entries are the emergency reserve,
 * which ordinary allocations do not touch.  A bucket is traded by copying
 * its pointers on or off the top of the stack under the lock.
 */
#ifndef XM_ZONE_FAST_INT_H
#define XM_ZONE_FAST_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "xm_common_int.h"
#include "xm_umem.h"

#define XM_CACHE_LINE		64
#define XM_CACHE_SLOTS		32	/* zones with thread caches at once */

/* A cache bucket: a stack of item pointers (UMA's uma_bucket). */
struct xm_bucket {
	uint32_t ub_cnt;		/* items held */
	uint32_t ub_spare;
	void *ub_items[];		/* bucket_size slots */
};

/*
 * One thread's cache of one zone (UMA's per-CPU cache, Bonwick's
 * loaded/previous magazines).  Written only by its thread; c_allocs and
 * c_frees are read by xm_zone_stats() on other threads (relaxed).
 */
struct xm_cache {
	struct xm_bucket *c_alloc;	/* loaded: allocs pop, frees push */
	struct xm_bucket *c_free;	/* previous: full or empty spare */
	_Atomic uint64_t c_allocs;	/* items handed out from this cache */
	_Atomic uint64_t c_frees;	/* items taken back into it */
	struct xm_zone *c_zone;		/* owner zone */
	struct xm_cache *c_next;	/* zone's list of caches */
	struct xm_cache **c_pprev;	/* where we are linked from */
	uint64_t c_gen;			/* zone generation at creation */
	uint32_t c_slot;		/* zone's TLS slot */
	uint32_t c_spare;
};

/*
 * The calling thread's view of one cache slot (TLS, initial-exec).
 * ts_bucket repeats ts_cache->c_alloc so that the fast path reaches the
 * bucket in one load from the TLS block instead of two dependent ones:
 * the free path is a chain of dependent loads (mbuf -> zone -> slot ->
 * bucket -> count), and each link is latency the caller waits for.
 * Every change of c_alloc is made by the owning thread (cache_create,
 * _xm_cache_swap), which updates ts_bucket with it.
 */
struct xm_tls_slot {
	uint64_t ts_gen;		/* generation the cache belongs to */
	struct xm_cache *ts_cache;	/* valid only when ts_gen matches */
	struct xm_bucket *ts_bucket;	/* ts_cache->c_alloc (same rule) */
	void *ts_spare;			/* pads the slot to 32 bytes */
} __attribute__((aligned(32)));

/*
 * The slot of the zone the calling thread used last (TLS).  A free gets
 * its zone from the mbuf header, so &_xm_tls[z->uz_slot] would put two
 * dependent loads (header -> zone -> uz_slot) in front of the bucket's
 * address, and the next allocation of the same frame waits on the store
 * made there.  With the hint the bucket comes from TLS alone and the zone
 * is only compared, a branch the predictor takes off the critical path
 * (pair loop of bench-alloc: 9.5 -> 6.7 ns).  The slot is still checked
 * against the zone's generation, so a hint naming a destroyed zone whose
 * address was reused sends the call to the slow path, which resets it.
 */
struct xm_tls_hint {
	const struct xm_zone *th_zone;	/* zone of the last lookup */
	struct xm_tls_slot *th_slot;	/* &_xm_tls[th_zone->uz_slot] */
};

struct xm_zone {
	/* Read-mostly: all the fast path reads. */
	uint32_t uz_slot;		/* TLS slot; 0 means no caches */
	uint32_t uz_bucket_size;	/* items per bucket */
	uint64_t uz_gen;		/* registry generation, never reused */
	char *uz_base;			/* first item */
	uint64_t uz_span;		/* capacity * stride bytes */
	uint32_t uz_stride;		/* distance between items */
	uint32_t uz_stride_shift;	/* log2(stride), 0 if not a power */
	uint32_t uz_size;		/* item size */
	uint32_t uz_capacity;		/* carved items */
	_Atomic(uint8_t) *uz_state;	/* per-item state (INVARIANTS) */
	_Atomic uint32_t uz_free_max;	/* most items a loaded bucket may
					 * hold after a cached free:
					 * uz_bucket_size, or 0 while frees
					 * bypass caches (sleepers, short
					 * reserve; rarely written) */
	enum xm_zone_id uz_id;		/* XM_ZONE_* */
	struct xm_umem *uz_umem;	/* owner */
	const char *uz_name;		/* "mbuf_cluster", ... */
	const char *uz_tunable;		/* "nmbclusters", ... */
	uint64_t uz_off;		/* region offset of item 0 (frames) */

	/* Under uz_lock. */
	pthread_mutex_t uz_lock __attribute__((aligned(XM_CACHE_LINE)));
	pthread_cond_t uz_cv;		/* WAITOK sleepers */
	void **uz_stack;		/* depot + reserve, capacity slots */
	uint32_t uz_stack_cnt;		/* items on the stack */
	uint32_t uz_reserve_target;	/* reserve size set at creation */
	uint32_t uz_created;		/* keg bump index */
	_Atomic uint32_t uz_limit;	/* items that may be created */
	uint32_t uz_sleepers;		/* WAITOK threads asleep */
	uint32_t uz_spare;
	uint64_t uz_allocs;		/* allocs not counted by a cache */
	uint64_t uz_frees;		/* frees not counted by a cache */
	_Atomic uint64_t uz_failures;	/* items refused */
	uint64_t uz_sleeps;		/* WAITOK requests that slept */
	struct xm_cache *uz_caches;	/* every live cache of this zone */
	struct timespec uz_warn_last;	/* last limit warning */
	bool uz_warned;			/* uz_warn_last is set */
} __attribute__((aligned(XM_CACHE_LINE)));

/* The fast path reads one line of the zone. */
_Static_assert(offsetof(struct xm_zone, uz_free_max) + sizeof(uint32_t) <=
	       XM_CACHE_LINE, "fast-path fields of struct xm_zone");
_Static_assert(offsetof(struct xm_zone, uz_lock) % XM_CACHE_LINE == 0,
	       "locked fields start a cache line");

struct xm_reclaim_hook;

struct xm_umem {
	char *u_base;			/* region start (descriptor offset 0) */
	uint64_t u_size;		/* mapped bytes */
	char *u_meta;			/* per-chunk records */
	uint64_t u_meta_bytes;		/* mapped bytes of u_meta */
	uint32_t u_chunk_size;		/* 2048 or 4096 */
	uint32_t u_chunk_shift;		/* log2(u_chunk_size) */
	uint32_t u_meta_size;		/* bytes per record */
	uint32_t u_meta_rshift;		/* frame address -> record: see
					 * _xm_umem_frame_record (64: none) */
	uintptr_t u_meta_bias;		/* ... and its bias */
	uint32_t u_hdr_size;		/* zone_mbuf item size */
	uint64_t u_frames_end;		/* end offset of the last frame zone */
	uint64_t u_maxmbufmem;		/* budget the defaults came from */
	bool u_hugepages;		/* region is on 2 MiB pages */
	bool u_dontfork;		/* region is MADV_DONTFORK */
	unsigned long u_fork_gen;	/* fork generation of the creator */
	char *u_hdr_base;		/* zone_mbuf items */
	uint64_t u_hdr_bytes;		/* mapped bytes of u_hdr_base */
	pthread_mutex_t u_limit_lock;	/* serialises xm_zone_set_max */
	pthread_mutex_t u_hook_lock;	/* guards the reclaim hooks */
	struct xm_reclaim_hook *u_hooks;	/* registered hooks */
	uint32_t u_nhooks;		/* used entries */
	uint32_t u_hooks_cap;		/* allocated entries */
	struct xm_zone u_zone[XM_ZONE_MAX];	/* the zones */
};

/* ---------------------------------------------------- inline accessors */

/* Region address of offset off (no check). */
static inline void *_xm_umem_off2addr(const struct xm_umem *u, uint64_t off)
{
	return u->u_base + off;
}

/* Region offset of p (no check). */
static inline uint64_t _xm_umem_addr2off(const struct xm_umem *u,
					 const void *p)
{
	return (uint64_t)((const char *)p - u->u_base);
}

/*
 * Record of the chunk holding offset off (no check).  For a frame's
 * start (or any offset into a chunk-sized frame) this is the frame's
 * record, what xm_umem_frame_meta() returns.
 */
static inline void *_xm_umem_chunk_meta(const struct xm_umem *u, uint64_t off)
{
	return u->u_meta + (off >> u->u_chunk_shift) * u->u_meta_size;
}

/*
 * Record of the frame that starts at address frame (a chunk boundary; no
 * check).  Every frame allocation pairs its header through this.  With
 * power-of-two records no larger than a chunk (the default: 128 bytes,
 * 2 or 4 KiB chunks), u_meta + (frame - u_base) / chunk * meta_size is
 * u_meta_bias + (frame >> u_meta_rshift): one shift and one add, since
 * u_base is 2 MiB aligned and frame a multiple of the chunk past it.
 */
static inline void *_xm_umem_frame_record(const struct xm_umem *u,
					  const void *frame)
{
	if (xm_likely(u->u_meta_rshift < 64))
		return (void *)(u->u_meta_bias +
				((uintptr_t)frame >> u->u_meta_rshift));
	return _xm_umem_chunk_meta(u, _xm_umem_addr2off(u, frame));
}

/* Zone by id (no check). */
static inline struct xm_zone *_xm_umem_zone(struct xm_umem *u,
					    enum xm_zone_id id)
{
	return &u->u_zone[id];
}

/* Frame zone holding offset off, or NULL. */
static inline struct xm_zone *_xm_umem_zone_of(struct xm_umem *u,
					       uint64_t off)
{
	for (int i = 0; i < XM_FRAME_ZONES; i++) {
		struct xm_zone *z = &u->u_zone[i];

		if (off - z->uz_off < z->uz_span)
			return z;
	}
	return NULL;
}

/* Index of the item containing p; p must be within [base, base + span). */
static inline uint64_t _xm_zone_index(const struct xm_zone *z, const void *p)
{
	uint64_t d = (uint64_t)((const char *)p - z->uz_base);

	if (z->uz_stride_shift != 0)
		return d >> z->uz_stride_shift;
	return d / z->uz_stride;
}

/* True if p is the start of an item of z. */
static inline bool _xm_zone_owns(const struct xm_zone *z, const void *p)
{
	uint64_t d = (uint64_t)((const char *)p - z->uz_base);

	if (d >= z->uz_span)
		return false;
	if (z->uz_stride_shift != 0)
		return (d & (z->uz_stride - 1)) == 0;
	return d % z->uz_stride == 0;
}

/* Address of item idx. */
static inline void *_xm_zone_item(const struct xm_zone *z, uint64_t idx)
{
	return z->uz_base + idx * z->uz_stride;
}

/*
 * True while frees must bypass the thread caches and go to the depot: a
 * WAITOK sleeper waits there, or the reserve is short of its target.
 */
static inline bool _xm_zone_direct(const struct xm_zone *z)
{
	return atomic_load_explicit(&z->uz_free_max, memory_order_relaxed) == 0;
}

/* Relaxed counter bump by its only writer: no locked instruction. */
static inline void _xm_counter_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
			      + n, memory_order_relaxed);
}

/* ------------------------------------------- slow paths (zone.c, cache.c) */

/*
 * Slow paths of xm_zone_alloc() / xm_zone_free(), after a miss of the
 * inline fast paths below (z and flags checked by the caller; the free's
 * item already checked by _xm_zone_free_cached): they make the thread's
 * cache, trade buckets with the depot, or bypass caches, as needed.
 */
XM_HIDDEN void *_xm_zone_alloc_slow(struct xm_zone *z, int flags);
XM_HIDDEN void _xm_zone_free_slow(struct xm_zone *z, void *item);
/* Per-item state and poison checks (INVARIANTS builds). */
XM_HIDDEN void _xm_zone_debug_alloc(struct xm_zone *z, void *item);
XM_HIDDEN void _xm_zone_debug_free(struct xm_zone *z, void *item);
XM_HIDDEN extern __thread struct xm_tls_slot _xm_tls[XM_CACHE_SLOTS]
	__attribute__((tls_model("initial-exec")));
XM_HIDDEN extern __thread struct xm_tls_hint _xm_tls_hint
	__attribute__((tls_model("initial-exec")));

/* ------------------------------------------- zone fast paths (inline) */

/*
 * The calling thread's TLS slot for z (its generation not yet checked).
 * Reads uz_slot only when z is not the zone of the previous lookup.
 */
static inline struct xm_tls_slot *_xm_tls_slot_of(const struct xm_zone *z)
{
	struct xm_tls_slot *e;

	if (xm_likely(z == _xm_tls_hint.th_zone))
		return _xm_tls_hint.th_slot;
	e = &_xm_tls[z->uz_slot];
	_xm_tls_hint.th_zone = z;
	_xm_tls_hint.th_slot = e;
	return e;
}

/*
 * The cache hits of xm_zone_alloc() and xm_zone_free(), inline so that
 * the mbuf layer's allocation and free run without a call; the caller
 * has checked its arguments.  Both return false on a miss, and the caller
 * continues with the out-of-line slow path, _xm_zone_alloc_slow(z, flags)
 * or _xm_zone_free_slow(z, item), so the inlined part needs no registers
 * saved around a call.  (The allocation returns its item through *itemp
 * so that the caller does not test it for NULL again.)
 *
 * A slot whose generation is not the zone's (no cache yet, a cache of a
 * destroyed zone, or slot 0: no caches) is never dereferenced: ts_bucket
 * and ts_cache are read only after ts_gen matched.
 *
 * INVARIANTS builds keep the per-item checks (state, poison) on both
 * paths; while failure injection is armed every allocation goes to the
 * slow path, which consults it.
 */
static inline bool _xm_zone_alloc_cached(struct xm_zone *z, void **itemp)
{
	struct xm_tls_slot *e = _xm_tls_slot_of(z);
	struct xm_bucket *b;

#ifdef INVARIANTS
	if (xm_unlikely(atomic_load_explicit(&_xm_fail_armed,
					     memory_order_relaxed)))
		return false;
#endif
	if (xm_unlikely(e->ts_gen != z->uz_gen))
		return false;
	b = e->ts_bucket;
	if (xm_unlikely(b->ub_cnt == 0))
		return false;
	*itemp = b->ub_items[--b->ub_cnt];
	_xm_counter_add(&e->ts_cache->c_allocs, 1);
#ifdef INVARIANTS
	_xm_zone_debug_alloc(z, *itemp);
#endif
	return true;
}

/* Checks item (INVARIANTS) then frees it into the cache if it can. */
static inline bool _xm_zone_free_cached(struct xm_zone *z, void *item)
{
	struct xm_tls_slot *e = _xm_tls_slot_of(z);
	struct xm_bucket *b;

#ifdef INVARIANTS
	_xm_zone_debug_free(z, item);
#endif
	if (xm_unlikely(e->ts_gen != z->uz_gen))
		return false;
	/* One test for a full bucket and for frees bypassing caches. */
	b = e->ts_bucket;
	if (xm_unlikely(b->ub_cnt >= atomic_load_explicit(&z->uz_free_max,
						  memory_order_relaxed)))
		return false;
	b->ub_items[b->ub_cnt++] = item;
	_xm_counter_add(&e->ts_cache->c_frees, 1);
	return true;
}

#endif /* XM_ZONE_FAST_INT_H */
