// SPDX-License-Identifier: BSD-2-Clause
/*
 * pg_run.c - one run of xmbuf-pktgen (pg_run.h).
 *
 *   pg_run_begin   result buffers; the streams the TX queues will send
 *   pg_rx_start    meters told those streams, then a worker per RX queue
 *   pg_tx_start    each queue's share of count and rate, a worker each
 *   pg_watch       stats line once a second until the count, the deadline,
 *                  idleness (rx) or a stop; with --json-stream a JSON
 *                  line per interval on stdout (pg_ival)
 *   pg_tx_join     tx_stop, join, what the senders did
 *   pg_drain       both ends: wait for what is still on the wire
 *   pg_rx_join     rx_stop, join
 *   pg_merge       every queue's meter, sizes and tuples into the result;
 *                  with both ends, each stream's sent count (the tail)
 *
 * The workers are the runtime's launcher's (xm_ex_run.h: pinning, start,
 * join, the first error), two groups of them, RX and TX, with a queue as
 * each worker's argument.  The run stops them itself, by g->tx_stop and
 * g->rx_stop, not by the launcher's loop: the receivers outlive the
 * senders by the drain, and rfc2544 runs again after a run ends, where
 * the launcher's loop would have stopped the whole process
 * (xm_ex_stop()).  The stop signals are blocked while the threads are
 * created, so only the main thread takes them (a worker inside
 * BPF_PROG_RUN would have its run cut short); the watch loop sees them
 * through xm_ex_stopping().
 *
 * --json-stream: each line holds what changed since the one before (the
 * counters the stats line reads, and the difference of the receivers'
 * latency histograms, read while they count: an aligned 64-bit count is
 * read whole, at worst a few packets late); the run's last line is the
 * difference between the merged result and the line before it, so the
 * lines add up to the summary exactly.
 *
 * KPI (pg_run.h): pg_run, pg_result_free.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xm_example.h"

#include "pg_report.h"
#include "pg_run.h"
#include "pg_rx.h"
#include "pg_tx.h"

#define PG_STREAMS_MAX		1024

/* What --json-stream lines are the differences of. */
struct pg_counts {
	uint64_t sent, tx_bytes, rx, rx_bytes;
	uint64_t received;		/* stamped (the summary's "received") */
	int64_t lost;
};

/* --json-stream's state: the counts at the last line. */
struct pg_ival {
	bool on;
	uint64_t t_prev;		/* ns of the last line */
	struct pg_counts prev;
	struct pg_hist *hprev;		/* the latency counts then */
	struct pg_hist *hcur;		/* scratch: now */
	struct pg_hist *hdiff;		/* scratch: the interval's */
};

/* The TX streams of a run and their first sequence numbers. */
struct pg_streams {
	uint16_t ids[PG_STREAMS_MAX];
	uint64_t first[PG_STREAMS_MAX];
	int n;
};

/* The run's workers, by the launcher: zeroed, a group never started
 * joins as an empty one. */
struct pg_workers {
	struct xm_ex_run rx;
	struct xm_ex_run tx;
};

static void pg_stop_signals(int how)
{
	sigset_t set;

	xm_ex_stop_sigset(&set);
	pthread_sigmask(how, &set, NULL);
}

static void pg_sum_tx(const struct pg *g, uint64_t *sent, uint64_t *bytes)
{
	*sent = *bytes = 0;
	for (unsigned int i = 0; i < g->ntxq; i++) {
		*sent += atomic_load_explicit(&g->txq[i].sent,
					      memory_order_relaxed);
		*bytes += atomic_load_explicit(&g->txq[i].bytes,
					       memory_order_relaxed);
	}
}

static void pg_sum_rx(const struct pg *g, uint64_t *rx, uint64_t *bytes,
		      uint64_t *lost, uint64_t *last_ns)
{
	*rx = *bytes = *lost = *last_ns = 0;
	for (unsigned int i = 0; i < g->nrxq; i++) {
		uint64_t t = atomic_load_explicit(&g->rxq[i].last_ns,
						  memory_order_relaxed);

		*rx += atomic_load_explicit(&g->rxq[i].rx,
					    memory_order_relaxed);
		*bytes += atomic_load_explicit(&g->rxq[i].bytes,
					       memory_order_relaxed);
		*lost += atomic_load_explicit(&g->rxq[i].lost,
					      memory_order_relaxed);
		if (t > *last_ns)
			*last_ns = t;
	}
}

