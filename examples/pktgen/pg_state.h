/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_state.h - the state one xmbuf-pktgen process shares between its
 * parts: the transmit queues (AF_XDP frame pools or the live-frames
 * engine), the receive queues (meters) and what both read (struct pg).
 *
 *   pktgen.c    fills struct pg: templates, flows, UMEM, ports
 *   pg_tx.c     per TX queue: pool, pacing, the sending thread
 *   pg_rx.c     per RX queue: meter, tuples, sizes, the reading thread
 *   pg_run.c    one run: starts the threads, watches, stops, merges
 *
 * Fields a worker writes while it runs are atomics or its queue's own;
 * the rest is written before the workers start and read after they stop.
 * The threads themselves (pinning, start, join) are the launcher's
 * (xm_ex_run.h): a queue is the argument of one worker.
 */
#ifndef PG_STATE_H
#define PG_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "xm_live.h"
#include "xm_mbuf.h"
#include "xm_port.h"
#include "xm_umem.h"

#include "pg_cli.h"
#include "pg_frame.h"
#include "pg_meter.h"
#include "pg_pcap.h"
#include "pg_rate.h"
#include "pg_sched.h"
#include "pg_tuples.h"

#define PG_RX_RING		4096	/* AF_XDP RX ring entries: 5 ms
					 * of 1 Mpps for a preempted reader */
#define PG_MAX_SEGS		5	/* 9000 bytes in 2 KiB chunks */

/* One frame of an AF_XDP queue's pool. */
struct pg_slot {
	struct xm_mbuf *sl_m;		/* the chain head: COPYM: the frame's
					 * own mbufs; OWN: our headers */
	struct xm_mbuf *sl_last;	/* COPYM: last segment, freed last */
	uint8_t *sl_hdr;		/* first segment's bytes */
	uint32_t sl_size;		/* frame bytes */
	uint32_t sl_flow;		/* flow the frame carries now */
	uint16_t sl_inflight;		/* OWN: segments the port holds */
	uint8_t sl_nsegs;		/* OWN: segments */
	struct xm_mbuf *sl_seg[PG_MAX_SEGS];	/* OWN: headers */
	char *sl_frame[PG_MAX_SEGS];	/* OWN: UMEM frames (chunk size) */
};

struct pg;

/* A transmit queue: worker i of a run's TX launcher (xm_ex_run.h). */
struct pg_txq {
	struct pg *g;
	unsigned int qidx;		/* port queue index / worker number */
	uint16_t stream;		/* stream id (AF_XDP engine) */
	struct pg_slot *pool;		/* AF_XDP: frames, built once */
	uint32_t npool;
	bool fixed_flows;		/* each slot keeps its flow */
	enum pg_ref ref;		/* how slots are handed out */
	uint64_t seq;			/* packets sent on this queue ever:
					 * the next sequence number */
	/* the current run */
	uint64_t limit;			/* packets, 0: no limit */
	uint64_t rate;			/* pps or bps, 0: no limit */
	bool rate_bits;			/* rate is bits/s */
	uint32_t rate_overhead;		/* bits: bytes counted per packet
					 * beyond its wire bytes (L2 4, L1 24) */
	uint64_t t_zero;		/* pcap timing: ns the file's time 0
					 * falls at (0: not yet) */
	uint64_t run_seq0;		/* seq at the run's start */
	uint64_t t_first;		/* ns of the first send */
	uint64_t t_last;		/* ns of the last send */
	uint64_t spilled;		/* rate units the sender could not
					 * make up (pg_rate_spilled) */
	_Atomic uint64_t sent;		/* packets this run */
	_Atomic uint64_t bytes;
	_Atomic bool done;
} __attribute__((aligned(64)));

/* A receive queue: worker i of a run's RX launcher. */
struct pg_rxq {
	struct pg *g;
	unsigned int qidx;
	struct pg_meter *meter;		/* heap: about 200 KiB, and 16 KiB
					 * per stream id (PG_METER_STREAMS
					 * at most) */
	struct pg_tuples tuples;
	uint64_t *sizes;		/* [PG_SIZE_MAX + 2]: per frame size */
	int clock;			/* 0 undecided, 1 XDP stamp, 2 user */
	_Atomic uint64_t rx;		/* packets (stamped or not) */
	_Atomic uint64_t bytes;
	_Atomic uint64_t lost;		/* this queue's view, for the line */
	_Atomic uint64_t last_ns;	/* arrival of the last packet */
} __attribute__((aligned(64)));

struct pg {
	struct pg_args *a;
	struct xm_umem *u;
	struct xm_port *txp;		/* AF_XDP engine */
	struct xm_port *rxp;		/* rx, or both ends */
	struct xm_live *live;		/* live engine */
	uint32_t chunk;			/* UMEM chunk size */
	struct pg_tmpl_spec spec;
	struct pg_layout ly;
	struct pg_flows flows;
	struct pg_pcap pcap;
	uint64_t *pcap_off;		/* ns of each packet after the first,
					 * at the file's pace (monotone) */
	uint64_t pcap_period;		/* ns of one pass: the last offset +
					 * the mean gap */
	bool stamped;			/* generated (not pcap) */
	uint8_t **tmpl;			/* linear frame per distinct size
					 * (or per pcap packet) */
	uint32_t ntmpl;
	struct pg_txq *txq;
	unsigned int ntxq;
	struct pg_rxq *rxq;
	unsigned int nrxq;
	int ncpus;			/* possible CPUs (live streams) */
	_Atomic bool tx_stop;
	_Atomic bool rx_stop;
	char tx_mode[16];
	char rx_mode[16];
	uint32_t tx_budget;		/* the TX port's xm_port_tx_budget() */
	struct pg_rate_plan rate;	/* -r resolved (tx) */
	uint32_t link_mbps;		/* the TX link's speed, 0: none */
	uint64_t t_start;		/* ns the process began: --json-stream's
					 * time 0 */
};

#endif /* PG_STATE_H */
