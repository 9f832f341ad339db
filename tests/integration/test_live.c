// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_live.c - the library's live-frames engine (userspace/live.c,
 * live_sink.c, xm_live_* in xm_live.h) on a veth pair of the test's own.
 *
 *   ns A: xm_live_send() -> xv1a ====== xv1b [xm_test_dropk, k = 0:
 *         xm_live_run()                        count, XDP_PASS] -> AF_PACKET
 *
 *   live_sink: xm_live_send() -> xv1a ====== xv1b [xm_live_sink]
 *
 * The peer needs an XDP program for a veth to take redirected frames;
 * xm_test_dropk with k = 0 counts IP frames and passes them to the stack,
 * where the test's AF_PACKET socket reads them back.  Checked: every
 * repetition leaves (peer count = frames run = per-CPU sum), each copy
 * carries the stamp (magic, stream = base + CPU, consecutive sequence
 * numbers, a TX time between the call's start and end) or the bare
 * sequence number, flow fields step as a mixed radix or follow a given
 * order, a size cycle cuts frames with right length fields, and every
 * checksum verifies.  xm_live_run() stops exactly at a count, sizes its
 * calls to the call length (far fewer calls than fixed minimum-size
 * ones) and ends near its time limit, at a stop flag or a signal.  The
 * sink counts every frame and, apart, those to its MAC, and leaves
 * nothing attached once closed.  Every option and argument the API
 * refuses is refused with EINVAL / ENODEV / EBUSY.
 *
 * Needs root (BPF, namespaces); skipped loudly without it, except the
 * argument checks that fail before anything is loaded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>

#include "../lib/dropk.h"
#include "../lib/netns.h"
#include "xm_live.h"
#include "xm_live_int.h"
#include "xm_pkt.h"
#include "xm_port.h"
#include "../../examples/pktgen/pg_stamp.h"

static struct xm_netns ns_a, ns_b;
static struct xm_veth v;
static struct xm_dropk peer;
static int saved_ns = -1, raw = -1;
static struct xm_live_sink *sink;	/* live_sink: closed at teardown */

static int quiet(enum xm_print_level l, const char *f, va_list ap)
{
	(void)l;
	(void)f;
	(void)ap;
	return 0;
}

/* The pair; with_peer: xm_test_dropk on B and a raw socket there. */
static void net_up(bool with_peer)
{
	int err;

	xm_set_print(quiet);
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: live frames need root (BPF, netns)");
	(void)xm_netns_sweep();
	err = xm_netns_create(&ns_a);
	cr_assert_eq(err, 0, "namespace: %s", strerror(-err));
	err = xm_netns_create(&ns_b);
	cr_assert_eq(err, 0, "namespace: %s", strerror(-err));
	err = xm_veth_create(&v, &ns_a, &ns_b,
			     &(struct xm_veth_opts){ .index = 1 });
	cr_assert_eq(err, 0, "veth: %s", strerror(-err));
	if (with_peer) {
		err = xm_dropk_attach(&peer, &ns_b, v.b, 0, NULL);
		cr_assert_eq(err, 0, "peer program: %s", strerror(-err));
		raw = xm_raw_open(&ns_b, v.b);
		cr_assert_geq(raw, 0, "raw socket: %s", strerror(-raw));
	}
	/* the engine's calls come from ns A */
	err = xm_netns_enter(&ns_a, &saved_ns);
	cr_assert_eq(err, 0);
}

static void setup(void)
{
	net_up(true);
}

static void setup_sink(void)
{
	net_up(false);
}

static void teardown(void)
{
	xm_live_sink_close(sink);
	sink = NULL;
	if (saved_ns >= 0) {
		xm_netns_leave(saved_ns);
		saved_ns = -1;
	}
	if (raw >= 0)
		close(raw);
	raw = -1;
	xm_dropk_detach(&peer);
	xm_veth_destroy(&v);
	xm_netns_destroy(&ns_b);
	xm_netns_destroy(&ns_a);
}

TestSuite(live, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(live_sink, .init = setup_sink, .fini = teardown, .timeout = 60);
TestSuite(live_args, .timeout = 30);

static uint64_t peer_seen(void)
{
	uint64_t n;

	cr_assert_eq(xm_dropk_read(&peer, 0, &n), 0);
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A UDP/IPv4 template with every checksum right; *pi describes it. */
static uint32_t template(uint8_t *buf, uint32_t size, struct xm_pkt_info *pi)
{
	struct xm_pkt_tmpl t = {
		.t_eth = { .eth_src = { 2, 0, 0, 0, 1, 1 } },
		.t_ip = { .ip_version = 4 },
		.t_proto = XM_PKT_IPPROTO_UDP,
		.t_sport = 1000,
		.t_dport = 9,
	};
	int n;

	memcpy(t.t_eth.eth_dst, v.mac_b, 6);
	t.t_ip.ip_src.a_v4 = v.ip_a;
	/* not B's own address: its stack answers nothing */
	t.t_ip.ip_dst.a_v4 = htonl(0xc6120163);
	t.t_payload_len = size - 42;
	n = xm_pkt_build_frame(buf, size, &t);
	cr_assert_eq(n, (int)size);
	cr_assert_eq(xm_pkt_parse(buf, size, pi), 0);
	return size;
}

/* Reads one IPv4 UDP frame from the peer (skipping the stack's chatter). */
static ssize_t read_frame(uint8_t *buf, size_t cap)
{
	for (;;) {
		ssize_t n = xm_raw_recv(raw, buf, cap, 2000);

		if (n <= 0 || (n >= 24 && buf[12] == 0x08 && buf[13] == 0x00 &&
			       buf[23] == 17))
			return n;
	}
}

Test(live, plain_repetition_and_counters)
{
	uint8_t f[64], got[2048];
	struct xm_pkt_info pi;
	struct xm_live *l;
	uint64_t frames = 0, *pc;
	int ncpu;

	template(f, sizeof(f), &pi);
	l = xm_live_open(v.a, NULL);
	cr_assert_not_null(l, "open: %s", strerror(errno));
	cr_assert_eq(_xm_live_ifindex(l), (int)if_nametoindex(v.a));
	cr_assert_eq(xm_live_send(l, f, sizeof(f), 300), 0);
	cr_assert_eq(xm_live_frames(l, &frames), 0);
	cr_assert_eq(frames, 300);
	cr_assert_eq(peer_seen(), 300);
	ncpu = libbpf_num_possible_cpus();
	pc = calloc((size_t)ncpu, sizeof(*pc));
	cr_assert_eq(xm_live_cpu_frames(l, pc, (unsigned int)ncpu), ncpu);
	frames = 0;
	for (int c = 0; c < ncpu; c++)
		frames += pc[c];
	cr_assert_eq(frames, 300);
	/* as sent: byte for byte */
	cr_assert_eq(read_frame(got, sizeof(got)), 64);
	cr_assert_eq(memcmp(got, f, 64), 0);
	free(pc);
	xm_live_close(l);
}

Test(live, stamps_flows_and_sizes)
{
	static const uint32_t cycle[3] = { 100, 60, 300 };
	static const uint32_t order[4] = { 3, 0, 2, 1 };
	uint8_t f[300], got[2048];
	struct xm_pkt_info pi;
	struct xm_live *l;
	uint64_t t0, t1;
	cpu_set_t set;
	int cpu;

	template(f, sizeof(f), &pi);
	XM_OPTS(xm_live_opts, o,
		.stamp_off = pi.pi_payload_off,
		.ip_csum_off = pi.pi_l3_off + 10,
		.l4_csum_off = pi.pi_l4_off + 6,
		.l4_udp = true,
		.stream = 40,
		.nflows = 4,
		.flow_order = order,
		.nfields = 2,
		.size_cycle = cycle,
		.nsizes = 3,
		.nlens = 2);
	/* source port over 2 values, then the source address over 2 */
	o.fields[0] = (struct xm_live_field){ .lf_off = pi.pi_l4_off,
		.lf_len = 2, .lf_flags = XM_LIVE_F_CSUM_L4, .lf_base = 2000,
		.lf_count = 2 };
	o.fields[1] = (struct xm_live_field){ .lf_off = pi.pi_l3_off + 12,
		.lf_len = 4, .lf_flags = XM_LIVE_F_CSUM_IP | XM_LIVE_F_CSUM_L4,
		.lf_base = 0xc6120a00, .lf_count = 2 };
	o.lens[0] = (struct xm_live_len){ .ll_off = pi.pi_l3_off + 2,
		.ll_sub = (uint16_t)pi.pi_l3_off, .ll_flags = XM_LIVE_F_CSUM_IP };
	o.lens[1] = (struct xm_live_len){ .ll_off = pi.pi_l4_off + 4,
		.ll_sub = (uint16_t)pi.pi_l4_off,
		.ll_flags = XM_LIVE_F_CSUM_L4_2X };
	l = xm_live_open(v.a, &o);
	cr_assert_not_null(l, "open: %s", strerror(errno));
	/* one CPU, so one stream with consecutive numbers */
	cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
	t0 = now_ns();
	cr_assert_eq(xm_live_send(l, f, sizeof(f), 12), 0);
	t1 = now_ns();
	for (uint64_t i = 0; i < 12; i++) {
		struct xm_pkt_info gp;
		struct pg_stamp st = { 0 };
		ssize_t n = read_frame(got, sizeof(got));
		uint32_t k = order[i % 4];

		cr_assert_eq(n, (ssize_t)cycle[i % 3], "frame %llu: %zd bytes",
			     (unsigned long long)i, n);
		cr_assert_eq(xm_pkt_parse(got, (uint32_t)n, &gp), 0,
			     "frame %llu: %s", (unsigned long long)i,
			     xm_pkt_strerror(gp.pi_err));
		cr_assert(xm_pkt_csum_ok(got, &gp), "frame %llu checksum",
			  (unsigned long long)i);
		cr_assert(pg_stamp_read(got + gp.pi_payload_off,
					(uint32_t)n - gp.pi_payload_off, &st));
		cr_assert_eq(st.st_stream, 40 + cpu);
		cr_assert_eq(st.st_seq, i);
		cr_assert(st.st_tx_ns >= t0 && st.st_tx_ns <= t1);
		cr_assert_eq(gp.pi_sport, 2000 + k % 2);
		cr_assert_eq(ntohl(gp.pi_ip.ip_src.a_v4), 0xc6120a00 + k / 2);
	}
	xm_live_close(l);
}

/* Pins the calling thread to the CPU it is on: one stream of numbers. */
static int pin_here(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
	return cpu;
}

/* xm-livegen's frame: flows in the source port, a bare sequence number. */
Test(live, sequence_numbers_and_port_flows)
{
	uint8_t f[64], got[2048];
	struct xm_pkt_info pi;
	struct xm_live *l;

	template(f, sizeof(f), &pi);
	XM_OPTS(xm_live_opts, o,
		.seq_off = pi.pi_payload_off,
		.ip_csum_off = pi.pi_l3_off + 10,
		.l4_csum_off = pi.pi_l4_off + 6,
		.l4_udp = true,
		.nflows = 3,
		.nfields = 1);
	o.fields[0] = (struct xm_live_field){ .lf_off = pi.pi_l4_off,
		.lf_len = 2, .lf_flags = XM_LIVE_F_CSUM_L4, .lf_base = 1024,
		.lf_count = 3 };
	l = xm_live_open(v.a, &o);
	cr_assert_not_null(l, "open: %s", strerror(errno));
	pin_here();
	cr_assert_eq(xm_live_send(l, f, sizeof(f), 7), 0);
	for (uint32_t i = 0; i < 7; i++) {
		struct xm_pkt_info gp;
		uint32_t seq;
		ssize_t n = read_frame(got, sizeof(got));

		cr_assert_eq(n, 64, "frame %u: %zd bytes", i, n);
		cr_assert_eq(xm_pkt_parse(got, (uint32_t)n, &gp), 0);
		cr_assert(xm_pkt_csum_ok(got, &gp), "frame %u checksum", i);
		memcpy(&seq, got + pi.pi_payload_off, 4);
		cr_assert_eq(ntohl(seq), i, "frame %u carries %u", i,
			     ntohl(seq));
		cr_assert_eq(gp.pi_sport, 1024 + i % 3);
		/* nothing else moved: the rest of the payload is the template's */
		cr_assert_eq(memcmp(got + pi.pi_payload_off + 4,
				    f + pi.pi_payload_off + 4,
				    64 - pi.pi_payload_off - 4), 0);
	}
	xm_live_close(l);
}

Test(live, run_stops_exactly_at_a_count)
{
	uint8_t f[64];
	struct xm_pkt_info pi;
	struct xm_live_run_stats st;
	struct xm_live *l;
	uint64_t frames = 0;

	template(f, sizeof(f), &pi);
	l = xm_live_open(v.a, NULL);
	cr_assert_not_null(l, "open: %s", strerror(errno));
	XM_OPTS(xm_live_run_opts, ro, .count = XM_LIVE_RUN_MIN_CALL + 1000);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &ro, &st), 0);
	cr_assert_eq(st.rs_sent, XM_LIVE_RUN_MIN_CALL + 1000);
	/* the minimum first, then what is left */
	cr_assert_eq(st.rs_calls, 2);
	cr_assert_gt(st.rs_elapsed_ns, 0);
	cr_assert_eq(xm_live_frames(l, &frames), 0);
	cr_assert_eq(frames, st.rs_sent);

	/* a count below one call: one call of exactly that */
	XM_OPTS(xm_live_run_opts, small, .count = 5);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &small, &st), 0);
	cr_assert_eq(st.rs_sent, 5);
	cr_assert_eq(st.rs_calls, 1);
	cr_assert_eq(xm_live_frames(l, &frames), 0);
	cr_assert_eq(frames, XM_LIVE_RUN_MIN_CALL + 1005);
	xm_live_close(l);
}

