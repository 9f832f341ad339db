// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb.c - xmbuf-lb end to end: the example binary, run as a user
 * would, between namespaces of the test's own (tests/lib/lb_topo.h), with
 * backends that decapsulate in XDP (xmbuf-decap, examples/decap/) and
 * answer the client directly.
 *
 *   ns_cli 198.18.1.1 ------+
 *   (AF_PACKET: the test)   |          ns_sw: bridge br0
 *   ns_lb  198.18.1.2 ------+---[br0]--+
 *   (xmbuf-lb -i el0)       |          |
 *   ns_lb2 198.18.1.3 ------+          +--- ns_be1 198.18.1.11  VIP on lo
 *   (a second xmbuf-lb)                +--- ns_be2 198.18.1.12  xmbuf-decap
 *                                      +--- ns_be3 198.18.1.13  UDP server
 *
 * The client sends UDP datagrams to VIP 198.18.2.1 as raw frames, with
 * the chosen balancer's MAC as destination (so two balancers can be asked
 * about the same flows); a balancer encapsulates each toward a backend;
 * the backend's XDP program strips the outer header, its stack delivers
 * the datagram to the server (a thread of this test holding a socket in
 * each backend namespace), which answers with its name straight to the
 * client.  A flow's backend is what answers it.
 *
 * Cases: spread within a stated tolerance of the weights and stickiness;
 * removal by SIGHUP (established flows stay, Maglev's disruption measured
 * with a fresh instance); drain by weight 0; a refused reload keeps the
 * running configuration; two instances agree on every flow; ICMP too big
 * at the MTU edge; fragments of a datagram reach one backend; non-VIP
 * traffic reaches the kernel; GUE; malformed frames counted, nothing
 * leaked (the balancer's own frame audit at exit); exit statuses.
 *
 * Addresses: 198.18.0.0/15 only; every send loop is bounded in count and
 * time; .fini kills what runs and deletes every namespace even when a
 * test fails.  Needs root; skipped, loudly, without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "xm_pkt.h"
#include "../lib/lb_topo.h"
#include "../lib/netns.h"

#define NBE		XM_LBT_NBE
#define VIP		XM_LBT_VIP4
#define VIP_N		XM_LBT_VIP4_N
#define CLIENT_N	XM_LBT_CLIENT4_N
#define KEY		"key 5ca1ab1e0ddba11cafef00d15ea5e000\n"
#define SPREAD_TOL	0.15		/* stated tolerance: 15% of a
					 * backend's weight share */
#define DISRUPT_MAX	0.02		/* Maglev: others' flows moved */

/* The topology, balancers, servers and client: tests/lib/lb_topo.h. */
static struct xm_lbt T;

static void topo_up(void)
{
	static const struct xm_lbt_opts o = {
		.what = "xmbuf-lb",
		.nlb = 2,
		.nsock = 2,
		.sock = { { 4, 53 }, { 4, 54 } },
	};

	xm_lbt_up(&T, &o);
}

static void topo_down(void)
{
	xm_lbt_down(&T);
}

TestSuite(lb, .init = topo_up, .fini = topo_down, .timeout = 120);

/* A UDP datagram (IPv4) from the client to VIP:dport through lbi. */
static uint32_t client_frame(uint8_t *buf, uint32_t cap, int lbi,
			     uint16_t sport, uint16_t dport, uint32_t flow,
			     uint32_t payload_len, bool df)
{
	const struct xm_lbt_dgram d = {
		.lb = lbi,
		.family = 4,
		.sport = sport,
		.dport = dport,
		.flow = flow,
		.l3_len = XM_PKT_IPV4_HLEN + XM_PKT_UDP_HLEN + payload_len,
		.df = df,
	};

	return xm_lbt_client_frame(&T, buf, cap, &d);
}

/* Flows sport0.. to VIP:dport through balancer lbi: xm_lbt_probe(). */
static int probe(int lbi, uint16_t sport0, int n, uint16_t dport, int *be)
{
	return xm_lbt_probe(&T, lbi, 4, sport0, n, dport, be);
}

static const char *conf3(const char *w1, const char *w2, const char *w3,
			 const char *extra)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), KEY
		 "src-prefix 198.18.128.0/17\n%s"
		 "vip " VIP " udp 53 frag\n"
		 "  backend 198.18.1.11 mac 02:00:00:00:01:0b%s\n"
		 "  backend 198.18.1.12 mac 02:00:00:00:01:0c%s\n"
		 "  backend 198.18.1.13 mac 02:00:00:00:01:0d%s\n"
		 "vip " VIP " udp 54\n"
		 "  backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
		 "  backend 198.18.1.12 mac 02:00:00:00:01:0c\n",
		 extra ? extra : "", w1, w2, w3);
	return buf;
}

