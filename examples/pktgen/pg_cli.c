// SPDX-License-Identifier: BSD-2-Clause
/*
 * pg_cli.c - xmbuf-pktgen's command line (pg_cli.h): the usage text, the
 * option table, and the checks of each option and of the options
 * together.
 *
 * The options fall in three groups, each parsed by a function of its own
 * (a group's function returns PG_OPT_OTHER for an option not its own):
 *   run     where and how threads run: -i -q -c -n -d -m -j -Q -v,
 *           --burst --pool --tx-budget --tx-ref
 *   frames  what is sent: MACs, addresses, ports, protocol, VLAN, sizes,
 *           flows, seed
 *   send    how it is sent and measured: rates, engine, pcap, stream,
 *           the receiving end, drain, idle and the rfc2544 search
 * Options that only make sense when sending are refused by rx before
 * any group sees them; what needs several options (families, exclusions,
 * the size schedule) is checked once they are all read.
 *
 * KPI (pg_cli.h): pg_cli_parse, pg_cli_free.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xm_example.h"

#include "pg_cli.h"
#include "pg_meter.h"

#define PG_OPT_DONE		(-1)	/* handled: go on */
#define PG_OPT_OTHER		(-2)	/* not this group's option */

/* ------------------------------------------------------------- usage */

static void pg_cli_usage(FILE *out)
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

/* "LO" or "LO-HI" copied to buf and cut at the dash: *hi is NULL or HI.
 * @return false when s does not fit buf. */
