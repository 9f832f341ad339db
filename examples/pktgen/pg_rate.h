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

/*
 * What -r asks for, as the user spelled it:
 *
 *   1000  1.5M  200kpps       packets per second
 *   800Mbps  1Gbps  800Mbps:l2   bits per second at L2: frames with their
 *                             FCS (a 64-byte frame is 512 bits)
 *   10Gbps:l1                 bits per second at L1: + preamble, SFD and
 *                             the inter-frame gap, 20 bytes a frame (10G
 *                             line rate at 64 bytes: 14.88 Mpps)
 *   50%  12.5%                a share of the link's speed, at L1 (the
 *                             speed is the interface's, from ethtool)
 *
 * k, M, G multiply by 1e3, 1e6, 1e9 (m and g too).  A number is digits
 * with at most one decimal point: no sign, exponent, "inf" or hex.
 */
enum pg_rate_unit {
	PG_RATE_NONE = 0,		/* unlimited */
	PG_RATE_PPS,
	PG_RATE_L2,			/* bits/s of frames with FCS */
	PG_RATE_L1,			/* bits/s on the line */
	PG_RATE_PCT,			/* percent of the link speed, L1 */
};

struct pg_rate_spec {
	enum pg_rate_unit rs_unit;
	double rs_value;		/* pps, bits/s or percent */
};

#define PG_RATE_PPS_MAX		1e12
#define PG_RATE_BPS_MAX		1e13	/* 10 Tbps */

/**
 * Parses a -r value.  @return 0, or -EINVAL (zero, negative, a bad
 * number or suffix, past the maxima, a percentage above 100).
 */
int pg_rate_parse(const char *s, struct pg_rate_spec *rs);

/* What the token bucket counts for a spec. */
struct pg_rate_plan {
	uint64_t rp_rate;		/* units/s: packets, or bits */
	bool rp_bits;			/* units are bits */
	uint32_t rp_overhead;		/* bits: bytes counted per packet
					 * beyond its wire bytes (4 for L2,
					 * 24 for L1) */
	double rp_pps;			/* packets/s at the mean size */
	double rp_bps_l1;		/* ... and as bit rates */
	double rp_bps_l2;
};

/**
 * Resolves a spec for packets of mean_wire bytes (without FCS) on a
 * link of link_mbps (0: unknown).  @return 0; -ENODEV for a percentage
 * without a link speed; -ERANGE when it comes to less than 1 unit/s.
 */
int pg_rate_resolve(const struct pg_rate_spec *rs, double mean_wire,
		    uint64_t link_mbps, struct pg_rate_plan *rp);

/** L2 (FCS counted) and L1 bits per second of pps packets of mean wire
 * bytes. */
static inline double pg_bps_l2(double pps, double mean_wire)
{
	return pps * (mean_wire + 4) * 8;
}

static inline double pg_bps_l1(double pps, double mean_wire)
{
	return pps * (mean_wire + 24) * 8;
}

#endif /* PG_RATE_H */
