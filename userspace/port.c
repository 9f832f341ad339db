/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port.c - AF_XDP ports: sockets, rings, RX and TX bursts.
 *
 * One UMEM registration serves every socket of the process: the first
 * socket registers the xm_umem region (XDP_UMEM_REG) and binds with the
 * mode flags; every later socket, on any queue of any interface, binds
 * with XDP_SHARED_UMEM and its own fill and completion rings, so a frame
 * received on one port is transmitted on another as it is.
 *
 *   xm_umem region (one registration)
 *   +----------------------------------------------------------+
 *   | chunk | chunk | chunk | ...   frames of the chunk-size zone |
 *   +----------------------------------------------------------+
 *      ^ fill ring: frames lent to the kernel (bit set in q_lent)
 *      | RX ring:   frames back, wrapped by xm_rxframe() -> mbufs
 *      | TX ring:   frames of the application's chains, each one's
 *      |            mbuf reference parked in q_fifo until completion
 *      v completion ring: the parked reference is dropped (xm_free)
 *
 * The kernel binds mode, need_wakeup and multi-buffer per registration
 * (a shared socket inherits them; it may not name its own).  A socket
 * wanting different flags (zero-copy on a NIC beside copy mode on a veth)
 * gets a second registration of the same region: frames keep the same
 * offsets, so forwarding between the two stays copy-free.
 *
 * Frame conservation: a frame on a fill ring, in the kernel or on an RX
 * ring not yet read is recorded in the socket's q_lent bitmap; one on the
 * TX path has its entry in q_fifo.  Closing a socket returns both sets to
 * the zone, after the kernel has let go of the socket.
 *
 * Official port KPI (xm_port.h): xm_port_open, xm_port_close,
 * xm_port_rx_burst, xm_port_tx_burst, xm_port_tx_flush,
 * xm_port_tx_complete, xm_port_tx_pending, xm_port_refill, xm_port_poll,
 * xm_port_fd, xm_port_queue_count, xm_port_queue_id, xm_port_ifindex,
 * xm_port_name, xm_port_mode, xm_port_mode_name, xm_port_multi_buffer,
 * xm_port_need_wakeup, xm_port_mtu, xm_port_tx_budget, xm_port_umem,
 * xm_port_index, xm_port_has_prog, xm_port_prog_multi, xm_port_stats,
 * xm_port_queue_stats, xm_port_rule_add, xm_port_rule_clear,
 * xm_port_rule_count.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "xm_port_int.h"

#ifndef AF_XDP
#define AF_XDP			44
#endif
#ifndef SOL_XDP
#define SOL_XDP			283
#endif

/*
 * Above this MTU the program must be an xdp.frags build to attach at all
 * (veth's single-buffer limit is about 3500 bytes, some drivers' 3 KiB).
 */
#define XM_PORT_FRAGS_MTU	3000
/* Wire bytes beyond the MTU a frame may carry: Ethernet + one VLAN tag. */
#define XM_PORT_L2_OVERHEAD	18
/* How long close waits for TX completions before taking frames back. */
#define XM_PORT_DRAIN_MS	500
/*
 * How long open waits for a queue a closed socket has not yet let go: the
 * kernel lets go from a workqueue item under rtnl_lock, which namespace
 * teardown elsewhere on the machine can hold for seconds.
 */
#define XM_PORT_BUSY_MS		5000

/* ------------------------------------------------------ registrations */

struct xm_umem_reg {
	struct xm_umem *ur_umem;
	bool ur_zc;			/* bound zero-copy */
	bool ur_need_wakeup;
	bool ur_sg;
	struct xm_port_queue *ur_socks;	/* members; the first shares */
	struct xm_umem_reg *ur_next;
};

/* Registrations and open ports: touched by open and close only. */
static pthread_mutex_t xm_port_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xm_umem_reg *xm_regs;
static struct xm_port *xm_ports;

/* ---------------------------------------------------------------- rings */

static inline uint32_t xm_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void xm_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Entries the kernel has produced and we have not consumed. */
static inline uint32_t xm_cons_avail(struct xm_ring *r)
{
	uint32_t n = r->r_cached_prod - r->r_cached_cons;

	if (n == 0) {
		r->r_cached_prod = xm_load_acquire(r->r_producer);
		n = r->r_cached_prod - r->r_cached_cons;
	}
	return n;
}

static inline void xm_cons_release(struct xm_ring *r)
{
	/* descriptors are read before the kernel may reuse their slots */
	xm_store_release(r->r_consumer, r->r_cached_cons);
}

/* Free slots for us to produce into, refreshed when fewer than want. */
static inline uint32_t xm_prod_free(struct xm_ring *r, uint32_t want)
{
	uint32_t n = r->r_size - (r->r_cached_prod - r->r_cached_cons);

	if (n < want) {
		r->r_cached_cons = xm_load_acquire(r->r_consumer);
		n = r->r_size - (r->r_cached_prod - r->r_cached_cons);
	}
	return n;
}

static inline void xm_prod_submit(struct xm_ring *r)
{
	/* everything written to the ring before the kernel sees it */
	xm_store_release(r->r_producer, r->r_cached_prod);
}

static int xm_ring_map(int fd, const struct xdp_ring_offset *off,
		       uint32_t entries, size_t entry_size, off_t pgoff,
		       struct xm_ring *r)
{
	size_t len = off->desc + entries * entry_size;
	void *map;

	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_POPULATE, fd, pgoff);
	if (map == MAP_FAILED)
		return -errno;
	r->r_map = map;
	r->r_map_len = len;
	r->r_size = entries;
	r->r_mask = entries - 1;
	r->r_producer = (uint32_t *)((char *)map + off->producer);
	r->r_consumer = (uint32_t *)((char *)map + off->consumer);
	r->r_flags = (uint32_t *)((char *)map + off->flags);
	r->r_ring = (char *)map + off->desc;
	r->r_cached_prod = *r->r_producer;
	r->r_cached_cons = *r->r_consumer;
	return 0;
}

static void xm_ring_unmap(struct xm_ring *r)
{
	if (r->r_map)
		munmap(r->r_map, r->r_map_len);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ helpers */

static const char *xm_errname(int err)
{
	const char *s = strerrorname_np(err < 0 ? -err : err);

	return s ? s : "?";
}

static bool xm_is_pow2(uint32_t v)
{
	return v && (v & (v - 1)) == 0;
}

static uint64_t xm_thread_netns(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) != 0)
		return 0;
	return st.st_ino;
}

/* MTU and queue count of ifname, in the calling thread's namespace. */
static int xm_ifinfo(const char *ifname, uint32_t *mtu, uint32_t *nqueues)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) != 0) {
		err = -errno;
		goto out_close;
	}
	*mtu = (uint32_t)ifr.ifr_mtu;
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		uint32_t n = ch.rx_count > ch.combined_count ?
			     ch.rx_count : ch.combined_count;

		*nqueues = n ? n : 1;
	} else {
		*nqueues = 1;	/* no channels op: a single-queue device */
	}
