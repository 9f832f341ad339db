/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_rate.h - the transmit rate limiter: a token bucket, in packets or in
 * bits, with time passed in by the caller (so a test can drive it with a
 * fake clock).
 *
 *   tokens (unit-nanoseconds: units * 1e9, exact integer arithmetic)
 *     += (now - last) * rate        refill, capped at the depth
 *     -= cost * 1e9                 per packet sent (1, or its bits)
 *
 * Batch-aware: the sender asks how many units it may spend now
 * (pg_rate_avail) and sends a burst of at most that, or, when fewer than
 * a burst's worth are there, how long to wait for it (pg_rate_wait_ns).
 * The depth bounds what a stalled sender may send at once afterwards;
 * below the depth nothing is lost, so the long-run rate is exact and the
 * error of a run of T seconds is at most depth / (rate * T).
 */
#ifndef PG_RATE_H
#define PG_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define PG_NS_PER_S		1000000000ull

struct pg_rate {
	uint64_t r_rate;		/* units per second; 0: unlimited */
	uint64_t r_depth;		/* bucket size, unit-ns */
	uint64_t r_tokens;		/* available, unit-ns */
	uint64_t r_last;		/* ns of the last refill */
	uint64_t r_spilled;		/* units lost at the cap: the sender
					 * was late by more than the depth */
	uint64_t r_spill_frac;		/* ... and the unit-ns below a unit */
};

/*
 * Starts a bucket: rate units/s, depth units deep (at least 1), holding
 * `initial` units (capped at the depth) at time now.
 * @return 0, or -EINVAL for a depth that overflows the arithmetic.
 */
int pg_rate_init(struct pg_rate *r, uint64_t rate, uint64_t depth,
		 uint64_t initial, uint64_t now);
/** Refills for the time up to now. @return whole units available. */
uint64_t pg_rate_avail(struct pg_rate *r, uint64_t now);
/**
 * Units that overflowed the bucket: what a sender late by more than the
 * depth (preempted, or slower than the rate) could not make up.  0 on a
 * run that kept the rate exactly.
 */
static inline uint64_t pg_rate_spilled(const struct pg_rate *r)
{
	return r->r_spilled;
}
/** Spends units (what pg_rate_avail() returned; more empties it). */
void pg_rate_spend(struct pg_rate *r, uint64_t units);
/** Nanoseconds from the last refill until `units` are available. */
uint64_t pg_rate_wait_ns(const struct pg_rate *r, uint64_t units);
/** True when the bucket limits nothing (rate 0). */
static inline bool pg_rate_unlimited(const struct pg_rate *r)
{
	return r->r_rate == 0;
}

/*
 * The burst a sender should aim for at this rate: enough packets to keep
 * system calls per packet low, few enough that a burst takes no longer
 * than max_burst_ns.  pps is the rate in packets (bits / mean size).
 * @return 1..max_batch.
 */
uint32_t pg_rate_burst(uint64_t pps, uint32_t max_batch,
		       uint64_t max_burst_ns);

#endif /* PG_RATE_H */
