// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_path.c - xmbuf-lb's per-packet decision (examples/lb/lb_path.c)
 * on frames built in memory, exactly as the workers run it on RX frames:
 * encapsulation (IPIP, IP6IP6, 4in6, GUE) in the headroom with the inner
 * packet untouched, spread by weight, stickiness through the connection
 * table and across reloads (removal, drain), agreement of two instances,
 * fragments by 3-tuple, ICMP/ICMPv6 too big at the MTU edge, and
 * malformed frames counted and dropped; a bounded mutation run checks
 * that nothing a frame holds makes the path misbehave.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "xm_pkt.h"
#include "../../examples/lb/lb_config.h"
#include "../../examples/lb/lb_lru.h"
#include "../../examples/lb/lb_path.h"

#define HEADROOM	256
#define BUFSZ		(HEADROOM + 2048)
#define KEY		"key 00112233445566778899aabbccddeeff\n"
#define COMMON		KEY "src-prefix 198.18.128.0/17\n" \
			"src-prefix 2001:2:0:8000::/64\n" \
			"gateway 02:00:00:00:00:fe\n"

static const uint8_t client_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t lb_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0xfe };

struct ctx {
	struct lb_config *c;
	struct lb_path w;
	uint8_t buf[BUFSZ];
	uint8_t *frame;			/* buf + HEADROOM */
	uint32_t len;
	struct lb_result r;
};

static struct lb_config *config(const char *text,
				const struct lb_config *running)
{
	char err[LB_ERRLEN];
	struct lb_config *c = lb_config_parse(text, strlen(text), "t.conf",
					      running, err, sizeof(err));

	cr_assert_not_null(c, "%s", err);
	cr_assert_eq(lb_config_build(c, running, 1, err, sizeof(err)), 0, "%s",
		     err);
	return c;
}

static void ctx_init(struct ctx *x, const char *text)
{
	memset(x, 0, sizeof(*x));
	x->c = config(text, NULL);
	x->w.p_lru = lb_lru_create(x->c->c_lru_size, &x->c->c_sipkey);
	cr_assert_not_null(x->w.p_lru);
	memcpy(x->w.p_mac, lb_mac, 6);
	x->w.p_if_mtu = 1500;
	x->frame = x->buf + HEADROOM;
}

static void ctx_fini(struct ctx *x)
{
	const char *why = lb_lru_check(x->w.p_lru);

	cr_assert_null(why, "connection table: %s", why);
	lb_lru_destroy(x->w.p_lru);
	lb_config_free(x->c);
}

static void ctx_reload(struct ctx *x, const char *text)
{
	struct lb_config *c = config(text, x->c);

	lb_config_carry_stats(c, x->c);
	lb_config_free(x->c);
	x->c = c;
}

/* A UDP or TCP frame from client 198.18.0.X:sport (or 2001:2::X). */
struct fspec {
	int version;
	uint8_t proto;			/* 0: UDP */
	uint32_t client;		/* host part */
	uint16_t sport;
	uint16_t dport;
	const char *vip;
	uint32_t payload;
	uint16_t frag;			/* IPv4 ip_frag */
	uint8_t tcp_flags;
	uint8_t nvlan;
	bool no_df;
};

static void make_frame(struct ctx *x, const struct fspec *s)
{
	struct xm_pkt_tmpl t;
	uint8_t payload[1600];
	int n;

	memset(&t, 0, sizeof(t));
	memcpy(t.t_eth.eth_src, client_mac, 6);
	memcpy(t.t_eth.eth_dst, lb_mac, 6);
	t.t_eth.eth_nvlan = s->nvlan;
	t.t_eth.eth_vlan_tci[0] = 100;
	t.t_eth.eth_vlan_tci[1] = 200;
	t.t_ip.ip_version = (uint8_t)s->version;
	t.t_ip.ip_ttl = 64;
	t.t_ip.ip_tos = 0x28;
	if (s->version == 4) {
		t.t_ip.ip_src.a_v4 = htonl(0xc6120000u | s->client);
		cr_assert_eq(inet_pton(AF_INET, s->vip ? s->vip : "198.18.2.1",
				       &t.t_ip.ip_dst.a_v4), 1);
		t.t_ip.ip_frag = s->frag | (s->no_df ? 0 : XM_PKT_IP_DF);
		t.t_ip.ip_id = 777;
	} else {
		cr_assert_eq(inet_pton(AF_INET6, "2001:2::", t.t_ip.ip_src.a_v6),
			     1);
		t.t_ip.ip_src.a_v6[14] = (uint8_t)(s->client >> 8);
		t.t_ip.ip_src.a_v6[15] = (uint8_t)s->client;
		cr_assert_eq(inet_pton(AF_INET6, s->vip ? s->vip : "2001:2::1",
				       t.t_ip.ip_dst.a_v6), 1);
	}
	t.t_proto = s->proto ? s->proto : XM_PKT_IPPROTO_UDP;
	t.t_sport = s->sport;
	t.t_dport = s->dport;
	t.t_tcp.tcp_flags = s->tcp_flags ? s->tcp_flags : XM_PKT_TCP_SYN;
	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
	t.t_payload = payload;
	t.t_payload_len = s->payload;
	n = xm_pkt_build_frame(x->frame, BUFSZ - HEADROOM, &t);
	cr_assert_gt(n, 0, "build: %d", n);
	x->len = (uint32_t)n;
}

static enum lb_verdict run(struct ctx *x, uint64_t now)
{
	return lb_path_process(&x->w, x->c, x->frame, x->len, HEADROOM,
			       BUFSZ - HEADROOM - x->len, now, &x->r);
}

/* Forwards the frame; returns the backend index (in the VIP) its outer
 * destination names, after checking the whole output. */
