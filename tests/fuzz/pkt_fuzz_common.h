/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt_fuzz_common.h - what the packet fuzz target (tests/fuzz/fuzz_pkt.c,
 * libFuzzer) and its replay in the unit tests (tests/unit/test_pkt_fuzz.c,
 * Criterion) share: the seed corpus, built with the library's builders so
 * it follows the API, and the one property check every input goes through.
 *
 * The check is the contract of xm_pkt.h turned into assertions: parsing
 * any bytes returns 0 or -EBADMSG with a reason, reads nothing past the
 * length (ASan sees that), and a successful parse describes a packet that
 * fits in the bytes given; checksums filled then verify; incremental
 * rewrites of addresses and ports keep them verifying; a too-big reply is a
 * well-formed frame that verifies; encapsulation of what parsed verifies.
 */
#ifndef PKT_FUZZ_COMMON_H
#define PKT_FUZZ_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xm_pkt.h"
#include "xm_pkt_int.h"

#define PKT_SEED_MAX		2048	/* largest seed */
#define PKT_SEEDS		18	/* seeds pkt_seeds() builds */
#define PKT_CHECK_MAX		9216	/* inputs longer than this are cut */

struct pkt_seed {
	uint8_t s_buf[PKT_SEED_MAX];	/* the frame */
	uint32_t s_len;			/* its length */
};

static inline void pkt_seed_eth(struct xm_pkt_eth *eth, int nvlan)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(eth, 0, sizeof(*eth));
	memcpy(eth->eth_dst, dst, 6);
	memcpy(eth->eth_src, src, 6);
	eth->eth_nvlan = (uint8_t)nvlan;
	eth->eth_vlan_tpid[0] = nvlan == 2 ? XM_PKT_ETH_P_QINQ : 0;
	eth->eth_vlan_tci[0] = 100;
	eth->eth_vlan_tci[1] = 200;
}

static inline void pkt_seed_ip(struct xm_pkt_ip *ip, int version)
{
	memset(ip, 0, sizeof(*ip));
	ip->ip_version = (uint8_t)version;
	ip->ip_ttl = 64;
	ip->ip_frag = version == 4 ? XM_PKT_IP_DF : 0;
	if (version == 4) {
		ip->ip_src.a_v4 = htonl(0xc6120001);	/* 198.18.0.1 */
		ip->ip_dst.a_v4 = htonl(0xc6120002);
	} else {
		ip->ip_src.a_v6[0] = 0x20;		/* 2001:db8::1 */
		ip->ip_src.a_v6[1] = 0x01;
		ip->ip_src.a_v6[2] = 0x0d;
		ip->ip_src.a_v6[3] = 0xb8;
		ip->ip_dst = ip->ip_src;
		ip->ip_src.a_v6[15] = 1;
		ip->ip_dst.a_v6[15] = 2;
		ip->ip_flowlabel = 0x12345;
	}
}

/* A UDP or TCP frame from the builders; returns its length. */
static inline uint32_t pkt_seed_frame(uint8_t *buf, int version, int nvlan,
				      uint8_t proto, uint32_t payload_len)
{
	struct xm_pkt_tmpl t;
	uint8_t payload[1500];
	int n;

	memset(&t, 0, sizeof(t));
	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	pkt_seed_eth(&t.t_eth, nvlan);
	pkt_seed_ip(&t.t_ip, version);
	t.t_proto = proto;
	t.t_sport = 1024;
	t.t_dport = 80;
	t.t_tcp.tcp_seq = 1;
	t.t_tcp.tcp_flags = XM_PKT_TCP_SYN;
	t.t_tcp.tcp_window = 65535;
	t.t_tcp.tcp_mss = 1460;
	t.t_tcp.tcp_wscale = 7;
	t.t_tcp.tcp_opts = XM_PKT_TCPOPT_MSS | XM_PKT_TCPOPT_SACKOK |
			   XM_PKT_TCPOPT_TS | XM_PKT_TCPOPT_WSCALE;
	t.t_payload = payload;
	t.t_payload_len = payload_len;
	n = xm_pkt_build_frame(buf, PKT_SEED_MAX, &t);
	return n > 0 ? (uint32_t)n : 0;
}

