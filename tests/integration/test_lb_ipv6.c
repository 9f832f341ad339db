// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_ipv6.c - xmbuf-lb end to end over IPv6: IPv6 services
 * encapsulated IP6IP6 to IPv6 backends, the mixed families (6in4: an
 * IPv6 service on IPv4 backends; 4in6: an IPv4 service on IPv6 backends),
 * GUE over IPv6, and ICMPv6 packet-too-big at the MTU edge.  The topology
 * is test_lb.c's, dual-stacked:
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
 * program (bpf/xm_decap.bpf.c) strips the outer header, its stack
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
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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
#include "../lib/netns.h"
#include "../lib/proc.h"

#define NBE		3		/* backends */
#define NSOCK		3		/* server sockets per backend */
#define OUT_MAX		(256 * 1024)
#define VIP4		"198.18.2.1"
#define VIP4_N		0xc6120201u
#define CLIENT4_N	0xc6120101u
#define VIP6		"2001:2:0:2::1"
#define CLIENT6		"2001:2:0:1::1"
#define BE6(n)		"2001:2:0:1::1" #n	/* n = 1..3 */
#define SRC6_PREFIX	"2001:2:0:8000::"	/* /64, outer sources */
#define GUE_PORT	6080
#define KEY		"key 5ca1ab1e0ddba11cafef00d15ea5e000\n"
#define SRC_LINES	"src-prefix 198.18.128.0/17\n" \
			"src-prefix " SRC6_PREFIX "/64\n"
#define SPREAD_TOL	0.15		/* stated tolerance: 15% of a
					 * backend's weight share */
#define SPREAD_TOL_300	0.25		/* ... for 300 flows over three:
					 * 3 binomial sigmas (8.2 of 100) */

static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t lb_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };

static struct xm_netns ns_cli, ns_sw, ns_lb, ns_be[NBE];
static char tmpdir[64];
static int cli_fd = -1, sniff_fd = -1;
static struct in6_addr vip6, client6, src6;

/* ------------------------------------------------------------- paths */

static const char *bin_path(const char *name, const char *env)
{
	static char path[2][PATH_MAX + 64];
	static int slot;
	const char *p = xm_example_path(name, env, path[slot ^= 1],
					sizeof(path[0]));

	cr_assert(p, "%s not found (make examples, or set %s)", name, env);
	return p;
}

static const char *lb_bin(void)
{
	return bin_path("xmbuf-lb", "XMBUF_LB");
}

static const char *decap_bin(void)
{
	return bin_path("xmbuf-decap", "XMBUF_DECAP");
}

/* --------------------------------------------------------- the servers */

/*
 * One thread answers for every backend: in each backend namespace, UDP
 * sockets on [VIP6]:53, [VIP6]:54 and VIP4:53; the answer is "B<n>" and
 * the first 14 bytes of the request, sent from the VIP to the client.
 */
static int srv_fd[NBE][NSOCK] = {
	{ -1, -1, -1 }, { -1, -1, -1 }, { -1, -1, -1 },
};
static pthread_t srv_thread;
static bool srv_running;
static volatile bool srv_stop;

static void *srv_main(void *arg)
{
	struct pollfd p[NBE * NSOCK];
	uint8_t buf[9000], reply[16];

	(void)arg;
	for (int i = 0; i < NBE * NSOCK; i++) {
		p[i].fd = srv_fd[i / NSOCK][i % NSOCK];
		p[i].events = POLLIN;
	}
	while (!srv_stop) {
		if (poll(p, NBE * NSOCK, 100) <= 0)
			continue;
		for (int i = 0; i < NBE * NSOCK; i++) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n;

			if (!(p[i].revents & POLLIN))
				continue;
			n = recvfrom(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			reply[0] = 'B';
			reply[1] = (uint8_t)('1' + i / NSOCK);
			memcpy(reply + 2, buf, n < 14 ? (size_t)n : 14);
			sendto(p[i].fd, reply, 16, MSG_DONTWAIT,
			       (struct sockaddr *)&from, fl);
		}
	}
	return NULL;
}

/* A UDP socket bound to [addr]:port inside ns.  @return fd or -errno. */
static int udp6_open(const struct xm_netns *ns, const struct in6_addr *addr,
		     uint16_t port)
{
	struct sockaddr_in6 sin6;
	int saved, fd, err;

	err = xm_netns_enter(ns, &saved);
	if (err)
		return err;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = *addr;
	sin6.sin6_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) != 0) {
		err = -errno;
		close(fd);
	}
