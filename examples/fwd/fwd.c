// SPDX-License-Identifier: BSD-2-Clause
/*
 * fwd.c - xmbuf-fwd: an L2 reflector/forwarder in the manner of xdpsock's
 * l2fwd and testpmd's macswap.  Each packet received on the input port has
 * its Ethernet source and destination swapped and leaves by the output
 * port (the input port itself unless -o is given) in the very frame it
 * arrived in: both ports share the process's one UMEM, so the mbuf that
 * rx_burst returns is the mbuf tx_burst takes, and no byte is copied.
 *
 *   -i IF, queue q                              -o IF2 (or IF), queue q
 *   +------------+  rx_burst  +-----------+  tx_burst  +------------+
 *   | RX ring q  | ---------> | swap MACs | ---------> | TX ring q  |
 *   +------------+   mbufs    +-----------+  same mbuf +------------+
 *         ^ fill ring <---- zone_clust <---- completion ring <-+
 *
 * One worker thread per queue owns that queue's RX socket on the input
 * port and the same queue id's TX socket on the output port (rings are
 * single-producer, single-consumer).  A full TX ring is kicked and tried
 * once more; what still does not fit is dropped and counted, as testpmd
 * does without --tx-retry.
 *
 * The input port's program writes no metadata (XM_PORT_F_NO_METADATA):
 * the forwarder uses neither the RX timestamp nor the hash, and reading
 * them cost a load of the cache line in front of every packet's data
 * (its first touch on this CPU; in the copy-mode port benchmark,
 * xm_rx_meta's load was a fifth of rx_burst's samples) and the program's
 * metadata writes slowed the source CPU.  It lends the kernel no more
 * frames than its RX ring holds (XM_PORT_F_LEND_RX_RING): a forwarder
 * slower than its input then drops at the empty fill ring, before the
 * kernel copies the packet, not after (at the full RX ring); in the port
 * benchmark the source CPU then sent 8.2-9.2 Mpps instead of 4.6, what it
 * sends to testpmd's AF_XDP driver.  -B sets the copy-mode TX budget
 * (descriptors the kernel sends per sendto()).
 *
 * The main thread prints a stats line once a second on stderr and, at the
 * end (a stop signal: SIGINT, SIGTERM, SIGHUP, SIGQUIT; or -d), waits for
 * the workers to drain what they queued, closes the ports, and audits the
 * UMEM: every frame must be back in its zone.  The summary goes to
 * stdout, as JSON with --json.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xm_example.h"
#include "xm_mbuf.h"
#include "xm_port.h"
#include "xm_umem.h"

#define FWD_BURST_DEFAULT	64
#define FWD_BURST_MAX		256
#define FWD_MAX_SECONDS		(365.0 * 86400)
#define FWD_DRAIN_NS		1000000000ull	/* wait for TX at exit */
#define FWD_ETH_ADDRS		12		/* dst + src MAC */
#define FWD_TX_RING		1024		/* the port's default TX ring */

struct fwd;

/* Counters a worker writes and the main thread reads (relaxed atomics). */
struct fwd_counters {
	_Atomic uint64_t rx;		/* packets received */
	_Atomic uint64_t tx;		/* packets accepted by tx_burst */
	_Atomic uint64_t tx_full;	/* dropped: TX ring full after a kick */
	_Atomic uint64_t runt;		/* dropped: shorter than two MACs */
	_Atomic uint64_t busy_cycles;	/* in loops that moved packets */
};

struct fwd_worker {
	struct fwd *f;			/* the program state */
	unsigned int qidx;		/* queue index in both ports */
	struct fwd_counters c;		/* its counters */
} __attribute__((aligned(64)));

struct fwd {
	struct xm_umem *u;		/* the one UMEM */
	struct xm_port *in;		/* receives */
	struct xm_port *out;		/* transmits (== in without -o) */
	struct fwd_worker *workers;	/* one per queue */
	unsigned int nworkers;		/* queues */
	uint16_t burst;			/* packets per rx_burst */
	bool use_poll;			/* sleep in poll() when idle */
};

/* ---------------------------------------------------------------- worker */

