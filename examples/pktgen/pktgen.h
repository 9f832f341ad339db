/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pktgen.h - xmbuf-pktgen's shared state: the parsed command line, the
 * transmit queues (AF_XDP frame pools or live-frames templates), the
 * receive queues (meters), and one "run" (send, drain, measure) that the
 * tx, rx and rfc2544 commands are built from.
 *
 *   main thread                 tx thread per queue     rx thread per queue
 *   parse, open ports,          pool of frames          rx_burst
 *   build pools ----------->    stamp + flow fields     locate stamp
 *   stats line once a second    tx_burst (copym refs)   meter: loss, order,
 *   stop on -n/-d/signal        or xm_live_send()       latency histogram
 *   drain, merge, summary
 */
#ifndef PKTGEN_H
#define PKTGEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "xm_example.h"
#include "xm_mbuf.h"
#include "xm_live.h"
#include "xm_pkt.h"
#include "xm_port.h"
#include "xm_umem.h"

#include "pg_frame.h"
#include "pg_meter.h"
#include "pg_pcap.h"
#include "pg_rate.h"
#include "pg_sched.h"
#include "pg_stamp.h"

#define PG_BURST_DEFAULT	64
#define PG_BURST_MAX		256
#define PG_TX_RING		2048	/* AF_XDP TX ring entries */
#define PG_RX_RING		4096	/* AF_XDP RX ring entries: 5 ms
					 * of 1 Mpps for a preempted reader */
#define PG_MAX_SECONDS		(365.0 * 86400)
#define PG_PCAP_MAX_PKTS	65536
#define PG_LIVE_CALL_MAX	262144	/* frames per BPF_PROG_RUN, unlimited:
					 * ~100 ms, past the ~30 ms a call
					 * costs however small */
#define PG_LIVE_BURST_NS	50000000 /* a rate-limited live call: 50 ms */
#define PG_BURST_NS		50000	/* a rate-limited burst lasts <= this */
#define PG_PREFETCH_AHEAD	8	/* AF_XDP: slots prefetched ahead */
#define PG_TUPLES_MAX		(1U << 22)	/* distinct 5-tuples counted */

enum pg_cmd {
	PG_CMD_TX = 0,
	PG_CMD_RX,
	PG_CMD_RFC2544,
};

enum pg_engine {
	PG_ENGINE_AFXDP = 0,
	PG_ENGINE_LIVE,
};

/* How a pool frame is handed to the port without a copy. */
enum pg_ref {
	PG_REF_OWN = 0,			/* the slot's own headers, re-armed
					 * with the frame as EXTREF storage
					 * (XM_NOFREE): no allocation per
					 * packet; the free callback marks the
					 * slot idle */
	PG_REF_COPYM,			/* xm_copym(): a new header sharing
					 * the frame's reference count */
};

/* The command line. */
struct pg_args {
	enum pg_cmd cmd;
	const char *ifname;		/* -i: TX (tx, rfc2544) or RX (rx) */
	const char *rx_ifname;		/* --rx-iface: both ends in one run */
	uint32_t queues[XM_PORT_MAX_QUEUES];	/* -q */
	int nqueues;			/* 0: queue 0 */
	uint32_t rx_queues[XM_PORT_MAX_QUEUES];	/* --rx-queues */
	int nrx_queues;
	uint32_t cpus[64];		/* -c: TX threads, round robin */
	int ncpus;
	uint32_t rx_cpus[64];		/* --rx-cpus */
	int nrx_cpus;
	uint8_t dst_mac[6];
	bool have_dst_mac;
	uint8_t src_mac[6];
	bool have_src_mac;
	int family;			/* 4 or 6 */
	union xm_pkt_addr src;		/* first source address */
	uint32_t src_count;		/* addresses in the range */
	union xm_pkt_addr dst;
	uint32_t dst_count;
	uint16_t sport;
	uint32_t sport_count;
	uint16_t dport;
	uint32_t dport_count;
	bool have_sport_range;		/* --sport gave a range */
	uint8_t proto;			/* UDP or TCP (SYN) */
	int vlan;			/* -1: untagged */
	struct pg_sizes sizes;		/* -s / --imix */
	bool sizes_given;
	uint64_t count;			/* -n, 0: no limit */
	double seconds;			/* -d, 0: no limit */
	uint64_t rate_pps;		/* -r */
	uint64_t rate_bps;		/* -b */
	uint32_t flows;			/* --flows, 0: from the ranges */
	bool flows_random;		/* --flow-order random */
	uint64_t seed;
	enum pg_engine engine;		/* --engine */
	const char *pcap;		/* --pcap */
	bool json;
	bool quiet;
	bool verbose;
	uint32_t burst;			/* --burst */
	uint32_t pool;			/* --pool: frames per queue, 0: auto */
	uint32_t tx_budget;		/* --tx-budget, 0: the port's */
	enum pg_ref ref;		/* --tx-ref */
	uint32_t mode;			/* --mode (xm_port_mode) */
	uint16_t stream;		/* --stream: first stream id */
	double idle_s;			/* rx: stop after this long idle */
	double drain_s;			/* both ends: wait for stragglers */
	/* rfc2544 */
	double trial_s;
	double tolerance_pct;
	double resolution_pct;
	uint32_t max_trials;
};

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

