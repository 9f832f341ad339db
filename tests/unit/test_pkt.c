/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pkt.c - packet header parsing, building and checksums (xm_pkt.h).
 *
 * Expectations come from outside the library: checksum vectors from RFC
 * 1071 and a textbook IPv4 header, whole frames computed by an independent
 * implementation and confirmed by tcpdump ("udp sum ok", "cksum 0xa7b8
 * (correct)"), and a plain RFC 1071 reference sum in this file that every
 * checksum the library produces is checked against.  Malformed input is
 * made by cutting and corrupting good frames; every truncation is done in
 * a buffer of exactly that size, so the ASan build (make sanitize) catches
 * any read past the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "xm_mbuf.h"
#include "xm_pkt.h"

TestSuite(pkt, .timeout = 30);

/* ------------------------------------------------------------ helpers */

/* RFC 1071, word by word, big-endian: the reference for every checksum. */
static uint16_t ref_csum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The reference checksum of an IP packet's L4 segment at l4, over an
 * explicitly built pseudo-header (IPv6: final destination dst, or the
 * header's own when NULL): 0 when the segment's checksum is right.
 */
static uint16_t ref_l4_csum(const uint8_t *ip, int version, uint8_t proto,
			    const uint8_t *l4, uint32_t seglen,
			    const uint8_t *dst)
{
	static uint8_t tmp[70000];
	uint32_t n = 0;

	if (version == 4) {
		memcpy(tmp, ip + 12, 8);
		tmp[8] = 0;
		tmp[9] = proto;
		put16(tmp + 10, (uint16_t)seglen);
		n = 12;
	} else if (proto != XM_PKT_IPPROTO_ICMP) {
		memcpy(tmp, ip + 8, 16);
		memcpy(tmp + 16, dst ? dst : ip + 24, 16);
		tmp[32] = (uint8_t)(seglen >> 24);
		tmp[33] = (uint8_t)(seglen >> 16);
		tmp[34] = (uint8_t)(seglen >> 8);
		tmp[35] = (uint8_t)seglen;
		tmp[36] = tmp[37] = tmp[38] = 0;
		tmp[39] = proto;
		n = 40;
	}
	if (proto == XM_PKT_IPPROTO_ICMP)
		n = 0;
	memcpy(tmp + n, l4, seglen);
	return ref_csum(tmp, n + seglen);
}

/* The L4 checksum of an IP packet at ip checks with the reference. */
static bool ref_l4_ok(const uint8_t *ip, int version, uint8_t proto,
		      const uint8_t *l4, uint32_t seglen, const uint8_t *dst)
{
	return ref_l4_csum(ip, version, proto, l4, seglen, dst) == 0;
}

/* Parses and checks both checksums of a frame against the reference. */
static void assert_ref_csums(const uint8_t *f, uint32_t len)
{
	struct xm_pkt_info pi;
	const uint8_t *ip;

	cr_assert_eq(xm_pkt_parse(f, len, &pi), 0);
	ip = f + pi.pi_l3_off;
	if (pi.pi_ip.ip_version == 4)
		cr_assert_eq(ref_csum(ip, pi.pi_l3_hlen), 0,
			     "IPv4 header checksum");
	/* A zero UDP checksum over IPv4 is "none". */
	if ((pi.pi_flags & XM_PKT_F_L4) &&
	    !(pi.pi_proto == XM_PKT_IPPROTO_UDP && pi.pi_ip.ip_version == 4 &&
	      be16(f + pi.pi_l4_off + 6) == 0))
		cr_assert(ref_l4_ok(ip, pi.pi_ip.ip_version, pi.pi_proto,
				    f + pi.pi_l4_off,
				    pi.pi_payload_off + pi.pi_payload_len -
				    pi.pi_l4_off, f + pi.pi_csum_dst_off),
			  "L4 checksum (proto %u)", pi.pi_proto);
	cr_assert(xm_pkt_csum_ok(f, &pi));
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static void v6addr(union xm_pkt_addr *a, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->a_v6[0] = 0x20;
	a->a_v6[1] = 0x01;
	a->a_v6[2] = 0x0d;
	a->a_v6[3] = 0xb8;
	a->a_v6[15] = last;
}

static void v4addr(union xm_pkt_addr *a, uint32_t host)
{
	memset(a, 0, sizeof(*a));
	a->a_v4 = htonl(host);
}

/* A frame template: the addresses of the known frames below. */
static struct xm_pkt_tmpl tmpl(int version, int nvlan, uint8_t proto,
			       const void *payload, uint32_t len)
{
	struct xm_pkt_tmpl t;

	memset(&t, 0, sizeof(t));
	memcpy(t.t_eth.eth_dst, mac_a, 6);
	memcpy(t.t_eth.eth_src, mac_b, 6);
	t.t_eth.eth_nvlan = (uint8_t)nvlan;
	t.t_eth.eth_vlan_tpid[0] = nvlan == 2 ? XM_PKT_ETH_P_QINQ : 0;
	t.t_eth.eth_vlan_tci[0] = 100;
	t.t_eth.eth_vlan_tci[1] = 0x2064;
	t.t_ip.ip_version = (uint8_t)version;
	t.t_ip.ip_ttl = 64;
	if (version == 4) {
		v4addr(&t.t_ip.ip_src, 0xc6120001);	/* 198.18.0.1 */
		v4addr(&t.t_ip.ip_dst, 0xc6120002);
		t.t_ip.ip_frag = XM_PKT_IP_DF;
	} else {
		v6addr(&t.t_ip.ip_src, 1);
		v6addr(&t.t_ip.ip_dst, 2);
	}
	t.t_proto = proto;
	t.t_sport = 1024;
	t.t_dport = 9;
	t.t_tcp.tcp_seq = 0x01020304;
	t.t_tcp.tcp_flags = XM_PKT_TCP_SYN;
	t.t_tcp.tcp_window = 64240;
	t.t_payload = payload;
	t.t_payload_len = len;
	return t;
}

/* Parses a copy of the first n bytes in a buffer of exactly n bytes. */
static int parse_exact(const uint8_t *f, uint32_t n, struct xm_pkt_info *pi)
{
	uint8_t *c = malloc(n ? n : 1);
	int r;

	cr_assert_not_null(c);
	memcpy(c, f, n);
	r = xm_pkt_parse(c, n, pi);
	free(c);
	return r;
}

static void assert_reason(const uint8_t *f, uint32_t n, enum xm_pkt_err want)
{
	struct xm_pkt_info pi;
	int r = parse_exact(f, n, &pi);

	if (want == XM_PKT_ERR_NONE) {
		cr_assert_eq(r, 0, "len %u: %d (%s)", n, r,
			     xm_pkt_strerror(pi.pi_err));
		return;
	}
	cr_assert_eq(r, -EBADMSG, "len %u: got %d, want %s", n, r,
		     xm_pkt_strerror(want));
	cr_assert_eq(pi.pi_err, want, "len %u: got \"%s\", want \"%s\"", n,
		     xm_pkt_strerror(pi.pi_err), xm_pkt_strerror(want));
}

/*
 * Known frames, computed independently and confirmed with tcpdump -vvv.
 * frame_udp4: 198.18.0.1:1024 -> 198.18.0.2:9, id 0x1234, DF, 16 bytes
 * "xmbuf-pkt-test!!", padded to 60.
 */
static const uint8_t frame_udp4[60] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,
	0x9c, 0x65, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x04, 0x00,
	0x00, 0x09, 0x00, 0x18, 0x40, 0xe9, 0x78, 0x6d, 0x62, 0x75, 0x66, 0x2d,
	0x70, 0x6b, 0x74, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x21, 0x21, 0x00, 0x00,
};
/* VLAN 100; [2001:db8::1]:4000 -> [2001:db8::2]:5000, flow 0x12345, "hello" */
static const uint8_t frame_udp6_vlan[71] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x81, 0x00, 0x00, 0x64, 0x86, 0xdd, 0x60, 0x01, 0x23, 0x45, 0x00, 0x0d,
	0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0f, 0xa0,
	0x13, 0x88, 0x00, 0x0d, 0x3d, 0x65, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};
/*
 * S-tag 200, C-tag 0x2064; 198.18.0.1:40000 -> 198.18.1.1:80 SYN, tos 0x10,
 * ttl 255, id 7, DF, seq 0x01020304, win 64240, options mss 1460, sackOK,
 * TS val 0xaabbccdd ecr 0, nop, wscale 7.
 */
static const uint8_t frame_tcp4_qinq[82] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x88, 0xa8, 0x00, 0xc8, 0x81, 0x00, 0x20, 0x64, 0x08, 0x00, 0x45, 0x10,
	0x00, 0x3c, 0x00, 0x07, 0x40, 0x00, 0xff, 0x06, 0xee, 0x7d, 0xc6, 0x12,
	0x00, 0x01, 0xc6, 0x12, 0x01, 0x01, 0x9c, 0x40, 0x00, 0x50, 0x01, 0x02,
	0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0xa7, 0xb8,
	0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0xaa, 0xbb,
	0xcc, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* ---------------------------------------------------------- checksums */

Test(pkt, csum_rfc1071_example)
{
	/* RFC 1071 section 3: the sum is 0xddf2, the checksum its complement. */
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03,
				      0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c = xm_pkt_csum_fold(xm_pkt_csum_partial(b, 8, 0));

	cr_assert_eq(ntohs(c), 0x220d);
	cr_assert_eq(ntohs((uint16_t)~c), 0xddf2);
	/* Split at an even offset, the halves chain to the same sum. */
	c = xm_pkt_csum_fold(xm_pkt_csum_partial(b + 4, 4,
						 xm_pkt_csum_partial(b, 4, 0)));
	cr_assert_eq(ntohs(c), 0x220d);
}

Test(pkt, csum_ipv4_textbook_header)
{
	/* 192.168.0.1 -> 192.168.0.199, UDP, total length 115: 0xb861. */
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
			  0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
			  0xc0, 0xa8, 0x00, 0xc7 };

	cr_assert_eq(xm_pkt_ipv4_csum(h, 20), 0, "a good header sums to 0");
	h[10] = h[11] = 0;
	cr_assert_eq(ntohs(xm_pkt_ipv4_csum(h, 20)), 0xb861);
}

