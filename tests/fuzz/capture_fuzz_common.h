/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture_fuzz_common.h - what the capture fuzz target
 * (tests/fuzz/fuzz_capture.c) and its Criterion replay
 * (tests/unit/test_capture_fuzz.c) share: the properties checked on one
 * input, and the seed corpus.
 *
 * An input's first byte picks the property:
 *
 *   even: the rest is a tcpdump expression for cap_filter_translate():
 *         it never fails, never pushes more than XM_PORT_MAX_RULES, and
 *         every rule it pushes is well formed (known match bits, family
 *         with addresses, prefix lengths in range with the host bits
 *         clear, ports only with TCP/UDP/SCTP); "push nothing" comes with
 *         a reason.
 *   odd:  the rest describes packets, written into a cap_batch in the
 *         format (byte 1) and read back by an independent reader of
 *         pcap and pcapng below: every record comes back with its
 *         lengths, bytes, timestamp, queue and hash; the stream's record
 *         offsets add up; any slice of the stream is the same bytes.
 *
 * cap_fuzz_check() returns NULL when every property held, else which
 * one broke.
 */
#ifndef CAPTURE_FUZZ_COMMON_H
#define CAPTURE_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../examples/capture/cap_filter.h"
#include "../../examples/capture/cap_pcap.h"

#define CAP_FUZZ_EXPR_MAX	1024
#define CAP_FUZZ_PKTS		64	/* packets per input at most */
#define CAP_FUZZ_STREAM		(CAP_FUZZ_PKTS * (1024 + 64) + 64)

struct cap_fuzz_state {
	struct cap_batch batch;
	uint8_t stream[CAP_FUZZ_STREAM];
	uint8_t slice[CAP_FUZZ_STREAM];
	uint8_t data[CAP_FUZZ_PKTS][1024];
	struct cap_pkt_meta meta[CAP_FUZZ_PKTS];
	struct cap_filter_rules rules;
	char expr[CAP_FUZZ_EXPR_MAX + 1];
};

static inline uint32_t cf_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline const char *cap_fuzz_rules(struct cap_fuzz_state *s,
					 const uint8_t *in, size_t len)
{
	const uint32_t known = XM_RULE_M_PROTO | XM_RULE_M_DST_PORT |
			       XM_RULE_M_VLAN | XM_RULE_M_SRC | XM_RULE_M_DST |
			       XM_RULE_M_FAMILY | XM_RULE_M_SRC_PORT;
	struct cap_filter_rules *fr = &s->rules;
	char desc[160];

	if (len > CAP_FUZZ_EXPR_MAX)
		len = CAP_FUZZ_EXPR_MAX;
	memcpy(s->expr, in, len);
	s->expr[len] = '\0';
	if (cap_filter_translate(s->expr, fr) != 0)
		return "translate failed";
	if (fr->all)
		return fr->nrules == 0 && fr->why[0] ? NULL :
		       "'all' without a reason, or with rules";
	if (fr->nrules == 0 || fr->nrules > XM_PORT_MAX_RULES)
		return "rule count out of range";
	for (unsigned int i = 0; i < fr->nrules; i++) {
		const struct xm_port_rule *r = &fr->rules[i];
		unsigned int alen = r->family == AF_INET6 ? 16 : 4;

		if (r->match == 0 || (r->match & ~known))
			return "rule with no or unknown match bits";
		if (r->match & (XM_RULE_M_SRC | XM_RULE_M_DST |
				XM_RULE_M_FAMILY)) {
			if (r->family != AF_INET && r->family != AF_INET6)
				return "address rule without a family";
		}
		if ((r->match & (XM_RULE_M_DST_PORT | XM_RULE_M_SRC_PORT)) &&
		    (r->match & XM_RULE_M_PROTO) && r->ip_proto != 6 &&
		    r->ip_proto != 17 && r->ip_proto != 132)
			return "port on a protocol without ports";
		if ((r->match & XM_RULE_M_VLAN) &&
		    (r->vlan_id == 0 || r->vlan_id > 4095))
			return "vlan id out of range";
		for (int k = 0; k < 2; k++) {
			uint32_t bit = k ? XM_RULE_M_DST : XM_RULE_M_SRC;
			const uint8_t *a = k ? r->dst : r->src;
			unsigned int plen = k ? r->dst_len : r->src_len;

			if (!(r->match & bit))
				continue;
			if (plen > alen * 8)
				return "prefix longer than the address";
			for (unsigned int b = plen; b < 128; b++)
				if (a[b / 8] & (0x80 >> (b % 8)))
					return "host bits set past the prefix";
		}
		cap_filter_rule_str(r, desc, sizeof(desc));
		if (!desc[0])
			return "empty rule description";
	}
	return NULL;
}

