// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_topo.c - the xmbuf-lb suites' topology, balancer children and
 * client (model in lb_topo.h).
 *
 * Both load-balancer suites ask the same question the same way: which
 * backend answers a flow.  The answer path is the backends' own stack
 * (after xmbuf-decap stripped the outer header), so a flow counts as
 * balanced only when the whole round trip worked; lost frames are
 * resent a bounded number of rounds rather than waited for.
 *
 * A balancer's stderr repeats its live line every second, so only its
 * last part is kept (OUT_MAX); its stdout is the JSON summary at exit.
 *
 * KPI:
 *   xm_lbt_up, xm_lbt_down, xm_lbt_bin, xm_lbt_write_file,
 *   xm_lbt_json_u64, xm_lbt_summary, xm_lbt_decap_count,
 *   xm_lbt_spawn, xm_lbt_spawn_under, xm_lbt_finish, xm_lbt_start,
 *   xm_lbt_start_argv, xm_lbt_reload, xm_lbt_hup, xm_lbt_hup_proc,
 *   xm_lbt_wait_live, xm_lbt_wait_err,
 *   xm_lbt_stop_clean, xm_lbt_lb_mac,
 *   xm_lbt_client_frame, xm_lbt_from_vip, xm_lbt_answer_of,
 *   xm_lbt_ask, xm_lbt_probe, xm_lbt_answered_once,
 *   xm_lbt_wait_too_big, xm_lbt_assert_one_backend, xm_lbt_assert_spread
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "lb_topo.h"
#include "proc.h"

const uint8_t xm_lbt_cli_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };

/* ------------------------------------------------------------- files */

const char *xm_lbt_bin(const char *name, const char *env)
{
	/* two slots: a caller may hold lb's and decap's paths at once */
	static char path[2][PATH_MAX + 64];
	static int slot;
	const char *p = xm_example_path(name, env, path[slot ^= 1],
					sizeof(path[0]));

	cr_assert(p, "%s not found (make examples, or set %s)", name, env);
	return p;
}

static const char *decap_bin(void)
{
	return xm_lbt_bin("xmbuf-decap", "XMBUF_DECAP");
}

void xm_lbt_write_file(const char *path, const char *text)
{
	char tmp[160];
	FILE *f;

	/* Whole or not at all, as an operator's editor would: a reload
	 * never reads half a file. */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	cr_assert_not_null(f, "%s: %s", tmp, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(tmp, path), 0);
}

uint64_t xm_lbt_json_u64(const char *json, const char *within,
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

uint64_t xm_lbt_summary(const struct xm_lbt *t, int i, const char *within,
			const char *key)
{
	return xm_lbt_json_u64(t->lb[i].out, within, key);
}

uint64_t xm_lbt_decap_count(const struct xm_lbt *t, int b, const char *key)
{
	char cmd[512], out[4096];
	size_t len;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -i eb%d --stats "
		 "--json", t->ns_be[b].name, decap_bin(), b + 1);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	cr_assert_eq(pclose(f), 0, "%s: %s", cmd, out);
	return xm_lbt_json_u64(out, NULL, key);
}

/* ----------------------------------------------------------- balancers */

static void lb_read(int *fd, char *buf, size_t *len)
{
	if (xm_proc_read(fd, buf, len, XM_LBT_OUT_MAX) <= 0)
		return;
	/* Keep the last part of a long stderr: the live lines repeat. */
	if (*len > XM_LBT_OUT_MAX - 4096) {
		memmove(buf, buf + *len / 2, *len - *len / 2 + 1);
		*len -= *len / 2;
	}
}

/* Reads what is there within ms.  @return false once both pipes ended. */
static bool lb_pump(struct xm_lbt_proc *l, int ms)
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

/* Whether needle appears on stderr after offset from, within ms. */
static bool lb_wait_err(struct xm_lbt_proc *l, const char *needle,
			size_t from, int ms)
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

