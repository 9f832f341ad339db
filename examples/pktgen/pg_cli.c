// SPDX-License-Identifier: BSD-2-Clause
/*
 * pg_cli.c - xmbuf-pktgen's command line (pg_cli.h) as an option table
 * (xm_ex_opts.h): getopt, --help, --version and --list-options come from
 * the table, the shared options (-i, -q, -c, -d, -m, --burst, -j, -Q, -v,
 * -h) from the runtime.
 *
 *   argv[1]        the command: tx, rx, rfc2544 (or --help)
 *   argv[2..]      the table, in four sections, which is also the order
 *                  of --help:
 *                    common   every command
 *                    tx       what is sent and how: refused by rx, whose
 *                             table has these entries turned into
 *                             "option X is for tx, not rx"
 *                    rx       --idle
 *                    rfc2544  the search
 *   then           the options together: interfaces, exclusions, the
 *                  address family, the size schedule
 *
 * Values that are more than a number or a word (rates with a suffix,
 * MACs, address and port ranges, --imix's optional list, a tolerance
 * that may be 0) are parsed by the table's callbacks; a callback's
 * failure prints the runtime's "invalid WHAT 'ARG' (HINT)".
 *
 * KPI (pg_cli.h): pg_cli_parse, pg_cli_free.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xm_example.h"

#include "pg_cli.h"
#include "pg_meter.h"

#define PG_STR_(x)		#x
#define PG_STR(x)		PG_STR_(x)
#define PG_OPTS_MAX		64	/* entries of the whole table */

/* What the checks of the options together need beyond struct pg_args. */
struct pg_cli {
	const char *size_arg;		/* -s, as given */
	const char *imix_arg;		/* --imix=LIST, NULL: the default */
	bool imix;
};

/* ----------------------------------------------------------- values */

/* -b's "1000", "1.5M", "10G": a positive rate. */
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

/* The table's callbacks: 0, or -1 for the runtime's "invalid WHAT". */

/* -r: every spelling of pg_rate_parse(). */
static int fn_rate(const struct xm_ex_opt *o, const char *arg)
{
	struct pg_args *a = o->dest;

	if (pg_rate_parse(arg, &a->rate))
		return -1;
	a->rate_arg = arg;
	return 0;
}

/* -b BPS: bits per second at L2, as -r BPSbps. */
static int fn_bits(const struct xm_ex_opt *o, const char *arg)
{
	struct pg_rate_spec *rs = o->dest;
	uint64_t v;

	if (!parse_rate(arg, &v) || (double)v > PG_RATE_BPS_MAX)
		return -1;
	rs->rs_unit = PG_RATE_L2;
	rs->rs_value = (double)v;
	return 0;
}

/* --pcap-speed original|topspeed|xN */
static int fn_pcap_speed(const struct xm_ex_opt *o, const char *arg)
{
	struct pg_args *a = o->dest;
	double v;
	char *end;

	if (!strcmp(arg, "original")) {
		v = 1;
	} else if (!strcmp(arg, "topspeed")) {
		v = 0;
	} else if (arg[0] == 'x' && arg[1] >= '0' && arg[1] <= '9') {
		errno = 0;
		v = strtod(arg + 1, &end);
		if (errno || *end || !(v >= 0.001 && v <= 1000))
			return -1;
	} else {
		return -1;
	}
	a->pcap_speed = v;
	a->pcap_speed_given = true;
	return 0;
}

/* --pcap-loop N (0: until -n or -d) */
static int fn_pcap_loop(const struct xm_ex_opt *o, const char *arg)
{
	struct pg_args *a = o->dest;

	if (!xm_ex_parse_u32(arg, 0, 1000000, &a->pcap_loop))
		return -1;
	a->pcap_loop_given = true;
	return 0;
}

static int fn_mac(const struct xm_ex_opt *o, const char *arg)
{
	struct pg_mac_arg *m = o->dest;

	if (!xm_ex_parse_mac(arg, m->addr))
		return -1;
	m->given = true;
	return 0;
}

