// SPDX-License-Identifier: BSD-2-Clause
/*
 * pg_rfc2544.c - RFC 2544 throughput and latency (pg_rfc2544.h).
 *
 * Per frame size (RFC 2544 section 9's list by default: 64, 128, 256,
 * 512, 1024, 1280, 1518, frames with their FCS):
 *
 *   trial 1     offered without a limit: the peak the sender reaches
 *   trial 2..   binary search of the offered rate between lo (0, or the
 *               last that passed) and hi (the peak, or the last that
 *               failed), until hi - lo is --resolution percent of hi or
 *               --max-trials trials ran (trial 1 included: the cap is
 *               the number of trials reported)
 *   latency     a run at the throughput found (section 26.2), after the
 *               search and not one of its trials
 *
 * A trial passes when what it lost is at most --loss-tolerance percent
 * of what it sent.  What a trial carried is what arrived, per second of
 * sending: (sent - lost) / the sender's time.  The throughput is the
 * highest carried rate of a passing trial, never what was offered: a
 * sender that fell behind the rate asked offered less than asked, and
 * a device that loses within the tolerance carries less than offered.
 *
 * Every trial is one pg_run() of --trial seconds on the same queues: the
 * sequence numbers go on across trials and each run seals its meters to
 * the streams it sends, so a late packet of an earlier trial is never
 * counted in a later one.
 *
 * KPI (pg_rfc2544.h): pg_rfc2544_new, pg_rfc2544_size,
 * pg_rfc2544_report, pg_rfc2544_free.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xm_example.h"

#include "pg_report.h"
#include "pg_rfc2544.h"
#include "pg_run.h"

#define PG_TRIALS_MAX		64	/* --max-trials */

struct pg_trial {
	unsigned int num;		/* from 1 */
	double offered;			/* pps asked, 0: no limit */
	uint64_t sent;
	uint64_t received;		/* distinct, stamped */
	uint64_t lost;
	uint64_t rx_ring_full;		/* of the receiver's ring (ours) */
	uint64_t spilled;		/* packets the sender could not send
					 * at the rate asked */
	double seconds;			/* the sender's */
	double sent_pps;		/* what the sender reached */
	double carried_pps;		/* (sent - lost) / seconds */
	double loss_pct;
	bool pass;
};

/* One frame size's search. */
struct pg_search {
	double wire;			/* mean wire bytes */
	bool imix;
	struct pg_trial trials[PG_TRIALS_MAX];
	unsigned int nt;
	int best;			/* trial of the throughput, -1: none */
	struct pg_trial lat_run;	/* the latency run */
	bool have_lat;
	struct pg_hist *lat;		/* its latency */
};

struct pg_rfc2544 {
	const struct pg_args *a;
	uint32_t link_mbps;
	unsigned int n, max;
	struct pg_search s[];
};

struct pg_rfc2544 *pg_rfc2544_new(const struct pg_args *a,
				  unsigned int nsizes)
{
	struct pg_rfc2544 *rf = calloc(1, sizeof(*rf) +
				       nsizes * sizeof(rf->s[0]));

	if (!rf)
		return NULL;
	rf->a = a;
	rf->max = nsizes;
	for (unsigned int i = 0; i < nsizes; i++) {
		rf->s[i].lat = malloc(sizeof(*rf->s[i].lat));
		if (!rf->s[i].lat) {
			pg_rfc2544_free(rf);
			return NULL;
		}
		pg_hist_init(rf->s[i].lat);
		rf->s[i].best = -1;
	}
	return rf;
}

void pg_rfc2544_free(struct pg_rfc2544 *rf)
{
	if (!rf)
		return;
	for (unsigned int i = 0; i < rf->max; i++)
		free(rf->s[i].lat);
	free(rf);
}

static double pg_frame_bytes(const struct pg_search *s)
{
	return s->wire + PG_FCS_LEN;
}

