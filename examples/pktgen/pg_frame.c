/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_frame.c - templates, in-place flow rewrites and the receiver's
 * frame reader (pg_frame.h).
 *
 * Building goes through the library's header builders (xm_pkt.h), which
 * fill every checksum; rewriting a field afterwards adjusts the checksums
 * that cover it (RFC 1624) from the bytes replaced, so it is right
 * whatever value was there before.
 *
 * KPI: pg_tmpl_min_size, pg_tmpl_build, pg_tmpl_set_flow, pg_rx_locate,
 *      pg_rx_tuple_hash.
 */
#include <errno.h>
#include <string.h>

#include "pg_frame.h"
#include "pg_stamp.h"

static uint32_t pg_l2_len(const struct pg_tmpl_spec *s)
{
	return XM_PKT_ETH_HLEN + (s->ts_vlan >= 0 ? XM_PKT_VLAN_HLEN : 0);
}

static uint32_t pg_l3_len(const struct pg_tmpl_spec *s)
{
	return s->ts_family == 6 ? XM_PKT_IPV6_HLEN : XM_PKT_IPV4_HLEN;
}

static uint32_t pg_l4_len(const struct pg_tmpl_spec *s)
{
	return s->ts_proto == XM_PKT_IPPROTO_TCP ? XM_PKT_TCP_HLEN :
						   XM_PKT_UDP_HLEN;
}

uint32_t pg_tmpl_min_size(const struct pg_tmpl_spec *s)
{
	uint32_t n = pg_l2_len(s) + pg_l3_len(s) + pg_l4_len(s) + PG_STAMP_LEN;

	return n < XM_PKT_ETH_ZLEN ? XM_PKT_ETH_ZLEN : n;
}