/* ---------------------------------------------------------------- tests */

Test(lb, flows_spread_by_weight_and_stick)
{
	enum { N = 1200 };
	static int be[N], again[N];
	int per[NBE];
	const double share[NBE] = { 0.25, 0.25, 0.5 };
	char within[64];

	xm_lbt_start(&T, 0, conf3("", "", " weight 2", NULL), NULL);
	cr_assert_eq(probe(0, 20000, N, 53, be), N, "every flow answered");
	xm_lbt_assert_spread(be, N, share, SPREAD_TOL, "IPv4", per);
	/* The same flows twice more: each sticks to its backend. */
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(probe(0, 20000, N, 53, again), N);
		for (int i = 0; i < N; i++)
			cr_assert_eq(again[i], be[i], "flow %d moved", i);
	}
	xm_lbt_stop_clean(&T, 0);
	/* The balancer's own view: 3N packets, N new flows, by backend. */
	cr_assert_geq(xm_lbt_summary(&T, 0, NULL, "forwarded"), 3 * N);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"vip\":\"" VIP ":53/udp\"",
			      "new_flows"), N);
	for (int b = 0; b < NBE; b++) {
		snprintf(within, sizeof(within), "\"addr\":\"198.18.1.%d\"",
			 11 + b);
		cr_assert_eq(xm_lbt_summary(&T, 0, within, "new_flows"),
			     (uint64_t)per[b], "backend %d", b + 1);
	}
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"dropped\"", "total"), 0);
	/* The outer header went into the RX frames' headroom: AF_XDP copy
	 * mode puts packets XDP_PACKET_HEADROOM (256) into the chunk. */
	cr_assert_geq(xm_lbt_summary(&T, 0, NULL, "headroom_min"), 256);
}

Test(lb, removal_by_sighup_moves_only_its_flows)
{
	enum { N = 900 };
	static int before[N], after[N], fresh[N];
	int of_gone = 0, moved = 0, fresh_moved = 0, others = 0;
	double disruption;

	xm_lbt_start(&T, 0, conf3("", "", "", NULL), NULL);
	cr_assert_eq(probe(0, 21000, N, 53, before), N);
	/* Backend 3 leaves. */
	cr_assert(xm_lbt_reload(&T, 0, KEY "src-prefix 198.18.128.0/17\n"
			    "vip " VIP " udp 53\n"
			    "backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
			    "backend 198.18.1.12 mac 02:00:00:00:01:0c\n"),
		  "reload refused: %s", T.lb[0].err);
	cr_assert_eq(probe(0, 21000, N, 53, after), N);
	for (int i = 0; i < N; i++) {
		if (before[i] == 2) {
			of_gone++;
			cr_assert_neq(after[i], 2, "flow %d still on the "
				      "removed backend", i);
		} else {
			moved += after[i] != before[i];
		}
	}
	cr_assert_gt(of_gone, N / 6);
	cr_assert_eq(moved, 0, "%d established flows moved", moved);

	/*
	 * Maglev's own disruption, without the connection table: a fresh
	 * instance with the new configuration and the same key.
	 */
	xm_lbt_start(&T, 1, KEY "src-prefix 198.18.128.0/17\n"
		 "vip " VIP " udp 53\n"
		 "backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
		 "backend 198.18.1.12 mac 02:00:00:00:01:0c\n", NULL);
	cr_assert_eq(probe(1, 21000, N, 53, fresh), N);
	for (int i = 0; i < N; i++) {
		if (before[i] == 2)
			continue;
		others++;
		fresh_moved += fresh[i] != before[i];
	}
	disruption = (double)fresh_moved / others;
	cr_log_info("Maglev disruption: %d of %d flows of the remaining "
		    "backends moved (%.2f%%)", fresh_moved, others,
		    100 * disruption);
	cr_assert_leq(disruption, DISRUPT_MAX);
	xm_lbt_stop_clean(&T, 0);
	xm_lbt_stop_clean(&T, 1);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "reloads"), 1);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "rescheduled"),
		     (uint64_t)of_gone);
}

Test(lb, weight_zero_drains)
{
	enum { N = 600 };
	static int before[N], after[N], fresh[N];
	int on_b2 = 0;

	xm_lbt_start(&T, 0, conf3("", "", "", NULL), NULL);
	cr_assert_eq(probe(0, 22000, N, 53, before), N);
	cr_assert(xm_lbt_reload(&T, 0, conf3("", " weight 0", "", NULL)));
	cr_assert_eq(probe(0, 22000, N, 53, after), N);
	for (int i = 0; i < N; i++) {
		on_b2 += before[i] == 1;
		cr_assert_eq(after[i], before[i], "established flow %d moved",
			     i);
	}
	cr_assert_gt(on_b2, N / 6, "backend 2 had flows to keep");
	cr_assert_eq(probe(0, 30000, N, 53, fresh), N);
	for (int i = 0; i < N; i++)
		cr_assert_neq(fresh[i], 1, "new flow %d to a drained backend",
			      i);
	xm_lbt_stop_clean(&T, 0);
}