void pg_result_free(struct pg_result *r)
{
	if (r->meter) {
		pg_meter_free(r->meter);
		free(r->meter);
	}
	free(r->sizes);
	memset(r, 0, sizeof(*r));
}

/* Splits total over n queues: queue i gets its share of the remainder. */
static uint64_t pg_share(uint64_t total, unsigned int n, unsigned int i)
{
	return total / n + (i < total % n ? 1 : 0);
}

/* The merged meter has room for every queue's streams: none dropped. */
static uint32_t pg_merged_streams(const struct pg *g)
{
	if (g->nrxq == 0)
		return 1;
	if (g->nrxq >= PG_METER_STREAMS_MAX / PG_METER_STREAMS)
		return PG_METER_STREAMS_MAX;
	return g->nrxq * PG_METER_STREAMS;
}

/* ------------------------------------------------------------- start */

/* The result's buffers and the streams.  @return 0 or -errno (said). */
static int pg_run_begin(struct pg *g, struct pg_result *r,
			struct pg_streams *st)
{
	memset(r, 0, sizeof(*r));
	r->meter = calloc(1, sizeof(*r->meter));
	r->sizes = calloc(PG_SIZE_MAX + 2, sizeof(*r->sizes));
	if (!r->meter || !r->sizes ||
	    pg_meter_init(r->meter, pg_merged_streams(g)))
		return xm_ex_error("out of memory"), -ENOMEM;
	atomic_store(&g->tx_stop, false);
	atomic_store(&g->rx_stop, false);
	st->n = 0;
	if (g->ntxq > 0) {
		st->n = pg_tx_streams(g, st->ids, st->first, PG_STREAMS_MAX);
		if (st->n < 0)
			return xm_ex_error("cannot read the TX streams: %s",
					   strerror(-st->n)), st->n;
	}
	return 0;
}

/* @return 0 or -errno (said). */
static int pg_rx_start(struct pg *g, const struct pg_streams *st,
		       struct xm_ex_run *run)
{
	const struct pg_args *a = g->a;

	pg_rx_reset(g);
	/* the run knows its streams: stamps of any other id (an earlier
	 * run's, another sender's) are not this run's */
	for (unsigned int i = 0; i < g->nrxq; i++) {
		for (int s = 0; s < st->n; s++)
			pg_meter_set_first(g->rxq[i].meter, st->ids[s],
					   st->first[s]);
		if (st->n > 0)
			pg_meter_seal(g->rxq[i].meter);
	}
	run->fn = pg_rx_worker;
	run->args = g->rxq;
	run->stride = sizeof(*g->rxq);
	run->nworkers = g->nrxq;
	run->role = "RX ";
	/* -c pins the threads of the command: rx's are these */
	run->cpus = a->cmd == PG_CMD_RX ? a->std.cpus : a->rx_cpus;
	run->ncpus = a->cmd == PG_CMD_RX ? a->std.ncpus : a->nrx_cpus;
	return xm_ex_run_start(run);
}

/* @return 0 or -errno (said). */
static int pg_tx_start(struct pg *g, const struct pg_run_opts *o,
		       struct xm_ex_run *run)
{
	for (unsigned int i = 0; i < g->ntxq; i++) {
		struct pg_txq *q = &g->txq[i];

		q->limit = o->count ? pg_share(o->count, g->ntxq, i) : 0;
		q->rate_bits = o->rate.rp_bits;
		q->rate_overhead = o->rate.rp_overhead;
		q->rate = o->rate.rp_rate ?
			  pg_share(o->rate.rp_rate, g->ntxq, i) : 0;
		q->t_zero = 0;
		q->run_seq0 = q->seq;
		q->t_first = q->t_last = 0;
		q->spilled = 0;
		atomic_store(&q->sent, 0);
		atomic_store(&q->bytes, 0);
		/* a count below the queues leaves the last ones idle: no
		 * worker (the shares with work are the first ones) */
		atomic_store(&q->done, o->count && q->limit == 0);
	}
	run->fn = pg_tx_worker;
	run->args = g->txq;
	run->stride = sizeof(*g->txq);
	run->nworkers = o->count && o->count < g->ntxq ?
			(unsigned int)o->count : g->ntxq;
	run->role = "TX ";
	run->cpus = g->a->std.cpus;
	run->ncpus = g->a->std.ncpus;
	return xm_ex_run_start(run);
}