int pg_tmpl_build(const struct pg_tmpl_spec *s, uint32_t size, uint8_t *buf,
		  uint32_t cap, struct pg_layout *ly)
{
	struct xm_pkt_tmpl t;
	struct xm_pkt_info pi;
	uint32_t hdrs;
	int n;

	if ((s->ts_family != 4 && s->ts_family != 6) ||
	    (s->ts_proto != XM_PKT_IPPROTO_UDP &&
	     s->ts_proto != XM_PKT_IPPROTO_TCP) || s->ts_vlan > 4095 ||
	    size < pg_tmpl_min_size(s))
		return -EINVAL;
	hdrs = pg_l2_len(s) + pg_l3_len(s) + pg_l4_len(s);
	if (size - pg_l2_len(s) > 65535)
		return -EINVAL;
	if (cap < size)
		return -ENOSPC;

	memset(&t, 0, sizeof(t));
	memcpy(t.t_eth.eth_dst, s->ts_dst_mac, 6);
	memcpy(t.t_eth.eth_src, s->ts_src_mac, 6);
	if (s->ts_vlan >= 0) {
		t.t_eth.eth_nvlan = 1;
		t.t_eth.eth_vlan_tpid[0] = XM_PKT_ETH_P_VLAN;
		t.t_eth.eth_vlan_tci[0] = (uint16_t)s->ts_vlan;
	}
	t.t_ip.ip_version = (uint8_t)s->ts_family;
	t.t_ip.ip_ttl = s->ts_ttl;
	t.t_ip.ip_tos = s->ts_tos;
	t.t_ip.ip_src = s->ts_src;
	t.t_ip.ip_dst = s->ts_dst;
	if (s->ts_family == 4)
		t.t_ip.ip_frag = 0x4000;	/* DF */
	t.t_proto = s->ts_proto;
	t.t_sport = s->ts_sport;
	t.t_dport = s->ts_dport;
	if (s->ts_proto == XM_PKT_IPPROTO_TCP) {
		t.t_tcp.tcp_flags = XM_PKT_TCP_SYN;
		t.t_tcp.tcp_seq = 0x2c0ffee5;
		t.t_tcp.tcp_window = 64240;
	}
	/* NULL payload: the builder zero-fills it, stamp included */
	t.t_payload = NULL;
	t.t_payload_len = size - hdrs;
	n = xm_pkt_build_frame(buf, cap, &t);
	if (n < 0)
		return n;
	if ((uint32_t)n != size)
		return -EINVAL;
	if (xm_pkt_parse(buf, size, &pi) != 0 || !(pi.pi_flags & XM_PKT_F_L4))
		return -EINVAL;

	memset(ly, 0, sizeof(*ly));
	ly->ly_l3_off = pi.pi_l3_off;
	ly->ly_l4_off = pi.pi_l4_off;
	ly->ly_stamp_off = pi.pi_payload_off;
	ly->ly_udp = s->ts_proto == XM_PKT_IPPROTO_UDP;
	ly->ly_l4_csum_off = pi.pi_l4_off + (ly->ly_udp ? 6 : 16);
	ly->ly_min_size = pg_tmpl_min_size(s);
	if (s->ts_family == 4) {
		ly->ly_ip_csum_off = pi.pi_l3_off + 10;
		ly->ly_field_off[PG_FLOW_SRC] = pi.pi_l3_off + 12;
		ly->ly_field_off[PG_FLOW_DST] = pi.pi_l3_off + 16;
		ly->ly_field_csum[PG_FLOW_SRC] = PG_CSUM_IP | PG_CSUM_L4;
		ly->ly_field_csum[PG_FLOW_DST] = PG_CSUM_IP | PG_CSUM_L4;
	} else {
		/* the last 32 bits of each address */
		ly->ly_field_off[PG_FLOW_SRC] = pi.pi_l3_off + 8 + 12;
		ly->ly_field_off[PG_FLOW_DST] = pi.pi_l3_off + 24 + 12;
		ly->ly_field_csum[PG_FLOW_SRC] = PG_CSUM_L4;
		ly->ly_field_csum[PG_FLOW_DST] = PG_CSUM_L4;
	}
	ly->ly_field_len[PG_FLOW_SRC] = 4;
	ly->ly_field_len[PG_FLOW_DST] = 4;
	ly->ly_field_off[PG_FLOW_SPORT] = pi.pi_l4_off;
	ly->ly_field_off[PG_FLOW_DPORT] = pi.pi_l4_off + 2;
	ly->ly_field_len[PG_FLOW_SPORT] = 2;
	ly->ly_field_len[PG_FLOW_DPORT] = 2;
	ly->ly_field_csum[PG_FLOW_SPORT] = PG_CSUM_L4;
	ly->ly_field_csum[PG_FLOW_DPORT] = PG_CSUM_L4;
	/* the stamp's words must pair as the checksum pairs them */
	if ((ly->ly_stamp_off - ly->ly_l4_off) & 1)
		return -EINVAL;
	pg_csum_apply(buf + ly->ly_l4_csum_off,
		      pg_stamp_write(buf + ly->ly_stamp_off, 0, 0, 0),
		      ly->ly_udp);
	return 0;
}

void pg_tmpl_set_flow(uint8_t *hdr, const struct pg_layout *ly,
		      const struct pg_flows *f, uint32_t k)
{
	uint32_t ipd = 0, l4d = 0;

	for (unsigned int d = 0; d < PG_FLOW_DIMS; d++) {
		uint8_t *p = hdr + ly->ly_field_off[d];
		uint32_t v, before, delta;

		if (f->fl_count[d] <= 1)
			continue;
		v = pg_flows_value(f, k, d);
		before = pg_sum16(p, ly->ly_field_len[d] / 2u);
		if (ly->ly_field_len[d] == 4) {
			pg_put16(p, (uint16_t)(v >> 16));
			pg_put16(p + 2, (uint16_t)v);
		} else {
			pg_put16(p, (uint16_t)v);
		}
		delta = pg_sum16(p, ly->ly_field_len[d] / 2u) +
			(ly->ly_field_len[d] / 2u) * 0xffffu - before;
		if (ly->ly_field_csum[d] & PG_CSUM_IP)
			ipd += delta;
		if (ly->ly_field_csum[d] & PG_CSUM_L4)
			l4d += delta;
	}
	if (ipd && ly->ly_ip_csum_off)
		pg_csum_apply(hdr + ly->ly_ip_csum_off, ipd, false);
	if (l4d)
		pg_csum_apply(hdr + ly->ly_l4_csum_off, l4d, ly->ly_udp);
}

