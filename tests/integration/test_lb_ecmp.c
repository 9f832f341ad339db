// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_ecmp.c - two xmbuf-lb balancers behind a router's ECMP route,
 * each announcing the VIP by BGP through its own BIRD 2 (--bird-routes),
 * the router's BIRD merging both paths into one kernel route (topology:
 * tests/lib/lb_ecmp.sh, BIRD configurations: examples/lb/bird/).
 *
 *   cli --- rt (BIRD; ECMP, L4 hash) --- br0 --- lb1, lb2 (xmbuf-lb + BIRD)
 *                                            \-- be1..3 (xmbuf-decap, TCP
 *                                                echo server on VIP:80)
 *
 * What is checked is the router's kernel table (`ip route show VIP`:
 * its next hops), where the routers' decision is, and real TCP
 * connections from the client's stack through it:
 *  - the route's life: announced after start, withdrawn after SIGTERM,
 *    after SIGKILL (the kernel removes the balancer's TUN device, BIRD
 *    sees it go), when no service of the VIP has a backend that can take
 *    flows (every backend drained by weight, or down by its health
 *    check), and by `xmbuf-lb ctl drain-host`; announced again after
 *    each recovery;
 *  - failover: 200 established connections, one balancer killed with
 *    SIGKILL: once the route converged every connection still answers
 *    (no reset), and again once it is back; a connection can only be
 *    answered by the backend that holds its socket (any other one resets
 *    it), so answering is being on the backend it had;
 *  - a backend added by reload on both balancers: open connections stay
 *    where they are, new ones reach the new backend.
 *
 * Every daemon dies with the test (PR_SET_PDEATHSIG), .fini kills them
 * and deletes every namespace even when a test fails.  Addresses:
 * 198.18.0.0/15 only.  Needs root; skipped without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../lib/lb_topo.h"
#include "../lib/netns.h"
#include "../lib/proc.h"
#include "../lib/tcp_echo.h"

#define VIP		"198.18.2.1"
#define VIP_N		0xc6120201u
#define PORT		80
#define NLB		2
#define NBE		3
#define ROUTE_MS	10000	/* a route change, at most (BGP's hold
				 * time is 3 s; changes come in ms) */
#define WAIT_MS		5000
#define NFAIL		200	/* connections of the failover */
#define HC_PORT		8080	/* the backends' health check port (the
				 * configuration's 'health tcp 8080') */

static struct {
	char dir[64];
	char script[PATH_MAX];
	bool up;
	struct xm_netns cli, rt, lb[NLB], be[NBE];
	pid_t bird[1 + NLB];		/* rt, lb1, lb2 */
	struct xm_lbt_proc lbp[NLB];
	struct xm_tcpe_srv srv;
	int fd[NFAIL];
	int hc[NBE];			/* health check listeners, -1: none */
} E;

/* ------------------------------------------------------------ fixture */

static void ns_open(struct xm_netns *ns, const char *name)
{
	char path[96];

	snprintf(ns->name, sizeof(ns->name), "%s", name);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(ns->fd, 0, "%s: %s", path, strerror(errno));
}

static const char *bird_name(int i)
{
	return i == 0 ? "rt" : i == 1 ? "lb1" : "lb2";
}