static inline void swap_macs(uint8_t *eth)
{
	uint8_t tmp[6];

	memcpy(tmp, eth, 6);
	memcpy(eth, eth + 6, 6);
	memcpy(eth + 6, tmp, 6);
}

/*
 * Swaps the MACs of every packet in place and compacts out the ones that
 * are too short to have an Ethernet header.  RX frames are the worker's
 * alone (one reference), so writing into them needs no copy.
 * @return packets left in pkts[].
 */
static uint16_t swap_burst(struct fwd_worker *w, struct xm_mbuf **pkts,
			   uint16_t n)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct xm_mbuf *m = pkts[i];

		if (__builtin_expect(m->m_len < FWD_ETH_ADDRS, 0)) {
			/* Only a malformed multi-buffer chain gets here. */
			m = xm_pullup(m, FWD_ETH_ADDRS);
			if (!m) {
				atomic_fetch_add_explicit(&w->c.runt, 1,
							  memory_order_relaxed);
				continue;
			}
		}
		swap_macs(xm_mtod(m, uint8_t *));
		pkts[kept++] = m;
	}
	return kept;
}

/* A queue's loop (the launcher pinned the thread). */
static int worker_main(void *arg)
{
	struct fwd_worker *w = arg;
	struct fwd *f = w->f;
	struct xm_mbuf *pkts[FWD_BURST_MAX];
	unsigned int q = w->qidx;

	while (!xm_ex_stopping()) {
		uint64_t c0 = xm_ex_cycles();
		uint16_t n, sent;

		n = xm_port_rx_burst(f->in, q, pkts, f->burst);
		if (!n) {
			/* Idle: push out what is queued, reap completions. */
			if (xm_port_tx_pending(f->out, q))
				xm_port_tx_flush(f->out, q);
			if (f->use_poll)
				xm_port_poll(f->in, q, 100);
			continue;
		}
		atomic_fetch_add_explicit(&w->c.rx, n, memory_order_relaxed);
		n = swap_burst(w, pkts, n);

		sent = xm_ex_tx_or_drop(f->out, q, pkts, n);
		if (sent < n)
			atomic_fetch_add_explicit(&w->c.tx_full, n - sent,
						  memory_order_relaxed);
		atomic_fetch_add_explicit(&w->c.tx, sent, memory_order_relaxed);
		xm_port_tx_complete(f->out, q);
		/* Busy time as testpmd counts it: only loops that moved
		 * packets, from the RX call to the last completion. */
		atomic_fetch_add_explicit(&w->c.busy_cycles,
					  xm_ex_cycles() - c0,
					  memory_order_relaxed);
	}

	/* Let what was queued leave, so the frames come home by completion. */
	xm_ex_tx_drain(f->out, q, FWD_DRAIN_NS);
	/* The thread's cached frames go back to the depot before it dies. */
	xm_umem_cache_flush(f->u);
	return 0;
}

/* -------------------------------------------------------------- main */

struct fwd_args {
	struct xm_ex_args ex;		/* -i IF, -q, --cpus, -d, -m, -b, -p, -F,
					 * -j, -Q, -v */
	const char *out_name;		/* -o, or NULL */
	uint32_t tx_budget;		/* -B, 0: the port's default */
};