/* The source and destination addresses, adjacent in both IP headers
 * (alen bytes each: 4 for IPv4, 16 for IPv6). */
static inline void pg_rx_addrs(struct pg_rx_info *ri, const uint8_t *src,
			       unsigned int alen)
{
	memcpy(ri->ri_src, src, alen);
	memcpy(ri->ri_dst, src + alen, alen);
	ri->ri_family = alen == 4 ? 4 : 6;
}

bool pg_rx_locate(const uint8_t *frame, uint32_t len, struct pg_rx_info *ri)
{
	uint32_t off = 12, l4;
	uint16_t type;
	uint8_t proto;

	memset(ri, 0, sizeof(*ri));
	if (len < XM_PKT_ETH_HLEN)
		return false;
	type = pg_get16(frame + off);
	for (int tags = 0; tags < 2 && (type == XM_PKT_ETH_P_VLAN ||
					type == XM_PKT_ETH_P_QINQ ||
					type == XM_PKT_ETH_P_QINQ_OLD); tags++) {
		off += 4;
		if (off + 2 > len)
			return false;
		type = pg_get16(frame + off);
	}
	off += 2;
	if (type == XM_PKT_ETH_P_IPV4) {
		uint32_t ihl;

		if (off + XM_PKT_IPV4_HLEN > len || (frame[off] >> 4) != 4)
			return false;
		ihl = (frame[off] & 0xf) * 4u;
		if (ihl < XM_PKT_IPV4_HLEN || off + ihl > len)
			return false;
		/* a non-first fragment has no L4 header */
		if (pg_get16(frame + off + 6) & 0x1fff)
			return false;
		proto = frame[off + 9];
		pg_rx_addrs(ri, frame + off + 12, 4);
		l4 = off + ihl;
	} else if (type == XM_PKT_ETH_P_IPV6) {
		if (off + XM_PKT_IPV6_HLEN > len || (frame[off] >> 4) != 6)
			return false;
		proto = frame[off + 6];
		pg_rx_addrs(ri, frame + off + 8, 16);
		l4 = off + XM_PKT_IPV6_HLEN;
	} else {
		return false;
	}
	ri->ri_proto = proto;
	if (proto == XM_PKT_IPPROTO_UDP) {
		if (l4 + XM_PKT_UDP_HLEN > len)
			return false;
		ri->ri_stamp_off = l4 + XM_PKT_UDP_HLEN;
	} else if (proto == XM_PKT_IPPROTO_TCP) {
		uint32_t doff;

		if (l4 + XM_PKT_TCP_HLEN > len)
			return false;
		doff = (frame[l4 + 12] >> 4) * 4u;
		if (doff < XM_PKT_TCP_HLEN || l4 + doff > len)
			return false;
		ri->ri_stamp_off = l4 + doff;
	} else {
		return false;
	}
	ri->ri_sport = pg_get16(frame + l4);
	ri->ri_dport = pg_get16(frame + l4 + 2);
	return true;
}

uint64_t pg_rx_tuple_hash(const struct pg_rx_info *ri)
{
	/* FNV-1a over the tuple, then a final mix (splitmix64's) */
	uint64_t h = 0xcbf29ce484222325ull;
	const uint8_t *parts[3] = { ri->ri_src, ri->ri_dst, NULL };
	unsigned int alen = ri->ri_family == 6 ? 16 : 4;

	for (int i = 0; i < 2; i++)
		for (unsigned int j = 0; j < alen; j++)
			h = (h ^ parts[i][j]) * 0x100000001b3ull;
	h = (h ^ ri->ri_proto) * 0x100000001b3ull;
	h = (h ^ ri->ri_sport) * 0x100000001b3ull;
	h = (h ^ ri->ri_dport) * 0x100000001b3ull;
	h = (h ^ ri->ri_family) * 0x100000001b3ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h ? h : 1;
}
