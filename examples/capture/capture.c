// SPDX-License-Identifier: BSD-2-Clause
/*
 * capture.c - xmbuf-capture: packet capture to pcap/pcapng (or a line per
 * packet on stdout), in tcpdump's habits, on one of three paths chosen at
 * start (cap_setup.c, cap_iface.h), the banner saying which and why:
 *
 *   passive  default where the interface carries host traffic: tcx
 *            ingress/egress copy into a BPF ring buffer (cap_copy.c), the
 *            host keeps every packet; cap_passive.c takes the copies
 *   inline   --inline, or the default on a port with no address and no
 *            route: AF_XDP, consuming, line rate (below)
 *   at-xdp   --at-xdp entry|exit: fentry/fexit on the XDP program attached
 *
 * All three end in the same writer, filter, -c and counters
 * (cap_worker_process).  The inline path:
 *
 *   -i IF, every queue (or --queues)            -w FILE (rotated) or -w -
 *   XDP: rules (filter subset) ---no match---> kernel stack
 *     | match
 *     v
 *   queue q socket --rx_burst--> worker q: libpcap filter (full
 *   (one thread each)             expression), snaplen, record headers
 *                                   |  iovecs into the UMEM frames
 *                                   v
 *                       lock; writev(file); unlock  (cap_out.c)
 *                                   |
 *                       xm_freem_bulk: frames back to the fill ring
 *   --tap IF2: every packet also leaves IF2 by tx_burst, as an xm_copym
 *   reference to the same frame (freed when both writer and TX are done).
 *
 * The write path copies only small packets: a record's header and
 * trailer are built in the batch (cap_pcap.c), the bytes of a packet of
 * up to CAP_BATCH_COPY_MAX bytes are copied between them (cheaper than
 * one more iovec for writev), and larger packets are written from the
 * frames they arrived in, so a frame goes back to the fill ring only
 * after writev has returned with its bytes in the file.  One lock
 * serializes the queues' batches into one file; each batch is one
 * writev of up to 256 packets.
 *
 * An idle worker sleeps in poll(), but only once its ring has stayed
 * empty for CAP_SPIN_NS: a sleeper costs the receive path a wake-up for
 * every NAPI poll that lands packets: on veth, where the receive path
 * runs on the sender's CPU, the sender made 1.6 Mpps with a sleeping
 * worker and 2.1 Mpps with this one.  While it looks again it yields,
 * so a NAPI thread sharing its CPU runs first.
 *
 * Timestamps come from the XDP metadata (XM_TSTMP): the driver's stamp,
 * or bpf_ktime_get_ns() (CLOCK_MONOTONIC), moved onto the wall clock by
 * an offset measured at start and re-checked once a second; a stamp on
 * neither clock is replaced by the time of the burst (counted).
 *
 * Counts, and where they go: received (rx_burst), written (in a file),
 * dropped by the kernel (XDP_STATISTICS: RX ring full, fill ring empty,
 * other), filtered in the kernel (passed to the stack) and in user
 * space, not written (disk full, write errors), after -c.  pcapng files
 * end with an interface statistics block holding them.
 *
 * Stopping: SIGINT or SIGTERM (or -c, --duration) ends the run; a
 * worker whose output is blocked (-w - to a reader that stopped reading,
 * a FIFO) gives its write up half a second after it sees the stop, at a
 * record boundary, and counts the rest as "blocked at the stop"
 * (cap_out.h): the capture exits within a second, the file the reader
 * has is valid, the XDP program comes off.
 *
 * -Z USER: every capability goes after the interface is set up
 * (cap_privs.h); the program is then attached as a bpf_link, which the
 * kernel takes off when the process exits, however it exits (SIGKILL
 * too).  Without -Z it is attached by netlink and taken off at exit; a
 * capture killed by SIGKILL leaves it, and the next start on the
 * interface replaces it (userspace/xdp.c).
 *
 * The parts: cap_opts.c (the command line), cap_setup.c (filter, ports,
 * output, the run), cap_worker.c (a queue's loop and the counters),
 * cap_filter.c (the expression's simple part as XDP rules), cap_pcap.c
 * and cap_out.c (records, files, rotation), cap_privs.c (-Z); this file
 * is main and the summary.
 *
 * Exit: 0 done (count, duration, signal; packets given up at the stop
 * of a blocked stream are counted, not an error); 1 runtime error
 * (interface, file, a write error, packets lost to a full disk);
 * 2 usage error (options, filter syntax, a -Z id out of range or root
 * under another name than "root").
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap_privs.h"
#include "cap_run.h"

static FILE *cap_summary_out;			/* stdout, or stderr with -w - */