/* ------------------------------------------------------------- watch */

/* Whether the run is over: every sender done, or (rx only) the count
 * received or the receiver idle long enough. */
static bool pg_run_over(const struct pg *g, const struct pg_run_opts *o,
			uint64_t now)
{
	uint64_t rx, bytes, lost, last;

	if (g->ntxq > 0) {
		for (unsigned int i = 0; i < g->ntxq; i++)
			if (!atomic_load_explicit(&g->txq[i].done,
						  memory_order_acquire))
				return false;
		return true;
	}
	pg_sum_rx(g, &rx, &bytes, &lost, &last);
	if (o->rx_count && rx >= o->rx_count)
		return true;
	return o->idle_s > 0 && last &&
	       now > last + (uint64_t)(o->idle_s * 1e9);
}

/* ----------------------------------------------------- --json-stream */

static int pg_ival_init(struct pg_ival *iv, const struct pg_run_opts *o,
			uint64_t t0)
{
	memset(iv, 0, sizeof(*iv));
	if (!o->stream)
		return 0;
	iv->hprev = malloc(sizeof(*iv->hprev));
	iv->hcur = malloc(sizeof(*iv->hcur));
	iv->hdiff = malloc(sizeof(*iv->hdiff));
	if (!iv->hprev || !iv->hcur || !iv->hdiff)
		return xm_ex_error("out of memory"), -ENOMEM;
	pg_hist_init(iv->hprev);
	iv->on = true;
	iv->t_prev = t0;
	return 0;
}

static void pg_ival_free(struct pg_ival *iv)
{
	free(iv->hprev);
	free(iv->hcur);
	free(iv->hdiff);
	memset(iv, 0, sizeof(*iv));
}

/* The receivers' latency counts now, read while they count. */
static void pg_ival_hist(const struct pg *g, struct pg_hist *h)
{
	pg_hist_init(h);
	for (unsigned int i = 0; i < g->nrxq; i++) {
		const struct pg_hist *q = &g->rxq[i].meter->m_lat;

		for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++)
			h->h_count[b] += __atomic_load_n(&q->h_count[b],
							 __ATOMIC_RELAXED);
		h->h_n += __atomic_load_n(&q->h_n, __ATOMIC_RELAXED);
		h->h_sum += __atomic_load_n(&q->h_sum, __ATOMIC_RELAXED);
	}
}