/*
 * An IP frame with a hand-made L4 (ICMP) or IPv6 extension headers: the
 * bytes after the fixed header are `rest`, next header / protocol `proto`.
 */
static inline uint32_t pkt_seed_raw(uint8_t *buf, int version, uint8_t proto,
				    uint16_t frag, const uint8_t *rest,
				    uint32_t rest_len)
{
	struct xm_pkt_eth eth;
	struct xm_pkt_ip ip;
	int l2, l3;

	pkt_seed_eth(&eth, 0);
	eth.eth_type = version == 4 ? XM_PKT_ETH_P_IPV4 : XM_PKT_ETH_P_IPV6;
	pkt_seed_ip(&ip, version);
	ip.ip_proto = proto;
	ip.ip_frag = frag;
	ip.ip_payload_len = rest_len;
	l2 = xm_pkt_build_eth(buf, PKT_SEED_MAX, &eth);
	l3 = xm_pkt_build_ip(buf + l2, PKT_SEED_MAX - l2, &ip);
	memcpy(buf + l2 + l3, rest, rest_len);
	return (uint32_t)(l2 + l3) + rest_len;
}

/* Builds the seed corpus into seeds[PKT_SEEDS]; returns how many. */
static inline int pkt_seeds(struct pkt_seed *seeds)
{
	struct xm_pkt_info pi;
	struct xm_pkt_encap en;
	uint8_t rest[256];
	int n = 0, r;

	seeds[n].s_len = pkt_seed_frame(seeds[n].s_buf, 4, 0,
					XM_PKT_IPPROTO_UDP, 16), n++;
	seeds[n].s_len = pkt_seed_frame(seeds[n].s_buf, 6, 1,
					XM_PKT_IPPROTO_UDP, 5), n++;
	seeds[n].s_len = pkt_seed_frame(seeds[n].s_buf, 4, 2,
					XM_PKT_IPPROTO_TCP, 0), n++;
	seeds[n].s_len = pkt_seed_frame(seeds[n].s_buf, 6, 0,
					XM_PKT_IPPROTO_TCP, 100), n++;
	seeds[n].s_len = pkt_seed_frame(seeds[n].s_buf, 4, 1,
					XM_PKT_IPPROTO_UDP, 1400), n++;

	/* ICMP echo request, ICMPv6 echo request (checksums filled below). */
	memset(rest, 0, sizeof(rest));
	rest[0] = XM_PKT_ICMP_ECHO;
	rest[5] = 42;
	seeds[n].s_len = pkt_seed_raw(seeds[n].s_buf, 4, XM_PKT_IPPROTO_ICMP,
				      XM_PKT_IP_DF, rest, 16), n++;
	rest[0] = XM_PKT_ICMP6_ECHO_REQUEST;
	seeds[n].s_len = pkt_seed_raw(seeds[n].s_buf, 6, XM_PKT_IPPROTO_ICMPV6,
				      0, rest, 16), n++;

	/*
	 * IPv6: hop-by-hop (8), SRv6 routing header with one segment left
	 * (8 + 16), destination options (8), fragment (first, M set), UDP.
	 */
	memset(rest, 0, sizeof(rest));
	rest[0] = XM_PKT_IPPROTO_ROUTING;		/* HBH */
	rest[2] = 1;					/* PadN */
	rest[3] = 4;
	rest[8] = XM_PKT_IPPROTO_DSTOPTS;		/* RH */
	rest[9] = 2;
	rest[10] = 4;
	rest[11] = 1;
	rest[16] = 0x20;
	rest[31] = 9;					/* final segment */
	rest[32] = XM_PKT_IPPROTO_FRAGMENT;		/* DSTOPTS */
	rest[34] = 1;
	rest[35] = 4;
	rest[40] = XM_PKT_IPPROTO_UDP;			/* FRAG */
	rest[43] = 1;					/* offset 0, M */
	rest[47] = 0x77;
	rest[48] = 0x04;				/* UDP */
	rest[51] = 53;
	rest[53] = 40;					/* datagram 40 */
	seeds[n].s_len = pkt_seed_raw(seeds[n].s_buf, 6, XM_PKT_IPPROTO_HOPOPTS,
				      0, rest, 48 + 16), n++;
	/* ... and a later fragment of it. */
	rest[43] = 16;					/* offset 16 */
	seeds[n].s_len = pkt_seed_raw(seeds[n].s_buf, 6,
				      XM_PKT_IPPROTO_FRAGMENT, 0, rest + 40,
				      8 + 24), n++;

	/* IPv4 first and later fragment of a UDP datagram. */
	memset(rest, 0, sizeof(rest));
	rest[1] = 7;
	rest[3] = 9;
	rest[5] = 200;
	seeds[n].s_len = pkt_seed_raw(seeds[n].s_buf, 4, XM_PKT_IPPROTO_UDP,
				      XM_PKT_IP_MF, rest, 64), n++;
	seeds[n].s_len = pkt_seed_raw(seeds[n].s_buf, 4, XM_PKT_IPPROTO_UDP,
				      8, rest, 136), n++;

	/* IPv6 with AH, then ESP (parsing stops there). */
	memset(rest, 0, sizeof(rest));
	rest[0] = XM_PKT_IPPROTO_ESP;
	rest[1] = 4;					/* (4 + 2) * 4 */
	seeds[n].s_len = pkt_seed_raw(seeds[n].s_buf, 6, XM_PKT_IPPROTO_AH, 0,
				      rest, 24 + 32), n++;

	/* ARP request. */
	{
		struct xm_pkt_eth eth;
		static const uint8_t arp[28] = {
			0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1,
			198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 2,
		};

		pkt_seed_eth(&eth, 0);
		memset(eth.eth_dst, 0xff, 6);
		eth.eth_type = XM_PKT_ETH_P_ARP;
		xm_pkt_build_eth(seeds[n].s_buf, PKT_SEED_MAX, &eth);
		memcpy(seeds[n].s_buf + 14, arp, sizeof(arp));
		seeds[n].s_len = 42, n++;
	}

	/* IPv4 with options (IHL 6: NOP NOP NOP EOL) and TCP. */
	r = (int)pkt_seed_frame(seeds[n].s_buf + 4, 4, 0, XM_PKT_IPPROTO_TCP, 8);
	memmove(seeds[n].s_buf, seeds[n].s_buf + 4, 34);
	seeds[n].s_buf[14] = 0x46;
	seeds[n].s_buf[17] = (uint8_t)(seeds[n].s_buf[17] + 4);
	memcpy(seeds[n].s_buf + 34, "\x01\x01\x01\x00", 4);
	seeds[n].s_len = (uint32_t)r + 4, n++;

	/* Tunnels: IPIP, IP6IP6, GUE around the first seeds' IP packets. */
	memset(&en, 0, sizeof(en));
	for (int k = 0; k < 3; k++) {
		uint8_t *b = seeds[n].s_buf;
		int ver = k == 1 ? 6 : 4, inner_ver = k == 1 ? 6 : 4;
		uint32_t inner_len;

		inner_len = pkt_seed_frame(b + 100, inner_ver, 0,
					   XM_PKT_IPPROTO_UDP, 30);
		inner_len -= 14;
		en.en_type = k == 2 ? XM_PKT_ENCAP_GUE : XM_PKT_ENCAP_IPIP;
		en.en_flags = k == 2 ? XM_PKT_ENCAP_F_UDP_CSUM : 0;
		en.en_sport = 40000;
		en.en_dport = 6080;
		pkt_seed_ip(&en.en_outer, ver);
		r = xm_pkt_encap(b + 114, 114, inner_len, &en);
		{
			struct xm_pkt_eth eth;

			pkt_seed_eth(&eth, 0);
			eth.eth_type = ver == 4 ? XM_PKT_ETH_P_IPV4
						: XM_PKT_ETH_P_IPV6;
			xm_pkt_build_eth(b + 114 - r - 14, 14, &eth);
		}
		memmove(b, b + 114 - r - 14, 14 + (uint32_t)r + inner_len);
		seeds[n].s_len = 14 + (uint32_t)r + inner_len, n++;
	}

	/* A too-big reply for the 1400-byte seed (index 4). */
	xm_pkt_parse(seeds[4].s_buf, seeds[4].s_len, &pi);
	r = xm_pkt_build_too_big(seeds[n].s_buf, PKT_SEED_MAX, seeds[4].s_buf,
				 &pi, 1280, NULL);
	seeds[n].s_len = r > 0 ? (uint32_t)r : 0, n++;

	/* Valid checksums everywhere, so mutations start from good packets. */
	for (int i = 0; i < n; i++)
		if (xm_pkt_parse(seeds[i].s_buf, seeds[i].s_len, &pi) == 0)
			xm_pkt_csum_fill(seeds[i].s_buf, &pi);
	return n;
}

