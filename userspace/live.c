/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * live.c - the live-frames transmit engine: BPF_PROG_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES as a library facility (the technique of
 * xdp-trafficgen), for peak rate with no user-space work per frame.
 *
 *   xm_live_open(ifname, opts)
 *     load bpf/xm_live.bpf.c with opts in .rodata (frozen: the verifier
 *     sees every offset as a constant), the flow order in an array map
 *
 *   xm_live_send(l, frame, len, count)         kernel, per repetition:
 *     BPF_PROG_RUN(data_in = frame,    -->  page-pool copy of frame
 *                  repeat = count,           xm_live: size, fields,
 *                  LIVE_FRAMES,                       seq, stamp,
 *                  batch_size)                        checksums
 *                                            XDP_REDIRECT -> ifindex
 *   xm_live_run(l, frame, len, opts)
 *     xm_live_send() again and again, each call sized from the rate so
 *     far to last opts.call_ns, until a count, a time limit or a stop flag
 *
 * The cost model that matters: each call creates and destroys a kernel
 * page pool, and the destruction waits for an RCU grace period (about
 * 30 ms here, measured with tests of 64 to 65536 frames per call: the
 * wall time stayed at 30 ms while the frames sent grew 1000-fold); the
 * program also goes in and out of the kernel's XDP dispatcher
 * (bpf_dispatcher_change_prog), two more grace periods, about 20 ms of
 * idle source per call in a sched_switch trace.  So a size mix goes out
 * of one call, cut per frame by the program, instead of one call per
 * size; and xm_live_run() sizes its calls to last a quarter of a second:
 * with fixed 65536-frame calls at 5 Mpps the source was idle two thirds
 * of the time, and a program under test saw bursts, not a steady load.
 *
 * The program is loaded, never attached: nothing stays on the interface
 * when the process dies, and any number of engines can coexist.  The
 * frame is handed in on every call, so one engine sends templates of
 * different sizes (an IMIX) as long as each holds the stamp and fields.
 *
 * Why the stamp layout is fixed here rather than given as offsets of
 * separate fields: the receiver of an AF_XDP sender and of this engine is
 * the same code, and an 18-byte record fits a 60-byte UDP/IPv4 frame.
 *
 * KPI: xm_live_open, xm_live_send, xm_live_run, xm_live_frames,
 *      xm_live_cpu_frames, xm_live_close.  The sink is live_sink.c.
 * Hidden (tests): _xm_live_ifindex.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xm_common_int.h"
#include "xm_live_int.h"

#include "../bpf/xm_live_shared.h"
#include "xm_live.skel.h"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES	(1U << 1)
#endif

#define XM_LIVE_DEF_BATCH	64

_Static_assert(XM_LIVE_MAX_FIELDS == XM_LIVE_BPF_MAX_FIELDS, "fields");
_Static_assert(XM_LIVE_STAMP_LEN == XM_LIVE_BPF_STAMP_LEN, "stamp");
_Static_assert(XM_LIVE_STAMP_MAGIC == XM_LIVE_BPF_STAMP_MAGIC, "magic");
_Static_assert(XM_LIVE_MAX_FRAME <= XM_LIVE_BPF_MAX_OFF, "offsets");
_Static_assert(XM_LIVE_MAX_LENS == XM_LIVE_BPF_MAX_LENS, "lens");
_Static_assert(XM_LIVE_F_CSUM_IP == XM_LIVE_BPF_CSUM_IP &&
	       XM_LIVE_F_CSUM_L4 == XM_LIVE_BPF_CSUM_L4 &&
	       XM_LIVE_F_CSUM_L4_2X == XM_LIVE_BPF_CSUM_L4_2X, "csum flags");

struct xm_live {
	struct xm_live_bpf *l_skel;	/* program, maps */
	int l_prog_fd;			/* xm_live */
	int l_state_fd;			/* per-CPU counters */
	int l_ifindex;			/* redirect target */
	int l_ncpus;			/* possible CPUs (per-CPU values) */
	uint32_t l_batch;		/* batch_size of every run */
	uint32_t l_min_len;		/* shortest frame the options fit */
	uint32_t l_max_size;		/* largest size of the cycle */
	char l_name[IF_NAMESIZE];	/* for messages */
};

/* Checks an offset + length the program writes; grows *min_len. */
static bool xm_live_off_ok(uint32_t off, uint32_t len, uint32_t *min_len)
{
	if ((off & 1) || off > XM_LIVE_MAX_FRAME - len)
		return false;
	if (off + len > *min_len)
		*min_len = off + len;
	return true;
}

/*
 * Validates opts and fills the program's configuration.
 * @return 0 or -EINVAL, after a message naming the field.
 */