static int forward(struct ctx *x, int vi)
{
	uint8_t orig[2048];
	struct xm_pkt_info in, out, inner;
	const struct lb_vip *v = &x->c->c_vips[vi];
	uint8_t *o;
	uint32_t olen;

	memcpy(orig, x->frame, x->len);
	cr_assert_eq(xm_pkt_parse(orig, x->len, &in), 0);
	cr_assert_eq(run(x, 0), LB_FORWARD);
	o = x->frame + x->r.r_off;
	olen = x->r.r_len;
	cr_assert_leq(-x->r.r_off, HEADROOM);
	cr_assert_eq(xm_pkt_parse(o, olen, &out), 0);
	cr_assert(xm_pkt_csum_ok(o, &out), "outer checksums");
	cr_assert_eq(memcmp(out.pi_eth.eth_src, lb_mac, 6), 0);
	cr_assert_eq(out.pi_eth.eth_nvlan, in.pi_eth.eth_nvlan, "tags kept");
	cr_assert_eq(out.pi_ip.ip_ttl, 64);
	cr_assert_eq(out.pi_ip.ip_tos, in.pi_ip.ip_tos, "TOS copied out");
	/* The inner packet is the client's IP packet, byte for byte. */
	cr_assert_eq(out.pi_l3_off + out.pi_l3_len, olen, "no padding kept");
	cr_assert_eq(memcmp(o + olen - in.pi_l3_len, orig + in.pi_l3_off,
			    in.pi_l3_len), 0, "inner packet changed");
	cr_assert_eq(xm_pkt_parse_ip(o + olen - in.pi_l3_len, in.pi_l3_len,
				     &inner), 0);
	if (out.pi_ip.ip_version == 4) {
		uint32_t src = ntohl(out.pi_ip.ip_src.a_v4);

		cr_assert_eq(src >> 15, 0xc6128000u >> 15, "outer source %08x "
			     "outside 198.18.128.0/17", src);
		cr_assert(out.pi_flags & XM_PKT_F_DF);
	} else {
		cr_assert_eq(memcmp(out.pi_ip.ip_src.a_v6,
				    "\x20\x01\x00\x02\x00\x00\x80\x00", 8), 0,
			     "outer source outside 2001:2:0:8000::/64");
	}
	for (uint32_t b = 0; b < v->v_nbe; b++) {
		const struct lb_backend *be = &v->v_be[b];

		if (be->be_family != out.pi_ip.ip_version ||
		    memcmp(&be->be_addr, &out.pi_ip.ip_dst, 16))
			continue;
		cr_assert_eq(memcmp(out.pi_eth.eth_dst, be->be_has_mac ?
				    be->be_mac : gw_mac, 6), 0, "next hop");
		return (int)b;
	}
	cr_assert_fail("outer destination is no backend of the service");
	return -1;
}

TestSuite(lb_path, .timeout = 60);

Test(lb_path, ipip_forward_in_headroom)
{
	struct ctx x;
	struct xm_pkt_info out;
	struct fspec s = { .version = 4, .client = 5, .sport = 1000,
			   .dport = 53, .payload = 100 };

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\n"
		 "backend 198.18.1.11\nbackend 198.18.1.12\n");
	make_frame(&x, &s);
	forward(&x, 0);
	cr_assert_eq(x.r.r_off, -20, "one IPv4 header in front");
	xm_pkt_parse(x.frame + x.r.r_off, x.r.r_len, &out);
	cr_assert_eq(out.pi_ip.ip_proto, XM_PKT_IPPROTO_IPIP);
	cr_assert_eq(x.w.p_st.forwarded, 1);
	cr_assert_eq(x.c->c_stats[0][0].packets, 1);
	cr_assert_eq(x.c->c_stats[0][0].bytes, x.len);
	cr_assert_eq(x.c->c_stats[0][0].new_flows, 1);
	ctx_fini(&x);
}

/*
 * The IPv4 IPIP outer header is written by lb_path itself (no struct in
 * between, checksum from registers): it must be, byte for byte, what
 * xm_pkt_encap() writes for the same outer fields, for 4in4 and 6in4,
 * over TOS values and inner lengths.
 */
Test(lb_path, ipip4_header_is_what_xm_pkt_encap_writes)
{
	static const uint8_t tos[] = { 0, 0x28, 0xb8, 0xff };
	static const uint32_t payload[] = { 0, 1, 18, 100, 1400 };
	struct ctx x;

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\n"
		 "backend 198.18.1.11\nbackend 198.18.1.12\n"
		 "vip 2001:2::1 udp 53\nbackend 198.18.1.13\n");
	for (int v = 4; v <= 6; v += 2)
	for (size_t t = 0; t < sizeof(tos); t++)
	for (size_t p = 0; p < sizeof(payload) / sizeof(payload[0]); p++) {
		struct fspec s = { .version = v, .client = 7 + (uint32_t)p,
				   .sport = (uint16_t)(1000 + t), .dport = 53,
				   .payload = payload[p] };
		uint8_t ref[BUFSZ], *inner;
		struct xm_pkt_info in, out;
		struct xm_pkt_encap en;
		uint16_t csum;
		int n;

		make_frame(&x, &s);
		/* the TOS (or traffic class) the outer header copies */
		if (v == 4) {
			x.frame[15] = tos[t];
			x.frame[24] = x.frame[25] = 0;
			csum = xm_pkt_ipv4_csum(x.frame + 14, 20);
			memcpy(x.frame + 24, &csum, 2);
		} else {
			x.frame[14] = (uint8_t)(0x60 | tos[t] >> 4);
			x.frame[15] = (uint8_t)((tos[t] & 0x0f) << 4 |
						(x.frame[15] & 0x0f));
		}
		cr_assert_eq(xm_pkt_parse(x.frame, x.len, &in), 0);
		cr_assert_eq(in.pi_ip.ip_tos, tos[t]);
		/* the reference: the inner packet alone, encapsulated by
		 * the library with the fields lb_path chose */
		inner = ref + HEADROOM;
		memcpy(inner, x.frame + in.pi_l3_off, in.pi_l3_len);
		forward(&x, v == 4 ? 0 : 1);
		cr_assert_eq(x.r.r_off, -20);
		cr_assert_eq(xm_pkt_parse(x.frame + x.r.r_off, x.r.r_len, &out),
			     0);
		cr_assert_eq(out.pi_ip.ip_version, 4);
		memset(&en, 0, sizeof(en));
		en.en_type = XM_PKT_ENCAP_IPIP;
		en.en_outer.ip_version = 4;
		en.en_outer.ip_tos = tos[t];
		en.en_outer.ip_ttl = 64;
		en.en_outer.ip_frag = XM_PKT_IP_DF;
		en.en_outer.ip_src = out.pi_ip.ip_src;
		en.en_outer.ip_dst = out.pi_ip.ip_dst;
		n = xm_pkt_encap(inner, HEADROOM, in.pi_l3_len, &en);
		cr_assert_eq(n, 20);
		cr_assert_eq(memcmp(inner - 20, x.frame + x.r.r_off +
				    out.pi_l3_off, 20 + in.pi_l3_len), 0,
			     "IPv%d in IPv4, TOS %#x, payload %u: outer "
			     "header differs from xm_pkt_encap()'s", v, tos[t],
			     payload[p]);
	}
	ctx_fini(&x);
}

