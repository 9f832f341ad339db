// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_setup.c - xmbuf-capture's setup and run: the expression compiled,
 * the UMEM sized for the rings, the ports (-i RX only, --tap TX only on
 * the same queue ids), the expressible part of the filter pushed into
 * the XDP program, the output opened; then the queue workers, started by
 * the examples' launcher, with the main thread ticking the output
 * (rotation by time) and printing the live line.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cap_run.h"

/* Takes m, waiting CAP_LOCK_WAIT_MS at most.  @return 0 or an errno. */
static int lock_briefly(pthread_mutex_t *m)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += CAP_LOCK_WAIT_MS * 1000000l;
	if (ts.tv_nsec >= 1000000000l) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000l;
	}
	return pthread_mutex_timedlock(m, &ts);
}

/*
 * Frames the UMEM needs: every ring of every queue full (fill and RX of
 * -B; --tap's TX and completion rings), eight batches and some per
 * queue, the reserve.
 */
static uint32_t frames_needed(unsigned int nqueues, uint32_t fill, uint32_t rx,
			      bool tap)
{
	XM_OPTS(xm_port_frames_opts, in,
		.nqueues = nqueues,
		.rx_size = rx,
		.fill_size = fill,
		.held = 8 * CAP_BATCH_PKTS + 256,
		.reserve = 1024,
		.flags = XM_PORT_F_RX_ONLY);
	XM_OPTS(xm_port_frames_opts, out,
		.nqueues = nqueues,
		.tx_size = CAP_TX_RING,
		.flags = XM_PORT_F_TX_ONLY);
	uint64_t need = xm_port_frames_needed(&in);

	if (tap)
		need += xm_port_frames_needed(&out);
	return need > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)need;
}

int cap_compile_filter(struct capture *c)
{
	pcap_t *p;
	int ret = -1;

	if (!c->a->expr)
		return -1;
	p = pcap_open_dead(DLT_EN10MB, (int)c->a->snaplen);
	if (!p)
		return xm_ex_error("cannot set up libpcap");
	/* the interface's netmask, for "ip broadcast" (as tcpdump) */
	if (pcap_compile(p, &c->prog, c->a->expr, 1,
			 cap_filter_netmask(c->a->ex.ifname)) != 0) {
		ret = xm_ex_usage_error("invalid filter expression '%s': %s",
					c->a->expr, pcap_geterr(p));
	} else {
		c->have_prog = true;
	}
	pcap_close(p);
	return ret;
}

/* Pushes the expressible part of the filter into the XDP program. */
void cap_push_rules(struct capture *c)
{
	char desc[128];

	if (!c->a->expr || c->tap || c->path != CAP_PATH_INLINE)
		return;
	cap_filter_translate(c->a->expr, &c->rules);
	if (c->rules.all) {
		if (!c->a->ex.quiet)
			fprintf(stderr, "%s: kernel filter: none (%s); the "
				"expression runs in user space\n",
				xm_ex_prog(), c->rules.why);
		return;
	}
	{
		/* The whole set in one step; if the port refuses it, the
		 * port keeps steering everything (its state since open). */
		int err = xm_port_rule_replace(c->in, c->rules.rules,
					       c->rules.nrules);

		if (err < 0) {
			xm_ex_error("cannot push the %u rule(s) into the XDP "
				    "program (%s); filtering in user space only",
				    c->rules.nrules, strerror(-err));
			return;
		}
	}
	c->rules_pushed = true;
	if (!c->a->ex.quiet) {
		fprintf(stderr, "%s: kernel filter: %u rule(s):", xm_ex_prog(),
			c->rules.nrules);
		for (unsigned int i = 0; i < c->rules.nrules; i++)
			fprintf(stderr, "%s %s", i ? " |" : "",
				cap_filter_rule_str(&c->rules.rules[i], desc,
						    sizeof(desc)));
		fputc('\n', stderr);
	}
}

