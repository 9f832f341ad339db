// SPDX-License-Identifier: BSD-2-Clause
/*
 * pktgen.c - xmbuf-pktgen: a traffic generator and loss/latency meter on
 * the public xmbuf API (xm_umem.h, xm_mbuf.h, xm_port.h, xm_pkt.h).
 *
 *   xmbuf-pktgen tx -i IF [...]          send (AF_XDP or live frames)
 *   xmbuf-pktgen tx -i IF --rx-iface IF2 send on IF, measure on IF2
 *   xmbuf-pktgen rx -i IF [...]          measure what arrives on IF
 *   xmbuf-pktgen rfc2544 -i IF --rx-iface IF2
 *                                        RFC 2544 throughput search
 *
 * Every command is one or more "runs" (pg_run): receive threads start
 * first, transmit threads send until the count, the duration or a signal
 * stops them, the queues drain, the receive threads stop and their meters
 * are merged.  When one process holds both ends it knows how many each
 * stream sent, so loss at the tail of a run counts too; a separate
 * receiver counts the gaps in the sequence numbers it saw.
 *
 * Output: a stats line once a second on stderr, the summary on stdout
 * (text, or one JSON object with --json).  Exit status 0 success, 1
 * runtime error, 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktgen.h"
#include "pg_resolve.h"

#define PG_STREAMS_MAX		1024

/* ------------------------------------------------------------- usage */

static void usage(FILE *out)
{
	fprintf(out,
"usage: %1$s tx -i IF [--dst-mac MAC] [--src IP] [--dst IP] [-s SIZE | --imix]\n"
"              [-n COUNT] [-d SECONDS] [-r PPS | -b BPS] [--flows N]\n"
"              [--engine afxdp|live] [--pcap FILE] [--json] [options]\n"
"       %1$s rx -i IF [-n COUNT] [-d SECONDS] [--json] [options]\n"
"       %1$s rfc2544 -i IF --rx-iface IF2 [-s SIZE] [--trial SECONDS]\n"
"              [--loss-tolerance PCT] [--json] [options]\n"
"\n"
"tx: sends UDP (or TCP SYN) frames over IPv4 or IPv6, built once in UMEM\n"
"frames and sent from them over and over; every frame carries a sequence\n"
"number, a stream id and its TX time.  rx: counts per stream received,\n"
"lost, reordered and duplicated packets and the latency (same host clock)\n"
"of up to %6$d stream ids (with both ends, of the run's own only); stamps\n"
"of any other id are counted as stream_overflow.\n"
"rfc2544: binary search for the highest rate with no loss, then latency.\n"
"\n"
"Common:\n"
"  -i, --iface IF         interface to send on (rx: to receive on)\n"
"  -q, --queues LIST      queues, one thread each: 0, 0-3, 0,2 (tx default\n"
"                         0; rx default all; live engine: threads)\n"
"  -c, --cpus LIST        pin the threads to these CPUs, round robin\n"
"  -n, --count N          tx: packets to send; rx: stop after N received\n"
"  -d, --duration SEC     stop after SEC seconds\n"
"  -m, --mode MODE        AF_XDP mode: auto, zero-copy, copy, skb\n"
"      --burst N          packets per burst, 1..%2$d (default %3$d)\n"
"      --pool N           AF_XDP frames per queue (default 1024 in copy\n"
"                         mode, twice the TX ring in zero-copy mode)\n"
"      --tx-budget N      copy mode: descriptors the kernel sends per\n"
"                         sendto(), 32..2048 (default 2048, the TX ring;\n"
"                         the kernel's own is 32)\n"
"      --tx-ref own|copym how a frame goes to the port: its own headers\n"
"                         re-armed (default) or an xm_copym() reference\n"
"  -j, --json             the summary as one JSON object on stdout\n"
"  -Q, --quiet            no stats line\n"
"  -v, --verbose          library debug messages\n"
"  -h, --help             this text\n"
"tx:\n"
"      --dst-mac MAC      destination MAC (default: the kernel's neighbour\n"
"                         entry for the next hop, or a veth's peer)\n"
"      --src-mac MAC      source MAC (default: IF's)\n"
"      --src IP[-IP]      source address or range (default 198.18.0.1);\n"
"                         IPv6 ranges vary the last 32 bits\n"
"      --dst IP[-IP]      destination address or range (default 198.18.0.2)\n"
"      --sport P[-P]      UDP/TCP source port or range (default 1024)\n"
"      --dport P[-P]      destination port or range (default 9)\n"
"      --proto udp|tcp    UDP (default) or TCP SYN\n"
"      --vlan ID          802.1Q tag, 0..4095\n"
"  -s, --size SIZE        frame size without FCS, %4$d..%5$d (default 60);\n"
"                         LO-HI[:STEP] sweeps the range\n"
"      --imix[=LIST]      IMIX: 64:7,594:4,1518:1 or SIZE:WEIGHT,...\n"
"  -r, --rate PPS         packets per second (k, M, G suffixes)\n"
"  -b, --bit-rate BPS     bits per second of frames (k, M, G suffixes)\n"
"      --flows N          distinct 5-tuples (default: every combination of\n"
"                         the ranges; alone, N source ports)\n"
"      --flow-order step|random  flow of each packet (default step)\n"
"      --seed N           random flow order seed\n"
"      --engine afxdp|live  AF_XDP TX (default) or in-kernel live frames\n"
"      --pcap FILE        replay the packets of FILE in a loop, byte for\n"
"                         byte (no stamp: counted, not sequenced)\n"
"      --stream ID        first stream id (default 0): + the queue, or\n"
"                         with the live engine + the CPU\n"
"      --rx-iface IF2     also receive on IF2 and measure (both ends)\n"
"      --rx-queues LIST   queues of IF2 (default all)\n"
"      --rx-cpus LIST     pin the receive threads\n"
"      --drain SEC        wait this long at most for late packets (1)\n"
"rx:\n"
"      --idle SEC         stop once nothing arrived for SEC seconds\n"
"rfc2544:\n"
"      --trial SEC        seconds per trial (default 2)\n"
"      --loss-tolerance PCT  loss accepted as zero (default 0)\n"
"      --resolution PCT   stop when the interval is this share of the peak\n"
"                         (default 1)\n"
"      --max-trials N     trials at most (default 16)\n"
"\n"
"JSON keys: tx: sent, tx_pps, tx_bps; rx: received, lost, reordered,\n"
"duplicated, stream_overflow, rx_pps, rx_bps, latency_ns {min, avg, max,\n"
"p50, p99, p999}.\n"
"Rates are measured from the first to the last packet.  Exit status: 0\n"
"success, 1 runtime error, 2 usage error.\n",
		xm_ex_prog(), PG_BURST_MAX, PG_BURST_DEFAULT, PG_SIZE_MIN,
		PG_SIZE_MAX, PG_METER_STREAMS);
}

/* ----------------------------------------------------------- parsing */

/* "1000", "1.5M", "10G": a positive rate. */
static bool parse_rate(const char *s, uint64_t *out)
{
	char *end;
	double v, mult = 1;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return false;
	if (*end == 'k' || *end == 'K')
		mult = 1e3, end++;
	else if (*end == 'M' || *end == 'm')
		mult = 1e6, end++;
	else if (*end == 'G' || *end == 'g')
		mult = 1e9, end++;
	if (*end || !isfinite(v) || v * mult < 1 || v * mult > 1e12)
		return false;
	*out = (uint64_t)llround(v * mult);
	return true;
}

/* "IP" or "IP-IP" (one family, only the last 32 bits may differ). */
static bool parse_addr_range(const char *s, int *family,
			     union xm_pkt_addr *lo, uint32_t *count)
{
	char buf[128], *dash;
	union xm_pkt_addr hi;
	int fam;
	uint32_t a, b;

	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	memset(lo, 0, sizeof(*lo));
	memset(&hi, 0, sizeof(hi));
	if (inet_pton(AF_INET, buf, &lo->a_v4) == 1)
		fam = 4;
	else if (inet_pton(AF_INET6, buf, lo->a_v6) == 1)
		fam = 6;
	else
		return false;
	if (!dash) {
		*family = fam;
		*count = 1;
		return true;
	}
	if (fam == 4 ? inet_pton(AF_INET, dash, &hi.a_v4) != 1 :
		       inet_pton(AF_INET6, dash, hi.a_v6) != 1)
		return false;
	if (fam == 4) {
		a = ntohl(lo->a_v4);
		b = ntohl(hi.a_v4);
	} else {
		if (memcmp(lo->a_v6, hi.a_v6, 12))
			return false;
		a = ntohl(lo->a_v6_32[3]);
		b = ntohl(hi.a_v6_32[3]);
	}
	if (b < a || (uint64_t)b - a + 1 > PG_FLOWS_MAX)
		return false;
	*family = fam;
	*count = b - a + 1;
	return true;
}

