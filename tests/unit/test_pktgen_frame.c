// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_pktgen_frame.c - the generator's frames (examples/pktgen/pg_frame.c
 * and pg_stamp.h): templates over IPv4/IPv6, UDP/TCP SYN, tagged or not,
 * parse back with the library's parser at the exact size with every
 * checksum right; stamps and flow rewrites keep them right incrementally
 * (checked against a full recomputation); the receiver's reader finds the
 * stamp and 5-tuple, and refuses cut or foreign frames without reading
 * past them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../examples/pktgen/pg_frame.h"
#include "../../examples/pktgen/pg_stamp.h"

TestSuite(pktgen_frame, .timeout = 30);

struct variant {
	int family;
	uint8_t proto;
	int vlan;
	uint32_t min;			/* expected minimum size */
};

static const struct variant variants[] = {
	{ 4, XM_PKT_IPPROTO_UDP, -1, 60 },
	{ 4, XM_PKT_IPPROTO_UDP, 100, 64 },
	{ 4, XM_PKT_IPPROTO_TCP, -1, 72 },
	{ 6, XM_PKT_IPPROTO_UDP, -1, 80 },
	{ 6, XM_PKT_IPPROTO_TCP, 7, 96 },
};

static void spec_of(const struct variant *v, struct pg_tmpl_spec *s)
{
	static const uint8_t dmac[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint8_t smac[6] = { 2, 0, 0, 0, 0, 1 };

	memset(s, 0, sizeof(*s));
	memcpy(s->ts_dst_mac, dmac, 6);
	memcpy(s->ts_src_mac, smac, 6);
	s->ts_vlan = v->vlan;
	s->ts_family = v->family;
	s->ts_proto = v->proto;
	s->ts_sport = 1024;
	s->ts_dport = 9;
	if (v->family == 4) {
		inet_pton(AF_INET, "198.18.0.1", &s->ts_src.a_v4);
		inet_pton(AF_INET, "198.18.0.2", &s->ts_dst.a_v4);
	} else {
		/* IPv4-mapped 198.18.0.1/2: still the benchmarking range */
		inet_pton(AF_INET6, "::ffff:198.18.0.1", s->ts_src.a_v6);
		inet_pton(AF_INET6, "::ffff:198.18.0.2", s->ts_dst.a_v6);
	}
}

static void assert_good(const uint8_t *f, uint32_t len,
			const struct variant *v)
{
	struct xm_pkt_info pi;

	cr_assert_eq(xm_pkt_parse(f, len, &pi), 0, "%s",
		     xm_pkt_strerror(pi.pi_err));
	cr_assert(pi.pi_flags & XM_PKT_F_L4);
	cr_assert_eq(pi.pi_proto, v->proto);
	cr_assert_eq(pi.pi_eth.eth_nvlan, v->vlan >= 0 ? 1 : 0);
	cr_assert(!(pi.pi_flags & XM_PKT_F_L2_PAD), "padding in a template");
	cr_assert(xm_pkt_csum_ok(f, &pi), "checksum");
}

ParameterizedTestParameters(pktgen_frame, templates)
{
	return cr_make_param_array(struct variant, variants,
				   sizeof(variants) / sizeof(variants[0]));
}

ParameterizedTest(const struct variant *v, pktgen_frame, templates)
{
	static const uint32_t sizes[] = { 0, 1, 100, 594, 1518, 9000 };
	struct pg_tmpl_spec s;
	struct pg_layout ly;
	uint8_t *f = malloc(9000);

	cr_assert(f);
	spec_of(v, &s);
	cr_assert_eq(pg_tmpl_min_size(&s), v->min);
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t size = sizes[i] < v->min ? v->min + sizes[i] :
			sizes[i];
		struct pg_stamp st;

		memset(f, 0xa5, 9000);
		cr_assert_eq(pg_tmpl_build(&s, size, f, size, &ly), 0, "size %u",
			     size);
		assert_good(f, size, v);
		cr_assert_eq(ly.ly_min_size, v->min);
		cr_assert_eq((ly.ly_stamp_off - ly.ly_l4_off) % 2, 0);
		cr_assert(pg_stamp_read(f + ly.ly_stamp_off,
					size - ly.ly_stamp_off, &st));
		cr_assert_eq(st.st_seq, 0);
		/* nothing but zeros after the stamp */
		for (uint32_t k = ly.ly_stamp_off + PG_STAMP_LEN; k < size; k++)
			cr_assert_eq(f[k], 0, "byte %u", k);
	}
	free(f);
}