static int xm_live_config(const char *ifname, const struct xm_live_opts *o,
			  struct xm_live_bpf_cfg *c, uint32_t *min_len)
{
	uint64_t div = 1;

	*min_len = 14;	/* ETH_HLEN */
	if (!o)
		return 0;
	if (o->batch_size > XM_LIVE_MAX_BATCH) {
		xm_pr_warn("live %s: batch_size %u above %u\n", ifname,
			   o->batch_size, XM_LIVE_MAX_BATCH);
		return -EINVAL;
	}
	if (o->stamp_off &&
	    !xm_live_off_ok(o->stamp_off, XM_LIVE_STAMP_LEN, min_len)) {
		xm_pr_warn("live %s: bad stamp_off %u (even, at most %u)\n",
			   ifname, o->stamp_off,
			   XM_LIVE_MAX_FRAME - XM_LIVE_STAMP_LEN);
		return -EINVAL;
	}
	if (o->seq_off && !xm_live_off_ok(o->seq_off, 4, min_len)) {
		xm_pr_warn("live %s: bad seq_off %u (even, at most %u)\n",
			   ifname, o->seq_off, XM_LIVE_MAX_FRAME - 4);
		return -EINVAL;
	}
	if ((o->ip_csum_off && !xm_live_off_ok(o->ip_csum_off, 2, min_len)) ||
	    (o->l4_csum_off && !xm_live_off_ok(o->l4_csum_off, 2, min_len))) {
		xm_pr_warn("live %s: bad checksum offset (ip %u, l4 %u)\n",
			   ifname, o->ip_csum_off, o->l4_csum_off);
		return -EINVAL;
	}
	if (o->nfields > XM_LIVE_MAX_FIELDS) {
		xm_pr_warn("live %s: %u fields, at most %u\n", ifname,
			   o->nfields, XM_LIVE_MAX_FIELDS);
		return -EINVAL;
	}
	if (o->flow_order && (o->nflows < 2 || o->nflows > XM_LIVE_MAX_FLOWS)) {
		xm_pr_warn("live %s: a flow order needs 2..%u flows, not %u\n",
			   ifname, XM_LIVE_MAX_FLOWS, o->nflows);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < o->nfields; i++) {
		const struct xm_live_field *f = &o->fields[i];

		if ((f->lf_len != 2 && f->lf_len != 4) || f->lf_count == 0 ||
		    f->lf_spare ||
		    (f->lf_flags & ~(XM_LIVE_F_CSUM_IP | XM_LIVE_F_CSUM_L4)) ||
		    !xm_live_off_ok(f->lf_off, f->lf_len, min_len) ||
		    (f->lf_len == 2 &&
		     (uint64_t)f->lf_base + f->lf_count - 1 > 0xffff)) {
			xm_pr_warn("live %s: bad field %u (offset %u, length %u,"
				   " count %u, flags 0x%x)\n", ifname, i,
				   f->lf_off, f->lf_len, f->lf_count,
				   f->lf_flags);
			return -EINVAL;
		}
		c->fields[i].off = f->lf_off;
		c->fields[i].len = f->lf_len;
		c->fields[i].base = f->lf_base;
		c->fields[i].count = f->lf_count;
		/* past 2^32 flows later digits never change: keep div valid */
		c->fields[i].div = div > UINT32_MAX ? UINT32_MAX : (uint32_t)div;
		c->fields[i].flags = f->lf_flags;
		div *= f->lf_count;
	}
	if (o->nsizes > XM_LIVE_MAX_SIZES || (o->nsizes && !o->size_cycle) ||
	    o->nlens > XM_LIVE_MAX_LENS || (o->nlens && !o->nsizes)) {
		xm_pr_warn("live %s: bad size cycle (%u sizes, %u length "
			   "fields)\n", ifname, o->nsizes, o->nlens);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < o->nlens; i++) {
		const struct xm_live_len *l = &o->lens[i];

		if (l->ll_spare || (l->ll_flags & ~(XM_LIVE_F_CSUM_IP |
			XM_LIVE_F_CSUM_L4 | XM_LIVE_F_CSUM_L4_2X)) ||
		    !xm_live_off_ok(l->ll_off, 2, min_len)) {
			xm_pr_warn("live %s: bad length field %u (offset %u, "
				   "flags 0x%x)\n", ifname, i, l->ll_off,
				   l->ll_flags);
			return -EINVAL;
		}
		c->lens[i].off = l->ll_off;
		c->lens[i].sub = l->ll_sub;
		c->lens[i].flags = l->ll_flags;
	}
	c->nsizes = o->nsizes;
	c->nlens = o->nlens;
	c->stamp_off = o->stamp_off;
	c->seq_off = o->seq_off;
	c->ip_csum_off = o->ip_csum_off;
	c->l4_csum_off = o->l4_csum_off;
	c->l4_udp = o->l4_udp;
	c->stream = o->stream;
	c->nflows = o->nflows;
	c->ordered = o->flow_order != NULL;
	c->nfields = o->nfields;
	return 0;
}

