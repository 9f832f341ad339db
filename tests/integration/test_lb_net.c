// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_net.c - xmbuf-lb with real TCP stacks at both ends, and under
 * a service manager (tests/lib/lb_topo.h's topology, one balancer):
 *
 *   ns_cli 198.18.1.1 (ec: a veth with its default offloads; route to
 *   |                  the VIP via the balancer 198.18.1.2)
 *   +--[br0]-- ns_lb (xmbuf-lb -i el0)
 *   +--[br0]-- ns_be1..3: xmbuf-decap, VIP on lo, a TCP echo server on
 *              VIP:80 greeting with its number (tests/lib/tcp_echo.h)
 *
 * Cases:
 *  - a client on the same host, its checksums left partial for the
 *    device (CHECKSUM_PARTIAL, the veth's default): TCP connections
 *    through the VIP complete and carry data, and the balancer counts
 *    the checksums it finished (examples/lb/lb_csum.c);
 *  - without a key line, the key kept in the state directory: open
 *    connections, restart the balancer, every one still answers (a
 *    connection moved to another backend would be reset by it);
 *  - the unit's capabilities (examples/lb/xmbuf-lb@.service's
 *    CapabilityBoundingSet=) are enough: the balancer run under exactly
 *    that bounding set (setpriv) balances TCP and detaches its program
 *    at the stop; without CAP_NET_RAW it cannot start (so the bounding
 *    set does bind);
 *  - sd_notify: READY=1 once balancing, RELOADING=1 then READY=1 on
 *    SIGHUP, STOPPING=1 at SIGTERM, to a NOTIFY_SOCKET of the test's;
 *    under it no live line a second, unless --stats.
 *
 * Addresses: 198.18.0.0/15 only; .fini kills what runs and deletes every
 * namespace even when a test fails.  Needs root; skipped without it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <limits.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../lib/lb_topo.h"
#include "../lib/netns.h"
#include "../lib/proc.h"
#include "../lib/tcp_echo.h"

#define VIP		XM_LBT_VIP4
#define VIP_N		XM_LBT_VIP4_N
#define PORT		80
#define KEY		"key 5ca1ab1e0ddba11cafef00d15ea5e000\n"
#define NCONN		24
#define WAIT_MS		5000

static struct xm_lbt T;
static struct xm_tcpe_srv S;

static void topo_up(void)
{
	static const struct xm_lbt_opts o = {
		.what = "xmbuf-lb (TCP)",
		.nlb = 1,
		.nsock = 1,
		.sock = { { 4, 53 } },
	};

	xm_tcpe_srv_init(&S);
	xm_lbt_up(&T, &o);
	for (int b = 0; b < XM_LBT_NBE; b++)
		cr_assert_eq(xm_tcpe_srv_listen(&S, &T.ns_be[b], htonl(VIP_N),
						PORT, b + 1), 0);
	cr_assert_eq(xm_tcpe_srv_start(&S), 0);
	/* The client reaches the VIP through the balancer, as a container
	 * on the balancer's host would through its default route. */
	cr_assert_eq(xm_netns_sh(&T.ns_cli, "ip route add " VIP "/32 via "
				 "198.18.1.2 dev ec"), 0);
}

static void topo_down(void)
{
	xm_lbt_down(&T);
	xm_tcpe_srv_stop(&S);
}

TestSuite(lb_net, .init = topo_up, .fini = topo_down, .timeout = 120);

static const char *conf(bool key)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s"
		 "src-prefix 198.18.128.0/17\n"
		 "vip " VIP " tcp 80\n"
		 "  backend 198.18.1.11 mac 02:00:00:00:01:0b\n"
		 "  backend 198.18.1.12 mac 02:00:00:00:01:0c\n"
		 "  backend 198.18.1.13 mac 02:00:00:00:01:0d\n",
		 key ? KEY : "");
	return buf;
}

/* Opens n connections through the VIP; fd[i], be[i] (1..3). */
static void open_conns(int *fd, int *be, int n)
{
	for (int i = 0; i < n; i++) {
		fd[i] = xm_tcpe_connect(&T.ns_cli, htonl(VIP_N), PORT, WAIT_MS,
					&be[i]);
		cr_assert_geq(fd[i], 0, "connection %d: %s", i,
			      strerror(-fd[i]));
		cr_assert(be[i] >= 1 && be[i] <= XM_LBT_NBE);
	}
}