int cap_choose_path(struct capture *c)
{
	const struct cap_args *a = c->a;
	bool host = cap_iface_host_traffic(a->ex.ifname, c->path_why,
					   sizeof(c->path_why));

	if (a->at_xdp) {
		c->path = CAP_PATH_AT_XDP;
		snprintf(c->path_why, sizeof(c->path_why), "--at-xdp %s",
			 a->at_xdp == CAP_AT_XDP_EXIT ? "exit" : "entry");
		return -1;
	}
	if (a->tap && !a->inline_path && host)
		return xm_ex_usage_error("--tap needs the inline path, and "
					 "'%s' carries host traffic (%s): "
					 "--inline --force", a->ex.ifname,
					 c->path_why);
	if (a->inline_path || a->tap) {
		if (host && !a->force)
			return xm_ex_usage_error(
				"--inline on '%s', which carries host traffic "
				"(%s): the capture would consume what it "
				"takes and cut the host off it; add --force to "
				"do it anyway", a->ex.ifname, c->path_why);
		if (host)
			fprintf(stderr, "%s: WARNING: --inline --force on %s "
				"(%s): what the capture takes never reaches "
				"the host\n", xm_ex_prog(), a->ex.ifname,
				c->path_why);
		c->path = CAP_PATH_INLINE;
		if (!host)
			snprintf(c->path_why, sizeof(c->path_why),
				 "--inline; no address, no route");
		else
			snprintf(c->path_why, sizeof(c->path_why),
				 "--inline --force");
		return -1;
	}
	if (!host && a->dirs_given && a->dirs != CAP_DIR_IN) {
		/* an explicit -Q out on a mirror port: the passive path */
		c->path = CAP_PATH_PASSIVE;
		snprintf(c->path_why, sizeof(c->path_why), "-Q %s",
			 a->dirs == CAP_DIR_OUT ? "out" : "inout");
		return -1;
	}
	c->path = host ? CAP_PATH_PASSIVE : CAP_PATH_INLINE;
	return -1;
}

int cap_open_ports(struct capture *c)
{
	const struct cap_args *a = c->a;
	uint32_t rx = CAP_RX_RING_DEFAULT, fill;
	unsigned int nq;

	if (c->path != CAP_PATH_INLINE)
		return cap_passive_open(c) ? XM_EX_RUNTIME : 0;
	/* the inline path receives only */
	c->a->dirs = CAP_DIR_IN;
	/* -B: what may wait in the RX ring for the writer (tcpdump's
	 * kernel buffer); the fill ring is twice that, the port's rule */
	if (a->buffer_kib) {
		uint64_t frames = (uint64_t)a->buffer_kib * 1024 / XM_MCLBYTES;

		rx = CAP_RX_RING_MIN;
		while (rx < frames && rx < CAP_RX_RING_MAX)
			rx <<= 1;
	}
	fill = 2 * rx;
	c->rx_ring = rx;
	nq = xm_ex_queues_for(a->ex.ifname, a->ex.nqueues);
	/*
	 * After -Z the process can no longer write vm.nr_hugepages, so the
	 * umem could not give back pages it reserved there: use hugepages
	 * only when the pool already has them.
	 */
	c->u = xm_ex_umem_create(frames_needed(nq, fill, rx, a->tap != NULL),
				 a->user ? XM_UMEM_F_NO_RESERVE_HUGEPAGES : 0);
	if (!c->u)
		return XM_EX_RUNTIME;
	XM_OPTS(xm_port_opts, pin,
		.queues = a->ex.nqueues ? a->ex.queues : NULL,
		.nqueues = (uint32_t)a->ex.nqueues,
		.mode = a->ex.mode,
		.rx_size = rx,
		.fill_size = fill,
		.port_index = 0,
		/* -Z: a bpf_link, so that the program comes off at exit
		 * with no capability left (cap_privs.h) */
		.flags = XM_PORT_F_RX_ONLY |
			 (c->drop_privs ? XM_PORT_F_XDP_LINK : 0),
		.busy_poll_budget = a->ex.busy_poll);
	c->in = xm_port_open(c->u, a->ex.ifname, &pin);
	if (!c->in)
		return xm_ex_error("cannot capture on '%s': %s", a->ex.ifname,
				   strerror(errno));
	c->nworkers = xm_port_queue_count(c->in);
	snprintf(c->mode_name, sizeof(c->mode_name), "%s",
		 xm_port_mode_name(xm_port_mode(c->in)));
	if (a->tap) {
		XM_OPTS(xm_port_opts, pt,
			.mode = a->ex.mode,
			.tx_size = CAP_TX_RING,
			.port_index = 1,
			.flags = XM_PORT_F_TX_ONLY,
			.busy_poll_budget = a->ex.busy_poll);
		c->tap = xm_ex_port_open_peer(c->u, a->tap, c->in, &pt);
		if (!c->tap)
			return xm_ex_error("cannot open tap interface '%s': %s",
					   a->tap, strerror(errno));
	}
	return 0;
}

