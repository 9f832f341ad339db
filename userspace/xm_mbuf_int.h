/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_mbuf_int.h - private helpers shared by mbuf.c (allocation, free,
 * external storage references) and mbuf_chain.c (chain operations).
 * Not installed; not for applications.
 */
#ifndef XM_MBUF_INT_H
#define XM_MBUF_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xm_common_int.h"
#include "xm_mbuf.h"

/*
 * Under ASan the zones poison freed items, so reading a freed header's
 * m_type to diagnose a double free would itself be the report; ask ASan
 * first and panic with our message instead.
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define xm_mb_poisoned(m)						\
	(__asan_region_is_poisoned((void *)(m), sizeof(struct xm_mbuf)) != NULL)
#else
#define xm_mb_poisoned(m)	false
#endif

/* Highest m_type we hand out (mbuf(9)'s MT_OOBDATA); 0 is "freed". */
#define XM_MT_MAX		XM_MT_OOBDATA

/* Flags an allocation may ask for; anything else is EINVAL. */
#define XM_ALLOC_FLAGS		(XM_PKTHDR | XM_EOR)

/*
 * Flags that describe the header or its storage rather than the packet:
 * they stay with the mbuf when a packet header is copied onto it.
 */
#define XM_STORAGE_FLAGS	(XM_EXT | XM_PAIRED | XM_NOFREE | XM_RDONLY)

/* Packet-header flags that are only meaningful with XM_PKTHDR. */
#define XM_PKTHDR_FLAGS		(XM_PKTHDR | XM_VLANTAG | XM_TSTMP | XM_FLOWID)

static inline bool xm_mb_how_valid(int how)
{
	int wait = how & (XM_NOWAIT | XM_WAITOK);

	if (how & ~(XM_NOWAIT | XM_WAITOK | XM_USE_RESERVE))
		return false;
	return wait == XM_NOWAIT || wait == XM_WAITOK;
}

static inline bool xm_mb_type_valid(int type)
{
	return type >= XM_MT_DATA && type <= XM_MT_MAX;
}

/*
 * m_flags (24 bits) and m_type (8 bits) share one 32-bit word after
 * m_len; the SysV ABI allocates bit-fields from the least significant
 * bit, so m_type is the top byte.  Setting both through the bit-fields
 * is a read-modify-write of that word, which stalls on the byte store
 * that marked the header free; one whole-word store does not.
 */
#define XM_MB_FLAGS_WORD						\
	(offsetof(struct xm_mbuf, m_len) + sizeof(int32_t))
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "m_type is the high byte of the flags word");

static inline void xm_mb_set_flags_type(struct xm_mbuf *m, uint32_t flags,
					uint32_t type)
{
	uint32_t w = (flags & 0xffffffu) | (type << 24);

	memcpy((char *)m + XM_MB_FLAGS_WORD, &w, sizeof(w));
}

/*
 * m_len and the flags word side by side, as one 8-byte store: an
 * allocation sets both, and a burst of them is bound by stores.
 */
static inline void xm_mb_set_len_flags_type(struct xm_mbuf *m, int32_t len,
					    uint32_t flags, uint32_t type)
{
	uint64_t w = (uint32_t)len |
		     (uint64_t)((flags & 0xffffffu) | (type << 24)) << 32;

	memcpy(&m->m_len, &w, sizeof(w));
}

/* The count this mbuf's storage is referenced by (owner's or its own). */
static inline volatile uint32_t *xm_mb_refcntp(const struct xm_mbuf *m)
{
	if (m->m_ext.ext_flags & XM_EXT_FLAG_EMBREF)
		return (volatile uint32_t *)&m->m_ext.ext_count;
	return m->m_ext.ext_cnt;
}

/* Room from m_data to the end of storage, ignoring writability. */
static inline int32_t xm_mb_room(struct xm_mbuf *m)
{
	return (int32_t)(xm_start(m) + xm_size(m) - m->m_data);
}

/*
 * mbuf(9)'s M_ALIGN: place len bytes at the end of an empty mbuf's
 * storage, long-aligned, so the leading space is there for headers
 * prepended later.
 */
static inline void xm_mb_align_end(struct xm_mbuf *m, uint32_t len)
{
	uint32_t size = xm_size(m);

	m->m_data = xm_start(m);
	if (len < size)
		m->m_data += (size - len) & ~(uint32_t)(sizeof(long) - 1);
}

/*
 * Makes n another reference to m's external storage (mbuf(9)'s
 * mb_dupcl): n gets a copy of m_ext pointing at the owner's count, and the
 * count goes up by one.  n must be a header without storage.
 */
XM_HIDDEN void _xm_mb_dupcl(struct xm_mbuf *n, struct xm_mbuf *m);

/*
 * Moves the packet header from `from` to the empty mbuf `to`
 * (m_move_pkthdr); `from` is demoted to a plain mbuf.
 */
XM_HIDDEN void _xm_mb_move_pkthdr(struct xm_mbuf *to, struct xm_mbuf *from);

/*
 * Copies from's packet header onto to (no validation); `to` keeps its
 * storage flags.
 */
XM_HIDDEN void _xm_mb_copy_pkthdr(struct xm_mbuf *to,
				  const struct xm_mbuf *from);

/* mbuf.c, for the port's RX burst */
#include "xm_rxframe_int.h"

#endif /* XM_MBUF_INT_H */
