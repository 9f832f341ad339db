// SPDX-License-Identifier: BSD-2-Clause
/*
 * pg_rfc2544.c - RFC 2544 throughput search (pg_rfc2544.h).
 *
 *   trial 0     unlimited: the peak the sender reaches (pass: done)
 *   trials 1..  binary search between 0 (lo, passes) and the peak (hi,
 *               fails) until hi - lo is --resolution percent of hi or
 *               --max-trials is reached; a trial passes when its loss is
 *               at most --loss-tolerance percent of what it sent
 *   last        a trial at the throughput found, for its latency
 *
 * Every trial is one pg_run() of --trial seconds on the same queues: the
 * sequence numbers go on across trials and each run seals its meters to
 * the streams it sends, so a late packet of an earlier trial is never
 * counted in a later one.
 *
 * KPI (pg_rfc2544.h): pg_rfc2544.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xm_example.h"

#include "pg_report.h"
#include "pg_rfc2544.h"
#include "pg_run.h"

#define PG_TRIALS_MAX		65	/* --max-trials (64) + latency */

struct pg_trial {
	double rate;			/* offered, pps (0: unlimited) */
	uint64_t sent;
	uint64_t lost;
	uint64_t rx_ring_full;		/* of which the receiver's ring */
	double tx_pps;			/* achieved */
	double loss_pct;
	bool pass;
};

/* What the search found. */
struct pg_search {
	struct pg_trial trials[PG_TRIALS_MAX];
	unsigned int nt;
	double best;			/* throughput, pps */
	double frame;			/* mean frame bytes */
	struct pg_hist *lat;		/* at the throughput */
};

static int pg_trial_run(struct pg *g, double rate, struct pg_trial *t,
			struct pg_hist *lat)
{
	struct pg_run_opts o = {
		.seconds = g->a->trial_s,
		.rate_pps = (uint64_t)llround(rate),
		.stats_line = !g->a->std.quiet,
	};
	struct pg_result r;
	struct pg_stream_result tot;
	int err;

	err = pg_run(g, &o, &r);
	if (err) {
		pg_result_free(&r);
		return err;
	}
	pg_meter_total(r.meter, &tot);
	memset(t, 0, sizeof(*t));
	t->rate = rate;
	t->sent = r.sent;
	t->lost = tot.lost;
	t->tx_pps = pg_rate_of(r.sent, r.tx_seconds);
	t->loss_pct = r.sent ? 100.0 * (double)tot.lost / (double)r.sent : 100;
	t->rx_ring_full = r.have_rx_port ? r.rx_port.rx_ring_full : 0;
	t->pass = r.sent > 0 && t->loss_pct <= g->a->tolerance_pct;
	if (lat)
		*lat = r.meter->m_lat;
	if (!g->a->std.quiet)
		fprintf(stderr, "%s: trial at %.0f pps: sent %llu (%.0f pps), "
			"lost %llu (%.4f%%): %s\n", xm_ex_prog(), rate,
			(unsigned long long)t->sent, t->tx_pps,
			(unsigned long long)t->lost, t->loss_pct,
			t->pass ? "pass" : "fail");
	pg_result_free(&r);
	return 0;
}