Test(pkt, csum_partial_matches_reference)
{
	static uint8_t buf[1 + 1600];

	for (uint32_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	/* Every length to 300 and some long ones, aligned and not. */
	for (uint32_t len = 0; len < 1600; len += len < 300 ? 1 : 97) {
		for (int mis = 0; mis < 2; mis++) {
			const uint8_t *p = buf + mis;
			uint16_t got = xm_pkt_csum_fold(
				xm_pkt_csum_partial(p, len, 0));

			cr_assert_eq(ntohs(got), ref_csum(p, len),
				     "len %u misaligned %d", len, mis);
		}
		/* Chained at an even split: same as in one go. */
		if (len >= 2) {
			uint32_t cut = (len / 2) & ~1u;
			uint32_t s = xm_pkt_csum_partial(buf, cut, 0);

			s = xm_pkt_csum_partial(buf + cut, len - cut, s);
			cr_assert_eq(ntohs(xm_pkt_csum_fold(s)),
				     ref_csum(buf, len), "chain len %u", len);
		}
	}
	/* Sums near the carry: all 0xff bytes. */
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(ntohs(xm_pkt_csum_fold(xm_pkt_csum_partial(buf, 1600, 0))),
		     ref_csum(buf, 1600));
}

Test(pkt, csum_pseudo_headers_match_reference)
{
	uint8_t ph[40] = { 0 };
	union xm_pkt_addr s, d;

	v4addr(&s, 0xc6120001);
	v4addr(&d, 0xc61200fe);
	memcpy(ph, &s.a_v4, 4);
	memcpy(ph + 4, &d.a_v4, 4);
	ph[9] = 6;
	put16(ph + 10, 1480);
	cr_assert_eq(ntohs(xm_pkt_csum_fold(xm_pkt_pseudo_v4(s.a_v4, d.a_v4, 6,
							     1480))),
		     ref_csum(ph, 12));
	v6addr(&s, 1);
	v6addr(&d, 0xfe);
	memset(ph, 0, sizeof(ph));
	memcpy(ph, s.a_v6, 16);
	memcpy(ph + 16, d.a_v6, 16);
	ph[33] = 0x01;				/* length 0x00012345 */
	ph[34] = 0x23;
	ph[35] = 0x45;
	ph[39] = 58;
	cr_assert_eq(ntohs(xm_pkt_csum_fold(xm_pkt_pseudo_v6(s.a_v6, d.a_v6, 58,
							     0x12345))),
		     ref_csum(ph, 40));
}

Test(pkt, csum_replace_equals_recompute)
{
	uint8_t buf[64];

	for (int iter = 0; iter < 3000; iter++) {
		uint16_t c0, c1, o16, n16;
		uint32_t o32, n32, off;
		uint8_t ob[16], nb[16];

		for (int i = 0; i < 64; i++)
			buf[i] = (uint8_t)rnd();
		buf[0] = 0x45;			/* never all zero */
		c0 = xm_pkt_csum_fold(xm_pkt_csum_partial(buf, 64, 0));

		off = 2 + (rnd() % 31) * 2;
		memcpy(&o16, buf + off, 2);
		n16 = (uint16_t)rnd();
		memcpy(buf + off, &n16, 2);
		c1 = xm_pkt_csum_fold(xm_pkt_csum_partial(buf, 64, 0));
		cr_assert_eq(xm_pkt_csum_replace16(c0, o16, n16), c1,
			     "replace16 iter %d", iter);

		off = 4 + (rnd() % 14) * 4;
		memcpy(&o32, buf + off, 4);
		n32 = rnd();
		memcpy(buf + off, &n32, 4);
		c0 = c1;
		c1 = xm_pkt_csum_fold(xm_pkt_csum_partial(buf, 64, 0));
		cr_assert_eq(xm_pkt_csum_replace32(c0, o32, n32), c1,
			     "replace32 iter %d", iter);

		off = 2 + (rnd() % 23) * 2;
		memcpy(ob, buf + off, 16);
		for (int i = 0; i < 16; i++)
			nb[i] = (uint8_t)rnd();
		memcpy(buf + off, nb, 16);
		c0 = c1;
		c1 = xm_pkt_csum_fold(xm_pkt_csum_partial(buf, 64, 0));
		cr_assert_eq(xm_pkt_csum_replace(c0, ob, nb, 16), c1,
			     "replace iter %d", iter);
	}
}

/* ----------------------------------------------------------- builders */

Test(pkt, build_frame_udp4_known)
{
	static const char payload[] = "xmbuf-pkt-test!!";
	struct xm_pkt_tmpl t = tmpl(4, 0, XM_PKT_IPPROTO_UDP, payload, 16);
	uint8_t buf[128];

	t.t_ip.ip_id = 0x1234;
	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(xm_pkt_build_frame(buf, sizeof(buf), &t), 60);
	cr_assert_arr_eq(buf, frame_udp4, 60);
	/* Exactly enough room works; one byte less changes nothing. */
	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(xm_pkt_build_frame(buf, 59, &t), -ENOSPC);
	for (int i = 0; i < 128; i++)
		cr_assert_eq(buf[i], 0xee);
	cr_assert_eq(xm_pkt_build_frame(buf, 60, &t), 60);
	assert_ref_csums(buf, 60);
}

Test(pkt, build_frame_udp6_vlan_known)
{
	struct xm_pkt_tmpl t = tmpl(6, 1, XM_PKT_IPPROTO_UDP, "hello", 5);
	uint8_t buf[128];

	t.t_sport = 4000;
	t.t_dport = 5000;
	t.t_ip.ip_flowlabel = 0x12345;
	cr_assert_eq(xm_pkt_build_frame(buf, sizeof(buf), &t), 71);
	cr_assert_arr_eq(buf, frame_udp6_vlan, 71);
	cr_assert_eq(xm_pkt_build_frame(buf, 70, &t), -ENOSPC);
	assert_ref_csums(buf, 71);
}

Test(pkt, build_frame_tcp4_qinq_known)
{
	struct xm_pkt_tmpl t = tmpl(4, 2, XM_PKT_IPPROTO_TCP, NULL, 0);
	uint8_t buf[128];

	t.t_eth.eth_vlan_tci[0] = 200;
	t.t_ip.ip_tos = 0x10;
	t.t_ip.ip_ttl = 255;
	t.t_ip.ip_id = 7;
	v4addr(&t.t_ip.ip_dst, 0xc6120101);
	t.t_sport = 40000;
	t.t_dport = 80;
	t.t_tcp.tcp_mss = 1460;
	t.t_tcp.tcp_wscale = 7;
	t.t_tcp.tcp_tsval = 0xaabbccdd;
	t.t_tcp.tcp_opts = XM_PKT_TCPOPT_MSS | XM_PKT_TCPOPT_SACKOK |
			   XM_PKT_TCPOPT_TS | XM_PKT_TCPOPT_WSCALE;
	cr_assert_eq(xm_pkt_build_frame(buf, sizeof(buf), &t), 82);
	cr_assert_arr_eq(buf, frame_tcp4_qinq, 82);
	assert_ref_csums(buf, 82);
}

Test(pkt, build_frame_pads_and_refuses)
{
	struct xm_pkt_tmpl t = tmpl(4, 0, XM_PKT_IPPROTO_UDP, NULL, 1);
	struct xm_pkt_info pi;
	uint8_t buf[128];

	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(xm_pkt_build_frame(buf, sizeof(buf), &t), 60);
	cr_assert_eq(buf[42], 0, "NULL payload is zeros");
	for (int i = 43; i < 60; i++)
		cr_assert_eq(buf[i], 0, "padding at %d", i);
	cr_assert_eq(xm_pkt_parse(buf, 60, &pi), 0);
	cr_assert(pi.pi_flags & XM_PKT_F_L2_PAD);
	cr_assert_eq(pi.pi_payload_len, 1);
	cr_assert(xm_pkt_csum_ok(buf, &pi));

	cr_assert_eq(xm_pkt_build_frame(NULL, 128, &t), -EINVAL);
	cr_assert_eq(xm_pkt_build_frame(buf, 128, NULL), -EINVAL);
	t.t_proto = XM_PKT_IPPROTO_ICMP;
	cr_assert_eq(xm_pkt_build_frame(buf, 128, &t), -EINVAL);
	t.t_proto = XM_PKT_IPPROTO_UDP;
	t.t_ip.ip_version = 5;
	cr_assert_eq(xm_pkt_build_frame(buf, 128, &t), -EINVAL);
	t.t_ip.ip_version = 4;
	t.t_eth.eth_nvlan = 3;
	cr_assert_eq(xm_pkt_build_frame(buf, 128, &t), -EINVAL);
	t.t_eth.eth_nvlan = 0;
	t.t_payload_len = 65535 - 28 + 1;	/* one past IPv4's limit */
	cr_assert_eq(xm_pkt_build_frame(buf, 128, &t), -EINVAL);
	t.t_payload_len = 65535 - 28;
	cr_assert_eq(xm_pkt_build_frame(buf, 128, &t), -ENOSPC);
	t = tmpl(4, 0, XM_PKT_IPPROTO_TCP, NULL, 0);
	t.t_tcp.tcp_opts = 0x10;
	cr_assert_eq(xm_pkt_build_frame(buf, 128, &t), -EINVAL);
}

Test(pkt, build_eth_tags)
{
	struct xm_pkt_eth eth = { 0 };
	uint8_t buf[32];
	static const uint8_t want0[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
					   0x08, 0x06 };
	static const uint8_t want2[22] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
					   0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00,
					   0xe0, 0x14, 0x86, 0xdd };

	memcpy(eth.eth_dst, mac_a, 6);
	memcpy(eth.eth_src, mac_b, 6);
	eth.eth_type = XM_PKT_ETH_P_ARP;
	cr_assert_eq(xm_pkt_build_eth(buf, sizeof(buf), &eth), 14);
	cr_assert_arr_eq(buf, want0, 14);
	eth.eth_type = XM_PKT_ETH_P_IPV6;
	eth.eth_nvlan = 2;
	eth.eth_vlan_tpid[0] = XM_PKT_ETH_P_QINQ;
	eth.eth_vlan_tci[0] = 10;
	eth.eth_vlan_tci[1] = 0xe014;	/* PCP 7, VID 20; tpid 0 is 0x8100 */
	cr_assert_eq(xm_pkt_build_eth(buf, sizeof(buf), &eth), 22);
	cr_assert_arr_eq(buf, want2, 22);
	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(xm_pkt_build_eth(buf, 21, &eth), -ENOSPC);
	cr_assert_eq(buf[0], 0xee);
	cr_assert_eq(xm_pkt_build_eth(buf, 0, &eth), -ENOSPC);
	eth.eth_nvlan = 3;
	cr_assert_eq(xm_pkt_build_eth(buf, sizeof(buf), &eth), -EINVAL);
	cr_assert_eq(xm_pkt_build_eth(NULL, 32, &eth), -EINVAL);
	cr_assert_eq(xm_pkt_build_eth(buf, 32, NULL), -EINVAL);
}

Test(pkt, build_ip_known_headers)
{
	static const uint8_t want4[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	static const uint8_t want6[8] = {
		0x6a, 0xb1, 0x23, 0x45, 0x05, 0xdc, 0x3a, 0x01 };
	struct xm_pkt_ip ip = { 0 };
	uint8_t buf[64];

	ip.ip_version = 4;
	ip.ip_proto = XM_PKT_IPPROTO_UDP;
	ip.ip_frag = XM_PKT_IP_DF;
	ip.ip_payload_len = 0x73 - 20;
	v4addr(&ip.ip_src, 0xc0a80001);
	v4addr(&ip.ip_dst, 0xc0a800c7);
	/* ip_ttl 0 builds the default, 64. */
	cr_assert_eq(xm_pkt_build_ip(buf, sizeof(buf), &ip), 20);
	cr_assert_arr_eq(buf, want4, 20);

	memset(&ip, 0, sizeof(ip));
	ip.ip_version = 6;
	ip.ip_tos = 0xab;
	ip.ip_flowlabel = 0x12345;
	ip.ip_proto = XM_PKT_IPPROTO_ICMPV6;
	ip.ip_ttl = 1;
	ip.ip_payload_len = 1500;
	v6addr(&ip.ip_src, 1);
	v6addr(&ip.ip_dst, 2);
	cr_assert_eq(xm_pkt_build_ip(buf, sizeof(buf), &ip), 40);
	cr_assert_arr_eq(buf, want6, 8);
	cr_assert_arr_eq(buf + 8, ip.ip_src.a_v6, 16);
	cr_assert_arr_eq(buf + 24, ip.ip_dst.a_v6, 16);

	cr_assert_eq(xm_pkt_build_ip(buf, 39, &ip), -ENOSPC);
	ip.ip_flowlabel = 0x100000;
	cr_assert_eq(xm_pkt_build_ip(buf, 64, &ip), -EINVAL);
	ip.ip_flowlabel = 0;
	ip.ip_payload_len = 65536;
	cr_assert_eq(xm_pkt_build_ip(buf, 64, &ip), -EINVAL);
	ip.ip_payload_len = 65535;
	cr_assert_eq(xm_pkt_build_ip(buf, 64, &ip), 40);
	ip.ip_version = 4;
	cr_assert_eq(xm_pkt_build_ip(buf, 64, &ip), -EINVAL);
	ip.ip_payload_len = 65515;
	cr_assert_eq(xm_pkt_build_ip(buf, 19, &ip), -ENOSPC);
	cr_assert_eq(xm_pkt_build_ip(buf, 20, &ip), 20);
	ip.ip_version = 0;
	cr_assert_eq(xm_pkt_build_ip(buf, 64, &ip), -EINVAL);
	cr_assert_eq(xm_pkt_build_ip(NULL, 64, &ip), -EINVAL);
	cr_assert_eq(xm_pkt_build_ip(buf, 64, NULL), -EINVAL);
}

Test(pkt, build_udp_tcp_headers)
{
	static const uint8_t udp[8] = { 0x04, 0x00, 0x00, 0x35, 0x00, 0x10,
					0, 0 };
	struct xm_pkt_tcp tcp = { 0 };
	uint8_t buf[64];
	static const struct {
		uint16_t opts;
		int len;
		uint8_t bytes[8];
	} cases[] = {
		{ 0, 20, { 0 } },
		{ XM_PKT_TCPOPT_MSS, 24, { 2, 4, 0x05, 0xb4 } },
		{ XM_PKT_TCPOPT_SACKOK, 24, { 1, 1, 4, 2 } },
		{ XM_PKT_TCPOPT_TS, 32, { 1, 1, 8, 10, 0, 0, 0, 9 } },
		{ XM_PKT_TCPOPT_WSCALE, 24, { 1, 3, 3, 14 } },
	};

	cr_assert_eq(xm_pkt_build_udp(buf, 8, 1024, 53, 8), 8);
	cr_assert_arr_eq(buf, udp, 8);
	cr_assert_eq(xm_pkt_build_udp(buf, 7, 1024, 53, 8), -ENOSPC);
	cr_assert_eq(xm_pkt_build_udp(buf, 8, 1, 2, 65527), 8);
	cr_assert_eq(xm_pkt_build_udp(buf, 8, 1, 2, 65528), -EINVAL);
	cr_assert_eq(xm_pkt_build_udp(NULL, 8, 1, 2, 0), -EINVAL);

	tcp.tcp_mss = 1460;
	tcp.tcp_tsval = 9;
	tcp.tcp_wscale = 14;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = cases[i].len;

		tcp.tcp_opts = cases[i].opts;
		cr_assert_eq(xm_pkt_build_tcp(buf, sizeof(buf), 1, 2, &tcp), n);
		cr_assert_eq(buf[12] >> 4, n / 4, "data offset");
		if (n > 20)
			cr_assert_arr_eq(buf + 20, cases[i].bytes,
					 n == 32 ? 8 : 4, "opts %#x",
					 cases[i].opts);
		cr_assert_eq(xm_pkt_build_tcp(buf, (uint32_t)n - 1, 1, 2, &tcp),
			     -ENOSPC);
	}
	tcp.tcp_opts = XM_PKT_TCPOPT_WSCALE;
	tcp.tcp_wscale = 15;
	cr_assert_eq(xm_pkt_build_tcp(buf, 64, 1, 2, &tcp), -EINVAL);
	tcp.tcp_opts = 0x20;
	cr_assert_eq(xm_pkt_build_tcp(buf, 64, 1, 2, &tcp), -EINVAL);
	cr_assert_eq(xm_pkt_build_tcp(buf, 64, 1, 2, NULL), -EINVAL);
	cr_assert_eq(xm_pkt_build_tcp(NULL, 64, 1, 2, &tcp), -EINVAL);
}