/* One line: what changed since the last one (c and iv->hcur: now). */
static void pg_ival_emit(const struct pg *g, const struct pg_run_opts *o,
			 struct pg_ival *iv, uint64_t now,
			 const struct pg_counts *c, bool last)
{
	const struct pg_counts *p = &iv->prev;
	double dt = (double)(now - iv->t_prev) / 1e9;
	uint64_t sent = c->sent - p->sent, rx = c->rx - p->rx;
	uint64_t txb = c->tx_bytes - p->tx_bytes, rxb = c->rx_bytes - p->rx_bytes;
	const struct pg_hist *h = iv->hdiff;
	struct xm_ex_json j;

	pg_hist_sub(iv->hdiff, iv->hcur, iv->hprev);
	xm_ex_json_begin(&j, stdout);
	xm_ex_json_str(&j, "type", "interval");
	xm_ex_json_double(&j, "t", (double)(now - g->t_start) / 1e9);
	xm_ex_json_double(&j, "interval_s", dt);
	if (o->frame_bytes) {
		/* rfc2544: trial 0 is the latency run */
		xm_ex_json_u64(&j, "trial", o->trial);
		xm_ex_json_u64(&j, "frame_bytes", o->frame_bytes);
		xm_ex_json_double(&j, "offered_pps", o->offered_pps);
	}
	if (g->ntxq > 0) {
		xm_ex_json_u64(&j, "sent", sent);
		xm_ex_json_double(&j, "tx_pps", pg_rate_of(sent, dt));
		xm_ex_json_double(&j, "tx_bps_l2",
				  pg_rate_of((txb + 4 * sent) * 8, dt));
		xm_ex_json_double(&j, "tx_bps_l1",
				  pg_rate_of((txb + 24 * sent) * 8, dt));
	}
	if (g->rxp) {
		/* stamped, as the summary's "received"; rx_packets: all */
		xm_ex_json_u64(&j, "received", c->received - p->received);
		xm_ex_json_u64(&j, "rx_packets", rx);
		xm_ex_json_i64(&j, "lost", c->lost - p->lost);
		xm_ex_json_double(&j, "rx_pps", pg_rate_of(rx, dt));
		xm_ex_json_double(&j, "rx_bps_l2",
				  pg_rate_of((rxb + 4 * rx) * 8, dt));
		xm_ex_json_double(&j, "rx_bps_l1",
				  pg_rate_of((rxb + 24 * rx) * 8, dt));
		xm_ex_json_object(&j, "latency_ns");
		xm_ex_json_u64(&j, "count", h->h_n);
		xm_ex_json_u64(&j, "min", h->h_n ? h->h_min : 0);
		xm_ex_json_double(&j, "avg", pg_hist_mean(h));
		xm_ex_json_u64(&j, "p50", pg_hist_quantile(h, 0.50));
		xm_ex_json_u64(&j, "p90", pg_hist_quantile(h, 0.90));
		xm_ex_json_u64(&j, "p99", pg_hist_quantile(h, 0.99));
		xm_ex_json_u64(&j, "p999", pg_hist_quantile(h, 0.999));
		xm_ex_json_u64(&j, "max", h->h_max);
		xm_ex_json_close(&j);
	}
	xm_ex_json_bool(&j, "last", last);
	if (xm_ex_json_end(&j))
		xm_ex_error("could not write a --json-stream line");
	iv->prev = *c;
	iv->t_prev = now;
	memcpy(iv->hprev, iv->hcur, sizeof(*iv->hprev));
}

/* A line while the run goes, from the live counters. */
static void pg_ival_tick(const struct pg *g, const struct pg_run_opts *o,
			 struct pg_ival *iv, uint64_t now)
{
	struct pg_counts c;
	uint64_t qlost, last;

	if (!iv->on || now < iv->t_prev + (uint64_t)(o->interval_s * 1e9))
		return;
	pg_sum_tx(g, &c.sent, &c.tx_bytes);
	pg_sum_rx(g, &c.rx, &c.rx_bytes, &qlost, &last);
	/* the queues' own view of loss, for the line (the tail and the
	 * merge come with the last one) */
	c.lost = (int64_t)qlost;
	c.received = 0;
	for (unsigned int i = 0; i < g->nrxq; i++)
		c.received += __atomic_load_n(&g->rxq[i].meter->m_received,
					      __ATOMIC_RELAXED);
	pg_ival_hist(g, iv->hcur);
	pg_ival_emit(g, o, iv, now, &c, false);
}

/* The run's last line: the merged result less what the lines said. */
static void pg_ival_last(const struct pg *g, const struct pg_run_opts *o,
			 struct pg_ival *iv, const struct pg_result *r)
{
	struct pg_stream_result tot;
	struct pg_counts c = {
		.sent = r->sent, .tx_bytes = r->tx_bytes,
		.rx = r->rx_packets, .rx_bytes = r->rx_bytes,
	};

	if (!iv->on)
		return;
	if (g->rxp) {
		pg_meter_total(r->meter, &tot);
		c.lost = (int64_t)tot.lost;
		c.received = tot.received;
		memcpy(iv->hcur, &r->meter->m_lat, sizeof(*iv->hcur));
	} else {
		pg_hist_init(iv->hcur);
	}
	pg_ival_emit(g, o, iv, xm_ex_now_ns(), &c, true);
}

