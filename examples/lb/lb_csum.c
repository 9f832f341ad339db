// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_csum.c - completing partial TCP/UDP checksums of node-local
 * clients.
 *
 * A client on the balancer's own host (a container or VM behind a veth
 * or tap) sends with the device's checksum offload on: its stack puts
 * only the pseudo-header's sum, not complemented, in the checksum field
 * and marks the skb CHECKSUM_PARTIAL for the device to finish.  A veth
 * never finishes it (its peer takes the skb as it is), and the XDP copy
 * into the AF_XDP frame carries the bytes, not the skb's mark.  So the
 * balancer would tunnel a segment whose checksum is a placeholder, and
 * the backend's stack, which sees a normal packet once the outer header
 * is stripped, drops it (TcpInCsumErrors): no TCP connection from a
 * local client would ever complete.
 *
 * The field is recognised by its value: it equals the folded pseudo-
 * header sum exactly.  Then the device's job is done here, as a NIC
 * does it: the ones' complement sum of the segment from the L4 header
 * to its end, with the field as it is (holding the pseudo-header sum),
 * complemented, stored in the field (UDP: a result of 0 goes out as
 * 0xffff, 0 meaning "no checksum").
 *
 * Why this is safe for a packet that was never partial:
 *  - a segment whose correct checksum C happens to equal the pseudo-
 *    header sum P: completing it gives ~(S + P) where S + P + C = -0,
 *    so ~(S + P) = ~(-C) = C: the field does not change;
 *  - a segment with a wrong checksum that happens to equal P (1 in
 *    65536 of corrupted segments): it is repaired instead of dropped by
 *    the backend; the corruption the checksum guards against happens on
 *    wires, and this packet crossed none yet (it came from this host).
 *  - a UDP checksum of 0 (none, IPv4) never equals a folded sum of
 *    non-zero addresses, and stays 0.
 *
 * Cost: the pseudo-header sum for every unfragmented TCP/UDP packet (a
 * few adds over addresses already in cache); the whole segment only for
 * the packets that need it, which a device would have read anyway.
 */
#include <arpa/inet.h>
#include <string.h>

#include "lb_csum.h"

bool lb_csum_complete(uint8_t *frame, uint32_t len,
		      const struct xm_pkt_info *pi)
{
	uint32_t field, seglen, end, pseudo, src, dst;
	uint16_t have, want, csum;

	if (!(pi->pi_flags & XM_PKT_F_L4) || (pi->pi_flags & XM_PKT_F_FRAG))
		return false;
	if (pi->pi_proto == XM_PKT_IPPROTO_TCP)
		field = pi->pi_l4_off + 16;
	else if (pi->pi_proto == XM_PKT_IPPROTO_UDP)
		field = pi->pi_l4_off + 6;
	else
		return false;
	end = pi->pi_payload_off + pi->pi_payload_len;
	if (end > len || end > pi->pi_caplen || end < pi->pi_l4_off ||
	    field + 2 > end)
		return false;
	seglen = end - pi->pi_l4_off;

	if (pi->pi_ip.ip_version == 4) {
		/*
		 * The IPv4 pseudo-header's sum in registers, every packet:
		 * 16-bit words as they sit in memory (RFC 1071's byte-order
		 * independence), so the zero/protocol word and the length
		 * are added in network order.  The same sum as
		 * xm_pkt_pseudo_v4(), whose call and 12-byte buffer cost
		 * ~70 instructions a packet (callgrind).
		 */
		memcpy(&src, frame + pi->pi_l3_off + 12, 4);
		memcpy(&dst, frame + pi->pi_l3_off + 16, 4);
		pseudo = (src & 0xffff) + (src >> 16) + (dst & 0xffff) +
			 (dst >> 16) + htons(pi->pi_proto) +
			 htons((uint16_t)seglen);
	} else {
		pseudo = xm_pkt_pseudo_v6(frame + pi->pi_l3_off + 8,
					  frame + pi->pi_csum_dst_off,
					  pi->pi_proto, seglen);
	}
	/* The stack's placeholder is the folded sum itself, not
	 * complemented (xm_pkt_csum_fold() would complement it). */
	pseudo = (pseudo & 0xffff) + (pseudo >> 16);
	pseudo = (pseudo & 0xffff) + (pseudo >> 16);
	want = (uint16_t)pseudo;
	memcpy(&have, frame + field, 2);
	if (have != want)
		return false;

	csum = xm_pkt_csum_fold(xm_pkt_csum_partial(frame + pi->pi_l4_off,
						    seglen, 0));
	if (csum == 0 && pi->pi_proto == XM_PKT_IPPROTO_UDP)
		csum = 0xffff;
	memcpy(frame + field, &csum, 2);
	return true;
}
