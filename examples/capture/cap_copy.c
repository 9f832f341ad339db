// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_copy.c - xmbuf-capture's copying programs (xm_cap.bpf.c) loaded
 * and attached for the passive path (tcx ingress and egress) and for
 * --at-xdp (fentry/fexit on the XDP program attached to the interface);
 * they copy frames into one BPF ring buffer and never change what
 * happens to a frame.  cap_passive.c drains it into mbufs.
 *
 *   tcx ingress (first)  --+
 *   tcx egress (last)    --+--> xm_cap_ring --ring_buffer__consume-->
 *   fentry/fexit XDP     --+      worker: mbuf <- copy, batch of 256,
 *                                 cap_worker_process (filter, write)
 *
 * Why tcx, measured (tests/bench/capture.sh, README): the hooks see both
 * directions in the same form (the Ethernet frame; GSO super-packets at
 * egress, as tcpdump shows them), they do not contend with an XDP program
 * on the interface (an xmbuf-lb keeps its own), and a tcx link is owned
 * by the process: the kernel takes it off when the last descriptor goes,
 * at any exit, SIGKILL included, so nothing is pinned and nothing is
 * left.  Ingress is attached first in the chain (what arrives, before
 * another program can drop it, as tcpdump's tap sees it), egress last
 * (what leaves, after other programs rewrote it).
 *
 * Where the kernel has no tcx, the programs go on a clsact qdisc as
 * direct-action filters (their return value TC_ACT_UNSPEC lets the next
 * filter decide); such a filter outlives a killed process, so it carries
 * a fixed handle and priority (CAP_TC_HANDLE) and the next start removes
 * a stale one before it attaches.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <linux/types.h>

#include "xm_example.h"

#include "cap_copy.h"
#include "cap_iface.h"
#include "cap_opts.h"
#include "xm_cap_shared.h"
#include "xm_cap.skel.h"

_Static_assert(CAP_DIR_IN == XM_CAP_DIR_IN && CAP_DIR_OUT == XM_CAP_DIR_OUT,
	       "-Q's directions are the records'");

#define CAP_TCX_INGRESS		46	/* enum bpf_attach_type (6.6+): */
#define CAP_TCX_EGRESS		47	/* not in every libc's linux/bpf.h */
#define CAP_F_BEFORE		(1u << 3)	/* BPF_F_BEFORE */
#define CAP_F_AFTER		(1u << 4)	/* BPF_F_AFTER */
#define CAP_TC_HANDLE		0x584d43	/* "XMC": clsact fallback */
#define CAP_TC_PRIO		0xc0		/* its priority */
#define CAP_RING_MIN		(1u << 18)	/* 256 KiB */
#define CAP_RING_DEFAULT	(1u << 25)	/* 32 MiB, as -B's default */
_Static_assert(sizeof(struct cap_copy_rec) == sizeof(struct xm_cap_rec),
	       "the callback's record is the ring's");

struct cap_copy {
	struct cap_copy_opts o;
	struct xm_cap_bpf *skel;
	struct ring_buffer *rb;
	int ep;				/* epoll, edge-triggered on the ring */
	int tcx_fd[2];			/* tcx links: in, out (-1: none) */
	struct bpf_link *trace[2];	/* fentry, fexit */
	int tc_attached[2];		/* clsact fallback: in, out */
	bool tc_hook_created;		/* the clsact qdisc is ours */
	int xdp_fd;			/* --at-xdp: the traced program */
	int ifindex;
	const char *hook;		/* cap_copy_hook */
	char target[160];		/* cap_copy_target */
	struct cap_kstats last;		/* counters read at detach */
	bool detached;
	uint64_t bad;			/* malformed ring record */
};

/* ---------------------------------------------------- libbpf messages */

/* The last warning libbpf (or the kernel's verifier log) printed: a
 * refusal's reason, for the error message. */
static char cap_bpf_last[256];
static bool cap_bpf_verbose;

static int cap_bpf_print(enum libbpf_print_level lvl, const char *fmt,
			 va_list ap)
{
	char line[sizeof(cap_bpf_last)];
	size_t n;

	if (cap_bpf_verbose) {
		va_list aq;

		va_copy(aq, ap);
		vfprintf(stderr, fmt, aq);
		va_end(aq);
	}
	if (lvl == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (n)
		memcpy(cap_bpf_last, line, n + 1);
	return 0;
}

/* ------------------------------------------------------------- attach */

static uint32_t ring_size(uint32_t kib)
{
	uint64_t want = kib ? (uint64_t)kib * 1024 : CAP_RING_DEFAULT;
	uint32_t sz = CAP_RING_MIN;

	while (sz < want && sz < (1u << 30))
		sz <<= 1;
	return sz;
}

static int tcx_attach(struct cap_copy *pv, struct bpf_program *prog,
		      int slot, int type, unsigned int flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd;

	fd = bpf_link_create(bpf_program__fd(prog), pv->ifindex,
			     (enum bpf_attach_type)type, &lo);
	if (fd < 0)
		return -errno;
	pv->tcx_fd[slot] = fd;
	return 0;
}

/* The clsact fallback: hook, a stale filter of ours gone, attach. */
static int tc_attach(struct cap_copy *pv, struct bpf_program *prog,
		     int slot)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pv->ifindex,
		    .attach_point = slot ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, del, .handle = CAP_TC_HANDLE,
		    .priority = CAP_TC_PRIO);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = CAP_TC_HANDLE,
		    .priority = CAP_TC_PRIO, .prog_fd = bpf_program__fd(prog));
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err == 0)
		pv->tc_hook_created = true;
	else if (err != -EEXIST)
		return err;
	bpf_tc_detach(&hook, &del);	/* a killed run's, if any */
	err = bpf_tc_attach(&hook, &to);
	if (err)
		return err;
	pv->tc_attached[slot] = 1;
	return 0;
}