/* @return -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct fwd_args *a)
{
	const struct xm_ex_opt opts[] = {
		XM_EX_STD_REQUIRED(XM_EX_O_IFACE, 0,
				   "input interface (required)"),
		{ .name = "out", .letter = 'o', .arg = XM_EX_ARG_STR,
		  .dest = &a->out_name, .metavar = "IF2",
		  .help = "output interface (default: IF)" },
		XM_EX_STD(XM_EX_O_QUEUES, 0, NULL),
		XM_EX_STD(XM_EX_O_DURATION, 0, NULL),
		XM_EX_STD_WAS(XM_EX_O_CPUS, 0, 'c', NULL),
		XM_EX_STD(XM_EX_O_MODE, 0, NULL),
		{ .arg = XM_EX_ARG_STD, .std = XM_EX_O_BURST,
		  .hi = FWD_BURST_MAX,
		  .help = "packets per burst, 1.." XM_EX_STR(FWD_BURST_MAX)
			  " (default " XM_EX_STR(FWD_BURST_DEFAULT) ")" },
		XM_EX_STD(XM_EX_O_POLL, 0, NULL),
		XM_EX_STD(XM_EX_O_BUSY_POLL, 0, NULL),
		XM_EX_STD(XM_EX_O_FRAMES, 0, NULL),
		{ .name = "tx-budget", .letter = 'B', .arg = XM_EX_ARG_U32,
		  .dest = &a->tx_budget, .lo = XM_PORT_TX_BUDGET_MIN,
		  .hi = FWD_TX_RING, .what = "TX budget",
		  .flags = XM_EX_F_RANGE_HINT, .metavar = "N",
		  .help = "copy mode: descriptors the kernel sends per\n"
			  "sendto(), " XM_EX_STR(XM_PORT_TX_BUDGET_MIN) ".."
			  XM_EX_STR(FWD_TX_RING)
			  " (default: the port's, the TX ring)" },
		XM_EX_STD(XM_EX_O_JSON, 0, NULL),
		XM_EX_STD(XM_EX_O_QUIET, 0, NULL),
		XM_EX_STD(XM_EX_O_VERBOSE, 0, NULL),
		XM_EX_OPTS_END
	};
	const struct xm_ex_cli cli = {
		.tool = "fwd",
		.synopsis = "-i IF [-o IF2] [-q QUEUES] [-d SECONDS] [--json] "
			    "[options]",
		.description =
"Reflects every packet received on IF with its MAC addresses swapped, out\n"
"of IF2 (default IF), in the same UMEM frame (zero copy between ports).\n",
		.epilogue = XM_EX_EXIT_STATUS,
		.opts = opts,
		.args = &a->ex,
	};
	int ret;

	memset(a, 0, sizeof(*a));
	a->ex.burst = FWD_BURST_DEFAULT;
	ret = xm_ex_opts_parse(&cli, argc, argv, NULL);
	if (ret >= 0)
		return ret;
	if (a->out_name && !strcmp(a->out_name, a->ex.ifname))
		a->out_name = NULL;
	return -1;
}

static void sum_counters(const struct fwd *f, uint64_t *rx, uint64_t *tx,
			 uint64_t *tx_full, uint64_t *runt, uint64_t *busy)
{
	*rx = *tx = *tx_full = *runt = 0;
	if (busy)
		*busy = 0;
	for (unsigned int i = 0; i < f->nworkers; i++) {
		const struct fwd_counters *c = &f->workers[i].c;

		*rx += atomic_load_explicit(&c->rx, memory_order_relaxed);
		*tx += atomic_load_explicit(&c->tx, memory_order_relaxed);
		*tx_full += atomic_load_explicit(&c->tx_full,
						 memory_order_relaxed);
		*runt += atomic_load_explicit(&c->runt, memory_order_relaxed);
		if (busy)
			*busy += atomic_load_explicit(&c->busy_cycles,
						      memory_order_relaxed);
	}
}

static void json_port(struct xm_ex_json *j, const char *key,
		      const char *iface, const char *mode, bool multi_buffer,
		      const struct xm_port_stats *st)
{
	xm_ex_json_object(j, key);
	xm_ex_json_str(j, "iface", iface);
	xm_ex_json_str(j, "mode", mode);
	xm_ex_json_bool(j, "multi_buffer", multi_buffer);
	xm_ex_json_u64(j, "rx_packets", st->rx_packets);
	xm_ex_json_u64(j, "rx_bytes", st->rx_bytes);
	xm_ex_json_u64(j, "tx_packets", st->tx_packets);
	xm_ex_json_u64(j, "tx_bytes", st->tx_bytes);
	xm_ex_json_u64(j, "tx_copied", st->tx_copied);
	xm_ex_json_u64(j, "tx_dropped", st->tx_dropped);
	xm_ex_json_u64(j, "tx_completions", st->tx_completions);
	xm_ex_json_u64(j, "tx_wakeups", st->tx_wakeups);
	xm_ex_json_u64(j, "fill_starved", st->fill_starved);
	xm_ex_json_u64(j, "rx_dropped", st->rx_dropped);
	xm_ex_json_u64(j, "rx_ring_full", st->rx_ring_full);
	xm_ex_json_u64(j, "rx_fill_ring_empty_descs",
		       st->rx_fill_ring_empty_descs);
	xm_ex_json_u64(j, "tx_invalid_descs", st->tx_invalid_descs);
	xm_ex_json_u64(j, "tx_ring_empty_descs", st->tx_ring_empty_descs);
	xm_ex_json_u64(j, "xdp_seen", st->xdp_seen);
	xm_ex_json_u64(j, "xdp_redirected", st->xdp_redirected);
	xm_ex_json_u64(j, "xdp_passed", st->xdp_passed);
	xm_ex_json_close(j);
}

/* Everything the summary reports, gathered before the ports close. */
struct fwd_result {
	uint64_t rx, tx, tx_full, runt;	/* worker counters */
	uint64_t busy_cycles;		/* summed over workers */
	double seconds;			/* run time */
	struct xm_port_stats in_st;	/* input port */
	struct xm_port_stats out_st;	/* output port (if separate) */
	bool have_in_st, have_out_st;	/* the stats calls succeeded */
	int audit_err;			/* xm_umem_audit() */
	uint64_t audit_held;		/* frames not home after close */
	int worker_err;			/* first worker error */
	char in_mode[16];		/* mode names, kept past close */
	char out_mode[16];
	bool in_mb, out_mb;		/* multi-buffer bound */
	uint32_t tx_budget;		/* the output port's, per sendto() */
};