static int fn_addr(const struct xm_ex_opt *o, const char *arg)
{
	struct pg_addr_arg *r = o->dest;

	if (!parse_addr_range(arg, &r->family, &r->lo, &r->count))
		return -1;
	r->given = true;
	return 0;
}

static int fn_ports(const struct xm_ex_opt *o, const char *arg)
{
	struct pg_port_arg *r = o->dest;

	return parse_port_range(arg, &r->lo, &r->count) ? 0 : -1;
}

static int fn_vlan(const struct xm_ex_opt *o, const char *arg)
{
	uint32_t v;

	if (!xm_ex_parse_u32(arg, (uint32_t)o->lo, (uint32_t)o->hi, &v))
		return -1;
	*(int *)o->dest = (int)v;
	return 0;
}

/* --imix or --imix=LIST: the list is checked with the other sizes. */
static int fn_imix(const struct xm_ex_opt *o, const char *arg)
{
	struct pg_cli *c = o->dest;

	c->imix = true;
	c->imix_arg = arg;
	return 0;
}

/* A percentage read as seconds are read (decimals, at most hi), or 0. */
static int fn_percent(const struct xm_ex_opt *o, const char *arg)
{
	double pct = 0;

	if (strcmp(arg, "0") && !xm_ex_parse_seconds(arg, (double)o->hi, &pct))
		return -1;
	*(double *)o->dest = pct;
	return 0;
}

/* rx's entry for an option of the tx section. */
static int fn_tx_only(const struct xm_ex_opt *o, const char *arg)
{
	char name[64];

	(void)arg;
	if (o->letter)
		snprintf(name, sizeof(name), "-%c", o->letter);
	else
		snprintf(name, sizeof(name), "--%s", o->name);
	return xm_ex_usage_error("option %s is for tx, not rx", name);
}

/* ------------------------------------------------------------ table */

static const struct xm_ex_enum pg_protos[] = {
	{ "udp", XM_PKT_IPPROTO_UDP, false },
	{ "tcp", XM_PKT_IPPROTO_TCP, false },
	{ NULL, 0, false },
};

static const struct xm_ex_enum pg_orders[] = {
	{ "step", 0, false },
	{ "random", 1, false },
	{ NULL, 0, false },
};

static const struct xm_ex_enum pg_engines[] = {
	{ "afxdp", PG_ENGINE_AFXDP, false },
	{ "live", PG_ENGINE_LIVE, false },
	{ NULL, 0, false },
};

static const struct xm_ex_enum pg_refs[] = {
	{ "own", PG_REF_OWN, false },
	{ "copym", PG_REF_COPYM, false },
	{ NULL, 0, false },
};

#define PG_HEADING(text)	{ .arg = XM_EX_ARG_TEXT, .help = (text) }
#define PG_RANGE		XM_EX_F_RANGE_HINT

/* Appends the n entries of e to t[*k] (PG_OPTS_MAX with the end). */
static void pg_put(struct xm_ex_opt *t, unsigned int *k,
		   const struct xm_ex_opt *e, size_t n)
{
	if (*k + n >= PG_OPTS_MAX) {
		/* a table grown past its array: a programming error */
		xm_ex_error("option table: more than %d entries", PG_OPTS_MAX);
		abort();
	}
	memcpy(&t[*k], e, n * sizeof(*e));
	*k += (unsigned int)n;
}

