// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_capture_filter.c - the filter subset xmbuf-capture pushes into the
 * XDP program (examples/capture/cap_filter.c).
 *
 * Two kinds of checks:
 *  - translations: the rules an expression turns into, field by field,
 *    and the expressions that must push nothing (not, ARP-inclusive
 *    "host", byte offsets, too many rules, contradictions);
 *  - the superset property, the one that matters: over a corpus of
 *    frames (UDP/TCP/SCTP/ICMP over IPv4 and IPv6, 0-2 VLAN tags, 802.1ad,
 *    fragments, IPv4 options, IPv6 extension headers, ARP), every frame
 *    libpcap's compiled expression accepts (pcap_offline_filter) is
 *    accepted by at least one pushed rule, matched the way the XDP
 *    program matches (rule_match below follows bpf/xm_redirect_prog.h);
 *    and the pushed rules do reject some frames, so the property is not
 *    met by pushing "everything".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "../../examples/capture/cap_filter.h"

static struct cap_filter_rules fr;

static void translate(const char *expr)
{
	cr_assert_eq(cap_filter_translate(expr, &fr), 0);
}

static void assert_all(const char *expr)
{
	translate(expr);
	cr_assert(fr.all, "'%s' must push nothing, got %u rule(s)", expr,
		  fr.nrules);
	cr_assert_eq(fr.nrules, 0);
	cr_assert_neq(fr.why[0], '\0', "a reason is given");
}

static const struct xm_port_rule *find_rule(uint32_t match, uint8_t proto,
					    uint16_t dport)
{
	for (unsigned int i = 0; i < fr.nrules; i++) {
		const struct xm_port_rule *r = &fr.rules[i];

		if (r->match == match &&
		    (!(match & XM_RULE_M_PROTO) || r->ip_proto == proto) &&
		    (!(match & XM_RULE_M_DST_PORT) || r->dst_port == dport))
			return r;
	}
	return NULL;
}

TestSuite(capture_filter);

Test(capture_filter, protocols)
{
	translate("udp");
	cr_assert(!fr.all);
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO);
	cr_assert_eq(fr.rules[0].ip_proto, 17);
	translate("tcp or udp");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO, 6, 0));
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO, 17, 0));
	translate("icmp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO | XM_RULE_M_FAMILY);
	cr_assert_eq(fr.rules[0].family, AF_INET);
	cr_assert_eq(fr.rules[0].ip_proto, 1);
	translate("ip6");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_FAMILY);
	cr_assert_eq(fr.rules[0].family, AF_INET6);
}

Test(capture_filter, ports)
{
	translate("udp dst port 53");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 17,
				     53));
	translate("udp and dst port 5000");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 17,
				     5000));
	translate("dst port 53");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_rule(XM_RULE_M_DST_PORT, 0, 53));
	/* a source port is no rule field: the protocols stand for it */
	translate("tcp port 80");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO, 6, 0));
	translate("port 53");
	cr_assert_eq(fr.nrules, 4);
	cr_assert_not_null(find_rule(XM_RULE_M_DST_PORT, 0, 53));
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO, 132, 0));
	translate("src and dst port 53");
	cr_assert_eq(fr.nrules, 3);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 6,
				     53));
	/* a bare number reuses "dst port" */
	translate("dst port 53 or 80");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_rule(XM_RULE_M_DST_PORT, 0, 80));
	translate("(udp or tcp) and dst port 80");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 6,
				     80));
	/* no ports on ICMP: the conjunction is empty, nothing to push */
	assert_all("icmp and dst port 5");
}

