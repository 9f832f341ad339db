/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_lru.h - the connection table: a bounded, exact-LRU hash table of
 * flows, one per worker thread (so it takes no lock and shares no cache
 * line), as Katran's per-CPU LRU map.
 *
 *   buckets[hash & mask] --> entry --e_chain--> entry --> NIL
 *
 *   LRU list (doubly linked through e_prev / e_next, indexes):
 *   head (most recent) <-> ... <-> tail (least recent, evicted first)
 *
 * Entries are 64 bytes, one cache line: the flow (40 bytes) and what the
 * balancer remembers about it.  Everything is preallocated at creation
 * (capacity entries, a power-of-two bucket array at least as large, in
 * one region: on transparent huge pages when it is 2 MiB or more), so
 * the packet path never allocates; a full table evicts its least recently
 * used flow to make room.  Links are 32-bit indexes, LB_LRU_NIL for none.
 *
 * The caller hashes the flow with the deployment's key (lb_flow_hash())
 * and passes the hash in; the table keeps the key only to find the bucket
 * of the entry it evicts.
 */
#ifndef LB_LRU_H
#define LB_LRU_H

#include <stdint.h>

#include "lb_hash.h"

#define LB_LRU_NIL		UINT32_MAX
#define LB_LRU_MIN		16u		/* smallest capacity */
#define LB_LRU_MAX		(1u << 24)	/* largest capacity */

/* One flow.  The value fields are the caller's; the table zeroes them on
 * insert and never reads them. */
struct lb_lru_entry {
	struct lb_flow e_flow;		/* key */
	uint32_t e_prev;		/* toward the most recent */
	uint32_t e_next;		/* toward the least recent */
	uint32_t e_chain;		/* next entry of the bucket */
	uint32_t e_backend_id;		/* value: backend's stable identity */
	uint32_t e_gen;			/* value: config generation of e_backend */
	uint16_t e_backend;		/* value: backend index at e_gen */
	uint16_t e_flags;		/* value: free for the caller */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct lb_lru_entry) == 64, "an entry is a cache line");

struct lb_lru_stats {
	uint64_t hits;			/* lookups that found their flow */
	uint64_t misses;		/* lookups that did not */
	uint64_t inserts;		/* flows added */
	uint64_t evictions;		/* flows pushed out by an insert */
	uint64_t removals;		/* flows taken out by lb_lru_remove() */
};

struct lb_lru;

/*
 * Prefetch for writing: the line comes in exclusive, so the store that
 * follows does not take a second trip to the other cache that has it (a
 * frame the kernel just filled on another CPU, an entry about to be
 * relinked).  __builtin_prefetch(p, 1) only says so when the compiler may
 * use PREFETCHW (-mprfchw); processors without it execute the opcode as a
 * no-op.
 */
static inline void lb_prefetchw(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/**
 * Creates a table of capacity flows (LB_LRU_MIN .. LB_LRU_MAX).
 * @return the table, or NULL with errno EINVAL / ENOMEM.
 */
struct lb_lru *lb_lru_create(uint32_t capacity, const struct lb_sipkey *key);
/** Frees the table; NULL is allowed. */
void lb_lru_destroy(struct lb_lru *l);

/**
 * Finds flow f (hash = lb_flow_hash(key, f)); a hit becomes the most
 * recently used entry.  @return the entry, or NULL.
 */
struct lb_lru_entry *lb_lru_lookup(struct lb_lru *l, uint64_t hash,
				   const struct lb_flow *f);

/**
 * Adds flow f, which must not be in the table, as the most recent entry;
 * when the table is full the least recently used flow goes first.
 * @return the entry, its value fields zeroed (never NULL).
 */
struct lb_lru_entry *lb_lru_insert(struct lb_lru *l, uint64_t hash,
				   const struct lb_flow *f);

/** Removes an entry returned by lookup or insert. */
void lb_lru_remove(struct lb_lru *l, struct lb_lru_entry *e);

/** Warms the cache line of the bucket a lookup of hash will read. */
void lb_lru_prefetch(const struct lb_lru *l, uint64_t hash);
/**
 * Second step of the same: reads the bucket (warm after lb_lru_prefetch()
 * some time before) and warms the first entry of its chain, the one a
 * lookup of hash compares first.  Issued for a whole burst between the
 * two, it overlaps the burst's table misses instead of taking them one
 * after the other.
 */
void lb_lru_prefetch_entry(const struct lb_lru *l, uint64_t hash);

/** Flows in the table. */
uint32_t lb_lru_count(const struct lb_lru *l);
uint32_t lb_lru_capacity(const struct lb_lru *l);
/** The least recently used entry, or NULL when empty (for tests). */
struct lb_lru_entry *lb_lru_oldest(struct lb_lru *l);
/**
 * Copies up to max entries, most recent first, to fn (another thread's
 * view for `xmbuf-lb ctl flows`).  The walk follows the LRU links while
 * the owner may relink them: it is bounded by max and by the array, so it
 * ends and reads only the table's memory, but under traffic it may skip
 * or repeat an entry.  @return entries passed to fn.
 */
unsigned int lb_lru_walk(const struct lb_lru *l,
			 void (*fn)(void *arg, const struct lb_lru_entry *e),
			 void *arg, unsigned int max);
/** The counters (the table's own, single-writer). */
void lb_lru_stats(const struct lb_lru *l, struct lb_lru_stats *st);
/**
 * Walks every structure and checks it: each entry in exactly one bucket
 * chain and once in the list, count right, links consistent.
 * @return NULL when sound, else what is wrong (for tests).
 */
const char *lb_lru_check(const struct lb_lru *l);

#endif /* LB_LRU_H */