/* The stats line once a second until the run is over, its deadline or a
 * stop signal. */
static void pg_watch(const struct pg *g, const struct pg_run_opts *o,
		     uint64_t t0, struct pg_ival *iv)
{
	static const struct xm_ex_stat_col cols_both[] = {
		{ "tx", XM_EX_STAT_RATE }, { "", XM_EX_STAT_BITS },
		{ "rx", XM_EX_STAT_RATE }, { "", XM_EX_STAT_BITS },
		{ "lost", XM_EX_STAT_COUNT },
	};
	static const struct xm_ex_stat_col cols_rx[] = {
		{ "rx", XM_EX_STAT_RATE }, { "", XM_EX_STAT_BITS },
		{ "lost", XM_EX_STAT_COUNT },
	};
	bool have_tx = g->ntxq > 0, have_rx = g->rxp != NULL;
	FILE *line = o->stats_line ? stderr : NULL;
	uint64_t deadline = 0;
	struct xm_ex_stats stats;

	if (o->seconds > 0)
		deadline = t0 + (uint64_t)(o->seconds * 1e9);
	if (have_tx)
		xm_ex_stats_init(&stats, cols_both, have_rx ? 5 : 2, 0, line);
	else
		xm_ex_stats_init(&stats, cols_rx, 3, 0, line);
	for (;;) {
		uint64_t now = xm_ex_now_ns(), v[5], last;

		if (xm_ex_stopping() || (deadline && now >= deadline) ||
		    pg_run_over(g, o, now))
			break;
		pg_ival_tick(g, o, iv, now);
		if (xm_ex_stats_due(&stats, now)) {
			if (have_tx) {
				pg_sum_tx(g, &v[0], &v[1]);
				pg_sum_rx(g, &v[2], &v[3], &v[4], &last);
			} else {
				pg_sum_rx(g, &v[0], &v[1], &v[2], &last);
			}
			xm_ex_stats_print(&stats, v, now);
		}
		usleep(deadline && deadline - now < 5000000ull ?
		       (useconds_t)((deadline - now) / 1000) + 1 : 5000);
	}
}

/* -------------------------------------------------------------- stop */

static void pg_tx_join(struct pg *g, const struct pg_run_opts *o,
		       struct pg_result *r, struct xm_ex_run *run)
{
	uint64_t tmin = UINT64_MAX, tmax = 0;
	int err;

	atomic_store(&g->tx_stop, true);
	err = xm_ex_run_join(run);
	if (err && !r->err)
		r->err = err;
	/* the queues that had a worker this run */
	for (unsigned int i = 0; i < run->nworkers; i++) {
		struct pg_txq *q = &g->txq[i];

		if (q->t_first && q->t_first < tmin)
			tmin = q->t_first;
		if (q->t_last > tmax)
			tmax = q->t_last;
		r->rate_spilled += q->spilled;
	}
	if (r->rate_spilled && !g->a->std.quiet)
		fprintf(stderr, "%s: the sender fell behind the rate by %llu %s "
			"(late by more than the bucket: CPU busy, or the rate "
			"above what it can send)\n", xm_ex_prog(),
			(unsigned long long)r->rate_spilled,
			o->rate.rp_bits ? "bits" : "packets");
	pg_sum_tx(g, &r->sent, &r->tx_bytes);
	r->tx_seconds = tmax > tmin ? (double)(tmax - tmin) / 1e9 : 0;
}

/* Late packets: until everything sent arrived, or nothing came for
 * 100 ms, or the drain time is up. */
static void pg_drain(const struct pg *g, const struct pg_result *r)
{
	uint64_t end = xm_ex_now_ns() + (uint64_t)(g->a->drain_s * 1e9);
	uint64_t prev = UINT64_MAX, quiet_since = xm_ex_now_ns();

	while (xm_ex_now_ns() < end && !xm_ex_stopping()) {
		uint64_t rx, b, l, last, now = xm_ex_now_ns();

		pg_sum_rx(g, &rx, &b, &l, &last);
		if (rx >= r->sent)
			break;
		if (rx != prev) {
			prev = rx;
			quiet_since = now;
		} else if (now - quiet_since > 100000000ull) {
			break;
		}
		usleep(2000);
	}
}