static void tc_detach(struct cap_copy *pv)
{
	for (int slot = 0; slot < 2; slot++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pv->ifindex,
			    .attach_point = slot ? BPF_TC_EGRESS :
						   BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, del, .handle = CAP_TC_HANDLE,
			    .priority = CAP_TC_PRIO);

		if (pv->tc_attached[slot])
			bpf_tc_detach(&hook, &del);
		pv->tc_attached[slot] = 0;
	}
	if (pv->tc_hook_created) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pv->ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&hook);
		pv->tc_hook_created = false;
	}
}

/* Ingress first in the chain, egress last (see the top of this file);
 * the clsact fallback where the kernel has no tcx. */
static int attach_tc(struct cap_copy *pv)
{
	struct bpf_program *progs[2] = { pv->skel->progs.xm_cap_tc_in,
					 pv->skel->progs.xm_cap_tc_out };
	static const int types[2] = { CAP_TCX_INGRESS, CAP_TCX_EGRESS };
	static const unsigned int flags[2] = { CAP_F_BEFORE, CAP_F_AFTER };
	static const unsigned int dirs[2] = { XM_CAP_DIR_IN, XM_CAP_DIR_OUT };
	int err;

	for (int slot = 0; slot < 2; slot++) {
		if (!(pv->o.dirs & dirs[slot]))
			continue;
		err = tcx_attach(pv, progs[slot], slot, types[slot],
				 flags[slot]);
		if (err == -EINVAL || err == -EOPNOTSUPP) {
			err = tc_attach(pv, progs[slot], slot);
			if (!err)
				pv->hook = "tc clsact";
		}
		if (err)
			return xm_ex_error("cannot attach the %s copy program "
					   "to '%s': %s", slot ? "egress" :
					   "ingress", pv->o.ifname,
					   strerror(-err));
	}
	return 0;
}

/*
 * --at-xdp: the program on the interface, its BTF and the name of its
 * entry function, which fentry/fexit attach to.  @return 0 or the exit
 * status (with the reason why not).
 */
