// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_pktgen_meter.c - the receiver's accounting
 * (examples/pktgen/pg_meter.c): the latency histogram's buckets tile the
 * 64-bit range with at most 1/128 relative width, its percentiles land
 * within that of the true order statistics, min/avg/max are exact; the
 * sequence meter counts loss, reordering and duplication as RFC 4737
 * defines them, handles jumps, stale packets, the sender's count (tail
 * loss) and merging of queues.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../examples/pktgen/pg_meter.h"

static struct pg_hist h;
static struct pg_meter *m, *m2;

static void init(void)
{
	pg_hist_init(&h);
	m = malloc(sizeof(*m));
	m2 = malloc(sizeof(*m2));
	cr_assert(m && m2);
	pg_meter_init(m);
	pg_meter_init(m2);
}

static void fini(void)
{
	pg_meter_free(m);
	pg_meter_free(m2);
	free(m);
	free(m2);
}

TestSuite(pktgen_hist, .init = init, .fini = fini, .timeout = 30);
TestSuite(pktgen_seq, .init = init, .fini = fini, .timeout = 30);

Test(pktgen_hist, buckets_tile_the_range)
{
	uint64_t prev_hi = 0;

	for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++) {
		uint64_t lo, hi;

		pg_hist_bounds(b, &lo, &hi);
		if (b)
			cr_assert_eq(lo, prev_hi + 1, "bucket %u", b);
		cr_assert_eq(pg_hist_bucket(lo), b);
		cr_assert_eq(pg_hist_bucket(hi), b);
		/* width at most 1/128 of the lower bound */
		cr_assert(hi - lo <= (lo >> 7), "bucket %u: %llu..%llu", b,
			  (unsigned long long)lo, (unsigned long long)hi);
		prev_hi = hi;
	}
	cr_assert_eq(prev_hi, UINT64_MAX);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

Test(pktgen_hist, percentiles_within_the_bucket_error)
{
	enum { N = 200000 };
	static uint64_t v[N];
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 0.0001 };
	uint64_t x = 1, sum = 0;

	/* a long-tailed mix: most values near 10 us, a tail to 10 ms */
	for (int i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		v[i] = 5000 + (x >> 33) % 10000;
		if ((x >> 20) % 100 == 0)
			v[i] = 10000 + (x >> 25) % 10000000;
		pg_hist_add(&h, v[i]);
		sum += v[i];
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	cr_assert_eq(h.h_n, N);
	cr_assert_eq(h.h_min, v[0]);
	cr_assert_eq(h.h_max, v[N - 1]);
	cr_assert_float_eq(pg_hist_mean(&h), (double)sum / N, 1e-6);
	for (unsigned int i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t rank = (uint64_t)ceil(qs[i] * N);
		uint64_t truth = v[rank - 1], got = pg_hist_quantile(&h, qs[i]);
		double rel = fabs((double)got - (double)truth) / (double)truth;

		cr_assert(rel <= 1.0 / 128, "q %g: %llu, truth %llu", qs[i],
			  (unsigned long long)got, (unsigned long long)truth);
	}
	cr_assert_eq(pg_hist_quantile(&h, 1.0), v[N - 1]);
	cr_assert_eq(pg_hist_quantile(&h, 0.0), v[0]);
}

Test(pktgen_hist, exact_below_256_and_empty)
{
	cr_assert_eq(pg_hist_quantile(&h, 0.5), 0);
	cr_assert_eq(pg_hist_mean(&h), 0);
	for (uint64_t i = 1; i <= 100; i++)
		pg_hist_add(&h, i);
	cr_assert_eq(pg_hist_quantile(&h, 0.5), 50);
	cr_assert_eq(pg_hist_quantile(&h, 0.99), 99);
	cr_assert_eq(pg_hist_quantile(&h, 0.999), 100);
}