static void pg_opts_common(struct pg_args *a, struct xm_ex_opt *t,
			   unsigned int *k)
{
	const struct xm_ex_opt e[] = {
		PG_HEADING("Common:"),
		XM_EX_STD_REQUIRED(XM_EX_O_IFACE, 0, "interface to send on "
				   "(rx: to receive on)"),
		XM_EX_STD(XM_EX_O_QUEUES, 0, "queues, one thread each: 0, 0-3, "
			  "0,2 (tx default\n0; rx default all; live engine: "
			  "threads)"),
		XM_EX_STD_WAS(XM_EX_O_CPUS, 0, 'c', "pin the threads to these CPUs, "
			  "round robin"),
		{ .name = "count", .letter = 'n', .arg = XM_EX_ARG_U64,
		  .dest = &a->count, .lo = 1, .hi = UINT64_MAX / 2,
		  .metavar = "N", .hint = "at least 1",
		  .help = "tx: packets to send; rx: stop after N received" },
		XM_EX_STD(XM_EX_O_DURATION, 0, "stop after SEC seconds"),
		XM_EX_STD(XM_EX_O_MODE, 0, "AF_XDP mode: auto, zero-copy, copy, "
			  "skb"),
		XM_EX_STD(XM_EX_O_BUSY_POLL, 0, NULL),
		{ .arg = XM_EX_ARG_STD, .std = XM_EX_O_BURST,
		  .letter = XM_EX_NO_LETTER, .hi = PG_BURST_MAX,
		  .flags = PG_RANGE,
		  .help = "packets per burst, 1.." PG_STR(PG_BURST_MAX)
			  " (default " PG_STR(PG_BURST_DEFAULT) ")" },
		XM_EX_STD(XM_EX_O_JSON, 0, "the summary as one JSON object on "
			  "stdout"),
		{ .name = "json-stream", .arg = XM_EX_ARG_NONE,
		  .dest = &a->json_stream,
		  .help = "one JSON object per interval on stdout (sent,\n"
			  "received, lost, rates, latency), then the summary" },
		{ .name = "interval", .arg = XM_EX_ARG_SECONDS,
		  .dest = &a->interval_s, .hi = 3600, .metavar = "SEC",
		  .what = "interval",
		  .help = "--json-stream's interval (default 1)" },
		XM_EX_STD(XM_EX_O_QUIET, 0, "no stats line"),
		XM_EX_STD(XM_EX_O_VERBOSE, 0, NULL),
		XM_EX_STD(XM_EX_O_HELP, 0, NULL),
		XM_EX_STD(XM_EX_O_VERSION, 0, NULL),
	};

	pg_put(t, k, e, sizeof(e) / sizeof(e[0]));
}

/* Everything about sending.  A table: long because the options are
 * many, each entry a few lines. */