Test(capture_filter, addresses)
{
	const struct xm_port_rule *r;
	uint8_t want[16] = { 198, 18, 0, 0 };

	translate("ip host 198.18.0.1");
	cr_assert_eq(fr.nrules, 2);
	r = find_rule(XM_RULE_M_SRC, 0, 0);
	cr_assert_not_null(r);
	cr_assert_eq(r->family, AF_INET);
	cr_assert_eq(r->src_len, 32);
	cr_assert_eq(memcmp(r->src, (uint8_t[4]){ 198, 18, 0, 1 }, 4), 0);
	cr_assert_not_null(find_rule(XM_RULE_M_DST, 0, 0));
	translate("ip src net 198.18.0.0/15");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_SRC);
	cr_assert_eq(fr.rules[0].src_len, 15);
	cr_assert_eq(memcmp(fr.rules[0].src, want, 16), 0);
	translate("ip dst net 198.18");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].dst_len, 16, "libpcap's 'net 198.18' is /16");
	translate("ip6 net 2001:2::/48");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_eq(fr.rules[0].family, AF_INET6);
	cr_assert_eq(fr.rules[0].match & (XM_RULE_M_SRC | XM_RULE_M_DST) ?
		     (fr.rules[0].match & XM_RULE_M_SRC ? fr.rules[0].src_len :
		      fr.rules[0].dst_len) : 0, 48);
	/* IPv6 hosts are IPv6's only: no ARP to worry about */
	translate("host 2001:2::1");
	cr_assert_eq(fr.nrules, 2);
	translate("ip src 198.18.0.1 and dst 198.18.0.2");
	cr_assert_eq(fr.nrules, 1, "the bare dst reuses 'ip': one rule");
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_SRC | XM_RULE_M_DST);
	translate("ip host 198.18.0.1 or 198.18.0.2");
	cr_assert_eq(fr.nrules, 4);
	/* nested prefixes intersect to the longer one; disjoint to nothing */
	translate("ip src net 198.18.0.0/15 and ip src host 198.18.3.4");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].src_len, 32);
	assert_all("ip src net 10.0.0.0/8 and ip src net 198.18.0.0/15");
}

Test(capture_filter, arp_inclusive_hosts)
{
	/* "host A" also matches ARP and RARP naming A: rules cannot */
	assert_all("host 198.18.0.1");
	cr_assert(strstr(fr.why, "ARP"), "the reason names ARP: %s", fr.why);
	assert_all("net 198.18.0.0/15");
	assert_all("src 198.18.0.1");
	assert_all("arp");
	/* ... unless something in the conjunction implies IP */
	translate("udp and host 198.18.0.1");
	cr_assert_eq(fr.nrules, 2);
	translate("host 198.18.0.1 and dst port 53");
	cr_assert_eq(fr.nrules, 2);
	/* a VLAN survives as the only test an ARP term can keep */
	translate("vlan 7 and host 198.18.0.1");
	cr_assert(!fr.all);
	cr_assert_not_null(find_rule(XM_RULE_M_VLAN, 0, 0));
}

Test(capture_filter, vlans)
{
	translate("vlan 100");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_VLAN);
	cr_assert_eq(fr.rules[0].vlan_id, 100);
	translate("vlan 100 and udp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_VLAN | XM_RULE_M_PROTO);
	/* the second "vlan" is an inner tag: no rule field */
	translate("vlan 100 and vlan 200 and udp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].vlan_id, 100);
	translate("vlan and udp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO);
	/* vlan 0 is priority-tagged; to a rule 0 means untagged */
	translate("vlan 0 and udp");
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO);
	translate("vlan 100 and vlan 200");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_VLAN);
	assert_all("vlan 1 and vlan 2 and vlan 3 and udp");
}

Test(capture_filter, untranslatable)
{
	assert_all("not udp");
	/* a negation inside a conjunction only widens its own part */
	translate("udp and not port 53");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO);
	assert_all("less 100");
	assert_all("broadcast or udp");
	/* a length test is everything, and leaves the rest to narrow */
	translate("udp and greater 200");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].ip_proto, 17);
	translate("len >= 100 and udp");
	cr_assert(fr.all, "relational expressions are not translated");
	assert_all("ether host 02:00:00:00:00:01");
	assert_all("ip[9] = 17");
	assert_all("tcp[tcpflags] & tcp-syn != 0");
	assert_all("port domain");
	assert_all("host example.com");
	assert_all("portrange 1-100");
	assert_all("tcp and udp");
	assert_all("udp or arp");
	assert_all("ip proto 17");
	assert_all("(udp");
	assert_all("udp )");
	assert_all("");
	assert_all("and");
	/* more rules than the kernel side holds */
	assert_all("dst port 1 or 2 or 3 or 4 or 5 or 6 or 7 or 8 or 9 or 10 "
		   "or 11 or 12 or 13 or 14 or 15 or 16 or 17");
	translate("dst port 1 or 2 or 3 or 4 or 5 or 6 or 7 or 8 or 9 or 10 "
		  "or 11 or 12 or 13 or 14 or 15 or 16");
	cr_assert_eq(fr.nrules, 16);
}

