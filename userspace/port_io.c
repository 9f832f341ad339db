/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port_io.c - the data path of AF_XDP ports: fill, RX, TX, completion.
 * Sockets are made and torn down in port.c; this file only drives the
 * rings of one queue, from the one thread that owns it.
 *
 *   xm_umem region (one registration)
 *   +----------------------------------------------------------+
 *   | chunk | chunk | chunk | ...   frames of the chunk-size zone |
 *   +----------------------------------------------------------+
 *      ^ fill ring: frames lent to the kernel (bit set in q_lent)
 *      | RX ring:   frames back, wrapped by xm_rxframe() -> mbufs
 *      | TX ring:   frames of the application's chains, each one's
 *      |            mbuf reference parked in q_fifo until completion
 *      v completion ring: the parked reference is dropped (xm_free);
 *                 a sole one of the port's own frame puts the frame
 *                 straight back on the fill ring (xm_reap_done)
 *
 * Frame conservation: a frame on a fill ring, in the kernel or on an RX
 * ring not yet read is recorded in the socket's q_lent bitmap; one on the
 * TX path has its entry in q_fifo; a completed one kept for the next
 * refill is in q_stash.  Closing a socket returns the three sets to the
 * zone (_xm_port_queue_reclaim), after the kernel has let go of the
 * socket.
 *
 * Official port KPI (xm_port.h): xm_port_rx_burst, xm_port_tx_burst,
 * xm_port_tx_flush, xm_port_tx_complete, xm_port_tx_pending,
 * xm_port_refill, xm_port_poll.
 * Hidden (port.c): _xm_port_tx_drain, _xm_port_queue_reclaim.
 * Hidden (tests, INVARIANTS builds): _xm_port_set_rx_desc_cap.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xm_port_int.h"

/* How long close waits for TX completions before taking frames back. */
#define XM_PORT_DRAIN_MS	500

/* ------------------------------------------------------------ frames */

/* @return false when the frame was not lent (a kernel bug or ours). */
static inline bool xm_lent_clear(struct xm_port *p, struct xm_port_queue *q,
				 uint64_t off)
{
	uint64_t i = off >> p->p_chunk_shift;
	uint64_t bit = 1ULL << (i % 64);

	if (xm_unlikely(i >= p->p_nchunks || !(q->q_lent[i / 64] & bit)))
		return false;
	q->q_lent[i / 64] &= ~bit;
	q->q_lent_cnt--;
	return true;
}

/* ---------------------------------------------------------------- fill */

/*
 * Puts n frames on the fill ring and marks them lent, with the ring's
 * and the bitmap's fields in locals: stores into the ring could alias
 * them otherwise, and every one would be loaded again per frame.
 */
static inline __attribute__((always_inline)) void
xm_fill_put(struct xm_ring *r, uint64_t *lent, const char *base,
	    uint32_t shift, void *const *items, unsigned int n)
{
	uint64_t *ring = r->r_ring;
	uint32_t prod = r->r_cached_prod, mask = r->r_mask;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t off = (uint64_t)((const char *)items[i] - base);
		uint64_t idx = off >> shift;

		ring[(prod + i) & mask] = off;
		lent[idx / 64] |= (uint64_t)1 << (idx % 64);
	}
	r->r_cached_prod = prod + n;
}

/*
 * Tops up the fill ring in batches.  When the zone is short and the ring
 * is running low, the emergency reserve keeps it stocked (the reserve
 * exists for exactly this: an application holding many frames must not
 * stop reception); starved counts the times even that failed.  With
 * XM_PORT_F_LEND_RX_RING (copy mode) no more than p_lend_max frames are
 * out (fill ring + RX ring): see where xm_port_sockets() sets it.
 */