static void print_summary(const struct fwd *f, const struct fwd_args *a,
			  const struct fwd_result *r)
{
	double rx_mpps = r->seconds > 0 ? (double)r->rx / r->seconds / 1e6 : 0;
	double tx_mpps = r->seconds > 0 ? (double)r->tx / r->seconds / 1e6 : 0;
	double cpp = r->rx ? (double)r->busy_cycles / (double)r->rx : 0;
	const char *stop = xm_ex_stop_signal_name() ?
			   xm_ex_stop_signal_name() :
			   r->worker_err ? "error" : "duration";

	if (a->ex.json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, stdout);
		xm_ex_json_str(&j, "program", xm_ex_prog());
		xm_ex_json_str(&j, "in", a->ex.ifname);
		xm_ex_json_str(&j, "out", a->out_name ? a->out_name :
			       a->ex.ifname);
		xm_ex_json_str(&j, "mode", r->in_mode);
		xm_ex_json_u64(&j, "queues", f->nworkers);
		xm_ex_json_u64(&j, "burst", f->burst);
		xm_ex_json_u64(&j, "tx_budget", r->tx_budget);
		xm_ex_json_double(&j, "duration_s", r->seconds);
		xm_ex_json_str(&j, "stopped_by", stop);
		xm_ex_json_u64(&j, "rx_packets", r->rx);
		xm_ex_json_u64(&j, "tx_packets", r->tx);
		xm_ex_json_u64(&j, "dropped_tx_full", r->tx_full);
		xm_ex_json_u64(&j, "dropped_runt", r->runt);
		xm_ex_json_double(&j, "rx_mpps", rx_mpps);
		xm_ex_json_double(&j, "tx_mpps", tx_mpps);
		xm_ex_json_u64(&j, "busy_cycles", r->busy_cycles);
		xm_ex_json_double(&j, "busy_cycles_per_packet", cpp);
		if (r->have_in_st)
			json_port(&j, "port_in", a->ex.ifname, r->in_mode,
				  r->in_mb, &r->in_st);
		if (a->out_name && r->have_out_st)
			json_port(&j, "port_out", a->out_name, r->out_mode,
				  r->out_mb, &r->out_st);
		xm_ex_json_object(&j, "audit");
		xm_ex_json_bool(&j, "ok", r->audit_err == 0 &&
				r->audit_held == 0);
		xm_ex_json_u64(&j, "held", r->audit_held);
		xm_ex_json_close(&j);
		xm_ex_json_zones(&j, "zones", f->u);
		if (xm_ex_json_end(&j))
			xm_ex_error("could not write the JSON summary");
		return;
	}
	printf("%s: %s -> %s (%s), %u queue(s), %.2f s, stopped by %s\n",
	       xm_ex_prog(), a->ex.ifname, a->out_name ? a->out_name : a->ex.ifname,
	       r->in_mode, f->nworkers, r->seconds, stop);
	printf("  rx %llu packets (%.3f Mpps), tx %llu packets (%.3f Mpps)\n",
	       (unsigned long long)r->rx, rx_mpps, (unsigned long long)r->tx,
	       tx_mpps);
	printf("  dropped: tx ring full %llu, runt %llu\n",
	       (unsigned long long)r->tx_full, (unsigned long long)r->runt);
	printf("  busy: %.1f cycles/packet\n", cpp);
	if (r->have_in_st)
		printf("  kernel: rx_dropped %llu rx_ring_full %llu "
		       "fill_ring_empty %llu tx_invalid %llu\n",
		       (unsigned long long)r->in_st.rx_dropped,
		       (unsigned long long)r->in_st.rx_ring_full,
		       (unsigned long long)r->in_st.rx_fill_ring_empty_descs,
		       (unsigned long long)(r->in_st.tx_invalid_descs +
					    r->out_st.tx_invalid_descs));
	printf("  audit: %s, %llu frames held after close\n",
	       r->audit_err == 0 && r->audit_held == 0 ? "ok" : "FAILED",
	       (unsigned long long)r->audit_held);
}