Test(pktgen_hist, merge_adds)
{
	struct pg_hist *b = malloc(sizeof(*b));

	cr_assert(b);
	pg_hist_init(b);
	pg_hist_add(&h, 10);
	pg_hist_add(b, 1000000);
	pg_hist_add(b, 20);
	pg_hist_merge(&h, b);
	cr_assert_eq(h.h_n, 3);
	cr_assert_eq(h.h_min, 10);
	cr_assert_eq(h.h_max, 1000000);
	cr_assert_eq(pg_hist_quantile(&h, 0.5), 20);
	free(b);
}

/* --------------------------------------------------------------- meter */

static void feed(struct pg_meter *mt, uint16_t stream, const uint64_t *seqs,
		 unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		pg_meter_add(mt, stream, seqs[i], 1000, 1500 + i, 64);
}

static struct pg_stream_result res(struct pg_meter *mt, uint16_t s)
{
	struct pg_stream_result r;

	pg_meter_stream(mt, s, &r);
	return r;
}

Test(pktgen_seq, in_order_no_loss)
{
	struct pg_stream_result r;

	for (uint64_t i = 0; i < 100000; i++)
		pg_meter_add(m, 3, i, 100, 200, 60);
	r = res(m, 3);
	cr_assert_eq(r.received, 100000);
	cr_assert_eq(r.lost, 0);
	cr_assert_eq(r.reordered, 0);
	cr_assert_eq(r.duplicated, 0);
	cr_assert_eq(m->m_lat.h_n, 100000);
	cr_assert_eq(m->m_lat.h_min, 100);
	cr_assert_eq(m->m_bytes, 6000000);
}

Test(pktgen_seq, every_kth_lost)
{
	struct pg_stream_result r;

	/* 1000 sent, every 7th dropped: seq 6, 13, ... (142 of them) */
	for (uint64_t i = 0; i < 1000; i++)
		if (i % 7 != 6)
			pg_meter_add(m, 0, i, 0, 1, 60);
	r = res(m, 0);
	cr_assert_eq(r.lost, 142);
	cr_assert_eq(r.received, 858);
	cr_assert_eq(r.reordered, 0);
}

Test(pktgen_seq, reordering_is_not_loss)
{
	static const uint64_t s[] = { 0, 1, 3, 2, 4, 7, 5, 6, 8 };
	struct pg_stream_result r;

	feed(m, 1, s, 9);
	r = res(m, 1);
	cr_assert_eq(r.received, 9);
	cr_assert_eq(r.lost, 0);
	cr_assert_eq(r.reordered, 3);	/* 2, 5 and 6 came late */
	cr_assert_eq(r.duplicated, 0);
}

Test(pktgen_seq, duplicates_are_counted_once)
{
	static const uint64_t s[] = { 0, 1, 1, 2, 0, 3, 3, 3 };
	struct pg_stream_result r;

	feed(m, 1, s, 8);
	r = res(m, 1);
	cr_assert_eq(r.received, 8);
	cr_assert_eq(r.duplicated, 4);
	cr_assert_eq(r.lost, 0);
	cr_assert_eq(r.reordered, 0);
}

Test(pktgen_seq, late_and_never)
{
	/* 5 and 6 missing; 5 shows up late, 6 never */
	static const uint64_t s[] = { 0, 1, 2, 3, 4, 7, 8, 5, 9 };
	struct pg_stream_result r;

	feed(m, 0, s, 9);
	r = res(m, 0);
	cr_assert_eq(r.lost, 1);
	cr_assert_eq(r.reordered, 1);
}