static uint32_t xm_fill(struct xm_port *p, struct xm_port_queue *q)
{
	struct xm_ring *r = &q->q_fill;
	uint32_t low = r->r_size / 8 > 2 * XM_PORT_FILL_BATCH ?
		       r->r_size / 8 : 2 * XM_PORT_FILL_BATCH;
	void *items[XM_PORT_FILL_BATCH];
	uint32_t free, added = 0, cap = p->p_lend_max;
	uint32_t inflight = q->q_fifo_tail - q->q_fifo_head;

	/* at the cap (copy mode, the kernel holds all it may): nothing to
	 * do, and an idle poll comes here every time */
	if (q->q_lent_cnt >= cap)
		return 0;
	free = xm_prod_free(r, XM_PORT_FILL_BATCH);
	/*
	 * Frames in TX flight come back to this ring as they complete
	 * (xm_reap_done): leave them their room, on the ring and under the
	 * cap, but at most half of either and never below the low mark (a
	 * TX backlog must not starve reception).
	 */
	if (xm_unlikely(inflight)) {
		uint32_t level = r->r_size - free, top = r->r_size;
		uint32_t keep = inflight < top / 2 ? inflight : top / 2;

		if (top > low)
			top = top - low > keep ? top - keep : low;
		free = level < top ? top - level : 0;
		keep = inflight < cap / 2 ? inflight : cap / 2;
		if (cap > low)
			cap = cap - low > keep ? cap - keep : low;
	}
	if (q->q_lent_cnt >= cap)
		free = 0;
	else if (free > cap - q->q_lent_cnt)
		free = cap - q->q_lent_cnt;
	if (q->q_stash_cnt && free) {
		/* completed frames kept for this (xm_reap_done) first */
		uint32_t n = q->q_stash_cnt < free ? q->q_stash_cnt : free;
		void *const *from = q->q_stash + q->q_stash_cnt - n;

		if (p->p_chunk_shift == 11)
			xm_fill_put(r, q->q_lent, p->p_base, 11, from, n);
		else
			xm_fill_put(r, q->q_lent, p->p_base, 12, from, n);
		q->q_stash_cnt -= n;
		q->q_lent_cnt += n;
		q->q_fill_recycled += n;
		free -= n;
		added += n;
	}
	while (free >= XM_PORT_FILL_BATCH) {
		uint32_t level = r->r_size - free;
		unsigned int n = XM_PORT_FILL_BATCH;

		if (xm_zone_alloc_bulk(p->p_zone, items, n, XM_NOWAIT) != 0) {
			if (level >= low)
				break;
			if (xm_zone_alloc_bulk(p->p_zone, items, n, XM_NOWAIT |
					       XM_USE_RESERVE) == 0) {
				q->q_fill_reserve++;
			} else {
				/* all or nothing failed: take what is left */
				for (n = 0; n < XM_PORT_FILL_BATCH; n++) {
					items[n] = xm_zone_alloc(p->p_zone,
						XM_NOWAIT | XM_USE_RESERVE);
					if (items[n] == NULL)
						break;
				}
				if (n == 0) {
					q->q_fill_starved++;
					break;
				}
				q->q_fill_reserve++;
			}
		}
		/* the two chunk sizes a port takes, each with a constant
		 * shift (a variable one holds %cl: -3 instructions a frame) */
		if (p->p_chunk_shift == 11)
			xm_fill_put(r, q->q_lent, p->p_base, 11, items, n);
		else
			xm_fill_put(r, q->q_lent, p->p_base, 12, items, n);
		q->q_lent_cnt += n;
		free -= n;
		added += n;
		if (n < XM_PORT_FILL_BATCH)
			break;
	}
	if (added) {
		xm_prod_submit(r);
		q->q_fill_added += added;
	}
	return added;
}

/* ------------------------------------------------------------------ RX */

/* Compact hash type for m_pkthdr.rsstype from enum xdp_rss_hash_type. */
static uint8_t xm_rsstype(uint32_t t)
{
	const uint32_t v4 = 1, v6 = 2, l4 = 8, tcp = 16, udp = 32;

	if (t & l4) {
		if (t & tcp)
			return (t & v6) ? XM_RSSTYPE_TCP_IPV6 :
					  XM_RSSTYPE_TCP_IPV4;
		if (t & udp)
			return (t & v6) ? XM_RSSTYPE_UDP_IPV6 :
					  XM_RSSTYPE_UDP_IPV4;
		return XM_RSSTYPE_L4_OTHER;
	}
	if (t & v4)
		return XM_RSSTYPE_IPV4;
	if (t & v6)
		return XM_RSSTYPE_IPV6;
	return XM_RSSTYPE_OPAQUE;
}

/*
 * Reads the program's metadata in front of the first fragment.  Only a
 * valid magic is trusted, and it is cleared once read: the frame will be
 * recycled, and the next packet in it may come without metadata.
 */
static inline void xm_rx_meta(struct xm_port *p, struct xm_mbuf *m,
			      uint64_t addr)
{
	struct xm_xdp_meta md;
	char *where;

	if ((addr & (p->p_chunk - 1)) < sizeof(md))
		return;
	where = p->p_base + addr - sizeof(md);
	memcpy(&md, where, sizeof(md));
	if (md.magic != XM_XDP_META_MAGIC)
		return;
	memset(where + offsetof(struct xm_xdp_meta, magic), 0,
	       sizeof(md.magic));
	if (md.flags & XM_XDP_META_F_TSTAMP) {
		m->m_pkthdr.rcv_tstamp = md.rx_tstamp;
		m->m_flags |= XM_TSTMP;
	}
	if (md.flags & XM_XDP_META_F_HASH) {
		m->m_pkthdr.flowid = md.rx_hash;
		m->m_pkthdr.rsstype = xm_rsstype(md.hash_type);
		m->m_flags |= XM_FLOWID;
	}
}

/*
 * Takes a run of one-descriptor packets from the RX ring, from index
 * done on, at most max descriptors and room packets, in one call to the
 * mbuf layer (_xm_rxframe_port_ring), which checks and clears each
 * frame's lent bit and wraps it in the same pass, with the ring's fields
 * read once.  It stops before a descriptor that continues a packet or
 * names a frame not lent, which the caller's one-descriptor path takes.
 * Metadata is read after the wrap.
 * @return descriptors consumed; *npkts and *bytes grow by what was
 * wrapped (a frame the wrap refused is dropped and counted).
 */
