/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_port_datapath.c - the port's data path between the rings and the
 * mbuf layer, on rings in ordinary memory (the test plays the kernel):
 *
 *   RX wrap      _xm_rxframe_port_ring: the lent bit of each frame
 *                checked and cleared in the same pass as the wrap; the
 *                header it writes, on a record's first RX use and after
 *                it; where a run stops; a frame it refuses
 *   recycle      _xm_mbuf_recycle: which completed mbufs give their frame
 *                straight to a fill ring, and up to what room
 *   reap         xm_port_tx_complete on a port built in memory:
 *                completions in order (batches past XM_REAP_BATCH),
 *                out of order (released only from the head), and a
 *                completion for nothing in flight
 *
 * Every test ends with the umem's frame-conservation audit: each frame
 * is in its zone or held exactly once.  No socket, no root.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mbuf_test.h"
#include "xm_port_int.h"
#include "xm_umem_int.h"

TestSuite(port_datapath, .init = mt_setup, .fini = mt_teardown,
	  .timeout = 60);

#define RING		32		/* entries of the fake rings */
#define SHIFT		11		/* 2 KiB chunks, the default */

static struct xm_zone *clust(void)
{
	return xm_umem_zone(tu, XM_ZONE_CLUST);
}

static uint64_t off_of(const void *p)
{
	return xm_umem_addr2off(tu, p);
}

static uint64_t nchunks(void)
{
	return xm_umem_size(tu) >> SHIFT;
}

static uint64_t *bitmap_new(void)
{
	uint64_t *b = calloc((nchunks() + 63) / 64, sizeof(uint64_t));

	cr_assert_not_null(b);
	return b;
}

static bool bit_of(const uint64_t *b, const void *frame)
{
	uint64_t i = off_of(frame) >> SHIFT;

	return b[i / 64] >> (i % 64) & 1;
}

static void bit_set(uint64_t *b, const void *frame)
{
	uint64_t i = off_of(frame) >> SHIFT;

	b[i / 64] |= 1ULL << (i % 64);
}

/* A frame of the cluster zone, "on the fill ring": lent. */
static char *lend(uint64_t *lent)
{
	char *f = xm_cljget(tu, NULL, XM_NOWAIT, XM_MCLBYTES);

	cr_assert_not_null(f);
	bit_set(lent, f);
	return f;
}

/* What xm_rxframe(..., XM_PKTHDR) writes, and the RX run's rcv fields. */
static void assert_rx_header(const struct xm_mbuf *m, const char *frame,
			     uint32_t off, uint32_t len, uint16_t port,
			     uint16_t queue)
{
	const struct xm_pkthdr *h = &m->m_pkthdr;

	cr_assert_eq(m->m_ext.ext_buf, frame);
	cr_assert_eq((void *)m, xm_umem_frame_meta(tu, off_of(frame)),
		     "not the frame's paired header");
	cr_assert_null(m->m_next);
	cr_assert_null(m->m_nextpkt);
	cr_assert_eq(m->m_data, frame + off);
	cr_assert_eq(m->m_umem, tu);
	cr_assert_eq(m->m_len, (int32_t)len);
	cr_assert_eq(m->m_flags, XM_PKTHDR | XM_EXT | XM_PAIRED);
	cr_assert_eq(m->m_type, XM_MT_DATA);
	cr_assert_eq(h->len, len);
	cr_assert_eq(h->flowid, 0);
	cr_assert_eq(h->rcv_tstamp, 0);
	cr_assert_eq(h->rcvport, port);
	cr_assert_eq(h->rcvqueue, queue);
	cr_assert_eq(h->ether_vtag, 0);
	cr_assert_eq(h->rsstype, 0);
	cr_assert_eq(h->nsegs, 1);
	cr_assert_eq(h->csum_flags, 0);
	cr_assert_eq(h->pkt_spare, 0);
	cr_assert_eq(m->m_ext.ext_type, XM_EXT_RXFRAME);
	cr_assert_eq(m->m_ext.ext_flags, XM_EXT_FLAG_EMBREF);
	cr_assert_eq(m->m_ext.ext_count, 1);
	cr_assert_eq(m->m_ext.ext_size, _xm_zone_stride(clust()));
	cr_assert_eq(m->m_ext.ext_arg1, clust());
	cr_assert_null(m->m_ext.ext_free);
}