void xm_lbt_spawn(struct xm_lbt_proc *l, const struct xm_netns *ns,
		  const char *const *args)
{
	xm_lbt_spawn_under(l, ns, NULL, args);
}

void xm_lbt_spawn_under(struct xm_lbt_proc *l, const struct xm_netns *ns,
			const char *const *wrap, const char *const *args)
{
	const char *argv[40];
	int n = 0;

	l->out = l->out ? l->out : malloc(XM_LBT_OUT_MAX);
	l->err = l->err ? l->err : malloc(XM_LBT_OUT_MAX);
	cr_assert(l->out && l->err);
	l->out[0] = l->err[0] = '\0';
	l->out_len = l->err_len = 0;
	for (; wrap && wrap[n] && n < 16; n++)
		argv[n] = wrap[n];
	argv[n++] = xm_lbt_bin("xmbuf-lb", "XMBUF_LB");
	for (int k = 0; args[k] && n < 39; k++)
		argv[n++] = args[k];
	argv[n] = NULL;
	l->pid = xm_proc_spawn(ns, argv, 0, &l->out_fd, &l->err_fd);
	cr_assert(l->pid > 0, "spawn: %s", strerror(-l->pid));
}

int xm_lbt_finish(struct xm_lbt_proc *l, int sig, int ms)
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
	if (l->out_fd >= 0)
		close(l->out_fd);
	if (l->err_fd >= 0)
		close(l->err_fd);
	l->out_fd = l->err_fd = -1;
	return status < 0 ? -1 : status;
}

void xm_lbt_start(struct xm_lbt *t, int i, const char *conf,
		  const char *extra)
{
	const char *more[2] = { extra, NULL };

	xm_lbt_start_argv(t, i, conf, more);
}

bool xm_lbt_wait_err(struct xm_lbt *t, int i, const char *needle,
		     size_t from, int ms)
{
	return lb_wait_err(&t->lb[i], needle, from, ms);
}

void xm_lbt_start_argv(struct xm_lbt *t, int i, const char *conf,
		       const char *const *extra)
{
	struct xm_lbt_proc *l = &t->lb[i];
	char ifname[16], ctl[sizeof(t->tmpdir) + 16];
	const char *args[20];
	bool have_ctl = false;
	int n = 0;

	cr_assert(i >= 0 && (unsigned int)i < t->nlb);
	snprintf(l->conf, sizeof(l->conf), "%s/lb%d.conf", t->tmpdir, i);
	xm_lbt_write_file(l->conf, conf);
	snprintf(ifname, sizeof(ifname), "el%d", i);
	args[n++] = "-i";
	args[n++] = ifname;
	args[n++] = "-c";
	args[n++] = l->conf;
	args[n++] = "-p";		/* two cores: do not spin */
	args[n++] = "--json";
	for (int k = 0; extra && extra[k] && n < 17; k++) {
		have_ctl |= !strcmp(extra[k], "--ctl");
		args[n++] = extra[k];
	}
	/* The default control socket is named for the interface, which
	 * other suites' balancers share (in their own namespaces). */
	if (!have_ctl) {
		snprintf(ctl, sizeof(ctl), "%s/lb%d.sock", t->tmpdir, i);
		args[n++] = "--ctl";
		args[n++] = ctl;
	}
	args[n] = NULL;
	xm_lbt_spawn(l, &t->ns_lb[i], args);
	cr_assert(lb_wait_err(l, "steering rule(s)", 0, 15000),
		  "balancer %d did not start: %s", i, l->err);
}

bool xm_lbt_reload(struct xm_lbt *t, int i, const char *conf)
{
	xm_lbt_write_file(t->lb[i].conf, conf);
	return xm_lbt_hup(t, i);
}

bool xm_lbt_hup(struct xm_lbt *t, int i)
{
	return xm_lbt_hup_proc(&t->lb[i]);
}