/* ------------------------------------------------------------- summary */

/* Everything the summary reports, gathered before the ports close. */
struct cap_result {
	double seconds;			/* run time */
	struct cap_totals t;		/* worker counters */
	struct xm_port_stats st;	/* -i */
	struct xm_port_stats tap_st;	/* --tap */
	bool have_st;			/* st was read */
	bool have_tap_st;		/* tap_st was read */
	struct cap_out_stats out;	/* the writer's counters */
	bool have_out;			/* the output was opened */
	char first_file[PATH_MAX];	/* names, kept past close */
	char last_file[PATH_MAX];
	int audit_err;			/* xm_umem_audit() */
	uint64_t audit_held;		/* frames not home after close */
	int worker_err;			/* first worker error */
	int fatal;			/* -errno that stopped the output */
	bool multi_buffer;		/* bound with XDP_USE_SG */
	unsigned int queues;		/* sockets (threads) */
	struct cap_kstats ks;		/* copying paths */
};

static const char *path_name(const struct capture *c)
{
	return c->path == CAP_PATH_INLINE ? "inline" :
	       c->path == CAP_PATH_PASSIVE ? "passive" : "at-xdp";
}

static const char *stop_reason(const struct capture *c,
			       const struct cap_result *r)
{
	if (r->fatal)
		return r->fatal == -EPIPE ? "output closed" : "output error";
	if (r->worker_err)
		return "error";
	if (xm_ex_stop_signal_name())
		return xm_ex_stop_signal_name();
	if (c->a->count && r->out.packets + r->out.unwritten_full +
	    r->out.unwritten_error >= c->a->count)
		return "count";
	return "duration";
}

/* The summary's lines every path prints the same way. */
static void print_unwritten(FILE *out, const struct cap_result *r)
{
	fprintf(out, "  not written: %llu disk full, %llu write error, %llu "
		"output blocked at the stop, %llu after -c\n",
		(unsigned long long)r->out.unwritten_full,
		(unsigned long long)r->out.unwritten_error,
		(unsigned long long)r->out.unwritten_stopped,
		(unsigned long long)r->t.after_count);
}

static void print_audit(FILE *out, const struct cap_result *r)
{
	fprintf(out, "  audit: %s, %llu frames held after close\n",
		r->audit_err == 0 && r->audit_held == 0 ? "ok" : "FAILED",
		(unsigned long long)r->audit_held);
}