Test(lb, bad_reload_keeps_the_running_configuration)
{
	enum { N = 300 };
	static int before[N], after[N];
	size_t mark;

	xm_lbt_start(&T, 0, conf3("", "", "", NULL), NULL);
	cr_assert_eq(probe(0, 23000, N, 53, before), N);
	mark = T.lb[0].err_len;
	cr_assert_not(xm_lbt_reload(&T, 0, KEY "src-prefix 198.18.128.0/17\n"
				"vip " VIP " udp 53\n"
				"backend 198.18.1.11 weight lots\n"),
		      "a bad file was accepted");
	cr_assert_not_null(strstr(T.lb[0].err + mark, "lb0.conf:4: weight"),
			   "the message names the line: %s",
			   T.lb[0].err + mark);
	/* Old flows and the old pool go on (port 54 still exists). */
	cr_assert_eq(probe(0, 23000, N, 53, after), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(after[i], before[i]);
	cr_assert_eq(probe(0, 24000, 50, 54, after), 50);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "reload_failures"), 1);
}

Test(lb, two_instances_agree)
{
	enum { N = 1000 };
	static int a[N], b[N];
	const char *conf = conf3(" weight 3", "", " weight 2", NULL);

	xm_lbt_start(&T, 0, conf, NULL);
	xm_lbt_start(&T, 1, conf, NULL);
	cr_assert_eq(probe(0, 25000, N, 53, a), N);
	cr_assert_eq(probe(1, 25000, N, 53, b), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(a[i], b[i], "flow %d: backend %d vs %d", i,
			     a[i] + 1, b[i] + 1);
	xm_lbt_stop_clean(&T, 0);
	xm_lbt_stop_clean(&T, 1);
}

Test(lb, icmp_too_big_at_the_mtu_edge)
{
	uint8_t frame[2048];
	uint32_t len;

	xm_lbt_start(&T, 0, conf3("", "", "", NULL), NULL);
	/* IP packet of 1480 bytes: 1500 with the outer header, fits. */
	len = client_frame(frame, sizeof(frame), 0, 26000, 53, 0,
			   1480 - 28, true);
	cr_assert_eq(len, 14 + 1480);
	cr_assert(xm_lbt_answered_once(&T, 0, 4, 26000, 53, 1480),
		  "1480 bytes were not answered");
	/* One byte more: the answer is ICMP from the VIP, MTU 1480. */
	len = client_frame(frame, sizeof(frame), 0, 26001, 53, 1,
			   1481 - 28, true);
	cr_assert_eq(xm_raw_send(T.cli_fd, frame, len), 0);
	cr_assert_eq(xm_lbt_wait_too_big(&T, 4, 26001, 1000), 1480);
	/* Without DF a router would fragment; we count and drop. */
	len = client_frame(frame, sizeof(frame), 0, 26002, 53, 2,
			   1481 - 28, false);
	cr_assert_eq(xm_raw_send(T.cli_fd, frame, len), 0);
	/* stop once the balancer has counted that drop */
	cr_assert_geq(xm_lbt_wait_live(&T, 0, "drop", 1, 10000), 1,
		      "the frame without DF was not counted: %s", T.lb[0].err);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "icmp_too_big_sent"), 1);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "too_big"), 2);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "too_big_unanswered"), 1);
}

/* Sends d as 1024-byte IPv4 fragments of its IP payload (8-aligned). */
static void send_fragments(struct xm_lbt *t, const struct xm_lbt_dgram *d)
{
	static uint8_t whole[4096];
	uint8_t frag[1600];
	uint32_t len, l3 = 14, iplen, off = 0;

	len = xm_lbt_client_frame(t, whole, sizeof(whole), d);
	iplen = len - l3;
	while (off < iplen - 20) {
		uint32_t piece = iplen - 20 - off;
		uint16_t fr, tl, csum = 0;

		if (piece > 1024)
			piece = 1024;
		memcpy(frag, whole, l3 + 20);
		memcpy(frag + l3 + 20, whole + l3 + 20 + off, piece);
		tl = htons((uint16_t)(20 + piece));
		fr = htons((uint16_t)((off / 8) |
			   (off + piece < iplen - 20 ? XM_PKT_IP_MF : 0)));
		memcpy(frag + l3 + 2, &tl, 2);
		memcpy(frag + l3 + 6, &fr, 2);
		memcpy(frag + l3 + 10, &csum, 2);
		csum = xm_pkt_ipv4_csum(frag + l3, 20);
		memcpy(frag + l3 + 10, &csum, 2);
		cr_assert_eq(xm_raw_send(t->cli_fd, frag, l3 + 20 + piece), 0);
		off += piece;
	}
}

