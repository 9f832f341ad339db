/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * live_sink.c - the counting sink of the live-frames engine: an XDP
 * program (bpf/xm_live_sink.bpf.c) on the interface where a measurement's
 * traffic comes back, counting every frame and those with a given
 * destination MAC, and dropping them all.
 *
 *   xm_live_sink_open(ifname, opts)
 *     load the program with the MAC in .rodata, attach it through a BPF
 *     link (driver mode where the driver has it)
 *   xm_live_sink_read(s, &frames, &matched)
 *     sum the per-CPU counters
 *   xm_live_sink_close(s)
 *     destroy the link: the interface is as it was
 *
 * Why a link and not a netlink attachment: a link belongs to the process
 * (its file descriptor), so a benchmark that dies leaves nothing on the
 * interface for the next run to trip over.
 *
 * Why the sink counts the destination MAC apart: a forwarder under test
 * swaps MACs, so its frames come back with the source's MAC as
 * destination; frames that bypassed it (or the stack's own chatter) do
 * not, and are counted only in frames.
 *
 * KPI: xm_live_sink_open, xm_live_sink_read, xm_live_sink_close.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xm_common_int.h"
#include "xm_live.h"

#include "../bpf/xm_live_shared.h"
#include "xm_live_sink.skel.h"

struct xm_live_sink {
	struct xm_live_sink_bpf *s_skel;	/* program, counters */
	struct bpf_link *s_link;		/* the attachment */
	int s_state_fd;				/* per-CPU counters */
	int s_ncpus;				/* possible CPUs */
};

struct xm_live_sink *xm_live_sink_open(const char *ifname,
				       const struct xm_live_sink_opts *opts)
{
	struct xm_live_bpf_sink_cfg cfg = {};
	struct xm_live_sink *s;
	int ifindex, err;

	if (!ifname || !XM_OPTS_VALID(opts, xm_live_sink_opts)) {
		errno = EINVAL;
		return NULL;
	}
	if (opts && opts->match_dst) {
		memcpy(cfg.dst, opts->match_dst, sizeof(cfg.dst));
		cfg.match = 1;
	}
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0) {
		xm_pr_warn("live sink: no interface '%s' in this namespace\n",
			   ifname);
		errno = ENODEV;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->s_ncpus = libbpf_num_possible_cpus();
	if (s->s_ncpus <= 0) {
		err = s->s_ncpus ? s->s_ncpus : -EINVAL;
		goto out_free;
	}
	s->s_skel = xm_live_sink_bpf__open();
	if (!s->s_skel) {
		err = -errno;
		xm_pr_warn("live sink %s: cannot open the BPF object: %s\n",
			   ifname, strerror(-err));
		goto out_free;
	}
	s->s_skel->rodata->sink_cfg = cfg;
	err = xm_live_sink_bpf__load(s->s_skel);
	if (err) {
		xm_pr_warn("live sink %s: cannot load the sink program: %s\n",
			   ifname, strerror(-err));
		goto out_skel;
	}
	s->s_state_fd = bpf_map__fd(s->s_skel->maps.xm_live_sink_state);
	s->s_link = bpf_program__attach_xdp(s->s_skel->progs.xm_live_sink,
					    ifindex);
	if (!s->s_link) {
		err = -errno;
		xm_pr_warn("live sink %s: cannot attach: %s%s\n", ifname,
			   strerror(-err), err == -EBUSY ?
			   " (another XDP program is attached)" : "");
		goto out_skel;
	}
	return s;

out_skel:
	xm_live_sink_bpf__destroy(s->s_skel);
out_free:
	free(s);
	errno = -err;
	return NULL;
}

int xm_live_sink_read(struct xm_live_sink *s, uint64_t *frames,
		      uint64_t *matched)
{
	struct xm_live_bpf_sink_pcpu *vals;
	uint64_t f = 0, m = 0;
	uint32_t zero = 0;
	int err = 0;

	if (!s)
		return -EINVAL;
	vals = calloc((size_t)s->s_ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->s_state_fd, &zero, vals)) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < s->s_ncpus; i++) {
		f += vals[i].frames;
		m += vals[i].matched;
	}
	if (frames)
		*frames = f;
	if (matched)
		*matched = m;
out:
	free(vals);
	return err;
}

void xm_live_sink_close(struct xm_live_sink *s)
{
	if (!s)
		return;
	bpf_link__destroy(s->s_link);
	xm_live_sink_bpf__destroy(s->s_skel);
	free(s);
}
