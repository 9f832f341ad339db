// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb.c - xmbuf-lb end to end: the example binary, run as a user
 * would, between namespaces of the test's own (tests/lib/netns.h), with
 * backends that decapsulate in XDP (xmbuf-decap, bpf/xm_decap.bpf.c) and
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
#include <fcntl.h>
#include <limits.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "xm_pkt.h"
#include "../lib/netns.h"
#include "../lib/proc.h"

#define NBE		3		/* backends */
#define NLB		2		/* balancers */
#define OUT_MAX		(256 * 1024)
#define VIP		"198.18.2.1"
#define VIP_N		0xc6120201u
#define CLIENT_N	0xc6120101u
#define GUE_PORT	6080
#define KEY		"key 5ca1ab1e0ddba11cafef00d15ea5e000\n"
#define SPREAD_TOL	0.15		/* stated tolerance: 15% of a
					 * backend's weight share */
#define DISRUPT_MAX	0.02		/* Maglev: others' flows moved */

static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };

static struct xm_netns ns_cli, ns_sw, ns_lb[NLB], ns_be[NBE];
static char tmpdir[64];
static int cli_fd = -1;

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
 * One thread answers for every backend: a UDP socket bound to VIP:53 in
 * each backend namespace (and :54); the answer is "B<n>" and the first 14
 * bytes of the request, sent from the VIP straight back to the client.
 */