out:
	xm_netns_leave(saved);
	return err ? err : fd;
}

/* ---------------------------------------------------------- the balancer */

struct lbproc {
	pid_t pid;
	int out_fd, err_fd;		/* pipes, -1 at EOF */
	char *out;			/* stdout (the JSON summary) */
	size_t out_len;
	char *err;			/* stderr */
	size_t err_len;
	char conf[128];			/* its configuration file */
};

static struct lbproc lb = { .out_fd = -1, .err_fd = -1 };

static void lb_read(int *fd, char *buf, size_t *len)
{
	if (xm_proc_read(fd, buf, len, OUT_MAX) <= 0)
		return;
	/* Keep the last part of a long stderr: the live lines repeat. */
	if (*len > OUT_MAX - 4096) {
		memmove(buf, buf + *len / 2, *len - *len / 2 + 1);
		*len -= *len / 2;
	}
}

static bool lb_pump(int ms)
{
	int ready = xm_proc_poll(lb.out_fd, lb.err_fd, ms);

	if (ready < 0)
		return false;
	if (ready & 1)
		lb_read(&lb.out_fd, lb.out, &lb.out_len);
	if (ready & 2)
		lb_read(&lb.err_fd, lb.err, &lb.err_len);
	return true;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/*
 * Sends sig (0: none), reads until EOF, reaps within ms (killing an
 * overstayer).  @return the exit status, or -1 after a signal or a kill.
 */
static int lb_finish(int sig, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	int status;

	if (lb.pid <= 0)
		return -1;
	if (sig)
		kill(lb.pid, sig);
	while (xm_now_ms() < end && lb_pump(50))
		;
	status = xm_proc_reap(lb.pid, end);
	lb.pid = 0;
	if (lb.out_fd >= 0)
		close(lb.out_fd);
	if (lb.err_fd >= 0)
		close(lb.err_fd);
	lb.out_fd = lb.err_fd = -1;
	return status < 0 ? -1 : status;
}

/* Starts the balancer on el0 with conf and waits until it runs. */
static void lb_start(const char *conf)
{
	const char *argv[] = { lb_bin(), "-i", "el0", "-c", lb.conf, "-p",
			       "--json", NULL };
	uint64_t end = xm_now_ms() + 15000;

	write_file(lb.conf, conf);
	lb.out[0] = lb.err[0] = '\0';
	lb.out_len = lb.err_len = 0;
	lb.pid = xm_proc_spawn(&ns_lb, argv, 0, &lb.out_fd, &lb.err_fd);
	cr_assert(lb.pid > 0, "spawn: %s", strerror(-lb.pid));
	while (!strstr(lb.err, "steering rule(s)") && xm_now_ms() < end &&
	       lb_pump(50))
		;
	cr_assert_not_null(strstr(lb.err, "steering rule(s)"),
			   "the balancer did not start: %s", lb.err);
}

/* Stops the balancer; its JSON summary must say the audit is clean. */
static void lb_stop_clean(void)
{
	int st = lb_finish(SIGINT, 10000);

	cr_assert_eq(st, 0, "balancer exit %d: %s", st, lb.err);
	cr_assert_not_null(strstr(lb.out, "\"audit\":{\"ok\":true,\"held\":0}"),
			   "frame audit: %s", lb.out);
}

/* The number after "key": in json, searching from after `within`. */
static uint64_t json_u64(const char *json, const char *within,
			 const char *key)
{
	char k[96];
	const char *p = json;

	if (within) {
		p = strstr(json, within);
		cr_assert_not_null(p, "'%s' not in: %s", within, json);
	}
	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(p, k);
	cr_assert_not_null(p, "'%s' not in: %s", key, json);
	return strtoull(p + strlen(k), NULL, 10);
}

/* Backend b's decapsulation counter `key` (xmbuf-decap --stats). */
static uint64_t decap_count(int b, const char *key)
{
	char cmd[512], out[4096];
	size_t len;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -i eb%d --stats "
		 "--json", ns_be[b].name, decap_bin(), b + 1);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	cr_assert_eq(pclose(f), 0, "%s: %s", cmd, out);
	return json_u64(out, NULL, key);
}

/* ------------------------------------------------------------ topology */