static void pg_rx_join(struct pg *g, struct pg_result *r,
		       struct xm_ex_run *run)
{
	int err;

	atomic_store(&g->rx_stop, true);
	err = xm_ex_run_join(run);
	if (err && !r->err)
		r->err = err;
}

/* ------------------------------------------------------------- merge */

static void pg_merge(struct pg *g, struct pg_result *r,
		     const struct pg_streams *st)
{
	struct pg_tuples all;
	bool have_all = pg_tuples_init(&all) == 0;

	for (unsigned int i = 0; i < g->nrxq; i++) {
		struct pg_rxq *q = &g->rxq[i];

		if (pg_meter_merge(r->meter, q->meter))
			r->err = -ENOMEM;
		for (unsigned int s = 0; s < PG_SIZE_MAX + 2; s++)
			r->sizes[s] += q->sizes[s];
		r->rx_packets += atomic_load(&q->rx);
		r->rx_bytes += atomic_load(&q->bytes);
		r->tuples_capped |= q->tuples.tp_full;
		if (have_all)
			pg_tuples_merge(&all, &q->tuples);
		if (q->clock == 1)
			r->clock = "xdp";
		else if (q->clock == 2 && !r->clock)
			r->clock = "user";
	}
	if (!r->clock)
		r->clock = "none";
	r->have_rx_port = xm_port_stats(g->rxp, &r->rx_port) == 0;
	if (have_all) {
		r->tuples = all.tp_n;
		r->tuples_capped |= all.tp_full;
		pg_tuples_free(&all);
	}
	/* one process holds both ends: the tail counts too */
	if (g->ntxq > 0 && st->n > 0) {
		uint16_t ids[PG_STREAMS_MAX];
		uint64_t after[PG_STREAMS_MAX];
		int n = pg_tx_streams(g, ids, after, PG_STREAMS_MAX);

		for (int s = 0; s < n && s < st->n; s++)
			pg_meter_set_sent(r->meter, ids[s],
					  after[s] - st->first[s]);
	}
}

/* --------------------------------------------------------------- run */

int pg_run(struct pg *g, const struct pg_run_opts *o, struct pg_result *r)
{
	struct pg_workers w = { 0 };
	struct pg_streams st;
	struct pg_ival iv = { 0 };
	bool have_rx = g->rxp != NULL;
	uint64_t t0;
	int err;

	err = pg_run_begin(g, r, &st);
	if (!err)
		err = pg_ival_init(&iv, o, xm_ex_now_ns());
	if (err) {
		pg_ival_free(&iv);
		return err;
	}
	pg_stop_signals(SIG_BLOCK);
	if (have_rx)
		r->err = pg_rx_start(g, &st, &w.rx);
	if (!r->err && g->ntxq > 0)
		r->err = pg_tx_start(g, o, &w.tx);
	pg_stop_signals(SIG_UNBLOCK);
	/* scripts wait for this line before they start sending */
	if (have_rx && g->a->cmd == PG_CMD_RX)
		fprintf(stderr, "%s: rx ready on %s, %u queue(s), mode %s\n",
			xm_ex_prog(), g->a->std.ifname, g->nrxq, g->rx_mode);

	t0 = xm_ex_now_ns();
	iv.t_prev = t0;
	if (!r->err)
		pg_watch(g, o, t0, &iv);
	pg_tx_join(g, o, r, &w.tx);
	if (have_rx && g->ntxq > 0)
		pg_drain(g, r);
	pg_rx_join(g, r, &w.rx);
	r->seconds = (double)(xm_ex_now_ns() - t0) / 1e9;
	if (have_rx)
		pg_merge(g, r, &st);
	if (!r->err)
		pg_ival_last(g, o, &iv, r);
	pg_ival_free(&iv);
	return r->err;
}
