// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_csum.c - completing the partial checksums of node-local
 * clients (examples/lb/lb_csum.c): a TCP or UDP segment, IPv4 or IPv6,
 * whose checksum field holds its pseudo-header sum (what a stack with
 * the device's checksum offload leaves there) comes out with the checksum
 * xm_pkt_csum_fill() computes; a complete checksum, a fragment and a UDP
 * datagram without a checksum are left as they are.
 */
#include <arpa/inet.h>
#include <string.h>

#include <criterion/criterion.h>

#include "xm_pkt.h"
#include "../../examples/lb/lb_csum.h"

TestSuite(lb_csum, .timeout = 30);

#define PAYLOAD		333	/* odd: the last byte padded */

/* Ethernet + IPv4 or IPv6 + TCP (20) or UDP (8) + PAYLOAD bytes. */
static uint32_t build(uint8_t *f, int family, uint8_t proto)
{
	uint32_t l4 = proto == 6 ? 20 : 8, l3 = family == 4 ? 20 : 40;
	uint32_t l4len = l4 + PAYLOAD, off = 14;

	memset(f, 0, 2048);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	if (family == 4) {
		f[12] = 0x08; f[13] = 0x00;
		f[off] = 0x45;
		f[off + 2] = (uint8_t)((l3 + l4len) >> 8);
		f[off + 3] = (uint8_t)(l3 + l4len);
		f[off + 8] = 64;
		f[off + 9] = proto;
		memcpy(f + off + 12, "\xc6\x12\x01\x01\xc6\x12\x02\x01", 8);
	} else {
		f[12] = 0x86; f[13] = 0xdd;
		f[off] = 0x60;
		f[off + 4] = (uint8_t)(l4len >> 8);
		f[off + 5] = (uint8_t)l4len;
		f[off + 6] = proto;
		f[off + 7] = 64;
		inet_pton(AF_INET6, "2001:2:0:1::1", f + off + 8);
		inet_pton(AF_INET6, "2001:2:0:2::1", f + off + 24);
	}
	off += l3;
	f[off] = 0x9c; f[off + 1] = 0x41;		/* sport 40001 */
	f[off + 2] = 0x00; f[off + 3] = 0x50;		/* dport 80 */
	if (proto == 6) {
		f[off + 4] = 0x12;			/* seq */
		f[off + 12] = 0x50;			/* data offset 5 */
		f[off + 13] = 0x18;			/* PSH ACK */
		f[off + 14] = 0xfa;			/* window */
	} else {
		f[off + 4] = (uint8_t)(l4len >> 8);
		f[off + 5] = (uint8_t)l4len;
	}
	for (uint32_t i = 0; i < PAYLOAD; i++)
		f[off + l4 + i] = (uint8_t)(i * 7 + 3);
	return off + l4len;
}

static uint32_t field_off(const struct xm_pkt_info *pi)
{
	return pi->pi_l4_off + (pi->pi_proto == 6 ? 16 : 6);
}

/* The partial frame (field = pseudo-header sum) completes to the full one. */
static void check_completes(int family, uint8_t proto)
{
	uint8_t f[2048], full[2048];
	struct xm_pkt_info pi;
	uint32_t len = build(f, family, proto), fo, seglen, pseudo;
	uint16_t ph;

	cr_assert_eq(xm_pkt_parse(f, len, &pi), 0);
	cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
	memcpy(full, f, len);
	cr_assert(xm_pkt_csum_ok(full, &pi));

	fo = field_off(&pi);
	seglen = len - pi.pi_l4_off;
	pseudo = family == 4 ?
		xm_pkt_pseudo_v4(htonl(0xc6120101), htonl(0xc6120201), proto,
				 (uint16_t)seglen) :
		xm_pkt_pseudo_v6(f + 14 + 8, f + 14 + 24, proto, seglen);
	ph = (uint16_t)~xm_pkt_csum_fold(pseudo);
	memcpy(f + fo, &ph, 2);
	cr_assert_not(xm_pkt_csum_ok(f, &pi), "a placeholder is no checksum");

	cr_assert(lb_csum_complete(f, len, &pi));
	cr_assert_eq(memcmp(f, full, len), 0, "IPv%d proto %u: %02x%02x, "
		     "want %02x%02x", family, proto, f[fo], f[fo + 1],
		     full[fo], full[fo + 1]);
	/* Once complete, nothing more to do. */
	cr_assert_not(lb_csum_complete(f, len, &pi));
	cr_assert_eq(memcmp(f, full, len), 0);
}

Test(lb_csum, tcp4_partial_completes)
{
	check_completes(4, 6);
}

Test(lb_csum, udp4_partial_completes)
{
	check_completes(4, 17);
}

Test(lb_csum, tcp6_partial_completes)
{
	check_completes(6, 6);
}

Test(lb_csum, udp6_partial_completes)
{
	check_completes(6, 17);
}

Test(lb_csum, complete_and_absent_checksums_are_left_alone)
{
	uint8_t f[2048], copy[2048];
	struct xm_pkt_info pi;
	uint32_t len;

	for (int family = 4; family <= 6; family += 2)
		for (int proto = 6; proto <= 17; proto += 11) {
			len = build(f, family, (uint8_t)proto);
			cr_assert_eq(xm_pkt_parse(f, len, &pi), 0);
			cr_assert_eq(xm_pkt_csum_fill(f, &pi), 0);
			memcpy(copy, f, len);
			cr_assert_not(lb_csum_complete(f, len, &pi));
			cr_assert_eq(memcmp(f, copy, len), 0);
		}
	/* UDP over IPv4 without a checksum (0) stays without one. */
	len = build(f, 4, 17);
	cr_assert_eq(xm_pkt_parse(f, len, &pi), 0);
	memcpy(copy, f, len);
	cr_assert_not(lb_csum_complete(f, len, &pi));
	cr_assert_eq(memcmp(f, copy, len), 0);
}

Test(lb_csum, a_first_fragment_is_left_alone)
{
	uint8_t f[2048], copy[2048];
	struct xm_pkt_info pi;
	uint32_t len = build(f, 4, 6), seglen;
	uint16_t ph;

	/* A first fragment's field covers a datagram not all here (the
	 * parse's view of one, with its L4 header, made by hand). */
	cr_assert_eq(xm_pkt_parse(f, len, &pi), 0);
	pi.pi_flags |= XM_PKT_F_FRAG;
	seglen = len - pi.pi_l4_off;
	ph = (uint16_t)~xm_pkt_csum_fold(xm_pkt_pseudo_v4(htonl(0xc6120101),
				htonl(0xc6120201), 6, (uint16_t)seglen));
	memcpy(f + field_off(&pi), &ph, 2);
	memcpy(copy, f, len);
	cr_assert_not(lb_csum_complete(f, len, &pi));
	cr_assert_eq(memcmp(f, copy, len), 0);
}

Test(lb_csum, a_segment_past_the_frame_is_left_alone)
{
	uint8_t f[2048];
	struct xm_pkt_info pi;
	uint32_t len = build(f, 4, 6);

	cr_assert_eq(xm_pkt_parse(f, len, &pi), 0);
	cr_assert_not(lb_csum_complete(f, len - 1, &pi));
}
