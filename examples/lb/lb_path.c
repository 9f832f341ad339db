// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_path.c - the per-packet decision (see lb_path.h for the model).
 *
 * Direct server return: only client-to-VIP packets come through here;
 * the backend decapsulates (examples/decap/ or a kernel tunnel) and
 * answers the client itself, from the VIP.  So the balancer rewrites
 * nothing in the client's packet: it prepends, and the inner packet's
 * checksums stay as they were.
 *
 * The outer source address is the VIP-side configuration's src-prefix
 * with its host bits taken from the flow hash (Katran's trick): a backend
 * NIC whose RSS hashes only the outer addresses of an IPIP packet still
 * spreads flows over its queues, and every packet of one flow, fragments
 * included, keeps one outer source, so it stays on one queue.  IPv6 outer
 * headers also get a flow label from the hash.
 *
 * Counters are single-writer: each is a relaxed atomic load and store
 * (plain moves on x86), so another thread reads whole values.
 *
 * A burst goes through in two passes (lb.c): lb_path_classify() parses
 * and hashes every frame and prefetches its connection-table bucket,
 * then lb_path_decide() looks each flow up and encapsulates, by which
 * time the buckets are in cache.  lb_path_process() is both for one
 * frame.
 *
 * KPI:
 *   lb_path_classify()    parse, find the service, hash, prefetch
 *   lb_path_decide()      table lookup, backend, encapsulation or ICMP
 *   lb_path_process()     both: one frame's verdict
 *   lb_path_stats_read()  the counters, from another thread
 */
#include <arpa/inet.h>
#include <string.h>

#include "lb_csum.h"
#include "lb_maglev.h"
#include "lb_path.h"

#define cnt_add(field, v)						\
	__atomic_store_n(&(field), __atomic_load_n(&(field),		\
			 __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)
#define cnt_inc(field)		cnt_add(field, 1)

#define NS_PER_S		1000000000ull

static inline enum lb_verdict drop(uint64_t *counter)
{
	cnt_inc(*counter);
	return LB_DROP;
}

/* Outer IPv4 source: the prefix with its host bits from the hash. */
static uint32_t outer_src4(const struct lb_prefix *pf, uint64_t h)
{
	/* the low 32 - p_len bits (p_len 0..32), without a branch */
	uint32_t host = (uint32_t)(0xffffffffull >> pf->p_len);

	return htonl(ntohl(pf->p_addr.a_v4) | ((uint32_t)(h >> 16) & host));
}

/* Outer IPv6 source: host bits from the hash, at most the low 64. */
static void outer_src6(const struct lb_prefix *pf, uint64_t h,
		       union xm_pkt_addr *out)
{
	uint64_t low = 0, mask;

	*out = pf->p_addr;
	mask = pf->p_len <= 64 ? ~0ull : (1ull << (128 - pf->p_len)) - 1;
	for (int i = 8; i < 16; i++)
		low = low << 8 | out->a_v6[i];
	low = (low & ~mask) | ((h >> 16 | h << 48) & mask);
	for (int i = 15; i >= 8; i--, low >>= 8)
		out->a_v6[i] = (uint8_t)low;
}

static inline void st16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

/*
 * The IPv4 outer header of IPIP (4in4 and 6in4, the common deployment),
 * written straight into the headroom: the bytes xm_pkt_encap() would
 * write (test_lb_path compares them), but without a struct xm_pkt_encap
 * filled field by field and read back whole a moment later (a store-
 * forwarding stall on every packet), and with the checksum summed from
 * the values in registers instead of from the header just stored.
 */
static void ipip4_header(uint8_t *p, uint8_t tos, uint32_t inner_len,
			 uint8_t proto, uint32_t src, uint32_t dst)
{
	uint32_t tot = XM_PKT_IPV4_HLEN + inner_len;
	uint32_t s = ntohl(src), d = ntohl(dst), sum;

	/* 16-bit words in network order: version/IHL/TOS, length, ID 0,
	 * DF, TTL/protocol, (checksum), source, destination. */
	sum = (0x4500u | tos) + tot + XM_PKT_IP_DF + (64u << 8 | proto) +
	      (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	p[0] = 0x45;
	p[1] = tos;
	st16(p + 2, (uint16_t)tot);
	st16(p + 4, 0);
	st16(p + 6, XM_PKT_IP_DF);
	p[8] = 64;
	p[9] = proto;
	st16(p + 10, (uint16_t)~sum);
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
}

/* Replies per second per worker, a one-second bucket. */
static bool icmp_allowed(struct lb_path *w, const struct lb_config *c,
			 uint64_t now_ns)
{
	uint64_t elapsed, cap = (uint64_t)c->c_icmp_rate * NS_PER_S;

	if (c->c_icmp_rate == 0)
		return true;
	elapsed = now_ns - w->p_icmp_last_ns;
	if (elapsed > NS_PER_S)
		elapsed = NS_PER_S;
	w->p_icmp_last_ns = now_ns;
	w->p_icmp_credit += elapsed * c->c_icmp_rate;
	if (w->p_icmp_credit > cap)
		w->p_icmp_credit = cap;
	if (w->p_icmp_credit < NS_PER_S)
		return false;
	w->p_icmp_credit -= NS_PER_S;
	return true;
}

/*
 * Brings bucket b up to now (rate tokens a second, burst deep).
 * @return whether it holds a whole token.
 */
static bool pin_refill(struct lb_pin *b, uint64_t rate, uint64_t burst,
		       uint64_t now_ns)
{
	uint64_t cap = burst * NS_PER_S;

	if (now_ns > b->pn_last_ns) {
		uint64_t elapsed = now_ns - b->pn_last_ns;

		/* whole once it has had time to fill: no product to
		 * overflow */
		if (elapsed >= cap / rate + 1 || elapsed * rate >= b->pn_debt)
			b->pn_debt = 0;
		else
			b->pn_debt -= elapsed * rate;
		b->pn_last_ns = now_ns;
	}
	return b->pn_debt + NS_PER_S <= cap;
}

/*
 * May flow f take a connection-table entry now?  Both its source's budget
 * and the worker's must hold a token; both are paid or neither.  Refusals
 * are counted by the budget that was short.
 */
static bool pin_allowed(struct lb_path *w, const struct lb_config *c,
			const struct lb_flow *f, uint64_t now_ns)
{
	uint64_t all_rate = c->c_lru_size / 8, all_burst = c->c_lru_size / 4;
	struct lb_pin *src;
	uint64_t h;

	if (c->c_pin_rate == 0)
		return true;
	/* An IPv6 host owns its /64: one bucket for all of it. */
	h = lb_siphash13(&c->c_sipkey, f->f_src,
			 (f->f_flags & LB_FLOW_V6) ? 8 : 4);
	src = &w->p_pin[h % LB_PIN_BUCKETS];
	if (!pin_refill(src, c->c_pin_rate, c->c_pin_burst, now_ns)) {
		cnt_inc(w->p_st.pin_refused_source);
		return false;
	}
	if (!pin_refill(&w->p_pin_all, all_rate ? all_rate : 1,
			all_burst ? all_burst : 1, now_ns)) {
		cnt_inc(w->p_st.pin_refused_table);
		return false;
	}
	src->pn_debt += NS_PER_S;
	w->p_pin_all.pn_debt += NS_PER_S;
	return true;
}

/*
 * The packet does not fit the path once encapsulated: tell the client the
 * MTU that does fit (RFC 1191 / RFC 8201), from the VIP, as a router on
 * the way would.  Built over the frame (it is ours to reuse).
 */
static enum lb_verdict too_big(struct lb_path *w, const struct lb_config *c,
			       uint8_t *frame, uint32_t len, uint32_t tailroom,
			       const struct xm_pkt_info *pi, uint32_t mtu,
			       uint32_t overhead, uint64_t now_ns,
			       struct lb_result *r)
{
	uint32_t fits = mtu - overhead;
	int n;

	cnt_inc(w->p_st.too_big);
	/* IPv4 without DF would be fragmented by a router; we do not
	 * fragment, and IPv6 links cannot be below 1280. */
	if ((pi->pi_ip.ip_version == 4 && !(pi->pi_flags & XM_PKT_F_DF)) ||
	    (pi->pi_ip.ip_version == 6 && fits < 1280) ||
	    !icmp_allowed(w, c, now_ns))
		return drop(&w->p_st.too_big_dropped);
	n = xm_pkt_build_too_big(frame, len + tailroom, frame, pi, fits, NULL);
	if (n <= 0)
		return drop(&w->p_st.too_big_dropped);
	r->r_off = 0;
	r->r_len = (uint32_t)n;
	cnt_inc(w->p_st.icmp_sent);
	return LB_REPLY;
}

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ntohs(v);
}

/*
 * What xm_pkt_parse() makes of an untagged IPv4 frame without options
 * carrying an unfragmented TCP or UDP segment (the balancer's common
 * case), without its walk through the layers: the same checks, in the
 * same order of bounds, and the same struct, field by field (test_lb_path
 * and fuzz_lb_path compare the two whole).  Any other frame, or one a
 * check refuses, is left to xm_pkt_parse(), which says why.  Measured:
 * ~95 instructions a packet against ~170 (callgrind, README "Cost").
 */
static const struct xm_pkt_info pi_zero;

static inline __attribute__((always_inline)) bool
parse_fast(const uint8_t *p, uint32_t len, struct xm_pkt_info *pi)
{
	uint32_t totlen, avail, hlen, ulen;
	uint16_t frag;
	uint8_t proto;

	if (len < XM_PKT_ETH_HLEN + XM_PKT_IPV4_HLEN || p[12] != 0x08 ||
	    p[13] != 0x00 || p[14] != 0x45)
		return false;
	totlen = ld16(p + 16);
	frag = ld16(p + 20);
	proto = p[23];
	if (totlen < XM_PKT_IPV4_HLEN || totlen > len - XM_PKT_ETH_HLEN ||
	    (frag & (XM_PKT_IP_MF | XM_PKT_IP_OFFMASK)) != 0)
		return false;
	/* totlen <= len - 14: everything up to the IP packet's end is in
	 * the frame. */
	avail = totlen - XM_PKT_IPV4_HLEN;
	if (proto == XM_PKT_IPPROTO_TCP) {
		if (avail < XM_PKT_TCP_HLEN)
			return false;
		hlen = (uint32_t)(p[46] >> 4) * 4;
		if (hlen < XM_PKT_TCP_HLEN || hlen > avail)
			return false;
		ulen = 0;
	} else if (proto == XM_PKT_IPPROTO_UDP) {
		hlen = XM_PKT_UDP_HLEN;
		if (avail < hlen)
			return false;
		ulen = ld16(p + 38);
		if (ulen < hlen || ulen > avail)
			return false;
	} else {
		return false;
	}

	*pi = pi_zero;
	pi->pi_len = len;
	pi->pi_caplen = len;
	pi->pi_flags = XM_PKT_F_IPV4 | XM_PKT_F_L4 |
		       ((frag & XM_PKT_IP_DF) ? XM_PKT_F_DF : 0) |
		       (len - XM_PKT_ETH_HLEN > totlen ? XM_PKT_F_L2_PAD : 0);
	pi->pi_proto = proto;
	memcpy(&pi->pi_eth, p, 12);	/* eth_dst, eth_src */
	pi->pi_eth.eth_type = XM_PKT_ETH_P_IPV4;
	pi->pi_ip.ip_version = 4;
	pi->pi_ip.ip_proto = proto;
	pi->pi_ip.ip_ttl = p[22];
	pi->pi_ip.ip_tos = p[15];
	pi->pi_ip.ip_id = ld16(p + 18);
	pi->pi_ip.ip_frag = frag;
	pi->pi_ip.ip_payload_len = avail;
	memcpy(&pi->pi_ip.ip_src.a_v4, p + 26, 4);
	memcpy(&pi->pi_ip.ip_dst.a_v4, p + 30, 4);
	pi->pi_l3_off = XM_PKT_ETH_HLEN;
	pi->pi_l3_hlen = XM_PKT_IPV4_HLEN;
	pi->pi_l4_hlen = (uint16_t)hlen;
	pi->pi_l3_len = totlen;
	pi->pi_csum_dst_off = XM_PKT_ETH_HLEN + 16;
	pi->pi_l4_off = XM_PKT_ETH_HLEN + XM_PKT_IPV4_HLEN;
	pi->pi_sport = ld16(p + 34);
	pi->pi_dport = ld16(p + 36);
	if (proto == XM_PKT_IPPROTO_TCP) {
		pi->pi_tcp_flags = p[47];
		pi->pi_payload_len = avail - hlen;
	} else {
		pi->pi_payload_len = ulen - hlen;
	}
	pi->pi_payload_off = XM_PKT_ETH_HLEN + XM_PKT_IPV4_HLEN + hlen;
	return true;
}

bool lb_path_parse_fast(const uint8_t *frame, uint32_t len,
			struct xm_pkt_info *pi)
{
	return parse_fast(frame, len, pi);
}

bool lb_path_classify(struct lb_path *w, const struct lb_config *c,
		      const uint8_t *frame, uint32_t len, struct lb_pkt *k)
{
	struct xm_pkt_info *pi = &k->k_pi;
	struct lb_flow *f = &k->k_flow;
	int vi;

	cnt_inc(w->p_st.rx);
	/* The common case needs none of the checks below (parse_fast()
	 * takes only unfragmented IPv4 TCP/UDP). */
	if (parse_fast(frame, len, pi))
		goto flow;
	if (xm_pkt_parse(frame, len, pi) != 0) {
		cnt_inc(w->p_st.malformed_why[pi->pi_err < XM_PKT_ERR_MAX ?
					      pi->pi_err : 0]);
		cnt_inc(w->p_st.malformed);
		return false;
	}
	if (!(pi->pi_flags & (XM_PKT_F_IPV4 | XM_PKT_F_IPV6))) {
		cnt_inc(w->p_st.not_ip);
		return false;
	}
	if (pi->pi_proto != XM_PKT_IPPROTO_TCP &&
	    pi->pi_proto != XM_PKT_IPPROTO_UDP) {
		cnt_inc(w->p_st.not_tcp_udp);
		return false;
	}
flow:

	memset(f, 0, sizeof(*f));
	memcpy(f->f_src, pi->pi_ip.ip_src.a_v6_32, sizeof(f->f_src));
	memcpy(f->f_dst, pi->pi_ip.ip_dst.a_v6_32, sizeof(f->f_dst));
	f->f_proto = pi->pi_proto;
	if (pi->pi_ip.ip_version == 6)
		f->f_flags |= LB_FLOW_V6;
	if (pi->pi_flags & XM_PKT_F_FRAG) {
		/*
		 * Every fragment of a datagram, the first one too, goes by
		 * (src, dst, proto): later ones have no ports.
		 */
		f->f_flags |= LB_FLOW_FRAG;
		vi = lb_config_frag_vip(c, pi->pi_ip.ip_version,
					&pi->pi_ip.ip_dst, pi->pi_proto);
		if (vi == -2) {
			cnt_inc(w->p_st.frag_no_owner);
			return false;
		}
		if (vi >= 0)
			cnt_inc(w->p_st.frags);
	} else {
		f->f_sport = pi->pi_sport;
		f->f_dport = pi->pi_dport;
		/* Traffic comes in runs for one service: the last one's
		 * VIP, checked field by field, costs a compare where the
		 * lookup hashes the address (~80 instructions a packet). */
		vi = (int)w->p_vip_hint;
		if (w->p_vip_hint >= c->c_nvips ||
		    !lb_vip_is(&c->c_vips[vi], pi->pi_ip.ip_version,
			       &pi->pi_ip.ip_dst, pi->pi_proto,
			       pi->pi_dport)) {
			vi = lb_config_vip(c, pi->pi_ip.ip_version,
					   &pi->pi_ip.ip_dst, pi->pi_proto,
					   pi->pi_dport);
			if (vi >= 0)
				w->p_vip_hint = (uint32_t)vi;
		}
	}
	if (vi < 0) {
		cnt_inc(w->p_st.no_service);
		return false;
	}
	k->k_vip = vi;
	k->k_hash = lb_flow_hash(&c->c_sipkey, f);
	lb_lru_prefetch(w->p_lru, k->k_hash);
	return true;
}

/*
 * Long (about 170 lines) on purpose: it is one packet's path from the
 * connection table to the outer headers, read top to bottom with each
 * verdict returned where it is decided; cut into pieces, the pieces
 * would pass the table entry, the service and the result between them.
 */
enum lb_verdict lb_path_decide(struct lb_path *w, const struct lb_config *c,
			       uint8_t *frame, uint32_t len,
			       uint32_t headroom, uint32_t tailroom,
			       uint64_t now_ns, const struct lb_pkt *k,
			       struct lb_result *r)
{
	const struct xm_pkt_info *pip = &k->k_pi;
	const struct lb_flow *f = &k->k_flow;
	struct lb_lru_entry *e;
	const struct lb_vip *v;
	const struct lb_backend *b;
	struct lb_cnt *vc, *bc;
	struct xm_pkt_encap en;
	uint32_t l2len, overhead, mtu, bi;
	uint64_t h = k->k_hash;
	bool first, fast = false;
	int vi = k->k_vip, n;

	v = &c->c_vips[vi];
	e = lb_lru_lookup(w->p_lru, h, f);
	/* be_reset: the backend is down and the service says 'on-down
	 * reset' (lb_state.h): its flows are rescheduled like a removed
	 * backend's. */
	if (e != NULL && e->e_gen == c->c_gen &&
	    !v->v_be[e->e_backend].be_reset) {
		bi = e->e_backend;
	} else if (e != NULL) {
		/* Resolved under an older configuration: find it again. */
		const struct lb_idmap *im =
			lb_config_backend_by_id(c, e->e_backend_id);

		if (im != NULL && im->im_vip == (uint16_t)vi &&
		    !v->v_be[im->im_be].be_reset) {
			bi = im->im_be;
		} else {
			bi = v->v_table[h % c->c_table_size];
			if (bi == LB_MAGLEV_NONE) {
				lb_lru_remove(w->p_lru, e);
				return drop(&w->p_st.no_backend);
			}
			e->e_backend_id = v->v_be[bi].be_id;
			cnt_inc(w->p_st.rescheduled);
		}
		e->e_gen = c->c_gen;
		e->e_backend = (uint16_t)bi;
	} else {
		bi = v->v_table[h % c->c_table_size];
		if (bi == LB_MAGLEV_NONE)
			return drop(&w->p_st.no_backend);
		/*
		 * A flow starts with a SYN (TCP) or with any packet (UDP,
		 * fragments); a TCP packet without SYN was in a table that
		 * lost it, began on another balancer, or is forged: the
		 * Maglev table sends it, and it takes no entry, so a stream
		 * of them evicts nothing.  A start takes an entry when the
		 * pin budgets allow; otherwise it too goes by the table.
		 */
		first = pip->pi_proto != XM_PKT_IPPROTO_TCP ||
			!(pip->pi_flags & XM_PKT_F_L4) ||
			(pip->pi_tcp_flags & (XM_PKT_TCP_SYN | XM_PKT_TCP_ACK)) ==
			XM_PKT_TCP_SYN;
		if (first && pin_allowed(w, c, f, now_ns)) {
			e = lb_lru_insert(w->p_lru, h, f);
			e->e_backend_id = v->v_be[bi].be_id;
			e->e_gen = c->c_gen;
			e->e_backend = (uint16_t)bi;
		}
		vc = &c->c_stats[w->p_worker][vi];
		bc = &c->c_stats[w->p_worker][c->c_nvips + v->v_be[bi].be_stat];
		if (first) {
			cnt_inc(vc->new_flows);
			cnt_inc(bc->new_flows);
		} else {
			cnt_inc(vc->lru_misses);
			cnt_inc(bc->lru_misses);
		}
	}
	b = &v->v_be[bi];

	/* Outer headers. */
	if (b->be_family == 4 && c->c_encap == LB_ENCAP_IPIP &&
	    pip->pi_l3_len <= 0xffffu - XM_PKT_IPV4_HLEN) {
		fast = true;
		overhead = XM_PKT_IPV4_HLEN;
	} else {
		memset(&en, 0, sizeof(en));
		en.en_outer.ip_version = b->be_family;
		en.en_outer.ip_tos = pip->pi_ip.ip_tos;
		en.en_outer.ip_ttl = 64;
		en.en_outer.ip_dst = b->be_addr;
		if (b->be_family == 4) {
			en.en_outer.ip_frag = XM_PKT_IP_DF;
			en.en_outer.ip_src.a_v4 = outer_src4(&c->c_src4, h);
			overhead = XM_PKT_IPV4_HLEN;
		} else {
			en.en_outer.ip_flowlabel =
				(uint32_t)(h >> 40) & 0xfffff;
			outer_src6(&c->c_src6, h, &en.en_outer.ip_src);
			overhead = XM_PKT_IPV6_HLEN;
		}
		switch (c->c_encap) {
		case LB_ENCAP_GUE:
			en.en_type = XM_PKT_ENCAP_GUE;
			overhead += XM_PKT_UDP_HLEN + XM_PKT_GUE_HLEN;
			break;
		case LB_ENCAP_GUE_DIRECT:
			en.en_type = XM_PKT_ENCAP_GUE_DIRECT;
			overhead += XM_PKT_UDP_HLEN;
			break;
		default:
			en.en_type = XM_PKT_ENCAP_IPIP;
			break;
		}
		if (en.en_type != XM_PKT_ENCAP_IPIP) {
			/* Entropy for the backend's RSS over the outer
			 * 4-tuple. */
			en.en_sport = (uint16_t)(0x8000 | (h >> 48));
			en.en_dport = c->c_gue_port;
			/*
			 * Over IPv6 a zero UDP checksum is refused unless
			 * the receiver opts in (RFC 6936; Linux's
			 * udp6zerocsumrx), so pay for a real one there;
			 * over IPv4 zero means none.
			 */
			if (b->be_family == 6)
				en.en_flags = XM_PKT_ENCAP_F_UDP_CSUM;
		}
	}

	mtu = c->c_mtu ? c->c_mtu : w->p_if_mtu;
	if (pip->pi_l3_len + overhead > mtu)
		return too_big(w, c, frame, len, tailroom, pip, mtu, overhead,
			       now_ns, r);
	if (headroom < overhead)
		return drop(&w->p_st.no_headroom);

	/* A node-local sender's placeholder checksum: finish it before
	 * the segment goes into the tunnel (lb_csum.c). */
	if (lb_csum_complete(frame, len, pip))
		cnt_inc(w->p_st.csum_completed);

	/*
	 * The new frame starts overhead bytes earlier: its MACs and type are
	 * written afresh, and only the VLAN tags, if any, move there from
	 * the old L2 header, which the outer headers then overwrite.  Done
	 * in place, not through a copy on the stack: reading back what was
	 * just stored stalls on store forwarding, every packet.
	 */
	l2len = pip->pi_l3_off;
	if (l2len > XM_PKT_ETH_HLEN)
		memmove(frame - overhead + 12, frame + 12,
			l2len - XM_PKT_ETH_HLEN);
	if (fast) {
		n = XM_PKT_IPV4_HLEN;
		ipip4_header(frame + l2len - n, pip->pi_ip.ip_tos,
			     pip->pi_l3_len, pip->pi_ip.ip_version == 4 ?
			     XM_PKT_IPPROTO_IPIP : XM_PKT_IPPROTO_IPV6,
			     outer_src4(&c->c_src4, h), b->be_addr.a_v4);
	} else {
		n = xm_pkt_encap(frame + l2len, headroom + l2len,
				 pip->pi_l3_len, &en);
		if (n < 0 || (uint32_t)n != overhead)
			return drop(&w->p_st.no_headroom);
	}
	memcpy(frame - n, b->be_has_mac ? b->be_mac : c->c_gw_mac, 6);
	memcpy(frame - n + 6, w->p_mac, 6);
	st16(frame - n + l2len - 2, b->be_family == 4 ? XM_PKT_ETH_P_IPV4 :
						      XM_PKT_ETH_P_IPV6);
	r->r_off = -n;
	r->r_len = l2len + (uint32_t)n + pip->pi_l3_len;

	vc = &c->c_stats[w->p_worker][vi];
	bc = &c->c_stats[w->p_worker][c->c_nvips + b->be_stat];
	cnt_inc(vc->packets);
	cnt_add(vc->bytes, len);
	cnt_inc(bc->packets);
	cnt_add(bc->bytes, len);
	cnt_inc(w->p_st.forwarded);
	return LB_FORWARD;
}

enum lb_verdict lb_path_process(struct lb_path *w, const struct lb_config *c,
				uint8_t *frame, uint32_t len,
				uint32_t headroom, uint32_t tailroom,
				uint64_t now_ns, struct lb_result *r)
{
	struct lb_pkt k;

	if (!lb_path_classify(w, c, frame, len, &k))
		return LB_DROP;
	return lb_path_decide(w, c, frame, len, headroom, tailroom, now_ns,
			      &k, r);
}

void lb_path_stats_read(const struct lb_path *w, struct lb_path_stats *st)
{
	const uint64_t *src = (const uint64_t *)&w->p_st;
	uint64_t *dst = (uint64_t *)st;

	/* The struct is nothing but uint64_t counters. */
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
