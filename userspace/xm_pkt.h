/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file
 * xm_pkt.h - packet headers: bounds-checked parsing, building, checksums
 * (public KPI).
 *
 * Every example needs the same header work: the load balancer classifies
 * and encapsulates, the generator builds and rewrites, the capture tool
 * classifies.  It is written once here, against plain byte buffers, so it
 * knows nothing of mbufs, rings or sockets.
 *
 *   frame (what xm_pkt_parse() sees; offsets in struct xm_pkt_info)
 *   +---------+--------+--------------+------------+---------+---------+
 *   | dst src | VLAN   | IPv4 / IPv6  | IPv6 ext   | TCP/UDP | payload |
 *   | (type)  | 0..2   | fixed header | headers    | ICMP    |         |
 *   +---------+--------+--------------+------------+---------+---------+
 *   0         14       ^ pi_l3_off                 ^ l4_off  ^ payload_off
 *                      |<-- pi_l3_hlen ----------->|
 *                      |<-- pi_l3_len (IP packet) -------------------->|
 *
 * Parsing never reads a byte at or past the length it is given; every
 * length field in the packet is checked against the bytes that are really
 * there before it is believed, and a packet that fails a check gets a
 * reason (enum xm_pkt_err) a caller can count.  tests/fuzz/fuzz_pkt.c runs
 * the parser under libFuzzer with ASan and UBSan to hold it to that.
 *
 * Byte order: ports, ethertypes, VLAN TCIs, lengths and IDs in the structs
 * below are host order; IP addresses stay in network order (as they sit
 * in the packet, so they can be hashed and compared as bytes).  Checksums
 * are 16-bit values in network order, to be stored with memcpy() as they
 * are; a partial sum (uint32_t) is an unfolded one's complement sum over
 * bytes taken in memory order, so it is byte-order independent (RFC 1071).
 *
 * Builders write into a caller's buffer of a given capacity and return the
 * bytes written, -ENOSPC when the capacity is short (nothing of use is
 * written then), or -EINVAL for arguments that make no packet.
 */
#ifndef XM_PKT_H
#define XM_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xm_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XM_PKT_ETH_ALEN		6	/* MAC address bytes */
#define XM_PKT_ETH_HLEN		14	/* Ethernet header, no tag */
#define XM_PKT_VLAN_HLEN	4	/* one 802.1Q / 802.1ad tag */
#define XM_PKT_ETH_ZLEN		60	/* smallest frame, FCS excluded */
#define XM_PKT_IPV4_HLEN	20	/* IPv4 header without options */
#define XM_PKT_IPV6_HLEN	40	/* IPv6 fixed header */
#define XM_PKT_UDP_HLEN		8
#define XM_PKT_TCP_HLEN		20	/* TCP header without options */
#define XM_PKT_ICMP_HLEN	8	/* ICMP / ICMPv6 header with its 4-byte
					 * rest-of-header word */
#define XM_PKT_GUE_HLEN		4	/* GUE variant 0 base header */

#define XM_PKT_MAX_VLANS	2	/* tags parsed and built (QinQ) */
#define XM_PKT_MAX_EXTHDRS	8	/* IPv6 extension headers parsed */

/* Ethertypes (host order). */
#define XM_PKT_ETH_P_IPV4	0x0800
#define XM_PKT_ETH_P_ARP	0x0806
#define XM_PKT_ETH_P_VLAN	0x8100	/* 802.1Q C-tag */
#define XM_PKT_ETH_P_QINQ	0x88a8	/* 802.1ad S-tag */
#define XM_PKT_ETH_P_QINQ_OLD	0x9100	/* pre-standard S-tag */
#define XM_PKT_ETH_P_IPV6	0x86dd