/* The summary of a copying path (passive, --at-xdp). */
static void print_copy_summary(const struct capture *c,
			       const struct cap_result *r)
{
	const struct cap_args *a = c->a;
	const struct cap_kstats *ks = &r->ks;
	FILE *out = cap_summary_out;

	fprintf(out, "%s: %s, %s (%s), %.2f s, stopped by %s\n", xm_ex_prog(),
		a->ex.ifname, path_name(c), c->hook_name, r->seconds,
		stop_reason(c, r));
	fprintf(out, "  %llu packets seen (%llu in, %llu out), %llu copied, "
		"%llu written (%llu bytes) to %s%s\n",
		(unsigned long long)(ks->seen_in + ks->seen_out),
		(unsigned long long)ks->seen_in,
		(unsigned long long)ks->seen_out,
		(unsigned long long)r->t.rx,
		(unsigned long long)(a->path ? r->out.packets : r->t.printed),
		(unsigned long long)r->out.bytes,
		a->path ? cap_format_name(a->format) : "stdout",
		a->path ? " file(s)" : "");
	fprintf(out, "  not copied: %llu ring buffer full (%llu in, %llu out), "
		"%llu copy errors, %llu no mbuf; the host got every packet\n",
		(unsigned long long)(ks->lost_in + ks->lost_out),
		(unsigned long long)ks->lost_in,
		(unsigned long long)ks->lost_out,
		(unsigned long long)ks->copy_err,
		(unsigned long long)ks->nombuf);
	fprintf(out, "  filtered: %llu in user space (the filter decides what "
		"is written, never what the host gets)\n",
		(unsigned long long)r->t.filtered);
	print_unwritten(out, r);
	print_audit(out, r);
}