Test(capture_filter, bad_arguments)
{
	cr_assert_eq(cap_filter_translate(NULL, &fr), -EINVAL);
	cr_assert_eq(cap_filter_translate("udp", NULL), -EINVAL);
}

Test(capture_filter, rule_strings)
{
	char buf[128];

	translate("udp dst port 53");
	cr_assert_str_eq(cap_filter_rule_str(&fr.rules[0], buf, sizeof(buf)),
			 "udp dst port 53");
	translate("ip src net 198.18.0.0/15");
	cr_assert_str_eq(cap_filter_rule_str(&fr.rules[0], buf, sizeof(buf)),
			 "ip src 198.18.0.0/15");
}

/* ----------------------------------------------------- the superset */

/* The XDP program's view of a frame (bpf/xm_redirect_prog.h). */
struct xpkt {
	uint8_t src[16], dst[16];
	uint16_t dport;
	uint16_t vlan;
	int family;			/* 0, AF_INET, AF_INET6 */
	uint8_t proto;
	bool ports;
};

static void xparse(const uint8_t *f, uint32_t len, struct xpkt *x)
{
	uint32_t off = 14;
	uint16_t et;

	memset(x, 0, sizeof(*x));
	if (len < 14)
		return;
	et = (uint16_t)(f[12] << 8 | f[13]);
	for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
		if (off + 4 > len)
			return;
		if (i == 0)
			x->vlan = (uint16_t)((f[off] << 8 | f[off + 1]) & 0xfff);
		et = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
		off += 4;
	}
	if (et == 0x0800) {
		uint32_t ihl;

		if (off + 20 > len)
			return;
		ihl = (f[off] & 0xf) * 4u;
		if (ihl < 20)
			return;
		x->family = AF_INET;
		x->proto = f[off + 9];
		memcpy(x->src, f + off + 12, 4);
		memcpy(x->dst, f + off + 16, 4);
		if ((f[off + 6] << 8 | f[off + 7]) & 0x1fff)
			return;
		off += ihl;
	} else if (et == 0x86dd) {
		uint8_t nh;

		if (off + 40 > len)
			return;
		x->family = AF_INET6;
		memcpy(x->src, f + off + 8, 16);
		memcpy(x->dst, f + off + 24, 16);
		nh = f[off + 6];
		off += 40;
		for (int i = 0; i < 4; i++) {
			if (nh == 0 || nh == 43 || nh == 60) {
				if (off + 2 > len)
					return;
				nh = f[off];
				off += (f[off + 1] + 1u) * 8;
			} else if (nh == 44) {
				if (off + 8 > len)
					return;
				nh = f[off];
				if ((f[off + 2] << 8 | f[off + 3]) & 0xfff8) {
					x->proto = nh;
					return;
				}
				off += 8;
			} else {
				break;
			}
		}
		x->proto = nh;
	} else {
		return;
	}
	if ((x->proto == 6 || x->proto == 17 || x->proto == 132) &&
	    off + 4 <= len) {
		x->dport = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
		x->ports = true;
	}
}

static bool pfx(const uint8_t *a, const uint8_t *w, unsigned int bits)
{
	for (unsigned int i = 0; i < bits; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));

		if ((a[i / 8] & m) != (w[i / 8] & m))
			return false;
	}
	return true;
}

static bool rule_match(const struct xm_port_rule *r, const struct xpkt *x)
{
	if ((r->match & XM_RULE_M_VLAN) && x->vlan != r->vlan_id)
		return false;
	if ((r->match & (XM_RULE_M_FAMILY | XM_RULE_M_SRC | XM_RULE_M_DST)) &&
	    x->family != r->family)
		return false;
	if ((r->match & XM_RULE_M_PROTO) && (!x->family ||
					     x->proto != r->ip_proto))
		return false;
	if ((r->match & XM_RULE_M_DST_PORT) && (!x->ports ||
						x->dport != r->dst_port))
		return false;
	if ((r->match & XM_RULE_M_SRC) && !pfx(x->src, r->src, r->src_len))
		return false;
	if ((r->match & XM_RULE_M_DST) && !pfx(x->dst, r->dst, r->dst_len))
		return false;
	return true;
}

