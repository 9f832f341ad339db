// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_capture_pcapng.c - xmbuf-capture's file encoding
 * (examples/capture/cap_pcap.c): pcap and pcapng headers, EPB and ISB
 * layouts byte by byte, the writev batch (merging, slicing, limits), and
 * a round trip through libpcap's own reader for each format: packets of
 * mixed sizes, multi-segment chains and snaplen truncation come back
 * with the exact bytes, lengths and timestamps written.  Headers are
 * sized from their contents: filter expressions of every length modulo
 * 4 and of many KiB go through the writer into files a strict block
 * walker (lengths at both ends, option padding, opt_endofopt) and
 * libpcap accept.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../examples/capture/cap_out.h"
#include "../../examples/capture/cap_pcap.h"

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Finds option code in the option list [p, end); @return its value or
 * NULL, *len its length. */
static const uint8_t *find_opt(const uint8_t *p, const uint8_t *end,
			       uint16_t code, uint16_t *len)
{
	while (p + 4 <= end) {
		uint16_t c = get16(p), l = get16(p + 2);

		if (c == code) {
			*len = l;
			return p + 4;
		}
		if (c == CAP_NG_OPT_END)
			break;
		p += 4 + l + ((4 - (l & 3)) & 3);
	}
	return NULL;
}

/* Concatenates what the batch's iovecs point at. */
static size_t flatten(const struct cap_batch *b, uint8_t *out, size_t cap)
{
	size_t off = 0;

	for (unsigned int i = 0; i < b->niov; i++) {
		cr_assert(off + b->iov[i].iov_len <= cap);
		memcpy(out + off, b->iov[i].iov_base, b->iov[i].iov_len);
		off += b->iov[i].iov_len;
	}
	return off;
}

TestSuite(capture_pcap);

Test(capture_pcap, pcap_file_headers)
{
	struct cap_file_info fi = { .format = CAP_FMT_PCAP_US, .snaplen = 96,
				    .linktype = CAP_LINKTYPE_ETHERNET };
	uint8_t buf[64];

	cr_assert_eq(cap_file_header(&fi, buf, sizeof(buf)), 24);
	cr_assert_eq(get32(buf), 0xa1b2c3d4u);
	cr_assert_eq(get16(buf + 4), 2);
	cr_assert_eq(get16(buf + 6), 4);
	cr_assert_eq(get32(buf + 16), 96);
	cr_assert_eq(get32(buf + 20), 1);
	fi.format = CAP_FMT_PCAP_NS;
	cr_assert_eq(cap_file_header(&fi, buf, sizeof(buf)), 24);
	cr_assert_eq(get32(buf), 0xa1b23c4du);
}

