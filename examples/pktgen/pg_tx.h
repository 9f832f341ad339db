/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_tx.h - xmbuf-pktgen's transmit queues (pg_tx.c): their setup from
 * a filled struct pg, the thread that sends on one queue for one run,
 * and what the meter needs to know of the streams they send.
 *
 * A run sets each queue's limit and rate, starts pg_tx_worker() on it
 * (the launcher pins the thread first) and sets g->tx_stop to end it;
 * the worker sets q->done when it returns.
 */
#ifndef PG_TX_H
#define PG_TX_H

#include "pg_state.h"

/** Frames per queue pool; *fixed_flows: each frame keeps its flow. */
uint32_t pg_tx_pool_size(const struct pg *g, bool *fixed_flows);
/** The queues and their pools (or the live engine).  @return 0 or -errno
 * (message printed). */
int pg_tx_setup(struct pg *g);
/** Frees the pools (frames) and the live engine; queues stay. */
void pg_tx_release(struct pg *g);
void pg_tx_teardown(struct pg *g);
/** Sends on the struct pg_txq arg until its limit or g->tx_stop.
 * @return 0 or -errno (the run stops). */
int pg_tx_worker(void *arg);
/** Stream ids and next sequences of every TX stream (meter setup).
 * @return how many, or -errno. */
int pg_tx_streams(struct pg *g, uint16_t *ids, uint64_t *next,
		  unsigned int max);

#endif /* PG_TX_H */