/* IP protocols and IPv6 next headers. */
#define XM_PKT_IPPROTO_HOPOPTS	0
#define XM_PKT_IPPROTO_ICMP	1
#define XM_PKT_IPPROTO_IPIP	4	/* IPv4 in IP */
#define XM_PKT_IPPROTO_TCP	6
#define XM_PKT_IPPROTO_UDP	17
#define XM_PKT_IPPROTO_IPV6	41	/* IPv6 in IP */
#define XM_PKT_IPPROTO_ROUTING	43
#define XM_PKT_IPPROTO_FRAGMENT	44
#define XM_PKT_IPPROTO_ESP	50
#define XM_PKT_IPPROTO_AH	51
#define XM_PKT_IPPROTO_ICMPV6	58
#define XM_PKT_IPPROTO_NONE	59
#define XM_PKT_IPPROTO_DSTOPTS	60
#define XM_PKT_IPPROTO_MH	135	/* Mobility header */
#define XM_PKT_IPPROTO_HIP	139
#define XM_PKT_IPPROTO_SHIM6	140

/* IPv4 flags and fragment offset field (struct xm_pkt_ip.ip_frag). */
#define XM_PKT_IP_DF		0x4000	/* don't fragment */
#define XM_PKT_IP_MF		0x2000	/* more fragments */
#define XM_PKT_IP_OFFMASK	0x1fff	/* offset in 8-byte units */

/* TCP flags (struct xm_pkt_tcp.tcp_flags, xm_pkt_info.pi_tcp_flags). */
#define XM_PKT_TCP_FIN		0x01
#define XM_PKT_TCP_SYN		0x02
#define XM_PKT_TCP_RST		0x04
#define XM_PKT_TCP_PSH		0x08
#define XM_PKT_TCP_ACK		0x10
#define XM_PKT_TCP_URG		0x20
#define XM_PKT_TCP_ECE		0x40
#define XM_PKT_TCP_CWR		0x80

/* ICMP types used here. */
#define XM_PKT_ICMP_ECHOREPLY	0
#define XM_PKT_ICMP_UNREACH	3
#define XM_PKT_ICMP_UNREACH_NEEDFRAG 4	/* code: fragmentation needed */
#define XM_PKT_ICMP_ECHO	8
#define XM_PKT_ICMP6_PACKET_TOO_BIG 2
#define XM_PKT_ICMP6_ECHO_REQUEST 128
#define XM_PKT_ICMP6_ECHO_REPLY	129

/** An IPv4 or IPv6 address, network order; unused bytes are zero. */
union xm_pkt_addr {
	uint32_t a_v4;				/* IPv4 */
	uint8_t a_v6[16];			/* IPv6 */
	uint32_t a_v6_32[4];			/* IPv6, in words */
};

/**
 * The Ethernet header with its tags: what xm_pkt_build_eth() writes and
 * what xm_pkt_parse() reports.
 */
struct xm_pkt_eth {
	uint8_t eth_dst[XM_PKT_ETH_ALEN];	/* destination MAC */
	uint8_t eth_src[XM_PKT_ETH_ALEN];	/* source MAC */
	uint16_t eth_type;			/* ethertype after the tags */
	uint8_t eth_nvlan;			/* tags, outermost first */
	uint8_t eth_spare;
	uint16_t eth_vlan_tpid[XM_PKT_MAX_VLANS]; /* tag type; 0 builds 0x8100 */
	uint16_t eth_vlan_tci[XM_PKT_MAX_VLANS]; /* PCP, DEI, VLAN id */
};

/**
 * An IP header's fields, either version: what xm_pkt_build_ip() writes and
 * what xm_pkt_parse() reports for the fixed header.
 */
struct xm_pkt_ip {
	uint8_t ip_version;			/* 4 or 6 */
	uint8_t ip_proto;			/* protocol / first next header */
	uint8_t ip_ttl;				/* TTL / hop limit; build: 0 is 64 */
	uint8_t ip_tos;				/* TOS / traffic class */
	uint16_t ip_id;				/* IPv4 identification */
	uint16_t ip_frag;			/* IPv4 flags + offset field */
	uint32_t ip_flowlabel;			/* IPv6 flow label (20 bits) */
	uint32_t ip_payload_len;		/* bytes after the fixed header */
	union xm_pkt_addr ip_src;		/* source address */
	union xm_pkt_addr ip_dst;		/* destination address */
};