static void print_summary(const struct capture *c, const struct cap_result *r)
{
	const struct cap_args *a = c->a;
	const struct xm_port_stats *st = &r->st;
	FILE *out = cap_summary_out;
	double mpps = r->seconds > 0 ? (double)r->t.rx / r->seconds / 1e6 : 0;
	double wmbps = r->seconds > 0 ?
		       (double)r->out.bytes * 8 / r->seconds / 1e6 : 0;
	/* from the first burst to the last: the rate traffic came at */
	double active = r->t.last_ns > r->t.first_ns ?
			(double)(r->t.last_ns - r->t.first_ns) / 1e9 : 0;
	double amps = active > 0 ? (double)r->t.rx / active / 1e6 : 0;
	uint64_t kfilt = c->rules_pushed ? st->xdp_passed : 0;

	if (a->ex.json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, out);
		xm_ex_json_str(&j, "program", xm_ex_prog());
		xm_ex_json_str(&j, "iface", a->ex.ifname);
		xm_ex_json_str(&j, "tap", a->tap);
		xm_ex_json_str(&j, "mode", c->mode_name);
		xm_ex_json_str(&j, "path", path_name(c));
		xm_ex_json_str(&j, "path_why", c->path_why);
		xm_ex_json_str(&j, "direction", a->dirs == CAP_DIR_IN ? "in" :
			       a->dirs == CAP_DIR_OUT ? "out" : "inout");
		xm_ex_json_bool(&j, "multi_buffer", r->multi_buffer);
		xm_ex_json_u64(&j, "queues", r->queues);
		xm_ex_json_str(&j, "format", cap_format_name(a->format));
		xm_ex_json_u64(&j, "snaplen", a->snaplen);
		xm_ex_json_u64(&j, "rx_ring", c->rx_ring);
		xm_ex_json_str(&j, "filter", a->expr);
		xm_ex_json_u64(&j, "kernel_rules",
			       c->rules_pushed ? c->rules.nrules : 0);
		xm_ex_json_str(&j, "first_file", r->first_file);
		xm_ex_json_str(&j, "last_file", r->last_file);
		xm_ex_json_u64(&j, "files", r->out.files);
		xm_ex_json_double(&j, "duration_s", r->seconds);
		xm_ex_json_str(&j, "stopped_by", stop_reason(c, r));
		xm_ex_json_u64(&j, "uid", getuid());
		xm_ex_json_u64(&j, "received", r->t.rx);
		xm_ex_json_u64(&j, "received_bytes", r->t.rx_bytes);
		xm_ex_json_u64(&j, "accepted", r->t.accepted);
		xm_ex_json_u64(&j, "written", r->out.packets);
		xm_ex_json_u64(&j, "written_bytes", r->out.bytes);
		xm_ex_json_u64(&j, "dropped_ring_full", st->rx_ring_full);
		xm_ex_json_u64(&j, "dropped_fill_empty",
			       st->rx_fill_ring_empty_descs);
		xm_ex_json_u64(&j, "dropped_kernel_other",
			       cap_kernel_drops_other(st));
		xm_ex_json_u64(&j, "dropped_port", st->rx_dropped_sw);
		xm_ex_json_u64(&j, "filtered_kernel", kfilt);
		xm_ex_json_u64(&j, "filtered_user", r->t.filtered);
		xm_ex_json_u64(&j, "unwritten_disk_full",
			       r->out.unwritten_full);
		xm_ex_json_u64(&j, "unwritten_error", r->out.unwritten_error);
		xm_ex_json_u64(&j, "unwritten_blocked_at_stop",
			       r->out.unwritten_stopped);
		xm_ex_json_u64(&j, "after_count", r->t.after_count);
		xm_ex_json_u64(&j, "sw_timestamps", r->t.sw_stamps);
		xm_ex_json_u64(&j, "printed", r->t.printed);
		if (c->path != CAP_PATH_INLINE) {
			xm_ex_json_object(&j, "copies");
			xm_ex_json_str(&j, "hook", c->hook_name);
			xm_ex_json_u64(&j, "seen_in", r->ks.seen_in);
			xm_ex_json_u64(&j, "seen_out", r->ks.seen_out);
			xm_ex_json_u64(&j, "ring_lost_in", r->ks.lost_in);
			xm_ex_json_u64(&j, "ring_lost_out", r->ks.lost_out);
			xm_ex_json_u64(&j, "copy_errors", r->ks.copy_err);
			xm_ex_json_u64(&j, "no_mbuf", r->ks.nombuf);
			xm_ex_json_close(&j);
		}
		xm_ex_json_u64(&j, "tap_forwarded", r->t.tap_tx);
		xm_ex_json_u64(&j, "tap_dropped", r->t.tap_dropped);
		xm_ex_json_double(&j, "rx_mpps", mpps);
		xm_ex_json_double(&j, "active_s", active);
		xm_ex_json_double(&j, "active_mpps", amps);
		xm_ex_json_double(&j, "write_mbps", wmbps);
		xm_ex_json_object(&j, "kernel");
		xm_ex_json_u64(&j, "xdp_seen", st->xdp_seen);
		xm_ex_json_u64(&j, "xdp_redirected", st->xdp_redirected);
		xm_ex_json_u64(&j, "xdp_passed", st->xdp_passed);
		xm_ex_json_u64(&j, "xdp_no_socket", st->xdp_no_socket);
		xm_ex_json_u64(&j, "fill_starved", st->fill_starved);
		xm_ex_json_close(&j);
		if (r->have_tap_st) {
			xm_ex_json_object(&j, "tap_port");
			xm_ex_json_u64(&j, "tx_packets", r->tap_st.tx_packets);
			xm_ex_json_u64(&j, "tx_completions",
				       r->tap_st.tx_completions);
			xm_ex_json_u64(&j, "tx_copied", r->tap_st.tx_copied);
			xm_ex_json_u64(&j, "tx_dropped", r->tap_st.tx_dropped);
			xm_ex_json_close(&j);
		}
		xm_ex_json_object(&j, "audit");
		xm_ex_json_bool(&j, "ok", r->audit_err == 0 &&
				r->audit_held == 0);
		xm_ex_json_u64(&j, "held", r->audit_held);
		xm_ex_json_close(&j);
		if (xm_ex_json_end(&j))
			xm_ex_error("could not write the JSON summary");
		return;
	}
	if (c->path != CAP_PATH_INLINE) {
		print_copy_summary(c, r);
		return;
	}
	fprintf(out, "%s: %s, inline, %u queue(s), mode %s%s, %.2f s, stopped "
		"by %s\n", xm_ex_prog(), a->ex.ifname, r->queues, c->mode_name,
		r->multi_buffer ? " (multi-buffer)" : "", r->seconds,
		stop_reason(c, r));
	fprintf(out, "  %llu packets received (%.3f Mpps while traffic "
		"lasted), %llu written (%llu bytes) to %llu %s file(s), "
		"last %s\n", (unsigned long long)r->t.rx, amps,
		(unsigned long long)r->out.packets,
		(unsigned long long)r->out.bytes,
		(unsigned long long)r->out.files, cap_format_name(a->format),
		r->last_file);
	fprintf(out, "  dropped by the kernel: %llu (RX ring full %llu, fill "
		"ring empty %llu, other %llu)\n",
		(unsigned long long)cap_kernel_drops(st),
		(unsigned long long)st->rx_ring_full,
		(unsigned long long)st->rx_fill_ring_empty_descs,
		(unsigned long long)cap_kernel_drops_other(st));
	fprintf(out, "  filtered: %llu in the kernel (%u rule(s), to the "
		"stack), %llu in user space\n", (unsigned long long)kfilt,
		c->rules_pushed ? c->rules.nrules : 0,
		(unsigned long long)r->t.filtered);
	print_unwritten(out, r);
	if (a->tap)
		fprintf(out, "  tap %s: %llu forwarded, %llu dropped\n", a->tap,
			(unsigned long long)r->t.tap_tx,
			(unsigned long long)r->t.tap_dropped);
	print_audit(out, r);
}