/* ------------------------------------------------------------- parsing */

Test(pkt, parse_known_frames)
{
	struct xm_pkt_info pi;
	union xm_pkt_addr a;

	cr_assert_eq(xm_pkt_parse(frame_udp4, 60, &pi), 0);
	cr_assert_eq(pi.pi_len, 60);
	cr_assert_eq(pi.pi_flags, XM_PKT_F_IPV4 | XM_PKT_F_L4 | XM_PKT_F_DF |
				  XM_PKT_F_L2_PAD);
	cr_assert_arr_eq(pi.pi_eth.eth_dst, mac_a, 6);
	cr_assert_arr_eq(pi.pi_eth.eth_src, mac_b, 6);
	cr_assert_eq(pi.pi_eth.eth_type, XM_PKT_ETH_P_IPV4);
	cr_assert_eq(pi.pi_l3_off, 14);
	cr_assert_eq(pi.pi_l3_hlen, 20);
	cr_assert_eq(pi.pi_l3_len, 44);
	cr_assert_eq(pi.pi_ip.ip_id, 0x1234);
	cr_assert_eq(pi.pi_ip.ip_ttl, 64);
	cr_assert_eq(pi.pi_proto, XM_PKT_IPPROTO_UDP);
	v4addr(&a, 0xc6120001);
	cr_assert_arr_eq(&pi.pi_ip.ip_src, &a, sizeof(a));
	cr_assert_eq(pi.pi_l4_off, 34);
	cr_assert_eq(pi.pi_l4_hlen, 8);
	cr_assert_eq(pi.pi_sport, 1024);
	cr_assert_eq(pi.pi_dport, 9);
	cr_assert_eq(pi.pi_payload_off, 42);
	cr_assert_eq(pi.pi_payload_len, 16);
	cr_assert(xm_pkt_csum_ok(frame_udp4, &pi));

	cr_assert_eq(xm_pkt_parse(frame_udp6_vlan, 71, &pi), 0);
	cr_assert_eq(pi.pi_eth.eth_nvlan, 1);
	cr_assert_eq(pi.pi_eth.eth_vlan_tpid[0], XM_PKT_ETH_P_VLAN);
	cr_assert_eq(pi.pi_eth.eth_vlan_tci[0], 100);
	cr_assert_eq(pi.pi_eth.eth_type, XM_PKT_ETH_P_IPV6);
	cr_assert_eq(pi.pi_l3_off, 18);
	cr_assert_eq(pi.pi_l3_hlen, 40);
	cr_assert_eq(pi.pi_ip.ip_flowlabel, 0x12345);
	cr_assert_eq(pi.pi_ip.ip_ttl, 64);
	cr_assert_eq(pi.pi_sport, 4000);
	cr_assert_eq(pi.pi_dport, 5000);
	cr_assert_eq(pi.pi_payload_len, 5);
	cr_assert_eq(pi.pi_flags, XM_PKT_F_IPV6 | XM_PKT_F_L4);
	cr_assert(xm_pkt_csum_ok(frame_udp6_vlan, &pi));

	cr_assert_eq(xm_pkt_parse(frame_tcp4_qinq, 82, &pi), 0);
	cr_assert_eq(pi.pi_eth.eth_nvlan, 2);
	cr_assert_eq(pi.pi_eth.eth_vlan_tpid[0], XM_PKT_ETH_P_QINQ);
	cr_assert_eq(pi.pi_eth.eth_vlan_tci[1], 0x2064);
	cr_assert_eq(pi.pi_l3_off, 22);
	cr_assert_eq(pi.pi_ip.ip_tos, 0x10);
	cr_assert_eq(pi.pi_l4_hlen, 40);
	cr_assert_eq(pi.pi_tcp_flags, XM_PKT_TCP_SYN);
	cr_assert_eq(pi.pi_sport, 40000);
	cr_assert_eq(pi.pi_payload_off, 82);
	cr_assert_eq(pi.pi_payload_len, 0);
	cr_assert(xm_pkt_csum_ok(frame_tcp4_qinq, &pi));
}

struct rt_param {
	int version;
	int nvlan;
};

ParameterizedTestParameters(pkt, round_trip)
{
	static struct rt_param p[] = {
		{ 4, 0 }, { 4, 1 }, { 4, 2 }, { 6, 0 }, { 6, 1 }, { 6, 2 },
	};

	return cr_make_param_array(struct rt_param, p, sizeof(p) / sizeof(p[0]));
}

ParameterizedTest(struct rt_param *p, pkt, round_trip)
{
	static const uint32_t sizes[] = { 0, 1, 17, 1400, 8900 };
	static uint8_t payload[9000], buf[9100];
	struct xm_pkt_info pi;

	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	for (int proto = 0; proto < 2; proto++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			uint8_t l4p = proto ? XM_PKT_IPPROTO_TCP
					    : XM_PKT_IPPROTO_UDP;
			struct xm_pkt_tmpl t = tmpl(p->version, p->nvlan, l4p,
						    payload, sizes[s]);
			uint32_t l2 = 14 + 4 * (uint32_t)p->nvlan;
			uint32_t l3 = p->version == 4 ? 20 : 40;
			uint32_t l4 = proto ? 32 : 8;
			int n;

			t.t_ip.ip_tos = 0x2e;
			t.t_ip.ip_id = (uint16_t)(s + 1);
			t.t_ip.ip_flowlabel = p->version == 6 ? 0xabcde : 0;
			t.t_tcp.tcp_flags = XM_PKT_TCP_ACK | XM_PKT_TCP_PSH;
			t.t_tcp.tcp_opts = XM_PKT_TCPOPT_TS;
			n = xm_pkt_build_frame(buf, sizeof(buf), &t);
			cr_assert_gt(n, 0);
			cr_assert_eq(xm_pkt_parse(buf, (uint32_t)n, &pi), 0);
			cr_assert_eq(pi.pi_eth.eth_nvlan, p->nvlan);
			for (int v = 0; v < p->nvlan; v++)
				cr_assert_eq(pi.pi_eth.eth_vlan_tci[v],
					     t.t_eth.eth_vlan_tci[v]);
			cr_assert_arr_eq(pi.pi_eth.eth_dst, mac_a, 6);
			cr_assert_eq(pi.pi_l3_off, l2);
			cr_assert_eq(pi.pi_l3_hlen, l3);
			cr_assert_eq(pi.pi_ip.ip_version, p->version);
			cr_assert_eq(pi.pi_ip.ip_tos, 0x2e);
			cr_assert_eq(pi.pi_ip.ip_flowlabel,
				     t.t_ip.ip_flowlabel);
			if (p->version == 4)
				cr_assert_eq(pi.pi_ip.ip_id, s + 1);
			cr_assert_arr_eq(&pi.pi_ip.ip_src, &t.t_ip.ip_src,
					 sizeof(t.t_ip.ip_src));
			cr_assert_arr_eq(&pi.pi_ip.ip_dst, &t.t_ip.ip_dst,
					 sizeof(t.t_ip.ip_dst));
			cr_assert_eq(pi.pi_proto, l4p);
			cr_assert_eq(pi.pi_l3_len, l3 + l4 + sizes[s]);
			cr_assert_eq(pi.pi_l4_off, l2 + l3);
			cr_assert_eq(pi.pi_l4_hlen, l4);
			cr_assert_eq(pi.pi_sport, 1024);
			cr_assert_eq(pi.pi_dport, 9);
			if (proto)
				cr_assert_eq(pi.pi_tcp_flags,
					     XM_PKT_TCP_ACK | XM_PKT_TCP_PSH);
			cr_assert_eq(pi.pi_payload_off, l2 + l3 + l4);
			cr_assert_eq(pi.pi_payload_len, sizes[s]);
			cr_assert_arr_eq(buf + pi.pi_payload_off, payload,
					 sizes[s]);
			cr_assert(!(pi.pi_flags & XM_PKT_F_FRAG));
			assert_ref_csums(buf, (uint32_t)n);
		}
	}
}

Test(pkt, truncated_at_every_length)
{
	static const struct {
		const uint8_t *f;
		uint32_t len;
		uint32_t vlan_end, ip_end, pkt_end;
	} cases[] = {
		{ frame_udp4, 60, 14, 34, 58 },
		{ frame_udp6_vlan, 71, 18, 58, 71 },
		{ frame_tcp4_qinq, 82, 22, 42, 82 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (uint32_t n = 0; n <= cases[c].len; n++) {
			enum xm_pkt_err want;

			if (n < 14)
				want = XM_PKT_ERR_TRUNC_ETH;
			else if (n < cases[c].vlan_end)
				want = XM_PKT_ERR_TRUNC_VLAN;
			else if (n < cases[c].ip_end)
				want = XM_PKT_ERR_TRUNC_IP;
			else if (n < cases[c].pkt_end)
				want = XM_PKT_ERR_BAD_TOTLEN;
			else
				want = XM_PKT_ERR_NONE;
			assert_reason(cases[c].f, n, want);
		}
	}
}

/* Shortens the IP packet (length fields too) to n bytes of IP. */
static uint32_t shrink_ip(uint8_t *f, const struct xm_pkt_info *pi,
			  uint32_t n)
{
	uint8_t *ip = f + pi->pi_l3_off;

	if (pi->pi_ip.ip_version == 4)
		put16(ip + 2, (uint16_t)n);
	else
		put16(ip + 4, (uint16_t)(n - 40));
	return pi->pi_l3_off + n;
}

Test(pkt, l4_cut_inside_a_consistent_ip_packet)
{
	static const uint8_t *frames[] = { frame_udp4, frame_udp6_vlan,
					   frame_tcp4_qinq };
	static const uint32_t lens[] = { 58, 71, 82 };
	uint8_t f[128];
	struct xm_pkt_info pi;

	for (int c = 0; c < 3; c++) {
		xm_pkt_parse(frames[c], lens[c], &pi);
		for (uint32_t k = 0; k < pi.pi_l3_len - pi.pi_l3_hlen; k++) {
			enum xm_pkt_err want;
			uint32_t n;

			memcpy(f, frames[c], lens[c]);
			n = shrink_ip(f, &pi, pi.pi_l3_hlen + k);
			if (k < pi.pi_l4_hlen)
				want = XM_PKT_ERR_TRUNC_L4;
			else if (pi.pi_proto == XM_PKT_IPPROTO_UDP)
				want = XM_PKT_ERR_BAD_UDP_LEN;	/* length > IP */
			else
				want = XM_PKT_ERR_NONE;
			assert_reason(f, n, want);
		}
	}
}

Test(pkt, ipv4_bad_ihl_totlen_version)
{
	uint8_t f[60];

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		memcpy(f, frame_udp4, 60);
		f[14] = (uint8_t)(0x40 | ihl);
		assert_reason(f, 60, XM_PKT_ERR_BAD_IHL);
	}
	memcpy(f, frame_udp4, 60);
	f[14] = 0x4f;				/* 60 bytes of header: not there */
	assert_reason(f, 60, XM_PKT_ERR_TRUNC_IP);
	for (uint16_t tl = 0; tl < 20; tl++) {
		memcpy(f, frame_udp4, 60);
		put16(f + 16, tl);
		assert_reason(f, 60, XM_PKT_ERR_BAD_TOTLEN);
	}
	memcpy(f, frame_udp4, 60);
	f[14] = 0x46;				/* total length 44 < IHL 24 + ... */
	put16(f + 16, 23);
	assert_reason(f, 60, XM_PKT_ERR_BAD_TOTLEN);
	for (uint32_t tl = 47; tl <= 65535; tl += tl < 100 ? 1 : 6553) {
		memcpy(f, frame_udp4, 60);
		put16(f + 16, (uint16_t)tl);
		assert_reason(f, 60, XM_PKT_ERR_BAD_TOTLEN);
	}
	memcpy(f, frame_udp4, 60);
	f[14] = 0x65;
	assert_reason(f, 60, XM_PKT_ERR_BAD_VERSION);
	memcpy(f, frame_udp6_vlan, 60);
	f[18] = 0x45;
	assert_reason(f, 60, XM_PKT_ERR_BAD_VERSION);
}