/*
 * Datagrams of 3000 bytes cut into three IPv4 fragments by hand: the
 * backend answers only if its stack got all three to reassemble.  The
 * pieces are 1024 bytes: a full-size (1500) fragment would not fit the
 * 1500-byte path to the backends once encapsulated (without DF, it is
 * dropped and counted; the next test covers that edge).
 */
Test(lb, fragments_of_a_datagram_reach_one_backend)
{
	enum { D = 30 };
	const struct xm_lbt_dgram first = {
		.family = 4,
		.sport = 27000,
		.dport = 53,
		.l3_len = 20 + 8 + 3000,
		.df = false,
	};
	int answered, be_of[D];

	xm_lbt_start(&T, 0, conf3("", "", "", NULL), NULL);
	answered = xm_lbt_ask(&T, &first, D, 3, 500, send_fragments, be_of);
	cr_assert_eq(answered, D, "%d of %d fragmented datagrams reassembled",
		     answered, D);
	/* By 3-tuple: one client, one VIP, one protocol -> one backend. */
	xm_lbt_assert_one_backend(be_of, D);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_geq(xm_lbt_summary(&T, 0, NULL, "fragments"), 3 * D);
}

Test(lb, traffic_for_no_service_reaches_the_kernel)
{
	struct xm_pkt_eth eth;
	struct xm_pkt_ip ip;
	uint8_t frame[128], rx[9200];
	uint8_t icmp[16] = { XM_PKT_ICMP_ECHO, 0, 0, 0, 0x12, 0x34, 0, 1 };
	uint16_t csum;
	int n, got = 0;

	xm_lbt_start(&T, 0, conf3("", "", "", NULL), NULL);
	/* A ping to the balancer host's own address. */
	memset(&eth, 0, sizeof(eth));
	memcpy(eth.eth_src, xm_lbt_cli_mac, 6);
	xm_lbt_lb_mac(0, eth.eth_dst);
	eth.eth_type = XM_PKT_ETH_P_IPV4;
	memset(&ip, 0, sizeof(ip));
	ip.ip_version = 4;
	ip.ip_proto = XM_PKT_IPPROTO_ICMP;
	ip.ip_src.a_v4 = htonl(CLIENT_N);
	ip.ip_dst.a_v4 = htonl(0xc6120102u);
	ip.ip_payload_len = sizeof(icmp);
	csum = xm_pkt_csum_fold(xm_pkt_csum_partial(icmp, sizeof(icmp), 0));
	memcpy(icmp + 2, &csum, 2);
	n = xm_pkt_build_eth(frame, sizeof(frame), &eth);
	n += xm_pkt_build_ip(frame + n, sizeof(frame) - (uint32_t)n, &ip);
	memcpy(frame + n, icmp, sizeof(icmp));
	n += (int)sizeof(icmp);
	for (int t = 0; t < 5 && !got; t++) {
		uint64_t end = xm_now_ms() + 400;

		cr_assert_eq(xm_raw_send(T.cli_fd, frame, (size_t)n), 0);
		while (!got && xm_now_ms() < end) {
			ssize_t len = xm_raw_recv(T.cli_fd, rx, sizeof(rx), 50);
			struct xm_pkt_info pi;

			got = len > 0 && !xm_pkt_parse(rx, (uint32_t)len, &pi) &&
			      pi.pi_proto == XM_PKT_IPPROTO_ICMP &&
			      pi.pi_icmp_type == XM_PKT_ICMP_ECHOREPLY &&
			      pi.pi_ip.ip_src.a_v4 == htonl(0xc6120102u);
		}
	}
	cr_assert(got, "the balancer host's stack did not answer the ping");
	/* While VIP traffic is balanced. */
	{
		int be[20];

		cr_assert_eq(probe(0, 28000, 20, 53, be), 20);
	}
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "not_tcp_udp"), 0,
		     "the ping never reached the workers");
	cr_assert_geq(xm_lbt_summary(&T, 0, "\"port\"", "xdp_passed"), 1);
}

/* ------------------------------------------- reloads and other traffic */

/* The client floods the balancer host's own address, paced and bounded. */
struct flood {
	int fd;				/* the client's AF_PACKET socket */
	uint8_t frame[64];
	size_t len;
	uint32_t max;			/* frames at the most */
	uint64_t until_ms;		/* and not past this */
	volatile bool stop;
	uint32_t sent;			/* frames sent */
	int err;			/* first send error */
};

