/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_rfc2544.h - xmbuf-pktgen's rfc2544 command (pg_rfc2544.c): per
 * frame size, the highest rate carried with loss within
 * --loss-tolerance, found by trials of one run each, then the latency at
 * that rate; one report of every size.
 */
#ifndef PG_RFC2544_H
#define PG_RFC2544_H

#include "pg_state.h"

struct pg_rfc2544;

/** Results for up to nsizes searches.  @return NULL when out of memory. */
struct pg_rfc2544 *pg_rfc2544_new(const struct pg_args *a,
				  unsigned int nsizes);
/**
 * The search at the frame size (or mix) g is set up for, both ends
 * open; its result is kept for the report.  @return 0 or -errno of a run.
 */
int pg_rfc2544_size(struct pg *g, struct pg_rfc2544 *rf);
/** Every result on stdout (text, or JSON).  @return the exit status. */
int pg_rfc2544_report(const struct pg_rfc2544 *rf);
void pg_rfc2544_free(struct pg_rfc2544 *rf);

#endif /* PG_RFC2544_H */
