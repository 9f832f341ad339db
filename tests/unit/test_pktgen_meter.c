// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_pktgen_meter.c - the receiver's accounting
 * (examples/pktgen/pg_meter.c): the latency histogram's buckets tile the
 * 64-bit range with at most 1/128 relative width, its percentiles land
 * within that of the true order statistics, min/avg/max are exact; the
 * sequence meter counts loss, reordering and duplication as RFC 4737
 * defines them, handles jumps, stale packets, the sender's count (tail
 * loss) and merging of queues; against a reference model over a random
 * sequence with jumps of every size; a jump costs one window word
 * whatever its size; and the stream table stays within its size however
 * many stream ids arrive.
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
	m = calloc(1, sizeof(*m));
	m2 = calloc(1, sizeof(*m2));
	cr_assert(m && m2);
	cr_assert_eq(pg_meter_init(m, PG_METER_STREAMS), 0);
	cr_assert_eq(pg_meter_init(m2, PG_METER_STREAMS), 0);
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

/* ------------------------------------------------- bounded, O(1) jumps */

Test(pktgen_seq, stream_table_is_bounded)
{
	struct pg_stream_result t;

	/* the memory a meter can take: its header and m_max records */
	cr_assert_lt(sizeof(struct pg_meter), 256u << 10);
	cr_assert_lt(sizeof(struct pg_stream), 17u << 10);
	/* every 16-bit id once, then again */
	for (int round = 0; round < 2; round++)
		for (uint32_t id = 0; id < PG_STREAMS; id++)
			pg_meter_add(m, (uint16_t)id, 0, 0, 0, 60);
	cr_assert_eq(m->m_nstreams, PG_METER_STREAMS);
	cr_assert_eq(m->m_nalloc, PG_METER_STREAMS, "records allocated");
	cr_assert_eq(m->m_overflow, 2ull * (PG_STREAMS - PG_METER_STREAMS));
	cr_assert_eq(m->m_received, 2 * PG_METER_STREAMS);
	pg_meter_total(m, &t);
	cr_assert_eq(t.received, 2 * PG_METER_STREAMS);
	cr_assert_eq(t.duplicated, PG_METER_STREAMS);
	cr_assert_eq(t.lost, 0);
	/* the first ids came first and are counted; the others are not */
	cr_assert_eq(res(m, 0).received, 2);
	cr_assert_eq(res(m, PG_METER_STREAMS - 1).received, 2);
	cr_assert_null(pg_meter_find(m, PG_METER_STREAMS));
	cr_assert_eq(res(m, 65535).received, 0);
	cr_assert_eq(pg_meter_set_first(m, 65535, 0), -ENOSPC);
	cr_assert_eq(pg_meter_set_sent(m, 65535, 10), -ENOSPC);

	/* a reset forgets the ids and reuses the records */
	pg_meter_reset(m);
	cr_assert_eq(m->m_nstreams, 0);
	cr_assert_eq(m->m_overflow, 0);
	for (uint32_t id = 0; id < PG_STREAMS; id++)
		pg_meter_add(m, (uint16_t)(65535 - id), 7, 0, 0, 60);
	cr_assert_eq(m->m_nalloc, PG_METER_STREAMS, "no record more");
	cr_assert_eq(m->m_overflow, PG_STREAMS - PG_METER_STREAMS);
	cr_assert_eq(res(m, 65535).received, 1);
	cr_assert_eq(res(m, 65535).lost, 7, "a reused record starts clean");
	cr_assert_eq(res(m, 0).received, 0);
}

Test(pktgen_seq, a_sealed_table_counts_only_the_run_streams)
{
	cr_assert_eq(pg_meter_set_first(m, 5, 0), 0);
	cr_assert_eq(pg_meter_set_first(m, 6, 100), 0);
	pg_meter_seal(m);
	for (uint32_t id = 0; id < PG_STREAMS; id++)
		pg_meter_add(m, (uint16_t)id, 100, 0, 0, 60);
	cr_assert_eq(m->m_nalloc, 2);
	cr_assert_eq(m->m_overflow, PG_STREAMS - 2);
	cr_assert_eq(m->m_received, 2);
	cr_assert_eq(res(m, 5).received, 1);
	cr_assert_eq(res(m, 5).lost, 100);
	cr_assert_eq(res(m, 6).lost, 0);
	cr_assert_eq(pg_meter_set_first(m, 7, 0), -ENOSPC);
	cr_assert_eq(pg_meter_set_sent(m, 6, 3), 0, "known ids still are");
	/* a reset opens it again */
	pg_meter_reset(m);
	pg_meter_add(m, 7, 0, 0, 0, 60);
	cr_assert_eq(res(m, 7).received, 1);
	cr_assert_eq(m->m_overflow, 0);
}

