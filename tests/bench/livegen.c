// SPDX-License-Identifier: BSD-2-Clause
/*
 * livegen.c - xm-livegen, the benchmarks' traffic source: BPF_PROG_RUN
 * with BPF_F_TEST_XDP_LIVE_FRAMES pushing UDP frames out of a veth end.
 *
 * The technique is xdp-trafficgen's.  One template frame is handed to the
 * kernel; every repetition of the run builds a frame from a page pool,
 * runs tests/bpf/xm_livegen.bpf.c on it (flow and sequence number written in)
 * and redirects it out of the interface named by -i.  A veth delivers it
 * to the peer's NAPI, in a softirq on the CPU that made the call, so the
 * receiver under test belongs on the other CPU (see DESIGN.md,
 * "Benchmarking on veth").
 *
 *   xm-livegen -i veth0 -c 0 -d 5      veth0 ===== veth1 <- receiver (CPU 1)
 *        |                               ^
 *        +-- --sink veth0: count what comes back (a forwarder's output)
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
 *
 * The engine (livegen_open/livegen_run/livegen_close) is kept apart from
 * the command line so that a library "live" transmit engine can take it
 * over.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
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

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bench_util.h"
#include "xm_livegen.skel.h"

#define LIVEGEN_MIN_SIZE	60	/* Ethernet minimum without FCS */
#define LIVEGEN_MAX_SIZE	3500	/* a live frame lives in one page */
#define LIVEGEN_SEQ_OFF		42	/* right after the UDP header */
#define LIVEGEN_CHUNK		65536	/* frames of the first call */
#define LIVEGEN_CHUNK_MAX	(1u << 24)
/*
 * Each BPF_PROG_RUN call of a live-frames run installs the program in the
 * kernel's XDP dispatcher and removes it again, and each change waits for
 * an RCU grace period (bpf_dispatcher_change_prog): about 20 ms of idle
 * source per call, seen in a sched_switch trace.  With 65536-frame calls
 * at 5 Mpps that left the source idle two thirds of the time, so the
 * program under test saw bursts, not a steady load.  So the calls are
 * sized from the rate measured so far to last about this long.
 */
#define LIVEGEN_CALL_S		0.25
#define LIVEGEN_MAX_SECONDS	3600

enum {					/* indexes of xm_livegen_cnt */
	CNT_SEQ = 0,
	CNT_SINK_RX,
	CNT_SINK_GOOD,
	CNT_MAX,
};

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

