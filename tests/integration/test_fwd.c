// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_fwd.c - xmbuf-fwd end to end: the example binary, run as a user
 * would run it, on veth pairs between two network namespaces of the
 * test's own (tests/lib/netns.h).
 *
 *   ns_peer: the test (AF_PACKET)            ns_fwd: xmbuf-fwd -i xv1a [-o xv2a]
 *        xv1b ============== veth ============== xv1a
 *        xv2b ============== veth ============== xv2a   (two-port case)
 *
 * The peer sends numbered UDP frames of sizes 60..1500 and expects every
 * one back, in order, byte for byte, with only the two MAC addresses
 * swapped.  Then: the --json summary parses and counts what was sent, the
 * frame audit in it is clean, no XDP program is left on the interfaces;
 * usage errors exit 2 and say "--help"; runtime errors (unknown
 * interface, queue out of range) exit 1 with a message naming the
 * interface and leave nothing attached.
 *
 * Each test builds its namespaces and veths and .fini removes them (and
 * kills a forwarder still running) even when the test fails; addresses
 * are in 198.18.0.0/15, every send loop is bounded.  Needs root; skipped,
 * loudly, without it (the usage tests run anyway).
 *
 * The binary is $XMBUF_FWD, or build/bin/xmbuf-fwd of the build tree this
 * test binary lives in (BUILD/test/VARIANT/integration/test_fwd).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <criterion/criterion.h>

#include "../lib/netns.h"
#include "../lib/proc.h"

#define NPKTS		1000	/* frames per forwarding test */
#define MIN_FRAME	60
#define MAX_FRAME	1500
#define OUT_MAX		(64 * 1024)

/* ------------------------------------------------------- environment */

/*
 * The hosts: ns_fwd holds the forwarder's ends (xv1a, xv2a), ns_peer the
 * test's ends (xv1b, xv2b).  Made by each test, removed in .fini even
 * when the test fails; a forwarder still running is killed first.
 */
static struct xm_netns ns_fwd, ns_peer;
static struct xm_veth v1, v2;
static pid_t live_child;

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: xmbuf-fwd integration needs root "
			     "(namespaces, veth, XDP, AF_XDP)");
}

static void net_setup(int pairs)
{
	int err;

	need_root();
	(void)xm_netns_sweep();
	err = xm_netns_create(&ns_fwd);
	cr_assert_eq(err, 0, "namespace: %s", strerror(-err));
	err = xm_netns_create(&ns_peer);
	cr_assert_eq(err, 0, "namespace: %s", strerror(-err));
	err = xm_veth_create(&v1, &ns_fwd, &ns_peer,
			     &(struct xm_veth_opts){ .index = 1 });
	cr_assert_eq(err, 0, "veth 1: %s", strerror(-err));
	if (pairs > 1) {
		err = xm_veth_create(&v2, &ns_fwd, &ns_peer,
				     &(struct xm_veth_opts){ .index = 2 });
		cr_assert_eq(err, 0, "veth 2: %s", strerror(-err));
	}
}

static void net_teardown(void)
{
	if (live_child > 0) {
		kill(live_child, SIGKILL);
		waitpid(live_child, NULL, 0);
		live_child = 0;
	}
	xm_veth_destroy(&v2);
	xm_veth_destroy(&v1);
	xm_netns_destroy(&ns_peer);
	xm_netns_destroy(&ns_fwd);
}

static const char *fwd_path(void)
{
	static char path[PATH_MAX + 32];
	const char *p = xm_example_path("xmbuf-fwd", "XMBUF_FWD", path,
					sizeof(path));

	cr_assert(p, "xmbuf-fwd not found (make examples, or set XMBUF_FWD)");
	return p;
}

/* True when no XDP program of any mode is attached to ifname in ns. */
static bool xdp_detached(const struct xm_netns *ns, const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int saved, ifindex, err;

	err = xm_netns_enter(ns, &saved);
	cr_assert_eq(err, 0, "enter %s: %s", ns->name, strerror(-err));
	ifindex = (int)if_nametoindex(ifname);
	err = ifindex > 0 ? bpf_xdp_query(ifindex, 0, &q) : -ENODEV;
	xm_netns_leave(saved);
	cr_assert_eq(err, 0, "bpf_xdp_query %s: %s", ifname, strerror(-err));
	return q.attach_mode == XDP_ATTACHED_NONE && q.prog_id == 0 &&
	       q.drv_prog_id == 0 && q.skb_prog_id == 0;
}