static volatile sig_atomic_t stop_flag;

static void on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

Test(live, run_ends_at_the_stop_flag_or_a_signal)
{
	const uint64_t sec = 1000000000ULL;
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_value = { .tv_usec = 300000 } };
	uint8_t f[64];
	struct xm_pkt_info pi;
	struct xm_live_run_stats st;
	struct xm_live *l;
	uint64_t frames = 0;
	int err;

	template(f, sizeof(f), &pi);
	l = xm_live_open(v.a, NULL);
	cr_assert_not_null(l, "open: %s", strerror(errno));

	/* set before: not one call */
	stop_flag = 1;
	XM_OPTS(xm_live_run_opts, ro, .duration_ns = 20 * sec,
		.stop = &stop_flag);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &ro, &st), 0);
	cr_assert_eq(st.rs_calls, 0);
	cr_assert_eq(st.rs_sent, 0);

	/* a signal 0.3 s in: it cuts the call it lands in (-EINTR), or, if
	 * it lands between calls, the flag stops the next */
	stop_flag = 0;
	cr_assert_eq(sigaction(SIGALRM, &sa, &old), 0);
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	err = xm_live_run(l, f, sizeof(f), &ro, &st);
	sigaction(SIGALRM, &old, NULL);
	cr_assert(err == -EINTR || err == 0, "run: %s", strerror(-err));
	cr_assert_eq(stop_flag, 1);
	cr_assert_lt(st.rs_elapsed_ns, 10 * sec, "ran %.3f s of 20",
		     (double)st.rs_elapsed_ns / 1e9);
	cr_assert_eq(xm_live_frames(l, &frames), 0);
	cr_assert_geq(frames, st.rs_sent);
	xm_live_close(l);
}