static bool split_range(const char *s, char *buf, size_t len, char **hi)
{
	if (strlen(s) >= len)
		return false;
	snprintf(buf, len, "%s", s);
	*hi = strchr(buf, '-');
	if (*hi)
		*(*hi)++ = '\0';
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

	if (!split_range(s, buf, sizeof(buf), &dash))
		return false;
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

	if (!split_range(s, buf, sizeof(buf), &dash))
		return false;
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


/* What the checks of the options together need beyond struct pg_args. */
struct pg_cli {
	const char *size_arg;		/* -s, as given */
	const char *imix_arg;		/* --imix=LIST, NULL: the default */
	bool imix;
	bool have_src;
	bool have_dst;
	int src_fam;
	int dst_fam;
};

/* "invalid WHAT 'ARG' (LO..HI)" unless arg is a number in lo..hi. */
static int opt_u32(const char *arg, uint32_t lo, uint32_t hi, uint32_t *out,
		   const char *what)
{
	if (!xm_ex_parse_u32(arg, lo, hi, out))
		return xm_ex_usage_error("invalid %s '%s' (%u..%u)", what, arg,
					 lo, hi);
	return PG_OPT_DONE;
}

/* "invalid WHAT 'ARG'" unless arg is a time of at most max seconds. */
static int opt_seconds(const char *arg, double max, double *out,
		       const char *what)
{
	if (!xm_ex_parse_seconds(arg, max, out))
		return xm_ex_usage_error("invalid %s '%s'", what, arg);
	return PG_OPT_DONE;
}

/* One of two words: *out is the index of arg in names. */
static int opt_choice(const char *arg, const char *const names[2],
		      const char *what, int *out)
{
	for (int i = 0; i < 2; i++) {
		if (!strcmp(arg, names[i])) {
			*out = i;
			return PG_OPT_DONE;
		}
	}
	return xm_ex_usage_error("invalid %s '%s' (%s, %s)", what, arg,
				 names[0], names[1]);
}

static int opt_mac(const char *arg, uint8_t mac[6], bool *have)
{
	if (!xm_ex_parse_mac(arg, mac))
		return xm_ex_usage_error("invalid MAC '%s'", arg);
	*have = true;
	return PG_OPT_DONE;
}

static int opt_addr(const char *arg, const char *what, int *family,
		    union xm_pkt_addr *lo, uint32_t *count, bool *have)
{
	if (!parse_addr_range(arg, family, lo, count))
		return xm_ex_usage_error("invalid %s address or range '%s'",
					 what, arg);
	*have = true;
	return PG_OPT_DONE;
}

static int opt_ports(const char *arg, const char *what, uint16_t *lo,
		     uint32_t *count)
{
	if (!parse_port_range(arg, lo, count))
		return xm_ex_usage_error("invalid %s port or range '%s'", what,
					 arg);
	return PG_OPT_DONE;
}

static int opt_rate(const char *arg, uint64_t *out, const char *what,
		    const char *unit)
{
	if (!parse_rate(arg, out))
		return xm_ex_usage_error("invalid %s '%s': a positive number "
					 "of %s per second", what, arg, unit);
	return PG_OPT_DONE;
}

/* Where and how the threads run. */
static int opt_run(int opt, const char *arg, struct pg_args *a)
{
	static const char *const refs[2] = { "own", "copym" };
	int i = 0;

	switch (opt) {
	case 'i':
		a->ifname = arg;
		return PG_OPT_DONE;
	case 'q':
		return xm_ex_opt_queues(arg, a->queues, &a->nqueues) ?
		       XM_EX_USAGE : PG_OPT_DONE;
	case 'c':
		return xm_ex_opt_cpus(arg, a->cpus, PG_CPUS_MAX, &a->ncpus) ?
		       XM_EX_USAGE : PG_OPT_DONE;
	case 'n':
		if (!xm_ex_parse_u64(arg, 1, UINT64_MAX / 2, &a->count))
			return xm_ex_usage_error("invalid count '%s' (at least "
						 "1)", arg);
		return PG_OPT_DONE;
	case 'd':
		return opt_seconds(arg, PG_MAX_SECONDS, &a->seconds,
				   "duration");
	case 'm':
		return xm_ex_opt_mode(arg, &a->mode) ? XM_EX_USAGE :
		       PG_OPT_DONE;
	case 'j':
		a->json = true;
		return PG_OPT_DONE;
	case 'Q':
		a->quiet = true;
		return PG_OPT_DONE;
	case 'v':
		a->verbose = true;
		return PG_OPT_DONE;
	case OPT_BURST:
		return opt_u32(arg, 1, PG_BURST_MAX, &a->burst, "burst");
	case OPT_POOL:
		return opt_u32(arg, 256, 65536, &a->pool, "pool size");
	case OPT_TX_BUDGET:
		return opt_u32(arg, XM_PORT_TX_BUDGET_MIN, PG_TX_RING,
			       &a->tx_budget, "TX budget");
	case OPT_TX_REF:
		if (opt_choice(arg, refs, "--tx-ref", &i) != PG_OPT_DONE)
			return XM_EX_USAGE;
		a->ref = i ? PG_REF_COPYM : PG_REF_OWN;
		return PG_OPT_DONE;
	default:
		return PG_OPT_OTHER;
	}
}

/* What is sent: headers, sizes and flows. */
static int opt_frames(int opt, const char *arg, struct pg_args *a,
		      struct pg_cli *c)
{
	static const char *const protos[2] = { "udp", "tcp" };
	static const char *const orders[2] = { "step", "random" };
	uint32_t v32 = 0;
	int i = 0, rc;

	switch (opt) {
	case OPT_DST_MAC:
		return opt_mac(arg, a->dst_mac, &a->have_dst_mac);
	case OPT_SRC_MAC:
		return opt_mac(arg, a->src_mac, &a->have_src_mac);
	case OPT_SRC:
		return opt_addr(arg, "source", &c->src_fam, &a->src,
				&a->src_count, &c->have_src);
	case OPT_DST:
		return opt_addr(arg, "destination", &c->dst_fam, &a->dst,
				&a->dst_count, &c->have_dst);
	case OPT_SPORT:
		rc = opt_ports(arg, "source", &a->sport, &a->sport_count);
		a->have_sport_range = a->sport_count > 1;
		return rc;
	case OPT_DPORT:
		return opt_ports(arg, "destination", &a->dport,
				 &a->dport_count);
	case OPT_PROTO:
		if (opt_choice(arg, protos, "protocol", &i) != PG_OPT_DONE)
			return XM_EX_USAGE;
		a->proto = i ? XM_PKT_IPPROTO_TCP : XM_PKT_IPPROTO_UDP;
		return PG_OPT_DONE;
	case OPT_VLAN:
		rc = opt_u32(arg, 0, 4095, &v32, "VLAN id");
		a->vlan = (int)v32;
		return rc;
	case 's':
		c->size_arg = arg;
		return PG_OPT_DONE;
	case OPT_IMIX:
		c->imix = true;
		c->imix_arg = arg;
		return PG_OPT_DONE;
	case OPT_FLOWS:
		return opt_u32(arg, 1, PG_FLOWS_MAX, &a->flows, "flow count");
	case OPT_FLOW_ORDER:
		rc = opt_choice(arg, orders, "flow order", &i);
		a->flows_random = i == 1;
		return rc;
	case OPT_SEED:
		if (!xm_ex_parse_u64(arg, 0, UINT64_MAX, &a->seed))
			return xm_ex_usage_error("invalid seed '%s'", arg);
		return PG_OPT_DONE;
	default:
		return PG_OPT_OTHER;
	}
}

/* How it is sent and measured. */
static int opt_send(int opt, const char *arg, struct pg_args *a)
{
	static const char *const engines[2] = { "afxdp", "live" };
	uint32_t v32 = 0;
	double pct = 0;
	int i = 0, rc;

	switch (opt) {
	case 'r':
		return opt_rate(arg, &a->rate_pps, "rate", "packets");
	case 'b':
		return opt_rate(arg, &a->rate_bps, "bit rate", "bits");
	case OPT_ENGINE:
		rc = opt_choice(arg, engines, "engine", &i);
		a->engine = i ? PG_ENGINE_LIVE : PG_ENGINE_AFXDP;
		return rc;
	case OPT_PCAP:
		a->pcap = arg;
		return PG_OPT_DONE;
	case OPT_STREAM:
		if (!xm_ex_parse_u32(arg, 0, 65535, &v32))
			return xm_ex_usage_error("invalid stream id '%s'", arg);
		a->stream = (uint16_t)v32;
		return PG_OPT_DONE;
	case OPT_RX_IFACE:
		a->rx_ifname = arg;
		return PG_OPT_DONE;
	case OPT_RX_QUEUES:
		return xm_ex_opt_queues(arg, a->rx_queues, &a->nrx_queues) ?
		       XM_EX_USAGE : PG_OPT_DONE;
	case OPT_RX_CPUS:
		return xm_ex_opt_cpus(arg, a->rx_cpus, PG_CPUS_MAX,
				      &a->nrx_cpus) ? XM_EX_USAGE : PG_OPT_DONE;
	case OPT_DRAIN:
		return opt_seconds(arg, 60, &a->drain_s, "drain time");
	case OPT_IDLE:
		return opt_seconds(arg, PG_MAX_SECONDS, &a->idle_s,
				   "idle time");
	case OPT_TRIAL:
		return opt_seconds(arg, 3600, &a->trial_s, "trial time");
	case OPT_TOLERANCE:
		/* a percentage read as seconds are read: 0..100, decimals */
		if (strcmp(arg, "0") && !xm_ex_parse_seconds(arg, 100, &pct))
			return xm_ex_usage_error("invalid loss tolerance '%s' "
						 "(0..100 percent)", arg);
		a->tolerance_pct = pct;
		return PG_OPT_DONE;
	case OPT_RESOLUTION:
		if (!xm_ex_parse_seconds(arg, 50, &a->resolution_pct))
			return xm_ex_usage_error("invalid resolution '%s' "
						 "(percent of the peak)", arg);
		return PG_OPT_DONE;
	case OPT_MAX_TRIALS:
		return opt_u32(arg, 1, 64, &a->max_trials, "trial count");
	default:
		return PG_OPT_OTHER;
	}
}

/* ------------------------------------------------- options together */

/* Interfaces, ends and rates.  @return PG_OPT_DONE or the exit status. */
static int pg_cli_check_ends(const struct pg_args *a)
{
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
	return PG_OPT_DONE;
}

/* Addresses, --pcap, the size schedule and --flows alone. */
static int pg_cli_check_frames(struct pg_args *a, const struct pg_cli *c)
{
	char err[256];
	int rc;

	if (c->have_src && c->have_dst && c->src_fam != c->dst_fam)
		return xm_ex_usage_error("--src and --dst are of different "
					 "address families");
	if (c->have_src || c->have_dst) {
		a->family = c->have_src ? c->src_fam : c->dst_fam;
		if (a->family == 6 && (!c->have_src || !c->have_dst))
			return xm_ex_usage_error("IPv6 needs both --src and "
						 "--dst");
	}
	if (c->size_arg && c->imix)
		return xm_ex_usage_error("-s and --imix exclude each other");
	if (a->pcap && (c->size_arg || c->imix || a->flows || c->have_src ||
			c->have_dst || a->vlan >= 0 ||
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
		if (c->imix)
			rc = pg_parse_imix(c->imix_arg, PG_SIZE_MIN, PG_SIZE_MAX,
					   &a->sizes, err, sizeof(err));
		else
			rc = pg_parse_sizes(c->size_arg ? c->size_arg : "60",
					    PG_SIZE_MIN, PG_SIZE_MAX, &a->sizes,
					    err, sizeof(err));
		if (rc)
			return xm_ex_usage_error("%s", err);
		a->sizes_given = c->size_arg || c->imix;
	}
	/* --flows alone: that many source ports */
	if (a->flows > 1 && a->src_count == 1 && a->dst_count == 1 &&
	    a->sport_count == 1 && a->dport_count == 1) {
		if ((uint32_t)a->sport + a->flows - 1 > 65535)
			return xm_ex_usage_error("--flows %u from source port %u"
				" runs past 65535", a->flows, a->sport);
		a->sport_count = a->flows;
	}
	return PG_OPT_DONE;
}

/* ------------------------------------------------------------ parse */

static const struct option pg_cli_opts[] = {
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

static void pg_args_defaults(struct pg_args *a)
{
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
}

/* The command word.  @return PG_OPT_DONE, or the exit status. */
static int pg_cli_command(int argc, char **argv, struct pg_args *a)
{
	static const char *const cmds[] = { "tx", "rx", "rfc2544" };
	static const enum pg_cmd vals[] = { PG_CMD_TX, PG_CMD_RX,
					    PG_CMD_RFC2544 };

	if (argc < 2)
		return xm_ex_usage_error("a command is required: tx, rx or "
					 "rfc2544");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		pg_cli_usage(stdout);
		return XM_EX_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i])) {
			a->cmd = vals[i];
			return PG_OPT_DONE;
		}
	}
	return xm_ex_usage_error("unknown command '%s' (tx, rx or rfc2544)",
				 argv[1]);
}

