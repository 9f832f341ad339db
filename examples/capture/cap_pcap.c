// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_pcap.c - pcap and pcapng encoding and the writev batch (see
 * cap_pcap.h for the stream model).
 *
 * Record layouts (host byte order):
 *
 *   pcap:    | ts_sec | ts_usec or ts_nsec | incl_len | orig_len | data |
 *
 *   pcapng EPB:
 *   | type 6 | total len | if 0 | ts high | ts low | caplen | origlen |
 *   | data, padded to 4 | epb_flags | epb_queue | epb_hash | epb_verdict |
 *   | opt_endofopt | total len |
 *
 * The options go in every EPB whose packet carries them; opt_endofopt is
 * written although the spec lets a block end without it, because some
 * readers stop parsing options only there.
 *
 * KPI (example-private):
 *   cap_file_header_size, cap_file_header, cap_isb_block,
 *   cap_rec_overhead,
 *   cap_batch_init, cap_batch_add, cap_batch_slice
 */
#include <errno.h>
#include <string.h>

#include "cap_pcap.h"

#define CAP_NG_OPT_HLEN		4	/* option code + length */
#define CAP_NG_OPT_MAXLEN	0xffff	/* option length field */

static inline uint32_t pad4(uint32_t n)
{
	return (4 - (n & 3)) & 3;
}

/* Bytes an option of len value bytes takes, padding included. */
static inline size_t opt_size(size_t len)
{
	return CAP_NG_OPT_HLEN + len + pad4((uint32_t)len);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Writes one option at p; @return the bytes it took. */
static size_t put_opt(uint8_t *p, uint16_t code, const void *val,
		      size_t len)
{
	size_t pad = pad4((uint32_t)len);

	put16(p, code);
	put16(p + 2, (uint16_t)len);
	if (len)
		memcpy(p + CAP_NG_OPT_HLEN, val, len);
	memset(p + CAP_NG_OPT_HLEN + len, 0, pad);
	return CAP_NG_OPT_HLEN + len + pad;
}

/* A pcapng timestamp: ns units (if_tsresol 9), high word first. */
static void put_ts(uint8_t *p, uint64_t ns)
{
	put32(p, (uint32_t)(ns >> 32));
	put32(p + 4, (uint32_t)ns);
}

/* ------------------------------------------------------------- headers */

/* A string option's length, or -1 when it cannot be one. */
static ssize_t str_opt(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n > CAP_NG_OPT_MAXLEN - 1)
		return -1;
	return (ssize_t)opt_size(n);
}

/* Bytes of the section header block, or -EINVAL. */
static ssize_t shb_len(const struct cap_file_info *fi)
{
	ssize_t hw = str_opt(fi->hardware), os = str_opt(fi->os);
	ssize_t ap = str_opt(fi->appl);

	if (hw < 0 || os < 0 || ap < 0)
		return -EINVAL;
	/* type, length, BOM, major, minor, section length, options, length */
	return (ssize_t)(4 + 4 + 4 + 2 + 2 + 8 + (size_t)(hw + os + ap) +
			 CAP_NG_OPT_HLEN + 4);
}

static ssize_t shb_block(const struct cap_file_info *fi, uint8_t *buf,
			 size_t cap)
{
	ssize_t slen = shb_len(fi);
	size_t len, off;

	if (slen < 0)
		return slen;
	len = (size_t)slen;
	if (len > cap)
		return -ENOBUFS;
	put32(buf, CAP_NG_SHB);
	put32(buf + 4, (uint32_t)len);
	put32(buf + 8, CAP_NG_BYTE_ORDER);
	put16(buf + 12, 1);
	put16(buf + 14, 0);
	/* -1: section length not given, so the file can be streamed */
	put64(buf + 16, UINT64_MAX);
	off = 24;
	if (fi->hardware)
		off += put_opt(buf + off, CAP_NG_SHB_HARDWARE, fi->hardware,
			       strlen(fi->hardware));
	if (fi->os)
		off += put_opt(buf + off, CAP_NG_SHB_OS, fi->os,
			       strlen(fi->os));
	if (fi->appl)
		off += put_opt(buf + off, CAP_NG_SHB_USERAPPL, fi->appl,
			       strlen(fi->appl));
	off += put_opt(buf + off, CAP_NG_OPT_END, NULL, 0);
	put32(buf + off, (uint32_t)len);
	return (ssize_t)(off + 4);
}