bool xm_lbt_hup_proc(struct xm_lbt_proc *l)
{
	size_t mark = l->err_len;
	uint64_t end = xm_now_ms() + 10000;

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

/* Column col of the last whole live line on l's stderr, or -1. */
static int64_t live_value(const struct xm_lbt_proc *l, const char *col)
{
	char key[32];
	const char *end, *line, *p;

	if (l->err_len == 0)
		return -1;
	/* the last line that is complete, and a live one */
	end = l->err + l->err_len;
	while (end > l->err && end[-1] != '\n')
		end--;
	snprintf(key, sizeof(key), "  %s ", col);
	while (end > l->err) {
		line = end - 1;
		while (line > l->err && line[-1] != '\n')
			line--;
		p = memmem(line, (size_t)(end - line), key, strlen(key));
		if (p && !strncmp(line, "xmbuf-lb ", 9))
			return (int64_t)strtoull(p + strlen(key), NULL, 10);
		end = line;
	}
	return -1;
}

uint64_t xm_lbt_wait_live(struct xm_lbt *t, int i, const char *col,
			  uint64_t want, int ms)
{
	struct xm_lbt_proc *l = &t->lb[i];
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	int64_t v = live_value(l, col);

	while ((v < 0 || (uint64_t)v < want) && xm_now_ms() < end &&
	       lb_pump(l, 100))
		v = live_value(l, col);
	return v < 0 ? 0 : (uint64_t)v;
}

void xm_lbt_stop_clean(struct xm_lbt *t, int i)
{
	struct xm_lbt_proc *l = &t->lb[i];
	int st = xm_lbt_finish(l, SIGINT, 10000);

	cr_assert_eq(st, 0, "balancer %d exit %d: %s", i, st, l->err);
	cr_assert_not_null(strstr(l->out, "\"audit\":{\"ok\":true,\"held\":0}"),
			   "frame audit: %s", l->out);
}

/* --------------------------------------------------------- the servers */

static void *srv_main(void *arg)
{
	struct xm_lbt *t = arg;
	const int nfd = XM_LBT_NBE * (int)t->nsock;
	struct pollfd p[XM_LBT_NBE * XM_LBT_NSOCK_MAX];
	uint8_t buf[9000], reply[16];

	for (int i = 0; i < nfd; i++) {
		p[i].fd = t->srv_fd[i / t->nsock][i % t->nsock];
		p[i].events = POLLIN;
	}
	while (!t->srv_stop) {
		if (poll(p, (nfds_t)nfd, 100) <= 0)
			continue;
		for (int i = 0; i < nfd; i++) {
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
			reply[1] = (uint8_t)('1' + i / (int)t->nsock);
			memcpy(reply + 2, buf, n < 14 ? (size_t)n : 14);
			sendto(p[i].fd, reply, 16, MSG_DONTWAIT,
			       (struct sockaddr *)&from, fl);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ topology */

/*
 * A host on the bridge: veth `ifname` in ns (host .N, and ::N as
 * written when v6), its peer sw<ifname> on br0.
 */
static void attach_host(struct xm_lbt *t, struct xm_netns *ns,
			const char *ifname, int host, bool v6)
{
	int err;

	err = xm_netns_sh(NULL, "ip -n %s link add %s address "
			  "02:00:00:00:01:%02x type veth peer name sw%s "
			  "netns %s && ip -n %s link set sw%s master br0 up && "
			  "ip -n %s link set %s up && "
			  "ip -n %s addr add 198.18.1.%d/24 dev %s",
			  ns->name, ifname, host, ifname, t->ns_sw.name,
			  t->ns_sw.name, ifname, ns->name, ifname, ns->name,
			  host, ifname);
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

static void backend_up(struct xm_lbt *t, int i, bool v6)
{
	struct xm_netns *ns = &t->ns_be[i];
	char ifname[16];
	int err;

	cr_assert_eq(xm_netns_create(ns), 0);
	if (v6)
		enable_ipv6(ns);
	snprintf(ifname, sizeof(ifname), "eb%d", i + 1);
	attach_host(t, ns, ifname, 11 + i, v6);
	err = xm_netns_sh(ns, "ip addr add " XM_LBT_VIP4 "/32 dev lo && "
			  "%s"
			  "sysctl -qw net.ipv4.conf.all.rp_filter=0 && "
			  "sysctl -qw net.ipv4.conf.%s.rp_filter=0 && "
			  "%s -i %s --persist --gue-port %d "
			  "--allow-src " XM_LBT_SRC4 " --allow-src "
			  XM_LBT_SRC6,
			  v6 ? "ip addr add " XM_LBT_VIP6 "/128 dev lo "
			       "nodad && " : "",
			  ifname, decap_bin(), ifname, XM_LBT_GUE_PORT);
	cr_assert_eq(err, 0, "backend %d", i + 1);
	for (unsigned int s = 0; s < t->nsock; s++) {
		const struct xm_lbt_sock *k = &t->sock[s];

		t->srv_fd[i][s] = k->family == 6 ?
			xm_udp6_open(ns, &t->vip6, k->port) :
			xm_udp_open(ns, htonl(XM_LBT_VIP4_N), k->port);
		cr_assert_geq(t->srv_fd[i][s], 0, "server socket %u: %s", s,
			      strerror(-t->srv_fd[i][s]));
	}
}

void xm_lbt_up(struct xm_lbt *t, const struct xm_lbt_opts *o)
{
	memset(t, 0, sizeof(*t));
	t->cli_fd = -1;
	for (int i = 0; i < XM_LBT_NLB_MAX; i++)
		t->lb[i].out_fd = t->lb[i].err_fd = -1;
	for (int i = 0; i < XM_LBT_NBE; i++)
		for (int s = 0; s < XM_LBT_NSOCK_MAX; s++)
			t->srv_fd[i][s] = -1;

	if (geteuid() != 0)
		cr_skip_test("SKIPPED: %s integration needs root "
			     "(namespaces, veth, XDP, AF_XDP)", o->what);
	cr_assert(o->nlb >= 1 && o->nlb <= XM_LBT_NLB_MAX);
	cr_assert(o->nsock >= 1 && o->nsock <= XM_LBT_NSOCK_MAX);
	t->nlb = o->nlb;
	t->nsock = o->nsock;
	memcpy(t->sock, o->sock, sizeof(t->sock));
	(void)xm_netns_sweep();
	cr_assert_eq(inet_pton(AF_INET6, XM_LBT_VIP6, &t->vip6), 1);
	cr_assert_eq(inet_pton(AF_INET6, XM_LBT_CLIENT6, &t->client6), 1);
	strcpy(t->tmpdir, "/tmp/xmbuf-lb.XXXXXX");
	cr_assert_not_null(mkdtemp(t->tmpdir));
	cr_assert_eq(xm_netns_create(&t->ns_sw), 0);
	/*
	 * A plain switch: with br_netfilter loaded, bridged IP would be
	 * validated (checksum, lengths) and the malformed frames of the
	 * tests dropped before the balancer saw them.  With IPv6, no
	 * multicast snooping either: neighbour solicitations are flooded
	 * whether or not an MLD report was seen.
	 */
	cr_assert_eq(xm_netns_sh(&t->ns_sw, "ip link add br0 type bridge%s && "
				 "ip link set br0 up && for f in "
				 "/proc/sys/net/bridge/bridge-nf-call-*; "
				 "do [ -e $f ] && echo 0 > $f; done; true",
				 o->ipv6 ? " mcast_snooping 0" : ""), 0);
	cr_assert_eq(xm_netns_create(&t->ns_cli), 0);
	if (o->ipv6)
		enable_ipv6(&t->ns_cli);
	attach_host(t, &t->ns_cli, "ec", 1, o->ipv6);
	for (unsigned int i = 0; i < t->nlb; i++) {
		char ifname[16];

		cr_assert_eq(xm_netns_create(&t->ns_lb[i]), 0);
		snprintf(ifname, sizeof(ifname), "el%u", i);
		attach_host(t, &t->ns_lb[i], ifname, 2 + (int)i, false);
	}
	for (int i = 0; i < XM_LBT_NBE; i++)
		backend_up(t, i, o->ipv6);
	t->srv_stop = false;
	cr_assert_eq(pthread_create(&t->srv_thread, NULL, srv_main, t), 0);
	t->srv_running = true;
	t->cli_fd = xm_raw_open(&t->ns_cli, "ec");
	cr_assert_geq(t->cli_fd, 0, "client socket: %s", strerror(-t->cli_fd));
}

void xm_lbt_down(struct xm_lbt *t)
{
	for (int i = 0; i < XM_LBT_NLB_MAX; i++) {
		if (t->lb[i].pid > 0)
			xm_lbt_finish(&t->lb[i], SIGKILL, 2000);
		free(t->lb[i].out);
		free(t->lb[i].err);
		t->lb[i].out = t->lb[i].err = NULL;
	}
	if (t->srv_running) {
		t->srv_stop = true;
		pthread_join(t->srv_thread, NULL);
		t->srv_running = false;
	}
	for (int i = 0; i < XM_LBT_NBE; i++)
		for (int s = 0; s < XM_LBT_NSOCK_MAX; s++)
			if (t->srv_fd[i][s] >= 0) {
				close(t->srv_fd[i][s]);
				t->srv_fd[i][s] = -1;
			}
	if (t->cli_fd >= 0)
		close(t->cli_fd);
	t->cli_fd = -1;
	for (int i = 0; i < XM_LBT_NBE; i++)
		xm_netns_destroy(&t->ns_be[i]);
	for (int i = 0; i < XM_LBT_NLB_MAX; i++)
		xm_netns_destroy(&t->ns_lb[i]);
	xm_netns_destroy(&t->ns_cli);
	xm_netns_destroy(&t->ns_sw);
	if (t->tmpdir[0]) {
		/* whatever a test left there: files, FIFOs, links */
		DIR *d = opendir(t->tmpdir);
		struct dirent *e;
		char path[400];

		while (d && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", t->tmpdir,
				 e->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
		rmdir(t->tmpdir);
		t->tmpdir[0] = '\0';
	}
}

/* ------------------------------------------------------------- client */

void xm_lbt_lb_mac(int i, uint8_t mac[6])
{
	memcpy(mac, (uint8_t[]){ 0x02, 0, 0, 0, 0x01, (uint8_t)(2 + i) }, 6);
}

uint32_t xm_lbt_client_frame(const struct xm_lbt *t, uint8_t *buf,
			     uint32_t cap, const struct xm_lbt_dgram *d)
{
	uint32_t hdrs = (d->family == 4 ? XM_PKT_IPV4_HLEN :
			 XM_PKT_IPV6_HLEN) + XM_PKT_UDP_HLEN;
	struct xm_pkt_tmpl tm;
	uint8_t payload[9000];
	int n;

	cr_assert(d->l3_len >= hdrs + 8 &&
		  d->l3_len - hdrs <= sizeof(payload));
	memset(&tm, 0, sizeof(tm));
	memcpy(tm.t_eth.eth_src, xm_lbt_cli_mac, 6);
	xm_lbt_lb_mac(d->lb, tm.t_eth.eth_dst);
	tm.t_ip.ip_version = (uint8_t)d->family;
	if (d->family == 4) {
		tm.t_ip.ip_src.a_v4 = htonl(XM_LBT_CLIENT4_N);
		tm.t_ip.ip_dst.a_v4 = htonl(XM_LBT_VIP4_N);
		tm.t_ip.ip_frag = d->df ? XM_PKT_IP_DF : 0;
		tm.t_ip.ip_id = (uint16_t)d->flow;
	} else {
		memcpy(tm.t_ip.ip_src.a_v6, &t->client6, 16);
		memcpy(tm.t_ip.ip_dst.a_v6, &t->vip6, 16);
		tm.t_ip.ip_flowlabel = d->flow & 0xfffff;
	}
	tm.t_proto = XM_PKT_IPPROTO_UDP;
	tm.t_sport = d->sport;
	tm.t_dport = d->dport;
	memset(payload, 0x5a, sizeof(payload));
	memcpy(payload, "XMLB", 4);
	memcpy(payload + 4, &d->flow, 4);
	tm.t_payload = payload;
	tm.t_payload_len = d->l3_len - hdrs;
	n = xm_pkt_build_frame(buf, cap, &tm);
	cr_assert_gt(n, 0);
	return (uint32_t)n;
}

bool xm_lbt_from_vip(const struct xm_lbt *t, const struct xm_pkt_info *pi,
		     int family)
{
	if (family == 4)
		return (pi->pi_flags & XM_PKT_F_IPV4) &&
		       pi->pi_ip.ip_src.a_v4 == htonl(XM_LBT_VIP4_N);
	return (pi->pi_flags & XM_PKT_F_IPV6) &&
	       memcmp(pi->pi_ip.ip_src.a_v6, &t->vip6, 16) == 0;
}

int xm_lbt_answer_of(const struct xm_lbt *t, const uint8_t *f, ssize_t len,
		     int family, uint16_t sport0, int n, uint16_t dport,
		     int *be)
{
	struct xm_pkt_info pi;
	const uint8_t *pl;
	uint32_t flow;
	int i;

	if (xm_pkt_parse(f, (uint32_t)len, &pi) != 0 ||
	    pi.pi_proto != XM_PKT_IPPROTO_UDP ||
	    !xm_lbt_from_vip(t, &pi, family) ||
	    pi.pi_sport != dport || pi.pi_payload_len < 16)
		return -1;
	i = (int)pi.pi_dport - (int)sport0;
	if (i < 0 || i >= n)
		return -1;
	pl = f + pi.pi_payload_off;
	if (pl[0] != 'B' || pl[1] < '1' || pl[1] >= '1' + XM_LBT_NBE ||
	    memcmp(pl + 2, "XMLB", 4))
		return -1;
	memcpy(&flow, pl + 6, 4);
	if (flow != (uint32_t)i)
		return -1;
	*be = pl[1] - '1';
	return i;
}

int xm_lbt_ask(struct xm_lbt *t, const struct xm_lbt_dgram *first, int n,
	       int rounds, int quiet_ms, xm_lbt_send_fn *send, int *be)
{
	uint8_t frame[2048], rx[9200];
	int answered = 0;

	cr_assert(n > 0 && n <= 4096 && first->sport + n <= 65535);
	for (int i = 0; i < n; i++)
		be[i] = -1;
	for (int round = 0; round < rounds && answered < n; round++) {
		uint64_t quiet_until;

		for (int i = 0; i < n; i++) {
			struct xm_lbt_dgram d = *first;
			uint32_t len;
			int err;

			if (be[i] >= 0)
				continue;
			d.sport = (uint16_t)(first->sport + i);
			d.flow = (uint32_t)i;
			if (send) {
				send(t, &d);
			} else {
				len = xm_lbt_client_frame(t, frame,
							  sizeof(frame), &d);
				err = xm_raw_send(t->cli_fd, frame, len);
				cr_assert_eq(err, 0, "send: %s",
					     strerror(-err));
			}
			if (i % 64 == 63)
				usleep(2000);	/* let the rings breathe */
		}
		quiet_until = xm_now_ms() + (uint64_t)quiet_ms;
		while (xm_now_ms() < quiet_until && answered < n) {
			ssize_t len = xm_raw_recv(t->cli_fd, rx, sizeof(rx),
						  50);
			int b, i;

			if (len <= 0)
				continue;
			i = xm_lbt_answer_of(t, rx, len, first->family,
					     first->sport, n, first->dport,
					     &b);
			if (i < 0 || be[i] >= 0)
				continue;
			be[i] = b;
			answered++;
			quiet_until = xm_now_ms() + (uint64_t)quiet_ms;
		}
	}
	return answered;
}

int xm_lbt_probe(struct xm_lbt *t, int lb, int family, uint16_t sport0,
		 int n, uint16_t dport, int *be)
{
	const struct xm_lbt_dgram first = {
		.lb = lb,
		.family = family,
		.sport = sport0,
		.dport = dport,
		.l3_len = family == 4 ? 44 : 64,
		.df = true,
	};

	return xm_lbt_ask(t, &first, n, 4, 400, NULL, be);
}

bool xm_lbt_answered_once(struct xm_lbt *t, int lb, int family,
			  uint16_t sport, uint16_t dport, uint32_t l3_len)
{
	struct xm_lbt_dgram d = {
		.lb = lb,
		.family = family,
		.sport = sport,
		.dport = dport,
		.l3_len = l3_len,
		.df = true,
	};
	uint8_t frame[2048], rx[9200];
	uint32_t len = xm_lbt_client_frame(t, frame, sizeof(frame), &d);
	int be;

	for (int try = 0; try < 3; try++) {
		uint64_t end = xm_now_ms() + 500;

		cr_assert_eq(xm_raw_send(t->cli_fd, frame, len), 0);
		while (xm_now_ms() < end) {
			ssize_t n = xm_raw_recv(t->cli_fd, rx, sizeof(rx), 50);

			if (n > 0 && xm_lbt_answer_of(t, rx, n, family, sport,
						      1, dport, &be) == 0)
				return true;
		}
	}
	return false;
}

uint32_t xm_lbt_wait_too_big(struct xm_lbt *t, int family, uint16_t sport,
			     int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	uint8_t rx[9200];

	while (xm_now_ms() < end) {
		ssize_t len = xm_raw_recv(t->cli_fd, rx, sizeof(rx), 50);
		struct xm_pkt_info pi;
		uint32_t q, mtu;

		if (len <= 0 || xm_pkt_parse(rx, (uint32_t)len, &pi) ||
		    !(pi.pi_flags & XM_PKT_F_L4) ||
		    !xm_lbt_from_vip(t, &pi, family))
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
		cr_assert_leq(pi.pi_l3_len, family == 6 ? 1280u : 576u);
		cr_assert(family == 6 ?
			  !memcmp(pi.pi_ip.ip_dst.a_v6, &t->client6, 16) :
			  pi.pi_ip.ip_dst.a_v4 == htonl(XM_LBT_CLIENT4_N),
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

void xm_lbt_assert_one_backend(const int *be, int n)
{
	/* by 3-tuple: one client, one VIP, one protocol */
	for (int i = 0; i < n; i++)
		cr_assert_eq(be[i], be[0], "flow %d: backend %d, flow 0: %d",
			     i, be[i] + 1, be[0] + 1);
}

void xm_lbt_assert_spread(const int *be, int n, const double *share,
			  double tol, const char *what, int per[])
{
	for (int b = 0; b < XM_LBT_NBE; b++)
		per[b] = 0;
	for (int i = 0; i < n; i++) {
		cr_assert(be[i] >= 0 && be[i] < XM_LBT_NBE, "flow %d", i);
		per[be[i]]++;
	}
	for (int b = 0; b < XM_LBT_NBE; b++) {
		double want = n * share[b];

		cr_log_info("%s: backend %d: %d flows (weight share %.0f)",
			    what, b + 1, per[b], want);
		cr_assert(per[b] >= want * (1 - tol) &&
			  per[b] <= want * (1 + tol),
			  "%s: backend %d got %d flows, want %.0f +- %.0f%%",
			  what, b + 1, per[b], want, tol * 100);
	}
}