static int find_xdp_target(struct cap_copy *pv,
			   char *fname, size_t flen)
{
	struct bpf_prog_info info;
	struct bpf_func_info finfo;
	uint32_t ilen = sizeof(info);
	unsigned int id;
	struct btf *btf;
	const struct btf_type *t;
	char pname[32];
	int err;

	err = cap_iface_xdp_prog(pv->ifindex, &id, pname, sizeof(pname));
	if (err)
		return xm_ex_error("cannot query the XDP program on '%s': %s",
				   pv->o.ifname, strerror(-err));
	if (!id)
		return xm_ex_error("--at-xdp: no XDP program is attached to "
				   "'%s' (capture without --at-xdp)",
				   pv->o.ifname);
	pv->xdp_fd = bpf_prog_get_fd_by_id(id);
	if (pv->xdp_fd < 0)
		return xm_ex_error("--at-xdp: cannot open XDP program %u on "
				   "'%s': %s", id, pv->o.ifname,
				   strerror(errno));
	memset(&info, 0, sizeof(info));
	memset(&finfo, 0, sizeof(finfo));
	info.nr_func_info = 1;
	info.func_info_rec_size = sizeof(finfo);
	info.func_info = (uint64_t)(uintptr_t)&finfo;
	if (bpf_obj_get_info_by_fd(pv->xdp_fd, &info, &ilen))
		return xm_ex_error("--at-xdp: cannot read XDP program %u: %s",
				   id, strerror(errno));
	if (!info.btf_id || !info.nr_func_info)
		return xm_ex_error("--at-xdp: the kernel cannot trace XDP "
				   "program %s (id %u) on '%s': it was loaded "
				   "without BTF, and fentry/fexit attach only "
				   "to a program with BTF", pname, id,
				   pv->o.ifname);
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return xm_ex_error("--at-xdp: cannot load the BTF of XDP "
				   "program %s (id %u): %s", pname, id,
				   strerror(errno));
	t = btf__type_by_id(btf, finfo.type_id);
	if (t)
		snprintf(fname, flen, "%s", btf__name_by_offset(btf,
								t->name_off));
	btf__free(btf);
	if (!t || !fname[0])
		return xm_ex_error("--at-xdp: XDP program %s (id %u) names no "
				   "entry function in its BTF", pname, id);
	snprintf(pv->target, sizeof(pv->target), "%s (id %u)",
		 fname, id);
	return 0;
}

static int attach_xdp(struct cap_copy *pv)
{
	struct bpf_program *p = pv->o.at_xdp == CAP_AT_XDP_EXIT ?
				pv->skel->progs.xm_cap_xdp_exit :
				pv->skel->progs.xm_cap_xdp_entry;
	struct bpf_link *l;

	l = bpf_program__attach_trace(p);
	if (!l)
		return xm_ex_error("--at-xdp: the kernel refused to attach "
				   "%s to XDP program %s: %s%s%s",
				   pv->o.at_xdp == CAP_AT_XDP_EXIT ? "fexit" :
				   "fentry", pv->target, strerror(errno),
				   cap_bpf_last[0] ? ": " : "", cap_bpf_last);
	pv->trace[0] = l;
	pv->hook = pv->o.at_xdp == CAP_AT_XDP_EXIT ? "XDP exit (fexit)" :
			"XDP entry (fentry)";
	return 0;
}

