// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_lru.c - the per-worker connection table (see lb_lru.h for the
 * layout).
 *
 * Exact LRU, not an approximation: a hit unlinks its entry and puts it at
 * the head.  That touches the two neighbours' lines, which in a table far
 * larger than the cache could cost two misses per packet; in practice the
 * neighbours of a busy flow are flows that arrived next to it, and a
 * burst's entries stay warm.  The benchmark (tests/bench/lb.sh, 60000
 * flows in turn: every hit is the oldest entry, its neighbour the next
 * packet's) bore this out: with the worker prefetching the bucket, then
 * the entry (lb_lru_prefetch(), lb_lru_prefetch_entry()), a lookup costs
 * ~15 ns against ~4 with 100 flows.  CLOCK (a referenced bit and a
 * sweeping hand) stays the fallback for traffic where it does not hold.
 *
 * Free entries are the ones never used yet (a bump index) and the ones
 * removed, kept on a free list through e_next.
 *
 * The counters are written by the owning worker only and may be read by
 * another thread (the stats printer): relaxed atomic loads and stores, so
 * a reader sees whole values and the writer pays no locked instruction.
 *
 * KPI:
 *   lb_lru_create(), lb_lru_destroy()
 *   lb_lru_lookup(), lb_lru_insert(), lb_lru_remove(), lb_lru_prefetch(),
 *   lb_lru_prefetch_entry()
 *   lb_lru_count(), lb_lru_capacity(), lb_lru_oldest(), lb_lru_walk(),
 *   lb_lru_stats(),
 *   lb_lru_check()
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lb_lru.h"

#define LB_LRU_HUGE		(2u << 20)	/* x86-64 huge page */

struct lb_lru {
	struct lb_lru_entry *l_ent;	/* capacity entries, 64-byte aligned */
	uint32_t *l_bucket;		/* chain heads, mask + 1 of them,
					 * right after the entries */
	uint32_t l_mask;		/* buckets - 1 */
	uint32_t l_capacity;		/* entries */
	uint32_t l_count;		/* entries in use */
	uint32_t l_unused;		/* entries never used: l_unused.. */
	uint32_t l_free;		/* removed entries, through e_next */
	uint32_t l_head;		/* most recently used */
	uint32_t l_tail;		/* least recently used */
	struct lb_sipkey l_key;		/* to re-hash an evicted flow */
	struct lb_lru_stats l_st;	/* counters */
};

#define lru_inc(field)							\
	__atomic_store_n(&(field), __atomic_load_n(&(field),		\
			 __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED)

struct lb_lru *lb_lru_create(uint32_t capacity, const struct lb_sipkey *key)
{
	struct lb_lru *l;
	size_t ent_bytes, bytes;
	uint32_t nb = 1;

	if (capacity < LB_LRU_MIN || capacity > LB_LRU_MAX || key == NULL) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < capacity)
		nb <<= 1;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		goto out_nomem;
	/* Entries, then buckets, in one region (entries are 64 bytes, so
	 * the buckets start aligned). */
	ent_bytes = (size_t)capacity * sizeof(*l->l_ent);
	bytes = ent_bytes + (size_t)nb * sizeof(*l->l_bucket);
	if (bytes >= LB_LRU_HUGE) {
		/*
		 * A table this large is touched at random, a line a packet:
		 * on 4 KiB pages (65536 flows: 1088 of them) a lookup often
		 * misses the TLB too, and in a guest the walk goes through
		 * the guest's and the host's page tables.  Ask for
		 * transparent huge pages (THP "madvise" mode, Debian's
		 * default); if they are off or none is free, the table
		 * works on small pages.  Measured: ~100 cycles a packet
		 * less in tests/bench/lb.sh (examples/lb/README.md).
		 */
		bytes = (bytes + LB_LRU_HUGE - 1) & ~(LB_LRU_HUGE - 1);
		l->l_ent = aligned_alloc(LB_LRU_HUGE, bytes);
		if (l->l_ent != NULL)
			(void)madvise(l->l_ent, bytes, MADV_HUGEPAGE);
	} else {
		l->l_ent = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	}
	if (l->l_ent == NULL)
		goto out_free;
	l->l_bucket = (uint32_t *)((char *)l->l_ent + ent_bytes);
	memset(l->l_ent, 0, ent_bytes);
	memset(l->l_bucket, 0xff, (size_t)nb * sizeof(*l->l_bucket));
	l->l_mask = nb - 1;
	l->l_capacity = capacity;
	l->l_free = LB_LRU_NIL;
	l->l_head = l->l_tail = LB_LRU_NIL;
	l->l_key = *key;
	return l;

out_free:
	free(l);
out_nomem:
	errno = ENOMEM;
	return NULL;
}

