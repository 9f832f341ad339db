// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_pktgen_tuples.c - the receiver's set of 5-tuple hashes
 * (examples/pktgen/pg_tuples.c): each hash counts once however often it
 * is inserted, the table grows past its first 4096 slots without losing
 * or doubling an entry, two sets merge into their union, and a cleared
 * set counts from zero again.  The count is how many flows a receiver
 * reports (the JSON "flows"), so an error here is a wrong number there.
 */
#include <stdint.h>

#include <criterion/criterion.h>

#include "../../examples/pktgen/pg_tuples.h"

TestSuite(pktgen_tuples, .timeout = 30);

/* Distinct nonzero hashes that collide in the low bits (the slot index):
 * i << 20 | 1 for i < 4096 all land in slot 1 of the first table. */
static uint64_t colliding(uint32_t i)
{
	return ((uint64_t)i << 20) | 1;
}

Test(pktgen_tuples, a_hash_counts_once)
{
	struct pg_tuples t;

	cr_assert_eq(pg_tuples_init(&t), 0);
	for (int rep = 0; rep < 3; rep++)
		for (uint32_t i = 1; i <= 100; i++)
			pg_tuples_insert(&t, i * 0x9e3779b97f4a7c15ull);
	cr_assert_eq(t.tp_n, 100);
	cr_assert_not(t.tp_full);
	pg_tuples_free(&t);
}

Test(pktgen_tuples, growth_keeps_every_entry_once)
{
	struct pg_tuples t;
	const uint32_t n = 20000;	/* past 4096 slots, several doublings */

	cr_assert_eq(pg_tuples_init(&t), 0);
	for (uint32_t i = 0; i < n; i++)
		pg_tuples_insert(&t, colliding(i));
	cr_assert_eq(t.tp_n, n);
	cr_assert_gt(t.tp_mask + 1, 2 * n, "not grown: %u slots",
		     t.tp_mask + 1);
	/* again, after the growth: nothing new */
	for (uint32_t i = 0; i < n; i++)
		pg_tuples_insert(&t, colliding(i));
	cr_assert_eq(t.tp_n, n);
	pg_tuples_free(&t);
}

Test(pktgen_tuples, merge_is_the_union_and_clear_empties)
{
	struct pg_tuples a, b;

	cr_assert_eq(pg_tuples_init(&a), 0);
	cr_assert_eq(pg_tuples_init(&b), 0);
	for (uint32_t i = 0; i < 3000; i++)
		pg_tuples_insert(&a, colliding(i));
	for (uint32_t i = 2000; i < 6000; i++)
		pg_tuples_insert(&b, colliding(i));
	pg_tuples_merge(&a, &b);
	cr_assert_eq(a.tp_n, 6000);
	cr_assert_eq(b.tp_n, 4000, "the source is left as it was");
	pg_tuples_clear(&a);
	cr_assert_eq(a.tp_n, 0);
	pg_tuples_insert(&a, colliding(7));
	pg_tuples_insert(&a, colliding(7));
	cr_assert_eq(a.tp_n, 1);
	pg_tuples_free(&a);
	pg_tuples_free(&b);
}