Test(pktgen_seq, jumps_past_the_window)
{
	struct pg_stream_result r;

	pg_meter_add(m, 0, 0, 0, 0, 60);
	pg_meter_add(m, 0, 1000000, 0, 0, 60);	/* 999999 missing */
	pg_meter_add(m, 0, 999999, 0, 0, 60);	/* in the window: late */
	pg_meter_add(m, 0, 5, 0, 0, 60);	/* below the window: late */
	pg_meter_add(m, 0, 1000000, 0, 0, 60);	/* duplicate */
	r = res(m, 0);
	cr_assert_eq(r.received, 5);
	cr_assert_eq(r.reordered, 2);
	cr_assert_eq(r.duplicated, 1);
	cr_assert_eq(r.lost, 1000001 - 4);	/* 4 distinct of 0..1000000 */
	/* bits from before the jump do not claim new numbers are duplicates */
	pg_meter_add(m, 0, 1000000 + PG_SEQ_WINDOW, 0, 0, 60);
	pg_meter_add(m, 0, 1000000 + PG_SEQ_WINDOW - 1, 0, 0, 60);
	r = res(m, 0);
	cr_assert_eq(r.duplicated, 1);
	cr_assert_eq(r.reordered, 3);
}

Test(pktgen_seq, sender_count_counts_the_tail)
{
	struct pg_stream_result r;

	for (uint64_t i = 0; i < 90; i++)
		pg_meter_add(m, 2, i, 0, 0, 60);
	r = res(m, 2);
	cr_assert_eq(r.lost, 0);	/* the receiver alone cannot tell */
	cr_assert_eq(pg_meter_set_sent(m, 2, 100), 0);
	r = res(m, 2);
	cr_assert_eq(r.lost, 10);
	/* a stream that sent and never arrived */
	cr_assert_eq(pg_meter_set_sent(m, 9, 50), 0);
	cr_assert_eq(res(m, 9).lost, 50);
	pg_meter_total(m, &r);
	cr_assert_eq(r.lost, 60);
	cr_assert_eq(r.received, 90);
}

Test(pktgen_seq, first_expected_and_stale)
{
	struct pg_stream_result r;

	cr_assert_eq(pg_meter_set_first(m, 4, 1000), 0);
	pg_meter_add(m, 4, 999, 0, 0, 60);	/* an earlier trial's */
	pg_meter_add(m, 4, 1001, 0, 0, 60);
	pg_meter_add(m, 4, 1002, 0, 0, 60);
	r = res(m, 4);
	cr_assert_eq(m->m_stale, 1);
	cr_assert_eq(r.received, 2);
	cr_assert_eq(r.lost, 1);		/* 1000 */
}

Test(pktgen_seq, latency_before_send_is_not_counted)
{
	pg_meter_add(m, 0, 0, 2000, 1000, 60);
	cr_assert_eq(m->m_bad_latency, 1);
	cr_assert_eq(m->m_lat.h_n, 0);
	cr_assert_eq(res(m, 0).received, 1);
}

Test(pktgen_seq, merge_of_a_split_stream)
{
	struct pg_stream_result r;

	/* even numbers on one queue, odd on the other, 11 never */
	for (uint64_t i = 0; i < 20; i++) {
		if (i == 11)
			continue;
		pg_meter_add(i % 2 ? m2 : m, 7, i, 0, i, 60);
	}
	pg_meter_unstamped(m2, 100);
	cr_assert_eq(pg_meter_merge(m, m2), 0);
	r = res(m, 7);
	cr_assert_eq(r.received, 19);
	cr_assert_eq(r.lost, 1);
	cr_assert_eq(m->m_received, 19);
	cr_assert_eq(m->m_unstamped, 1);
	cr_assert_eq(m->m_first_ns, 0);
	cr_assert_eq(m->m_last_ns, 19);
	cr_assert_eq(m->m_lat.h_n, 19);
}

Test(pktgen_seq, reset_forgets)
{
	pg_meter_add(m, 1, 5, 0, 0, 60);
	pg_meter_reset(m);
	cr_assert_eq(m->m_received, 0);
	cr_assert_eq(res(m, 1).received, 0);
	cr_assert_eq(res(m, 1).lost, 0);
	pg_meter_add(m, 1, 0, 0, 0, 60);
	cr_assert_eq(res(m, 1).lost, 0);
	/* unknown streams read as zero */
	cr_assert_eq(res(m, 999).received, 0);
}