/* Reads one record back from p (end at e) into *pm and *data. */
static inline const char *cf_read_rec(enum cap_format f, const uint8_t **pp,
				      const uint8_t *e,
				      struct cap_pkt_meta *pm,
				      const uint8_t **data)
{
	const uint8_t *p = *pp;

	memset(pm, 0, sizeof(*pm));
	if (f != CAP_FMT_PCAPNG) {
		uint32_t sub;

		if (e - p < 16)
			return "pcap record header cut";
		sub = cf_get32(p + 4);
		pm->ts_ns = (uint64_t)cf_get32(p) * 1000000000ull +
			    (f == CAP_FMT_PCAP_US ? (uint64_t)sub * 1000 : sub);
		pm->caplen = cf_get32(p + 8);
		pm->wirelen = cf_get32(p + 12);
		if ((size_t)(e - p - 16) < pm->caplen)
			return "pcap record data cut";
		*data = p + 16;
		*pp = p + 16 + pm->caplen;
		return NULL;
	} else {
		uint32_t total, olen;
		const uint8_t *o, *end;

		if (e - p < 32)
			return "EPB cut";
		total = cf_get32(p + 4);
		if (cf_get32(p) != CAP_NG_EPB || total % 4 || total < 32 ||
		    (size_t)(e - p) < total || cf_get32(p + total - 4) != total)
			return "EPB framing";
		pm->ts_ns = (uint64_t)cf_get32(p + 12) << 32 | cf_get32(p + 16);
		pm->caplen = cf_get32(p + 20);
		pm->wirelen = cf_get32(p + 24);
		olen = (pm->caplen + 3) & ~3u;
		if (28 + olen + 4 > total)
			return "EPB data past the block";
		*data = p + 28;
		o = p + 28 + olen;
		end = p + total - 4;
		while (o + 4 <= end) {
			uint16_t code, l;

			memcpy(&code, o, 2);
			memcpy(&l, o + 2, 2);
			if (code == CAP_NG_OPT_END)
				break;
			if (o + 4 + l > end)
				return "option past the block";
			if (code == CAP_NG_EPB_QUEUE && l == 4) {
				pm->queue = cf_get32(o + 4);
				pm->has_queue = true;
			} else if (code == CAP_NG_EPB_HASH && l == 5 &&
				   o[4] == CAP_NG_HASH_TOEPLITZ) {
				pm->hash = cf_get32(o + 5);
				pm->has_hash = true;
			} else {
				return "unexpected EPB option";
			}
			o += 4 + l + ((4 - (l & 3)) & 3);
		}
		*pp = p + total;
		return NULL;
	}
}

