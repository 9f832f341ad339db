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
 * Also the spellings of -r (pg_rate_parse) and what they come to for
 * the bucket (pg_rate_resolve): a rate in bits is counted per packet as
 * (wire bytes + overhead) * 8, so a mix of sizes is exact at L1 and L2.
 *
 * KPI: pg_rate_init, pg_rate_avail, pg_rate_spend, pg_rate_wait_ns,
 *      pg_rate_burst, pg_rate_parse, pg_rate_resolve.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Digits with at most one point, at least one digit. */
static const char *pg_rate_number(const char *s, double *v)
{
	const char *p = s;
	bool point = false, digit = false;
	char buf[40];

	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.') {
			if (point)
				return NULL;
			point = true;
		} else {
			digit = true;
		}
	}
	if (!digit || (size_t)(p - s) >= sizeof(buf))
		return NULL;
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	*v = strtod(buf, NULL);
	return p;
}

int pg_rate_parse(const char *s, struct pg_rate_spec *rs)
{
	double v, mult = 1;
	const char *p;

	memset(rs, 0, sizeof(*rs));
	if (!s || !(p = pg_rate_number(s, &v)))
		return -EINVAL;
	if (*p == '%') {
		if (p[1] || v <= 0 || v > 100)
			return -EINVAL;
		rs->rs_unit = PG_RATE_PCT;
		rs->rs_value = v;
		return 0;
	}
	if (*p == 'k' || *p == 'K')
		mult = 1e3, p++;
	else if (*p == 'M' || *p == 'm')
		mult = 1e6, p++;
	else if (*p == 'G' || *p == 'g')
		mult = 1e9, p++;
	v *= mult;
	if (!*p || !strcmp(p, "pps")) {
		rs->rs_unit = PG_RATE_PPS;
		if (v < 1 || v > PG_RATE_PPS_MAX)
			return -EINVAL;
	} else if (!strcmp(p, "bps") || !strcmp(p, "bps:l2")) {
		rs->rs_unit = PG_RATE_L2;
	} else if (!strcmp(p, "bps:l1")) {
		rs->rs_unit = PG_RATE_L1;
	} else {
		return -EINVAL;
	}
	if (rs->rs_unit != PG_RATE_PPS && (v < 1 || v > PG_RATE_BPS_MAX))
		return -EINVAL;
	rs->rs_value = v;
	return 0;
}

int pg_rate_resolve(const struct pg_rate_spec *rs, double mean_wire,
		    uint64_t link_mbps, struct pg_rate_plan *rp)
{
	double bits;

	memset(rp, 0, sizeof(*rp));
	switch (rs->rs_unit) {
	case PG_RATE_NONE:
		return 0;
	case PG_RATE_PPS:
		rp->rp_rate = (uint64_t)llround(rs->rs_value);
		rp->rp_pps = (double)rp->rp_rate;
		break;
	case PG_RATE_L2:
	case PG_RATE_L1:
	case PG_RATE_PCT:
		if (rs->rs_unit == PG_RATE_PCT && !link_mbps)
			return -ENODEV;
		bits = rs->rs_unit == PG_RATE_PCT ?
		       (double)link_mbps * 1e6 * rs->rs_value / 100 :
		       rs->rs_value;
		rp->rp_bits = true;
		rp->rp_overhead = rs->rs_unit == PG_RATE_L2 ? 4 : 24;
		rp->rp_rate = (uint64_t)llround(bits);
		rp->rp_pps = (double)rp->rp_rate /
			     ((mean_wire + rp->rp_overhead) * 8);
		break;
	}
	if (rp->rp_rate < 1)
		return -ERANGE;
	rp->rp_bps_l2 = pg_bps_l2(rp->rp_pps, mean_wire);
	rp->rp_bps_l1 = pg_bps_l1(rp->rp_pps, mean_wire);
	return 0;
}