static int srv_fd[NBE][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
static pthread_t srv_thread;
static bool srv_running;
static volatile bool srv_stop;

static void *srv_main(void *arg)
{
	struct pollfd p[NBE * 2];
	uint8_t buf[9000], reply[16];

	(void)arg;
	for (int i = 0; i < NBE * 2; i++) {
		p[i].fd = srv_fd[i / 2][i % 2];
		p[i].events = POLLIN;
	}
	while (!srv_stop) {
		if (poll(p, NBE * 2, 100) <= 0)
			continue;
		for (int i = 0; i < NBE * 2; i++) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n;

			if (!(p[i].revents & POLLIN))
				continue;
			n = recvfrom(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			reply[0] = 'B';
			reply[1] = (uint8_t)('1' + i / 2);
			memcpy(reply + 2, buf, n < 14 ? (size_t)n : 14);
			sendto(p[i].fd, reply, 16, MSG_DONTWAIT,
			       (struct sockaddr *)&from, fl);
		}
	}
	return NULL;
}

/* ----------------------------------------------------------- balancers */

struct lbproc {
	pid_t pid;
	int out_fd, err_fd;		/* pipes, -1 at EOF */
	char *out;			/* stdout (the JSON summary) */
	size_t out_len;
	char *err;			/* stderr */
	size_t err_len;
	char conf[128];			/* its configuration file */
};

static struct lbproc lbs[NLB];

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

static bool lb_pump(struct lbproc *l, int ms)
{
	int ready = xm_proc_poll(l->out_fd, l->err_fd, ms);

	if (ready < 0)
		return false;
	if (ready & 1)
		lb_read(&l->out_fd, l->out, &l->out_len);
	if (ready & 2)
		lb_read(&l->err_fd, l->err, &l->err_len);
	return true;
}

static bool lb_wait_err(struct lbproc *l, const char *needle, size_t from,
			int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;

	for (;;) {
		if (l->err_len > from && strstr(l->err + from, needle))
			return true;
		if (xm_now_ms() >= end || !lb_pump(l, 50))
			break;
	}
	return l->err_len > from && strstr(l->err + from, needle);
}

static void write_file(const char *path, const char *text)
{
	char tmp[160];
	FILE *f;

	/* Whole or not at all, as an operator's editor would. */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	cr_assert_not_null(f, "%s: %s", tmp, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(tmp, path), 0);
}

/* Runs `xmbuf-lb args...` in ns (NULL: here) without waiting. */
static void lb_spawn(struct lbproc *l, const struct xm_netns *ns,
		     const char *const *args)
{
	const char *argv[24];
	int n = 0;

	l->out = l->out ? l->out : malloc(OUT_MAX);
	l->err = l->err ? l->err : malloc(OUT_MAX);
	cr_assert(l->out && l->err);
	l->out[0] = l->err[0] = '\0';
	l->out_len = l->err_len = 0;
	argv[n++] = lb_bin();
	for (; args[n - 1] && n < 23; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	l->pid = xm_proc_spawn(ns, argv, 0, &l->out_fd, &l->err_fd);
	cr_assert(l->pid > 0, "spawn: %s", strerror(-l->pid));
}

/*
 * Sends sig (0: none), reads until EOF, reaps within ms (killing an
 * overstayer).  @return the exit status, or -1 after a signal or a kill.
 */
static int lb_finish(struct lbproc *l, int sig, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	int status;

	if (l->pid <= 0)
		return -1;
	if (sig)
		kill(l->pid, sig);
	while (xm_now_ms() < end && lb_pump(l, 50))
		;
	status = xm_proc_reap(l->pid, end);
	l->pid = 0;
	if (status == -ETIMEDOUT)
		return -1;
	if (l->out_fd >= 0)
		close(l->out_fd);
	if (l->err_fd >= 0)
		close(l->err_fd);
	l->out_fd = l->err_fd = -1;
	return status < 0 ? -1 : status;
}

/* Starts balancer i on its interface with conf and waits until it runs. */
static void lb_start(int i, const char *conf, const char *extra)
{
	struct lbproc *l = &lbs[i];
	char ifname[16];
	const char *args[12];
	int n = 0;

	snprintf(l->conf, sizeof(l->conf), "%s/lb%d.conf", tmpdir, i);
	write_file(l->conf, conf);
	snprintf(ifname, sizeof(ifname), "el%d", i);
	args[n++] = "-i";
	args[n++] = ifname;
	args[n++] = "-c";
	args[n++] = l->conf;
	args[n++] = "-p";		/* two cores: do not spin */
	args[n++] = "--json";
	if (extra)
		args[n++] = extra;
	args[n] = NULL;
	lb_spawn(l, &ns_lb[i], args);
	cr_assert(lb_wait_err(l, "steering rule(s)", 0, 15000),
		  "balancer %d did not start: %s", i, l->err);
}

/* Rewrites balancer i's file, SIGHUP, waits for the verdict. */
static bool lb_reload(int i, const char *conf)
{
	struct lbproc *l = &lbs[i];
	size_t mark = l->err_len;

	uint64_t end = xm_now_ms() + 10000;

	write_file(l->conf, conf);
	kill(l->pid, SIGHUP);
	while (xm_now_ms() < end && lb_pump(l, 50)) {
		if (l->err_len <= mark)
			continue;
		if (strstr(l->err + mark, "reloaded"))
			return true;
		if (strstr(l->err + mark, "reload refused"))
			return false;
	}
	cr_assert_fail("no reload verdict: %s", l->err + mark);
	return false;
}

/* Stops balancer i; its JSON summary must say the audit is clean. */
static void lb_stop_clean(int i)
{
	struct lbproc *l = &lbs[i];
	int st = lb_finish(l, SIGINT, 10000);

	cr_assert_eq(st, 0, "balancer %d exit %d: %s", i, st, l->err);
	cr_assert_not_null(strstr(l->out, "\"audit\":{\"ok\":true,\"held\":0}"),
			   "frame audit: %s", l->out);
}

/* The number after "key": in the JSON, searching from after `within`. */
static uint64_t json_u64(const char *json, const char *within,
			 const char *key)
{
	char k[96];
	const char *p = json;

	if (within) {
		p = strstr(json, within);
		cr_assert_not_null(p, "'%s' not in the summary", within);
	}
	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(p, k);
	cr_assert_not_null(p, "'%s' not in the summary: %s", key, json);
	return strtoull(p + strlen(k), NULL, 10);
}

/* ------------------------------------------------------------ topology */

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: xmbuf-lb integration needs root "
			     "(namespaces, veth, XDP, AF_XDP)");
}

/* A host on the bridge: veth `ifname` in ns (host .N), its peer on br0. */
static void attach_host(struct xm_netns *ns, const char *ifname, int host)
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
}