Test(pktgen_seq, table_size_is_checked)
{
	struct pg_meter *x = calloc(1, sizeof(*x));

	cr_assert_not_null(x);
	cr_assert_eq(pg_meter_init(x, 0), -EINVAL);
	pg_meter_free(x);
	cr_assert_eq(pg_meter_init(x, PG_METER_STREAMS_MAX + 1), -EINVAL);
	pg_meter_free(x);
	cr_assert_eq(pg_meter_init(x, PG_METER_STREAMS_MAX), 0);
	for (uint32_t id = 0; id < PG_STREAMS; id++)
		pg_meter_add(x, (uint16_t)id, 0, 0, 0, 60);
	cr_assert_eq(x->m_nstreams, PG_METER_STREAMS_MAX);
	cr_assert_eq(x->m_overflow, 1);
	pg_meter_free(x);
	free(x);
}

Test(pktgen_seq, merge_into_a_smaller_table_overflows)
{
	struct pg_meter *x = calloc(1, sizeof(*x));
	struct pg_stream_result t;

	cr_assert_not_null(x);
	cr_assert_eq(pg_meter_init(x, 2), 0);
	for (uint16_t id = 1; id <= 3; id++)
		for (uint64_t q = 0; q < id; q++)
			pg_meter_add(m, id, q, 0, 10 + q, 60);
	cr_assert_eq(pg_meter_merge(x, m), 0);
	pg_meter_total(x, &t);
	cr_assert_eq(t.received, 3);		/* streams 1 and 2 */
	cr_assert_eq(x->m_overflow, 3);		/* stream 3's packets */
	cr_assert_eq(x->m_received, 3);
	cr_assert_eq(x->m_bytes, 180);
	pg_meter_free(x);
	free(x);
}

/* Window words taken over: one per block of 64 in order, at most one a
 * packet however far the sequence jumps; nothing else is touched. */
Test(pktgen_seq, a_jump_costs_one_window_word)
{
	static const uint64_t jumps[] = {
		2, 63, 64, 65, 1000, PG_SEQ_WINDOW - 1, PG_SEQ_WINDOW,
		PG_SEQ_WINDOW + 1, 1000000, 1ull << 40,
	};
	const struct pg_stream *s;
	uint64_t max = 999, taken;

	for (uint64_t i = 0; i <= max; i++)
		pg_meter_add(m, 1, i, 0, 0, 60);
	s = pg_meter_find(m, 1);
	cr_assert_not_null(s);
	/* a record's words start as block 0's */
	cr_assert_eq(s->s_win_taken, 15, "blocks 1..15");
	for (size_t i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
		taken = s->s_win_taken;
		max += jumps[i];
		pg_meter_add(m, 1, max, 0, 0, 60);
		cr_assert_leq(s->s_win_taken - taken, 1, "jump %llu",
			      (unsigned long long)jumps[i]);
		/* the number before the new maximum was skipped */
		pg_meter_add(m, 1, max - 1, 0, 0, 60);
		cr_assert_leq(s->s_win_taken - taken, 2);
	}
	cr_assert_eq(res(m, 1).duplicated, 0);
	cr_assert_eq(res(m, 1).reordered, 10);
}

