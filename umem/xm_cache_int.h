/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_cache_int.h - the per-thread caches (cache.c) as the zone sees them:
 * a registry of zones with caches, and the calling thread's cache of a
 * zone.  Not installed.
 *
 * cache.c sits below zone.c: the zone calls these, and the caches never
 * call the zone.  The one thing a cache must have done by the zone, giving
 * its items back when its thread exits, goes through the drain function
 * the zone registers with.
 */
#ifndef XM_CACHE_INT_H
#define XM_CACHE_INT_H

#include <stdbool.h>

#include "xm_zone_fast_int.h"

/*
 * Gives every item of c (a cache of z whose thread is exiting) back to z
 * and folds c's counters into z's; called with z->uz_lock held.
 */
typedef void (*xm_cache_drain_fn)(struct xm_zone *z, struct xm_cache *c);

/*
 * Gives z a TLS slot and a generation (slot 0 when none is free: z then
 * runs without caches).  drain is called when a thread holding a cache of
 * z exits.
 */
XM_HIDDEN void _xm_cache_register(struct xm_zone *z, xm_cache_drain_fn drain);
/* Frees every cache of z, whichever thread made it; z is going away. */
XM_HIDDEN void _xm_cache_unregister(struct xm_zone *z);
/* The calling thread's cache of z, made first when create; else NULL. */
XM_HIDDEN struct xm_cache *_xm_cache_get(struct xm_zone *z, bool create);
/* Exchanges the loaded and the spare bucket of the thread's own cache. */
XM_HIDDEN void _xm_cache_swap(struct xm_cache *c);

#endif /* XM_CACHE_INT_H */