static void pg_rfc2544_json(const struct pg_args *a, const struct pg_search *s)
{
	const struct pg_trial *t = s->trials;
	struct xm_ex_json j;
	uint64_t full = 0;

	xm_ex_json_begin(&j, stdout);
	xm_ex_json_str(&j, "program", xm_ex_prog());
	xm_ex_json_str(&j, "command", "rfc2544");
	xm_ex_json_str(&j, "iface", a->std.ifname);
	xm_ex_json_str(&j, "rx_iface", a->rx_ifname);
	xm_ex_json_double(&j, "frame_bytes", s->frame);
	xm_ex_json_double(&j, "peak_pps", t[0].tx_pps);
	xm_ex_json_double(&j, "throughput_pps", s->best);
	xm_ex_json_double(&j, "throughput_bps", s->best * s->frame * 8);
	xm_ex_json_double(&j, "loss_tolerance_pct", a->tolerance_pct);
	/* losses that were our own receiver's, not the device's: a starved
	 * reader (all trials) */
	for (unsigned int i = 0; i < s->nt; i++)
		full += t[i].rx_ring_full;
	xm_ex_json_u64(&j, "rx_ring_full", full);
	xm_ex_json_array(&j, "trials");
	for (unsigned int i = 0; i < s->nt; i++) {
		xm_ex_json_object(&j, NULL);
		xm_ex_json_double(&j, "rate_pps", t[i].rate);
		xm_ex_json_double(&j, "tx_pps", t[i].tx_pps);
		xm_ex_json_u64(&j, "sent", t[i].sent);
		xm_ex_json_u64(&j, "lost", t[i].lost);
		xm_ex_json_double(&j, "loss_pct", t[i].loss_pct);
		xm_ex_json_u64(&j, "rx_ring_full", t[i].rx_ring_full);
		xm_ex_json_bool(&j, "pass", t[i].pass);
		xm_ex_json_close(&j);
	}
	xm_ex_json_close(&j);
	pg_report_latency_json(&j, s->lat);
	if (xm_ex_json_end(&j))
		xm_ex_error("could not write the JSON summary");
}

static void pg_rfc2544_text(const struct pg_args *a, const struct pg_search *s)
{
	const struct pg_hist *lat = s->lat;

	printf("%s: rfc2544 %s -> %s, %.0f-byte frames, %u trials\n",
	       xm_ex_prog(), a->std.ifname, a->rx_ifname, s->frame, s->nt);
	printf("  peak %.0f pps; throughput (loss <= %g%%) %.0f pps, "
	       "%.0f bps\n", s->trials[0].tx_pps, a->tolerance_pct, s->best,
	       s->best * s->frame * 8);
	if (lat->h_n)
		printf("  latency at throughput, ns: min %llu avg %.0f "
		       "max %llu p50 %llu p99 %llu p99.9 %llu\n",
		       (unsigned long long)lat->h_min, pg_hist_mean(lat),
		       (unsigned long long)lat->h_max,
		       (unsigned long long)pg_hist_quantile(lat, 0.5),
		       (unsigned long long)pg_hist_quantile(lat, 0.99),
		       (unsigned long long)pg_hist_quantile(lat, 0.999));
}

/* The trials: the peak, the binary search below it, the latency at the
 * throughput.  @return 0 or -errno of a run. */
static int pg_rfc2544_search(struct pg *g, struct pg_search *s)
{
	const struct pg_args *a = g->a;
	struct pg_trial *t = s->trials;
	double lo = 0, hi;
	int err;

	/* the peak: as fast as the sender goes */
	err = pg_trial_run(g, 0, &t[s->nt], NULL);
	if (err)
		return err;
	hi = t[s->nt++].tx_pps;
	if (t[0].pass) {
		s->best = t[0].tx_pps;
	} else {
		while (s->nt < a->max_trials && !xm_ex_stopping() &&
		       hi - lo > hi * a->resolution_pct / 100.0) {
			double mid = (lo + hi) / 2;

			err = pg_trial_run(g, mid, &t[s->nt], NULL);
			if (err)
				return err;
			if (t[s->nt].pass)
				lo = s->best = mid;
			else
				hi = mid;
			s->nt++;
		}
	}
	/* latency at the throughput rate */
	if (s->best > 0 && !xm_ex_stopping()) {
		err = pg_trial_run(g, t[0].pass ? 0 : s->best, &t[s->nt],
				   s->lat);
		if (err)
			return err;
		s->nt++;
	}
	return 0;
}

int pg_rfc2544(struct pg *g)
{
	const struct pg_args *a = g->a;
	struct pg_search *s = calloc(1, sizeof(*s));
	int err;

	if (s)
		s->lat = malloc(sizeof(*s->lat));
	if (!s || !s->lat) {
		free(s);
		return xm_ex_error("out of memory");
	}
	pg_hist_init(s->lat);
	s->frame = (double)a->sizes.sz_cycle_bytes / a->sizes.sz_len;
	err = pg_rfc2544_search(g, s);
	if (!err && a->std.json)
		pg_rfc2544_json(a, s);
	else if (!err)
		pg_rfc2544_text(a, s);
	free(s->lat);
	free(s);
	return err ? XM_EX_RUNTIME : XM_EX_OK;
}
