/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file
 * xm_mbuf.h - the mbuf layer (public KPI), mbuf(9) on an AF_XDP UMEM.
 *
 * An mbuf is a 128-byte header that describes a piece of packet data:
 * either a few bytes inline (m_dat / m_pktdat) or external storage (M_EXT):
 * a UMEM frame from one of the frame zones, or a caller's buffer.  A chain
 * linked through m_next is one packet; the first mbuf carries the packet
 * header (M_PKTHDR).  Packets are queued through m_nextpkt.
 *
 *   struct xm_mbuf (128 bytes, two cache lines)
 *   +-----------------------------+ 0
 *   | m_next m_nextpkt m_data     |
 *   | m_umem m_len m_flags m_type |
 *   +-----------------------------+ 40
 *   | m_pkthdr (M_PKTHDR only)    |  m_dat: 88 bytes inline (XM_MLEN)
 *   +-----------------------------+ 72
 *   | m_ext (M_EXT only)          |  m_pktdat: 56 bytes inline (XM_MHLEN)
 *   +-----------------------------+ 120
 *
 * External storage is reference counted as FreeBSD's mb_free_ext does
 * it: the first mbuf to own the storage holds the count in m_ext.ext_count
 * (XM_EXT_FLAG_EMBREF); every mbuf that shares it later (xm_copym) points
 * at that count through m_ext.ext_cnt.  The owner's header is not freed
 * while others still point at its count; the last reference frees the
 * storage to its zone and the owner with it.
 *
 * Where headers live: a header from xm_get()/xm_gethdr() comes from the
 * mbuf zone (ordinary memory).  A frame allocated with its header
 * (xm_getcl, xm_getjcl, xm_get2, and every frame that came from an RX
 * ring) uses the frame's *paired* header, a slot of a parallel array
 * indexed by frame number (the umem's per-frame records): one allocation
 * instead of two, nothing written into the frame, so the kernel gets the
 * whole chunk for packet bytes.  This is FreeBSD's packet zone
 * (EXT_PACKET) made free: the pairing is by address, not by a cache.
 */
#ifndef XM_MBUF_H
#define XM_MBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xm_umem.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XM_MSIZE		128	/* size of struct xm_mbuf */
#define XM_MLEN			88	/* inline bytes, no packet header */
#define XM_MHLEN		56	/* inline bytes with a packet header */
#define XM_MINCLSIZE		(XM_MHLEN + 1)	/* smallest cluster worth it */

/* m_flags */
#define XM_EXT			0x00000001 /* has external storage */
#define XM_PKTHDR		0x00000002 /* start of a packet */
#define XM_EOR			0x00000004 /* end of record */
#define XM_RDONLY		0x00000008 /* storage is read-only */
#define XM_BCAST		0x00000010 /* link-level broadcast */
#define XM_MCAST		0x00000020 /* link-level multicast */
#define XM_NOFREE		0x00000040 /* header is not freed with storage */
#define XM_PAIRED		0x00000080 /* header is a frame's paired header */
#define XM_VLANTAG		0x00000100 /* m_pkthdr.ether_vtag is valid */
#define XM_TSTMP		0x00000200 /* m_pkthdr.rcv_tstamp is valid */
#define XM_FLOWID		0x00000400 /* m_pkthdr.flowid is valid */
#define XM_COPYFLAGS		(XM_PKTHDR | XM_EOR | XM_RDONLY | XM_BCAST | \
				 XM_MCAST | XM_VLANTAG | XM_TSTMP | XM_FLOWID)

/* m_type */
#define XM_MT_NOTMBUF		0	/* not an mbuf (freed) */
#define XM_MT_DATA		1	/* dynamic data */
#define XM_MT_HEADER		XM_MT_DATA
#define XM_MT_CONTROL		14	/* control data */
#define XM_MT_OOBDATA		15	/* out-of-band data */

/* m_ext.ext_type */
#define XM_EXT_CLUSTER		1	/* 2 KiB cluster, own header */
#define XM_EXT_JUMBOP		2	/* page-size cluster, own header */
#define XM_EXT_JUMBO9		3	/* 9 KiB cluster, own header */
#define XM_EXT_JUMBO16		4	/* 16 KiB cluster, own header */
#define XM_EXT_PACKET		5	/* frame with its paired header */
#define XM_EXT_EXTREF		6	/* caller's buffer, free callback */
#define XM_EXT_RXFRAME		7	/* UMEM frame received from a ring */