static void *flood_main(void *arg)
{
	struct flood *f = arg;

	while (!f->stop && f->sent < f->max && xm_now_ms() < f->until_ms) {
		int e = xm_raw_send(f->fd, f->frame, f->len);

		if (e) {
			f->err = e;
			break;
		}
		/* ~16 frames a burst: a steady stream the veth rings and
		 * the receiving socket keep up with on two loaded cores. */
		if (++f->sent % 16 == 0)
			usleep(300);
	}
	return NULL;
}

/* Counts what a UDP socket gets until told to stop. */
struct sink {
	int fd;
	volatile bool stop;
	uint32_t got;
};

static void *sink_main(void *arg)
{
	struct sink *s = arg;
	uint8_t buf[256];

	while (!s->stop) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		if (poll(&p, 1, 50) <= 0)
			continue;
		while (recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			s->got++;
	}
	return NULL;
}

/*
 * Reloads that change the steering rules, under a stream of UDP to the
 * balancer host's own address (not a VIP): not one packet of it may
 * reach the workers, and the host's socket gets every one.  The rule
 * set must switch in one step: never empty, never "everything".
 */
Test(lb, reloads_switch_rules_without_stealing_other_traffic)
{
	enum { RELOADS = 80 };
	const uint32_t lb_host = htonl(0xc6120102u);	/* 198.18.1.2 */
	char with_tcp[2048];
	struct flood fl = { .max = 400000 };
	struct sink sk = { .fd = -1 };
	pthread_t ft, st;
	struct xm_tframe tf;
	uint8_t lbmac[6];
	int rcvbuf = 32 << 20;
	uint64_t end;

	snprintf(with_tcp, sizeof(with_tcp), "%s"
		 "vip " VIP " tcp 80\n"
		 "  backend 198.18.1.11 mac 02:00:00:00:01:0b\n",
		 conf3("", "", "", NULL));
	xm_lbt_start(&T, 0, conf3("", "", "", NULL), NULL);

	sk.fd = xm_udp_open(&T.ns_lb[0], lb_host, 9999);
	cr_assert_geq(sk.fd, 0, "socket: %s", strerror(-sk.fd));
	cr_assert_eq(setsockopt(sk.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
				sizeof(rcvbuf)), 0);
	xm_lbt_lb_mac(0, lbmac);
	memset(&tf, 0, sizeof(tf));
	tf.dmac = lbmac;
	tf.smac = xm_lbt_cli_mac;
	tf.family = 4;
	tf.saddr = htonl(CLIENT_N);
	tf.daddr = lb_host;
	tf.sport = 40000;
	tf.dport = 9999;
	fl.fd = T.cli_fd;
	fl.len = xm_tframe_build(fl.frame, 60, &tf);
	cr_assert_eq(fl.len, 60);
	fl.until_ms = xm_now_ms() + 60000;

	cr_assert_eq(pthread_create(&st, NULL, sink_main, &sk), 0);
	cr_assert_eq(pthread_create(&ft, NULL, flood_main, &fl), 0);
	for (int i = 0; i < RELOADS; i++) {
		bool ok = xm_lbt_reload(&T, 0, i % 2 ? conf3("", "", "", NULL)
						     : with_tcp);

		if (!ok)
			break;
	}
	fl.stop = true;
	pthread_join(ft, NULL);
	/* Everything sent is either in the socket or on its way: wait for
	 * the count, bounded. */
	end = xm_now_ms() + 10000;
	while (sk.got < fl.sent && xm_now_ms() < end)
		usleep(10000);
	sk.stop = true;
	pthread_join(st, NULL);
	close(sk.fd);
	cr_assert_eq(fl.err, 0, "flood: %s", strerror(-fl.err));
	cr_log_info("%u frames to the host, %u delivered, %d reloads",
		    fl.sent, sk.got, RELOADS);

	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "reloads"), RELOADS);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"port\"", "xdp_redirected"), 0,
		     "traffic for no service reached the balancer");
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"dropped\"", "no_service"), 0);
	cr_assert_gt(fl.sent, 1000, "the stream ran");
	cr_assert_eq(sk.got, fl.sent, "the host's own traffic: %u of %u "
		     "delivered", sk.got, fl.sent);
}

/*
 * A FIFO where the configuration should be: refused at once with a
 * message, at start (exit 1) and at a reload (the running configuration
 * stays, the next good reload goes through), never waited on.
 */
