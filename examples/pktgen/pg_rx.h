/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_rx.h - xmbuf-pktgen's receive queues (pg_rx.c): one meter, tuple
 * set and size histogram per queue of g->rxp, and the worker that reads
 * one queue until g->rx_stop (the launcher pins its thread first).
 */
#ifndef PG_RX_H
#define PG_RX_H

#include "pg_state.h"

/** A queue per queue of g->rxp.  @return 0 or -errno (message printed). */
int pg_rx_setup(struct pg *g);
void pg_rx_teardown(struct pg *g);
/** Every queue's counts back to zero, for the next run. */
void pg_rx_reset(struct pg *g);
/** Reads the struct pg_rxq arg until g->rx_stop.  @return 0. */
int pg_rx_worker(void *arg);

#endif /* PG_RX_H */
