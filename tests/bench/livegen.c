// SPDX-License-Identifier: BSD-2-Clause
/*
 * livegen.c - xm-livegen, the benchmarks' traffic source: the library's
 * live-frames engine (xm_live.h) behind a command line, pushing UDP
 * frames out of a veth end.
 *
 * One template frame is handed to the kernel; every repetition of the run
 * builds a frame from a page pool, runs bpf/xm_live.bpf.c on it (flow in
 * the UDP source port, sequence number after the UDP header) and
 * redirects it out of the interface named by -i.  A veth delivers it to
 * the peer's NAPI, in a softirq on the CPU that made the call, so the
 * receiver under test belongs on the other CPU (see DESIGN.md,
 * "Benchmarking on veth").  xm_live_run() sizes each call to last about
 * a quarter of a second, so the source is steady between the kernel's
 * per-call pauses.
 *
 *   xm-livegen -i veth0 -c 0 -d 5      veth0 ===== veth1 <- receiver (CPU 1)
 *        |                               ^
 *        +-- --sink veth0: count what comes back (a forwarder's output,
 *            the library's live sink)
 *
 * Every run is bounded: by -n frames and always by -d seconds (default 5,
 * at most 3600).  Addresses must lie in 198.18.0.0/15.
 *
 * Output (stdout, one "key value" per line, for scripts):
 *   sent N, elapsed_s T, tx_mpps R, and with --sink: sink_rx N,
 *   sink_good N (destination MAC as a MAC swap leaves it), sink_mpps R
 *   (sink_good / elapsed_s).
 *
 * Exit: 0 on success, 1 on a runtime error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "xm_live.h"
#include "xm_pkt.h"

#define LIVEGEN_MIN_SIZE	60	/* Ethernet minimum without FCS */
#define LIVEGEN_MAX_SIZE	XM_LIVE_MAX_FRAME /* a live frame: one page */
#define LIVEGEN_UDP_OFF		(XM_PKT_ETH_HLEN + XM_PKT_IPV4_HLEN)
#define LIVEGEN_SEQ_OFF		(LIVEGEN_UDP_OFF + XM_PKT_UDP_HLEN)
#define LIVEGEN_MAX_SECONDS	3600

