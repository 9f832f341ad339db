/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_rfc2544.h - xmbuf-pktgen's rfc2544 command (pg_rfc2544.c): the
 * highest rate with no loss (within --loss-tolerance), found by trials
 * of one run each, then the latency at that rate.
 */
#ifndef PG_RFC2544_H
#define PG_RFC2544_H

#include "pg_state.h"

/**
 * The search and its report on stdout, on a struct pg with both ends
 * set up.  @return the exit status.
 */
int pg_rfc2544(struct pg *g);

#endif /* PG_RFC2544_H */