_Static_assert(XM_RXDESC_CONTD == XDP_PKT_CONTD, "XDP_PKT_CONTD");
_Static_assert(sizeof(struct xm_rxdesc) == sizeof(struct xdp_desc) &&
	       offsetof(struct xm_rxdesc, options) ==
	       offsetof(struct xdp_desc, options), "struct xdp_desc");

static uint32_t xm_rx_run(struct xm_port *p, struct xm_port_queue *q,
			  uint32_t done, uint32_t max, uint32_t room,
			  uint32_t rcv, struct xm_mbuf **out, uint64_t *bytes,
			  uint16_t *npkts)
{
	struct xm_rxrun r = {
		.ring = q->q_rx.r_ring,
		.first = q->q_rx.r_cached_cons + done,
		.mask = q->q_rx.r_mask,
		.lent = q->q_lent,
		.nchunks = p->p_nchunks,
		.rcv = rcv,
	};
	uint32_t k;

	if (max > room)
		max = room;
	k = _xm_rxframe_port_ring(p->p_umem, p->p_zone, &r, max, out);
	if (k == 0)
		return 0;
	q->q_lent_cnt -= k;
	if (xm_unlikely(r.nout < k))
		q->q_rx_dropped_sw += k - r.nout;	/* back in the zone */
	if (p->p_meta)
		for (uint32_t j = 0; j < r.nout; j++)
			xm_rx_meta(p, out[j],
				   (uint64_t)(out[j]->m_data - p->p_base));
	*npkts += (uint16_t)r.nout;
	*bytes += r.bytes;
	return k;
}

uint16_t xm_port_rx_burst(struct xm_port *p, unsigned int qidx,
			  struct xm_mbuf **pkts, uint16_t n)
{
	struct xm_port_queue *q;
	struct xm_mbuf *head, *tail;
	const struct xdp_desc *ring;
	uint32_t avail, done = 0, plen, psegs, rcv;
	uint64_t bytes = 0;
	uint16_t npkts = 0;