static void pg_opts_tx(struct pg_args *a, struct pg_cli *c,
		       struct xm_ex_opt *t, unsigned int *k)
{
	const struct xm_ex_opt e[] = {
		PG_HEADING("tx:"),
		{ .name = "dst-mac", .arg = XM_EX_ARG_FUNC, .parse = fn_mac,
		  .dest = &a->dst_mac, .metavar = "MAC", .what = "MAC",
		  .help = "destination MAC (default: the kernel's neighbour\n"
			  "entry for the next hop, or a veth's peer)" },
		{ .name = "src-mac", .arg = XM_EX_ARG_FUNC, .parse = fn_mac,
		  .dest = &a->src_mac, .metavar = "MAC", .what = "MAC",
		  .help = "source MAC (default: IF's)" },
		{ .name = "src", .arg = XM_EX_ARG_FUNC, .parse = fn_addr,
		  .dest = &a->src, .metavar = "IP[-IP]",
		  .what = "source address or range",
		  .help = "source address or range (default 198.18.0.1);\n"
			  "IPv6 ranges vary the last 32 bits" },
		{ .name = "dst", .arg = XM_EX_ARG_FUNC, .parse = fn_addr,
		  .dest = &a->dst, .metavar = "IP[-IP]",
		  .what = "destination address or range",
		  .help = "destination address or range (default "
			  "198.18.0.2)" },
		{ .name = "sport", .arg = XM_EX_ARG_FUNC, .parse = fn_ports,
		  .dest = &a->sport, .metavar = "P[-P]",
		  .what = "source port or range",
		  .help = "UDP/TCP source port or range (default 1024)" },
		{ .name = "dport", .arg = XM_EX_ARG_FUNC, .parse = fn_ports,
		  .dest = &a->dport, .metavar = "P[-P]",
		  .what = "destination port or range",
		  .help = "destination port or range (default 9)" },
		{ .name = "proto", .arg = XM_EX_ARG_ENUM, .enums = pg_protos,
		  .dest = &a->proto, .metavar = "udp|tcp", .what = "protocol",
		  .help = "UDP (default) or TCP SYN" },
		{ .name = "vlan", .arg = XM_EX_ARG_FUNC, .parse = fn_vlan,
		  .dest = &a->vlan, .lo = 0, .hi = 4095, .flags = PG_RANGE,
		  .metavar = "ID", .what = "VLAN id",
		  .help = "802.1Q tag, 0..4095" },
		{ .name = "size", .letter = 's', .arg = XM_EX_ARG_STR,
		  .dest = &c->size_arg, .metavar = "SIZE",
		  .help = "frame size WITH the 4-byte FCS, as testers count\n"
			  "it, " PG_STR(PG_FRAME_MIN) ".." PG_STR(PG_FRAME_MAX)
			  " (default 64; rfc2544: 64,128,256,\n512,1024,1280,"
			  "1518); on the wire 4 bytes less (the\nNIC adds the "
			  "FCS).  LO-HI[:STEP] sweeps, A,B,C lists.\nFits "
			  "MTU + 18 (1518 at MTU 1500), MTU + 22 with --vlan" },
		{ .name = "imix", .arg = XM_EX_ARG_FUNC, .parse = fn_imix,
		  .dest = c, .flags = XM_EX_F_OPTARG, .metavar = "LIST",
		  .help = "IMIX of frame sizes with FCS: 64:7,594:4,1518:1\n"
			  "(the default) or SIZE:WEIGHT,..." },
		{ .name = "rate", .letter = 'r', .arg = XM_EX_ARG_FUNC,
		  .parse = fn_rate, .dest = a, .metavar = "RATE",
		  .hint = "PPS, BPSbps, BPSbps:l1 or PCT%",
		  .help = "1.5M or 1.5Mpps: packets per second; 800Mbps:\n"
			  "L2 bits (frames with FCS); 10Gbps:l1: L1 bits (+20\n"
			  "bytes a frame: preamble, SFD, gap); 50%: of the\n"
			  "link speed at L1 (the driver's, via ethtool)" },
		{ .name = "bit-rate", .letter = 'b', .arg = XM_EX_ARG_FUNC,
		  .parse = fn_bits, .dest = &a->rate_b, .metavar = "BPS",
		  .what = "bit rate",
		  .hint = "a positive number of bits per second",
		  .help = "L2 bits per second (k, M, G): -r BPSbps" },
		{ .name = "flows", .arg = XM_EX_ARG_U32, .dest = &a->flows,
		  .lo = 1, .hi = PG_FLOWS_MAX, .flags = PG_RANGE,
		  .metavar = "N", .what = "flow count",
		  .help = "distinct 5-tuples (default: every combination of\n"
			  "the ranges; alone, N source ports)" },
		{ .name = "flow-order", .arg = XM_EX_ARG_ENUM,
		  .enums = pg_orders, .dest = &a->flows_random,
		  .metavar = "step|random", .what = "flow order",
		  .help = "flow of each packet (default step)" },
		{ .name = "seed", .arg = XM_EX_ARG_U64, .dest = &a->seed,
		  .lo = 0, .hi = UINT64_MAX, .metavar = "N",
		  .help = "random flow order seed" },
		{ .name = "engine", .arg = XM_EX_ARG_ENUM, .enums = pg_engines,
		  .dest = &a->engine, .metavar = "afxdp|live",
		  .help = "AF_XDP TX (default) or in-kernel live frames" },
		{ .name = "pcap", .arg = XM_EX_ARG_STR, .dest = &a->pcap,
		  .metavar = "FILE",
		  .help = "replay the packets of FILE (pcap or pcapng, read\n"
			  "by libpcap; Ethernet) byte for byte, loaded once\n"
			  "into UMEM (no stamp: counted, not sequenced)" },
		{ .name = "pcap-speed", .arg = XM_EX_ARG_FUNC,
		  .parse = fn_pcap_speed, .dest = a,
		  .metavar = "original|topspeed|xN", .what = "--pcap-speed",
		  .hint = "original, topspeed or xN, N in 0.001..1000",
		  .help = "the file's own timing (default without -r),\n"
			  "as fast as it goes (or -r), or N times faster" },
		{ .name = "pcap-loop", .arg = XM_EX_ARG_FUNC,
		  .parse = fn_pcap_loop, .dest = a, .metavar = "N",
		  .what = "--pcap-loop", .hint = "0..1000000",
		  .help = "send the file N times (default 1, or until -n;\n"
			  "0: until -d or a signal)" },
		{ .name = "stream", .arg = XM_EX_ARG_U32, .dest = &a->stream,
		  .lo = 0, .hi = 65535, .metavar = "ID", .what = "stream id",
		  .help = "first stream id (default 0): + the queue, or\n"
			  "with the live engine + the CPU" },
		{ .name = "rx-iface", .arg = XM_EX_ARG_STR,
		  .dest = &a->rx_ifname, .metavar = "IF2",
		  .help = "also receive on IF2 and measure (both ends)" },
		{ .name = "rx-queues", .arg = XM_EX_ARG_QUEUES,
		  .dest = a->rx_queues, .count = &a->nrx_queues,
		  .hi = XM_PORT_MAX_QUEUES, .metavar = "LIST",
		  .what = "queue list", .help = "queues of IF2 (default all)" },
		{ .name = "rx-cpus", .arg = XM_EX_ARG_CPUS, .dest = a->rx_cpus,
		  .count = &a->nrx_cpus, .hi = CPU_SETSIZE, .metavar = "LIST",
		  .what = "CPU list", .help = "pin the receive threads" },
		{ .name = "drain", .arg = XM_EX_ARG_SECONDS, .dest = &a->drain_s,
		  .hi = 60, .metavar = "SEC", .what = "drain time",
		  .help = "wait this long at most for late packets (1)" },
		{ .name = "pool", .arg = XM_EX_ARG_U32, .dest = &a->pool,
		  .lo = 256, .hi = 65536, .flags = PG_RANGE, .metavar = "N",
		  .what = "pool size",
		  .help = "AF_XDP frames per queue (default 1024 in copy\n"
			  "mode, twice the TX ring in zero-copy mode)" },
		{ .name = "tx-budget", .arg = XM_EX_ARG_U32,
		  .dest = &a->tx_budget, .lo = XM_PORT_TX_BUDGET_MIN,
		  .hi = PG_TX_RING, .flags = PG_RANGE, .metavar = "N",
		  .what = "TX budget",
		  .help = "copy mode: descriptors the kernel sends per\n"
			  "sendto(), 32..2048 (default 2048, the TX ring;\n"
			  "the kernel's own is 32)" },
		{ .name = "tx-ref", .arg = XM_EX_ARG_ENUM, .enums = pg_refs,
		  .dest = &a->ref, .metavar = "own|copym", .what = "--tx-ref",
		  .help = "how a frame goes to the port: its own headers\n"
			  "re-armed (default) or an xm_copym() reference" },
	};