/* One run at offered pps (0: no limit) into *t.  @return 0 or -errno. */
static int pg_trial_run(struct pg *g, const struct pg_search *s,
			unsigned int num, double offered, struct pg_trial *t,
			struct pg_hist *lat)
{
	const struct pg_args *a = g->a;
	struct pg_run_opts o = {
		.seconds = a->trial_s,
		.rate = { .rp_rate = (uint64_t)llround(offered) },
		.stats_line = !a->std.quiet,
		.stream = a->json_stream,
		.interval_s = a->interval_s,
		.trial = num,
		.frame_bytes = (uint32_t)llround(pg_frame_bytes(s)),
		.offered_pps = offered,
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
	t->num = num;
	t->offered = offered;
	t->sent = r.sent;
	t->received = tot.received - tot.duplicated;
	t->lost = tot.lost;
	t->spilled = r.rate_spilled;
	t->seconds = r.tx_seconds;
	t->sent_pps = pg_rate_of(r.sent, r.tx_seconds);
	t->carried_pps = pg_rate_of(r.sent > tot.lost ? r.sent - tot.lost : 0,
				    r.tx_seconds);
	t->loss_pct = r.sent ? 100.0 * (double)tot.lost / (double)r.sent : 100;
	t->rx_ring_full = r.have_rx_port ? r.rx_port.rx_ring_full : 0;
	t->pass = r.sent > 0 && t->loss_pct <= a->tolerance_pct;
	if (lat)
		*lat = r.meter->m_lat;
	if (!a->std.quiet) {
		char what[64], run[32];

		if (offered > 0)
			snprintf(what, sizeof(what), "offered %.0f pps",
				 offered);
		else
			snprintf(what, sizeof(what), "no limit");
		if (lat)
			snprintf(run, sizeof(run), "latency run");
		else
			snprintf(run, sizeof(run), "trial %u", num);
		fprintf(stderr, "%s: %.0f-byte frames, %s: %s: sent %llu "
			"(%.0f pps), carried %.0f pps, lost %llu (%.4f%%)%s\n",
			xm_ex_prog(), pg_frame_bytes(s), run, what,
			(unsigned long long)t->sent, t->sent_pps,
			t->carried_pps, (unsigned long long)t->lost,
			t->loss_pct, lat ? "" : t->pass ? ": pass" : ": fail");
	}
	pg_result_free(&r);
	return 0;
}

/* The trials of one size.  @return 0 or -errno of a run. */
static int pg_search_run(struct pg *g, struct pg_search *s)
{
	const struct pg_args *a = g->a;
	double lo = 0, hi;
	int err;

	/* the peak: as fast as the sender goes */
	err = pg_trial_run(g, s, 1, 0, &s->trials[0], NULL);
	if (err)
		return err;
	s->nt = 1;
	hi = s->trials[0].sent_pps;
	if (s->trials[0].pass) {
		s->best = 0;
		lo = hi;
	}
	while (!s->trials[0].pass && s->nt < a->max_trials &&
	       !xm_ex_stopping() && hi - lo > hi * a->resolution_pct / 100.0) {
		struct pg_trial *t = &s->trials[s->nt];
		double mid = (lo + hi) / 2;

		err = pg_trial_run(g, s, s->nt + 1, mid, t, NULL);
		if (err)
			return err;
		if (t->pass) {
			lo = mid;
			if (s->best < 0 ||
			    t->carried_pps > s->trials[s->best].carried_pps)
				s->best = (int)s->nt;
		} else {
			hi = mid;
		}
		s->nt++;
	}
	/* RFC 2544 26.2: latency at the throughput */
	if (s->best >= 0 && !xm_ex_stopping()) {
		err = pg_trial_run(g, s, 0, s->trials[s->best].carried_pps,
				   &s->lat_run, s->lat);
		if (err)
			return err;
		s->have_lat = true;
	}
	return 0;
}

int pg_rfc2544_size(struct pg *g, struct pg_rfc2544 *rf)
{
	const struct pg_args *a = g->a;
	struct pg_search *s;

	if (rf->n == rf->max)
		return -ENOSPC;
	s = &rf->s[rf->n++];
	s->wire = (double)a->sizes.sz_cycle_bytes / a->sizes.sz_len;
	s->imix = a->imix;
	rf->link_mbps = g->link_mbps;
	return pg_search_run(g, s);
}

/* ------------------------------------------------------------ report */

static double pg_search_pps(const struct pg_search *s)
{
	return s->best >= 0 ? s->trials[s->best].carried_pps : 0;
}

static void pg_trial_json(struct xm_ex_json *j, const struct pg_trial *t)
{
	if (t->num)
		xm_ex_json_u64(j, "trial", t->num);
	xm_ex_json_bool(j, "unlimited", t->offered == 0);
	/* the unlimited trial offered what the sender reached */
	xm_ex_json_double(j, "offered_pps", t->offered > 0 ? t->offered :
			  t->sent_pps);
	xm_ex_json_double(j, "sent_pps", t->sent_pps);
	xm_ex_json_double(j, "carried_pps", t->carried_pps);
	xm_ex_json_u64(j, "sent", t->sent);
	xm_ex_json_u64(j, "received", t->received);
	xm_ex_json_u64(j, "lost", t->lost);
	xm_ex_json_double(j, "loss_pct", t->loss_pct);
	xm_ex_json_double(j, "seconds", t->seconds);
	xm_ex_json_u64(j, "rate_spilled", t->spilled);
	xm_ex_json_u64(j, "rx_ring_full", t->rx_ring_full);
}

static void pg_search_json(struct xm_ex_json *j, const struct pg_search *s)
{
	double pps = pg_search_pps(s);
	uint64_t full = 0;

	xm_ex_json_object(j, NULL);
	xm_ex_json_double(j, "frame_bytes", pg_frame_bytes(s));
	xm_ex_json_double(j, "wire_bytes", s->wire);
	xm_ex_json_bool(j, "imix", s->imix);
	xm_ex_json_double(j, "peak_pps", s->nt ? s->trials[0].sent_pps : 0);
	xm_ex_json_double(j, "throughput_pps", pps);
	xm_ex_json_double(j, "throughput_bps_l2", pg_bps_l2(pps, s->wire));
	xm_ex_json_double(j, "throughput_bps_l1", pg_bps_l1(pps, s->wire));
	xm_ex_json_i64(j, "throughput_trial",
		       s->best >= 0 ? (int64_t)s->trials[s->best].num : 0);
	xm_ex_json_double(j, "throughput_offered_pps",
			  s->best < 0 ? 0 : s->trials[s->best].offered > 0 ?
			  s->trials[s->best].offered :
			  s->trials[s->best].sent_pps);
	xm_ex_json_u64(j, "trials_run", s->nt);
	/* losses at our own receiver's ring: a starved reader */
	for (unsigned int i = 0; i < s->nt; i++)
		full += s->trials[i].rx_ring_full;
	xm_ex_json_u64(j, "rx_ring_full", full);
	xm_ex_json_array(j, "trials");
	for (unsigned int i = 0; i < s->nt; i++) {
		xm_ex_json_object(j, NULL);
		pg_trial_json(j, &s->trials[i]);
		xm_ex_json_bool(j, "pass", s->trials[i].pass);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
	xm_ex_json_object(j, "latency");
	xm_ex_json_bool(j, "measured", s->have_lat);
	if (s->have_lat)
		pg_trial_json(j, &s->lat_run);
	pg_report_latency_json(j, s->lat);
	pg_report_hist_json(j, s->lat);
	xm_ex_json_close(j);
	xm_ex_json_close(j);
}

static void pg_rfc2544_json(const struct pg_rfc2544 *rf)
{
	const struct pg_args *a = rf->a;
	struct xm_ex_json j;

	xm_ex_json_begin(&j, stdout);
	if (a->json_stream)
		xm_ex_json_str(&j, "type", "summary");
	xm_ex_json_str(&j, "program", xm_ex_prog());
	xm_ex_json_str(&j, "command", "rfc2544");
	xm_ex_json_str(&j, "iface", a->std.ifname);
	xm_ex_json_str(&j, "rx_iface", a->rx_ifname);
	xm_ex_json_u64(&j, "link_mbps", rf->link_mbps);
	xm_ex_json_double(&j, "trial_s", a->trial_s);
	xm_ex_json_double(&j, "loss_tolerance_pct", a->tolerance_pct);
	xm_ex_json_double(&j, "resolution_pct", a->resolution_pct);
	xm_ex_json_u64(&j, "max_trials", a->max_trials);
	xm_ex_json_array(&j, "results");
	for (unsigned int i = 0; i < rf->n; i++)
		pg_search_json(&j, &rf->s[i]);
	xm_ex_json_close(&j);
	if (xm_ex_json_end(&j))
		xm_ex_error("could not write the JSON summary");
}

static void pg_rfc2544_text(const struct pg_rfc2544 *rf)
{
	const struct pg_args *a = rf->a;

	printf("%s: rfc2544 %s -> %s, loss tolerance %g%%, %g s trials, at "
	       "most %u\n", xm_ex_prog(), a->std.ifname, a->rx_ifname,
	       a->tolerance_pct, a->trial_s, a->max_trials);
	printf("  %6s %12s %12s %12s %6s %10s %10s\n", "frame", "thru pps",
	       "L2 Mbps", "L1 Mbps", "trials", "lat p50", "lat p99");
	for (unsigned int i = 0; i < rf->n; i++) {
		const struct pg_search *s = &rf->s[i];
		double pps = pg_search_pps(s);

		printf("  %5.0f%s %12.0f %12.3f %12.3f %6u %10llu %10llu\n",
		       pg_frame_bytes(s), s->imix ? "*" : " ", pps,
		       pg_bps_l2(pps, s->wire) / 1e6,
		       pg_bps_l1(pps, s->wire) / 1e6, s->nt,
		       (unsigned long long)pg_hist_quantile(s->lat, 0.5),
		       (unsigned long long)pg_hist_quantile(s->lat, 0.99));
	}
	printf("  throughput: the highest rate carried (sent - lost per "
	       "second) with loss within the tolerance; latency in ns at it"
	       "%s\n", rf->n && rf->s[0].imix ? "; *: IMIX, mean size" : "");
}

int pg_rfc2544_report(const struct pg_rfc2544 *rf)
{
	if (rf->a->std.json)
		pg_rfc2544_json(rf);
	else
		pg_rfc2544_text(rf);
	return XM_EX_OK;
}