/** Why xm_pkt_parse() rejected a frame (xm_pkt_info.pi_err). */
enum xm_pkt_err {
	XM_PKT_ERR_NONE = 0,
	XM_PKT_ERR_TRUNC_ETH,		/* shorter than an Ethernet header */
	XM_PKT_ERR_TRUNC_VLAN,		/* a VLAN tag cut short */
	XM_PKT_ERR_VLAN_DEPTH,		/* more than XM_PKT_MAX_VLANS tags */
	XM_PKT_ERR_TRUNC_IP,		/* IP header (with options) cut short */
	XM_PKT_ERR_BAD_VERSION,		/* version disagrees with ethertype */
	XM_PKT_ERR_BAD_IHL,		/* IPv4 header length below 20 */
	XM_PKT_ERR_BAD_TOTLEN,		/* IP length below the header or past
					 * the frame */
	XM_PKT_ERR_TRUNC_EXTHDR,	/* IPv6 extension header cut short */
	XM_PKT_ERR_EXTHDR_TOO_LONG,	/* more than XM_PKT_MAX_EXTHDRS */
	XM_PKT_ERR_BAD_EXTHDR,		/* hop-by-hop not first, or two
					 * fragment headers */
	XM_PKT_ERR_BAD_FRAG,		/* fragment past 65535 bytes, or a
					 * non-last fragment not 8-aligned */
	XM_PKT_ERR_TRUNC_L4,		/* TCP/UDP/ICMP header cut short */
	XM_PKT_ERR_BAD_TCP_DOFF,	/* TCP data offset below 5 */
	XM_PKT_ERR_BAD_UDP_LEN,		/* UDP length below 8 or past the IP
					 * payload */
	XM_PKT_ERR_MAX
};

/* xm_pkt_info.pi_flags */
#define XM_PKT_F_IPV4		0x0001	/* pi_ip holds an IPv4 header */
#define XM_PKT_F_IPV6		0x0002	/* pi_ip holds an IPv6 header */
#define XM_PKT_F_L4		0x0004	/* a TCP/UDP/ICMP header was parsed */
#define XM_PKT_F_FRAG		0x0008	/* a fragment (offset or MF set) */
#define XM_PKT_F_FRAG_FIRST	0x0010	/* ... and the one at offset 0 */
#define XM_PKT_F_DF		0x0020	/* IPv4 don't-fragment */
#define XM_PKT_F_IPOPTS		0x0040	/* IPv4 options present */
#define XM_PKT_F_EXTHDRS	0x0080	/* IPv6 extension headers present */
#define XM_PKT_F_L2_PAD		0x0100	/* bytes after the IP packet */

/**
 * What xm_pkt_parse() learned about a frame.  Offsets are from the first
 * byte given to the parser.  The fields of every layer that parsed are
 * set even when a later layer failed; the rest are zero.
 */
