/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_frame.h - the frames the generator sends and the receiver reads:
 * building a template (Ethernet, optional 802.1Q tag, IPv4 or IPv6, UDP
 * or a TCP SYN, the stamp, zero padding) with xm_pkt.h, rewriting its flow
 * fields in place with incremental checksums, and, on the receiving
 * side, finding the stamp and the 5-tuple of a frame without trusting it.
 *
 *   template of `size` bytes (FCS excluded)
 *   +-----+------+-----------+---------+-------+----------------------+
 *   | eth | vlan | IPv4/IPv6 | UDP/TCP | stamp | zeros                |
 *   +-----+------+-----------+---------+-------+----------------------+
 *                ^ l3_off    ^ l4_off  ^ stamp_off (even)
 *
 * Because everything after the stamp is zero, the L4 checksum depends on
 * the headers and the stamp only: changing a field or the stamp is a few
 * word updates, whatever the frame size.
 */
#ifndef PG_FRAME_H
#define PG_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "xm_pkt.h"
#include "pg_sched.h"

/* What every generated frame of a run shares. */
struct pg_tmpl_spec {
	uint8_t ts_dst_mac[6];
	uint8_t ts_src_mac[6];
	int ts_vlan;			/* 802.1Q id, -1: untagged */
	int ts_family;			/* 4 or 6 */
	union xm_pkt_addr ts_src;	/* first source address */
	union xm_pkt_addr ts_dst;	/* first destination address */
	uint8_t ts_proto;		/* XM_PKT_IPPROTO_UDP or _TCP (SYN) */
	uint16_t ts_sport;		/* first source port */
	uint16_t ts_dport;		/* first destination port */
	uint8_t ts_ttl;			/* 0: 64 */
	uint8_t ts_tos;
};

/* Where things are in a template (the same for every size). */
struct pg_layout {
	uint32_t ly_l3_off;
	uint32_t ly_l4_off;
	uint32_t ly_stamp_off;		/* start of the L4 payload */
	uint32_t ly_ip_csum_off;	/* 0 for IPv6 (no header checksum) */
	uint32_t ly_l4_csum_off;
	bool ly_udp;
	uint32_t ly_field_off[PG_FLOW_DIMS];	/* 4-byte address tails, ports */
	uint8_t ly_field_len[PG_FLOW_DIMS];	/* 4, 4, 2, 2 */
	uint8_t ly_field_csum[PG_FLOW_DIMS];	/* PG_CSUM_IP | PG_CSUM_L4 */
	uint32_t ly_min_size;		/* smallest frame with the stamp */
};

#define PG_CSUM_IP		0x1
#define PG_CSUM_L4		0x2

/** Smallest frame size the spec allows (headers + stamp, >= 60). */
uint32_t pg_tmpl_min_size(const struct pg_tmpl_spec *s);
/**
 * Builds a template of size bytes into buf (cap bytes), stamp zeroed
 * (stream 0, sequence 0, time 0), every checksum right, and describes it.
 * @return 0; -EINVAL (size below pg_tmpl_min_size(), above 65535 - L2, a
 * bad spec), -ENOSPC (cap).
 */
int pg_tmpl_build(const struct pg_tmpl_spec *s, uint32_t size, uint8_t *buf,
		  uint32_t cap, struct pg_layout *ly);
/**
 * Writes flow k's field values into a template (first segment bytes at
 * hdr) and fixes its checksums.  Fields whose range has one value are
 * left alone.
 */
void pg_tmpl_set_flow(uint8_t *hdr, const struct pg_layout *ly,
		      const struct pg_flows *f, uint32_t k);

/* What the receiver learns from a frame. */
struct pg_rx_info {
	uint32_t ri_stamp_off;		/* 0: no stamp found */
	uint8_t ri_family;		/* 4, 6, 0: not IP */
	uint8_t ri_proto;
	uint16_t ri_sport;
	uint16_t ri_dport;
	uint8_t ri_src[16];		/* IPv4 in the first 4 bytes */
	uint8_t ri_dst[16];
};

/**
 * Finds the L4 payload of a frame (Ethernet, up to two tags, IPv4 with
 * options or IPv6 without extension headers, UDP or TCP) within the first
 * len bytes; never reads past them.  Lengths inside the frame are only
 * checked against len, so a multi-buffer packet's first segment is
 * enough.  @return true with *ri filled when it is UDP or TCP.
 */
bool pg_rx_locate(const uint8_t *frame, uint32_t len, struct pg_rx_info *ri);
/** 64-bit hash of the 5-tuple in ri (never 0). */
uint64_t pg_rx_tuple_hash(const struct pg_rx_info *ri);

#endif /* PG_FRAME_H */
