// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_ops.c - xmbuf-lb operated as an operator would (issue 13):
 * health checks, the control socket and its client, /metrics, on the
 * topology of tests/lib/lb_topo.h (IPv4, one balancer, UDP servers on
 * VIP:53 behind three backends that decapsulate with xmbuf-decap).
 *
 *   ns_cli --+                      +-- ns_be1 198.18.1.11  TCP :8080
 *   ns_lb  --+--[br0]---------------+-- ns_be2 198.18.1.12  (listener
 *   xmbuf-lb --ctl <tmp>/ctl.sock   +-- ns_be3 198.18.1.13   on demand)
 *            --metrics 127.0.0.1:9180 (scraped from inside ns_lb)
 *
 * Cases: a backend without a listener goes down within (rise + 1) x
 * interval (control socket and /metrics agree), gets no new flow (its
 * xmbuf-decap counts nothing more), comes back when its listener does,
 * each change logged once; every control command answers, --json parsed
 * by a JSON parser, drain and undrain move new flows; garbage, an
 * oversize line, a line that never ends and one cut short each get an
 * error, counted, while the balancer forwards; /metrics parsed by
 * prometheus_client's parser equals the --json summary at the end.
 *
 * Addresses: 198.18.0.0/15 only, inside the test's own namespaces;
 * every send loop is bounded; .fini kills what runs and deletes every
 * namespace even when a test fails.  Needs root; skipped without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../lib/lb_topo.h"
#include "../lib/netns.h"

#define VIP		XM_LBT_VIP4
#define HPORT		8080		/* health-check listeners */
#define MPORT		"9180"		/* /metrics, ns_lb's loopback */
#define PY		"/usr/bin/python3" /* Debian's: prometheus_client */
/* interval 0.5 s, rise 2, fall 2: a change within (2 + 1) x 0.5 s */
#define INTERVAL_MS	500
#define RISE		2
#define CHANGE_MS	((RISE + 1) * INTERVAL_MS)
/* What two cores shared with other test suites may add to a deadline
 * measured in half seconds (the health thread, the main thread's round
 * of 50 ms, the client's fork and exec). */
#define LOAD_GRACE_MS	2000

static struct xm_lbt T;
static char ctl_path[160];
static int listen_fd[XM_LBT_NBE] = { -1, -1, -1 };

static void topo_up(void)
{
	static const struct xm_lbt_opts o = {
		.what = "xmbuf-lb operations",
		.nlb = 1,
		.nsock = 1,
		.sock = { { 4, 53 } },
	};

	xm_lbt_up(&T, &o);
	snprintf(ctl_path, sizeof(ctl_path), "%s/ctl.sock", T.tmpdir);
}

static void topo_down(void)
{
	for (int b = 0; b < XM_LBT_NBE; b++)
		if (listen_fd[b] >= 0) {
			close(listen_fd[b]);
			listen_fd[b] = -1;
		}
	xm_lbt_down(&T);
}

TestSuite(lb_ops, .init = topo_up, .fini = topo_down, .timeout = 120);

/* A configuration: VIP:53/udp over backends .11 .. .(10 + nbe), health
 * line as given ("" for none). */
static const char *conf(int nbe, const char *health)
{
	static char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf), "key 5ca1ab1e0ddba11cafef00d15ea5e000\n"
		     "src-prefix 198.18.128.0/17\n"
		     "vip " VIP " udp 53\n%s", health);
	for (int b = 0; b < nbe; b++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			      "  backend 198.18.1.%d mac 02:00:00:00:01:%02x\n",
			      11 + b, 11 + b);
	return buf;
}

static void start(int nbe, const char *health, bool metrics)
{
	const char *extra[] = { "--ctl", ctl_path, metrics ? "--metrics" :
				NULL, MPORT, NULL };

	xm_lbt_start_argv(&T, 0, conf(nbe, health), extra);
}

/* A TCP listener on backend b's address (its namespace), HPORT. */
static void listen_on(int b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(HPORT) };
	int saved, fd, one = 1;

	sa.sin_addr.s_addr = htonl(0xc612010bu + (uint32_t)b);
	cr_assert_eq(xm_netns_enter(&T.ns_be[b], &saved), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	xm_netns_leave(saved);
	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "bind: %s", strerror(errno));
	cr_assert_eq(listen(fd, 64), 0);
	listen_fd[b] = fd;
}

/*
 * Runs `xmbuf-lb ctl --ctl PATH args` (stderr into out too).
 * @return its exit status.
 */