Test(live, run_refuses_bad_arguments)
{
	uint8_t f[64];
	struct xm_pkt_info pi;
	struct xm_live_run_stats st;
	struct xm_live *l;

	template(f, sizeof(f), &pi);
	l = xm_live_open(v.a, &(struct xm_live_opts){
		.sz = sizeof(struct xm_live_opts), .seq_off = 60 });
	cr_assert_not_null(l, "open: %s", strerror(errno));
	XM_OPTS(xm_live_run_opts, ro, .count = 10);
	XM_OPTS(xm_live_run_opts, unbounded, .call_ns = 1000);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), NULL, &st), -EINVAL);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &unbounded, &st), -EINVAL);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &ro, NULL), -EINVAL);
	cr_assert_eq(xm_live_run(NULL, f, sizeof(f), &ro, &st), -EINVAL);
	cr_assert_eq(xm_live_run(l, NULL, sizeof(f), &ro, &st), -EINVAL);
	/* too short for the sequence number at 60 */
	cr_assert_eq(xm_live_run(l, f, 63, &ro, &st), -EINVAL);
	cr_assert_eq(xm_live_send(l, f, 63, 1), -EINVAL);
	{
		struct {
			struct xm_live_run_opts o;
			uint64_t future;
		} big = { .o = { .sz = sizeof(big), .count = 1 },
			  .future = 1 };

		cr_assert_eq(xm_live_run(l, f, sizeof(f), &big.o, &st),
			     -EINVAL);
	}
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &ro, &st), 0);
	cr_assert_eq(st.rs_sent, 10);
	xm_live_close(l);
}

