// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_lru.c - the connection table (examples/lb/lb_lru.c): bounded,
 * exact least-recently-used eviction, removal and reuse, structure
 * checked after every step, large tables (huge-page region), and a
 * randomized run against a reference model (a list of flows in recency
 * order).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../examples/lb/lb_lru.h"

static struct lb_sipkey key;

static void setup(void)
{
	uint8_t k[LB_KEY_LEN];

	for (int i = 0; i < LB_KEY_LEN; i++)
		k[i] = (uint8_t)(0xa0 + i);
	lb_sipkey_init(&key, k);
}

TestSuite(lb_lru, .init = setup, .timeout = 30);

static struct lb_flow flow(uint32_t i)
{
	struct lb_flow f;

	memset(&f, 0, sizeof(f));
	f.f_src[0] = 0x0a000000u + i;
	f.f_dst[0] = 0x010212c6;
	f.f_sport = (uint16_t)(i * 7);
	f.f_dport = 53;
	f.f_proto = 17;
	return f;
}

static struct lb_lru_entry *lookup(struct lb_lru *l, uint32_t i)
{
	struct lb_flow f = flow(i);

	return lb_lru_lookup(l, lb_flow_hash(&key, &f), &f);
}

static struct lb_lru_entry *insert(struct lb_lru *l, uint32_t i)
{
	struct lb_flow f = flow(i);
	struct lb_lru_entry *e = lb_lru_insert(l, lb_flow_hash(&key, &f), &f);

	cr_assert_not_null(e);
	e->e_backend_id = i;	/* the value tells the flow */
	return e;
}

static void check(const struct lb_lru *l)
{
	const char *why = lb_lru_check(l);

	cr_assert_null(why, "table broken: %s", why);
}

Test(lb_lru, create_rejects_bad_sizes)
{
	errno = 0;
	cr_assert_null(lb_lru_create(LB_LRU_MIN - 1, &key));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(lb_lru_create(LB_LRU_MAX + 1, &key));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(lb_lru_create(64, NULL));
	cr_assert_eq(errno, EINVAL);
	lb_lru_destroy(NULL);
}

Test(lb_lru, insert_then_find)
{
	struct lb_lru *l = lb_lru_create(100, &key);
	struct lb_lru_stats st;

	cr_assert_not_null(l);
	cr_assert_eq(lb_lru_capacity(l), 100);
	cr_assert_null(lookup(l, 1));
	for (uint32_t i = 0; i < 100; i++)
		insert(l, i);
	check(l);
	cr_assert_eq(lb_lru_count(l), 100);
	for (uint32_t i = 0; i < 100; i++) {
		struct lb_lru_entry *e = lookup(l, i);

		cr_assert_not_null(e, "flow %u", i);
		cr_assert_eq(e->e_backend_id, i);
	}
	cr_assert_null(lookup(l, 100));
	lb_lru_stats(l, &st);
	cr_assert_eq(st.hits, 100);
	cr_assert_eq(st.misses, 2);
	cr_assert_eq(st.inserts, 100);
	cr_assert_eq(st.evictions, 0);
	check(l);
	lb_lru_destroy(l);
}

/* The prefetches read and change nothing: same entries, same order, same
 * counters, whether the bucket is empty, holds the flow or another one. */
Test(lb_lru, prefetches_change_nothing)
{
	struct lb_lru *l = lb_lru_create(LB_LRU_MIN, &key);
	struct lb_lru_stats before, after;
	struct lb_lru_entry *oldest;

	cr_assert_not_null(l);
	for (uint32_t i = 0; i < 64; i++) {
		struct lb_flow f = flow(i);

		/* empty table, then partly full */
		lb_lru_prefetch(l, lb_flow_hash(&key, &f));
		lb_lru_prefetch_entry(l, lb_flow_hash(&key, &f));
		if (i < LB_LRU_MIN / 2)
			insert(l, i);
	}
	lb_lru_stats(l, &before);
	oldest = lb_lru_oldest(l);
	for (uint64_t h = 0; h < 4096; h++) {
		lb_lru_prefetch(l, h * 0x9e3779b97f4a7c15ull);
		lb_lru_prefetch_entry(l, h * 0x9e3779b97f4a7c15ull);
	}
	lb_lru_stats(l, &after);
	cr_assert_eq(memcmp(&before, &after, sizeof(before)), 0,
		     "a prefetch counted as a lookup");
	cr_assert_eq(lb_lru_oldest(l), oldest, "a prefetch touched the order");
	cr_assert_eq(lb_lru_count(l), LB_LRU_MIN / 2);
	check(l);
	lb_lru_destroy(l);
}