static int ctl(const char *args, char *out, size_t cap)
{
	char cmd[1024];
	size_t len = 0;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "%s ctl --ctl %s %s 2>&1",
		 xm_lbt_bin("xmbuf-lb", "XMBUF_LB"), ctl_path, args);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (len + 1 < cap) {
		size_t n = fread(out + len, 1, cap - 1 - len, f);

		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Asserts that text is one JSON document (Python's parser). */
static void assert_json(const char *text)
{
	FILE *f = popen(PY " -c 'import json,sys; json.load(sys.stdin)' "
			">/dev/null 2>&1", "w");
	int st;

	cr_assert_not_null(f);
	fputs(text, f);
	st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "not JSON: %s", text);
}

/* `ctl args --json`, asserted to succeed and be JSON. */
static void ctl_json(const char *args, char *out, size_t cap)
{
	char a[256];

	snprintf(a, sizeof(a), "%s --json", args);
	cr_assert_eq(ctl(a, out, cap), 0, "ctl %s: %s", a, out);
	assert_json(out);
}

/* State of backend .(11 + b) in `ctl backends --json`. */
static bool backend_up(int b)
{
	static char out[16384];
	char within[64];

	ctl_json("backends", out, sizeof(out));
	snprintf(within, sizeof(within), "\"addr\":\"198.18.1.%d\"", 11 + b);
	cr_assert_not_null(strstr(out, within), "%s", out);
	return strstr(strstr(out, within), "\"up\":true") ==
	       strstr(strstr(out, within), "\"up\":");
}

/*
 * /metrics from inside ns_lb, parsed by prometheus_client into a flat
 * JSON object: "name@label values in label-name order": value.
 */
static void scrape(char *out, size_t cap)
{
	static const char script[] =
		"import json, sys, urllib.request\n"
		"from prometheus_client.parser import "
		"text_string_to_metric_families\n"
		"t = urllib.request.urlopen('http://127.0.0.1:" MPORT
		"/metrics', timeout=5).read().decode()\n"
		"o = {}\n"
		"for fam in text_string_to_metric_families(t):\n"
		"    for s in fam.samples:\n"
		"        k = s.name + '@' + ','.join(s.labels[n] for n in "
		"sorted(s.labels))\n"
		"        o[k] = int(s.value)\n"
		"print(json.dumps(o, separators=(',', ':')))\n";
	char path[256], cmd[512];
	size_t len = 0;
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "%s/scrape.py", T.tmpdir);
	xm_lbt_write_file(path, script);
	snprintf(cmd, sizeof(cmd), "ip netns exec %s " PY " %s 2>&1",
		 T.ns_lb[0].name, path);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (len + 1 < cap) {
		size_t n = fread(out + len, 1, cap - 1 - len, f);

		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "scrape: %s", out);
}

static uint64_t metric(const char *m, const char *key)
{
	return xm_lbt_json_u64(m, NULL, key);
}

