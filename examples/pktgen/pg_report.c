// SPDX-License-Identifier: BSD-2-Clause
/*
 * pg_report.c - the summary of a run (pg_report.h).
 *
 *   text   one line per end (what, where, how fast), then the receiver's
 *          counts and latency quantiles, then the audit
 *   JSON   one object: program, command, interfaces, duration; the TX
 *          keys (sent, rates, engine, per queue); the RX keys (received,
 *          lost, reordered, duplicated, latency, per stream, per size,
 *          the receiving port's drop counters); the audit
 *
 * Rates are measured between packets, not over the wall time of the run:
 * TX from the first to the last send, RX from the first to the last
 * arrival, so start-up and drain do not dilute them.  Bit rates are said
 * at L2 (frames with their FCS: wire bytes + 4) and at L1 (+ 20 more:
 * preamble, SFD, gap); sizes as frame bytes (with FCS) beside the wire
 * bytes the receiver saw.
 *
 * KPI (pg_report.h): pg_rate_of, pg_report_latency_json,
 * pg_report_hist_json, pg_report_run.
 */
#include <stdio.h>

#include "pg_report.h"

double pg_rate_of(uint64_t n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0;
}

/* Receive rate over the arrivals: (n - 1) intervals between first and
 * last. */
static double pg_rx_pps(const struct pg_result *r)
{
	const struct pg_meter *m = r->meter;
	double span = (double)(m->m_last_ns - m->m_first_ns) / 1e9;

	if (m->m_received < 2 || span <= 0)
		return 0;
	return (double)(m->m_received - 1) / span;
}

/* Bits per second at the receiver, each packet counted with overhead
 * bytes more than its wire bytes (4: L2, 24: L1). */
static double pg_rx_bps(const struct pg_result *r, uint32_t overhead)
{
	const struct pg_meter *m = r->meter;
	double span = (double)(m->m_last_ns - m->m_first_ns) / 1e9;
	double bytes = (double)m->m_bytes + (double)overhead *
		       (double)m->m_received;

	if (m->m_received < 2 || span <= 0)
		return 0;
	/* bytes of n - 1 packets over n - 1 intervals */
	return bytes * 8 * (double)(m->m_received - 1) /
	       (double)m->m_received / span;
}

/* Bits per second of the sender at L2 or L1. */
static double pg_tx_bps(const struct pg_result *r, uint32_t overhead)
{
	return pg_rate_of((r->tx_bytes + (uint64_t)overhead * r->sent) * 8,
			  r->tx_seconds);
}