struct livegen {
	struct xm_livegen_bpf *skel;	/* both programs, counters */
	struct bpf_link *sink_link;	/* sink attachment, dies with us */
	uint8_t frame[LIVEGEN_MAX_SIZE];/* the template */
	unsigned int size;		/* template length */
	unsigned int batch;		/* batch_size for the run */
	int prog_fd;			/* xm_livegen */
	int ncpus;			/* possible CPUs (per-CPU values) */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint16_t ip_checksum(const void *hdr, size_t len)
{
	const uint8_t *p = hdr;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void build_template(struct livegen *g, const struct livegen_cfg *c)
{
	struct ether_header eth = { .ether_type = htons(ETHERTYPE_IP) };
	struct iphdr ip = {
		.version = 4,
		.ihl = 5,
		.tot_len = htons((uint16_t)(c->size - sizeof(eth))),
		.ttl = 64,
		.protocol = IPPROTO_UDP,
		.saddr = c->src_ip.s_addr,
		.daddr = c->dst_ip.s_addr,
	};
	struct udphdr udp = {
		.source = htons(c->sport),
		.dest = htons(c->dport),
		.len = htons((uint16_t)(c->size - sizeof(eth) - sizeof(ip))),
		.check = 0,	/* none: the program rewrites port and payload */
	};

	/* Built aligned, then copied: at offset 14 the IP header is not. */
	memcpy(eth.ether_dhost, c->dst_mac, ETH_ALEN);
	memcpy(eth.ether_shost, c->src_mac, ETH_ALEN);
	ip.check = ip_checksum(&ip, sizeof(ip));
	memset(g->frame, 0, sizeof(g->frame));
	memcpy(g->frame, &eth, sizeof(eth));
	memcpy(g->frame + sizeof(eth), &ip, sizeof(ip));
	memcpy(g->frame + sizeof(eth) + sizeof(ip), &udp, sizeof(udp));
	g->size = c->size;
}

static void livegen_close(struct livegen *g)
{
	bpf_link__destroy(g->sink_link);
	xm_livegen_bpf__destroy(g->skel);
	free(g);
}

/* @return the generator, or NULL with errno set and a message printed. */
static struct livegen *livegen_open(const struct livegen_cfg *c)
{
	struct livegen *g = calloc(1, sizeof(*g));
	int err;

	if (!g)
		return NULL;
	g->ncpus = libbpf_num_possible_cpus();
	if (g->ncpus <= 0) {
		err = g->ncpus ? g->ncpus : -EINVAL;
		goto out_free;
	}
	g->skel = xm_livegen_bpf__open();
	if (!g->skel) {
		err = -errno;
		fprintf(stderr, "xm-livegen: cannot open the BPF object: %s\n",
			strerror(-err));
		goto out_free;
	}
	g->skel->rodata->out_ifindex = c->ifindex;
	g->skel->rodata->nflows = c->flows;
	g->skel->rodata->port_base = c->sport;
	g->skel->rodata->seq_off = c->seq ? LIVEGEN_SEQ_OFF : 0;
	/* A MAC swap puts our source into the destination. */
	memcpy((void *)g->skel->rodata->expect_dst, c->src_mac, ETH_ALEN);
	err = xm_livegen_bpf__load(g->skel);
	if (err) {
		fprintf(stderr, "xm-livegen: cannot load the BPF programs: %s\n",
			strerror(-err));
		goto out_skel;
	}
	g->prog_fd = bpf_program__fd(g->skel->progs.xm_livegen);
	if (c->sink_ifindex) {
		/* A link, not a netlink attachment: it goes when we do. */
		g->sink_link = bpf_program__attach_xdp(
			g->skel->progs.xm_livegen_sink, (int)c->sink_ifindex);
		if (!g->sink_link) {
			err = -errno;
			fprintf(stderr,
				"xm-livegen: cannot attach the sink to ifindex %u: %s\n",
				c->sink_ifindex, strerror(-err));
			goto out_skel;
		}
	}
	g->batch = c->batch;
	build_template(g, c);
	return g;

out_skel:
	xm_livegen_bpf__destroy(g->skel);
out_free:
	free(g);
	errno = -err;
	return NULL;
}

/*
 * Sends up to n frames in one kernel call.  @return 0 or -errno; a signal
 * cuts the call short (-EINTR) and then the count is not known exactly.
 */
static int livegen_run(struct livegen *g, unsigned int n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = g->frame,
		.data_size_in = g->size,
		.repeat = (int)n,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		.batch_size = g->batch,
	);
	int err = bpf_prog_test_run_opts(g->prog_fd, &opts);

	return err ? -errno : 0;
}

/* Sum of one per-CPU counter. @return 0 or -errno. */
static int livegen_counter(struct livegen *g, uint32_t idx, uint64_t *sum)
{
	uint64_t vals[g->ncpus];
	int err;

	err = bpf_map_lookup_elem(bpf_map__fd(g->skel->maps.xm_livegen_cnt),
				  &idx, vals);
	if (err)
		return -errno;
	*sum = 0;
	for (int i = 0; i < g->ncpus; i++)
		*sum += vals[i];
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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
	bool have_src_mac = false;
	long cpu = -1;
	uint64_t sent = 0, rx = 0, good = 0;
	double t0, elapsed;
	struct livegen *g;
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
	if (!c.ifindex) {
		fprintf(stderr, "xm-livegen: no interface '%s'\n", iface);
		return 1;
	}
	if (sink) {
		c.sink_ifindex = parse_iface(sink);
		if (!c.sink_ifindex) {
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
	if (bench_pin_or_report("xm-livegen", cpu))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	g = livegen_open(&c);
	if (!g)
		return 1;

	t0 = now_s();
	while (!stop_requested && (!count || sent < count)) {
		double t = now_s() - t0;
		unsigned int n = LIVEGEN_CHUNK;

		if (sent > 0 && t > 0) {
			/* frames for LIVEGEN_CALL_S, or to the end of the run */
			double rate = (double)sent / t;
			double want = rate * LIVEGEN_CALL_S;
			double left = rate * ((double)seconds - t);

			if (left < want)
				want = left;
			n = want < LIVEGEN_CHUNK ? LIVEGEN_CHUNK :
			    want > LIVEGEN_CHUNK_MAX ? LIVEGEN_CHUNK_MAX :
			    (unsigned int)want;
		}
		if (count && count - sent < n)
			n = (unsigned int)(count - sent);
		err = livegen_run(g, n);
		if (err == -EINTR)
			break;
		if (err) {
			fprintf(stderr, "xm-livegen: BPF_PROG_RUN failed: %s\n",
				strerror(-err));
			ret = 1;
			break;
		}
		sent += n;
		if (now_s() - t0 >= (double)seconds)
			break;
	}
	elapsed = now_s() - t0;

	if (c.sink_ifindex && !ret) {
		struct timespec ts = {
			.tv_sec = (time_t)(drain_ms / 1000),
			.tv_nsec = (long)(drain_ms % 1000) * 1000000L,
		};

		nanosleep(&ts, NULL);
		err = livegen_counter(g, CNT_SINK_RX, &rx);
		if (!err)
			err = livegen_counter(g, CNT_SINK_GOOD, &good);
		if (err) {
			fprintf(stderr, "xm-livegen: cannot read the sink counters: %s\n",
				strerror(-err));
			ret = 1;
		}
	}
	livegen_close(g);

	printf("sent %llu\n", (unsigned long long)sent);
	printf("elapsed_s %.6f\n", elapsed);
	printf("tx_mpps %.4f\n", elapsed > 0 ? (double)sent / elapsed / 1e6 : 0);
	if (c.sink_ifindex && !ret) {
		printf("sink_rx %llu\n", (unsigned long long)rx);
		printf("sink_good %llu\n", (unsigned long long)good);
		printf("sink_mpps %.4f\n",
		       elapsed > 0 ? (double)good / elapsed / 1e6 : 0);
	}
	return ret;
}