/* Times "needle" occurs in balancer 0's stderr. */
static int logged(const char *needle)
{
	int n = 0;

	for (const char *p = T.lb[0].err; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Waits (ms at most) for backend b to be in state up.  @return ms. */
static uint64_t wait_state(int b, bool up, int ms)
{
	uint64_t t0 = xm_now_ms(), end = t0 + (uint64_t)ms;

	while (backend_up(b) != up && xm_now_ms() < end)
		xm_lbt_wait_err(&T, 0, "\x01", T.lb[0].err_len, 50);
	cr_assert_eq(backend_up(b), up, "backend %d not %s within %d ms: %s",
		     b + 1, up ? "up" : "down", ms, T.lb[0].err);
	return xm_now_ms() - t0;
}

/* ---------------------------------------------------------------- tests */

Test(lb_ops, a_dead_backend_goes_down_gets_no_flows_and_comes_back)
{
	enum { N = 200 };
	static int be[N];
	static char m[65536];
	uint64_t took, ipip0, ipip1;
	int per[2] = { 0, 0 };

	listen_on(0);
	start(2, "health tcp 8080 interval 0.5 timeout 0.4 rise 2 fall 2\n",
	      true);
	/* Both start up; backend 2 has no listener: down within
	 * (rise + 1) x interval of the start. */
	took = wait_state(1, false, CHANGE_MS + LOAD_GRACE_MS);
	cr_log_info("backend 2 down after %llu ms (bound %d + grace %d)",
		    (unsigned long long)took, CHANGE_MS, LOAD_GRACE_MS);
	cr_assert(backend_up(0));
	scrape(m, sizeof(m));
	cr_assert_eq(metric(m, "xmbuf_lb_backend_up@198.18.1.12,53,udp,"
			    VIP), 0, "%s", m);
	cr_assert_eq(metric(m, "xmbuf_lb_backend_up@198.18.1.11,53,udp,"
			    VIP), 1);
	cr_assert_eq(metric(m, "xmbuf_lb_backend_weight@198.18.1.12,53,udp,"
			    VIP), 0);

	/* New flows: every one to backend 1; backend 2's decap sees none. */
	ipip1 = xm_lbt_decap_count(&T, 1, "ipip");
	cr_assert_eq(xm_lbt_probe(&T, 0, 4, 30000, N, 53, be), N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(be[i], 0, "flow %d went to backend %d", i,
			     be[i] + 1);
	cr_assert_eq(xm_lbt_decap_count(&T, 1, "ipip"), ipip1,
		     "the down backend received tunnelled packets");

	/* Its listener comes: up within (rise + 1) x interval, flows
	 * return to it (about half of new ones). */
	listen_on(1);
	took = wait_state(1, true, CHANGE_MS + LOAD_GRACE_MS);
	cr_log_info("backend 2 up after %llu ms", (unsigned long long)took);
	ipip0 = xm_lbt_decap_count(&T, 0, "ipip");
	ipip1 = xm_lbt_decap_count(&T, 1, "ipip");
	cr_assert_eq(xm_lbt_probe(&T, 0, 4, 40000, N, 53, be), N);
	for (int i = 0; i < N; i++)
		per[be[i]]++;
	cr_assert_gt(per[1], N / 4, "backend 2 got %d of %d new flows",
		     per[1], N);
	cr_assert_geq(xm_lbt_decap_count(&T, 1, "ipip") - ipip1,
		      (uint64_t)per[1]);
	cr_assert_geq(xm_lbt_decap_count(&T, 0, "ipip") - ipip0,
		      (uint64_t)per[0]);
	scrape(m, sizeof(m));
	cr_assert_eq(metric(m, "xmbuf_lb_backend_up@198.18.1.12,53,udp,"
			    VIP), 1);

	/* Each change logged once, with its reason; backend 1 never. */
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(logged("198.18.1.12:8080 down: connect: Connection "
			    "refused 2/2"), 1, "%s", T.lb[0].err);
	cr_assert_eq(logged("198.18.1.12:8080 up: connect ok 2/2"), 1, "%s",
		     T.lb[0].err);
	cr_assert_eq(logged("198.18.1.11:8080"), 0, "%s", T.lb[0].err);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "health_transitions"), 2);
}

Test(lb_ops, all_backends_down_keeps_the_last_table)
{
	enum { N = 60 };
	static int be[N];

	start(2, "health tcp 8080 interval 0.5 timeout 0.4 rise 2 fall 2\n",
	      false);
	cr_assert(xm_lbt_wait_err(&T, 0, "every backend is down", 0,
				  CHANGE_MS + LOAD_GRACE_MS + 1000),
		  "%s", T.lb[0].err);
	/* Said once, counted, and flows still go somewhere. */
	cr_assert_eq(xm_lbt_probe(&T, 0, 4, 31000, N, 53, be), N);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(logged("every backend is down"), 1, "%s", T.lb[0].err);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "all_down_events"), 1);
	cr_assert_eq(xm_lbt_summary(&T, 0, "\"dropped\"", "no_backend"), 0);
}