/* The exit status the run earned (see the top of this file). */
static int exit_status(const struct cap_result *r)
{
	if (r->audit_err || r->audit_held) {
		xm_ex_error("frame audit failed: %llu frames not home",
			    (unsigned long long)r->audit_held);
		return XM_EX_RUNTIME;
	}
	if (r->worker_err)
		return XM_EX_RUNTIME;
	if (r->fatal && r->fatal != -EPIPE)
		return XM_EX_RUNTIME;
	if (r->out.unwritten_full || r->out.unwritten_error) {
		xm_ex_error("%llu packets were not written",
			    (unsigned long long)(r->out.unwritten_full +
						 r->out.unwritten_error));
		return XM_EX_RUNTIME;
	}
	return XM_EX_OK;
}

/* ---------------------------------------------------------------- main */

/*
 * What can be checked without touching the interface: the interfaces
 * exist, -Z names a user.  @return -1 to go on, else the exit status.
 */
static int check_names(struct capture *c, struct cap_user *user)
{
	const struct cap_args *a = c->a;
	int err;

	if (if_nametoindex(a->ex.ifname) == 0)
		return xm_ex_error("unknown interface '%s'", a->ex.ifname);
	if (a->tap && if_nametoindex(a->tap) == 0)
		return xm_ex_error("unknown tap interface '%s'", a->tap);
	if (!a->user)
		return -1;
	err = cap_user_lookup(a->user, user);
	if (err == -ERANGE)
		return xm_ex_usage_error("invalid user id '%s' (0 .. %u)",
					 a->user, (unsigned int)-2);
	if (err == -EPERM)
		return xm_ex_usage_error("user '%s' is uid 0: -Z root keeps "
					 "root (with no capability), by that "
					 "name only", a->user);
	if (err)
		return xm_ex_error("unknown user '%s'", a->user);
	c->drop_privs = geteuid() == 0;
	return -1;
}

/*
 * As tcpdump: the user switch comes before any output file, and only
 * root switches (anyone else has nothing to give up).
 * @return 0 or the exit status.
 */
static int switch_user(struct capture *c, struct cap_user *user)
{
	const struct cap_args *a = c->a;
	char why[256];

	if (a->user && !c->drop_privs && !a->ex.quiet) {
		fprintf(stderr, "%s: not running as root: -Z %s ignored\n",
			xm_ex_prog(), a->user);
		return 0;
	}
	if (!c->drop_privs)
		return 0;
	if (cap_drop_privileges(user, why, sizeof(why)))
		return xm_ex_error("cannot switch to user '%s': %s",
				   user->name, why);
	return 0;
}