/*
 * Frames the UMEM needs: every ring of every queue full, bursts in hand
 * and two cache buckets per thread, the reserve.  Sized for rings of
 * 2048 (fill 4096), twice the port's default: the headroom the forwarder
 * always had.  The output port adds its TX and completion rings.
 */
static uint32_t frames_needed(unsigned int nqueues, bool separate_out)
{
	XM_OPTS(xm_port_frames_opts, in,
		.nqueues = nqueues,
		.rx_size = 2048,
		.tx_size = 2048,
		.held = 2 * FWD_BURST_MAX + 128,
		.reserve = 1024);
	XM_OPTS(xm_port_frames_opts, out,
		.nqueues = nqueues,
		.tx_size = 2048,
		.flags = XM_PORT_F_TX_ONLY);

	return xm_port_frames_needed(&in) +
	       (separate_out ? xm_port_frames_needed(&out) : 0);
}

/*
 * The input port (RX only when -o names another interface) and the
 * output port on the same queue ids.  @return 0 or the exit status.
 */
static int open_ports(struct fwd *f, const struct fwd_args *a,
		      struct fwd_result *r)
{
	const char *in = a->ex.ifname;

	XM_OPTS(xm_port_opts, pin,
		.queues = a->ex.nqueues ? a->ex.queues : NULL,
		.nqueues = (uint32_t)a->ex.nqueues,
		.mode = a->ex.mode,
		.port_index = 0,
		.flags = XM_PORT_F_NO_METADATA | XM_PORT_F_LEND_RX_RING |
			 (a->out_name ? XM_PORT_F_RX_ONLY : 0),
		.tx_budget = a->out_name ? 0 : a->tx_budget,
		.busy_poll_budget = a->ex.busy_poll);
	f->in = xm_port_open(f->u, in, &pin);
	if (!f->in)
		return xm_ex_error("cannot open port on '%s': %s", in,
				   strerror(errno));
	f->nworkers = xm_port_queue_count(f->in);
	f->out = f->in;
	if (a->out_name) {
		XM_OPTS(xm_port_opts, pout,
			.mode = a->ex.mode,
			.port_index = 1,
			.flags = XM_PORT_F_TX_ONLY,
			.tx_budget = a->tx_budget,
			.busy_poll_budget = a->ex.busy_poll);
		f->out = xm_ex_port_open_peer(f->u, a->out_name, f->in, &pout);
		if (!f->out)
			return xm_ex_error("cannot open port on '%s': %s",
					   a->out_name, strerror(errno));
	}
	snprintf(r->in_mode, sizeof(r->in_mode), "%s",
		 xm_port_mode_name(xm_port_mode(f->in)));
	snprintf(r->out_mode, sizeof(r->out_mode), "%s",
		 xm_port_mode_name(xm_port_mode(f->out)));
	r->in_mb = xm_port_multi_buffer(f->in);
	r->tx_budget = xm_port_tx_budget(f->out);
	r->out_mb = xm_port_multi_buffer(f->out);
	return 0;
}

