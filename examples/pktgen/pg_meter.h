/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_meter.h - the receiving side's accounting: per stream, packets
 * received, lost, reordered and duplicated from their sequence numbers;
 * latency min/avg/max and percentiles from a log-linear histogram.
 * Pure: the caller hands in (stream, sequence, latency) per packet.
 *
 * Sequence accounting per stream (RFC 4737's definitions):
 *
 *        window: the last PG_SEQ_WINDOW sequence numbers, one bit each
 *   ... [ 1 1 0 1 1 1 1 0 1 1 ] max
 *                   ^ not seen yet: missing (lost unless it comes later)
 *
 *   seq > max        new: the numbers skipped are missing for now
 *   seq <= max, bit 0  reordered (arrived after a later one), found
 *   seq <= max, bit 1  duplicated
 *   seq below the window: reordered (too old to tell a duplicate)
 *
 *   lost = (max + 1 - first expected) - distinct received
 * where the first expected is 0 (senders start there) or what the caller
 * sets; a sender that tells how many it sent (pg_meter_set_sent) makes
 * the tail count too: lost = sent - distinct received.
 *
 * The window is PG_WIN_WORDS 64-bit words, each tagged with the block of
 * 64 sequence numbers (seq / 64) whose bits it holds; a word tagged with
 * another block reads as all unseen and is taken over when a number of
 * its block arrives.  So a jump of the sequence, however far, clears
 * nothing: O(1) per packet, whatever arrives.  One word more than the
 * window's 1024 keeps the 1025 blocks a window can touch apart.
 *
 * Streams: a table of at most m_max stream ids (pg_meter_init), filled
 * as ids first appear (or are announced by pg_meter_set_first); each
 * costs a record of about 16 KiB, allocated once and kept by reset.  A
 * stamp whose id does not fit, or is not among the ids announced once
 * pg_meter_seal() closed the table, is counted in m_overflow and nothing
 * else: a receiver fed arbitrary ids stays within m_max records.
 *
 * Latency histogram: values below 256 ns exact, above that 128 buckets
 * per power of two, so a percentile is within 1/128 (0.8%) of the truth;
 * min, max and the mean are exact.
 */
#ifndef PG_METER_H
#define PG_METER_H

#include <stdbool.h>
#include <stdint.h>

#define PG_HIST_SUB_BITS	7
#define PG_HIST_SUB		(1u << PG_HIST_SUB_BITS)	/* 128 */
#define PG_HIST_LINEAR		(2 * PG_HIST_SUB)		/* 256 */
#define PG_HIST_BUCKETS		(PG_HIST_LINEAR + \
				 (64 - PG_HIST_SUB_BITS - 1) * PG_HIST_SUB)

struct pg_hist {
	uint64_t h_n;			/* values */
	uint64_t h_min;			/* smallest (UINT64_MAX when none) */
	uint64_t h_max;			/* largest */
	uint64_t h_sum;			/* for the mean (saturates) */
	uint64_t h_count[PG_HIST_BUCKETS];
};

void pg_hist_init(struct pg_hist *h);
void pg_hist_add(struct pg_hist *h, uint64_t v);
void pg_hist_merge(struct pg_hist *dst, const struct pg_hist *src);
/** Bucket of v; its bounds. */
unsigned int pg_hist_bucket(uint64_t v);
void pg_hist_bounds(unsigned int b, uint64_t *lo, uint64_t *hi);
/**
 * The value at quantile q (0 < q <= 1): the smallest bucket holding the
 * ceil(q * n)-th value, reported as its midpoint clamped to [min, max].
 * @return 0 when the histogram is empty.
 */
uint64_t pg_hist_quantile(const struct pg_hist *h, double q);
/** Mean, 0 when empty. */
double pg_hist_mean(const struct pg_hist *h);
/**
 * dst = now - before, bucket by bucket (before an earlier state of the
 * same counts): the values added in between.  Its min and max are the
 * bounds of its lowest and highest bucket, its mean exact unless the sum
 * saturated.
 */
void pg_hist_sub(struct pg_hist *dst, const struct pg_hist *now,
		 const struct pg_hist *before);

#define PG_SEQ_WINDOW		65536	/* sequence numbers of history */
#define PG_WIN_WORDS		(PG_SEQ_WINDOW / 64 + 1)
#define PG_STREAMS		65536	/* 16-bit stream ids */
#define PG_METER_STREAMS_MAX	65535	/* largest table */
#define PG_METER_STREAMS	1024	/* the generator's default table */

struct pg_win_word {
	uint64_t w_bits;		/* bit seq % 64 */
	uint64_t w_block;		/* seq / 64 of those bits */
};