Test(pkt, ipv4_options_parsed)
{
	uint8_t f[80];
	struct xm_pkt_info pi;

	/* Move the UDP header 8 bytes on: IHL 7, options NOP NOP NOP ... EOL. */
	memcpy(f, frame_udp4, 34);
	memset(f + 34, 1, 7);
	f[41] = 0;
	memcpy(f + 42, frame_udp4 + 34, 24);
	f[14] = 0x47;
	put16(f + 16, 52);
	cr_assert_eq(xm_pkt_parse(f, 66, &pi), 0);
	cr_assert(pi.pi_flags & XM_PKT_F_IPOPTS);
	cr_assert_eq(pi.pi_l3_hlen, 28);
	cr_assert_eq(pi.pi_l4_off, 42);
	cr_assert_eq(pi.pi_sport, 1024);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	assert_ref_csums(f, 66);
}

Test(pkt, vlan_depth_and_tpids)
{
	uint8_t f[90];
	struct xm_pkt_info pi;

	/* Three tags: one too many. */
	memcpy(f, frame_tcp4_qinq, 20);
	put16(f + 20, XM_PKT_ETH_P_VLAN);
	put16(f + 22, 5);
	memcpy(f + 24, frame_tcp4_qinq + 20, 62);
	assert_reason(f, 86, XM_PKT_ERR_VLAN_DEPTH);
	/* Pre-standard 0x9100 outer tag. */
	memcpy(f, frame_tcp4_qinq, 82);
	put16(f + 12, XM_PKT_ETH_P_QINQ_OLD);
	cr_assert_eq(xm_pkt_parse(f, 82, &pi), 0);
	cr_assert_eq(pi.pi_eth.eth_vlan_tpid[0], XM_PKT_ETH_P_QINQ_OLD);
}

Test(pkt, tcp_data_offset_and_udp_length)
{
	uint8_t f[90];
	struct xm_pkt_info pi;

	for (uint8_t doff = 0; doff < 5; doff++) {
		memcpy(f, frame_tcp4_qinq, 82);
		f[22 + 20 + 12] = (uint8_t)(doff << 4);
		assert_reason(f, 82, XM_PKT_ERR_BAD_TCP_DOFF);
	}
	memcpy(f, frame_tcp4_qinq, 82);
	f[22 + 20 + 12] = 0xb0;			/* 44 bytes: past the packet */
	assert_reason(f, 82, XM_PKT_ERR_TRUNC_L4);
	for (uint16_t ul = 0; ul < 8; ul++) {
		memcpy(f, frame_udp4, 60);
		put16(f + 38, ul);
		assert_reason(f, 60, XM_PKT_ERR_BAD_UDP_LEN);
	}
	memcpy(f, frame_udp4, 60);
	put16(f + 38, 25);
	assert_reason(f, 60, XM_PKT_ERR_BAD_UDP_LEN);
	/* Shorter than the IP payload is allowed: the rest is ignored. */
	memcpy(f, frame_udp4, 60);
	put16(f + 38, 10);
	cr_assert_eq(xm_pkt_parse(f, 60, &pi), 0);
	cr_assert_eq(pi.pi_payload_len, 2);
}

/* An Ethernet + IP frame with `rest` after the fixed header. */
static uint32_t raw_frame(uint8_t *f, int version, uint8_t proto,
			  uint16_t frag, const uint8_t *rest, uint32_t rest_len)
{
	struct xm_pkt_eth eth = { 0 };
	struct xm_pkt_ip ip = { 0 };
	int l2, l3;

	memcpy(eth.eth_dst, mac_a, 6);
	memcpy(eth.eth_src, mac_b, 6);
	eth.eth_type = version == 4 ? XM_PKT_ETH_P_IPV4 : XM_PKT_ETH_P_IPV6;
	ip.ip_version = (uint8_t)version;
	ip.ip_proto = proto;
	ip.ip_frag = frag;
	ip.ip_payload_len = rest_len;
	if (version == 4) {
		v4addr(&ip.ip_src, 0xc6120001);
		v4addr(&ip.ip_dst, 0xc6120002);
	} else {
		v6addr(&ip.ip_src, 1);
		v6addr(&ip.ip_dst, 2);
	}
	l2 = xm_pkt_build_eth(f, 64, &eth);
	l3 = xm_pkt_build_ip(f + l2, 64, &ip);
	memcpy(f + l2 + l3, rest, rest_len);
	return (uint32_t)(l2 + l3) + rest_len;
}

/*
 * IPv6 extension headers of 8 bytes each (AH: length 0, 8 bytes too),
 * chained in order, then the upper header `upper`; returns the bytes.
 */
static uint32_t ext_chain(uint8_t *rest, const uint8_t *types, int n,
			  uint8_t upper)
{
	uint32_t off = 0;

	for (int i = 0; i < n; i++) {
		memset(rest + off, 0, 8);
		rest[off] = i + 1 < n ? types[i + 1] : upper;
		if (types[i] == XM_PKT_IPPROTO_HOPOPTS ||
		    types[i] == XM_PKT_IPPROTO_DSTOPTS) {
			rest[off + 2] = 1;	/* PadN, 4 bytes */
			rest[off + 3] = 4;
		}
		if (types[i] == XM_PKT_IPPROTO_ROUTING)
			rest[off + 2] = 4;	/* SRH, no segments left */
		off += 8;
	}
	return off;
}

/* A UDP header and 16 bytes at p. */
static uint32_t udp_at(uint8_t *p)
{
	put16(p, 5353);
	put16(p + 2, 53);
	put16(p + 4, 24);
	put16(p + 6, 0);
	for (int i = 0; i < 16; i++)
		p[8 + i] = (uint8_t)(0xa0 + i);
	return 24;
}

/* An IPv6 frame with extension headers types[0..n), then UDP. */
static uint32_t chain_frame(uint8_t *f, uint8_t *rest, const uint8_t *types,
			    int n)
{
	uint32_t r = ext_chain(rest, types, n, XM_PKT_IPPROTO_UDP);

	r += udp_at(rest + r);
	return raw_frame(f, 6, types[0], 0, rest, r);
}

/*
 * An IPv6 UDP frame behind a type 2 routing header (Mobile IPv6): one
 * address (v6addr 0x99), one segment left.  rest: rest_size >= 48.
 */
static uint32_t routing2_frame(uint8_t *f, uint8_t *rest, size_t rest_size)
{
	uint32_t r;

	memset(rest, 0, rest_size);
	rest[0] = XM_PKT_IPPROTO_UDP;
	rest[1] = 2;
	rest[2] = 2;
	rest[3] = 1;
	v6addr((union xm_pkt_addr *)(rest + 8), 0x99);
	r = 24 + udp_at(rest + 24);
	return raw_frame(f, 6, XM_PKT_IPPROTO_ROUTING, 0, rest, r);
}

Test(pkt, ipv6_extension_header_chains)
{
	static const uint8_t chain[] = {
		XM_PKT_IPPROTO_HOPOPTS, XM_PKT_IPPROTO_ROUTING,
		XM_PKT_IPPROTO_FRAGMENT, XM_PKT_IPPROTO_AH,
		XM_PKT_IPPROTO_DSTOPTS,
	};
	uint8_t rest[256], f[512];
	struct xm_pkt_info pi;
	uint32_t r, n;

	r = ext_chain(rest, chain, 5, XM_PKT_IPPROTO_UDP);
	r += udp_at(rest + r);
	n = raw_frame(f, 6, XM_PKT_IPPROTO_HOPOPTS, 0, rest, r);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0, "%s",
		     xm_pkt_strerror(pi.pi_err));
	cr_assert_eq(pi.pi_nexthdrs, 5);
	cr_assert(pi.pi_flags & XM_PKT_F_EXTHDRS);
	cr_assert(!(pi.pi_flags & XM_PKT_F_FRAG), "atomic fragment");
	cr_assert_eq(pi.pi_ip.ip_proto, XM_PKT_IPPROTO_HOPOPTS);
	cr_assert_eq(pi.pi_proto, XM_PKT_IPPROTO_UDP);
	cr_assert_eq(pi.pi_l3_hlen, 40 + 40);
	cr_assert_eq(pi.pi_l4_off, 14 + 80);
	cr_assert_eq(pi.pi_sport, 5353);
	cr_assert_eq(pi.pi_payload_len, 16);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	assert_ref_csums(f, n);
	/* Cut anywhere inside the chain (lengths kept consistent). */
	for (uint32_t k = 0; k < 40; k++) {
		uint8_t g[512];

		memcpy(g, f, n);
		assert_reason(g, shrink_ip(g, &pi, 40 + k),
			      XM_PKT_ERR_TRUNC_EXTHDR);
	}
	/* A header length past the payload. */
	memcpy(rest + 8 + 1, "\x40", 1);
	n = raw_frame(f, 6, XM_PKT_IPPROTO_HOPOPTS, 0, rest, r);
	assert_reason(f, n, XM_PKT_ERR_TRUNC_EXTHDR);

	/* Hop-by-hop anywhere but first. */
	{
		static const uint8_t bad[] = { XM_PKT_IPPROTO_DSTOPTS,
					       XM_PKT_IPPROTO_HOPOPTS };

		n = chain_frame(f, rest, bad, 2);
		assert_reason(f, n, XM_PKT_ERR_BAD_EXTHDR);
	}
	/* Two fragment headers. */
	{
		static const uint8_t bad[] = { XM_PKT_IPPROTO_FRAGMENT,
					       XM_PKT_IPPROTO_FRAGMENT };

		n = chain_frame(f, rest, bad, 2);
		assert_reason(f, n, XM_PKT_ERR_BAD_EXTHDR);
	}
	/* ESP ends the walk: no L4, the payload is what follows. */
	r = ext_chain(rest, chain, 1, XM_PKT_IPPROTO_ESP);
	memset(rest + r, 0x5a, 32);
	n = raw_frame(f, 6, XM_PKT_IPPROTO_HOPOPTS, 0, rest, r + 32);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_proto, XM_PKT_IPPROTO_ESP);
	cr_assert(!(pi.pi_flags & XM_PKT_F_L4));
	cr_assert_eq(pi.pi_payload_off, 14 + 48);
	cr_assert_eq(pi.pi_payload_len, 32);
	/* No next header: nothing follows, nothing is wrong. */
	r = ext_chain(rest, chain, 1, XM_PKT_IPPROTO_NONE);
	n = raw_frame(f, 6, XM_PKT_IPPROTO_HOPOPTS, 0, rest, r);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_payload_len, 0);
}