	pg_put(t, k, e, sizeof(e) / sizeof(e[0]));
}

static void pg_opts_rx_rfc2544(struct pg_args *a, struct xm_ex_opt *t,
			       unsigned int *k)
{
	const struct xm_ex_opt e[] = {
		PG_HEADING("rx:"),
		{ .name = "idle", .arg = XM_EX_ARG_SECONDS, .dest = &a->idle_s,
		  .hi = (uint64_t)PG_MAX_SECONDS, .metavar = "SEC",
		  .what = "idle time",
		  .help = "stop once nothing arrived for SEC seconds" },
		PG_HEADING("rfc2544:"),
		{ .name = "trial", .arg = XM_EX_ARG_SECONDS, .dest = &a->trial_s,
		  .hi = 3600, .metavar = "SEC", .what = "trial time",
		  .help = "seconds per trial (default 2)" },
		{ .name = "loss-tolerance", .arg = XM_EX_ARG_FUNC,
		  .parse = fn_percent, .dest = &a->tolerance_pct, .hi = 100,
		  .metavar = "PCT", .what = "loss tolerance",
		  .hint = "0..100 percent",
		  .help = "loss accepted as zero (default 0)" },
		{ .name = "resolution", .arg = XM_EX_ARG_SECONDS,
		  .dest = &a->resolution_pct, .hi = 50, .metavar = "PCT",
		  .hint = "percent of the peak",
		  .help = "stop when the interval is this share of the peak\n"
			  "(default 1)" },
		{ .name = "max-trials", .arg = XM_EX_ARG_U32,
		  .dest = &a->max_trials, .lo = 1, .hi = 64, .flags = PG_RANGE,
		  .metavar = "N", .what = "trial count",
		  .help = "trials at most (default 16)" },
	};

	pg_put(t, k, e, sizeof(e) / sizeof(e[0]));
}