static bool parse_port_range(const char *s, uint16_t *lo, uint32_t *count)
{
	char buf[32], *dash;
	uint32_t a, b;

	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	if (!xm_ex_parse_u32(buf, 0, 65535, &a))
		return false;
	b = a;
	if (dash && !xm_ex_parse_u32(dash, 0, 65535, &b))
		return false;
	if (b < a)
		return false;
	*lo = (uint16_t)a;
	*count = b - a + 1;
	return true;
}

enum {
	OPT_DST_MAC = 256,
	OPT_SRC_MAC,
	OPT_SRC,
	OPT_DST,
	OPT_SPORT,
	OPT_DPORT,
	OPT_PROTO,
	OPT_VLAN,
	OPT_IMIX,
	OPT_FLOWS,
	OPT_FLOW_ORDER,
	OPT_SEED,
	OPT_ENGINE,
	OPT_PCAP,
	OPT_STREAM,
	OPT_RX_IFACE,
	OPT_RX_QUEUES,
	OPT_RX_CPUS,
	OPT_DRAIN,
	OPT_IDLE,
	OPT_BURST,
	OPT_POOL,
	OPT_TX_BUDGET,
	OPT_TX_REF,
	OPT_TRIAL,
	OPT_TOLERANCE,
	OPT_RESOLUTION,
	OPT_MAX_TRIALS,
};

/* Options that only make sense when sending. */
static bool tx_only_opt(int opt)
{
	switch (opt) {
	case OPT_DST_MAC: case OPT_SRC_MAC: case OPT_SRC: case OPT_DST:
	case OPT_SPORT: case OPT_DPORT: case OPT_PROTO: case OPT_VLAN:
	case OPT_IMIX: case OPT_FLOWS: case OPT_FLOW_ORDER: case OPT_SEED:
	case OPT_ENGINE: case OPT_PCAP: case OPT_STREAM: case OPT_RX_IFACE:
	case OPT_RX_QUEUES: case OPT_RX_CPUS: case OPT_DRAIN: case OPT_POOL:
	case OPT_TX_BUDGET: case OPT_TX_REF: case 's':
	case 'r': case 'b':
		return true;
	default:
		return false;
	}
}

/* The name of option opt as the user may have typed it. */
static const char *opt_name(const struct option *opts, int opt)
{
	static char c[2];

	if (opt < 256) {
		c[0] = (char)opt;
		return c;
	}
	for (; opts->name; opts++)
		if (opts->val == opt)
			return opts->name;
	return "?";
}