/* Backend i's health check port: listening (up) or not (down). */
static void hc_listen(int i, bool up)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(HC_PORT) };
	int saved, one = 1;

	if (!up) {
		if (E.hc[i] >= 0)
			close(E.hc[i]);
		E.hc[i] = -1;
		return;
	}
	cr_assert_eq(xm_netns_enter(&E.be[i], &saved), 0);
	E.hc[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	xm_netns_leave(saved);
	cr_assert_geq(E.hc[i], 0);
	setsockopt(E.hc[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(E.hc[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(E.hc[i], 64), 0);
}

/* BIRD in the foreground (it dies with the test), its log in DIR. */
static void bird_start(int i)
{
	const struct xm_netns *ns = i == 0 ? &E.rt : &E.lb[i - 1];
	char cmd[512];
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	int out, err;

	snprintf(cmd, sizeof(cmd), "exec bird -f -c %s/bird-%s.conf -s "
		 "%s/bird-%s.ctl > %s/bird-%s.log 2>&1", E.dir, bird_name(i),
		 E.dir, bird_name(i), E.dir, bird_name(i));
	E.bird[i] = xm_proc_spawn(ns, argv, 0, &out, &err);
	cr_assert_gt(E.bird[i], 0);
	close(out);
	close(err);
}

static int established(void)
{
	char cmd[256], line[256];
	int n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "birdc -s %s/bird-rt.ctl show protocols "
		 "2>/dev/null", E.dir);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "Established") != NULL;
	pclose(f);
	return n;
}

static void setup(void)
{
	char cmd[PATH_MAX + 160], name[64];
	uint64_t end;

	memset(&E, 0, sizeof(E));
	for (int i = 0; i < NFAIL; i++)
		E.fd[i] = -1;
	for (int i = 0; i < NBE; i++)
		E.hc[i] = -1;
	for (int i = 0; i < NLB; i++)
		E.lbp[i].out_fd = E.lbp[i].err_fd = -1;
	xm_tcpe_srv_init(&E.srv);
	E.cli.fd = E.rt.fd = -1;
	for (int i = 0; i < NLB; i++)
		E.lb[i].fd = -1;
	for (int i = 0; i < NBE; i++)
		E.be[i].fd = -1;
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: xmbuf-lb ECMP integration needs root "
			     "(namespaces, veth, XDP, AF_XDP)");
	(void)xm_netns_sweep();
	cr_assert_not_null(xm_source_path("tests/lib/lb_ecmp.sh", E.script,
					  sizeof(E.script)));
	strcpy(E.dir, "/tmp/xmbuf-ecmp.XXXXXX");
	cr_assert_not_null(mkdtemp(E.dir));
	setenv("DECAP", xm_lbt_bin("xmbuf-decap", "XMBUF_DECAP"), 1);
	E.up = true;
	snprintf(cmd, sizeof(cmd), "%s up %s xmt%d_ >%s/up.log 2>&1",
		 E.script, E.dir, (int)getpid(), E.dir);
	cr_assert_eq(system(cmd), 0, "%s (log in %s/up.log)", cmd, E.dir);

	snprintf(name, sizeof(name), "xmt%d_ecc", (int)getpid());
	ns_open(&E.cli, name);
	snprintf(name, sizeof(name), "xmt%d_eaa", (int)getpid());
	ns_open(&E.rt, name);
	for (int i = 0; i < NLB; i++) {
		snprintf(name, sizeof(name), "xmt%d_e%d", (int)getpid(), i + 1);
		ns_open(&E.lb[i], name);
	}
	for (int i = 0; i < NBE; i++) {
		snprintf(name, sizeof(name), "xmt%d_eb%d", (int)getpid(), i + 1);
		ns_open(&E.be[i], name);
		cr_assert_eq(xm_tcpe_srv_listen(&E.srv, &E.be[i], htonl(VIP_N),
						PORT, i + 1), 0);
		hc_listen(i, true);
	}
	cr_assert_eq(xm_tcpe_srv_start(&E.srv), 0);
	for (int i = 0; i <= NLB; i++)
		bird_start(i);
	end = xm_now_ms() + 20000;
	while (established() < NLB && xm_now_ms() < end)
		usleep(100000);
	cr_assert_eq(established(), NLB, "BGP sessions did not come up "
		     "(logs in %s)", E.dir);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 160];

	for (int i = 0; i < NFAIL; i++)
		if (E.fd[i] >= 0)
			close(E.fd[i]);
	for (int i = 0; i < NBE; i++)
		if (E.hc[i] >= 0)
			close(E.hc[i]);
	for (int i = 0; i < NLB; i++) {
		if (E.lbp[i].pid > 0)
			xm_lbt_finish(&E.lbp[i], SIGKILL, 2000);
		free(E.lbp[i].out);
		free(E.lbp[i].err);
	}
	for (int i = 0; i <= NLB; i++)
		if (E.bird[i] > 0) {
			kill(E.bird[i], SIGTERM);
			xm_proc_reap(E.bird[i], xm_now_ms() + 3000);
		}
	xm_tcpe_srv_stop(&E.srv);
	xm_netns_destroy(&E.cli);	/* closes the fds; the script deletes */
	xm_netns_destroy(&E.rt);
	for (int i = 0; i < NLB; i++)
		xm_netns_destroy(&E.lb[i]);
	for (int i = 0; i < NBE; i++)
		xm_netns_destroy(&E.be[i]);
	if (E.up) {
		snprintf(cmd, sizeof(cmd), "%s down %s; rm -rf %s", E.script,
			 E.dir, E.dir);
		(void)system(cmd);
	}
}

TestSuite(lb_ecmp, .init = setup, .fini = teardown, .timeout = 150);

/* ------------------------------------------------------------- helpers */

/* The configuration both balancers read; health: checks on HC_PORT. */
static void write_conf(int nbe, const char *weight, bool health)
{
	char path[128], buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "key 5ca1ab1e0ddba11cafef00d15ea5e000\n"
		     "src-prefix 198.18.128.0/17\n"
		     "vip " VIP " tcp 80\n%s",
		     health ? "  health tcp 8080 interval "
			      "0.2 timeout 0.2 rise 1 fall 2\n" : "");
	for (int b = 0; b < nbe; b++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			      "  backend 198.18.1.%d mac 02:00:00:00:01:%02x "
			      "weight %s\n", 11 + b, 11 + b, weight);
	snprintf(path, sizeof(path), "%s/lb.conf", E.dir);
	xm_lbt_write_file(path, buf);
}