/* m_ext.ext_flags */
#define XM_EXT_FLAG_EMBREF	0x1	/* count is embedded in this mbuf */

struct xm_mbuf;

/* Called for XM_EXT_EXTREF storage when its last reference goes. */
typedef void (*xm_ext_free_t)(struct xm_mbuf *m);

/* m_pkthdr.csum_flags */
#define XM_CSUM_IP_CHECKED	0x1	/* IP header checksum checked */
#define XM_CSUM_IP_VALID	0x2	/* ... and found valid */
#define XM_CSUM_L4_VALID	0x4	/* L4 checksum verified */

struct xm_pkthdr {
	uint32_t len;			/* total packet length */
	uint32_t flowid;		/* RSS hash (XM_FLOWID) */
	uint64_t rcv_tstamp;		/* receive time, ns (XM_TSTMP) */
	uint16_t rcvport;		/* receiving port index */
	uint16_t rcvqueue;		/* receiving queue */
	uint16_t ether_vtag;		/* VLAN tag (XM_VLANTAG) */
	uint8_t rsstype;		/* RSS hash type */
	uint8_t nsegs;			/* descriptors the packet came in */
	uint32_t csum_flags;		/* XM_CSUM_* */
	uint32_t pkt_spare;		/* free for the application */
};

struct xm_ext {
	union {
		volatile uint32_t ext_count;	 /* EMBREF: the count */
		volatile uint32_t *ext_cnt;	 /* else: owner's count */
	};
	char *ext_buf;			/* start of storage */
	uint32_t ext_size;		/* size of storage */
	uint8_t ext_type;		/* XM_EXT_* */
	uint8_t ext_flags;		/* XM_EXT_FLAG_* */
	uint16_t ext_spare;
	xm_ext_free_t ext_free;		/* EXTREF: free callback */
	void *ext_arg1;			/* zone, or the caller's argument */
	void *ext_arg2;			/* caller's argument */
};

/*
 * The header.  Exposed because the fast path reads it; treat
 * m_ext and the pkthdr as yours only where mbuf(9) would.
 */
struct xm_mbuf {
	struct xm_mbuf *m_next;		/* next mbuf of this packet */
	struct xm_mbuf *m_nextpkt;	/* next packet in a queue */
	char *m_data;			/* start of data */
	struct xm_umem *m_umem;		/* umem the header belongs to */
	int32_t m_len;			/* bytes in this mbuf */
	uint32_t m_flags : 24;		/* XM_* flags */
	uint32_t m_type : 8;		/* XM_MT_* */
	union {
		struct {
			struct xm_pkthdr m_pkthdr;	/* XM_PKTHDR */
			union {
				struct xm_ext m_ext;	/* XM_EXT */
				char m_pktdat[XM_MHLEN];
			};
		};
		char m_dat[XM_MLEN];
	};
};

_Static_assert(sizeof(struct xm_mbuf) == XM_MSIZE, "mbuf is 128 bytes");
_Static_assert(offsetof(struct xm_mbuf, m_dat) + XM_MLEN == XM_MSIZE,
	       "XM_MLEN");
_Static_assert(offsetof(struct xm_mbuf, m_pktdat) + XM_MHLEN == XM_MSIZE,
	       "XM_MHLEN");

#define xm_mtod(m, t)		((t)((m)->m_data))

/** Size of the storage the mbuf's data lives in. */
static inline uint32_t xm_size(const struct xm_mbuf *m)
{
	if (m->m_flags & XM_EXT)
		return m->m_ext.ext_size;
	return (m->m_flags & XM_PKTHDR) ? XM_MHLEN : XM_MLEN;
}

/** Start of the storage the mbuf's data lives in. */
static inline char *xm_start(struct xm_mbuf *m)
{
	if (m->m_flags & XM_EXT)
		return m->m_ext.ext_buf;
	return (m->m_flags & XM_PKTHDR) ? m->m_pktdat : m->m_dat;
}