/* Bytes of the interface description block, or -EINVAL. */
static ssize_t idb_len(const struct cap_file_info *fi)
{
	ssize_t nm = str_opt(fi->ifname), ds = str_opt(fi->ifdescr);
	size_t flen = fi->filter ? strlen(fi->filter) : 0;

	/* the filter option is one octet longer than its string */
	if (nm < 0 || ds < 0 || flen > CAP_NG_OPT_MAXLEN - 2)
		return -EINVAL;
	return (ssize_t)(4 + 4 + 2 + 2 + 4 + (size_t)(nm + ds) + opt_size(1) +
			 (fi->filter ? opt_size(flen + 1) : 0) +
			 CAP_NG_OPT_HLEN + 4);
}

static ssize_t idb_block(const struct cap_file_info *fi, uint8_t *buf,
			 size_t cap)
{
	ssize_t ilen = idb_len(fi);
	size_t flen = fi->filter ? strlen(fi->filter) : 0;
	uint8_t tsresol = 9;		/* 10^-9 s */
	size_t len, off;

	if (ilen < 0)
		return ilen;
	len = (size_t)ilen;
	if (len > cap)
		return -ENOBUFS;
	put32(buf, CAP_NG_IDB);
	put32(buf + 4, (uint32_t)len);
	put16(buf + 8, (uint16_t)fi->linktype);
	put16(buf + 10, 0);
	put32(buf + 12, fi->snaplen);
	off = 16;
	if (fi->ifname)
		off += put_opt(buf + off, CAP_NG_IF_NAME, fi->ifname,
			       strlen(fi->ifname));
	if (fi->ifdescr)
		off += put_opt(buf + off, CAP_NG_IF_DESCRIPTION, fi->ifdescr,
			       strlen(fi->ifdescr));
	off += put_opt(buf + off, CAP_NG_IF_TSRESOL, &tsresol, 1);
	if (fi->filter) {
		/* first octet 0: the filter is a libpcap expression string */
		size_t pad = pad4((uint32_t)(flen + 1));

		put16(buf + off, CAP_NG_IF_FILTER);
		put16(buf + off + 2, (uint16_t)(flen + 1));
		buf[off + 4] = 0;
		memcpy(buf + off + 5, fi->filter, flen);
		memset(buf + off + 5 + flen, 0, pad);
		off += CAP_NG_OPT_HLEN + flen + 1 + pad;
	}
	off += put_opt(buf + off, CAP_NG_OPT_END, NULL, 0);
	put32(buf + off, (uint32_t)len);
	return (ssize_t)(off + 4);
}

ssize_t cap_file_header_size(const struct cap_file_info *fi)
{
	ssize_t a, b;

	if (!fi || fi->snaplen == 0 || fi->snaplen > CAP_SNAPLEN_MAX)
		return -EINVAL;
	switch (fi->format) {
	case CAP_FMT_PCAP_US:
	case CAP_FMT_PCAP_NS:
		return CAP_PCAP_FILE_HLEN;
	case CAP_FMT_PCAPNG:
		a = shb_len(fi);
		if (a < 0)
			return a;
		b = idb_len(fi);
		if (b < 0)
			return b;
		return a + b;
	}
	return -EINVAL;
}

ssize_t cap_file_header(const struct cap_file_info *fi, void *buf, size_t cap)
{
	uint8_t *p = buf;
	ssize_t a, b;

	if (!fi || !buf || fi->snaplen == 0 || fi->snaplen > CAP_SNAPLEN_MAX)
		return -EINVAL;
	switch (fi->format) {
	case CAP_FMT_PCAP_US:
	case CAP_FMT_PCAP_NS:
		if (cap < CAP_PCAP_FILE_HLEN)
			return -ENOBUFS;
		put32(p, fi->format == CAP_FMT_PCAP_NS ? CAP_PCAP_MAGIC_NS :
			 CAP_PCAP_MAGIC_US);
		put16(p + 4, 2);		/* version 2.4 */
		put16(p + 6, 4);
		put32(p + 8, 0);		/* thiszone */
		put32(p + 12, 0);		/* sigfigs */
		put32(p + 16, fi->snaplen);
		put32(p + 20, fi->linktype);
		return CAP_PCAP_FILE_HLEN;
	case CAP_FMT_PCAPNG:
		a = shb_block(fi, p, cap);
		if (a < 0)
			return a;
		b = idb_block(fi, p + a, cap - (size_t)a);
		if (b < 0)
			return b;
		return a + b;
	}
	return -EINVAL;
}