/* ---------------------------------------------------------- RX wrap */

/*
 * A run across the ring's end, twice over the same frames: first on
 * records never used for an RX frame (their storage fields are written),
 * then on records that were (only the count is; whatever a previous
 * packet left in the header is not seen).  Each bit is cleared.
 */
Test(port_datapath, rx_wrap_checks_and_clears_the_lent_bits)
{
	enum { N = 12 };
	struct xm_rxdesc ring[RING];
	struct xm_mbuf *out[N];
	uint64_t *lent = bitmap_new();
	char *frames[N];

	for (int i = 0; i < N; i++)
		frames[i] = lend(lent);
	for (int round = 0; round < 2; round++) {
		struct xm_rxrun r = {
			.ring = ring, .first = RING - 5, .mask = RING - 1,
			.lent = lent, .nchunks = nchunks(),
			.rcv = 3 | (uint32_t)7 << 16,
		};
		uint64_t bytes = 0;

		for (int i = 0; i < N; i++) {
			struct xm_rxdesc *d = &ring[(r.first + i) & r.mask];

			d->addr = off_of(frames[i]) + 256;
			d->len = 60 + (uint32_t)i;
			d->options = 0;
			bytes += d->len;
		}
		cr_assert_eq(_xm_rxframe_port_ring(tu, clust(), &r, N, out),
			     N);
		cr_assert_eq(r.nout, N);
		cr_assert_eq(r.bytes, bytes);
		for (int i = 0; i < N; i++) {
			assert_rx_header(out[i], frames[i], 256,
					 60 + (uint32_t)i, 3, 7);
			cr_assert_not(bit_of(lent, frames[i]),
				      "bit %d still set", i);
		}
		cr_assert_eq(mt_held(tu), N);
		/* leave junk where a packet's fields were, then idle the
		 * headers and lend the frames again */
		for (int i = 0; i < N; i++) {
			out[i]->m_pkthdr.flowid = 0xdead;
			out[i]->m_pkthdr.rcv_tstamp = 1;
			out[i]->m_pkthdr.csum_flags = 0xff;
			out[i]->m_pkthdr.pkt_spare = 9;
			out[i]->m_nextpkt = out[(i + 1) % N];
		}
		for (int i = 0; i < N; i++) {
			struct xm_mbuf *m = out[i];

			cr_assert_eq(xm_refcnt(m), 1);
			/* what a free does to a paired header, without
			 * giving the frame back: it stays lent */
			cr_assert_eq(_xm_mbuf_recycle(clust(), &m, 1,
				&(struct xm_fillrun){
					.ring = (uint64_t[1]){ 0 }, .mask = 0,
					.room = 1, .cshift = SHIFT,
					.lent = lent,
					.base = xm_umem_base(tu) }), 1);
		}
	}
	for (int i = 0; i < N; i++)
		xm_zone_free(clust(), frames[i]);
	free(lent);
	mt_assert_clean(tu);
}

/*
 * A run stops before a descriptor that continues its packet and before a
 * frame not lent (neither is taken: the port's one-descriptor path
 * decides); a descriptor that runs past its frame is taken and refused,
 * its frame back in the zone.
 */