Test(capture_pcap, header_errors)
{
	struct cap_file_info fi = { .format = CAP_FMT_PCAPNG, .snaplen = 0,
				    .linktype = 1 };
	uint8_t buf[256];
	char *huge;

	cr_assert_eq(cap_file_header(&fi, buf, sizeof(buf)), -EINVAL);
	fi.snaplen = CAP_SNAPLEN_MAX + 1;
	cr_assert_eq(cap_file_header(&fi, buf, sizeof(buf)), -EINVAL);
	fi.snaplen = 100;
	cr_assert_eq(cap_file_header(&fi, buf, 20), -ENOBUFS);
	fi.format = CAP_FMT_PCAP_US;
	cr_assert_eq(cap_file_header(&fi, buf, 23), -ENOBUFS);
	fi.format = (enum cap_format)42;
	cr_assert_eq(cap_file_header(&fi, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(cap_file_header(NULL, buf, sizeof(buf)), -EINVAL);
	/* a string that no option length can hold */
	huge = malloc(70000);
	cr_assert_not_null(huge);
	memset(huge, 'x', 69999);
	huge[69999] = '\0';
	fi.format = CAP_FMT_PCAPNG;
	fi.ifname = huge;
	cr_assert_eq(cap_file_header(&fi, buf, sizeof(buf)), -EINVAL);
	free(huge);
}

Test(capture_pcap, pcapng_section_and_interface)
{
	struct cap_file_info fi = {
		.format = CAP_FMT_PCAPNG, .snaplen = 1500,
		.linktype = CAP_LINKTYPE_ETHERNET, .ifname = "veth0",
		.ifdescr = "test", .filter = "udp port 53",
		.os = "Linux", .appl = "xmbuf-capture",
	};
	uint8_t buf[1024];
	const uint8_t *idb, *v;
	uint32_t shb_len, idb_len;
	uint16_t len;
	ssize_t n = cap_file_header(&fi, buf, sizeof(buf));

	cr_assert_gt(n, 0);
	cr_assert_eq(get32(buf), CAP_NG_SHB);
	shb_len = get32(buf + 4);
	cr_assert_eq(shb_len % 4, 0);
	cr_assert_eq(get32(buf + shb_len - 4), shb_len, "trailing length");
	cr_assert_eq(get32(buf + 8), CAP_NG_BYTE_ORDER);
	cr_assert_eq(get16(buf + 12), 1);
	cr_assert_eq(get16(buf + 14), 0);
	cr_assert_eq(get64(buf + 16), UINT64_MAX);
	v = find_opt(buf + 24, buf + shb_len - 4, CAP_NG_SHB_USERAPPL, &len);
	cr_assert_not_null(v);
	cr_assert_eq(len, strlen("xmbuf-capture"));
	cr_assert_eq(memcmp(v, "xmbuf-capture", len), 0);

	idb = buf + shb_len;
	idb_len = get32(idb + 4);
	cr_assert_eq((size_t)n, shb_len + idb_len);
	cr_assert_eq(get32(idb), CAP_NG_IDB);
	cr_assert_eq(get32(idb + idb_len - 4), idb_len);
	cr_assert_eq(get16(idb + 8), CAP_LINKTYPE_ETHERNET);
	cr_assert_eq(get32(idb + 12), 1500);
	v = find_opt(idb + 16, idb + idb_len - 4, CAP_NG_IF_TSRESOL, &len);
	cr_assert(v && len == 1 && v[0] == 9, "if_tsresol = 9 (ns)");
	v = find_opt(idb + 16, idb + idb_len - 4, CAP_NG_IF_NAME, &len);
	cr_assert(v && len == 5 && !memcmp(v, "veth0", 5));
	v = find_opt(idb + 16, idb + idb_len - 4, CAP_NG_IF_FILTER, &len);
	cr_assert(v && len == 12 && v[0] == 0 &&
		  !memcmp(v + 1, "udp port 53", 11),
		  "if_filter: type 0, then the expression");
}

Test(capture_pcap, epb_layout_and_options)
{
	static struct cap_batch b;
	const uint8_t data[5] = { 1, 2, 3, 4, 5 };
	struct iovec seg = { (void *)data, sizeof(data) };
	struct cap_pkt_meta pm = {
		.ts_ns = 0x0123456789abcdefull, .wirelen = 9, .caplen = 5,
		.queue = 3, .has_queue = true, .hash = 0xdeadbeef,
		.has_hash = true,
	};
	uint8_t out[256];
	const uint8_t *v;
	uint16_t len;
	uint32_t total;
	size_t n;

	cap_batch_init(&b, CAP_FMT_PCAPNG);
	cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), 0);
	n = flatten(&b, out, sizeof(out));
	cr_assert_eq(n, b.bytes);
	cr_assert_eq(n, cap_rec_overhead(CAP_FMT_PCAPNG, &pm) + 5);
	total = get32(out + 4);
	cr_assert_eq(total, n);
	cr_assert_eq(total % 4, 0);
	cr_assert_eq(get32(out), CAP_NG_EPB);
	cr_assert_eq(get32(out + 8), 0, "interface 0");
	cr_assert_eq(get32(out + 12), 0x01234567u, "timestamp high word");
	cr_assert_eq(get32(out + 16), 0x89abcdefu, "timestamp low word");
	cr_assert_eq(get32(out + 20), 5);
	cr_assert_eq(get32(out + 24), 9);
	cr_assert_eq(memcmp(out + 28, data, 5), 0);
	cr_assert(out[33] == 0 && out[34] == 0 && out[35] == 0, "padding");
	v = find_opt(out + 36, out + total - 4, CAP_NG_EPB_QUEUE, &len);
	cr_assert(v && len == 4 && get32(v) == 3, "epb_queue");
	v = find_opt(out + 36, out + total - 4, CAP_NG_EPB_HASH, &len);
	cr_assert(v && len == 5 && v[0] == CAP_NG_HASH_TOEPLITZ &&
		  get32(v + 1) == 0xdeadbeef, "epb_hash: Toeplitz + 4 bytes");
	cr_assert_eq(get32(out + total - 4), total);

	/* without options: no option list at all */
	pm.has_queue = pm.has_hash = false;
	pm.caplen = 4;
	seg.iov_len = 4;
	cap_batch_init(&b, CAP_FMT_PCAPNG);
	cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), 0);
	n = flatten(&b, out, sizeof(out));
	cr_assert_eq(n, 28 + 4 + 4);
}

