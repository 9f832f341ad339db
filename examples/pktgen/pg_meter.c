/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_meter.c - loss, reordering, duplication and latency accounting of
 * the receiver (pg_meter.h).  Pure: no clock, no I/O.
 *
 * Per packet the common case (the next sequence number of its stream)
 * costs two loads (the id's slot, its record), a compare, a tagged bit
 * set and a histogram increment.  Nothing is ever swept: a jump of the
 * sequence leaves the window's words tagged with older blocks, which
 * read as unseen and are taken over one at a time as numbers of their
 * new blocks arrive (pg_meter.h).  The stream table is bounded (m_max
 * records), so neither a flood of stamps with new ids nor one with
 * wild sequence numbers costs more than the run planned for.
 *
 * KPI: pg_hist_init, pg_hist_add, pg_hist_merge, pg_hist_bucket,
 *      pg_hist_bounds, pg_hist_quantile, pg_hist_mean, pg_meter_init,
 *      pg_meter_free, pg_meter_reset, pg_meter_seal, pg_meter_add,
 *      pg_meter_set_first, pg_meter_set_sent, pg_meter_find,
 *      pg_meter_stream, pg_meter_total, pg_meter_merge.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pg_meter.h"

/* ----------------------------------------------------------- histogram */

void pg_hist_init(struct pg_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->h_min = UINT64_MAX;
}

unsigned int pg_hist_bucket(uint64_t v)
{
	unsigned int msb, shift;

	if (v < PG_HIST_LINEAR)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - PG_HIST_SUB_BITS;
	return PG_HIST_LINEAR + (shift - 1) * PG_HIST_SUB +
	       (unsigned int)((v >> shift) - PG_HIST_SUB);
}

void pg_hist_bounds(unsigned int b, uint64_t *lo, uint64_t *hi)
{
	unsigned int shift, sub;

	if (b < PG_HIST_LINEAR) {
		*lo = *hi = b;
		return;
	}
	shift = (b - PG_HIST_LINEAR) / PG_HIST_SUB + 1;
	sub = (b - PG_HIST_LINEAR) % PG_HIST_SUB;
	*lo = (uint64_t)(PG_HIST_SUB + sub) << shift;
	*hi = *lo + ((1ull << shift) - 1);
}

void pg_hist_add(struct pg_hist *h, uint64_t v)
{
	h->h_count[pg_hist_bucket(v)]++;
	h->h_n++;
	if (v < h->h_min)
		h->h_min = v;
	if (v > h->h_max)
		h->h_max = v;
	h->h_sum = h->h_sum + v < h->h_sum ? UINT64_MAX : h->h_sum + v;
}

void pg_hist_merge(struct pg_hist *dst, const struct pg_hist *src)
{
	if (src->h_n == 0)
		return;
	for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++)
		dst->h_count[b] += src->h_count[b];
	dst->h_n += src->h_n;
	if (src->h_min < dst->h_min)
		dst->h_min = src->h_min;
	if (src->h_max > dst->h_max)
		dst->h_max = src->h_max;
	dst->h_sum = dst->h_sum + src->h_sum < dst->h_sum ? UINT64_MAX :
		     dst->h_sum + src->h_sum;
}

uint64_t pg_hist_quantile(const struct pg_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->h_n == 0)
		return 0;
	if (!(q > 0))
		return h->h_min;
	if (q >= 1)
		return h->h_max;
	rank = (uint64_t)ceil(q * (double)h->h_n);
	if (rank == 0)
		rank = 1;
	for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++) {
		uint64_t lo, hi, mid;

		seen += h->h_count[b];
		if (seen < rank)
			continue;
		pg_hist_bounds(b, &lo, &hi);
		mid = lo + (hi - lo) / 2;
		if (mid < h->h_min)
			mid = h->h_min;
		if (mid > h->h_max)
			mid = h->h_max;
		return mid;
	}
	return h->h_max;
}

double pg_hist_mean(const struct pg_hist *h)
{
	return h->h_n ? (double)h->h_sum / (double)h->h_n : 0.0;
}

void pg_hist_sub(struct pg_hist *dst, const struct pg_hist *now,
		 const struct pg_hist *before)
{
	uint64_t lo, hi;
	int first = -1, last = -1;

	pg_hist_init(dst);
	for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++) {
		uint64_t c = now->h_count[b] > before->h_count[b] ?
			     now->h_count[b] - before->h_count[b] : 0;

		dst->h_count[b] = c;
		dst->h_n += c;
		if (c && first < 0)
			first = (int)b;
		if (c)
			last = (int)b;
	}
	if (first < 0)
		return;
	/* min and max are known to their buckets only */
	pg_hist_bounds((unsigned int)first, &lo, &hi);
	dst->h_min = lo;
	pg_hist_bounds((unsigned int)last, &lo, &hi);
	dst->h_max = hi;
	dst->h_sum = now->h_sum > before->h_sum ? now->h_sum - before->h_sum :
		     0;
}