Test(port_datapath, rx_wrap_stops_and_refuses)
{
	struct xm_rxdesc ring[RING];
	struct xm_mbuf *out[4];
	uint64_t *lent = bitmap_new();
	struct xm_rxrun r = {
		.ring = ring, .first = 0, .mask = RING - 1, .lent = lent,
		.nchunks = nchunks(),
	};
	char *a = lend(lent), *b = lend(lent), *c = lend(lent);
	char *stray = xm_cljget(tu, NULL, XM_NOWAIT, XM_MCLBYTES);

	cr_assert_not_null(stray);
	ring[0] = (struct xm_rxdesc){ off_of(a), 100, 0 };
	ring[1] = (struct xm_rxdesc){ off_of(b), 100, XM_RXDESC_CONTD };
	cr_assert_eq(_xm_rxframe_port_ring(tu, clust(), &r, 2, out), 1);
	cr_assert_eq(r.nout, 1);
	cr_assert(bit_of(lent, b), "the continued descriptor was taken");
	xm_freem(out[0]);

	/* not lent: not taken, the frame left alone */
	ring[0] = (struct xm_rxdesc){ off_of(stray), 100, 0 };
	r.nout = 0;
	cr_assert_eq(_xm_rxframe_port_ring(tu, clust(), &r, 1, out), 0);
	cr_assert_eq(r.nout, 0);

	/* past its frame: taken and refused; the next one wrapped */
	ring[0] = (struct xm_rxdesc){ off_of(b) + 2000, 100, 0 };
	ring[1] = (struct xm_rxdesc){ off_of(c), 100, 0 };
	cr_assert_eq(mt_held(tu), 3);
	cr_assert_eq(_xm_rxframe_port_ring(tu, clust(), &r, 2, out), 2);
	cr_assert_eq(r.nout, 1);
	cr_assert_eq(out[0]->m_ext.ext_buf, c);
	cr_assert_not(bit_of(lent, b));
	cr_assert_eq(mt_held(tu), 2, "the refused frame is not home");
	xm_freem(out[0]);
	xm_zone_free(clust(), stray);
	free(lent);
	mt_assert_clean(tu);
}

/* ---------------------------------------------------------- recycle */

/*
 * Only a whole one-mbuf packet that is the sole reference to a frame of
 * the zone gives its frame to the fill ring (lent, its header idle), and
 * only while the ring has room; everything else is freed as xm_freem
 * frees it.
 */
Test(port_datapath, recycle_takes_sole_frames_of_the_zone_only)
{
	uint64_t fill[8] = { 0 }, *lent = bitmap_new();
	struct xm_mbuf *ms[8], *copy, *chain, *jumbo;
	struct xm_fillrun f = {
		.ring = fill, .prod = 6, .mask = 7, .room = 3,
		.cshift = SHIFT, .lent = lent, .base = xm_umem_base(tu),
	};
	char *sole[4];
	int n = 0;

	for (int i = 0; i < 2; i++) {
		ms[n] = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
		cr_assert_not_null(ms[n]);
		sole[i] = ms[n]->m_ext.ext_buf;
		n++;
	}
	/* shared: its frame stays with the copy */
	ms[n] = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	cr_assert_not_null(ms[n]);
	ms[n]->m_len = ms[n]->m_pkthdr.len = 100;
	copy = xm_copym(ms[n], 0, XM_COPYALL, XM_NOWAIT);
	cr_assert_not_null(copy);
	n++;
	/* a chain of two */
	chain = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	cr_assert_not_null(chain);
	chain->m_next = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, 0);
	cr_assert_not_null(chain->m_next);
	ms[n++] = chain;
	/* another zone's frame */
	jumbo = xm_getjcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR,
			  XM_MJUMPAGESIZE);
	cr_assert_not_null(jumbo);
	ms[n++] = jumbo;
	for (int i = 2; i < 4; i++) {
		ms[n] = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
		cr_assert_not_null(ms[n]);
		sole[i] = ms[n]->m_ext.ext_buf;
		n++;
	}
	cr_assert_eq(mt_held(tu), 9);
	/* room for 3 of the 4 sole ones: the last is freed */
	cr_assert_eq(_xm_mbuf_recycle(clust(), ms, (unsigned int)n, &f), 3);
	cr_assert_eq(f.prod, 9);
	for (int i = 0; i < 3; i++) {
		struct xm_mbuf *rec = xm_umem_frame_meta(tu, off_of(sole[i]));

		cr_assert_eq(fill[(6 + i) & 7], off_of(sole[i]));
		cr_assert(bit_of(lent, sole[i]));
		cr_assert_eq(rec->m_type, XM_MT_NOTMBUF, "header not idle");
		cr_assert_eq(rec->m_ext.ext_count, 0);
	}
	cr_assert_not(bit_of(lent, sole[3]));
	/* held: the three lent frames and the copy's frame, and the
	 * copy's own header (mbuf zone) */
	cr_assert_eq(mt_zone_held(tu, XM_ZONE_CLUST), 4);
	cr_assert_eq(mt_held(tu), 5);
	cr_assert_eq(xm_refcnt(copy), 1);
	xm_freem(copy);
	for (int i = 0; i < 3; i++)
		xm_zone_free(clust(), sole[i]);
	free(lent);
	mt_assert_clean(tu);
}