Test(lb_path, ip6ip6_and_mixed_families)
{
	struct ctx x;
	struct xm_pkt_info out;
	struct fspec s6 = { .version = 6, .client = 9, .sport = 2000,
			    .dport = 443, .proto = XM_PKT_IPPROTO_TCP };
	struct fspec s4 = { .version = 4, .client = 9, .sport = 2000,
			    .dport = 80, .proto = XM_PKT_IPPROTO_TCP };

	ctx_init(&x, COMMON "vip 2001:2::1 tcp 443\nbackend 2001:2::11\n"
		 "vip 198.18.2.1 tcp 80\nbackend 2001:2::12\n"
		 "vip 2001:2::2 tcp 443\nbackend 198.18.1.13\n");
	make_frame(&x, &s6);
	forward(&x, 0);
	cr_assert_eq(x.r.r_off, -40);
	xm_pkt_parse(x.frame + x.r.r_off, x.r.r_len, &out);
	cr_assert_eq(out.pi_ip.ip_proto, XM_PKT_IPPROTO_IPV6, "IP6IP6");
	cr_assert_neq(out.pi_ip.ip_flowlabel, 0, "flow label from the hash");

	make_frame(&x, &s4);
	forward(&x, 1);
	xm_pkt_parse(x.frame + x.r.r_off, x.r.r_len, &out);
	cr_assert_eq(out.pi_ip.ip_version, 6);
	cr_assert_eq(out.pi_ip.ip_proto, XM_PKT_IPPROTO_IPIP, "4in6");

	s6.vip = "2001:2::2";
	make_frame(&x, &s6);
	forward(&x, 2);
	xm_pkt_parse(x.frame + x.r.r_off, x.r.r_len, &out);
	cr_assert_eq(out.pi_ip.ip_version, 4);
	cr_assert_eq(out.pi_ip.ip_proto, XM_PKT_IPPROTO_IPV6, "6in4");
	ctx_fini(&x);
}

Test(lb_path, gue_both_variants)
{
	static const char *const encaps[] = { "encap gue 6080\n",
					      "encap gue-direct 6081\n" };

	for (int k = 0; k < 2; k++) {
		struct ctx x;
		struct xm_pkt_info out;
		struct fspec s = { .version = 4, .client = 5, .sport = 1000,
				   .dport = 53, .payload = 10 };
		char text[512];
		const uint8_t *udp;

		snprintf(text, sizeof(text), COMMON "%svip 198.18.2.1 udp 53\n"
			 "backend 198.18.1.11\nvip 2001:2::1 udp 53\n"
			 "backend 2001:2::11\n", encaps[k]);
		ctx_init(&x, text);
		make_frame(&x, &s);
		forward(&x, 0);
		xm_pkt_parse(x.frame + x.r.r_off, x.r.r_len, &out);
		cr_assert_eq(out.pi_proto, XM_PKT_IPPROTO_UDP);
		cr_assert_eq(out.pi_dport, k == 0 ? 6080 : 6081);
		cr_assert_geq(out.pi_sport, 0x8000, "entropy port");
		udp = x.frame + x.r.r_off + out.pi_l4_off;
		if (k == 0) {
			cr_assert_eq(x.r.r_off, -32);
			cr_assert_eq(udp[8], 0, "GUE variant 0");
			cr_assert_eq(udp[9], XM_PKT_IPPROTO_IPIP);
		} else {
			cr_assert_eq(x.r.r_off, -28);
			cr_assert_eq(udp[8] >> 4, 4, "inner IP right after UDP");
		}
		/* Over IPv6 the UDP checksum is filled (forward() checks
		 * that it verifies). */
		s.version = 6;
		make_frame(&x, &s);
		forward(&x, 1);
		xm_pkt_parse(x.frame + x.r.r_off, x.r.r_len, &out);
		cr_assert_neq(memcmp(x.frame + x.r.r_off + out.pi_l4_off + 6,
				     "\0\0", 2), 0, "UDP checksum over IPv6");
		ctx_fini(&x);
	}
}

Test(lb_path, vlan_tags_and_padding)
{
	struct ctx x;
	struct xm_pkt_info out;
	struct fspec s = { .version = 4, .client = 5, .sport = 1000,
			   .dport = 53, .payload = 1, .nvlan = 2 };

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n");
	make_frame(&x, &s);
	cr_assert_eq(x.len, 60, "padded to the Ethernet minimum");
	forward(&x, 0);
	xm_pkt_parse(x.frame + x.r.r_off, x.r.r_len, &out);
	cr_assert_eq(out.pi_eth.eth_nvlan, 2);
	cr_assert_eq(out.pi_eth.eth_vlan_tci[0] & 0xfff, 100);
	cr_assert_eq(out.pi_eth.eth_vlan_tci[1] & 0xfff, 200);
	cr_assert_eq(x.r.r_len, 14 + 8 + 20 + 20 + 8 + 1, "padding dropped");
	ctx_fini(&x);
}

Test(lb_path, flows_stick_and_spread_by_weight)
{
	enum { FLOWS = 6000 };
	static int first[FLOWS];
	struct ctx x;
	unsigned int per[3] = { 0 };
	const uint32_t w[3] = { 1, 2, 3 };

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\n"
		 "backend 198.18.1.11 weight 1\nbackend 198.18.1.12 weight 2\n"
		 "backend 198.18.1.13 weight 3\n");
	for (uint32_t f = 0; f < FLOWS; f++) {
		struct fspec s = { .version = 4, .client = 1 + f / 1000,
				   .sport = (uint16_t)(1024 + f), .dport = 53,
				   .payload = 8 };

		make_frame(&x, &s);
		first[f] = forward(&x, 0);
		per[first[f]]++;
	}
	/* Within 10% of the weight's share (the tolerance the integration
	 * test states too). */
	for (int b = 0; b < 3; b++) {
		double want = FLOWS * w[b] / 6.0;

		cr_assert(per[b] > want * 0.9 && per[b] < want * 1.1,
			  "backend %d: %u flows, want %.0f", b, per[b], want);
	}
	/* Every flow again: same backend. */
	for (uint32_t f = 0; f < FLOWS; f++) {
		struct fspec s = { .version = 4, .client = 1 + f / 1000,
				   .sport = (uint16_t)(1024 + f), .dport = 53,
				   .payload = 8 };

		make_frame(&x, &s);
		cr_assert_eq(forward(&x, 0), first[f], "flow %u moved", f);
	}
	cr_assert_eq(x.c->c_stats[0][0].new_flows, FLOWS);
	ctx_fini(&x);
}

/* Backend address of flow f after a run. */
static uint32_t run_flow(struct ctx *x, uint32_t f, uint16_t dport)
{
	struct fspec s = { .version = 4, .client = 1, .dport = dport,
			   .sport = (uint16_t)(2000 + f), .payload = 8 };

	make_frame(x, &s);
	return x->c->c_vips[0].v_be[forward(x, 0)].be_addr.a_v4;
}