/* ------------------------------------------------------- the child */

struct child {
	pid_t pid;			/* xmbuf-fwd */
	int out_fd;			/* its stdout (pipe), -1 at EOF */
	int err_fd;			/* its stderr (pipe), -1 at EOF */
	char out[OUT_MAX];		/* stdout so far, NUL-terminated */
	size_t out_len;
	char err[OUT_MAX];		/* stderr so far, NUL-terminated */
	size_t err_len;
};

/* Starts xmbuf-fwd with args inside ns (NULL: this namespace). */
static void child_spawn(struct child *c, const struct xm_netns *ns,
			const char *const *args)
{
	const char *argv[32];
	int n = 0;

	memset(c, 0, sizeof(*c));
	argv[n++] = fwd_path();
	for (; args && args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	c->pid = xm_proc_spawn(ns, argv, 0, &c->out_fd, &c->err_fd);
	cr_assert(c->pid > 0, "spawn: %s", strerror(-c->pid));
	live_child = c->pid;
}

/* Reads what the child wrote for up to timeout_ms.  @return false when
 * both pipes are closed. */
static bool child_pump(struct child *c, int timeout_ms)
{
	return xm_proc_pump(&c->out_fd, c->out, &c->out_len, &c->err_fd,
			    c->err, &c->err_len, OUT_MAX, timeout_ms);
}

/* Waits for needle on the child's stderr. */
static bool child_wait_err(struct child *c, const char *needle, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;

	while (!strstr(c->err, needle) && xm_now_ms() < end)
		if (!child_pump(c, 50))
			break;
	return strstr(c->err, needle) != NULL;
}

/*
 * Sends sig (0: none), collects the output until EOF and reaps the child
 * within ms, killing it when it overstays.  @return its exit status, or
 * -1 when it was killed by a signal or had to be killed.
 */
static int child_finish(struct child *c, int sig, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	int status;

	if (sig)
		kill(c->pid, sig);
	while (xm_now_ms() < end && child_pump(c, 50))
		;
	status = xm_proc_reap(c->pid, end);
	live_child = 0;
	if (status == -ETIMEDOUT) {
		cr_log_error("xmbuf-fwd overstayed; stderr:\n%s", c->err);
		return -1;
	}
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	return status < 0 ? -1 : status;
}

static int run_fwd(struct child *c, const struct xm_netns *ns,
		   const char *const *args, int ms)
{
	child_spawn(c, ns, args);
	return child_finish(c, 0, ms);
}

/* -------------------------------------------------------- JSON check */

/*
 * A strict little JSON reader: validates the whole text and records
 * every number and literal under its dotted path ("audit.held"), so the
 * test can check values without trusting a substring search.
 */
struct jval {
	char path[96];
	char text[40];
};

struct jdoc {
	const char *p;
	struct jval v[256];
	int n;
	bool bad;
};

static void j_ws(struct jdoc *d)
{
	while (*d->p == ' ' || *d->p == '\n' || *d->p == '\t' ||
	       *d->p == '\r')
		d->p++;
}

static void j_value(struct jdoc *d, const char *path);

static bool j_string(struct jdoc *d, char *out, size_t len)
{
	size_t n = 0;

	if (*d->p != '"')
		return false;
	d->p++;
	while (*d->p && *d->p != '"') {
		char ch = *d->p;

		if ((unsigned char)ch < 0x20)
			return false;
		if (ch == '\\') {
			d->p++;
			if (!strchr("\"\\/bfnrtu", *d->p) || !*d->p)
				return false;
			if (*d->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)d->p[i]))
						return false;
				d->p += 4;
			}
			ch = *d->p;
		}
		if (out && n + 1 < len)
			out[n++] = ch;
		d->p++;
	}
	if (*d->p != '"')
		return false;
	d->p++;
	if (out)
		out[n] = '\0';
	return true;
}

static void j_record(struct jdoc *d, const char *path, const char *s,
		     size_t len)
{
	if (d->n == (int)(sizeof(d->v) / sizeof(d->v[0])))
		return;
	snprintf(d->v[d->n].path, sizeof(d->v[d->n].path), "%s", path);
	snprintf(d->v[d->n].text, sizeof(d->v[d->n].text), "%.*s", (int)len,
		 s);
	d->n++;
}