Test(lb, a_fifo_as_configuration_is_refused_not_waited_on)
{
	char fifo[160];
	const char *args[] = { "-i", "el0", "-c", fifo, "-p", NULL };
	int be[20], st;
	size_t mark;

	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", T.tmpdir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	xm_lbt_spawn(&T.lb[0], &T.ns_lb[0], args);
	st = xm_lbt_finish(&T.lb[0], 0, 10000);
	cr_assert_eq(st, 1, "exit %d: %s", st, T.lb[0].err);
	cr_assert_not_null(strstr(T.lb[0].err, "fifo.conf: not a regular "
				  "file"), "%s", T.lb[0].err);

	xm_lbt_start(&T, 0, conf3("", "", "", NULL), NULL);
	cr_assert_eq(rename(fifo, T.lb[0].conf), 0);
	mark = T.lb[0].err_len;
	cr_assert_not(xm_lbt_hup(&T, 0), "a FIFO was read as a configuration");
	cr_assert_not_null(strstr(T.lb[0].err + mark, "not a regular file"),
			   "%s", T.lb[0].err + mark);
	/* the main thread is not stuck: the next reload is answered */
	cr_assert(xm_lbt_reload(&T, 0, conf3("", "", "", NULL)),
		  "%s", T.lb[0].err + mark);
	cr_assert_eq(probe(0, 32000, 20, 53, be), 20);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "reload_failures"), 1);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "reloads"), 1);
}

/*
 * The connection table under a flood of new flows from many sources:
 * 200 established flows in a table of 1024, then up to 20000 datagrams
 * from as many spoofed sources (another service, same table), then a
 * reload adding a fourth backend, which does not exist: a flow that lost
 * its entry and moved there goes unanswered.  Every established flow
 * must still be answered by its backend.
 */
Test(lb, a_flood_of_new_flows_leaves_established_ones_in_place)
{
	enum { EST = 200, FLOOD = 20000 };
	static int before[EST], after[EST];
	char conf[2048], conf4[2048];
	struct xm_tframe tf;
	uint8_t lbmac[6], frame[64];
	uint64_t end;
	uint32_t sent = 0;

	for (int k = 0; k < 2; k++)
		snprintf(k ? conf4 : conf, sizeof(conf), KEY "lru-size 1024\n"
			 "src-prefix 198.18.128.0/17\n"
			 "vip " VIP " udp 53\n"
			 "  backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
			 "  backend 198.18.1.12 mac 02:00:00:00:01:0c\n"
			 "  backend 198.18.1.13 mac 02:00:00:00:01:0d\n%s"
			 "vip " VIP " udp 55\n"
			 "  backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
			 "  backend 198.18.1.12 mac 02:00:00:00:01:0c\n"
			 "  backend 198.18.1.13 mac 02:00:00:00:01:0d\n",
			 k ? "  backend 198.18.1.14 mac 02:00:00:00:01:0e\n"
			   : "");
	xm_lbt_start(&T, 0, conf, NULL);
	cr_assert_eq(probe(0, 33000, EST, 53, before), EST);

	xm_lbt_lb_mac(0, lbmac);
	memset(&tf, 0, sizeof(tf));
	tf.dmac = lbmac;
	tf.smac = xm_lbt_cli_mac;
	tf.family = 4;
	tf.daddr = htonl(VIP_N);
	tf.dport = 55;
	end = xm_now_ms() + 2000;
	for (; sent < FLOOD && xm_now_ms() < end; sent++) {
		/* 198.19.x.y: no backend has a route back, so the flood
		 * makes no replies */
		tf.saddr = htonl(0xc6130000u | sent);
		tf.sport = (uint16_t)(1024 + sent % 50000);
		cr_assert_eq(xm_tframe_build(frame, 60, &tf), 60);
		cr_assert_eq(xm_raw_send(T.cli_fd, frame, 60), 0);
		if (sent % 64 == 63)
			usleep(200);
	}
	cr_log_info("flood: %u datagrams from as many sources", sent);

	cr_assert(xm_lbt_reload(&T, 0, conf4), "%s", T.lb[0].err);
	cr_assert_eq(probe(0, 33000, EST, 53, after), EST,
		     "established flows moved to the new (absent) backend");
	for (int i = 0; i < EST; i++)
		cr_assert_eq(after[i], before[i], "flow %d moved", i);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"lru\"", "evictions"), 0);
	cr_assert_gt(xm_lbt_summary(&T, 0, "\"lru\"", "pin_refused_table"), 0);
	cr_assert_gt(sent, 2000, "the flood was too small to tell");
}

Test(lb, gue_encapsulation)
{
	enum { N = 200 };
	static int be[N];
	int per[NBE] = { 0 };
	uint64_t gue = 0;

	xm_lbt_start(&T, 0, conf3("", "", "", "encap gue 6080\n"), NULL);
	cr_assert_eq(probe(0, 29000, N, 53, be), N);
	for (int i = 0; i < N; i++)
		per[be[i]]++;
	xm_lbt_stop_clean(&T, 0);
	/* The backends' XDP program counted GUE, not IPIP. */
	for (int b = 0; b < NBE; b++) {
		uint64_t g = xm_lbt_decap_count(&T, b, "gue");

		gue += g;
		cr_assert_geq(g, (uint64_t)per[b]);
	}
	cr_assert_geq(gue, N);
}