	if (xm_unlikely(p == NULL || qidx >= p->p_nq || !p->p_rx ||
			pkts == NULL)) {
		errno = EINVAL;
		return 0;
	}
	q = &p->p_q[qidx];
	if (p->p_busy_poll) {
		/*
		 * Preferred busy polling: the kernel leaves the NAPI to us,
		 * and this call runs it (up to the budget) on this CPU,
		 * which fills the RX ring; need_wakeup does not say when.
		 */
		recvfrom(q->q_fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		q->q_rx_wakeups++;
	}
	avail = xm_rx_desc_cap(p, xm_cons_avail(&q->q_rx));
	if (avail == 0) {
		xm_fill(p, q);
		/* zero-copy drivers sleep until poked (need_wakeup) */
		if (!p->p_busy_poll && p->p_need_wakeup &&
		    (*q->q_fill.r_flags & XDP_RING_NEED_WAKEUP)) {
			recvfrom(q->q_fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
			q->q_rx_wakeups++;
		}
		return 0;
	}

	ring = q->q_rx.r_ring;
	rcv = p->p_index | (uint32_t)q->q_queue_id << 16;
	head = q->q_part_head;
	tail = q->q_part_tail;
	plen = q->q_part_len;
	psegs = q->q_part_segs;
	while (done < avail && npkts < n) {
		if (head == NULL) {
			/* a run of one-descriptor packets, the common case */
			uint32_t k = xm_rx_run(p, q, done, avail - done,
					       n - npkts, rcv, pkts + npkts,
					       &bytes, &npkts);

			if (k) {
				done += k;
				continue;
			}
		}
		/* one descriptor of a multi-buffer packet, or one refused */
		const struct xdp_desc *d =
			&ring[(q->q_rx.r_cached_cons + done) & q->q_rx.r_mask];
		uint64_t addr = d->addr;
		uint32_t len = d->len;
		bool contd = d->options & XDP_PKT_CONTD;
		struct xm_mbuf *m;

		done++;
		if (xm_unlikely(!xm_lent_clear(p, q, addr))) {
			/* not a frame we lent: never wrap it */
			q->q_rx_dropped_sw++;
			continue;
		}
		m = xm_rxframe(p->p_umem, addr, len, head ? 0 : XM_PKTHDR);
		if (xm_unlikely(m == NULL)) {
			void *f = xm_umem_frame_of(p->p_umem, addr);

			if (f)
				xm_zone_free(p->p_zone, f);
			xm_freem(head);
			head = NULL;
			q->q_rx_dropped_sw++;
			continue;
		}
		if (head == NULL) {
			head = tail = m;
			plen = len;
			psegs = 1;
			if (p->p_meta)
				xm_rx_meta(p, m, addr);
		} else {
			tail->m_next = m;
			tail = m;
			plen += len;
			psegs++;
		}
		if (contd)
			continue;
		head->m_pkthdr.len = plen;
		head->m_pkthdr.rcvport = p->p_index;
		head->m_pkthdr.rcvqueue = (uint16_t)q->q_queue_id;
		head->m_pkthdr.nsegs = psegs > 255 ? 255 : (uint8_t)psegs;
		pkts[npkts++] = head;
		bytes += plen;
		head = NULL;
	}
	/* a packet whose last fragment is not here yet waits for the next */
	q->q_part_head = head;
	q->q_part_tail = head ? tail : NULL;
	q->q_part_len = head ? plen : 0;
	q->q_part_segs = head ? psegs : 0;

	q->q_rx.r_cached_cons += done;
	xm_cons_release(&q->q_rx);
	q->q_rx_descs += done;
	q->q_rx_packets += npkts;
	q->q_rx_bytes += bytes;
	xm_fill(p, q);
	return npkts;
}

/* ------------------------------------------------------------------ TX */

static inline bool xm_in_umem(const struct xm_port *p, const char *data,
			      uint32_t len)
{
	uintptr_t off = (uintptr_t)(data - p->p_base);

	return data >= p->p_base && off < p->p_nchunks * p->p_chunk &&
	       len <= p->p_nchunks * p->p_chunk - off;
}

/* Descriptors a UMEM segment takes: one per chunk it touches. */
static inline uint32_t xm_seg_descs(const struct xm_port *p, uint64_t off,
				    uint32_t len)
{
	uint64_t first = off >> p->p_chunk_shift;
	uint64_t last = (off + len - 1) >> p->p_chunk_shift;

	return (uint32_t)(last - first + 1);
}

struct xm_tx_plan {
	uint32_t descs;			/* descriptors to produce */
	uint32_t frames;		/* fresh frames for copies */
	uint32_t len;			/* packet bytes */
	bool linear;			/* copy the whole packet */
};

/*
 * Counts what a chain needs: UMEM segments go as they are, runs of other
 * segments are packed into fresh frames.  Without multi-buffer, or with
 * more pieces than the kernel takes, the whole packet is copied into as
 * few frames as its length allows.
 */
static void xm_tx_plan(const struct xm_port *p, const struct xm_mbuf *m,
		       struct xm_tx_plan *pl)
{
	uint32_t run = 0;

	memset(pl, 0, sizeof(*pl));
	for (const struct xm_mbuf *s = m; s; s = s->m_next) {
		uint32_t len = s->m_len > 0 ? (uint32_t)s->m_len : 0;

		if (len == 0)
			continue;
		pl->len += len;
		if (xm_in_umem(p, s->m_data, len)) {
			if (run) {
				pl->frames += (run + p->p_chunk - 1) /
					      p->p_chunk;
				run = 0;
			}
			pl->descs += xm_seg_descs(p,
				(uint64_t)(s->m_data - p->p_base), len);
		} else {
			run += len;
		}
	}
	if (run)
		pl->frames += (run + p->p_chunk - 1) / p->p_chunk;
	pl->descs += pl->frames;
	if ((!p->p_sg && pl->descs > 1) || pl->descs > XM_PORT_MAX_SEGS) {
		pl->linear = true;
		pl->frames = (pl->len + p->p_chunk - 1) / p->p_chunk;
		pl->descs = pl->frames;
	}
}

static inline void xm_tx_emit(struct xm_port_queue *q, uint64_t off,
			      uint32_t len, uint8_t kind, void *obj)
{
	struct xdp_desc *ring = q->q_tx.r_ring;
	struct xdp_desc *d = &ring[q->q_tx.r_cached_prod++ & q->q_tx.r_mask];
	struct xm_txent *e = &q->q_fifo[q->q_fifo_tail++ & q->q_fifo_mask];

	d->addr = off;
	d->len = len;
	d->options = XDP_PKT_CONTD;
	e->te_addr = off;
	e->te_obj = obj;
	e->te_kind = kind;
	e->te_done = 0;
}

/*
 * Turns one packet into descriptors (the ring and the FIFO have room:
 * the caller checked).  Copies go into the preallocated frames.
 */
static void xm_tx_packet(struct xm_port *p, struct xm_port_queue *q,
			 struct xm_mbuf *m, const struct xm_tx_plan *pl,
			 void **frames)
{
	uint32_t first = q->q_tx.r_cached_prod;
	uint32_t chunk = p->p_chunk;
	char *cp = NULL;		/* frame being packed */
	uint32_t cplen = 0;
	unsigned int nf = 0;
	struct xm_mbuf *s, *next;
	struct xdp_desc *ring = q->q_tx.r_ring;

	for (s = m; s; s = next) {
		uint32_t len = s->m_len > 0 ? (uint32_t)s->m_len : 0;
		const char *src = s->m_data;

		next = s->m_next;
		s->m_next = NULL;
		if (len && !pl->linear && xm_in_umem(p, s->m_data, len)) {
			uint64_t off = (uint64_t)(s->m_data - p->p_base);

			if (cp) {
				xm_tx_emit(q, (uint64_t)(cp - p->p_base),
					   cplen, XM_TXENT_FRAME, cp);
				cp = NULL;
			}
			/* a descriptor never crosses a chunk boundary */
			while (len) {
				uint32_t room = chunk - (uint32_t)(off &
							(chunk - 1));
				uint32_t piece = len < room ? len : room;

				len -= piece;
				xm_tx_emit(q, off, piece, len ? XM_TXENT_NONE :
					   XM_TXENT_MBUF, len ? NULL : s);
				off += piece;
			}
			continue;
		}
		while (len) {
			uint32_t k;

			if (cp == NULL || cplen == chunk) {
				if (cp)
					xm_tx_emit(q, (uint64_t)(cp - p->p_base),
						   cplen, XM_TXENT_FRAME, cp);
				cp = frames[nf++];
				cplen = 0;
			}
			k = chunk - cplen < len ? chunk - cplen : len;
			memcpy(cp + cplen, src, k);
			cplen += k;
			src += k;
			len -= k;
		}
		if (s->m_len > 0)
			q->q_tx_copied++;
		xm_free(s);
	}
	if (cp)
		xm_tx_emit(q, (uint64_t)(cp - p->p_base), cplen,
			   XM_TXENT_FRAME, cp);
	ring[(q->q_tx.r_cached_prod - 1) & q->q_tx.r_mask].options = 0;
	q->q_tx_descs += q->q_tx.r_cached_prod - first;
	XM_ASSERT(q->q_tx.r_cached_prod - first == pl->descs,
		  ("%s: planned %u descriptors, made %u", __func__, pl->descs,
		   q->q_tx.r_cached_prod - first));
	XM_ASSERT(nf == pl->frames, ("%s: planned %u frames, used %u",
				     __func__, pl->frames, nf));
}

static void xm_txent_release(struct xm_port *p, struct xm_txent *e)
{
	if (e->te_kind == XM_TXENT_MBUF)
		xm_free(e->te_obj);
	else if (e->te_kind == XM_TXENT_FRAME)
		xm_zone_free(p->p_zone, e->te_obj);
	e->te_kind = XM_TXENT_NONE;
	e->te_obj = NULL;
}

/*
 * Completions come back in submission order on every driver and on the
 * copy path of one socket; when one does not (an skb freed out of order),
 * the entry is found further on and marked (q_fifo_ooo counts the marks),
 * and references are dropped only from the head, so a frame split over
 * several descriptors is never released while one of them is still out.
 * In order and with nothing marked, a completion releases its entry at
 * once, and the mbufs go back once per batch (xm_reap_done) instead of
 * one xm_free() each (`make bench B=cost`, fwd: reaping went from ~90 to
 * ~45 instructions a packet, and to ~25 with the mark check once a
 * batch and no clearing of entries past the head).
 */
#define XM_REAP_BATCH	64

/*
 * Drops the references of a batch of completed one-descriptor packets.
 * On a port that receives too, the frames of its own zone whose mbufs
 * held the only reference go straight back on this queue's fill ring
 * (_xm_mbuf_recycle idles their headers), as the raw l2fwd loop hands
 * its completions to the fill ring, as far as the ring and the lending
 * cap have room, and then into the queue's stash (q_stash), which the
 * next refill empties first: under copy mode's lending cap a reap
 * often comes before the RX burst that makes room (xmbuf-lb's idle
 * flush: `make bench B=cost`, lb, every frame went through the zone).
 * The rest go to the zone, and everything of a TX-only port is freed as
 * usual.
 */
static void xm_reap_done(struct xm_port *p, struct xm_port_queue *q,
			 struct xm_mbuf *const *done, unsigned int nd)
{
	struct xm_fillrun f;
	uint32_t room, k;

	if (!p->p_rx) {
		xm_freem_bulk(done, nd);
		return;
	}
	room = q->q_lent_cnt >= p->p_lend_max ? 0 :
	       p->p_lend_max - q->q_lent_cnt;
	if (room > nd)
		room = nd;
	room = room ? xm_prod_free(&q->q_fill, room) : 0;
	if (room > nd)
		room = nd;
	f = (struct xm_fillrun){
		.ring = q->q_fill.r_ring,
		.prod = q->q_fill.r_cached_prod,
		.mask = q->q_fill.r_mask,
		.room = room,
		.cshift = p->p_chunk_shift,
		.lent = q->q_lent,
		.base = p->p_base,
		.spill = q->q_stash,
		.spill_room = XM_PORT_STASH,
		.nspill = q->q_stash_cnt,
	};
	k = _xm_mbuf_recycle(p->p_zone, done, nd, &f);
	q->q_stash_cnt = f.nspill;
	if (k) {
		q->q_fill.r_cached_prod = f.prod;
		q->q_lent_cnt += k;
		q->q_fill_added += k;
		q->q_fill_recycled += k;
		xm_prod_submit(&q->q_fill);
	}
}

static uint32_t xm_tx_reap(struct xm_port *p, struct xm_port_queue *q)
{
	uint32_t n = xm_cons_avail(&q->q_comp);
	const uint64_t *ring = q->q_comp.r_ring;
	uint32_t cons = q->q_comp.r_cached_cons, cmask = q->q_comp.r_mask;
	struct xm_txent *fifo = q->q_fifo;
	uint32_t head = q->q_fifo_head, fmask = q->q_fifo_mask;
	const uint32_t tail = q->q_fifo_tail;	/* only tx_burst moves it */
	struct xm_mbuf *done[XM_REAP_BATCH];
	unsigned int nd = 0;
	uint32_t i = 0;

	if (n == 0)
		return 0;
	/*
	 * In order, nothing marked: batches of at most XM_REAP_BATCH, each
	 * entry checked against its completion and released at once (an
	 * entry past the head is never read again: its kind and object stay
	 * as they are), the mbufs handed on per batch.
	 */
	while (q->q_fifo_ooo == 0 && i < n) {
		uint32_t stop = n - i < XM_REAP_BATCH ? n : i + XM_REAP_BATCH;

		for (; i < stop; i++) {
			uint64_t addr = ring[(cons + i) & cmask];
			struct xm_txent *e = &fifo[head & fmask];

			if (xm_unlikely(head == tail || e->te_addr != addr))
				break;
			if (xm_likely(e->te_kind == XM_TXENT_MBUF))
				done[nd++] = e->te_obj;
			else
				xm_txent_release(p, e);
			head++;
		}
		if (nd) {
			xm_reap_done(p, q, done, nd);
			nd = 0;
		}
		if (i < stop)
			break;
	}
	for (; i < n; i++) {
		uint64_t addr = ring[(cons + i) & cmask];
		struct xm_txent *e = &fifo[head & fmask];

		/* the general case: out of order, or marks outstanding */
		q->q_fifo_head = head;
		if (head != q->q_fifo_tail && e->te_addr == addr &&
		    !e->te_done) {
			e->te_done = 1;
		} else {
			uint32_t j;

			for (j = head; j != q->q_fifo_tail; j++) {
				e = &fifo[j & fmask];
				if (e->te_addr == addr && !e->te_done)
					break;
			}
			if (j == q->q_fifo_tail) {
				xm_pr_warn("%s: queue %u: completion for "
					   "0x%llx which is not in flight\n",
					   p->p_name, q->q_queue_id,
					   (unsigned long long)addr);
				continue;
			}
			e->te_done = 1;
		}
		q->q_fifo_ooo++;
		while (head != q->q_fifo_tail) {
			e = &fifo[head & fmask];
			if (!e->te_done)
				break;
			xm_txent_release(p, e);
			e->te_done = 0;
			q->q_fifo_ooo--;
			head++;
		}
	}
	q->q_fifo_head = head;
	q->q_comp.r_cached_cons = cons + n;
	xm_cons_release(&q->q_comp);
	q->q_tx_completions += n;
	return n;
}

/* Descriptors the TX ring and the FIFO both have room for, up to want. */
static inline uint32_t xm_tx_room(struct xm_port_queue *q, uint32_t want)
{
	uint32_t ring = xm_prod_free(&q->q_tx, want);
	uint32_t fifo = q->q_fifo_mask + 1 - (q->q_fifo_tail - q->q_fifo_head);

	return ring < fifo ? ring : fifo;
}

static void xm_tx_kick(struct xm_port *p, struct xm_port_queue *q)
{
	/* busy polling: every sendto() also runs the NAPI (completions) */
	if (!p->p_busy_poll && p->p_need_wakeup &&
	    !(*q->q_tx.r_flags & XDP_RING_NEED_WAKEUP))
		return;
	/* EAGAIN, EBUSY, ENOBUFS: the kernel is busy; the next kick sends */
	sendto(q->q_fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	q->q_tx_wakeups++;
}

/*
 * Any packet but the one-descriptor kind: planned (xm_tx_plan), copied
 * where it has to be, its segments' descriptors made.
 * @return false when the TX ring or the FIFO is full even after a reap
 * (the caller keeps the packet); true when the packet was queued or
 * dropped (counted in tx_dropped: it is accepted all the same).
 */
static __attribute__((noinline)) bool xm_tx_other(struct xm_port *p,
						 struct xm_port_queue *q,
						 struct xm_mbuf *m)
{
	uint32_t fifo_size = q->q_fifo_mask + 1;
	void *frames[XM_PORT_MAX_SEGS];
	struct xm_tx_plan pl;

	xm_tx_plan(p, m, &pl);
	if (xm_unlikely(pl.descs == 0 || pl.descs > XM_PORT_MAX_SEGS)) {
		/* empty, or too long for the kernel even copied */
		xm_freem(m);
		q->q_tx_dropped++;
		return true;
	}
	if (xm_prod_free(&q->q_tx, pl.descs) < pl.descs ||
	    fifo_size - (q->q_fifo_tail - q->q_fifo_head) < pl.descs) {
		xm_tx_reap(p, q);
		if (xm_prod_free(&q->q_tx, pl.descs) < pl.descs ||
		    fifo_size - (q->q_fifo_tail - q->q_fifo_head) < pl.descs)
			return false;	/* full: the caller keeps the rest */
	}
	if (pl.frames && xm_zone_alloc_bulk(p->p_zone, frames, pl.frames,
					    XM_NOWAIT) != 0) {
		xm_freem(m);
		q->q_tx_dropped++;
		return true;
	}
	if (pl.linear) {
		/* one copy of the whole packet, then free the chain */
		uint32_t off = 0;

		for (uint32_t f = 0; f < pl.frames; f++) {
			uint32_t k = pl.len - off < p->p_chunk ?
				     pl.len - off : p->p_chunk;

			xm_copydata(m, (int)off, (int)k, frames[f]);
			xm_tx_emit(q, (uint64_t)((char *)frames[f] -
						 p->p_base), k,
				   XM_TXENT_FRAME, frames[f]);
			off += k;
		}
		((struct xdp_desc *)q->q_tx.r_ring)[(q->q_tx.r_cached_prod
			- 1) & q->q_tx.r_mask].options = 0;
		q->q_tx_descs += pl.frames;
		q->q_tx_copied++;
		xm_freem(m);
	} else {
		xm_tx_packet(p, q, m, &pl, frames);
	}
	q->q_tx_packets++;
	q->q_tx_bytes += pl.len;
	return true;
}

/*
 * The common packet, one mbuf over one chunk of the UMEM (a generator's
 * frame, a forwarded frame), is one descriptor: no plan, no second walk
 * (measured at the copy-mode peak on veth, 64 bytes: the TX burst went
 * from 2.4% to 0.9% of the sender's CPU).  A run of them is made with the
 * ring's and the FIFO's indices in registers (stores into descriptors
 * would otherwise make the compiler reload them every packet) and the
 * room counted once per run, before the loop (a reap first when the
 * burst does not fit): `make bench B=cost`, fwd, from ~60 to ~20
 * instructions a packet.  off < umem_len also rules out data below the
 * region (the difference wraps), and a segment inside one chunk ends
 * inside the region.  Kept apart from xm_tx_other() and from the burst
 * (noinline both), so the compiler keeps this loop's values in
 * registers.
 * @return packets queued from pkts[]; *full when the rings had no room.
 */
static __attribute__((noinline)) uint32_t
xm_tx_run(struct xm_port *p, struct xm_port_queue *q, struct xm_mbuf **pkts,
	  uint32_t n, bool *full)
{
	struct xdp_desc *ring;
	struct xm_txent *fifo = q->q_fifo;
	uint32_t prod, tmask = q->q_tx.r_mask;
	uint32_t tail, fmask = q->q_fifo_mask;
	uint64_t umem_len = (uint64_t)p->p_nchunks * p->p_chunk, bytes = 0;
	const uint64_t chunk = p->p_chunk, cmask = chunk - 1;
	uint32_t room, i, want = n;
	char *base = p->p_base;

	/* the room, once for the run: no count in the loop */
	room = xm_tx_room(q, n);
	if (room < n) {
		xm_tx_reap(p, q);
		room = xm_tx_room(q, n);
	}
	if (room < n)
		n = room;
	ring = q->q_tx.r_ring;
	prod = q->q_tx.r_cached_prod;
	tail = q->q_fifo_tail;
	for (i = 0; i < n; i++) {
		struct xm_mbuf *m = pkts[i];
		uint64_t off = (uint64_t)(m->m_data - base);
		uint32_t len = (uint32_t)m->m_len;
		struct xdp_desc *d;
		struct xm_txent *e;

		/* 1..room to the chunk's end bytes, so within one chunk (no
		 * shift by a variable, %cl); a length <= 0 wraps to a huge
		 * len - 1 and fails the same test */
		if (m->m_next != NULL || off >= umem_len ||
		    len - 1 >= chunk - (off & cmask))
			break;
		d = &ring[prod++ & tmask];
		e = &fifo[tail++ & fmask];
		d->addr = off;
		d->len = len;
		d->options = 0;
		e->te_addr = off;
		e->te_obj = m;
		e->te_kind = XM_TXENT_MBUF;
		e->te_done = 0;
		bytes += len;
	}
	q->q_tx.r_cached_prod = prod;
	q->q_fifo_tail = tail;
	q->q_tx_descs += i;
	q->q_tx_packets += i;
	q->q_tx_bytes += bytes;
	/* stopped by the room, not by a packet of another kind */
	if (i == n && n < want)
		*full = true;
	return i;
}

uint16_t xm_port_tx_burst(struct xm_port *p, unsigned int qidx,
			  struct xm_mbuf **pkts, uint16_t n)
{
	struct xm_port_queue *q;
	bool full = false;
	uint32_t i = 0;

	if (xm_unlikely(p == NULL || qidx >= p->p_nq || !p->p_tx ||
			pkts == NULL)) {
		errno = EINVAL;
		return 0;
	}
	q = &p->p_q[qidx];
	xm_tx_reap(p, q);
	while (i < n && !full) {
		i += xm_tx_run(p, q, pkts + i, n - i, &full);
		if (i == n || full)
			break;
		if (!xm_tx_other(p, q, pkts[i]))
			break;
		i++;
	}
	if (i) {
		xm_prod_submit(&q->q_tx);
		xm_tx_kick(p, q);
	}
	return (uint16_t)i;
}

int xm_port_tx_complete(struct xm_port *p, unsigned int qidx)
{
	if (p == NULL || qidx >= p->p_nq || !p->p_tx)
		return -EINVAL;
	return (int)xm_tx_reap(p, &p->p_q[qidx]);
}

int xm_port_tx_flush(struct xm_port *p, unsigned int qidx)
{
	struct xm_port_queue *q;

	if (p == NULL || qidx >= p->p_nq || !p->p_tx)
		return -EINVAL;
	q = &p->p_q[qidx];
	if (xm_load_acquire(q->q_tx.r_consumer) != q->q_tx.r_cached_prod)
		xm_tx_kick(p, q);
	return (int)xm_tx_reap(p, q);
}

uint32_t xm_port_tx_pending(struct xm_port *p, unsigned int qidx)
{
	if (p == NULL || qidx >= p->p_nq)
		return 0;
	return p->p_q[qidx].q_fifo_tail - p->p_q[qidx].q_fifo_head;
}

int xm_port_refill(struct xm_port *p, unsigned int qidx)
{
	if (p == NULL || qidx >= p->p_nq || !p->p_rx)
		return -EINVAL;
	return (int)xm_fill(p, &p->p_q[qidx]);
}

int xm_port_poll(struct xm_port *p, unsigned int qidx, int timeout_ms)
{
	struct xm_port_queue *q;
	struct pollfd pfd;
	int n;

	if (p == NULL || qidx >= p->p_nq || !p->p_rx)
		return -EINVAL;
	q = &p->p_q[qidx];
	if (xm_cons_avail(&q->q_rx))
		return 1;
	xm_fill(p, q);
	pfd.fd = q->q_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	q->q_rx_wakeups++;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return -errno;
	return xm_cons_avail(&q->q_rx) ? 1 : 0;
}

/* ------------------------------------------------------------- close */

/* Lets what was queued go out, within bounds; q's socket is still open. */
void _xm_port_tx_drain(struct xm_port *p, struct xm_port_queue *q)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (q->q_fifo_head != q->q_fifo_tail) {
		xm_tx_kick(p, q);
		if (xm_tx_reap(p, q) == 0)
			usleep(200);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    XM_PORT_DRAIN_MS) {
			xm_pr_warn("%s: queue %u: %u TX frames not "
				   "completed at close; taking them "
				   "back\n", p->p_name, q->q_queue_id,
				   q->q_fifo_tail - q->q_fifo_head);
			break;
		}
	}
}

/* Takes back every frame q lent or has in flight; q's socket is closed. */
void _xm_port_queue_reclaim(struct xm_port *p, struct xm_port_queue *q)
{
	void *batch[64];
	unsigned int nb = 0;

	for (uint32_t j = q->q_fifo_head; j != q->q_fifo_tail; j++)
		xm_txent_release(p, &q->q_fifo[j & q->q_fifo_mask]);
	q->q_fifo_head = q->q_fifo_tail;
	q->q_fifo_ooo = 0;
	if (q->q_stash_cnt)
		xm_zone_free_bulk(p->p_zone, q->q_stash, q->q_stash_cnt);
	q->q_stash_cnt = 0;
	if (q->q_lent == NULL)
		return;
	for (uint64_t w = 0; w < (p->p_nchunks + 63) / 64; w++) {
		uint64_t bits = q->q_lent[w];

		while (bits) {
			uint64_t i = w * 64 + (uint64_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			batch[nb++] = p->p_base + (i << p->p_chunk_shift);
			if (nb == 64) {
				xm_zone_free_bulk(p->p_zone, batch, nb);
				nb = 0;
			}
		}
		q->q_lent[w] = 0;
	}
	if (nb)
		xm_zone_free_bulk(p->p_zone, batch, nb);
	q->q_lent_cnt = 0;
}

/* ---------------------------------------------------------- test hooks */

#ifdef INVARIANTS
void _xm_port_set_rx_desc_cap(struct xm_port *p, uint32_t cap)
{
	p->p_rx_desc_cap = cap;
}
#endif
