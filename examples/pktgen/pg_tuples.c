// SPDX-License-Identifier: BSD-2-Clause
/*
 * pg_tuples.c - the set of 5-tuple hashes (pg_tuples.h): open addressing,
 * linear probing, doubled at half full.  A failed doubling leaves the
 * set as it is and stops it growing (tp_full), so a receiver under
 * memory pressure still counts, only no longer every flow.
 *
 * KPI (pg_tuples.h): pg_tuples_init, pg_tuples_insert, pg_tuples_merge,
 * pg_tuples_clear, pg_tuples_free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pg_tuples.h"

int pg_tuples_init(struct pg_tuples *t)
{
	memset(t, 0, sizeof(*t));
	t->tp_mask = 4096 - 1;
	t->tp_slot = calloc(t->tp_mask + 1, sizeof(*t->tp_slot));
	return t->tp_slot ? 0 : -ENOMEM;
}

void pg_tuples_free(struct pg_tuples *t)
{
	free(t->tp_slot);
	memset(t, 0, sizeof(*t));
}

void pg_tuples_clear(struct pg_tuples *t)
{
	memset(t->tp_slot, 0, (t->tp_mask + 1) * sizeof(*t->tp_slot));
	t->tp_n = 0;
	t->tp_full = false;
}

/* Doubles the table; on failure the set stops growing (tp_full). */
static void pg_tuples_grow(struct pg_tuples *t)
{
	struct pg_tuples n = { .tp_mask = t->tp_mask * 2 + 1 };

	n.tp_slot = calloc(n.tp_mask + 1, sizeof(*n.tp_slot));
	if (!n.tp_slot) {
		t->tp_full = true;
		return;
	}
	pg_tuples_merge(&n, t);
	free(t->tp_slot);
	*t = n;
}

void pg_tuples_insert(struct pg_tuples *t, uint64_t h)
{
	uint32_t i = (uint32_t)h & t->tp_mask;

	while (t->tp_slot[i]) {
		if (t->tp_slot[i] == h)
			return;
		i = (i + 1) & t->tp_mask;
	}
	if (t->tp_full)
		return;
	t->tp_slot[i] = h;
	t->tp_n++;
	if (t->tp_n >= PG_TUPLES_MAX)
		t->tp_full = true;
	else if (t->tp_n * 2 > t->tp_mask)
		pg_tuples_grow(t);
}

void pg_tuples_merge(struct pg_tuples *t, const struct pg_tuples *from)
{
	for (uint32_t k = 0; k <= from->tp_mask; k++)
		if (from->tp_slot[k])
			pg_tuples_insert(t, from->tp_slot[k]);
}