/*
 * The whole table into t (PG_OPTS_MAX entries), in --help's order.  For
 * rx, the tx section's options stay in the table (and in --help) but
 * refuse themselves.
 */
static void pg_cli_table(struct pg_args *a, struct pg_cli *c,
			 struct xm_ex_opt *t)
{
	unsigned int k = 0, tx;

	pg_opts_common(a, t, &k);
	tx = k;
	pg_opts_tx(a, c, t, &k);
	for (unsigned int i = tx; a->cmd == PG_CMD_RX && i < k; i++) {
		if (t[i].arg == XM_EX_ARG_TEXT)
			continue;
		t[i].arg = XM_EX_ARG_FUNC;
		t[i].parse = fn_tx_only;
		t[i].dest = NULL;
	}
	pg_opts_rx_rfc2544(a, t, &k);
	t[k] = (struct xm_ex_opt){ .arg = XM_EX_ARG_END };
}

/* The usage lines, the description and the epilogue around the table. */
static void pg_cli_texts(struct xm_ex_cli *cli, char *synopsis, size_t len)
{
	const char *p = xm_ex_prog();

	snprintf(synopsis, len,
"tx -i IF [--dst-mac MAC] [--src IP] [--dst IP] [-s SIZE | --imix]\n"
"              [-n COUNT] [-d SECONDS] [-r RATE] [--flows N]\n"
"              [--engine afxdp|live] [--pcap FILE] [--json] [options]\n"
"       %1$s rx -i IF [-n COUNT] [-d SECONDS] [--json] [options]\n"
"       %1$s rfc2544 -i IF --rx-iface IF2 [-s SIZES] [--trial SECONDS]\n"
"              [--loss-tolerance PCT] [--json] [options]\n"
"       %1$s plot FILE.json... -o OUT.svg", p);
	cli->tool = "pktgen";
	cli->synopsis = synopsis;
	cli->description =
"\n"
"tx: sends UDP (or TCP SYN) frames over IPv4 or IPv6, built once in UMEM\n"
"frames and sent from them over and over; every frame carries a sequence\n"
"number, a stream id and its TX time.  rx: counts per stream received,\n"
"lost, reordered and duplicated packets and the latency (same host clock)\n"
"of up to " PG_STR(PG_METER_STREAMS) " stream ids (with both ends, of the "
"run's own only); stamps\n"
"of any other id are counted as stream_overflow.\n"
"rfc2544: per frame size, binary search for the highest rate carried\n"
"with loss within --loss-tolerance, then the latency at that rate.\n"
"plot: rates and latency over time (--json-stream output) and the rfc2544\n"
"table of --json summaries, as one SVG.\n"
"\n"
"Frame sizes (-s, --imix, rfc2544) count the 4-byte FCS, as testers and\n"
"switches do: -s 64 puts 60 bytes on the wire.  L2 bit rates count\n"
"frames with FCS, L1 adds 20 bytes a frame (preamble, SFD, gap).\n";
	cli->epilogue =
"JSON keys: tx: sent, tx_pps, tx_bps_l1, tx_bps_l2; rx: received, lost,\n"
"reordered, duplicated, stream_overflow, rx_pps, rx_bps_l1, rx_bps_l2,\n"
"latency_ns {min, avg, max, p50, p99, p999}, latency_histogram, sizes\n"
"{frame_bytes, wire_bytes, count}.  --json-stream intervals: type,\n"
"t, sent, received (stamped packets), rx_packets (every packet), lost,\n"
"the rates, latency_ns.\n"
"Rates are measured from the first to the last packet.  Exit status: 0\n"
"success, 1 runtime error, 2 usage error.\n";
}

/* ------------------------------------------------- options together */

