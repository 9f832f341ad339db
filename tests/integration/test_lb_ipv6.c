// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_ipv6.c - xmbuf-lb end to end over IPv6: IPv6 services
 * encapsulated IP6IP6 to IPv6 backends, the mixed families (6in4: an
 * IPv6 service on IPv4 backends; 4in6: an IPv4 service on IPv6 backends),
 * GUE over IPv6, and ICMPv6 packet-too-big at the MTU edge.  The topology
 * is test_lb.c's, dual-stacked (tests/lib/lb_topo.h):
 *
 *   ns_cli 198.18.1.1  2001:2:0:1::1 ---+
 *   (AF_PACKET: the test)               |        ns_sw: bridge br0
 *   ns_lb  198.18.1.2 (xmbuf-lb -i el0)-+-[br0]-+ (swel0: the sniffer)
 *                                               +- ns_be1 .11  ::11
 *   VIPs 2001:2:0:2::1 and 198.18.2.1 on the    +- ns_be2 .12  ::12
 *   backends' lo; xmbuf-decap on their links    +- ns_be3 .13  ::13
 *
 * The client sends UDP datagrams to a VIP as raw frames to the balancer's
 * MAC; the balancer encapsulates each toward a backend; the backend's XDP
 * program (examples/decap/xm_decap.bpf.c) strips the outer header, its stack
 * delivers the datagram to the server (a thread of this test with a
 * socket per VIP and port in each backend namespace), which answers the
 * client directly from the VIP, resolving the client by ARP or neighbour
 * discovery.  A flow's backend is what answers it.  A raw socket on the
 * switch port of the balancer sees the encapsulated frames as they left
 * it, so the outer headers are checked on the wire.
 *
 * Addresses: 198.18.0.0/15 for IPv4 and the IPv6 benchmarking prefix
 * 2001:2::/48 (RFC 5180), only inside the test's namespaces; IPv6 is
 * turned on only in the client's and backends' namespaces (the helpers
 * leave it off).  Every send loop is bounded in count and time; .fini
 * kills what runs and deletes every namespace even when a test fails.
 * Needs root; skipped, loudly, without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "xm_pkt.h"
#include "../lib/lb_topo.h"
#include "../lib/netns.h"

#define NBE		XM_LBT_NBE
#define VIP4		XM_LBT_VIP4
#define VIP6		XM_LBT_VIP6
#define BE6(n)		"2001:2:0:1::1" #n	/* n = 1..3 */
#define SRC6_PREFIX	"2001:2:0:8000::"	/* /64, outer sources */
#define GUE_PORT	XM_LBT_GUE_PORT
#define KEY		"key 5ca1ab1e0ddba11cafef00d15ea5e000\n"
#define SRC_LINES	"src-prefix 198.18.128.0/17\n" \
			"src-prefix " SRC6_PREFIX "/64\n"
#define SPREAD_TOL	0.15		/* stated tolerance: 15% of a
					 * backend's weight share */
#define SPREAD_TOL_300	0.25		/* ... for 300 flows over three:
					 * 3 binomial sigmas (8.2 of 100) */

static const uint8_t lb_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };

/* The topology, balancer, servers and client: tests/lib/lb_topo.h. */
static struct xm_lbt T;
static int sniff_fd = -1;
static struct in6_addr src6;

static void topo_up(void)
{
	static const struct xm_lbt_opts o = {
		.what = "xmbuf-lb IPv6",
		.nlb = 1,
		.ipv6 = true,
		.nsock = 3,
		.sock = { { 6, 53 }, { 6, 54 }, { 4, 53 } },
	};

	xm_lbt_up(&T, &o);
	cr_assert_eq(inet_pton(AF_INET6, SRC6_PREFIX, &src6), 1);
	/* The balancer's switch port: what the balancer sent arrives here. */
	sniff_fd = xm_raw_open(&T.ns_sw, "swel0");
	cr_assert_geq(sniff_fd, 0, "sniffer: %s", strerror(-sniff_fd));
}