/*
 * Allocation KPI.  "how" is XM_NOWAIT or XM_WAITOK (exactly one),
 * optionally | XM_USE_RESERVE; type is XM_MT_DATA .. XM_MT_OOBDATA;
 * flags may hold XM_PKTHDR and XM_EOR (anything else is EINVAL; only
 * xm_getm2 drops unknown flags, as m_getm2 does).  Pointer returns are
 * NULL with errno set (ENOBUFS at a limit, EINVAL for bad arguments, or
 * for a umem whose hdr_size / meta_size is below XM_MSIZE).  The header
 * returned is initialised: m_next, m_nextpkt NULL, m_umem set, m_len 0,
 * m_data at the start of storage; a packet header is zeroed.  The caller
 * owns the mbuf until xm_free/xm_freem.
 */
/** An mbuf with its data inline (XM_MLEN bytes), as m_get(9). */
XM_API struct xm_mbuf *xm_get(struct xm_umem *u, int how, short type);
/** The same with a packet header (XM_MHLEN bytes), as m_gethdr(9). */
XM_API struct xm_mbuf *xm_gethdr(struct xm_umem *u, int how, short type);
/** Header and 2 KiB cluster, paired (XM_EXT_PACKET). */
XM_API struct xm_mbuf *xm_getcl(struct xm_umem *u, int how, short type,
				int flags);
/**
 * Attaches a 2 KiB cluster to m (which must not have one): XM_EXT_CLUSTER
 * owned by m's header.  Bytes m held inline are carried over to the
 * start of the cluster.  On failure m is unchanged.
 * @return 0, on success; -ENOBUFS or -EINVAL otherwise.
 */
XM_API int xm_clget(struct xm_mbuf *m, int how);
/**
 * Allocates a cluster of size (XM_MCLBYTES, XM_MJUMPAGESIZE, XM_MJUM9BYTES,
 * XM_MJUM16BYTES) and attaches it to m when m is not NULL (as xm_clget;
 * m must belong to u).  A bare cluster (m NULL) goes back with
 * xm_zone_free().
 * @return the cluster, or NULL with errno set.
 */
XM_API void *xm_cljget(struct xm_umem *u, struct xm_mbuf *m, int how,
		       int size);
/** Header with a cluster of size attached, paired (XM_EXT_PACKET). */
XM_API struct xm_mbuf *xm_getjcl(struct xm_umem *u, int how, short type,
				 int flags, int size);
/**
 * The smallest mbuf that holds size bytes: inline up to XM_MHLEN
 * (XM_MLEN without a packet header), a 2 KiB cluster up to XM_MCLBYTES,
 * a page cluster up to XM_MJUMPAGESIZE; NULL (EINVAL) above.
 */
XM_API struct xm_mbuf *xm_get2(struct xm_umem *u, int size, int how,
			       short type, int flags);
/**
 * A chain with room for len bytes, appended to m when m is not NULL
 * (m_getm2): page clusters while more than XM_MCLBYTES remain (tried
 * NOWAIT, else 2 KiB clusters), a 2 KiB cluster from XM_MINCLSIZE, else
 * a plain mbuf; XM_PKTHDR on the first new mbuf only when m is NULL,
 * XM_EOR on the last.  New mbufs have m_len 0.  All or nothing: on
 * failure what was built is freed and m is unchanged.  len 0 returns m
 * unchanged, or NULL (EINVAL) when m is NULL.
 */
XM_API struct xm_mbuf *xm_getm2(struct xm_umem *u, struct xm_mbuf *m, int len,
				int how, short type, int flags);
/**
 * Attaches a caller's buffer to m with a free callback called when the
 * last reference goes (XM_EXT_EXTREF, embedded count).  type must be
 * XM_EXT_EXTREF; flags may hold XM_RDONLY, XM_NOFREE (m's header is not
 * the library's: never given to a zone) and XM_EOR.  freef receives the
 * mbuf whose free dropped the last reference (its m_ext carries buf,
 * size, arg1, arg2); that header is freed after freef returns.  m_len is
 * left to the caller.
 * @return 0, on success; -EINVAL (NULL buf or freef, size 0, m already
 * has storage, other type or flags) otherwise.
 */
XM_API int xm_extadd(struct xm_mbuf *m, char *buf, uint32_t size,
		     xm_ext_free_t freef, void *arg1, void *arg2, int flags,
		     int type);