Test(capture_pcap, pcap_records)
{
	static struct cap_batch b;
	uint8_t data[100], out[256];
	struct iovec seg = { data, sizeof(data) };
	struct cap_pkt_meta pm = { .ts_ns = 1700000000123456789ull,
				   .wirelen = 100, .caplen = 60 };

	memset(data, 0xab, sizeof(data));
	cap_batch_init(&b, CAP_FMT_PCAP_US);
	cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), 0);
	cr_assert_eq(flatten(&b, out, sizeof(out)), 16 + 60);
	cr_assert_eq(get32(out), 1700000000u);
	cr_assert_eq(get32(out + 4), 123456u, "microseconds, truncated");
	cr_assert_eq(get32(out + 8), 60);
	cr_assert_eq(get32(out + 12), 100);
	cap_batch_init(&b, CAP_FMT_PCAP_NS);
	cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), 0);
	flatten(&b, out, sizeof(out));
	cr_assert_eq(get32(out + 4), 123456789u, "nanoseconds");
}

Test(capture_pcap, batch_merges_trailer_and_next_header)
{
	static struct cap_batch b;
	enum { LEN = CAP_BATCH_COPY_MAX + 44 };	/* referenced, not copied */
	static uint8_t pkts[3][LEN];
	struct cap_pkt_meta pm = { .wirelen = LEN, .caplen = LEN,
				   .has_queue = true };

	cap_batch_init(&b, CAP_FMT_PCAPNG);
	for (int i = 0; i < 3; i++) {
		struct iovec seg = { pkts[i], LEN };

		cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), 0);
	}
	/* hdr0, data0, trailer0+hdr1, data1, trailer1+hdr2, data2, trailer2 */
	cr_assert_eq(b.niov, 7);
	cr_assert_eq(b.iov[1].iov_base, (void *)pkts[0], "data in place");
	cr_assert_eq(b.nrec, 3);
	cr_assert_eq(b.rec_end[2], b.bytes);
	cr_assert_eq(b.rec_end[0], cap_rec_overhead(CAP_FMT_PCAPNG, &pm) + LEN);
}

Test(capture_pcap, batch_copies_small_packets)
{
	static struct cap_batch b;
	static uint8_t pkts[4][CAP_BATCH_COPY_MAX + 1], out[4096], want[4096];
	/* the largest copied size, the smallest referenced one, and a
	 * small packet in two segments */
	const uint32_t lens[4] = { 60, CAP_BATCH_COPY_MAX,
				   CAP_BATCH_COPY_MAX + 1, 61 };
	size_t n, hdr;

	for (int f = CAP_FMT_PCAPNG; f <= CAP_FMT_PCAP_NS; f++) {
		hdr = f == CAP_FMT_PCAPNG ? CAP_NG_EPB_HLEN : CAP_PCAP_REC_HLEN;
		cap_batch_init(&b, (enum cap_format)f);
		for (int i = 0; i < 4; i++) {
			struct cap_pkt_meta pm = { .ts_ns = 5 + (uint64_t)i,
						   .wirelen = lens[i] + 7,
						   .caplen = lens[i],
						   .has_hash = i & 1 };
			struct iovec one = { pkts[i], lens[i] };
			struct iovec two[2] = { { pkts[i], 10 },
						{ pkts[i] + 10, lens[i] - 10 } };

			memset(pkts[i], 0x41 + i, sizeof(pkts[i]));
			cr_assert_eq(cap_batch_add(&b, &pm, i == 3 ? two : &one,
						   i == 3 ? 2 : 1), 0);
		}
		/* records 0 and 1 and the header of 2 are one stretch of
		 * scratch; record 2's bytes stay in its buffer; its trailer
		 * and record 3 are scratch again */
		cr_assert_eq(b.niov, 3, "format %d: %u iovecs", f, b.niov);
		cr_assert_eq(b.iov[1].iov_base, (void *)pkts[2]);
		cr_assert_eq(b.iov[1].iov_len, CAP_BATCH_COPY_MAX + 1);
		n = flatten(&b, want, sizeof(want));
		cr_assert_eq(n, b.bytes);
		cr_assert_eq(b.rec_end[3], b.bytes);
		/* copied bytes no longer depend on the packet buffers */
		memset(pkts[0], 0, sizeof(pkts[0]));
		memset(pkts[1], 0, sizeof(pkts[1]));
		memset(pkts[3], 0, sizeof(pkts[3]));
		cr_assert_eq(flatten(&b, out, sizeof(out)), n);
		cr_assert_eq(memcmp(out, want, n), 0);
		/* and they sit where a record's data belongs */
		cr_assert_eq(out[hdr], 0x41);
		cr_assert_eq(out[hdr + 59], 0x41);
		cr_assert_eq(out[b.rec_end[0] + hdr], 0x42);
		cr_assert_eq(out[b.rec_end[2] + hdr + 60], 0x44);
	}
}

