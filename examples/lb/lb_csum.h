/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_csum.h - finishing a checksum the sender's stack left for the
 * device (CHECKSUM_PARTIAL), before the packet goes into a tunnel.
 * The model is in lb_csum.c.
 */
#ifndef LB_CSUM_H
#define LB_CSUM_H

#include <stdbool.h>
#include <stdint.h>

#include "xm_pkt.h"

/**
 * If the TCP or UDP checksum field of the parsed frame holds exactly the
 * sum of its pseudo-header (what a sender's stack leaves there for the
 * device to finish), computes the checksum over the segment and stores
 * it.  Fragments, other protocols and segments not all in the frame are
 * left alone.
 * @param frame the frame pi describes (writable)
 * @param len bytes readable at frame
 * @return true when the checksum was completed (the field changed, or a
 * segment whose right checksum happens to equal its pseudo-header sum).
 */
bool lb_csum_complete(uint8_t *frame, uint32_t len,
		      const struct xm_pkt_info *pi);

#endif /* LB_CSUM_H */