static int libbpf_quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	(void)f;
	(void)ap;
	return 0;
}

/* Opens the sink on B's end (from B's namespace, back to A after). */
static struct xm_live_sink *sink_on_b(const struct xm_live_sink_opts *o)
{
	struct xm_live_sink *s;
	int back, err;

	err = xm_netns_enter(&ns_b, &back);
	cr_assert_eq(err, 0);
	s = xm_live_sink_open(v.b, o);
	err = errno;
	cr_assert_eq(xm_netns_leave(back), 0);
	errno = err;
	return s;
}

/* The XDP program id on B's end, 0: none. */
static uint32_t xdp_id_on_b(void)
{
	uint32_t id = 0;
	int back, ifindex;

	cr_assert_eq(xm_netns_enter(&ns_b, &back), 0);
	ifindex = (int)if_nametoindex(v.b);
	cr_assert_gt(ifindex, 0);
	cr_assert_eq(bpf_xdp_query_id(ifindex, 0, &id), 0);
	cr_assert_eq(xm_netns_leave(back), 0);
	return id;
}

Test(live_sink, counts_every_frame_and_apart_those_to_its_mac)
{
	static const uint8_t mine[6] = { 2, 0, 0, 0, 9, 9 };
	uint8_t to_me[64], other[64];
	struct xm_pkt_info pi;
	struct xm_live *l;
	uint64_t frames = 1, matched = 1;

	template(other, sizeof(other), &pi);
	memcpy(to_me, other, sizeof(to_me));
	memcpy(to_me, mine, 6);
	cr_assert_eq(xdp_id_on_b(), 0);
	XM_OPTS(xm_live_sink_opts, so, .match_dst = mine);
	sink = sink_on_b(&so);
	cr_assert_not_null(sink, "sink: %s", strerror(errno));
	cr_assert_neq(xdp_id_on_b(), 0);
	cr_assert_eq(xm_live_sink_read(sink, &frames, &matched), 0);
	cr_assert_eq(frames, 0);
	cr_assert_eq(matched, 0);

	l = xm_live_open(v.a, NULL);
	cr_assert_not_null(l, "open: %s", strerror(errno));
	cr_assert_eq(xm_live_send(l, to_me, sizeof(to_me), 300), 0);
	cr_assert_eq(xm_live_send(l, other, sizeof(other), 200), 0);
	xm_live_close(l);
	cr_assert_eq(xm_live_sink_read(sink, &frames, &matched), 0);
	cr_assert_eq(frames, 500);
	cr_assert_eq(matched, 300);
	cr_assert_eq(xm_live_sink_read(sink, NULL, &matched), 0);
	cr_assert_eq(xm_live_sink_read(sink, &frames, NULL), 0);

	/* a second program cannot go on the same interface (libbpf would
	 * say so on stderr) */
	libbpf_set_print(libbpf_quiet);
	errno = 0;
	cr_assert_null(sink_on_b(NULL));
	cr_assert_eq(errno, EBUSY);

	/* closed: nothing stays on the interface */
	xm_live_sink_close(sink);
	sink = NULL;
	cr_assert_eq(xdp_id_on_b(), 0);
}