struct xm_pkt_info {
	uint32_t pi_len;			/* packet length */
	uint32_t pi_caplen;			/* bytes contiguous at the frame
						 * pointer: pi_len, except for a
						 * chain (xm_pkt_parse_mbuf());
						 * nothing here touches more */
	uint16_t pi_flags;			/* XM_PKT_F_* */
	uint8_t pi_err;				/* enum xm_pkt_err */
	uint8_t pi_proto;			/* upper protocol (IPv6: after the
						 * extension headers) */
	struct xm_pkt_eth pi_eth;		/* L2 */
	struct xm_pkt_ip pi_ip;			/* L3 fixed header */
	uint32_t pi_l3_off;			/* IP header (or what follows the
						 * tags for other ethertypes) */
	uint16_t pi_l3_hlen;			/* IPv4 IHL * 4; IPv6 40 + the
						 * extension headers */
	uint16_t pi_l4_hlen;			/* 8 UDP/ICMP, 4 short ICMPv6,
						 * TCP data offset * 4 */
	uint32_t pi_l3_len;			/* IP packet length (total length;
						 * 40 + payload length) */
	uint32_t pi_csum_dst_off;		/* address the L4 pseudo-header
						 * uses as destination (IPv6
						 * routing header: the final one) */
	uint32_t pi_frag_id;			/* fragment identification */
	uint16_t pi_frag_off;			/* fragment offset, bytes */
	uint8_t pi_nexthdrs;			/* IPv6 extension headers seen */
	uint8_t pi_tcp_flags;			/* XM_PKT_TCP_* */
	uint32_t pi_l4_off;			/* L4 header (when XM_PKT_F_L4) */
	uint16_t pi_sport;			/* TCP/UDP source port */
	uint16_t pi_dport;			/* TCP/UDP destination port */
	uint8_t pi_icmp_type;			/* ICMP / ICMPv6 type */
	uint8_t pi_icmp_code;			/* ICMP / ICMPv6 code */
	uint16_t pi_icmp_id;			/* echo request/reply identifier */
	uint32_t pi_payload_off;		/* after the last parsed header */
	uint32_t pi_payload_len;		/* UDP: UDP length - 8; else to
						 * the end of the IP packet */
};
_Static_assert(sizeof(struct xm_pkt_info) == 128,
	       "struct xm_pkt_info is two cache lines");

/* ------------------------------------------------------------- parsing */

/**
 * @brief **xm_pkt_parse()** parses an Ethernet frame: up to two VLAN tags,
 * IPv4 (options) or IPv6 (extension header chains, fragment header), and
 * TCP, UDP, ICMP or ICMPv6.
 * @param frame the frame's first byte (no alignment needed)
 * @param len bytes in the frame; nothing at or past frame + len is read
 * @param pi filled in (zeroed first)
 * @return 0, on success; -EBADMSG for a malformed frame, with pi->pi_err
 * saying why; -EINVAL for a NULL pi (or a NULL frame with len > 0).
 *
 * Not errors: ethertypes other than IPv4/IPv6 (pi_l3_off and the payload
 * are then what follows the tags), IP protocols other than the four above
 * (payload is the upper-layer header), non-first fragments (no L4 header:
 * the payload is the fragment's data), bytes past the IP packet (Ethernet
 * padding: XM_PKT_F_L2_PAD).  Checksums are not checked here; see
 * xm_pkt_csum_ok().
 */
XM_API int xm_pkt_parse(const void *frame, uint32_t len,
			struct xm_pkt_info *pi);

/**
 * @brief **xm_pkt_parse_ip()** parses a packet that starts at its IP
 * header (a tunnel's inner packet, a raw-IP capture); the version nibble
 * chooses IPv4 or IPv6.  pi->pi_eth is zero except eth_type.
 * @return as xm_pkt_parse(); a version other than 4 or 6 is
 * XM_PKT_ERR_BAD_VERSION, an empty buffer XM_PKT_ERR_TRUNC_IP.
 */
XM_API int xm_pkt_parse_ip(const void *pkt, uint32_t len,
			   struct xm_pkt_info *pi);

struct xm_mbuf;

/* How much xm_pkt_parse_mbuf() gathers first when headers are split. */
#define XM_PKT_PULLUP_LEN	256

/**
 * @brief **xm_pkt_parse_mbuf()** parses the packet an mbuf chain holds
 * (the first mbuf must carry the packet header).  Headers are read from
 * the first mbuf only; when they do not fit there, the chain is pulled up
 * with xm_pullup() (XM_PKT_PULLUP_LEN bytes, then up to a page) and parsed
 * again.
 * @param mp the chain; *mp is replaced when the pull-up moves the first
 * mbuf, and set to NULL when the pull-up fails (the chain is freed then,
 * as xm_pullup() does)
 * @param pi offsets from the packet's first byte, mtod(*mp); pi_len is
 * m_pkthdr.len and pi_caplen the first mbuf's length, the only bytes the
 * checksum, rewrite and reply functions may then touch
 * @return 0, on success; -EBADMSG with pi->pi_err for a malformed packet;
 * -EINVAL for a NULL argument or a first mbuf without a packet header;
 * the negative errno of a failed pull-up (*mp is NULL).
 */