Test(capture_pcap, batch_limits)
{
	static struct cap_batch b;
	uint8_t data[64];
	struct iovec seg = { data, sizeof(data) };
	struct iovec segs[4] = { { data, 10 }, { data, 10 }, { data, 10 },
				 { data, 10 } };
	struct cap_pkt_meta pm = { .wirelen = 64, .caplen = 64 };
	int i;

	cap_batch_init(&b, CAP_FMT_PCAP_US);
	pm.caplen = 65;
	cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), -EINVAL,
		     "caplen above wirelen");
	pm.caplen = 50;
	pm.wirelen = 50;
	cr_assert_eq(cap_batch_add(&b, &pm, segs, 4), -EINVAL,
		     "segments shorter than caplen");
	cr_assert_eq(b.nrec, 0, "nothing added on error");
	pm.caplen = pm.wirelen = 64;
	for (i = 0; i < CAP_BATCH_PKTS; i++)
		cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), 0);
	cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), -ENOSPC);
	cr_assert_eq(b.nrec, CAP_BATCH_PKTS);

	/* iovecs run out before records with many small segments */
	{
		/* large enough to be referenced, not copied */
		static uint8_t big[CAP_BATCH_COPY_MAX];
		static struct iovec many[41];
		int added = 0;

		for (i = 0; i < 40; i++) {
			many[i].iov_base = data + (i % 2);
			many[i].iov_len = 1;
		}
		many[40].iov_base = big;
		many[40].iov_len = sizeof(big);
		pm.caplen = pm.wirelen = 40 + CAP_BATCH_COPY_MAX;
		cap_batch_init(&b, CAP_FMT_PCAP_US);
		while (cap_batch_add(&b, &pm, many, 41) == 0)
			added++;
		cr_assert_lt(added, CAP_BATCH_PKTS);
		cr_assert_leq(b.niov, CAP_BATCH_IOVS);
	}
}

Test(capture_pcap, slice_reproduces_any_range)
{
	static struct cap_batch b;
	static uint8_t pkts[20][300], whole[20 * 400], part[20 * 400];
	struct iovec out[CAP_BATCH_IOVS];
	size_t total;

	cap_batch_init(&b, CAP_FMT_PCAPNG);
	for (int i = 0; i < 20; i++) {
		struct cap_pkt_meta pm = { .ts_ns = (uint64_t)i,
					   .wirelen = 300,
					   .caplen = (uint32_t)(60 + i * 11),
					   .has_hash = i & 1 };
		struct iovec seg[2] = { { pkts[i], 100 }, { pkts[i] + 100, 200 } };

		memset(pkts[i], i + 1, sizeof(pkts[i]));
		cr_assert_eq(cap_batch_add(&b, &pm, seg, 2), 0);
	}
	total = flatten(&b, whole, sizeof(whole));
	for (uint64_t from = 0; from < total; from += 37) {
		for (uint64_t to = from + 1; to <= total; to += 53) {
			uint64_t covered;
			unsigned int n = cap_batch_slice(&b, from, to, out,
							 CAP_BATCH_IOVS,
							 &covered);
			size_t off = 0;

			cr_assert_eq(covered, to - from);
			for (unsigned int k = 0; k < n; k++) {
				memcpy(part + off, out[k].iov_base,
				       out[k].iov_len);
				off += out[k].iov_len;
			}
			cr_assert_eq(off, to - from);
			cr_assert_eq(memcmp(part, whole + from, off), 0,
				     "slice [%llu, %llu)",
				     (unsigned long long)from,
				     (unsigned long long)to);
		}
	}
	/* a cap on iovecs covers a prefix */
	{
		uint64_t covered;
		unsigned int n = cap_batch_slice(&b, 0, total, out, 2,
						 &covered);

		cr_assert_eq(n, 2);
		cr_assert_eq(covered, out[0].iov_len + out[1].iov_len);
		cr_assert_lt(covered, total);
	}
}