struct pg_txq {
	struct pg *g;
	unsigned int qidx;		/* port queue index / thread number */
	int cpu;			/* pinned to, or -1 */
	uint16_t stream;		/* stream id (AF_XDP engine) */
	pthread_t thread;
	bool started;
	int err;			/* 0 or -errno the thread hit */
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
	uint64_t run_seq0;		/* seq at the run's start */
	uint64_t t_first;		/* ns of the first send */
	uint64_t t_last;		/* ns of the last send */
	uint64_t spilled;		/* rate units the sender could not
					 * make up (pg_rate_spilled) */
	_Atomic uint64_t sent;		/* packets this run */
	_Atomic uint64_t bytes;
	_Atomic bool done;
} __attribute__((aligned(64)));

/* A set of 5-tuple hashes (open addressing, 0 = empty). */
struct pg_tuples {
	uint64_t *tp_slot;
	uint32_t tp_mask;
	uint32_t tp_n;
	bool tp_full;			/* PG_TUPLES_MAX reached */
};

struct pg_rxq {
	struct pg *g;
	unsigned int qidx;
	int cpu;
	pthread_t thread;
	bool started;
	int err;
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
	bool stamped;			/* generated (not pcap) */
	uint8_t **tmpl;			/* linear frame per distinct size
					 * (or per pcap packet) */
	uint32_t ntmpl;
	struct pg_txq *txq;
	unsigned int ntxq;
	struct pg_rxq *rxq;
	unsigned int nrxq;
	int ncpus;			/* possible CPUs (live streams) */
	uint64_t *live_seq0;		/* per CPU, at the run's start */
	_Atomic bool tx_stop;
	_Atomic bool rx_stop;
	char tx_mode[16];
	char rx_mode[16];
	uint32_t tx_budget;		/* the TX port's xm_port_tx_budget() */
};

/* What a run is asked to do. */
struct pg_run_opts {
	uint64_t count;			/* TX packets (all queues), 0: none */
	double seconds;			/* TX (or RX-only) time, 0: none */
	uint64_t rate_pps;
	uint64_t rate_bps;
	uint64_t rx_count;		/* rx-only: stop after this many */
	double idle_s;			/* rx-only: stop when idle this long */
	bool stats_line;		/* print once a second */
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

/* pg_tx.c */
/* Frames per queue pool; *fixed_flows: each frame keeps its flow. */
uint32_t pg_tx_pool_size(const struct pg *g, bool *fixed_flows);
int pg_tx_setup(struct pg *g);
/* Frees the pools (frames) and the live engine; queues stay. */
void pg_tx_release(struct pg *g);
void pg_tx_teardown(struct pg *g);
void *pg_tx_thread(void *arg);
/* Stream ids and next sequences of every TX stream (meter setup). */
int pg_tx_streams(struct pg *g, uint16_t *ids, uint64_t *next,
		  unsigned int max);

/* pg_rx.c */
int pg_rx_setup(struct pg *g);
void pg_rx_teardown(struct pg *g);
void pg_rx_reset(struct pg *g);
void *pg_rx_thread(void *arg);
int pg_tuples_init(struct pg_tuples *t);
void pg_tuples_insert(struct pg_tuples *t, uint64_t h);
void pg_tuples_free(struct pg_tuples *t);

/* pktgen.c */
int pg_run(struct pg *g, const struct pg_run_opts *o, struct pg_result *r);
void pg_result_free(struct pg_result *r);
void pg_block_signals(void);

#endif /* PKTGEN_H */
