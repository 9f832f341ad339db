/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file
 * xm_umem.h - the UMEM region and its zones (public KPI of umem/).
 *
 * One region per process, mmap'd once (2 MiB hugepages when they can be
 * had), registered with the kernel as the AF_XDP UMEM.  It is carved at
 * creation into frame zones by size class, the way kern_mbuf.c builds its
 * cluster zones on UMA; a fifth zone, in ordinary memory, holds the mbuf
 * headers of the layer above (umem/ only knows its item size).
 *
 *   region (one mmap, offsets are what AF_XDP descriptors carry)
 *   +-----------------+-----------------+--------------+---------------+
 *   | zone_clust      | zone_jumbop     | zone_jumbo9  | zone_jumbo16  |
 *   | 2 KiB items     | 4 KiB items     | 9 KiB items  | 16 KiB items  |
 *   +-----------------+-----------------+--------------+---------------+
 *   every item starts on a chunk boundary; item stride is the size
 *   rounded up to the chunk size.
 *
 *   per-frame records (meta_size bytes each, indexed by offset / chunk):
 *   the layer above keeps its paired mbuf header there.
 *
 *   zone_mbuf: nmbufs items of hdr_size bytes in ordinary memory.
 *
 * Each zone has per-thread caches (two buckets, UMA's alloc and free
 * buckets) in front of a shared depot of full buckets; the depot lock is
 * taken only when a cache runs empty or full, and then a whole bucket is
 * traded.  Items never created yet (below the zone's limit) come from the
 * keg, a bump index over the carved capacity.
 *
 * Limits mirror the tunables nmbclusters, nmbjumbop, nmbjumbo9,
 * nmbjumbo16 and nmbufs: by default a share of the maxmbufmem budget, and
 * at run time they may be raised (up to the carved capacity) but never
 * lowered.
 *
 * fork(): the region is mapped MADV_DONTFORK, as DPDK and rdma-core map
 * memory a device has pinned.  A pinned private page cannot be shared
 * copy-on-write, so without it every fork() of a process holding a
 * registered UMEM would copy the whole region into the child, and would
 * fail with ENOMEM when it is on hugepages and the pool is empty.  So a
 * child made with fork() has no mapping at the region's addresses: a
 * frame, an mbuf's data or anything else pointing into the region faults
 * (SIGSEGV) there, or, once the child maps something else at that place,
 * reads that.  The rest of the umem (zones, records, mbuf headers) is
 * the usual copy-on-write copy, describing frames the child does not
 * have.  A child must not use its parent's umem, zones or mbufs; it
 * execs, or creates a umem of its own.  It may call xm_umem_destroy() on
 * the inherited umem to free its copy of the rest: the region is left
 * alone there (it is not mapped).  vfork(), posix_spawn() and threads
 * share the mapping and are not affected.
 *
 * Nothing here knows about sockets, rings or mbufs.
 */
#ifndef XM_UMEM_H
#define XM_UMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xm_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size classes, as in mbuf(9). */
#define XM_MCLBYTES		2048
#define XM_MJUMPAGESIZE		4096
#define XM_MJUM9BYTES		(9 * 1024)
#define XM_MJUM16BYTES		(16 * 1024)

/* Allocation flags ("how"). */
#define XM_NOWAIT		0x0001	/* fail at once: NULL / -ENOBUFS */
#define XM_WAITOK		0x0002	/* sleep until an item is freed */
#define XM_USE_RESERVE		0x0004	/* may dip into the emergency reserve */

struct xm_umem;
struct xm_zone;

enum xm_zone_id {
	XM_ZONE_CLUST = 0,	/* 2 KiB clusters, limit nmbclusters */
	XM_ZONE_JUMBOP,		/* page-size clusters, limit nmbjumbop */
	XM_ZONE_JUMBO9,		/* 9 KiB clusters, limit nmbjumbo9 */
	XM_ZONE_JUMBO16,	/* 16 KiB clusters, limit nmbjumbo16 */
	XM_ZONE_MBUF,		/* headers in ordinary memory, limit nmbufs */
	XM_ZONE_MAX,
};
#define XM_FRAME_ZONES		4	/* zones that live in the region */

/* xm_umem_opts.flags */
#define XM_UMEM_F_NO_HUGEPAGES		0x1	/* never try MAP_HUGETLB */
#define XM_UMEM_F_NO_RESERVE_HUGEPAGES	0x2	/* do not raise the hugepage
						 * overcommit limit */

/*
 * Creation options.  Build with XM_OPTS(xm_umem_opts, name, .field = v);
 * zero means "the default" for every field.
 */
struct xm_umem_opts {
	size_t sz;			/* sizeof(struct xm_umem_opts) */
	uint64_t maxmbufmem;		/* budget in bytes (default 64 MiB) */
	uint32_t nmbclusters;		/* default maxmbufmem / 2K / 4 */
	uint32_t nmbjumbop;		/* default maxmbufmem / 4K / 4 */
	uint32_t nmbjumbo9;		/* default maxmbufmem / 9K / 6 */
	uint32_t nmbjumbo16;		/* default maxmbufmem / 16K / 6 */
	uint32_t nmbufs;		/* default max(budget / MSIZE / 5, sum) */
	uint32_t chunk_size;		/* 2048 (default) or 4096 */
	uint32_t hdr_size;		/* zone_mbuf item size (default 128) */
	uint32_t meta_size;		/* per-frame record size (default 128) */
	uint32_t bucket_size;		/* items per cache bucket, every
					 * zone (default 128; 64 for a zone
					 * whose limit is below 1024) */
	uint32_t reserve[XM_ZONE_MAX];	/* emergency reserve per zone;
					 * default: clust and jumbop hold
					 * min(256, limit / 32), others 0 */
	uint32_t capacity_factor;	/* carve limit * factor items so limits
					 * can be raised at run time
					 * (default 1, at most 16) */
	uint32_t flags;			/* XM_UMEM_F_* */
};
#define xm_umem_opts__last_field flags

/**
 * @brief **xm_umem_create()** maps the region and carves its zones.
 * @param opts options, or NULL for every default.
 * @return the umem, or NULL with errno set (EINVAL for a bad option,
 * ENOMEM when the region cannot be mapped).
 *
 * Tries 2 MiB hugepages first, all faulted in at creation: free pages of
 * the pool (vm.nr_hugepages), then surplus pages, which the kernel frees
 * when the region is unmapped, at xm_umem_destroy() or at any exit of the
 * process, SIGKILL included.  As root, and unless
 * XM_UMEM_F_NO_RESERVE_HUGEPAGES, it raises the 2 MiB
 * nr_overcommit_hugepages limit for the moment of the mapping when the
 * pages do not fit, and puts it back; the pool size is never changed.
 * Falls back to 4 KiB pages with MADV_HUGEPAGE and reports the fallback
 * once, at WARN level.
 */
XM_API struct xm_umem *xm_umem_create(const struct xm_umem_opts *opts);

/**
 * @brief **xm_umem_destroy()** unmaps the region.  Every frame handed to
 * the kernel must have been taken back first; items still held by the
 * application are lost with the region.  In a child made with fork(), it
 * frees the child's copy of the umem and leaves the region's addresses
 * alone (see "fork()" above).
 */
XM_API void xm_umem_destroy(struct xm_umem *u);

/** Address of the region's first byte (frame offsets count from it). */
XM_API void *xm_umem_base(const struct xm_umem *u);
/** Bytes in the region, what is registered with the kernel. */
XM_API size_t xm_umem_size(const struct xm_umem *u);
/** The AF_XDP chunk size: the cluster zone's frame size, 2048. */
XM_API uint32_t xm_umem_chunk_size(const struct xm_umem *u);
/** True when the region is backed by 2 MiB hugepages. */
XM_API bool xm_umem_hugepages(const struct xm_umem *u);

/** Offset of a region address (what AF_XDP descriptors carry). O(1). */
XM_API uint64_t xm_umem_addr2off(const struct xm_umem *u, const void *p);
/** Address of a region offset. O(1). */
XM_API void *xm_umem_off2addr(const struct xm_umem *u, uint64_t off);
/** True if p points into the region. */
XM_API bool xm_umem_contains(const struct xm_umem *u, const void *p);

/** The zone by id. */
XM_API struct xm_zone *xm_umem_zone(struct xm_umem *u, enum xm_zone_id id);
/** The frame zone owning region offset off, or NULL (errno EINVAL). */
XM_API struct xm_zone *xm_umem_zone_of(struct xm_umem *u, uint64_t off);
/** The item containing region offset off (its start), or NULL. */
XM_API void *xm_umem_frame_of(struct xm_umem *u, uint64_t off);
/**
 * The per-frame record (meta_size bytes) of the frame containing region
 * offset off, or NULL when off is outside the region.  O(1): records are
 * indexed by off / chunk_size.
 */
XM_API void *xm_umem_frame_meta(struct xm_umem *u, uint64_t off);

/* Reclaim hooks, run when a zone reaches its limit (mb_reclaim). */
typedef void (*xm_reclaim_fn_t)(struct xm_umem *u, struct xm_zone *z,
				void *arg);
/** @return 0, on success; -EINVAL, -ENOMEM or -EEXIST otherwise. */
XM_API int xm_umem_reclaim_register(struct xm_umem *u, xm_reclaim_fn_t fn,
				    void *arg);
/** @return 0, on success; -ENOENT when fn/arg was not registered. */
XM_API int xm_umem_reclaim_unregister(struct xm_umem *u, xm_reclaim_fn_t fn,
				      void *arg);

/**
 * @brief **xm_zone_alloc()** takes one item.
 * @param flags XM_NOWAIT or XM_WAITOK, optionally | XM_USE_RESERVE.
 * @return the item, or NULL with errno ENOBUFS (NOWAIT at the limit).
 *
 * At the limit: a rate-limited warning naming the limit, then the reclaim
 * hooks, then NOWAIT fails or WAITOK sleeps until an item is freed.
 */
XM_API void *xm_zone_alloc(struct xm_zone *z, int flags);
/** Returns an item to its zone; any thread may free any item. */
XM_API void xm_zone_free(struct xm_zone *z, void *item);
/**
 * @brief **xm_zone_alloc_bulk()** takes n items or none.
 * @return 0, on success; -ENOBUFS (nothing taken) or -EINVAL otherwise.
 */
XM_API int xm_zone_alloc_bulk(struct xm_zone *z, void **items, unsigned int n,
			      int flags);
/** Returns n items. */
XM_API void xm_zone_free_bulk(struct xm_zone *z, void *const *items,
			      unsigned int n);

/** The zone's name, as netstat -m and vmstat -z print it. */
XM_API const char *xm_zone_name(const struct xm_zone *z);
/** Item size in bytes (2048, 4096, 9216, 16384, or hdr_size). */
XM_API uint32_t xm_zone_size(const struct xm_zone *z);
/** Which of the umem's zones z is. */
XM_API enum xm_zone_id xm_zone_id(const struct xm_zone *z);
/** True if item is the start of an item of this zone. */
XM_API bool xm_zone_owns(const struct xm_zone *z, const void *item);
/** Current limit. */
XM_API uint32_t xm_zone_get_max(const struct xm_zone *z);
/**
 * @brief **xm_zone_set_max()** raises a zone's limit.
 * @return the limit that took effect; -EINVAL when nitems is below the
 * current limit or above the carved capacity.
 */
XM_API int64_t xm_zone_set_max(struct xm_zone *z, uint32_t nitems);
/** Hand the calling thread's cached items of z back to the depot. */
XM_API void xm_zone_cache_flush(struct xm_zone *z);
/** Same for every zone of u. */
XM_API void xm_umem_cache_flush(struct xm_umem *u);

/* Statistics per zone, as vmstat -z prints them. */
struct xm_zone_stats {
	char name[16];			/* "mbuf_cluster", ... */
	uint32_t size;			/* item size */
	uint64_t limit;			/* current limit */
	uint64_t capacity;		/* carved items */
	uint64_t used;			/* held outside the zone */
	uint64_t free;			/* in the depot, reserve and keg */
	uint64_t cached;		/* in thread caches */
	uint64_t reserve;		/* free items in the reserve */
	uint64_t requests;		/* allocation requests (items) */
	uint64_t failures;		/* failed requests */
	uint64_t sleeps;		/* WAITOK sleeps */
};

/** @return 0, on success; -EINVAL otherwise. */
XM_API int xm_zone_stats(struct xm_zone *z, struct xm_zone_stats *st);
/** vmstat -z style table of every zone of u. */
XM_API int xm_umem_print_zones(struct xm_umem *u, FILE *f);
/** netstat -m style summary. */
XM_API int xm_umem_print_summary(struct xm_umem *u, FILE *f);

/*
 * Conservation audit: every item of a zone is counted exactly once, in
 * one of: never created (keg), depot, reserve, a thread cache, or held
 * (allocated; in use by the application or lent to the kernel).  Call it
 * when no other thread is allocating from the zone.
 */
struct xm_zone_audit {
	uint64_t capacity;		/* carved items */
	uint64_t unborn;		/* never created (keg) */
	uint64_t depot;			/* in depot buckets */
	uint64_t reserve;		/* in the emergency reserve */
	uint64_t cached;		/* in thread caches */
	uint64_t held;			/* allocated */
	uint64_t duplicates;		/* items found twice: must be 0 */
	uint64_t foreign;		/* pointers that are not items: 0 */
	uint64_t mismatches;		/* debug state disagrees: must be 0 */
};

/**
 * @return 0 when every item is counted exactly once; -EUCLEAN otherwise
 * (the report says what was wrong).
 */
XM_API int xm_zone_audit(struct xm_zone *z, struct xm_zone_audit *a);
/**
 * Audits every zone; held, if not NULL, receives the total of held items
 * over all zones.  @return 0 or -EUCLEAN.
 */
XM_API int xm_umem_audit(struct xm_umem *u, uint64_t *held);

#ifdef __cplusplus
}
#endif

#endif /* XM_UMEM_H */
