// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_passive.c - the worker of xmbuf-capture's copying paths (passive
 * and --at-xdp; the programs and their ring buffer are cap_copy.c).  It
 * takes each copy into an mbuf from the zones (xm_getm2: one cluster, or
 * a chain of page clusters for a GSO super-packet), gathers a batch, and
 * hands it to the inline path's own cap_worker_process: filter, -c,
 * stamps, the writer, its rotation and the counters are one code.
 *
 *   ring buffer --cap_copy_drain--> on_rec: mbuf <- copy, ext <- (wire
 *   length, direction, verdict) --256--> cap_worker_process --> file
 *
 * The copy costs one memcpy more than AF_XDP's frames, and buys what
 * AF_XDP cannot: the host keeps every packet.  The UMEM is an ordinary
 * buffer here (no socket registers it), without hugepages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cap_run.h"

#define CAP_PASSIVE_CLUSTERS	4096	/* a batch of 256 full frames */
#define CAP_PASSIVE_PAGES	8192	/* ... or of GSO super-packets */

struct cap_passive {
	struct cap_worker *w;		/* the one worker */
	struct xm_mbuf *pkts[CAP_BATCH_PKTS];	/* its pending batch */
	struct cap_pkt_ext ext[CAP_BATCH_PKTS];
	unsigned int n;
	_Atomic uint64_t nombuf;	/* no mbuf for a copy */
};

/* A copy into an mbuf chain from the zones.  @return it, or NULL. */
static struct xm_mbuf *rec_mbuf(struct xm_umem *u, const uint8_t *data,
				uint32_t len)
{
	struct xm_mbuf *m = xm_getm2(u, NULL, len ? (int)len : 1, XM_NOWAIT,
				     XM_MT_DATA, XM_PKTHDR);
	uint32_t off = 0;

	if (!m)
		return NULL;
	for (struct xm_mbuf *s = m; s && off < len; s = s->m_next) {
		uint32_t room = (uint32_t)xm_trailingspace(s);
		uint32_t n = len - off < room ? len - off : room;

		memcpy(xm_mtod(s, uint8_t *) + s->m_len, data + off, n);
		s->m_len += (int32_t)n;
		off += n;
	}
	m->m_pkthdr.len = len;
	return m;
}

static void flush(struct cap_passive *pv)
{
	if (!pv->n)
		return;
	cap_worker_process(pv->w, pv->pkts, pv->n, pv->ext);
	pv->n = 0;
}

static int on_rec(void *ctx, const struct cap_copy_rec *r,
		  const uint8_t *data)
{
	struct capture *c = ctx;
	struct cap_passive *pv = c->pv;
	struct xm_mbuf *m = rec_mbuf(c->u, data, r->caplen);

	if (!m) {
		atomic_fetch_add_explicit(&pv->nombuf, 1, memory_order_relaxed);
		return 0;
	}
	m->m_flags |= XM_TSTMP;
	m->m_pkthdr.rcv_tstamp = r->ts_ns;
	pv->ext[pv->n].wirelen = r->wirelen;
	pv->ext[pv->n].dir = r->dir;
	pv->ext[pv->n].verdict = r->verdict;
	pv->pkts[pv->n++] = m;
	if (pv->n == CAP_BATCH_PKTS) {
		flush(pv);
		/* a ring that never runs dry must not hold the stop up */
		if (xm_ex_stopping())
			return -ECANCELED;
	}
	return 0;
}

/*
 * The worker sleeps until the programs wake it (an eighth of the ring,
 * at most 256 KiB, waits: xm_cap.bpf.c) or CAP_POLL_MS pass, then takes
 * all there is: thousands of copies per wake-up in steady traffic, in
 * full batches, and a CPU left to the host's receivers (the benchmark's
 * UDP sink shares it).  It used to look again at once while copies came
 * (and spin, yielding, for CAP_SPIN_NS after): a busy CPU for a handful
 * of copies a look, each handful a batch and a write of its own.
 * --busy-poll keeps looking without sleeping.
 */
int cap_passive_worker_main(void *arg)
{
	struct cap_worker *w = arg;
	struct capture *c = w->c;
	struct cap_passive *pv = c->pv;

	pv->w = w;
	w->clock_off = c->clock_off;
	w->clock_checked = cap_clock_ns(CLOCK_MONOTONIC);
	while (!xm_ex_stopping()) {
		cap_copy_drain(c->cp, c->a->ex.busy_poll ? 0 : CAP_POLL_MS);
		flush(pv);
	}
	/* what the ring holds at the stop is written */
	cap_copy_drain(c->cp, 0);
	flush(pv);
	xm_umem_cache_flush(c->u);
	return 0;
}

int cap_passive_open(struct capture *c)
{
	XM_OPTS(xm_umem_opts, uo,
		.nmbclusters = CAP_PASSIVE_CLUSTERS,
		.nmbjumbop = CAP_PASSIVE_PAGES,
		.nmbjumbo9 = 16, .nmbjumbo16 = 16,
		/* no socket registers it: no hugepages from the machine's
		 * pool for a copy buffer */
		.flags = XM_UMEM_F_NO_HUGEPAGES);
	struct cap_copy_opts o = {
		.ifname = c->a->ex.ifname,
		.snaplen = c->a->snaplen,
		.ring_kib = c->a->buffer_kib,
		.dirs = c->a->dirs,
		.at_xdp = c->a->at_xdp,
		.verbose = c->a->ex.verbose,
		.on_rec = on_rec,
		.ctx = c,
	};

	c->pv = calloc(1, sizeof(*c->pv));
	if (!c->pv)
		return xm_ex_error("out of memory");
	c->u = xm_umem_create(&uo);
	if (!c->u)
		return xm_ex_error("cannot create the UMEM: %s",
				   strerror(errno));
	if (cap_copy_open(&c->cp, &o))
		return XM_EX_RUNTIME;
	c->hook_name = cap_copy_hook(c->cp);
	snprintf(c->xdp_target, sizeof(c->xdp_target), "%s",
		 cap_copy_target(c->cp));
	c->nworkers = 1;
	snprintf(c->mode_name, sizeof(c->mode_name), "%s",
		 c->path == CAP_PATH_AT_XDP ? "at-xdp" : "passive");
	return 0;
}

void cap_passive_close(struct capture *c)
{
	cap_copy_detach(c->cp);
}

void cap_passive_free(struct capture *c)
{
	cap_copy_close(c->cp);
	c->cp = NULL;
	if (c->pv) {
		/* a batch a failed start left (none after a run) */
		if (c->pv->n)
			xm_freem_bulk(c->pv->pkts, c->pv->n);
		free(c->pv);
	}
	c->pv = NULL;
}

int cap_passive_stats(struct capture *c, struct cap_kstats *ks)
{
	cap_copy_stats(c->cp, ks);
	if (c->pv)
		ks->nombuf = atomic_load_explicit(&c->pv->nombuf,
						  memory_order_relaxed);
	return 0;
}