/* Balancer i (0, 1) on el<i>, announcing through its BIRD. */
static void lb_start(int i)
{
	char conf[128], routes[128], sock[128], ifname[8], ctl[128];
	const char *args[] = { "-i", ifname, "-c", conf, "-p", "-Q", "--json",
			       "--bird-routes", routes, "--birdc-socket", sock,
			       "--ctl", ctl, NULL };

	snprintf(ifname, sizeof(ifname), "el%d", i);
	snprintf(conf, sizeof(conf), "%s/lb.conf", E.dir);
	snprintf(routes, sizeof(routes), "%s/lb%d.routes", E.dir, i + 1);
	snprintf(sock, sizeof(sock), "%s/bird-lb%d.ctl", E.dir, i + 1);
	snprintf(ctl, sizeof(ctl), "%s/lb%d.sock", E.dir, i + 1);
	snprintf(E.lbp[i].conf, sizeof(E.lbp[i].conf), "%s", conf);
	xm_lbt_spawn(&E.lbp[i], &E.lb[i], args);
}

/* Next hops of the router's route to the VIP; 0 when there is none. */
static int nexthops(void)
{
	char cmd[160], line[256];
	int n = 0, lines = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip -n %s route show " VIP, E.rt.name);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		n += strstr(line, "nexthop via") != NULL;
	}
	pclose(f);
	return n ? n : lines ? 1 : 0;
}

/* Waits for the route to have want next hops. @return the time taken. */
static uint64_t wait_nexthops(int want, const char *what)
{
	uint64_t t0 = xm_now_ms(), end = t0 + ROUTE_MS;
	int n;

	while ((n = nexthops()) != want && xm_now_ms() < end) {
		/* Read what the balancers say meanwhile. */
		for (int i = 0; i < NLB; i++)
			if (E.lbp[i].pid > 0)
				xm_proc_pump(&E.lbp[i].out_fd, E.lbp[i].out,
					     &E.lbp[i].out_len,
					     &E.lbp[i].err_fd, E.lbp[i].err,
					     &E.lbp[i].err_len,
					     XM_LBT_OUT_MAX, 0);
		usleep(20000);
	}
	cr_assert_eq(n, want, "%s: %d next hop(s), want %d; lb1: %s; lb2: %s",
		     what, n, want, E.lbp[0].err ? E.lbp[0].err : "",
		     E.lbp[1].err ? E.lbp[1].err : "");
	return xm_now_ms() - t0;
}

/* `xmbuf-lb ctl COMMAND` to balancer i.  @return its exit status. */
static int ctl(int i, const char *command)
{
	char cmd[PATH_MAX + 256];

	snprintf(cmd, sizeof(cmd), "%s ctl --ctl %s/lb%d.sock %s >/dev/null 2>&1",
		 xm_lbt_bin("xmbuf-lb", "XMBUF_LB"), E.dir, i + 1, command);
	return system(cmd);
}

static void hup_both(void)
{
	for (int i = 0; i < NLB; i++)
		cr_assert(xm_lbt_hup_proc(&E.lbp[i]), "balancer %d refused the "
			  "reload: %s", i, E.lbp[i].err);
}

/* Opens n connections; be[i] their backends. */
static void open_conns(int n, int *be)
{
	for (int i = 0; i < n; i++) {
		E.fd[i] = xm_tcpe_connect(&E.cli, htonl(VIP_N), PORT, WAIT_MS,
					  &be[i]);
		cr_assert_geq(E.fd[i], 0, "connection %d: %s", i,
			      strerror(-E.fd[i]));
	}
}

/* Every connection answers (an echo of its own bytes). @return resets. */
static int check_conns(int n, const int *be, const char *when)
{
	int resets = 0;

	for (int i = 0; i < n; i++) {
		int e = xm_tcpe_echo(E.fd[i], 512, (uint32_t)i);

		if (e == -ECONNRESET || e == -EPIPE)
			resets++;
		cr_assert(e == 0 || e == -ECONNRESET || e == -EPIPE,
			  "%s: connection %d (backend %d): %s", when, i, be[i],
			  strerror(-e));
	}
	return resets;
}

/* -------------------------------------------------------------- tests */