/* A frame: Ethernet + raw IPv4 header bytes + rest, to the VIP. */
static uint32_t bad_v4(uint8_t *f, uint8_t vhl, uint16_t totlen,
		       uint8_t proto, const uint8_t *rest, uint32_t rest_len)
{
	uint32_t a;

	memset(f, 0, 64);
	xm_lbt_lb_mac(0, f);
	memcpy(f + 6, xm_lbt_cli_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = vhl;
	f[16] = (uint8_t)(totlen >> 8);
	f[17] = (uint8_t)totlen;
	f[22] = 64;
	f[23] = proto;
	a = htonl(CLIENT_N);
	memcpy(f + 26, &a, 4);
	a = htonl(VIP_N);
	memcpy(f + 30, &a, 4);
	memcpy(f + 34, rest, rest_len);
	return 34 + rest_len;
}

Test(lb, malformed_frames_are_counted_and_nothing_leaks)
{
	static const uint8_t udp_hdr[8] = { 0x75, 0x30, 0, 53, 0, 16, 0, 0 };
	static const uint8_t udp_long[8] = { 0x75, 0x31, 0, 53, 0x05, 0, 0, 0 };
	static const uint8_t tcp_bad[20] = { 0x75, 0x32, 0, 80, 0, 0, 0, 1,
					     0, 0, 0, 0, 0x30, 0x02 };
	uint8_t f[256], six[256];
	uint32_t len;
	int be[50], reach = 0;

	xm_lbt_start(&T, 0, KEY "src-prefix 198.18.128.0/17\n"
		 "src-prefix 2001:2:0:8000::/64\n"
		 "vip " VIP " udp 53\n"
		 "backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
		 "vip " VIP " tcp 80\n"
		 "backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
		 "vip 2001:2::1 udp 53\n"
		 "backend 2001:2::11 mac 02:00:00:00:01:0b\n", NULL);
	for (int rep = 0; rep < 5; rep++) {
		/* Cut or short headers the XDP program cannot read: its
		 * rule tests hold on what it cannot parse, so these reach
		 * the balancer too (bpf/xm_redirect_match.h), whose parser
		 * refuses them (AF_PACKET sends nothing shorter than an
		 * Ethernet header). */
		len = bad_v4(f, 0x45, 40, 17, udp_hdr, 8);
		cr_assert_eq(xm_raw_send(T.cli_fd, f, 14), 0);	/* tiny */
		len = bad_v4(f, 0x45, 40, 17, udp_hdr, 8);
		cr_assert_eq(xm_raw_send(T.cli_fd, f, 14 + 12), 0); /* IP cut */
		len = bad_v4(f, 0x44, 28, 17, udp_hdr, 8);	/* IHL 4 */
		cr_assert_eq(xm_raw_send(T.cli_fd, f, len), 0);

		/* Read whole by the XDP program, refused by the balancer. */
		len = bad_v4(f, 0x4f, 28, 17, udp_hdr, 8);	/* IHL 15 */
		cr_assert_eq(xm_raw_send(T.cli_fd, f, len), 0);
		len = bad_v4(f, 0x45, 1400, 17, udp_hdr, 8);	/* len > frame */
		cr_assert_eq(xm_raw_send(T.cli_fd, f, len), 0);
		len = bad_v4(f, 0x45, 12, 17, udp_hdr, 8);	/* len < hdr */
		cr_assert_eq(xm_raw_send(T.cli_fd, f, len), 0);
		len = bad_v4(f, 0x45, 24, 17, udp_hdr, 8);	/* UDP cut */
		cr_assert_eq(xm_raw_send(T.cli_fd, f, len - 4), 0);
		len = bad_v4(f, 0x45, 28, 17, udp_long, 8);	/* UDP len */
		cr_assert_eq(xm_raw_send(T.cli_fd, f, len), 0);
		len = bad_v4(f, 0x45, 40, 6, tcp_bad, 20);	/* TCP doff 3 */
		cr_assert_eq(xm_raw_send(T.cli_fd, f, len), 0);

		/* IPv6: hop-by-hop after a destination options header. */
		memset(six, 0, sizeof(six));
		xm_lbt_lb_mac(0, six);
		memcpy(six + 6, xm_lbt_cli_mac, 6);
		six[12] = 0x86;
		six[13] = 0xdd;
		six[14] = 0x60;
		six[19] = 8 + 8 + 8;			/* payload length */
		six[20] = XM_PKT_IPPROTO_DSTOPTS;
		six[21] = 64;
		six[22] = 0x20; six[23] = 0x01; six[25] = 0x02; six[37] = 5;
		six[38] = 0x20; six[39] = 0x01; six[41] = 0x02; six[53] = 1;
		six[54] = XM_PKT_IPPROTO_HOPOPTS;	/* DSTOPTS -> HBH */
		six[56] = 1; six[57] = 4;
		six[62] = XM_PKT_IPPROTO_UDP;		/* HBH -> UDP */
		six[64] = 1; six[65] = 4;
		memcpy(six + 70, udp_hdr, 8);
		six[75] = 8;
		cr_assert_eq(xm_raw_send(T.cli_fd, six, 78), 0);
		/* ... and a chain of 9 extension headers. */
		six[19] = 9 * 8 + 8;
		for (int h = 0; h < 9; h++) {
			six[54 + 8 * h] = h < 8 ? XM_PKT_IPPROTO_DSTOPTS
						: XM_PKT_IPPROTO_UDP;
			six[55 + 8 * h] = 0;
			six[56 + 8 * h] = 1;
			six[57 + 8 * h] = 4;
			memset(six + 58 + 8 * h, 0, 4);
		}
		memcpy(six + 54 + 72, udp_hdr, 8);
		six[54 + 72 + 5] = 8;
		cr_assert_eq(xm_raw_send(T.cli_fd, six, 54 + 80), 0);
	}
	/* Good traffic still flows. */
	cr_assert_eq(probe(0, 31000, 50, 53, be), 50);
	xm_lbt_stop_clean(&T, 0);
	/* tiny, IP cut, IHL 4, IHL 15, two lengths, UDP cut, UDP len, TCP,
	 * HBH, 9 extension headers */
	reach = 11;
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"dropped\"", "malformed"),
		     (uint64_t)(5 * reach), "%s", T.lb[0].out);
	/* By reason, under xm_pkt_strerror()'s names. */
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"malformed\":{",
			      "misplaced IPv6 extension header"), 5);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"malformed\":{",
			      "TCP data offset below 5"), 5);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"malformed\":{",
			      "bad UDP length"), 5);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "forwarded"), 50);
}

