/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_rx.c - the receiving side of xmbuf-pktgen: one thread per queue,
 * each with its own meter (pg_meter.h), 5-tuple set and size histogram,
 * merged after the threads stop, so the per-packet path shares nothing.
 *
 *   rx_burst --> first segment: pg_rx_locate (bounds-checked)
 *            --> size histogram, 5-tuple set
 *            --> stamp?  meter(stream, seq, tx time, rx time)
 *                else    unstamped
 *            --> xm_freem_bulk
 *
 * Receive time: the XDP program's stamp (m_pkthdr.rcv_tstamp), taken as
 * the frame arrives, when it is on our clock (CLOCK_MONOTONIC: the
 * software fallback); a driver's hardware clock is another time base, so
 * the first stamped packet decides: within a second of now means the same
 * clock, else the thread reads the clock itself once per burst.
 *
 * KPI (pg_rx.h): pg_rx_setup, pg_rx_teardown, pg_rx_reset, pg_rx_worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xm_example.h"

#include "pg_rate.h"
#include "pg_rx.h"
#include "pg_stamp.h"

#define PG_RX_IDLE_NS		200000	/* spin this long before poll() */

/* ------------------------------------------------------------- setup */

int pg_rx_setup(struct pg *g)
{
	g->nrxq = xm_port_queue_count(g->rxp);
	g->rxq = calloc(g->nrxq, sizeof(*g->rxq));
	if (!g->rxq)
		return xm_ex_error("out of memory"), -ENOMEM;
	for (unsigned int i = 0; i < g->nrxq; i++) {
		struct pg_rxq *q = &g->rxq[i];

		q->g = g;
		q->qidx = i;
		/* zeroed: a meter never initialised frees as an empty one */
		q->meter = calloc(1, sizeof(*q->meter));
		q->sizes = calloc(PG_SIZE_MAX + 2, sizeof(*q->sizes));
		if (!q->meter || !q->sizes || pg_tuples_init(&q->tuples) ||
		    pg_meter_init(q->meter, PG_METER_STREAMS))
			return xm_ex_error("out of memory"), -ENOMEM;
	}
	return 0;
}

void pg_rx_teardown(struct pg *g)
{
	for (unsigned int i = 0; g->rxq && i < g->nrxq; i++) {
		struct pg_rxq *q = &g->rxq[i];

		if (q->meter)
			pg_meter_free(q->meter);
		free(q->meter);
		free(q->sizes);
		pg_tuples_free(&q->tuples);
	}
	free(g->rxq);
	g->rxq = NULL;
	g->nrxq = 0;
}

void pg_rx_reset(struct pg *g)
{
	for (unsigned int i = 0; i < g->nrxq; i++) {
		struct pg_rxq *q = &g->rxq[i];

		pg_meter_reset(q->meter);
		memset(q->sizes, 0, (PG_SIZE_MAX + 2) * sizeof(*q->sizes));
		pg_tuples_clear(&q->tuples);
		atomic_store(&q->rx, 0);
		atomic_store(&q->bytes, 0);
		atomic_store(&q->lost, 0);
		atomic_store(&q->last_ns, 0);
	}
}

/* ------------------------------------------------------------ worker */

static void pg_rx_packet(struct pg_rxq *q, struct xm_mbuf *m, uint64_t now)
{
	const uint8_t *d = xm_mtod(m, const uint8_t *);
	uint32_t seglen = m->m_len > 0 ? (uint32_t)m->m_len : 0;
	uint32_t len = m->m_flags & XM_PKTHDR ? m->m_pkthdr.len : seglen;
	struct pg_rx_info ri;
	struct pg_stamp st;
	uint64_t rx_ns = now;

	q->sizes[len <= PG_SIZE_MAX ? len : PG_SIZE_MAX + 1]++;
	if (!pg_rx_locate(d, seglen, &ri)) {
		pg_meter_unstamped(q->meter, len);
		return;
	}
	pg_tuples_insert(&q->tuples, pg_rx_tuple_hash(&ri));
	if (!pg_stamp_read(d + ri.ri_stamp_off, seglen - ri.ri_stamp_off,
			   &st)) {
		pg_meter_unstamped(q->meter, len);
		return;
	}
	if (m->m_flags & XM_TSTMP) {
		if (q->clock == 0) {
			uint64_t t = m->m_pkthdr.rcv_tstamp;
			uint64_t diff = t > now ? t - now : now - t;

			q->clock = diff < PG_NS_PER_S ? 1 : 2;
		}
		if (q->clock == 1)
			rx_ns = m->m_pkthdr.rcv_tstamp;
	} else if (q->clock == 0) {
		q->clock = 2;
	}
	pg_meter_add(q->meter, st.st_stream, st.st_seq, st.st_tx_ns, rx_ns,
		     len);
}

int pg_rx_worker(void *arg)
{
	struct pg_rxq *q = arg;
	struct pg *g = q->g;
	struct xm_mbuf *pkts[PG_BURST_MAX];
	uint16_t burst = (uint16_t)g->a->std.burst;
	uint64_t next_lost = 0, idle_since = 0;

	while (!atomic_load_explicit(&g->rx_stop, memory_order_relaxed)) {
		uint16_t n = xm_port_rx_burst(g->rxp, q->qidx, pkts, burst);
		uint64_t now, bytes = 0;

		if (!n) {
			/* a spinning reader starves a NAPI thread on its
			 * core, and a sleeping one may wake late on a busy
			 * machine: spin a little, then sleep in poll() */
			now = xm_ex_now_ns();
			if (!idle_since)
				idle_since = now;
			else if (now - idle_since > PG_RX_IDLE_NS)
				xm_port_poll(g->rxp, q->qidx, 10);
			continue;
		}
		idle_since = 0;
		now = xm_ex_now_ns();
		for (uint16_t i = 0; i < n; i++) {
			pg_rx_packet(q, pkts[i], now);
			bytes += pkts[i]->m_flags & XM_PKTHDR ?
				 pkts[i]->m_pkthdr.len :
				 (uint32_t)pkts[i]->m_len;
		}
		xm_freem_bulk(pkts, n);
		atomic_fetch_add_explicit(&q->rx, n, memory_order_relaxed);
		atomic_fetch_add_explicit(&q->bytes, bytes,
					  memory_order_relaxed);
		atomic_store_explicit(&q->last_ns, now, memory_order_relaxed);
		if (now >= next_lost) {
			struct pg_stream_result r;

			/* the loss column of the stats line: a sweep of the
			 * stream table ten times a second */
			pg_meter_total(q->meter, &r);
			atomic_store_explicit(&q->lost, r.lost,
					      memory_order_relaxed);
			next_lost = now + PG_NS_PER_S / 10;
		}
	}
	xm_umem_cache_flush(g->u);
	return 0;
}