void lb_lru_destroy(struct lb_lru *l)
{
	if (l == NULL)
		return;
	free(l->l_ent);			/* the buckets too */
	free(l);
}

static inline uint32_t bucket_of(const struct lb_lru *l, uint64_t hash)
{
	/* The high half: the low bits also pick the Maglev slot. */
	return (uint32_t)(hash >> 32) & l->l_mask;
}

static inline void list_unlink(struct lb_lru *l, struct lb_lru_entry *e)
{
	if (e->e_prev != LB_LRU_NIL)
		l->l_ent[e->e_prev].e_next = e->e_next;
	else
		l->l_head = e->e_next;
	if (e->e_next != LB_LRU_NIL)
		l->l_ent[e->e_next].e_prev = e->e_prev;
	else
		l->l_tail = e->e_prev;
}

static inline void list_push_head(struct lb_lru *l, struct lb_lru_entry *e,
				  uint32_t idx)
{
	e->e_prev = LB_LRU_NIL;
	e->e_next = l->l_head;
	if (l->l_head != LB_LRU_NIL)
		l->l_ent[l->l_head].e_prev = idx;
	else
		l->l_tail = idx;
	l->l_head = idx;
}

/* Takes entry idx out of its bucket's chain. */
static void chain_unlink(struct lb_lru *l, uint32_t b, uint32_t idx)
{
	uint32_t *link = &l->l_bucket[b];

	while (*link != LB_LRU_NIL) {
		if (*link == idx) {
			*link = l->l_ent[idx].e_chain;
			return;
		}
		link = &l->l_ent[*link].e_chain;
	}
}

struct lb_lru_entry *lb_lru_lookup(struct lb_lru *l, uint64_t hash,
				   const struct lb_flow *f)
{
	uint32_t idx = l->l_bucket[bucket_of(l, hash)];

	while (idx != LB_LRU_NIL) {
		struct lb_lru_entry *e = &l->l_ent[idx];

		if (lb_flow_equal(&e->e_flow, f)) {
			if (l->l_head != idx) {
				list_unlink(l, e);
				list_push_head(l, e, idx);
			}
			lru_inc(l->l_st.hits);
			return e;
		}
		idx = e->e_chain;
	}
	lru_inc(l->l_st.misses);
	return NULL;
}

struct lb_lru_entry *lb_lru_insert(struct lb_lru *l, uint64_t hash,
				   const struct lb_flow *f)
{
	struct lb_lru_entry *e;
	uint32_t idx, b;

	if (l->l_free != LB_LRU_NIL) {
		idx = l->l_free;
		l->l_free = l->l_ent[idx].e_next;
	} else if (l->l_unused < l->l_capacity) {
		idx = l->l_unused++;
	} else {
		/* Full: the least recently used flow makes room. */
		idx = l->l_tail;
		e = &l->l_ent[idx];
		list_unlink(l, e);
		chain_unlink(l, bucket_of(l, lb_flow_hash(&l->l_key,
							   &e->e_flow)), idx);
		l->l_count--;
		lru_inc(l->l_st.evictions);
	}
	e = &l->l_ent[idx];
	e->e_flow = *f;
	e->e_backend_id = 0;
	e->e_gen = 0;
	e->e_backend = 0;
	e->e_flags = 0;
	b = bucket_of(l, hash);
	e->e_chain = l->l_bucket[b];
	l->l_bucket[b] = idx;
	list_push_head(l, e, idx);
	l->l_count++;
	lru_inc(l->l_st.inserts);
	return e;
}

void lb_lru_remove(struct lb_lru *l, struct lb_lru_entry *e)
{
	uint32_t idx = (uint32_t)(e - l->l_ent);

	list_unlink(l, e);
	chain_unlink(l, bucket_of(l, lb_flow_hash(&l->l_key, &e->e_flow)),
		     idx);
	memset(&e->e_flow, 0, sizeof(e->e_flow));
	e->e_prev = LB_LRU_NIL;
	e->e_chain = LB_LRU_NIL;
	e->e_next = l->l_free;
	l->l_free = idx;
	l->l_count--;
	lru_inc(l->l_st.removals);
}