static void topo_down(void)
{
	if (sniff_fd >= 0)
		close(sniff_fd);
	sniff_fd = -1;
	xm_lbt_down(&T);
}

TestSuite(lb6, .init = topo_up, .fini = topo_down, .timeout = 120);

/* A UDP datagram to the family's VIP:dport: l3_len bytes of IP, DF. */
static uint32_t client_frame(uint8_t *buf, uint32_t cap, int family,
			     uint16_t sport, uint16_t dport, uint32_t flow,
			     uint32_t l3_len)
{
	const struct xm_lbt_dgram d = {
		.family = family,
		.sport = sport,
		.dport = dport,
		.flow = flow,
		.l3_len = l3_len,
		.df = true,
	};

	return xm_lbt_client_frame(&T, buf, cap, &d);
}

/* Flows sport0.. to the family's VIP:dport: xm_lbt_probe(). */
static int probe(int family, uint16_t sport0, int n, uint16_t dport, int *be)
{
	return xm_lbt_probe(&T, 0, family, sport0, n, dport, be);
}

/* What the sniffer saw of the balancer's encapsulated frames. */
struct outer_seen {
	int frames;			/* from the balancer's MAC, IP outer */
	int ip6ip6;			/* IPv6 outer, next header 41 */
	int ip4in6;			/* IPv6 outer, next header 4 */
	int ip6in4;			/* IPv4 outer, protocol 41 */
	int gue6;			/* IPv6 outer, UDP to GUE_PORT */
	int bad;			/* a rule below broken */
};

/*
 * Reads what the balancer sent within ms and checks every outer header:
 * IPv6 outer from the src-prefix with a flow label, hop limit 64 and a
 * valid UDP checksum for GUE (RFC 6936: no zero checksum over IPv6);
 * IPv4 outer from 198.18.128.0/17 with DF.
 */
static struct outer_seen sniff_outer(int ms)
{
	struct outer_seen s = { 0 };
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	uint8_t rx[9200];

	while (xm_now_ms() < end) {
		ssize_t len = xm_raw_recv(sniff_fd, rx, sizeof(rx), 50);
		struct xm_pkt_info pi;

		if (len <= 0 || memcmp(rx + 6, lb_mac, 6) ||
		    xm_pkt_parse(rx, (uint32_t)len, &pi) ||
		    !(pi.pi_flags & (XM_PKT_F_IPV4 | XM_PKT_F_IPV6)))
			continue;
		s.frames++;
		if (pi.pi_flags & XM_PKT_F_IPV6) {
			bool src_ok = memcmp(pi.pi_ip.ip_src.a_v6, &src6,
					     8) == 0;

			if (!src_ok || pi.pi_ip.ip_flowlabel == 0 ||
			    pi.pi_ip.ip_ttl != 64)
				s.bad++;
			if (pi.pi_proto == XM_PKT_IPPROTO_IPV6)
				s.ip6ip6++;
			else if (pi.pi_proto == XM_PKT_IPPROTO_IPIP)
				s.ip4in6++;
			else if (pi.pi_proto == XM_PKT_IPPROTO_UDP &&
				 pi.pi_dport == GUE_PORT &&
				 xm_pkt_csum_ok(rx, &pi) &&
				 rx[pi.pi_l4_off + 6] |
				 rx[pi.pi_l4_off + 7])
				s.gue6++;
			else
				s.bad++;
		} else {
			uint32_t src = ntohl(pi.pi_ip.ip_src.a_v4);

			if ((src & 0xffff8000u) != 0xc6128000u ||
			    !(pi.pi_flags & XM_PKT_F_DF) ||
			    !xm_pkt_csum_ok(rx, &pi))
				s.bad++;
			if (pi.pi_proto == XM_PKT_IPPROTO_IPV6)
				s.ip6in4++;
			else
				s.bad++;
		}
	}
	return s;
}

/* Empties the sniffer's queue (frames of an earlier step). */
static void sniff_flush(void)
{
	uint8_t rx[9200];

	while (xm_raw_recv(sniff_fd, rx, sizeof(rx), 0) > 0)
		;
}