Test(lb_path, reload_keeps_established_flows)
{
	enum { FLOWS = 3000 };
	static uint32_t before[FLOWS];
	const char *three = COMMON "vip 198.18.2.1 udp 53\n"
		"backend 198.18.1.11\nbackend 198.18.1.12\nbackend 198.18.1.13\n";
	uint32_t gone = htonl(0xc612010cu), drained = htonl(0xc612010bu);
	unsigned int moved = 0, of_gone = 0;
	struct ctx x;

	ctx_init(&x, three);
	for (uint32_t f = 0; f < FLOWS; f++)
		before[f] = run_flow(&x, f, 53);

	/* .12 removed, .11 drained, .14 added: established flows of .11 and
	 * .13 stay, .12's go elsewhere, none to .11. */
	ctx_reload(&x, COMMON "vip 198.18.2.1 udp 53\n"
		   "backend 198.18.1.11 weight 0\nbackend 198.18.1.13\n"
		   "backend 198.18.1.14\n");
	for (uint32_t f = 0; f < FLOWS; f++) {
		uint32_t now = run_flow(&x, f, 53);

		if (before[f] == gone) {
			of_gone++;
			cr_assert_neq(now, gone);
			cr_assert_neq(now, drained, "no new flow to a drained "
				      "backend");
		} else {
			moved += now != before[f];
		}
	}
	cr_assert_eq(moved, 0, "%u established flows moved", moved);
	cr_assert_eq(x.w.p_st.rescheduled, of_gone);
	cr_assert_gt(of_gone, FLOWS / 5);
	/* New flows: never the drained backend. */
	for (uint32_t f = FLOWS; f < 2 * FLOWS; f++)
		cr_assert_neq(run_flow(&x, f, 53), drained);
	ctx_fini(&x);
}

Test(lb_path, two_instances_agree)
{
	const char *text = COMMON "vip 198.18.2.1 udp 53\n"
		"backend 198.18.1.11\nbackend 198.18.1.12 weight 4\n"
		"backend 198.18.1.13\nbackend 198.18.1.14 weight 2\n";
	struct ctx a, b;

	ctx_init(&a, text);
	ctx_init(&b, text);
	for (uint32_t f = 0; f < 5000; f++)
		cr_assert_eq(run_flow(&a, f, 53), run_flow(&b, f, 53),
			     "flow %u", f);
	ctx_fini(&a);
	ctx_fini(&b);
}

Test(lb_path, fragments_go_by_three_tuple)
{
	struct ctx x;
	struct fspec first = { .version = 4, .client = 7, .sport = 3333,
			       .dport = 53, .payload = 64,
			       .frag = XM_PKT_IP_MF };
	struct fspec later = first;
	int b0, b;

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n"
		 "backend 198.18.1.12\nbackend 198.18.1.13\n"
		 "backend 198.18.1.14\n"
		 "vip 198.18.2.2 udp 53\nbackend 198.18.1.11\n"
		 "vip 198.18.2.2 udp 54\nbackend 198.18.1.12\n");
	make_frame(&x, &first);
	b0 = forward(&x, 0);
	later.frag = 9 | XM_PKT_IP_MF;		/* offset 72, more */
	make_frame(&x, &later);
	cr_assert_eq(forward(&x, 0), b0);
	later.frag = 18;			/* the last one */
	make_frame(&x, &later);
	cr_assert_eq(forward(&x, 0), b0);
	/* Another datagram from the same client (another port): same
	 * 3-tuple, same backend. */
	later.sport = 4444;
	make_frame(&x, &later);
	cr_assert_eq(forward(&x, 0), b0);
	cr_assert_eq(x.w.p_st.frags, 4);
	/* Unfragmented packets of the flow go by 5-tuple: not necessarily
	 * b0, but always the same. */
	first.frag = 0;
	make_frame(&x, &first);
	b = forward(&x, 0);
	make_frame(&x, &first);
	cr_assert_eq(forward(&x, 0), b);
	/* 198.18.2.2 has two UDP services and no 'frag' mark. */
	later.vip = "198.18.2.2";
	make_frame(&x, &later);
	cr_assert_eq(run(&x, 0), LB_DROP);
	cr_assert_eq(x.w.p_st.frag_no_owner, 1);
	ctx_fini(&x);
}

Test(lb_path, ipv6_fragments_go_by_three_tuple)
{
	struct ctx x;
	struct xm_pkt_eth eth;
	struct xm_pkt_ip ip;
	int b0 = -1;

	ctx_init(&x, COMMON "vip 2001:2::1 udp 53\nbackend 2001:2::11\n"
		 "backend 2001:2::12\nbackend 2001:2::13\n");
	for (int k = 0; k < 3; k++) {
		uint8_t *p = x.frame;
		int n;

		memset(&eth, 0, sizeof(eth));
		memcpy(eth.eth_src, client_mac, 6);
		memcpy(eth.eth_dst, lb_mac, 6);
		eth.eth_type = XM_PKT_ETH_P_IPV6;
		memset(&ip, 0, sizeof(ip));
		ip.ip_version = 6;
		ip.ip_proto = XM_PKT_IPPROTO_FRAGMENT;
		inet_pton(AF_INET6, "2001:2::77", ip.ip_src.a_v6);
		inet_pton(AF_INET6, "2001:2::1", ip.ip_dst.a_v6);
		ip.ip_payload_len = 8 + 24;
		n = xm_pkt_build_eth(p, 64, &eth);
		n += xm_pkt_build_ip(p + n, 64, &ip);
		memset(p + n, 0, 32);
		p[n] = XM_PKT_IPPROTO_UDP;
		/* offsets 0 (M), 24 (M), 48 (last) */
		p[n + 2] = (uint8_t)((k * 24) >> 5);
		p[n + 3] = (uint8_t)(((k * 24) << 3) | (k < 2 ? 1 : 0));
		p[n + 7] = 0x42;
		if (k == 0) {		/* UDP header in the first */
			p[n + 8] = 0x0b;
			p[n + 11] = 53;
			p[n + 13] = 60;
		}
		x.len = (uint32_t)n + 32;
		if (k == 0)
			b0 = forward(&x, 0);
		else
			cr_assert_eq(forward(&x, 0), b0, "fragment %d", k);
	}
	cr_assert_eq(x.w.p_st.frags, 3);
	ctx_fini(&x);
}

