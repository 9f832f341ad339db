// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_pktgen_rate.c - the generator's token bucket
 * (examples/pktgen/pg_rate.c) driven by a fake clock: the long-run rate
 * is exact (within the bucket's depth, whatever the pattern of wake-ups),
 * the depth caps what a stalled sender may burst, waits are computed to
 * the nanosecond, bits and packets both work, and bad parameters are
 * refused.  No real time is measured here.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "../../examples/pktgen/pg_rate.h"

TestSuite(pktgen_rate, .timeout = 30);

/* A deterministic generator for wake-up jitter. */
static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * A sender that wakes at jittered times, sends what the bucket allows in
 * bursts of at most `burst` units, and runs for `secs` fake seconds.
 * @return units sent.
 */
static uint64_t simulate(uint64_t rate, uint64_t depth, uint32_t burst,
			 uint64_t max_step_ns, double secs, uint64_t *spilled)
{
	struct pg_rate r;
	uint64_t now = 1000000000ull, end, sent = 0;

	cr_assert_eq(pg_rate_init(&r, rate, depth, 0, now), 0);
	end = now + (uint64_t)(secs * 1e9);
	while (now < end) {
		uint64_t avail = pg_rate_avail(&r, now);
		uint64_t n = avail < burst ? avail : burst;

		if (n) {
			pg_rate_spend(&r, n);
			sent += n;
		}
		now += 1 + next_rand() % max_step_ns;
	}
	/* what accrued up to `end` but was not yet taken */
	sent += pg_rate_avail(&r, end);
	*spilled = pg_rate_spilled(&r);
	return sent;
}

Test(pktgen_rate, long_run_rate_is_exact)
{
	/* rates from 10 kpps to 10 Mpps, wake-ups every 0..50 us */
	static const uint64_t rates[] = { 10000, 123457, 1000000, 9999991 };

	for (unsigned int i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t depth = rates[i] / 100 + 64;
		uint64_t spilled;
		uint64_t got = simulate(rates[i], depth, 1u << 20, 50000, 3.0,
					&spilled);
		uint64_t want = rates[i] * 3;

		cr_assert_eq(spilled, 0);
		/* exact up to one unit of rounding */
		cr_assert(got + 1 >= want && got <= want + 1,
			  "rate %llu: %llu units in 3 s, want %llu",
			  (unsigned long long)rates[i],
			  (unsigned long long)got, (unsigned long long)want);
	}
}

Test(pktgen_rate, stalls_shorter_than_the_depth_lose_nothing)
{
	/* 1 Mpps, 10 ms deep; wake-ups up to 5 ms apart */
	uint64_t spilled;
	uint64_t got = simulate(1000000, 10000, 1u << 20, 5000000, 4.0,
				&spilled);

	cr_assert(got + 1 >= 4000000 && got <= 4000001, "got %llu",
		  (unsigned long long)got);
	cr_assert_eq(spilled, 0);
}

Test(pktgen_rate, a_sender_slower_than_the_rate_is_reported)
{
	/* 1 Mpps asked, 10 per wake-up every 25 us on average: ~400 kpps
	 * can go out; what cannot is counted, nothing is created or lost */
	uint64_t spilled;
	uint64_t got = simulate(1000000, 1000, 10, 50000, 2.0, &spilled);

	cr_assert_lt(got, 1000000);
	cr_assert_gt(spilled, 1000000);
	cr_assert(got + spilled >= 2000000 - 1 && got + spilled <= 2000000 + 1,
		  "sent %llu + spilled %llu", (unsigned long long)got,
		  (unsigned long long)spilled);
}

Test(pktgen_rate, stalls_longer_than_the_depth_are_capped)
{
	struct pg_rate r;
	uint64_t now = 0;

	cr_assert_eq(pg_rate_init(&r, 1000000, 500, 0, now), 0);
	cr_assert_eq(pg_rate_spilled(&r), 0);
	/* a full second asleep: only the depth may go out at once, and
	 * the rest is reported as lost */
	cr_assert_eq(pg_rate_avail(&r, now + 1000000000ull), 500);
	cr_assert_eq(pg_rate_spilled(&r), 1000000 - 500);
	pg_rate_spend(&r, 500);
	cr_assert_eq(pg_rate_avail(&r, now + 1000000000ull), 0);
	/* one microsecond later, one more unit */
	cr_assert_eq(pg_rate_avail(&r, now + 1000001000ull), 1);
}

/*
 * The refill around the moment the bucket becomes full, to the
 * nanosecond: from empty, after dt ns there are min(depth, dt * rate)
 * unit-ns, and what accrued past the depth is spilled, never more.
 * Rates that divide the depth's unit-ns and rates that do not.
 */
Test(pktgen_rate, refill_at_the_exact_fill_time)
{
	static const uint64_t rates[] = {
		1, 2, 3, 4, 7, 13, 1000003, 999999999, 1000000007,
		3000000000ull,
	};
	static const uint64_t depths[] = { 1, 2, 5 };
	const unsigned __int128 ns = PG_NS_PER_S;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		for (size_t k = 0; k < sizeof(depths) / sizeof(depths[0]);
		     k++) {
			uint64_t rate = rates[i], depth = depths[k];
			uint64_t cap = depth * PG_NS_PER_S;
			/* ceil(cap / rate): the first ns the bucket is full */
			uint64_t full = (cap + rate - 1) / rate;

			for (uint64_t d = 0; d < 5; d++) {
				uint64_t dt = full + d >= 2 ? full + d - 2 : 0;
				unsigned __int128 acc =
					(unsigned __int128)dt * rate;
				uint64_t want = acc < cap ? (uint64_t)(acc / ns)
							  : depth;
				uint64_t spill = acc > cap ?
					(uint64_t)((acc - cap) / ns) : 0;
				struct pg_rate r;
				uint64_t t0 = 777;

				cr_assert_eq(pg_rate_init(&r, rate, depth, 0,
							  t0), 0);
				cr_assert_eq(pg_rate_avail(&r, t0 + dt), want,
					     "rate %llu depth %llu dt %llu",
					     (unsigned long long)rate,
					     (unsigned long long)depth,
					     (unsigned long long)dt);
				cr_assert_eq(pg_rate_spilled(&r), spill,
					     "rate %llu depth %llu dt %llu: "
					     "spilled %llu",
					     (unsigned long long)rate,
					     (unsigned long long)depth,
					     (unsigned long long)dt,
					     (unsigned long long)
					     pg_rate_spilled(&r));
			}
		}
	}
}

