// SPDX-License-Identifier: BSD-2-Clause
/*
 * dropk.c - tests/bpf/xm_test_dropk.bpf.c as a test fixture (model in
 * dropk.h).
 *
 * The program's settings are read-only data, fixed at load, so each
 * attachment is a fresh skeleton; interface indexes are looked up inside
 * the namespace, where the names mean something.
 *
 * KPI:
 *   xm_dropk_attach, xm_dropk_detach, xm_dropk_read, xm_dropk_reset
 */
#include <errno.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dropk.h"
#include "xm_test_dropk.skel.h"

int xm_dropk_attach(struct xm_dropk *d, const struct xm_netns *ns,
		    const char *ifname, uint32_t k, const char *out_ifname)
{
	unsigned int in, out = 0;
	int err, saved;

	d->skel = NULL;
	d->link = NULL;
	err = xm_netns_enter(ns, &saved);
	if (err)
		return err;
	in = if_nametoindex(ifname);
	if (out_ifname)
		out = if_nametoindex(out_ifname);
	if (!in || (out_ifname && !out)) {
		err = -ENODEV;
		goto out_leave;
	}
	d->skel = xm_test_dropk_bpf__open();
	if (!d->skel) {
		err = -errno;
		goto out_leave;
	}
	d->skel->rodata->k = k;
	d->skel->rodata->out_ifindex = out;
	err = xm_test_dropk_bpf__load(d->skel);
	if (err)
		goto out_skel;
	d->link = bpf_program__attach_xdp(d->skel->progs.xm_test_dropk,
					  (int)in);
	if (!d->link) {
		err = -errno;
		goto out_skel;
	}
	goto out_leave;
out_skel:
	xm_test_dropk_bpf__destroy(d->skel);
	d->skel = NULL;
out_leave:
	xm_netns_leave(saved);
	return err;
}

void xm_dropk_detach(struct xm_dropk *d)
{
	bpf_link__destroy(d->link);
	d->link = NULL;
	xm_test_dropk_bpf__destroy(d->skel);
	d->skel = NULL;
}

int xm_dropk_read(const struct xm_dropk *d, uint32_t idx, uint64_t *v)
{
	*v = 0;
	if (!d->skel || idx >= XM_DROPK_NCOUNTERS)
		return -ENOENT;
	if (bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.xm_dropk_cnt), &idx,
				v) != 0)
		return -errno;
	return 0;
}

int xm_dropk_size(const struct xm_dropk *d, uint32_t len, uint64_t *v)
{
	*v = 0;
	if (!d->skel)
		return -ENOENT;
	if (bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.xm_dropk_sizes),
				&len, v) != 0)
		return -errno;
	return 0;
}

int xm_dropk_reset(const struct xm_dropk *d)
{
	uint64_t zero = 0;
	uint32_t nsizes;

	if (!d->skel)
		return -ENOENT;
	for (uint32_t i = 0; i < XM_DROPK_NCOUNTERS; i++)
		if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.xm_dropk_cnt),
					&i, &zero, BPF_ANY) != 0)
			return -errno;
	nsizes = bpf_map__max_entries(d->skel->maps.xm_dropk_sizes);
	for (uint32_t i = 0; i < nsizes; i++)
		if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.xm_dropk_sizes),
					&i, &zero, BPF_ANY) != 0)
			return -errno;
	return 0;
}