void cap_describe(struct capture *c)
{
	struct utsname un;

	if (c->path == CAP_PATH_INLINE)
		snprintf(c->descr, sizeof(c->descr),
			 "%s: AF_XDP, %u queue(s), %s mode", c->a->ex.ifname,
			 c->nworkers, c->mode_name);
	else if (c->path == CAP_PATH_PASSIVE)
		snprintf(c->descr, sizeof(c->descr),
			 "%s: passive copies (%s), %s", c->a->ex.ifname,
			 c->hook_name, c->a->dirs == CAP_DIR_IN ? "in" :
			 c->a->dirs == CAP_DIR_OUT ? "out" : "in+out");
	else
		snprintf(c->descr, sizeof(c->descr), "%s: %s of XDP program "
			 "%s", c->a->ex.ifname, c->hook_name, c->xdp_target);
	if (uname(&un) == 0)
		snprintf(c->hostinfo, sizeof(c->hostinfo), "%s %s %s",
			 un.sysname, un.release, un.machine);
}

int cap_open_output(struct capture *c)
{
	const struct cap_args *a = c->a;
	struct cap_out_opts oo = {
		.path = a->path,
		.info = {
			.format = a->format,
			.snaplen = a->snaplen,
			.linktype = CAP_LINKTYPE_ETHERNET,
			.ifname = a->ex.ifname,
			.ifdescr = c->descr,
			.filter = a->expr,
			.os = c->hostinfo[0] ? c->hostinfo : NULL,
			.appl = "xmbuf-capture",
		},
		.rotate_bytes = a->rotate_bytes,
		.rotate_secs = a->rotate_secs,
		.ring_files = a->ring_files,
		.isb_fn = cap_fill_isb,
		.isb_arg = c,
		.msg_fn = cap_out_message,
		/* a stream whose reader stalls must not hold the stop up
		 * (cap_out.h) */
		.stop_fn = xm_ex_stopping,
	};

	c->clock_off = cap_clock_offset();
	c->start_real_ns = cap_clock_ns(CLOCK_REALTIME);
	if (!a->path)
		return 0;	/* a line per packet on stdout */
	return cap_out_open(&c->out, &oo, c->start_real_ns) ? XM_EX_RUNTIME :
								 0;
}

/* ----------------------------------------------------------------- run */

/* The main thread's round: the output's rotation by time. */
static int tick(void *arg, uint64_t now_ns)
{
	struct capture *c = arg;
	int err = 0;

	(void)now_ns;
	if (!c->out)
		return 0;
	/*
	 * Never wait long for the output lock here: a worker may hold it
	 * in a write to a stream whose reader does not read, and only this
	 * loop ends --duration.  A lock still busy means a worker is
	 * writing, and its write rotates as due; the live figures wait for
	 * the next round.
	 */
	if (lock_briefly(&c->out_lock) == 0) {
		err = cap_out_tick(c->out, cap_clock_ns(CLOCK_REALTIME));
		cap_out_stats(c->out, &c->live_out);
		pthread_mutex_unlock(&c->out_lock);
	}
	if (err) {
		int zero = 0;

		atomic_compare_exchange_strong(&c->fatal, &zero, err);
		return 1;
	}
	return 0;
}

/* The live line: rx, written, out, kdrop, filtered, unwritten. */
static void sample(void *arg, uint64_t *v)
{
	struct capture *c = arg;
	const struct cap_out_stats *os = &c->live_out;
	struct xm_port_stats st;
	struct cap_totals t;

	cap_sum_workers(c, &t);
	v[0] = t.rx;
	v[1] = c->out ? os->packets : t.printed;
	v[2] = os->bytes;
	if (c->path != CAP_PATH_INLINE) {
		struct cap_kstats ks;

		cap_passive_stats(c, &ks);
		v[3] = ks.lost_in + ks.lost_out + ks.copy_err + ks.nombuf;
		v[4] = t.filtered;
	} else {
		cap_port_stats(c, &st);
		v[3] = cap_kernel_drops(&st);
		v[4] = t.filtered + (c->rules_pushed ? st.xdp_passed : 0);
	}
	v[5] = os->unwritten_full + os->unwritten_error +
	       os->unwritten_stopped;
}