/* ------------------------------------------------------------- reap */

/* A port in memory with one TX queue (and a fill ring when rx). */
struct fake_port {
	struct xm_port p;
	struct xm_port_queue q;
	uint32_t comp_prod, comp_cons, flags, fill_prod, fill_cons;
	uint64_t comp[256], fill[256];
	struct xm_txent fifo[256];
	uint64_t *lent;
};

static void fake_port_init(struct fake_port *fp, bool rx)
{
	memset(fp, 0, sizeof(*fp));
	fp->p.p_nq = 1;
	fp->p.p_q = &fp->q;
	fp->p.p_tx = true;
	fp->p.p_rx = rx;
	fp->p.p_umem = tu;
	fp->p.p_zone = clust();
	fp->p.p_base = xm_umem_base(tu);
	fp->p.p_chunk = 1u << SHIFT;
	fp->p.p_chunk_shift = SHIFT;
	fp->p.p_nchunks = nchunks();
	fp->p.p_lend_max = UINT32_MAX;
	strcpy(fp->p.p_name, "fake");
	fp->q.q_fd = -1;
	fp->q.q_comp = (struct xm_ring){
		.r_mask = 255, .r_size = 256, .r_producer = &fp->comp_prod,
		.r_consumer = &fp->comp_cons, .r_flags = &fp->flags,
		.r_ring = fp->comp,
	};
	fp->q.q_fill = (struct xm_ring){
		.r_mask = 255, .r_size = 256, .r_producer = &fp->fill_prod,
		.r_consumer = &fp->fill_cons, .r_flags = &fp->flags,
		.r_ring = fp->fill,
	};
	fp->q.q_fifo = fp->fifo;
	fp->q.q_fifo_mask = 255;
	fp->lent = bitmap_new();
	fp->q.q_lent = fp->lent;
}