Test(capture_pcap, isb_block)
{
	struct cap_isb s = {
		.start_ns = 1000000000ull * 1700000000, .end_ns = 0x1122334455667788ull,
		.ifrecv = 10, .ifdrop = 2, .filteraccept = 7, .osdrop = 1,
		.usrdeliv = 6, .comment = "rx_ring_full 2",
	};
	static const uint16_t codes[] = { 4, 5, 6, 7, 8 };
	static const uint64_t want[] = { 10, 2, 7, 1, 6 };
	uint8_t buf[512];
	const uint8_t *v;
	uint16_t len;
	ssize_t n = cap_isb_block(&s, buf, sizeof(buf));

	cr_assert_gt(n, 0);
	cr_assert_eq(get32(buf), CAP_NG_ISB);
	cr_assert_eq(get32(buf + 4), (uint32_t)n);
	cr_assert_eq(get32(buf + n - 4), (uint32_t)n);
	cr_assert_eq(get32(buf + 12), 0x11223344u);
	cr_assert_eq(get32(buf + 16), 0x55667788u);
	for (int i = 0; i < 5; i++) {
		v = find_opt(buf + 20, buf + n - 4, codes[i], &len);
		cr_assert(v && len == 8 && get64(v) == want[i],
			  "option %u", codes[i]);
	}
	v = find_opt(buf + 20, buf + n - 4, CAP_NG_ISB_STARTTIME, &len);
	cr_assert(v && len == 8);
	cr_assert_eq(((uint64_t)get32(v) << 32) | get32(v + 4), s.start_ns);
	v = find_opt(buf + 20, buf + n - 4, CAP_NG_OPT_COMMENT, &len);
	cr_assert(v && len == strlen(s.comment) && !memcmp(v, s.comment, len));
	cr_assert_eq(cap_isb_block(&s, buf, 40), -ENOBUFS);
	cr_assert_eq(cap_isb_block(NULL, buf, sizeof(buf)), -EINVAL);
}

/* ------------------------------------------------- round trip, libpcap */

#define RT_PKTS		200

static uint32_t rt_size(int i)
{
	static const uint32_t sizes[] = { 60, 61, 62, 63, 64, 127, 1514,
					  4000, 9000, 9018 };

	return sizes[i % 10];
}

static uint8_t rt_byte(int i, uint32_t k)
{
	return (uint8_t)(i * 31 + k * 7 + (k >> 8));
}

/* Writes RT_PKTS packets, each split into segments of at most 2048
 * bytes (as a chain of 2 KiB frames), through cap_out. */
static void rt_write(const char *path, enum cap_format f, uint32_t snaplen,
		     uint64_t t0)
{
	static struct cap_batch b;
	static uint8_t pkt[RT_PKTS][9100];
	struct cap_out_opts oo = {
		.path = path,
		.info = { .format = f, .snaplen = snaplen,
			  .linktype = CAP_LINKTYPE_ETHERNET,
			  .ifname = "rt0" },
	};
	struct cap_out_stats st;
	struct cap_out *o;

	cr_assert_eq(cap_out_open(&o, &oo, t0), 0);
	cap_batch_init(&b, f);
	for (int i = 0; i < RT_PKTS; i++) {
		uint32_t len = rt_size(i), nseg = 0;
		struct iovec seg[8];
		struct cap_pkt_meta pm = {
			.ts_ns = t0 + (uint64_t)i * 1234567, .wirelen = len,
			.caplen = len < snaplen ? len : snaplen,
			.queue = (uint32_t)i % 4, .has_queue = true,
			.hash = (uint32_t)i * 2654435761u, .has_hash = i & 1,
		};

		for (uint32_t k = 0; k < len; k++)
			pkt[i][k] = rt_byte(i, k);
		for (uint32_t off = 0; off < len; off += 2048) {
			seg[nseg].iov_base = pkt[i] + off;
			seg[nseg].iov_len = len - off < 2048 ? len - off : 2048;
			nseg++;
		}
		if (cap_batch_add(&b, &pm, seg, nseg) == -ENOSPC) {
			cr_assert_eq(cap_out_write(o, &b, t0), 0);
			cap_batch_init(&b, f);
			cr_assert_eq(cap_batch_add(&b, &pm, seg, nseg), 0);
		}
	}
	cr_assert_eq(cap_out_write(o, &b, t0), 0);
	cap_out_stats(o, &st);
	cr_assert_eq(st.packets, RT_PKTS);
	cr_assert_eq(st.files, 1);
	cr_assert_eq(cap_out_close(o, t0 + 1000000000ull), 0);
}