Test(lb_lru, full_table_evicts_least_recent)
{
	struct lb_lru *l = lb_lru_create(16, &key);
	struct lb_lru_stats st;

	for (uint32_t i = 0; i < 16; i++)
		insert(l, i);
	/* Touch 0..7: now 8 is the least recent. */
	for (uint32_t i = 0; i < 8; i++)
		cr_assert_not_null(lookup(l, i));
	cr_assert_eq(lb_lru_oldest(l)->e_backend_id, 8);
	insert(l, 100);
	check(l);
	cr_assert_eq(lb_lru_count(l), 16, "bounded");
	cr_assert_null(lookup(l, 8), "the least recent went");
	for (uint32_t i = 0; i < 8; i++)
		cr_assert_not_null(lookup(l, i), "recent flow %u stays", i);
	cr_assert_not_null(lookup(l, 100));
	/* Now 9 is the oldest: 0..7 and 100 were touched since. */
	cr_assert_eq(lb_lru_oldest(l)->e_backend_id, 9);
	insert(l, 101);
	cr_assert_null(lookup(l, 9));
	lb_lru_stats(l, &st);
	cr_assert_eq(st.evictions, 2);
	check(l);
	lb_lru_destroy(l);
}

/*
 * Tables of 2 MiB and more live in one huge-page-aligned region, entries
 * then buckets (lb_lru.c).  Sizes just under, at and over the line, each
 * filled past its capacity: every flow is found, evictions keep it
 * bounded, and the walk of every structure finds nothing out of place
 * (an overlap of buckets and entries would show as broken chains).
 */
Test(lb_lru, large_tables_in_one_region)
{
	/* 64-byte entries + 4-byte buckets: 1.9 MiB, 2.1 MiB, 4.3 MiB. */
	static const uint32_t caps[] = { 30000, 32768, 65536 };

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		uint32_t cap = caps[c], n = cap + cap / 4;
		struct lb_lru *l = lb_lru_create(cap, &key);
		struct lb_lru_stats st;

		cr_assert_not_null(l, "capacity %u", cap);
		cr_assert_eq(lb_lru_capacity(l), cap);
		for (uint32_t i = 0; i < n; i++)
			insert(l, i);
		cr_assert_eq(lb_lru_count(l), cap, "bounded");
		for (uint32_t i = 0; i < n - cap; i++)
			cr_assert_null(lookup(l, i), "flow %u evicted", i);
		for (uint32_t i = n - cap; i < n; i++) {
			struct lb_lru_entry *e = lookup(l, i);

			cr_assert_not_null(e, "capacity %u: flow %u", cap, i);
			cr_assert_eq(e->e_backend_id, i);
		}
		lb_lru_stats(l, &st);
		cr_assert_eq(st.evictions, n - cap);
		check(l);
		lb_lru_destroy(l);
	}
}

Test(lb_lru, insert_zeroes_the_value)
{
	struct lb_lru *l = lb_lru_create(16, &key);
	struct lb_lru_entry *e;

	for (uint32_t i = 0; i < 40; i++) {
		e = insert(l, i);
		e->e_gen = 77;
		e->e_backend = 5;
		e->e_flags = 3;
	}
	/* Entries are reused by eviction: a new flow starts clean. */
	{
		struct lb_flow f = flow(1000);

		e = lb_lru_insert(l, lb_flow_hash(&key, &f), &f);
	}
	cr_assert_eq(e->e_gen, 0);
	cr_assert_eq(e->e_backend, 0);
	cr_assert_eq(e->e_flags, 0);
	cr_assert_eq(e->e_backend_id, 0);
	lb_lru_destroy(l);
}

