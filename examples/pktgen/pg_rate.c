/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_rate.c - the token bucket of pg_rate.h.  Pure arithmetic, no clock:
 * unit tests drive it with a fake one.
 *
 * Overflow: tokens are kept in unit-ns, so a refill multiplies elapsed
 * ns by the rate.  The elapsed time used is capped at what fills the
 * bucket from where it is, so the product never exceeds depth + rate,
 * and the depth is checked at init to leave that room in 64 bits.
 *
 * KPI: pg_rate_init, pg_rate_avail, pg_rate_spend, pg_rate_wait_ns,
 *      pg_rate_burst.
 */
#include <errno.h>

#include "pg_rate.h"

int pg_rate_init(struct pg_rate *r, uint64_t rate, uint64_t depth,
		 uint64_t initial, uint64_t now)
{
	if (depth == 0)
		depth = 1;
	/* depth * 1e9 + rate must fit: 1.8e10 units of depth at most */
	if (depth > (UINT64_MAX / 2) / PG_NS_PER_S ||
	    rate > UINT64_MAX / 4)
		return -EINVAL;
	r->r_rate = rate;
	r->r_depth = depth * PG_NS_PER_S;
	r->r_tokens = (initial < depth ? initial : depth) * PG_NS_PER_S;
	r->r_last = now;
	r->r_spilled = 0;
	r->r_spill_frac = 0;
	return 0;
}

uint64_t pg_rate_avail(struct pg_rate *r, uint64_t now)
{
	if (r->r_rate == 0)
		return UINT64_MAX;
	if (now > r->r_last) {
		uint64_t dt = now - r->r_last;
		uint64_t room = r->r_depth - r->r_tokens;
		/* time that fills the bucket, rounded up */
		uint64_t fill = room / r->r_rate + 1;

		if (dt >= fill) {
			/* what accrued past the cap is lost: count it, to
			 * the unit-ns, so many small spills add up right */
			unsigned __int128 over =
				(unsigned __int128)dt * r->r_rate - room +
				r->r_spill_frac;

			r->r_spilled += (uint64_t)(over / PG_NS_PER_S);
			r->r_spill_frac = (uint64_t)(over % PG_NS_PER_S);
			r->r_tokens = r->r_depth;
		} else {
			r->r_tokens += dt * r->r_rate;
			if (r->r_tokens > r->r_depth)
				r->r_tokens = r->r_depth;
		}
		r->r_last = now;
	}
	return r->r_tokens / PG_NS_PER_S;
}

void pg_rate_spend(struct pg_rate *r, uint64_t units)
{
	if (r->r_rate == 0)
		return;
	/* compared in units first: units * 1e9 wraps above 1.8e10 */
	if (units > r->r_tokens / PG_NS_PER_S)
		r->r_tokens = 0;
	else
		r->r_tokens -= units * PG_NS_PER_S;
}

uint64_t pg_rate_wait_ns(const struct pg_rate *r, uint64_t units)
{
	uint64_t need;

	if (r->r_rate == 0)
		return 0;
	if (units > r->r_depth / PG_NS_PER_S)
		units = r->r_depth / PG_NS_PER_S;
	need = units * PG_NS_PER_S;
	if (need <= r->r_tokens)
		return 0;
	return (need - r->r_tokens + r->r_rate - 1) / r->r_rate;
}

uint32_t pg_rate_burst(uint64_t pps, uint32_t max_batch,
		       uint64_t max_burst_ns)
{
	uint64_t n;

	if (max_batch == 0)
		max_batch = 1;
	if (pps == 0)
		return max_batch;
	n = pps * max_burst_ns / PG_NS_PER_S;
	if (n < 1)
		n = 1;
	return n < max_batch ? (uint32_t)n : max_batch;
}
