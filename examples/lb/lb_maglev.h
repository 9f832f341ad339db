/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_maglev.h - Maglev consistent hashing (Eisenbud et al., "Maglev: A
 * Fast and Reliable Software Network Load Balancer", NSDI 2016, 3.4),
 * with weights.
 *
 * Each backend i gets a permutation of the table's M slots from a hash of
 * its own name (never of its position in a list): offset_i and skip_i,
 * slot j of the permutation being (offset_i + j * skip_i) mod M.  M is
 * prime, so every skip in 1..M-1 visits every slot.  Backends take turns
 * claiming the next free slot of their permutation until the table is
 * full.  A flow's backend is table[hash(flow) mod M].
 *
 *   permutation of b0: 3 0 4 1 5 2 6      table (M = 7), turns b0 b1 b2
 *   permutation of b1: 0 2 4 6 1 3 5      slot: 0  1  2  3  4  5  6
 *   permutation of b2: 3 4 5 6 0 1 2      own:  b1 b0 b1 b0 b2 b2 b0
 *
 * Weights: the paper notes that backends can be weighted by how often
 * they take turns.  Here every round gives backend i w_i credits; it
 * takes one turn for each max(w) credits it holds (the heaviest backend
 * takes exactly one turn per round).  So backend i ends with w_i / sum(w)
 * of the slots, within n + 1 slots, and a backend of weight 0 gets none:
 * that is how a backend drains.
 *
 * What Maglev trades: balance is near-perfect (entries differ by at most
 * one with equal weights) at the price of slightly more than minimal
 * disruption when the set changes (a removed backend's slots move, and a
 * few others shift because the claiming order changed); the paper's
 * figure 9 and tests/unit/test_lb_maglev.c measure that.
 */
#ifndef LB_MAGLEV_H
#define LB_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_hash.h"

#define LB_MAGLEV_NONE		0xffffu	/* slot without a backend */
#define LB_MAGLEV_MAX_BACKENDS	0xfffeu	/* indexes must stay below NONE */
#define LB_MAGLEV_DEFAULT_SIZE	65537u	/* the paper's M */
#define LB_MAGLEV_MIN_SIZE	3u
#define LB_MAGLEV_MAX_SIZE	16777213u /* largest prime below 2^24 */
#define LB_MAGLEV_MAX_WEIGHT	65535u

/* One backend as the table builder sees it. */
struct lb_maglev_backend {
	uint32_t mb_offset;		/* first slot of its permutation, < M */
	uint32_t mb_skip;		/* step, 1 .. M - 1 */
	uint32_t mb_weight;		/* 0: takes no slot (draining) */
};

/** True when m is prime (trial division; m is at most 2^32 - 1). */
bool lb_is_prime(uint32_t m);

/**
 * Derives a backend's permutation from its name (any bytes that identify
 * it: the load balancer uses its address) under key k, for a table of m
 * slots.  mb_weight is left alone.
 */
void lb_maglev_perm(const struct lb_sipkey *k, const void *name, size_t len,
		    uint32_t m, struct lb_maglev_backend *b);

/**
 * Fills table[m] with backend indexes 0 .. n - 1 by weighted Maglev
 * population; every slot gets one when some weight is not zero, every
 * slot is LB_MAGLEV_NONE when all are zero.
 * @return 0, on success; -EINVAL (m not prime or out of range, n above
 * LB_MAGLEV_MAX_BACKENDS or above m, a weight above LB_MAGLEV_MAX_WEIGHT,
 * a permutation out of range); -ENOMEM.
 */
int lb_maglev_populate(uint16_t *table, uint32_t m,
		       const struct lb_maglev_backend *be, uint32_t n);

#endif /* LB_MAGLEV_H */