void pg_report_hist_json(struct xm_ex_json *j, const struct pg_hist *h)
{
	/* [lo, hi, count] of every bucket holding a value, in ns */
	xm_ex_json_array(j, "latency_histogram");
	for (unsigned int b = 0; h->h_n && b < PG_HIST_BUCKETS; b++) {
		uint64_t lo, hi;

		if (!h->h_count[b])
			continue;
		pg_hist_bounds(b, &lo, &hi);
		xm_ex_json_array(j, NULL);
		xm_ex_json_u64(j, NULL, lo);
		xm_ex_json_u64(j, NULL, hi);
		xm_ex_json_u64(j, NULL, h->h_count[b]);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
}

/* What -r asked, resolved. */
static void json_rate(struct xm_ex_json *j, const struct pg *g)
{
	const struct pg_rate_plan *rp = &g->rate;

	xm_ex_json_object(j, "rate");
	xm_ex_json_str(j, "asked", g->a->rate_arg ? g->a->rate_arg :
		       "unlimited");
	xm_ex_json_u64(j, "link_mbps", g->link_mbps);
	if (rp->rp_rate) {
		xm_ex_json_double(j, "pps", rp->rp_pps);
		xm_ex_json_double(j, "bps_l2", rp->rp_bps_l2);
		xm_ex_json_double(j, "bps_l1", rp->rp_bps_l1);
		xm_ex_json_str(j, "counted_in", !rp->rp_bits ? "packets" :
			       rp->rp_overhead == 4 ? "l2_bits" : "l1_bits");
	}
	xm_ex_json_close(j);
}

/* The sizes sent: frame bytes (with FCS) and wire bytes, and how many of
 * each a cycle holds; or the file replayed. */
static void json_tx_what(struct xm_ex_json *j, const struct pg *g)
{
	const struct pg_args *a = g->a;
	const struct pg_sizes *sz = &a->sizes;

	if (!g->stamped) {
		xm_ex_json_object(j, "pcap");
		xm_ex_json_str(j, "file", a->pcap);
		xm_ex_json_str(j, "format", g->pcap.pc_format);
		xm_ex_json_u64(j, "packets", g->pcap.pc_npkts);
		xm_ex_json_u64(j, "loops", a->pcap_loop);
		if (a->pcap_speed > 0)
			xm_ex_json_double(j, "speed", a->pcap_speed);
		else
			xm_ex_json_str(j, "speed", "topspeed");
		xm_ex_json_double(j, "duration_s",
				  (double)g->pcap_off[g->pcap.pc_npkts - 1] /
				  1e9);
		xm_ex_json_close(j);
		return;
	}
	xm_ex_json_array(j, "tx_sizes");
	for (uint32_t i = 0; i < sz->sz_n; i++) {
		uint64_t per = 0;

		for (uint32_t k = 0; k < sz->sz_len; k++)
			per += sz->sz_cycle[k] == i;
		xm_ex_json_object(j, NULL);
		xm_ex_json_u64(j, "frame_bytes", sz->sz_sizes[i] + PG_FCS_LEN);
		xm_ex_json_u64(j, "wire_bytes", sz->sz_sizes[i]);
		xm_ex_json_u64(j, "per_cycle", per);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
}

void pg_report_latency_json(struct xm_ex_json *j, const struct pg_hist *h)
{
	xm_ex_json_object(j, "latency_ns");
	xm_ex_json_u64(j, "count", h->h_n);
	xm_ex_json_u64(j, "min", h->h_n ? h->h_min : 0);
	xm_ex_json_double(j, "avg", pg_hist_mean(h));
	xm_ex_json_u64(j, "max", h->h_max);
	xm_ex_json_u64(j, "p50", pg_hist_quantile(h, 0.50));
	xm_ex_json_u64(j, "p99", pg_hist_quantile(h, 0.99));
	xm_ex_json_u64(j, "p999", pg_hist_quantile(h, 0.999));
	xm_ex_json_close(j);
}

static void json_tx(struct xm_ex_json *j, const struct pg *g,
		    const struct pg_result *r)
{
	xm_ex_json_u64(j, "sent", r->sent);
	xm_ex_json_double(j, "tx_pps", pg_rate_of(r->sent, r->tx_seconds));
	xm_ex_json_double(j, "tx_bps_l2", pg_tx_bps(r, 4));
	xm_ex_json_double(j, "tx_bps_l1", pg_tx_bps(r, 24));
	/* wire bytes: without the FCS the NIC adds */
	xm_ex_json_u64(j, "tx_bytes", r->tx_bytes);
	json_rate(j, g);
	json_tx_what(j, g);
	/* rate units (packets, or bits with -b) the limiter could not send
	 * because the sender was late: 0 when the rate was kept */
	xm_ex_json_u64(j, "rate_spilled", r->rate_spilled);
	xm_ex_json_double(j, "tx_seconds", r->tx_seconds);
	xm_ex_json_str(j, "engine", g->a->engine == PG_ENGINE_LIVE ? "live" :
		       "afxdp");
	xm_ex_json_str(j, "tx_mode", g->tx_mode);
	if (g->a->engine == PG_ENGINE_AFXDP)
		xm_ex_json_u64(j, "tx_budget", g->tx_budget);
	xm_ex_json_u64(j, "tx_queues", g->ntxq);
	xm_ex_json_array(j, "tx_queue");
	for (unsigned int i = 0; i < g->ntxq; i++) {
		const struct pg_txq *q = &g->txq[i];

		xm_ex_json_object(j, NULL);
		xm_ex_json_u64(j, "queue", i);
		if (!g->live)
			xm_ex_json_u64(j, "stream", q->stream);
		xm_ex_json_u64(j, "sent", atomic_load(&q->sent));
		xm_ex_json_u64(j, "pool", q->npool);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
}

static void json_rx(struct xm_ex_json *j, const struct pg *g,
		    const struct pg_result *r)
{
	struct pg_stream_result t;
	const struct pg_meter *m = r->meter;

	pg_meter_total(m, &t);
	xm_ex_json_u64(j, "received", t.received);
	xm_ex_json_u64(j, "lost", t.lost);
	xm_ex_json_u64(j, "reordered", t.reordered);
	xm_ex_json_u64(j, "duplicated", t.duplicated);
	xm_ex_json_double(j, "rx_pps", pg_rx_pps(r));
	xm_ex_json_double(j, "rx_bps_l2", pg_rx_bps(r, 4));
	xm_ex_json_double(j, "rx_bps_l1", pg_rx_bps(r, 24));
	pg_report_latency_json(j, &m->m_lat);
	pg_report_hist_json(j, &m->m_lat);
	xm_ex_json_u64(j, "rx_packets", r->rx_packets);
	xm_ex_json_u64(j, "rx_bytes", r->rx_bytes);
	xm_ex_json_u64(j, "unstamped", m->m_unstamped);
	xm_ex_json_u64(j, "stale", m->m_stale);
	/* stamped packets of stream ids the run did not expect, or past
	 * the table (PG_METER_STREAMS per queue): in no count above */
	xm_ex_json_u64(j, "stream_overflow", m->m_overflow);
	xm_ex_json_u64(j, "flows", r->tuples);
	xm_ex_json_bool(j, "flows_capped", r->tuples_capped);
	xm_ex_json_str(j, "rx_clock", r->clock ? r->clock : "none");
	if (r->have_rx_port) {
		/* where packets the meter calls lost may have gone */
		xm_ex_json_object(j, "rx_port");
		xm_ex_json_u64(j, "rx_dropped", r->rx_port.rx_dropped);
		xm_ex_json_u64(j, "rx_ring_full", r->rx_port.rx_ring_full);
		xm_ex_json_u64(j, "rx_fill_ring_empty_descs",
			       r->rx_port.rx_fill_ring_empty_descs);
		xm_ex_json_u64(j, "fill_starved", r->rx_port.fill_starved);
		xm_ex_json_u64(j, "xdp_seen", r->rx_port.xdp_seen);
		xm_ex_json_u64(j, "xdp_redirected", r->rx_port.xdp_redirected);
		xm_ex_json_close(j);
	}
	xm_ex_json_str(j, "rx_mode", g->rx_mode);
	xm_ex_json_u64(j, "rx_queues", g->nrxq);
	xm_ex_json_array(j, "streams");
	for (unsigned int s = 0; s < PG_STREAMS; s++) {
		struct pg_stream_result sr;
		const struct pg_stream *ps = pg_meter_find(m, (uint16_t)s);

		if (!ps || (!ps->s_received && (ps->s_sent == UINT64_MAX ||
						 ps->s_sent == 0)))
			continue;
		pg_meter_stream(m, (uint16_t)s, &sr);
		xm_ex_json_object(j, NULL);
		xm_ex_json_u64(j, "stream", s);
		xm_ex_json_u64(j, "received", sr.received);
		xm_ex_json_u64(j, "lost", sr.lost);
		xm_ex_json_u64(j, "reordered", sr.reordered);
		xm_ex_json_u64(j, "duplicated", sr.duplicated);
		if (ps->s_sent != UINT64_MAX)
			xm_ex_json_u64(j, "sent", ps->s_sent);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
	xm_ex_json_array(j, "sizes");
	for (unsigned int s = 0; s < PG_SIZE_MAX + 2; s++) {
		if (!r->sizes[s])
			continue;
		xm_ex_json_object(j, NULL);
		if (s <= PG_SIZE_MAX) {
			xm_ex_json_u64(j, "frame_bytes", s + PG_FCS_LEN);
			xm_ex_json_u64(j, "wire_bytes", s);
		} else {
			xm_ex_json_str(j, "frame_bytes", "larger");
			xm_ex_json_str(j, "wire_bytes", "larger");
		}
		xm_ex_json_u64(j, "count", r->sizes[s]);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
}

static void text_rx(const struct pg_result *r)
{
	struct pg_stream_result t;
	const struct pg_hist *h = &r->meter->m_lat;

	pg_meter_total(r->meter, &t);
	printf("  received %llu (unstamped %llu), lost %llu, reordered %llu, "
	       "duplicated %llu, %llu flows\n",
	       (unsigned long long)t.received,
	       (unsigned long long)r->meter->m_unstamped,
	       (unsigned long long)t.lost, (unsigned long long)t.reordered,
	       (unsigned long long)t.duplicated,
	       (unsigned long long)r->tuples);
	if (r->meter->m_overflow)
		printf("  %llu stamped packets of unexpected stream ids not "
		       "counted (stream table full or sealed)\n",
		       (unsigned long long)r->meter->m_overflow);
	printf("  rx %.0f pps, L2 %.0f bps, L1 %.0f bps\n", pg_rx_pps(r),
	       pg_rx_bps(r, 4), pg_rx_bps(r, 24));
	if (h->h_n)
		printf("  latency ns (%s clock): min %llu avg %.0f max %llu "
		       "p50 %llu p99 %llu p99.9 %llu\n", r->clock,
		       (unsigned long long)h->h_min, pg_hist_mean(h),
		       (unsigned long long)h->h_max,
		       (unsigned long long)pg_hist_quantile(h, 0.5),
		       (unsigned long long)pg_hist_quantile(h, 0.99),
		       (unsigned long long)pg_hist_quantile(h, 0.999));
}

void pg_report_run(const struct pg *g, const struct pg_result *r,
		   int audit_err, uint64_t held)
{
	const struct pg_args *a = g->a;
	bool tx = a->cmd == PG_CMD_TX;
	bool rx = a->cmd == PG_CMD_RX || a->rx_ifname;

	if (a->std.json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, stdout);
		if (a->json_stream)
			xm_ex_json_str(&j, "type", "summary");
		xm_ex_json_str(&j, "program", xm_ex_prog());
		xm_ex_json_str(&j, "command", tx ? "tx" : "rx");
		xm_ex_json_str(&j, "iface", a->std.ifname);
		if (a->rx_ifname)
			xm_ex_json_str(&j, "rx_iface", a->rx_ifname);
		xm_ex_json_double(&j, "duration_s", r->seconds);
		if (tx)
			json_tx(&j, g, r);
		if (rx)
			json_rx(&j, g, r);
		xm_ex_json_object(&j, "audit");
		xm_ex_json_bool(&j, "ok", audit_err == 0 && held == 0);
		xm_ex_json_u64(&j, "held", held);
		xm_ex_json_close(&j);
		if (xm_ex_json_end(&j))
			xm_ex_error("could not write the JSON summary");
		return;
	}
	if (tx)
		printf("%s: tx on %s (%s, %u queue(s)): sent %llu packets in "
		       "%.3f s: %.0f pps, L2 %.0f bps, L1 %.0f bps\n",
		       xm_ex_prog(), a->std.ifname, g->tx_mode, g->ntxq,
		       (unsigned long long)r->sent, r->tx_seconds,
		       pg_rate_of(r->sent, r->tx_seconds), pg_tx_bps(r, 4),
		       pg_tx_bps(r, 24));
	if (rx) {
		printf("%s: rx on %s (%s, %u queue(s)), %.3f s\n", xm_ex_prog(),
		       a->rx_ifname ? a->rx_ifname : a->std.ifname, g->rx_mode,
		       g->nrxq, r->seconds);
		text_rx(r);
	}
	printf("  audit: %s, %llu frames held after close\n",
	       audit_err == 0 && held == 0 ? "ok" : "FAILED",
	       (unsigned long long)held);
}