/*
 * A host on the bridge: veth `ifname` in ns (host .N / ::N in hex as
 * written), its peer sw<ifname> on br0.  v6: also the IPv6 address.
 */
static void attach_host(struct xm_netns *ns, const char *ifname, int host,
			bool v6)
{
	int err;

	err = xm_netns_sh(NULL, "ip -n %s link add %s address "
			  "02:00:00:00:01:%02x type veth peer name sw%s "
			  "netns %s && ip -n %s link set sw%s master br0 up && "
			  "ip -n %s link set %s up && "
			  "ip -n %s addr add 198.18.1.%d/24 dev %s",
			  ns->name, ifname, host, ifname, ns_sw.name,
			  ns_sw.name, ifname, ns->name, ifname, ns->name, host,
			  ifname);
	cr_assert_eq(err, 0, "host %d", host);
	if (v6) {
		err = xm_netns_sh(ns, "ip addr add 2001:2:0:1::%d/64 dev %s "
				  "nodad", host, ifname);
		cr_assert_eq(err, 0, "host %d: IPv6", host);
	}
}

/*
 * IPv6 on, before the host's interface exists, without what would put
 * unsolicited traffic on the wire (router solicitations, DAD probes).
 */
static void enable_ipv6(struct xm_netns *ns)
{
	int err = xm_netns_sh(ns, "for c in all default; do "
			      "sysctl -qw net.ipv6.conf.$c.accept_dad=0 "
			      "net.ipv6.conf.$c.accept_ra=0 "
			      "net.ipv6.conf.$c.router_solicitations=0 "
			      "net.ipv6.conf.$c.disable_ipv6=0 || exit 1; "
			      "done");

	cr_assert_eq(err, 0, "IPv6 in %s", ns->name);
}

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: xmbuf-lb IPv6 integration needs root "
			     "(namespaces, veth, XDP, AF_XDP)");
}