Test(lb_path, too_big_answers_at_the_mtu_edge)
{
	struct ctx x;
	struct xm_pkt_info rp;
	/* mtu 1400: IPv4 packets up to 1380 fit in IPIP. */
	struct fspec s = { .version = 4, .client = 5, .sport = 1000,
			   .dport = 53, .payload = 1380 - 28 };
	uint16_t mtu_field;

	ctx_init(&x, COMMON "mtu 1400\nicmp-rate 0\n"
		 "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n"
		 "vip 2001:2::1 udp 53\nbackend 2001:2::11\n");
	make_frame(&x, &s);
	forward(&x, 0);			/* exactly at the edge: fits */
	s.payload++;
	make_frame(&x, &s);
	cr_assert_eq(run(&x, 0), LB_REPLY, "one byte more: too big");
	cr_assert_eq(x.r.r_off, 0);
	cr_assert_eq(xm_pkt_parse(x.frame, x.r.r_len, &rp), 0);
	cr_assert(xm_pkt_csum_ok(x.frame, &rp));
	cr_assert_eq(rp.pi_icmp_type, XM_PKT_ICMP_UNREACH);
	cr_assert_eq(rp.pi_icmp_code, XM_PKT_ICMP_UNREACH_NEEDFRAG);
	memcpy(&mtu_field, x.frame + rp.pi_l4_off + 6, 2);
	cr_assert_eq(ntohs(mtu_field), 1380, "reports what fits inside");
	cr_assert_eq(memcmp(rp.pi_eth.eth_dst, client_mac, 6), 0, "to the "
		     "client's side");
	cr_assert_eq(rp.pi_ip.ip_src.a_v4, htonl(0xc6120201u), "from the VIP");
	cr_assert_eq(rp.pi_ip.ip_dst.a_v4, htonl(0xc6120005u));
	cr_assert_eq(x.w.p_st.icmp_sent, 1);

	/* DF clear: a router would fragment; we count and drop. */
	s.no_df = true;
	make_frame(&x, &s);
	cr_assert_eq(run(&x, 0), LB_DROP);
	cr_assert_eq(x.w.p_st.too_big_dropped, 1);

	/* IPv6: packet too big with 1400 - 40. */
	{
		struct fspec s6 = { .version = 6, .client = 5, .sport = 1000,
				    .dport = 53, .payload = 1360 - 48 };
		uint32_t mtu6;

		make_frame(&x, &s6);
		forward(&x, 1);
		s6.payload++;
		make_frame(&x, &s6);
		cr_assert_eq(run(&x, 0), LB_REPLY);
		cr_assert_eq(xm_pkt_parse(x.frame, x.r.r_len, &rp), 0);
		cr_assert(xm_pkt_csum_ok(x.frame, &rp));
		cr_assert_eq(rp.pi_icmp_type, XM_PKT_ICMP6_PACKET_TOO_BIG);
		memcpy(&mtu6, x.frame + rp.pi_l4_off + 4, 4);
		cr_assert_eq(ntohl(mtu6), 1360);
	}
	cr_assert_eq(x.w.p_st.too_big, 3);
	ctx_fini(&x);
}

Test(lb_path, too_big_replies_are_rate_limited)
{
	struct ctx x;
	struct fspec s = { .version = 4, .client = 5, .sport = 1000,
			   .dport = 53, .payload = 1500 - 28 };
	uint64_t t = 5000000000ull;

	ctx_init(&x, COMMON "icmp-rate 2\nvip 198.18.2.1 udp 53\n"
		 "backend 198.18.1.11\n");
	for (int i = 0; i < 2; i++) {
		make_frame(&x, &s);
		cr_assert_eq(run(&x, t), LB_REPLY, "reply %d", i);
	}
	make_frame(&x, &s);
	cr_assert_eq(run(&x, t), LB_DROP, "third in the same instant");
	make_frame(&x, &s);
	cr_assert_eq(run(&x, t + 500000000ull), LB_REPLY, "half a second "
		     "later: one more");
	cr_assert_eq(x.w.p_st.too_big_dropped, 1);
	ctx_fini(&x);
}

Test(lb_path, no_room_for_the_outer_header)
{
	struct ctx x;
	struct fspec s = { .version = 4, .client = 5, .sport = 1000,
			   .dport = 53, .payload = 20 };

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n");
	make_frame(&x, &s);
	cr_assert_eq(lb_path_process(&x.w, x.c, x.frame, x.len, 19, 100, 0,
				     &x.r), LB_DROP);
	cr_assert_eq(x.w.p_st.no_headroom, 1);
	cr_assert_eq(lb_path_process(&x.w, x.c, x.frame, x.len, 20, 100, 0,
				     &x.r), LB_FORWARD, "20 bytes are enough");
	ctx_fini(&x);
}

Test(lb_path, what_is_not_for_a_service_is_dropped_and_counted)
{
	struct ctx x;
	struct fspec s = { .version = 4, .client = 5, .sport = 1000,
			   .dport = 54, .payload = 20 };

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n"
		 "vip 198.18.2.1 udp 99\nbackend 198.18.1.11 weight 0\n");
	make_frame(&x, &s);
	cr_assert_eq(run(&x, 0), LB_DROP);
	cr_assert_eq(x.w.p_st.no_service, 1);
	s.dport = 99;
	make_frame(&x, &s);
	cr_assert_eq(run(&x, 0), LB_DROP, "only drained backends");
	cr_assert_eq(x.w.p_st.no_backend, 1);
	cr_assert_eq(lb_lru_count(x.w.p_lru), 0, "nothing remembered");
	/* ICMP to the VIP: not TCP/UDP. */
	x.frame[14 + 9] = XM_PKT_IPPROTO_ICMP;
	cr_assert_eq(run(&x, 0), LB_DROP);
	/* ARP */
	x.frame[12] = 0x08;
	x.frame[13] = 0x06;
	cr_assert_eq(run(&x, 0), LB_DROP);
	cr_assert_eq(x.w.p_st.not_ip, 1);
	ctx_fini(&x);
}

/*
 * The worker tries its last packet's service before the lookup: whatever
 * the hint holds (another service's index, one past the end, one left
 * over from a larger configuration), every packet goes to its own
 * service or to none, and a miss does not replace a good hint.
 */
Test(lb_path, last_service_hint_never_misleads)
{
	static const struct {
		const char *vip;
		uint16_t dport;
		uint8_t proto;
	} pk[] = {
		{ "198.18.2.1", 53, 0 }, { "198.18.2.1", 53, 0 },
		{ "198.18.2.1", 80, XM_PKT_IPPROTO_TCP },
		{ "198.18.2.2", 53, 0 }, { "198.18.2.1", 80, 0 },
		{ "198.18.2.1", 53, 0 }, { "198.18.2.2", 53, 0 },
	};
	/* Service index each packet belongs to, -1: none (UDP 80). */
	static const int want[] = { 0, 0, 1, 2, -1, 0, 2 };
	static const uint32_t hints[] = { 0, 1, 2, 3, 1000, UINT32_MAX };
	struct ctx x;
	uint64_t expect[3] = { 0 };

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n"
		 "vip 198.18.2.1 tcp 80\nbackend 198.18.1.12\n"
		 "vip 198.18.2.2 udp 53\nbackend 198.18.1.13\n");
	for (size_t h = 0; h < sizeof(hints) / sizeof(hints[0]); h++) {
		for (size_t i = 0; i < sizeof(pk) / sizeof(pk[0]); i++) {
			struct fspec s = { .version = 4, .client = 7,
					   .sport = 2000, .dport = pk[i].dport,
					   .proto = pk[i].proto,
					   .vip = pk[i].vip, .payload = 10 };
			int vi = -1;

			/* By name: the table's order is the file's. */
			for (uint32_t v = 0; v < x.c->c_nvips; v++)
				if (x.c->c_vips[v].v_port == pk[i].dport &&
				    x.c->c_vips[v].v_proto ==
				    (pk[i].proto ? pk[i].proto :
				     XM_PKT_IPPROTO_UDP) &&
				    x.c->c_vips[v].v_addr.a_v4 ==
				    inet_addr(pk[i].vip))
					vi = (int)v;
			cr_assert_eq(vi >= 0, want[i] >= 0);
			if (i == 0)
				x.w.p_vip_hint = hints[h];
			make_frame(&x, &s);
			if (vi < 0) {
				uint32_t before = x.w.p_vip_hint;

				cr_assert_eq(run(&x, 0), LB_DROP);
				cr_assert_eq(x.w.p_vip_hint, before,
					     "a miss keeps the hint");
				continue;
			}
			forward(&x, vi);
			expect[vi]++;
			cr_assert_eq(x.w.p_vip_hint, (uint32_t)vi);
			for (int v = 0; v < 3; v++)
				cr_assert_eq(x.c->c_stats[0][v].packets,
					     expect[v], "hint %u packet %zu: "
					     "service %d counted wrong",
					     hints[h], i, v);
		}
	}
	cr_assert_eq(x.w.p_st.no_service,
		     sizeof(hints) / sizeof(hints[0]));
	ctx_fini(&x);
}