XM_API int xm_pkt_parse_mbuf(struct xm_mbuf **mp, struct xm_pkt_info *pi);

/**
 * @brief **xm_pkt_strerror()** names a parse error.
 * @param reason an enum xm_pkt_err (pi_err), or its negative
 * @return a constant string; "unknown packet error" for a value out of
 * range.
 */
XM_API const char *xm_pkt_strerror(int reason);

/* ----------------------------------------------------------- checksums */

/**
 * @brief **xm_pkt_csum_partial()** adds bytes to a partial one's
 * complement sum.
 * @param buf bytes, taken as if buf sits at an even offset of the
 * checksummed data (chain blocks of even length only)
 * @param len byte count; an odd last byte is padded with zero
 * @param sum partial sum to add to (0 to start)
 * @return the new partial sum; fold it with xm_pkt_csum_fold().
 */
XM_API uint32_t xm_pkt_csum_partial(const void *buf, uint32_t len,
				    uint32_t sum);

/**
 * @brief **xm_pkt_csum_fold()** folds a partial sum to 16 bits and
 * complements it: the value to store in a checksum field.
 */
XM_API uint16_t xm_pkt_csum_fold(uint32_t sum);

/**
 * @brief **xm_pkt_ipv4_csum()** checksums an IPv4 header as it is: zero
 * the checksum field first to compute it, or check that a received header
 * gives 0.
 * @param iph the header; @param hlen its length (IHL * 4)
 */
XM_API uint16_t xm_pkt_ipv4_csum(const void *iph, uint32_t hlen);

/**
 * @brief **xm_pkt_pseudo_v4()** partial sum of the IPv4 pseudo-header.
 * @param src, dst addresses, network order
 * @param proto upper protocol; @param len upper-layer length (host order)
 */
XM_API uint32_t xm_pkt_pseudo_v4(uint32_t src, uint32_t dst, uint8_t proto,
				 uint16_t len);

/**
 * @brief **xm_pkt_pseudo_v6()** partial sum of the IPv6 pseudo-header
 * (RFC 8200 section 8.1).
 * @param src, dst 16-byte addresses (dst: the final destination)
 * @param nexthdr upper protocol; @param len upper-layer length
 */
XM_API uint32_t xm_pkt_pseudo_v6(const void *src, const void *dst,
				 uint8_t nexthdr, uint32_t len);

/**
 * @brief **xm_pkt_csum_replace16()** updates a checksum for a 16-bit
 * field rewritten from old to new (RFC 1624 eqn. 3).  All three values in
 * network order, as read from the packet; the field must sit at an even
 * offset of the checksummed data.
 * @return the new checksum.  (A UDP checksum of 0 means "none": callers
 * rewriting UDP leave 0 alone and store 0xffff for a result of 0, as
 * xm_pkt_rewrite() does.)
 */
XM_API uint16_t xm_pkt_csum_replace16(uint16_t csum, uint16_t old,
				      uint16_t new_val);
/** @brief **xm_pkt_csum_replace32()** as replace16 for a 32-bit field. */
XM_API uint16_t xm_pkt_csum_replace32(uint16_t csum, uint32_t old,
				      uint32_t new_val);
/**
 * @brief **xm_pkt_csum_replace()** as replace16 for len bytes (an IPv6
 * address) at an even offset; an odd len is padded with zero.
 */
XM_API uint16_t xm_pkt_csum_replace(uint16_t csum, const void *old,
				    const void *new_val, uint32_t len);

/**
 * @brief **xm_pkt_csum_fill()** computes and stores the IPv4 header
 * checksum and the TCP, UDP, ICMP or ICMPv6 checksum of a parsed frame.
 * @param frame the frame pi describes (writable)
 * @param pi from a successful xm_pkt_parse() of frame
 * @return 0, on success; -EINVAL when pi is not a successful parse, or
 * the datagram runs past pi_caplen (a chain: checksum it in pieces).
 *
 * The L4 checksum covers the whole datagram, so it is left alone for
 * fragments; other protocols have none to fill.
 */