/* The stats line's columns: rx, tx, drop (TX ring full + runts). */
static void sample(void *ctx, uint64_t *v)
{
	uint64_t runt;

	sum_counters(ctx, &v[0], &v[1], &v[2], &runt, NULL);
	v[2] += runt;
}

/* Runs the workers until a stop or -d; gathers what the summary says. */
static void forward(struct fwd *f, const struct fwd_args *a,
		   struct fwd_result *r)
{
	static const struct xm_ex_stat_col cols[] = {
		{ "rx", XM_EX_STAT_RATE },
		{ "tx", XM_EX_STAT_RATE },
		{ "drop", XM_EX_STAT_COUNT },
	};
	struct xm_ex_run run = {
		.fn = worker_main,
		.args = f->workers,
		.stride = sizeof(*f->workers),
		.nworkers = f->nworkers,
		.opts = &a->ex,
		.cols = cols,
		.ncols = 3,
		.sample = sample,
		.ctx = f,
	};

	for (unsigned int i = 0; i < f->nworkers; i++) {
		f->workers[i].f = f;
		f->workers[i].qidx = i;
	}
	r->worker_err = xm_ex_run(&run);
	r->seconds = xm_ex_run_seconds(&run);
	sum_counters(f, &r->rx, &r->tx, &r->tx_full, &r->runt,
		     &r->busy_cycles);
	r->have_in_st = xm_port_stats(f->in, &r->in_st) == 0;
	if (f->out != f->in)
		r->have_out_st = xm_port_stats(f->out, &r->out_st) == 0;
}

int main(int argc, char **argv)
{
	struct fwd_args a;
	struct fwd f = {};
	struct fwd_result r = {};
	unsigned int nq;
	int ret, err;

	xm_ex_set_prog(argv[0]);
	ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	xm_ex_set_print(a.ex.verbose, false);
	err = xm_ex_signals_install();
	if (err)
		return xm_ex_error("cannot install signal handlers: %s",
				   strerror(-err));

	/*
	 * The UMEM is sized for every ring of every queue: the queues given,
	 * or all of the interface's (what the port opens by default; an
	 * unknown interface is left for xm_port_open() to report).
	 */
	nq = xm_ex_queues_for(a.ex.ifname, a.ex.nqueues);
	f.u = xm_ex_umem_create(a.ex.frames ? a.ex.frames :
				frames_needed(nq, a.out_name != NULL), 0);
	if (!f.u)
		return XM_EX_RUNTIME;
	f.burst = (uint16_t)a.ex.burst;
	f.use_poll = a.ex.poll;

	ret = open_ports(&f, &a, &r);
	if (ret)
		goto out_ports;
	f.workers = calloc(f.nworkers, sizeof(*f.workers));
	if (!f.workers) {
		ret = xm_ex_error("out of memory");
		goto out_ports;
	}
	if (!a.ex.quiet)
		fprintf(stderr, "%s: %s -> %s, %u queue(s), mode %s\n",
			xm_ex_prog(), a.ex.ifname,
			a.out_name ? a.out_name : a.ex.ifname, f.nworkers,
			r.in_mode);
	forward(&f, &a, &r);

out_ports:
	if (f.out && f.out != f.in)
		xm_port_close(f.out);
	xm_port_close(f.in);
	if (f.workers) {
		xm_umem_cache_flush(f.u);
		r.audit_err = xm_umem_audit(f.u, &r.audit_held);
		print_summary(&f, &a, &r);
		if (r.audit_err || r.audit_held) {
			xm_ex_error("frame audit failed: %llu frames not home",
				    (unsigned long long)r.audit_held);
			ret = XM_EX_RUNTIME;
		} else if (r.worker_err) {
			ret = XM_EX_RUNTIME;
		} else {
			ret = XM_EX_OK;
		}
	}
	free(f.workers);
	xm_umem_destroy(f.u);
	return ret;
}