Test(pktgen_seq, jumps_keep_what_the_window_still_holds)
{
	struct pg_stream_result r;

	for (uint64_t i = 0; i < 100; i++)
		pg_meter_add(m, 0, i, 0, 0, 60);
	pg_meter_add(m, 0, 1099, 0, 0, 60);	/* 100..1098 skipped */
	pg_meter_add(m, 0, 50, 0, 0, 60);	/* seen before the jump */
	pg_meter_add(m, 0, 500, 0, 0, 60);	/* skipped: late */
	pg_meter_add(m, 0, 500, 0, 0, 60);	/* and now seen */
	r = res(m, 0);
	cr_assert_eq(r.duplicated, 2);
	cr_assert_eq(r.reordered, 1);
	cr_assert_eq(r.lost, 1100 - 102);
	/* to exactly a window above 99: 99 is its last number */
	pg_meter_add(m, 0, 99 + PG_SEQ_WINDOW - 1, 0, 0, 60);
	pg_meter_add(m, 0, 99, 0, 0, 60);	/* in: seen, a duplicate */
	pg_meter_add(m, 0, 98, 0, 0, 60);	/* below: late, not known */
	pg_meter_add(m, 0, 1000, 0, 0, 60);	/* in, skipped: late */
	r = res(m, 0);
	cr_assert_eq(r.duplicated, 3);
	cr_assert_eq(r.reordered, 3);
	/* one past a window: all of the old blocks read as unseen */
	pg_meter_add(m, 0, 99 + 2 * PG_SEQ_WINDOW, 0, 0, 60);
	pg_meter_add(m, 0, 99 + PG_SEQ_WINDOW + 1, 0, 0, 60);
	pg_meter_add(m, 0, 99 + PG_SEQ_WINDOW - 1, 0, 0, 60); /* below */
	r = res(m, 0);
	cr_assert_eq(r.duplicated, 3);
	cr_assert_eq(r.reordered, 5);

	/* a word still tagged with a block 1025 below (0..63 seen, word 0)
	 * says nothing of its own block: 65605 is late, not a duplicate */
	for (uint64_t i = 0; i < 100; i++)
		pg_meter_add(m, 1, i, 0, 0, 60);
	pg_meter_add(m, 1, 65700, 0, 0, 60);	/* block 1026, word 1 */
	pg_meter_add(m, 1, 65605, 0, 0, 60);	/* block 1025, word 0 */
	r = res(m, 1);
	cr_assert_eq(r.duplicated, 0);
	cr_assert_eq(r.reordered, 1);
	pg_meter_add(m, 1, 65605, 0, 0, 60);	/* word 0 is 1025's now */
	pg_meter_add(m, 1, 5, 0, 0, 60);	/* below the window */
	r = res(m, 1);
	cr_assert_eq(r.duplicated, 1);
	cr_assert_eq(r.reordered, 2);
}

/*
 * Against a reference: a bitmap of every number ever seen, asked only
 * where the definitions look (within a window of the maximum).  A random
 * walk of next numbers, gaps, jumps around and past the window, late
 * numbers and duplicates; counts compared all along the way.
 */
Test(pktgen_seq, matches_a_reference_over_random_jumps)
{
	enum { RANGE = 1 << 27, PACKETS = 300000 };
	uint8_t *seen = calloc(RANGE / 8, 1);
	uint64_t max = 0, recv = 0, dup = 0, reord = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct pg_stream_result r;
	bool any = false;

	cr_assert_not_null(seen);
	for (int i = 0; i < PACKETS; i++) {
		uint64_t seq, roll, back = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		roll = x % 10000;
		if (!any)
			seq = 0;
		else if (roll < 7000)
			seq = max + 1;
		else if (roll < 7800)			/* a gap */
			seq = max + 2 + x / 10000 % 200;
		else if (roll < 7820)			/* about a window */
			seq = max + PG_SEQ_WINDOW - 100 + x / 10000 % 200;
		else if (roll < 7825)			/* past it */
			seq = max + 100000 + x / 10000 % 200000;
		else if (roll < 9200)			/* late, or too late */
			back = 1 + x / 10000 % (PG_SEQ_WINDOW + 100);
		else					/* recent again */
			back = x / 10000 % 100;
		if (roll >= 7825 && any)
			seq = back > max ? 0 : max - back;
		if (seq >= RANGE)
			break;

		pg_meter_add(m, 9, seq, 0, 0, 60);
		recv++;
		if (!any || seq > max) {
			any = true;
			max = seq;
			seen[seq / 8] |= (uint8_t)(1u << seq % 8);
		} else if (max - seq >= PG_SEQ_WINDOW) {
			reord++;		/* too old to tell */
		} else if (seen[seq / 8] >> seq % 8 & 1) {
			dup++;
		} else {
			reord++;
			seen[seq / 8] |= (uint8_t)(1u << seq % 8);
		}
		if (i % 997 == 0) {
			r = res(m, 9);
			cr_assert_eq(r.received, recv, "packet %d", i);
			cr_assert_eq(r.duplicated, dup, "packet %d", i);
			cr_assert_eq(r.reordered, reord, "packet %d", i);
		}
	}
	r = res(m, 9);
	cr_assert_gt(recv, PACKETS / 2, "the walk ran long enough");
	cr_assert_eq(r.received, recv);
	cr_assert_eq(r.duplicated, dup);
	cr_assert_eq(r.reordered, reord);
	cr_assert_eq(r.lost, max + 1 - (recv - dup));
	cr_assert_gt(dup, 1000);
	cr_assert_gt(reord, 1000);
	free(seen);
}