XM_API int xm_pkt_csum_fill(void *frame, const struct xm_pkt_info *pi);

/**
 * @brief **xm_pkt_csum_ok()** checks the checksums xm_pkt_csum_fill()
 * would fill.  A UDP checksum of 0 over IPv4 means "none" and passes; over
 * IPv6 it fails (RFC 8200).
 * @return true when every checksum present verifies; false otherwise,
 * and for a pi that is not a successful parse or whose datagram runs past
 * pi_caplen.
 */
XM_API bool xm_pkt_csum_ok(const void *frame, const struct xm_pkt_info *pi);

/* ----------------------------------------------------------- rewriting */

/**
 * @brief **xm_pkt_rewrite()** overwrites bytes of a parsed frame and
 * updates, incrementally, every checksum that covers them: the IPv4
 * header checksum, and the L4 checksum for bytes of the L4 datagram or of
 * the addresses its pseudo-header holds.  For address, port, TTL, TOS,
 * flow label, MAC and payload rewrites (a pktgen stepping its flows).
 * @param frame the frame pi describes
 * @param pi from a successful xm_pkt_parse() of frame
 * @param off, len the bytes to overwrite (any alignment)
 * @param data the new bytes
 * @return 0, on success; -EINVAL when pi is not a successful parse, the
 * range is outside the frame (pi_caplen), or it touches a field this
 * cannot keep
 * consistent: a checksum, or a length or protocol field (IPv4 version/IHL,
 * total length, protocol; IPv6 payload length, next header; UDP length;
 * TCP data offset).  Nothing is written on error.  pi is not updated.
 */
XM_API int xm_pkt_rewrite(void *frame, const struct xm_pkt_info *pi,
			  uint32_t off, const void *data, uint32_t len);

#define XM_PKT_SRC		0	/* which: source address / port */
#define XM_PKT_DST		1	/* which: destination */

/**
 * @brief **xm_pkt_set_addr()** rewrites the source or destination IP
 * address with xm_pkt_rewrite() and updates pi->pi_ip.
 * @param which XM_PKT_SRC or XM_PKT_DST
 * @param addr the new address (a_v4 for IPv4)
 * @return 0, on success; -EINVAL for a frame without IP or a bad which.
 */
XM_API int xm_pkt_set_addr(void *frame, struct xm_pkt_info *pi, int which,
			   const union xm_pkt_addr *addr);

/**
 * @brief **xm_pkt_set_port()** rewrites the TCP or UDP source or
 * destination port (host order) and updates pi.
 * @return 0, on success; -EINVAL without a parsed TCP/UDP header.
 */
XM_API int xm_pkt_set_port(void *frame, struct xm_pkt_info *pi, int which,
			   uint16_t port);

/* ------------------------------------------------------------ building */

/**
 * @brief **xm_pkt_build_eth()** writes an Ethernet header with
 * eth->eth_nvlan tags.
 * @return bytes written (14 + 4 * tags); -ENOSPC; -EINVAL for a NULL
 * argument or more than XM_PKT_MAX_VLANS tags.
 */
XM_API int xm_pkt_build_eth(void *buf, uint32_t cap,
			    const struct xm_pkt_eth *eth);

/**
 * @brief **xm_pkt_build_ip()** writes an IPv4 header (no options, checksum
 * filled) or an IPv6 fixed header.
 * @param ip the fields; ip_payload_len is what will follow the header.
 * @return bytes written (20 or 40); -ENOSPC; -EINVAL for a NULL argument,
 * a version other than 4 or 6, a length that does not fit the length
 * field, or a flow label wider than 20 bits.
 */
XM_API int xm_pkt_build_ip(void *buf, uint32_t cap, const struct xm_pkt_ip *ip);