/*
 * A one-second run into the sink (dropped in XDP: the fast path, a few
 * Mpps).  Each call pauses the source for 20-30 ms in the kernel; with
 * calls of the minimum size (65536 frames, ~20 ms of sending) a second
 * takes ~20 calls, sized to a quarter second about five (the rate so far
 * includes the pauses, so calls come out a little short).  Sized calls
 * send more than the minimum on average as soon as the rate passes
 * 65536 frames in 250 ms (0.26 Mpps, pauses included); fixed ones never
 * do.  A 1 ms call length asks for less than the minimum each time, so
 * that run's calls are all of the minimum and there are at least as
 * many.  A 60 s call length in a 1 s run shows the time limit cutting
 * a call.
 */
Test(live_sink, run_sizes_calls_to_the_call_length)
{
	const uint64_t sec = 1000000000ULL;
	uint8_t f[64];
	struct xm_pkt_info pi;
	struct xm_live_run_stats st, st_short;
	struct xm_live *l;
	uint64_t frames = 0, arrived = 0;

	template(f, sizeof(f), &pi);
	sink = sink_on_b(NULL);
	cr_assert_not_null(sink, "sink: %s", strerror(errno));
	l = xm_live_open(v.a, NULL);
	cr_assert_not_null(l, "open: %s", strerror(errno));
	XM_OPTS(xm_live_run_opts, ro, .duration_ns = sec);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &ro, &st), 0);
	cr_assert_eq(xm_live_frames(l, &frames), 0);
	cr_assert_eq(frames, st.rs_sent);
	cr_assert_eq(xm_live_sink_read(sink, &arrived, NULL), 0);
	cr_assert_geq(arrived, st.rs_sent);
	cr_assert_geq(st.rs_elapsed_ns, sec);
	cr_assert_lt(st.rs_elapsed_ns, 3 * sec, "ran %.3f s",
		     (double)st.rs_elapsed_ns / 1e9);

	XM_OPTS(xm_live_run_opts, sh, .duration_ns = sec,
		.call_ns = 1000000ULL);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &sh, &st_short), 0);
	cr_log_info("250 ms calls: %llu for %llu frames in %.3f s; 1 ms "
		    "calls: %llu for %llu frames in %.3f s",
		    (unsigned long long)st.rs_calls,
		    (unsigned long long)st.rs_sent,
		    (double)st.rs_elapsed_ns / 1e9,
		    (unsigned long long)st_short.rs_calls,
		    (unsigned long long)st_short.rs_sent,
		    (double)st_short.rs_elapsed_ns / 1e9);
	/* sized: most calls are above the minimum */
	cr_assert_gt(st.rs_sent, st.rs_calls * XM_LIVE_RUN_MIN_CALL,
		     "%llu calls for %llu frames: none above the minimum",
		     (unsigned long long)st.rs_calls,
		     (unsigned long long)st.rs_sent);
	cr_assert_leq(st.rs_calls, 10, "%llu calls for %llu frames",
		      (unsigned long long)st.rs_calls,
		      (unsigned long long)st.rs_sent);
	cr_assert_geq(st_short.rs_calls, st.rs_calls);
	cr_assert_eq(st_short.rs_sent,
		     st_short.rs_calls * XM_LIVE_RUN_MIN_CALL);

	/* 60 s calls in a 1 s run: the second call is cut to what is left
	 * (uncut it would be XM_LIVE_RUN_MAX_CALL frames, 3 s and more at
	 * the rates of a veth; 2.5 s leaves room for a slow machine) */
	XM_OPTS(xm_live_run_opts, lg, .duration_ns = sec,
		.call_ns = 60 * sec);
	cr_assert_eq(xm_live_run(l, f, sizeof(f), &lg, &st), 0);
	cr_log_info("60 s calls: %llu for %llu frames in %.3f s",
		    (unsigned long long)st.rs_calls,
		    (unsigned long long)st.rs_sent,
		    (double)st.rs_elapsed_ns / 1e9);
	cr_assert_geq(st.rs_elapsed_ns, sec);
	cr_assert_lt(st.rs_elapsed_ns, 5 * sec / 2, "ran %.3f s in %llu "
		     "calls", (double)st.rs_elapsed_ns / 1e9,
		     (unsigned long long)st.rs_calls);
	xm_live_close(l);
}