/* Interfaces, ends and rates.  @return -1 or the exit status. */
static int pg_cli_check_ends(struct pg_args *a)
{
	const char *ifname = a->std.ifname;

	/* the table requires it; an entry that lost the flag must not
	 * become a NULL below */
	if (!ifname)
		return xm_ex_usage_error("-i IF is required");
	if (if_nametoindex(ifname) == 0)
		return xm_ex_usage_error("no interface '%s'", ifname);
	if (a->rx_ifname && if_nametoindex(a->rx_ifname) == 0)
		return xm_ex_usage_error("no interface '%s'", a->rx_ifname);
	if (a->cmd == PG_CMD_RFC2544 && !a->rx_ifname)
		return xm_ex_usage_error("rfc2544 needs both ends: --rx-iface "
					 "IF2");
	if (a->rx_ifname && !strcmp(a->rx_ifname, ifname))
		return xm_ex_usage_error("--rx-iface must differ from -i");
	if (a->rate.rs_unit && a->rate_b.rs_unit)
		return xm_ex_usage_error("-r and -b exclude each other");
	if (a->rate_b.rs_unit) {
		a->rate = a->rate_b;
		a->rate_arg = "-b";
	}
	if (a->cmd == PG_CMD_RFC2544 && a->rate.rs_unit)
		return xm_ex_usage_error("rfc2544 chooses the rates itself");
	return -1;
}

/* The size schedule of -s or --imix.  @return -1 or the exit status. */
static int pg_cli_sizes(struct pg_args *a, const struct pg_cli *c)
{
	char err[256];
	int rc;

	const char *def = a->cmd == PG_CMD_RFC2544 ?
			  "64,128,256,512,1024,1280,1518" : "64";

	a->imix = c->imix;
	if (c->imix)
		rc = pg_parse_imix(c->imix_arg, PG_FRAME_MIN, PG_FRAME_MAX,
				   &a->sizes, err, sizeof(err));
	else
		rc = pg_parse_sizes(c->size_arg ? c->size_arg : def,
				    PG_FRAME_MIN, PG_FRAME_MAX, &a->sizes, err,
				    sizeof(err));
	if (rc)
		return xm_ex_usage_error("%s (frame sizes with the 4-byte FCS)",
					 err);
	pg_sizes_strip_fcs(&a->sizes);
	return -1;
}

/* Addresses, --pcap, the size schedule and --flows alone.  @return -1 or
 * the exit status. */
static int pg_cli_check_frames(struct pg_args *a, const struct pg_cli *c)
{
	const struct pg_addr_arg *src = &a->src, *dst = &a->dst;

	if (src->given && dst->given && src->family != dst->family)
		return xm_ex_usage_error("--src and --dst are of different "
					 "address families");
	if (src->given || dst->given) {
		a->family = src->given ? src->family : dst->family;
		if (a->family == 6 && (!src->given || !dst->given))
			return xm_ex_usage_error("IPv6 needs both --src and "
						 "--dst");
	}
	if (c->size_arg && c->imix)
		return xm_ex_usage_error("-s and --imix exclude each other");
	if (a->pcap && (c->size_arg || c->imix || a->flows || src->given ||
			dst->given || a->vlan >= 0 ||
			a->proto != XM_PKT_IPPROTO_UDP ||
			a->sport.count > 1 || a->dport.count > 1))
		return xm_ex_usage_error("--pcap replays the file as it is: "
			"no -s, --imix, --flows, addresses, ports, --proto or "
			"--vlan with it");
	if (!a->pcap && (a->pcap_speed_given || a->pcap_loop_given))
		return xm_ex_usage_error("--pcap-speed and --pcap-loop are for "
					 "--pcap");
	if (a->pcap && a->pcap_loop_given && a->count)
		return xm_ex_usage_error("--pcap-loop and -n exclude each other");
	if (a->pcap && a->pcap_speed_given && a->pcap_speed > 0 &&
	    a->rate.rs_unit)
		return xm_ex_usage_error("-r paces a replay at --pcap-speed "
			"topspeed only (the file's timing is the rate)");
	if (a->pcap && !a->pcap_speed_given)
		a->pcap_speed = a->rate.rs_unit ? 0 : 1;
	if (a->pcap && !a->pcap_loop_given)
		a->pcap_loop = a->count ? 0 : 1;
	if (a->pcap && a->engine == PG_ENGINE_LIVE)
		return xm_ex_usage_error("--pcap replays with the afxdp engine"
			" (live frames send one template per call)");
	if (a->pcap && a->cmd == PG_CMD_RFC2544)
		return xm_ex_usage_error("rfc2544 sends generated frames, not "
					 "--pcap");
	if (a->cmd != PG_CMD_RX && !a->pcap) {
		int rc = pg_cli_sizes(a, c);

		if (rc >= 0)
			return rc;
	}
	/* --flows alone: that many source ports */
	if (a->flows > 1 && src->count == 1 && dst->count == 1 &&
	    a->sport.count == 1 && a->dport.count == 1) {
		if ((uint32_t)a->sport.lo + a->flows - 1 > 65535)
			return xm_ex_usage_error("--flows %u from source port %u"
				" runs past 65535", a->flows, a->sport.lo);
		a->sport.count = a->flows;
	}
	return -1;
}