static void rt_read(const char *path, uint32_t snaplen, uint64_t t0,
		    bool nano)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int i = 0, rc;

	p = pcap_open_offline_with_tstamp_precision(path,
		PCAP_TSTAMP_PRECISION_NANO, err);
	cr_assert_not_null(p, "libpcap cannot read %s: %s", path, err);
	cr_assert_eq(pcap_datalink(p), DLT_EN10MB);
	cr_assert_eq(pcap_snapshot(p), (int)snaplen);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		uint32_t len = rt_size(i);
		uint64_t ts = t0 + (uint64_t)i * 1234567;

		cr_assert_lt(i, RT_PKTS);
		cr_assert_eq(h->len, len, "packet %d length", i);
		cr_assert_eq(h->caplen, len < snaplen ? len : snaplen);
		for (uint32_t k = 0; k < h->caplen; k++)
			cr_assert_eq(data[k], rt_byte(i, k),
				     "packet %d byte %u", i, k);
		if (!nano)
			ts -= ts % 1000;	/* microsecond file */
		cr_assert_eq((uint64_t)h->ts.tv_sec, ts / 1000000000ull);
		cr_assert_eq((uint64_t)h->ts.tv_usec, ts % 1000000000ull,
			     "packet %d timestamp", i);
		i++;
	}
	cr_assert_eq(rc, PCAP_ERROR_BREAK, "clean end of file: %s",
		     pcap_geterr(p));
	cr_assert_eq(i, RT_PKTS);
	pcap_close(p);
}

static void rt_case(enum cap_format f, uint32_t snaplen, bool nano)
{
	char path[] = "/tmp/xmbuf-rt-XXXXXX";
	int fd = mkstemp(path);
	uint64_t t0 = 1700000000ull * 1000000000ull + 987654321ull;

	cr_assert_geq(fd, 0);
	close(fd);
	rt_write(path, f, snaplen, t0);
	rt_read(path, snaplen, t0, nano);
	unlink(path);
}

Test(capture_pcap, libpcap_reads_pcapng)
{
	rt_case(CAP_FMT_PCAPNG, CAP_SNAPLEN_MAX, true);
}

Test(capture_pcap, libpcap_reads_pcap_ns)
{
	rt_case(CAP_FMT_PCAP_NS, CAP_SNAPLEN_MAX, true);
}

Test(capture_pcap, libpcap_reads_pcap_us)
{
	rt_case(CAP_FMT_PCAP_US, CAP_SNAPLEN_MAX, false);
}

Test(capture_pcap, snaplen_truncates)
{
	rt_case(CAP_FMT_PCAPNG, 100, true);
	rt_case(CAP_FMT_PCAP_US, 61, false);
	rt_case(CAP_FMT_PCAP_NS, 2049, true);
}

/* ---------------------------------------- strict walk, long headers */

struct ng_walk {
	int shb, idb, epb, isb;		/* blocks by type */
	char *filter;			/* if_filter without its type octet
					 * (malloc'd), or NULL */
	int filter_type;		/* its first octet, -1 */
};

/*
 * Checks the options of one block, [p, end) up to the trailing length:
 * each one 4-byte padded with zeros, inside the block, the list closed by
 * opt_endofopt (length 0) right at end.  An empty list is allowed (an EPB
 * without options).  Takes an IDB's if_filter when idb.
 */
static void ng_options(const uint8_t *p, const uint8_t *end, bool idb,
		       struct ng_walk *w, size_t at)
{
	bool closed = false;

	if (p == end)
		return;
	while (p < end) {
		uint16_t code, l;
		uint32_t pad;

		cr_assert_leq(p + 4, end, "block at %zu: option header cut", at);
		code = get16(p);
		l = get16(p + 2);
		pad = (4 - (l & 3)) & 3;
		cr_assert_leq(p + 4 + l + pad, end,
			      "block at %zu: option %u (%u bytes) runs past the "
			      "block", at, code, l);
		for (uint32_t i = 0; i < pad; i++)
			cr_assert_eq(p[4 + l + i], 0, "block at %zu: option %u "
				     "padding not zero", at, code);
		if (code == CAP_NG_OPT_END) {
			cr_assert_eq(l, 0, "block at %zu: opt_endofopt with a "
				     "value", at);
			closed = true;
			p += 4;
			break;
		}
		if (idb && code == CAP_NG_IF_FILTER) {
			cr_assert_geq(l, 1);
			w->filter_type = p[4];
			w->filter = malloc(l);
			cr_assert_not_null(w->filter);
			memcpy(w->filter, p + 5, (size_t)l - 1);
			w->filter[l - 1] = '\0';
		}
		p += 4 + l + pad;
	}
	cr_assert(closed, "block at %zu: options not closed by opt_endofopt",
		  at);
	cr_assert_eq(p, end, "block at %zu: %td bytes after opt_endofopt", at,
		     end - p);
}

