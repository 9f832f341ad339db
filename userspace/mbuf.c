/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mbuf.c - mbuf(9) allocation KPI on the UMEM zones: headers, clusters,
 * external storage and its reference counts, bulk forms, RX wrapping.
 *
 * Why the header lives in a parallel array and not in frame headroom
 * -------------------------------------------------------------------
 * A frame allocated together with its header (xm_getcl, xm_getjcl,
 * xm_get2, xm_getm2, every RX frame) uses the frame's *paired* header:
 * the umem's per-frame record of that frame, found by address arithmetic
 * (offset / chunk size), never written into the frame itself.
 *
 *   region:   | frame 0 (chunk) | frame 1 (chunk) | frame 2 | ...
 *   records:  | mbuf 0  (128 B) | mbuf 1  (128 B) | mbuf 2  | ...
 *                ^ xm_umem_frame_meta(u, off)  -- no allocation, no lookup
 *
 * - The kernel gets the whole chunk: every byte of it is packet data or
 *   XDP headroom (bpf_xdp_adjust_head/meta), none is ours.
 * - Wrapping an RX descriptor costs no allocation: the header of the frame
 *   at `addr` is at a fixed place (xm_rxframe is arithmetic plus stores).
 * - The header's two cache lines are not the packet's: writing m_len or a
 *   refcount does not dirty the lines the NIC DMAs into or the lines the
 *   application parses, and a TX'd frame's header can be rewritten while
 *   the kernel still reads the frame.
 * - Frames handed to the kernel never carry our pointers (m_next, m_umem,
 *   ext_cnt): nothing of the process's address space leaks through a
 *   frame, and nothing the kernel or a peer writes into a frame can
 *   corrupt a header.
 * The cost is meta_size (128 B) per chunk for every frame, used or not:
 * 6.25% of the region at 2 KiB chunks, 3.1% at 4 KiB.  That is FreeBSD's
 * packet zone (EXT_PACKET, a header+cluster pair kept together by a UMA
 * cache) with the pairing made by address, so it can never be drained or
 * run out separately from the frames.
 *
 * Headers that are not paired come from the mbuf zone (ordinary memory):
 * xm_get/xm_gethdr, and every header made to share storage (xm_copym,
 * xm_split) or to hold a caller's buffer (xm_extadd).  A paired header is
 * never given to the mbuf zone; it goes home with its frame.
 *
 * References (mb_free_ext's scheme)
 * ---------------------------------
 *   owner (first mbuf of the storage)      sharers (xm_copym, xm_split)
 *   +-----------------------------+        +------------------------+
 *   | ext_flags = EMBREF          |<-------| ext_cnt = &owner count |
 *   | ext_count = 1 + sharers     |<--+    +------------------------+
 *   +-----------------------------+   +----| ext_cnt               |
 *                                          +------------------------+
 * A sharer's header is returned as soon as it is freed.  The owner's
 * header stays allocated, even after the owner itself is freed, until the
 * last reference goes: that one frees the storage (frame to its zone, or
 * the caller's free callback for XM_EXT_EXTREF) and the owner's header
 * (mbuf zone, or nothing for a paired header, which leaves with its frame;
 * never a header marked XM_NOFREE).  A count of 1 is only ever seen by its
 * sole holder, so 1 -> 2 and 1 -> 0 need no atomic operation.
 *
 * A paired header whose frame is in its zone has m_type XM_MT_NOTMBUF and
 * ext_count 0 (the state a zero-filled record starts in): allocation
 * asserts it and xm_rxframe refuses a frame whose header is live.
 * FreeBSD resets a packet-zone count to 1 because a cached pack is not
 * constructed again; ours is set on every allocation, so 0 can mean
 * "free".  The header's other storage fields (buffer, size, zone) are
 * fixed for its frame: they are written when the record is first used for
 * an allocation or an RX frame, and left in place by the free
 * (xm_mb_pair_ext), as DPDK initialises a pool's mbufs once.
 *
 * Fast paths: xm_getcl() and xm_freem() of one unshared paired mbuf run
 * the zone's cache hit inline (_xm_zone_alloc_cached/_xm_zone_free_cached
 * of xm_zone_fast_int.h) without a call or a saved register; anything else
 * goes out of line.
 *
 * INVARIANTS builds set m_type = XM_MT_NOTMBUF on every free, so freeing
 * an mbuf twice panics naming it.
 *
 * KPI (mbuf(9) verbs; the umem comes first where FreeBSD uses a global):
 *   xm_get()        plain mbuf from the mbuf zone
 *   xm_gethdr()     plain mbuf with a packet header
 *   xm_getcl()      mbuf + 2 KiB cluster, paired header (XM_EXT_PACKET)
 *   xm_getjcl()     mbuf + cluster of a given size, paired header
 *   xm_clget()      attach a 2 KiB cluster to an existing header
 *   xm_cljget()     a cluster of a given size, attached or bare
 *   xm_get2()       the smallest mbuf that holds size bytes
 *   xm_getm2()      a chain with room for len bytes
 *   xm_extadd()     attach a caller's buffer with a free callback
 *   xm_free()       free one mbuf (and its storage, with the last ref)
 *   xm_freem()      free a chain; xm_freem_list(): a queue of chains
 *   xm_getcl_bulk() n cluster mbufs or none
 *   xm_freem_bulk() n chains, unshared paired frames freed in batches
 *   xm_rxframe()    wrap an RX descriptor's frame, no copy
 *   xm_mtooff()     region offset of m's data
 *   xm_refcnt(), xm_writable(), xm_leadingspace(), xm_trailingspace()
 */
#include <errno.h>
#include <string.h>

#include "xm_mbuf_int.h"
#include "xm_zone_fast_int.h"

_Static_assert(offsetof(struct xm_mbuf, m_ext) + sizeof(struct xm_ext) <=
	       XM_MSIZE, "m_ext fits the header");
_Static_assert(offsetof(struct xm_ext, ext_count) ==
	       offsetof(struct xm_ext, ext_cnt), "count and pointer overlay");

/* Most frames one xm_freem_bulk() call hands to a zone at once. */
#define XM_FREE_BATCH		64

/* ------------------------------------------------------------ helpers */

static inline struct xm_zone *xm_mb_zone(struct xm_umem *u)
{
	return _xm_umem_zone(u, XM_ZONE_MBUF);
}

/*
 * Can this umem hold our headers?  The mbuf zone's items and the
 * per-frame records must each fit a struct xm_mbuf.  Both sizes are
 * options of xm_umem_create(), so this is input validation, not an
 * assertion; it is one load each.
 */
static inline bool xm_mb_hdr_fits(const struct xm_umem *u)
{
	return u->u_hdr_size >= XM_MSIZE;
}

static inline bool xm_mb_paired_fits(const struct xm_umem *u)
{
	return u->u_meta_size >= XM_MSIZE;
}

/* Records are whole cache lines (xm_umem_create checks): aligned mbufs. */
_Static_assert(XM_CACHE_LINE % _Alignof(struct xm_mbuf) == 0,
	       "a record keeps its paired header aligned");

/* The paired header of the frame starting at `frame`. */
static inline struct xm_mbuf *xm_mb_paired(const struct xm_umem *u,
					   const void *frame)
{
	return _xm_umem_frame_record(u, frame);
}

/* The fields every fresh mbuf gets; data is where m_data points. */
static inline void xm_mb_init(struct xm_mbuf *m, struct xm_umem *u, int type,
			      int flags, char *data)
{
	m->m_next = NULL;
	m->m_nextpkt = NULL;
	m->m_data = data;
	m->m_umem = u;
	xm_mb_set_len_flags_type(m, 0, (uint32_t)flags, (uint32_t)type);
	if (flags & XM_PKTHDR)
		memset(&m->m_pkthdr, 0, sizeof(m->m_pkthdr));
}

/* Start of an mbuf's inline storage, for flags. */
static inline char *xm_mb_inline_data(struct xm_mbuf *m, int flags)
{
	return (flags & XM_PKTHDR) ? m->m_pktdat : m->m_dat;
}

/* Storage fields of a frame owned by m with an embedded count of 1. */
static inline void xm_mb_set_ext(struct xm_mbuf *m, struct xm_zone *z,
				 char *buf, uint32_t size, int ext_type)
{
	m->m_ext.ext_cnt = NULL;
	m->m_ext.ext_count = 1;
	m->m_ext.ext_buf = buf;
	m->m_ext.ext_size = size;
	m->m_ext.ext_type = (uint8_t)ext_type;
	m->m_ext.ext_flags = XM_EXT_FLAG_EMBREF;
	m->m_ext.ext_spare = 0;
	m->m_ext.ext_free = NULL;
	m->m_ext.ext_arg1 = z;
	m->m_ext.ext_arg2 = NULL;
}

/*
 * A paired header whose frame is in its zone: type NOTMBUF, count 0; it
 * keeps XM_EXT | XM_PAIRED so that freeing it again takes the storage
 * path, finds the count at 0 and touches nothing.
 */
#define XM_MB_IDLE_FLAGS	(XM_EXT | XM_PAIRED)

/* True when a paired header's frame is in its zone (not wrapped). */
static inline bool xm_mb_paired_idle(const struct xm_mbuf *m)
{
	return m->m_type == XM_MT_NOTMBUF && m->m_ext.ext_count == 0;
}

/*
 * The storage fields of frame's paired header m, owner with a count of 1.
 * A record only ever describes its own frame, of one zone, so buf, size,
 * flags, free, arg1 and arg2 are fixed by ext_type (XM_EXT_PACKET: the
 * item size; XM_EXT_RXFRAME: the stride), and freeing leaves them in
 * place (it idles only the type and the count).  They are written in full
 * when the record is first used (a zero-filled record has ext_type 0), or
 * used for the other type, and only the count after that: DPDK's split
 * between rte_pktmbuf_init (once per object) and rte_pktmbuf_reset (every
 * allocation).  It saves six stores per allocation, and a burst of
 * xm_getcl_bulk() is bound by stores (bench-alloc bulk32: 4.3 -> 3.4 ns
 * per mbuf).  INVARIANTS builds check that nothing wrote the fixed fields
 * meanwhile.
 */
static inline void xm_mb_pair_ext(struct xm_mbuf *m, struct xm_zone *z,
				  char *frame, uint32_t size, int ext_type)
{
	if (xm_unlikely(m->m_ext.ext_type != ext_type)) {
		xm_mb_set_ext(m, z, frame, size, ext_type);
		return;
	}
	XM_ASSERT(m->m_ext.ext_buf == frame && m->m_ext.ext_size == size &&
		  m->m_ext.ext_flags == XM_EXT_FLAG_EMBREF &&
		  m->m_ext.ext_spare == 0 && m->m_ext.ext_free == NULL &&
		  m->m_ext.ext_arg1 == z && m->m_ext.ext_arg2 == NULL,
		  ("xmbuf: %s: paired header %p of frame %p (%s): storage "
		   "fields overwritten (buf %p, size %u, flags %#x, arg1 "
		   "%p)\n", __func__, m, frame, xm_zone_name(z),
		   m->m_ext.ext_buf, m->m_ext.ext_size, m->m_ext.ext_flags,
		   m->m_ext.ext_arg1));
	m->m_ext.ext_count = 1;
}

/* Makes frame's paired header a fresh mbuf owning the frame. */
static inline struct xm_mbuf *xm_mb_pair(struct xm_umem *u, struct xm_zone *z,
					 char *frame, uint32_t size,
					 int ext_type, int type, int flags)
{
	struct xm_mbuf *m = xm_mb_paired(u, frame);

	XM_ASSERT(m != NULL, ("xmbuf: %s: frame %p has no record\n",
			      __func__, frame));
	XM_ASSERT(xm_mb_paired_idle(m),
		  ("xmbuf: %s: frame %p of %s came from its zone with a live "
		   "header %p (type %u, count %u)\n", __func__, frame,
		   xm_zone_name(z), m, m->m_type, m->m_ext.ext_count));
	xm_mb_init(m, u, type, flags | XM_EXT | XM_PAIRED, frame);
	xm_mb_pair_ext(m, z, frame, size, ext_type);
	return m;
}

/*
 * True when m is a frame's paired header and the frame's only reference
 * (a paired header always owns its storage, with the embedded count):
 * freeing it returns the frame and nothing else.
 */
static inline bool xm_mb_paired_sole(const struct xm_mbuf *m)
{
	return (m->m_flags & (XM_PAIRED | XM_NOFREE)) == XM_PAIRED &&
	       m->m_ext.ext_count == 1;
}

/*
 * Drops the last reference of a paired header's frame: the header is
 * part of the frame's slot, so it is marked idle first, then the frame
 * goes; once the frame is in the zone another thread may own both.
 */
static inline void xm_mb_free_paired(struct xm_mbuf *m)
{
	struct xm_zone *z = m->m_ext.ext_arg1;
	char *frame = m->m_ext.ext_buf;

	xm_mb_set_flags_type(m, XM_MB_IDLE_FLAGS, XM_MT_NOTMBUF);
	m->m_ext.ext_count = 0;
	if (xm_unlikely(!_xm_zone_free_cached(z, frame)))
		_xm_zone_free_slow(z, frame);
}

/* Returns a header to the mbuf zone. */
static inline void xm_mb_free_hdr(struct xm_mbuf *m)
{
	XM_ASSERT(!(m->m_flags & (XM_PAIRED | XM_NOFREE)),
		  ("xmbuf: %s: mbuf %p is not the mbuf zone's (flags %#x)\n",
		   __func__, m, m->m_flags));
#ifdef INVARIANTS
	m->m_type = XM_MT_NOTMBUF;
#endif
	xm_zone_free(xm_mb_zone(m->m_umem), m);
}

static int xm_mb_size_zone(int size, enum xm_zone_id *id, int *ext_type)
{
	switch (size) {
	case XM_MCLBYTES:
		*id = XM_ZONE_CLUST;
		*ext_type = XM_EXT_CLUSTER;
		return 0;
	case XM_MJUMPAGESIZE:
		*id = XM_ZONE_JUMBOP;
		*ext_type = XM_EXT_JUMBOP;
		return 0;
	case XM_MJUM9BYTES:
		*id = XM_ZONE_JUMBO9;
		*ext_type = XM_EXT_JUMBO9;
		return 0;
	case XM_MJUM16BYTES:
		*id = XM_ZONE_JUMBO16;
		*ext_type = XM_EXT_JUMBO16;
		return 0;
	default:
		return -EINVAL;
	}
}

static inline bool xm_mb_args_valid(struct xm_umem *u, int how, int type,
				    int flags)
{
	return u != NULL && xm_mb_how_valid(how) && xm_mb_type_valid(type) &&
	       (flags & ~XM_ALLOC_FLAGS) == 0;
}

/* ------------------------------------------------------- plain mbufs */

static struct xm_mbuf *xm_mb_get(struct xm_umem *u, int how, int type,
				 int flags)
{
	struct xm_mbuf *m;

	if (!xm_mb_args_valid(u, how, type, flags) || !xm_mb_hdr_fits(u)) {
		errno = EINVAL;
		return NULL;
	}
	m = xm_zone_alloc(xm_mb_zone(u), how);
	if (m == NULL)
		return NULL;
	xm_mb_init(m, u, type, flags, xm_mb_inline_data(m, flags));
	return m;
}

struct xm_mbuf *xm_get(struct xm_umem *u, int how, short type)
{
	return xm_mb_get(u, how, type, 0);
}

struct xm_mbuf *xm_gethdr(struct xm_umem *u, int how, short type)
{
	return xm_mb_get(u, how, type, XM_PKTHDR);
}

/* ------------------------------------------ frames with paired headers */

/* xm_mb_getpaired() after a miss in the thread's cache. */
static __attribute__((noinline)) struct xm_mbuf *
xm_mb_getpaired_slow(struct xm_umem *u, struct xm_zone *z, int how, int type,
		     int flags)
{
	char *frame = _xm_zone_alloc_slow(z, how);

	if (frame == NULL)
		return NULL;
	return xm_mb_pair(u, z, frame, z->uz_size, XM_EXT_PACKET, type,
			  flags);
}

/*
 * Header and frame of zone id in one allocation (the packet zone).  A
 * hit in the thread's cache runs inline, without a call; a miss is a tail
 * call, so nothing is saved on the stack for it.  Always inlined into its
 * four callers, so that the zone id is a constant (xm_getcl: the zone is
 * an offset from u).
 */
static inline __attribute__((always_inline)) struct xm_mbuf *
xm_mb_getpaired(struct xm_umem *u, enum xm_zone_id id, int how, int type,
		int flags)
{
	struct xm_zone *z;
	char *frame;

	if (xm_unlikely(!xm_mb_args_valid(u, how, type, flags) ||
			!xm_mb_paired_fits(u))) {
		errno = EINVAL;
		return NULL;
	}
	z = _xm_umem_zone(u, id);
	if (xm_unlikely(!_xm_zone_alloc_cached(z, (void **)&frame)))
		return xm_mb_getpaired_slow(u, z, how, type, flags);
	return xm_mb_pair(u, z, frame, z->uz_size, XM_EXT_PACKET, type,
			  flags);
}

struct xm_mbuf *xm_getcl(struct xm_umem *u, int how, short type, int flags)
{
	return xm_mb_getpaired(u, XM_ZONE_CLUST, how, type, flags);
}

struct xm_mbuf *xm_getjcl(struct xm_umem *u, int how, short type, int flags,
			  int size)
{
	enum xm_zone_id id;
	int ext_type;

	if (xm_mb_size_zone(size, &id, &ext_type) != 0) {
		errno = EINVAL;
		return NULL;
	}
	return xm_mb_getpaired(u, id, how, type, flags);
}

struct xm_mbuf *xm_get2(struct xm_umem *u, int size, int how, short type,
			int flags)
{
	if (size < 0) {
		errno = EINVAL;
		return NULL;
	}
	if (size <= XM_MHLEN || (size <= XM_MLEN && !(flags & XM_PKTHDR)))
		return xm_mb_get(u, how, type, flags);
	if (size <= XM_MCLBYTES)
		return xm_mb_getpaired(u, XM_ZONE_CLUST, how, type, flags);
	if (size <= XM_MJUMPAGESIZE)
		return xm_mb_getpaired(u, XM_ZONE_JUMBOP, how, type, flags);
	errno = EINVAL;
	return NULL;
}

/* --------------------------------------- clusters on existing headers */

void *xm_cljget(struct xm_umem *u, struct xm_mbuf *m, int how, int size)
{
	enum xm_zone_id id;
	struct xm_zone *z;
	int ext_type;
	char *cl;

	if (u == NULL || !xm_mb_how_valid(how) ||
	    xm_mb_size_zone(size, &id, &ext_type) != 0)
		goto out_inval;
	if (m != NULL && ((m->m_flags & XM_EXT) || m->m_umem != u))
		goto out_inval;
	z = _xm_umem_zone(u, id);
	cl = xm_zone_alloc(z, how);
	if (cl == NULL || m == NULL)
		return cl;
	/*
	 * m_clget() leaves whatever m held behind; we carry the inline
	 * bytes over (at most XM_MLEN, always smaller than a cluster) so
	 * that attaching storage never silently loses data.
	 */
	if (m->m_len > 0)
		memmove(cl, m->m_data, (size_t)m->m_len);
	xm_mb_set_ext(m, z, cl, (uint32_t)size, ext_type);
	m->m_data = cl;
	m->m_flags |= XM_EXT;
	return cl;

out_inval:
	errno = EINVAL;
	return NULL;
}

int xm_clget(struct xm_mbuf *m, int how)
{
	if (m == NULL)
		return -EINVAL;
	if (xm_cljget(m->m_umem, m, how, XM_MCLBYTES) == NULL)
		return -errno;
	return 0;
}

/* ------------------------------------------------------------ chains */

struct xm_mbuf *xm_getm2(struct xm_umem *u, struct xm_mbuf *m, int len,
			 int how, short type, int flags)
{
	struct xm_mbuf *mb, *nm = NULL, *mtail = NULL;

	if (u == NULL || len < 0 || !xm_mb_how_valid(how) ||
	    !xm_mb_type_valid(type) || (m != NULL && m->m_umem != u) ||
	    (m == NULL && len == 0)) {
		errno = EINVAL;
		return NULL;
	}
	/* As m_getm2(): unknown flags are dropped, not refused. */
	flags &= XM_PKTHDR | XM_EOR;
	if (m != NULL)
		flags &= ~XM_PKTHDR;	/* only a chain's first mbuf has it */

	while (len > 0) {
		mb = NULL;
		/*
		 * A page cluster halves the segments of a long chain, but
		 * it is only worth a try: without one, 2 KiB clusters do.
		 */
		if (len > XM_MCLBYTES)
			mb = xm_getjcl(u, XM_NOWAIT, type, flags & XM_PKTHDR,
				       XM_MJUMPAGESIZE);
		if (mb == NULL) {
			if (len >= XM_MINCLSIZE)
				mb = xm_getcl(u, how, type, flags & XM_PKTHDR);
			else
				mb = xm_mb_get(u, how, type, flags & XM_PKTHDR);
			if (mb == NULL)
				goto out_chain;
		}
		len -= (int)xm_size(mb);
		if (mtail != NULL)
			mtail->m_next = mb;
		else
			nm = mb;
		mtail = mb;
		flags &= ~XM_PKTHDR;
	}
	if (mtail != NULL && (flags & XM_EOR))
		mtail->m_flags |= XM_EOR;

	if (m == NULL || nm == NULL)
		return m != NULL ? m : nm;
	for (mtail = m; mtail->m_next != NULL; mtail = mtail->m_next)
		;
	mtail->m_next = nm;
	mtail->m_flags &= ~XM_EOR;
	return m;

out_chain: {
	int err = errno;

	xm_freem(nm);
	errno = err;
	return NULL;
	}
}

/* -------------------------------------------------- caller's storage */

int xm_extadd(struct xm_mbuf *m, char *buf, uint32_t size,
	      xm_ext_free_t freef, void *arg1, void *arg2, int flags, int type)
{
	if (m == NULL || buf == NULL || size == 0 || freef == NULL ||
	    type != XM_EXT_EXTREF || (m->m_flags & XM_EXT) ||
	    (flags & ~(XM_RDONLY | XM_NOFREE | XM_EOR)))
		return -EINVAL;
	/*
	 * Unlike m_extadd(EXT_EXTREF), which expects the caller to supply
	 * the count, the count is embedded here like every other type: one
	 * scheme, one free path.
	 */
	xm_mb_set_ext(m, NULL, buf, size, XM_EXT_EXTREF);
	m->m_ext.ext_free = freef;
	m->m_ext.ext_arg1 = arg1;
	m->m_ext.ext_arg2 = arg2;
	m->m_flags |= XM_EXT | (uint32_t)flags;
	m->m_data = buf;
	return 0;
}

/* ------------------------------------------------------------- free */

/*
 * Drops m's reference to its storage; the last reference frees the
 * storage and the owner's header.  Then m's header goes, unless m is the
 * owner (it waits for the count) or XM_NOFREE.
 */
static void xm_mb_free_ext(struct xm_mbuf *m)
{
	volatile uint32_t *refcnt;
	struct xm_mbuf *mref;
	bool freembuf = !(m->m_flags & XM_NOFREE);

	if (m->m_ext.ext_flags & XM_EXT_FLAG_EMBREF) {
		refcnt = &m->m_ext.ext_count;
		mref = m;
	} else {
		XM_ASSERT(m->m_ext.ext_cnt != NULL,
			  ("xmbuf: %s: mbuf %p shares storage without a "
			   "count\n", __func__, m));
		refcnt = m->m_ext.ext_cnt;
		mref = __containerof(refcnt, struct xm_mbuf, m_ext.ext_count);
	}
	XM_ASSERT(*refcnt >= 1,
		  ("xmbuf: %s: mbuf %p: storage %p has count %u\n", __func__,
		   m, m->m_ext.ext_buf, *refcnt));
	/* Without INVARIANTS: an idle paired header freed again stays idle. */
	if (xm_unlikely(*refcnt == 0))
		return;
#ifdef INVARIANTS
	/*
	 * Before the count drops: once it has, another thread's last
	 * reference may free the owner's header, and this store would land
	 * in someone else's mbuf.
	 */
	if (m == mref)
		m->m_type = XM_MT_NOTMBUF;
#endif

	if (*refcnt != 1 &&
	    __atomic_fetch_sub(refcnt, 1, __ATOMIC_ACQ_REL) != 1) {
		if (freembuf && m != mref)
			xm_mb_free_hdr(m);
		return;
	}

	/* Last reference: the storage and the owner's header go. */
	switch (m->m_ext.ext_type) {
	case XM_EXT_PACKET:
	case XM_EXT_RXFRAME:
		XM_ASSERT(mref->m_flags & XM_PAIRED,
			  ("xmbuf: %s: frame mbuf %p is not paired\n",
			   __func__, mref));
		if (freembuf && m != mref)
			xm_mb_free_hdr(m);
		/* The owner's header leaves with its frame. */
		xm_mb_free_paired(mref);
		return;
	case XM_EXT_CLUSTER:
	case XM_EXT_JUMBOP:
	case XM_EXT_JUMBO9:
	case XM_EXT_JUMBO16:
		xm_zone_free(mref->m_ext.ext_arg1, mref->m_ext.ext_buf);
		break;
	case XM_EXT_EXTREF:
		XM_ASSERT(m->m_ext.ext_free != NULL,
			  ("xmbuf: %s: EXTREF mbuf %p without ext_free\n",
			   __func__, m));
		m->m_ext.ext_free(m);
		break;
	default:
		XM_ASSERT(0, ("xmbuf: %s: mbuf %p: unknown ext_type %u\n",
			      __func__, m, m->m_ext.ext_type));
		break;
	}
	if (!(mref->m_flags & XM_NOFREE))
		xm_mb_free_hdr(mref);
	if (freembuf && m != mref)
		xm_mb_free_hdr(m);
}

/* What an mbuf being freed must be: live, of a type we hand out. */
static inline void xm_mb_assert_live(const struct xm_mbuf *m, const char *fn)
{
	XM_ASSERT(!xm_mb_poisoned(m),
		  ("xmbuf: %s: mbuf %p freed twice (its zone has it)\n", fn,
		   m));
	XM_ASSERT(m->m_type != XM_MT_NOTMBUF,
		  ("xmbuf: %s: mbuf %p freed twice (m_type is "
		   "XM_MT_NOTMBUF)\n", fn, m));
	XM_ASSERT(m->m_type <= XM_MT_MAX,
		  ("xmbuf: %s: mbuf %p has m_type %u: freed or corrupt\n",
		   fn, m, m->m_type));
	(void)fn;
}

/* Frees m, which is not a sole paired header (see xm_mb_free_one). */
static void xm_mb_free_other(struct xm_mbuf *m)
{
	if (m->m_flags & XM_EXT)
		xm_mb_free_ext(m);
	else if (!(m->m_flags & XM_NOFREE))
		xm_mb_free_hdr(m);
}

/*
 * xm_free() of a non-NULL m, inlined into xm_freem (xm_free is exported,
 * hence interposable, and would be a call per mbuf).  The common packet,
 * an unshared frame with its paired header, takes the first branch: no
 * count to drop, no header to free.
 */
static inline struct xm_mbuf *xm_mb_free_one(struct xm_mbuf *m,
					     const char *fn)
{
	struct xm_mbuf *n;

	xm_mb_assert_live(m, fn);
	n = m->m_next;
	if (xm_likely(xm_mb_paired_sole(m)))
		xm_mb_free_paired(m);
	else
		xm_mb_free_other(m);
	return n;
}

struct xm_mbuf *xm_free(struct xm_mbuf *m)
{
	if (m == NULL)
		return NULL;
	return xm_mb_free_one(m, __func__);
}

/* xm_freem() of any chain but the common packet. */
static __attribute__((noinline)) void xm_mb_freem_chain(struct xm_mbuf *m)
{
	do {
		m = xm_mb_free_one(m, "xm_freem");
	} while (m != NULL);
}

void xm_freem(struct xm_mbuf *m)
{
	if (m == NULL)
		return;
	/*
	 * Most packets are one frame with its paired header, not shared.
	 * Kept apart from the loop, that case saves no register around a
	 * call: its only calls are tail calls.
	 */
	xm_mb_assert_live(m, __func__);
	if (xm_likely(m->m_next == NULL && xm_mb_paired_sole(m))) {
		xm_mb_free_paired(m);
		return;
	}
	xm_mb_freem_chain(m);
}

void xm_freem_list(struct xm_mbuf *m)
{
	struct xm_mbuf *next;

	for (; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		xm_freem(m);
	}
}

/* ------------------------------------------------------------- bulk */

int xm_getcl_bulk(struct xm_umem *u, int how, short type, int flags,
		  struct xm_mbuf **ms, unsigned int n)
{
	struct xm_zone *z;
	uint32_t size;
	int err;

	if (!xm_mb_args_valid(u, how, type, flags) || (ms == NULL && n > 0))
		return -EINVAL;
	if (n == 0)
		return 0;
	if (!xm_mb_paired_fits(u))
		return -EINVAL;
	z = _xm_umem_zone(u, XM_ZONE_CLUST);
	size = z->uz_size;
	/* ms doubles as the frame array: each slot turns into its mbuf. */
	err = xm_zone_alloc_bulk(z, (void **)ms, n, how);
	if (err != 0)
		return err;
	for (unsigned int i = 0; i < n; i++)
		ms[i] = xm_mb_pair(u, z, (char *)ms[i], size, XM_EXT_PACKET,
				   type, flags);
	return 0;
}

void xm_freem_bulk(struct xm_mbuf *const *ms, unsigned int n)
{
	void *batch[XM_FREE_BATCH];
	struct xm_zone *bz = NULL;
	unsigned int nb = 0;

	if (ms == NULL)
		return;
	for (unsigned int i = 0; i < n; i++) {
		struct xm_mbuf *m = ms[i], *next;

		for (; m != NULL; m = next) {
			struct xm_zone *z;

			xm_mb_assert_live(m, __func__);
			next = m->m_next;
			/*
			 * The common case, an unshared frame with its paired
			 * header, needs no count update and no header free:
			 * only the frame goes back, batched per zone.
			 */
			if (!xm_mb_paired_sole(m)) {
				xm_mb_free_other(m);
				continue;
			}
			z = m->m_ext.ext_arg1;
			if (z != bz || nb == XM_FREE_BATCH) {
				if (nb > 0)
					xm_zone_free_bulk(bz, batch, nb);
				bz = z;
				nb = 0;
			}
			xm_mb_set_flags_type(m, XM_MB_IDLE_FLAGS,
					     XM_MT_NOTMBUF);
			m->m_ext.ext_count = 0;
			/* A flush missed above would write past the batch,
			 * which only a sanitizer would see. */
			XM_ASSERT(nb < XM_FREE_BATCH,
				  ("xmbuf: %s: batch of %u frames is full\n",
				   __func__, nb));
			batch[nb++] = m->m_ext.ext_buf;
		}
	}
	if (nb > 0)
		xm_zone_free_bulk(bz, batch, nb);
}

/* ------------------------------------------------------------ RX */

struct xm_mbuf *xm_rxframe(struct xm_umem *u, uint64_t addr, uint32_t len,
			   int flags)
{
	struct xm_mbuf *m;
	struct xm_zone *z;
	uint64_t frame_off;
	uint32_t stride;
	char *frame;

	if (u == NULL || (flags & ~XM_ALLOC_FLAGS) || !xm_mb_paired_fits(u))
		goto out_inval;
	z = _xm_umem_zone_of(u, addr);
	if (z == NULL)
		goto out_inval;
	frame = _xm_zone_item(z, _xm_zone_index(z, _xm_umem_off2addr(u, addr)));
	frame_off = _xm_umem_addr2off(u, frame);
	/*
	 * The kernel may fill the frame up to its stride (the chunk for a
	 * 2 KiB cluster on 4 KiB chunks), so that, not the item size, is
	 * the storage: trailing space is then what really is there.
	 */
	stride = z->uz_stride;
	if (addr - frame_off + len > stride)
		goto out_inval;
	m = xm_mb_paired(u, frame);
	if (!xm_mb_paired_idle(m)) {
		errno = EBUSY;
		return NULL;
	}
	xm_mb_init(m, u, XM_MT_DATA, flags | XM_EXT | XM_PAIRED,
		   frame + (addr - frame_off));
	xm_mb_pair_ext(m, z, frame, stride, XM_EXT_RXFRAME);
	m->m_len = (int32_t)len;
	if (flags & XM_PKTHDR) {
		m->m_pkthdr.len = len;
		m->m_pkthdr.nsegs = 1;
	}
	return m;

out_inval:
	errno = EINVAL;
	return NULL;
}

/*
 * xm_rxframe() of a run of one-descriptor packets, read straight off the
 * port's RX ring (struct xm_rxrun, xm_rxframe_int.h), in one pass: each
 * descriptor's frame is checked against the caller's bitmap of the frames
 * it lent to the kernel, its bit cleared, and the frame wrapped.  A frame
 * lent is one of z's chunks, so none of xm_rxframe's lookups and argument
 * checks are needed: the frame and its header are the chunk index
 * (address >> chunk shift) scaled, and what is written is
 * xm_rxframe(..., XM_PKTHDR)'s header plus rcvport and rcvqueue.  One
 * call a run, with the loop's invariants in registers.  `make bench
 * B=cost`, rxdrop: the wrap went from 81 instructions a packet
 * (xm_rxframe) to about 45 in two passes (the port's bit check, then
 * this wrap, each reading the descriptors), and to about 30 in this one.
 * A frame whose data would run past it (EINVAL) or whose header is live
 * (EBUSY: a bug somewhere) is not wrapped; it goes back to z (its bit
 * cleared all the same: the caller no longer has it lent).
 */
static inline void xm_mb_store64(char *at, uint64_t v)
{
	memcpy(at, &v, sizeof(v));
}

/*
 * The loop of _xm_rxframe_port_ring from descriptor i on, up to max:
 * inlined for each chunk size with cshift and msize constants (a
 * variable shift ties up %cl, and with it the registers the loop's
 * invariants need, so they were spilled), and with no call inside (a
 * call would need them saved too): a frame it refuses ends the loop with
 * *special set to it (its bit cleared: it is taken), and the caller
 * frees it and goes on.  A record's first RX frame stays in the loop: a
 * run of those, after a restart, is every packet for a while.
 * @return the index of the descriptor it stopped before.
 */
static inline __attribute__((always_inline)) unsigned int
xm_rx_wrap_loop(struct xm_umem *u, const struct xm_rxrun *r,
		uint32_t stride, unsigned int i, unsigned int max,
		struct xm_mbuf ***op, uint64_t *sump, char **special,
		const uint32_t cshift, const uint64_t msize)
{
	const struct xm_rxdesc *const ring = r->ring;
	const uint32_t mask = r->mask, end = r->first + max;
	uint64_t *const lent = r->lent;
	const uint64_t nchunks = r->nchunks;
	const uint64_t cmask = ((uint64_t)1 << cshift) - 1;
	char *const base = u->u_base, *const meta = u->u_meta;
	/* m_pkthdr's third word: rcvport, rcvqueue, ether_vtag 0, rsstype 0,
	 * nsegs 1 (checked below) */
	const uint64_t hdr_w2 = (uint64_t)r->rcv | (uint64_t)1 << 56;
	struct xm_mbuf **o = *op;
	uint64_t sum = *sump;
	uint32_t cons;

	for (cons = r->first + i; cons != end; cons++) {
		const struct xm_rxdesc *d = &ring[cons & mask];
		uint64_t addr = d->addr, idx = addr >> cshift, w;
		uint64_t bit = (uint64_t)1 << (idx & 63);
		uint32_t len = d->len, off = (uint32_t)(addr & cmask);
		struct xm_mbuf *m;
		char *frame;

		if (xm_unlikely(d->options & XM_RXDESC_CONTD) ||
		    xm_unlikely(idx >= nchunks))
			break;
		w = lent[idx / 64];
		if (xm_unlikely(!(w & bit)))
			break;
		lent[idx / 64] = w & ~bit;
		frame = base + (idx << cshift);
		m = (struct xm_mbuf *)(meta + idx * msize);
		if (xm_unlikely(off + len > stride || !xm_mb_paired_idle(m))) {
			*special = frame;
			cons++;
			break;
		}
		m->m_next = NULL;
		m->m_nextpkt = NULL;
		m->m_data = frame + off;
		xm_mb_set_len_flags_type(m, (int32_t)len,
					 XM_PKTHDR | XM_EXT | XM_PAIRED,
					 XM_MT_DATA);
		/* the whole packet header in four stores, not a memset and
		 * then the fields one by one */
		xm_mb_store64((char *)&m->m_pkthdr, len);
		xm_mb_store64((char *)&m->m_pkthdr + 8, 0);
		xm_mb_store64((char *)&m->m_pkthdr + 16, hdr_w2);
		xm_mb_store64((char *)&m->m_pkthdr + 24, 0);
		/* m_umem is fixed for a paired header, as its storage fields
		 * are: written with them on the record's first use */
		if (xm_unlikely(m->m_ext.ext_type != XM_EXT_RXFRAME))
			m->m_umem = u;
		XM_ASSERT(m->m_umem == u, ("xmbuf: %s: paired header %p of "
					   "frame %p names umem %p\n",
					   __func__, m, frame, m->m_umem));
		xm_mb_pair_ext(m, r->zone, frame, stride, XM_EXT_RXFRAME);
		*o++ = m;
		sum += len;
	}
	*op = o;
	*sump = sum;
	return cons - r->first;
}

/* One copy of the loop per chunk size, each with registers of its own. */
#define XM_RX_WRAP_FN(name, cs, ms, st)				\
static __attribute__((noinline)) unsigned int				\
name(struct xm_umem *u, const struct xm_rxrun *r, uint32_t stride,	\
     unsigned int i, unsigned int max, struct xm_mbuf ***op,		\
     uint64_t *sump, char **special)					\
{									\
	(void)stride;							\
	return xm_rx_wrap_loop(u, r, (st), i, max, op, sump, special,	\
			       (cs), (ms));				\
}
XM_RX_WRAP_FN(xm_rx_wrap_2k, 11, XM_MSIZE, 2048)
XM_RX_WRAP_FN(xm_rx_wrap_4k, 12, XM_MSIZE, 4096)
XM_RX_WRAP_FN(xm_rx_wrap_any, u->u_chunk_shift, u->u_meta_size, stride)

unsigned int _xm_rxframe_port_ring(struct xm_umem *u, struct xm_zone *z,
				   struct xm_rxrun *r, unsigned int max,
				   struct xm_mbuf **out)
{
	const uint32_t stride = z->uz_stride;
	struct xm_mbuf **o = out;
	uint64_t sum = 0;
	unsigned int i = 0;
	unsigned int (*wrap)(struct xm_umem *, const struct xm_rxrun *,
			     uint32_t, unsigned int, unsigned int,
			     struct xm_mbuf ***, uint64_t *, char **) =
		u->u_meta_size != XM_MSIZE ||
		stride != 1u << u->u_chunk_shift ? xm_rx_wrap_any :
		stride == 2048 ? xm_rx_wrap_2k :
		stride == 4096 ? xm_rx_wrap_4k : xm_rx_wrap_any;

	_Static_assert(offsetof(struct xm_pkthdr, rcvport) == 16 &&
		       offsetof(struct xm_pkthdr, rcvqueue) == 18 &&
		       offsetof(struct xm_pkthdr, nsegs) == 23 &&
		       sizeof(struct xm_pkthdr) == 32, "m_pkthdr's words");
	r->zone = z;
	for (;;) {
		char *frame = NULL;

		i = wrap(u, r, stride, i, max, &o, &sum, &frame);
		if (xm_likely(frame == NULL))
			break;
		xm_zone_free(z, frame);
	}
	r->bytes += sum;
	r->nout = (unsigned int)(o - out);
	return i;
}

/*
 * What a TX completion does with the port's own frames (the raw l2fwd
 * loop's completion-to-fill): an mbuf that is a whole one-mbuf packet and
 * the only reference to a frame of z, with its paired header, is freed as
 * xm_freem would (the header idled), except that the frame does not go
 * to the zone: it goes on the fill ring of struct xm_fillrun, and its
 * lent bit is set, while the ring has room.  From the zone's side the
 * frame stays allocated, as one on a fill ring always is.  Anything else
 * is freed as by xm_freem.  Once the ring has no room, such frames go to
 * f->spill[] instead (up to f->spill_room), idled the same way, for the
 * caller's next refill.  `make bench B=cost`, fwd: from the zone's free
 * and the fill's allocation, about 50 instructions a packet, to about
 * 30.
 */
static inline __attribute__((always_inline)) unsigned int
xm_mb_recycle_loop(struct xm_zone *z, struct xm_mbuf *const *ms,
		   unsigned int n, struct xm_fillrun *f, const uint32_t cshift)
{
	uint64_t *const ring = f->ring, *const lent = f->lent;
	const uint32_t mask = f->mask, prod0 = f->prod;
	const char *const base = f->base;
	uint32_t prod = prod0, end = prod0 + f->room;

	for (unsigned int i = 0; i < n; i++) {
		struct xm_mbuf *m = ms[i];
		char *frame;

		xm_mb_assert_live(m, "xm_freem");
		if (xm_unlikely(m->m_next != NULL || !xm_mb_paired_sole(m) ||
				m->m_ext.ext_arg1 != z)) {
			xm_freem(m);
			continue;
		}
		frame = m->m_ext.ext_buf;
		xm_mb_set_flags_type(m, XM_MB_IDLE_FLAGS, XM_MT_NOTMBUF);
		m->m_ext.ext_count = 0;
		if (xm_likely(prod != end)) {
			uint64_t off = (uint64_t)(frame - base);
			uint64_t idx = off >> cshift;

			ring[prod++ & mask] = off;
			lent[idx / 64] |= (uint64_t)1 << (idx % 64);
		} else if (f->nspill < f->spill_room) {
			/* the ring is full: kept for the next refill */
			f->spill[f->nspill++] = frame;
		} else {
			/* what xm_freem does with it */
			xm_zone_free(z, frame);
		}
	}
	f->prod = prod;
	return prod - prod0;
}

unsigned int _xm_mbuf_recycle(struct xm_zone *z, struct xm_mbuf *const *ms,
			      unsigned int n, struct xm_fillrun *f)
{
	/* the port's two chunk sizes, each with a constant shift */
	if (f->cshift == 11)
		return xm_mb_recycle_loop(z, ms, n, f, 11);
	if (f->cshift == 12)
		return xm_mb_recycle_loop(z, ms, n, f, 12);
	return xm_mb_recycle_loop(z, ms, n, f, f->cshift);
}

uint64_t xm_mtooff(const struct xm_mbuf *m)
{
	uint64_t off;

	if (m == NULL || m->m_umem == NULL)
		return UINT64_MAX;
	off = _xm_umem_addr2off(m->m_umem, m->m_data);
	return off < m->m_umem->u_size ? off : UINT64_MAX;
}

/* ------------------------------------------------------- references */

void _xm_mb_dupcl(struct xm_mbuf *n, struct xm_mbuf *m)
{
	volatile uint32_t *refcnt;

	XM_ASSERT(m->m_flags & XM_EXT, ("xmbuf: %s: mbuf %p has no storage\n",
					__func__, m));
	XM_ASSERT(!(n->m_flags & (XM_EXT | XM_PAIRED)),
		  ("xmbuf: %s: mbuf %p already has storage\n", __func__, n));
	n->m_ext = m->m_ext;
	n->m_flags |= m->m_flags & (XM_EXT | XM_RDONLY);
	if (m->m_ext.ext_flags & XM_EXT_FLAG_EMBREF) {
		refcnt = &m->m_ext.ext_count;
		n->m_ext.ext_cnt = refcnt;
		n->m_ext.ext_flags &= ~XM_EXT_FLAG_EMBREF;
	} else {
		refcnt = m->m_ext.ext_cnt;
	}
	/* We hold a reference: a count of 1 is ours alone. */
	if (*refcnt == 1)
		*refcnt += 1;
	else
		__atomic_fetch_add(refcnt, 1, __ATOMIC_RELAXED);
}

uint32_t xm_refcnt(const struct xm_mbuf *m)
{
	if (m == NULL || !(m->m_flags & XM_EXT))
		return 0;
	return __atomic_load_n(xm_mb_refcntp(m), __ATOMIC_RELAXED);
}

bool xm_writable(const struct xm_mbuf *m)
{
	if (m == NULL || (m->m_flags & XM_RDONLY))
		return false;
	return !(m->m_flags & XM_EXT) || xm_refcnt(m) == 1;
}

int32_t xm_leadingspace(const struct xm_mbuf *m)
{
	if (!xm_writable(m))
		return 0;
	return (int32_t)(m->m_data - xm_start((struct xm_mbuf *)m));
}

int32_t xm_trailingspace(const struct xm_mbuf *m)
{
	if (!xm_writable(m))
		return 0;
	return xm_mb_room((struct xm_mbuf *)m) - m->m_len;
}