#define PKT_CHECK(cond, what)						\
	do {								\
		if (!(cond))						\
			return (what);					\
	} while (0)

/* Invariants of a successful parse of len bytes. */
static inline const char *pkt_check_info(const struct xm_pkt_info *pi,
					 uint32_t len)
{
	uint32_t l3_end;

	PKT_CHECK(pi->pi_err == XM_PKT_ERR_NONE, "0 returned with pi_err set");
	PKT_CHECK(pi->pi_len == len, "pi_len is not len");
	PKT_CHECK(pi->pi_caplen == len, "pi_caplen is not len");
	PKT_CHECK(pi->pi_payload_off <= len &&
		  pi->pi_payload_len <= len - pi->pi_payload_off,
		  "payload past the frame");
	PKT_CHECK(pi->pi_eth.eth_nvlan <= XM_PKT_MAX_VLANS, "too many tags");
	if (!(pi->pi_flags & (XM_PKT_F_IPV4 | XM_PKT_F_IPV6))) {
		PKT_CHECK(!(pi->pi_flags & XM_PKT_F_L4), "L4 without IP");
		return NULL;
	}
	l3_end = pi->pi_l3_off + pi->pi_l3_len;
	PKT_CHECK(pi->pi_l3_off <= len && pi->pi_l3_len <= len - pi->pi_l3_off,
		  "IP packet past the frame");
	PKT_CHECK(pi->pi_l3_hlen <= pi->pi_l3_len, "IP header past IP packet");
	PKT_CHECK(pi->pi_payload_off + pi->pi_payload_len <= l3_end,
		  "payload past the IP packet");
	PKT_CHECK(pi->pi_csum_dst_off >= pi->pi_l3_off &&
		  pi->pi_csum_dst_off + (pi->pi_ip.ip_version == 4 ? 4 : 16) <=
		  l3_end, "pseudo-header destination outside the packet");
	PKT_CHECK((pi->pi_ip.ip_version == 4) ==
		  !!(pi->pi_flags & XM_PKT_F_IPV4), "version flag");
	if (pi->pi_flags & XM_PKT_F_L4) {
		PKT_CHECK(pi->pi_l4_off == pi->pi_l3_off + pi->pi_l3_hlen,
			  "L4 not after the IP headers");
		PKT_CHECK(pi->pi_l4_hlen >= 4 &&
			  pi->pi_l4_off + pi->pi_l4_hlen <= l3_end,
			  "L4 header past the IP packet");
		PKT_CHECK(pi->pi_payload_off == pi->pi_l4_off + pi->pi_l4_hlen,
			  "payload not after L4");
		PKT_CHECK(!(pi->pi_flags & XM_PKT_F_FRAG) ||
			  (pi->pi_flags & XM_PKT_F_FRAG_FIRST),
			  "L4 parsed in a later fragment");
	}
	PKT_CHECK(!(pi->pi_flags & XM_PKT_F_FRAG_FIRST) ||
		  (pi->pi_flags & XM_PKT_F_FRAG), "first but not fragment");
	return NULL;
}