static void j_value(struct jdoc *d, const char *path)
{
	char key[64], sub[96];

	j_ws(d);
	if (*d->p == '{' || *d->p == '[') {
		bool obj = *d->p == '{';
		int idx = 0;

		d->p++;
		j_ws(d);
		if (*d->p == (obj ? '}' : ']')) {
			d->p++;
			return;
		}
		for (;;) {
			j_ws(d);
			if (obj) {
				if (!j_string(d, key, sizeof(key))) {
					d->bad = true;
					return;
				}
				j_ws(d);
				if (*d->p++ != ':') {
					d->bad = true;
					return;
				}
				snprintf(sub, sizeof(sub), "%s%s%s", path,
					 *path ? "." : "", key);
			} else {
				snprintf(sub, sizeof(sub), "%s[%d]", path,
					 idx++);
			}
			j_value(d, sub);
			if (d->bad)
				return;
			j_ws(d);
			if (*d->p == ',') {
				d->p++;
				continue;
			}
			if (*d->p++ != (obj ? '}' : ']'))
				d->bad = true;
			return;
		}
	}
	if (*d->p == '"') {
		const char *s = d->p + 1;

		if (!j_string(d, NULL, 0))
			d->bad = true;
		else
			j_record(d, path, s, (size_t)(d->p - 1 - s));
		return;
	}
	if (!strncmp(d->p, "true", 4) || !strncmp(d->p, "null", 4)) {
		j_record(d, path, d->p, 4);
		d->p += 4;
		return;
	}
	if (!strncmp(d->p, "false", 5)) {
		j_record(d, path, d->p, 5);
		d->p += 5;
		return;
	}
	{
		const char *s = d->p;
		char *end;

		if (*s != '-' && !isdigit((unsigned char)*s)) {
			d->bad = true;
			return;
		}
		strtod(s, &end);
		if (end == s) {
			d->bad = true;
			return;
		}
		d->p = end;
		j_record(d, path, s, (size_t)(end - s));
	}
}

static bool json_parse(struct jdoc *d, const char *text)
{
	memset(d, 0, sizeof(*d));
	d->p = text;
	j_ws(d);
	if (*d->p != '{')
		return false;
	j_value(d, "");
	if (d->bad)
		return false;
	j_ws(d);
	return *d->p == '\0';
}

static const char *json_get(const struct jdoc *d, const char *path)
{
	for (int i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].path, path))
			return d->v[i].text;
	return NULL;
}

static uint64_t json_u64(const struct jdoc *d, const char *path)
{
	const char *s = json_get(d, path);

	cr_assert(s, "JSON summary lacks %s", path);
	return strtoull(s, NULL, 10);
}

/* ------------------------------------------------------------ traffic */

/* Frame seq from the peer's end of v1 to the forwarder's: its size walks
 * 60..1500, its payload is a pattern seeded by seq. */
static size_t peer_frame(uint32_t seq, uint8_t *f)
{
	size_t len = MIN_FRAME + (seq * 379u) % (MAX_FRAME - MIN_FRAME + 1);
	struct xm_tframe t = {
		.dmac = v1.mac_a, .smac = v1.mac_b, .family = 4,
		.saddr = v1.ip_b, .daddr = v1.ip_a, .sport = 4000, .dport = 9,
		.seq = seq, .flow = 1, .seed = seq * 2654435761u,
	};

	cr_assert_eq(xm_tframe_build(f, len, &t), len);
	return len;
}

/*
 * Checks one reply against frame *next as it was sent: same length, MACs
 * swapped, every other byte equal.  Replies must come in order.
 */
static void check_reply(const uint8_t *r, ssize_t n, uint32_t *next)
{
	struct xm_tframe layout = { .family = 4 };
	uint8_t want[MAX_FRAME];
	uint32_t seq;
	uint16_t flow, dport;
	size_t len;

	cr_assert(xm_tframe_parse(r, (size_t)n, &layout, &seq, &flow, &dport),
		  "reply of %zd bytes is not a test frame", n);
	cr_assert_eq(seq, *next, "reply %u arrived where %u was due", seq,
		     *next);
	len = peer_frame(seq, want);
	cr_assert_eq((size_t)n, len, "reply %u: %zd bytes, sent %zu", seq, n,
		     len);
	cr_assert(!memcmp(r, want + 6, 6) && !memcmp(r + 6, want, 6),
		  "reply %u: MACs not swapped", seq);
	cr_assert(!memcmp(r + 12, want + 12, len - 12),
		  "reply %u: bytes after the MACs differ", seq);
	(*next)++;
}