out_close:
	close(fd);
	return err;
}

static inline void xm_lent_set(struct xm_port *p, struct xm_port_queue *q,
			       uint64_t off)
{
	uint64_t i = off >> p->p_chunk_shift;

	q->q_lent[i / 64] |= 1ULL << (i % 64);
	q->q_lent_cnt++;
}

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
	uint32_t free, added = 0;
	uint64_t *ring = r->r_ring;

	free = xm_prod_free(r, XM_PORT_FILL_BATCH);
	if (q->q_lent_cnt >= p->p_lend_max)
		free = 0;
	else if (free > p->p_lend_max - q->q_lent_cnt)
		free = p->p_lend_max - q->q_lent_cnt;
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
		for (unsigned int i = 0; i < n; i++) {
			uint64_t off = (uint64_t)((char *)items[i] - p->p_base);

			ring[(r->r_cached_prod + i) & r->r_mask] = off;
			xm_lent_set(p, q, off);
		}
		r->r_cached_prod += n;
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

uint16_t xm_port_rx_burst(struct xm_port *p, unsigned int qidx,
			  struct xm_mbuf **pkts, uint16_t n)
{
	struct xm_port_queue *q;
	struct xm_mbuf *head, *tail;
	const struct xdp_desc *ring;
	uint32_t avail, done = 0, plen, psegs;
	uint16_t npkts = 0;