/* -------------------------------------------------------------- meter */

int pg_meter_init(struct pg_meter *m, uint32_t max_streams)
{
	memset(m, 0, sizeof(*m));
	pg_hist_init(&m->m_lat);
	if (max_streams == 0 || max_streams > PG_METER_STREAMS_MAX)
		return -EINVAL;
	m->m_slot = calloc(max_streams, sizeof(*m->m_slot));
	if (!m->m_slot)
		return -ENOMEM;
	m->m_max = m->m_limit = max_streams;
	return 0;
}

void pg_meter_free(struct pg_meter *m)
{
	for (uint32_t i = 0; m->m_slot && i < m->m_nalloc; i++)
		free(m->m_slot[i]);
	free(m->m_slot);
	memset(m, 0, sizeof(*m));
}

static void pg_stream_clear(struct pg_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->s_sent = UINT64_MAX;
}

void pg_meter_reset(struct pg_meter *m)
{
	for (uint32_t i = 0; i < m->m_nstreams; i++) {
		m->m_index[m->m_slot[i]->s_id] = 0;
		pg_stream_clear(m->m_slot[i]);
	}
	m->m_nstreams = 0;
	m->m_limit = m->m_max;
	m->m_overflow = 0;
	m->m_received = m->m_bytes = 0;
	m->m_unstamped = m->m_unstamped_bytes = 0;
	m->m_first_ns = m->m_last_ns = 0;
	m->m_bad_latency = m->m_stale = 0;
	pg_hist_init(&m->m_lat);
}

void pg_meter_seal(struct pg_meter *m)
{
	m->m_limit = m->m_nstreams;
}

const struct pg_stream *pg_meter_find(const struct pg_meter *m,
				      uint16_t stream)
{
	uint16_t slot = m->m_index[stream];

	return slot ? m->m_slot[slot - 1] : NULL;
}

/*
 * The record of id, taking a slot for a new id.  Slots fill in order
 * and records stay allocated behind them (m_nalloc >= m_nstreams), so a
 * reset run reuses them.  @return 0, -ENOSPC (table full or sealed),
 * -ENOMEM.
 */
static int pg_meter_stream_get(struct pg_meter *m, uint16_t id,
			       struct pg_stream **sp)
{
	uint16_t slot = m->m_index[id];
	struct pg_stream *s;

	if (slot) {
		*sp = m->m_slot[slot - 1];
		return 0;
	}
	if (m->m_nstreams >= m->m_limit)
		return -ENOSPC;
	if (m->m_nstreams == m->m_nalloc) {
		s = malloc(sizeof(*s));
		if (!s) {
			m->m_oom = true;
			return -ENOMEM;
		}
		pg_stream_clear(s);
		m->m_slot[m->m_nalloc++] = s;
	}
	s = m->m_slot[m->m_nstreams++];
	s->s_id = id;
	m->m_index[id] = (uint16_t)m->m_nstreams;
	*sp = s;
	return 0;
}

int pg_meter_set_first(struct pg_meter *m, uint16_t stream, uint64_t first)
{
	struct pg_stream *s;
	int err = pg_meter_stream_get(m, stream, &s);

	if (err)
		return err;
	s->s_first = first;
	return 0;
}

int pg_meter_set_sent(struct pg_meter *m, uint16_t stream, uint64_t sent)
{
	struct pg_stream *s;
	int err = pg_meter_stream_get(m, stream, &s);

	if (err)
		return err;
	s->s_sent = sent;
	return 0;
}

/* The window word of seq's block, whatever block it holds now. */
static inline struct pg_win_word *pg_win_word(struct pg_stream *s,
					      uint64_t seq)
{
	return &s->s_win[(seq / 64) % PG_WIN_WORDS];
}

static inline bool pg_win_test(struct pg_stream *s, uint64_t seq)
{
	const struct pg_win_word *w = pg_win_word(s, seq);

	return w->w_block == seq / 64 && (w->w_bits >> (seq % 64) & 1);
}

/*
 * A word tagged with another block holds numbers more than a window
 * below any number of seq's block (PG_WIN_WORDS blocks apart): nothing
 * in it is still asked about, so it is taken over.
 */
static inline void pg_win_set(struct pg_stream *s, uint64_t seq)
{
	struct pg_win_word *w = pg_win_word(s, seq);

	if (w->w_block != seq / 64) {
		w->w_block = seq / 64;
		w->w_bits = 0;
		s->s_win_taken++;
	}
	w->w_bits |= 1ull << (seq % 64);
}

