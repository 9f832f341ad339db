// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_pktgen_sched.c - what each packet of the generator is
 * (examples/pktgen/pg_sched.c): IMIX schedules hold their proportions in
 * every window of one cycle and interleave, weight lists reduce by their
 * common divisor, sweeps step, the -s / --imix parsers refuse what they
 * should with a reason, and flows are exactly the count asked, distinct,
 * stepped or in a seeded random order that still covers every flow once
 * per cycle.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../examples/pktgen/pg_sched.h"

TestSuite(pktgen_sched, .timeout = 30);

static struct pg_sizes s;
static char err[256];

static void count_window(const struct pg_sizes *sz, uint64_t from,
			 uint32_t len, uint32_t *counts)
{
	memset(counts, 0, sizeof(uint32_t) * sz->sz_n);
	for (uint64_t i = from; i < from + len; i++) {
		uint32_t v = pg_sizes_at(sz, i);

		for (uint32_t k = 0; k < sz->sz_n; k++)
			if (sz->sz_sizes[k] == v)
				counts[k]++;
	}
}

Test(pktgen_sched, classic_imix_is_7_4_1_in_every_window)
{
	uint32_t c[3];
	unsigned int run = 0, max_run = 0;

	cr_assert_eq(pg_parse_imix(NULL, 60, 9000, &s, err, sizeof(err)), 0);
	cr_assert_eq(s.sz_n, 3);
	cr_assert_eq(s.sz_len, 12);
	cr_assert_eq(s.sz_sizes[0], 64);
	cr_assert_eq(s.sz_sizes[1], 594);
	cr_assert_eq(s.sz_sizes[2], 1518);
	cr_assert_eq(s.sz_max, 1518);
	cr_assert_eq(s.sz_cycle_bytes, 7 * 64 + 4 * 594 + 1518);
	/* any 12 consecutive packets, wherever they start */
	for (uint64_t start = 0; start < 40; start++) {
		count_window(&s, start, 12, c);
		cr_assert(c[0] == 7 && c[1] == 4 && c[2] == 1,
			  "window at %llu: %u %u %u",
			  (unsigned long long)start, c[0], c[1], c[2]);
	}
	/* interleaved: 64-byte frames never come more than twice in a row */
	for (uint64_t i = 0; i < 48; i++) {
		run = pg_sizes_at(&s, i) == 64 ? run + 1 : 0;
		if (run > max_run)
			max_run = run;
	}
	cr_assert_leq(max_run, 2);
	pg_sizes_free(&s);
}