struct frame_spec {
	int tags;		/* 0, 1, 2 */
	uint16_t tpid;		/* outer tag type */
	uint16_t vid[2];
	int v;			/* 4, 6, 0 = ARP */
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t last;		/* host byte of src; dst is last + 1 */
	bool frag_later;	/* a later fragment */
	bool ip_options;	/* IPv4 IHL 6 */
	bool v6_hop;		/* IPv6 hop-by-hop header first */
};

static uint32_t build(uint8_t *f, const struct frame_spec *s)
{
	uint32_t off = 12;
	uint16_t et = s->v == 4 ? 0x0800 : s->v == 6 ? 0x86dd : 0x0806;

	memset(f, 0, 256);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	for (int i = 0; i < s->tags; i++) {
		uint16_t tpid = i == 0 ? s->tpid : 0x8100;

		f[off] = (uint8_t)(tpid >> 8);
		f[off + 1] = (uint8_t)tpid;
		f[off + 2] = (uint8_t)(s->vid[i] >> 8);
		f[off + 3] = (uint8_t)s->vid[i];
		off += 4;
	}
	f[off] = (uint8_t)(et >> 8);
	f[off + 1] = (uint8_t)et;
	off += 2;
	if (s->v == 0) {
		/* ARP request: sender 198.18.0.<last>, target <last + 1> */
		memcpy(f + off, "\0\x01\x08\0\x06\x04\0\x01", 8);
		memcpy(f + off + 14, (uint8_t[4]){ 198, 18, 0, s->last }, 4);
		memcpy(f + off + 24,
		       (uint8_t[4]){ 198, 18, 0, (uint8_t)(s->last + 1) }, 4);
		return off + 28;
	}
	if (s->v == 4) {
		uint32_t ihl = s->ip_options ? 24 : 20;

		f[off] = (uint8_t)(0x40 | ihl / 4);
		f[off + 3] = 100;
		if (s->frag_later)
			f[off + 7] = 10;
		f[off + 8] = 64;
		f[off + 9] = s->proto;
		memcpy(f + off + 12, (uint8_t[4]){ 198, 18, 0, s->last }, 4);
		memcpy(f + off + 16,
		       (uint8_t[4]){ 198, 18, 0, (uint8_t)(s->last + 1) }, 4);
		off += ihl;
	} else {
		f[off] = 0x60;
		f[off + 5] = 100;
		f[off + 6] = s->v6_hop ? 0 : s->proto;
		f[off + 7] = 64;
		memcpy(f + off + 8, "\x20\x01\0\x02\0\0\0\0\0\0\0\0\0\0\0", 15);
		f[off + 23] = s->last;
		memcpy(f + off + 24, "\x20\x01\0\x02\0\0\0\0\0\0\0\0\0\0\0", 15);
		f[off + 39] = (uint8_t)(s->last + 1);
		off += 40;
		if (s->v6_hop) {
			f[off] = s->proto;
			f[off + 1] = 0;
			off += 8;
		}
	}
	f[off] = (uint8_t)(s->sport >> 8);
	f[off + 1] = (uint8_t)s->sport;
	f[off + 2] = (uint8_t)(s->dport >> 8);
	f[off + 3] = (uint8_t)s->dport;
	return off + 40;
}

#define CORPUS_MAX	4096

static uint8_t corpus[CORPUS_MAX][256];
static uint32_t corpus_len[CORPUS_MAX];
static int ncorpus;