/* Each worker's batch and scratch.  @return 0 or the exit status. */
static int alloc_workers(struct capture *c)
{
	c->workers = calloc(c->nworkers, sizeof(*c->workers));
	if (!c->workers)
		return xm_ex_error("out of memory");
	for (unsigned int i = 0; i < c->nworkers; i++) {
		struct cap_worker *w = &c->workers[i];

		w->c = c;
		w->qidx = i;
		w->batch = malloc(sizeof(*w->batch));
		w->linear = malloc(CAP_LINEAR_MAX);
		w->text = c->a->path ? NULL :
			  malloc(CAP_BATCH_PKTS * CAP_TEXT_LINE_MAX);
		if (!w->batch || !w->linear || (!c->a->path && !w->text))
			return xm_ex_error("out of memory");
		cap_batch_init(w->batch, c->a->format);
	}
	return 0;
}

/*
 * The start banner: the path and why first, as a user must know whether
 * the host keeps its packets ("capturing on IF: passive (has
 * 198.18.7.2/24), in+out").
 */
static void banner(struct capture *c)
{
	const struct cap_args *a = c->a;
	char to[PATH_MAX + 64];

	if (c->out)
		snprintf(to, sizeof(to), "%s (%s, snaplen %u)",
			 cap_out_current(c->out), cap_format_name(a->format),
			 a->snaplen);
	else
		snprintf(to, sizeof(to), "stdout (a line per packet)");
	switch (c->path) {
	case CAP_PATH_INLINE:
		fprintf(stderr, "%s: capturing on %s: inline (%s), in; AF_XDP "
			"consumes what it takes; %u queue(s), mode %s%s, to "
			"%s\n", xm_ex_prog(), a->ex.ifname, c->path_why,
			c->nworkers, c->mode_name,
			xm_port_multi_buffer(c->in) ? " (multi-buffer)" : "",
			to);
		break;
	case CAP_PATH_PASSIVE:
		fprintf(stderr, "%s: capturing on %s: passive (%s), %s; copies "
			"at %s, every packet goes on unchanged; to %s\n",
			xm_ex_prog(), a->ex.ifname, c->path_why,
			a->dirs == CAP_DIR_IN ? "in" :
			a->dirs == CAP_DIR_OUT ? "out" : "in+out",
			c->hook_name, to);
		break;
	case CAP_PATH_AT_XDP:
		fprintf(stderr, "%s: capturing on %s: %s of XDP program %s "
			"(%s), in; the program keeps working; to %s\n",
			xm_ex_prog(), a->ex.ifname, c->hook_name,
			c->xdp_target, c->path_why, to);
		break;
	}
}

int cap_run(struct capture *c, struct cap_run_result *r)
{
	static const struct xm_ex_stat_col cols[] = {
		{ "rx", XM_EX_STAT_RATE },
		{ "written", XM_EX_STAT_RATE },
		{ "out", XM_EX_STAT_BITS },
		{ "kdrop", XM_EX_STAT_COUNT },
		{ "filtered", XM_EX_STAT_COUNT },
		{ "unwritten", XM_EX_STAT_COUNT },
	};
	const struct cap_args *a = c->a;
	struct xm_ex_run run = {
		.fn = c->path == CAP_PATH_INLINE ? cap_worker_main :
						   cap_passive_worker_main,
		.stride = sizeof(struct cap_worker),
		.opts = &a->ex,
		.cols = cols,
		.ncols = 6,
		.sample = sample,
		.tick = tick,
		.ctx = c,
	};
	int ret;

	ret = alloc_workers(c);
	if (ret)
		return ret;
	if (!a->ex.quiet)
		banner(c);
	run.args = c->workers;
	run.nworkers = c->nworkers;
	r->worker_err = xm_ex_run(&run);
	r->seconds = xm_ex_run_seconds(&run);
	return 0;
}