/* Closes the output (its last statistics block) into r. */
static void close_output(struct capture *c, struct cap_result *r)
{
	int err;

	r->fatal = atomic_load(&c->fatal);
	if (!c->out) {
		snprintf(r->last_file, sizeof(r->last_file), "-");
		return;
	}
	cap_out_stats(c->out, &r->out);
	r->have_out = true;
	snprintf(r->last_file, sizeof(r->last_file), "%s",
		 cap_out_current(c->out));
	pthread_mutex_lock(&c->out_lock);
	err = cap_out_close(c->out, cap_clock_ns(CLOCK_REALTIME));
	pthread_mutex_unlock(&c->out_lock);
	c->out = NULL;
	if (err && !r->fatal)
		r->fatal = err;
}

int main(int argc, char **argv)
{
	struct cap_args a;
	struct capture c = { .a = &a };
	struct cap_result r = {};
	struct cap_run_result run = {};
	struct cap_user user = { 0 };
	bool ran = false;
	int ret, err;

	xm_ex_set_prog(argv[0]);
	cap_summary_out = stdout;
	ret = cap_parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	if (a.list) {
		ret = cap_iface_list(stdout);
		goto out_args;
	}
	/* stdout carries the packets: with -w - and without -w */
	if (!a.path || !strcmp(a.path, "-"))
		cap_summary_out = stderr;
	xm_ex_set_print(a.ex.verbose, false);
	err = xm_ex_signals_install();
	if (err)
		return xm_ex_error("cannot install signal handlers: %s",
				   strerror(-err));
	/* a file-size limit shows up as EFBIG, handled as a full disk */
	signal(SIGXFSZ, SIG_IGN);
	pthread_mutex_init(&c.out_lock, NULL);
	pthread_mutex_init(&c.stats_lock, NULL);

	ret = cap_compile_filter(&c);
	if (ret >= 0)
		goto out_args;
	ret = check_names(&c, &user);
	if (ret >= 0)
		goto out_filter;
	ret = cap_choose_path(&c);
	if (ret >= 0)
		goto out_filter;
	ret = cap_open_ports(&c);
	if (ret)
		goto out_ports;
	cap_push_rules(&c);
	cap_describe(&c);
	r.multi_buffer = c.in && xm_port_multi_buffer(c.in);
	r.queues = c.nworkers;
	ret = switch_user(&c, &user);
	if (ret)
		goto out_ports;
	ret = cap_open_output(&c);
	if (ret)
		goto out_ports;
	snprintf(r.first_file, sizeof(r.first_file), "%s",
		 c.out ? cap_out_current(c.out) : "-");

	ret = cap_run(&c, &run);
	if (ret)
		goto out_file;
	ran = true;
	r.seconds = run.seconds;
	r.worker_err = run.worker_err;
	cap_sum_workers(&c, &r.t);
	if (c.in)
		r.have_st = cap_port_stats(&c, &r.st) == 0;
	if (c.tap)
		r.have_tap_st = xm_port_stats(c.tap, &r.tap_st) == 0;
out_file:
	close_output(&c, &r);
out_ports:
	/* the hooks come off first: nothing stays attached */
	cap_passive_close(&c);
	if (c.pv && ran)
		cap_passive_stats(&c, &r.ks);
	xm_port_close(c.tap);
	xm_port_close(c.in);
	if (ran) {
		xm_umem_cache_flush(c.u);
		r.audit_err = xm_umem_audit(c.u, &r.audit_held);
		print_summary(&c, &r);
		ret = exit_status(&r);
	}
	if (c.workers) {
		for (unsigned int i = 0; i < c.nworkers; i++) {
			free(c.workers[i].batch);
			free(c.workers[i].linear);
			free(c.workers[i].text);
		}
		free(c.workers);
	}
	cap_passive_free(&c);
	xm_umem_destroy(c.u);
out_filter:
	if (c.have_prog)
		pcap_freecode(&c.prog);
out_args:
	free(a.expr);
	pthread_mutex_destroy(&c.out_lock);
	pthread_mutex_destroy(&c.stats_lock);
	return ret;
}