Test(live_sink, without_a_mac_it_counts_frames_only)
{
	uint8_t f[64];
	struct xm_pkt_info pi;
	struct xm_live *l;
	uint64_t frames = 0, matched = 1;

	template(f, sizeof(f), &pi);
	sink = sink_on_b(NULL);
	cr_assert_not_null(sink, "sink: %s", strerror(errno));
	l = xm_live_open(v.a, NULL);
	cr_assert_not_null(l, "open: %s", strerror(errno));
	cr_assert_eq(xm_live_send(l, f, sizeof(f), 100), 0);
	xm_live_close(l);
	cr_assert_eq(xm_live_sink_read(sink, &frames, &matched), 0);
	cr_assert_eq(frames, 100);
	cr_assert_eq(matched, 0);
}

Test(live, send_refuses_bad_arguments)
{
	static const uint32_t cycle[2] = { 120, 150 };
	uint8_t f[200];
	struct xm_pkt_info pi;
	struct xm_live *l;

	template(f, sizeof(f), &pi);
	XM_OPTS(xm_live_opts, o, .stamp_off = 100, .size_cycle = cycle,
		.nsizes = 2);
	l = xm_live_open(v.a, &o);
	cr_assert_not_null(l);
	cr_assert_eq(xm_live_send(l, f, 117, 1), -EINVAL);	/* stamp */
	cr_assert_eq(xm_live_send(l, f, 149, 1), -EINVAL);	/* cycle */
	cr_assert_eq(xm_live_send(l, f, 150, 0), -EINVAL);
	cr_assert_eq(xm_live_send(l, NULL, 150, 1), -EINVAL);
	cr_assert_eq(xm_live_send(NULL, f, 150, 1), -EINVAL);
	cr_assert_eq(xm_live_send(l, f, XM_LIVE_MAX_FRAME + 1, 1), -EINVAL);
	cr_assert_eq(xm_live_frames(l, NULL), -EINVAL);
	cr_assert_eq(xm_live_frames(NULL, (uint64_t[1]){ 0 }), -EINVAL);
	cr_assert_eq(xm_live_cpu_frames(l, NULL, 4), -EINVAL);
	cr_assert_eq(_xm_live_ifindex(NULL), -EINVAL);
	cr_assert_eq(xm_live_send(l, f, 150, 5), 0);
	xm_live_close(l);
	xm_live_close(NULL);
}