/* ------------------------------------------------------------ parse */

static void pg_args_defaults(struct pg_args *a)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	inet_pton(AF_INET, "198.18.0.1", &a->src.lo.a_v4);
	inet_pton(AF_INET, "198.18.0.2", &a->dst.lo.a_v4);
	a->src.family = a->dst.family = 4;
	a->src.count = a->dst.count = 1;
	a->sport.lo = 1024;
	a->dport.lo = 9;
	a->sport.count = a->dport.count = 1;
	a->proto = XM_PKT_IPPROTO_UDP;
	a->vlan = -1;
	a->std.burst = PG_BURST_DEFAULT;
	a->drain_s = 1.0;
	a->trial_s = 2.0;
	a->resolution_pct = 1.0;
	a->max_trials = 16;
	a->interval_s = 1.0;
}

/* The command word.  @return -1, or the exit status. */
static int pg_cli_command(int argc, char **argv, struct pg_args *a,
			  const struct xm_ex_cli *cli)
{
	static const char *const cmds[] = { "tx", "rx", "rfc2544" };
	static const enum pg_cmd vals[] = { PG_CMD_TX, PG_CMD_RX,
					    PG_CMD_RFC2544 };
	static const char *const alone[] = { "-h", "--help", "--version",
					     "--list-options" };

	if (argc < 2)
		return xm_ex_usage_error("a command is required: tx, rx or "
					 "rfc2544");
	/* the table's own words stand alone, without a command */
	for (size_t i = 0; i < sizeof(alone) / sizeof(alone[0]); i++)
		if (!strcmp(argv[1], alone[i]))
			return xm_ex_opts_parse(cli, 2, argv, NULL);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i])) {
			a->cmd = vals[i];
			return -1;
		}
	}
	return xm_ex_usage_error("unknown command '%s' (tx, rx, rfc2544 or "
				 "plot)", argv[1]);
}

int pg_cli_parse(int argc, char **argv, struct pg_args *a)
{
	struct xm_ex_opt table[PG_OPTS_MAX];
	struct pg_cli c = { 0 };
	struct xm_ex_cli cli = { .args = &a->std, .opts = table };
	char synopsis[640];
	int rc;

	pg_args_defaults(a);
	pg_cli_texts(&cli, synopsis, sizeof(synopsis));
	pg_cli_table(a, &c, table);
	rc = pg_cli_command(argc, argv, a, &cli);
	if (rc >= 0)
		return rc;
	/* the table depends on the command: rx refuses tx's options */
	pg_cli_table(a, &c, table);
	/* the options follow the command word */
	rc = xm_ex_opts_parse(&cli, argc - 1, argv + 1, NULL);
	if (rc >= 0)
		return rc;
	rc = pg_cli_check_ends(a);
	if (rc < 0)
		rc = pg_cli_check_frames(a, &c);
	/* the stream ends with the summary, as JSON too */
	if (a->json_stream)
		a->std.json = true;
	return rc;
}

void pg_cli_free(struct pg_args *a)
{
	pg_sizes_free(&a->sizes);
}