struct xm_live *xm_live_open(const char *ifname,
			     const struct xm_live_opts *opts)
{
	struct xm_live_bpf_cfg cfg = {};
	struct xm_live *l;
	uint32_t min_len;
	int err;

	if (!ifname || !XM_OPTS_VALID(opts, xm_live_opts)) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	snprintf(l->l_name, sizeof(l->l_name), "%s", ifname);
	l->l_ifindex = (int)if_nametoindex(ifname);
	if (l->l_ifindex == 0) {
		err = -ENODEV;
		xm_pr_warn("live: no interface '%s' in this namespace\n",
			   ifname);
		goto out_free;
	}
	err = xm_live_config(ifname, opts, &cfg, &min_len);
	if (err)
		goto out_free;
	cfg.ifindex = (uint32_t)l->l_ifindex;
	l->l_min_len = min_len;
	for (uint32_t i = 0; opts && i < cfg.nsizes; i++) {
		uint32_t sz = opts->size_cycle[i];

		if (sz < min_len || sz > XM_LIVE_MAX_FRAME) {
			xm_pr_warn("live %s: size_cycle[%u] = %u outside %u..%u"
				   "\n", ifname, i, sz, min_len,
				   XM_LIVE_MAX_FRAME);
			err = -EINVAL;
			goto out_free;
		}
		if (sz > l->l_max_size)
			l->l_max_size = sz;
	}
	l->l_batch = opts && opts->batch_size ? opts->batch_size :
		     XM_LIVE_DEF_BATCH;
	l->l_ncpus = libbpf_num_possible_cpus();
	if (l->l_ncpus <= 0) {
		err = l->l_ncpus ? l->l_ncpus : -EINVAL;
		goto out_free;
	}

	l->l_skel = xm_live_bpf__open();
	if (!l->l_skel) {
		err = -errno;
		xm_pr_warn("live %s: cannot open the BPF object: %s\n", ifname,
			   strerror(-err));
		goto out_free;
	}
	l->l_skel->rodata->cfg = cfg;
	if (cfg.ordered) {
		err = bpf_map__set_max_entries(l->l_skel->maps.xm_live_order,
					       cfg.nflows);
		if (err)
			goto out_skel;
	}
	if (cfg.nsizes) {
		err = bpf_map__set_max_entries(l->l_skel->maps.xm_live_sizes,
					       cfg.nsizes);
		if (err)
			goto out_skel;
	}
	err = xm_live_bpf__load(l->l_skel);
	if (err) {
		xm_pr_warn("live %s: cannot load the live-frames program: %s\n",
			   ifname, strerror(-err));
		goto out_skel;
	}
	l->l_prog_fd = bpf_program__fd(l->l_skel->progs.xm_live);
	l->l_state_fd = bpf_map__fd(l->l_skel->maps.xm_live_state);
	if (cfg.ordered) {
		int fd = bpf_map__fd(l->l_skel->maps.xm_live_order);

		for (uint32_t k = 0; k < cfg.nflows; k++) {
			uint32_t v = opts->flow_order[k];

			if (v >= cfg.nflows) {
				xm_pr_warn("live %s: flow_order[%u] = %u, not "
					   "below %u\n", ifname, k, v,
					   cfg.nflows);
				err = -EINVAL;
				goto out_skel;
			}
			if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) {
				err = -errno;
				goto out_skel;
			}
		}
	}
	if (cfg.nsizes) {
		int fd = bpf_map__fd(l->l_skel->maps.xm_live_sizes);

		for (uint32_t k = 0; k < cfg.nsizes; k++) {
			uint32_t v = opts->size_cycle[k];

			if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) {
				err = -errno;
				goto out_skel;
			}
		}
	}
	return l;

out_skel:
	xm_live_bpf__destroy(l->l_skel);
out_free:
	free(l);
	errno = -err;
	return NULL;
}

/* A template the options fit: long enough, the largest size, one page. */
static bool xm_live_frame_ok(const struct xm_live *l, const void *frame,
			     uint32_t len)
{
	return frame && len >= l->l_min_len && len >= l->l_max_size &&
	       len <= XM_LIVE_MAX_FRAME;
}