Test(lb_path, tcp_syn_is_a_new_flow_ack_is_a_miss)
{
	struct ctx x;
	struct fspec s = { .version = 4, .client = 5, .sport = 1000,
			   .dport = 80, .proto = XM_PKT_IPPROTO_TCP };
	const struct lb_cnt *vc;

	ctx_init(&x, COMMON "vip 198.18.2.1 tcp 80\nbackend 198.18.1.11\n");
	vc = &x.c->c_stats[0][0];
	make_frame(&x, &s);
	forward(&x, 0);
	s.tcp_flags = XM_PKT_TCP_ACK;
	make_frame(&x, &s);
	forward(&x, 0);			/* hit */
	s.sport = 1001;
	make_frame(&x, &s);
	forward(&x, 0);			/* mid-flow miss */
	cr_assert_eq(vc->new_flows, 1);
	cr_assert_eq(vc->lru_misses, 1);
	cr_assert_eq(vc->packets, 3);
	ctx_fini(&x);
}

/* Sends a TCP segment of flow (client, sport) with flags at now. */
static enum lb_verdict tcp_seg(struct ctx *x, uint32_t client, uint16_t sport,
			       uint8_t flags, uint64_t now)
{
	struct fspec s = { .version = 4, .client = client, .sport = sport,
			   .dport = 80, .proto = XM_PKT_IPPROTO_TCP,
			   .tcp_flags = flags };

	make_frame(x, &s);
	return run(x, now);
}

/* The backend (address) the last forwarded frame went to. */
static uint32_t last_backend(const struct ctx *x)
{
	struct xm_pkt_info out;

	cr_assert_eq(xm_pkt_parse(x->frame + x->r.r_off, x->r.r_len, &out), 0);
	return out.pi_ip.ip_dst.a_v4;
}

/*
 * Only a flow's start takes an entry: a TCP segment without SYN that
 * misses (an evicted flow, one begun on another balancer, or a forged
 * one) is forwarded by the Maglev table and leaves the table alone, so
 * a stream of them evicts nothing.
 */
Test(lb_path, tcp_without_syn_never_takes_an_entry)
{
	struct lb_lru_stats ls;
	struct ctx x;
	uint32_t be;

	ctx_init(&x, COMMON "lru-size 16\nvip 198.18.2.1 tcp 80\n"
		 "backend 198.18.1.11\nbackend 198.18.1.12\n"
		 "backend 198.18.1.13\n");
	cr_assert_eq(tcp_seg(&x, 5, 1000, XM_PKT_TCP_SYN, 0), LB_FORWARD);
	be = last_backend(&x);
	for (uint32_t i = 0; i < 1000; i++) {
		static const uint8_t flags[] = {
			XM_PKT_TCP_ACK, XM_PKT_TCP_ACK | XM_PKT_TCP_PSH,
			XM_PKT_TCP_FIN | XM_PKT_TCP_ACK, XM_PKT_TCP_RST,
			XM_PKT_TCP_SYN | XM_PKT_TCP_ACK,
		};

		cr_assert_eq(tcp_seg(&x, 100 + i, (uint16_t)(2000 + i),
				     flags[i % 5], 0), LB_FORWARD);
	}
	cr_assert_eq(lb_lru_count(x.w.p_lru), 1, "mid-flow misses pinned");
	lb_lru_stats(x.w.p_lru, &ls);
	cr_assert_eq(ls.evictions, 0);
	cr_assert_eq(x.c->c_stats[0][0].lru_misses, 1000);
	cr_assert_eq(x.c->c_stats[0][0].new_flows, 1);
	/* the SYN's flow is still there, and its ACK hits it */
	cr_assert_eq(tcp_seg(&x, 5, 1000, XM_PKT_TCP_ACK, 0), LB_FORWARD);
	cr_assert_eq(last_backend(&x), be);
	lb_lru_stats(x.w.p_lru, &ls);
	cr_assert_eq(ls.hits, 1);
	ctx_fini(&x);
}

/*
 * One source pins at most pin-burst flows at once and pin-rate a second
 * after that; its other flows are forwarded all the same (by the Maglev
 * table), counted, and not remembered.  Another source has its own
 * budget.  UDP flows go by the same rule, retried at their next packet.
 */
Test(lb_path, one_source_pins_at_most_its_budget)
{
	const uint64_t t0 = 50000000000ull;	/* 50 s */
	struct ctx x;
	uint32_t pinned;

	ctx_init(&x, COMMON "pin-rate 10\npin-burst 20\n"
		 "vip 198.18.2.1 tcp 80\nbackend 198.18.1.11\n"
		 "backend 198.18.1.12\nvip 198.18.2.1 udp 53\n"
		 "backend 198.18.1.13\n");
	for (uint32_t i = 0; i < 100; i++)
		cr_assert_eq(tcp_seg(&x, 7, (uint16_t)(3000 + i),
				     XM_PKT_TCP_SYN, t0), LB_FORWARD,
			     "a refused flow is still forwarded");
	cr_assert_eq(lb_lru_count(x.w.p_lru), 20, "the burst");
	cr_assert_eq(x.w.p_st.pin_refused_source, 80);
	/* half a second: 5 more */
	for (uint32_t i = 100; i < 200; i++)
		tcp_seg(&x, 7, (uint16_t)(3000 + i), XM_PKT_TCP_SYN,
			t0 + 500000000ull);
	cr_assert_eq(lb_lru_count(x.w.p_lru), 25);
	/* another source: a budget of its own */
	for (uint32_t i = 0; i < 30; i++)
		tcp_seg(&x, 8, (uint16_t)(3000 + i), XM_PKT_TCP_SYN,
			t0 + 500000000ull);
	cr_assert_eq(lb_lru_count(x.w.p_lru), 45);
	/* a refused UDP flow is pinned by a later packet once there is a
	 * token for it */
	{
		struct fspec s = { .version = 4, .client = 7, .sport = 9,
				   .dport = 53, .payload = 8 };

		make_frame(&x, &s);
		cr_assert_eq(run(&x, t0 + 500000000ull), LB_FORWARD);
		pinned = lb_lru_count(x.w.p_lru);
		cr_assert_eq(pinned, 45, "no token left for source 7");
		make_frame(&x, &s);
		cr_assert_eq(run(&x, t0 + 700000000ull), LB_FORWARD);
		cr_assert_eq(lb_lru_count(x.w.p_lru), 46, "pinned when it could");
	}
	cr_assert_eq(x.w.p_st.pin_refused_table, 0);
	ctx_fini(&x);
}

