/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture_filter_diff.h - the differential check of xmbuf-capture's
 * kernel pre-filter against libpcap, shared by the unit test
 * (tests/unit/test_capture_filter_diff.c) and the fuzz target
 * (tests/fuzz/fuzz_capture_filter.c).
 *
 *   expression --pcap_compile--------------------> pcap_offline_filter
 *        |                                              | accepts frame?
 *        +--cap_filter_translate--> xm_port_rule[]      v
 *             --_xm_xdp_rule_encode (the library's) --> xm_xdp_ruleset
 *             --xm_xdp_parse + xm_xdp_first_match ----> some rule matches?
 *                (bpf/xm_redirect_match.h: the code the XDP program runs)
 *
 * The property: every frame libpcap accepts is matched by some rule (or
 * nothing was pushed), so the kernel never keeps from libpcap a frame it
 * wants.  The rules run on the same bytes through the same C as in the
 * kernel, not a model of it.
 *
 * Also here: a frame builder for a generated corpus of diverse and
 * malformed frames (tags 0x8100/0x88a8/0x9100, IPv4 options and IHL < 5,
 * fragments, IPv6 extension headers, ARP/RARP/LLDP, cuts, jumbo), used by
 * both.
 */
#ifndef CAPTURE_FILTER_DIFF_H
#define CAPTURE_FILTER_DIFF_H

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../examples/capture/cap_filter.h"
#include "../../userspace/xdp_rule_int.h"
#include "../../bpf/xm_redirect_match.h"

#define CFD_FRAME_MAX	9018	/* a jumbo frame with two tags */

struct cfd_filter {
	struct bpf_program prog;		/* libpcap's */
	struct cap_filter_rules rules;		/* the translator's */
	struct xm_xdp_ruleset set;		/* as the program reads it */
	bool compiled;				/* prog holds code */
};

/*
 * Compiles expr both ways (netmask as pcap_compile takes it).
 * @return 0; 1 when libpcap refuses expr (nothing to compare); -1 when
 * the translator's rules do not encode (a bug: why says which).
 */
static inline int cfd_compile(pcap_t *p, const char *expr, uint32_t netmask,
			      struct cfd_filter *f, char *why, size_t whylen)
{
	memset(f, 0, sizeof(*f));
	if (pcap_compile(p, &f->prog, expr, 1, netmask) != 0)
		return 1;
	f->compiled = true;
	if (cap_filter_translate(expr, &f->rules) != 0) {
		snprintf(why, whylen, "cap_filter_translate failed");
		return -1;
	}
	if (f->rules.all) {
		f->set.flags = XM_XDP_SET_ALL;
		return 0;
	}
	for (unsigned int i = 0; i < f->rules.nrules; i++)
		if (_xm_xdp_rule_encode(&f->rules.rules[i], &f->set.rules[i],
					why, whylen) != 0)
			return -1;
	f->set.nrules = f->rules.nrules;
	return 0;
}

static inline void cfd_free(struct cfd_filter *f)
{
	if (f->compiled)
		pcap_freecode(&f->prog);
	f->compiled = false;
}

static inline bool cfd_libpcap(const struct cfd_filter *f, const uint8_t *d,
			       uint32_t len)
{
	struct pcap_pkthdr h = { .caplen = len, .len = len };

	return pcap_offline_filter(&f->prog, &h, d) != 0;
}

/* What the XDP program does with the frame: true = to user space. */
static inline bool cfd_kernel(const struct cfd_filter *f, const uint8_t *d,
			      uint32_t len)
{
	struct xm_xdp_view v;

	if (f->set.flags & XM_XDP_SET_ALL)
		return true;
	memset(&v, 0, sizeof(v));
	xm_xdp_parse(d, d + len, &v);
	return xm_xdp_first_match(&f->set, &v) >= 0;
}

/* ------------------------------------------------------ frame builder */

/* One frame, described by small numbers (a fuzzer's bytes fit too). */
struct cfd_spec {
	uint8_t ntags;			/* 0..3 */
	uint16_t tpid[3];		/* 0x8100, 0x88a8, 0x9100 */
	uint16_t vid[3];
	uint16_t type;			/* after the tags */
	uint8_t ihl;			/* IPv4 header words (0..15) */
	uint8_t proto;			/* IPv4 protocol, IPv6 last header */
	uint16_t frag;			/* IPv4 flags+offset, IPv6 offset */
	uint8_t nexts;			/* IPv6 extension headers, 0..5 */
	uint8_t ext[5];			/* their types (0, 43, 44, 60) */
	uint8_t ext_len[5];		/* their length field */
	uint8_t src[16], dst[16];	/* v4 in the first 4 */
	uint16_t sport, dport;
	uint8_t dmac_bcast;		/* ff:ff:ff:ff:ff:ff */
	uint32_t payload;		/* bytes after L4 */
	uint32_t cut;			/* keep this many bytes (0: all) */
};

static inline void cfd_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Builds s into f (CFD_FRAME_MAX bytes).  @return its length. */
static inline uint32_t cfd_build(uint8_t *f, const struct cfd_spec *s)
{
	uint32_t off = 12, l3, l4, len;

	memset(f, 0, CFD_FRAME_MAX);
	if (s->dmac_bcast)
		memset(f, 0xff, 6);
	else
		memcpy(f, "\x02\xcf\xd0\x00\x00\x02", 6);
	memcpy(f + 6, "\x02\xcf\xd0\x00\x00\x01", 6);
	for (unsigned int i = 0; i < s->ntags && i < 3; i++) {
		cfd_put16(f + off, s->tpid[i]);
		cfd_put16(f + off + 2, s->vid[i]);
		off += 4;
	}
	cfd_put16(f + off, s->type);
	l3 = off + 2;
	l4 = l3;
	if (s->type == 0x0800) {
		uint32_t hl = (s->ihl & 15) * 4u;

		f[l3] = (uint8_t)(0x40 | (s->ihl & 15));
		cfd_put16(f + l3 + 6, s->frag);
		f[l3 + 8] = 64;
		f[l3 + 9] = s->proto;
		memcpy(f + l3 + 12, s->src, 4);
		memcpy(f + l3 + 16, s->dst, 4);
		for (uint32_t o = 20; o < hl; o++)
			f[l3 + o] = 1;		/* NOP options */
		l4 = l3 + (hl > 20 ? hl : 20);
	} else if (s->type == 0x86dd) {
		uint8_t *nh = f + l3 + 6;

		f[l3] = 0x60;
		f[l3 + 7] = 64;
		memcpy(f + l3 + 8, s->src, 16);
		memcpy(f + l3 + 24, s->dst, 16);
		l4 = l3 + 40;
		for (unsigned int i = 0; i < s->nexts && i < 5; i++) {
			*nh = s->ext[i];
			nh = f + l4;
			if (s->ext[i] == 44) {
				cfd_put16(f + l4 + 2, (uint16_t)(s->frag << 3));
				l4 += 8;
			} else {
				f[l4 + 1] = (uint8_t)(s->ext_len[i] & 3);
				l4 += (f[l4 + 1] + 1u) * 8;
			}
		}
		*nh = s->proto;
	} else if (s->type == 0x0806 || s->type == 0x8035) {
		/* ARP/RARP for IPv4: its ptype at bytes 2-3 is 0x0800 */
		memcpy(f + l3, "\x00\x01\x08\x00\x06\x04\x00\x02", 8);
		memcpy(f + l3 + 8, f + 6, 6);
		memcpy(f + l3 + 14, s->src, 4);
		memcpy(f + l3 + 24, s->dst, 4);
		l4 = l3 + 28;
	} else if (s->type == 0x88cc) {
		/* LLDP: chassis id, port id, TTL, end */
		memcpy(f + l3, "\x02\x07\x04\x02\xcf\xd0\x00\x00\x01"
			       "\x04\x03\x07\x70\x31\x06\x02\x00\x78\x00\x00",
		       20);
		l4 = l3 + 20;
	} else {
		/* anything else: bytes that look like IP to a careless eye */
		f[l3] = 0x45;
		f[l3 + 9] = s->proto;
		memcpy(f + l3 + 12, s->src, 4);
		memcpy(f + l3 + 16, s->dst, 4);
		l4 = l3 + 20;
	}
	if (s->type == 0x0800 || s->type == 0x86dd) {
		cfd_put16(f + l4, s->sport);
		cfd_put16(f + l4 + 2, s->dport);
		l4 += s->proto == 6 ? 20 : s->proto == 132 ? 12 : 8;
	}
	len = l4 + s->payload;
	if (len < 60)
		len = 60;
	if (len > CFD_FRAME_MAX)
		len = CFD_FRAME_MAX;
	for (uint32_t o = l4; o < len; o++)
		f[o] = (uint8_t)(o * 7);
	if (s->type == 0x0800)
		cfd_put16(f + l3 + 2, (uint16_t)(len - l3));
	else if (s->type == 0x86dd)
		cfd_put16(f + l3 + 4, (uint16_t)(len - l3 - 40));
	if (s->cut && s->cut < len)
		len = s->cut;
	return len;
}

/* Addresses the expressions name, and some they do not. */
static const uint8_t cfd_v4[][4] = {
	{ 198, 18, 1, 1 }, { 198, 18, 1, 2 }, { 198, 18, 1, 3 },
	{ 198, 18, 5, 5 }, { 198, 18, 128, 9 }, { 198, 19, 0, 1 },
	{ 255, 255, 255, 255 }, { 198, 18, 1, 255 }, { 224, 0, 0, 1 },
	{ 10, 1, 2, 3 }, { 0, 0, 0, 0 },
};
static const uint8_t cfd_v6[][16] = {
	{ 0x20, 0x01, 0, 2, [15] = 1 }, { 0x20, 0x01, 0, 2, [15] = 2 },
	{ 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 5 },
	{ 0x20, 0x01, 0, 3, [15] = 1 }, { 0xff, 0x02, [15] = 1 },
};
static const uint16_t cfd_ports[] = { 53, 80, 161, 443, 5000, 43, 0 };
static const uint8_t cfd_protos[] = { 17, 6, 132, 1, 58, 47, 0, 44 };
static const uint16_t cfd_tpids[] = { 0x8100, 0x88a8, 0x9100 };
static const uint16_t cfd_vids[] = { 100, 200, 7, 0, 4095 };
static const uint16_t cfd_types[] = {
	0x0800, 0x86dd, 0x0806, 0x8035, 0x88cc, 0x0800, 0x86dd, 0x0800,
	0x86dd, 0x8100, 0x0042,
};
static const uint8_t cfd_exts[] = { 0, 60, 43, 44 };

#define CFD_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A spec from a stream of small numbers (pick(n) in 0..n-1). */
struct cfd_pick {
	const uint8_t *p;		/* bytes left */
	size_t n;
	uint64_t rng;			/* used when the bytes run out */
};

static inline unsigned int cfd_take(struct cfd_pick *k, unsigned int n)
{
	unsigned int v;

	if (k->n) {
		v = *k->p++;
		k->n--;
	} else {
		k->rng ^= k->rng << 13;
		k->rng ^= k->rng >> 7;
		k->rng ^= k->rng << 17;
		v = (unsigned int)(k->rng >> 24);
	}
	return n ? v % n : 0;
}

static inline void cfd_spec_pick(struct cfd_pick *k, struct cfd_spec *s)
{
	unsigned int t = cfd_take(k, 8);

	memset(s, 0, sizeof(*s));
	s->ntags = t < 3 ? 0 : t < 6 ? 1 : t < 7 ? 2 : 3;
	for (unsigned int i = 0; i < s->ntags; i++) {
		s->tpid[i] = cfd_tpids[cfd_take(k, CFD_NELEM(cfd_tpids))];
		s->vid[i] = cfd_vids[cfd_take(k, CFD_NELEM(cfd_vids))];
	}
	s->type = cfd_types[cfd_take(k, CFD_NELEM(cfd_types))];
	t = cfd_take(k, 16);
	s->ihl = t < 10 ? 5 : t < 13 ? (uint8_t)(6 + t - 10) :
		 (uint8_t)cfd_take(k, 16);
	s->proto = cfd_protos[cfd_take(k, CFD_NELEM(cfd_protos))];
	t = cfd_take(k, 8);
	s->frag = t < 5 ? 0 : t == 5 ? 0x2000 : t == 6 ? 0x2010 : 0x0020;
	t = cfd_take(k, 8);
	s->nexts = (uint8_t)(t < 4 ? 0 : t - 3);
	for (unsigned int i = 0; i < 5; i++) {
		s->ext[i] = cfd_exts[cfd_take(k, CFD_NELEM(cfd_exts))];
		s->ext_len[i] = (uint8_t)cfd_take(k, 4);
	}
	if (s->type == 0x86dd) {
		memcpy(s->src, cfd_v6[cfd_take(k, CFD_NELEM(cfd_v6))], 16);
		memcpy(s->dst, cfd_v6[cfd_take(k, CFD_NELEM(cfd_v6))], 16);
	} else {
		memcpy(s->src, cfd_v4[cfd_take(k, CFD_NELEM(cfd_v4))], 4);
		memcpy(s->dst, cfd_v4[cfd_take(k, CFD_NELEM(cfd_v4))], 4);
	}
	s->sport = cfd_ports[cfd_take(k, CFD_NELEM(cfd_ports))];
	s->dport = cfd_ports[cfd_take(k, CFD_NELEM(cfd_ports))];
	s->dmac_bcast = cfd_take(k, 8) == 0;
	t = cfd_take(k, 32);
	s->payload = t == 0 ? 9000 : t < 4 ? 1400 : t * 3;
	/* cuts: anywhere in the first 100 bytes, often */
	t = cfd_take(k, 4);
	s->cut = t == 0 ? 1 + cfd_take(k, 100) : 0;
}

/* The frames of issue #20, byte for byte. */
static const char *const cfd_issue_frames[] = {
	/* UDP 198.18.1.3:161 -> 198.18.5.5:53 */
	"02cfd000000202cfd00000010800"
	"4500002e187d00004011d015c6120103c612050500a10035001a1af6"
	"000000000000000000000000000000000000",
	/* ARP reply: bytes 16-17 are 0x0800, byte 27 is 0x11 */
	"02cfd000000202cfd00001110806"
	"0001080006040002" "02cfd0000111c6128009" "02cfd0000002c6120111"
	"000000000000000000000000000000000000",
};

/* Parses hex into f.  @return the length. */
static inline uint32_t cfd_hex(uint8_t *f, const char *hex)
{
	uint32_t n = 0;

	for (; hex[0] && hex[1] && n < CFD_FRAME_MAX; hex += 2) {
		unsigned int b;

		if (sscanf(hex, "%2x", &b) != 1)
			break;
		f[n++] = (uint8_t)b;
	}
	return n;
}

#endif /* CAPTURE_FILTER_DIFF_H */