static void close_conns(int *fd, int n)
{
	for (int i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

Test(lb_net, tcp_from_a_local_client_with_default_offloads)
{
	int fd[NCONN], be[NCONN], per[XM_LBT_NBE + 1] = { 0 };
	uint64_t done;

	xm_lbt_start(&T, 0, conf(true), NULL);
	open_conns(fd, be, NCONN);
	for (int i = 0; i < NCONN; i++) {
		int e = xm_tcpe_echo(fd[i], 96 * 1024, (uint32_t)i);

		cr_assert_eq(e, 0, "connection %d (backend %d): %s", i, be[i],
			     strerror(-e));
		per[be[i]]++;
	}
	/* Flows hashed over the three: more than one took some. */
	cr_assert(!!per[1] + !!per[2] + !!per[3] >= 2, "%d %d %d", per[1],
		  per[2], per[3]);
	close_conns(fd, NCONN);
	xm_lbt_stop_clean(&T, 0);
	done = xm_lbt_summary(&T, 0, NULL, "csum_completed");
	cr_assert_gt(done, 0, "no partial checksum seen: are the client's "
		     "offloads on? %s", T.lb[0].out);
}

Test(lb_net, a_restart_without_a_key_line_keeps_connections_on_their_backends)
{
	char extra[128], path[160];
	int fd[NCONN], be[NCONN], again;
	struct stat st;

	snprintf(extra, sizeof(extra), "--state-dir=%s/state", T.tmpdir);
	xm_lbt_start(&T, 0, conf(false), extra);
	cr_assert_not_null(strstr(T.lb[0].err, "drawn now"), "%s",
			   T.lb[0].err);
	snprintf(path, sizeof(path), "%s/state/key", T.tmpdir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	open_conns(fd, be, NCONN);
	for (int i = 0; i < NCONN; i++)
		cr_assert_eq(xm_tcpe_echo(fd[i], 1000, (uint32_t)i), 0);

	cr_assert_eq(xm_lbt_finish(&T.lb[0], SIGTERM, 10000), 0, "%s",
		     T.lb[0].err);
	xm_lbt_start(&T, 0, conf(false), extra);
	cr_assert_not_null(strstr(T.lb[0].err, "from an earlier start"),
			   "%s", T.lb[0].err);

	/* A connection sent to another backend is reset by it. */
	for (int i = 0; i < NCONN; i++) {
		int e = xm_tcpe_echo(fd[i], 1000, (uint32_t)i + 100);

		cr_assert_eq(e, 0, "connection %d (backend %d) after the "
			     "restart: %s", i, be[i], strerror(-e));
	}
	/* And new ones are balanced as before. */
	close_conns(fd, NCONN);
	fd[0] = xm_tcpe_connect(&T.ns_cli, htonl(VIP_N), PORT, WAIT_MS, &again);
	cr_assert_geq(fd[0], 0);
	close(fd[0]);
	xm_lbt_stop_clean(&T, 0);
}

/* ------------------------------------------------------------ sd_notify */

/* Waits for a datagram containing want; appends what came to log. */
static bool notify_wait(int s, const char *want, char *log, size_t cap,
			int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;

	while (xm_now_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		char buf[512];
		ssize_t n;

		if (poll(&p, 1, 100) != 1)
			continue;
		n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		strncat(log, buf, cap - strlen(log) - 2);
		strncat(log, "|", cap - strlen(log) - 1);
		if (strstr(buf, want))
			return true;
	}
	return false;
}

/* A live line on stderr: "xmbuf-lb ... rx ..." once a second. */
static bool has_live_line(const char *err)
{
	for (const char *l = err; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "xmbuf-lb ", 9) && strstr(l, "  rx ") &&
		    (!strchr(l, '\n') || strstr(l, "  rx ") < strchr(l, '\n')))
			return true;
	return false;
}

static void notify_run(bool stats)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char log[4096] = "", conf_path[120], ctl_path[120];
	const char *args[14];
	int s, n = 0;
	uint64_t t0;

	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(s, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", T.tmpdir);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(setenv("NOTIFY_SOCKET", sa.sun_path, 1), 0);

	snprintf(conf_path, sizeof(conf_path), "%s/lb0.conf", T.tmpdir);
	snprintf(ctl_path, sizeof(ctl_path), "%s/lb0.sock", T.tmpdir);
	snprintf(T.lb[0].conf, sizeof(T.lb[0].conf), "%s", conf_path);
	xm_lbt_write_file(conf_path, conf(true));
	args[n++] = "-i";
	args[n++] = "el0";
	args[n++] = "-c";
	args[n++] = conf_path;
	args[n++] = "-p";
	args[n++] = "--json";
	args[n++] = "--ctl";
	args[n++] = ctl_path;
	if (stats)
		args[n++] = "--stats";
	args[n] = NULL;
	xm_lbt_spawn(&T.lb[0], &T.ns_lb[0], args);
	unsetenv("NOTIFY_SOCKET");

	cr_assert(notify_wait(s, "READY=1", log, sizeof(log), 15000),
		  "no READY=1: %s", log);
	cr_assert_not_null(strstr(log, "STATUS=balancing 1 service(s)"), "%s",
			   log);
	t0 = xm_now_ms();
	log[0] = '\0';
	cr_assert(xm_lbt_hup(&T, 0));
	cr_assert(notify_wait(s, "READY=1", log, sizeof(log), WAIT_MS),
		  "no READY=1 after the reload: %s", log);
	cr_assert_not_null(strstr(log, "RELOADING=1\nMONOTONIC_USEC="), "%s",
			   log);
	cr_assert(strstr(log, "RELOADING=1") < strstr(log, "READY=1"));
	cr_assert_not_null(strstr(log, "generation 2"), "%s", log);
	if (stats) {
		/* The control: with --stats the line does come. */
		(void)xm_lbt_wait_live(&T, 0, "flows", UINT64_MAX, 2500);
		cr_assert(has_live_line(T.lb[0].err), "%s", T.lb[0].err);
	} else {
		/* Two and a half live periods without a line. */
		while (xm_now_ms() < t0 + 2500)
			notify_wait(s, "\x01", log, sizeof(log),
				    (int)(t0 + 2500 - xm_now_ms()));
	}
	log[0] = '\0';
	kill(T.lb[0].pid, SIGTERM);
	cr_assert(notify_wait(s, "STOPPING=1", log, sizeof(log), WAIT_MS),
		  "no STOPPING=1: %s", log);
	cr_assert_eq(xm_lbt_finish(&T.lb[0], 0, 10000), 0, "%s", T.lb[0].err);
	close(s);
	if (!stats)
		cr_assert_not(has_live_line(T.lb[0].err), "a live line under "
			      "systemd: %s", T.lb[0].err);
	/* The summary is still written at the end. */
	cr_assert_not_null(strstr(T.lb[0].out, "\"audit\":{\"ok\":true"), "%s",
			   T.lb[0].out);
}

Test(lb_net, sd_notify_ready_reloading_stopping_and_no_live_lines)
{
	notify_run(false);
}

Test(lb_net, sd_notify_with_stats_keeps_the_live_line)
{
	notify_run(true);
}

/* ------------------------------------------------------- capabilities */

/* The unit's CapabilityBoundingSet= as setpriv's "-all,+cap,..." less
 * drop (a capability name without CAP_, or NULL). */
static void unit_caps(char *out, size_t len, const char *drop)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	cr_assert_not_null(xm_source_path("examples/lb/xmbuf-lb@.service",
					  path, sizeof(path)));
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	snprintf(out, len, "-all");
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CapabilityBoundingSet=", 22))
			continue;
		for (char *t = strtok(line + 22, " \n"); t; t = strtok(NULL, " \n")) {
			cr_assert_eq(strncmp(t, "CAP_", 4), 0, "%s", t);
			if (drop && !strcasecmp(t + 4, drop))
				continue;
			strncat(out, ",+", len - strlen(out) - 1);
			for (char *c = t + 4; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			strncat(out, t + 4, len - strlen(out) - 1);
		}
	}
	fclose(f);
	cr_assert_neq(strcmp(out, "-all"), 0, "no CapabilityBoundingSet= in %s",
		      path);
}

static void run_with_caps(const char *caps)
{
	char conf_path[120], ctl_path[120];
	const char *wrap[] = { "/usr/bin/setpriv", "--bounding-set", caps,
			       NULL };
	const char *args[] = { "-i", "el0", "-c", conf_path, "-p", "--json",
			       "--ctl", ctl_path, NULL };

	snprintf(conf_path, sizeof(conf_path), "%s/lb0.conf", T.tmpdir);
	snprintf(ctl_path, sizeof(ctl_path), "%s/lb0.sock", T.tmpdir);
	xm_lbt_write_file(conf_path, conf(true));
	xm_lbt_spawn_under(&T.lb[0], &T.ns_lb[0], wrap, args);
}

Test(lb_net, the_units_capabilities_are_enough)
{
	char caps[256];
	uint64_t end;
	int fd = -1, be, st;

	unit_caps(caps, sizeof(caps), NULL);
	cr_log_info("bounding set %s", caps);
	run_with_caps(caps);
	end = xm_now_ms() + 15000;
	while (fd < 0 && xm_now_ms() < end && T.lb[0].pid > 0 &&
	       kill(T.lb[0].pid, 0) == 0)
		fd = xm_tcpe_connect(&T.ns_cli, htonl(VIP_N), PORT, 1000, &be);
	cr_assert_geq(fd, 0, "no connection through a balancer under %s",
		      caps);
	cr_assert_eq(xm_tcpe_echo(fd, 10000, 1), 0);
	close(fd);
	xm_lbt_stop_clean(&T, 0);
	/* and it could detach its program at the stop */
	cr_assert_eq(xm_netns_sh(&T.ns_lb[0], "! ip link show el0 | grep -q "
				 "prog/xdp"), 0, "an XDP program stayed on el0 "
		     "after a stop under %s", caps);

	/* The control: the bounding set does bind. */
	unit_caps(caps, sizeof(caps), "net_raw");
	run_with_caps(caps);
	st = xm_lbt_finish(&T.lb[0], 0, 15000);
	cr_assert_eq(st, 1, "without CAP_NET_RAW: exit %d: %s", st,
		     T.lb[0].err);
	cr_assert_not_null(strstr(T.lb[0].err, "CAP_NET_RAW"), "%s",
			   T.lb[0].err);
}