	if (xm_unlikely(p == NULL || qidx >= p->p_nq || !p->p_rx ||
			pkts == NULL)) {
		errno = EINVAL;
		return 0;
	}
	q = &p->p_q[qidx];
	avail = xm_cons_avail(&q->q_rx);
	if (xm_unlikely(p->p_rx_desc_cap) && avail > p->p_rx_desc_cap)
		avail = p->p_rx_desc_cap;
	if (avail == 0) {
		xm_fill(p, q);
		/* zero-copy drivers sleep until poked (need_wakeup) */
		if (p->p_need_wakeup &&
		    (*q->q_fill.r_flags & XDP_RING_NEED_WAKEUP)) {
			recvfrom(q->q_fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
			q->q_rx_wakeups++;
		}
		return 0;
	}

	ring = q->q_rx.r_ring;
	head = q->q_part_head;
	tail = q->q_part_tail;
	plen = q->q_part_len;
	psegs = q->q_part_segs;
	while (done < avail && npkts < n) {
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
		q->q_rx_bytes += plen;
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
 * the entry is found further on and marked, and references are dropped
 * only from the head, so a frame split over several descriptors is never
 * released while one of them is still out.
 */
static uint32_t xm_tx_reap(struct xm_port *p, struct xm_port_queue *q)
{
	uint32_t n = xm_cons_avail(&q->q_comp);
	const uint64_t *ring = q->q_comp.r_ring;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = ring[(q->q_comp.r_cached_cons + i) &
				     q->q_comp.r_mask];
		struct xm_txent *e = &q->q_fifo[q->q_fifo_head &
						q->q_fifo_mask];

		if (xm_likely(q->q_fifo_head != q->q_fifo_tail &&
			      e->te_addr == addr && !e->te_done)) {
			e->te_done = 1;
		} else {
			uint32_t j;

			for (j = q->q_fifo_head; j != q->q_fifo_tail; j++) {
				e = &q->q_fifo[j & q->q_fifo_mask];
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
		while (q->q_fifo_head != q->q_fifo_tail) {
			e = &q->q_fifo[q->q_fifo_head & q->q_fifo_mask];
			if (!e->te_done)
				break;
			xm_txent_release(p, e);
			q->q_fifo_head++;
		}
	}
	if (n) {
		q->q_comp.r_cached_cons += n;
		xm_cons_release(&q->q_comp);
		q->q_tx_completions += n;
	}
	return n;
}

static void xm_tx_kick(struct xm_port *p, struct xm_port_queue *q)
{
	if (p->p_need_wakeup && !(*q->q_tx.r_flags & XDP_RING_NEED_WAKEUP))
		return;
	/* EAGAIN, EBUSY, ENOBUFS: the kernel is busy; the next kick sends */
	sendto(q->q_fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	q->q_tx_wakeups++;
}

uint16_t xm_port_tx_burst(struct xm_port *p, unsigned int qidx,
			  struct xm_mbuf **pkts, uint16_t n)
{
	struct xm_port_queue *q;
	uint32_t fifo_size;
	uint16_t i;

	if (xm_unlikely(p == NULL || qidx >= p->p_nq || !p->p_tx ||
			pkts == NULL)) {
		errno = EINVAL;
		return 0;
	}
	q = &p->p_q[qidx];
	fifo_size = q->q_fifo_mask + 1;
	xm_tx_reap(p, q);
	for (i = 0; i < n; i++) {
		struct xm_mbuf *m = pkts[i];
		void *frames[XM_PORT_MAX_SEGS];
		struct xm_tx_plan pl;

		/*
		 * The common packet, one mbuf over one chunk of the UMEM
		 * (a generator's frame, a forwarded frame), is one
		 * descriptor: no plan, no second walk (measured at the
		 * copy-mode peak on veth, 64 bytes: this function went from
		 * 2.4% to 0.9% of the sender's CPU).
		 */
		if (m->m_next == NULL && m->m_len > 0 &&
		    xm_in_umem(p, m->m_data, (uint32_t)m->m_len) &&
		    xm_seg_descs(p, (uint64_t)(m->m_data - p->p_base),
				 (uint32_t)m->m_len) == 1) {
			uint64_t off = (uint64_t)(m->m_data - p->p_base);

			if (xm_unlikely(xm_prod_free(&q->q_tx, 1) == 0 ||
					q->q_fifo_tail - q->q_fifo_head ==
					fifo_size)) {
				xm_tx_reap(p, q);
				if (xm_prod_free(&q->q_tx, 1) == 0 ||
				    q->q_fifo_tail - q->q_fifo_head ==
				    fifo_size)
					break;
			}
			xm_tx_emit(q, off, (uint32_t)m->m_len, XM_TXENT_MBUF,
				   m);
			((struct xdp_desc *)q->q_tx.r_ring)[(q->q_tx.r_cached_prod
				- 1) & q->q_tx.r_mask].options = 0;
			q->q_tx_descs++;
			q->q_tx_packets++;
			q->q_tx_bytes += (uint32_t)m->m_len;
			continue;
		}
		xm_tx_plan(p, m, &pl);
		if (xm_unlikely(pl.descs == 0 || pl.descs > XM_PORT_MAX_SEGS)) {
			/* empty, or too long for the kernel even copied */
			xm_freem(m);
			q->q_tx_dropped++;
			continue;
		}
		if (xm_prod_free(&q->q_tx, pl.descs) < pl.descs ||
		    fifo_size - (q->q_fifo_tail - q->q_fifo_head) < pl.descs) {
			xm_tx_reap(p, q);
			if (xm_prod_free(&q->q_tx, pl.descs) < pl.descs ||
			    fifo_size - (q->q_fifo_tail - q->q_fifo_head) <
			    pl.descs)
				break;	/* full: the caller keeps the rest */
		}
		if (pl.frames && xm_zone_alloc_bulk(p->p_zone, frames,
						    pl.frames, XM_NOWAIT) != 0) {
			xm_freem(m);
			q->q_tx_dropped++;
			continue;
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
	}
	if (i) {
		xm_prod_submit(&q->q_tx);
		xm_tx_kick(p, q);
	}
	return i;
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

/* -------------------------------------------------------------- sockets */

/* The system calls that make a socket, in order: what failed, by name. */
enum xm_sock_step {
	XM_STEP_SOCKET,
	XM_STEP_UMEM_REG,
	XM_STEP_FILL_RING,
	XM_STEP_COMP_RING,
	XM_STEP_RX_RING,
	XM_STEP_TX_RING,
	XM_STEP_OFFSETS,
	XM_STEP_MMAP_FILL,
	XM_STEP_MMAP_COMP,
	XM_STEP_MMAP_RX,
	XM_STEP_MMAP_TX,
	XM_STEP_BIND,
	XM_STEP_ZC_CHECK,
	XM_STEP_TX_BUDGET,
	XM_STEP_ALLOC,
};

static const char *const xm_step_names[] = {
	[XM_STEP_SOCKET] = "socket(AF_XDP)",
	[XM_STEP_UMEM_REG] = "setsockopt(XDP_UMEM_REG)",
	[XM_STEP_FILL_RING] = "setsockopt(XDP_UMEM_FILL_RING)",
	[XM_STEP_COMP_RING] = "setsockopt(XDP_UMEM_COMPLETION_RING)",
	[XM_STEP_RX_RING] = "setsockopt(XDP_RX_RING)",
	[XM_STEP_TX_RING] = "setsockopt(XDP_TX_RING)",
	[XM_STEP_OFFSETS] = "getsockopt(XDP_MMAP_OFFSETS)",
	[XM_STEP_MMAP_FILL] = "mmap(fill ring)",
	[XM_STEP_MMAP_COMP] = "mmap(completion ring)",
	[XM_STEP_MMAP_RX] = "mmap(RX ring)",
	[XM_STEP_MMAP_TX] = "mmap(TX ring)",
	[XM_STEP_BIND] = "bind",
	[XM_STEP_ZC_CHECK] = "getsockopt(XDP_OPTIONS) zero-copy check",
	[XM_STEP_TX_BUDGET] = "setsockopt(XDP_MAX_TX_SKB_BUDGET)",
	[XM_STEP_ALLOC] = "calloc(registration)",
};

/*
 * Creates and binds q's socket, zero-copy or copy, joining a compatible
 * registration when there is one.  *step names what failed.
 */
static int xm_sock_open(struct xm_port *p, struct xm_port_queue *q, bool zc,
			enum xm_sock_step *step)
{
	struct xdp_mmap_offsets off;
	struct sockaddr_xdp sxdp;
	struct xm_umem_reg *reg;
	struct xdp_options xo;
	socklen_t optlen;
	int fd, err;

	for (reg = xm_regs; reg; reg = reg->ur_next)
		if (reg->ur_umem == p->p_umem && reg->ur_zc == zc &&
		    reg->ur_need_wakeup == p->p_need_wakeup &&
		    (reg->ur_sg || !p->p_sg))
			break;

	*step = XM_STEP_SOCKET;
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	q->q_fd = fd;
	if (reg == NULL) {
		struct xdp_umem_reg mr = {
			.addr = (uint64_t)(uintptr_t)p->p_base,
			.len = p->p_nchunks * p->p_chunk,
			.chunk_size = p->p_chunk,
			.headroom = 0,
			.flags = 0,
		};

		/* the kernel pins every page of the region here */
		*step = XM_STEP_UMEM_REG;
		if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)))
			goto out_errno;
	}
	/* every socket has its own fill and completion ring */
	*step = XM_STEP_FILL_RING;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &p->p_fill_size,
		       sizeof(p->p_fill_size)))
		goto out_errno;
	*step = XM_STEP_COMP_RING;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &p->p_comp_size,
		       sizeof(p->p_comp_size)))
		goto out_errno;
	*step = XM_STEP_RX_RING;
	if (p->p_rx && setsockopt(fd, SOL_XDP, XDP_RX_RING, &p->p_rx_size,
				  sizeof(p->p_rx_size)))
		goto out_errno;
	*step = XM_STEP_TX_RING;
	if (p->p_tx && setsockopt(fd, SOL_XDP, XDP_TX_RING, &p->p_tx_size,
				  sizeof(p->p_tx_size)))
		goto out_errno;
	*step = XM_STEP_OFFSETS;
	optlen = sizeof(off);
	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen))
		goto out_errno;
	*step = XM_STEP_MMAP_FILL;
	err = xm_ring_map(fd, &off.fr, p->p_fill_size, sizeof(uint64_t),
			  (off_t)XDP_UMEM_PGOFF_FILL_RING, &q->q_fill);
	if (err == 0) {
		*step = XM_STEP_MMAP_COMP;
		err = xm_ring_map(fd, &off.cr, p->p_comp_size,
				  sizeof(uint64_t),
				  (off_t)XDP_UMEM_PGOFF_COMPLETION_RING,
				  &q->q_comp);
	}
	if (err == 0 && p->p_rx) {
		*step = XM_STEP_MMAP_RX;
		err = xm_ring_map(fd, &off.rx, p->p_rx_size,
				  sizeof(struct xdp_desc), XDP_PGOFF_RX_RING,
				  &q->q_rx);
	}
	if (err == 0 && p->p_tx) {
		*step = XM_STEP_MMAP_TX;
		err = xm_ring_map(fd, &off.tx, p->p_tx_size,
				  sizeof(struct xdp_desc), XDP_PGOFF_TX_RING,
				  &q->q_tx);
	}
	if (err)
		goto out_unmap;

	memset(&sxdp, 0, sizeof(sxdp));
	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = (uint32_t)p->p_ifindex;
	sxdp.sxdp_queue_id = q->q_queue_id;
	if (reg) {
		/* the kernel takes mode flags from the registration */
		sxdp.sxdp_flags = XDP_SHARED_UMEM;
		sxdp.sxdp_shared_umem_fd = (uint32_t)reg->ur_socks->q_fd;
	} else {
		sxdp.sxdp_flags = zc ? XDP_ZEROCOPY : XDP_COPY;
		if (p->p_need_wakeup)
			sxdp.sxdp_flags |= XDP_USE_NEED_WAKEUP;
		if (p->p_sg)
			sxdp.sxdp_flags |= XDP_USE_SG;
	}
	*step = XM_STEP_BIND;
	if (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp))) {
		err = -errno;
		goto out_unmap;
	}
	*step = XM_STEP_ZC_CHECK;
	memset(&xo, 0, sizeof(xo));
	optlen = sizeof(xo);
	if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &xo, &optlen) == 0 &&
	    !!(xo.flags & XDP_OPTIONS_ZEROCOPY) != zc) {
		err = -EOPNOTSUPP;
		goto out_unmap;
	}

	*step = XM_STEP_TX_BUDGET;
	if (p->p_tx && !zc && p->p_tx_budget > XM_PORT_TX_BUDGET_MIN &&
	    setsockopt(fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &p->p_tx_budget,
		       sizeof(p->p_tx_budget))) {
		err = -errno;
		/*
		 * Before 6.18 the option is unknown (ENOPROTOOPT): the kernel
		 * sends its fixed 32 per sendto(), which works, only with
		 * more system calls.  Anything else is a kernel that refused
		 * a value in the range it documents: the caller's value is
		 * an error, the default falls back.
		 */
		if (err != -ENOPROTOOPT && p->p_tx_budget_set)
			goto out_unmap;
		xm_pr_info("%s: queue %u: copy-mode TX budget %u not taken "
			   "(XDP_MAX_TX_SKB_BUDGET: %s): the kernel sends %u "
			   "per sendto()\n", p->p_name, q->q_queue_id,
			   p->p_tx_budget, xm_errname(err),
			   XM_PORT_TX_BUDGET_MIN);
		p->p_tx_budget = XM_PORT_TX_BUDGET_MIN;
	}

	if (reg == NULL) {
		*step = XM_STEP_ALLOC;
		reg = calloc(1, sizeof(*reg));
		if (reg == NULL) {
			err = -ENOMEM;
			goto out_unmap;
		}
		reg->ur_umem = p->p_umem;
		reg->ur_zc = zc;
		reg->ur_need_wakeup = p->p_need_wakeup;
		reg->ur_sg = p->p_sg;
		reg->ur_next = xm_regs;
		xm_regs = reg;
	}
	q->q_reg = reg;
	q->q_reg_next = reg->ur_socks;
	reg->ur_socks = q;

	return 0;

