// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_filter_set.c - the term algebra of the filter translator: prefixes,
 * terms (one rule each) and sets of terms (their union), with meet and
 * union; see cap_filter.c for how the translator uses them.
 */
#include <stdlib.h>
#include <string.h>

#include "cap_filter_set.h"

/* ------------------------------------------------------- term algebra */

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		return (a[full] & m) == (b[full] & m);
	}
	return true;
}

void cap_prefix_mask(uint8_t *a, unsigned int bits, unsigned int alen)
{
	for (unsigned int i = 0; i < alen; i++) {
		unsigned int b = bits > i * 8 ? bits - i * 8 : 0;

		if (b >= 8)
			continue;
		a[i] &= (uint8_t)(0xff << (8 - b));
	}
	for (unsigned int i = alen; i < 16; i++)
		a[i] = 0;
}

unsigned int cap_fam_bytes(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* Intersects prefix (b, blen) into (a, *alen).  @return false if empty. */
static bool prefix_meet(uint8_t *a, uint8_t *alen, const uint8_t *b,
			uint8_t blen)
{
	unsigned int common = *alen < blen ? *alen : blen;

	if (!prefix_equal(a, b, common))
		return false;
	if (blen > *alen) {
		memcpy(a, b, 16);
		*alen = blen;
	}
	return true;
}

/* The conjunction of two terms.  @return false when it is empty. */
bool cap_term_meet(const struct term *x, const struct term *y,
		   struct term *out)
{
	const struct xm_port_rule *a = &x->r, *b = &y->r;
	struct xm_port_rule *r = &out->r;

	*out = *x;
	out->nonip = x->nonip || y->nonip;
	r->match = a->match | b->match;
	if (out->nonip && (r->match & M_IP))
		return false;
	if ((a->match & b->match & XM_RULE_M_VLAN) && a->vlan_id != b->vlan_id)
		return false;
	if (b->match & XM_RULE_M_VLAN)
		r->vlan_id = b->vlan_id;
	if ((a->match & M_FAM) && (b->match & M_FAM) && a->family != b->family)
		return false;
	if (b->match & M_FAM)
		r->family = b->family;
	if ((a->match & b->match & XM_RULE_M_PROTO) &&
	    a->ip_proto != b->ip_proto)
		return false;
	if (b->match & XM_RULE_M_PROTO)
		r->ip_proto = b->ip_proto;
	if ((a->match & b->match & XM_RULE_M_DST_PORT) &&
	    a->dst_port != b->dst_port)
		return false;
	if (b->match & XM_RULE_M_DST_PORT)
		r->dst_port = b->dst_port;
	if ((a->match & b->match & XM_RULE_M_SRC_PORT) &&
	    a->src_port != b->src_port)
		return false;
	if (b->match & XM_RULE_M_SRC_PORT)
		r->src_port = b->src_port;
	/* ports exist for TCP, UDP and SCTP only */
	if ((r->match & M_PORTS) && (r->match & XM_RULE_M_PROTO) &&
	    r->ip_proto != PROTO_TCP && r->ip_proto != PROTO_UDP &&
	    r->ip_proto != PROTO_SCTP)
		return false;
	if (b->match & XM_RULE_M_SRC) {
		if (!(a->match & XM_RULE_M_SRC)) {
			memcpy(r->src, b->src, 16);
			r->src_len = b->src_len;
		} else if (!prefix_meet(r->src, &r->src_len, b->src,
					b->src_len)) {
			return false;
		}
	}
	if (b->match & XM_RULE_M_DST) {
		if (!(a->match & XM_RULE_M_DST)) {
			memcpy(r->dst, b->dst, 16);
			r->dst_len = b->dst_len;
		} else if (!prefix_meet(r->dst, &r->dst_len, b->dst,
					b->dst_len)) {
			return false;
		}
	}
	return true;
}

/* True when every packet term y admits, term x admits too. */
static bool term_covers(const struct term *x, const struct term *y)
{
	const struct xm_port_rule *a = &x->r, *b = &y->r;

	if (x->nonip && !y->nonip)
		return false;
	if (y->nonip && (a->match & M_IP))
		return false;
	if ((a->match & XM_RULE_M_VLAN) &&
	    (!(b->match & XM_RULE_M_VLAN) || a->vlan_id != b->vlan_id))
		return false;
	if (y->nonip)
		return true;
	if ((a->match & M_FAM) && (!(b->match & M_FAM) ||
				   a->family != b->family))
		return false;
	if ((a->match & XM_RULE_M_PROTO) &&
	    (!(b->match & XM_RULE_M_PROTO) || a->ip_proto != b->ip_proto))
		return false;
	if ((a->match & XM_RULE_M_DST_PORT) &&
	    (!(b->match & XM_RULE_M_DST_PORT) || a->dst_port != b->dst_port))
		return false;
	if ((a->match & XM_RULE_M_SRC_PORT) &&
	    (!(b->match & XM_RULE_M_SRC_PORT) || a->src_port != b->src_port))
		return false;
	if ((a->match & XM_RULE_M_SRC) &&
	    (!(b->match & XM_RULE_M_SRC) || b->src_len < a->src_len ||
	     !prefix_equal(a->src, b->src, a->src_len)))
		return false;
	if ((a->match & XM_RULE_M_DST) &&
	    (!(b->match & XM_RULE_M_DST) || b->dst_len < a->dst_len ||
	     !prefix_equal(a->dst, b->dst, a->dst_len)))
		return false;
	return true;
}

void cap_set_universe(struct set *s)
{
	memset(s, 0, sizeof(*s));
	s->n = 1;
}

bool cap_set_is_universe(const struct set *s)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->t[i].r.match == 0 && !s->t[i].nonip)
			return true;
	return false;
}

/* Adds t unless covered; drops what t covers.  Overflow: universe. */
void cap_set_add(struct set *s, const struct term *t)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < s->n; i++)
		if (term_covers(&s->t[i], t))
			return;
	for (unsigned int i = 0; i < s->n; i++)
		if (!term_covers(t, &s->t[i]))
			s->t[k++] = s->t[i];
	s->n = k;
	if (s->n == SET_MAX) {
		cap_set_universe(s);
		return;
	}
	s->t[s->n++] = *t;
}

void cap_set_union(struct set *a, const struct set *b)
{
	for (unsigned int i = 0; i < b->n; i++)
		cap_set_add(a, &b->t[i]);
}

void cap_set_meet(struct set *a, const struct set *b)
{
	struct set *out = calloc(1, sizeof(*out));

	if (!out) {
		cap_set_universe(a);
		return;
	}
	for (unsigned int i = 0; i < a->n; i++) {
		for (unsigned int j = 0; j < b->n; j++) {
			struct term t;

			if (cap_term_meet(&a->t[i], &b->t[j], &t))
				cap_set_add(out, &t);
		}
	}
	*a = *out;
	free(out);
}

void cap_set_one(struct set *s, const struct term *t)
{
	memset(s, 0, sizeof(*s));
	s->t[0] = *t;
	s->n = 1;
}