struct pg_stream {
	uint64_t s_first;		/* first sequence expected */
	uint64_t s_max;			/* highest seen */
	uint64_t s_received;		/* packets, duplicates included */
	uint64_t s_duplicated;
	uint64_t s_reordered;
	uint64_t s_sent;		/* sender's count; UINT64_MAX: unknown */
	uint64_t s_bytes;
	uint64_t s_win_taken;		/* window words taken over by a new
					 * block: at most one per packet */
	uint16_t s_id;			/* stream id */
	bool s_seen;			/* s_max is valid */
	struct pg_win_word s_win[PG_WIN_WORDS]; /* (seq / 64) % WORDS */
};

struct pg_meter {
	uint16_t m_index[PG_STREAMS];	/* id -> slot + 1; 0: none */
	struct pg_stream **m_slot;	/* [m_max]: records, in the order
					 * their ids came; kept by reset */
	uint32_t m_max;			/* table size */
	uint32_t m_limit;		/* ids accepted: m_max, or those in
					 * the table when sealed */
	uint32_t m_nstreams;		/* slots in use */
	uint32_t m_nalloc;		/* records allocated (<= m_max) */
	uint64_t m_overflow;		/* stamped packets of ids that did not
					 * fit the table (or whose record could
					 * not be allocated: m_oom): in no
					 * other count */
	uint64_t m_received;		/* stamped packets */
	uint64_t m_bytes;		/* their bytes */
	uint64_t m_unstamped;		/* packets without a stamp */
	uint64_t m_unstamped_bytes;
	uint64_t m_first_ns;		/* arrival of the first (stamped) */
	uint64_t m_last_ns;		/* arrival of the last */
	uint64_t m_bad_latency;		/* TX time after RX time: not counted */
	uint64_t m_stale;		/* sequence below the stream's first
					 * expected (an earlier trial): ignored */
	struct pg_hist m_lat;		/* latency, ns */
	bool m_oom;			/* a stream could not be allocated */
};

/**
 * A meter for at most max_streams stream ids (1..PG_METER_STREAMS_MAX).
 * @return 0, -EINVAL, -ENOMEM (m is then safe to pg_meter_free).
 */
int pg_meter_init(struct pg_meter *m, uint32_t max_streams);
void pg_meter_free(struct pg_meter *m);
/**
 * Forgets everything (stream ids, counters; a seal too), keeps the
 * records for the ids to come.
 */
void pg_meter_reset(struct pg_meter *m);
/** Accepts no new stream id: only those in the table now are counted. */
void pg_meter_seal(struct pg_meter *m);

/**
 * Accounts one stamped packet.  rx_ns and tx_ns on the same clock;
 * rx_ns < tx_ns is counted in m_bad_latency and not in the histogram.
 */
void pg_meter_add(struct pg_meter *m, uint16_t stream, uint64_t seq,
		  uint64_t tx_ns, uint64_t rx_ns, uint32_t len);
/** Accounts a packet without a stamp. */
static inline void pg_meter_unstamped(struct pg_meter *m, uint32_t len)
{
	m->m_unstamped++;
	m->m_unstamped_bytes += len;
}

/**
 * Sets stream's first expected sequence (before its packets arrive);
 * announces the id.  @return 0, -ENOSPC (table full or sealed), -ENOMEM.
 */
int pg_meter_set_first(struct pg_meter *m, uint16_t stream, uint64_t first);
/**
 * Tells how many the sender sent on stream (counts the tail too).
 * @return 0, -ENOSPC, -ENOMEM.
 */
int pg_meter_set_sent(struct pg_meter *m, uint16_t stream, uint64_t sent);
/** The record of stream, NULL when its id is not in the table. */
const struct pg_stream *pg_meter_find(const struct pg_meter *m,
				      uint16_t stream);

struct pg_stream_result {
	uint64_t received;		/* duplicates included */
	uint64_t lost;			/* expected and never seen */
	uint64_t reordered;
	uint64_t duplicated;
};
/** Loss of one stream (0s for an unknown id). */
void pg_meter_stream(const struct pg_meter *m, uint16_t stream,
		     struct pg_stream_result *r);
/** Sums over every stream. */
void pg_meter_total(const struct pg_meter *m, struct pg_stream_result *r);

/**
 * Folds src into dst (several receive queues).  Counts add; each
 * stream's highest sequence is the larger, and the distinct packets add,
 * so a stream split over queues is lost-counted right as long as no
 * packet arrived on two queues; reordering across queues is not seen.
 * A stream of src that does not fit dst's table goes to m_overflow
 * (out of m_received and m_bytes; its latencies stay in the histogram):
 * size dst for the union of the tables.
 * @return 0, -ENOMEM.
 */
int pg_meter_merge(struct pg_meter *dst, const struct pg_meter *src);

#endif /* PG_METER_H */