/* The case as reported: rate 3, depth 1, 333333333 ns is 0.999999999. */
Test(pktgen_rate, one_ns_short_of_a_unit)
{
	struct pg_rate r;

	cr_assert_eq(pg_rate_init(&r, 3, 1, 0, 0), 0);
	cr_assert_eq(pg_rate_avail(&r, 333333333), 0);
	cr_assert_eq(pg_rate_spilled(&r), 0);
	cr_assert_eq(pg_rate_wait_ns(&r, 1), 1);
	cr_assert_eq(pg_rate_avail(&r, 333333334), 1);
	cr_assert_eq(pg_rate_spilled(&r), 0);	/* 2 unit-ns past the cap */
	/* those 2 and 999999996 more are not a unit; 999999999 more are */
	cr_assert_eq(pg_rate_avail(&r, 333333334 + 333333332), 1);
	cr_assert_eq(pg_rate_spilled(&r), 0);
	cr_assert_eq(pg_rate_avail(&r, 333333334 + 333333333), 1);
	cr_assert_eq(pg_rate_spilled(&r), 1);
	/* a partly full bucket: 1 of 2 units, then exactly the room */
	cr_assert_eq(pg_rate_init(&r, 4, 2, 1, 0), 0);
	cr_assert_eq(pg_rate_avail(&r, 250000000), 2);
	cr_assert_eq(pg_rate_spilled(&r), 0);
	pg_rate_spend(&r, 2);
	cr_assert_eq(pg_rate_avail(&r, 250000000 + 249999999), 0);
	cr_assert_eq(pg_rate_avail(&r, 250000000 + 250000000), 1);
	cr_assert_eq(pg_rate_spilled(&r), 0);
}