/**
 * @brief **xm_pkt_build_udp()** writes a UDP header for payload_len bytes,
 * checksum 0 (fill it with xm_pkt_csum_fill() once the payload is there).
 * @return 8; -ENOSPC; -EINVAL for a payload that does not fit UDP's length.
 */
XM_API int xm_pkt_build_udp(void *buf, uint32_t cap, uint16_t sport,
			    uint16_t dport, uint32_t payload_len);

/* struct xm_pkt_tcp.tcp_opts: options written in Linux's SYN order. */
#define XM_PKT_TCPOPT_MSS	0x1	/* maximum segment size */
#define XM_PKT_TCPOPT_SACKOK	0x2	/* SACK permitted */
#define XM_PKT_TCPOPT_TS	0x4	/* timestamps */
#define XM_PKT_TCPOPT_WSCALE	0x8	/* window scale */

/** A TCP header's fields (ports are arguments of the builders). */
struct xm_pkt_tcp {
	uint32_t tcp_seq;			/* sequence number */
	uint32_t tcp_ack;			/* acknowledgement number */
	uint8_t tcp_flags;			/* XM_PKT_TCP_* */
	uint8_t tcp_wscale;			/* with XM_PKT_TCPOPT_WSCALE */
	uint16_t tcp_window;			/* window */
	uint16_t tcp_mss;			/* with XM_PKT_TCPOPT_MSS */
	uint16_t tcp_opts;			/* XM_PKT_TCPOPT_* */
	uint32_t tcp_tsval;			/* with XM_PKT_TCPOPT_TS */
	uint32_t tcp_tsecr;
};

/**
 * @brief **xm_pkt_build_tcp()** writes a TCP header with the options
 * asked for (padded to 4 bytes with NOPs), checksum 0.
 * @return the header length (20 to 40); -ENOSPC; -EINVAL for a NULL tcp
 * or unknown option bits.
 */
XM_API int xm_pkt_build_tcp(void *buf, uint32_t cap, uint16_t sport,
			    uint16_t dport, const struct xm_pkt_tcp *tcp);

/** A whole frame for xm_pkt_build_frame(). */
struct xm_pkt_tmpl {
	struct xm_pkt_eth t_eth;		/* eth_type is set from the IP
						 * version */
	struct xm_pkt_ip t_ip;			/* ip_proto and ip_payload_len
						 * are set by the builder */
	uint8_t t_proto;			/* XM_PKT_IPPROTO_UDP or _TCP */
	uint16_t t_sport;			/* source port */
	uint16_t t_dport;			/* destination port */
	struct xm_pkt_tcp t_tcp;		/* TCP only */
	const void *t_payload;			/* NULL: zero bytes */
	uint32_t t_payload_len;			/* L4 payload bytes */
};

/**
 * @brief **xm_pkt_build_frame()** writes a complete UDP or TCP frame over
 * IPv4 or IPv6 with every checksum right, padded with zeros to
 * XM_PKT_ETH_ZLEN.
 * @return the frame length; -ENOSPC; -EINVAL for a NULL t, a protocol other
 * than UDP/TCP, or what the header builders refuse.
 */
XM_API int xm_pkt_build_frame(void *buf, uint32_t cap,
			      const struct xm_pkt_tmpl *t);

/* struct xm_pkt_encap.en_type */
#define XM_PKT_ENCAP_IPIP	1	/* outer IP, protocol 4 or 41 */
#define XM_PKT_ENCAP_GUE	2	/* outer IP, UDP, GUE variant 0 header */
#define XM_PKT_ENCAP_GUE_DIRECT	3	/* outer IP, UDP, inner IP right after
					 * (GUE variant 1) */
/* struct xm_pkt_encap.en_flags */
#define XM_PKT_ENCAP_F_UDP_CSUM	0x1	/* compute the outer UDP checksum over
					 * the whole inner packet (else 0) */