static const char *conf_v6(const char *extra)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), KEY SRC_LINES "%s"
		 "vip " VIP6 " udp 53 frag\n"
		 "  backend " BE6(1) " mac 02:00:00:00:01:0b\n"
		 "  backend " BE6(2) " mac 02:00:00:00:01:0c\n"
		 "  backend " BE6(3) " mac 02:00:00:00:01:0d weight 2\n"
		 "vip " VIP6 " udp 54\n"
		 "  backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
		 "  backend 198.18.1.12 mac 02:00:00:00:01:0c\n"
		 "  backend 198.18.1.13 mac 02:00:00:00:01:0d\n"
		 "vip " VIP4 " udp 53\n"
		 "  backend " BE6(1) " mac 02:00:00:00:01:0b\n"
		 "  backend " BE6(2) " mac 02:00:00:00:01:0c\n"
		 "  backend " BE6(3) " mac 02:00:00:00:01:0d\n",
		 extra ? extra : "");
	return buf;
}

/* ---------------------------------------------------------------- tests */

/*
 * An IPv6 service on IPv6 backends (IP6IP6): flows spread by weight
 * within the stated tolerance and stick to their backend; the outer
 * headers on the wire; the backends decapsulated IP6IP6.
 */
Test(lb6, ip6ip6_flows_spread_by_weight_and_stick)
{
	enum { N = 1200 };
	static int be[N], again[N];
	int per[NBE];
	const double share[NBE] = { 0.25, 0.25, 0.5 };
	struct outer_seen s;
	char within[64];

	xm_lbt_start(&T, 0, conf_v6(NULL), NULL);
	sniff_flush();
	cr_assert_eq(probe(6, 20000, N, 53, be), N, "every flow answered");
	s = sniff_outer(200);
	xm_lbt_assert_spread(be, N, share, SPREAD_TOL, "IP6IP6", per);
	cr_assert_geq(s.ip6ip6, N, "IP6IP6 frames on the wire: %d of %d",
		      s.ip6ip6, s.frames);
	cr_assert_eq(s.bad, 0, "%d frames with a wrong outer header", s.bad);
	/* The same flows twice more: each sticks to its backend. */
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(probe(6, 20000, N, 53, again), N);
		for (int i = 0; i < N; i++)
			cr_assert_eq(again[i], be[i], "flow %d moved", i);
	}
	xm_lbt_stop_clean(&T, 0);
	cr_assert_geq(xm_lbt_summary(&T, 0, NULL, "forwarded"), 3 * N);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"vip\":\"[" VIP6 "]:53/udp\"",
			      "new_flows"), N);
	for (int b = 0; b < NBE; b++) {
		snprintf(within, sizeof(within), "\"addr\":\"2001:2:0:1::1%d\"",
			 b + 1);
		cr_assert_eq(xm_lbt_summary(&T, 0, within, "new_flows"),
			     (uint64_t)per[b], "backend %d", b + 1);
		cr_assert_geq(xm_lbt_decap_count(&T, b, "ip6ip6"),
			      3 * (uint64_t)per[b], "backend %d decapsulated",
			      b + 1);
	}
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"dropped\"", "total"), 0);
}

/*
 * Mixed families: an IPv6 service on IPv4 backends (6in4, protocol 41)
 * and an IPv4 service on IPv6 backends (4in6, next header 4), both
 * answered by every backend, flows sticking, decapsulated as such.
 */