out_errno:
	err = -errno;
out_unmap:
	xm_ring_unmap(&q->q_rx);
	xm_ring_unmap(&q->q_tx);
	xm_ring_unmap(&q->q_fill);
	xm_ring_unmap(&q->q_comp);
	close(fd);
	q->q_fd = -1;
	return err;
}

/*
 * A queue's previous socket, closed a moment ago, still holds it until
 * the kernel's deferred pool release runs (a workqueue item after the
 * last close): bind says EBUSY meanwhile.  Retry for a bounded time;
 * a socket that really owns the queue outlasts it.
 */
static int xm_sock_open_retry(struct xm_port *p, struct xm_port_queue *q,
			      bool zc, enum xm_sock_step *step)
{
	struct timespec t0, t;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		err = xm_sock_open(p, q, zc, step);
		if (err != -EBUSY || *step != XM_STEP_BIND)
			return err;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > XM_PORT_BUSY_MS)
			return err;
		usleep(2000);
	}
}

static int xm_sock_busy_poll(struct xm_port *p, struct xm_port_queue *q,
			     const struct xm_port_opts *opts)
{
	uint32_t usecs = XM_OPTS_GET(opts, busy_poll_usecs, 0);
	uint32_t budget = XM_OPTS_GET(opts, busy_poll_budget, 0);
	int one = 1;

	if (p->p_flags & XM_PORT_F_PREFER_BUSY_POLL &&
	    setsockopt(q->q_fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one,
		       sizeof(one)))
		return -errno;
	if (usecs && setsockopt(q->q_fd, SOL_SOCKET, SO_BUSY_POLL, &usecs,
				sizeof(usecs)))
		return -errno;
	if (budget && setsockopt(q->q_fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET,
				 &budget, sizeof(budget)))
		return -errno;
	return 0;
}