int pg_cli_parse(int argc, char **argv, struct pg_args *a)
{
	struct pg_cli c = { .src_fam = 4, .dst_fam = 4 };
	int opt, rc;

	pg_args_defaults(a);
	rc = pg_cli_command(argc, argv, a);
	if (rc != PG_OPT_DONE)
		return rc;
	/* the options follow the command word */
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:q:c:n:d:m:s:r:b:jQvh",
				  pg_cli_opts, NULL)) != -1) {
		if (a->cmd == PG_CMD_RX && tx_only_opt(opt))
			return xm_ex_usage_error("option %s%s is for tx, not rx",
						 opt < 256 ? "-" : "--",
						 opt_name(pg_cli_opts, opt));
		if (opt == 'h') {
			pg_cli_usage(stdout);
			return XM_EX_OK;
		}
		rc = opt_run(opt, optarg, a);
		if (rc == PG_OPT_OTHER)
			rc = opt_frames(opt, optarg, a, &c);
		if (rc == PG_OPT_OTHER)
			rc = opt_send(opt, optarg, a);
		if (rc == PG_OPT_OTHER)
			return xm_ex_usage_error("invalid option");
		if (rc != PG_OPT_DONE)
			return rc;
	}
	if (optind != argc)
		return xm_ex_usage_error("unexpected argument '%s'",
					 argv[optind]);
	rc = pg_cli_check_ends(a);
	if (rc == PG_OPT_DONE)
		rc = pg_cli_check_frames(a, &c);
	return rc;
}

void pg_cli_free(struct pg_args *a)
{
	pg_sizes_free(&a->sizes);
}