Test(lb6, mixed_families_6in4_and_4in6)
{
	enum { N = 300 };
	static int be6[N], be4[N], again[N];
	const double third[NBE] = { 1 / 3.0, 1 / 3.0, 1 / 3.0 };
	int per6[NBE], per4[NBE];
	struct outer_seen s;

	xm_lbt_start(&T, 0, conf_v6(NULL), NULL);
	sniff_flush();
	cr_assert_eq(probe(6, 21000, N, 54, be6), N, "6in4 flows answered");
	cr_assert_eq(probe(4, 22000, N, 53, be4), N, "4in6 flows answered");
	s = sniff_outer(200);
	cr_assert_geq(s.ip6in4, N, "6in4 on the wire: %d", s.ip6in4);
	cr_assert_geq(s.ip4in6, N, "4in6 on the wire: %d", s.ip4in6);
	cr_assert_eq(s.bad, 0, "%d frames with a wrong outer header", s.bad);
	/* equal weights: a third each, within the tolerance */
	xm_lbt_assert_spread(be6, N, third, SPREAD_TOL_300, "6in4", per6);
	xm_lbt_assert_spread(be4, N, third, SPREAD_TOL_300, "4in6", per4);
	cr_assert_eq(probe(6, 21000, N, 54, again), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(again[i], be6[i], "6in4 flow %d moved", i);
	cr_assert_eq(probe(4, 22000, N, 53, again), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(again[i], be4[i], "4in6 flow %d moved", i);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"vip\":\"[" VIP6 "]:54/udp\"",
			      "new_flows"), N);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"vip\":\"" VIP4 ":53/udp\"",
			      "new_flows"), N);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"dropped\"", "total"), 0);
	for (int b = 0; b < NBE; b++) {
		cr_assert_geq(xm_lbt_decap_count(&T, b, "ip6in4"),
			      2 * (uint64_t)per6[b]);
		cr_assert_geq(xm_lbt_decap_count(&T, b, "ip4in6"),
			      2 * (uint64_t)per4[b]);
	}
}

/*
 * The MTU edge, each encapsulation (path MTU 1500): the largest packet
 * that fits is answered by a backend; one byte more gets the too-big
 * answer from the VIP with the MTU that fits: ICMPv6 packet too big,
 * 1460 for IP6IP6 and 1480 for 6in4; ICMP fragmentation needed, 1460,
 * for 4in6.
 */
Test(lb6, too_big_at_the_mtu_edge)
{
	static const struct {
		int family;
		uint16_t dport;
		uint32_t fits;
		const char *what;
	} edge[] = {
		{ 6, 53, 1460, "IP6IP6" },
		{ 6, 54, 1480, "6in4" },
		{ 4, 53, 1460, "4in6" },
	};
	uint8_t frame[2048];

	xm_lbt_start(&T, 0, conf_v6(NULL), NULL);
	for (unsigned int e = 0; e < sizeof(edge) / sizeof(edge[0]); e++) {
		uint16_t sport = (uint16_t)(23000 + 2 * e);
		uint32_t len;

		cr_assert(xm_lbt_answered_once(&T, 0, edge[e].family, sport,
					       edge[e].dport, edge[e].fits),
			  "%s: %u bytes were not answered", edge[e].what,
			  edge[e].fits);
		len = client_frame(frame, sizeof(frame), edge[e].family,
				   (uint16_t)(sport + 1), edge[e].dport, 1,
				   edge[e].fits + 1);
		cr_assert_eq(xm_raw_send(T.cli_fd, frame, len), 0);
		cr_assert_eq(xm_lbt_wait_too_big(&T, edge[e].family,
					  (uint16_t)(sport + 1), 1000),
			     edge[e].fits, "%s: too-big answer", edge[e].what);
	}
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "icmp_too_big_sent"), 3);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "too_big"), 3);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "too_big_unanswered"), 0);
}

/*
 * An IPv6 link cannot be below 1280 bytes (RFC 8200): with `mtu 1300`
 * IP6IP6 fits 1260, which no packet-too-big may report, so the packet
 * is dropped and counted, unanswered; 1260 bytes still go through.
 */
Test(lb6, no_packet_too_big_below_1280)
{
	uint8_t frame[2048];
	uint32_t len;

	xm_lbt_start(&T, 0, conf_v6("mtu 1300\n"), NULL);
	cr_assert(xm_lbt_answered_once(&T, 0, 6, 24000, 53, 1260),
		  "1260 bytes were not answered");
	len = client_frame(frame, sizeof(frame), 6, 24001, 53, 1, 1261);
	cr_assert_eq(xm_raw_send(T.cli_fd, frame, len), 0);
	cr_assert_eq(xm_lbt_wait_too_big(&T, 6, 24001, 500), 0,
		     "a packet too big below 1280");
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "too_big"), 1);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "too_big_unanswered"), 1);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "icmp_too_big_sent"), 0);
}

