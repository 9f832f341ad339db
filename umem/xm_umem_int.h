/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_umem_int.h - private to umem/: what its files share beyond the fast
 * path (limits, per-item debug state, reclaim hooks, creation and
 * teardown of zones).  Not installed.  The layout of the region, the
 * zones and the caches is in xm_zone_fast_int.h, the part the mbuf layer
 * may include; the caches' own calls are in xm_cache_int.h.
 *
 *   xm_common_int.h <- xm_zone_fast_int.h <- xm_cache_int.h <- xm_umem_int.h
 *   (every layer)      (+ mbuf layer)        (cache.c)         (zone.c,
 *                                                               region.c,
 *                                                               stats.c)
 */
#ifndef XM_UMEM_INT_H
#define XM_UMEM_INT_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "xm_cache_int.h"
#include "xm_common_int.h"
#include "xm_umem.h"
#include "xm_zone_fast_int.h"

#define XM_HUGEPAGE_SIZE	(2UL << 20)
#define XM_BUCKET_MAX		512	/* largest bucket_size accepted */
#define XM_CAPACITY_FACTOR_MAX	16
#define XM_META_SIZE_MAX	4096	/* largest meta_size accepted */
#define XM_HDR_SIZE_MAX		4096	/* largest hdr_size accepted */
#define XM_POISON		0xdeadc0deU

/* Per-item debug state (INVARIANTS builds): one byte per carved item. */
enum xm_item_state {
	XM_ITEM_UNBORN = 0,		/* never created (in the keg) */
	XM_ITEM_FRESH,			/* created, free, never written */
	XM_ITEM_FREE,			/* free and poisoned */
	XM_ITEM_ALLOCATED,		/* handed out */
};

struct xm_reclaim_hook {
	xm_reclaim_fn_t rh_fn;		/* the hook */
	void *rh_arg;			/* its argument */
};

/*
 * ASan builds also poison freed items in the shadow memory, so a stray
 * access to a freed frame is caught at the access, with a stack trace.
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define XM_ASAN_POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define XM_ASAN_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define XM_ASAN_POISON(p, n)	do { (void)(p); (void)(n); } while (0)
#define XM_ASAN_UNPOISON(p, n)	do { (void)(p); (void)(n); } while (0)
#endif

/* ------------------------------------------------ between umem/ files */

/* region.c */
XM_HIDDEN void _xm_umem_fail_create_at(int step);

/* zone.c */
XM_HIDDEN int _xm_zone_init(struct xm_umem *u, struct xm_zone *z,
			    enum xm_zone_id id, char *base, uint64_t off,
			    uint32_t size, uint32_t stride, uint32_t limit,
			    uint32_t capacity, uint32_t reserve,
			    uint32_t bucket_size);
XM_HIDDEN void _xm_zone_fini(struct xm_zone *z);
/* Slow paths of the bulk calls (the single ones are in xm_zone_fast_int.h). */
XM_HIDDEN int _xm_zone_alloc_bulk_slow(struct xm_zone *z, void **items,
				       unsigned int n, int flags);
XM_HIDDEN void _xm_zone_free_bulk_slow(struct xm_zone *z, void *const *items,
				       unsigned int n);
XM_HIDDEN void _xm_zone_fail_injected(struct xm_zone *z, unsigned int n);
XM_HIDDEN void _xm_zone_cache_drain_locked(struct xm_zone *z,
					   struct xm_cache *c);
XM_HIDDEN void _xm_zone_update_direct_locked(struct xm_zone *z);

/*
 * For tests: what the library's layout looks like from outside, which an
 * application has no use for.  NULL-safe (0, NULL with errno EINVAL).
 */
/* Distance between items of z (size rounded up to the chunk size). */
XM_HIDDEN uint32_t _xm_zone_stride(const struct xm_zone *z);
/* Inverse of xm_umem_frame_meta(): the frame a record belongs to. */
XM_HIDDEN void *_xm_umem_meta_frame(struct xm_umem *u, const void *meta);

/* Valid alloc flags: NOWAIT or WAITOK (not both), maybe USE_RESERVE. */
static inline bool _xm_alloc_flags_valid(int flags)
{
	return (unsigned int)flags < 8 && ((0x66U >> flags) & 1) != 0;
}

#endif /* XM_UMEM_INT_H */