Test(lb_ecmp, the_route_follows_the_balancers)
{
	uint64_t ms;

	write_conf(NBE, "1", false);
	lb_start(0);
	lb_start(1);
	ms = wait_nexthops(2, "both started");
	cr_log_info("announced by both in %llu ms", (unsigned long long)ms);

	cr_assert_eq(xm_lbt_finish(&E.lbp[0], SIGTERM, 10000), 0, "%s",
		     E.lbp[0].err);
	wait_nexthops(1, "lb1 after SIGTERM");
	lb_start(0);
	wait_nexthops(2, "lb1 back");

	xm_lbt_finish(&E.lbp[0], SIGKILL, 5000);
	ms = wait_nexthops(1, "lb1 after SIGKILL");
	cr_log_info("withdrawn %llu ms after SIGKILL", (unsigned long long)ms);
	/* The next start replaces the program the killed one left. */
	lb_start(0);
	wait_nexthops(2, "lb1 back after SIGKILL");

	/* No service of the VIP can take a flow: withdrawn by both. */
	write_conf(NBE, "0", false);
	hup_both();
	wait_nexthops(0, "every backend drained");
	write_conf(NBE, "1", false);
	hup_both();
	wait_nexthops(2, "backends back");

	/* Every backend down by its health check: withdrawn by both. */
	write_conf(NBE, "1", true);
	hup_both();
	for (int b = 0; b < NBE; b++)
		hc_listen(b, false);
	wait_nexthops(0, "every backend down by its health check");
	hc_listen(1, true);
	wait_nexthops(2, "one backend up again");

	/* Maintenance: one host drained, then back. */
	cr_assert_eq(ctl(0, "drain-host"), 0);
	wait_nexthops(1, "lb1 drained (ctl drain-host)");
	cr_assert_neq(ctl(0, "drain-host"), 0, "drained twice");
	cr_assert_eq(ctl(0, "undrain-host"), 0);
	wait_nexthops(2, "lb1 undrained");

	xm_lbt_finish(&E.lbp[1], SIGTERM, 10000);
	xm_lbt_finish(&E.lbp[0], SIGTERM, 10000);
	wait_nexthops(0, "both stopped");
}

Test(lb_ecmp, failover_keeps_every_connection_on_its_backend)
{
	static int be[NFAIL];
	int per[NBE + 1] = { 0 };
	uint64_t ms, syn2, moved;

	write_conf(NBE, "1", false);
	lb_start(0);
	lb_start(1);
	wait_nexthops(2, "both started");
	open_conns(NFAIL, be);
	for (int i = 0; i < NFAIL; i++)
		per[be[i]]++;
	cr_assert_eq(check_conns(NFAIL, be, "both up"), 0);

	xm_lbt_finish(&E.lbp[0], SIGKILL, 5000);
	ms = wait_nexthops(1, "lb1 killed");
	cr_assert_eq(check_conns(NFAIL, be, "lb1 killed"), 0,
		     "connections reset after the failover");

	lb_start(0);
	wait_nexthops(2, "lb1 back");
	cr_assert_eq(check_conns(NFAIL, be, "lb1 back"), 0,
		     "connections reset after lb1 came back");
	/* The router had spread the connections over both (lb2 saw only
	 * some of the SYNs), and lb1's moved to lb2 mid-connection. */
	cr_assert_eq(xm_lbt_finish(&E.lbp[1], SIGTERM, 10000), 0);
	syn2 = xm_lbt_json_u64(E.lbp[1].out, "\"vips\"", "new_flows");
	moved = xm_lbt_json_u64(E.lbp[1].out, "\"vips\"", "lru_misses");
	cr_assert(syn2 > 0 && syn2 < NFAIL, "lb2 took %llu of %d SYNs",
		  (unsigned long long)syn2, NFAIL);
	cr_assert_gt(moved, 0, "no connection moved to lb2");
	cr_assert_geq(xm_lbt_json_u64(E.lbp[1].out, "\"bgp\"", "configures"), 1);
	cr_assert_eq(xm_lbt_json_u64(E.lbp[1].out, "\"bgp\"", "announced"), 1);
	cr_log_info("%d connections (%d/%d/%d per backend, %llu started on "
		    "lb2), withdrawn in %llu ms, 0 resets", NFAIL, per[1],
		    per[2], per[3], (unsigned long long)syn2,
		    (unsigned long long)ms);
}

Test(lb_ecmp, a_backend_added_on_both_keeps_open_connections)
{
	static int be[100];
	int fd, id, to3 = 0;

	write_conf(2, "1", false);
	lb_start(0);
	lb_start(1);
	wait_nexthops(2, "both started");
	open_conns(100, be);
	cr_assert_eq(check_conns(100, be, "two backends"), 0);

	write_conf(3, "1", false);
	hup_both();
	cr_assert_eq(check_conns(100, be, "third backend added"), 0,
		     "open connections moved to the new backend");
	for (int i = 0; i < 30; i++) {
		fd = xm_tcpe_connect(&E.cli, htonl(VIP_N), PORT, WAIT_MS, &id);
		cr_assert_geq(fd, 0);
		to3 += id == 3;
		close(fd);
	}
	cr_assert_gt(to3, 0, "no new connection reached the new backend");
}