/*
 * The flood, on plain bytes: 200 established connections in a
 * table of 1024, then 100000 SYNs from as many sources within a second,
 * then a reload that adds a fourth backend.  Established connections
 * keep their entries through the flood, so none moves; the flood's
 * flows were forwarded all the same.
 */
Test(lb_path, a_syn_flood_neither_flushes_the_table_nor_moves_connections)
{
	enum { EST = 200, FLOOD = 100000 };
	static uint32_t before[EST];
	const uint64_t t0 = 10000000000ull;	/* 10 s */
	const char *three = COMMON "lru-size 1024\n"
		"vip 198.18.2.1 tcp 80\nbackend 198.18.1.11\n"
		"backend 198.18.1.12\nbackend 198.18.1.13\n";
	struct lb_lru_stats ls;
	uint64_t fwd0;
	unsigned int moved = 0;
	struct ctx x;

	ctx_init(&x, three);
	for (uint32_t i = 0; i < EST; i++) {
		cr_assert_eq(tcp_seg(&x, 1, (uint16_t)(10000 + i),
				     XM_PKT_TCP_SYN, t0), LB_FORWARD);
		cr_assert_eq(tcp_seg(&x, 1, (uint16_t)(10000 + i),
				     XM_PKT_TCP_ACK, t0), LB_FORWARD);
		before[i] = last_backend(&x);
	}
	cr_assert_eq(lb_lru_count(x.w.p_lru), EST);
	fwd0 = x.w.p_st.forwarded;
	for (uint32_t i = 0; i < FLOOD; i++)
		cr_assert_eq(tcp_seg(&x, 0x100 + i, (uint16_t)(i * 7919u),
				     XM_PKT_TCP_SYN, t0 + 1000000ull +
				     (uint64_t)i * 10000u), LB_FORWARD);
	cr_assert_eq(x.w.p_st.forwarded - fwd0, FLOOD, "the flood was "
		     "forwarded");
	lb_lru_stats(x.w.p_lru, &ls);
	cr_log_info("flood: %llu inserted, %llu evicted, %llu refused",
		    (unsigned long long)ls.inserts - EST,
		    (unsigned long long)ls.evictions,
		    (unsigned long long)(x.w.p_st.pin_refused_source +
					 x.w.p_st.pin_refused_table));
	cr_assert_eq(ls.evictions, 0, "the flood evicted %llu flows",
		     (unsigned long long)ls.evictions);
	cr_assert_gt(x.w.p_st.pin_refused_table, FLOOD / 2);

	ctx_reload(&x, COMMON "lru-size 1024\n"
		   "vip 198.18.2.1 tcp 80\nbackend 198.18.1.11\n"
		   "backend 198.18.1.12\nbackend 198.18.1.13\n"
		   "backend 198.18.1.14\n");
	for (uint32_t i = 0; i < EST; i++) {
		cr_assert_eq(tcp_seg(&x, 1, (uint16_t)(10000 + i),
				     XM_PKT_TCP_ACK, t0 + 2000000000ull),
			     LB_FORWARD);
		moved += last_backend(&x) != before[i];
	}
	cr_assert_eq(moved, 0, "%u of %u established connections moved",
		     moved, EST);
	ctx_fini(&x);
}

Test(lb_path, malformed_frames_are_counted_by_reason)
{
	struct ctx x;
	struct fspec s = { .version = 4, .client = 5, .sport = 1000,
			   .dport = 53, .payload = 40 };
	struct fspec s6 = { .version = 6, .client = 5, .sport = 1000,
			    .dport = 53, .payload = 40 };
	uint8_t good[2048];
	uint32_t glen;

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n"
		 "vip 2001:2::1 udp 53\nbackend 2001:2::11\n");
	make_frame(&x, &s);
	memcpy(good, x.frame, x.len);
	glen = x.len;

	x.len = 10;				/* tiny: no Ethernet header */
	cr_assert_eq(run(&x, 0), LB_DROP);
	x.len = 0;
	cr_assert_eq(run(&x, 0), LB_DROP);
	x.len = 14 + 12;			/* IP header cut */
	cr_assert_eq(run(&x, 0), LB_DROP);
	memcpy(x.frame, good, glen);
	x.len = 14 + 20 + 4;			/* UDP header cut (total len
						 * past the frame, too) */
	cr_assert_eq(run(&x, 0), LB_DROP);
	memcpy(x.frame, good, glen);
	x.len = glen;
	x.frame[14] = 0x44;			/* IHL 4 */
	cr_assert_eq(run(&x, 0), LB_DROP);
	x.frame[14] = 0x45;
	x.frame[16] = 0xff;			/* total length > frame */
	cr_assert_eq(run(&x, 0), LB_DROP);
	x.frame[16] = 0;
	x.frame[17] = 10;			/* total length < header */
	cr_assert_eq(run(&x, 0), LB_DROP);
	cr_assert_eq(x.w.p_st.malformed, 7);
	cr_assert_eq(x.w.p_st.malformed_why[XM_PKT_ERR_TRUNC_ETH], 2);
	cr_assert_eq(x.w.p_st.malformed_why[XM_PKT_ERR_BAD_IHL], 1);
	cr_assert_geq(x.w.p_st.malformed_why[XM_PKT_ERR_BAD_TOTLEN], 2);

	/* IPv6: a chain of 9 destination-options headers (more than the
	 * parser walks), and one cut short. */
	make_frame(&x, &s6);
	{
		uint8_t *p = x.frame + 14 + 40;
		uint32_t chain = 9 * 8;

		memmove(p + chain, p, x.len - 54);
		for (int i = 0; i < 9; i++) {
			memset(p + i * 8, 0, 8);
			p[i * 8] = i < 8 ? XM_PKT_IPPROTO_DSTOPTS
					 : XM_PKT_IPPROTO_UDP;
			p[i * 8 + 2] = 1;	/* PadN filling the rest */
			p[i * 8 + 3] = 4;
		}
		x.frame[14 + 6] = XM_PKT_IPPROTO_DSTOPTS;
		x.frame[14 + 5] = (uint8_t)(x.frame[14 + 5] + chain);
		x.len += chain;
		cr_assert_eq(run(&x, 0), LB_DROP);
		cr_assert_eq(x.w.p_st.malformed_why[XM_PKT_ERR_EXTHDR_TOO_LONG],
			     1);
		x.len = 14 + 40 + 4;		/* extension header cut */
		x.frame[14 + 4] = 0;
		x.frame[14 + 5] = 4;
		cr_assert_eq(run(&x, 0), LB_DROP);
		cr_assert_eq(x.w.p_st.malformed_why[XM_PKT_ERR_TRUNC_EXTHDR], 1);
	}
	cr_assert_eq(x.w.p_st.forwarded, 0);
	cr_assert_eq(lb_lru_count(x.w.p_lru), 0);
	ctx_fini(&x);
}