/** Outer headers for xm_pkt_encap(). */
struct xm_pkt_encap {
	uint8_t en_type;			/* XM_PKT_ENCAP_* */
	uint8_t en_flags;			/* XM_PKT_ENCAP_F_* */
	uint16_t en_sport;			/* GUE: UDP source port (entropy
						 * for the receiver's RSS) */
	uint16_t en_dport;			/* GUE: UDP destination port */
	struct xm_pkt_ip en_outer;		/* outer IP; ip_proto and
						 * ip_payload_len are set here */
};

/**
 * @brief **xm_pkt_encap()** writes outer headers in the headroom just
 * before an IP packet, so the frame that came in goes out encapsulated
 * without a copy: IPIP (IPv4 inner, protocol 4) or IP6IP6 / 6in4 (IPv6
 * inner, next header 41) under an IPv4 or IPv6 outer header, optionally
 * with UDP and GUE in between.  Only the inner version nibble is read,
 * unless XM_PKT_ENCAP_F_UDP_CSUM asks for a checksum over it all.
 * @param inner the inner IP packet's first byte
 * @param headroom writable bytes before inner
 * @param inner_len the inner packet's length
 * @param en the outer headers
 * @return bytes written before inner (the packet now starts at
 * inner - return); -ENOSPC; -EMSGSIZE when the outer packet would pass
 * 65535 bytes; -EINVAL for an inner version other than 4/6, an unknown
 * type, a GUE port of 0, or what xm_pkt_build_ip() refuses.
 */
XM_API int xm_pkt_encap(void *inner, uint32_t headroom, uint32_t inner_len,
			const struct xm_pkt_encap *en);

/** Options for xm_pkt_build_too_big(); build with XM_OPTS(). */
struct xm_pkt_reply_opts {
	size_t sz;				/* sizeof(struct xm_pkt_reply_opts) */
	const union xm_pkt_addr *src;		/* reply source; NULL: the
						 * offending packet's destination */
	const uint8_t *eth_src;			/* NULL: its destination MAC */
	const uint8_t *eth_dst;			/* NULL: its source MAC */
	uint32_t max_len;			/* reply IP packet limit; 0: 576
						 * (IPv4), 1280 (IPv6) */
	uint16_t ip_id;				/* IPv4 identification */
	uint8_t ttl;				/* 0: 64 */
};
#define xm_pkt_reply_opts__last_field ttl

/**
 * @brief **xm_pkt_build_too_big()** builds the answer to a packet that
 * cannot go on without fragmentation: ICMP destination unreachable,
 * fragmentation needed (type 3 code 4, RFC 1191 next-hop MTU) for IPv4,
 * ICMPv6 packet too big (type 2) for IPv6.  The reply is a whole frame:
 * MACs swapped, the same VLAN tags, addresses swapped, and as much of the
 * offending IP packet quoted as fits max_len (RFC 1812 4.3.2.3, RFC 4443
 * 2.4(c)), cap and the offending frame's pi_caplen.  A packet parsed with
 * xm_pkt_parse_ip() gets a raw IP reply, without an Ethernet header.
 * @param buf where the reply goes; may be frame itself (built in place)
 * @param cap bytes available at buf
 * @param frame, pi the offending frame and its successful parse
 * @param mtu the MTU to report: 68..65535 (IPv4), at least 1280 (IPv6)
 * @param opts NULL or options
 * @return the reply frame's length; -ENOSPC when cap cannot hold the
 * headers and the quote RFC 792 requires (IP header + 8 bytes); -EINVAL
 * for bad arguments (no IP in pi, mtu out of range, bad opts, a max_len
 * or pi_caplen too small for that quote, an IPv6 multicast destination
 * answered
 * without opts->src); -EPERM when
 * the RFCs forbid an ICMP error for this packet: it is an ICMP error
 * itself; IPv4 without DF, a non-first fragment, a multicast, broadcast or
 * reserved destination or link-layer destination, a source that is not
 * one host; IPv6 with an unspecified or multicast source.
 */
XM_API int xm_pkt_build_too_big(void *buf, uint32_t cap, const void *frame,
				const struct xm_pkt_info *pi, uint32_t mtu,
				const struct xm_pkt_reply_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* XM_PKT_H */