Test(pktgen_rate, wait_is_exact)
{
	struct pg_rate r;
	uint64_t t = 5000, w;

	cr_assert_eq(pg_rate_init(&r, 300000, 1000, 0, t), 0);
	cr_assert_eq(pg_rate_avail(&r, t), 0);
	/* 64 packets at 300 kpps: 213333.33 ns, rounded up */
	w = pg_rate_wait_ns(&r, 64);
	cr_assert_eq(w, 213334);
	cr_assert_eq(pg_rate_avail(&r, t + w - 1), 63);
	cr_assert_eq(pg_rate_avail(&r, t + w), 64);
	cr_assert_eq(pg_rate_wait_ns(&r, 64), 0);
	/* a wait for more than the depth waits for the depth */
	pg_rate_spend(&r, 64);
	cr_assert_eq(pg_rate_wait_ns(&r, 5000),
		     pg_rate_wait_ns(&r, 1000));
}

Test(pktgen_rate, initial_tokens_and_spend_floor)
{
	struct pg_rate r;

	cr_assert_eq(pg_rate_init(&r, 1000, 100, 40, 0), 0);
	cr_assert_eq(pg_rate_avail(&r, 0), 40);
	/* initial above the depth is capped */
	cr_assert_eq(pg_rate_init(&r, 1000, 100, 4000, 0), 0);
	cr_assert_eq(pg_rate_avail(&r, 0), 100);
	/* spending more than there is leaves zero, never wraps */
	pg_rate_spend(&r, 1000);
	cr_assert_eq(pg_rate_avail(&r, 0), 0);
	/* time going backwards adds nothing */
	cr_assert_eq(pg_rate_avail(&r, 0), 0);
	/* ... even where units * 1e9 wraps 64 bits */
	cr_assert_eq(pg_rate_init(&r, 1000, 100, 100, 0), 0);
	pg_rate_spend(&r, UINT64_MAX / PG_NS_PER_S + 1);
	cr_assert_eq(pg_rate_avail(&r, 0), 0);
	cr_assert_eq(pg_rate_init(&r, 1000, 100, 100, 0), 0);
	pg_rate_spend(&r, UINT64_MAX);
	cr_assert_eq(pg_rate_avail(&r, 0), 0);
	/* exactly what there is, and a part of a unit stays */
	cr_assert_eq(pg_rate_init(&r, 1000, 100, 100, 0), 0);
	pg_rate_spend(&r, 100);
	cr_assert_eq(pg_rate_avail(&r, 999999), 0);
	cr_assert_eq(pg_rate_avail(&r, 1000000), 1);
}

Test(pktgen_rate, bits_per_second)
{
	/* 1 Gbps of 1518-byte frames: 82345.19 frames per second */
	struct pg_rate r;
	uint64_t now = 0, frames = 0, cost = 1518 * 8;

	cr_assert_eq(pg_rate_init(&r, 1000000000ull, 64 * cost, 0, now), 0);
	for (int step = 0; step < 2000000; step++) {
		now += 1000;			/* 1 us ticks for 2 s */
		while (pg_rate_avail(&r, now) >= cost) {
			pg_rate_spend(&r, cost);
			frames++;
		}
	}
	cr_assert(frames >= 164690 && frames <= 164691, "frames %llu",
		  (unsigned long long)frames);
}