/* @return -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct pg_args *a)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "queues", required_argument, NULL, 'q' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "bit-rate", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
		{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
		{ "src", required_argument, NULL, OPT_SRC },
		{ "dst", required_argument, NULL, OPT_DST },
		{ "sport", required_argument, NULL, OPT_SPORT },
		{ "dport", required_argument, NULL, OPT_DPORT },
		{ "proto", required_argument, NULL, OPT_PROTO },
		{ "vlan", required_argument, NULL, OPT_VLAN },
		{ "imix", optional_argument, NULL, OPT_IMIX },
		{ "flows", required_argument, NULL, OPT_FLOWS },
		{ "flow-order", required_argument, NULL, OPT_FLOW_ORDER },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "engine", required_argument, NULL, OPT_ENGINE },
		{ "pcap", required_argument, NULL, OPT_PCAP },
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ "rx-iface", required_argument, NULL, OPT_RX_IFACE },
		{ "rx-queues", required_argument, NULL, OPT_RX_QUEUES },
		{ "rx-cpus", required_argument, NULL, OPT_RX_CPUS },
		{ "drain", required_argument, NULL, OPT_DRAIN },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "burst", required_argument, NULL, OPT_BURST },
		{ "pool", required_argument, NULL, OPT_POOL },
		{ "tx-budget", required_argument, NULL, OPT_TX_BUDGET },
		{ "tx-ref", required_argument, NULL, OPT_TX_REF },
		{ "trial", required_argument, NULL, OPT_TRIAL },
		{ "loss-tolerance", required_argument, NULL, OPT_TOLERANCE },
		{ "resolution", required_argument, NULL, OPT_RESOLUTION },
		{ "max-trials", required_argument, NULL, OPT_MAX_TRIALS },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd, *size_arg = NULL, *imix_arg = NULL;
	bool imix = false, have_src = false, have_dst = false;
	int src_fam = 4, dst_fam = 4, opt;
	char err[256];
	uint64_t v64;
	uint32_t v32;
	double secs;

	memset(a, 0, sizeof(*a));
	a->family = 4;
	inet_pton(AF_INET, "198.18.0.1", &a->src.a_v4);
	inet_pton(AF_INET, "198.18.0.2", &a->dst.a_v4);
	a->src_count = a->dst_count = 1;
	a->sport = 1024;
	a->dport = 9;
	a->sport_count = a->dport_count = 1;
	a->proto = XM_PKT_IPPROTO_UDP;
	a->vlan = -1;
	a->burst = PG_BURST_DEFAULT;
	a->drain_s = 1.0;
	a->trial_s = 2.0;
	a->resolution_pct = 1.0;
	a->max_trials = 16;

	if (argc < 2)
		return xm_ex_usage_error("a command is required: tx, rx or "
					 "rfc2544");
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return XM_EX_OK;
	}
	if (!strcmp(cmd, "tx"))
		a->cmd = PG_CMD_TX;
	else if (!strcmp(cmd, "rx"))
		a->cmd = PG_CMD_RX;
	else if (!strcmp(cmd, "rfc2544"))
		a->cmd = PG_CMD_RFC2544;
	else
		return xm_ex_usage_error("unknown command '%s' (tx, rx or "
					 "rfc2544)", cmd);
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:q:c:n:d:m:s:r:b:jQvh", opts,
				  NULL)) != -1) {
		if (a->cmd == PG_CMD_RX && tx_only_opt(opt))
			return xm_ex_usage_error("option %s%s is for tx, not rx",
						 opt < 256 ? "-" : "--",
						 opt_name(opts, opt));
		switch (opt) {
		case 'i':
			a->ifname = optarg;
			break;
		case 'q':
			if (xm_ex_opt_queues(optarg, a->queues, &a->nqueues))
				return XM_EX_USAGE;
			break;
		case 'c':
			if (xm_ex_opt_cpus(optarg, a->cpus, 64, &a->ncpus))
				return XM_EX_USAGE;
			break;
		case 'n':
			if (!xm_ex_parse_u64(optarg, 1, UINT64_MAX / 2,
					     &a->count))
				return xm_ex_usage_error("invalid count '%s' "
							 "(at least 1)", optarg);
			break;
		case 'd':
			if (!xm_ex_parse_seconds(optarg, PG_MAX_SECONDS,
						 &a->seconds))
				return xm_ex_usage_error("invalid duration "
							 "'%s'", optarg);
			break;
		case 'm':
			if (xm_ex_opt_mode(optarg, &a->mode))
				return XM_EX_USAGE;
			break;
		case 's':
			size_arg = optarg;
			break;
		case OPT_IMIX:
			imix = true;
			imix_arg = optarg;
			break;
		case 'r':
			if (!parse_rate(optarg, &a->rate_pps))
				return xm_ex_usage_error("invalid rate '%s': a "
					"positive number of packets per second",
					optarg);
			break;
		case 'b':
			if (!parse_rate(optarg, &a->rate_bps))
				return xm_ex_usage_error("invalid bit rate '%s':"
					" a positive number of bits per second",
					optarg);
			break;
		case 'j':
			a->json = true;
			break;
		case 'Q':
			a->quiet = true;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return XM_EX_OK;
		case OPT_DST_MAC:
			if (!xm_ex_parse_mac(optarg, a->dst_mac))
				return xm_ex_usage_error("invalid MAC '%s'",
							 optarg);
			a->have_dst_mac = true;
			break;
		case OPT_SRC_MAC:
			if (!xm_ex_parse_mac(optarg, a->src_mac))
				return xm_ex_usage_error("invalid MAC '%s'",
							 optarg);
			a->have_src_mac = true;
			break;
		case OPT_SRC:
			if (!parse_addr_range(optarg, &src_fam, &a->src,
					      &a->src_count))
				return xm_ex_usage_error("invalid source "
					"address or range '%s'", optarg);
			have_src = true;
			break;
		case OPT_DST:
			if (!parse_addr_range(optarg, &dst_fam, &a->dst,
					      &a->dst_count))
				return xm_ex_usage_error("invalid destination "
					"address or range '%s'", optarg);
			have_dst = true;
			break;
		case OPT_SPORT:
			if (!parse_port_range(optarg, &a->sport,
					      &a->sport_count))
				return xm_ex_usage_error("invalid source port "
					"or range '%s'", optarg);
			a->have_sport_range = a->sport_count > 1;
			break;
		case OPT_DPORT:
			if (!parse_port_range(optarg, &a->dport,
					      &a->dport_count))
				return xm_ex_usage_error("invalid destination "
					"port or range '%s'", optarg);
			break;
		case OPT_PROTO:
			if (!strcmp(optarg, "udp"))
				a->proto = XM_PKT_IPPROTO_UDP;
			else if (!strcmp(optarg, "tcp"))
				a->proto = XM_PKT_IPPROTO_TCP;
			else
				return xm_ex_usage_error("invalid protocol '%s'"
							 " (udp, tcp)", optarg);
			break;
		case OPT_VLAN:
			if (!xm_ex_parse_u32(optarg, 0, 4095, &v32))
				return xm_ex_usage_error("invalid VLAN id '%s' "
							 "(0..4095)", optarg);
			a->vlan = (int)v32;
			break;
		case OPT_FLOWS:
			if (!xm_ex_parse_u32(optarg, 1, PG_FLOWS_MAX,
					     &a->flows))
				return xm_ex_usage_error("invalid flow count "
					"'%s' (1..%u)", optarg, PG_FLOWS_MAX);
			break;
		case OPT_FLOW_ORDER:
			if (!strcmp(optarg, "step"))
				a->flows_random = false;
			else if (!strcmp(optarg, "random"))
				a->flows_random = true;
			else
				return xm_ex_usage_error("invalid flow order "
					"'%s' (step, random)", optarg);
			break;
		case OPT_SEED:
			if (!xm_ex_parse_u64(optarg, 0, UINT64_MAX, &a->seed))
				return xm_ex_usage_error("invalid seed '%s'",
							 optarg);
			break;
		case OPT_ENGINE:
			if (!strcmp(optarg, "afxdp"))
				a->engine = PG_ENGINE_AFXDP;
			else if (!strcmp(optarg, "live"))
				a->engine = PG_ENGINE_LIVE;
			else
				return xm_ex_usage_error("invalid engine '%s' "
					"(afxdp, live)", optarg);
			break;
		case OPT_PCAP:
			a->pcap = optarg;
			break;
		case OPT_STREAM:
			if (!xm_ex_parse_u32(optarg, 0, 65535, &v32))
				return xm_ex_usage_error("invalid stream id "
							 "'%s'", optarg);
			a->stream = (uint16_t)v32;
			break;
		case OPT_RX_IFACE:
			a->rx_ifname = optarg;
			break;
		case OPT_RX_QUEUES:
			if (xm_ex_opt_queues(optarg, a->rx_queues,
					     &a->nrx_queues))
				return XM_EX_USAGE;
			break;
		case OPT_RX_CPUS:
			if (xm_ex_opt_cpus(optarg, a->rx_cpus, 64,
					   &a->nrx_cpus))
				return XM_EX_USAGE;
			break;
		case OPT_DRAIN:
			if (!xm_ex_parse_seconds(optarg, 60, &a->drain_s))
				return xm_ex_usage_error("invalid drain time "
							 "'%s'", optarg);
			break;
		case OPT_IDLE:
			if (!xm_ex_parse_seconds(optarg, PG_MAX_SECONDS,
						 &a->idle_s))
				return xm_ex_usage_error("invalid idle time "
							 "'%s'", optarg);
			break;
		case OPT_BURST:
			if (!xm_ex_parse_u32(optarg, 1, PG_BURST_MAX,
					     &a->burst))
				return xm_ex_usage_error("invalid burst '%s' "
					"(1..%d)", optarg, PG_BURST_MAX);
			break;
		case OPT_POOL:
			if (!xm_ex_parse_u32(optarg, 256, 65536, &a->pool))
				return xm_ex_usage_error("invalid pool size "
					"'%s' (256..65536)", optarg);
			break;
		case OPT_TX_BUDGET:
			if (!xm_ex_parse_u32(optarg, XM_PORT_TX_BUDGET_MIN,
					     PG_TX_RING, &a->tx_budget))
				return xm_ex_usage_error("invalid TX budget "
					"'%s' (%d..%d)", optarg,
					XM_PORT_TX_BUDGET_MIN, PG_TX_RING);
			break;
		case OPT_TX_REF:
			if (!strcmp(optarg, "own"))
				a->ref = PG_REF_OWN;
			else if (!strcmp(optarg, "copym"))
				a->ref = PG_REF_COPYM;
			else
				return xm_ex_usage_error("invalid --tx-ref '%s' "
					"(own, copym)", optarg);
			break;
		case OPT_TRIAL:
			if (!xm_ex_parse_seconds(optarg, 3600, &a->trial_s))
				return xm_ex_usage_error("invalid trial time "
							 "'%s'", optarg);
			break;
		case OPT_TOLERANCE:
			if (!strcmp(optarg, "0")) {
				a->tolerance_pct = 0;
			} else if (!xm_ex_parse_seconds(optarg, 100, &secs)) {
				return xm_ex_usage_error("invalid loss tolerance"
					" '%s' (0..100 percent)", optarg);
			} else {
				a->tolerance_pct = secs;
			}
			break;
		case OPT_RESOLUTION:
			if (!xm_ex_parse_seconds(optarg, 50, &a->resolution_pct))
				return xm_ex_usage_error("invalid resolution "
					"'%s' (percent of the peak)", optarg);
			break;
		case OPT_MAX_TRIALS:
			if (!xm_ex_parse_u64(optarg, 1, 64, &v64))
				return xm_ex_usage_error("invalid trial count "
							 "'%s' (1..64)", optarg);
			a->max_trials = (uint32_t)v64;
			break;
		default:
			return xm_ex_usage_error("invalid option");
		}
	}
	if (optind != argc)
		return xm_ex_usage_error("unexpected argument '%s'",
					 argv[optind]);
	if (!a->ifname)
		return xm_ex_usage_error("-i IF is required");
	if (if_nametoindex(a->ifname) == 0)
		return xm_ex_usage_error("no interface '%s'", a->ifname);
	if (a->rx_ifname && if_nametoindex(a->rx_ifname) == 0)
		return xm_ex_usage_error("no interface '%s'", a->rx_ifname);
	if (a->cmd == PG_CMD_RFC2544 && !a->rx_ifname)
		return xm_ex_usage_error("rfc2544 needs both ends: --rx-iface "
					 "IF2");
	if (a->rx_ifname && !strcmp(a->rx_ifname, a->ifname))
		return xm_ex_usage_error("--rx-iface must differ from -i");
	if (a->rate_pps && a->rate_bps)
		return xm_ex_usage_error("-r and -b exclude each other");
	if (a->cmd == PG_CMD_RFC2544 && (a->rate_pps || a->rate_bps))
		return xm_ex_usage_error("rfc2544 chooses the rates itself");
	if (have_src && have_dst && src_fam != dst_fam)
		return xm_ex_usage_error("--src and --dst are of different "
					 "address families");
	if (have_src || have_dst) {
		a->family = have_src ? src_fam : dst_fam;
		if (a->family == 6 && (!have_src || !have_dst))
			return xm_ex_usage_error("IPv6 needs both --src and "
						 "--dst");
	}
	if (size_arg && imix)
		return xm_ex_usage_error("-s and --imix exclude each other");
	if (a->pcap && (size_arg || imix || a->flows || have_src ||
			have_dst || a->vlan >= 0 ||
			a->proto != XM_PKT_IPPROTO_UDP ||
			a->sport_count > 1 || a->dport_count > 1))
		return xm_ex_usage_error("--pcap replays the file as it is: "
			"no -s, --imix, --flows, addresses, ports, --proto or "
			"--vlan with it");
	if (a->pcap && a->engine == PG_ENGINE_LIVE)
		return xm_ex_usage_error("--pcap replays with the afxdp engine"
			" (live frames send one template per call)");
	if (a->pcap && a->cmd == PG_CMD_RFC2544)
		return xm_ex_usage_error("rfc2544 sends generated frames, not "
					 "--pcap");
	if (a->cmd != PG_CMD_RX && !a->pcap) {
		int rc;

		if (imix)
			rc = pg_parse_imix(imix_arg, PG_SIZE_MIN, PG_SIZE_MAX,
					   &a->sizes, err, sizeof(err));
		else
			rc = pg_parse_sizes(size_arg ? size_arg : "60",
					    PG_SIZE_MIN, PG_SIZE_MAX, &a->sizes,
					    err, sizeof(err));
		if (rc)
			return xm_ex_usage_error("%s", err);
		a->sizes_given = size_arg || imix;
	}
	/* --flows alone: that many source ports */
	if (a->flows > 1 && a->src_count == 1 && a->dst_count == 1 &&
	    a->sport_count == 1 && a->dport_count == 1) {
		if ((uint32_t)a->sport + a->flows - 1 > 65535)
			return xm_ex_usage_error("--flows %u from source port %u"
				" runs past 65535", a->flows, a->sport);
		a->sport_count = a->flows;
	}
	return -1;
}