void lb_lru_prefetch(const struct lb_lru *l, uint64_t hash)
{
	__builtin_prefetch(&l->l_bucket[bucket_of(l, hash)]);
}

void lb_lru_prefetch_entry(const struct lb_lru *l, uint64_t hash)
{
	uint32_t idx = l->l_bucket[bucket_of(l, hash)];

	/* For writing: a hit relinks the entry at the head of the list. */
	if (idx != LB_LRU_NIL)
		lb_prefetchw(&l->l_ent[idx]);
}

uint32_t lb_lru_count(const struct lb_lru *l)
{
	return l->l_count;
}

uint32_t lb_lru_capacity(const struct lb_lru *l)
{
	return l->l_capacity;
}

struct lb_lru_entry *lb_lru_oldest(struct lb_lru *l)
{
	return l->l_tail == LB_LRU_NIL ? NULL : &l->l_ent[l->l_tail];
}

unsigned int lb_lru_walk(const struct lb_lru *l,
			 void (*fn)(void *arg, const struct lb_lru_entry *e),
			 void *arg, unsigned int max)
{
	uint32_t i = __atomic_load_n(&l->l_head, __ATOMIC_RELAXED);
	unsigned int n = 0;

	while (i < l->l_capacity && n < max) {
		struct lb_lru_entry e;

		/* A copy: the owner may rewrite the entry meanwhile. */
		memcpy(&e, &l->l_ent[i], sizeof(e));
		fn(arg, &e);
		n++;
		i = e.e_next;
	}
	return n;
}

void lb_lru_stats(const struct lb_lru *l, struct lb_lru_stats *st)
{
	st->hits = __atomic_load_n(&l->l_st.hits, __ATOMIC_RELAXED);
	st->misses = __atomic_load_n(&l->l_st.misses, __ATOMIC_RELAXED);
	st->inserts = __atomic_load_n(&l->l_st.inserts, __ATOMIC_RELAXED);
	st->evictions = __atomic_load_n(&l->l_st.evictions, __ATOMIC_RELAXED);
	st->removals = __atomic_load_n(&l->l_st.removals, __ATOMIC_RELAXED);
}

const char *lb_lru_check(const struct lb_lru *l)
{
	uint8_t *seen;
	uint32_t n = 0, prev = LB_LRU_NIL;
	const char *why = NULL;

	seen = calloc(l->l_capacity, 1);
	if (seen == NULL)
		return "out of memory";
	/* The list, head to tail: every entry once, back links right. */
	for (uint32_t i = l->l_head; i != LB_LRU_NIL; i = l->l_ent[i].e_next) {
		if (i >= l->l_unused) {
			why = "list holds an entry never used";
			goto out;
		}
		if (seen[i]) {
			why = "entry twice in the list";
			goto out;
		}
		seen[i] = 1;
		if (l->l_ent[i].e_prev != prev) {
			why = "broken back link";
			goto out;
		}
		prev = i;
		n++;
	}
	if (prev != l->l_tail) {
		why = "tail is not the list's last entry";
		goto out;
	}
	if (n != l->l_count) {
		why = "list length differs from the count";
		goto out;
	}
	/* Chains: each listed entry once, in the bucket its flow hashes to. */
	n = 0;
	for (uint32_t b = 0; b <= l->l_mask; b++) {
		for (uint32_t i = l->l_bucket[b]; i != LB_LRU_NIL;
		     i = l->l_ent[i].e_chain) {
			if (i >= l->l_unused || seen[i] != 1) {
				why = "chain holds an entry not in the list, "
				      "or one twice";
				goto out;
			}
			seen[i] = 2;
			if (bucket_of(l, lb_flow_hash(&l->l_key,
						      &l->l_ent[i].e_flow)) != b) {
				why = "entry in the wrong bucket";
				goto out;
			}
			n++;
		}
	}
	if (n != l->l_count)
		why = "chains hold a different number of entries";
	/* Free list + in use + never used = capacity. */
	for (uint32_t i = l->l_free; why == NULL && i != LB_LRU_NIL;
	     i = l->l_ent[i].e_next) {
		if (i >= l->l_unused || seen[i]) {
			why = "free list holds a live entry";
			break;
		}
		seen[i] = 3;
		n++;
	}
	if (why == NULL && n + (l->l_capacity - l->l_unused) != l->l_capacity)
		why = "entries lost: free + used + unused is not the capacity";
out:
	free(seen);
	return why;
}
