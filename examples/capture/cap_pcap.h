/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_pcap.h - capture file encoding for xmbuf-capture: classic pcap
 * (microsecond or nanosecond) and pcapng, plus the record batch the
 * writer hands to writev(2).  Pure code: byte buffers and iovecs, no
 * files, no mbufs, so unit tests and the fuzz target link it alone.
 *
 * A batch is one byte stream described by iovecs: the encoder's own
 * header and trailer bytes (in the batch's scratch area) interleaved with
 * the packet bytes where they lie (UMEM frames):
 *
 *   scratch:  [EPB hdr 0][trailer 0 | EPB hdr 1][trailer 1 | EPB hdr 2]...
 *   stream:   hdr0 data0(frame) trailer0+hdr1 data1(frame) trailer1+hdr2 ...
 *              \_ record 0 ______________/\_ record 1 __________/
 *
 * Adjacent iovecs that are contiguous in memory are merged as they are
 * added (a trailer and the next header sit back to back in the scratch),
 * so a single-segment packet costs two iovecs.  A record of at most
 * CAP_BATCH_COPY_MAX captured bytes is the exception: its bytes are
 * copied into the scratch between its header and trailer, so a run of
 * small packets is one contiguous iovec.  Measured on tmpfs with 60-byte
 * frames, the kernel's per-iovec work in writev (copy_folio_from_iter
 * walking three iovecs a record) cost more than copying the bytes; a
 * large packet is still written from its frame.  Records are known by the
 * byte offset where each ends, which lets the writer cut the stream at
 * any record boundary (file rotation) or roll back to one (disk full).
 *
 * pcapng blocks are written in host byte order (the section header's
 * byte-order magic tells readers), one section and one interface per
 * file, timestamps in nanoseconds (if_tsresol = 9).
 */
#ifndef CAP_PCAP_H
#define CAP_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Output formats. */
enum cap_format {
	CAP_FMT_PCAPNG = 0,	/* pcapng, ns timestamps (default) */
	CAP_FMT_PCAP_US,	/* classic pcap, microseconds */
	CAP_FMT_PCAP_NS,	/* classic pcap, nanoseconds */
};

#define CAP_LINKTYPE_ETHERNET	1	/* LINKTYPE_ETHERNET / DLT_EN10MB */
#define CAP_SNAPLEN_MAX		262144	/* tcpdump's default and maximum */

/* Classic pcap magic numbers (file header, host order). */
#define CAP_PCAP_MAGIC_US	0xa1b2c3d4u
#define CAP_PCAP_MAGIC_NS	0xa1b23c4du
#define CAP_PCAP_FILE_HLEN	24
#define CAP_PCAP_REC_HLEN	16

/* pcapng block types. */
#define CAP_NG_SHB		0x0a0d0d0au
#define CAP_NG_IDB		0x00000001u
#define CAP_NG_ISB		0x00000005u
#define CAP_NG_EPB		0x00000006u
#define CAP_NG_BYTE_ORDER	0x1a2b3c4du

/* pcapng options (codes per block type). */
#define CAP_NG_OPT_END		0
#define CAP_NG_OPT_COMMENT	1
#define CAP_NG_SHB_HARDWARE	2
#define CAP_NG_SHB_OS		3
#define CAP_NG_SHB_USERAPPL	4
#define CAP_NG_IF_NAME		2
#define CAP_NG_IF_DESCRIPTION	3
#define CAP_NG_IF_TSRESOL	9
#define CAP_NG_IF_FILTER	11
#define CAP_NG_EPB_FLAGS	2
#define CAP_NG_EPB_HASH		3
#define CAP_NG_EPB_QUEUE	6
#define CAP_NG_EPB_VERDICT	7

#define CAP_NG_FLAG_INBOUND	0x1	/* epb_flags direction */
#define CAP_NG_FLAG_OUTBOUND	0x2
#define CAP_NG_VERDICT_XDP	2	/* epb_verdict type: Linux eBPF XDP */
#define CAP_NG_ISB_STARTTIME	2
#define CAP_NG_ISB_ENDTIME	3
#define CAP_NG_ISB_IFRECV	4
#define CAP_NG_ISB_IFDROP	5
#define CAP_NG_ISB_FILTERACCEPT	6
#define CAP_NG_ISB_OSDROP	7
#define CAP_NG_ISB_USRDELIV	8

#define CAP_NG_HASH_TOEPLITZ	5	/* epb_hash algorithm octet: RSS */
#define CAP_NG_FILTER_MAX	65533	/* longest filter expression an
					 * if_filter option holds (its type
					 * octet comes first) */

#define CAP_NG_EPB_HLEN		28	/* EPB up to the packet data */
/* Largest pcapng EPB trailer: pad 3, flags 8, queue 8, hash 12,
 * verdict 16, end 4, total length 4. */
#define CAP_NG_EPB_TRAILER_MAX	55

/* What a record says about one packet. */
struct cap_pkt_meta {
	uint64_t ts_ns;			/* receive time, ns since the epoch */
	uint32_t wirelen;		/* length on the wire */
	uint32_t caplen;		/* bytes written (<= wirelen) */
	uint32_t queue;			/* RX queue id (with has_queue) */
	uint32_t hash;			/* RSS hash (with has_hash) */
	uint32_t flags;			/* epb_flags (with has_flags):
					 * CAP_NG_FLAG_INBOUND/OUTBOUND */
	uint64_t verdict;		/* XDP action (with has_verdict) */
	bool has_queue;			/* write epb_queue */
	bool has_hash;			/* write epb_hash */
	bool has_flags;			/* write epb_flags */
	bool has_verdict;		/* write epb_verdict */
};

