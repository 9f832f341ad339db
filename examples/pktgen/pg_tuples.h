/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_tuples.h - a set of 5-tuple hashes: how many distinct flows a
 * receiver saw.  Open addressing with linear probing, 0 marks an empty
 * slot (a hash of 0 is never inserted: pg_rx_tuple_hash() avoids it);
 * the table doubles at half full and stops growing at PG_TUPLES_MAX
 * entries or when memory runs out (tp_full: the count is a lower bound).
 *
 * Each receive thread fills a set of its own; the run merges them after
 * the threads stop.
 */
#ifndef PG_TUPLES_H
#define PG_TUPLES_H

#include <stdbool.h>
#include <stdint.h>

#define PG_TUPLES_MAX		(1U << 22)	/* distinct 5-tuples counted */

struct pg_tuples {
	uint64_t *tp_slot;
	uint32_t tp_mask;
	uint32_t tp_n;
	bool tp_full;			/* PG_TUPLES_MAX reached */
};

/** An empty set.  @return 0 or -ENOMEM. */
int pg_tuples_init(struct pg_tuples *t);
void pg_tuples_insert(struct pg_tuples *t, uint64_t h);
/** Every entry of from into t. */
void pg_tuples_merge(struct pg_tuples *t, const struct pg_tuples *from);
/** Empty again, keeping the table. */
void pg_tuples_clear(struct pg_tuples *t);
void pg_tuples_free(struct pg_tuples *t);

#endif /* PG_TUPLES_H */