Test(pkt, ipv6_chain_length_limit)
{
	uint8_t types[XM_PKT_MAX_EXTHDRS + 1], rest[256], f[512];
	struct xm_pkt_info pi;
	uint32_t n;

	memset(types, XM_PKT_IPPROTO_DSTOPTS, sizeof(types));
	n = chain_frame(f, rest, types, XM_PKT_MAX_EXTHDRS);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_nexthdrs, XM_PKT_MAX_EXTHDRS);
	cr_assert_eq(pi.pi_sport, 5353);

	n = chain_frame(f, rest, types, XM_PKT_MAX_EXTHDRS + 1);
	assert_reason(f, n, XM_PKT_ERR_EXTHDR_TOO_LONG);
}

Test(pkt, ipv6_routing_header_final_destination)
{
	uint8_t rest[128], f[256];
	struct xm_pkt_info pi;
	uint32_t n;

	n = routing2_frame(f, rest, sizeof(rest));
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_csum_dst_off, 14 + 40 + 8);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	cr_assert(ref_l4_ok(f + 14, 6, XM_PKT_IPPROTO_UDP, f + pi.pi_l4_off,
			    24, f + 14 + 48),
		  "pseudo-header uses the routing header's address");
	cr_assert(!ref_l4_ok(f + 14, 6, XM_PKT_IPPROTO_UDP, f + pi.pi_l4_off,
			     24, NULL));
	cr_assert(xm_pkt_csum_ok(f, &pi));
}

Test(pkt, ipv4_fragments)
{
	uint8_t rest[256], f[512];
	struct xm_pkt_info pi;
	uint32_t n;

	memset(rest, 0, sizeof(rest));
	udp_at(rest);
	put16(rest + 4, 200);			/* the whole datagram */
	/* First fragment: ports are there. */
	n = raw_frame(f, 4, XM_PKT_IPPROTO_UDP, XM_PKT_IP_MF, rest, 64);
	put16(f + 18, 0xbeef);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_flags & (XM_PKT_F_FRAG | XM_PKT_F_FRAG_FIRST |
				    XM_PKT_F_L4),
		     XM_PKT_F_FRAG | XM_PKT_F_FRAG_FIRST | XM_PKT_F_L4);
	cr_assert_eq(pi.pi_frag_id, 0xbeef);
	cr_assert_eq(pi.pi_frag_off, 0);
	cr_assert_eq(pi.pi_sport, 5353);
	cr_assert_eq(pi.pi_payload_len, 56);
	/* Only the IPv4 header checksum is checkable in a fragment. */
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	cr_assert(xm_pkt_csum_ok(f, &pi));
	cr_assert_eq(be16(f + 34 + 6), 0, "L4 checksum left alone");
	/* A later fragment: no L4 header, payload is the data. */
	n = raw_frame(f, 4, XM_PKT_IPPROTO_UDP, 8, rest, 136);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert(pi.pi_flags & XM_PKT_F_FRAG);
	cr_assert(!(pi.pi_flags & (XM_PKT_F_FRAG_FIRST | XM_PKT_F_L4)));
	cr_assert_eq(pi.pi_frag_off, 64);
	cr_assert_eq(pi.pi_sport, 0);
	cr_assert_eq(pi.pi_payload_off, 34);
	cr_assert_eq(pi.pi_payload_len, 136);
	/* Reassembly past 65535 bytes. */
	n = raw_frame(f, 4, XM_PKT_IPPROTO_UDP, 8189, rest, 24);
	assert_reason(f, n, XM_PKT_ERR_BAD_FRAG);
	n = raw_frame(f, 4, XM_PKT_IPPROTO_UDP, 8189, rest, 16);
	assert_reason(f, n, XM_PKT_ERR_NONE);
	/* A last fragment ending exactly at 65535 is legal. */
	n = raw_frame(f, 4, XM_PKT_IPPROTO_UDP, 8189, rest, 23);
	assert_reason(f, n, XM_PKT_ERR_NONE);
	/* A non-last fragment that is not a multiple of 8. */
	n = raw_frame(f, 4, XM_PKT_IPPROTO_UDP, XM_PKT_IP_MF, rest, 63);
	assert_reason(f, n, XM_PKT_ERR_BAD_FRAG);
	/* A first fragment too short for TCP's header (RFC 1858). */
	n = raw_frame(f, 4, XM_PKT_IPPROTO_TCP, XM_PKT_IP_MF, rest, 16);
	assert_reason(f, n, XM_PKT_ERR_TRUNC_L4);
}

Test(pkt, ipv6_fragments)
{
	static const uint8_t frag[] = { XM_PKT_IPPROTO_FRAGMENT };
	uint8_t rest[256], f[512];
	struct xm_pkt_info pi;
	uint32_t r, n;

	r = ext_chain(rest, frag, 1, XM_PKT_IPPROTO_UDP);
	rest[3] = 1;				/* offset 0, M */
	rest[4] = 0x12;
	rest[7] = 0x34;
	r += udp_at(rest + r);
	n = raw_frame(f, 6, XM_PKT_IPPROTO_FRAGMENT, 0, rest, r);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert(pi.pi_flags & XM_PKT_F_FRAG_FIRST);
	cr_assert(pi.pi_flags & XM_PKT_F_L4);
	cr_assert_eq(pi.pi_frag_id, 0x12000034);
	cr_assert_eq(pi.pi_dport, 53);

	put16(rest + 2, 1480);			/* offset 1480, last */
	n = raw_frame(f, 6, XM_PKT_IPPROTO_FRAGMENT, 0, rest, r);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_flags & (XM_PKT_F_FRAG | XM_PKT_F_FRAG_FIRST |
				    XM_PKT_F_L4), XM_PKT_F_FRAG);
	cr_assert_eq(pi.pi_frag_off, 1480);
	cr_assert_eq(pi.pi_proto, XM_PKT_IPPROTO_UDP);
	cr_assert_eq(pi.pi_payload_off, 14 + 48);
	cr_assert_eq(pi.pi_payload_len, 24);

	put16(rest + 2, 1);			/* M with 20 bytes: not 8n */
	n = raw_frame(f, 6, XM_PKT_IPPROTO_FRAGMENT, 0, rest, r - 4);
	assert_reason(f, n, XM_PKT_ERR_BAD_FRAG);
	put16(rest + 2, 65528);			/* past 65535 */
	n = raw_frame(f, 6, XM_PKT_IPPROTO_FRAGMENT, 0, rest, r);
	assert_reason(f, n, XM_PKT_ERR_BAD_FRAG);
	/* Data after the fragment header: r - 8, here 24 bytes. */
	put16(rest + 2, 65512);			/* 65512 + 24: 65536 */
	n = raw_frame(f, 6, XM_PKT_IPPROTO_FRAGMENT, 0, rest, r);
	assert_reason(f, n, XM_PKT_ERR_BAD_FRAG);
	n = raw_frame(f, 6, XM_PKT_IPPROTO_FRAGMENT, 0, rest, r - 1);
	assert_reason(f, n, XM_PKT_ERR_NONE);	/* ends exactly at 65535 */
}

/*
 * A UDP checksum that computes to 0 goes out as 0xffff (RFC 768: 0 means
 * "no checksum"; RFC 8200: IPv6 UDP must carry one).  The payload's first
 * word is solved for: with it 0, the reference gives c = ~S; a word of c
 * brings the sum to 0xffff, whose checksum is 0.  xm_pkt_csum_ok() cannot
 * tell the two apart over IPv4 (0 is "none"), so the wire is checked.
 */
Test(pkt, udp_checksum_of_zero_is_sent_as_ffff)
{
	uint8_t rest[64], f[256];
	struct xm_pkt_info pi;
	uint32_t n, l4;
	uint16_t c;

	for (int version = 4; version <= 6; version += 2) {
		memset(rest, 0, sizeof(rest));
		udp_at(rest);
		put16(rest + 8, 0);
		n = raw_frame(f, version, XM_PKT_IPPROTO_UDP, 0, rest, 24);
		l4 = n - 24;
		c = ref_l4_csum(f + 14, version, XM_PKT_IPPROTO_UDP, f + l4,
				24, NULL);
		put16(f + l4 + 8, c);
		cr_assert_eq(ref_l4_csum(f + 14, version, XM_PKT_IPPROTO_UDP,
					 f + l4, 24, NULL), 0,
			     "IPv%d: the solved payload must sum to 0xffff",
			     version);
		cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
		cr_assert_eq(pi.pi_l4_off, l4);
		put16(f + l4 + 6, 0x1234);	/* filled over, not kept */
		cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
		cr_assert_eq(be16(f + l4 + 6), 0xffff,
			     "IPv%d: a computed 0 went out as %#x", version,
			     be16(f + l4 + 6));
		assert_ref_csums(f, n);
	}
}

Test(pkt, icmp_and_icmpv6)
{
	uint8_t rest[64], f[128];
	struct xm_pkt_info pi;
	uint32_t n;

	memset(rest, 0, sizeof(rest));
	rest[0] = XM_PKT_ICMP_ECHO;
	put16(rest + 4, 0x4242);
	n = raw_frame(f, 4, XM_PKT_IPPROTO_ICMP, 0, rest, 16);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_icmp_type, XM_PKT_ICMP_ECHO);
	cr_assert_eq(pi.pi_icmp_id, 0x4242);
	cr_assert_eq(pi.pi_l4_hlen, 8);
	cr_assert_eq(pi.pi_payload_len, 8);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	assert_ref_csums(f, n);
	n = raw_frame(f, 4, XM_PKT_IPPROTO_ICMP, 0, rest, 7);
	assert_reason(f, n, XM_PKT_ERR_TRUNC_L4);

	rest[0] = XM_PKT_ICMP6_ECHO_REQUEST;
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMPV6, 0, rest, 12);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_icmp_id, 0x4242);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	assert_ref_csums(f, n);
	/* ICMPv6 promises 4 bytes only. */
	rest[0] = 200;
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMPV6, 0, rest, 4);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(pi.pi_l4_hlen, 4);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	assert_ref_csums(f, n);
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMPV6, 0, rest, 3);
	assert_reason(f, n, XM_PKT_ERR_TRUNC_L4);
	/* ICMPv4's number inside IPv6 is just another protocol. */
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMP, 0, rest, 3);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert(!(pi.pi_flags & XM_PKT_F_L4));
}

Test(pkt, non_ip_and_bad_arguments)
{
	uint8_t f[60] = { 0 };
	struct xm_pkt_info pi;
	union xm_pkt_addr a = { 0 };

	memcpy(f, frame_udp4, 12);
	put16(f + 12, XM_PKT_ETH_P_ARP);
	cr_assert_eq(xm_pkt_parse(f, 42, &pi), 0);
	cr_assert_eq(pi.pi_eth.eth_type, XM_PKT_ETH_P_ARP);
	cr_assert_eq(pi.pi_flags, 0);
	cr_assert_eq(pi.pi_payload_off, 14);
	cr_assert_eq(pi.pi_payload_len, 28);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), -EINVAL);
	cr_assert(!xm_pkt_csum_ok(f, &pi));
	cr_assert_eq(xm_pkt_set_addr(f, &pi, XM_PKT_SRC, &a), -EINVAL);
	cr_assert_eq(xm_pkt_set_port(f, &pi, XM_PKT_SRC, 1), -EINVAL);
	/* Bytes of a non-IP frame rewrite plainly. */
	cr_assert_eq(xm_pkt_rewrite(f, &pi, 14, "\x00\x02", 2), 0);

	cr_assert_eq(xm_pkt_parse(NULL, 10, &pi), -EINVAL);
	cr_assert_eq(xm_pkt_parse(f, 10, NULL), -EINVAL);
	cr_assert_eq(xm_pkt_parse(NULL, 0, &pi), -EBADMSG);
	cr_assert_eq(pi.pi_err, XM_PKT_ERR_TRUNC_ETH);
	cr_assert_eq(xm_pkt_parse_ip(f, 0, &pi), -EBADMSG);
	cr_assert_eq(pi.pi_err, XM_PKT_ERR_TRUNC_IP);
	f[0] = 0x50;
	cr_assert_eq(xm_pkt_parse_ip(f, 60, &pi), -EBADMSG);
	cr_assert_eq(pi.pi_err, XM_PKT_ERR_BAD_VERSION);
	cr_assert_eq(xm_pkt_parse_ip(NULL, 1, &pi), -EINVAL);
	cr_assert_eq(xm_pkt_parse_ip(f, 1, NULL), -EINVAL);
	cr_assert_eq(xm_pkt_csum_fill(NULL, &pi), -EINVAL);
	cr_assert_eq(xm_pkt_csum_fill(f, NULL), -EINVAL);
	cr_assert(!xm_pkt_csum_ok(f, NULL));
}