void pg_meter_add(struct pg_meter *m, uint16_t stream, uint64_t seq,
		  uint64_t tx_ns, uint64_t rx_ns, uint32_t len)
{
	uint16_t slot = m->m_index[stream];
	struct pg_stream *s;

	if (slot) {
		s = m->m_slot[slot - 1];
	} else if (pg_meter_stream_get(m, stream, &s)) {
		m->m_overflow++;
		return;
	}
	if (seq < s->s_first) {
		m->m_stale++;
		return;
	}
	if (m->m_received == 0)
		m->m_first_ns = rx_ns;
	m->m_last_ns = rx_ns;
	m->m_received++;
	m->m_bytes += len;
	s->s_received++;
	s->s_bytes += len;

	if (!s->s_seen || seq > s->s_max) {
		/* the numbers skipped read as unseen: nothing to clear */
		s->s_seen = true;
		s->s_max = seq;
		pg_win_set(s, seq);
	} else if (s->s_max - seq >= PG_SEQ_WINDOW) {
		s->s_reordered++;
	} else if (pg_win_test(s, seq)) {
		s->s_duplicated++;
	} else {
		s->s_reordered++;
		pg_win_set(s, seq);
	}

	if (rx_ns >= tx_ns)
		pg_hist_add(&m->m_lat, rx_ns - tx_ns);
	else
		m->m_bad_latency++;
}

static void pg_stream_result(const struct pg_stream *s,
			     struct pg_stream_result *r)
{
	uint64_t distinct = s->s_received - s->s_duplicated;
	uint64_t expected;

	if (s->s_sent != UINT64_MAX)
		expected = s->s_sent;
	else if (s->s_seen)
		expected = s->s_max + 1 - s->s_first;
	else
		expected = 0;
	r->received = s->s_received;
	r->duplicated = s->s_duplicated;
	r->reordered = s->s_reordered;
	r->lost = expected > distinct ? expected - distinct : 0;
}

void pg_meter_stream(const struct pg_meter *m, uint16_t stream,
		     struct pg_stream_result *r)
{
	const struct pg_stream *s = pg_meter_find(m, stream);

	memset(r, 0, sizeof(*r));
	if (s)
		pg_stream_result(s, r);
}

void pg_meter_total(const struct pg_meter *m, struct pg_stream_result *r)
{
	memset(r, 0, sizeof(*r));
	for (uint32_t i = 0; i < m->m_nstreams; i++) {
		struct pg_stream_result sr;

		pg_stream_result(m->m_slot[i], &sr);
		r->received += sr.received;
		r->lost += sr.lost;
		r->reordered += sr.reordered;
		r->duplicated += sr.duplicated;
	}
}

int pg_meter_merge(struct pg_meter *dst, const struct pg_meter *src)
{
	uint64_t dropped = 0, dropped_bytes = 0;

	for (uint32_t i = 0; i < src->m_nstreams; i++) {
		const struct pg_stream *s = src->m_slot[i];
		struct pg_stream *d;
		int err = pg_meter_stream_get(dst, s->s_id, &d);

		if (err == -ENOSPC) {
			dropped += s->s_received;
			dropped_bytes += s->s_bytes;
			continue;
		}
		if (err)
			return err;
		if (s->s_seen && (!d->s_seen || s->s_max > d->s_max))
			d->s_max = s->s_max;
		d->s_seen |= s->s_seen;
		if (s->s_first > d->s_first)
			d->s_first = s->s_first;
		if (s->s_sent != UINT64_MAX)
			d->s_sent = s->s_sent;
		d->s_received += s->s_received;
		d->s_duplicated += s->s_duplicated;
		d->s_reordered += s->s_reordered;
		d->s_bytes += s->s_bytes;
	}
	if (src->m_received > dropped) {
		if (dst->m_received == 0 || src->m_first_ns < dst->m_first_ns)
			dst->m_first_ns = src->m_first_ns;
		if (src->m_last_ns > dst->m_last_ns)
			dst->m_last_ns = src->m_last_ns;
	}
	dst->m_overflow += src->m_overflow + dropped;
	dst->m_received += src->m_received - dropped;
	dst->m_bytes += src->m_bytes - dropped_bytes;
	dst->m_unstamped += src->m_unstamped;
	dst->m_unstamped_bytes += src->m_unstamped_bytes;
	dst->m_bad_latency += src->m_bad_latency;
	dst->m_stale += src->m_stale;
	dst->m_oom |= src->m_oom;
	pg_hist_merge(&dst->m_lat, &src->m_lat);
	return 0;
}