Test(lb, exit_statuses)
{
	static const char *const no_config[] = { "-i", "el0", NULL };
	static const char *const bad_opt[] = { "--bogus", NULL };
	char bad[160], good[160];
	const char *check_bad[] = { "-c", bad, "--check", NULL };
	const char *check_good[] = { "-c", good, "--check", NULL };
	const char *no_if[] = { "-i", "nonexistent0", "-c", good, NULL };
	const char *bad_run[] = { "-i", "el0", "-c", bad, NULL };
	int st;

	snprintf(bad, sizeof(bad), "%s/bad.conf", T.tmpdir);
	snprintf(good, sizeof(good), "%s/good.conf", T.tmpdir);
	xm_lbt_write_file(bad, "vip " VIP " udp 53\nbackend 198.18.1.11\n");
	xm_lbt_write_file(good, conf3("", "", "", NULL));

	xm_lbt_spawn(&T.lb[0], NULL, no_config);
	cr_assert_eq(xm_lbt_finish(&T.lb[0], 0, 5000), 2);
	cr_assert_not_null(strstr(T.lb[0].err, "--help"), "%s", T.lb[0].err);
	xm_lbt_spawn(&T.lb[0], NULL, bad_opt);
	cr_assert_eq(xm_lbt_finish(&T.lb[0], 0, 5000), 2);
	xm_lbt_spawn(&T.lb[0], NULL, check_bad);
	cr_assert_eq(xm_lbt_finish(&T.lb[0], 0, 5000), 1);
	cr_assert_not_null(strstr(T.lb[0].err, "bad.conf:2: backend has no "
				  "next hop"), "%s", T.lb[0].err);
	xm_lbt_spawn(&T.lb[0], NULL, check_good);
	cr_assert_eq(xm_lbt_finish(&T.lb[0], 0, 5000), 0, "%s", T.lb[0].err);
	cr_assert_not_null(strstr(T.lb[0].out, "ok: 2 service(s)"), "%s",
			   T.lb[0].out);
	xm_lbt_spawn(&T.lb[0], &T.ns_lb[0], no_if);
	cr_assert_eq(xm_lbt_finish(&T.lb[0], 0, 10000), 1);
	cr_assert_not_null(strstr(T.lb[0].err, "nonexistent0"), "%s",
			   T.lb[0].err);
	xm_lbt_spawn(&T.lb[0], &T.ns_lb[0], bad_run);
	st = xm_lbt_finish(&T.lb[0], 0, 10000);
	cr_assert_eq(st, 1, "a bad configuration at start: exit 1");
	unlink(bad);
	unlink(good);
}