ParameterizedTestParameters(pktgen_frame, stamp_and_flows_keep_checksums)
{
	return cr_make_param_array(struct variant, variants,
				   sizeof(variants) / sizeof(variants[0]));
}

ParameterizedTest(const struct variant *v, pktgen_frame,
		  stamp_and_flows_keep_checksums)
{
	struct pg_tmpl_spec s;
	struct pg_layout ly;
	struct pg_flows fl;
	uint32_t base[4], count[4] = { 3, 5, 7, 2 };
	uint8_t f[200];
	uint64_t x = 7;

	spec_of(v, &s);
	base[PG_FLOW_SRC] = ntohl(v->family == 4 ? s.ts_src.a_v4 :
				  s.ts_src.a_v6_32[3]);
	base[PG_FLOW_DST] = ntohl(v->family == 4 ? s.ts_dst.a_v4 :
				  s.ts_dst.a_v6_32[3]);
	base[PG_FLOW_SPORT] = 65529;	/* up to 65535 */
	base[PG_FLOW_DPORT] = 0;
	cr_assert_eq(pg_flows_init(&fl, base, count, 0, false, 0), 0);
	cr_assert_eq(pg_tmpl_build(&s, 200, f, sizeof(f), &ly), 0);
	for (int i = 0; i < 5000; i++) {
		struct xm_pkt_info pi;
		struct pg_rx_info ri;
		struct pg_stamp st;
		uint32_t k, d;

		x = x * 6364136223846793005ull + 1;
		k = (uint32_t)((x >> 33) % fl.fl_n);
		pg_tmpl_set_flow(f, &ly, &fl, k);
		d = pg_stamp_write(f + ly.ly_stamp_off, (uint16_t)(x >> 20),
				   x & PG_SEQ_MASK, x ^ 0x5555);
		pg_csum_apply(f + ly.ly_l4_csum_off, d, ly.ly_udp);
		assert_good(f, sizeof(f), v);
		/* the receiver reads back what was written */
		cr_assert(pg_rx_locate(f, sizeof(f), &ri));
		cr_assert_eq(ri.ri_stamp_off, ly.ly_stamp_off);
		cr_assert(pg_stamp_read(f + ri.ri_stamp_off,
					sizeof(f) - ri.ri_stamp_off, &st));
		cr_assert_eq(st.st_stream, (uint16_t)(x >> 20));
		cr_assert_eq(st.st_seq, x & PG_SEQ_MASK);
		cr_assert_eq(st.st_tx_ns, x ^ 0x5555);
		cr_assert_eq(ri.ri_sport, pg_flows_value(&fl, k, PG_FLOW_SPORT));
		cr_assert_eq(ri.ri_dport, pg_flows_value(&fl, k, PG_FLOW_DPORT));
		cr_assert_eq(xm_pkt_parse(f, sizeof(f), &pi), 0);
		if (v->family == 4)
			cr_assert_eq(ntohl(pi.pi_ip.ip_src.a_v4),
				     pg_flows_value(&fl, k, PG_FLOW_SRC));
		else
			cr_assert_eq(ntohl(pi.pi_ip.ip_dst.a_v6_32[3]),
				     pg_flows_value(&fl, k, PG_FLOW_DST));
	}
	pg_flows_free(&fl);
}

Test(pktgen_frame, udp_without_checksum_stays_without)
{
	const struct variant v = { 4, XM_PKT_IPPROTO_UDP, -1, 60 };
	struct pg_tmpl_spec s;
	struct pg_layout ly;
	uint8_t f[60];
	uint32_t d;

	spec_of(&v, &s);
	cr_assert_eq(pg_tmpl_build(&s, 60, f, 60, &ly), 0);
	memset(f + ly.ly_l4_csum_off, 0, 2);
	d = pg_stamp_write(f + ly.ly_stamp_off, 1, 2, 3);
	pg_csum_apply(f + ly.ly_l4_csum_off, d, true);
	cr_assert_eq(f[ly.ly_l4_csum_off], 0);
	cr_assert_eq(f[ly.ly_l4_csum_off + 1], 0);
}