ssize_t cap_isb_block(const struct cap_isb *s, void *buf, size_t cap)
{
	static const uint16_t codes[] = {
		CAP_NG_ISB_IFRECV, CAP_NG_ISB_IFDROP, CAP_NG_ISB_FILTERACCEPT,
		CAP_NG_ISB_OSDROP, CAP_NG_ISB_USRDELIV,
	};
	uint64_t vals[5];
	ssize_t cm;
	uint8_t *p = buf, ts[8];
	size_t len, off;

	if (!s || !buf)
		return -EINVAL;
	cm = str_opt(s->comment);
	if (cm < 0)
		return -EINVAL;
	vals[0] = s->ifrecv;
	vals[1] = s->ifdrop;
	vals[2] = s->filteraccept;
	vals[3] = s->osdrop;
	vals[4] = s->usrdeliv;
	/* type, length, interface, timestamp, options, length */
	len = 4 + 4 + 4 + 8 + (size_t)cm + 2 * opt_size(8) + 5 * opt_size(8) +
	      CAP_NG_OPT_HLEN + 4;
	if (len > cap)
		return -ENOBUFS;
	put32(p, CAP_NG_ISB);
	put32(p + 4, (uint32_t)len);
	put32(p + 8, 0);
	put_ts(p + 12, s->end_ns);
	off = 20;
	if (s->comment)
		off += put_opt(p + off, CAP_NG_OPT_COMMENT, s->comment,
			       strlen(s->comment));
	put_ts(ts, s->start_ns);
	off += put_opt(p + off, CAP_NG_ISB_STARTTIME, ts, 8);
	put_ts(ts, s->end_ns);
	off += put_opt(p + off, CAP_NG_ISB_ENDTIME, ts, 8);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		off += put_opt(p + off, codes[i], &vals[i], 8);
	off += put_opt(p + off, CAP_NG_OPT_END, NULL, 0);
	put32(p + off, (uint32_t)len);
	return (ssize_t)(off + 4);
}

/* ------------------------------------------------------------- records */

/* Trailer bytes of an EPB after caplen data bytes. */
static inline uint32_t epb_trailer_len(const struct cap_pkt_meta *pm)
{
	uint32_t n = pad4(pm->caplen);

	if (pm->has_flags)
		n += (uint32_t)opt_size(4);
	if (pm->has_queue)
		n += (uint32_t)opt_size(4);
	if (pm->has_hash)
		n += (uint32_t)opt_size(5);
	if (pm->has_verdict)
		n += (uint32_t)opt_size(9);
	if (pm->has_queue || pm->has_hash || pm->has_flags || pm->has_verdict)
		n += CAP_NG_OPT_HLEN;
	return n + 4;
}

uint32_t cap_rec_overhead(enum cap_format f, const struct cap_pkt_meta *pm)
{
	if (f == CAP_FMT_PCAPNG)
		return CAP_NG_EPB_HLEN + epb_trailer_len(pm);
	return CAP_PCAP_REC_HLEN;
}

/* Header bytes of a record; @return their count. */
static uint32_t rec_header(enum cap_format f, const struct cap_pkt_meta *pm,
			   uint8_t *p)
{
	uint32_t sub;

	if (f == CAP_FMT_PCAPNG) {
		uint32_t total = CAP_NG_EPB_HLEN + pm->caplen +
				 epb_trailer_len(pm);

		put32(p, CAP_NG_EPB);
		put32(p + 4, total);
		put32(p + 8, 0);
		put_ts(p + 12, pm->ts_ns);
		put32(p + 20, pm->caplen);
		put32(p + 24, pm->wirelen);
		return CAP_NG_EPB_HLEN;
	}
	sub = (uint32_t)(pm->ts_ns % 1000000000ull);
	if (f == CAP_FMT_PCAP_US)
		sub /= 1000;
	/* ts_sec is 32 bits in the format: it wraps in 2106 */
	put32(p, (uint32_t)(pm->ts_ns / 1000000000ull));
	put32(p + 4, sub);
	put32(p + 8, pm->caplen);
	put32(p + 12, pm->wirelen);
	return CAP_PCAP_REC_HLEN;
}