/* Refused before anything is loaded: no root needed. */
static void expect_einval(const struct xm_live_opts *o)
{
	errno = 0;
	cr_assert_null(xm_live_open("lo", o));
	cr_assert_eq(errno, EINVAL);
}

Test(live_args, bad_options_are_refused)
{
	static const uint32_t bad_order[2] = { 0, 2 };
	static const uint32_t small[2] = { 60, 10 };

	xm_set_print(quiet);
	errno = 0;
	cr_assert_null(xm_live_open("xmnope0", NULL));
	cr_assert_eq(errno, ENODEV);
	cr_assert_null(xm_live_open(NULL, NULL));
	cr_assert_eq(errno, EINVAL);

	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .stamp_off = 43 });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .stamp_off = XM_LIVE_MAX_FRAME });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .batch_size = 257 });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .ip_csum_off = 25 });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .nfields = 5 });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
		.nfields = 1, .fields = { { .lf_off = 34, .lf_len = 3,
					    .lf_count = 2 } } });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
		.nfields = 1, .fields = { { .lf_off = 34, .lf_len = 2,
					    .lf_count = 0 } } });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
		.nfields = 1, .fields = { { .lf_off = 34, .lf_len = 2,
					    .lf_base = 65535,
					    .lf_count = 2 } } });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
		.nfields = 1, .fields = { { .lf_off = 34, .lf_len = 2,
					    .lf_count = 2, .lf_flags = 8 } } });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .nflows = 1, .flow_order =
					      bad_order });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .nsizes = 2 });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .nlens = 1 });
	/* a size the stamp does not fit */
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .stamp_off = 42, .size_cycle =
					      small, .nsizes = 2 });
	/* the sequence number: even, inside a frame, inside every size */
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .seq_off = 43 });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .seq_off = XM_LIVE_MAX_FRAME - 2 });
	expect_einval(&(struct xm_live_opts){ .sz = sizeof(struct xm_live_opts),
					      .seq_off = 58, .size_cycle =
					      small, .nsizes = 2 });
	/* an options struct from a newer library with unknown bytes set */
	{
		struct {
			struct xm_live_opts o;
			uint64_t future;
		} big = { .o = { .sz = sizeof(big) }, .future = 1 };

		expect_einval(&big.o);
	}
}

Test(live, an_order_entry_out_of_range_is_refused)
{
	static const uint32_t bad_order[2] = { 0, 2 };

	errno = 0;
	cr_assert_null(xm_live_open(v.a, &(struct xm_live_opts){
		.sz = sizeof(struct xm_live_opts), .nflows = 2,
		.flow_order = bad_order }));
	cr_assert_eq(errno, EINVAL);
}

Test(live_args, bad_sink_arguments_are_refused)
{
	xm_set_print(quiet);
	errno = 0;
	cr_assert_null(xm_live_sink_open(NULL, NULL));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(xm_live_sink_open("xmnope0", NULL));
	cr_assert_eq(errno, ENODEV);
	{
		struct {
			struct xm_live_sink_opts o;
			uint64_t future;
		} big = { .o = { .sz = sizeof(big) }, .future = 1 };

		errno = 0;
		cr_assert_null(xm_live_sink_open("lo", &big.o));
		cr_assert_eq(errno, EINVAL);
	}
	cr_assert_eq(xm_live_sink_read(NULL, NULL, NULL), -EINVAL);
	xm_live_sink_close(NULL);
}