struct livegen_cfg {
	unsigned int ifindex;		/* inject into (redirect target) */
	unsigned int sink_ifindex;	/* count returning frames, 0: no */
	unsigned int size;		/* frame bytes, FCS excluded */
	unsigned int flows;		/* distinct UDP source ports */
	unsigned int batch;		/* frames per kernel batch */
	uint16_t sport;			/* first UDP source port */
	uint16_t dport;			/* UDP destination port */
	bool seq;			/* write a sequence number */
	uint8_t src_mac[ETH_ALEN];	/* frame source MAC */
	uint8_t dst_mac[ETH_ALEN];	/* frame destination MAC */
	struct in_addr src_ip;		/* in 198.18.0.0/15 */
	struct in_addr dst_ip;		/* in 198.18.0.0/15 */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * Ethernet, IPv4 without options, UDP with checksum 0 (legal over IPv4:
 * the program then changes the source port and writes the sequence
 * number with no checksum to keep), zeros after.  @return 0 or -errno.
 */
static int build_template(uint8_t *frame, const struct livegen_cfg *c)
{
	struct xm_pkt_eth eth = { .eth_type = ETHERTYPE_IP };
	struct xm_pkt_ip ip = {
		.ip_version = 4,
		.ip_proto = XM_PKT_IPPROTO_UDP,
		.ip_ttl = 64,
		.ip_payload_len = c->size - LIVEGEN_UDP_OFF,
		.ip_src.a_v4 = c->src_ip.s_addr,
		.ip_dst.a_v4 = c->dst_ip.s_addr,
	};
	int n;

	memcpy(eth.eth_dst, c->dst_mac, ETH_ALEN);
	memcpy(eth.eth_src, c->src_mac, ETH_ALEN);
	memset(frame, 0, c->size);
	n = xm_pkt_build_eth(frame, c->size, &eth);
	if (n >= 0)
		n = xm_pkt_build_ip(frame + XM_PKT_ETH_HLEN,
				    c->size - XM_PKT_ETH_HLEN, &ip);
	if (n >= 0)
		n = xm_pkt_build_udp(frame + LIVEGEN_UDP_OFF,
				     c->size - LIVEGEN_UDP_OFF, c->sport,
				     c->dport, c->size - LIVEGEN_SEQ_OFF);
	return n < 0 ? n : 0;
}

/*
 * The engine's per-frame work: the source port steps over the flows (a
 * receiver tells them apart), the sequence number goes after the UDP
 * header; neither is under a checksum.
 */
static struct xm_live *livegen_open(const char *ifname,
				    const struct livegen_cfg *c)
{
	XM_OPTS(xm_live_opts, o,
		.batch_size = c->batch,
		.seq_off = c->seq ? LIVEGEN_SEQ_OFF : 0,
		.nflows = c->flows);
	if (c->flows > 1) {
		o.nfields = 1;
		o.fields[0] = (struct xm_live_field){
			.lf_off = LIVEGEN_UDP_OFF, .lf_len = 2,
			.lf_base = c->sport, .lf_count = c->flows,
		};
	}
	return xm_live_open(ifname, &o);
}

/* ------------------------------------------------------------ command line */

static void usage(FILE *f)
{
	fprintf(f,
"usage: xm-livegen -i IF [options]\n"
"Sends UDP frames out of IF (a veth end) with BPF_PROG_RUN live frames.\n"
"  -i, --iface IF        interface name or index to inject into (required)\n"
"  -s, --size BYTES      frame size without FCS, %d..%d (default 64)\n"
"  -n, --count N         frames to send (default: until the duration)\n"
"  -d, --duration SEC    time limit, 1..%d (default 5)\n"
"  -c, --cpu CPU         pin the generator to CPU\n"
"  -f, --flows N         distinct UDP source ports, 1..65535 (default 1)\n"
"  -b, --batch N         frames per kernel batch, 1..256 (default 64)\n"
"      --src-mac MAC     source MAC (default: IF's address)\n"
"      --dst-mac MAC     destination MAC (default 02:00:00:00:00:02)\n"
"      --src-ip IP       source IPv4 in 198.18.0.0/15 (default 198.18.0.1)\n"
"      --dst-ip IP       destination IPv4 in 198.18.0.0/15 (default 198.18.0.2)\n"
"      --sport PORT      first UDP source port (default 1024)\n"
"      --dport PORT      UDP destination port (default 9)\n"
"      --no-seq          do not write a sequence number at offset %d\n"
"      --sink IF         count (and drop) frames arriving on IF with XDP\n"
"      --drain MS        wait for returning frames after sending (default 200)\n"
"  -h, --help            this text\n",
		LIVEGEN_MIN_SIZE, LIVEGEN_MAX_SIZE, LIVEGEN_MAX_SECONDS,
		LIVEGEN_SEQ_OFF);
}

static bool parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned int b[ETH_ALEN];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != ETH_ALEN)
		return false;
	for (int i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return false;
		mac[i] = (uint8_t)b[i];
	}
	return true;
}

/* The benchmarking range, RFC 2544: the only addresses we send to. */
static bool parse_bench_ip(const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1)
		return false;
	return (ntohl(a->s_addr) & 0xfffe0000u) == 0xc6120000u;
}

static unsigned int parse_iface(const char *s)
{
	unsigned long v;

	if (bench_parse_ulong(s, 1, INT_MAX, &v))
		return (unsigned int)v;
	return if_nametoindex(s);
}

static int iface_mac(unsigned int ifindex, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr = {};
	int fd, err = 0;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
	return err;
}

enum {
	OPT_SRC_MAC = 256,
	OPT_DST_MAC,
	OPT_SRC_IP,
	OPT_DST_IP,
	OPT_SPORT,
	OPT_DPORT,
	OPT_NO_SEQ,
	OPT_SINK,
	OPT_DRAIN,
};