/* Walks a pcapng image block by block, strictly (see ng_options). */
static void ng_walk(const uint8_t *d, size_t len, struct ng_walk *w)
{
	size_t off = 0;

	memset(w, 0, sizeof(*w));
	w->filter_type = -1;
	while (off < len) {
		uint32_t type, blen, body = 0, caplen;

		cr_assert_leq(off + 12, len, "block header cut at %zu", off);
		type = get32(d + off);
		blen = get32(d + off + 4);
		cr_assert(blen >= 12 && blen % 4 == 0,
			  "block at %zu: total length %u", off, blen);
		cr_assert_leq(off + blen, len, "block at %zu (%u bytes) runs "
			      "past the end (%zu)", off, blen, len);
		cr_assert_eq(get32(d + off + blen - 4), blen,
			     "block at %zu: the trailing length is %u, the "
			     "leading %u", off, get32(d + off + blen - 4), blen);
		switch (type) {
		case CAP_NG_SHB:
			cr_assert_eq(off, 0, "the section header first");
			cr_assert_eq(get32(d + off + 8), CAP_NG_BYTE_ORDER);
			body = 24;
			w->shb++;
			break;
		case CAP_NG_IDB:
			body = 16;
			w->idb++;
			break;
		case CAP_NG_EPB:
			caplen = get32(d + off + 20);
			cr_assert_leq(caplen, get32(d + off + 24));
			body = CAP_NG_EPB_HLEN + caplen + ((4 - (caplen & 3)) & 3);
			w->epb++;
			break;
		case CAP_NG_ISB:
			body = 20;
			w->isb++;
			break;
		default:
			cr_assert_fail("block at %zu: type %#x", off, type);
		}
		cr_assert_leq(body + 4, blen, "block at %zu: body past its "
			      "length", off);
		ng_options(d + off + body, d + off + blen - 4,
			   type == CAP_NG_IDB, w, off);
		off += blen;
	}
	cr_assert_eq(w->shb, 1);
	cr_assert_eq(w->idb, 1);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	off_t n;
	uint8_t *d;

	cr_assert_geq(fd, 0, "%s", path);
	n = lseek(fd, 0, SEEK_END);
	cr_assert_geq(n, 0);
	d = malloc((size_t)n + 1);
	cr_assert_not_null(d);
	cr_assert_eq(pread(fd, d, (size_t)n, 0), n);
	close(fd);
	*len = (size_t)n;
	return d;
}

/* An expression of len characters, a different one per length. */
static char *filter_of(size_t len)
{
	char *f = malloc(len + 1);

	cr_assert_not_null(f);
	for (size_t i = 0; i < len; i++)
		f[i] = (char)('a' + (i * 7 + len) % 26);
	f[len] = '\0';
	return f;
}

/*
 * A file written through cap_out with filter f and a few packets: the
 * strict walk passes, the IDB holds the filter whole after its type
 * octet 0, and libpcap reads every packet to a clean end.
 */
static void filter_file(const char *f)
{
	char path[] = "/tmp/xmbuf-flt-XXXXXX", err[PCAP_ERRBUF_SIZE];
	static struct cap_batch b;
	uint8_t data[100];
	struct iovec seg = { data, sizeof(data) };
	struct cap_out_opts oo = {
		.path = path,
		.info = { .format = CAP_FMT_PCAPNG, .snaplen = 1500,
			  .linktype = CAP_LINKTYPE_ETHERNET, .ifname = "f0",
			  .filter = f, .os = "Linux", .appl = "test" },
	};
	struct pcap_pkthdr *h;
	const u_char *pd;
	struct ng_walk w;
	struct cap_out *o;
	uint8_t *d;
	size_t len;
	pcap_t *p;
	int fd = mkstemp(path), n = 0, rc;

	cr_assert_geq(fd, 0);
	close(fd);
	memset(data, 0x5a, sizeof(data));
	cr_assert_eq(cap_out_open(&o, &oo, 1000), 0, "filter of %zu bytes",
		     strlen(f));
	cap_batch_init(&b, CAP_FMT_PCAPNG);
	for (int i = 0; i < 3; i++) {
		struct cap_pkt_meta pm = { .ts_ns = 2000 + (uint64_t)i,
					   .wirelen = 100, .caplen = 100,
					   .queue = 1, .has_queue = i & 1 };

		cr_assert_eq(cap_batch_add(&b, &pm, &seg, 1), 0);
	}
	cr_assert_eq(cap_out_write(o, &b, 1000), 0);
	cr_assert_eq(cap_out_close(o, 3000), 0);

	d = slurp(path, &len);
	ng_walk(d, len, &w);
	cr_assert_eq(w.epb, 3);
	cr_assert_eq(w.isb, 1);
	cr_assert_not_null(w.filter, "filter of %zu bytes: no if_filter",
			   strlen(f));
	cr_assert_eq(w.filter_type, 0, "if_filter type: a libpcap string");
	cr_assert_str_eq(w.filter, f);
	free(w.filter);
	free(d);

	p = pcap_open_offline(path, err);
	cr_assert_not_null(p, "libpcap cannot read it (filter of %zu bytes): "
			   "%s", strlen(f), err);
	while ((rc = pcap_next_ex(p, &h, &pd)) == 1)
		n++;
	cr_assert_eq(rc, PCAP_ERROR_BREAK, "%s", pcap_geterr(p));
	cr_assert_eq(n, 3);
	pcap_close(p);
	unlink(path);
}