/* Reads replies until NPKTS came or none came for ms. */
static void drain_replies(int fd, uint32_t *next, int ms)
{
	uint8_t buf[2048];

	while (*next < NPKTS) {
		ssize_t n = xm_raw_recv(fd, buf, sizeof(buf), ms);

		cr_assert(n >= 0, "recv: %s", strerror((int)-n));
		if (n == 0)
			return;
		check_reply(buf, n, next);
	}
}

/*
 * Sends NPKTS frames from the peer's end of v1 and expects them all back
 * on rx_if (the peer's end of v1 or v2).
 */
static void exchange(const char *rx_if)
{
	uint8_t f[MAX_FRAME];
	uint32_t next = 0;
	uint64_t end;
	int tx_fd, rx_fd, err;

	tx_fd = xm_raw_open(&ns_peer, v1.b);
	cr_assert(tx_fd >= 0, "AF_PACKET on %s: %s", v1.b, strerror(-tx_fd));
	rx_fd = strcmp(rx_if, v1.b) ? xm_raw_open(&ns_peer, rx_if) : tx_fd;
	cr_assert(rx_fd >= 0, "AF_PACKET on %s: %s", rx_if, strerror(-rx_fd));

	for (uint32_t seq = 0; seq < NPKTS; seq++) {
		err = xm_raw_send(tx_fd, f, peer_frame(seq, f));
		cr_assert_eq(err, 0, "send %u: %s", seq, strerror(-err));
		/* Keep the reflected frames moving as we go. */
		if (seq % 32 == 31)
			drain_replies(rx_fd, &next, 0);
	}
	end = xm_now_ms() + 5000;
	while (next < NPKTS && xm_now_ms() < end)
		drain_replies(rx_fd, &next, 200);
	cr_assert_eq(next, NPKTS, "%u of %u frames came back", next, NPKTS);
	if (rx_fd != tx_fd)
		close(rx_fd);
	close(tx_fd);
}

/* Runs xmbuf-fwd with args, waits until its ports are open. */
static void start_fwd(struct child *c, const char *const *args)
{
	child_spawn(c, &ns_fwd, args);
	if (!child_wait_err(c, "queue(s), mode", 10000)) {
		child_finish(c, SIGKILL, 2000);
		cr_assert_fail("xmbuf-fwd did not come up; stderr:\n%s",
			       c->err);
	}
}

static void check_summary(struct child *c, const char *stopped_by,
			  uint64_t packets)
{
	struct jdoc d;
	const char *s;

	cr_assert(json_parse(&d, c->out), "--json output does not parse:\n%s",
		  c->out);
	cr_assert_eq(json_u64(&d, "rx_packets"), packets,
		     "rx_packets in\n%s", c->out);
	cr_assert_eq(json_u64(&d, "tx_packets"), packets,
		     "tx_packets in\n%s", c->out);
	cr_assert_eq(json_u64(&d, "dropped_tx_full"), 0);
	s = json_get(&d, "audit.ok");
	cr_assert(s && !strcmp(s, "true"), "audit not ok:\n%s", c->out);
	cr_assert_eq(json_u64(&d, "audit.held"), 0);
	s = json_get(&d, "stopped_by");
	cr_assert(s && !strcmp(s, stopped_by), "stopped_by %s, want %s",
		  s ? s : "(none)", stopped_by);
	cr_assert(json_get(&d, "port_in.xdp_redirected"),
		  "no port_in statistics");
}

/* ------------------------------------------------------------- tests */

TestSuite(fwd, .fini = net_teardown, .timeout = 60);

Test(fwd, reflects_every_frame_with_macs_swapped)
{
	struct child c;

	net_setup(1);
	start_fwd(&c, (const char *const[]){ "-i", v1.a, "-q", "0",
					     "-d", "60", "--json", NULL });
	exchange(v1.b);
	cr_assert_eq(child_finish(&c, SIGINT, 10000), 0,
		     "exit status; stderr:\n%s", c.err);
	check_summary(&c, "SIGINT", NPKTS);
	cr_assert(xdp_detached(&ns_fwd, v1.a), "an XDP program was left on %s",
		  v1.a);
}