Test(lb_lru, remove_and_reuse)
{
	struct lb_lru *l = lb_lru_create(32, &key);
	struct lb_lru_stats st;

	for (uint32_t i = 0; i < 32; i++)
		insert(l, i);
	for (uint32_t i = 0; i < 32; i += 2)
		lb_lru_remove(l, lookup(l, i));
	check(l);
	cr_assert_eq(lb_lru_count(l), 16);
	for (uint32_t i = 0; i < 32; i++)
		cr_assert((lookup(l, i) != NULL) == (i % 2 == 1), "flow %u", i);
	/* The freed entries come back before anything is evicted. */
	for (uint32_t i = 100; i < 116; i++)
		insert(l, i);
	check(l);
	lb_lru_stats(l, &st);
	cr_assert_eq(st.evictions, 0);
	cr_assert_eq(st.removals, 16);
	cr_assert_eq(lb_lru_count(l), 32);
	for (uint32_t i = 1; i < 32; i += 2)
		cr_assert_not_null(lookup(l, i));
	/* Empty it entirely, then fill it again. */
	while (lb_lru_oldest(l))
		lb_lru_remove(l, lb_lru_oldest(l));
	cr_assert_eq(lb_lru_count(l), 0);
	check(l);
	for (uint32_t i = 0; i < 40; i++)
		insert(l, i);
	check(l);
	cr_assert_eq(lb_lru_count(l), 32);
	lb_lru_destroy(l);
}

Test(lb_lru, ipv6_and_fragment_keys_are_distinct)
{
	struct lb_lru *l = lb_lru_create(16, &key);
	struct lb_flow f = flow(1), g;
	struct lb_lru_entry *e;

	lb_lru_insert(l, lb_flow_hash(&key, &f), &f)->e_backend_id = 1;
	g = f;
	g.f_flags = LB_FLOW_FRAG;
	cr_assert_null(lb_lru_lookup(l, lb_flow_hash(&key, &g), &g));
	lb_lru_insert(l, lb_flow_hash(&key, &g), &g)->e_backend_id = 2;
	g.f_flags = LB_FLOW_V6;
	cr_assert_null(lb_lru_lookup(l, lb_flow_hash(&key, &g), &g));
	e = lb_lru_lookup(l, lb_flow_hash(&key, &f), &f);
	cr_assert_eq(e->e_backend_id, 1);
	check(l);
	lb_lru_destroy(l);
}

/*
 * Random lookups, inserts and removals over 3x more flows than entries,
 * against a model: an array of flow ids in recency order.
 */
Test(lb_lru, matches_a_reference_model)
{
	enum { CAP = 64, FLOWS = 192, OPS = 200000 };
	struct lb_lru *l = lb_lru_create(CAP, &key);
	uint32_t model[CAP], n = 0, seed = 12345;

	for (uint32_t op = 0; op < OPS; op++) {
		uint32_t id, pos = UINT32_MAX;
		struct lb_lru_entry *e;

		seed = seed * 1103515245u + 12345u;
		id = (seed >> 8) % FLOWS;
		for (uint32_t k = 0; k < n; k++)
			if (model[k] == id)
				pos = k;
		e = lookup(l, id);
		cr_assert_eq(e != NULL, pos != UINT32_MAX, "op %u flow %u", op,
			     id);
		if (e && (seed >> 28) == 0) {
			/* Remove, one time in 16. */
			lb_lru_remove(l, e);
			memmove(&model[pos], &model[pos + 1],
				(n - pos - 1) * sizeof(model[0]));
			n--;
		} else if (e) {
			/* Hit: to the front. */
			memmove(&model[1], &model[0], pos * sizeof(model[0]));
			model[0] = id;
			cr_assert_eq(e->e_backend_id, id);
		} else {
			/* Miss: insert; a full table drops the model's last. */
			insert(l, id);
			if (n == CAP)
				n--;
			memmove(&model[1], &model[0], n * sizeof(model[0]));
			model[0] = id;
			n++;
		}
		cr_assert_eq(lb_lru_count(l), n);
		if (n)
			cr_assert_eq(lb_lru_oldest(l)->e_backend_id,
				     model[n - 1], "op %u: oldest", op);
		if (op % 997 == 0)
			check(l);
	}
	check(l);
	lb_lru_destroy(l);
}