/** Frees one mbuf; @return its m_next. */
XM_API struct xm_mbuf *xm_free(struct xm_mbuf *m);
/** Frees a whole chain (one packet). NULL is allowed. */
XM_API void xm_freem(struct xm_mbuf *m);
/** Frees every packet of an m_nextpkt queue. */
XM_API void xm_freem_list(struct xm_mbuf *m);

/* Bulk forms for bursts: all or nothing. */
/** @return 0, on success; -ENOBUFS (nothing taken) or -EINVAL. */
XM_API int xm_getcl_bulk(struct xm_umem *u, int how, short type, int flags,
			 struct xm_mbuf **ms, unsigned int n);
/**
 * Frees n packets (chains); NULL entries are skipped.  Unshared frames
 * with paired headers go back to their zones in batches.
 */
XM_API void xm_freem_bulk(struct xm_mbuf *const *ms, unsigned int n);

/**
 * Wraps a frame received from an RX ring (no copy): addr is the
 * descriptor's address (region offset of the first byte), len its
 * length.  The frame's paired header is used (XM_EXT_RXFRAME, m_type
 * XM_MT_DATA); the storage is the whole frame stride, so leading space
 * is the headroom before addr; the frame goes back to its zone with the
 * last reference.  flags may hold XM_PKTHDR (pkthdr.len = len) and
 * XM_EOR.  @return the mbuf, or NULL with errno EINVAL for an address
 * outside the frame zones or a length past the frame's end, EBUSY when
 * the frame is already wrapped (its header is live).
 */
XM_API struct xm_mbuf *xm_rxframe(struct xm_umem *u, uint64_t addr,
				  uint32_t len, int flags);
/** Region offset of m's data when it lives in the UMEM, else UINT64_MAX. */
XM_API uint64_t xm_mtooff(const struct xm_mbuf *m);

/* References. */
/** Reference count of m's storage (1 when not shared, 0 without M_EXT). */
XM_API uint32_t xm_refcnt(const struct xm_mbuf *m);
/** True when m's data may be written in place. */
XM_API bool xm_writable(const struct xm_mbuf *m);
/** Bytes free before m's data that may be written (0 when not writable). */
XM_API int32_t xm_leadingspace(const struct xm_mbuf *m);
/** Bytes free after m's data that may be written (0 when not writable). */
XM_API int32_t xm_trailingspace(const struct xm_mbuf *m);

/*
 * Chain operations (uipc_mbuf.c).  Functions that may allocate take "how";
 * on failure those that consume the chain free it, as mbuf(9) documents
 * for each.
 */
/** Trims len bytes from the head (len > 0) or the tail (len < 0). */
XM_API void xm_adj(struct xm_mbuf *m, int len);
/**
 * Makes the first len bytes contiguous in the first mbuf.  When the
 * first mbuf already holds len bytes, m is returned as it is, whatever
 * len (nothing is gathered, so no size limit applies: what mbuf(9)'s
 * idiom of calling m_pullup only when m_len < len gives).
 * Otherwise they are gathered in place when the first mbuf is writable
 * and has the room after m_data (inline, cluster or RX frame), else into
 * a new first mbuf, the smallest that holds len (xm_get2's rule;
 * m_pullup would stop at XM_MHLEN), which takes over the packet header.
 * @return the chain, or NULL (chain freed, errno set: EINVAL for len < 0,
 * len beyond the chain, or len above XM_MJUMPAGESIZE that the first mbuf
 * does not already hold; ENOBUFS) on failure.
 */
XM_API struct xm_mbuf *xm_pullup(struct xm_mbuf *m, int len);
/**
 * Prepends len bytes of room (M_PREPEND): in the leading space of the
 * first mbuf when it is writable, else in a new first mbuf (xm_get2's
 * size for len, data at its end) that takes over the packet header.
 * len is at most XM_MJUMPAGESIZE.  pkthdr.len grows by len.
 * @return the chain, or NULL (chain freed, errno set).
 */
XM_API struct xm_mbuf *xm_prepend(struct xm_mbuf *m, int len, int how);
/**
 * Appends len bytes from cp: trailing space of the last mbuf when
 * writable, then new mbufs (NOWAIT).  All or nothing; pkthdr.len grows.
 * @return 0, or -ENOBUFS / -EINVAL (chain unchanged).
 */