Test(lb_ops, every_control_command_answers_in_text_and_json)
{
	enum { N = 120 };
	static int be[N];
	static char out[65536];
	uint64_t gen;

	start(3, "", false);
	cr_assert_eq(xm_lbt_probe(&T, 0, 4, 32000, N, 53, be), N);
	/* the socket is the owner's only */
	{
		struct stat st;

		cr_assert_eq(stat(ctl_path, &st), 0);
		cr_assert(S_ISSOCK(st.st_mode));
		cr_assert_eq(st.st_mode & 0777, 0600, "mode %o",
			     st.st_mode & 0777);
	}

	ctl_json("status", out, sizeof(out));
	cr_assert_eq(xm_lbt_json_u64(out, NULL, "generation"), 1);
	cr_assert_geq(xm_lbt_json_u64(out, NULL, "forwarded"), N);
	cr_assert_not_null(strstr(out, T.lb[0].conf), "%s", out);
	cr_assert_not_null(strstr(out, "\"uptime_s\":"));
	ctl_json("services", out, sizeof(out));
	cr_assert_eq(xm_lbt_json_u64(out, "\"vip\":\"" VIP ":53/udp\"",
				     "new_flows"), N);
	cr_assert_eq(xm_lbt_json_u64(out, NULL, "backends_up"), 3);
	ctl_json("backends", out, sizeof(out));
	cr_assert_not_null(strstr(out, "\"addr\":\"198.18.1.13\""));
	ctl_json("flows", out, sizeof(out));
	cr_assert_not_null(strstr(out, "\"client\":\"198.18.1.1:32000\""),
			   "%s", out);
	ctl_json("flows " VIP ":53/udp", out, sizeof(out));
	cr_assert_not_null(strstr(out, "\"client\":\"198.18.1.1:32000\""));
	ctl_json("help", out, sizeof(out));

	/* The text forms: tables with their headers. */
	cr_assert_eq(ctl("status", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "generation 1"), "%s", out);
	cr_assert_eq(ctl("backends", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "BACKEND"), "%s", out);
	cr_assert_eq(ctl("services", out, sizeof(out)), 0);
	cr_assert_eq(ctl("flows", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "198.18.1.1:32000"), "%s", out);

	/* Drain: new flows avoid .13, the old ones stay where they were. */
	ctl_json("drain 198.18.1.13", out, sizeof(out));
	cr_assert_not_null(strstr(out, "until undrain or the next reload"),
			   "%s", out);
	cr_assert_neq(ctl("drain 198.18.1.13", out, sizeof(out)), 0);
	cr_assert_neq(ctl("drain 198.18.1.99", out, sizeof(out)), 0);
	ctl_json("backends", out, sizeof(out));
	cr_assert_not_null(strstr(out, "\"state\":\"drained\""), "%s", out);
	{
		static int fresh[N], old[N];

		cr_assert_eq(xm_lbt_probe(&T, 0, 4, 33000, N, 53, fresh), N);
		for (int i = 0; i < N; i++)
			cr_assert_neq(fresh[i], 2, "new flow %d to the "
				      "drained backend", i);
		cr_assert_eq(xm_lbt_probe(&T, 0, 4, 32000, N, 53, old), N);
		for (int i = 0; i < N; i++)
			cr_assert_eq(old[i], be[i], "flow %d moved", i);
	}
	ctl_json("undrain 198.18.1.13", out, sizeof(out));
	ctl_json("status", out, sizeof(out));
	gen = xm_lbt_json_u64(out, NULL, "generation");
	cr_assert_eq(gen, 3, "drain and undrain: a generation each");

	/* Reload: a new generation, and it says so. */
	ctl_json("reload", out, sizeof(out));
	cr_assert_not_null(strstr(out, "reloaded"), "%s", out);
	ctl_json("status", out, sizeof(out));
	cr_assert_eq(xm_lbt_json_u64(out, NULL, "generation"), gen + 1);
	/* A bad file: the error line, and the running one stays. */
	xm_lbt_write_file(T.lb[0].conf, "vip nowhere\n");
	cr_assert_eq(ctl("reload", out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "error: reload refused:"), "%s", out);
	cr_assert_not_null(strstr(out, "lb0.conf:1:"), "%s", out);
	ctl_json("status", out, sizeof(out));
	cr_assert_eq(xm_lbt_json_u64(out, NULL, "generation"), gen + 1);
	cr_assert_eq(xm_lbt_json_u64(out, NULL, "reload_failures"), 1);
	cr_assert_eq(xm_lbt_probe(&T, 0, 4, 32000, N, 53, be), N);
	cr_assert_eq(xm_lbt_json_u64(out, NULL, "ctl_errors"), 3);
	xm_lbt_stop_clean(&T, 0);
}

/* Sends raw bytes on a fresh connection; shut_wr ends our side.
 * @return the answer (a static buffer), after at most ms. */