static void topo_up(void)
{
	int err;

	need_root();
	(void)xm_netns_sweep();
	strcpy(tmpdir, "/tmp/xmbuf-lb.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	cr_assert_eq(xm_netns_create(&ns_sw), 0);
	/*
	 * A plain switch: with br_netfilter loaded, bridged IPv4 would be
	 * validated (checksum, lengths) and the malformed frames of the
	 * tests dropped before the balancer saw them.
	 */
	cr_assert_eq(xm_netns_sh(&ns_sw, "ip link add br0 type bridge && "
				 "ip link set br0 up && "
				 "for f in /proc/sys/net/bridge/bridge-nf-call-*; "
				 "do [ -e $f ] && echo 0 > $f; done; true"), 0);
	cr_assert_eq(xm_netns_create(&ns_cli), 0);
	attach_host(&ns_cli, "ec", 1);
	for (int i = 0; i < NLB; i++) {
		char ifname[16];

		cr_assert_eq(xm_netns_create(&ns_lb[i]), 0);
		snprintf(ifname, sizeof(ifname), "el%d", i);
		attach_host(&ns_lb[i], ifname, 2 + i);
	}
	for (int i = 0; i < NBE; i++) {
		char ifname[16];

		cr_assert_eq(xm_netns_create(&ns_be[i]), 0);
		snprintf(ifname, sizeof(ifname), "eb%d", i + 1);
		attach_host(&ns_be[i], ifname, 11 + i);
		err = xm_netns_sh(&ns_be[i], "ip addr add " VIP "/32 dev lo && "
				  "sysctl -qw net.ipv4.conf.all.rp_filter=0 && "
				  "sysctl -qw net.ipv4.conf.%s.rp_filter=0 && "
				  "%s -i %s --persist --gue-port %d", ifname,
				  decap_bin(), ifname, GUE_PORT);
		cr_assert_eq(err, 0, "backend %d", i + 1);
		for (int p = 0; p < 2; p++) {
			srv_fd[i][p] = xm_udp_open(&ns_be[i], htonl(VIP_N),
						   (uint16_t)(53 + p));
			cr_assert_geq(srv_fd[i][p], 0, "server socket: %s",
				      strerror(-srv_fd[i][p]));
		}
	}
	srv_stop = false;
	cr_assert_eq(pthread_create(&srv_thread, NULL, srv_main, NULL), 0);
	srv_running = true;
	cli_fd = xm_raw_open(&ns_cli, "ec");
	cr_assert_geq(cli_fd, 0, "client socket: %s", strerror(-cli_fd));
}

static void topo_down(void)
{
	char path[160];

	for (int i = 0; i < NLB; i++) {
		if (lbs[i].pid > 0)
			lb_finish(&lbs[i], SIGKILL, 2000);
		free(lbs[i].out);
		free(lbs[i].err);
		lbs[i].out = lbs[i].err = NULL;
	}
	if (srv_running) {
		srv_stop = true;
		pthread_join(srv_thread, NULL);
		srv_running = false;
	}
	for (int i = 0; i < NBE; i++)
		for (int p = 0; p < 2; p++)
			if (srv_fd[i][p] >= 0) {
				close(srv_fd[i][p]);
				srv_fd[i][p] = -1;
			}
	if (cli_fd >= 0)
		close(cli_fd);
	cli_fd = -1;
	for (int i = 0; i < NBE; i++)
		xm_netns_destroy(&ns_be[i]);
	for (int i = 0; i < NLB; i++)
		xm_netns_destroy(&ns_lb[i]);
	xm_netns_destroy(&ns_cli);
	xm_netns_destroy(&ns_sw);
	if (tmpdir[0]) {
		for (int i = 0; i < NLB; i++) {
			snprintf(path, sizeof(path), "%s/lb%d.conf", tmpdir, i);
			unlink(path);
		}
		rmdir(tmpdir);
		tmpdir[0] = '\0';
	}
}

TestSuite(lb, .init = topo_up, .fini = topo_down, .timeout = 120);

/* ------------------------------------------------------------- client */

static void lb_mac(int i, uint8_t mac[6])
{
	memcpy(mac, (uint8_t[]){ 0x02, 0, 0, 0, 0x01, (uint8_t)(2 + i) }, 6);
}

/* A UDP frame from the client to VIP:dport through balancer lbi. */
static uint32_t client_frame(uint8_t *buf, uint32_t cap, int lbi,
			     uint16_t sport, uint16_t dport, uint32_t flow,
			     uint32_t payload_len, bool df)
{
	struct xm_pkt_tmpl t;
	uint8_t payload[9000];
	int n;

	memset(&t, 0, sizeof(t));
	memcpy(t.t_eth.eth_src, cli_mac, 6);
	lb_mac(lbi, t.t_eth.eth_dst);
	t.t_ip.ip_version = 4;
	t.t_ip.ip_src.a_v4 = htonl(CLIENT_N);
	t.t_ip.ip_dst.a_v4 = htonl(VIP_N);
	t.t_ip.ip_frag = df ? XM_PKT_IP_DF : 0;
	t.t_ip.ip_id = (uint16_t)flow;
	t.t_proto = XM_PKT_IPPROTO_UDP;
	t.t_sport = sport;
	t.t_dport = dport;
	memset(payload, 0x5a, sizeof(payload));
	memcpy(payload, "XMLB", 4);
	memcpy(payload + 4, &flow, 4);
	t.t_payload = payload;
	t.t_payload_len = payload_len < 8 ? 8 : payload_len;
	n = xm_pkt_build_frame(buf, cap, &t);
	cr_assert_gt(n, 0);
	return (uint32_t)n;
}

/*
 * A backend's answer to flow (sport0 + i)?  @return i, with *be the
 * backend (0..NBE-1), or -1 for any other frame.
 */
static int answer_of(const uint8_t *f, ssize_t len, uint16_t sport0, int n,
		     uint16_t dport, int *be)
{
	struct xm_pkt_info pi;
	const uint8_t *pl;
	uint32_t flow;
	int i;

	if (xm_pkt_parse(f, (uint32_t)len, &pi) != 0 ||
	    !(pi.pi_flags & XM_PKT_F_IPV4) || pi.pi_proto != XM_PKT_IPPROTO_UDP ||
	    pi.pi_ip.ip_src.a_v4 != htonl(VIP_N) || pi.pi_sport != dport ||
	    pi.pi_payload_len < 16)
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
 * Asks balancer lbi about n flows (source ports sport0 ..): sends each
 * flow's datagram, collects the answers, resends the unanswered (at most
 * 4 rounds, 400 ms of silence ends a round).  be[i] gets the backend that
 * answered flow i, or -1.  @return flows answered.
 */
static int probe(int lbi, uint16_t sport0, int n, uint16_t dport, int *be)
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
			len = client_frame(frame, sizeof(frame), lbi,
					   (uint16_t)(sport0 + i), dport,
					   (uint32_t)i, 16, true);
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
			i = answer_of(rx, len, sport0, n, dport, &b);
			if (i < 0 || be[i] >= 0)
				continue;
			be[i] = b;
			answered++;
			quiet_until = xm_now_ms() + 400;
		}
	}
	return answered;
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
	int per[NBE] = { 0 };
	const double share[NBE] = { 0.25, 0.25, 0.5 };
	char within[64];

	lb_start(0, conf3("", "", " weight 2", NULL), NULL);
	cr_assert_eq(probe(0, 20000, N, 53, be), N, "every flow answered");
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
	/* The same flows twice more: each sticks to its backend. */
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(probe(0, 20000, N, 53, again), N);
		for (int i = 0; i < N; i++)
			cr_assert_eq(again[i], be[i], "flow %d moved", i);
	}
	lb_stop_clean(0);
	/* The balancer's own view: 3N packets, N new flows, by backend. */
	cr_assert_geq(json_u64(lbs[0].out, NULL, "forwarded"), 3 * N);
	cr_assert_eq(json_u64(lbs[0].out, "\"vip\":\"" VIP ":53/udp\"",
			      "new_flows"), N);
	for (int b = 0; b < NBE; b++) {
		snprintf(within, sizeof(within), "\"addr\":\"198.18.1.%d\"",
			 11 + b);
		cr_assert_eq(json_u64(lbs[0].out, within, "new_flows"),
			     (uint64_t)per[b], "backend %d", b + 1);
	}
	cr_assert_eq(json_u64(lbs[0].out, "\"dropped\"", "total"), 0);
	/* The outer header went into the RX frames' headroom: AF_XDP copy
	 * mode puts packets XDP_PACKET_HEADROOM (256) into the chunk. */
	cr_assert_geq(json_u64(lbs[0].out, NULL, "headroom_min"), 256);
}