Test(pkt, parse_ip_without_ethernet)
{
	struct xm_pkt_info pi;

	cr_assert_eq(xm_pkt_parse_ip(frame_udp6_vlan + 18, 53, &pi), 0);
	cr_assert_eq(pi.pi_l3_off, 0);
	cr_assert_eq(pi.pi_eth.eth_type, XM_PKT_ETH_P_IPV6);
	cr_assert_eq(pi.pi_l4_off, 40);
	cr_assert_eq(pi.pi_dport, 5000);
	cr_assert(xm_pkt_csum_ok(frame_udp6_vlan + 18, &pi));
	for (uint32_t n = 1; n < 53; n++) {
		uint8_t *c = malloc(n);

		memcpy(c, frame_udp6_vlan + 18, n);
		cr_assert_eq(xm_pkt_parse_ip(c, n, &pi), -EBADMSG);
		cr_assert_eq(pi.pi_err, n < 40 ? XM_PKT_ERR_TRUNC_IP
					       : XM_PKT_ERR_BAD_TOTLEN);
		free(c);
	}
}

Test(pkt, strerror_names_every_reason)
{
	for (int i = 0; i < XM_PKT_ERR_MAX; i++) {
		const char *s = xm_pkt_strerror(i);

		cr_assert_not_null(s);
		cr_assert_str_neq(s, "unknown packet error", "reason %d", i);
		cr_assert_str_eq(xm_pkt_strerror(-i), s);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(s, xm_pkt_strerror(j));
	}
	cr_assert_str_eq(xm_pkt_strerror(XM_PKT_ERR_MAX),
			 "unknown packet error");
	cr_assert_str_eq(xm_pkt_strerror(1000), "unknown packet error");
}

/* ---------------------------------------------------------- rewriting */

struct field {
	uint32_t off;				/* from the frame start */
	uint32_t len;
};

/* Fields a flow-stepping generator rewrites, for the frame pi describes. */
static int rewritable_fields(const struct xm_pkt_info *pi, struct field *fl)
{
	uint32_t l3 = pi->pi_l3_off, l4 = pi->pi_l4_off;
	int n = 0;

	fl[n++] = (struct field){ 0, 6 };		/* MAC */
	if (pi->pi_ip.ip_version == 4) {
		fl[n++] = (struct field){ l3 + 12, 4 };
		fl[n++] = (struct field){ l3 + 16, 4 };
		fl[n++] = (struct field){ l3 + 8, 1 };	/* TTL */
		fl[n++] = (struct field){ l3 + 1, 1 };	/* TOS */
		fl[n++] = (struct field){ l3 + 4, 2 };	/* id */
	} else {
		fl[n++] = (struct field){ l3 + 8, 16 };
		fl[n++] = (struct field){ l3 + 24, 16 };
		fl[n++] = (struct field){ l3 + 7, 1 };	/* hop limit */
		fl[n++] = (struct field){ l3 + 1, 3 };	/* flow label */
		if (pi->pi_csum_dst_off != l3 + 24)
			fl[n++] = (struct field){ pi->pi_csum_dst_off, 16 };
	}
	switch (pi->pi_proto) {
	case XM_PKT_IPPROTO_TCP:
		fl[n++] = (struct field){ l4 + 4, 4 };	/* seq */
		fl[n++] = (struct field){ l4 + 13, 1 };	/* flags */
		fl[n++] = (struct field){ l4 + 14, 2 };	/* window */
		/* fall through */
	case XM_PKT_IPPROTO_UDP:
		fl[n++] = (struct field){ l4, 2 };
		fl[n++] = (struct field){ l4 + 2, 2 };
		break;
	default:
		fl[n++] = (struct field){ l4 + 4, 4 };	/* ICMP id, seq */
		break;
	}
	return n;
}

/*
 * Random rewrites, one after the other, each checked against writing the
 * same bytes into a copy and recomputing every checksum from scratch.
 */
static void random_rewrites(uint8_t *f, uint32_t len, int iters)
{
	static uint8_t ref[2048];
	struct xm_pkt_info pi;
	struct field fl[24];
	uint8_t data[64];
	int nf;

	cr_assert_eq(xm_pkt_parse(f, len, &pi), 0);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	nf = rewritable_fields(&pi, fl);
	for (int it = 0; it < iters; it++) {
		struct field x;

		if (rnd() % 3 == 0 && pi.pi_payload_len > 0) {
			/* Payload bytes at any alignment. */
			x.len = 1 + rnd() % (pi.pi_payload_len < 40 ?
					     pi.pi_payload_len : 40);
			x.off = pi.pi_payload_off +
				rnd() % (pi.pi_payload_len - x.len + 1);
		} else {
			x = fl[rnd() % (uint32_t)nf];
		}
		for (uint32_t i = 0; i < x.len; i++)
			data[i] = (uint8_t)rnd();
		memcpy(ref, f, len);
		memcpy(ref + x.off, data, x.len);
		cr_assert_eq(xm_pkt_csum_fill(ref, &pi), 0);
		cr_assert_eq(xm_pkt_rewrite(f, &pi, x.off, data, x.len), 0);
		cr_assert_arr_eq(f, ref, len, "iter %d: rewrite of %u bytes at "
				 "%u differs from recomputation", it, x.len,
				 x.off);
	}
	assert_ref_csums(f, len);
}

Test(pkt, incremental_rewrites_equal_recomputation)
{
	static uint8_t payload[300];
	uint8_t f[2048], rest[128];
	struct xm_pkt_tmpl t;
	uint32_t n;

	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rnd();
	for (int v = 4; v <= 6; v += 2) {
		for (int proto = 0; proto < 2; proto++) {
			t = tmpl(v, proto, proto ? XM_PKT_IPPROTO_TCP
						 : XM_PKT_IPPROTO_UDP,
				 payload, 37 + 100 * proto);
			n = (uint32_t)xm_pkt_build_frame(f, sizeof(f), &t);
			random_rewrites(f, n, 1500);
		}
	}
	/* ICMP (no pseudo-header) and ICMPv6 echo. */
	memset(rest, 0, sizeof(rest));
	rest[0] = XM_PKT_ICMP_ECHO;
	memcpy(rest + 8, payload, 41);
	n = raw_frame(f, 4, XM_PKT_IPPROTO_ICMP, 0, rest, 49);
	random_rewrites(f, n, 1000);
	rest[0] = XM_PKT_ICMP6_ECHO_REQUEST;
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMPV6, 0, rest, 49);
	random_rewrites(f, n, 1000);
	/* IPv6 with a routing header: the pseudo-header's address moves. */
	n = routing2_frame(f, rest, sizeof(rest));
	random_rewrites(f, n, 1000);
}

Test(pkt, rewrite_to_all_zero_icmp)
{
	/* Regression (found by fuzz_pkt): an all-zero ICMP echo reply needs
	 * checksum 0xffff; RFC 1624 eqn. 3 alone answers 0. */
	uint8_t rest[16] = { 0 }, f[64];
	struct xm_pkt_info pi;
	uint32_t n;

	rest[9] = 0x77;
	n = raw_frame(f, 4, XM_PKT_IPPROTO_ICMP, 0, rest, 10);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	cr_assert_eq(xm_pkt_rewrite(f, &pi, pi.pi_payload_off + 1, "\0", 1), 0);
	cr_assert_eq(be16(f + pi.pi_l4_off + 2), 0xffff);
	cr_assert(xm_pkt_csum_ok(f, &pi));
	assert_ref_csums(f, n);
}

Test(pkt, rewrite_keeps_absent_udp_checksum)
{
	uint8_t f[96];
	struct xm_pkt_info pi;
	union xm_pkt_addr a;

	memcpy(f, frame_udp4, 60);
	put16(f + 40, 0);			/* no checksum (IPv4 only) */
	cr_assert_eq(xm_pkt_parse(f, 60, &pi), 0);
	cr_assert(xm_pkt_csum_ok(f, &pi));
	v4addr(&a, 0xc61300aa);
	cr_assert_eq(xm_pkt_set_addr(f, &pi, XM_PKT_DST, &a), 0);
	cr_assert_eq(xm_pkt_set_port(f, &pi, XM_PKT_SRC, 7777), 0);
	cr_assert_eq(be16(f + 40), 0);
	cr_assert(xm_pkt_csum_ok(f, &pi));
	/* Over IPv6 a zero UDP checksum is wrong. */
	memcpy(f, frame_udp6_vlan, 71);
	put16(f + 64, 0);
	cr_assert_eq(xm_pkt_parse(f, 71, &pi), 0);
	cr_assert(!xm_pkt_csum_ok(f, &pi));
}

Test(pkt, rewrite_refuses_length_protocol_checksum_fields)
{
	static const struct {
		const uint8_t *f;
		uint32_t len;
		uint32_t off;
	} bad[] = {
		{ frame_udp4, 60, 14 },		/* version/IHL */
		{ frame_udp4, 60, 17 },		/* total length */
		{ frame_udp4, 60, 23 },		/* protocol */
		{ frame_udp4, 60, 24 },		/* header checksum */
		{ frame_udp4, 60, 38 },		/* UDP length */
		{ frame_udp4, 60, 41 },		/* UDP checksum */
		{ frame_udp6_vlan, 71, 22 },	/* payload length */
		{ frame_udp6_vlan, 71, 24 },	/* next header */
		{ frame_tcp4_qinq, 82, 54 },	/* data offset */
		{ frame_tcp4_qinq, 82, 59 },	/* TCP checksum */
	};
	struct xm_pkt_info pi;
	uint8_t f[96], data[4] = { 1, 2, 3, 4 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(f, bad[i].f, bad[i].len);
		cr_assert_eq(xm_pkt_parse(f, bad[i].len, &pi), 0);
		/* A wide write that only overlaps the field is refused too. */
		cr_assert_eq(xm_pkt_rewrite(f, &pi, bad[i].off, data, 1),
			     -EINVAL, "case %zu", i);
		cr_assert_eq(xm_pkt_rewrite(f, &pi, bad[i].off - 3, data, 4),
			     -EINVAL, "case %zu", i);
		cr_assert_arr_eq(f, bad[i].f, bad[i].len, "nothing written");
	}
	memcpy(f, frame_udp4, 60);
	xm_pkt_parse(f, 60, &pi);
	cr_assert_eq(xm_pkt_rewrite(f, &pi, 58, data, 3), -EINVAL, "past end");
	cr_assert_eq(xm_pkt_rewrite(f, &pi, 61, data, 0), -EINVAL);
	cr_assert_eq(xm_pkt_rewrite(f, &pi, 60, data, 0), 0);
	cr_assert_eq(xm_pkt_rewrite(f, &pi, 0, NULL, 1), -EINVAL);
	cr_assert_eq(xm_pkt_rewrite(NULL, &pi, 0, data, 1), -EINVAL);
	cr_assert_eq(xm_pkt_rewrite(f, NULL, 0, data, 1), -EINVAL);
	pi.pi_err = XM_PKT_ERR_TRUNC_L4;
	cr_assert_eq(xm_pkt_rewrite(f, &pi, 0, data, 1), -EINVAL);
}