/* Takes back every frame q lent or has in flight; q's socket is closed. */
static void xm_queue_reclaim(struct xm_port *p, struct xm_port_queue *q)
{
	void *batch[64];
	unsigned int nb = 0;

	for (uint32_t j = q->q_fifo_head; j != q->q_fifo_tail; j++)
		xm_txent_release(p, &q->q_fifo[j & q->q_fifo_mask]);
	q->q_fifo_head = q->q_fifo_tail;
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

static void xm_queue_close(struct xm_port *p, struct xm_port_queue *q)
{
	if (q->q_fd >= 0 && p->p_tx) {
		struct timespec t0, t;

		/* let what was queued go out, within bounds */
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
	xm_freem(q->q_part_head);
	q->q_part_head = q->q_part_tail = NULL;

	if (q->q_reg) {
		struct xm_umem_reg *reg = q->q_reg;
		struct xm_port_queue **pp;

		for (pp = &reg->ur_socks; *pp; pp = &(*pp)->q_reg_next) {
			if (*pp == q) {
				*pp = q->q_reg_next;
				break;
			}
		}
		if (reg->ur_socks == NULL) {
			struct xm_umem_reg **rp;

			for (rp = &xm_regs; *rp; rp = &(*rp)->ur_next) {
				if (*rp == reg) {
					*rp = reg->ur_next;
					break;
				}
			}
			free(reg);
		}
		q->q_reg = NULL;
	}
	/* the ring mappings hold the socket open: unmap, then close */
	xm_ring_unmap(&q->q_rx);
	xm_ring_unmap(&q->q_tx);
	xm_ring_unmap(&q->q_fill);
	xm_ring_unmap(&q->q_comp);
	if (q->q_fd >= 0) {
		close(q->q_fd);
		q->q_fd = -1;
		/*
		 * XXX: a zero-copy driver lets go of its frames when the
		 * pool is torn down from a workqueue after the last close
		 * (xp_put_pool() -> xp_release_deferred() -> xp_clear_dev():
		 * ndo_bpf(XDP_SETUP_XSK_POOL, NULL)); no event says when.
		 * Give it a grace period before the frames are reused.
		 * Reaping the completion ring instead would not do: TX in
		 * flight was already reaped above, bounded by
		 * XM_PORT_DRAIN_MS, while the socket was open; what is at
		 * risk here are the fill-ring frames the NIC may still DMA
		 * into, which come back on no ring, and the rings are
		 * unmapped by now (the kernel frees them in that work
		 * item).  The one observable end is the queue's pool slot
		 * clearing right after the driver let go: a copy-mode bind
		 * of a scratch socket to the queue stops failing with
		 * EBUSY.  Needs a real NIC to verify.
		 */
		if (p->p_mode == XM_PORT_MODE_ZEROCOPY)
			usleep(100 * 1000);
	}
	xm_queue_reclaim(p, q);
	free(q->q_lent);
	q->q_lent = NULL;
	free(q->q_fifo);
	q->q_fifo = NULL;
}

/* ------------------------------------------------------------ open/close */

static void xm_port_unlist(struct xm_port *p)
{
	for (struct xm_port **pp = &xm_ports; *pp; pp = &(*pp)->p_next) {
		if (*pp == p) {
			*pp = p->p_next;
			break;
		}
	}
}

static void xm_port_free(struct xm_port *p)
{
	if (p->p_has_prog)
		_xm_xdp_detach(&p->p_xdp);
	p->p_has_prog = false;
	pthread_mutex_lock(&xm_port_lock);
	for (unsigned int i = 0; i < p->p_nq; i++)
		xm_queue_close(p, &p->p_q[i]);
	xm_port_unlist(p);
	pthread_mutex_unlock(&xm_port_lock);
	free(p->p_q);
	free(p);
}

void xm_port_close(struct xm_port *p)
{
	if (p == NULL)
		return;
	xm_port_free(p);
}

static bool xm_fallback_ok(int err)
{
	return err != -EPERM && err != -EACCES && err != -EBUSY &&
	       err != -ENODEV && err != -ENOMEM;
}

/* Checks options and interface; fills p.  @return 0 or -errno. */
static int xm_port_setup(struct xm_port *p, struct xm_umem *u,
			 const char *ifname, const struct xm_port_opts *opts,
			 uint32_t *queues, uint32_t *nq)
{
	const uint32_t known = XM_PORT_F_NO_NEED_WAKEUP |
			       XM_PORT_F_PREFER_BUSY_POLL |
			       XM_PORT_F_NO_METADATA | XM_PORT_F_NO_XDP_PROG |
			       XM_PORT_F_TX_ONLY | XM_PORT_F_RX_ONLY |
			       XM_PORT_F_LEND_RX_RING | XM_PORT_F_XDP_LINK;
	const uint32_t *want = XM_OPTS_GET(opts, queues, NULL);
	uint32_t nwant = XM_OPTS_GET(opts, nqueues, 0);
	uint32_t mode = XM_OPTS_GET(opts, mode, XM_PORT_MODE_AUTO);
	uint32_t mb = XM_OPTS_GET(opts, multi_buffer, XM_PORT_MB_AUTO);
	uint32_t devq = 1, chunk;
	int err;

	p->p_flags = XM_OPTS_GET(opts, flags, 0);
	if (p->p_flags & ~known) {
		xm_pr_warn("%s: unknown flags 0x%x\n", ifname,
			   p->p_flags & ~known);
		return -EINVAL;
	}
	if ((p->p_flags & XM_PORT_F_TX_ONLY) &&
	    (p->p_flags & XM_PORT_F_RX_ONLY)) {
		xm_pr_warn("%s: TX_ONLY and RX_ONLY together\n", ifname);
		return -EINVAL;
	}
	if (mode > XM_PORT_MODE_SKB || mb > XM_PORT_MB_OFF) {
		xm_pr_warn("%s: bad mode %u or multi_buffer %u\n", ifname,
			   mode, mb);
		return -EINVAL;
	}
	p->p_rx = !(p->p_flags & XM_PORT_F_TX_ONLY);
	p->p_tx = !(p->p_flags & XM_PORT_F_RX_ONLY);
	p->p_need_wakeup = !(p->p_flags & XM_PORT_F_NO_NEED_WAKEUP);
	p->p_index = XM_OPTS_GET(opts, port_index, 0);
	p->p_mode = (enum xm_port_mode)mode;

	p->p_rx_size = XM_OPTS_GET(opts, rx_size, 0);
	p->p_tx_size = XM_OPTS_GET(opts, tx_size, 0);
	p->p_fill_size = XM_OPTS_GET(opts, fill_size, 0);
	p->p_comp_size = XM_OPTS_GET(opts, comp_size, 0);
	if (!p->p_rx_size)
		p->p_rx_size = XM_PORT_DEF_RX_SIZE;
	if (!p->p_tx_size)
		p->p_tx_size = XM_PORT_DEF_TX_SIZE;
	if (!p->p_fill_size)
		p->p_fill_size = p->p_rx ? 2 * p->p_rx_size :
				 XM_PORT_FILL_BATCH;
	if (!p->p_comp_size)
		p->p_comp_size = p->p_tx_size;
	{
		const struct { const char *n; uint32_t v; } rs[] = {
			{ "rx_size", p->p_rx_size },
			{ "tx_size", p->p_tx_size },
			{ "fill_size", p->p_fill_size },
			{ "comp_size", p->p_comp_size },
		};

		for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
			if (!xm_is_pow2(rs[i].v) || rs[i].v > XM_PORT_RING_MAX) {
				xm_pr_warn("%s: %s %u is not a power of two "
					   "up to %u\n", ifname, rs[i].n,
					   rs[i].v, XM_PORT_RING_MAX);
				return -EINVAL;
			}
		}
	}
	if (p->p_rx && p->p_fill_size < 2 * p->p_rx_size) {
		xm_pr_warn("%s: fill_size %u is less than twice rx_size %u\n",
			   ifname, p->p_fill_size, p->p_rx_size);
		return -EINVAL;
	}
	if (p->p_comp_size < p->p_tx_size) {
		xm_pr_warn("%s: comp_size %u is less than tx_size %u\n",
			   ifname, p->p_comp_size, p->p_tx_size);
		return -EINVAL;
	}
	p->p_tx_budget = XM_OPTS_GET(opts, tx_budget, 0);
	p->p_tx_budget_set = p->p_tx_budget != 0;
	if (p->p_tx_budget_set && !p->p_tx) {
		xm_pr_warn("%s: tx_budget %u on an RX_ONLY port\n", ifname,
			   p->p_tx_budget);
		return -EINVAL;
	}
	if (p->p_tx_budget_set && (p->p_tx_budget < XM_PORT_TX_BUDGET_MIN ||
				   p->p_tx_budget > p->p_tx_size)) {
		/* the kernel's own range (EACCES outside it) */
		xm_pr_warn("%s: tx_budget %u is outside %u .. tx_size %u\n",
			   ifname, p->p_tx_budget, XM_PORT_TX_BUDGET_MIN,
			   p->p_tx_size);
		return -EINVAL;
	}
	if (!p->p_tx_budget_set)
		p->p_tx_budget = p->p_tx_size;

	chunk = xm_umem_chunk_size(u);
	if (chunk != XM_MCLBYTES && chunk != XM_MJUMPAGESIZE) {
		xm_pr_warn("%s: UMEM chunk size %u not supported (2048 or "
			   "4096)\n", ifname, chunk);
		return -EINVAL;
	}
	p->p_umem = u;
	p->p_chunk = chunk;
	p->p_chunk_shift = (uint32_t)__builtin_ctz(chunk);
	p->p_zone = xm_umem_zone(u, chunk == XM_MCLBYTES ? XM_ZONE_CLUST :
				 XM_ZONE_JUMBOP);
	if (p->p_zone == NULL || xm_zone_size(p->p_zone) != chunk) {
		xm_pr_warn("%s: no frame zone of the chunk size %u\n", ifname,
			   chunk);
		return -EINVAL;
	}
	p->p_base = xm_umem_base(u);
	p->p_nchunks = xm_umem_size(u) / chunk;

	p->p_ifindex = (int)if_nametoindex(ifname);
	if (p->p_ifindex == 0) {
		xm_pr_warn("%s: no such interface (%s)\n", ifname,
			   xm_errname(ENODEV));
		return -ENODEV;
	}
	snprintf(p->p_name, sizeof(p->p_name), "%s", ifname);
	err = xm_ifinfo(ifname, &p->p_mtu, &devq);
	if (err) {
		xm_pr_warn("%s: cannot read MTU: %s\n", ifname, strerror(-err));
		return err;
	}

	if (want == NULL && nwant) {
		xm_pr_warn("%s: nqueues %u without a queues array\n", ifname,
			   nwant);
		return -EINVAL;
	}
	if (want == NULL)
		nwant = devq;
	if (nwant == 0 || nwant > XM_PORT_MAX_QUEUES) {
		xm_pr_warn("%s: %u queues requested (1 to %d)\n", ifname,
			   nwant, XM_PORT_MAX_QUEUES);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < nwant; i++) {
		uint32_t qid = want ? want[i] : i;

		if (qid >= devq || qid >= XM_XDP_MAX_QUEUES) {
			xm_pr_warn("%s: queue %u out of range (%s has %u "
				   "queue%s)\n", ifname, qid, ifname, devq,
				   devq == 1 ? "" : "s");
			return -EINVAL;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (queues[j] == qid) {
				xm_pr_warn("%s: queue %u given twice\n",
					   ifname, qid);
				return -EINVAL;
			}
		}
		queues[i] = qid;
	}
	*nq = nwant;

	/* multi-buffer when a full-size frame does not fit one chunk */
	if (mb == XM_PORT_MB_ON)
		p->p_sg = true;
	else if (mb == XM_PORT_MB_AUTO)
		p->p_sg = p->p_mtu + XM_PORT_L2_OVERHEAD >
			  chunk - XM_PORT_XDP_HEADROOM;
	p->p_meta = !(p->p_flags & XM_PORT_F_NO_METADATA);
	return 0;
}

/* Attaches the program; AUTO falls back from native to SKB mode. */
static int xm_port_prog(struct xm_port *p)
{
	bool frags = p->p_sg || p->p_mtu > XM_PORT_FRAGS_MTU;
	bool skb = p->p_mode == XM_PORT_MODE_SKB;
	int err;

	err = _xm_xdp_attach(&p->p_xdp, p->p_ifindex, p->p_name, frags, skb,
			     p->p_meta, p->p_flags & XM_PORT_F_XDP_LINK);
	if (err && p->p_mode == XM_PORT_MODE_AUTO && xm_fallback_ok(err)) {
		xm_pr_warn("%s: native XDP not available (%s), using SKB "
			   "mode\n", p->p_name, xm_errname(err));
		skb = true;
		err = _xm_xdp_attach(&p->p_xdp, p->p_ifindex, p->p_name,
				     frags, skb, p->p_meta,
				     p->p_flags & XM_PORT_F_XDP_LINK);
	}
	if (err)
		return err;
	p->p_has_prog = true;
	if (skb)
		p->p_mode = XM_PORT_MODE_SKB;
	return 0;
}

/*
 * Why XDP_UMEM_REG failed, where the errno alone does not say.  The
 * kernel pins every page of the region there (pin_user_pages() with
 * FOLL_WRITE | FOLL_LONGTERM), faulting in those not yet present: a
 * fault that fails on the first page comes back as EFAULT, one on a
 * later page as ENOMEM (the pin fell short).  A hugetlb fault fails
 * when the pool has no page for it.
 */
static const char *xm_umem_reg_cause(const struct xm_port *p, int err)
{
	bool huge = xm_umem_hugepages(p->p_umem);

	switch (err) {
	case -EFAULT:
	case -ENOMEM:
		if (huge)
			return "a 2 MiB hugepage of the region could not be "
			       "faulted in to be pinned: the hugepage pool "
			       "lost pages the mapping had reserved (was "
			       "vm.nr_hugepages lowered?); keep the pool "
			       "steady or create the umem with "
			       "XM_UMEM_F_NO_HUGEPAGES";
		return err == -EFAULT ?
		       "part of the region is not mapped writable" :
		       "out of memory faulting in and pinning its pages";
	case -ENOBUFS:
		return "RLIMIT_MEMLOCK is below the region's size: raise it "
		       "or grant CAP_IPC_LOCK";
	case -EINVAL:
		return "the kernel refuses the region's address, length or "
		       "chunk size";
	default:
		return "";
	}
}

/* Names the socket, the system call and the cause of a failed open. */
static void xm_sock_report(const struct xm_port *p,
			   const struct xm_port_queue *q, bool zc,
			   enum xm_sock_step step, int err)
{
	if (err == -EPERM || err == -EACCES) {
		xm_pr_warn("%s: queue %u: AF_XDP socket not permitted: %s "
			   "failed (%s): CAP_NET_RAW and CAP_NET_ADMIN are "
			   "needed\n", p->p_name, q->q_queue_id,
			   xm_step_names[step], xm_errname(err));
	} else if (err == -EBUSY && step == XM_STEP_BIND) {
		xm_pr_warn("%s: queue %u already has an AF_XDP socket (bind: "
			   "%s)\n", p->p_name, q->q_queue_id, xm_errname(err));
	} else if (step == XM_STEP_UMEM_REG) {
		const char *cause = xm_umem_reg_cause(p, err);

		xm_pr_warn("%s: queue %u: %s of the umem (%llu bytes at %p "
			   "on %s pages) failed: %s (%s)%s%s\n", p->p_name,
			   q->q_queue_id, xm_step_names[step],
			   (unsigned long long)p->p_nchunks * p->p_chunk,
			   (void *)p->p_base,
			   xm_umem_hugepages(p->p_umem) ? "2 MiB" : "4 KiB",
			   strerror(-err), xm_errname(err),
			   cause[0] ? ": " : "", cause);
	} else {
		xm_pr_warn("%s: queue %u: %s socket: %s failed: %s (%s)\n",
			   p->p_name, q->q_queue_id, zc ? "zero-copy" : "copy",
			   xm_step_names[step], strerror(-err),
			   xm_errname(err));
	}
}

/* Opens every socket; the first decides the mode. */
static int xm_port_sockets(struct xm_port *p, const uint32_t *queues,
			   const struct xm_port_opts *opts)
{
	enum xm_sock_step step = XM_STEP_SOCKET;
	bool zc;
	int err;

	/* zero-copy needs native XDP; SKB mode is a copy mode */
	zc = p->p_mode == XM_PORT_MODE_AUTO ||
	     p->p_mode == XM_PORT_MODE_ZEROCOPY;
	for (unsigned int i = 0; i < p->p_nq; i++) {
		struct xm_port_queue *q = &p->p_q[i];

		q->q_queue_id = queues[i];
		err = xm_sock_open_retry(p, q, zc, &step);
		/*
		 * Only the bind (and the mode it gave) depend on zero-copy:
		 * anything failing before it, the UMEM registration above
		 * all, fails the same in copy mode and is reported as such.
		 */
		if (err && i == 0 && zc && p->p_mode == XM_PORT_MODE_AUTO &&
		    (step == XM_STEP_BIND || step == XM_STEP_ZC_CHECK) &&
		    xm_fallback_ok(err)) {
			xm_pr_info("%s: zero-copy not supported (%s), using "
				   "copy mode\n", p->p_name, xm_errname(err));
			zc = false;
			p->p_mode = XM_PORT_MODE_COPY;
			err = xm_sock_open_retry(p, q, zc, &step);
		}
		if (err) {
			xm_sock_report(p, q, zc, step, err);
			return err;
		}
		if (zc && p->p_mode == XM_PORT_MODE_AUTO)
			p->p_mode = XM_PORT_MODE_ZEROCOPY;
		err = xm_sock_busy_poll(p, q, opts);
		if (err) {
			xm_pr_warn("%s: queue %u: busy-poll options: %s\n",
				   p->p_name, q->q_queue_id, strerror(-err));
			return err;
		}
	}
	if (p->p_mode == XM_PORT_MODE_AUTO)
		p->p_mode = XM_PORT_MODE_COPY;
	/*
	 * In copy mode the kernel takes a fill frame and copies the packet
	 * into it before it looks at the RX ring; when that is full the copy
	 * is thrown away and the frame goes to the pool's free list, on the
	 * receiving CPU, for every dropped packet.  Lending no more than the
	 * RX ring holds makes the overload drop happen at the fill ring,
	 * before the copy (port benchmark, fwd on veth: the source CPU,
	 * which runs that receive path, sent 4.6 Mpps into xmbuf-fwd with
	 * the fill ring stocked, 8.2-9.2 with this, 8.5 into testpmd).
	 */
	p->p_lend_max = (p->p_flags & XM_PORT_F_LEND_RX_RING) &&
			p->p_mode != XM_PORT_MODE_ZEROCOPY ? p->p_rx_size :
			UINT32_MAX;
	return 0;
}

struct xm_port *xm_port_open(struct xm_umem *u, const char *ifname,
			     const struct xm_port_opts *opts)
{
	uint32_t queues[XM_PORT_MAX_QUEUES];
	struct xm_port *p;
	uint32_t nq = 0;
	int err;

	if (u == NULL || ifname == NULL || ifname[0] == '\0' ||
	    strlen(ifname) >= IF_NAMESIZE) {
		xm_pr_warn("xm_port_open: %s\n", u == NULL ? "no umem" :
			   "bad interface name");
		errno = EINVAL;
		return NULL;
	}
	if (!XM_OPTS_VALID(opts, xm_port_opts)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p->p_xdp.x_prog_fd = -1;
	err = xm_port_setup(p, u, ifname, opts, queues, &nq);
	if (err)
		goto out_free;
	p->p_netns = xm_thread_netns();

	pthread_mutex_lock(&xm_port_lock);
	for (struct xm_port *o = xm_ports; o; o = o->p_next) {
		if (o->p_ifindex == p->p_ifindex && o->p_netns == p->p_netns) {
			pthread_mutex_unlock(&xm_port_lock);
			xm_pr_warn("%s: already has a port in this process\n",
				   ifname);
			err = -EBUSY;
			goto out_free;
		}
	}
	p->p_next = xm_ports;
	xm_ports = p;
	pthread_mutex_unlock(&xm_port_lock);

	p->p_q = calloc(nq, sizeof(*p->p_q));
	if (p->p_q == NULL) {
		err = -ENOMEM;
		goto out_close;
	}
	for (uint32_t i = 0; i < nq; i++) {
		struct xm_port_queue *q = &p->p_q[i];
		uint32_t fifo = 1;

		q->q_fd = -1;
		q->q_idx = i;
		q->q_port = p;
		while (fifo < p->p_tx_size + p->p_comp_size)
			fifo <<= 1;
		q->q_fifo = calloc(fifo, sizeof(*q->q_fifo));
		q->q_fifo_mask = fifo - 1;
		q->q_lent = calloc((p->p_nchunks + 63) / 64, sizeof(uint64_t));
		p->p_nq = i + 1;
		if (q->q_fifo == NULL || q->q_lent == NULL) {
			err = -ENOMEM;
			goto out_close;
		}
	}

	if (p->p_rx && !(p->p_flags & XM_PORT_F_NO_XDP_PROG)) {
		err = xm_port_prog(p);
		if (err)
			goto out_close;
	} else if (p->p_mode == XM_PORT_MODE_SKB) {
		p->p_mode = XM_PORT_MODE_COPY;	/* no program to run generic */
	}

	pthread_mutex_lock(&xm_port_lock);
	err = xm_port_sockets(p, queues, opts);
	pthread_mutex_unlock(&xm_port_lock);
	if (err)
		goto out_close;

	for (unsigned int i = 0; i < p->p_nq; i++) {
		struct xm_port_queue *q = &p->p_q[i];

		if (p->p_has_prog) {
			err = _xm_xdp_set_socket(&p->p_xdp, q->q_queue_id,
						 q->q_fd);
			if (err) {
				xm_pr_warn("%s: queue %u: cannot enter the "
					   "socket in the xskmap: %s\n",
					   ifname, q->q_queue_id,
					   strerror(-err));
				goto out_close;
			}
		}
		if (p->p_rx && xm_fill(p, q) == 0)
			xm_pr_warn("%s: queue %u: no frames for the fill ring "
				   "(zone %s exhausted)\n", ifname,
				   q->q_queue_id, xm_zone_name(p->p_zone));
	}
	xm_pr_debug("%s: port open, %u queue%s, %s mode%s%s, TX budget %u\n",
		    ifname, p->p_nq, p->p_nq == 1 ? "" : "s",
		    xm_port_mode_name(p->p_mode),
		    p->p_sg ? ", multi-buffer" : "",
		    p->p_need_wakeup ? ", need_wakeup" : "",
		    xm_port_tx_budget(p));
	return p;

out_close:
	xm_port_free(p);
	errno = -err;
	return NULL;
out_free:
	free(p);
	errno = -err;
	return NULL;
}

/* ----------------------------------------------------------- accessors */

int xm_port_fd(const struct xm_port *p, unsigned int qidx)
{
	if (p == NULL || qidx >= p->p_nq)
		return -EINVAL;
	return p->p_q[qidx].q_fd;
}

unsigned int xm_port_queue_count(const struct xm_port *p)
{
	return p ? p->p_nq : 0;
}

uint32_t xm_port_queue_id(const struct xm_port *p, unsigned int qidx)
{
	if (p == NULL || qidx >= p->p_nq)
		return UINT32_MAX;
	return p->p_q[qidx].q_queue_id;
}

int xm_port_ifindex(const struct xm_port *p)
{
	return p ? p->p_ifindex : -EINVAL;
}

const char *xm_port_name(const struct xm_port *p)
{
	return p ? p->p_name : NULL;
}

enum xm_port_mode xm_port_mode(const struct xm_port *p)
{
	return p ? p->p_mode : XM_PORT_MODE_AUTO;
}

const char *xm_port_mode_name(enum xm_port_mode mode)
{
	switch (mode) {
	case XM_PORT_MODE_AUTO:
		return "auto";
	case XM_PORT_MODE_ZEROCOPY:
		return "zero-copy";
	case XM_PORT_MODE_COPY:
		return "copy";
	case XM_PORT_MODE_SKB:
		return "skb";
	}
	return "?";
}

bool xm_port_multi_buffer(const struct xm_port *p)
{
	return p && p->p_sg;
}

bool xm_port_need_wakeup(const struct xm_port *p)
{
	return p && p->p_need_wakeup;
}

uint32_t xm_port_mtu(const struct xm_port *p)
{
	return p ? p->p_mtu : 0;
}

uint32_t xm_port_tx_budget(const struct xm_port *p)
{
	if (p == NULL || !p->p_tx || p->p_mode == XM_PORT_MODE_ZEROCOPY)
		return 0;
	return p->p_tx_budget;
}

struct xm_umem *xm_port_umem(const struct xm_port *p)
{
	return p ? p->p_umem : NULL;
}

uint16_t xm_port_index(const struct xm_port *p)
{
	return p ? p->p_index : 0;
}

bool xm_port_has_prog(const struct xm_port *p)
{
	return p && p->p_has_prog;
}

bool xm_port_prog_multi(const struct xm_port *p)
{
	return p && p->p_has_prog && p->p_xdp.x_multi;
}

/* ---------------------------------------------------------- statistics */

static void xm_queue_stats(struct xm_port_queue *q, struct xm_port_stats *st)
{
	struct xm_xdp_statistics xs;
	socklen_t optlen = sizeof(xs);

	st->rx_packets += q->q_rx_packets;
	st->rx_bytes += q->q_rx_bytes;
	st->rx_descs += q->q_rx_descs;
	st->rx_dropped_sw += q->q_rx_dropped_sw;
	st->tx_packets += q->q_tx_packets;
	st->tx_bytes += q->q_tx_bytes;
	st->tx_descs += q->q_tx_descs;
	st->tx_copied += q->q_tx_copied;
	st->tx_dropped += q->q_tx_dropped;
	st->tx_completions += q->q_tx_completions;
	st->tx_wakeups += q->q_tx_wakeups;
	st->rx_wakeups += q->q_rx_wakeups;
	st->fill_added += q->q_fill_added;
	st->fill_starved += q->q_fill_starved;
	st->fill_reserve += q->q_fill_reserve;

	memset(&xs, 0, sizeof(xs));
	if (getsockopt(q->q_fd, SOL_XDP, XDP_STATISTICS, &xs, &optlen) == 0) {
		st->rx_dropped += xs.rx_dropped;
		st->rx_invalid_descs += xs.rx_invalid_descs;
		st->tx_invalid_descs += xs.tx_invalid_descs;
		st->rx_ring_full += xs.rx_ring_full;
		st->rx_fill_ring_empty_descs += xs.rx_fill_ring_empty_descs;
		st->tx_ring_empty_descs += xs.tx_ring_empty_descs;
	}
	if (q->q_rx.r_map)
		st->rx_ring_used += xm_load_acquire(q->q_rx.r_producer) -
				    q->q_rx.r_cached_cons;
	if (q->q_fill.r_map)
		st->fill_ring_used += q->q_fill.r_cached_prod -
				      xm_load_acquire(q->q_fill.r_consumer);
	if (q->q_tx.r_map)
		st->tx_ring_used += q->q_tx.r_cached_prod -
				    xm_load_acquire(q->q_tx.r_consumer);
	if (q->q_comp.r_map)
		st->comp_ring_used += xm_load_acquire(q->q_comp.r_producer) -
				      q->q_comp.r_cached_cons;
	st->frames_lent += q->q_lent_cnt + (q->q_fifo_tail - q->q_fifo_head);
}

int xm_port_queue_stats(struct xm_port *p, unsigned int qidx,
			struct xm_port_stats *st)
{
	if (p == NULL || st == NULL || qidx >= p->p_nq)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	xm_queue_stats(&p->p_q[qidx], st);
	return p->p_has_prog ? _xm_xdp_stats(&p->p_xdp, st) : 0;
}

int xm_port_stats(struct xm_port *p, struct xm_port_stats *st)
{
	if (p == NULL || st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (unsigned int i = 0; i < p->p_nq; i++)
		xm_queue_stats(&p->p_q[i], st);
	return p->p_has_prog ? _xm_xdp_stats(&p->p_xdp, st) : 0;
}

/* ---------------------------------------------------------- test hooks */

void _xm_port_set_rx_desc_cap(struct xm_port *p, uint32_t cap)
{
	p->p_rx_desc_cap = cap;
}

unsigned int _xm_port_registrations(const struct xm_umem *u)
{
	unsigned int n = 0;

	pthread_mutex_lock(&xm_port_lock);
	for (struct xm_umem_reg *r = xm_regs; r; r = r->ur_next)
		n += r->ur_umem == u;
	pthread_mutex_unlock(&xm_port_lock);
	return n;
}

/* --------------------------------------------------------------- rules */

int xm_port_rule_add(struct xm_port *p, const struct xm_port_rule *r)
{
	if (p == NULL || r == NULL)
		return -EINVAL;
	if (!p->p_has_prog)
		return -EOPNOTSUPP;
	return _xm_xdp_rule_add(&p->p_xdp, r);
}

int xm_port_rule_clear(struct xm_port *p)
{
	if (p == NULL)
		return -EINVAL;
	if (!p->p_has_prog)
		return -EOPNOTSUPP;
	return _xm_xdp_rule_clear(&p->p_xdp);
}

unsigned int xm_port_rule_count(const struct xm_port *p)
{
	return p && p->p_has_prog ? p->p_xdp.x_nrules : 0;
}
