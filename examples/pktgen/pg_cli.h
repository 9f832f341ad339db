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

#include "xm_example.h"
#include "xm_pkt.h"
#include "xm_port.h"

#include "pg_rate.h"
#include "pg_sched.h"

#define PG_BURST_DEFAULT	64
#define PG_BURST_MAX		256
#define PG_TX_RING		2048	/* AF_XDP TX ring entries: also the
					 * largest --tx-budget */
#define PG_MAX_SECONDS		(365.0 * 86400)

enum pg_cmd {
	PG_CMD_TX = 0,
	PG_CMD_RX,
	PG_CMD_RFC2544,
	PG_CMD_PLOT,			/* handled before the table: pg_plot.h */
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

/* --src-mac, --dst-mac */
struct pg_mac_arg {
	uint8_t addr[6];
	bool given;
};

/* --src, --dst: an address or a range (only the last 32 bits vary). */
struct pg_addr_arg {
	union xm_pkt_addr lo;		/* first address */
	uint32_t count;			/* addresses in the range */
	int family;			/* 4 or 6 */
	bool given;
};

/* --sport, --dport */
struct pg_port_arg {
	uint16_t lo;			/* first port */
	uint32_t count;			/* ports in the range */
};

/*
 * The command line.  The options every tool shares (-i, -q, -c, -d, -m,
 * --burst, -j, -Q, -v) are in std (xm_ex_opts.h); the enumerations are
 * uint32_t because the option table writes them so.
 */
struct pg_args {
	enum pg_cmd cmd;
	struct xm_ex_args std;		/* -i: TX (tx, rfc2544) or RX (rx);
					 * -q (0: queue 0 for tx, all for
					 * rx); -c: the command's threads,
					 * round robin */
	const char *rx_ifname;		/* --rx-iface: both ends in one run */
	uint32_t rx_queues[XM_PORT_MAX_QUEUES];	/* --rx-queues */
	int nrx_queues;
	uint32_t rx_cpus[CPU_SETSIZE];	/* --rx-cpus */
	int nrx_cpus;
	struct pg_mac_arg dst_mac;	/* not given: resolved */
	struct pg_mac_arg src_mac;	/* not given: the interface's */
	int family;			/* 4 or 6: of src and dst */
	struct pg_addr_arg src;
	struct pg_addr_arg dst;
	struct pg_port_arg sport;
	struct pg_port_arg dport;
	uint32_t proto;			/* UDP or TCP (SYN) */
	int vlan;			/* -1: untagged */
	struct pg_sizes sizes;		/* -s / --imix: wire sizes (the
					 * frame sizes given less the FCS) */
	bool imix;			/* the sizes are a mix (rfc2544: one
					 * search of it, not one per size) */
	uint64_t count;			/* -n, 0: no limit */
	struct pg_rate_spec rate;	/* -r, or -b (L2 bits) */
	const char *rate_arg;		/* ... as given */
	struct pg_rate_spec rate_b;	/* -b, folded into rate */
	uint32_t flows;			/* --flows, 0: from the ranges */
	uint32_t flows_random;		/* --flow-order: 0 step, 1 random */
	uint64_t seed;
	uint32_t engine;		/* --engine: enum pg_engine */
	const char *pcap;		/* --pcap */
	double pcap_speed;		/* --pcap-speed: multiplier of the
					 * file's timing, 0: topspeed */
	bool pcap_speed_given;
	uint32_t pcap_loop;		/* --pcap-loop, 0: until -n or -d */
	bool pcap_loop_given;
	bool json_stream;		/* --json-stream */
	double interval_s;		/* --interval */
	uint32_t pool;			/* --pool: frames per queue, 0: auto */
	uint32_t tx_budget;		/* --tx-budget, 0: the port's */
	uint32_t ref;			/* --tx-ref: enum pg_ref */
	uint32_t stream;		/* --stream: first stream id */
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