/* What the file and interface headers say. */
struct cap_file_info {
	enum cap_format format;		/* CAP_FMT_* */
	uint32_t snaplen;		/* 1 .. CAP_SNAPLEN_MAX */
	uint32_t linktype;		/* CAP_LINKTYPE_ETHERNET */
	const char *ifname;		/* if_name, or NULL */
	const char *ifdescr;		/* if_description, or NULL */
	const char *filter;		/* if_filter (libpcap string), or NULL */
	const char *os;			/* shb_os, or NULL */
	const char *hardware;		/* shb_hardware, or NULL */
	const char *appl;		/* shb_userappl, or NULL */
};

/* Interface statistics (pcapng ISB); counters since the capture began. */
struct cap_isb {
	uint64_t start_ns;		/* isb_starttime, ns since the epoch */
	uint64_t end_ns;		/* isb_endtime and the block's stamp */
	uint64_t ifrecv;		/* packets the interface received */
	uint64_t ifdrop;		/* lost before reaching the capture */
	uint64_t filteraccept;		/* accepted by the filter */
	uint64_t osdrop;		/* accepted, not written (disk full) */
	uint64_t usrdeliv;		/* written to files */
	const char *comment;		/* opt_comment with the details, or
					 * NULL */
};

/**
 * Bytes cap_file_header() writes for fi: the header is sized from its
 * contents (a filter expression of any length an option holds), never
 * from a fixed buffer.  @return the size; -EINVAL as cap_file_header().
 */
ssize_t cap_file_header_size(const struct cap_file_info *fi);

/**
 * File header: the 24-byte pcap header, or a pcapng SHB followed by one
 * IDB.  @return bytes written into buf; -ENOBUFS when cap is short (not
 * -ENOSPC: a caller must never take a short buffer for a full disk);
 * -EINVAL for a bad format or snaplen, or a string too long for an
 * option (65534 bytes; 65533 for the filter, which takes one more).
 */
ssize_t cap_file_header(const struct cap_file_info *fi, void *buf, size_t cap);

/**
 * pcapng interface statistics block for interface 0.  @return bytes,
 * -ENOBUFS when cap is short, -EINVAL for a comment too long.
 */
ssize_t cap_isb_block(const struct cap_isb *s, void *buf, size_t cap);

/** Bytes a record adds around caplen bytes of packet data. */
uint32_t cap_rec_overhead(enum cap_format f, const struct cap_pkt_meta *pm);

/* ---------------------------------------------------------------- batch */

#define CAP_BATCH_PKTS		256	/* records per batch */
#define CAP_BATCH_IOVS		1024	/* = IOV_MAX */
#define CAP_BATCH_COPY_MAX	256	/* captured bytes copied, not
					 * referenced (see above) */
/* Scratch per record: a header, the bytes of a small packet and a
 * trailer, either format. */
#define CAP_REC_SCRATCH		(CAP_NG_EPB_HLEN + CAP_BATCH_COPY_MAX + \
				 CAP_NG_EPB_TRAILER_MAX + 1)

struct cap_batch {
	enum cap_format format;		/* every record's format */
	unsigned int nrec;		/* records */
	unsigned int niov;		/* iovecs in use */
	size_t scratch_used;		/* bytes of scratch in use */
	uint64_t bytes;			/* stream length */
	uint64_t rec_end[CAP_BATCH_PKTS]; /* stream offset after record i */
	struct iovec iov[CAP_BATCH_IOVS]; /* the stream */
	uint8_t scratch[CAP_BATCH_PKTS * CAP_REC_SCRATCH]; /* headers and
					 * trailers, in stream order */
};

/** Empties b and sets its format. */
void cap_batch_init(struct cap_batch *b, enum cap_format f);

/**
 * Appends one record: header, the first pm->caplen bytes of seg[0..nseg)
 * (copied when caplen <= CAP_BATCH_COPY_MAX, else referenced: they must
 * then stay valid until the batch is written), trailer.  The segments must hold at least caplen bytes.
 * @return 0; -ENOSPC when the batch has no room for the record (nothing
 * is added); -EINVAL for caplen > wirelen, or segments shorter than
 * caplen.
 */
int cap_batch_add(struct cap_batch *b, const struct cap_pkt_meta *pm,
		  const struct iovec *seg, unsigned int nseg);

/** Stream offset where record i begins. */
static inline uint64_t cap_batch_rec_start(const struct cap_batch *b,
					   unsigned int i)
{
	return i ? b->rec_end[i - 1] : 0;
}

/**
 * Copies into out[] the iovecs that cover stream bytes [from, to) of b,
 * cutting the first and last as needed.  @return iovecs written (at
 * most max; fewer bytes than asked are covered when max is reached);
 * *covered gets the bytes they hold.
 */
unsigned int cap_batch_slice(const struct cap_batch *b, uint64_t from,
			     uint64_t to, struct iovec *out, unsigned int max,
			     uint64_t *covered);

#endif /* CAP_PCAP_H */