static inline bool pkt_short_of_bytes(uint8_t reason)
{
	return reason == XM_PKT_ERR_TRUNC_ETH ||
	       reason == XM_PKT_ERR_TRUNC_VLAN ||
	       reason == XM_PKT_ERR_TRUNC_IP ||
	       reason == XM_PKT_ERR_TRUNC_EXTHDR ||
	       reason == XM_PKT_ERR_TRUNC_L4;
}

/*
 * The parser as xm_pkt_parse_mbuf() uses it: only the first cap bytes
 * readable (a heap copy of exactly that size, so ASan sees a read past
 * it) of a len-byte packet.  It must agree with the flat parse wherever
 * it can decide: a success is the same parse, an error that more bytes
 * would not cure is the same error.
 */
static inline const char *pkt_check_cap(const uint8_t *data, uint32_t len,
					uint32_t cap, int flat_err,
					const struct xm_pkt_info *flat)
{
	struct xm_pkt_info pc, a, b;
	uint8_t *c = malloc(cap ? cap : 1);
	int err;

	if (c == NULL)
		return NULL;
	memcpy(c, data, cap);
	err = _xm_pkt_parse(c, cap, len, &pc);
	free(c);
	PKT_CHECK(pc.pi_caplen == cap && pc.pi_len == len, "cap parse lengths");
	if (err == 0) {
		PKT_CHECK(flat_err == 0, "cap parse passed, flat failed");
		a = pc;
		b = *flat;
		a.pi_caplen = b.pi_caplen = 0;
		PKT_CHECK(memcmp(&a, &b, sizeof(a)) == 0,
			  "cap parse and flat parse differ");
		return NULL;
	}
	PKT_CHECK(err == -EBADMSG, "cap parse error is not -EBADMSG");
	if (!pkt_short_of_bytes(pc.pi_err))
		PKT_CHECK(flat_err == -EBADMSG && flat->pi_err == pc.pi_err,
			  "cap parse and flat parse fail differently");
	return NULL;
}