Test(pktgen_frame, bad_templates_are_refused)
{
	const struct variant v = { 4, XM_PKT_IPPROTO_UDP, -1, 60 };
	struct pg_tmpl_spec s;
	struct pg_layout ly;
	uint8_t f[128];

	spec_of(&v, &s);
	cr_assert_eq(pg_tmpl_build(&s, 59, f, sizeof(f), &ly), -EINVAL);
	cr_assert_eq(pg_tmpl_build(&s, 100, f, 99, &ly), -ENOSPC);
	s.ts_family = 5;
	cr_assert_eq(pg_tmpl_build(&s, 100, f, sizeof(f), &ly), -EINVAL);
	s.ts_family = 4;
	s.ts_proto = XM_PKT_IPPROTO_ICMP;
	cr_assert_eq(pg_tmpl_build(&s, 100, f, sizeof(f), &ly), -EINVAL);
	s.ts_proto = XM_PKT_IPPROTO_UDP;
	s.ts_vlan = 4096;
	cr_assert_eq(pg_tmpl_build(&s, 100, f, sizeof(f), &ly), -EINVAL);
	/* IPv4's total length is 16 bits */
	s.ts_vlan = -1;
	{
		uint8_t *big = malloc(70000);

		cr_assert(big);
		cr_assert_eq(pg_tmpl_build(&s, 65536 + 14, big, 70000, &ly),
			     -EINVAL);
		free(big);
	}
}

Test(pktgen_frame, reader_refuses_cut_and_foreign_frames)
{
	const struct variant v = { 6, XM_PKT_IPPROTO_TCP, 7, 96 };
	struct pg_tmpl_spec s;
	struct pg_layout ly;
	struct pg_rx_info ri;
	uint8_t f[96], arp[60] = { [12] = 0x08, [13] = 0x06 };

	spec_of(&v, &s);
	cr_assert_eq(pg_tmpl_build(&s, 96, f, 96, &ly), 0);
	cr_assert(pg_rx_locate(f, 96, &ri));
	/* every shorter cut up to the end of the TCP header fails cleanly:
	 * heap copies of exactly that length, so ASan sees an overread */
	for (uint32_t n = 0; n < ly.ly_stamp_off; n++) {
		uint8_t *c = malloc(n ? n : 1);

		cr_assert(c);
		memcpy(c, f, n);
		cr_assert_not(pg_rx_locate(c, n, &ri), "cut at %u", n);
		free(c);
	}
	/* found, but the stamp itself cut: read refuses it */
	cr_assert(pg_rx_locate(f, ly.ly_stamp_off + 5, &ri));
	{
		struct pg_stamp st;

		cr_assert_not(pg_stamp_read(f + ri.ri_stamp_off, 5, &st));
	}
	cr_assert_not(pg_rx_locate(arp, sizeof(arp), &ri));
	/* a TCP data offset past the frame */
	f[ly.ly_l4_off + 12] = 0xf0;
	cr_assert_not(pg_rx_locate(f, ly.ly_l4_off + 40, &ri));
}

Test(pktgen_frame, tuple_hash_tells_flows_apart)
{
	struct pg_rx_info a = { .ri_family = 4, .ri_proto = 17,
				.ri_sport = 1, .ri_dport = 2 };
	struct pg_rx_info b = a;

	b.ri_sport = 2;
	b.ri_dport = 1;
	cr_assert_neq(pg_rx_tuple_hash(&a), pg_rx_tuple_hash(&b));
	b = a;
	b.ri_src[3] = 1;
	cr_assert_neq(pg_rx_tuple_hash(&a), pg_rx_tuple_hash(&b));
	b = a;
	cr_assert_eq(pg_rx_tuple_hash(&a), pg_rx_tuple_hash(&b));
	cr_assert_neq(pg_rx_tuple_hash(&a), 0);
}