/* Trailer bytes of a pcapng record; @return their count. */
static uint32_t rec_trailer(const struct cap_pkt_meta *pm, uint8_t *p)
{
	uint32_t off = pad4(pm->caplen);

	memset(p, 0, off);
	if (pm->has_flags)
		off += (uint32_t)put_opt(p + off, CAP_NG_EPB_FLAGS, &pm->flags,
					 4);
	if (pm->has_queue)
		off += (uint32_t)put_opt(p + off, CAP_NG_EPB_QUEUE, &pm->queue,
					 4);
	if (pm->has_hash) {
		uint8_t h[5];

		h[0] = CAP_NG_HASH_TOEPLITZ;
		memcpy(h + 1, &pm->hash, 4);
		off += (uint32_t)put_opt(p + off, CAP_NG_EPB_HASH, h, 5);
	}
	if (pm->has_verdict) {
		uint8_t v[9];

		v[0] = CAP_NG_VERDICT_XDP;
		memcpy(v + 1, &pm->verdict, 8);
		off += (uint32_t)put_opt(p + off, CAP_NG_EPB_VERDICT, v, 9);
	}
	if (pm->has_queue || pm->has_hash || pm->has_flags || pm->has_verdict)
		off += (uint32_t)put_opt(p + off, CAP_NG_OPT_END, NULL, 0);
	/* off + 4 is epb_trailer_len(pm), written out here */
	put32(p + off, CAP_NG_EPB_HLEN + pm->caplen + off + 4);
	return off + 4;
}

void cap_batch_init(struct cap_batch *b, enum cap_format f)
{
	b->format = f;
	b->nrec = 0;
	b->niov = 0;
	b->scratch_used = 0;
	b->bytes = 0;
}

/* Appends an iovec, merging it into the last one when contiguous. */
static inline void batch_push(struct cap_batch *b, void *base, size_t len)
{
	struct iovec *last = b->niov ? &b->iov[b->niov - 1] : NULL;

	if (!len)
		return;
	if (last && (char *)last->iov_base + last->iov_len == (char *)base) {
		last->iov_len += len;
		return;
	}
	b->iov[b->niov].iov_base = base;
	b->iov[b->niov].iov_len = len;
	b->niov++;
}

int cap_batch_add(struct cap_batch *b, const struct cap_pkt_meta *pm,
		  const struct iovec *seg, unsigned int nseg)
{
	uint32_t left = pm->caplen, hlen, tlen, inl = 0;
	unsigned int used = 0;
	uint8_t *h;

	if (pm->caplen > pm->wirelen)
		return -EINVAL;
	/* Segments that carry the captured bytes. */
	for (unsigned int i = 0; i < nseg && left; i++) {
		uint32_t n = seg[i].iov_len < left ? (uint32_t)seg[i].iov_len :
						     left;

		left -= n;
		used++;
	}
	if (left)
		return -EINVAL;
	/* header, segments, trailer: at worst one iovec each */
	if (b->nrec == CAP_BATCH_PKTS || b->niov + used + 2 > CAP_BATCH_IOVS)
		return -ENOSPC;

	h = b->scratch + b->scratch_used;
	hlen = rec_header(b->format, pm, h);
	left = pm->caplen;
	if (pm->caplen <= CAP_BATCH_COPY_MAX) {
		/* small: header, bytes and trailer become one stretch of
		 * scratch (cap_pcap.h: an iovec costs more than the copy) */
		uint8_t *d = h + hlen;

		for (unsigned int i = 0; i < used; i++) {
			uint32_t n = seg[i].iov_len < left ?
				     (uint32_t)seg[i].iov_len : left;

			memcpy(d, seg[i].iov_base, n);
			d += n;
			left -= n;
		}
		inl = pm->caplen;
		batch_push(b, h, hlen + inl);
	} else {
		batch_push(b, h, hlen);
		for (unsigned int i = 0; i < used; i++) {
			uint32_t n = seg[i].iov_len < left ?
				     (uint32_t)seg[i].iov_len : left;

			batch_push(b, seg[i].iov_base, n);
			left -= n;
		}
	}
	tlen = 0;
	if (b->format == CAP_FMT_PCAPNG) {
		tlen = rec_trailer(pm, h + hlen + inl);
		batch_push(b, h + hlen + inl, tlen);
	}
	b->scratch_used += hlen + inl + tlen;
	b->bytes += hlen + pm->caplen + tlen;
	b->rec_end[b->nrec++] = b->bytes;
	return 0;
}

unsigned int cap_batch_slice(const struct cap_batch *b, uint64_t from,
			     uint64_t to, struct iovec *out, unsigned int max,
			     uint64_t *covered)
{
	uint64_t pos = 0, got = 0;
	unsigned int n = 0;

	for (unsigned int i = 0; i < b->niov && pos < to && n < max; i++) {
		uint64_t s = pos, e = pos + b->iov[i].iov_len;

		pos = e;
		if (e <= from)
			continue;
		if (s < from)
			s = from;
		if (e > to)
			e = to;
		out[n].iov_base = (char *)b->iov[i].iov_base + (s - (pos -
					b->iov[i].iov_len));
		out[n].iov_len = (size_t)(e - s);
		got += e - s;
		n++;
	}
	if (covered)
		*covered = got;
	return n;
}
