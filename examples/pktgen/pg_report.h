/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_report.h - what xmbuf-pktgen prints at the end (pg_report.c): the
 * summary of a run on stdout, as text or as one JSON object (--json),
 * and the pieces the rfc2544 report shares with it.
 */
#ifndef PG_REPORT_H
#define PG_REPORT_H

#include <stdint.h>

#include "xm_example.h"

#include "pg_run.h"

/** n over seconds, 0 for no time. */
double pg_rate_of(uint64_t n, double seconds);
/** "latency_ns": {count, min, avg, max, p50, p99, p999}. */
void pg_report_latency_json(struct xm_ex_json *j, const struct pg_hist *h);
/** "latency_histogram": [[lo_ns, hi_ns, count], ...], non-empty buckets. */
void pg_report_hist_json(struct xm_ex_json *j, const struct pg_hist *h);
/**
 * The summary of a tx or rx run: what was sent and received, and the
 * frame audit after the ports closed (audit_err, held: xm_umem_audit()).
 */
void pg_report_run(const struct pg *g, const struct pg_result *r,
		   int audit_err, uint64_t held);

#endif /* PG_REPORT_H */