/* n one-frame packets "sent": their FIFO entries, in order. */
static void fake_send(struct fake_port *fp, struct xm_mbuf **ms, int n)
{
	for (int i = 0; i < n; i++) {
		struct xm_txent *e =
			&fp->fifo[fp->q.q_fifo_tail++ & fp->q.q_fifo_mask];

		ms[i] = xm_getcl(tu, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
		cr_assert_not_null(ms[i]);
		e->te_addr = off_of(ms[i]->m_data);
		e->te_obj = ms[i];
		e->te_kind = XM_TXENT_MBUF;
		e->te_done = 0;
	}
}

/* The "kernel" completes the packets of ms[] named by order[]. */
static void fake_complete(struct fake_port *fp, struct xm_mbuf **ms,
			  const int *order, int n)
{
	for (int i = 0; i < n; i++)
		fp->comp[fp->comp_prod++ & 255] = off_of(ms[order[i]]->m_data);
}

static uint32_t in_flight(const struct fake_port *fp)
{
	return fp->q.q_fifo_tail - fp->q.q_fifo_head;
}

/*
 * In order, more than one batch: all released.  Out of order: an entry
 * completed early waits, marked, until the ones before it complete, and
 * then the head moves past all of them; a completion for nothing in
 * flight is reported and changes nothing.
 */
Test(port_datapath, reap_releases_from_the_head_in_any_order)
{
	enum { N = 150 };
	static struct fake_port fp;
	struct xm_mbuf *ms[N];
	int order[N];

	fake_port_init(&fp, false);
	fake_send(&fp, ms, N);
	for (int i = 0; i < 140; i++)
		order[i] = i;
	fake_complete(&fp, ms, order, 140);
	cr_assert_eq(xm_port_tx_complete(&fp.p, 0), 140);
	cr_assert_eq(in_flight(&fp), 10);
	cr_assert_eq(mt_held(tu), 10);
	cr_assert_eq(fp.comp_cons, 140, "completions not released");

	/* 140 in order, then 142 and 141 early: the head stays at 140 */
	fake_complete(&fp, ms, (const int[]){ 142, 141 }, 2);
	cr_assert_eq(xm_port_tx_complete(&fp.p, 0), 2);
	cr_assert_eq(in_flight(&fp), 10);
	cr_assert_eq(fp.q.q_fifo_ooo, 2);
	cr_assert_eq(mt_held(tu), 10);
	/* 140 arrives: 140..142 go; then 143, 145, 144 */
	fake_complete(&fp, ms, (const int[]){ 140, 143, 145, 144 }, 4);
	cr_assert_eq(xm_port_tx_complete(&fp.p, 0), 4);
	cr_assert_eq(in_flight(&fp), 4);
	cr_assert_eq(fp.q.q_fifo_ooo, 0);
	cr_assert_eq(mt_held(tu), 4);
	/* a stranger, then the rest in order: in order again */
	fp.comp[fp.comp_prod++ & 255] = off_of(ms[0]->m_data) + 4096 * 64;
	fake_complete(&fp, ms, (const int[]){ 146, 147, 148, 149 }, 4);
	cr_assert_eq(xm_port_tx_complete(&fp.p, 0), 5);
	cr_assert_eq(in_flight(&fp), 0);
	cr_assert_eq(mt_held(tu), 0);
	free(fp.lent);
	mt_assert_clean(tu);
}

/*
 * On a port that receives too, completed frames of its zone go on its
 * fill ring (fill_recycled) as far as the ring has room, then into the
 * queue's stash (XM_PORT_STASH frames), which the next refill empties
 * before it takes anything from the zone; past that they go to the zone.
 */
Test(port_datapath, reap_recycles_to_the_fill_ring_then_the_stash)
{
	enum { N = 40 + XM_PORT_STASH + 20 };
	static struct fake_port fp;
	static struct xm_mbuf *ms[N];
	static int order[N];
	struct xm_port_stats st;
	struct xm_zone_stats z0, z1;

	fake_port_init(&fp, true);
	fake_send(&fp, ms, N);
	for (int i = 0; i < N; i++)
		order[i] = i;
	/* the fill ring has 40 free slots */
	fp.fill_prod = fp.q.q_fill.r_cached_prod = 216;
	fake_complete(&fp, ms, order, N);
	cr_assert_eq(xm_port_tx_complete(&fp.p, 0), N);
	cr_assert_eq(in_flight(&fp), 0);
	cr_assert_eq(fp.fill_prod, 256, "fill ring not submitted");
	cr_assert_eq(fp.q.q_lent_cnt, 40);
	cr_assert_eq(fp.q.q_stash_cnt, XM_PORT_STASH);
	cr_assert_eq(xm_port_queue_stats(&fp.p, 0, &st), 0);
	cr_assert_eq(st.fill_recycled, 40);
	cr_assert_eq(st.fill_added, 40);
	cr_assert_eq(mt_held(tu), 40 + XM_PORT_STASH,
		     "the 20 past the stash are not home");
	for (uint32_t i = 216; i < 256; i++)
		cr_assert(bit_of(fp.lent, (char *)xm_umem_base(tu) +
				 fp.fill[i & 255]));

	/* the "kernel" takes 100 frames off the fill ring: the refill
	 * puts the stash's frames there, not the zone's */
	fp.fill_cons = 100;
	cr_assert_eq(xm_zone_stats(clust(), &z0), 0);
	cr_assert_gt(xm_port_refill(&fp.p, 0), 0);
	cr_assert_eq(xm_zone_stats(clust(), &z1), 0);
	cr_assert_eq(xm_port_queue_stats(&fp.p, 0, &st), 0);
	cr_assert_eq(st.fill_recycled, 40 + 100);
	cr_assert_eq(fp.q.q_stash_cnt, XM_PORT_STASH - 100);
	cr_assert_eq(z1.requests, z0.requests, "the refill took from the zone "
		     "with frames in the stash");
	cr_assert_eq(fp.fill_prod, 356);

	/* close: the stash and the lent frames back to the zone */
	_xm_port_queue_reclaim(&fp.p, &fp.q);
	cr_assert_eq(fp.q.q_stash_cnt, 0);
	cr_assert_eq(fp.q.q_lent_cnt, 0);
	free(fp.lent);
	mt_assert_clean(tu);
}