Test(pktgen_sched, user_weights_reduce_by_their_gcd)
{
	uint32_t c[2];

	cr_assert_eq(pg_parse_imix("100:20,1500:40", 60, 9000, &s, err,
				   sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.sz_len, 3);
	count_window(&s, 0, 3, c);
	cr_assert_eq(c[0], 1);
	cr_assert_eq(c[1], 2);
	pg_sizes_free(&s);
}

Test(pktgen_sched, weights_over_a_long_cycle)
{
	uint32_t c[3];

	cr_assert_eq(pg_parse_imix("60:1000,200:333,9000:1", 60, 9000, &s, err,
				   sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.sz_len, 1334);
	count_window(&s, 500, 1334, c);
	cr_assert(c[0] == 1000 && c[1] == 333 && c[2] == 1);
	pg_sizes_free(&s);
}

Test(pktgen_sched, fixed_and_sweep)
{
	cr_assert_eq(pg_parse_sizes("128", 60, 9000, &s, err, sizeof(err)), 0);
	cr_assert_eq(s.sz_len, 1);
	cr_assert_eq(pg_sizes_at(&s, 12345), 128);
	pg_sizes_free(&s);

	cr_assert_eq(pg_parse_sizes("60-70:5", 60, 9000, &s, err,
				    sizeof(err)), 0);
	cr_assert_eq(s.sz_len, 3);
	cr_assert_eq(pg_sizes_at(&s, 0), 60);
	cr_assert_eq(pg_sizes_at(&s, 1), 65);
	cr_assert_eq(pg_sizes_at(&s, 2), 70);
	cr_assert_eq(pg_sizes_at(&s, 3), 60);
	pg_sizes_free(&s);

	/* a step past the end stops at the last value below hi */
	cr_assert_eq(pg_parse_sizes("60-9000:1000", 60, 9000, &s, err,
				    sizeof(err)), 0);
	cr_assert_eq(s.sz_len, 9);
	cr_assert_eq(s.sz_max, 8060);
	pg_sizes_free(&s);

	cr_assert_eq(pg_parse_sizes("60-9000", 60, 9000, &s, err,
				    sizeof(err)), 0);
	cr_assert_eq(s.sz_len, 8941);
	cr_assert_eq(pg_sizes_at(&s, 8940), 9000);
	pg_sizes_free(&s);
}

Test(pktgen_sched, bad_sizes_are_refused_with_a_reason)
{
	static const struct {
		const char *arg;
		const char *why;
	} bad[] = {
		{ "59", "out of range" },
		{ "9001", "out of range" },
		{ "", "not a number" },
		{ "abc", "not a number" },
		{ "-60", "not a number" },
		{ "64x", "junk" },
		{ "100-60", "backwards" },
		{ "60-", "LO-HI" },
		{ "60-70:0", "step" },
		{ "60-70:", "step" },
		{ "1-100", "out of range" },
		{ "99999999999999999999", "not a number" },
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(pg_parse_sizes(bad[i].arg, 60, 9000, &s, err,
					    sizeof(err)), -EINVAL,
			     "'%s' accepted", bad[i].arg);
		cr_assert(strstr(err, bad[i].why), "'%s': '%s'", bad[i].arg,
			  err);
	}
}

Test(pktgen_sched, bad_imix_lists_are_refused_with_a_reason)
{
	static const struct {
		const char *arg;
		const char *why;
	} bad[] = {
		{ "64", "SIZE:WEIGHT" },
		{ "64:", "weight" },
		{ "64:0", "weight" },
		{ "64:1,", "SIZE:WEIGHT" },
		{ "64:1;594:2", "SIZE:WEIGHT" },
		{ "59:1", "out of range" },
		{ "64:70000", "weight" },
		{ "60:65535,61:2", "add up" },
		{ "60:1,61:1,62:1,63:1,64:1,65:1,66:1,67:1,68:1,69:1,70:1,71:1,"
		  "72:1,73:1,74:1,75:1,76:1", "more than" },
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(pg_parse_imix(bad[i].arg, 60, 9000, &s, err,
					   sizeof(err)), -EINVAL,
			     "'%s' accepted", bad[i].arg);
		cr_assert(strstr(err, bad[i].why), "'%s': '%s'", bad[i].arg,
			  err);
	}
}

Test(pktgen_sched, direct_calls_refuse_nonsense)
{
	uint32_t sz[2] = { 64, 128 }, w[2] = { 1, 0 };

	cr_assert_eq(pg_sizes_fixed(&s, 0), -EINVAL);
	cr_assert_eq(pg_sizes_sweep(&s, 100, 60, 1), -EINVAL);
	cr_assert_eq(pg_sizes_sweep(&s, 60, 100, 0), -EINVAL);
	cr_assert_eq(pg_sizes_imix(&s, sz, w, 2), -EINVAL);
	cr_assert_eq(pg_sizes_imix(&s, sz, w, 0), -EINVAL);
	cr_assert_eq(pg_sizes_imix(&s, sz, w, PG_IMIX_MAX + 1), -EINVAL);
}

/* ---------------------------------------------------------------- flows */

static struct pg_flows f;

static void flows_fini(void)
{
	pg_flows_free(&f);
}

/* Distinct tuples among packets 0..npkts-1. */
static uint32_t distinct(uint64_t npkts)
{
	uint64_t *seen = calloc(npkts, sizeof(*seen));
	uint32_t n = 0;

	cr_assert(seen);
	for (uint64_t i = 0; i < npkts; i++) {
		uint32_t k = pg_flows_index(&f, i);
		uint64_t key = 0;
		bool dup = false;

		for (unsigned int d = 0; d < PG_FLOW_DIMS; d++)
			key = key * 0x100000001b3ull ^
			      pg_flows_value(&f, k, d);
		for (uint32_t j = 0; j < n; j++)
			if (seen[j] == key)
				dup = true;
		if (!dup)
			seen[n++] = key;
	}
	free(seen);
	return n;
}

Test(pktgen_sched, flows_are_the_count_asked_and_distinct,
     .fini = flows_fini)
{
	uint32_t base[4] = { 0xc6120001, 0xc6120002, 1024, 9 };
	uint32_t count[4] = { 4, 3, 10, 2 };

	/* every combination */
	cr_assert_eq(pg_flows_init(&f, base, count, 0, false, 0), 0);
	cr_assert_eq(f.fl_n, 240);
	cr_assert_eq(distinct(2000), 240);
	pg_flows_free(&f);
	/* fewer than the combinations: exactly that many */
	cr_assert_eq(pg_flows_init(&f, base, count, 37, false, 0), 0);
	cr_assert_eq(distinct(2000), 37);
	/* stepped: flow i % n, source varying fastest */
	cr_assert_eq(pg_flows_index(&f, 38), 1);
	cr_assert_eq(pg_flows_value(&f, 1, PG_FLOW_SRC), 0xc6120002);
	cr_assert_eq(pg_flows_value(&f, 4, PG_FLOW_SRC), 0xc6120001);
	cr_assert_eq(pg_flows_value(&f, 4, PG_FLOW_DST), 0xc6120003);
	cr_assert_eq(pg_flows_value(&f, 12, PG_FLOW_SPORT), 1025);
	cr_assert_eq(pg_flows_value(&f, 120, PG_FLOW_DPORT), 10);
}

Test(pktgen_sched, random_order_covers_every_flow_each_cycle,
     .fini = flows_fini)
{
	uint32_t base[4] = { 1, 1, 1000, 9 }, count[4] = { 1, 1, 1000, 1 };
	uint8_t *hit = calloc(1000, 1);
	uint32_t same = 0, first[3];

	cr_assert(hit);
	cr_assert_eq(pg_flows_init(&f, base, count, 1000, true, 42), 0);
	cr_assert_not_null(f.fl_perm);
	for (uint64_t cycle = 0; cycle < 3; cycle++) {
		memset(hit, 0, 1000);
		for (uint64_t i = cycle * 1000; i < (cycle + 1) * 1000; i++)
			hit[pg_flows_index(&f, i)]++;
		for (int k = 0; k < 1000; k++)
			cr_assert_eq(hit[k], 1, "flow %d seen %u times", k,
				     hit[k]);
	}
	/* not the identity */
	for (uint32_t i = 0; i < 1000; i++)
		same += pg_flows_index(&f, i) == i;
	cr_assert_lt(same, 50);
	/* the seed decides the order */
	for (int i = 0; i < 3; i++)
		first[i] = pg_flows_index(&f, (uint64_t)i);
	pg_flows_free(&f);
	cr_assert_eq(pg_flows_init(&f, base, count, 1000, true, 42), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pg_flows_index(&f, (uint64_t)i), first[i]);
	free(hit);
}

Test(pktgen_sched, flow_errors, .fini = flows_fini)
{
	uint32_t base[4] = { 0, 0, 0, 0 }, count[4] = { 2, 2, 1, 1 };
	uint32_t zero[4] = { 1, 0, 1, 1 };
	uint32_t huge[4] = { 65536, 65536, 65536, 1 };

	cr_assert_eq(pg_flows_init(&f, base, count, 5, false, 0), -ERANGE);
	cr_assert_eq(pg_flows_init(&f, base, zero, 1, false, 0), -EINVAL);
	/* every combination of huge ranges is too many to enumerate */
	cr_assert_eq(pg_flows_init(&f, base, huge, 0, false, 0), -ERANGE);
	/* but a count below the limit is fine */
	cr_assert_eq(pg_flows_init(&f, base, huge, 100000, false, 0), 0);
	cr_assert_eq(pg_flows_value(&f, 65537, PG_FLOW_DST), 1);
}

/* Frame sizes count the FCS; the wire carries 4 bytes less of each. */
Test(pktgen_sched, frame_sizes_lose_the_fcs_on_the_wire)
{
	uint32_t c[3];

	cr_assert_eq(pg_parse_imix(NULL, PG_FRAME_MIN, PG_FRAME_MAX, &s, err,
				   sizeof(err)), 0);
	pg_sizes_strip_fcs(&s);
	cr_assert_eq(s.sz_sizes[0], 60);
	cr_assert_eq(s.sz_sizes[1], 590);
	cr_assert_eq(s.sz_sizes[2], 1514);
	cr_assert_eq(s.sz_max, 1514);
	cr_assert_eq(s.sz_cycle_bytes, 7 * 60 + 4 * 590 + 1514);
	count_window(&s, 5, 12, c);
	cr_assert(c[0] == 7 && c[1] == 4 && c[2] == 1);
	pg_sizes_free(&s);

	/* the limits: 64 (60 on the wire) .. 9018 (9014: MTU 9000 + 14) */
	cr_assert_eq(pg_parse_sizes("64-9018:8954", PG_FRAME_MIN, PG_FRAME_MAX,
				    &s, err, sizeof(err)), 0, "%s", err);
	pg_sizes_strip_fcs(&s);
	cr_assert_eq(s.sz_len, 2);
	cr_assert_eq(pg_sizes_at(&s, 0), PG_SIZE_MIN);
	cr_assert_eq(pg_sizes_at(&s, 1), PG_SIZE_MAX);
	cr_assert_eq(PG_SIZE_MAX, 9014);
	pg_sizes_free(&s);
	cr_assert_eq(pg_parse_sizes("63", PG_FRAME_MIN, PG_FRAME_MAX, &s, err,
				    sizeof(err)), -EINVAL);
	cr_assert_eq(pg_parse_sizes("9019", PG_FRAME_MIN, PG_FRAME_MAX, &s,
				    err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "out of range 64..9018"), "%s", err);
}

Test(pktgen_sched, size_lists_in_order)
{
	static const uint32_t want[] = { 64, 128, 256, 512, 1024, 1280, 1518 };

	cr_assert_eq(pg_parse_sizes("64,128,256,512,1024,1280,1518", 64, 9018,
				    &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.sz_n, 7);
	cr_assert_eq(s.sz_len, 7);
	for (unsigned int i = 0; i < 14; i++)
		cr_assert_eq(pg_sizes_at(&s, i), want[i % 7]);
	cr_assert_eq(s.sz_max, 1518);
	pg_sizes_free(&s);

	static const char *const bad[] = { "64,", ",64", "64,,128", "64,63",
					   "64,1x", "64-70,80" };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(pg_parse_sizes(bad[i], 64, 9018, &s, err,
					    sizeof(err)), -EINVAL,
			     "'%s' accepted", bad[i]);
		cr_assert(err[0], "'%s': no reason", bad[i]);
	}
}