Test(pkt, set_addr_and_port)
{
	uint8_t f[96];
	struct xm_pkt_info pi, re;
	union xm_pkt_addr a;

	memcpy(f, frame_udp6_vlan, 71);
	cr_assert_eq(xm_pkt_parse(f, 71, &pi), 0);
	v6addr(&a, 0x77);
	cr_assert_eq(xm_pkt_set_addr(f, &pi, XM_PKT_SRC, &a), 0);
	cr_assert_eq(xm_pkt_set_port(f, &pi, XM_PKT_DST, 6000), 0);
	cr_assert_arr_eq(&pi.pi_ip.ip_src, &a, sizeof(a));
	cr_assert_eq(pi.pi_dport, 6000);
	cr_assert_eq(xm_pkt_parse(f, 71, &re), 0);
	cr_assert_arr_eq(&re.pi_ip.ip_src, &a, sizeof(a));
	cr_assert_eq(re.pi_dport, 6000);
	assert_ref_csums(f, 71);

	memcpy(f, frame_tcp4_qinq, 82);
	cr_assert_eq(xm_pkt_parse(f, 82, &pi), 0);
	v4addr(&a, 0xc61201fe);
	cr_assert_eq(xm_pkt_set_addr(f, &pi, XM_PKT_DST, &a), 0);
	cr_assert_eq(xm_pkt_set_port(f, &pi, XM_PKT_SRC, 1), 0);
	cr_assert_eq(pi.pi_ip.ip_dst.a_v4, a.a_v4);
	cr_assert_eq(pi.pi_sport, 1);
	assert_ref_csums(f, 82);

	cr_assert_eq(xm_pkt_set_addr(f, &pi, 2, &a), -EINVAL);
	cr_assert_eq(xm_pkt_set_addr(f, &pi, XM_PKT_SRC, NULL), -EINVAL);
	cr_assert_eq(xm_pkt_set_port(f, &pi, -1, 1), -EINVAL);
	cr_assert_eq(xm_pkt_set_addr(f, NULL, XM_PKT_SRC, &a), -EINVAL);
	{
		uint8_t rest[16] = { XM_PKT_ICMP_ECHO };
		uint32_t n = raw_frame(f, 4, XM_PKT_IPPROTO_ICMP, 0, rest, 16);

		cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
		cr_assert_eq(xm_pkt_set_port(f, &pi, XM_PKT_SRC, 1), -EINVAL);
	}
}

/* ------------------------------------------------------ encapsulation */

struct encap_case {
	uint8_t type;
	int outer;
	int inner;
	uint8_t flags;
};

Test(pkt, encap_every_kind)
{
	static const struct encap_case cases[] = {
		{ XM_PKT_ENCAP_IPIP, 4, 4, 0 },
		{ XM_PKT_ENCAP_IPIP, 6, 6, 0 },
		{ XM_PKT_ENCAP_IPIP, 6, 4, 0 },
		{ XM_PKT_ENCAP_IPIP, 4, 6, 0 },
		{ XM_PKT_ENCAP_GUE, 4, 4, 0 },
		{ XM_PKT_ENCAP_GUE, 6, 6, XM_PKT_ENCAP_F_UDP_CSUM },
		{ XM_PKT_ENCAP_GUE, 4, 6, XM_PKT_ENCAP_F_UDP_CSUM },
		{ XM_PKT_ENCAP_GUE_DIRECT, 4, 4, XM_PKT_ENCAP_F_UDP_CSUM },
		{ XM_PKT_ENCAP_GUE_DIRECT, 6, 4, XM_PKT_ENCAP_F_UDP_CSUM },
	};
	static uint8_t buf[2048];

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct encap_case *e = &cases[c];
		struct xm_pkt_tmpl t = tmpl(e->inner, 0, XM_PKT_IPPROTO_TCP,
					    NULL, 100);
		struct xm_pkt_encap en = { 0 };
		struct xm_pkt_info pi, in;
		uint8_t *inner = buf + 256, *outer;
		uint32_t inner_len, want;
		int n, l2;

		/* The received frame: Ethernet, then the packet at inner. */
		n = xm_pkt_build_frame(inner - 14, 1500, &t);
		inner_len = (uint32_t)n - 14;
		en.en_type = e->type;
		en.en_flags = e->flags;
		en.en_sport = 40001;
		en.en_dport = 6080;
		en.en_outer = tmpl(e->outer, 0, 0, NULL, 0).t_ip;
		en.en_outer.ip_id = 99;
		want = (e->outer == 4 ? 20 : 40) +
		       (e->type != XM_PKT_ENCAP_IPIP ? 8 : 0) +
		       (e->type == XM_PKT_ENCAP_GUE ? 4 : 0);
		cr_assert_eq(xm_pkt_encap(inner, want - 1, inner_len, &en),
			     -ENOSPC, "case %zu", c);
		n = xm_pkt_encap(inner, 256, inner_len, &en);
		cr_assert_eq(n, (int)want, "case %zu", c);
		outer = inner - n;
		{
			struct xm_pkt_eth eth = t.t_eth;

			eth.eth_type = e->outer == 4 ? XM_PKT_ETH_P_IPV4
						     : XM_PKT_ETH_P_IPV6;
			l2 = xm_pkt_build_eth(outer - 14, 14, &eth);
			cr_assert_eq(l2, 14);
		}
		cr_assert_eq(xm_pkt_parse(outer - 14, 14 + want + inner_len,
					  &pi), 0, "case %zu: %s", c,
			     xm_pkt_strerror(pi.pi_err));
		cr_assert_eq(pi.pi_l3_len, want + inner_len);
		cr_assert_arr_eq(&pi.pi_ip.ip_dst, &en.en_outer.ip_dst,
				 sizeof(pi.pi_ip.ip_dst));
		if (e->type == XM_PKT_ENCAP_IPIP) {
			cr_assert_eq(pi.pi_proto, e->inner == 4 ? 4 : 41);
			cr_assert_eq(pi.pi_payload_off, 14 + want);
		} else {
			cr_assert_eq(pi.pi_proto, XM_PKT_IPPROTO_UDP);
			cr_assert_eq(pi.pi_dport, 6080);
			cr_assert_eq(pi.pi_sport, 40001);
			if (e->type == XM_PKT_ENCAP_GUE) {
				const uint8_t *g = outer + want - 4;

				cr_assert_eq(g[0], 0, "GUE version 0, hlen 0");
				cr_assert_eq(g[1], e->inner == 4 ? 4 : 41);
				cr_assert_eq(be16(g + 2), 0);
			}
			if (!e->flags)
				cr_assert_eq(be16(outer + want - 8 -
						  (e->type == XM_PKT_ENCAP_GUE
						   ? 4 : 0) + 6), 0);
		}
		assert_ref_csums(outer - 14, 14 + want + inner_len);
		/* The inner packet is untouched and parses as it was. */
		cr_assert_eq(xm_pkt_parse_ip(inner, inner_len, &in), 0);
		cr_assert_eq(in.pi_dport, 9);
		cr_assert(xm_pkt_csum_ok(inner, &in));
	}
}

Test(pkt, encap_refuses)
{
	static uint8_t buf[256];
	struct xm_pkt_encap en = { 0 };
	uint8_t *inner = buf + 128;

	inner[0] = 0x45;
	en.en_type = XM_PKT_ENCAP_IPIP;
	en.en_outer.ip_version = 4;
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, &en), 20);
	cr_assert_eq(xm_pkt_encap(inner, 128, 65535 - 20, &en), 20);
	cr_assert_eq(xm_pkt_encap(inner, 128, 65535 - 19, &en), -EMSGSIZE);
	en.en_outer.ip_version = 6;
	cr_assert_eq(xm_pkt_encap(inner, 128, 65535, &en), 40);
	cr_assert_eq(xm_pkt_encap(inner, 128, 65536, &en), -EMSGSIZE);
	en.en_outer.ip_version = 5;
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, &en), -EINVAL);
	en.en_outer.ip_version = 4;
	en.en_type = XM_PKT_ENCAP_GUE;
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, &en), -EINVAL, "dport 0");
	en.en_dport = 6080;
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, &en), 32);
	en.en_type = 9;
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, &en), -EINVAL);
	en.en_type = XM_PKT_ENCAP_IPIP;
	en.en_flags = 0x80;
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, &en), -EINVAL);
	en.en_flags = 0;
	inner[0] = 0x55;
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, &en), -EINVAL, "version 5");
	inner[0] = 0x45;
	cr_assert_eq(xm_pkt_encap(inner, 128, 0, &en), -EINVAL);
	cr_assert_eq(xm_pkt_encap(NULL, 128, 20, &en), -EINVAL);
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, NULL), -EINVAL);
	en.en_outer.ip_flowlabel = 1 << 20;
	en.en_outer.ip_version = 6;
	cr_assert_eq(xm_pkt_encap(inner, 128, 20, &en), -EINVAL);
}

/* ------------------------------------------------------------ too big */

/* A DF UDP frame of `size` bytes with one VLAN tag. */
static uint32_t big_frame(uint8_t *f, int version, uint32_t size)
{
	static uint8_t payload[9000];
	uint32_t hdrs = 18 + (version == 4 ? 20 : 40) + 8;
	struct xm_pkt_tmpl t;

	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ 0x5a);
	t = tmpl(version, 1, XM_PKT_IPPROTO_UDP, payload, size - hdrs);
	return (uint32_t)xm_pkt_build_frame(f, 9100, &t);
}

static void check_reply(const uint8_t *r, int n, const uint8_t *f,
			const struct xm_pkt_info *opi, uint32_t mtu,
			uint32_t limit)
{
	struct xm_pkt_info pi;
	bool v4 = opi->pi_ip.ip_version == 4;
	uint32_t quote;

	cr_assert_gt(n, 0, "%d", n);
	cr_assert_eq(xm_pkt_parse(r, (uint32_t)n, &pi), 0);
	cr_assert_arr_eq(pi.pi_eth.eth_dst, opi->pi_eth.eth_src, 6);
	cr_assert_arr_eq(pi.pi_eth.eth_src, opi->pi_eth.eth_dst, 6);
	cr_assert_eq(pi.pi_eth.eth_nvlan, opi->pi_eth.eth_nvlan);
	cr_assert_eq(pi.pi_eth.eth_vlan_tci[0], opi->pi_eth.eth_vlan_tci[0]);
	cr_assert_arr_eq(&pi.pi_ip.ip_src, &opi->pi_ip.ip_dst,
			 sizeof(pi.pi_ip.ip_src));
	cr_assert_arr_eq(&pi.pi_ip.ip_dst, &opi->pi_ip.ip_src,
			 sizeof(pi.pi_ip.ip_dst));
	cr_assert_eq(pi.pi_ip.ip_ttl, 64);
	cr_assert(pi.pi_flags & XM_PKT_F_L4);
	if (v4) {
		cr_assert_eq(pi.pi_proto, XM_PKT_IPPROTO_ICMP);
		cr_assert_eq(pi.pi_icmp_type, 3);
		cr_assert_eq(pi.pi_icmp_code, 4);
		cr_assert_eq(be16(r + pi.pi_l4_off + 4), 0, "unused");
		cr_assert_eq(be16(r + pi.pi_l4_off + 6), mtu);
	} else {
		const uint8_t *m = r + pi.pi_l4_off + 4;

		cr_assert_eq(pi.pi_proto, XM_PKT_IPPROTO_ICMPV6);
		cr_assert_eq(pi.pi_icmp_type, 2);
		cr_assert_eq(pi.pi_icmp_code, 0);
		cr_assert_eq((uint32_t)m[0] << 24 | m[1] << 16 | m[2] << 8 |
			     m[3], mtu);
	}
	quote = opi->pi_l3_len < limit - pi.pi_l3_hlen - 8
		? opi->pi_l3_len : limit - pi.pi_l3_hlen - 8;
	cr_assert_eq(pi.pi_payload_len, quote);
	cr_assert_eq(pi.pi_l3_len, pi.pi_l3_hlen + 8 + quote);
	cr_assert_arr_eq(r + pi.pi_payload_off, f + opi->pi_l3_off, quote);
	assert_ref_csums(r, (uint32_t)n);
}

Test(pkt, too_big_ipv4_and_ipv6)
{
	static uint8_t f[9100], r[9100];
	struct xm_pkt_info pi;
	uint32_t n;
	int m;

	for (int v = 4; v <= 6; v += 2) {
		uint32_t limit = v == 4 ? 576 : 1280;
		uint32_t mtu = v == 4 ? 1400 : 1280;

		n = big_frame(f, v, 1518);
		cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
		m = xm_pkt_build_too_big(r, sizeof(r), f, &pi, mtu, NULL);
		check_reply(r, m, f, &pi, mtu, limit);
		cr_assert_eq(m, (int)(18 + limit));
		/* A short packet is quoted whole. */
		n = big_frame(f, v, 100);
		cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
		m = xm_pkt_build_too_big(r, sizeof(r), f, &pi, mtu, NULL);
		check_reply(r, m, f, &pi, mtu, limit);
		/* In place: the same bytes as into a separate buffer. */
		n = big_frame(f, v, 1518);
		cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
		m = xm_pkt_build_too_big(r, sizeof(r), f, &pi, mtu, NULL);
		cr_assert_eq(xm_pkt_build_too_big(f, sizeof(f), f, &pi, mtu,
						  NULL), m);
		cr_assert_arr_eq(f, r, (size_t)m);
	}
}