Test(lb, removal_by_sighup_moves_only_its_flows)
{
	enum { N = 900 };
	static int before[N], after[N], fresh[N];
	int of_gone = 0, moved = 0, fresh_moved = 0, others = 0;
	double disruption;

	lb_start(0, conf3("", "", "", NULL), NULL);
	cr_assert_eq(probe(0, 21000, N, 53, before), N);
	/* Backend 3 leaves. */
	cr_assert(lb_reload(0, KEY "src-prefix 198.18.128.0/17\n"
			    "vip " VIP " udp 53\n"
			    "backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
			    "backend 198.18.1.12 mac 02:00:00:00:01:0c\n"),
		  "reload refused: %s", lbs[0].err);
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
	lb_start(1, KEY "src-prefix 198.18.128.0/17\n"
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
	lb_stop_clean(0);
	lb_stop_clean(1);
	cr_assert_eq(json_u64(lbs[0].out, NULL, "reloads"), 1);
	cr_assert_eq(json_u64(lbs[0].out, NULL, "rescheduled"),
		     (uint64_t)of_gone);
}

Test(lb, weight_zero_drains)
{
	enum { N = 600 };
	static int before[N], after[N], fresh[N];
	int on_b2 = 0;

	lb_start(0, conf3("", "", "", NULL), NULL);
	cr_assert_eq(probe(0, 22000, N, 53, before), N);
	cr_assert(lb_reload(0, conf3("", " weight 0", "", NULL)));
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
	lb_stop_clean(0);
}

Test(lb, bad_reload_keeps_the_running_configuration)
{
	enum { N = 300 };
	static int before[N], after[N];
	size_t mark;

	lb_start(0, conf3("", "", "", NULL), NULL);
	cr_assert_eq(probe(0, 23000, N, 53, before), N);
	mark = lbs[0].err_len;
	cr_assert_not(lb_reload(0, KEY "src-prefix 198.18.128.0/17\n"
				"vip " VIP " udp 53\n"
				"backend 198.18.1.11 weight lots\n"),
		      "a bad file was accepted");
	cr_assert_not_null(strstr(lbs[0].err + mark, "lb0.conf:4: weight"),
			   "the message names the line: %s",
			   lbs[0].err + mark);
	/* Old flows and the old pool go on (port 54 still exists). */
	cr_assert_eq(probe(0, 23000, N, 53, after), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(after[i], before[i]);
	cr_assert_eq(probe(0, 24000, 50, 54, after), 50);
	lb_stop_clean(0);
	cr_assert_eq(json_u64(lbs[0].out, NULL, "reload_failures"), 1);
}

Test(lb, two_instances_agree)
{
	enum { N = 1000 };
	static int a[N], b[N];
	const char *conf = conf3(" weight 3", "", " weight 2", NULL);

	lb_start(0, conf, NULL);
	lb_start(1, conf, NULL);
	cr_assert_eq(probe(0, 25000, N, 53, a), N);
	cr_assert_eq(probe(1, 25000, N, 53, b), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(a[i], b[i], "flow %d: backend %d vs %d", i,
			     a[i] + 1, b[i] + 1);
	lb_stop_clean(0);
	lb_stop_clean(1);
}

/* Waits for an ICMP frag-needed from the VIP; returns its MTU or 0. */
static uint32_t wait_too_big(uint16_t sport)
{
	uint64_t end = xm_now_ms() + 1000;
	uint8_t rx[9200];

	while (xm_now_ms() < end) {
		ssize_t len = xm_raw_recv(cli_fd, rx, sizeof(rx), 50);
		struct xm_pkt_info pi;
		uint16_t mtu;

		if (len <= 0 || xm_pkt_parse(rx, (uint32_t)len, &pi) ||
		    pi.pi_proto != XM_PKT_IPPROTO_ICMP ||
		    pi.pi_icmp_type != XM_PKT_ICMP_UNREACH ||
		    pi.pi_icmp_code != XM_PKT_ICMP_UNREACH_NEEDFRAG ||
		    pi.pi_ip.ip_src.a_v4 != htonl(VIP_N))
			continue;
		/* The quoted packet is ours: its UDP source port. */
		if (pi.pi_payload_len < 28 ||
		    rx[pi.pi_payload_off + 20] != sport >> 8 ||
		    rx[pi.pi_payload_off + 21] != (sport & 0xff))
			continue;
		cr_assert(xm_pkt_csum_ok(rx, &pi), "ICMP checksum");
		memcpy(&mtu, rx + pi.pi_l4_off + 6, 2);
		return ntohs(mtu);
	}
	return 0;
}

Test(lb, icmp_too_big_at_the_mtu_edge)
{
	uint8_t frame[2048];
	uint32_t len;
	int be[1];

	lb_start(0, conf3("", "", "", NULL), NULL);
	/* IP packet of 1480 bytes: 1500 with the outer header, fits. */
	len = client_frame(frame, sizeof(frame), 0, 26000, 53, 0,
			   1480 - 28, true);
	cr_assert_eq(len, 14 + 1480);
	for (int t = 0, got = 0; t < 3 && !got; t++) {
		cr_assert_eq(xm_raw_send(cli_fd, frame, len), 0);
		{
			uint64_t end = xm_now_ms() + 500;
			uint8_t rx[9200];

			while (!got && xm_now_ms() < end) {
				ssize_t n = xm_raw_recv(cli_fd, rx, sizeof(rx),
							50);

				got = n > 0 &&
				      answer_of(rx, n, 26000, 1, 53, be) == 0;
			}
		}
		if (t == 2)
			cr_assert(got, "1480 bytes were not answered");
	}
	/* One byte more: the answer is ICMP from the VIP, MTU 1480. */
	len = client_frame(frame, sizeof(frame), 0, 26001, 53, 1,
			   1481 - 28, true);
	cr_assert_eq(xm_raw_send(cli_fd, frame, len), 0);
	cr_assert_eq(wait_too_big(26001), 1480);
	/* Without DF a router would fragment; we count and drop. */
	len = client_frame(frame, sizeof(frame), 0, 26002, 53, 2,
			   1481 - 28, false);
	cr_assert_eq(xm_raw_send(cli_fd, frame, len), 0);
	usleep(200000);
	lb_stop_clean(0);
	cr_assert_eq(json_u64(lbs[0].out, NULL, "icmp_too_big_sent"), 1);
	cr_assert_eq(json_u64(lbs[0].out, NULL, "too_big"), 2);
	cr_assert_eq(json_u64(lbs[0].out, NULL, "too_big_unanswered"), 1);
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
	static uint8_t whole[4096];
	uint8_t frag[1600], rx[9200];
	int answered = 0, be_of[D], first_be = -1;

	lb_start(0, conf3("", "", "", NULL), NULL);
	for (int d = 0; d < D; d++)
		be_of[d] = -1;
	for (int round = 0; round < 3 && answered < D; round++) {
		uint64_t quiet;

		for (int d = 0; d < D; d++) {
			uint32_t len, l3 = 14, iplen, off = 0;

			if (be_of[d] >= 0)
				continue;
			len = client_frame(whole, sizeof(whole), 0,
					   (uint16_t)(27000 + d), 53,
					   (uint32_t)d, 3000, false);
			iplen = len - l3;
			/* 1024-byte pieces of the IP payload (8-aligned). */
			while (off < iplen - 20) {
				uint32_t piece = iplen - 20 - off;
				uint16_t fr, tl, csum = 0;

				if (piece > 1024)
					piece = 1024;
				memcpy(frag, whole, l3 + 20);
				memcpy(frag + l3 + 20, whole + l3 + 20 + off,
				       piece);
				tl = htons((uint16_t)(20 + piece));
				fr = htons((uint16_t)((off / 8) |
					   (off + piece < iplen - 20 ?
					    XM_PKT_IP_MF : 0)));
				memcpy(frag + l3 + 2, &tl, 2);
				memcpy(frag + l3 + 6, &fr, 2);
				memcpy(frag + l3 + 10, &csum, 2);
				csum = xm_pkt_ipv4_csum(frag + l3, 20);
				memcpy(frag + l3 + 10, &csum, 2);
				cr_assert_eq(xm_raw_send(cli_fd, frag,
							 l3 + 20 + piece), 0);
				off += piece;
			}
		}
		quiet = xm_now_ms() + 500;
		while (answered < D && xm_now_ms() < quiet) {
			ssize_t n = xm_raw_recv(cli_fd, rx, sizeof(rx), 50);
			struct xm_pkt_info pi;
			int d, b;

			if (n <= 0 || xm_pkt_parse(rx, (uint32_t)n, &pi) ||
			    pi.pi_proto != XM_PKT_IPPROTO_UDP ||
			    pi.pi_dport < 27000 || pi.pi_dport >= 27000 + D)
				continue;
			d = pi.pi_dport - 27000;
			if (rx[pi.pi_payload_off] != 'B' || be_of[d] >= 0)
				continue;
			b = rx[pi.pi_payload_off + 1] - '1';
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
	lb_stop_clean(0);
	cr_assert_geq(json_u64(lbs[0].out, NULL, "fragments"), 3 * D);
}

Test(lb, traffic_for_no_service_reaches_the_kernel)
{
	struct xm_pkt_eth eth;
	struct xm_pkt_ip ip;
	uint8_t frame[128], rx[9200];
	uint8_t icmp[16] = { XM_PKT_ICMP_ECHO, 0, 0, 0, 0x12, 0x34, 0, 1 };
	uint16_t csum;
	int n, got = 0;

	lb_start(0, conf3("", "", "", NULL), NULL);
	/* A ping to the balancer host's own address. */
	memset(&eth, 0, sizeof(eth));
	memcpy(eth.eth_src, cli_mac, 6);
	lb_mac(0, eth.eth_dst);
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

		cr_assert_eq(xm_raw_send(cli_fd, frame, (size_t)n), 0);
		while (!got && xm_now_ms() < end) {
			ssize_t len = xm_raw_recv(cli_fd, rx, sizeof(rx), 50);
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
	lb_stop_clean(0);
	cr_assert_eq(json_u64(lbs[0].out, NULL, "not_tcp_udp"), 0,
		     "the ping never reached the workers");
	cr_assert_geq(json_u64(lbs[0].out, "\"port\"", "xdp_passed"), 1);
}

Test(lb, gue_encapsulation)
{
	enum { N = 200 };
	static int be[N];
	int per[NBE] = { 0 };
	char out[4096];
	FILE *f;
	char cmd[512];
	uint64_t gue = 0;

	lb_start(0, conf3("", "", "", "encap gue 6080\n"), NULL);
	cr_assert_eq(probe(0, 29000, N, 53, be), N);
	for (int i = 0; i < N; i++)
		per[be[i]]++;
	lb_stop_clean(0);
	/* The backends' XDP program counted GUE, not IPIP. */
	for (int b = 0; b < NBE; b++) {
		size_t len;
		const char *p;

		snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -i eb%d "
			 "--stats --json", ns_be[b].name, decap_bin(), b + 1);
		f = popen(cmd, "r");
		cr_assert_not_null(f);
		len = fread(out, 1, sizeof(out) - 1, f);
		out[len] = '\0';
		cr_assert_eq(pclose(f), 0, "%s: %s", cmd, out);
		p = strstr(out, "\"gue\":");
		cr_assert_not_null(p, "%s", out);
		gue += strtoull(p + 6, NULL, 10);
		cr_assert_geq(strtoull(p + 6, NULL, 10), (uint64_t)per[b]);
	}
	cr_assert_geq(gue, N);
}

/* A frame: Ethernet + raw IPv4 header bytes + rest, to the VIP. */
static uint32_t bad_v4(uint8_t *f, uint8_t vhl, uint16_t totlen,
		       uint8_t proto, const uint8_t *rest, uint32_t rest_len)
{
	uint32_t a;

	memset(f, 0, 64);
	lb_mac(0, f);
	memcpy(f + 6, cli_mac, 6);
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

	lb_start(0, KEY "src-prefix 198.18.128.0/17\n"
		 "src-prefix 2001:2:0:8000::/64\n"
		 "vip " VIP " udp 53\n"
		 "backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
		 "vip " VIP " tcp 80\n"
		 "backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
		 "vip 2001:2::1 udp 53\n"
		 "backend 2001:2::11 mac 02:00:00:00:01:0b\n", NULL);
	for (int rep = 0; rep < 5; rep++) {
		/* Caught by the XDP program's own parsing: to the kernel
		 * (AF_PACKET sends nothing shorter than an Ethernet
		 * header). */
		len = bad_v4(f, 0x45, 40, 17, udp_hdr, 8);
		cr_assert_eq(xm_raw_send(cli_fd, f, 14), 0);	/* tiny */
		len = bad_v4(f, 0x45, 40, 17, udp_hdr, 8);
		cr_assert_eq(xm_raw_send(cli_fd, f, 14 + 12), 0); /* IP cut */
		len = bad_v4(f, 0x44, 28, 17, udp_hdr, 8);	/* IHL 4 */
		cr_assert_eq(xm_raw_send(cli_fd, f, len), 0);

		/* Steered to the balancer, refused by its parser. */
		len = bad_v4(f, 0x4f, 28, 17, udp_hdr, 8);	/* IHL 15 */
		cr_assert_eq(xm_raw_send(cli_fd, f, len), 0);
		len = bad_v4(f, 0x45, 1400, 17, udp_hdr, 8);	/* len > frame */
		cr_assert_eq(xm_raw_send(cli_fd, f, len), 0);
		len = bad_v4(f, 0x45, 12, 17, udp_hdr, 8);	/* len < hdr */
		cr_assert_eq(xm_raw_send(cli_fd, f, len), 0);
		len = bad_v4(f, 0x45, 24, 17, udp_hdr, 8);	/* UDP cut */
		cr_assert_eq(xm_raw_send(cli_fd, f, len - 4), 0);
		len = bad_v4(f, 0x45, 28, 17, udp_long, 8);	/* UDP len */
		cr_assert_eq(xm_raw_send(cli_fd, f, len), 0);
		len = bad_v4(f, 0x45, 40, 6, tcp_bad, 20);	/* TCP doff 3 */
		cr_assert_eq(xm_raw_send(cli_fd, f, len), 0);

		/* IPv6: hop-by-hop after a destination options header. */
		memset(six, 0, sizeof(six));
		lb_mac(0, six);
		memcpy(six + 6, cli_mac, 6);
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
		cr_assert_eq(xm_raw_send(cli_fd, six, 78), 0);
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
		cr_assert_eq(xm_raw_send(cli_fd, six, 54 + 80), 0);
	}
	/* Good traffic still flows. */
	cr_assert_eq(probe(0, 31000, 50, 53, be), 50);
	lb_stop_clean(0);
	reach = 7;	/* IHL 15, two lengths, UDP cut, UDP len, TCP, HBH */
	cr_assert_eq(json_u64(lbs[0].out, "\"dropped\"", "malformed"),
		     (uint64_t)(5 * reach), "%s", lbs[0].out);
	/* By reason, under xm_pkt_strerror()'s names. */
	cr_assert_eq(json_u64(lbs[0].out, "\"malformed\":{",
			      "misplaced IPv6 extension header"), 5);
	cr_assert_eq(json_u64(lbs[0].out, "\"malformed\":{",
			      "TCP data offset below 5"), 5);
	cr_assert_eq(json_u64(lbs[0].out, "\"malformed\":{",
			      "bad UDP length"), 5);
	cr_assert_eq(json_u64(lbs[0].out, NULL, "forwarded"), 50);
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

	snprintf(bad, sizeof(bad), "%s/bad.conf", tmpdir);
	snprintf(good, sizeof(good), "%s/good.conf", tmpdir);
	write_file(bad, "vip " VIP " udp 53\nbackend 198.18.1.11\n");
	write_file(good, conf3("", "", "", NULL));

	lb_spawn(&lbs[0], NULL, no_config);
	cr_assert_eq(lb_finish(&lbs[0], 0, 5000), 2);
	cr_assert_not_null(strstr(lbs[0].err, "--help"), "%s", lbs[0].err);
	lb_spawn(&lbs[0], NULL, bad_opt);
	cr_assert_eq(lb_finish(&lbs[0], 0, 5000), 2);
	lb_spawn(&lbs[0], NULL, check_bad);
	cr_assert_eq(lb_finish(&lbs[0], 0, 5000), 1);
	cr_assert_not_null(strstr(lbs[0].err, "bad.conf:2: backend has no "
				  "next hop"), "%s", lbs[0].err);
	lb_spawn(&lbs[0], NULL, check_good);
	cr_assert_eq(lb_finish(&lbs[0], 0, 5000), 0, "%s", lbs[0].err);
	cr_assert_not_null(strstr(lbs[0].out, "ok: 2 service(s)"), "%s",
			   lbs[0].out);
	lb_spawn(&lbs[0], &ns_lb[0], no_if);
	cr_assert_eq(lb_finish(&lbs[0], 0, 10000), 1);
	cr_assert_not_null(strstr(lbs[0].err, "nonexistent0"), "%s",
			   lbs[0].err);
	lb_spawn(&lbs[0], &ns_lb[0], bad_run);
	st = lb_finish(&lbs[0], 0, 10000);
	cr_assert_eq(st, 1, "a bad configuration at start: exit 1");
	unlink(bad);
	unlink(good);
}