/* The header alone, into a buffer of exactly the announced size: the
 * strict walk over it, and one byte less is refused (not as ENOSPC). */
static void filter_header(const char *f)
{
	struct cap_file_info fi = {
		.format = CAP_FMT_PCAPNG, .snaplen = 1500,
		.linktype = CAP_LINKTYPE_ETHERNET, .ifname = "f0",
		.ifdescr = "d", .filter = f,
	};
	ssize_t sz = cap_file_header_size(&fi), n;
	struct ng_walk w;
	uint8_t *buf;

	cr_assert_gt(sz, 0);
	/* room to spare first: the blocks must say what they hold */
	buf = malloc((size_t)sz + 64);
	cr_assert_not_null(buf);
	n = cap_file_header(&fi, buf, (size_t)sz + 64);
	cr_assert_gt(n, 0);
	ng_walk(buf, (size_t)n, &w);
	cr_assert_str_eq(w.filter, f);
	free(w.filter);
	cr_assert_eq(n, sz, "filter of %zu bytes: %zd written, %zd announced",
		     strlen(f), n, sz);
	cr_assert_eq(cap_file_header(&fi, buf, (size_t)sz), sz);
	cr_assert_eq(cap_file_header(&fi, buf, (size_t)sz - 1), -ENOBUFS);
	free(buf);
}

/*
 * if_filter is one octet longer than its expression, so its padding
 * differs from the string's: every length modulo 4 (1 to 8), and long
 * ones past the 4 KiB the writer once had for its header (up to the
 * largest an option holds).
 */
Test(capture_pcap, filter_option_every_length)
{
	static const size_t lens[] = { 1, 2, 3, 4, 5, 6, 7, 8, 4093, 4094,
				       6000, 20001, CAP_NG_FILTER_MAX };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *f = filter_of(lens[i]);

		filter_header(f);
		filter_file(f);
		free(f);
	}
}

static char said[1024];

static void keep_msg(void *arg, const char *msg)
{
	(void)arg;
	snprintf(said, sizeof(said), "%s", msg);
}

/* A filter no option can hold: refused at open, saying so, never as a
 * full disk; the header's size is not a fixed buffer's. */
Test(capture_pcap, header_too_long_is_not_a_full_disk)
{
	char path[] = "/tmp/xmbuf-flt-XXXXXX";
	char *f = filter_of(CAP_NG_FILTER_MAX + 1);
	struct cap_out_opts oo = {
		.path = path,
		.info = { .format = CAP_FMT_PCAPNG, .snaplen = 1500,
			  .linktype = CAP_LINKTYPE_ETHERNET, .filter = f },
		.msg_fn = keep_msg,
	};
	struct cap_out *o;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(cap_file_header_size(&oo.info), -EINVAL);
	cr_assert_eq(cap_out_open(&o, &oo, 1000), -EINVAL);
	cr_assert_null(o);
	cr_assert(strstr(said, "filter expression") &&
		  !strstr(said, "No space left"), "message: %s", said);
	/* classic pcap keeps no filter: any length is fine there */
	oo.info.format = CAP_FMT_PCAP_US;
	cr_assert_eq(cap_file_header_size(&oo.info), CAP_PCAP_FILE_HLEN);
	cr_assert_eq(cap_out_open(&o, &oo, 1000), 0);
	cr_assert_eq(cap_out_close(o, 1000), 0);
	unlink(path);
	free(f);
}