static int warnings;
static int count_warnings(enum xm_print_level level, const char *fmt,
			  va_list args)
{
	(void)fmt;
	(void)args;
	warnings += level == XM_PRINT_WARN;
	return 0;
}

Test(pkt, too_big_limits_and_options)
{
	static uint8_t f[9100], r[9100];
	static const uint8_t mac_c[6] = { 0x02, 0, 0, 0, 0, 0x0c };
	union xm_pkt_addr src;
	struct xm_pkt_info pi, rp;
	uint32_t n;
	int m;

	n = big_frame(f, 4, 1518);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	/* The smallest room: headers plus IP header plus 8 bytes. */
	cr_assert_eq(xm_pkt_build_too_big(r, 18 + 28 + 27, f, &pi, 1400,
					  NULL), -ENOSPC);
	m = xm_pkt_build_too_big(r, 18 + 28 + 28, f, &pi, 1400, NULL);
	check_reply(r, m, f, &pi, 1400, 56);
	cr_assert_eq(xm_pkt_build_too_big(r, 10, f, &pi, 1400, NULL), -ENOSPC);
	{
		XM_OPTS(xm_pkt_reply_opts, o, .max_len = 100, .ttl = 9,
			.ip_id = 0x4321, .src = &src, .eth_src = mac_c,
			.eth_dst = mac_c);

		v4addr(&src, 0xc61200fe);
		m = xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, &o);
		cr_assert_eq(m, 18 + 100);
		cr_assert_eq(xm_pkt_parse(r, (uint32_t)m, &rp), 0);
		cr_assert_eq(rp.pi_ip.ip_ttl, 9);
		cr_assert_eq(rp.pi_ip.ip_id, 0x4321);
		cr_assert_eq(rp.pi_ip.ip_src.a_v4, src.a_v4);
		cr_assert_arr_eq(rp.pi_eth.eth_src, mac_c, 6);
		cr_assert_arr_eq(rp.pi_eth.eth_dst, mac_c, 6);
		assert_ref_csums(r, (uint32_t)m);
		o.max_len = 55;			/* below 20 + 8 + 28 */
		cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400,
						  &o), -EINVAL);
		o.max_len = 0;
		o.sz = 4;
		xm_set_print(count_warnings);
		cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400,
						  &o), -EINVAL);
		cr_assert_eq(warnings, 1, "a bad opts struct is reported");
	}
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 67, NULL),
		     -EINVAL);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 65536, NULL),
		     -EINVAL);
	cr_assert_eq(xm_pkt_build_too_big(NULL, sizeof(r), f, &pi, 1400, NULL),
		     -EINVAL);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), NULL, &pi, 1400, NULL),
		     -EINVAL);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, NULL, 1400, NULL),
		     -EINVAL);

	n = big_frame(f, 6, 1518);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1279, NULL),
		     -EINVAL);
	m = xm_pkt_build_too_big(r, sizeof(r), f, &pi, 9000, NULL);
	check_reply(r, m, f, &pi, 9000, 1280);
	/* A raw IP packet gets a raw IP reply. */
	cr_assert_eq(xm_pkt_parse_ip(f + 18, n - 18, &pi), 0);
	m = xm_pkt_build_too_big(r, sizeof(r), f + 18, &pi, 1280, NULL);
	cr_assert_eq(m, 1280);
	cr_assert_eq(xm_pkt_parse_ip(r, (uint32_t)m, &rp), 0);
	cr_assert_eq(rp.pi_icmp_type, 2);
	cr_assert(xm_pkt_csum_ok(r, &rp));
}

Test(pkt, too_big_refused_where_the_rfcs_forbid)
{
	static uint8_t f[2048], r[2048];
	struct xm_pkt_info pi;
	uint8_t rest[64] = { 0 };
	uint32_t n;

	/* IPv4 */
	n = big_frame(f, 4, 1518);
	f[18 + 6] = 0;				/* no DF */
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, NULL),
		     -EPERM, "without DF the packet is fragmented");
	n = big_frame(f, 4, 1518);
	f[18 + 16] = 224;			/* multicast destination */
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, NULL),
		     -EPERM);
	n = big_frame(f, 4, 1518);
	memset(f + 18 + 16, 255, 4);		/* limited broadcast */
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, NULL),
		     -EPERM);
	for (int s = 0; s < 3; s++) {
		static const uint8_t firsts[] = { 0, 127, 240 };

		n = big_frame(f, 4, 1518);
		f[18 + 12] = firsts[s];		/* not one host */
		cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
		cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400,
						  NULL), -EPERM);
	}
	n = big_frame(f, 4, 1518);
	f[0] = 0x01;				/* link-layer multicast */
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, NULL),
		     -EPERM);
	/* An ICMP error is never answered; an echo request is. */
	rest[0] = XM_PKT_ICMP_UNREACH;
	n = raw_frame(f, 4, XM_PKT_IPPROTO_ICMP, XM_PKT_IP_DF, rest, 36);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, NULL),
		     -EPERM);
	rest[0] = XM_PKT_ICMP_ECHO;
	n = raw_frame(f, 4, XM_PKT_IPPROTO_ICMP, XM_PKT_IP_DF, rest, 36);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_gt(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, NULL), 0);
	/* A later fragment. */
	n = raw_frame(f, 4, XM_PKT_IPPROTO_UDP, XM_PKT_IP_DF | 100, rest, 36);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, NULL),
		     -EPERM);

	/* IPv6 */
	rest[0] = 1;				/* destination unreachable */
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMPV6, 0, rest, 36);
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1280, NULL),
		     -EPERM);
	rest[0] = XM_PKT_ICMP6_ECHO_REQUEST;
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMPV6, 0, rest, 36);
	f[14 + 8] = 0xff;			/* multicast source */
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1280, NULL),
		     -EPERM);
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMPV6, 0, rest, 36);
	memset(f + 14 + 8, 0, 16);		/* unspecified source */
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1280, NULL),
		     -EPERM);
	/* Multicast destinations do get packet too big (RFC 4443 2.4(e.2)),
	 * from a unicast source the caller names. */
	n = raw_frame(f, 6, XM_PKT_IPPROTO_ICMPV6, 0, rest, 36);
	f[14 + 24] = 0xff;
	cr_assert_eq(xm_pkt_parse(f, n, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1280, NULL),
		     -EINVAL);
	{
		union xm_pkt_addr me;
		XM_OPTS(xm_pkt_reply_opts, o, .src = &me);

		v6addr(&me, 0x42);
		cr_assert_gt(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1280,
						  &o), 0);
	}

	/* Not IP, or not a good parse. */
	memcpy(f, frame_udp4, 60);
	put16(f + 12, XM_PKT_ETH_P_ARP);
	cr_assert_eq(xm_pkt_parse(f, 60, &pi), 0);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), f, &pi, 1400, NULL),
		     -EINVAL);
	cr_assert_eq(xm_pkt_parse(frame_udp4, 40, &pi), -EBADMSG);
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), frame_udp4, &pi, 1400,
					  NULL), -EINVAL);
}

/* --------------------------------------------------------- mbuf chains */

/* The frame split after k bytes: a header mbuf, then a cluster. */
static struct xm_mbuf *split_chain(struct xm_umem *u, const uint8_t *f,
				   uint32_t len, uint32_t k)
{
	struct xm_mbuf *m = xm_getcl(u, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	struct xm_mbuf *n = xm_getcl(u, XM_NOWAIT, XM_MT_DATA, 0);

	cr_assert(m != NULL && n != NULL);
	memcpy(m->m_data, f, k);
	m->m_len = (int32_t)k;
	memcpy(n->m_data, f + k, len - k);
	n->m_len = (int32_t)(len - k);
	m->m_next = n;
	m->m_pkthdr.len = len;
	return m;
}

static struct xm_umem *pkt_umem(void)
{
	XM_OPTS(xm_umem_opts, o, .maxmbufmem = 4u << 20,
		.flags = XM_UMEM_F_NO_HUGEPAGES);
	struct xm_umem *u = xm_umem_create(&o);

	cr_assert_not_null(u, "xm_umem_create: %s", strerror(errno));
	return u;
}

static void assert_same_parse(const struct xm_pkt_info *a,
			      const struct xm_pkt_info *b)
{
	struct xm_pkt_info x = *a, y = *b;

	x.pi_caplen = y.pi_caplen = 0;
	cr_assert_arr_eq(&x, &y, sizeof(x), "chain and flat parses differ");
}

Test(pkt, parse_mbuf_chains)
{
	static uint8_t f[2048], out[2048], r[2048];
	struct xm_umem *u = pkt_umem();
	struct xm_pkt_info pi, flat;
	struct xm_mbuf *m, *first;
	uint64_t held;
	uint32_t n;
	uint16_t port = htons(4444);

	/* Split inside the IPv4 header: pulled up once, then parsed. */
	m = split_chain(u, frame_tcp4_qinq, 82, 20);
	cr_assert_eq(xm_pkt_parse(frame_tcp4_qinq, 82, &flat), 0);
	cr_assert_eq(xm_pkt_parse_mbuf(&m, &pi), 0);
	cr_assert_geq(m->m_len, 82, "headers gathered");
	cr_assert_eq(pi.pi_caplen, 82);
	assert_same_parse(&pi, &flat);
	xm_freem(m);

	/* Headers in the first mbuf: nothing moves, only they are readable. */
	n = big_frame(f, 4, 1518);
	cr_assert_eq(xm_pkt_parse(f, n, &flat), 0);
	m = split_chain(u, f, n, 60);
	first = m;
	cr_assert_eq(xm_pkt_parse_mbuf(&m, &pi), 0);
	cr_assert_eq(m, first);
	cr_assert_eq(m->m_len, 60);
	cr_assert_eq(pi.pi_len, n);
	cr_assert_eq(pi.pi_caplen, 60);
	assert_same_parse(&pi, &flat);
	/* The datagram is not all here: no full checksum... */
	cr_assert(!xm_pkt_csum_ok(m->m_data, &pi));
	cr_assert_eq(xm_pkt_csum_fill(m->m_data, &pi), -EINVAL);
	cr_assert_eq(xm_pkt_rewrite(m->m_data, &pi, 58, "ab", 3), -EINVAL);
	/* ...but incremental rewrites work on a chain. */
	cr_assert_eq(xm_pkt_rewrite(m->m_data, &pi, pi.pi_l4_off + 2, &port,
				    2), 0);
	cr_assert_eq(xm_copydata(m, 0, (int)n, out), 0);
	cr_assert_eq(xm_pkt_parse(out, n, &flat), 0);
	cr_assert_eq(flat.pi_dport, 4444);
	assert_ref_csums(out, n);
	/* A too-big reply quotes what the first mbuf holds. */
	cr_assert_eq(xm_pkt_build_too_big(r, sizeof(r), m->m_data, &pi, 1400,
					  NULL), 18 + 28 + 60 - 18);
	xm_freem(m);

	/* Malformed stays malformed, with the flat parse's reason. */
	m = split_chain(u, frame_udp4, 40, 16);
	cr_assert_eq(xm_pkt_parse_mbuf(&m, &pi), -EBADMSG);
	cr_assert_eq(pi.pi_err, XM_PKT_ERR_BAD_TOTLEN);
	cr_assert_not_null(m);
	xm_freem(m);

	/* A packet header longer than the chain: the pull-up fails. */
	m = split_chain(u, frame_udp4, 60, 16);
	m->m_pkthdr.len = 200;
	cr_assert_lt(xm_pkt_parse_mbuf(&m, &pi), 0);
	cr_assert_null(m, "chain freed with the failed pull-up");

	m = split_chain(u, frame_udp4, 60, 16);
	cr_assert_eq(xm_pkt_parse_mbuf(&m->m_next, &pi), -EINVAL,
		     "no packet header");
	cr_assert_eq(xm_pkt_parse_mbuf(NULL, &pi), -EINVAL);
	cr_assert_eq(xm_pkt_parse_mbuf(&m, NULL), -EINVAL);
	xm_freem(m);
	first = NULL;
	cr_assert_eq(xm_pkt_parse_mbuf(&first, &pi), -EINVAL);

	cr_assert_eq(xm_umem_audit(u, &held), 0);
	cr_assert_eq(held, 0, "%lu items leaked", (unsigned long)held);
	xm_umem_destroy(u);
}
