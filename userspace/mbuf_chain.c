/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mbuf_chain.c - chain operations of mbuf(9) (uipc_mbuf.c's KPI) on
 * xm_mbuf chains.
 *
 * A chain linked by m_next is one packet; its first mbuf carries the
 * packet header, whose len is the sum of m_len over the chain.  Every
 * operation here keeps that sum right, and none writes into storage that
 * is not writable (XM_RDONLY, or external storage with more than one
 * reference): where mbuf(9) would copy into such storage we allocate or
 * link instead, and xm_copyback() refuses (-EROFS) rather than write
 * through a shared frame that another packet (a capture, a second TX
 * port) is reading.
 *
 *   m0 (PKTHDR, pkthdr.len = 3000)
 *   +------+  m_next  +------+  m_next  +------+
 *   | 54 B |--------->| 1446 |--------->| 1500 |---> NULL
 *   +------+          +------+          +------+
 *      |                  |                 |
 *   inline (m_pktdat)  frame A (paired)  frame B, shared with a copy
 *                                        made by xm_copym (count 2)
 *
 * Sharing: xm_copym() and xm_split() make new headers that reference the
 * same external storage (the owner's count goes up); inline bytes are
 * always copied, since they live in the header.  xm_dup() copies
 * everything into fresh clusters.
 *
 * Failure: functions that take the chain over (xm_pullup, xm_prepend)
 * free it when they fail, as mbuf(9) does; the others leave it as it was
 * (all-or-nothing: what they need is allocated before anything moves).
 *
 * KPI:
 *   xm_adj()        trim bytes from the head or the tail
 *   xm_pullup()     make the first len bytes contiguous
 *   xm_prepend()    room for len bytes in front (M_PREPEND)
 *   xm_append()     append bytes, growing the chain
 *   xm_copydata()   copy bytes out of a chain
 *   xm_copyback()   copy bytes into a chain, extending it
 *   xm_length()     bytes in a chain, and its last mbuf
 *   xm_split()      cut a chain in two
 *   xm_cat()        join two chains
 *   xm_copym()      copy a range, sharing external storage
 *   xm_dup()        deep copy of a packet
 *   xm_check()      non-aborting sanity check (rte_mbuf_check)
 *   xm_dup_pkthdr() copy a packet header onto another mbuf
 * Hidden (the chain operations'): _xm_mb_copy_pkthdr, _xm_mb_move_pkthdr.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "xm_mbuf_int.h"

/* Longest chain xm_check() walks before calling it corrupt. */
#define XM_CHECK_MAX_MBUFS	(1u << 20)

#define xm_min(a, b)		((a) < (b) ? (a) : (b))

/* --------------------------------------------------------------- adj */

void xm_adj(struct xm_mbuf *mp, int req_len)
{
	struct xm_mbuf *m;
	long len = req_len;	/* long: -INT_MIN must fit */
	long count;

	if (mp == NULL)
		return;
	if (len >= 0) {
		/* Head: empty mbufs stay; the first one carries the header. */
		for (m = mp; m != NULL && len > 0; m = m->m_next) {
			if (m->m_len <= len) {
				len -= m->m_len;
				m->m_len = 0;
			} else {
				m->m_len -= (int32_t)len;
				m->m_data += len;
				len = 0;
			}
		}
		if (mp->m_flags & XM_PKTHDR)
			mp->m_pkthdr.len -= (uint32_t)(req_len - len);
		return;
	}

	len = -len;
	count = 0;
	for (m = mp;; m = m->m_next) {
		count += m->m_len;
		if (m->m_next == NULL)
			break;
	}
	if (m->m_len >= len) {
		m->m_len -= (int32_t)len;
		if (mp->m_flags & XM_PKTHDR)
			mp->m_pkthdr.len -= (uint32_t)len;
		return;
	}
	/* Tail spans mbufs: keep `count` bytes, free the mbufs past them. */
	count -= len;
	if (count < 0)
		count = 0;
	if (mp->m_flags & XM_PKTHDR)
		mp->m_pkthdr.len = (uint32_t)count;
	for (m = mp; m != NULL; m = m->m_next) {
		if (m->m_len >= count) {
			m->m_len = (int32_t)count;
			if (m->m_next != NULL) {
				struct xm_mbuf *last;

				xm_length(m->m_next, &last);
				if (last->m_flags & XM_EOR)
					m->m_flags |= XM_EOR;
				xm_freem(m->m_next);
				m->m_next = NULL;
			}
			break;
		}
		count -= m->m_len;
	}
}

/* ------------------------------------------------------------ pullup */

struct xm_mbuf *xm_pullup(struct xm_mbuf *m, int len)
{
	struct xm_mbuf *dst, *n;
	long have = 0;
	int err;

	if (m == NULL) {
		errno = EINVAL;
		return NULL;
	}
	/*
	 * Already contiguous: nothing to gather, so no size limit applies
	 * (what mbuf(9)'s idiom, m_pullup only when m_len < len, gives: a
	 * 9 KiB frame pulled up to 9000 bytes is returned as it is; m_pullup
	 * itself refuses above MHLEN unless its inline fast path applies).
	 * The limit is on what we would allocate.
	 */
	if (len >= 0 && m->m_len >= len)
		return m;
	if (len < 0 || len > XM_MJUMPAGESIZE) {
		err = EINVAL;
		goto out_chain;
	}
	for (n = m; n != NULL && have < len; n = n->m_next)
		have += n->m_len;
	if (have < len) {
		err = EINVAL;
		goto out_chain;
	}

	/*
	 * m_pullup() only gathers into a first mbuf with inline room; ours
	 * also gathers into a first mbuf's cluster or RX frame when it is
	 * writable and has the room after m_data, which is the common case
	 * for a received packet.  Otherwise a new first mbuf is made of the
	 * smallest kind that holds len (inline, 2 KiB or 4 KiB cluster,
	 * xm_get2's rule), where m_pullup() would give up above MHLEN.
	 */
	if (xm_writable(m) && xm_mb_room(m) >= len) {
		dst = m;
		n = m->m_next;
		len -= m->m_len;
	} else {
		dst = xm_get2(m->m_umem, len, XM_NOWAIT, m->m_type,
			      m->m_flags & XM_PKTHDR);
		if (dst == NULL) {
			err = errno;
			goto out_chain;
		}
		if (m->m_flags & XM_PKTHDR)
			_xm_mb_move_pkthdr(dst, m);
		n = m;
	}
	while (len > 0) {
		int count = xm_min(len, n->m_len);

		memcpy(dst->m_data + dst->m_len, n->m_data, (size_t)count);
		len -= count;
		dst->m_len += count;
		n->m_len -= count;
		if (n->m_len > 0) {
			n->m_data += count;
		} else {
			if ((n->m_flags & XM_EOR) && n->m_next == NULL)
				dst->m_flags |= XM_EOR;
			n = xm_free(n);
		}
	}
	dst->m_next = n;
	return dst;

out_chain:
	xm_freem(m);
	errno = err;
	return NULL;
}

/* ----------------------------------------------------------- prepend */

struct xm_mbuf *xm_prepend(struct xm_mbuf *m, int len, int how)
{
	struct xm_mbuf *mn;
	int err;

	if (m == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (len < 0 || len > XM_MJUMPAGESIZE || !xm_mb_how_valid(how)) {
		err = EINVAL;
		goto out_chain;
	}
	if (xm_leadingspace(m) >= len) {
		m->m_data -= len;
		m->m_len += len;
	} else {
		mn = xm_get2(m->m_umem, len, how, m->m_type,
			     m->m_flags & XM_PKTHDR);
		if (mn == NULL) {
			err = errno;
			goto out_chain;
		}
		if (m->m_flags & XM_PKTHDR)
			_xm_mb_move_pkthdr(mn, m);
		mn->m_next = m;
		m = mn;
		xm_mb_align_end(m, (uint32_t)len);
		m->m_len = len;
	}
	if (m->m_flags & XM_PKTHDR)
		m->m_pkthdr.len += (uint32_t)len;
	return m;

out_chain:
	xm_freem(m);
	errno = err;
	return NULL;
}

/* ------------------------------------------------ copydata, copyback */

/* Writes [off, off + len) of a chain known to be long enough. */
static void xm_chain_write(struct xm_mbuf *m, long off, long len,
			   const char *src)
{
	if (len == 0)
		return;
	while (off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		long count = xm_min(m->m_len - off, len);

		if (src != NULL) {
			memcpy(m->m_data + off, src, (size_t)count);
			src += count;
		} else {
			memset(m->m_data + off, 0, (size_t)count);
		}
		len -= count;
		off = 0;
		m = m->m_next;
	}
}

/*
 * Copies len bytes from cp to offset off of m0, zero-filling any gap and
 * extending the chain (the last mbuf's trailing space, then a chain from
 * xm_getm2) as needed.  Nothing changes unless everything succeeds.
 * append: the packet header's len grows by len (m_append) rather than to
 * the end of the write (m_copyback).
 */
static int xm_chain_put(struct xm_mbuf *m0, long off, long len,
			const void *cp, int how, bool append)
{
	struct xm_mbuf *m, *last = NULL, *ext = NULL;
	long total = 0, end = off + len, grow = 0;

	for (m = m0; m != NULL; m = m->m_next) {
		/*
		 * Overwriting bytes of storage someone else reads?  An empty
		 * mbuf holds no byte of the range whatever its storage (a
		 * shared one is left by trimming a copy), and gets no byte
		 * written: xm_chain_write() passes it by, and growth goes
		 * into trailing space, which is 0 when not writable.
		 */
		if (m->m_len > 0 && total < end && total + m->m_len > off &&
		    !xm_writable(m))
			return -EROFS;
		total += m->m_len;
		last = m;
	}
	if (end > total) {
		long need;

		grow = xm_min((long)xm_trailingspace(last), end - total);
		need = end - total - grow;
		if (need > INT_MAX)
			return -EINVAL;
		if (need > 0) {
			ext = xm_getm2(m0->m_umem, NULL, (int)need, how,
				       last->m_type, 0);
			if (ext == NULL)
				return -errno;
			for (m = ext; m != NULL; m = m->m_next) {
				m->m_len = (int32_t)xm_min((long)xm_size(m),
							   need);
				need -= m->m_len;
			}
			if (last->m_flags & XM_EOR) {
				last->m_flags &= ~XM_EOR;
				xm_length(ext, &m);
				m->m_flags |= XM_EOR;
			}
		}
		/* Commit: nothing can fail past this point. */
		last->m_len += (int32_t)grow;
		last->m_next = ext;
		if (off > total)
			xm_chain_write(m0, total, off - total, NULL);
	}
	xm_chain_write(m0, off, len, cp);
	if (m0->m_flags & XM_PKTHDR) {
		if (append)
			m0->m_pkthdr.len += (uint32_t)len;
		else if (m0->m_pkthdr.len < end)
			m0->m_pkthdr.len = (uint32_t)end;
	}
	return 0;
}

int xm_copyback(struct xm_mbuf *m0, int off, int len, const void *cp, int how)
{
	if (m0 == NULL || off < 0 || len < 0 || (len > 0 && cp == NULL) ||
	    !xm_mb_how_valid(how) || (long)off + len > INT_MAX)
		return -EINVAL;
	return xm_chain_put(m0, off, len, cp, how, false);
}

int xm_append(struct xm_mbuf *m0, int len, const void *cp)
{
	uint32_t total;

	if (m0 == NULL || len < 0 || (len > 0 && cp == NULL))
		return -EINVAL;
	total = xm_length(m0, NULL);
	if ((long)total + len > INT_MAX)
		return -EINVAL;
	return xm_chain_put(m0, total, len, cp, XM_NOWAIT, true);
}

int xm_copydata(const struct xm_mbuf *m, int off, int len, void *cp)
{
	const struct xm_mbuf *n;
	char *dst = cp;
	long have = 0;

	if (off < 0 || len < 0 || (len > 0 && (m == NULL || cp == NULL)))
		return -EINVAL;
	/* Check first, so cp is untouched when the chain is too short. */
	for (n = m; n != NULL && have < (long)off + len; n = n->m_next)
		have += n->m_len;
	if (have < (long)off + len)
		return -EINVAL;
	if (len == 0)
		return 0;
	while (off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		int count = xm_min(m->m_len - off, len);

		memcpy(dst, m->m_data + off, (size_t)count);
		dst += count;
		len -= count;
		off = 0;
		m = m->m_next;
	}
	return 0;
}

uint32_t xm_length(struct xm_mbuf *m, struct xm_mbuf **last)
{
	struct xm_mbuf *l = NULL;
	uint32_t len = 0;

	for (; m != NULL; m = m->m_next) {
		len += (uint32_t)m->m_len;
		l = m;
	}
	if (last != NULL)
		*last = l;
	return len;
}

/* -------------------------------------------------------- split, cat */

/*
 * What the tail of a split inherits from the packet header: where and
 * when the packet was received (m_split copies rcvif); what describes
 * its contents (length, checksums) belongs to each half.
 */
static void xm_split_pkthdr(struct xm_mbuf *n, const struct xm_mbuf *m0)
{
	n->m_pkthdr.rcvport = m0->m_pkthdr.rcvport;
	n->m_pkthdr.rcvqueue = m0->m_pkthdr.rcvqueue;
	n->m_pkthdr.rcv_tstamp = m0->m_pkthdr.rcv_tstamp;
	n->m_pkthdr.flowid = m0->m_pkthdr.flowid;
	n->m_pkthdr.rsstype = m0->m_pkthdr.rsstype;
	n->m_flags |= m0->m_flags & (XM_TSTMP | XM_FLOWID);
}

struct xm_mbuf *xm_split(struct xm_mbuf *m0, int len0, int how)
{
	struct xm_mbuf *m, *n, *piece;
	struct xm_umem *u;
	int len = len0, remain;
	bool hdr;

	if (m0 == NULL || len0 < 0 || !xm_mb_how_valid(how)) {
		errno = EINVAL;
		return NULL;
	}
	for (m = m0; m != NULL && len > m->m_len; m = m->m_next)
		len -= m->m_len;
	if (m == NULL) {
		errno = EINVAL;
		return NULL;
	}
	u = m0->m_umem;
	remain = m->m_len - len;
	hdr = m0->m_flags & XM_PKTHDR;

	if (remain == 0) {
		/*
		 * A cut between mbufs moves no data.  Without a packet
		 * header the rest of the chain is the answer; at the very
		 * end, an empty mbuf is, so NULL always means failure.
		 */
		if (!hdr && m->m_next != NULL) {
			n = m->m_next;
			m->m_next = NULL;
			return n;
		}
		n = hdr ? xm_gethdr(u, how, m0->m_type) :
			  xm_get(u, how, m->m_type);
		if (n == NULL)
			return NULL;
		piece = n;
		piece->m_next = m->m_next;
		m->m_next = NULL;
		if (piece->m_next == NULL && (m->m_flags & XM_EOR)) {
			m->m_flags &= ~XM_EOR;
			piece->m_flags |= XM_EOR;
		}
		goto out_hdr;
	}

	n = hdr ? xm_gethdr(u, how, m0->m_type) : xm_get(u, how, m->m_type);
	if (n == NULL)
		return NULL;
	piece = n;
	if (remain > xm_mb_room(n) && !(m->m_flags & XM_EXT)) {
		/*
		 * Inline remainder (at most XM_MLEN) too big for the new
		 * packet header mbuf: it gets a plain mbuf of its own.
		 */
		piece = xm_get(u, how, m->m_type);
		if (piece == NULL) {
			int err = errno;

			xm_free(n);
			errno = err;
			return NULL;
		}
		n->m_next = piece;
	}
	/*
	 * Small remainders are copied so that the storage stays unshared
	 * (and writable); larger ones share it, as m_split does.
	 */
	if (remain <= xm_mb_room(piece)) {
		xm_mb_align_end(piece, (uint32_t)remain);
		memcpy(piece->m_data, m->m_data + len, (size_t)remain);
	} else {
		piece->m_data = m->m_data + len;
		_xm_mb_dupcl(piece, m);
	}
	piece->m_len = remain;
	m->m_len = len;
	piece->m_next = m->m_next;
	m->m_next = NULL;
	if (piece->m_next == NULL && (m->m_flags & XM_EOR)) {
		m->m_flags &= ~XM_EOR;
		piece->m_flags |= XM_EOR;
	}
out_hdr:
	if (hdr) {
		xm_split_pkthdr(n, m0);
		n->m_pkthdr.len = m0->m_pkthdr.len - (uint32_t)len0;
		m0->m_pkthdr.len = (uint32_t)len0;
	}
	return n;
}

void xm_cat(struct xm_mbuf *m, struct xm_mbuf *n)
{
	struct xm_mbuf *head = m;
	uint32_t added;

	if (m == NULL || n == NULL)
		return;
	XM_ASSERT(m != n, ("xmbuf: %s: mbuf %p joined to itself\n",
			   __func__, m));
	/* n's packet header, if any, is dropped (m_demote). */
	n->m_flags &= ~XM_PKTHDR_FLAGS;
	added = xm_length(n, NULL);
	while (m->m_next != NULL)
		m = m->m_next;
	while (n != NULL) {
		/*
		 * Copy only small mbufs (what would fit one inline) into
		 * writable trailing space; anything bigger is linked, which
		 * costs no copy and keeps frames where they are.
		 */
		if (n->m_len > XM_MLEN || xm_trailingspace(m) < n->m_len) {
			m->m_flags &= ~XM_EOR;
			m->m_next = n;
			break;
		}
		memcpy(m->m_data + m->m_len, n->m_data, (size_t)n->m_len);
		m->m_len += n->m_len;
		if (n->m_flags & XM_EOR)
			m->m_flags |= XM_EOR;
		n = xm_free(n);
	}
	/* m_catpkt's job too: the packet's length follows its chain. */
	if (head->m_flags & XM_PKTHDR)
		head->m_pkthdr.len += added;
}

/* ------------------------------------------------------- copym, dup */

/*
 * The copy holds the bytes of the range and nothing else: empty mbufs of
 * the source are passed by (they hold no byte, and a copy of one would
 * only pin storage), so the answer depends on the bytes of the chain,
 * never on where empty mbufs lie in it.  An empty range (len 0, or off
 * at the end with XM_COPYALL) gives an empty mbuf, as xm_split() at the
 * end and xm_dup() of an empty packet do: NULL always means failure.
 */
struct xm_mbuf *xm_copym(struct xm_mbuf *m0, int off0, int len, int how)
{
	struct xm_mbuf *m = m0, *n, *top = NULL, **np = &top;
	struct xm_umem *u;
	uint32_t copied = 0;
	int off = off0, err;
	bool copyhdr;

	if (m0 == NULL || off0 < 0 || len < 0 || !xm_mb_how_valid(how)) {
		errno = EINVAL;
		return NULL;
	}
	u = m0->m_umem;
	copyhdr = off0 == 0 && (m0->m_flags & XM_PKTHDR);
	/* The mbuf holding byte off0, or NULL when off0 is the end. */
	while (m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	if (m == NULL && off > 0) {
		errno = EINVAL;		/* offset beyond the chain */
		return NULL;
	}
	while (len > 0 && m != NULL) {
		if (m->m_len == 0) {
			m = m->m_next;
			continue;
		}
		n = copyhdr ? xm_gethdr(u, how, m->m_type) :
			      xm_get(u, how, m->m_type);
		if (n == NULL) {
			err = errno;
			goto out_copy;
		}
		*np = n;
		np = &n->m_next;
		n->m_len = xm_min(len, m->m_len - off);
		if (copyhdr) {
			_xm_mb_copy_pkthdr(n, m0);
			copyhdr = false;
			/*
			 * The first bytes may come from a plain inline mbuf
			 * (after an empty head), up to XM_MLEN: more than a
			 * header mbuf holds inline.  They get a plain mbuf
			 * of their own, as xm_split() does.
			 */
			if (!(m->m_flags & XM_EXT) &&
			    n->m_len > xm_mb_room(n)) {
				int count = n->m_len;

				n->m_len = 0;
				n = xm_get(u, how, m->m_type);
				if (n == NULL) {
					err = errno;
					goto out_copy;
				}
				*np = n;
				np = &n->m_next;
				n->m_len = count;
			}
		}
		if (m->m_flags & XM_EXT) {
			n->m_data = m->m_data + off;
			_xm_mb_dupcl(n, m);
		} else {
			XM_ASSERT(n->m_len <= xm_mb_room(n),
				  ("xmbuf: %s: %d inline bytes of %p do not "
				   "fit %p\n", __func__, n->m_len, m, n));
			memcpy(n->m_data, m->m_data + off, (size_t)n->m_len);
		}
		copied += (uint32_t)n->m_len;
		if (len != XM_COPYALL)
			len -= n->m_len;
		off = 0;
		m = m->m_next;
	}
	if (len > 0 && len != XM_COPYALL) {
		err = EINVAL;		/* range beyond the chain */
		goto out_copy;
	}
	if (top == NULL) {
		/* An empty range: an empty mbuf, with the header at 0. */
		top = copyhdr ? xm_gethdr(u, how, m0->m_type) :
				xm_get(u, how, m0->m_type);
		if (top == NULL)
			return NULL;
		if (copyhdr)
			_xm_mb_copy_pkthdr(top, m0);
	}
	if (top->m_flags & XM_PKTHDR)
		top->m_pkthdr.len = copied;
	return top;

out_copy:
	xm_freem(top);
	errno = err;
	return NULL;
}

struct xm_mbuf *xm_dup(const struct xm_mbuf *m, int how)
{
	const struct xm_mbuf *src, *slast = NULL;
	struct xm_mbuf *top, *n, *last = NULL;
	uint32_t total = 0;
	int32_t soff = 0;
	bool hdr;

	if (m == NULL || !xm_mb_how_valid(how)) {
		errno = EINVAL;
		return NULL;
	}
	hdr = m->m_flags & XM_PKTHDR;
	for (src = m; src != NULL; src = src->m_next) {
		total += (uint32_t)src->m_len;
		slast = src;
	}
	if (total > INT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (total == 0)
		top = hdr ? xm_gethdr(m->m_umem, how, m->m_type) :
			    xm_get(m->m_umem, how, m->m_type);
	else
		top = xm_getm2(m->m_umem, NULL, (int)total, how, m->m_type,
			       hdr ? XM_PKTHDR : 0);
	if (top == NULL)
		return NULL;

	src = m;
	for (n = top; n != NULL; n = n->m_next) {
		int32_t room = (int32_t)xm_size(n);

		while (n->m_len < room && src != NULL) {
			int32_t chunk = xm_min(room - n->m_len,
					       src->m_len - soff);

			memcpy(n->m_data + n->m_len, src->m_data + soff,
			       (size_t)chunk);
			n->m_len += chunk;
			soff += chunk;
			if (soff == src->m_len) {
				src = src->m_next;
				soff = 0;
			}
		}
		last = n;
	}
	if (hdr) {
		_xm_mb_copy_pkthdr(top, m);
		top->m_flags &= ~XM_EOR;
		top->m_pkthdr.len = total;
	}
	if (slast->m_flags & XM_EOR)
		last->m_flags |= XM_EOR;
	return top;
}

/* ------------------------------------------------------------- check */

bool xm_check(const struct xm_mbuf *m, const char **reason)
{
	const struct xm_mbuf *x = m, *slow = m;
	uint64_t total = 0;
	const char *why;
	size_t i;

#define XM_CHECK_FAIL(r)	do { why = (r); goto out_bad; } while (0)
	if (m == NULL)
		XM_CHECK_FAIL("NULL mbuf");
	for (i = 0; x != NULL; i++) {
		uintptr_t start, data;
		uint32_t size;

		if (i >= XM_CHECK_MAX_MBUFS)
			XM_CHECK_FAIL("chain longer than any packet");
		if (x->m_type == XM_MT_NOTMBUF)
			XM_CHECK_FAIL("freed mbuf in chain (m_type NOTMBUF)");
		if (x->m_type > XM_MT_MAX)
			XM_CHECK_FAIL("bad m_type");
		if (x->m_umem == NULL)
			XM_CHECK_FAIL("m_umem is NULL");
		if (x->m_len < 0)
			XM_CHECK_FAIL("negative m_len");
		if (x != m && (x->m_flags & XM_PKTHDR))
			XM_CHECK_FAIL("packet header on an mbuf that is not "
				      "first in its chain");
		if (x != m && x->m_nextpkt != NULL)
			XM_CHECK_FAIL("m_nextpkt set on an mbuf that is not "
				      "first in its chain");
		if (x->m_flags & XM_EXT) {
			volatile uint32_t *cnt = xm_mb_refcntp(x);

			if (x->m_ext.ext_buf == NULL)
				XM_CHECK_FAIL("external storage without "
					      "ext_buf");
			if (x->m_ext.ext_size == 0)
				XM_CHECK_FAIL("external storage of size 0");
			if (x->m_ext.ext_type < XM_EXT_CLUSTER ||
			    x->m_ext.ext_type > XM_EXT_RXFRAME)
				XM_CHECK_FAIL("bad ext_type");
			if (cnt == NULL)
				XM_CHECK_FAIL("shared storage without a "
					      "reference count");
			if (*cnt == 0)
				XM_CHECK_FAIL("reference count is 0");
			if ((x->m_flags & XM_PAIRED) &&
			    (!(x->m_ext.ext_flags & XM_EXT_FLAG_EMBREF) ||
			     (x->m_ext.ext_type != XM_EXT_PACKET &&
			      x->m_ext.ext_type != XM_EXT_RXFRAME)))
				XM_CHECK_FAIL("paired header that does not own "
					      "a frame");
			if (x->m_ext.ext_type == XM_EXT_EXTREF &&
			    x->m_ext.ext_free == NULL)
				XM_CHECK_FAIL("EXTREF storage without a free "
					      "callback");
		} else if (x->m_flags & XM_PAIRED) {
			XM_CHECK_FAIL("paired header without its frame");
		}
		start = (uintptr_t)xm_start((struct xm_mbuf *)x);
		size = xm_size(x);
		data = (uintptr_t)x->m_data;
		if (data < start || data - start > size)
			XM_CHECK_FAIL("m_data outside the mbuf's storage");
		if ((uint64_t)(data - start) + (uint32_t)x->m_len > size)
			XM_CHECK_FAIL("m_len runs past the end of storage");
		total += (uint32_t)x->m_len;

		/* Floyd: the slow pointer moves every other step. */
		x = x->m_next;
		if (i & 1)
			slow = slow->m_next;
		if (x != NULL && x == slow)
			XM_CHECK_FAIL("loop in m_next");
	}
	if ((m->m_flags & XM_PKTHDR) && m->m_pkthdr.len != total)
		XM_CHECK_FAIL("m_pkthdr.len differs from the chain's length");
	return true;

out_bad:
	if (reason != NULL)
		*reason = why;
	return false;
#undef XM_CHECK_FAIL
}

/* ------------------------------------------------------ packet header */

void _xm_mb_copy_pkthdr(struct xm_mbuf *to, const struct xm_mbuf *from)
{
	to->m_flags = (from->m_flags & XM_COPYFLAGS & ~XM_RDONLY) |
		      (to->m_flags & XM_STORAGE_FLAGS);
	to->m_pkthdr = from->m_pkthdr;
}

void _xm_mb_move_pkthdr(struct xm_mbuf *to, struct xm_mbuf *from)
{
	XM_ASSERT(from->m_flags & XM_PKTHDR,
		  ("xmbuf: %s: mbuf %p has no packet header\n", __func__,
		   from));
	XM_ASSERT(to->m_len == 0, ("xmbuf: %s: mbuf %p is not empty\n",
				   __func__, to));
	if (!(to->m_flags & XM_EXT))
		to->m_data = to->m_pktdat;
	_xm_mb_copy_pkthdr(to, from);
	from->m_flags &= ~XM_PKTHDR_FLAGS;
}

int xm_dup_pkthdr(struct xm_mbuf *to, const struct xm_mbuf *from)
{
	if (to == NULL || from == NULL || to == from ||
	    !(from->m_flags & XM_PKTHDR))
		return -EINVAL;
	/*
	 * Inline data of a plain mbuf sits where the packet header goes:
	 * refuse rather than overwrite it.
	 */
	if (!(to->m_flags & (XM_EXT | XM_PKTHDR)) && to->m_len > 0)
		return -EINVAL;
	if (!(to->m_flags & (XM_EXT | XM_PKTHDR)))
		to->m_data = to->m_pktdat;
	_xm_mb_copy_pkthdr(to, from);
	return 0;
}