static const char *raw(const void *data, size_t len, bool shut_wr, int ms)
{
	static char buf[4096];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	size_t got = 0;
	int fd;

	strcpy(sa.sun_path, ctl_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (len)
		cr_assert_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
	if (shut_wr)
		shutdown(fd, SHUT_WR);
	while (xm_now_ms() < end && got + 1 < sizeof(buf)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return buf;
}

Test(lb_ops, bad_control_input_is_refused_counted_and_harmless)
{
	enum { N = 60 };
	static int be[N];
	static char big[4096], out[16384];
	const char *r;
	uint64_t t0;

	start(3, "", false);
	r = raw("rm -rf /\n", 9, false, 3000);
	cr_assert(!strncmp(r, "error: unknown command", 22), "%s", r);
	r = raw("status\x01\x02\n", 9, false, 3000);
	cr_assert(!strncmp(r, "error: not a command", 20), "%s", r);
	r = raw("drain 198.18.1.11 198.18.1.12\n", 30, false, 3000);
	cr_assert(!strncmp(r, "error:", 6), "%s", r);
	memset(big, 'a', sizeof(big));
	r = raw(big, sizeof(big), false, 3000);
	cr_assert(!strncmp(r, "error: command longer than", 26), "%s", r);
	/* Half-written: a line cut short by the end of the stream, and one
	 * that never ends (the server's time limit answers it). */
	r = raw("stat", 4, true, 3000);
	cr_assert(!strncmp(r, "error: incomplete command", 25), "%s", r);
	t0 = xm_now_ms();
	r = raw("backends --js", 13, false, 2000 + 3000);
	cr_assert(!strncmp(r, "error: incomplete command", 25), "%s", r);
	cr_assert_geq(xm_now_ms() - t0, 1500, "answered before its limit");

	/* The balancer still forwards, and counted every refusal. */
	cr_assert_eq(xm_lbt_probe(&T, 0, 4, 34000, N, 53, be), N);
	ctl_json("status", out, sizeof(out));
	cr_assert_eq(xm_lbt_json_u64(out, NULL, "ctl_errors"), 6, "%s", out);
	/* the six refused; this one counts once answered */
	cr_assert_eq(xm_lbt_json_u64(out, NULL, "ctl_requests"), 6);
	xm_lbt_stop_clean(&T, 0);
	cr_assert_eq(xm_lbt_summary(&T, 0, NULL, "ctl_errors"), 6);
}

Test(lb_ops, metrics_equal_the_summary)
{
	enum { N = 300 };
	static int be[N];
	static char m[65536];
	char key[128], within[64];

	start(3, "health tcp 8080 interval 0.5 timeout 0.4 rise 2 fall 2\n",
	      true);
	listen_on(0);
	listen_on(1);
	listen_on(2);
	cr_assert_eq(xm_lbt_probe(&T, 0, 4, 35000, N, 53, be), N);
	cr_assert_eq(xm_lbt_probe(&T, 0, 4, 35000, N, 53, be), N);
	scrape(m, sizeof(m));
	xm_lbt_stop_clean(&T, 0);

	cr_assert_eq(metric(m, "xmbuf_lb_forwarded_total@"),
		     xm_lbt_summary(&T, 0, NULL, "forwarded"), "%s", m);
	cr_assert_eq(metric(m, "xmbuf_lb_rx_packets_total@"),
		     xm_lbt_summary(&T, 0, NULL, "rx_packets"));
	cr_assert_eq(metric(m, "xmbuf_lb_dropped_total@"),
		     xm_lbt_summary(&T, 0, "\"dropped\"", "total"));
	cr_assert_eq(metric(m, "xmbuf_lb_config_generation@"),
		     xm_lbt_summary(&T, 0, NULL, "generation"));
	cr_assert_eq(metric(m, "xmbuf_lb_packets_total@53,udp," VIP),
		     xm_lbt_summary(&T, 0, "\"vip\":\"" VIP ":53/udp\"",
				    "packets"));
	cr_assert_eq(metric(m, "xmbuf_lb_bytes_total@53,udp," VIP),
		     xm_lbt_summary(&T, 0, "\"vip\":\"" VIP ":53/udp\"",
				    "bytes"));
	cr_assert_eq(metric(m, "xmbuf_lb_new_flows_total@53,udp," VIP), N);
	for (int b = 0; b < 3; b++) {
		snprintf(within, sizeof(within), "\"addr\":\"198.18.1.%d\"",
			 11 + b);
		snprintf(key, sizeof(key), "xmbuf_lb_backend_packets_total@"
			 "198.18.1.%d,53,udp," VIP, 11 + b);
		cr_assert_eq(metric(m, key),
			     xm_lbt_summary(&T, 0, within, "packets"));
		snprintf(key, sizeof(key), "xmbuf_lb_backend_new_flows_total@"
			 "198.18.1.%d,53,udp," VIP, 11 + b);
		cr_assert_eq(metric(m, key),
			     xm_lbt_summary(&T, 0, within, "new_flows"));
	}
	cr_assert_not_null(strstr(m, "\"xmbuf_lb_flows@0\":"), "%s", m);
	snprintf(key, sizeof(key), "xmbuf_port_rx_packets_total@el0");
	cr_assert_geq(metric(m, key), 2 * N);
	cr_assert_not_null(strstr(m, "\"xmbuf_zone_used@"), "%s", m);
	cr_assert_not_null(strstr(m, "\"xmbuf_lb_drops_total@fill_ring_empty\""));
}