int xm_live_send(struct xm_live *l, const void *frame, uint32_t len,
		 uint32_t count)
{
	if (!l || !xm_live_frame_ok(l, frame, len) || count == 0 ||
	    count > INT32_MAX)
		return -EINVAL;

	LIBBPF_OPTS(bpf_test_run_opts, ro,
		.data_in = frame,
		.data_size_in = len,
		.repeat = (int)count,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		.batch_size = l->l_batch,
	);
	if (bpf_prog_test_run_opts(l->l_prog_fd, &ro))
		return -errno;
	return 0;
}

static uint64_t xm_live_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Frames of the next call: what the rate so far sends in call_ns, cut to
 * what is left of the time limit, within the bounds of a call.
 */
static uint32_t xm_live_call_size(uint64_t sent, uint64_t t_ns,
				  uint64_t call_ns, uint64_t duration_ns)
{
	double rate, want;

	if (sent == 0 || t_ns == 0)
		return XM_LIVE_RUN_MIN_CALL;
	rate = (double)sent / (double)t_ns;	/* frames per ns */
	want = rate * (double)call_ns;
	if (duration_ns) {
		double left = duration_ns > t_ns ?
			      rate * (double)(duration_ns - t_ns) : 0;

		if (left < want)
			want = left;
	}
	if (want < XM_LIVE_RUN_MIN_CALL)
		return XM_LIVE_RUN_MIN_CALL;
	if (want > XM_LIVE_RUN_MAX_CALL)
		return XM_LIVE_RUN_MAX_CALL;
	return (uint32_t)want;
}

int xm_live_run(struct xm_live *l, const void *frame, uint32_t len,
		const struct xm_live_run_opts *opts,
		struct xm_live_run_stats *st)
{
	const volatile sig_atomic_t *stop;
	uint64_t count, duration, call_ns, t0, now;
	int err = 0;

	if (!l || !st || !opts || !XM_OPTS_VALID(opts, xm_live_run_opts) ||
	    !xm_live_frame_ok(l, frame, len))
		return -EINVAL;
	count = opts->count;
	duration = opts->duration_ns;
	call_ns = opts->call_ns ? opts->call_ns : XM_LIVE_RUN_CALL_NS;
	stop = opts->stop;
	if (!count && !duration)
		return -EINVAL;
	memset(st, 0, sizeof(*st));

	t0 = now = xm_live_now_ns();
	while (!(stop && *stop) && (!count || st->rs_sent < count)) {
		uint32_t n = xm_live_call_size(st->rs_sent, now - t0, call_ns,
					       duration);

		if (count && count - st->rs_sent < n)
			n = (uint32_t)(count - st->rs_sent);
		st->rs_calls++;
		err = xm_live_send(l, frame, len, n);
		now = xm_live_now_ns();
		if (err)
			break;
		st->rs_sent += n;
		if (duration && now - t0 >= duration)
			break;
	}
	st->rs_elapsed_ns = now - t0;
	return err;
}

/*
 * The per-CPU frame counts, read into a calloc()ed array of l_ncpus
 * values (the caller's to free).  @return 0 or -errno.
 */
static int xm_live_read_pcpu(struct xm_live *l,
			     struct xm_live_bpf_pcpu **vals)
{
	uint32_t zero = 0;

	*vals = calloc((size_t)l->l_ncpus, sizeof(**vals));
	if (!*vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(l->l_state_fd, &zero, *vals)) {
		int err = -errno;

		free(*vals);
		*vals = NULL;
		return err;
	}
	return 0;
}

int xm_live_frames(struct xm_live *l, uint64_t *frames)
{
	struct xm_live_bpf_pcpu *vals;
	int err;

	if (!l || !frames)
		return -EINVAL;
	err = xm_live_read_pcpu(l, &vals);
	if (err)
		return err;
	*frames = 0;
	for (int i = 0; i < l->l_ncpus; i++)
		*frames += vals[i].seq;
	free(vals);
	return 0;
}

int xm_live_cpu_frames(struct xm_live *l, uint64_t *frames, unsigned int n)
{
	struct xm_live_bpf_pcpu *vals;
	int err;

	if (!l || (!frames && n))
		return -EINVAL;
	err = xm_live_read_pcpu(l, &vals);
	if (err)
		return err;
	for (unsigned int i = 0; i < n && i < (unsigned int)l->l_ncpus; i++)
		frames[i] = vals[i].seq;
	free(vals);
	return l->l_ncpus;
}

int _xm_live_ifindex(const struct xm_live *l)
{
	return l ? l->l_ifindex : -EINVAL;
}

void xm_live_close(struct xm_live *l)
{
	if (!l)
		return;
	xm_live_bpf__destroy(l->l_skel);
	free(l);
}