static const struct option long_opts[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "size", required_argument, NULL, 's' },
	{ "count", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "cpu", required_argument, NULL, 'c' },
	{ "flows", required_argument, NULL, 'f' },
	{ "batch", required_argument, NULL, 'b' },
	{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
	{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
	{ "src-ip", required_argument, NULL, OPT_SRC_IP },
	{ "dst-ip", required_argument, NULL, OPT_DST_IP },
	{ "sport", required_argument, NULL, OPT_SPORT },
	{ "dport", required_argument, NULL, OPT_DPORT },
	{ "no-seq", no_argument, NULL, OPT_NO_SEQ },
	{ "sink", required_argument, NULL, OPT_SINK },
	{ "drain", required_argument, NULL, OPT_DRAIN },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int bad_arg(const char *opt, const char *val)
{
	fprintf(stderr, "xm-livegen: invalid %s '%s'\n", opt, val);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct livegen_cfg c = {
		.size = 64, .flows = 1, .batch = 64, .sport = 1024, .dport = 9,
		.seq = true, .dst_mac = { 0x02, 0, 0, 0, 0, 0x02 },
	};
	unsigned long count = 0, seconds = 5, drain_ms = 200, v;
	const char *iface = NULL, *sink = NULL;
	char ifname[IF_NAMESIZE], sink_name[IF_NAMESIZE];
	static uint8_t frame[LIVEGEN_MAX_SIZE];
	struct xm_live_run_stats st = { 0 };
	struct xm_live_sink *snk = NULL;
	struct xm_live *l;
	bool have_src_mac = false;
	long cpu = -1;
	uint64_t rx = 0, good = 0;
	double elapsed;
	int opt, err, ret = 0;

	inet_pton(AF_INET, "198.18.0.1", &c.src_ip);
	inet_pton(AF_INET, "198.18.0.2", &c.dst_ip);
	while ((opt = getopt_long(argc, argv, "i:s:n:d:c:f:b:h", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
			iface = optarg;
			break;
		case 's':
			if (!bench_parse_ulong(optarg, LIVEGEN_MIN_SIZE,
					 LIVEGEN_MAX_SIZE, &v))
				return bad_arg("size", optarg);
			c.size = (unsigned int)v;
			break;
		case 'n':
			if (!bench_parse_ulong(optarg, 1, ULONG_MAX, &count))
				return bad_arg("count", optarg);
			break;
		case 'd':
			if (!bench_parse_ulong(optarg, 1, LIVEGEN_MAX_SECONDS, &seconds))
				return bad_arg("duration", optarg);
			break;
		case 'c':
			if (!bench_parse_ulong(optarg, 0, CPU_SETSIZE - 1, &v))
				return bad_arg("cpu", optarg);
			cpu = (long)v;
			break;
		case 'f':
			if (!bench_parse_ulong(optarg, 1, 65535, &v))
				return bad_arg("flows", optarg);
			c.flows = (unsigned int)v;
			break;
		case 'b':
			if (!bench_parse_ulong(optarg, 1, 256, &v))
				return bad_arg("batch", optarg);
			c.batch = (unsigned int)v;
			break;
		case OPT_SRC_MAC:
			if (!parse_mac(optarg, c.src_mac))
				return bad_arg("source MAC", optarg);
			have_src_mac = true;
			break;
		case OPT_DST_MAC:
			if (!parse_mac(optarg, c.dst_mac))
				return bad_arg("destination MAC", optarg);
			break;
		case OPT_SRC_IP:
			if (!parse_bench_ip(optarg, &c.src_ip))
				return bad_arg("source IP (198.18.0.0/15 only)",
					       optarg);
			break;
		case OPT_DST_IP:
			if (!parse_bench_ip(optarg, &c.dst_ip))
				return bad_arg("destination IP (198.18.0.0/15 only)",
					       optarg);
			break;
		case OPT_SPORT:
			if (!bench_parse_ulong(optarg, 1, 65535, &v))
				return bad_arg("source port", optarg);
			c.sport = (uint16_t)v;
			break;
		case OPT_DPORT:
			if (!bench_parse_ulong(optarg, 1, 65535, &v))
				return bad_arg("destination port", optarg);
			c.dport = (uint16_t)v;
			break;
		case OPT_NO_SEQ:
			c.seq = false;
			break;
		case OPT_SINK:
			sink = optarg;
			break;
		case OPT_DRAIN:
			if (!bench_parse_ulong(optarg, 0, 10000, &drain_ms))
				return bad_arg("drain", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !iface) {
		fprintf(stderr, "xm-livegen: %s\n", iface ?
			"unexpected argument" : "-i IF is required");
		usage(stderr);
		return 2;
	}
	if (c.sport + (c.flows - 1) > 65535)
		return bad_arg("flows (source port range past 65535)", iface);

	c.ifindex = parse_iface(iface);
	if (!c.ifindex || !if_indextoname(c.ifindex, ifname)) {
		fprintf(stderr, "xm-livegen: no interface '%s'\n", iface);
		return 1;
	}
	if (sink) {
		c.sink_ifindex = parse_iface(sink);
		if (!c.sink_ifindex ||
		    !if_indextoname(c.sink_ifindex, sink_name)) {
			fprintf(stderr, "xm-livegen: no interface '%s'\n", sink);
			return 1;
		}
	}
	if (!have_src_mac) {
		err = iface_mac(c.ifindex, c.src_mac);
		if (err) {
			fprintf(stderr, "xm-livegen: cannot read the MAC of %s: %s\n",
				iface, strerror(-err));
			return 1;
		}
	}
	err = build_template(frame, &c);
	if (err) {
		fprintf(stderr, "xm-livegen: cannot build the frame: %s\n",
			strerror(-err));
		return 1;
	}
	if (bench_pin_or_report("xm-livegen", cpu))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	/* the library says what went wrong; we say what we were doing */
	l = livegen_open(ifname, &c);
	if (!l) {
		fprintf(stderr, "xm-livegen: cannot load the source on %s: %s\n",
			ifname, strerror(errno));
		return 1;
	}
	if (c.sink_ifindex) {
		/* a MAC swap puts our source into the destination */
		XM_OPTS(xm_live_sink_opts, so, .match_dst = c.src_mac);

		snk = xm_live_sink_open(sink_name, &so);
		if (!snk) {
			fprintf(stderr, "xm-livegen: cannot attach the sink to %s: %s\n",
				sink_name, strerror(errno));
			xm_live_close(l);
			return 1;
		}
	}

	XM_OPTS(xm_live_run_opts, ro,
		.count = count,
		.duration_ns = (uint64_t)seconds * 1000000000ULL,
		.stop = &stop_requested);
	err = xm_live_run(l, frame, c.size, &ro, &st);
	/* a signal that cut a call short is a stop like any other */
	if (err && err != -EINTR) {
		fprintf(stderr, "xm-livegen: BPF_PROG_RUN failed: %s\n",
			strerror(-err));
		ret = 1;
	}
	elapsed = (double)st.rs_elapsed_ns * 1e-9;

	if (snk && !ret) {
		struct timespec ts = {
			.tv_sec = (time_t)(drain_ms / 1000),
			.tv_nsec = (long)(drain_ms % 1000) * 1000000L,
		};

		nanosleep(&ts, NULL);
		err = xm_live_sink_read(snk, &rx, &good);
		if (err) {
			fprintf(stderr, "xm-livegen: cannot read the sink counters: %s\n",
				strerror(-err));
			ret = 1;
		}
	}
	xm_live_sink_close(snk);
	xm_live_close(l);

	printf("sent %llu\n", (unsigned long long)st.rs_sent);
	printf("elapsed_s %.6f\n", elapsed);
	printf("tx_mpps %.4f\n",
	       elapsed > 0 ? (double)st.rs_sent / elapsed / 1e6 : 0);
	if (c.sink_ifindex && !ret) {
		printf("sink_rx %llu\n", (unsigned long long)rx);
		printf("sink_good %llu\n", (unsigned long long)good);
		printf("sink_mpps %.4f\n",
		       elapsed > 0 ? (double)good / elapsed / 1e6 : 0);
	}
	return ret;
}