static void topo_up(void)
{
	int err;

	need_root();
	(void)xm_netns_sweep();
	cr_assert_eq(inet_pton(AF_INET6, VIP6, &vip6), 1);
	cr_assert_eq(inet_pton(AF_INET6, CLIENT6, &client6), 1);
	cr_assert_eq(inet_pton(AF_INET6, SRC6_PREFIX, &src6), 1);
	strcpy(tmpdir, "/tmp/xmbuf-lb6.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(lb.conf, sizeof(lb.conf), "%s/lb.conf", tmpdir);
	lb.out = malloc(OUT_MAX);
	lb.err = malloc(OUT_MAX);
	cr_assert(lb.out && lb.err);
	lb.out[0] = lb.err[0] = '\0';

	cr_assert_eq(xm_netns_create(&ns_sw), 0);
	/*
	 * A plain switch: no br_netfilter validation of the tests' frames,
	 * and no multicast snooping (neighbour solicitations are flooded
	 * whether or not an MLD report was seen).
	 */
	cr_assert_eq(xm_netns_sh(&ns_sw, "ip link add br0 type bridge "
				 "mcast_snooping 0 && ip link set br0 up && "
				 "for f in /proc/sys/net/bridge/bridge-nf-call-*; "
				 "do [ -e $f ] && echo 0 > $f; done; true"), 0);
	cr_assert_eq(xm_netns_create(&ns_cli), 0);
	enable_ipv6(&ns_cli);
	attach_host(&ns_cli, "ec", 1, true);
	cr_assert_eq(xm_netns_create(&ns_lb), 0);
	attach_host(&ns_lb, "el0", 2, false);
	for (int i = 0; i < NBE; i++) {
		char ifname[16];

		cr_assert_eq(xm_netns_create(&ns_be[i]), 0);
		enable_ipv6(&ns_be[i]);
		snprintf(ifname, sizeof(ifname), "eb%d", i + 1);
		attach_host(&ns_be[i], ifname, 11 + i, true);
		err = xm_netns_sh(&ns_be[i], "ip addr add " VIP4 "/32 dev lo && "
				  "ip addr add " VIP6 "/128 dev lo nodad && "
				  "sysctl -qw net.ipv4.conf.all.rp_filter=0 && "
				  "sysctl -qw net.ipv4.conf.%s.rp_filter=0 && "
				  "%s -i %s --persist --gue-port %d", ifname,
				  decap_bin(), ifname, GUE_PORT);
		cr_assert_eq(err, 0, "backend %d", i + 1);
		srv_fd[i][0] = udp6_open(&ns_be[i], &vip6, 53);
		srv_fd[i][1] = udp6_open(&ns_be[i], &vip6, 54);
		srv_fd[i][2] = xm_udp_open(&ns_be[i], htonl(VIP4_N), 53);
		for (int s = 0; s < NSOCK; s++)
			cr_assert_geq(srv_fd[i][s], 0, "server socket %d: %s",
				      s, strerror(-srv_fd[i][s]));
	}
	srv_stop = false;
	cr_assert_eq(pthread_create(&srv_thread, NULL, srv_main, NULL), 0);
	srv_running = true;
	cli_fd = xm_raw_open(&ns_cli, "ec");
	cr_assert_geq(cli_fd, 0, "client socket: %s", strerror(-cli_fd));
	/* The balancer's switch port: what the balancer sent arrives here. */
	sniff_fd = xm_raw_open(&ns_sw, "swel0");
	cr_assert_geq(sniff_fd, 0, "sniffer: %s", strerror(-sniff_fd));
}

static void topo_down(void)
{
	if (lb.pid > 0)
		lb_finish(SIGKILL, 2000);
	free(lb.out);
	free(lb.err);
	lb.out = lb.err = NULL;
	if (srv_running) {
		srv_stop = true;
		pthread_join(srv_thread, NULL);
		srv_running = false;
	}
	for (int i = 0; i < NBE; i++)
		for (int s = 0; s < NSOCK; s++)
			if (srv_fd[i][s] >= 0) {
				close(srv_fd[i][s]);
				srv_fd[i][s] = -1;
			}
	if (cli_fd >= 0)
		close(cli_fd);
	if (sniff_fd >= 0)
		close(sniff_fd);
	cli_fd = sniff_fd = -1;
	for (int i = 0; i < NBE; i++)
		xm_netns_destroy(&ns_be[i]);
	xm_netns_destroy(&ns_lb);
	xm_netns_destroy(&ns_cli);
	xm_netns_destroy(&ns_sw);
	if (tmpdir[0]) {
		unlink(lb.conf);
		rmdir(tmpdir);
		tmpdir[0] = '\0';
	}
}

TestSuite(lb6, .init = topo_up, .fini = topo_down, .timeout = 120);

/* ------------------------------------------------------------- client */

/*
 * A UDP frame from the client to the family's VIP:dport: IP packet of
 * l3_len bytes (at least the headers and 8 bytes of payload, which carry
 * "XMLB" and the flow number).  IPv4 has DF set.
 */
static uint32_t client_frame(uint8_t *buf, uint32_t cap, int family,
			     uint16_t sport, uint16_t dport, uint32_t flow,
			     uint32_t l3_len)
{
	uint32_t hdrs = (family == 4 ? XM_PKT_IPV4_HLEN : XM_PKT_IPV6_HLEN) +
			XM_PKT_UDP_HLEN;
	struct xm_pkt_tmpl t;
	uint8_t payload[9000];
	int n;

	cr_assert(l3_len >= hdrs + 8 && l3_len - hdrs <= sizeof(payload));
	memset(&t, 0, sizeof(t));
	memcpy(t.t_eth.eth_src, cli_mac, 6);
	memcpy(t.t_eth.eth_dst, lb_mac, 6);
	t.t_ip.ip_version = (uint8_t)family;
	if (family == 4) {
		t.t_ip.ip_src.a_v4 = htonl(CLIENT4_N);
		t.t_ip.ip_dst.a_v4 = htonl(VIP4_N);
		t.t_ip.ip_frag = XM_PKT_IP_DF;
		t.t_ip.ip_id = (uint16_t)flow;
	} else {
		memcpy(t.t_ip.ip_src.a_v6, &client6, 16);
		memcpy(t.t_ip.ip_dst.a_v6, &vip6, 16);
		t.t_ip.ip_flowlabel = flow & 0xfffff;
	}
	t.t_proto = XM_PKT_IPPROTO_UDP;
	t.t_sport = sport;
	t.t_dport = dport;
	memset(payload, 0x5a, sizeof(payload));
	memcpy(payload, "XMLB", 4);
	memcpy(payload + 4, &flow, 4);
	t.t_payload = payload;
	t.t_payload_len = l3_len - hdrs;
	n = xm_pkt_build_frame(buf, cap, &t);
	cr_assert_gt(n, 0);
	return (uint32_t)n;
}

/* The source is the family's VIP. */
static bool from_vip(const struct xm_pkt_info *pi, int family)
{
	if (family == 4)
		return (pi->pi_flags & XM_PKT_F_IPV4) &&
		       pi->pi_ip.ip_src.a_v4 == htonl(VIP4_N);
	return (pi->pi_flags & XM_PKT_F_IPV6) &&
	       memcmp(pi->pi_ip.ip_src.a_v6, &vip6, 16) == 0;
}

/*
 * A backend's answer to flow (sport0 + i) of the family's VIP:dport?
 * @return i, with *be the backend (0..NBE-1), or -1 for any other frame.
 */
static int answer_of(const uint8_t *f, ssize_t len, int family,
		     uint16_t sport0, int n, uint16_t dport, int *be)
{
	struct xm_pkt_info pi;
	const uint8_t *pl;
	uint32_t flow;
	int i;

	if (xm_pkt_parse(f, (uint32_t)len, &pi) != 0 ||
	    pi.pi_proto != XM_PKT_IPPROTO_UDP || !from_vip(&pi, family) ||
	    pi.pi_sport != dport || pi.pi_payload_len < 16)
		return -1;
	i = (int)pi.pi_dport - (int)sport0;
	if (i < 0 || i >= n)
		return -1;
	pl = f + pi.pi_payload_off;
	if (pl[0] != 'B' || pl[1] < '1' || pl[1] >= '1' + NBE ||
	    memcmp(pl + 2, "XMLB", 4))
		return -1;
	memcpy(&flow, pl + 6, 4);
	if (flow != (uint32_t)i)
		return -1;
	*be = pl[1] - '1';
	return i;
}

/*
 * Asks the balancer about n flows (source ports sport0 ..) of the
 * family's VIP:dport: sends each flow's datagram, collects the answers,
 * resends the unanswered (at most 4 rounds; 400 ms of silence ends a
 * round).  be[i] gets the backend that answered flow i, or -1.
 * @return flows answered.
 */
static int probe(int family, uint16_t sport0, int n, uint16_t dport, int *be)
{
	uint8_t frame[2048], rx[9200];
	int answered = 0;

	cr_assert(n > 0 && n <= 4096 && sport0 + n <= 65535);
	for (int i = 0; i < n; i++)
		be[i] = -1;
	for (int round = 0; round < 4 && answered < n; round++) {
		uint64_t quiet_until;

		for (int i = 0; i < n; i++) {
			uint32_t len;
			int err;

			if (be[i] >= 0)
				continue;
			len = client_frame(frame, sizeof(frame), family,
					   (uint16_t)(sport0 + i), dport,
					   (uint32_t)i, family == 4 ? 44 : 64);
			err = xm_raw_send(cli_fd, frame, len);
			cr_assert_eq(err, 0, "send: %s", strerror(-err));
			if (i % 64 == 63)
				usleep(2000);	/* let the rings breathe */
		}
		quiet_until = xm_now_ms() + 400;
		while (xm_now_ms() < quiet_until && answered < n) {
			ssize_t len = xm_raw_recv(cli_fd, rx, sizeof(rx), 50);
			int b, i;

			if (len <= 0)
				continue;
			i = answer_of(rx, len, family, sport0, n, dport, &b);
			if (i < 0 || be[i] >= 0)
				continue;
			be[i] = b;
			answered++;
			quiet_until = xm_now_ms() + 400;
		}
	}
	return answered;
}

/* Sends one datagram of l3_len bytes; true when a backend answered it. */
static bool answered_once(int family, uint16_t sport, uint16_t dport,
			  uint32_t l3_len)
{
	uint8_t frame[2048], rx[9200];
	int be;

	for (int t = 0; t < 3; t++) {
		uint64_t end = xm_now_ms() + 500;
		uint32_t len = client_frame(frame, sizeof(frame), family,
					    sport, dport, 0, l3_len);

		cr_assert_eq(xm_raw_send(cli_fd, frame, len), 0);
		while (xm_now_ms() < end) {
			ssize_t n = xm_raw_recv(cli_fd, rx, sizeof(rx), 50);

			if (n > 0 && answer_of(rx, n, family, sport, 1, dport,
					       &be) == 0)
				return true;
		}
	}
	return false;
}

/*
 * Waits up to ms for the VIP's too-big answer (ICMPv6 packet too big, or
 * ICMP fragmentation needed) quoting the client's datagram from sport.
 * @return the MTU it reports, or 0 when none came.
 */
static uint32_t wait_too_big(int family, uint16_t sport, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	uint8_t rx[9200];

	while (xm_now_ms() < end) {
		ssize_t len = xm_raw_recv(cli_fd, rx, sizeof(rx), 50);
		struct xm_pkt_info pi;
		uint32_t q, mtu;

		if (len <= 0 || xm_pkt_parse(rx, (uint32_t)len, &pi) ||
		    !(pi.pi_flags & XM_PKT_F_L4) || !from_vip(&pi, family))
			continue;
		if (family == 6 && (pi.pi_proto != XM_PKT_IPPROTO_ICMPV6 ||
				    pi.pi_icmp_type !=
				    XM_PKT_ICMP6_PACKET_TOO_BIG ||
				    pi.pi_icmp_code != 0))
			continue;
		if (family == 4 && (pi.pi_proto != XM_PKT_IPPROTO_ICMP ||
				    pi.pi_icmp_type != XM_PKT_ICMP_UNREACH ||
				    pi.pi_icmp_code !=
				    XM_PKT_ICMP_UNREACH_NEEDFRAG))
			continue;
		/* The quoted packet is ours: its UDP source port. */
		q = pi.pi_l4_off + XM_PKT_ICMP_HLEN +
		    (family == 4 ? XM_PKT_IPV4_HLEN : XM_PKT_IPV6_HLEN);
		if (q + 2 > (uint32_t)len || rx[q] != sport >> 8 ||
		    rx[q + 1] != (sport & 0xff))
			continue;
		cr_assert(xm_pkt_csum_ok(rx, &pi), "ICMP checksum");
		/* RFC 4443 2.4(c) / RFC 1812 4.3.2.3: a bounded reply */
		cr_assert_leq(pi.pi_l3_len, family == 6 ? 1280u : 576u);
		cr_assert(family == 6 ?
			  !memcmp(pi.pi_ip.ip_dst.a_v6, &client6, 16) :
			  pi.pi_ip.ip_dst.a_v4 == htonl(CLIENT4_N),
			  "the answer goes to the client");
		if (family == 6) {
			memcpy(&mtu, rx + pi.pi_l4_off + 4, 4);
			return ntohl(mtu);
		}
		return (uint32_t)rx[pi.pi_l4_off + 6] << 8 |
		       rx[pi.pi_l4_off + 7];
	}
	return 0;
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
	int per[NBE] = { 0 };
	const double share[NBE] = { 0.25, 0.25, 0.5 };
	struct outer_seen s;
	char within[64];

	lb_start(conf_v6(NULL));
	sniff_flush();
	cr_assert_eq(probe(6, 20000, N, 53, be), N, "every flow answered");
	s = sniff_outer(200);
	for (int i = 0; i < N; i++)
		per[be[i]]++;
	for (int b = 0; b < NBE; b++) {
		double want = N * share[b];

		cr_log_info("backend %d: %d flows (weight share %.0f)", b + 1,
			    per[b], want);
		cr_assert(per[b] >= want * (1 - SPREAD_TOL) &&
			  per[b] <= want * (1 + SPREAD_TOL),
			  "backend %d got %d flows, want %.0f +- %.0f%%", b + 1,
			  per[b], want, SPREAD_TOL * 100);
	}
	cr_assert_geq(s.ip6ip6, N, "IP6IP6 frames on the wire: %d of %d",
		      s.ip6ip6, s.frames);
	cr_assert_eq(s.bad, 0, "%d frames with a wrong outer header", s.bad);
	/* The same flows twice more: each sticks to its backend. */
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(probe(6, 20000, N, 53, again), N);
		for (int i = 0; i < N; i++)
			cr_assert_eq(again[i], be[i], "flow %d moved", i);
	}
	lb_stop_clean();
	cr_assert_geq(json_u64(lb.out, NULL, "forwarded"), 3 * N);
	cr_assert_eq(json_u64(lb.out, "\"vip\":\"[" VIP6 "]:53/udp\"",
			      "new_flows"), N);
	for (int b = 0; b < NBE; b++) {
		snprintf(within, sizeof(within), "\"addr\":\"2001:2:0:1::1%d\"",
			 b + 1);
		cr_assert_eq(json_u64(lb.out, within, "new_flows"),
			     (uint64_t)per[b], "backend %d", b + 1);
		cr_assert_geq(decap_count(b, "ip6ip6"), 3 * (uint64_t)per[b],
			      "backend %d decapsulated", b + 1);
	}
	cr_assert_eq(json_u64(lb.out, "\"dropped\"", "total"), 0);
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
	int per6[NBE] = { 0 }, per4[NBE] = { 0 };
	struct outer_seen s;

	lb_start(conf_v6(NULL));
	sniff_flush();
	cr_assert_eq(probe(6, 21000, N, 54, be6), N, "6in4 flows answered");
	cr_assert_eq(probe(4, 22000, N, 53, be4), N, "4in6 flows answered");
	s = sniff_outer(200);
	cr_assert_geq(s.ip6in4, N, "6in4 on the wire: %d", s.ip6in4);
	cr_assert_geq(s.ip4in6, N, "4in6 on the wire: %d", s.ip4in6);
	cr_assert_eq(s.bad, 0, "%d frames with a wrong outer header", s.bad);
	for (int i = 0; i < N; i++) {
		per6[be6[i]]++;
		per4[be4[i]]++;
	}
	for (int b = 0; b < NBE; b++) {
		cr_log_info("backend %d: %d 6in4 flows, %d 4in6 flows", b + 1,
			    per6[b], per4[b]);
		/* equal weights: a third each, within the tolerance */
		cr_assert(per6[b] >= N / 3 * (1 - SPREAD_TOL_300) &&
			  per6[b] <= N / 3 * (1 + SPREAD_TOL_300),
			  "6in4 %d: %d", b + 1, per6[b]);
		cr_assert(per4[b] >= N / 3 * (1 - SPREAD_TOL_300) &&
			  per4[b] <= N / 3 * (1 + SPREAD_TOL_300),
			  "4in6 %d: %d", b + 1, per4[b]);
	}
	cr_assert_eq(probe(6, 21000, N, 54, again), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(again[i], be6[i], "6in4 flow %d moved", i);
	cr_assert_eq(probe(4, 22000, N, 53, again), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(again[i], be4[i], "4in6 flow %d moved", i);
	lb_stop_clean();
	cr_assert_eq(json_u64(lb.out, "\"vip\":\"[" VIP6 "]:54/udp\"",
			      "new_flows"), N);
	cr_assert_eq(json_u64(lb.out, "\"vip\":\"" VIP4 ":53/udp\"",
			      "new_flows"), N);
	cr_assert_eq(json_u64(lb.out, "\"dropped\"", "total"), 0);
	for (int b = 0; b < NBE; b++) {
		cr_assert_geq(decap_count(b, "ip6in4"), 2 * (uint64_t)per6[b]);
		cr_assert_geq(decap_count(b, "ip4in6"), 2 * (uint64_t)per4[b]);
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

	lb_start(conf_v6(NULL));
	for (unsigned int e = 0; e < sizeof(edge) / sizeof(edge[0]); e++) {
		uint16_t sport = (uint16_t)(23000 + 2 * e);
		uint32_t len;

		cr_assert(answered_once(edge[e].family, sport, edge[e].dport,
					edge[e].fits),
			  "%s: %u bytes were not answered", edge[e].what,
			  edge[e].fits);
		len = client_frame(frame, sizeof(frame), edge[e].family,
				   (uint16_t)(sport + 1), edge[e].dport, 1,
				   edge[e].fits + 1);
		cr_assert_eq(xm_raw_send(cli_fd, frame, len), 0);
		cr_assert_eq(wait_too_big(edge[e].family,
					  (uint16_t)(sport + 1), 1000),
			     edge[e].fits, "%s: too-big answer", edge[e].what);
	}
	lb_stop_clean();
	cr_assert_eq(json_u64(lb.out, NULL, "icmp_too_big_sent"), 3);
	cr_assert_eq(json_u64(lb.out, NULL, "too_big"), 3);
	cr_assert_eq(json_u64(lb.out, NULL, "too_big_unanswered"), 0);
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

	lb_start(conf_v6("mtu 1300\n"));
	cr_assert(answered_once(6, 24000, 53, 1260), "1260 bytes were not "
		  "answered");
	len = client_frame(frame, sizeof(frame), 6, 24001, 53, 1, 1261);
	cr_assert_eq(xm_raw_send(cli_fd, frame, len), 0);
	cr_assert_eq(wait_too_big(6, 24001, 500), 0,
		     "a packet too big below 1280");
	lb_stop_clean();
	cr_assert_eq(json_u64(lb.out, NULL, "too_big"), 1);
	cr_assert_eq(json_u64(lb.out, NULL, "too_big_unanswered"), 1);
	cr_assert_eq(json_u64(lb.out, NULL, "icmp_too_big_sent"), 0);
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

	lb_start(conf_v6("encap gue 6080\n"));
	sniff_flush();
	cr_assert_eq(probe(6, 25000, N, 53, be), N);
	s = sniff_outer(200);
	cr_assert_geq(s.gue6, N, "GUE over IPv6 on the wire: %d of %d",
		      s.gue6, s.frames);
	cr_assert_eq(s.bad, 0, "%d frames with a wrong outer header", s.bad);
	for (int i = 0; i < N; i++)
		per[be[i]]++;
	lb_stop_clean();
	for (int b = 0; b < NBE; b++) {
		uint64_t g = decap_count(b, "gue");

		cr_assert_geq(g, (uint64_t)per[b], "backend %d", b + 1);
		gue += g;
	}
	cr_assert_geq(gue, N);
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
	enum { D = 30, PIECE = 1024 };
	static uint8_t whole[4096];
	uint8_t frag[1600], rx[9200];
	int answered = 0, be_of[D], first_be = -1;

	lb_start(conf_v6(NULL));
	for (int d = 0; d < D; d++)
		be_of[d] = -1;
	for (int round = 0; round < 3 && answered < D; round++) {
		uint64_t quiet;

		for (int d = 0; d < D; d++) {
			const uint32_t l3 = XM_PKT_ETH_HLEN;
			uint32_t len, data, off = 0;

			if (be_of[d] >= 0)
				continue;
			len = client_frame(whole, sizeof(whole), 6,
					   (uint16_t)(26000 + d), 53,
					   (uint32_t)d, 40 + 8 + 3000);
			data = len - l3 - XM_PKT_IPV6_HLEN;
			while (off < data) {
				uint32_t piece = data - off, id = htonl(0x6000u +
							      (uint32_t)d);
				uint16_t plen, offm;
				uint8_t *fh = frag + l3 + XM_PKT_IPV6_HLEN;

				if (piece > PIECE)
					piece = PIECE;
				memcpy(frag, whole, l3 + XM_PKT_IPV6_HLEN);
				frag[l3 + 6] = XM_PKT_IPPROTO_FRAGMENT;
				plen = htons((uint16_t)(8 + piece));
				memcpy(frag + l3 + 4, &plen, 2);
				fh[0] = XM_PKT_IPPROTO_UDP;
				fh[1] = 0;
				offm = htons((uint16_t)(off |
					     (off + piece < data ? 1 : 0)));
				memcpy(fh + 2, &offm, 2);
				memcpy(fh + 4, &id, 4);
				memcpy(fh + 8, whole + l3 + XM_PKT_IPV6_HLEN +
				       off, piece);
				cr_assert_eq(xm_raw_send(cli_fd, frag,
							 l3 + XM_PKT_IPV6_HLEN +
							 8 + piece), 0);
				off += piece;
			}
		}
		quiet = xm_now_ms() + 500;
		while (answered < D && xm_now_ms() < quiet) {
			ssize_t n = xm_raw_recv(cli_fd, rx, sizeof(rx), 50);
			int d, b;

			if (n <= 0)
				continue;
			d = answer_of(rx, n, 6, 26000, D, 53, &b);
			if (d < 0 || be_of[d] >= 0)
				continue;
			be_of[d] = b;
			answered++;
			quiet = xm_now_ms() + 500;
		}
	}
	cr_assert_eq(answered, D, "%d of %d fragmented datagrams reassembled",
		     answered, D);
	/* By 3-tuple: one client, one VIP, one protocol -> one backend. */
	for (int d = 0; d < D; d++) {
		if (first_be < 0)
			first_be = be_of[d];
		cr_assert_eq(be_of[d], first_be, "datagram %d", d);
	}
	lb_stop_clean();
	cr_assert_geq(json_u64(lb.out, NULL, "fragments"), 3 * D);
	cr_assert_eq(json_u64(lb.out, "\"dropped\"", "total"), 0);
}