/* ------------------------------------------------------------- setup */

void pg_block_signals(void)
{
	sigset_t set;

	/* the stop signals belong to the main thread: a worker inside
	 * BPF_PROG_RUN would otherwise have its run cut short */
	xm_ex_stop_sigset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void pg_unblock_signals(void)
{
	sigset_t set;

	xm_ex_stop_sigset(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* Templates, flows and the layout of generated traffic. */
static int pg_traffic_setup(struct pg *g)
{
	struct pg_args *a = g->a;
	uint32_t base[PG_FLOW_DIMS], count[PG_FLOW_DIMS];
	uint32_t mtu = 0, l2max;
	const char *how = NULL;
	char err[256];
	int rc;

	rc = pg_if_info(a->ifname, a->have_src_mac ? NULL : a->src_mac, &mtu,
			NULL);
	if (rc)
		return xm_ex_error("interface %s: %s", a->ifname, strerror(-rc));
	if (a->pcap) {
		rc = pg_pcap_load(a->pcap, PG_PCAP_MAX_PKTS,
				  a->engine == PG_ENGINE_LIVE ?
				  XM_LIVE_MAX_FRAME : PG_SIZE_MAX,
				  &g->pcap, err, sizeof(err));
		if (rc)
			return xm_ex_error("bad pcap file: %s", err);
		g->stamped = false;
		g->ntmpl = g->pcap.pc_npkts;
		g->tmpl = calloc(g->ntmpl, sizeof(*g->tmpl));
		if (!g->tmpl)
			return xm_ex_error("out of memory");
		for (uint32_t i = 0; i < g->ntmpl; i++)
			g->tmpl[i] = (uint8_t *)g->pcap.pc_pkts[i].pp_data;
		l2max = g->pcap.pc_max_len;
	} else {
		struct pg_tmpl_spec *s = &g->spec;

		g->stamped = true;
		s->ts_vlan = a->vlan;
		s->ts_family = a->family;
		s->ts_src = a->src;
		s->ts_dst = a->dst;
		s->ts_proto = a->proto;
		s->ts_sport = a->sport;
		s->ts_dport = a->dport;
		memcpy(s->ts_src_mac, a->src_mac, 6);
		for (uint32_t i = 0; i < a->sizes.sz_n; i++)
			if (a->sizes.sz_sizes[i] < pg_tmpl_min_size(s))
				return xm_ex_usage_error("size %u is below the "
					"%u bytes this frame needs (headers and "
					"the 18-byte stamp)", a->sizes.sz_sizes[i],
					pg_tmpl_min_size(s));
		if (a->engine == PG_ENGINE_LIVE &&
		    a->sizes.sz_max > XM_LIVE_MAX_FRAME)
			return xm_ex_usage_error("the live engine sends frames "
				"of at most %u bytes (one page), not %u",
				XM_LIVE_MAX_FRAME, a->sizes.sz_max);
		base[PG_FLOW_SRC] = ntohl(a->family == 4 ? a->src.a_v4 :
					  a->src.a_v6_32[3]);
		base[PG_FLOW_DST] = ntohl(a->family == 4 ? a->dst.a_v4 :
					  a->dst.a_v6_32[3]);
		base[PG_FLOW_SPORT] = a->sport;
		base[PG_FLOW_DPORT] = a->dport;
		count[PG_FLOW_SRC] = a->src_count;
		count[PG_FLOW_DST] = a->dst_count;
		count[PG_FLOW_SPORT] = a->sport_count;
		count[PG_FLOW_DPORT] = a->dport_count;
		if ((uint64_t)a->sport + a->sport_count - 1 > 65535 ||
		    (uint64_t)a->dport + a->dport_count - 1 > 65535)
			return xm_ex_usage_error("port range past 65535");
		rc = pg_flows_init(&g->flows, base, count, a->flows,
				   a->flows_random, a->seed);
		if (rc == -ERANGE)
			return xm_ex_usage_error("the address and port ranges "
				"hold fewer than the %u flows asked (or more "
				"than %u combinations)", a->flows, PG_FLOWS_MAX);
		if (rc)
			return xm_ex_error("out of memory");
		if (a->engine == PG_ENGINE_AFXDP &&
		    a->sizes.sz_max > mtu + XM_PKT_ETH_HLEN + XM_PKT_VLAN_HLEN)
			return xm_ex_usage_error("%u-byte frames do not fit the "
				"MTU of %s (%u)", a->sizes.sz_max, a->ifname,
				mtu);
		/* the checks above need no privilege and no network; the
		 * destination MAC comes last */
		if (a->have_dst_mac) {
			memcpy(s->ts_dst_mac, a->dst_mac, 6);
		} else {
			rc = pg_resolve_mac(a->ifname, a->family, &a->dst,
					    s->ts_dst_mac, &how, err,
					    sizeof(err));
			if (rc)
				return xm_ex_error("cannot resolve the "
					"destination MAC: %s", err);
			if (!a->quiet)
				fprintf(stderr, "%s: destination MAC "
					"%02x:%02x:%02x:%02x:%02x:%02x from the "
					"%s\n", xm_ex_prog(), s->ts_dst_mac[0],
					s->ts_dst_mac[1], s->ts_dst_mac[2],
					s->ts_dst_mac[3], s->ts_dst_mac[4],
					s->ts_dst_mac[5], how);
		}
		g->ntmpl = a->sizes.sz_n;
		g->tmpl = calloc(g->ntmpl, sizeof(*g->tmpl));
		if (!g->tmpl)
			return xm_ex_error("out of memory");
		for (uint32_t i = 0; i < g->ntmpl; i++) {
			g->tmpl[i] = malloc(a->sizes.sz_sizes[i]);
			if (!g->tmpl[i])
				return xm_ex_error("out of memory");
			rc = pg_tmpl_build(s, a->sizes.sz_sizes[i], g->tmpl[i],
					   a->sizes.sz_sizes[i], &g->ly);
			if (rc)
				return xm_ex_error("cannot build a %u-byte "
					"frame: %s", a->sizes.sz_sizes[i],
					strerror(-rc));
		}
		l2max = a->sizes.sz_max;
	}
	/* the frame must fit the interface: MTU + Ethernet header (+ tag) */
	if (a->engine == PG_ENGINE_AFXDP &&
	    l2max > mtu + XM_PKT_ETH_HLEN + XM_PKT_VLAN_HLEN)
		return xm_ex_usage_error("%u-byte frames do not fit the MTU of "
			"%s (%u)", l2max, a->ifname, mtu);
	g->chunk = l2max > XM_MCLBYTES ? XM_MJUMPAGESIZE : XM_MCLBYTES;
	return 0;
}

/* The UMEM: every pool, every RX ring, with slack for caches. */
static int pg_umem_create(struct pg *g)
{
	const struct pg_args *a = g->a;
	uint64_t frames = 0, segs, rxq = 0, txq = 0, mbufs;
	bool fixed;

	if (a->cmd != PG_CMD_RX && a->engine == PG_ENGINE_AFXDP) {
		txq = a->nqueues ? (uint64_t)a->nqueues : 1;
		segs = g->stamped ?
		       (a->sizes.sz_max + g->chunk - 1) / g->chunk :
		       (g->pcap.pc_max_len + g->chunk - 1) / g->chunk;
		frames += txq * pg_tx_pool_size(g, &fixed) * segs;
	}
	if (a->cmd == PG_CMD_RX || a->rx_ifname) {
		const char *rif = a->cmd == PG_CMD_RX ? a->ifname : a->rx_ifname;
		int nq = a->cmd == PG_CMD_RX ? a->nqueues : a->nrx_queues;

		if (nq == 0) {
			nq = xm_ex_if_rx_queues(rif);
			if (nq <= 0)
				nq = 1;
		}
		rxq = (uint64_t)nq;
		/* fill ring (2x RX) + RX ring + bursts in hand */
		frames += rxq * (3 * PG_RX_RING + PG_BURST_MAX);
	}
	/* copy frames for the port, caches (two buckets per thread), the
	 * default reserve (1/32, at most 256) */
	frames += (txq + rxq + 1) * 256 + 1024;
	frames += frames / 31 + 256;
	mbufs = frames + txq * PG_TX_RING * 2 + 4096;
	XM_OPTS(xm_umem_opts, uo,
		.chunk_size = g->chunk,
		.nmbclusters = g->chunk == XM_MCLBYTES ? (uint32_t)frames : 1024,
		.nmbjumbop = g->chunk == XM_MCLBYTES ? 64 : (uint32_t)frames,
		.nmbjumbo9 = 16,
		.nmbjumbo16 = 16,
		.nmbufs = (uint32_t)(mbufs + frames + 2048));
	g->u = xm_umem_create(&uo);
	if (!g->u)
		return xm_ex_error("cannot create the UMEM (%llu frames of %u "
				   "bytes): %s", (unsigned long long)frames,
				   g->chunk, strerror(errno));
	return 0;
}

static int pg_ports_open(struct pg *g)
{
	const struct pg_args *a = g->a;
	static const uint32_t q0 = 0;

	if (a->cmd != PG_CMD_RX && a->engine == PG_ENGINE_AFXDP) {
		XM_OPTS(xm_port_opts, po,
			.queues = a->nqueues ? a->queues : &q0,
			.nqueues = a->nqueues ? (uint32_t)a->nqueues : 1,
			.mode = a->mode,
			.tx_size = PG_TX_RING,
			.comp_size = PG_TX_RING,
			.port_index = 0,
			.flags = XM_PORT_F_TX_ONLY,
			.tx_budget = a->tx_budget);
		g->txp = xm_port_open(g->u, a->ifname, &po);
		if (!g->txp)
			return xm_ex_error("cannot open an AF_XDP port on %s: %s",
					   a->ifname, strerror(errno));
		snprintf(g->tx_mode, sizeof(g->tx_mode), "%s",
			 xm_port_mode_name(xm_port_mode(g->txp)));
		g->tx_budget = xm_port_tx_budget(g->txp);
	} else if (a->cmd != PG_CMD_RX) {
		snprintf(g->tx_mode, sizeof(g->tx_mode), "live");
	}
	if (a->cmd == PG_CMD_RX || a->rx_ifname) {
		const char *rif = a->cmd == PG_CMD_RX ? a->ifname : a->rx_ifname;
		int nq = a->cmd == PG_CMD_RX ? a->nqueues : a->nrx_queues;

		XM_OPTS(xm_port_opts, po,
			.queues = nq ? (a->cmd == PG_CMD_RX ? a->queues :
					a->rx_queues) : NULL,
			.nqueues = (uint32_t)nq,
			.mode = a->mode,
			.rx_size = PG_RX_RING,
			.fill_size = 2 * PG_RX_RING,
			.port_index = 1,
			.flags = XM_PORT_F_RX_ONLY);
		g->rxp = xm_port_open(g->u, rif, &po);
		if (!g->rxp)
			return xm_ex_error("cannot open an AF_XDP port on %s: %s",
					   rif, strerror(errno));
		snprintf(g->rx_mode, sizeof(g->rx_mode), "%s",
			 xm_port_mode_name(xm_port_mode(g->rxp)));
	}
	return 0;
}

/* --------------------------------------------------------------- run */

static void pg_sum_tx(const struct pg *g, uint64_t *sent, uint64_t *bytes)
{
	*sent = *bytes = 0;
	for (unsigned int i = 0; i < g->ntxq; i++) {
		*sent += atomic_load_explicit(&g->txq[i].sent,
					      memory_order_relaxed);
		*bytes += atomic_load_explicit(&g->txq[i].bytes,
					       memory_order_relaxed);
	}
}

static void pg_sum_rx(const struct pg *g, uint64_t *rx, uint64_t *bytes,
		      uint64_t *lost, uint64_t *last_ns)
{
	*rx = *bytes = *lost = *last_ns = 0;
	for (unsigned int i = 0; i < g->nrxq; i++) {
		uint64_t t = atomic_load_explicit(&g->rxq[i].last_ns,
						  memory_order_relaxed);

		*rx += atomic_load_explicit(&g->rxq[i].rx,
					    memory_order_relaxed);
		*bytes += atomic_load_explicit(&g->rxq[i].bytes,
					       memory_order_relaxed);
		*lost += atomic_load_explicit(&g->rxq[i].lost,
					      memory_order_relaxed);
		if (t > *last_ns)
			*last_ns = t;
	}
}

void pg_result_free(struct pg_result *r)
{
	if (r->meter) {
		pg_meter_free(r->meter);
		free(r->meter);
	}
	free(r->sizes);
	memset(r, 0, sizeof(*r));
}

/* Splits total over n queues: queue i gets its share of the remainder. */
static uint64_t pg_share(uint64_t total, unsigned int n, unsigned int i)
{
	return total / n + (i < total % n ? 1 : 0);
}

/* The merged meter has room for every queue's streams: none dropped. */
static uint32_t pg_merged_streams(const struct pg *g)
{
	if (g->nrxq == 0)
		return 1;
	if (g->nrxq >= PG_METER_STREAMS_MAX / PG_METER_STREAMS)
		return PG_METER_STREAMS_MAX;
	return g->nrxq * PG_METER_STREAMS;
}

int pg_run(struct pg *g, const struct pg_run_opts *o, struct pg_result *r)
{
	static const struct xm_ex_stat_col cols_both[] = {
		{ "tx", XM_EX_STAT_RATE }, { "", XM_EX_STAT_BITS },
		{ "rx", XM_EX_STAT_RATE }, { "", XM_EX_STAT_BITS },
		{ "lost", XM_EX_STAT_COUNT },
	};
	static const struct xm_ex_stat_col cols_rx[] = {
		{ "rx", XM_EX_STAT_RATE }, { "", XM_EX_STAT_BITS },
		{ "lost", XM_EX_STAT_COUNT },
	};
	uint16_t ids[PG_STREAMS_MAX];
	uint64_t first[PG_STREAMS_MAX], after[PG_STREAMS_MAX];
	struct xm_ex_stats stats;
	bool have_tx = g->ntxq > 0, have_rx = g->rxp != NULL;
	uint64_t t0, deadline = 0, tmin = UINT64_MAX, tmax = 0;
	int nstreams = 0, err;

	memset(r, 0, sizeof(*r));
	r->meter = calloc(1, sizeof(*r->meter));
	r->sizes = calloc(PG_SIZE_MAX + 2, sizeof(*r->sizes));
	if (!r->meter || !r->sizes ||
	    pg_meter_init(r->meter, pg_merged_streams(g)))
		return xm_ex_error("out of memory"), -ENOMEM;
	atomic_store(&g->tx_stop, false);
	atomic_store(&g->rx_stop, false);

	if (have_tx) {
		nstreams = pg_tx_streams(g, ids, first, PG_STREAMS_MAX);
		if (nstreams < 0)
			return xm_ex_error("cannot read the TX streams: %s",
					   strerror(-nstreams)), nstreams;
	}
	pg_block_signals();
	if (have_rx) {
		pg_rx_reset(g);
		/* the run knows its streams: stamps of any other id (an
		 * earlier run's, another sender's) are not this run's */
		for (unsigned int i = 0; i < g->nrxq; i++) {
			for (int s = 0; s < nstreams; s++)
				pg_meter_set_first(g->rxq[i].meter, ids[s],
						   first[s]);
			if (nstreams > 0)
				pg_meter_seal(g->rxq[i].meter);
		}
		for (unsigned int i = 0; i < g->nrxq; i++) {
			err = pthread_create(&g->rxq[i].thread, NULL,
					     pg_rx_thread, &g->rxq[i]);
			if (err) {
				r->err = -err;
				break;
			}
			g->rxq[i].started = true;
		}
	}
	for (unsigned int i = 0; have_tx && !r->err && i < g->ntxq; i++) {
		struct pg_txq *q = &g->txq[i];

		q->limit = o->count ? pg_share(o->count, g->ntxq, i) : 0;
		q->rate_bits = o->rate_bps != 0;
		q->rate = o->rate_bps ? pg_share(o->rate_bps, g->ntxq, i) :
			  o->rate_pps ? pg_share(o->rate_pps, g->ntxq, i) : 0;
		q->run_seq0 = q->seq;
		q->t_first = q->t_last = 0;
		q->spilled = 0;
		q->err = 0;
		atomic_store(&q->sent, 0);
		atomic_store(&q->bytes, 0);
		atomic_store(&q->done, false);
		if (o->count && q->limit == 0) {
			atomic_store(&q->done, true);
			continue;
		}
		err = pthread_create(&q->thread, NULL, pg_tx_thread, q);
		if (err) {
			r->err = -err;
			break;
		}
		q->started = true;
	}
	pg_unblock_signals();
	if (r->err)
		xm_ex_error("cannot start a thread: %s", strerror(-r->err));
	/* scripts wait for this line before they start sending */
	if (have_rx && g->a->cmd == PG_CMD_RX)
		fprintf(stderr, "%s: rx ready on %s, %u queue(s), mode %s\n",
			xm_ex_prog(), g->a->ifname, g->nrxq, g->rx_mode);

	t0 = xm_ex_now_ns();
	if (o->seconds > 0)
		deadline = t0 + (uint64_t)(o->seconds * 1e9);
	if (have_tx && have_rx)
		xm_ex_stats_init(&stats, cols_both, 5, 0,
				 o->stats_line ? stderr : NULL);
	else if (have_tx)
		xm_ex_stats_init(&stats, cols_both, 2, 0,
				 o->stats_line ? stderr : NULL);
	else
		xm_ex_stats_init(&stats, cols_rx, 3, 0,
				 o->stats_line ? stderr : NULL);

	while (!r->err) {
		uint64_t now = xm_ex_now_ns(), v[5], last;
		bool all_done = true;

		if (xm_ex_stopping())
			break;
		if (deadline && now >= deadline)
			break;
		if (have_tx) {
			for (unsigned int i = 0; i < g->ntxq; i++)
				if (!atomic_load_explicit(&g->txq[i].done,
							  memory_order_acquire))
					all_done = false;
			if (all_done)
				break;
		} else {
			pg_sum_rx(g, &v[0], &v[1], &v[2], &last);
			if (o->rx_count && v[0] >= o->rx_count)
				break;
			if (o->idle_s > 0 && last &&
			    now > last + (uint64_t)(o->idle_s * 1e9))
				break;
		}
		if (xm_ex_stats_due(&stats, now)) {
			if (have_tx) {
				pg_sum_tx(g, &v[0], &v[1]);
				pg_sum_rx(g, &v[2], &v[3], &v[4], &last);
			} else {
				pg_sum_rx(g, &v[0], &v[1], &v[2], &last);
			}
			xm_ex_stats_print(&stats, v, now);
		}
		usleep(deadline && deadline - now < 5000000ull ?
		       (useconds_t)((deadline - now) / 1000) + 1 : 5000);
	}

	atomic_store(&g->tx_stop, true);
	for (unsigned int i = 0; i < g->ntxq; i++) {
		struct pg_txq *q = &g->txq[i];

		if (!q->started)
			continue;
		pthread_join(q->thread, NULL);
		q->started = false;
		if (q->err && !r->err)
			r->err = q->err;
		if (q->t_first && q->t_first < tmin)
			tmin = q->t_first;
		if (q->t_last > tmax)
			tmax = q->t_last;
		r->rate_spilled += q->spilled;
	}
	if (r->rate_spilled && !g->a->quiet)
		fprintf(stderr, "%s: the sender fell behind the rate by %llu %s "
			"(late by more than the bucket: CPU busy, or the rate "
			"above what it can send)\n", xm_ex_prog(),
			(unsigned long long)r->rate_spilled,
			o->rate_bps ? "bits" : "packets");
	pg_sum_tx(g, &r->sent, &r->tx_bytes);
	r->tx_seconds = tmax > tmin ? (double)(tmax - tmin) / 1e9 : 0;

	if (have_rx && have_tx) {
		/* late packets: until everything sent arrived, or nothing
		 * came for 100 ms, or the drain time is up */
		uint64_t end = xm_ex_now_ns() + (uint64_t)(g->a->drain_s * 1e9);
		uint64_t prev = UINT64_MAX, quiet_since = xm_ex_now_ns();

		while (xm_ex_now_ns() < end && !xm_ex_stopping()) {
			uint64_t rx, b, l, last, now = xm_ex_now_ns();

			pg_sum_rx(g, &rx, &b, &l, &last);
			if (rx >= r->sent)
				break;
			if (rx != prev) {
				prev = rx;
				quiet_since = now;
			} else if (now - quiet_since > 100000000ull) {
				break;
			}
			usleep(2000);
		}
	}
	atomic_store(&g->rx_stop, true);
	for (unsigned int i = 0; i < g->nrxq; i++) {
		struct pg_rxq *q = &g->rxq[i];

		if (!q->started)
			continue;
		pthread_join(q->thread, NULL);
		q->started = false;
		if (q->err && !r->err)
			r->err = q->err;
	}
	r->seconds = (double)(xm_ex_now_ns() - t0) / 1e9;

	if (have_rx) {
		struct pg_tuples all;
		bool have_all = false;

		if (!pg_tuples_init(&all))
			have_all = true;
		for (unsigned int i = 0; i < g->nrxq; i++) {
			struct pg_rxq *q = &g->rxq[i];

			if (pg_meter_merge(r->meter, q->meter))
				r->err = -ENOMEM;
			for (unsigned int s = 0; s < PG_SIZE_MAX + 2; s++)
				r->sizes[s] += q->sizes[s];
			r->rx_packets += atomic_load(&q->rx);
			r->rx_bytes += atomic_load(&q->bytes);
			r->tuples_capped |= q->tuples.tp_full;
			for (uint32_t k = 0; have_all && k <= q->tuples.tp_mask;
			     k++)
				if (q->tuples.tp_slot[k])
					pg_tuples_insert(&all,
						q->tuples.tp_slot[k]);
			if (q->clock == 1)
				r->clock = "xdp";
			else if (q->clock == 2 && !r->clock)
				r->clock = "user";
		}
		if (!r->clock)
			r->clock = "none";
		r->have_rx_port = xm_port_stats(g->rxp, &r->rx_port) == 0;
		if (have_all) {
			r->tuples = all.tp_n;
			r->tuples_capped |= all.tp_full;
			pg_tuples_free(&all);
		}
		/* one process holds both ends: the tail counts too */
		if (have_tx && nstreams > 0) {
			int n = pg_tx_streams(g, ids, after, PG_STREAMS_MAX);

			for (int s = 0; s < n && s < nstreams; s++)
				pg_meter_set_sent(r->meter, ids[s],
						  after[s] - first[s]);
		}
	}
	return r->err;
}

/* ----------------------------------------------------------- summary */

static double pg_rate_of(uint64_t n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0;
}

/* Receive rate over the arrivals: (n - 1) intervals between first and
 * last. */
static double pg_rx_pps(const struct pg_result *r)
{
	const struct pg_meter *m = r->meter;
	double span = (double)(m->m_last_ns - m->m_first_ns) / 1e9;

	if (m->m_received < 2 || span <= 0)
		return 0;
	return (double)(m->m_received - 1) / span;
}

static double pg_rx_bps(const struct pg_result *r)
{
	const struct pg_meter *m = r->meter;
	double span = (double)(m->m_last_ns - m->m_first_ns) / 1e9;

	if (m->m_received < 2 || span <= 0)
		return 0;
	/* bytes of n - 1 packets over n - 1 intervals */
	return (double)m->m_bytes * 8 * (double)(m->m_received - 1) /
	       (double)m->m_received / span;
}

static void json_latency(struct xm_ex_json *j, const struct pg_hist *h)
{
	xm_ex_json_object(j, "latency_ns");
	xm_ex_json_u64(j, "count", h->h_n);
	xm_ex_json_u64(j, "min", h->h_n ? h->h_min : 0);
	xm_ex_json_double(j, "avg", pg_hist_mean(h));
	xm_ex_json_u64(j, "max", h->h_max);
	xm_ex_json_u64(j, "p50", pg_hist_quantile(h, 0.50));
	xm_ex_json_u64(j, "p99", pg_hist_quantile(h, 0.99));
	xm_ex_json_u64(j, "p999", pg_hist_quantile(h, 0.999));
	xm_ex_json_close(j);
}

static void json_tx(struct xm_ex_json *j, const struct pg *g,
		    const struct pg_result *r)
{
	xm_ex_json_u64(j, "sent", r->sent);
	xm_ex_json_double(j, "tx_pps", pg_rate_of(r->sent, r->tx_seconds));
	xm_ex_json_double(j, "tx_bps",
			  pg_rate_of(r->tx_bytes * 8, r->tx_seconds));
	xm_ex_json_u64(j, "tx_bytes", r->tx_bytes);
	/* rate units (packets, or bits with -b) the limiter could not send
	 * because the sender was late: 0 when the rate was kept */
	xm_ex_json_u64(j, "rate_spilled", r->rate_spilled);
	xm_ex_json_double(j, "tx_seconds", r->tx_seconds);
	xm_ex_json_str(j, "engine", g->a->engine == PG_ENGINE_LIVE ? "live" :
		       "afxdp");
	xm_ex_json_str(j, "tx_mode", g->tx_mode);
	if (g->a->engine == PG_ENGINE_AFXDP)
		xm_ex_json_u64(j, "tx_budget", g->tx_budget);
	xm_ex_json_u64(j, "tx_queues", g->ntxq);
	xm_ex_json_array(j, "tx_queue");
	for (unsigned int i = 0; i < g->ntxq; i++) {
		const struct pg_txq *q = &g->txq[i];

		xm_ex_json_object(j, NULL);
		xm_ex_json_u64(j, "queue", i);
		if (!g->live)
			xm_ex_json_u64(j, "stream", q->stream);
		xm_ex_json_u64(j, "sent", atomic_load(&q->sent));
		xm_ex_json_u64(j, "pool", q->npool);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
}

static void json_rx(struct xm_ex_json *j, const struct pg *g,
		    const struct pg_result *r)
{
	struct pg_stream_result t;
	const struct pg_meter *m = r->meter;

	pg_meter_total(m, &t);
	xm_ex_json_u64(j, "received", t.received);
	xm_ex_json_u64(j, "lost", t.lost);
	xm_ex_json_u64(j, "reordered", t.reordered);
	xm_ex_json_u64(j, "duplicated", t.duplicated);
	xm_ex_json_double(j, "rx_pps", pg_rx_pps(r));
	xm_ex_json_double(j, "rx_bps", pg_rx_bps(r));
	json_latency(j, &m->m_lat);
	xm_ex_json_u64(j, "rx_packets", r->rx_packets);
	xm_ex_json_u64(j, "rx_bytes", r->rx_bytes);
	xm_ex_json_u64(j, "unstamped", m->m_unstamped);
	xm_ex_json_u64(j, "stale", m->m_stale);
	/* stamped packets of stream ids the run did not expect, or past
	 * the table (PG_METER_STREAMS per queue): in no count above */
	xm_ex_json_u64(j, "stream_overflow", m->m_overflow);
	xm_ex_json_u64(j, "flows", r->tuples);
	xm_ex_json_bool(j, "flows_capped", r->tuples_capped);
	xm_ex_json_str(j, "rx_clock", r->clock ? r->clock : "none");
	if (r->have_rx_port) {
		/* where packets the meter calls lost may have gone */
		xm_ex_json_object(j, "rx_port");
		xm_ex_json_u64(j, "rx_dropped", r->rx_port.rx_dropped);
		xm_ex_json_u64(j, "rx_ring_full", r->rx_port.rx_ring_full);
		xm_ex_json_u64(j, "rx_fill_ring_empty_descs",
			       r->rx_port.rx_fill_ring_empty_descs);
		xm_ex_json_u64(j, "fill_starved", r->rx_port.fill_starved);
		xm_ex_json_u64(j, "xdp_seen", r->rx_port.xdp_seen);
		xm_ex_json_u64(j, "xdp_redirected", r->rx_port.xdp_redirected);
		xm_ex_json_close(j);
	}
	xm_ex_json_str(j, "rx_mode", g->rx_mode);
	xm_ex_json_u64(j, "rx_queues", g->nrxq);
	xm_ex_json_array(j, "streams");
	for (unsigned int s = 0; s < PG_STREAMS; s++) {
		struct pg_stream_result sr;
		const struct pg_stream *ps = pg_meter_find(m, (uint16_t)s);

		if (!ps || (!ps->s_received && (ps->s_sent == UINT64_MAX ||
						 ps->s_sent == 0)))
			continue;
		pg_meter_stream(m, (uint16_t)s, &sr);
		xm_ex_json_object(j, NULL);
		xm_ex_json_u64(j, "stream", s);
		xm_ex_json_u64(j, "received", sr.received);
		xm_ex_json_u64(j, "lost", sr.lost);
		xm_ex_json_u64(j, "reordered", sr.reordered);
		xm_ex_json_u64(j, "duplicated", sr.duplicated);
		if (ps->s_sent != UINT64_MAX)
			xm_ex_json_u64(j, "sent", ps->s_sent);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
	xm_ex_json_array(j, "sizes");
	for (unsigned int s = 0; s < PG_SIZE_MAX + 2; s++) {
		if (!r->sizes[s])
			continue;
		xm_ex_json_object(j, NULL);
		if (s <= PG_SIZE_MAX)
			xm_ex_json_u64(j, "size", s);
		else
			xm_ex_json_str(j, "size", "larger");
		xm_ex_json_u64(j, "count", r->sizes[s]);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
}

static void text_rx(const struct pg_result *r)
{
	struct pg_stream_result t;
	const struct pg_hist *h = &r->meter->m_lat;

	pg_meter_total(r->meter, &t);
	printf("  received %llu (unstamped %llu), lost %llu, reordered %llu, "
	       "duplicated %llu, %llu flows\n",
	       (unsigned long long)t.received,
	       (unsigned long long)r->meter->m_unstamped,
	       (unsigned long long)t.lost, (unsigned long long)t.reordered,
	       (unsigned long long)t.duplicated,
	       (unsigned long long)r->tuples);
	if (r->meter->m_overflow)
		printf("  %llu stamped packets of unexpected stream ids not "
		       "counted (stream table full or sealed)\n",
		       (unsigned long long)r->meter->m_overflow);
	printf("  rx %.0f pps, %.0f bps\n", pg_rx_pps(r), pg_rx_bps(r));
	if (h->h_n)
		printf("  latency ns (%s clock): min %llu avg %.0f max %llu "
		       "p50 %llu p99 %llu p99.9 %llu\n", r->clock,
		       (unsigned long long)h->h_min, pg_hist_mean(h),
		       (unsigned long long)h->h_max,
		       (unsigned long long)pg_hist_quantile(h, 0.5),
		       (unsigned long long)pg_hist_quantile(h, 0.99),
		       (unsigned long long)pg_hist_quantile(h, 0.999));
}

static void print_summary(const struct pg *g, const struct pg_result *r,
			  int audit_err, uint64_t held)
{
	const struct pg_args *a = g->a;
	bool tx = a->cmd == PG_CMD_TX;
	bool rx = a->cmd == PG_CMD_RX || a->rx_ifname;

	if (a->json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, stdout);
		xm_ex_json_str(&j, "program", xm_ex_prog());
		xm_ex_json_str(&j, "command", tx ? "tx" : "rx");
		xm_ex_json_str(&j, "iface", a->ifname);
		if (a->rx_ifname)
			xm_ex_json_str(&j, "rx_iface", a->rx_ifname);
		xm_ex_json_double(&j, "duration_s", r->seconds);
		if (tx)
			json_tx(&j, g, r);
		if (rx)
			json_rx(&j, g, r);
		xm_ex_json_object(&j, "audit");
		xm_ex_json_bool(&j, "ok", audit_err == 0 && held == 0);
		xm_ex_json_u64(&j, "held", held);
		xm_ex_json_close(&j);
		if (xm_ex_json_end(&j))
			xm_ex_error("could not write the JSON summary");
		return;
	}
	if (tx)
		printf("%s: tx on %s (%s, %u queue(s)): sent %llu packets in "
		       "%.3f s: %.0f pps, %.0f bps\n", xm_ex_prog(), a->ifname,
		       g->tx_mode, g->ntxq, (unsigned long long)r->sent,
		       r->tx_seconds, pg_rate_of(r->sent, r->tx_seconds),
		       pg_rate_of(r->tx_bytes * 8, r->tx_seconds));
	if (rx) {
		printf("%s: rx on %s (%s, %u queue(s)), %.3f s\n", xm_ex_prog(),
		       a->rx_ifname ? a->rx_ifname : a->ifname, g->rx_mode,
		       g->nrxq, r->seconds);
		text_rx(r);
	}
	printf("  audit: %s, %llu frames held after close\n",
	       audit_err == 0 && held == 0 ? "ok" : "FAILED",
	       (unsigned long long)held);
}

/* ------------------------------------------------------------ rfc2544 */

struct pg_trial {
	double rate;			/* offered, pps (0: unlimited) */
	uint64_t sent;
	uint64_t lost;
	uint64_t rx_ring_full;		/* of which the receiver's ring */
	double tx_pps;			/* achieved */
	double loss_pct;
	bool pass;
};

static int pg_trial_run(struct pg *g, double rate, struct pg_trial *t,
			struct pg_hist *lat)
{
	struct pg_run_opts o = {
		.seconds = g->a->trial_s,
		.rate_pps = (uint64_t)llround(rate),
		.stats_line = !g->a->quiet,
	};
	struct pg_result r;
	struct pg_stream_result tot;
	int err;

	err = pg_run(g, &o, &r);
	if (err) {
		pg_result_free(&r);
		return err;
	}
	pg_meter_total(r.meter, &tot);
	memset(t, 0, sizeof(*t));
	t->rate = rate;
	t->sent = r.sent;
	t->lost = tot.lost;
	t->tx_pps = pg_rate_of(r.sent, r.tx_seconds);
	t->loss_pct = r.sent ? 100.0 * (double)tot.lost / (double)r.sent : 100;
	t->rx_ring_full = r.have_rx_port ? r.rx_port.rx_ring_full : 0;
	t->pass = r.sent > 0 && t->loss_pct <= g->a->tolerance_pct;
	if (lat)
		*lat = r.meter->m_lat;
	if (!g->a->quiet)
		fprintf(stderr, "%s: trial at %.0f pps: sent %llu (%.0f pps), "
			"lost %llu (%.4f%%): %s\n", xm_ex_prog(), rate,
			(unsigned long long)t->sent, t->tx_pps,
			(unsigned long long)t->lost, t->loss_pct,
			t->pass ? "pass" : "fail");
	pg_result_free(&r);
	return 0;
}

static int pg_rfc2544(struct pg *g)
{
	const struct pg_args *a = g->a;
	struct pg_trial trials[65], *t;
	struct pg_hist *lat = malloc(sizeof(*lat));
	unsigned int nt = 0;
	double lo = 0, hi, best = 0, frame;
	int err;

	if (!lat)
		return xm_ex_error("out of memory");
	pg_hist_init(lat);
	frame = (double)a->sizes.sz_cycle_bytes / a->sizes.sz_len;
	/* the peak: as fast as the sender goes */
	err = pg_trial_run(g, 0, &trials[nt], NULL);
	if (err)
		goto out;
	t = &trials[nt++];
	hi = t->tx_pps;
	if (t->pass) {
		best = t->tx_pps;
	} else {
		while (nt < a->max_trials && !xm_ex_stopping() &&
		       hi - lo > hi * a->resolution_pct / 100.0) {
			double mid = (lo + hi) / 2;

			err = pg_trial_run(g, mid, &trials[nt], NULL);
			if (err)
				goto out;
			if (trials[nt].pass)
				lo = best = mid;
			else
				hi = mid;
			nt++;
		}
	}
	/* latency at the throughput rate */
	if (best > 0 && !xm_ex_stopping()) {
		err = pg_trial_run(g, trials[0].pass ? 0 : best, &trials[nt],
				   lat);
		if (err)
			goto out;
		nt++;
	}
	if (a->json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, stdout);
		xm_ex_json_str(&j, "program", xm_ex_prog());
		xm_ex_json_str(&j, "command", "rfc2544");
		xm_ex_json_str(&j, "iface", a->ifname);
		xm_ex_json_str(&j, "rx_iface", a->rx_ifname);
		xm_ex_json_double(&j, "frame_bytes", frame);
		xm_ex_json_double(&j, "peak_pps", trials[0].tx_pps);
		xm_ex_json_double(&j, "throughput_pps", best);
		xm_ex_json_double(&j, "throughput_bps", best * frame * 8);
		xm_ex_json_double(&j, "loss_tolerance_pct", a->tolerance_pct);
		{
			uint64_t full = 0;

			/* losses that were our own receiver's, not the
			 * device's: a starved reader (all trials) */
			for (unsigned int i = 0; i < nt; i++)
				full += trials[i].rx_ring_full;
			xm_ex_json_u64(&j, "rx_ring_full", full);
		}
		xm_ex_json_array(&j, "trials");
		for (unsigned int i = 0; i < nt; i++) {
			xm_ex_json_object(&j, NULL);
			xm_ex_json_double(&j, "rate_pps", trials[i].rate);
			xm_ex_json_double(&j, "tx_pps", trials[i].tx_pps);
			xm_ex_json_u64(&j, "sent", trials[i].sent);
			xm_ex_json_u64(&j, "lost", trials[i].lost);
			xm_ex_json_double(&j, "loss_pct", trials[i].loss_pct);
			xm_ex_json_u64(&j, "rx_ring_full",
				       trials[i].rx_ring_full);
			xm_ex_json_bool(&j, "pass", trials[i].pass);
			xm_ex_json_close(&j);
		}
		xm_ex_json_close(&j);
		json_latency(&j, lat);
		if (xm_ex_json_end(&j))
			xm_ex_error("could not write the JSON summary");
	} else {
		printf("%s: rfc2544 %s -> %s, %.0f-byte frames, %u trials\n",
		       xm_ex_prog(), a->ifname, a->rx_ifname, frame, nt);
		printf("  peak %.0f pps; throughput (loss <= %g%%) %.0f pps, "
		       "%.0f bps\n", trials[0].tx_pps, a->tolerance_pct, best,
		       best * frame * 8);
		if (lat->h_n)
			printf("  latency at throughput, ns: min %llu avg %.0f "
			       "max %llu p50 %llu p99 %llu p99.9 %llu\n",
			       (unsigned long long)lat->h_min,
			       pg_hist_mean(lat),
			       (unsigned long long)lat->h_max,
			       (unsigned long long)pg_hist_quantile(lat, 0.5),
			       (unsigned long long)pg_hist_quantile(lat, 0.99),
			       (unsigned long long)pg_hist_quantile(lat,
								    0.999));
	}
out:
	free(lat);
	return err ? XM_EX_RUNTIME : XM_EX_OK;
}

/* -------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	struct pg_args a;
	struct pg g;
	struct pg_result r = {};
	uint64_t held = 0;
	int ret, err, audit_err = 0;
	bool ran = false;

	xm_ex_set_prog(argv[0]);
	ret = parse_args(argc, argv, &a);
	if (ret >= 0) {
		pg_sizes_free(&a.sizes);
		return ret;
	}
	xm_ex_set_print(a.verbose, false);
	err = xm_ex_signals_install();
	if (err)
		return xm_ex_error("cannot install signal handlers: %s",
				   strerror(-err));
	memset(&g, 0, sizeof(g));
	g.a = &a;
	g.ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (g.ncpus <= 0)
		g.ncpus = 1;

	if (a.cmd != PG_CMD_RX) {
		ret = pg_traffic_setup(&g);
		if (ret)
			goto out;
	} else {
		uint32_t mtu = 1500;

		pg_if_info(a.ifname, NULL, &mtu, NULL);
		g.chunk = mtu + XM_PKT_ETH_HLEN > 3000 ? XM_MJUMPAGESIZE :
			  XM_MCLBYTES;
	}
	ret = pg_umem_create(&g);
	if (ret)
		goto out;
	ret = pg_ports_open(&g);
	if (ret)
		goto out_ports;
	if (a.cmd != PG_CMD_RX) {
		ret = pg_tx_setup(&g) ? XM_EX_RUNTIME : 0;
		if (ret)
			goto out_tx;
	}
	if (g.rxp) {
		ret = pg_rx_setup(&g) ? XM_EX_RUNTIME : 0;
		if (ret)
			goto out_rx;
	}
	if (!a.quiet && a.cmd != PG_CMD_RX)
		fprintf(stderr, "%s: %s on %s: %s engine%s%s, %u queue(s)%s%s\n",
			xm_ex_prog(), a.cmd == PG_CMD_TX ? "tx" : "rfc2544",
			a.ifname, a.engine == PG_ENGINE_LIVE ? "live" : "afxdp",
			g.txp ? ", mode " : "", g.txp ? g.tx_mode : "", g.ntxq,
			g.rxp ? ", receiving on " : "",
			g.rxp ? a.rx_ifname : "");

	if (a.cmd == PG_CMD_RFC2544) {
		ret = pg_rfc2544(&g);
	} else {
		struct pg_run_opts o = {
			.count = a.cmd == PG_CMD_TX ? a.count : 0,
			.seconds = a.seconds,
			.rate_pps = a.rate_pps,
			.rate_bps = a.rate_bps,
			.rx_count = a.cmd == PG_CMD_RX ? a.count : 0,
			.idle_s = a.idle_s,
			.stats_line = !a.quiet,
		};

		err = pg_run(&g, &o, &r);
		ran = true;
		ret = err ? XM_EX_RUNTIME : XM_EX_OK;
	}

out_rx:
out_tx:
out_ports:
	/* the ports first: closing reaps what is still in flight, whose
	 * release calls back into the pools */
	xm_port_close(g.txp);
	xm_port_close(g.rxp);
	g.txp = g.rxp = NULL;
	pg_tx_release(&g);
	if (g.u) {
		xm_umem_cache_flush(g.u);
		audit_err = xm_umem_audit(g.u, &held);
	}
	if (ran)
		print_summary(&g, &r, audit_err, held);
	if (g.u && (audit_err || held)) {
		xm_ex_error("frame audit failed: %llu frames not home",
			    (unsigned long long)held);
		ret = XM_EX_RUNTIME;
	}
	pg_rx_teardown(&g);
	pg_tx_teardown(&g);
	pg_result_free(&r);
	xm_umem_destroy(g.u);
out:
	if (g.tmpl && g.stamped)
		for (uint32_t i = 0; i < g.ntmpl; i++)
			free(g.tmpl[i]);
	free(g.tmpl);
	pg_flows_free(&g.flows);
	pg_pcap_free(&g.pcap);
	pg_sizes_free(&a.sizes);
	return ret;
}