static inline const char *cap_fuzz_records(struct cap_fuzz_state *s,
					   const uint8_t *in, size_t len)
{
	struct cap_batch *b = &s->batch;
	enum cap_format f;
	unsigned int n = 0;
	size_t flat = 0, at = 1;
	const uint8_t *p, *e;

	if (len < 1)
		return NULL;
	f = (enum cap_format)(in[0] % 3);
	cap_batch_init(b, f);
	/* per packet: len (2), caplen cut (1), flags (1), ts (4), then
	 * min(len, remaining input) bytes of data, split in up to 4 */
	while (at + 8 <= len && n < CAP_FUZZ_PKTS) {
		struct cap_pkt_meta *pm = &s->meta[n];
		uint32_t plen = ((uint32_t)in[at] << 8 | in[at + 1]) % 1025;
		uint8_t cut = in[at + 2], fl = in[at + 3];
		struct iovec seg[4];
		unsigned int nseg = 0;
		uint32_t off = 0;
		int err;

		memset(pm, 0, sizeof(*pm));
		pm->ts_ns = (uint64_t)cf_get32(in + at + 4) * 1000003ull;
		at += 8;
		pm->wirelen = plen;
		pm->caplen = cut >= 128 ? plen : plen * cut / 128;
		pm->has_queue = fl & 1;
		pm->queue = fl * 77u;
		pm->has_hash = (fl & 2) != 0;
		pm->hash = pm->ts_ns ^ 0x5a5a5a5a;
		for (uint32_t k = 0; k < plen; k++)
			s->data[n][k] = at < len ? in[at++] : (uint8_t)k;
		while (off < plen && nseg < 4) {
			uint32_t l = nseg == 3 ? plen - off :
				     1 + (fl >> 2) * (nseg + 1) % 512;

			if (l > plen - off)
				l = plen - off;
			seg[nseg].iov_base = s->data[n] + off;
			seg[nseg].iov_len = l;
			off += l;
			nseg++;
		}
		err = cap_batch_add(b, pm, seg, nseg);
		if (err)
			return "batch_add refused a valid packet";
		if (f == CAP_FMT_PCAP_US)
			pm->ts_ns -= pm->ts_ns % 1000;
		/* pcap carries 32-bit seconds */
		if (f != CAP_FMT_PCAPNG)
			pm->ts_ns = (pm->ts_ns / 1000000000ull % (1ull << 32)) *
				    1000000000ull + pm->ts_ns % 1000000000ull;
		if (f != CAP_FMT_PCAPNG)
			pm->has_queue = pm->has_hash = false;
		n++;
	}
	if (b->nrec != n)
		return "record count";
	for (unsigned int i = 0; i < b->niov; i++) {
		if (flat + b->iov[i].iov_len > sizeof(s->stream))
			return "stream larger than possible";
		memcpy(s->stream + flat, b->iov[i].iov_base, b->iov[i].iov_len);
		flat += b->iov[i].iov_len;
	}
	if (flat != b->bytes || (n && b->rec_end[n - 1] != flat))
		return "stream length";
	p = s->stream;
	e = s->stream + flat;
	for (unsigned int i = 0; i < n; i++) {
		const struct cap_pkt_meta *want = &s->meta[i];
		struct cap_pkt_meta got;
		const uint8_t *data;
		const char *why;

		if ((size_t)(p - s->stream) != cap_batch_rec_start(b, i))
			return "record start offset";
		why = cf_read_rec(f, &p, e, &got, &data);
		if (why)
			return why;
		if ((size_t)(p - s->stream) != b->rec_end[i])
			return "record end offset";
		if (got.caplen != want->caplen || got.wirelen != want->wirelen)
			return "lengths";
		if (memcmp(data, s->data[i], got.caplen))
			return "packet bytes";
		if (got.ts_ns != want->ts_ns)
			return "timestamp";
		if (got.has_queue != want->has_queue ||
		    (got.has_queue && got.queue != want->queue))
			return "queue option";
		if (got.has_hash != want->has_hash ||
		    (got.has_hash && got.hash != want->hash))
			return "hash option";
	}
	if (p != e)
		return "bytes after the last record";
	/* a slice chosen by the input is the same bytes */
	if (flat) {
		uint64_t from = in[0] % flat, to, covered, off = 0;
		struct iovec iov[CAP_BATCH_IOVS];
		unsigned int k;

		to = from + 1 + (len * 131) % (flat - from);
		k = cap_batch_slice(b, from, to, iov, CAP_BATCH_IOVS,
				    &covered);
		if (covered != to - from)
			return "slice coverage";
		for (unsigned int i = 0; i < k; i++) {
			memcpy(s->slice + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		if (off != covered || memcmp(s->slice, s->stream + from, off))
			return "slice bytes";
	}
	return NULL;
}

static inline const char *cap_fuzz_check(struct cap_fuzz_state *s,
					 const uint8_t *in, size_t len)
{
	if (len == 0)
		return NULL;
	if (in[0] & 1)
		return cap_fuzz_records(s, in + 1, len - 1);
	return cap_fuzz_rules(s, in + 1, len - 1);
}

/* Seeds: expressions, and packet descriptions for each format. */
#define CAP_FUZZ_SEEDS		22
#define CAP_FUZZ_SEED_MAX	512

struct cap_fuzz_seed {
	uint8_t s_buf[CAP_FUZZ_SEED_MAX];
	size_t s_len;
};

static inline int cap_fuzz_seeds(struct cap_fuzz_seed *seeds)
{
	static const char *const exprs[] = {
		"udp", "udp dst port 53", "port 53 or 80", "ip host 198.18.0.1",
		"host 198.18.0.1 and tcp", "vlan 100 and udp",
		"(udp or tcp) and dst port 80", "ip6 net 2001:2::/48",
		"not icmp", "src and dst port 5000", "ip src net 198.18",
		"vlan and vlan and tcp", "tcp[13] & 2 != 0",
		"ip src 198.18.0.1 and dst 198.18.0.2", "arp or udp",
		"icmp6 or (ip6 and udp port 53)",
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		size_t l = strlen(exprs[i]);

		seeds[n].s_buf[0] = 0;
		memcpy(seeds[n].s_buf + 1, exprs[i], l);
		seeds[n].s_len = l + 1;
		n++;
	}
	for (int f = 0; f < 3; f++) {
		for (int v = 0; v < 2 && n < CAP_FUZZ_SEEDS; v++) {
			uint8_t *b = seeds[n].s_buf;
			size_t o = 0;

			b[o++] = 1;
			b[o++] = (uint8_t)f;
			for (int k = 0; k < 4 && o + 8 + 64 < CAP_FUZZ_SEED_MAX;
			     k++) {
				uint32_t plen = 60 + (uint32_t)k * 3 + v * 500;

				b[o++] = (uint8_t)(plen >> 8);
				b[o++] = (uint8_t)plen;
				b[o++] = k == 2 ? 64 : 200;
				b[o++] = (uint8_t)(k * 5 + v);
				for (int t = 0; t < 4; t++)
					b[o++] = (uint8_t)(k * 17 + t);
				for (int d = 0; d < 48; d++)
					b[o++] = (uint8_t)(d ^ k);
			}
			seeds[n].s_len = o;
			n++;
		}
	}
	return n;
}

#endif /* CAPTURE_FUZZ_COMMON_H */