/*
 * Runs one input through the whole KPI.  `mix` picks rewrite values and
 * reply sizes, so the replay test and the fuzzer explore them too.
 * Returns NULL, or what broke.
 */
static inline const char *pkt_check(const uint8_t *data, uint32_t len,
				    uint32_t mix)
{
	static uint8_t work[PKT_CHECK_MAX], reply[PKT_CHECK_MAX + 64];
	struct xm_pkt_info pi, pi2, rpi;
	union xm_pkt_addr addr;
	const char *why;
	int err, n;
	uint32_t cap;

	if (len > PKT_CHECK_MAX)
		len = PKT_CHECK_MAX;
	err = xm_pkt_parse(data, len, &pi);
	why = pkt_check_cap(data, len, len ? mix % (len + 1) : 0, err, &pi);
	if (why != NULL)
		return why;
	if (err != 0) {
		PKT_CHECK(err == -EBADMSG, "parse error is not -EBADMSG");
		PKT_CHECK(pi.pi_err > XM_PKT_ERR_NONE &&
			  pi.pi_err < XM_PKT_ERR_MAX, "reason out of range");
		PKT_CHECK(strcmp(xm_pkt_strerror(pi.pi_err),
				 "unknown packet error") != 0, "unnamed reason");
		/* What the rest of the KPI must refuse. */
		PKT_CHECK(xm_pkt_csum_ok(data, &pi) == false, "csum_ok on error");
		PKT_CHECK(xm_pkt_build_too_big(reply, sizeof(reply), data, &pi,
					       1280, NULL) == -EINVAL,
			  "too_big on a parse error");
		return NULL;
	}
	why = pkt_check_info(&pi, len);
	if (why != NULL)
		return why;
	if (!(pi.pi_flags & (XM_PKT_F_IPV4 | XM_PKT_F_IPV6)))
		return NULL;

	/* Filled checksums verify; rewrites keep them verifying. */
	memcpy(work, data, len);
	PKT_CHECK(xm_pkt_csum_fill(work, &pi) == 0, "csum_fill failed");
	PKT_CHECK(xm_pkt_csum_ok(work, &pi), "filled checksums do not verify");
	memset(&addr, 0, sizeof(addr));
	for (int i = 0; i < 16; i++)
		addr.a_v6[i] = (uint8_t)(mix >> (i % 4 * 8)) ^ (uint8_t)i;
	if (pi.pi_ip.ip_version == 4)
		memset(addr.a_v6 + 4, 0, 12);
	pi2 = pi;
	PKT_CHECK(xm_pkt_set_addr(work, &pi2, mix & 1, &addr) == 0,
		  "set_addr failed");
	if ((pi.pi_flags & XM_PKT_F_L4) &&
	    (pi.pi_proto == XM_PKT_IPPROTO_TCP ||
	     pi.pi_proto == XM_PKT_IPPROTO_UDP))
		PKT_CHECK(xm_pkt_set_port(work, &pi2, (mix >> 1) & 1,
					  (uint16_t)(mix >> 8)) == 0,
			  "set_port failed");
	/* The bytes after the L4 header, at an odd offset when there is one. */
	if (pi.pi_payload_len >= 3) {
		uint8_t b[2] = { (uint8_t)mix, (uint8_t)(mix >> 24) };

		PKT_CHECK(xm_pkt_rewrite(work, &pi, pi.pi_payload_off + 1, b,
					 2) == 0, "payload rewrite failed");
	}
	PKT_CHECK(xm_pkt_csum_ok(work, &pi2), "rewrite broke a checksum");
	PKT_CHECK(xm_pkt_parse(work, len, &rpi) == 0,
		  "rewritten frame does not parse");
	PKT_CHECK(memcmp(&rpi.pi_ip.ip_src, &pi2.pi_ip.ip_src,
			 sizeof(addr)) == 0 &&
		  memcmp(&rpi.pi_ip.ip_dst, &pi2.pi_ip.ip_dst,
			 sizeof(addr)) == 0 &&
		  rpi.pi_sport == pi2.pi_sport && rpi.pi_dport == pi2.pi_dport,
		  "rewrite and pi disagree");

	/* A too-big reply, capacity anywhere from too small to plenty. */
	cap = (mix >> 4) % (sizeof(reply) / 4);
	if (mix & 0x8000)
		cap = sizeof(reply);
	n = xm_pkt_build_too_big(reply, cap, data, &pi,
				 pi.pi_ip.ip_version == 4 ? 68 + (mix & 1023)
							  : 1280 + (mix & 1023),
				 NULL);
	/* An IPv6 multicast destination cannot be the reply's source. */
	PKT_CHECK(n > 0 || n == -EPERM || n == -ENOSPC ||
		  (n == -EINVAL && pi.pi_ip.ip_version == 6 &&
		   pi.pi_ip.ip_dst.a_v6[0] == 0xff), "too_big error");
	if (n > 0) {
		PKT_CHECK((uint32_t)n <= cap, "reply past cap");
		PKT_CHECK(xm_pkt_parse(reply, (uint32_t)n, &rpi) == 0,
			  "reply does not parse");
		PKT_CHECK(xm_pkt_csum_ok(reply, &rpi), "reply checksum bad");
		PKT_CHECK(rpi.pi_flags & XM_PKT_F_L4, "reply without ICMP");
		PKT_CHECK(rpi.pi_icmp_type == (pi.pi_ip.ip_version == 4 ?
			  XM_PKT_ICMP_UNREACH : XM_PKT_ICMP6_PACKET_TOO_BIG),
			  "reply type");
		PKT_CHECK(rpi.pi_l3_len <= (pi.pi_ip.ip_version == 4 ? 576u
								     : 1280u),
			  "reply longer than the RFC allows");
		PKT_CHECK(memcmp(reply + rpi.pi_payload_off,
				 data + pi.pi_l3_off,
				 rpi.pi_payload_len) == 0, "quote differs");
	}

	/* The IP packet as a tunnel's inner packet. */
	if (pi.pi_l3_len <= sizeof(work) - 128) {
		struct xm_pkt_encap en;

		memset(&en, 0, sizeof(en));
		en.en_type = (uint8_t)(1 + mix % 3);
		en.en_outer.ip_version = (mix >> 2) & 1 ? 6 : 4;
		/* A zero UDP checksum over IPv6 does not verify. */
		en.en_flags = (mix >> 3) & 1 || en.en_outer.ip_version == 6;
		en.en_dport = 6080;
		memcpy(work + 128, data + pi.pi_l3_off, pi.pi_l3_len);
		n = xm_pkt_encap(work + 128, 128, pi.pi_l3_len, &en);
		PKT_CHECK(n > 0 || n == -EMSGSIZE, "encap failed");
		if (n > 0) {
			PKT_CHECK(xm_pkt_parse_ip(work + 128 - n,
						  (uint32_t)n + pi.pi_l3_len,
						  &rpi) == 0,
				  "encapsulated packet does not parse");
			PKT_CHECK(xm_pkt_csum_ok(work + 128 - n, &rpi),
				  "outer checksum bad");
		}
	}
	return NULL;
}

#endif /* PKT_FUZZ_COMMON_H */