static void make_corpus(void)
{
	static const uint8_t protos[] = { 6, 17, 132, 1, 58, 47 };
	static const uint16_t ports[] = { 53, 80, 5000 };
	static const struct { int tags; uint16_t tpid; uint16_t a, b; } tg[] = {
		{ 0, 0, 0, 0 }, { 1, 0x8100, 100, 0 }, { 1, 0x88a8, 7, 0 },
		{ 2, 0x88a8, 100, 200 }, { 1, 0x8100, 0, 0 },
	};

	ncorpus = 0;
	for (size_t t = 0; t < sizeof(tg) / sizeof(tg[0]); t++)
	for (int v = 0; v <= 6; v += (v == 0 ? 4 : 2))
	for (size_t p = 0; p < sizeof(protos); p++)
	for (size_t sp = 0; sp < 3; sp++)
	for (size_t dp = 0; dp < 3; dp++)
	for (int var = 0; var < 3; var++) {
		struct frame_spec s = {
			.tags = tg[t].tags, .tpid = tg[t].tpid,
			.vid = { tg[t].a, tg[t].b }, .v = v,
			.proto = protos[p], .sport = ports[sp],
			.dport = ports[dp], .last = (uint8_t)(1 + (var & 1)),
			.frag_later = var == 2 && v == 4,
			.ip_options = var == 1 && v == 4,
			.v6_hop = var == 2 && v == 6,
		};

		if (v == 0 && (p || sp || dp || var > 1))
			continue;
		cr_assert_lt(ncorpus, CORPUS_MAX);
		corpus_len[ncorpus] = build(corpus[ncorpus], &s);
		ncorpus++;
	}
}

static const char *const exprs[] = {
	"udp", "tcp", "sctp", "icmp", "icmp6", "ip", "ip6", "arp",
	"port 53", "dst port 53", "src port 53", "udp port 53",
	"udp dst port 53", "tcp src port 80", "udp and dst port 5000",
	"src or dst port 80", "src and dst port 53", "dst port 53 or 80",
	"host 198.18.0.1", "ip host 198.18.0.1", "ip src 198.18.0.1",
	"ip dst net 198.18.0.0/24", "ip net 198.18", "ip6 host 2001:2::1",
	"ip6 net 2001:2::/48", "ip6 src 2001:2::2", "udp and host 198.18.0.1",
	"src 198.18.0.1 and udp", "host 198.18.0.2 and dst port 53",
	"vlan 100", "vlan 100 and udp", "vlan and udp", "vlan 7 and tcp",
	"vlan 100 and vlan 200 and udp", "vlan 0 and udp",
	"udp or tcp", "(udp or tcp) and dst port 80", "icmp or icmp6",
	"ip host 198.18.0.1 or 198.18.0.2", "ip and udp dst port 53",
	"ip6 and tcp", "tcp dst port 80 or udp dst port 53",
	"vlan 100 or udp", "(ip6 and udp) or (ip and tcp dst port 80)",
	"not udp", "udp and not port 53", "udp and greater 90",
	"less 100 or tcp", "greater 90 and tcp",
};

Test(capture_filter, rules_are_a_superset_of_libpcap, .timeout = 60)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	int pushed = 0;

	cr_assert_not_null(p);
	make_corpus();
	cr_assert_gt(ncorpus, 500);
	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		struct bpf_program prog;
		int matched = 0, rejected = 0;

		cr_assert_eq(pcap_compile(p, &prog, exprs[e], 1,
					  PCAP_NETMASK_UNKNOWN), 0,
			     "libpcap rejects '%s': %s", exprs[e],
			     pcap_geterr(p));
		translate(exprs[e]);
		for (int i = 0; i < ncorpus; i++) {
			struct pcap_pkthdr h = { .caplen = corpus_len[i],
						 .len = corpus_len[i] };
			bool lib = pcap_offline_filter(&prog, &h, corpus[i]);
			bool any = fr.all;
			struct xpkt x;

			xparse(corpus[i], corpus_len[i], &x);
			for (unsigned int k = 0; k < fr.nrules && !any; k++)
				any = rule_match(&fr.rules[k], &x);
			if (lib) {
				matched++;
				cr_assert(any, "'%s': frame %d matches libpcap "
					  "but no pushed rule", exprs[e], i);
			}
			if (!any)
				rejected++;
		}
		cr_assert_gt(matched, 0, "'%s' matches part of the corpus",
			     exprs[e]);
		if (!fr.all) {
			pushed++;
			cr_assert_gt(rejected, 0, "'%s': the rules narrow "
				     "something", exprs[e]);
		}
		pcap_freecode(&prog);
	}
	cr_assert_gt(pushed, 30, "most of these expressions push rules");
	pcap_close(p);
}
