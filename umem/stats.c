/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.c - what the zones report: per-zone statistics (vmstat -z), the
 * netstat -m summary, and the conservation audit.
 *
 * Counting.  Each thread cache counts the items it hands out and takes
 * back (c_allocs, c_frees: written by its thread only, read here with
 * relaxed loads); allocations and frees that bypass caches, and the
 * totals of caches whose thread exited, are counted in the zone under its
 * lock.  So at any quiescent moment:
 *
 *	used   = sum(allocs) - sum(frees)                  held by the caller
 *	cached = created - used - depot - reserve          in thread caches
 *	free   = depot + reserve + (limit - created)
 *
 * The audit does not trust those counters: it finds every free item where
 * it is (depot, reserve, each thread's buckets), marks it in a bitmap, and
 * checks that nothing is found twice, nothing foreign is found, what it
 * found agrees with the counters and, in INVARIANTS builds, with the
 * per-item state.
 *
 * KPI:
 *	xm_zone_stats, xm_umem_print_zones, xm_umem_print_summary
 *	xm_zone_audit, xm_umem_audit
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xm_umem_int.h"

/* Sum of the counters; z locked. */
static void zone_counts_locked(struct xm_zone *z, uint64_t *allocs,
			       uint64_t *frees)
{
	uint64_t a = z->uz_allocs, f = z->uz_frees;

	for (struct xm_cache *c = z->uz_caches; c != NULL; c = c->c_next) {
		a += atomic_load_explicit(&c->c_allocs, memory_order_relaxed);
		f += atomic_load_explicit(&c->c_frees, memory_order_relaxed);
	}
	*allocs = a;
	*frees = f;
}

/* One consistent reading of a zone; z is locked inside. */
struct zone_snap {
	struct xm_zone_stats st;	/* what xm_zone_stats() reports */
	uint64_t created;		/* items ever created */
};

static void zone_snap(struct xm_zone *z, struct zone_snap *sn)
{
	struct xm_zone_stats *st = &sn->st;
	uint64_t allocs, frees, used, rsv, limit, idle;

	memset(sn, 0, sizeof(*sn));
	snprintf(st->name, sizeof(st->name), "%s", z->uz_name);
	st->size = z->uz_size;
	st->capacity = z->uz_capacity;

	pthread_mutex_lock(&z->uz_lock);
	limit = atomic_load(&z->uz_limit);
	zone_counts_locked(z, &allocs, &frees);
	/* Other threads may be mid-operation: keep the figures sane. */
	idle = z->uz_created - z->uz_stack_cnt;
	used = allocs > frees ? allocs - frees : 0;
	if (used > idle)
		used = idle;
	rsv = z->uz_stack_cnt < z->uz_reserve_target ? z->uz_stack_cnt :
	      z->uz_reserve_target;
	sn->created = z->uz_created;
	st->limit = limit;
	st->used = used;
	st->reserve = rsv;
	st->free = z->uz_stack_cnt + (limit - z->uz_created);
	st->cached = idle - used;
	st->failures = atomic_load(&z->uz_failures);
	st->requests = allocs + st->failures;
	st->sleeps = z->uz_sleeps;
	pthread_mutex_unlock(&z->uz_lock);
}

int xm_zone_stats(struct xm_zone *z, struct xm_zone_stats *st)
{
	struct zone_snap sn;

	if (z == NULL || st == NULL)
		return -EINVAL;
	zone_snap(z, &sn);
	*st = sn.st;
	return 0;
}

/* FreeBSD's vmstat -z order: mbuf first, then the clusters. */
static const enum xm_zone_id print_order[XM_ZONE_MAX] = {
	XM_ZONE_MBUF, XM_ZONE_CLUST, XM_ZONE_JUMBOP, XM_ZONE_JUMBO9,
	XM_ZONE_JUMBO16,
};

int xm_umem_print_zones(struct xm_umem *u, FILE *f)
{
	struct xm_zone_stats st;

	if (u == NULL || f == NULL)
		return -EINVAL;
	fprintf(f, "%-17s %6s %9s %9s %9s %9s %12s %8s %6s\n", "ITEM",
		"SIZE", "LIMIT", "USED", "FREE", "CACHED", "REQ", "FAIL",
		"SLEEP");
	for (int i = 0; i < XM_ZONE_MAX; i++) {
		char name[24];

		xm_zone_stats(&u->u_zone[print_order[i]], &st);
		snprintf(name, sizeof(name), "%s:", st.name);
		fprintf(f, "%-17s %6" PRIu32 ",%9" PRIu64 ",%9" PRIu64
			",%9" PRIu64 ",%9" PRIu64 ",%12" PRIu64 ",%8" PRIu64
			",%6" PRIu64 "\n", name, st.size, st.limit, st.used,
			st.free, st.cached, st.requests, st.failures,
			st.sleeps);
	}
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

int xm_umem_print_summary(struct xm_umem *u, FILE *f)
{
	static const char *const what[XM_FRAME_ZONES] = {
		[XM_ZONE_CLUST] = "mbuf clusters",
		[XM_ZONE_JUMBOP] = "4k (page size) jumbo clusters",
		[XM_ZONE_JUMBO9] = "9k jumbo clusters",
		[XM_ZONE_JUMBO16] = "16k jumbo clusters",
	};
	struct zone_snap sn[XM_ZONE_MAX];
	uint64_t cur = 0, cache = 0;

	if (u == NULL || f == NULL)
		return -EINVAL;
	for (int i = 0; i < XM_ZONE_MAX; i++) {
		/* netstat's "cache": created and not in use. */
		zone_snap(&u->u_zone[i], &sn[i]);
		cur += sn[i].st.used * sn[i].st.size;
		cache += (sn[i].created - sn[i].st.used) * sn[i].st.size;
	}
#define SN(i)	(&sn[i].st)
	fprintf(f, "%" PRIu64 "/%" PRIu64 "/%" PRIu64
		" mbufs in use (current/cache/total)\n",
		SN(XM_ZONE_MBUF)->used,
		sn[XM_ZONE_MBUF].created - SN(XM_ZONE_MBUF)->used,
		sn[XM_ZONE_MBUF].created);
	for (int i = 0; i < XM_FRAME_ZONES; i++)
		fprintf(f, "%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64
			" %s in use (current/cache/total/max)\n",
			SN(i)->used, sn[i].created - SN(i)->used,
			sn[i].created, SN(i)->limit, what[i]);
	fprintf(f, "%" PRIu64 "K/%" PRIu64 "K/%" PRIu64
		"K bytes allocated to network (current/cache/total)\n",
		cur / 1024, cache / 1024, (cur + cache) / 1024);
	fprintf(f, "%" PRIu64 "/%" PRIu64
		" requests for mbufs denied (mbufs/clusters)\n",
		SN(XM_ZONE_MBUF)->failures, SN(XM_ZONE_CLUST)->failures);
	fprintf(f, "%" PRIu64 "/%" PRIu64
		" requests for mbufs delayed (mbufs/clusters)\n",
		SN(XM_ZONE_MBUF)->sleeps, SN(XM_ZONE_CLUST)->sleeps);
	fprintf(f, "%" PRIu64 "/%" PRIu64 "/%" PRIu64
		" requests for jumbo clusters delayed (4k/9k/16k)\n",
		SN(XM_ZONE_JUMBOP)->sleeps, SN(XM_ZONE_JUMBO9)->sleeps,
		SN(XM_ZONE_JUMBO16)->sleeps);
	fprintf(f, "%" PRIu64 "/%" PRIu64 "/%" PRIu64
		" requests for jumbo clusters denied (4k/9k/16k)\n",
		SN(XM_ZONE_JUMBOP)->failures, SN(XM_ZONE_JUMBO9)->failures,
		SN(XM_ZONE_JUMBO16)->failures);
	fprintf(f, "%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64
		" emergency reserve items free (clusters/4k/9k/16k/mbufs)\n",
		SN(XM_ZONE_CLUST)->reserve, SN(XM_ZONE_JUMBOP)->reserve,
		SN(XM_ZONE_JUMBO9)->reserve, SN(XM_ZONE_JUMBO16)->reserve,
		SN(XM_ZONE_MBUF)->reserve);
#undef SN
	fprintf(f, "%" PRIu64 "K bytes of UMEM on %s, %u-byte chunks\n",
		(uint64_t)u->u_size / 1024,
		u->u_hugepages ? "2 MiB hugepages" : "4 KiB pages",
		u->u_chunk_size);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

/* ---------------------------------------------------------------- audit */

struct audit_walk {
	struct xm_zone *z;
	uint64_t *seen;			/* one bit per item */
	uint64_t created;
	struct xm_zone_audit *a;
};

static void audit_mark(struct audit_walk *w, void *item, uint64_t *where)
{
	uint64_t idx;

	if (!_xm_zone_owns(w->z, item)) {
		w->a->foreign++;
		return;
	}
	idx = _xm_zone_index(w->z, item);
	/* An item the keg never created cannot be free anywhere. */
	if (idx >= w->created) {
		w->a->foreign++;
		return;
	}
	if (w->seen[idx / 64] & (1ULL << (idx % 64))) {
		w->a->duplicates++;
		return;
	}
	w->seen[idx / 64] |= 1ULL << (idx % 64);
	(*where)++;
}

int xm_zone_audit(struct xm_zone *z, struct xm_zone_audit *a)
{
	struct audit_walk w = { .z = z, .a = a };
	uint64_t allocs, frees, found, rsv;
	bool bad = false;

	if (z == NULL || a == NULL)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	w.seen = calloc(((size_t)z->uz_capacity + 63) / 64, sizeof(uint64_t));
	if (w.seen == NULL)
		return -ENOMEM;

	pthread_mutex_lock(&z->uz_lock);
	w.created = z->uz_created;
	a->capacity = z->uz_capacity;
	a->unborn = z->uz_capacity - z->uz_created;
	rsv = z->uz_stack_cnt < z->uz_reserve_target ? z->uz_stack_cnt :
	      z->uz_reserve_target;
	for (uint32_t i = 0; i < z->uz_stack_cnt; i++)
		audit_mark(&w, z->uz_stack[i], i < rsv ? &a->reserve :
			   &a->depot);
	for (struct xm_cache *c = z->uz_caches; c != NULL; c = c->c_next) {
		for (uint32_t i = 0; i < c->c_alloc->ub_cnt; i++)
			audit_mark(&w, c->c_alloc->ub_items[i], &a->cached);
		for (uint32_t i = 0; i < c->c_free->ub_cnt; i++)
			audit_mark(&w, c->c_free->ub_items[i], &a->cached);
	}
	found = a->depot + a->reserve + a->cached;
	if (found > w.created)
		bad = true;
	else
		a->held = w.created - found;

	/* The counters must tell the same story as the walk. */
	zone_counts_locked(z, &allocs, &frees);
	if (allocs - frees != a->held)
		a->mismatches++;
#ifdef INVARIANTS
	for (uint64_t idx = 0; idx < z->uz_capacity; idx++) {
		uint8_t st = atomic_load_explicit(&z->uz_state[idx],
						  memory_order_relaxed);
		bool free_found = (w.seen[idx / 64] >> (idx % 64)) & 1;

		if (idx >= w.created)
			a->mismatches += st != XM_ITEM_UNBORN;
		else if (free_found)
			a->mismatches += st != XM_ITEM_FREE &&
					 st != XM_ITEM_FRESH;
		else
			a->mismatches += st != XM_ITEM_ALLOCATED;
	}
#endif
	pthread_mutex_unlock(&z->uz_lock);
	free(w.seen);

	if (a->capacity != a->unborn + a->depot + a->reserve + a->cached +
	    a->held)
		bad = true;
	if (bad || a->duplicates != 0 || a->foreign != 0 ||
	    a->mismatches != 0)
		return -EUCLEAN;
	return 0;
}

int xm_umem_audit(struct xm_umem *u, uint64_t *held)
{
	struct xm_zone_audit a;
	uint64_t total = 0;
	int rc = 0, r;

	if (u == NULL)
		return -EINVAL;
	for (int i = 0; i < XM_ZONE_MAX; i++) {
		r = xm_zone_audit(&u->u_zone[i], &a);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			xm_pr_warn("audit: %s: %llu duplicates, %llu foreign, "
				   "%llu mismatches (held %llu)\n",
				   u->u_zone[i].uz_name,
				   (unsigned long long)a.duplicates,
				   (unsigned long long)a.foreign,
				   (unsigned long long)a.mismatches,
				   (unsigned long long)a.held);
			rc = -EUCLEAN;
		}
		total += a.held;
	}
	if (held != NULL)
		*held = total;
	return rc;
}