/* Opens the skeleton with only the programs the path needs. */
static int load(struct cap_copy *pv)
{
	bool xdp = pv->o.at_xdp != CAP_AT_XDP_NONE;
	char fname[128] = "";
	int err;

	pv->skel = xm_cap_bpf__open();
	if (!pv->skel)
		return xm_ex_error("cannot open the capture's BPF programs: "
				   "%s", strerror(errno));
	pv->skel->rodata->xm_cap_snaplen = pv->o.snaplen;
	bpf_map__set_max_entries(pv->skel->maps.xm_cap_ring,
				 ring_size(pv->o.ring_kib));
	/* an eighth of the ring, at most 256 KiB, wakes the reader */
	pv->skel->rodata->xm_cap_wakeup =
		ring_size(pv->o.ring_kib) / 8 < (256u << 10) ?
		ring_size(pv->o.ring_kib) / 8 : (256u << 10);
	bpf_program__set_autoload(pv->skel->progs.xm_cap_tc_in,
				  !xdp && (pv->o.dirs & XM_CAP_DIR_IN));
	bpf_program__set_autoload(pv->skel->progs.xm_cap_tc_out,
				  !xdp && (pv->o.dirs & XM_CAP_DIR_OUT));
	bpf_program__set_autoload(pv->skel->progs.xm_cap_xdp_entry,
				  xdp && pv->o.at_xdp == CAP_AT_XDP_ENTRY);
	bpf_program__set_autoload(pv->skel->progs.xm_cap_xdp_exit,
				  xdp && pv->o.at_xdp == CAP_AT_XDP_EXIT);
	if (xdp) {
		struct bpf_program *p = pv->o.at_xdp == CAP_AT_XDP_EXIT ?
					pv->skel->progs.xm_cap_xdp_exit :
					pv->skel->progs.xm_cap_xdp_entry;

		err = find_xdp_target(pv, fname, sizeof(fname));
		if (err)
			return err;
		err = bpf_program__set_attach_target(p, pv->xdp_fd, fname);
		if (err)
			return xm_ex_error("--at-xdp: %s: %s", pv->target,
					   strerror(-err));
	}
	cap_bpf_last[0] = '\0';
	err = xm_cap_bpf__load(pv->skel);
	if (err == -EPERM && xdp)
		return xm_ex_error("--at-xdp: the kernel does not allow "
				   "tracing programs here: loading %s for XDP "
				   "program %s on '%s' was refused with EPERM "
				   "before the verifier ran (a security policy: "
				   "lockdown or a BPF LSM); capture without "
				   "--at-xdp sees what the program passes",
				   pv->o.at_xdp == CAP_AT_XDP_EXIT ? "fexit" :
				   "fentry", pv->target, pv->o.ifname);
	if (err && xdp)
		return xm_ex_error("--at-xdp: the kernel refused %s on XDP "
				   "program %s: %s%s%s",
				   pv->o.at_xdp == CAP_AT_XDP_EXIT ? "fexit" :
				   "fentry", pv->target, strerror(-err),
				   cap_bpf_last[0] ? ": " : "", cap_bpf_last);
	if (err)
		return xm_ex_error("cannot load the capture's BPF programs: "
				   "%s%s%s", strerror(-err),
				   cap_bpf_last[0] ? ": " : "", cap_bpf_last);
	return 0;
}

/* ---------------------------------------------------------- open/close */

static int on_sample(void *ctx, void *data, size_t size)
{
	struct cap_copy *pv = ctx;
	const struct cap_copy_rec *r = data;

	if (size < sizeof(*r) || r->caplen > size - sizeof(*r) ||
	    r->caplen > r->wirelen) {
		pv->bad++;
		return 0;
	}
	return pv->o.on_rec(pv->o.ctx, r, (const uint8_t *)(r + 1));
}

int cap_copy_open(struct cap_copy **out, const struct cap_copy_opts *o)
{
	struct cap_copy *pv;
	int err;

	*out = pv = calloc(1, sizeof(*pv));
	if (!pv)
		return xm_ex_error("out of memory");
	pv->o = *o;
	pv->tcx_fd[0] = pv->tcx_fd[1] = -1;
	pv->xdp_fd = -1;
	pv->ep = -1;
	pv->hook = "tcx";
	pv->ifindex = (int)if_nametoindex(o->ifname);
	if (!pv->ifindex)
		return xm_ex_error("unknown interface '%s'", o->ifname);
	cap_bpf_verbose = o->verbose;
	libbpf_set_print(cap_bpf_print);
	err = load(pv);
	if (err)
		return -1;
	err = pv->o.at_xdp != CAP_AT_XDP_NONE ? attach_xdp(pv) :
						 attach_tc(pv);
	if (err)
		return -1;
	pv->rb = ring_buffer__new(bpf_map__fd(pv->skel->maps.xm_cap_ring),
				  on_sample, pv, NULL);
	if (!pv->rb)
		return xm_ex_error("cannot map the capture ring buffer: %s",
				   strerror(errno));
	/* see cap_copy_drain */
	pv->ep = epoll_create1(EPOLL_CLOEXEC);
	if (pv->ep < 0 || epoll_ctl(pv->ep, EPOLL_CTL_ADD,
				    bpf_map__fd(pv->skel->maps.xm_cap_ring),
				    &(struct epoll_event){
					    .events = EPOLLIN | EPOLLET }))
		return xm_ex_error("cannot wait on the capture ring buffer: "
				   "%s", strerror(errno));
	return 0;
}

