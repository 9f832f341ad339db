/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_filter_set.h - the term algebra of the filter translator
 * (cap_filter.c): a set is a union of terms, a term one xm_port_rule (a
 * conjunction of field tests) or a "non-IP" term for ARP/RARP frames.
 * Meet and union keep a set free of terms another term covers.
 * Private to cap_filter.c and its tests.
 */
#ifndef CAP_FILTER_SET_H
#define CAP_FILTER_SET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "xm_port.h"

#define SET_MAX		64	/* terms while computing (16 at the end) */

#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_SCTP	132
#define PROTO_ICMP	1
#define PROTO_ICMP6	58

#define M_IP		(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT | XM_RULE_M_SRC | \
			 XM_RULE_M_DST | XM_RULE_M_FAMILY | XM_RULE_M_SRC_PORT)
#define M_PORTS		(XM_RULE_M_DST_PORT | XM_RULE_M_SRC_PORT)
#define M_FAM		(XM_RULE_M_SRC | XM_RULE_M_DST | XM_RULE_M_FAMILY)

struct term {
	struct xm_port_rule r;		/* the tests */
	bool nonip;			/* ARP/RARP frames only */
};

struct set {
	unsigned int n;			/* terms */
	struct term t[SET_MAX];		/* their union */
};

void cap_prefix_mask(uint8_t *a, unsigned int bits, unsigned int alen);
unsigned int cap_fam_bytes(uint8_t family);
bool cap_term_meet(const struct term *x, const struct term *y,
		   struct term *out);
void cap_set_universe(struct set *s);
bool cap_set_is_universe(const struct set *s);
void cap_set_add(struct set *s, const struct term *t);
void cap_set_union(struct set *a, const struct set *b);
void cap_set_meet(struct set *a, const struct set *b);
void cap_set_one(struct set *s, const struct term *t);

#endif /* CAP_FILTER_SET_H */