/*
 * GUE over IPv6: the outer UDP checksum is real (checked on the wire),
 * the backends decapsulate GUE and answer.
 */
Test(lb6, gue_over_ipv6)
{
	enum { N = 200 };
	static int be[N];
	int per[NBE] = { 0 };
	struct outer_seen s;
	uint64_t gue = 0;

	xm_lbt_start(&T, 0, conf_v6("encap gue 6080\n"), NULL);
	sniff_flush();
	cr_assert_eq(probe(6, 25000, N, 53, be), N);
	s = sniff_outer(200);
	cr_assert_geq(s.gue6, N, "GUE over IPv6 on the wire: %d of %d",
		      s.gue6, s.frames);
	cr_assert_eq(s.bad, 0, "%d frames with a wrong outer header", s.bad);
	for (int i = 0; i < N; i++)
		per[be[i]]++;
	xm_lbt_stop_clean(&T, 0);
	for (int b = 0; b < NBE; b++) {
		uint64_t g = xm_lbt_decap_count(&T, b, "gue");

		cr_assert_geq(g, (uint64_t)per[b], "backend %d", b + 1);
		gue += g;
	}
	cr_assert_geq(gue, N);
}

/*
 * Sends d as 1024-byte pieces behind a Fragment header, one
 * identification per flow.
 */
static void send_fragments(struct xm_lbt *t, const struct xm_lbt_dgram *d)
{
	enum { PIECE = 1024 };
	const uint32_t l3 = XM_PKT_ETH_HLEN, h = l3 + XM_PKT_IPV6_HLEN;
	static uint8_t whole[4096];
	uint8_t frag[1600], *fh = frag + h;
	uint32_t len, data, off = 0, id = htonl(0x6000u + d->flow);

	len = xm_lbt_client_frame(t, whole, sizeof(whole), d);
	data = len - h;
	while (off < data) {
		uint32_t piece = data - off;
		uint16_t plen, offm;

		if (piece > PIECE)
			piece = PIECE;
		memcpy(frag, whole, h);
		frag[l3 + 6] = XM_PKT_IPPROTO_FRAGMENT;
		plen = htons((uint16_t)(8 + piece));
		memcpy(frag + l3 + 4, &plen, 2);
		fh[0] = XM_PKT_IPPROTO_UDP;
		fh[1] = 0;
		offm = htons((uint16_t)(off | (off + piece < data ? 1 : 0)));
		memcpy(fh + 2, &offm, 2);
		memcpy(fh + 4, &id, 4);
		memcpy(fh + 8, whole + h + off, piece);
		cr_assert_eq(xm_raw_send(t->cli_fd, frag, h + 8 + piece), 0);
		off += piece;
	}
}

/*
 * Datagrams of 3000 bytes cut by hand into three IPv6 fragments (a
 * Fragment header after the fixed header): steered to the balancer and
 * balanced by (source, destination, protocol), so the backend's stack
 * gets every piece and answers only if it reassembled the datagram.
 * The pieces are 1024 bytes, so they fit the path once encapsulated.
 */
Test(lb6, fragments_of_a_datagram_reach_one_backend)
{
	enum { D = 30 };
	const struct xm_lbt_dgram first = {
		.family = 6,
		.sport = 26000,
		.dport = 53,
		.l3_len = 40 + 8 + 3000,
	};
	int answered, be_of[D];

	xm_lbt_start(&T, 0, conf_v6(NULL), NULL);
	answered = xm_lbt_ask(&T, &first, D, 3, 500, send_fragments, be_of);
	cr_assert_eq(answered, D, "%d of %d fragmented datagrams reassembled",
		     answered, D);
	/* By 3-tuple: one client, one VIP, one protocol -> one backend. */
	xm_lbt_assert_one_backend(be_of, D);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_geq(xm_lbt_summary(&T, 0, NULL, "fragments"), 3 * D);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"dropped\"", "total"), 0);
}
