/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_cli.h - xmbuf-pktgen's command line: what the user asked for
 * (struct pg_args), parsed and checked before anything is opened.
 *
 *   argv --> command word (tx, rx, rfc2544)
 *        --> options, each checked alone (range, syntax)
 *        --> the options together (exclusions, families, sizes)
 *        --> struct pg_args, or an exit status after the message
 *
 * Nothing here needs a privilege or the network beyond asking whether
 * the named interfaces exist; every other part reads struct pg_args and
 * none writes it but the setup's MAC defaults.
 */
#ifndef PG_CLI_H
#define PG_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "xm_pkt.h"
#include "xm_port.h"

#include "pg_sched.h"

#define PG_BURST_DEFAULT	64
#define PG_BURST_MAX		256
#define PG_TX_RING		2048	/* AF_XDP TX ring entries: also the
					 * largest --tx-budget */
#define PG_MAX_SECONDS		(365.0 * 86400)
#define PG_CPUS_MAX		64	/* entries of -c and --rx-cpus */

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
	uint32_t cpus[PG_CPUS_MAX];	/* -c: TX threads, round robin */
	int ncpus;
	uint32_t rx_cpus[PG_CPUS_MAX];	/* --rx-cpus */
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

/**
 * Parses the command line into *a (--help prints the usage).
 * @return -1 to go on, else the exit status (XM_EX_OK after --help,
 * XM_EX_USAGE after the message); either way pg_cli_free(a) after.
 */
int pg_cli_parse(int argc, char **argv, struct pg_args *a);
/** Frees what pg_cli_parse() allocated (the size schedule). */
void pg_cli_free(struct pg_args *a);

#endif /* PG_CLI_H */