const char *cap_copy_hook(const struct cap_copy *cp)
{
	return cp ? cp->hook : "";
}

const char *cap_copy_target(const struct cap_copy *cp)
{
	return cp ? cp->target : "";
}

/*
 * The wait is edge-triggered, on an epoll of our own: it ends when the
 * programs wake the reader (xm_cap_wakeup bytes wait and it is armed,
 * see xm_cap.bpf.c) or at the timeout, not as soon as one record
 * waits.  libbpf's ring_buffer__poll is level-triggered: in steady
 * traffic a few records always wait, so the reader never slept, took
 * them a handful at a time (a writev each) and kept its CPU busy, the
 * CPU the host's own receivers share (measured: tests/bench/capture.sh,
 * README).
 */
int cap_copy_drain(struct cap_copy *cp, int timeout_ms)
{
	struct epoll_event ev;
	int n;

	if (!cp->rb)
		return -EINVAL;
	if (timeout_ms) {
		/* a copy after this wakes us (xm_cap.bpf.c); the copies
		 * before it are taken at the timeout at the latest */
		__atomic_store_n(&cp->skel->bss->xm_cap_armed, 1,
				 __ATOMIC_SEQ_CST);
		if (epoll_wait(cp->ep, &ev, 1, timeout_ms) < 0 &&
		    errno != EINTR)
			return -errno;
	}
	n = ring_buffer__consume(cp->rb);
	return n == -EINTR ? 0 : n;
}

void cap_copy_stats(struct cap_copy *pv, struct cap_kstats *ks)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;
	int fd;

	memset(ks, 0, sizeof(*ks));
	if (!pv)
		return;
	if (pv->detached || !pv->skel || ncpu <= 0) {
		*ks = pv->last;
		ks->bad = pv->bad;
		return;
	}
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return;
	fd = bpf_map__fd(pv->skel->maps.xm_cap_stats);
	for (uint32_t k = 0; k < XM_CAP_ST_MAX; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
		switch (k) {
		case XM_CAP_ST_SEEN_IN: ks->seen_in = sum; break;
		case XM_CAP_ST_SEEN_OUT: ks->seen_out = sum; break;
		case XM_CAP_ST_LOST_IN: ks->lost_in = sum; break;
		case XM_CAP_ST_LOST_OUT: ks->lost_out = sum; break;
		case XM_CAP_ST_COPY_ERR: ks->copy_err = sum; break;
		}
	}
	free(v);
	ks->bad = pv->bad;
}

void cap_copy_detach(struct cap_copy *pv)
{
	if (!pv || pv->detached)
		return;
	for (int i = 0; i < 2; i++) {
		if (pv->tcx_fd[i] >= 0)
			close(pv->tcx_fd[i]);
		pv->tcx_fd[i] = -1;
		bpf_link__destroy(pv->trace[i]);
		pv->trace[i] = NULL;
	}
	tc_detach(pv);
	/* off the hooks, the counters stand still: the last read */
	cap_copy_stats(pv, &pv->last);
	pv->detached = true;
}

void cap_copy_close(struct cap_copy *pv)
{
	if (!pv)
		return;
	cap_copy_detach(pv);
	if (pv->ep >= 0)
		close(pv->ep);
	ring_buffer__free(pv->rb);
	xm_cap_bpf__destroy(pv->skel);
	if (pv->xdp_fd >= 0)
		close(pv->xdp_fd);
	free(pv);
}