Test(fwd, forwards_to_a_second_port_through_one_umem)
{
	struct child c;
	struct jdoc d;

	net_setup(2);
	start_fwd(&c, (const char *const[]){ "-i", v1.a, "-o", v2.a,
					     "--json", NULL });
	/* In at v1, out through v2: the replies arrive on v2's far end. */
	exchange(v2.b);
	cr_assert_eq(child_finish(&c, SIGTERM, 10000), 0, "stderr:\n%s",
		     c.err);
	check_summary(&c, "SIGTERM", NPKTS);
	cr_assert(json_parse(&d, c.out));
	/* Zero copy: the output port sent the RX frames as they were; no
	 * segment had to be copied into a fresh frame. */
	cr_assert_eq(json_u64(&d, "port_out.tx_copied"), 0);
	cr_assert_eq(json_u64(&d, "port_out.tx_packets"), NPKTS);
	cr_assert(xdp_detached(&ns_fwd, v1.a) && xdp_detached(&ns_fwd, v2.a));
}

/*
 * -B reaches the kernel: the summary reports the output port's budget
 * (xm_port_tx_budget(), what XDP_MAX_TX_SKB_BUDGET took), every frame
 * still comes back, and without -B it is the port's default, the TX ring.
 */
Test(fwd, tx_budget_reaches_the_port)
{
	struct child c;
	struct jdoc d;

	net_setup(1);
	start_fwd(&c, (const char *const[]){ "-i", v1.a, "-q", "0", "-B", "64",
					     "--json", NULL });
	exchange(v1.b);
	cr_assert_eq(child_finish(&c, SIGINT, 10000), 0, "stderr:\n%s",
		     c.err);
	check_summary(&c, "SIGINT", NPKTS);
	cr_assert(json_parse(&d, c.out));
	cr_assert_eq(json_u64(&d, "tx_budget"), 64, "summary:\n%s", c.out);

	cr_assert_eq(run_fwd(&c, &ns_fwd, (const char *const[]){ "-i", v1.a,
				"-d", "0.3", "--json", "-Q", NULL }, 20000),
		     0, "stderr:\n%s", c.err);
	cr_assert(json_parse(&d, c.out));
	cr_assert_eq(json_u64(&d, "tx_budget"), 1024, "summary:\n%s", c.out);
}

Test(fwd, duration_ends_the_run)
{
	struct child c;
	uint64_t t0;
	int rc;

	net_setup(1);
	t0 = xm_now_ms();
	rc = run_fwd(&c, &ns_fwd, (const char *const[]){ "-i", v1.a, "-d", "1",
							 "--json", "-Q", NULL },
		     20000);
	cr_assert_eq(rc, 0, "stderr:\n%s", c.err);
	cr_assert(xm_now_ms() - t0 >= 1000, "returned before its duration");
	check_summary(&c, "duration", 0);
	cr_assert(xdp_detached(&ns_fwd, v1.a));
}

Test(fwd, text_summary_without_json)
{
	struct child c;

	net_setup(1);
	cr_assert_eq(run_fwd(&c, &ns_fwd, (const char *const[]){ "-i", v1.a,
				"-d", "0.3", NULL }, 20000),
		     0, "stderr:\n%s", c.err);
	cr_assert(strstr(c.out, "audit: ok"), "summary:\n%s", c.out);
	cr_assert(c.out[0] != '{', "JSON without --json");
}

/*
 * Quiet by default (issue #16): the library's notices about the
 * environment (here: veth offers no zero-copy, so auto mode falls back to
 * copy) are not printed unless -v; the banner names the mode taken.
 */
Test(fwd, environment_notices_only_under_verbose)
{
	struct child c;

	net_setup(1);
	cr_assert_eq(run_fwd(&c, &ns_fwd, (const char *const[]){ "-i", v1.a,
				"-d", "0.3", "--json", NULL }, 20000),
		     0, "stderr:\n%s", c.err);
	cr_assert(strstr(c.err, "mode copy"), "banner:\n%s", c.err);
	cr_assert_null(strstr(c.err, "zero-copy not supported"), "stderr:\n%s",
		       c.err);
	cr_assert_null(strstr(c.err, "xmbuf: "), "a library notice without "
		       "-v:\n%s", c.err);
	cr_assert_eq(run_fwd(&c, &ns_fwd, (const char *const[]){ "-i", v1.a,
				"-d", "0.3", "--json", "-v", NULL },
			     20000), 0, "stderr:\n%s", c.err);
	cr_assert(strstr(c.err, "zero-copy not supported"), "stderr with -v:"
		  "\n%s", c.err);
}