Test(pktgen_rate, unlimited)
{
	struct pg_rate r;

	cr_assert_eq(pg_rate_init(&r, 0, 1, 0, 0), 0);
	cr_assert(pg_rate_unlimited(&r));
	cr_assert_eq(pg_rate_avail(&r, 12345), UINT64_MAX);
	cr_assert_eq(pg_rate_wait_ns(&r, 1000000), 0);
	pg_rate_spend(&r, 77);
	cr_assert_eq(pg_rate_avail(&r, 0), UINT64_MAX);
}

Test(pktgen_rate, bad_parameters_are_refused)
{
	struct pg_rate r;

	/* a depth whose unit-ns would overflow 64 bits */
	cr_assert_eq(pg_rate_init(&r, 1000, UINT64_MAX / 1000, 0, 0), -EINVAL);
	cr_assert_eq(pg_rate_init(&r, UINT64_MAX, 10, 0, 0), -EINVAL);
	/* depth 0 is raised to 1 */
	cr_assert_eq(pg_rate_init(&r, 1000, 0, 5, 0), 0);
	cr_assert_eq(pg_rate_avail(&r, 0), 1);
}

Test(pktgen_rate, no_overflow_at_extremes)
{
	struct pg_rate r;

	/* 1 Tbps, a huge depth, a decade asleep */
	cr_assert_eq(pg_rate_init(&r, 1000000000000ull, 1000000000ull, 0, 0),
		     0);
	cr_assert_eq(pg_rate_avail(&r, 315360000ull * 1000000000ull),
		     1000000000ull);
}

Test(pktgen_rate, burst_size)
{
	/* 50 us of packets, clamped to 1..max */
	cr_assert_eq(pg_rate_burst(100000, 64, 50000), 5);
	cr_assert_eq(pg_rate_burst(1000, 64, 50000), 1);
	cr_assert_eq(pg_rate_burst(10000000, 64, 50000), 64);
	cr_assert_eq(pg_rate_burst(0, 64, 50000), 64);
	cr_assert_eq(pg_rate_burst(1000000, 0, 50000), 1);
}

/* ------------------------------------------------ -r's spellings */

/* Every spelling -r accepts, and what it comes to in packets per second
 * for 64-byte frames (60 on the wire) on a 10 Gb/s link. */
Test(pktgen_rate, every_spelling_and_its_pps)
{
	static const struct {
		const char *arg;
		enum pg_rate_unit unit;
		double pps;		/* at 64-byte frames */
		uint64_t rate;		/* what the bucket counts */
		uint32_t overhead;
	} ok[] = {
		{ "1000", PG_RATE_PPS, 1000, 1000, 0 },
		{ "1.5M", PG_RATE_PPS, 1.5e6, 1500000, 0 },
		{ "1.5m", PG_RATE_PPS, 1.5e6, 1500000, 0 },
		{ "200k", PG_RATE_PPS, 2e5, 200000, 0 },
		{ "200K", PG_RATE_PPS, 2e5, 200000, 0 },
		{ "2G", PG_RATE_PPS, 2e9, 2000000000, 0 },
		{ "250kpps", PG_RATE_PPS, 2.5e5, 250000, 0 },
		{ "0.5kpps", PG_RATE_PPS, 500, 500, 0 },
		{ "7pps", PG_RATE_PPS, 7, 7, 0 },
		/* L2: 64 * 8 = 512 bits a frame */
		{ "512000bps", PG_RATE_L2, 1000, 512000, 4 },
		{ "800Mbps", PG_RATE_L2, 800e6 / 512, 800000000, 4 },
		{ "800Mbps:l2", PG_RATE_L2, 800e6 / 512, 800000000, 4 },
		{ "1Gbps", PG_RATE_L2, 1e9 / 512, 1000000000, 4 },
		{ "512kbps", PG_RATE_L2, 1000, 512000, 4 },
		/* L1: (64 + 20) * 8 = 672 bits: 10G line rate 14.88 Mpps */
		{ "10Gbps:l1", PG_RATE_L1, 1e10 / 672, 10000000000ull, 24 },
		{ "672kbps:l1", PG_RATE_L1, 1000, 672000, 24 },
		/* percentages of the 10 Gb/s link, at L1 */
		{ "100%", PG_RATE_PCT, 1e10 / 672, 10000000000ull, 24 },
		{ "50%", PG_RATE_PCT, 5e9 / 672, 5000000000ull, 24 },
		{ "0.1%", PG_RATE_PCT, 1e7 / 672, 10000000, 24 },
	};

	for (unsigned int i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct pg_rate_spec rs;
		struct pg_rate_plan rp;

		cr_assert_eq(pg_rate_parse(ok[i].arg, &rs), 0, "'%s' refused",
			     ok[i].arg);
		cr_assert_eq(rs.rs_unit, ok[i].unit, "'%s'", ok[i].arg);
		cr_assert_eq(pg_rate_resolve(&rs, 60, 10000, &rp), 0, "'%s'",
			     ok[i].arg);
		cr_assert_eq(rp.rp_rate, ok[i].rate, "'%s': %llu", ok[i].arg,
			     (unsigned long long)rp.rp_rate);
		cr_assert(fabs(rp.rp_pps / ok[i].pps - 1) < 1e-9,
			  "'%s': %f pps, not %f", ok[i].arg, rp.rp_pps,
			  ok[i].pps);
		cr_assert_eq(rp.rp_bits, ok[i].unit != PG_RATE_PPS);
		cr_assert_eq(rp.rp_overhead, ok[i].overhead);
		/* both bit rates always said: L1 is L2 * 84 / 64 here */
		cr_assert(fabs(rp.rp_bps_l2 - rp.rp_pps * 512) < 1e-3 *
			  rp.rp_bps_l2 + 1e-9);
		cr_assert(fabs(rp.rp_bps_l1 - rp.rp_pps * 672) < 1e-3 *
			  rp.rp_bps_l1 + 1e-9);
	}
}