XM_API int xm_append(struct xm_mbuf *m, int len, const void *cp);
/**
 * Copies len bytes at off out of the chain.
 * @return 0, or -EINVAL (range beyond the chain; cp untouched).
 */
XM_API int xm_copydata(const struct xm_mbuf *m, int off, int len, void *cp);
/**
 * Copies len bytes from cp into the chain at off, extending it as needed
 * (a gap between the end and off reads as zeros); pkthdr.len becomes
 * at least off + len.  Never writes storage that is not writable:
 * -EROFS when [off, off + len) overlaps bytes held in shared or
 * read-only storage (xm_dup the packet first); an empty mbuf holds no
 * byte of any range, whatever its storage.  All or nothing.
 * @return 0, or -ENOBUFS / -EINVAL / -EROFS (chain unchanged).
 */
XM_API int xm_copyback(struct xm_mbuf *m, int off, int len, const void *cp,
		       int how);
/** Total bytes of the chain; *last, if not NULL, gets the last mbuf. */
XM_API uint32_t xm_length(struct xm_mbuf *m, struct xm_mbuf **last);
/**
 * Splits the chain at len0: m keeps the first len0 bytes, the rest is
 * returned (with a packet header when m has one, carrying the receive
 * fields: rcvport, rcvqueue, timestamp, flow id).  A cut inside external
 * storage shares it (a reference) unless the remainder fits inline,
 * where it is copied so the storage stays unshared.  A cut at the end
 * returns an empty mbuf.  @return the tail, or NULL (m untouched, errno
 * set) on failure only.
 */
XM_API struct xm_mbuf *xm_split(struct xm_mbuf *m, int len0, int how);
/**
 * Appends chain n to m; n's packet header is dropped and m's pkthdr.len
 * grows by n's length (m_cat plus m_catpkt's bookkeeping).  Small mbufs
 * of n (at most XM_MLEN bytes) are copied into m's writable trailing
 * space and freed; the rest is linked.  m NULL: nothing happens.
 */
XM_API void xm_cat(struct xm_mbuf *m, struct xm_mbuf *n);
/**
 * Copies len bytes at off (XM_COPYALL for the rest) sharing storage:
 * external storage gains a reference, inline bytes are copied.  The
 * packet header is copied when off is 0 (its len is the copy's length).
 * Shared storage is read-only to every sharer until the others are
 * freed.  Empty mbufs of m are not copied (they hold no byte): the
 * result depends on m's bytes, not on where empty mbufs lie.  An empty
 * range (len 0, or off at the end of the chain with XM_COPYALL) gives
 * one empty mbuf (with the packet header when off is 0).
 * @return the copy, or NULL with errno set (EINVAL for off or off + len
 * beyond the chain, or bad arguments; ENOBUFS, with nothing left
 * allocated): NULL always means failure.
 */
#define XM_COPYALL		1000000000
/** m_copym(9): a copy that shares the storage (described above). */
XM_API struct xm_mbuf *xm_copym(struct xm_mbuf *m, int off, int len, int how);
/**
 * Deep copy of a chain into new mbufs and clusters (xm_getm2's shapes):
 * no storage shared, the packet header copied when m has one.
 * @return the copy, or NULL with errno set (nothing left allocated).
 */
XM_API struct xm_mbuf *xm_dup(const struct xm_mbuf *m, int how);
/**
 * Copies the packet header of from to to; to keeps its storage (and its
 * XM_EXT, XM_PAIRED, XM_NOFREE, XM_RDONLY flags).
 * @return 0, on success; -EINVAL when from has no packet header, to ==
 * from, or to is a plain mbuf with inline data where the header goes.
 */
XM_API int xm_dup_pkthdr(struct xm_mbuf *to, const struct xm_mbuf *from);
/**
 * Non-aborting sanity check of a chain (rte_mbuf_check).
 * @return true if sane; else false and *reason, if not NULL, says why.
 */
XM_API bool xm_check(const struct xm_mbuf *m, const char **reason);

#ifdef __cplusplus
}
#endif

#endif /* XM_MBUF_H */
