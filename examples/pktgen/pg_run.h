/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_run.h - one run of xmbuf-pktgen (pg_run.c): the receive threads
 * start first, the transmit threads send until the count, the duration
 * or a signal stops them, the queues drain, the receive threads stop and
 * their meters are merged into a struct pg_result.  tx and rx are one
 * run each; rfc2544 is a run per trial.
 */
#ifndef PG_RUN_H
#define PG_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "pg_state.h"

/* What a run is asked to do. */
struct pg_run_opts {
	uint64_t count;			/* TX packets (all queues), 0: none */
	double seconds;			/* TX (or RX-only) time, 0: none */
	struct pg_rate_plan rate;	/* rp_rate 0: unlimited */
	uint64_t rx_count;		/* rx-only: stop after this many */
	double idle_s;			/* rx-only: stop when idle this long */
	bool stats_line;		/* print once a second */
	/* --json-stream: a line per interval on stdout */
	bool stream;
	double interval_s;
	uint32_t trial;			/* rfc2544: the trial (0: none) */
	uint32_t frame_bytes;		/* rfc2544: its frame size */
	double offered_pps;		/* rfc2544: its rate (0: unlimited) */
};

/* What a run measured. */
struct pg_result {
	uint64_t sent;
	uint64_t tx_bytes;
	uint64_t rate_spilled;		/* summed over queues */
	double tx_seconds;		/* first to last send */
	double seconds;			/* wall time of the run */
	struct pg_meter *meter;		/* merged receive meters */
	uint64_t rx_packets;		/* stamped + unstamped */
	uint64_t rx_bytes;
	uint64_t *sizes;		/* merged size histogram */
	uint64_t tuples;		/* distinct 5-tuples received */
	bool tuples_capped;
	const char *clock;		/* "xdp", "user", "none" */
	struct xm_port_stats rx_port;	/* the receiving port's counters */
	bool have_rx_port;
	int err;			/* first worker error */
};

/**
 * One run on the queues pg_tx_setup() and pg_rx_setup() made.
 * @return 0 or the first -errno (r->err); pg_result_free(r) either way.
 */
int pg_run(struct pg *g, const struct pg_run_opts *o, struct pg_result *r);
void pg_result_free(struct pg_result *r);

#endif /* PG_RUN_H */