Test(pktgen_rate, bad_spellings_are_refused)
{
	static const char *const bad[] = {
		"", "0", "0.0", "-1", "+5", " 5", "5 ", "abc", "1e6", "0x10",
		"inf", "nan", "1..5", ".", "10Mbp", "10Mbps:l3", "10Mbps:",
		"10bps:L1x", "10Mpp", "10X", "5%%", "0%", "101%", "50%:l1",
		"10Gbit", "2T", "1.5 M", "99999999999999Gbps", "2000G",
		"10Mbps:l1:l1", "%", "k", "Mbps",
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pg_rate_spec rs;

		cr_assert_eq(pg_rate_parse(bad[i], &rs), -EINVAL,
			     "'%s' accepted", bad[i]);
	}
}

Test(pktgen_rate, a_percentage_needs_a_link_speed)
{
	struct pg_rate_spec rs;
	struct pg_rate_plan rp;

	cr_assert_eq(pg_rate_parse("50%", &rs), 0);
	cr_assert_eq(pg_rate_resolve(&rs, 60, 0, &rp), -ENODEV);
	/* bits and packets do not */
	cr_assert_eq(pg_rate_parse("1Mbps", &rs), 0);
	cr_assert_eq(pg_rate_resolve(&rs, 60, 0, &rp), 0);
	/* a mix is counted at its mean: IMIX 7:4:1 of 60/590/1514 wire */
	cr_assert_eq(pg_rate_parse("1Gbps:l1", &rs), 0);
	cr_assert_eq(pg_rate_resolve(&rs, (7 * 60 + 4 * 590 + 1514) / 12.0,
				     0, &rp), 0);
	cr_assert(fabs(rp.rp_pps - 1e9 / ((4294 / 12.0 + 24) * 8)) < 1e-6);
	/* what rounds to nothing */
	cr_assert_eq(pg_rate_parse("0.4", &rs), -EINVAL);
	cr_assert_eq(pg_rate_parse("0.001%", &rs), 0);
	cr_assert_eq(pg_rate_resolve(&rs, 60, 1, &rp), 0);
	cr_assert_eq(rp.rp_rate, 10);
}