/*
 * Random byte flips, truncations and extensions of good frames: the
 * verdict is one of three, a forwarded frame parses and carries the
 * inner packet, a reply parses, and the counters add up.
 */
/*
 * The fast parse of the common frame (lb_path_parse_fast()) is
 * xm_pkt_parse() exactly: on frames mutated at random (bits flipped,
 * lengths cut), whenever it takes a frame its struct is xm_pkt_parse()'s
 * byte for byte, and it takes every clean IPv4 TCP/UDP frame.
 */
Test(lb_path, fast_parse_is_xm_pkt_parse)
{
	struct ctx x;
	uint32_t seed = 7, taken = 0, clean = 0;

	ctx_init(&x, COMMON "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n");
	for (int i = 0; i < 40000; i++) {
		struct fspec s = { .version = i % 7 ? 4 : 6,
				   .client = (uint32_t)i % 50,
				   .sport = (uint16_t)i,
				   .dport = 53,
				   .proto = i % 2 ? 0 : XM_PKT_IPPROTO_TCP,
				   .payload = (uint32_t)(i * 7) % 300,
				   .nvlan = (uint8_t)(i % 13 == 0),
				   .frag = i % 11 == 0 ? XM_PKT_IP_MF : 0 };
		struct xm_pkt_info a, b;
		bool plain = s.version == 4 && !s.nvlan && !s.frag;
		int flips;

		make_frame(&x, &s);
		seed = seed * 1103515245u + 12345u;
		flips = (int)(seed >> 29);
		if (i % 4 == 0)
			flips = 0;
		for (int k = 0; k < flips; k++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly the headers, where the checks are */
			x.frame[(seed >> 8) % (x.len < 64 ? x.len : 64)] ^=
				(uint8_t)(1u << (seed & 7));
		}
		seed = seed * 1103515245u + 12345u;
		if (flips && (seed >> 28) < 3)
			x.len = (seed >> 8) % (x.len + 1);
		memset(&a, 0xa5, sizeof(a));
		if (!lb_path_parse_fast(x.frame, x.len, &a)) {
			cr_assert(!(plain && flips == 0),
				  "a clean frame (%d) was not taken", i);
			continue;
		}
		taken++;
		clean += flips == 0;
		cr_assert_eq(xm_pkt_parse(x.frame, x.len, &b), 0, "frame %d", i);
		cr_assert(memcmp(&a, &b, sizeof(a)) == 0,
			  "frame %d: the fast parse differs", i);
	}
	cr_assert_gt(clean, 5000);
	cr_assert_gt(taken, clean + 1000, "mutated frames taken too");
	ctx_fini(&x);
}

Test(lb_path, mutations_never_misbehave)
{
	struct ctx x;
	uint32_t seed = 99, forwarded = 0, dropped = 0, replied = 0;
	struct lb_path_stats *st;

	ctx_init(&x, COMMON "mtu 600\nicmp-rate 0\n"
		 "vip 198.18.2.1 udp 53\nbackend 198.18.1.11\n"
		 "backend 2001:2::12\n"
		 "vip 2001:2::1 tcp 80\nbackend 2001:2::11\nbackend 198.18.1.3\n");
	for (int i = 0; i < 30000; i++) {
		struct fspec s = { .version = i % 3 ? 4 : 6,
				   .client = (uint32_t)i % 50,
				   .sport = (uint16_t)i,
				   .dport = i % 3 ? 53 : 80,
				   .proto = i % 3 ? 0 : XM_PKT_IPPROTO_TCP,
				   .payload = (uint32_t)(i * 7) % 700,
				   .nvlan = (uint8_t)(i % 5 == 0),
				   .frag = i % 11 == 0 ? XM_PKT_IP_MF : 0 };
		enum lb_verdict v;
		int flips;

		make_frame(&x, &s);
		seed = seed * 1103515245u + 12345u;
		flips = (int)(seed >> 29);
		for (int k = 0; k < flips; k++) {
			seed = seed * 1103515245u + 12345u;
			x.frame[(seed >> 8) % x.len] ^= (uint8_t)(1u << (seed & 7));
		}
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 28) < 3)
			x.len = (seed >> 8) % (x.len + 1);
		v = run(&x, (uint64_t)i * 1000);
		if (v == LB_FORWARD) {
			struct xm_pkt_info pi;

			cr_assert_eq(xm_pkt_parse(x.frame + x.r.r_off,
						  x.r.r_len, &pi), 0);
			cr_assert(pi.pi_proto == XM_PKT_IPPROTO_IPIP ||
				  pi.pi_proto == XM_PKT_IPPROTO_IPV6);
			cr_assert_leq(x.r.r_len + (uint32_t)(-x.r.r_off) -
				      (uint32_t)(-x.r.r_off), BUFSZ);
			forwarded++;
		} else if (v == LB_REPLY) {
			struct xm_pkt_info pi;

			cr_assert_eq(xm_pkt_parse(x.frame, x.r.r_len, &pi), 0);
			cr_assert(xm_pkt_csum_ok(x.frame, &pi));
			replied++;
		} else {
			cr_assert_eq(v, LB_DROP);
			dropped++;
		}
	}
	st = &x.w.p_st;
	cr_assert_eq(st->rx, 30000);
	cr_assert_eq(st->forwarded, forwarded);
	cr_assert_eq(st->icmp_sent, replied);
	cr_assert_eq(st->malformed + st->not_ip + st->not_tcp_udp +
		     st->no_service + st->no_backend + st->frag_no_owner +
		     st->too_big_dropped + st->no_headroom, dropped,
		     "every drop has a reason");
	cr_assert_gt(forwarded, 1000);
	cr_assert_gt(dropped, 1000);
	cr_assert_gt(replied, 10);
	ctx_fini(&x);
}