Test(fwd, unknown_interface_is_a_runtime_error)
{
	struct child c;

	net_setup(1);
	cr_assert_eq(run_fwd(&c, &ns_fwd, (const char *const[]){ "-i",
				"xmnoif0", "-d", "1", NULL }, 20000),
		     1, "stderr:\n%s", c.err);
	cr_assert(strstr(c.err, "xmnoif0"), "message does not name the "
		  "interface:\n%s", c.err);
	cr_assert_eq(c.out_len, 0, "no summary expected, got:\n%s", c.out);
}

Test(fwd, unknown_output_interface_leaves_nothing_attached)
{
	struct child c;

	net_setup(1);
	cr_assert_eq(run_fwd(&c, &ns_fwd, (const char *const[]){ "-i", v1.a,
				"-o", "xmnoif1", "-d", "5", NULL }, 20000),
		     1, "stderr:\n%s", c.err);
	cr_assert(strstr(c.err, "xmnoif1"), "stderr:\n%s", c.err);
	cr_assert(xdp_detached(&ns_fwd, v1.a),
		  "%s kept a program after the failure", v1.a);
}

Test(fwd, queue_out_of_range_is_a_runtime_error)
{
	struct child c;

	net_setup(1);
	cr_assert_eq(run_fwd(&c, &ns_fwd, (const char *const[]){ "-i", v1.a,
				"-q", "7", "-d", "1", NULL }, 20000),
		     1, "stderr:\n%s", c.err);
	cr_assert(strstr(c.err, v1.a), "stderr:\n%s", c.err);
	cr_assert(xdp_detached(&ns_fwd, v1.a));
}

/* Usage errors need no network and no privilege. */
struct usage_case {
	const char *args[8];
};

static const struct usage_case usage_cases[] = {
	{ { NULL } },				/* no -i */
	{ { "-i", NULL } },			/* -i without value */
	{ { "--bogus", NULL } },
	{ { "-i", "p1", "extra", NULL } },
	{ { "-i", "p1", "-b", "0", NULL } },
	{ { "-i", "p1", "-b", "100000", NULL } },
	{ { "-i", "p1", "-q", "x", NULL } },
	{ { "-i", "p1", "-q", "1,1", NULL } },
	{ { "-i", "p1", "-q", "3-1", NULL } },
	{ { "-i", "p1", "-d", "-1", NULL } },
	{ { "-i", "p1", "-d", "0", NULL } },
	{ { "-i", "p1", "-d", "abc", NULL } },
	{ { "-i", "p1", "-m", "warp", NULL } },
	{ { "-i", "p1", "--cpus", "1-", NULL } },
	{ { "-i", "p1", "-F", "12", NULL } },
	{ { "-i", "p1", "-B", "31", NULL } },	/* under the kernel's 32 */
	{ { "-i", "p1", "-B", "1025", NULL } },	/* over the TX ring */
	{ { "-i", "p1", "--tx-budget", "x", NULL } },
};

Test(fwd, bad_arguments_exit_2)
{
	for (size_t i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]);
	     i++) {
		struct child c;
		int rc = run_fwd(&c, NULL, usage_cases[i].args, 10000);

		cr_assert_eq(rc, 2, "case %zu (%s %s %s): exit %d, stderr:\n%s",
			     i, usage_cases[i].args[0] ?: "",
			     usage_cases[i].args[0] && usage_cases[i].args[1] ?
				usage_cases[i].args[1] : "",
			     usage_cases[i].args[0] && usage_cases[i].args[1] &&
			     usage_cases[i].args[2] ? usage_cases[i].args[2] : "",
			     rc, c.err);
		cr_assert(strstr(c.err, "--help"),
			  "case %zu: no hint at --help:\n%s", i, c.err);
		cr_assert_eq(c.out_len, 0, "case %zu wrote to stdout", i);
	}
}

Test(fwd, help_exits_0)
{
	struct child c;

	cr_assert_eq(run_fwd(&c, NULL, (const char *const[]){ "--help", NULL },
			     10000), 0);
	cr_assert(strstr(c.out, "usage:") && strstr(c.out, "--json"),
		  "help text:\n%s", c.out);
}
